//! `emberflow plot weights`: mode-weight bars, from a training report or from a model.

use super::draw::{FONT, colour, de, render, sci};
use super::report::load_report;
use crate::eval;
use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use emberflow_train::metrics::weights_mse;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::PathBuf;

/// `emberflow plot weights` options.
#[derive(Debug, ClapArgs)]
pub(super) struct WeightsArgs {
    /// The JSON report of a run: bars of its final true, EBM and negatives' weights.
    #[arg(long, conflicts_with = "model", required_unless_present = "model")]
    report: Option<PathBuf>,
    /// A model: bars of the weights `emberflow eval` computes (true, data, EBM, samples).
    #[arg(long)]
    model: Option<PathBuf>,
    /// With --model: reference data.
    #[arg(long, requires = "model")]
    data: Option<PathBuf>,
    /// With --model: samples.
    #[arg(long, requires = "model")]
    samples: Option<PathBuf>,
    /// With --model: mode centres, one per row.
    #[arg(long, requires = "model", conflicts_with = "k")]
    centers: Option<PathBuf>,
    /// With --model: k-means on the data with this many clusters.
    #[arg(long, requires = "model")]
    k: Option<usize>,
    /// With --model: seed of k-means and importance sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The PNG file to write.
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn weights(a: &WeightsArgs) -> Result<()> {
    let (title, rows) = if let Some(path) = &a.report {
        let rep = load_report(path)?;
        let mut rows = Vec::new();
        for (name, w) in [
            ("true", &rep.true_weights),
            ("EBM", &rep.ebm_weights),
            ("negatives", &rep.neg_weights),
        ] {
            if let Some(w) = w {
                rows.push((name.to_string(), w.clone()));
            }
        }
        if rows.is_empty() {
            bail!(
                "{}: no mode weights in this report (they are computed for built-in sets; use --model with --data or --centers)",
                path.display()
            );
        }
        (
            format!(
                "mode weights: {} - {}, {} iterations",
                rep.dataset, rep.method, rep.iterations
            ),
            rows,
        )
    } else {
        let model = a.model.clone().context("--report or --model is required")?;
        let ev = eval::evaluate(
            &eval::Args {
                model,
                data: a.data.clone(),
                samples: a.samples.clone(),
                centers: a.centers.clone(),
                k: a.k,
                seed: a.seed,
                mmd_points: 2,
                permutations: 0,
                is_draws: 20_000,
                bandwidth: None,
                json: false,
            },
            false,
        )?;
        let rows: Vec<(String, Vec<f64>)> = ev
            .weight_rows()
            .into_iter()
            .map(|(n, w)| (n.to_string(), w))
            .collect();
        if rows.is_empty() {
            bail!(
                "no mode weights: give --data (k-means), --centers, or a model of a built-in set"
            );
        }
        (
            format!(
                "mode weights - {} (trained on {}); regions: {}",
                ev.model.path.display(),
                ev.model.dataset,
                ev.regions.as_ref().map_or(String::new(), |r| r.short())
            ),
            rows,
        )
    };
    let k = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    if k == 0 || rows.iter().any(|r| r.1.len() != k) {
        bail!("the weight lists have different lengths");
    }
    let truth = rows.iter().find(|r| r.0 == "true").map(|r| r.1.clone());
    let labels: Vec<String> = rows
        .iter()
        .map(|(name, w)| match &truth {
            Some(t) if name != "true" => format!("{name} (MSE vs true {})", sci(weights_mse(w, t))),
            _ => name.clone(),
        })
        .collect();
    let top = rows
        .iter()
        .flat_map(|r| r.1.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(0.05)
        * 1.25;
    let nrows = rows.len();
    let width = (200 + 50 * (k * nrows) as u32).clamp(720, 2400);
    render(&a.out, (width, 560), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 17))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..k as f64 - 0.5, 0.0..top)
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels(k.min(40))
            .x_label_formatter(&|x: &f64| {
                let j = x.round();
                if (x - j).abs() < 1e-6 && j >= 0.0 && j < k as f64 {
                    format!("mode {}", j as usize + 1)
                } else {
                    String::new()
                }
            })
            .y_desc("weight")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(de)?;
        let group = 0.8;
        let bw = group / nrows as f64;
        for (s, ((_, w), label)) in rows.iter().zip(&labels).enumerate() {
            let c = colour(s);
            chart
                .draw_series(w.iter().enumerate().map(|(j, &v)| {
                    let l = j as f64 - 0.5 * group + s as f64 * bw;
                    Rectangle::new([(l, 0.0), (l + bw * 0.92, v.max(0.0))], c.filled())
                }))
                .map_err(de)?
                .label(label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
            if k * nrows <= 32 {
                chart
                    .draw_series(w.iter().enumerate().filter(|(_, v)| v.is_finite()).map(
                        |(j, &v)| {
                            let mid = j as f64 - 0.5 * group + (s as f64 + 0.46) * bw;
                            Text::new(
                                format!("{v:.3}"),
                                (mid, v + top * 0.01),
                                (FONT, 11)
                                    .into_font()
                                    .color(&BLACK)
                                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
                            )
                        },
                    ))
                    .map_err(de)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FONT, 13))
            .draw()
            .map_err(de)?;
        Ok(())
    })
}

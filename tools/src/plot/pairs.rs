//! `emberflow plot density` for d > 2: pairwise projections of data and samples, with marginal
//! histograms on the diagonal.

use super::density_args::DensityArgs;
use super::draw::{FONT, de, render, subset, widen};
use crate::eval::{ModelFile, Points, Samples};
use anyhow::{Result, anyhow, bail};
use emberflow_core::SeedStream;
use plotters::prelude::*;

/// Parse `--dims`.
fn parse_dims(text: Option<&str>, dim: usize) -> Result<Vec<usize>> {
    let Some(t) = text else {
        return Ok((0..dim.min(4)).collect());
    };
    let mut out = Vec::new();
    for f in t.split(',') {
        let f = f.trim();
        let v: usize = f
            .parse()
            .map_err(|_| anyhow!("--dims: `{f}` is not a dimension index"))?;
        if v >= dim {
            bail!("--dims: {v} is out of range (the model has dimensions 0..{dim})");
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.len() < 2 || out.len() > 8 {
        bail!("--dims: give between 2 and 8 distinct dimensions");
    }
    Ok(out)
}

/// The 0.5 % and 99.5 % quantiles of coordinate `k` over the sets, widened by 5 %.
fn range_of(sets: &[&[&[f32]]], k: usize) -> (f64, f64) {
    let mut v: Vec<f32> = sets.iter().flat_map(|s| s.iter().map(|x| x[k])).collect();
    if v.is_empty() {
        return (-1.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let q = |p: f64| f64::from(v[((v.len() - 1) as f64 * p).round() as usize]);
    widen(q(0.005), q(0.995), 0.05)
}

pub(super) fn pairs(
    a: &DensityArgs,
    model: &ModelFile,
    data: Option<&Points>,
    samples: Option<&Samples>,
) -> Result<()> {
    let dims = parse_dims(a.dims.as_deref(), model.dim)?;
    let m = dims.len();
    let data_pts = data.map(|d| subset(&d.data, a.points, a.seed, SeedStream::PLOT_DATA));
    let sample_pts = samples.map(|s| subset(&s.points, a.points, a.seed, SeedStream::PLOT_SAMPLES));
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    let sets: Vec<(&str, &Vec<&[f32]>, RGBColor)> = data_pts
        .as_ref()
        .map(|p| ("data", p, blue))
        .into_iter()
        .chain(sample_pts.as_ref().map(|p| ("samples", p, orange)))
        .collect();
    let all: Vec<&[&[f32]]> = sets.iter().map(|s| s.1.as_slice()).collect();
    let ranges: Vec<(f64, f64)> = dims.iter().map(|&k| range_of(&all, k)).collect();
    let cell: u32 = if m <= 4 { 300 } else { 220 };
    let size = (cell * m as u32, cell * m as u32 + 40);
    let title = format!(
        "{} ({}-D, trained on {}): pairwise projections",
        model.path.display(),
        model.dim,
        model.dataset
    );
    let legend: Vec<String> = sets
        .iter()
        .map(|(name, p, _)| {
            let total = if *name == "data" {
                data.map_or(0, |d| d.data.len())
            } else {
                samples.map_or(0, |s| s.points.len())
            };
            format!("{name}: {} of {total} points", p.len())
        })
        .collect();
    render(&a.out, size, |root| {
        let root = root
            .titled(&title, (FONT, 18).into_font().color(&BLACK))
            .map_err(de)?;
        let areas = root.split_evenly((m, m));
        for i in 0..m {
            for j in 0..m {
                let area = &areas[i * m + j];
                let (xi, yi) = (dims[j], dims[i]);
                if j > i {
                    if i == 0 && j == m - 1 {
                        for (n, (line, (_, _, col))) in legend.iter().zip(&sets).enumerate() {
                            let y = 20 + 22 * n as i32;
                            area.draw(&Rectangle::new([(10, y), (24, y + 14)], col.filled()))
                                .map_err(de)?;
                            area.draw(&Text::new(line.clone(), (30, y), (FONT, 14)))
                                .map_err(de)?;
                        }
                    }
                    continue;
                }
                let (x0, x1) = ranges[j];
                let label = |k: usize| format!("x{k}");
                if i == j {
                    let bins = 30usize;
                    let w = (x1 - x0) / bins as f64;
                    let hists: Vec<(Vec<f64>, RGBColor)> = sets
                        .iter()
                        .map(|(_, p, col)| {
                            let mut h = vec![0.0f64; bins];
                            for x in p.iter() {
                                let b = ((f64::from(x[xi]) - x0) / w).floor();
                                if b >= 0.0 && (b as usize) < bins {
                                    h[b as usize] += 1.0;
                                }
                            }
                            let total = p.len().max(1) as f64 * w;
                            h.iter_mut().for_each(|v| *v /= total);
                            (h, *col)
                        })
                        .collect();
                    let top = hists
                        .iter()
                        .flat_map(|h| h.0.iter().copied())
                        .fold(0.0f64, f64::max)
                        .max(1e-12)
                        * 1.1;
                    let mut chart = ChartBuilder::on(area)
                        .margin(6)
                        .x_label_area_size(28)
                        .y_label_area_size(40)
                        .build_cartesian_2d(x0..x1, 0.0..top)
                        .map_err(de)?;
                    chart
                        .configure_mesh()
                        .disable_mesh()
                        .x_desc(label(xi))
                        .x_labels(4)
                        .y_labels(3)
                        .label_style((FONT, 11))
                        .axis_desc_style((FONT, 12))
                        .draw()
                        .map_err(de)?;
                    for (h, col) in &hists {
                        let steps = h.iter().enumerate().flat_map(|(b, &v)| {
                            let l = x0 + b as f64 * w;
                            [(l, v), (l + w, v)]
                        });
                        chart
                            .draw_series(LineSeries::new(steps, col.stroke_width(2)))
                            .map_err(de)?;
                    }
                } else {
                    let (y0, y1) = ranges[i];
                    let mut chart = ChartBuilder::on(area)
                        .margin(6)
                        .x_label_area_size(28)
                        .y_label_area_size(40)
                        .build_cartesian_2d(x0..x1, y0..y1)
                        .map_err(de)?;
                    chart
                        .configure_mesh()
                        .disable_mesh()
                        .x_desc(label(xi))
                        .y_desc(label(yi))
                        .x_labels(4)
                        .y_labels(4)
                        .label_style((FONT, 11))
                        .axis_desc_style((FONT, 12))
                        .draw()
                        .map_err(de)?;
                    for (_, p, col) in &sets {
                        chart
                            .draw_series(p.iter().filter_map(|x| {
                                let (u, v) = (f64::from(x[xi]), f64::from(x[yi]));
                                (u >= x0 && u <= x1 && v >= y0 && v <= y1)
                                    .then(|| Circle::new((u, v), 1, col.mix(0.35).filled()))
                            }))
                            .map_err(de)?;
                    }
                }
            }
        }
        Ok(())
    })
}

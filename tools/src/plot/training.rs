//! `emberflow plot training`: the curves of a training run from its report.

use super::draw::{FONT, colour, de, render};
use super::lines::{LinePanel, Series, line_panel, series};
use super::report::load_report;
use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use emberflow_train::report::LogRecord;
use plotters::prelude::*;
use std::path::PathBuf;

/// `emberflow plot training` options.
#[derive(Debug, ClapArgs)]
pub(super) struct TrainingArgs {
    /// The JSON report of a run (MODEL.json next to MODEL.efm).
    #[arg(long)]
    report: PathBuf,
    /// The PNG file to write.
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn training(a: &TrainingArgs) -> Result<()> {
    let rep = load_report(&a.report)?;
    if rep.log.is_empty() {
        bail!(
            "{}: the log is empty (the run ended before its first evaluation; see --eval-every)",
            a.report.display()
        );
    }
    let x0 = rep.log.first().map_or(0.0, |r| r.iteration as f64).min(0.0);
    let x1 = rep
        .log
        .last()
        .map_or(1.0, |r| r.iteration as f64)
        .max(x0 + 1.0);
    let weights_series = |get: &dyn Fn(&LogRecord) -> Option<&Vec<f64>>| -> Vec<Series> {
        let k = rep
            .log
            .iter()
            .filter_map(|r| get(r).map(Vec::len))
            .max()
            .unwrap_or(0);
        let mut out = Vec::new();
        for j in 0..k {
            out.push(series(
                &format!("mode {}", j + 1),
                &rep.log,
                |r| get(r).and_then(|w| w.get(j).copied()),
                colour(j),
            ));
            if let Some(t) = rep.true_weights.as_ref().and_then(|t| t.get(j)) {
                out.push(Series {
                    name: format!("true {}", j + 1),
                    points: vec![(x0, *t), (x1, *t)],
                    colour: colour(j),
                    dashed: true,
                });
            }
        }
        out
    };
    let mse = vec![
        series("EBM", &rep.log, |r| r.ebm_mse, colour(0)),
        series("negatives", &rep.log, |r| r.neg_mse, colour(1)),
    ];
    let acc = vec![
        series(
            "local (MALA)",
            &rep.log,
            |r| Some(r.local_acceptance),
            colour(0),
        ),
        series(
            "global (flow)",
            &rep.log,
            |r| Some(r.global_acceptance),
            colour(1),
        ),
    ];
    let gap = vec![
        series(
            "E(data) - E(negatives)",
            &rep.log,
            |r| r.energy_gap,
            colour(2),
        ),
        Series {
            name: "0".into(),
            points: vec![(x0, 0.0), (x1, 0.0)],
            colour: RGBColor(150, 150, 150),
            dashed: true,
        },
    ];
    let flow = vec![series(
        "-mean ln lambda(negatives)",
        &rep.log,
        |r| r.flow_loss,
        colour(4),
    )];
    let rhat = vec![
        series("max R-hat", &rep.log, |r| r.rhat, colour(3)),
        Series {
            name: "1.01".into(),
            points: vec![(x0, 1.01), (x1, 1.01)],
            colour: RGBColor(150, 150, 150),
            dashed: true,
        },
    ];
    let ld_err = vec![series(
        "median (ln p - ln p*)^2",
        &rep.log,
        |r| r.log_density_err,
        colour(5),
    )];
    let nll = vec![
        series("training subsample", &rep.log, |r| r.train_nll, colour(0)),
        series("validation", &rep.log, |r| r.val_nll, colour(1)),
    ];
    let ln_z = vec![
        series("ln Z", &rep.log, |r| r.ln_z, colour(2)),
        Series {
            dashed: true,
            ..series(
                "ln Z - 2 SE",
                &rep.log,
                |r| Some(r.ln_z? - 2.0 * r.ln_z_se?),
                colour(2),
            )
        },
        Series {
            dashed: true,
            ..series(
                "ln Z + 2 SE",
                &rep.log,
                |r| Some(r.ln_z? + 2.0 * r.ln_z_se?),
                colour(2),
            )
        },
    ];
    let ebm_w = weights_series(&|r: &LogRecord| r.ebm_weights.as_ref());
    let neg_w = weights_series(&|r: &LogRecord| r.neg_weights.as_ref());
    let title = format!(
        "training: {} - {}, seed {}, {} iterations, {:.1} s",
        rep.dataset, rep.method, rep.seed, rep.iterations, rep.train_seconds
    );
    let no_weights = "no mode weights in this report (built-in sets only; see emberflow eval)";
    render(&a.out, (1300, 2050), |root| {
        let root = root
            .titled(&title, (FONT, 20).into_font().color(&BLACK))
            .map_err(de)?;
        let p = root.split_evenly((5, 2));
        let panel = |caption, series, y_fixed, log_y, legend_low, empty| LinePanel {
            caption,
            series,
            y_fixed,
            log_y,
            legend_low,
            empty,
        };
        let panels = [
            panel(
                "mode-weight MSE vs true (log scale)",
                &mse,
                None,
                true,
                false,
                no_weights,
            ),
            panel(
                "acceptance rates",
                &acc,
                Some((0.0, 1.05)),
                false,
                true,
                "no acceptance rates",
            ),
            panel(
                "energy gap: mean E(data) - mean E(negatives)",
                &gap,
                None,
                false,
                false,
                "no energy gap",
            ),
            panel("flow loss", &flow, None, false, false, "no flow loss"),
            panel(
                "EBM mode weights (dashed: true)",
                &ebm_w,
                Some((0.0, 1.0)),
                false,
                false,
                no_weights,
            ),
            panel(
                "negatives' mode weights (dashed: true)",
                &neg_w,
                Some((0.0, 1.0)),
                false,
                false,
                no_weights,
            ),
            panel(
                "max R-hat over dimensions, 32 fresh chains x 40 sweeps",
                &rhat,
                None,
                false,
                false,
                "no R-hat in this report",
            ),
            panel(
                "median squared log-density error (log scale)",
                &ld_err,
                None,
                true,
                false,
                "no log-density error (2-D built-in sets only)",
            ),
            panel(
                "mean negative log-likelihood, data units",
                &nll,
                None,
                false,
                false,
                "no held-out likelihood (train with --validation)",
            ),
            panel(
                "ln Z by importance sampling with the flow (+/- 2 SE)",
                &ln_z,
                None,
                false,
                false,
                "no ln Z (train with --validation)",
            ),
        ];
        for (area, panel) in p.iter().zip(&panels) {
            line_panel(area, (x0, x1), panel)?;
        }
        Ok(())
    })
}

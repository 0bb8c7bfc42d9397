//! An [`Evaluation`] as text (the `emberflow eval` table) and as JSON.

use super::Evaluation;
use crate::metrics::{ModeWeights, Regions, weights_mse};
use serde_json::{Value, json};
use std::fmt::Write as _;

impl Evaluation {
    /// `(mean U on data, mean U on samples, gap)`, NaN where missing.
    pub fn energy_gap(&self) -> (f64, f64, f64) {
        let (ud, _) = finite_mean(&self.quantities.u_data);
        let (us, _) = finite_mean(&self.quantities.u_samples);
        (ud, us, ud - us)
    }

    /// The reference of the weights' MSE: the true weights, else the data's.
    fn mse_reference(&self) -> Option<(&'static str, Vec<f64>)> {
        if let Some(t) = &self.true_weights {
            return Some(("true", t.clone()));
        }
        self.data_weights
            .as_ref()
            .map(|w| ("data", w.weights.clone()))
    }

    /// The rows of the weights table: `(name, weights)`.
    pub fn weight_rows(&self) -> Vec<(&'static str, Vec<f64>)> {
        let mut rows = Vec::new();
        if let Some(t) = &self.true_weights {
            rows.push(("true", t.clone()));
        }
        if let Some(w) = &self.data_weights {
            rows.push(("data", w.weights.clone()));
        }
        if let Some((w, _)) = &self.ebm_weights {
            rows.push(("EBM", w.weights.clone()));
        }
        if let Some(w) = &self.sample_weights {
            rows.push(("samples", w.weights.clone()));
        }
        rows
    }

    /// Plain-text report.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let m = &self.model;
        let _ = writeln!(
            o,
            "model      {} ({}-D, trained on {}, seed {}, {} iterations)",
            m.path.display(),
            m.dim,
            m.dataset,
            m.seed,
            m.iterations
        );
        match &self.data {
            Some(d) => {
                let _ = writeln!(o, "data       {} ({} points)", d.source, d.data.len());
            }
            None => {
                let _ = writeln!(o, "data       none");
            }
        }
        match &self.samples {
            Some(s) => {
                let _ = writeln!(
                    o,
                    "samples    {} ({} points, {} chain{})",
                    s.source,
                    s.points.len(),
                    s.chains.len(),
                    if s.chains.len() == 1 { "" } else { "s" }
                );
            }
            None => {
                let _ = writeln!(o, "samples    none");
            }
        }
        if let Some(r) = &self.regions {
            let _ = writeln!(o, "regions    {}", r.describe());
            if let Regions::Centres {
                kmeans: Some(c), ..
            } = r
            {
                let scores: Vec<String> = c
                    .scores
                    .iter()
                    .map(|(k, s)| format!("{k}:{s:.2}"))
                    .collect();
                let _ = writeln!(o, "           silhouette by k  {}", scores.join("  "));
            }
            for (k, c) in r.centres().iter().enumerate() {
                let shown: Vec<String> = c.iter().take(4).map(|v| format!("{v:.3}")).collect();
                let more = if c.len() > 4 { ", …" } else { "" };
                let _ = writeln!(
                    o,
                    "           mode {:<2} centre ({}{more})",
                    k + 1,
                    shown.join(", ")
                );
            }
        }
        let rows = self.weight_rows();
        if !rows.is_empty() {
            let n = rows[0].1.len();
            let reference = self.mse_reference();
            let _ = writeln!(o);
            let mut head = format!("{:<20}", "mode weights");
            for k in 0..n {
                head += &format!(" {:>7}", format!("mode {}", k + 1));
            }
            if let Some((name, _)) = &reference {
                head += &format!("   MSE vs {name}");
            }
            let _ = writeln!(o, "{head}");
            for (name, w) in &rows {
                let mut line = format!("  {name:<18}");
                for v in w {
                    line += &format!(" {v:>7.4}");
                }
                if let Some((rname, rw)) = &reference
                    && rname != name
                {
                    line += &format!("   {:.3e}", weights_mse(w, rw));
                }
                let _ = writeln!(o, "{line}");
            }
            if let Some((w, how)) = &self.ebm_weights {
                let skipped = if w.skipped > 0 {
                    format!(", {} skipped", w.skipped)
                } else {
                    String::new()
                };
                let _ = writeln!(o, "  EBM: {how}{skipped}");
            }
        }
        if let Some(c) = &self.chains {
            let _ = writeln!(o);
            let _ = writeln!(
                o,
                "convergence  {} chain{} x {} draws (rank-normalised split R-hat, bulk/tail ESS as ArviZ)",
                c.chains,
                if c.chains == 1 { "" } else { "s" },
                c.draws
            );
            let argmax = |v: &[f64], better: fn(f64, f64) -> bool| {
                v.iter()
                    .enumerate()
                    .fold(None::<(usize, f64)>, |b, (i, &x)| match b {
                        Some((_, bx)) if !better(x, bx) => b,
                        _ => Some((i, x)),
                    })
            };
            let show =
                |name: &str, v: &[f64], better: fn(f64, f64) -> bool, prec: usize| match argmax(
                    v, better,
                ) {
                    Some((i, x)) => format!("  {name:<14} {x:.prec$}  (x{i})"),
                    None => format!("  {name:<14} n/a"),
                };
            let _ = writeln!(
                o,
                "{}",
                show("max R-hat", &c.rhat, |a, b| a > b || a.is_nan(), 4)
            );
            let _ = writeln!(
                o,
                "{}",
                show("min bulk ESS", &c.ess_bulk, |a, b| a < b || a.is_nan(), 0)
            );
            let _ = writeln!(
                o,
                "{}",
                show("min tail ESS", &c.ess_tail, |a, b| a < b || a.is_nan(), 0)
            );
            if c.rhat.len() <= 8 {
                for j in 0..c.rhat.len() {
                    let _ = writeln!(
                        o,
                        "    x{j:<3} R-hat {:.4}  bulk ESS {:>8.0}  tail ESS {:>8.0}",
                        c.rhat[j], c.ess_bulk[j], c.ess_tail[j]
                    );
                }
            }
        }
        if let Some(mm) = &self.mmd {
            let _ = writeln!(o);
            let _ = writeln!(
                o,
                "MMD^2        {:.3e}  (unbiased; Gaussian kernel, bandwidth {:.4}{}; {} samples vs {} data points)",
                mm.mmd2,
                mm.bandwidth,
                if mm.median {
                    " = median distance"
                } else {
                    ", given"
                },
                mm.n_samples,
                mm.n_data
            );
            if mm.permutations > 0 {
                let _ = writeln!(
                    o,
                    "  null (permutations)  mean {:.3e}, sd {:.3e}; p = {:.3} ({} permutations)",
                    mm.null_mean, mm.null_sd, mm.p_value, mm.permutations
                );
            }
        }
        let (ud, us, gap) = self.energy_gap();
        let (has_d, has_s) = (
            !self.quantities.u_data.is_empty(),
            !self.quantities.u_samples.is_empty(),
        );
        if has_d || has_s {
            let _ = writeln!(o);
            if has_d && has_s {
                let _ = writeln!(
                    o,
                    "energy gap   {}  = mean U on data {} - mean U on samples {} (U = E - ln rho, model units)",
                    fmt_num(gap, "+.4"),
                    fmt_num(ud, ".4"),
                    fmt_num(us, ".4")
                );
            } else {
                let (what, v) = if has_d { ("data", ud) } else { ("samples", us) };
                let _ = writeln!(
                    o,
                    "energy       mean U on {what} {} (U = E - ln rho, model units; the gap needs both data and samples)",
                    fmt_num(v, ".4")
                );
            }
            let (_, bad_d) = finite_mean(&self.quantities.u_data);
            let (_, bad_s) = finite_mean(&self.quantities.u_samples);
            if bad_d + bad_s > 0 {
                let _ = writeln!(
                    o,
                    "  non-finite U: {bad_d} data points, {bad_s} samples (left out of the means)"
                );
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(o);
            for n in &self.notes {
                let _ = writeln!(o, "note: {n}");
            }
        }
        o
    }

    /// JSON report.
    pub fn json(&self) -> Value {
        let m = &self.model;
        let weights = |w: &Option<ModeWeights>| w.as_ref().map(|w| json!(w.weights));
        let reference = self.mse_reference();
        let mse = |w: Option<&Vec<f64>>| -> Value {
            match (w, &reference) {
                (Some(w), Some((_, r))) => json!(weights_mse(w, r)),
                _ => Value::Null,
            }
        };
        let (ud, us, gap) = self.energy_gap();
        json!({
            "model": {
                "path": m.path.display().to_string(),
                "dim": m.dim,
                "dataset": m.dataset,
                "seed": m.seed,
                "iterations": m.iterations,
            },
            "data": self.data.as_ref().map(|d| json!({"source": d.source, "points": d.data.len()})),
            "samples": self.samples.as_ref().map(|s| json!({
                "source": s.source,
                "points": s.points.len(),
                "chains": s.chains.len(),
                "chain_column": s.chain_column,
            })),
            "regions": self.regions.as_ref().map(|r| json!({
                "method": match r {
                    Regions::Truth(_) => "built-in",
                    Regions::Centres { kmeans: Some(_), .. } => "k-means (automatic k)",
                    Regions::Centres { .. } if r.describe().starts_with("k-means") => "k-means",
                    Regions::Centres { .. } => "centres",
                },
                "description": r.describe(),
                "k": r.n(),
                "centres": r.centres(),
                "silhouette": match r {
                    Regions::Centres { kmeans: Some(c), .. } =>
                        json!(c.scores.iter().map(|(k, s)| json!({"k": k, "score": s})).collect::<Vec<_>>()),
                    _ => Value::Null,
                },
            })),
            "mode_weights": self.regions.as_ref().map(|_| json!({
                "true": self.true_weights,
                "data": weights(&self.data_weights),
                "samples": weights(&self.sample_weights),
                "ebm": self.ebm_weights.as_ref().map(|(w, _)| json!(w.weights)),
                "ebm_method": self.ebm_weights.as_ref().map(|(_, h)| h.clone()),
                "mse_reference": reference.as_ref().map(|(n, _)| *n),
                "mse": {
                    "data": mse(self.data_weights.as_ref().map(|w| &w.weights)),
                    "samples": mse(self.sample_weights.as_ref().map(|w| &w.weights)),
                    "ebm": mse(self.ebm_weights.as_ref().map(|(w, _)| &w.weights)),
                },
            })),
            "convergence": self.chains.as_ref().map(|c| {
                let conv = crate::metrics::Convergence {
                    rhat: c.rhat.clone(),
                    ess_bulk: c.ess_bulk.clone(),
                    ess_tail: c.ess_tail.clone(),
                };
                json!({
                    "chains": c.chains,
                    "draws": c.draws,
                    "unused_rows": c.dropped,
                    "max_rhat": conv.max_rhat(),
                    "min_ess_bulk": conv.min_ess_bulk(),
                    "min_ess_tail": conv.min_ess_tail(),
                    "rhat": c.rhat,
                    "ess_bulk": c.ess_bulk,
                    "ess_tail": c.ess_tail,
                })
            }),
            "mmd": self.mmd.as_ref().map(|mm| json!({
                "mmd2": mm.mmd2,
                "bandwidth": mm.bandwidth,
                "kernel": if mm.median { "gaussian, median heuristic" } else { "gaussian, given bandwidth" },
                "n_samples": mm.n_samples,
                "n_data": mm.n_data,
                "permutations": mm.permutations,
                "null_mean": mm.null_mean,
                "null_sd": mm.null_sd,
                "p_value": mm.p_value,
            })),
            "energy": {
                "mean_u_data": ud,
                "mean_u_samples": us,
                "gap": gap,
                "non_finite_data": finite_mean(&self.quantities.u_data).1,
                "non_finite_samples": finite_mean(&self.quantities.u_samples).1,
            },
            "notes": self.notes,
        })
    }
}

fn fmt_num(v: f64, spec: &str) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    match spec {
        "+.4" => format!("{v:+.4}"),
        _ => format!("{v:.4}"),
    }
}

/// Mean of the finite values and how many were not finite.
fn finite_mean(v: &[f32]) -> (f64, usize) {
    let (mut s, mut n) = (0.0f64, 0usize);
    for &x in v {
        if x.is_finite() {
            s += f64::from(x);
            n += 1;
        }
    }
    (if n > 0 { s / n as f64 } else { f64::NAN }, v.len() - n)
}

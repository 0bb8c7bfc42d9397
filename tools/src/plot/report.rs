//! The training report a figure reads (`MODEL.json`, written by `emberflow train`).

use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One evaluation record of a report's log.
pub(super) struct Record {
    pub(super) iteration: f64,
    pub(super) ebm_weights: Option<Vec<f64>>,
    pub(super) ebm_mse: Option<f64>,
    pub(super) neg_weights: Option<Vec<f64>>,
    pub(super) neg_mse: Option<f64>,
    pub(super) local: Option<f64>,
    pub(super) global: Option<f64>,
    pub(super) gap: Option<f64>,
    pub(super) flow: Option<f64>,
    pub(super) rhat: Option<f64>,
    pub(super) log_density_err: Option<f64>,
}

/// A training report (`emberflow train`'s MODEL.json).
pub(super) struct Report {
    pub(super) path: PathBuf,
    pub(super) dataset: String,
    pub(super) method: String,
    pub(super) seed: Option<u64>,
    pub(super) iterations: Option<u64>,
    pub(super) seconds: Option<f64>,
    pub(super) true_weights: Option<Vec<f64>>,
    pub(super) ebm_weights: Option<Vec<f64>>,
    pub(super) neg_weights: Option<Vec<f64>>,
    pub(super) log: Vec<Record>,
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn list(v: &Value, key: &str) -> Option<Vec<f64>> {
    let a = v.get(key)?.as_array()?;
    a.iter().map(Value::as_f64).collect()
}

pub(super) fn load_report(path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let log = v.get("log").and_then(Value::as_array).with_context(|| {
        format!(
            "{}: no `log` array (is it the report `emberflow train` writes next to a model?)",
            path.display()
        )
    })?;
    let mut records = Vec::with_capacity(log.len());
    for (i, r) in log.iter().enumerate() {
        let iteration = num(r, "iteration").with_context(|| {
            format!("{}: log entry {} has no `iteration`", path.display(), i + 1)
        })?;
        records.push(Record {
            iteration,
            ebm_weights: list(r, "ebm_weights"),
            ebm_mse: num(r, "ebm_mse"),
            neg_weights: list(r, "negatives_weights"),
            neg_mse: num(r, "negatives_mse"),
            local: num(r, "local_acceptance"),
            global: num(r, "global_acceptance"),
            gap: num(r, "energy_gap"),
            flow: num(r, "flow_loss"),
            rhat: num(r, "rhat"),
            log_density_err: num(r, "log_density_err"),
        });
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
    Ok(Report {
        path: path.to_path_buf(),
        dataset: s("dataset"),
        method: s("method"),
        seed: v.get("seed").and_then(Value::as_u64),
        iterations: v.get("iterations").and_then(Value::as_u64),
        seconds: num(&v, "train_seconds"),
        true_weights: list(&v, "true_weights"),
        ebm_weights: list(&v, "ebm_weights"),
        neg_weights: list(&v, "negatives_weights"),
        log: records,
    })
}

//! The training report a figure reads: `MODEL.json`, written next to the model by
//! `emberflow train`, as [`TrainReport`].

use anyhow::{Context, Result, bail};
use emberflow_train::report::TrainReport;
use serde_json::Value;
use std::path::Path;

/// Read the training report at `path`. When it does not parse, the error says why in the terms
/// of the file: not JSON at all, no `log` array (not a training report), or the first field
/// that does not fit.
pub(super) fn load_report(path: &Path) -> Result<TrainReport> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    let error = match TrainReport::from_json(&text) {
        Ok(report) => return Ok(report),
        Err(e) => e,
    };
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    if !value.get("log").is_some_and(Value::is_array) {
        bail!(
            "{}: no `log` array (is it the report `emberflow train` writes next to a model?)",
            path.display()
        );
    }
    Err(error).with_context(|| path.display().to_string())
}

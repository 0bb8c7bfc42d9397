//! The training report (`MODEL.json`, written next to the model by `emberflow train`): one
//! type for its writer and its readers.
//!
//! [`TrainReport::to_json`] writes the layout `emberflow train` has always written (one log
//! record per line, weights with 6 decimals, metrics in `{:.6e}`); [`TrainReport::read`] parses
//! any JSON with these keys. Non-finite numbers are written as `null`.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// The training set: a built-in name, `digits`, or the CSV path.
    pub dataset: String,
    /// `--method` as given (`flowmc`, `ula`, `short-run`, `nf`).
    pub method: String,
    /// The run's seed.
    pub seed: u64,
    /// Iterations run.
    pub iterations: u64,
    /// Seconds of training (evaluations not counted).
    pub train_seconds: f64,
    /// Skipped EBM and flow steps (non-finite loss or gradient).
    pub skipped_steps: [u64; 2],
    /// The true mode weights (built-in sets).
    pub true_weights: Option<Vec<f64>>,
    /// The exported EBM's mode weights (2-D built-in sets: on the grid).
    pub ebm_weights: Option<Vec<f64>>,
    /// The mode weights of fresh chains of the exported model.
    #[serde(rename = "negatives_weights")]
    pub neg_weights: Option<Vec<f64>>,
    /// The final metrics, in the order they are stored in the model file (`None`: not finite).
    #[serde(with = "ordered_metrics")]
    pub metrics: Vec<(String, Option<f64>)>,
    /// One record per evaluation during training.
    pub log: Vec<LogRecord>,
}

/// One evaluation during training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Iteration (1-based).
    pub iteration: u64,
    /// Seconds of training so far.
    pub seconds: f64,
    /// The averaged EBM's mode weights.
    pub ebm_weights: Option<Vec<f64>>,
    /// Their MSE against the true weights.
    pub ebm_mse: Option<f64>,
    /// The bank's mode weights.
    #[serde(rename = "negatives_weights")]
    pub neg_weights: Option<Vec<f64>>,
    /// Their MSE against the true weights.
    #[serde(rename = "negatives_mse")]
    pub neg_mse: Option<f64>,
    /// MSE between the bank's mode weights and the EBM's.
    pub bank_vs_ebm_mse: Option<f64>,
    /// The median squared log-density error of the averaged EBM (2-D sets with a known density).
    pub log_density_err: Option<f64>,
    /// Max R̂ over dimensions of fresh chains of the averaged model.
    pub rhat: Option<f64>,
    /// Local (MALA) acceptance since the previous record.
    pub local_acceptance: f64,
    /// Global (i-SIR / IMH) acceptance since the previous record.
    pub global_acceptance: f64,
    /// The last EBM loss, `mean E⁺ − mean E⁻`.
    pub energy_gap: Option<f64>,
    /// The last flow loss.
    pub flow_loss: Option<f64>,
    /// Mean negative log-likelihood of a training subsample (as many rows as the validation
    /// set), data units: `mean U + ln Z + Σ ln scale`.
    #[serde(default)]
    pub train_nll: Option<f64>,
    /// Mean negative log-likelihood of the validation rows, data units.
    #[serde(default)]
    pub val_nll: Option<f64>,
    /// `ln Z` of the averaged EBM, by importance sampling with its flow.
    #[serde(default)]
    pub ln_z: Option<f64>,
    /// Standard error of `ln_z` (delta method).
    #[serde(default)]
    pub ln_z_se: Option<f64>,
    /// Effective sample size of the importance weights.
    #[serde(default)]
    pub ln_z_ess: Option<f64>,
}

fn json_list(v: &Option<Vec<f64>>) -> String {
    match v {
        Some(v) => format!(
            "[{}]",
            v.iter()
                .map(|x| format!("{x:.6}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "null".into(),
    }
}

fn json_num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("null".into(), |x| format!("{x:.6e}"))
}

impl TrainReport {
    /// The report as `emberflow train` writes it.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\n");
        s += &format!("  \"dataset\": {:?},\n", self.dataset);
        s += &format!("  \"method\": {:?},\n", self.method);
        s += &format!("  \"seed\": {},\n", self.seed);
        s += &format!("  \"iterations\": {},\n", self.iterations);
        s += &format!("  \"train_seconds\": {:.3},\n", self.train_seconds);
        s += &format!(
            "  \"skipped_steps\": [{}, {}],\n",
            self.skipped_steps[0], self.skipped_steps[1]
        );
        s += &format!("  \"true_weights\": {},\n", json_list(&self.true_weights));
        s += &format!("  \"ebm_weights\": {},\n", json_list(&self.ebm_weights));
        s += &format!(
            "  \"negatives_weights\": {},\n",
            json_list(&self.neg_weights)
        );
        s += "  \"metrics\": {";
        s += &self
            .metrics
            .iter()
            .map(|(k, v)| format!("{k:?}: {}", json_num(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        s += "},\n  \"log\": [\n";
        s += &self
            .log
            .iter()
            .map(|r| {
                format!(
                    "    {{\"iteration\": {}, \"seconds\": {:.3}, \"ebm_weights\": {}, \"ebm_mse\": {}, \"negatives_weights\": {}, \"negatives_mse\": {}, \"bank_vs_ebm_mse\": {}, \"log_density_err\": {}, \"rhat\": {}, \"local_acceptance\": {:.4}, \"global_acceptance\": {:.4}, \"energy_gap\": {}, \"flow_loss\": {}, \"train_nll\": {}, \"val_nll\": {}, \"ln_z\": {}, \"ln_z_se\": {}, \"ln_z_ess\": {}}}",
                    r.iteration,
                    r.seconds,
                    json_list(&r.ebm_weights),
                    json_num(r.ebm_mse),
                    json_list(&r.neg_weights),
                    json_num(r.neg_mse),
                    json_num(r.bank_vs_ebm_mse),
                    json_num(r.log_density_err),
                    json_num(r.rhat),
                    r.local_acceptance,
                    r.global_acceptance,
                    json_num(r.energy_gap),
                    json_num(r.flow_loss),
                    json_num(r.train_nll),
                    json_num(r.val_nll),
                    json_num(r.ln_z),
                    json_num(r.ln_z_se),
                    json_num(r.ln_z_ess)
                )
            })
            .collect::<Vec<_>>()
            .join(",\n");
        s += "\n  ]\n}\n";
        s
    }

    /// Write the report to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::fs::write_bytes_atomically(path, self.to_json().as_bytes())
    }

    /// Parse a report.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).context("not a training report")
    }

    /// Read the report at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_json(&text).with_context(|| format!("{}", path.display()))
    }

    /// A final metric by name (`None` if absent or not finite).
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| *v)
    }
}

/// The metrics as a JSON object, in their order.
mod ordered_metrics {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(
        metrics: &[(String, Option<f64>)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(metrics.len()))?;
        for (k, v) in metrics {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    struct Ordered;

    impl<'de> Visitor<'de> for Ordered {
        type Value = Vec<(String, Option<f64>)>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of metric names to numbers")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry::<String, Option<f64>>()? {
                out.push(entry);
            }
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(String, Option<f64>)>, D::Error> {
        d.deserialize_map(Ordered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> TrainReport {
        TrainReport {
            dataset: "four-modes".into(),
            method: "flowmc".into(),
            seed: 3,
            iterations: 300,
            train_seconds: 12.3456,
            skipped_steps: [0, 1],
            true_weights: Some(vec![0.1, 0.2, 0.3, 0.4]),
            ebm_weights: Some(vec![0.0646271234, 0.17, 0.32, 0.446]),
            neg_weights: None,
            metrics: vec![
                ("ebm_weights_mse".into(), Some(f64::from(1.25e-4f32))),
                ("max_rhat_128_chains".into(), None),
                ("local_acceptance".into(), Some(f64::from(0.61f32))),
            ],
            log: vec![LogRecord {
                iteration: 50,
                seconds: 1.5,
                ebm_weights: None,
                ebm_mse: Some(2e-3),
                neg_weights: Some(vec![0.5, 0.5]),
                neg_mse: None,
                bank_vs_ebm_mse: None,
                log_density_err: Some(0.25),
                rhat: Some(1.01),
                local_acceptance: f64::from(0.5731f32),
                global_acceptance: f64::from(0.25f32),
                energy_gap: Some(f64::from(-0.625_037_3f32)),
                flow_loss: Some(2.5),
                train_nll: Some(1.25),
                val_nll: None,
                ln_z: Some(-0.5),
                ln_z_se: Some(0.01),
                ln_z_ess: Some(900.0),
            }],
        }
    }

    #[test]
    fn the_written_layout_parses_back_to_the_written_values() {
        let r = report();
        let text = r.to_json();
        // The on-disk names.
        for key in [
            "\"negatives_weights\": null",
            "\"negatives_mse\": null",
            "\"max_rhat_128_chains\": null",
            "\"skipped_steps\": [0, 1]",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
        let back = TrainReport::from_json(&text).unwrap();
        // What was written is a fixed point: the values as rounded on disk.
        assert_eq!(back.to_json(), text);
        assert_eq!(back.metrics.len(), 3);
        assert_eq!(back.metrics[1].0, "max_rhat_128_chains");
        assert_eq!(back.metric("max_rhat_128_chains"), None);
        assert!((back.metric("ebm_weights_mse").unwrap() - 1.25e-4).abs() < 1e-9);
        // serde's own output of the same report parses to the same keys and values (up to the
        // rounding of the written layout).
        let serde_text = serde_json::to_string(&back).unwrap();
        let a: serde_json::Value = serde_json::from_str(&text).unwrap();
        let b: serde_json::Value = serde_json::from_str(&serde_text).unwrap();
        assert_eq!(as_f64s(a), as_f64s(b));
    }

    #[test]
    fn a_report_without_the_likelihood_fields_still_reads() {
        let text = report().to_json();
        let old = text.replace(
            ", \"train_nll\": 1.250000e0, \"val_nll\": null, \"ln_z\": -5.000000e-1, \"ln_z_se\": 1.000000e-2, \"ln_z_ess\": 9.000000e2",
            "",
        );
        assert_ne!(old, text);
        let back = TrainReport::from_json(&old).unwrap();
        assert_eq!(back.log[0].train_nll, None);
        assert_eq!(back.log[0].flow_loss, Some(2.5));
    }

    /// Every number as the f64 it denotes (with serde_json's `arbitrary_precision`, which
    /// another crate of the workspace may enable, `0.100000` and `0.1` are different values).
    fn as_f64s(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Number(n) => Value::from(n.as_f64().expect("a finite number")),
            Value::Array(a) => Value::Array(a.into_iter().map(as_f64s).collect()),
            Value::Object(o) => {
                Value::Object(o.into_iter().map(|(k, v)| (k, as_f64s(v))).collect())
            }
            other => other,
        }
    }
}

//! `emberflow sample` and `emberflow energy`: the model file on the host, through the sampling
//! and scoring protocol the firmware runs ([`emberflow_core::mcmc::run`]), so
//! `emberflow sample --model M …` and `emberflow firmware run --model M …` write the same bytes.

use crate::firmware::{
    Score, read_model, read_points_csv, sample_model, score_model, write_energies_csv,
    write_samples_csv,
};
use anyhow::{Context, Result, anyhow, bail};
use emberflow_core::model::is_anomaly;
use emberflow_train::fs::write_atomically_to;
use emberflow_train::metrics::{detection, parse_labels};
use std::path::PathBuf;

use crate::sampling_args::SamplingArgs;

/// Arguments of `emberflow sample`.
#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// The model file (`.efm`, energy+flow, any shape within the run-time limits).
    #[arg(long)]
    pub model: PathBuf,
    /// Seed, chains, samples and the sampler settings.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Output CSV (`chain,index,x0,…`, data units; `-` for stdout).
    #[arg(long)]
    pub out: String,
}

/// Arguments of `emberflow energy`.
#[derive(Debug, clap::Args)]
pub struct EnergyArgs {
    /// The model file (`.efm`, energy+flow).
    #[arg(long)]
    pub model: PathBuf,
    /// Points in data units, one a row (a non-numeric first row is a header; if it names
    /// x0…x{d−1}, those columns are read, so a samples CSV can be scored as it is).
    #[arg(long)]
    pub data: PathBuf,
    /// Output CSV (`index,x0,…,energy` with energy = U = −ln π + const; `-` for stdout).
    #[arg(long)]
    pub out: String,
    /// Anomaly labels of the points, one per line (1 = anomaly, 0 = normal): prints the
    /// AUROC and the average precision (AUPRC) of the energy as an anomaly score.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Flag the points whose energy is above this threshold (an `anomaly` column: 1 = U > T).
    /// Default: the model's own threshold, if it carries one (`emberflow train
    /// --threshold-quantile`).
    #[arg(long)]
    pub threshold: Option<f32>,
}

/// Read a labels file: one `0` or `1` per non-empty line.
fn read_labels(path: &std::path::Path) -> Result<Vec<bool>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--labels: cannot read {}", path.display()))?;
    parse_labels(&text).map_err(|e| anyhow!("--labels: {} {e}", path.display()))
}

/// Run `emberflow sample`.
pub fn run_sample(args: &SampleArgs) -> Result<()> {
    let model = read_model(&args.model)?;
    let settings = args.sampling.settings()?;
    let sampled = sample_model(&model, &settings)?;
    write_atomically_to(&args.out, |w| {
        write_samples_csv(w, model.dim, &sampled.samples)
    })?;
    let (accepted, proposed, g_accepted, g_proposed) =
        sampled
            .chains
            .iter()
            .fold((0, 0, 0, 0), |(a, p, ga, gp), c| {
                (
                    a + c.local_accepted,
                    p + c.local_proposed,
                    ga + c.global_accepted,
                    gp + c.global_proposed,
                )
            });
    eprintln!(
        "{} samples from {} chains (d = {}); MALA acceptance {accepted}/{proposed}, global \
         moves accepted {g_accepted}/{g_proposed}; written to {}",
        sampled.samples.len(),
        sampled.chains.len(),
        model.dim,
        args.out
    );
    Ok(())
}

/// Run `emberflow energy`.
pub fn run_energy(args: &EnergyArgs) -> Result<()> {
    let model = read_model(&args.model)?;
    if let Some(t) = args.threshold
        && !t.is_finite()
    {
        bail!("--threshold must be a finite number, got {t}");
    }
    let threshold = args.threshold.or(model.threshold);
    let points = read_points_csv(&args.data, model.dim)?;
    let labels = args.labels.as_deref().map(read_labels).transpose()?;
    let energies = score_model(&model, &points)?;
    let detected = match &labels {
        Some(labels) => {
            let u: Vec<f64> = energies.iter().map(|&e| f64::from(e)).collect();
            Some(detection(&u, labels).map_err(|e| anyhow!("--labels: {e}"))?)
        }
        None => None,
    };
    let scores: Vec<Score> = points
        .into_iter()
        .zip(energies)
        .enumerate()
        .map(|(k, (x, energy))| Score {
            index: k as u32,
            x,
            energy,
        })
        .collect();
    write_atomically_to(&args.out, |w| {
        write_energies_csv(w, model.dim, &scores, threshold)
    })?;
    eprintln!(
        "{} points scored (d = {}); energy = U = -ln pi + const in model space; as a density \
         over data units, -ln p(y) = U + ln Z + {:.6} (the normalisation's log-Jacobian); \
         written to {}",
        scores.len(),
        model.dim,
        model.log_jacobian,
        args.out
    );
    if let Some(t) = threshold {
        let flagged: Vec<bool> = scores.iter().map(|s| is_anomaly(s.energy, t)).collect();
        let source = match (args.threshold, model.threshold_quantile) {
            (Some(_), _) => "--threshold".to_string(),
            (None, Some(q)) => format!("the model's: the {q} quantile of its held-out energies"),
            (None, None) => "the model's".to_string(),
        };
        eprintln!(
            "{} of {} points flagged as anomalies (U > {t}, {source})",
            flagged.iter().filter(|&&f| f).count(),
            scores.len()
        );
        if let Some(labels) = &labels {
            let hit = |want: bool| {
                let of = labels.iter().filter(|&&l| l == want).count();
                let n = flagged
                    .iter()
                    .zip(labels)
                    .filter(|&(&f, &l)| f && l == want)
                    .count();
                (n, of)
            };
            let ((tp, p), (fp, n)) = (hit(true), hit(false));
            eprintln!(
                "at the threshold: {tp} of {p} anomalies flagged (recall {:.3}), {fp} of {n} \
                 normal points flagged (false-alarm rate {:.3})",
                tp as f64 / p.max(1) as f64,
                fp as f64 / n.max(1) as f64
            );
        }
    }
    if let Some(d) = detected {
        eprintln!(
            "anomaly score = energy: AUROC {:.4}, AUPRC {:.4} ({} anomalies, {} normal points)",
            d.auroc, d.auprc, d.positives, d.negatives
        );
    }
    Ok(())
}

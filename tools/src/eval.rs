//! `emberflow eval`: how good is a trained model, against data and against its own samples?
//!
//! * **Mode weights** — the share of mass in each mode's region, for the data, the samples and
//!   the EBM itself (2-D: `softmax(−U)` on a grid; d > 2: self-normalised importance sampling
//!   with the model's flow as proposal). Regions, in order of precedence: the centres of
//!   `--centers` (nearest centre); k-means on the data with `--k` clusters; the true regions of
//!   the built-in set the model was trained on (true weights known); otherwise k-means on the
//!   data with `k` chosen by the silhouette rule of [`choose_k`](emberflow_train::metrics::choose_k()).
//! * **R̂ and ESS** of the chains in the samples file (rank-normalised split R̂, bulk- and
//!   tail-ESS, as ArviZ), the chains identified by its `chain` column.
//! * **MMD²** between samples and data: Gaussian kernel with the median-heuristic bandwidth,
//!   the unbiased estimator, and a permutation p-value with the null's scale.
//! * **Energy gap**: mean U on the data − mean U on the samples (U = E − ln ρ, model units).
//!
//! Without `--data`, a model trained on a built-in set is compared with that set regenerated
//! from the model's recorded seed (the training data, point for point).

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
pub use emberflow_train::data::subsample;
pub use emberflow_train::eval::{
    Evaluation, ModelFile, Points, Samples, energies_at, load_model, load_samples, reference_data,
};
use std::io::Write as _;
use std::path::PathBuf;

/// `emberflow eval` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The model file (`.efm`).
    #[arg(long)]
    pub model: PathBuf,
    /// Reference data, a CSV of the model's dimension (default for a model trained on a
    /// built-in set: that set, regenerated from the model's seed).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Samples of the model: a CSV with a `chain,index,x0,…` header (as `emberflow sample`
    /// writes), or bare coordinates (then one chain, in file order).
    #[arg(long)]
    pub samples: Option<PathBuf>,
    /// Mode centres, one per row (regions: nearest centre, in data units).
    #[arg(long, conflicts_with = "k")]
    pub centers: Option<PathBuf>,
    /// Regions by k-means on the data with this many clusters (default: the true regions of a
    /// built-in set, otherwise k chosen by the silhouette rule).
    #[arg(long)]
    pub k: Option<usize>,
    /// Seed of k-means, the MMD subsamples and permutations, and importance sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Points of each side in the MMD (random subsample; the cost grows as its square).
    #[arg(long, default_value_t = 1000)]
    pub mmd_points: usize,
    /// Kernel bandwidth of the MMD in data units (default: the median heuristic, the median
    /// distance between pooled points; with well-separated modes it mostly compares mode
    /// weights, a smaller bandwidth also compares the shape within modes).
    #[arg(long)]
    pub bandwidth: Option<f64>,
    /// Permutations of the MMD test (0: statistic only).
    #[arg(long, default_value_t = 200)]
    pub permutations: usize,
    /// Flow draws for the EBM's mode weights by importance sampling (d > 2).
    #[arg(long, default_value_t = 20_000)]
    pub is_draws: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Run the whole evaluation (the MMD test only `with_mmd`).
pub(crate) fn evaluate(args: &Args, with_mmd: bool) -> Result<Evaluation> {
    emberflow_train::eval::evaluate(
        &emberflow_train::eval::EvalOptions {
            model: args.model.clone(),
            data: args.data.clone(),
            samples: args.samples.clone(),
            centers: args.centers.clone(),
            k: args.k,
            seed: args.seed,
            mmd_points: args.mmd_points,
            bandwidth: args.bandwidth,
            permutations: args.permutations,
            is_draws: args.is_draws,
        },
        with_mmd,
    )
}

/// Run `emberflow eval`.
pub fn run(args: &Args) -> Result<()> {
    if args.mmd_points < 2 {
        bail!("--mmd-points must be at least 2");
    }
    if let Some(h) = args.bandwidth
        && !(h > 0.0 && h.is_finite())
    {
        bail!("--bandwidth must be a positive number");
    }
    let ev = evaluate(args, true)?;
    let text = if args.json {
        serde_json::to_string_pretty(&ev.json()).context("writing JSON")? + "\n"
    } else {
        ev.text()
    };
    // A closed pipe (`emberflow eval … | head`) is not an error.
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing to standard output")
        }
        _ => Ok(()),
    }
}

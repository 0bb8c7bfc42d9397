//! The evaluation of `emberflow eval` (and the figures of `emberflow plot`): how good is a trained model, against data and against its own samples?
//!
//! * **Mode weights** — the share of mass in each mode's region, for the data, the samples and
//!   the EBM itself (2-D: `softmax(−U)` on a grid; d > 2: self-normalised importance sampling
//!   with the model's flow as proposal). Regions, in order of precedence: the centres of
//!   `--centers` (nearest centre); k-means on the data with `--k` clusters; the true regions of
//!   the built-in set the model was trained on (true weights known); otherwise k-means on the
//!   data with `k` chosen by the silhouette rule of [`choose_k`](crate::metrics::choose_k()).
//! * **R̂ and ESS** of the chains in the samples file (rank-normalised split R̂, bulk- and
//!   tail-ESS, as ArviZ), the chains identified by its `chain` column.
//! * **MMD²** between samples and data: Gaussian kernel with the median-heuristic bandwidth,
//!   the unbiased estimator, and a permutation p-value with the null's scale.
//! * **Energy gap**: mean U on the data − mean U on the samples (U = E − ln ρ, model units).
//!
//! Without `--data`, a model trained on a built-in set is compared with that set regenerated
//! from the model's recorded seed (the training data, point for point).
//!
//! The inputs (model, data, samples, regions) are read by `inputs.rs`, the model's own
//! quantities (energies, the EBM's mode weights) computed by `model.rs`, and an
//! [`Evaluation`] is printed as text or JSON by `render.rs`.

mod inputs;
mod model;
mod render;

pub use inputs::{
    Points, Samples, load_model, load_points, load_samples, reference_data, resolve_regions,
};
pub use model::{
    ModelInputs, ModelQuantities, energies_at, model_from_bytes, model_quantities, read_model,
    read_model_for_eval, with_networks,
};

use crate::data::Dataset;
use crate::metrics::{
    Chains, Grid2d, Mmd, ModeWeights, Regions, convergence, mmd, mode_weights_from_samples,
};
pub use crate::model_file::ModelFile;
use anyhow::{Result, bail};
use std::path::PathBuf;
/// What to evaluate and how (the options of `emberflow eval`).
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// The model file (`.efm`).
    pub model: PathBuf,
    /// Reference data (default for a model trained on a built-in set: that set, regenerated).
    pub data: Option<PathBuf>,
    /// Samples of the model (a `chain,index,x0,…` CSV or bare coordinates).
    pub samples: Option<PathBuf>,
    /// Mode centres, one per row.
    pub centers: Option<PathBuf>,
    /// Regions by k-means with this many clusters.
    pub k: Option<usize>,
    /// Seed of k-means, the MMD and importance sampling.
    pub seed: u64,
    /// Points of each side in the MMD.
    pub mmd_points: usize,
    /// Kernel bandwidth of the MMD (default: the median heuristic).
    pub bandwidth: Option<f64>,
    /// Permutations of the MMD test.
    pub permutations: usize,
    /// Flow draws for the EBM's mode weights by importance sampling (d > 2).
    pub is_draws: usize,
}

/// Convergence diagnostics of the samples' chains.
pub struct ChainReport {
    /// Chains.
    pub chains: usize,
    /// Draws per chain (the shortest chain's length).
    pub draws: usize,
    /// Rows beyond the shortest chain's length, not used.
    pub dropped: usize,
    /// R̂ per dimension.
    pub rhat: Vec<f64>,
    /// Bulk ESS per dimension.
    pub ess_bulk: Vec<f64>,
    /// Tail ESS per dimension.
    pub ess_tail: Vec<f64>,
}

/// Everything `emberflow eval` reports.
pub struct Evaluation {
    /// The model file.
    pub model: ModelFile,
    /// The reference data.
    pub data: Option<Points>,
    /// The samples.
    pub samples: Option<Samples>,
    /// The regions of the mode weights.
    pub regions: Option<Regions>,
    /// The true mode weights (built-in sets).
    pub true_weights: Option<Vec<f64>>,
    /// The data's mode weights.
    pub data_weights: Option<ModeWeights>,
    /// The samples' mode weights.
    pub sample_weights: Option<ModeWeights>,
    /// The EBM's mode weights and how they were computed.
    pub ebm_weights: Option<(ModeWeights, String)>,
    /// Convergence of the samples' chains.
    pub chains: Option<ChainReport>,
    /// The MMD test of samples against data.
    pub mmd: Option<Mmd>,
    /// Energies on data and samples.
    pub quantities: ModelQuantities,
    /// What was skipped or should be kept in mind.
    pub notes: Vec<String>,
}

/// The grid of the EBM's 2-D mode weights: the built-in set's fixed box, or the data's (else
/// the samples') bounding box widened by 10 %.
pub fn weight_grid(
    model: &ModelFile,
    data: Option<&Dataset>,
    samples: Option<&Dataset>,
) -> Option<Grid2d> {
    if model.dim != 2 {
        return None;
    }
    if let Some(g) = model.builtin().and_then(Grid2d::for_set) {
        return Some(g);
    }
    data.or(samples).and_then(Grid2d::covering)
}

fn chain_report(s: &Samples, dim: usize, notes: &mut Vec<String>) -> Option<ChainReport> {
    let draws = s.chains.iter().map(Vec::len).min().unwrap_or(0);
    let chains = s.chains.len();
    if draws < 4 {
        notes.push(format!(
            "R-hat/ESS skipped: {chains} chain(s) with as few as {draws} draw(s); at least 4 draws per chain are needed"
        ));
        return None;
    }
    let mut values = Vec::with_capacity(chains * draws * dim);
    for rows in &s.chains {
        for &r in &rows[..draws] {
            values.extend_from_slice(s.points.row(r));
        }
    }
    let dropped = s.points.len() - chains * draws;
    if dropped > 0 {
        notes.push(format!(
            "chains have unequal lengths: each cut to the shortest ({draws} draws), {dropped} rows unused in R-hat/ESS"
        ));
    }
    if !s.chain_column {
        notes.push(
            "the samples have no `chain` column: R-hat/ESS treat them as one chain in file order"
                .into(),
        );
    }
    let c = Chains::new(&values, chains, draws, dim).ok()?;
    let conv = convergence(&c);
    Some(ChainReport {
        chains,
        draws,
        dropped,
        rhat: conv.rhat,
        ess_bulk: conv.ess_bulk,
        ess_tail: conv.ess_tail,
    })
}

/// Run the whole evaluation (the MMD test only `with_mmd`).
pub fn evaluate(args: &EvalOptions, with_mmd: bool) -> Result<Evaluation> {
    let model = load_model(&args.model)?;
    let data = reference_data(&model, args.data.as_deref())?;
    let samples = match &args.samples {
        Some(p) => Some(load_samples(p, model.dim)?),
        None => None,
    };
    let regions = resolve_regions(
        &model,
        args.centers.as_deref(),
        args.k,
        data.as_ref(),
        args.seed,
    )?;
    if data.is_none() && samples.is_none() && regions.is_none() {
        bail!(
            "nothing to evaluate: give --data and/or --samples (the model was trained on `{}`, not a built-in set)",
            model.dataset
        );
    }
    let mut notes = Vec::new();
    let grid = weight_grid(
        &model,
        data.as_ref().map(|d| &d.data),
        samples.as_ref().map(|s| &s.points),
    );
    let inputs = ModelInputs {
        data: data.as_ref().map(|d| &d.data),
        samples: samples.as_ref().map(|s| &s.points),
        regions: regions.as_ref(),
        grid,
        is_draws: args.is_draws,
        seed: args.seed,
    };
    let quantities = model_quantities(&model, &inputs)?;
    let weights_of = |d: &Dataset| {
        regions
            .as_ref()
            .map(|r| mode_weights_from_samples(d.values(), d.dim(), r.n(), |x| r.region(x)))
    };
    let data_weights = data.as_ref().and_then(|d| weights_of(&d.data));
    let sample_weights = samples.as_ref().and_then(|s| weights_of(&s.points));
    let chains = samples
        .as_ref()
        .and_then(|s| chain_report(s, model.dim, &mut notes));
    let mmd = match (&samples, &data) {
        _ if !with_mmd => None,
        (Some(s), Some(d)) if s.points.len() >= 2 && d.data.len() >= 2 => Some(mmd(
            &s.points,
            &d.data,
            args.mmd_points,
            args.permutations,
            args.bandwidth,
            args.seed,
        )),
        (Some(_), Some(_)) => {
            notes.push("MMD skipped: it needs at least 2 samples and 2 data points".into());
            None
        }
        _ => None,
    };
    if let Some(s) = &samples
        && s.chain_column
        && mmd.is_some()
    {
        notes.push(
            "the permutation p-value assumes independent draws; correlated chain draws make it optimistic"
                .into(),
        );
    }
    if regions.is_none() {
        notes.push(
            "mode weights skipped: no regions (give --centers, --k, or --data for k-means)".into(),
        );
    }
    let ebm_weights = quantities.ebm.clone();
    Ok(Evaluation {
        true_weights: regions.as_ref().and_then(Regions::truth),
        model,
        data,
        samples,
        regions,
        data_weights,
        sample_weights,
        ebm_weights,
        chains,
        mmd,
        quantities,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_grouped_by_chain_and_ordered_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(
            &p,
            "chain,index,x0,x1\n1,1,11,0\n0,1,1,0\n1,0,10,0\n0,0,0,0\n0,2,2,0\n",
        )
        .unwrap();
        let s = load_samples(&p, 2).unwrap();
        assert!(s.chain_column);
        let firsts: Vec<Vec<f32>> = s
            .chains
            .iter()
            .map(|rows| rows.iter().map(|&r| s.points.row(r)[0]).collect())
            .collect();
        assert_eq!(firsts, vec![vec![0.0, 1.0, 2.0], vec![10.0, 11.0]]);
        std::fs::write(&p, "chain,index,x0,x1\n0.5,0,1,2\n").unwrap();
        let e = load_samples(&p, 2).err().unwrap().to_string();
        assert!(e.contains("chain id"), "{e}");
        std::fs::write(&p, "1,2\n3,4\n").unwrap();
        let s = load_samples(&p, 2).unwrap();
        assert!(!s.chain_column && s.chains == vec![vec![0, 1]]);
        std::fs::write(&p, "0,0,1,2\n").unwrap();
        let e = load_samples(&p, 2).err().unwrap().to_string();
        assert!(e.contains("header is needed"), "{e}");
    }
}

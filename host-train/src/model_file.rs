//! A model file (`.efm`) read from disk and checked: an energy+flow model of a supported
//! dimension, with what its header says. The one reader of `emberflow eval`, `plot`, `sample`
//! and `energy` and of the firmware checks.

use crate::data::BuiltIn;
use anyhow::{Context, Result, anyhow};
use emberflow_core::ModelKind;
use emberflow_core::model::AnyEncoding;
use emberflow_core::model::{ANOMALY_QUANTILE, ModelView, SamplerSpec};
use emberflow_core::runtime::{
    FileModel, MAX_CONDITIONER_HIDDEN, MAX_DIM, MAX_ENERGY_HIDDEN, MAX_FLOW_BLOCKS, MAX_WIDTH,
};
use std::path::{Path, PathBuf};

/// A model file read and checked: an energy+flow model of a supported dimension.
#[derive(Clone, Debug)]
pub struct ModelFile {
    /// Where it was read from (empty for [`ModelFile::from_bytes`]).
    pub path: PathBuf,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its dimension.
    pub dim: usize,
    /// The training set's name (a built-in name, `digits`, or the CSV path).
    pub dataset: String,
    /// The run's seed.
    pub seed: u64,
    /// Iterations the run trained for.
    pub iterations: u64,
    /// `shift`, `scale` of `x_data = shift + scale · x_model`.
    pub shift: Vec<f32>,
    /// See `shift`.
    pub scale: Vec<f32>,
    /// Its CRC-32 (the firmware reports the CRC of the model it was built with).
    pub crc: u32,
    /// The sampler settings stored in the file.
    pub sampler: SamplerSpec,
    /// `Σ_j ln scale_j` of the data normalisation: the log-Jacobian between model space and
    /// data units (`−ln p(y) = U(x) + ln Z + Σ_j ln scale_j`).
    pub log_jacobian: f64,
    /// The anomaly threshold on `U` the model carries (`emberflow train
    /// --threshold-quantile`), if any.
    pub threshold: Option<f32>,
    /// The quantile of the held-out energies the threshold is, if recorded.
    pub threshold_quantile: Option<f32>,
}

/// Why bytes are not a usable model.
enum Problem {
    Invalid(emberflow_core::Error),
    Kind(&'static str),
    /// Beyond the run-time limits (the dimension).
    Limits(usize),
}

/// The message for a model (of dimension `dim`) beyond the run-time limits.
fn beyond_limits(dim: usize) -> String {
    format!(
        "the model's shape (d = {dim}) is beyond the limits: d ≤ {MAX_DIM}, at most \
         {MAX_ENERGY_HIDDEN} energy hidden layers, {MAX_CONDITIONER_HIDDEN} conditioner hidden \
         layers and {MAX_FLOW_BLOCKS} flow blocks, widths ≤ {MAX_WIDTH}"
    )
}

impl ModelFile {
    fn parse(bytes: Vec<u8>, path: PathBuf) -> std::result::Result<Self, Problem> {
        let view = ModelView::parse(&bytes).map_err(Problem::Invalid)?;
        let h = view.header();
        if h.kind != ModelKind::EnergyFlow {
            return Err(Problem::Kind(h.kind.article_name()));
        }
        let dim = usize::from(h.dim);
        // the networks as the samplers build them: every shape within the run-time limits
        let mut storage = vec![0.0f32; FileModel::<'_, AnyEncoding, 32>::storage_len(dim)];
        if FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut storage).is_err() {
            return Err(Problem::Limits(dim));
        }
        let log_jacobian = h
            .normalization
            .scale
            .iter()
            .map(|s| f64::from(s).ln())
            .sum();
        let file = Self {
            path,
            dim,
            dataset: h.training.dataset.to_owned(),
            seed: h.training.seed,
            iterations: h.training.iterations,
            shift: h.normalization.shift.iter().collect(),
            scale: h.normalization.scale.iter().collect(),
            crc: view.crc(),
            sampler: h.sampler,
            log_jacobian,
            threshold: h.training.anomaly_threshold(),
            threshold_quantile: h.training.metric(ANOMALY_QUANTILE),
            bytes: Vec::new(),
        };
        Ok(Self { bytes, ..file })
    }

    /// Read and check the model file at `path` (for sampling and scoring).
    pub fn read(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::checked(bytes, path.to_path_buf()).with_context(|| format!("{}", path.display()))
    }

    /// Check a model file's bytes (for sampling and scoring).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        Self::checked(bytes, PathBuf::new())
    }

    fn checked(bytes: Vec<u8>, path: PathBuf) -> Result<Self> {
        Self::parse(bytes, path).map_err(|p| match p {
            Problem::Invalid(e) => anyhow!(e).context("not a valid model file"),
            Problem::Kind(kind) => {
                anyhow!("holds {kind}, but sampling and scoring need an energy+flow model")
            }
            Problem::Limits(dim) => anyhow!("{}", beyond_limits(dim)),
        })
    }

    /// Read and check the model file at `path` for evaluation (the messages of
    /// `emberflow eval` and `emberflow plot`).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the model {}", path.display()))?;
        Self::parse(bytes, path.to_path_buf()).map_err(|p| match p {
            Problem::Invalid(e) => {
                anyhow!(e).context(format!("{} is not a valid model file", path.display()))
            }
            Problem::Kind(kind) => anyhow!(
                "{} holds {kind}; evaluation needs an energy+flow model (as `emberflow train` writes)",
                path.display()
            ),
            Problem::Limits(dim) => anyhow!("{}: {}", path.display(), beyond_limits(dim)),
        })
    }

    /// The built-in set the model was trained on, if it is one of this dimension.
    pub fn builtin(&self) -> Option<BuiltIn> {
        self.dataset
            .parse::<BuiltIn>()
            .ok()
            .filter(|b| b.dim() == self.dim)
    }
}

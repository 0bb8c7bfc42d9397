//! The host side of the shared protocol (`firmware/src/protocol.rs`, here [`super::sampling`]):
//! `emberflow sample`, `emberflow energy` and the parity checks of `cargo xtask test` all call
//! [`sample_model`] and [`score_model`], which run the very code the firmware runs, on
//! emberflow-core, for any supported dimension.

use super::protocol::{ChainSummary, Sample};
use super::sampling::{self, Observer, Protocol};
use super::settings::SampleSettings;
use anyhow::{Context, Result, anyhow, bail};
use emberflow_core::model::{ModelView, PaperModel, SamplerSpec};
use emberflow_core::shapes::SUPPORTED_DIMS;
use emberflow_core::{ModelKind, StepStats, with_model_shape};
use std::path::Path;

/// A model file read and checked: an energy+flow model of a supported dimension.
#[derive(Clone, Debug)]
pub struct ModelFile {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its dimension.
    pub dim: usize,
    /// Its CRC-32 (the firmware reports the CRC of the model it was built with).
    pub crc: u32,
    /// The sampler settings stored in the file.
    pub sampler: SamplerSpec,
    /// `Σ_j ln scale_j` of the data normalisation: the log-Jacobian between model space and
    /// data units (`−ln p(y) = U(x) + ln Z + Σ_j ln scale_j`).
    pub log_jacobian: f64,
}

impl ModelFile {
    /// Read and check the model file at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_bytes(bytes).with_context(|| format!("{}", path.display()))
    }

    /// Check a model file's bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let view = ModelView::parse(&bytes).context("not a valid model file")?;
        let header = view.header();
        if header.kind != ModelKind::EnergyFlow {
            bail!(
                "holds {}, but sampling and scoring need an energy+flow model",
                header.kind.article_name()
            );
        }
        let dim = usize::from(header.dim);
        if !SUPPORTED_DIMS.contains(&dim) {
            bail!(
                "dimension {dim} is not supported (model shapes exist for d = 2..=16, 32 and 64)"
            );
        }
        let log_jacobian = header
            .normalization
            .scale
            .iter()
            .map(|s| f64::from(s).ln())
            .sum();
        let (crc, sampler) = (view.crc(), header.sampler);
        Ok(Self {
            dim,
            crc,
            sampler,
            log_jacobian,
            bytes,
        })
    }
}

/// What [`sample_model`] produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampled {
    /// The settings in force (the model's, with the overrides).
    pub protocol: Protocol,
    /// The samples in data units, chain by chain.
    pub samples: Vec<Sample>,
    /// Each chain's counts over its recorded sweeps.
    pub chains: Vec<ChainSummary>,
}

/// Run the sampling protocol on `model` with `settings` (what the firmware's `sample`
/// program does with the same model and settings, bit for bit).
pub fn sample_model(model: &ModelFile, settings: &SampleSettings) -> Result<Sampled> {
    with_model_shape!(model.dim, sample_typed(&model.bytes, settings))
        .ok_or_else(|| anyhow!("dimension {} is not supported", model.dim))?
}

/// `U = −ln π` (unnormalised, model space) of each point, given in data units: what the
/// firmware's `energy` program sends for the same model and points, bit for bit.
pub fn score_model(model: &ModelFile, points: &[Vec<f32>]) -> Result<Vec<f32>> {
    if let Some(k) = points.iter().position(|p| p.len() != model.dim) {
        bail!(
            "point {k} has {} coordinates, the model's dimension is {}",
            points[k].len(),
            model.dim
        );
    }
    with_model_shape!(model.dim, score_typed(&model.bytes, points))
        .ok_or_else(|| anyhow!("dimension {} is not supported", model.dim))?
}

#[derive(Default)]
struct Collect {
    samples: Vec<Sample>,
    chains: Vec<ChainSummary>,
}

impl<const D: usize> Observer<D> for Collect {
    fn sample(&mut self, chain: u16, index: u32, x: &[f32; D]) {
        self.samples.push(Sample {
            chain,
            index,
            x: x.to_vec(),
        });
    }

    fn chain_end(&mut self, chain: u16, stats: &StepStats, step_size: f32) {
        self.chains.push(ChainSummary {
            chain,
            local_proposed: stats.local_proposed,
            local_accepted: stats.local_accepted,
            global_proposed: stats.global_proposed,
            global_accepted: stats.global_accepted,
            nonfinite: stats.nonfinite,
            step_size,
        });
    }
}

fn sample_typed<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>(
    bytes: &[u8],
    settings: &SampleSettings,
) -> Result<Sampled> {
    let model = PaperModel::<D, A, B, H, K>::decode(bytes).context("not a valid model file")?;
    let protocol = settings.protocol(&model.header.sampler)?;
    let mut collect = Collect::default();
    collect
        .samples
        .reserve(usize::from(protocol.run.chains) * protocol.run.n as usize);
    sampling::run(&model, &protocol, &mut collect)
        .map_err(|e| anyhow!("invalid kernel settings: {e}"))?;
    Ok(Sampled {
        protocol,
        samples: collect.samples,
        chains: collect.chains,
    })
}

fn score_typed<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>(
    bytes: &[u8],
    points: &[Vec<f32>],
) -> Result<Vec<f32>> {
    let model = PaperModel::<D, A, B, H, K>::decode(bytes).context("not a valid model file")?;
    Ok(points
        .iter()
        .map(|p| {
            let mut y = [0.0f32; D];
            y.copy_from_slice(p);
            sampling::score(&model, &y)
        })
        .collect())
}

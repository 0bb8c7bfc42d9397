//! The host side of the shared protocol ([`emberflow_core::mcmc::run`]):
//! `emberflow sample`, `emberflow energy` and the parity checks of `cargo xtask test` all call
//! [`sample_model`] and [`score_model`], which run the very code the firmware runs, on
//! emberflow-core, for any supported dimension.

use super::report::{ChainSummary, Sample};
use super::settings::SampleSettings;
use anyhow::{Context, Result, anyhow, bail};
use emberflow_core::mcmc::run::{self, Observer, Protocol};
use emberflow_core::model::PaperModel;
use emberflow_core::{StepStats, with_model_shape};

pub use emberflow_train::model_file::ModelFile;

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
    run::run(&model, &protocol, &mut collect)
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
            run::score(&model, &y)
        })
        .collect())
}

//! The host side of the shared protocol ([`emberflow_core::mcmc::run`]):
//! `emberflow sample`, `emberflow energy` and the parity checks of `cargo xtask test` all call
//! [`sample_model`] and [`score_model`], which run the very code the firmware runs, on
//! emberflow-core, for any model shape within the run-time limits (`emberflow_core::runtime`).

use super::report::{ChainSummary, Sample};
use super::settings::SampleSettings;
use anyhow::{Result, anyhow, bail};
use emberflow_core::StepStats;
use emberflow_core::mcmc::run::{self, Observer, Protocol};
use emberflow_train::eval::with_networks;

pub use emberflow_train::eval::{model_from_bytes, read_model};
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
/// program does with the same model and settings, bit for bit), on the file's run-time shaped
/// networks: any shape within the run-time limits.
pub fn sample_model(model: &ModelFile, settings: &SampleSettings) -> Result<Sampled> {
    with_networks(model, |energy, flow, header| {
        let protocol = settings.protocol(&header.sampler)?;
        let mut collect = Collect::default();
        collect
            .samples
            .reserve(usize::from(protocol.run.chains) * protocol.run.n as usize);
        let mut buffer = vec![0.0f32; run::run_len(energy, flow)];
        run::run(
            energy,
            flow,
            &header.normalization,
            &protocol,
            &mut collect,
            &mut buffer,
        )
        .map_err(|e| anyhow!("invalid kernel settings: {e}"))?;
        Ok(Sampled {
            protocol,
            samples: collect.samples,
            chains: collect.chains,
        })
    })
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
    with_networks(model, |energy, _, header| {
        let mut buffer = vec![0.0f32; run::score_len(energy)];
        Ok(points
            .iter()
            .map(|p| run::score(energy, &header.normalization, p, &mut buffer))
            .collect())
    })
}

#[derive(Default)]
struct Collect {
    samples: Vec<Sample>,
    chains: Vec<ChainSummary>,
}

impl Observer for Collect {
    fn sample(&mut self, chain: u16, index: u32, x: &[f32]) {
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

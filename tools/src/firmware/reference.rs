//! The host side of the parity check: the firmware's sampling and scoring protocols, run on
//! emberflow-core directly (no firmware code involved).

use super::DIM;
use super::protocol::{ChainSummary, Sample};
use super::settings::SampleSettings;
use anyhow::{Result, anyhow};
use emberflow_core::testing::{demo_energy_2d, demo_flow_2d};
use emberflow_core::{Energy, Flow, FlowMc, StepStats, Xoshiro128PlusPlus};

/// The samples and chain counts the `sample` program must produce for `settings`.
///
/// Protocol (documented in `firmware/src/bin/sample.rs`): demo models of `model_seed`; for
/// each chain `c` in order, `rng = Xoshiro128PlusPlus::stream(seed, c)`, `x0 ~ flow`,
/// `warmup` adapting sweeps, then `n` sweeps with adaptation frozen, recording the state
/// after each.
pub fn reference_samples(settings: &SampleSettings) -> Result<(Vec<Sample>, Vec<ChainSummary>)> {
    settings.validate()?;
    let energy = demo_energy_2d(settings.model_seed);
    let flow = demo_flow_2d(settings.model_seed);
    let err = |e: emberflow_core::Error| anyhow!("invalid kernel settings: {e}");
    let warm = FlowMc::<DIM, _, _>::new(&energy, &flow, settings.warmup_kernel()).map_err(err)?;
    let run = FlowMc::<DIM, _, _>::new(&energy, &flow, settings.sampling_kernel()).map_err(err)?;

    let mut samples = Vec::with_capacity(usize::from(settings.chains) * settings.n as usize);
    let mut chains = Vec::with_capacity(usize::from(settings.chains));
    for c in 0..settings.chains {
        let mut rng = Xoshiro128PlusPlus::stream(settings.seed, u32::from(c));
        let mut x0 = [0.0f32; DIM];
        flow.sample(&mut rng, &mut x0);
        let mut chain = warm.chain(x0, settings.step_size);
        let mut discarded = StepStats::default();
        for _ in 0..settings.warmup {
            warm.sweep(&mut chain, &mut rng, &mut discarded);
        }
        let mut stats = StepStats::default();
        for i in 0..settings.n {
            run.sweep(&mut chain, &mut rng, &mut stats);
            samples.push(Sample {
                chain: c,
                index: i,
                x: chain.x.to_vec(),
            });
        }
        chains.push(ChainSummary {
            chain: c,
            local_proposed: stats.local_proposed,
            local_accepted: stats.local_accepted,
            global_proposed: stats.global_proposed,
            global_accepted: stats.global_accepted,
            nonfinite: stats.nonfinite,
            step_size: chain.step_size,
        });
    }
    Ok((samples, chains))
}

/// `U(x)` of the demo energy of `model_seed` at each point (what the `energy` program sends).
pub fn reference_energies(model_seed: u64, points: &[[f32; DIM]]) -> Vec<f32> {
    let energy = demo_energy_2d(model_seed);
    points.iter().map(|x| energy.energy(x)).collect()
}

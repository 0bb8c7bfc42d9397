//! FlowMC sampling on the MCU; the samples go to the host as defmt frames.
//!
//! The protocol (the host reference in `tools/src/firmware/reference.rs` follows it exactly,
//! and `cargo xtask test` checks the two agree bit for bit):
//!
//! 1. Build the models (for now the demo 2-D models of `MODEL_SEED`).
//! 2. For each chain `c` in `0..CHAINS`, in order, with `rng = Xoshiro128PlusPlus::stream(SEED, c)`:
//!    1. `x0 ~ flow` (`Flow::sample` with `rng`), the chain at `x0` with step size `STEP_SIZE`;
//!    2. `WARMUP` sweeps with adaptation (counts discarded);
//!    3. `N` sweeps with adaptation frozen (exact MCMC), sending the state after each.
//!
//! Then per-chain counts, the cost per MALA step and per global move (measured on the recorded
//! sweeps only) and the stack high-water mark. Settings: see `emberflow_firmware::config`.

#![no_std]
#![no_main]

use emberflow_core::models::Energy2d;
use emberflow_core::{Flow, FlowMc, GlobalMove, StepStats, Xoshiro128PlusPlus};
use emberflow_firmware::cost::{Counter, Tally};
use emberflow_firmware::{build_config, exit, models, or_exit, wire};

const D: usize = 2;

#[cortex_m_rt::entry]
fn main() -> ! {
    let cfg = or_exit(build_config!().sample(), "invalid build configuration");
    let counter = Counter::start();
    let (energy, flow) = models::demo_2d(cfg.model_seed);
    let warm = or_exit(
        FlowMc::<D, Energy2d, _>::new(energy, flow, cfg.warmup_kernel()),
        "invalid kernel settings",
    );
    let run = or_exit(
        FlowMc::<D, Energy2d, _>::new(energy, flow, cfg.sampling_kernel()),
        "invalid kernel settings",
    );
    wire::begin_sample(D, &cfg);

    // Position in a round: the global move (if any) opens it, then the MALA steps.
    let has_global = cfg.schedule.global != GlobalMove::None;
    let round_len = u32::from(has_global) + u32::from(cfg.schedule.mala_steps);
    let (mut mala, mut global) = (Tally::default(), Tally::default());
    let mut records = 0u64;

    for c in 0..cfg.chains {
        let mut rng = Xoshiro128PlusPlus::stream(cfg.seed, u32::from(c));
        let mut x0 = [0.0f32; D];
        flow.sample(&mut rng, &mut x0);
        let mut chain = warm.chain(x0, cfg.step_size);
        let mut discarded = StepStats::default();
        for _ in 0..cfg.warmup {
            warm.sweep(&mut chain, &mut rng, &mut discarded);
        }
        let mut stats = StepStats::default();
        for i in 0..cfg.n {
            let mut pos = 0u32;
            let mut last = counter.now();
            run.sweep_observed(&mut chain, &mut rng, &mut stats, |_| {
                let units = counter.since(last);
                if has_global && pos == 0 {
                    global.add(units);
                } else {
                    mala.add(units);
                }
                pos = if pos + 1 == round_len { 0 } else { pos + 1 };
                last = counter.now();
            });
            wire::sample(c, i, &chain.x);
            records += 1;
        }
        wire::chain(c, &stats, chain.step_size);
    }

    wire::cost("mala", &mala);
    if has_global {
        wire::cost("global", &global);
    }
    wire::memory();
    wire::end(records);
    exit(emberflow_firmware::EXIT_OK)
}

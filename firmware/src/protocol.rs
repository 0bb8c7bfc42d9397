//! The sampling and scoring protocol, one source for the MCU and the host.
//!
//! This file is compiled into the firmware (`emberflow_firmware::protocol`) and, unchanged, into
//! the host tools (`tools/src/firmware/mod.rs` includes it with `#[path]`): `emberflow sample`,
//! `emberflow energy`, the parity checks of `cargo xtask test` and the programs on the
//! Cortex-M4F all run [`run`] and [`score`], so the same model file, seed and settings give the
//! same bits everywhere. It depends on `emberflow_core` only.
//!
//! # Sampling ([`run`])
//!
//! 1. The settings ([`Protocol::new`]): the sampler settings stored in the model file, each
//!    replaced by its [`Overrides`] entry when there is one (build-time `EMBERFLOW_*` variables
//!    on the MCU, command-line options on the host), plus the [`Run`] (seed, chains, samples,
//!    warm-up).
//! 2. For each chain `c` in `0..chains`, in order, with
//!    `rng = Xoshiro128PlusPlus::stream(seed, c)`:
//!    1. `x0 ~ flow` (`Flow::sample` with `rng`); the chain starts at `x0` with step size `η`;
//!    2. `warmup` sweeps of the warm-up kernel (the adaptation as set; counts discarded);
//!    3. `n` sweeps with the adaptation frozen (exact MCMC); after sweep `i` the state, mapped
//!       to data units (`to_data`), is sample `i` of chain `c`.
//!
//! # Scoring ([`score`])
//!
//! A point `y` in data units is mapped to model space, `x = from_data(y)`, and scored with
//! the tilted energy: `U(x) = E_θ(x) − ln ρ(x) = −ln π(x) + const` (unnormalised). As a
//! density over data units, `−ln p(y) = U(x) + ln Z + Σ_j ln scale_j`: the last term is the
//! log-Jacobian of the normalisation, the same for every point.

use emberflow_core::model::{Encodings, PaperModel, SamplerSpec};
use emberflow_core::{
    Adaptation, Energy, Error, Flow, FlowMc, FlowMcConfig, GlobalMove, Schedule, StepStats,
    Xoshiro128PlusPlus,
};

/// A change to the model's step-size adaptation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Adapt {
    /// No adaptation during warm-up.
    Off,
    /// The model's adaptation rule, or the default rule if the model has none.
    On,
    /// That rule with this target acceptance in (0, 1).
    Target(f32),
}

/// Settings that replace the model's own; `None` keeps the model's.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Overrides {
    /// The global move.
    pub global: Option<GlobalMove>,
    /// MALA steps per round `K`.
    pub mala_steps: Option<u16>,
    /// Rounds per sweep `R`.
    pub rounds: Option<u16>,
    /// Initial MALA step size `η`.
    pub step_size: Option<f32>,
    /// Warm-up adaptation.
    pub adapt: Option<Adapt>,
}

/// What to sample: seed, number of chains and samples, warm-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// Sampling seed; chain `c` draws from `Xoshiro128PlusPlus::stream(seed, c)`.
    pub seed: u64,
    /// Number of chains (≥ 1).
    pub chains: u16,
    /// Samples per chain, one per sweep (≥ 1).
    pub n: u32,
    /// Adapting warm-up sweeps per chain (not recorded).
    pub warmup: u32,
}

/// The checked settings of one sampling run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Protocol {
    /// Seed, chains, samples, warm-up.
    pub run: Run,
    /// The sweep `(1 global + K MALA) × R`.
    pub schedule: Schedule,
    /// Initial MALA step size.
    pub step_size: f32,
    /// Step-size adaptation during warm-up (sampling is always exact: adaptation frozen).
    pub adaptation: Option<Adaptation>,
}

impl Protocol {
    /// The model's sampler settings `model` with `overrides`, for `run`. Fails
    /// ([`Error::InvalidSetting`]) unless there is at least one chain, sample and round, a
    /// sweep has a step (a global move or `K ≥ 1`), the step size is finite and positive and
    /// the kernel settings are valid (i-SIR `N ≥ 2`, adaptation in range).
    pub fn new(model: &SamplerSpec, overrides: &Overrides, run: Run) -> Result<Self, Error> {
        let schedule = Schedule {
            global: overrides.global.unwrap_or(model.global),
            mala_steps: overrides.mala_steps.unwrap_or(model.mala_steps),
            rounds: overrides.rounds.unwrap_or(model.rounds),
        };
        let rule = model.adaptation.unwrap_or_default();
        let adaptation = match overrides.adapt {
            None => model.adaptation,
            Some(Adapt::Off) => None,
            Some(Adapt::On) => Some(rule),
            Some(Adapt::Target(target)) => Some(Adaptation { target, ..rule }),
        };
        let protocol = Self {
            run,
            schedule,
            step_size: overrides.step_size.unwrap_or(model.step_size),
            adaptation,
        };
        let sweeps = run.chains > 0 && run.n > 0 && schedule.rounds > 0;
        let steps = schedule.global != GlobalMove::None || schedule.mala_steps > 0;
        let eta = protocol.step_size;
        if !(sweeps && steps && eta.is_finite() && eta > 0.0) {
            return Err(Error::InvalidSetting);
        }
        protocol.warmup_kernel().validate()?;
        Ok(protocol)
    }

    /// The kernel settings of the warm-up sweeps.
    pub fn warmup_kernel(&self) -> FlowMcConfig {
        FlowMcConfig {
            schedule: self.schedule,
            adaptation: self.adaptation,
        }
    }

    /// The kernel settings of the recorded sweeps (adaptation frozen).
    pub fn sampling_kernel(&self) -> FlowMcConfig {
        FlowMcConfig {
            schedule: self.schedule,
            adaptation: None,
        }
    }
}

/// The kind of a step within a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The global move opening a round.
    Global,
    /// A MALA step.
    Mala,
}

/// What [`run`] reports.
pub trait Observer<const D: usize> {
    /// A recorded sweep is about to start.
    fn sweep_start(&mut self) {}
    /// A step of a recorded sweep has just finished.
    fn step(&mut self, _kind: Step) {}
    /// Sample `index` of chain `chain`, in data units.
    fn sample(&mut self, chain: u16, index: u32, x: &[f32; D]);
    /// Chain `chain` is done: its counts over the recorded sweeps and its final step size.
    fn chain_end(&mut self, chain: u16, stats: &StepStats, step_size: f32);
}

/// Run the sampling protocol (see the [module documentation](self)) on `model`.
///
/// Not inlined: on the MCU its frame (the kernels, the chain) then exists only while sampling,
/// not during the model's decoding, which keeps the stack high-water mark down.
#[inline(never)]
pub fn run<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
    E: Encodings,
    O: Observer<D>,
>(
    model: &PaperModel<'_, D, A, B, H, K, E>,
    protocol: &Protocol,
    observer: &mut O,
) -> Result<(), Error> {
    let warm = FlowMc::new(&model.energy, &model.flow, protocol.warmup_kernel())?;
    let sampling = FlowMc::new(&model.energy, &model.flow, protocol.sampling_kernel())?;
    let has_global = protocol.schedule.global != GlobalMove::None;
    let round_len = u32::from(has_global) + u32::from(protocol.schedule.mala_steps);
    let Run {
        seed,
        chains,
        n,
        warmup,
    } = protocol.run;
    for c in 0..chains {
        let mut rng = Xoshiro128PlusPlus::stream(seed, u32::from(c));
        let mut x0 = [0.0f32; D];
        model.flow.sample(&mut rng, &mut x0);
        let mut chain = warm.chain(x0, protocol.step_size);
        let mut discarded = StepStats::default();
        for _ in 0..warmup {
            warm.sweep(&mut chain, &mut rng, &mut discarded);
        }
        let mut stats = StepStats::default();
        for i in 0..n {
            let mut pos = 0u32;
            observer.sweep_start();
            sampling.sweep_observed(&mut chain, &mut rng, &mut stats, |_| {
                observer.step(if has_global && pos == 0 {
                    Step::Global
                } else {
                    Step::Mala
                });
                pos = if pos + 1 == round_len { 0 } else { pos + 1 };
            });
            let mut x = chain.x;
            model.to_data(&mut x);
            observer.sample(c, i, &x);
        }
        observer.chain_end(c, &stats, chain.step_size);
    }
    Ok(())
}

/// `U(from_data(y))`: the unnormalised `−ln π` of the point `y` given in data units (see the
/// [module documentation](self) for the normalisation's log-Jacobian).
pub fn score<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
    E: Encodings,
>(
    model: &PaperModel<'_, D, A, B, H, K, E>,
    y: &[f32; D],
) -> f32 {
    let mut x = *y;
    model.from_data(&mut x);
    model.energy.energy(&x)
}

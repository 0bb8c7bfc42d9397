//! The sampling and scoring protocol, one source for the MCU and the host.
//!
//! `emberflow sample`, `emberflow energy`, the parity checks of `cargo xtask test` and the
//! programs on the Cortex-M4F all run [`run`] and [`score`], so the same model file, seed and
//! settings give the same bits everywhere. The settings' text form ([`parse_global`],
//! [`parse_adapt`], and `Display` of [`GlobalMove`] and [`Adapt`]) is defined here too, once:
//! the firmware evaluates the parsers at compile time (`const fn`) on its `EMBERFLOW_*` build
//! variables, the host at run time on its command-line options.
//!
//! # Sampling ([`run`])
//!
//! 1. The settings ([`Protocol::new`]): the sampler settings stored in the model file, each
//!    replaced by its [`Overrides`] entry when there is one (build-time `EMBERFLOW_*` variables
//!    on the MCU, command-line options on the host), plus the [`Run`] (seed, chains, samples,
//!    warm-up).
//! 2. For each chain `c` in `0..chains`, in order, with
//!    `rng = Xoshiro128PlusPlus::stream(seed, c)`:
//!    1. `x0 ~ flow` (`Proposal::sample` with `rng`); the chain starts at `x0` with step size `η`;
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
//!
//! # Shapes and memory
//!
//! Both run over a [`Potential`] and a [`Proposal`] whose dimension is known at run time (a
//! model file's networks, [`crate::runtime::FileModel`], or a typed energy and flow through
//! [`super::Fixed`]), with the kernels of [`Sampler`], on a caller buffer of [`run_len`]
//! (sampling) or [`score_len`] (scoring) floats: no heap, and any shape within the run-time
//! limits.

use super::target::{Potential, Proposal};
use super::{
    Adaptation, ChainView, FlowMcConfig, GlobalMove, Sampler, Schedule, StepStats, imh_scratch_len,
    isir_scratch_len, mala_scratch_len,
};
use crate::error::Error;
use crate::model::{Normalization, SamplerSpec};
use crate::random::Xoshiro128PlusPlus;
use core::fmt;

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
pub trait Observer {
    /// A recorded sweep is about to start.
    fn sweep_start(&mut self) {}
    /// A step of a recorded sweep has just finished.
    fn step(&mut self, _kind: Step) {}
    /// Sample `index` of chain `chain`, in data units (`d` values).
    fn sample(&mut self, chain: u16, index: u32, x: &[f32]);
    /// Chain `chain` is done: its counts over the recorded sweeps and its final step size.
    fn chain_end(&mut self, chain: u16, stats: &StepStats, step_size: f32);
}

/// Floats of the buffer [`run`] needs for `target` and `flow`: the chain
/// ([`ChainView::buffer_len`]), the sample in data units (`d`) and the kernels' scratch (the
/// largest of [`Sampler::scratch_len`] and the flow's draw).
pub fn run_len<U: Potential + ?Sized, F: Proposal + ?Sized>(target: &U, flow: &F) -> usize {
    let d = target.dim();
    let kernels = mala_scratch_len(target)
        .max(imh_scratch_len(target, flow))
        .max(isir_scratch_len(target, flow))
        .max(flow.scratch_len());
    ChainView::buffer_len(d) + d + kernels
}

/// Floats of the buffer [`score`] needs for `target`: the point in model space (`d`) and the
/// energy's scratch.
pub fn score_len<U: Potential + ?Sized>(target: &U) -> usize {
    target.dim() + target.scratch_len()
}

fn too_small(needed: usize) -> Error {
    Error::BufferTooSmall {
        needed: (4 * needed).min(u32::MAX as usize) as u32,
    }
}

/// Run the sampling protocol (see the [module documentation](self)) on the tilted energy
/// `target` and the flow `flow` of a model whose normalisation is `normalization`, with
/// `buffer` (at least [`run_len`] floats) for the chain and the kernels' scratch.
/// [`Error::BufferTooSmall`] for a shorter buffer, [`Error::WrongDimension`] if the
/// dimensions differ, [`Error::InvalidSetting`] for bad kernel settings.
///
/// Not inlined: on the MCU its frame (the kernels, the chain) then exists only while sampling,
/// not during the model's decoding, which keeps the stack high-water mark down.
#[inline(never)]
pub fn run<U: Potential + ?Sized, F: Proposal + ?Sized, O: Observer + ?Sized>(
    target: &U,
    flow: &F,
    normalization: &Normalization<'_>,
    protocol: &Protocol,
    observer: &mut O,
    buffer: &mut [f32],
) -> Result<(), Error> {
    let warm = Sampler::new(target, flow, protocol.warmup_kernel())?;
    let sampling = Sampler::new(target, flow, protocol.sampling_kernel())?;
    let d = target.dim();
    let needed = run_len(target, flow);
    let buffer = buffer.get_mut(..needed).ok_or(too_small(needed))?;
    let (chain_buf, rest) = buffer.split_at_mut(ChainView::buffer_len(d));
    let (x, scratch) = rest.split_at_mut(d);
    let mut chain = ChainView::from_buffer(d, chain_buf).ok_or(too_small(needed))?;
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
        flow.sample(&mut rng, x, scratch);
        warm.start(&mut chain, x, protocol.step_size, scratch);
        let mut discarded = StepStats::default();
        for _ in 0..warmup {
            warm.sweep(&mut chain, &mut rng, &mut discarded, scratch);
        }
        let mut stats = StepStats::default();
        for i in 0..n {
            let mut pos = 0u32;
            observer.sweep_start();
            sampling.sweep_observed(&mut chain, &mut rng, &mut stats, scratch, |_| {
                observer.step(if has_global && pos == 0 {
                    Step::Global
                } else {
                    Step::Mala
                });
                pos = if pos + 1 == round_len { 0 } else { pos + 1 };
            });
            x.copy_from_slice(chain.x);
            normalization.to_data(x);
            observer.sample(c, i, x);
        }
        observer.chain_end(c, &stats, *chain.step_size);
    }
    Ok(())
}

/// `U(from_data(y))`: the unnormalised `−ln π` of the point `y` given in data units (see the
/// [module documentation](self) for the normalisation's log-Jacobian), with `buffer` (at
/// least [`score_len`] floats). NaN if `y` is not `d` values or `buffer` is shorter.
pub fn score<U: Potential + ?Sized>(
    target: &U,
    normalization: &Normalization<'_>,
    y: &[f32],
    buffer: &mut [f32],
) -> f32 {
    let d = target.dim();
    if y.len() != d || buffer.len() < score_len(target) {
        return f32::NAN;
    }
    let (x, scratch) = buffer.split_at_mut(d);
    x.copy_from_slice(y);
    normalization.from_data(x);
    target.energy(x, scratch)
}

// ---- the settings' text form -------------------------------------------------------------

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn decimal_bytes(b: &[u8], max: u64) -> Option<u64> {
    let digits = match b {
        [b'+', rest @ ..] => rest,
        _ => b,
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    let mut i = 0;
    while i < digits.len() {
        let d = digits[i];
        if !d.is_ascii_digit() {
            return None;
        }
        v = match v.checked_mul(10) {
            Some(v) => match v.checked_add((d - b'0') as u64) {
                Some(v) => v,
                None => return None,
            },
            None => return None,
        };
        i += 1;
    }
    if v > max { None } else { Some(v) }
}

/// A decimal integer at most `max`: an optional `+`, then digits (surrounding ASCII white space
/// ignored). `None` for anything else.
pub const fn parse_decimal(s: &str, max: u64) -> Option<u64> {
    decimal_bytes(s.as_bytes().trim_ascii(), max)
}

/// Parse a global move: `none`, `imh`, `isir` (64 particles) or `isir:N` with
/// `2 ≤ N ≤ 65535` (surrounding ASCII white space ignored); [`Error::InvalidSetting`] for
/// anything else. The inverse of `GlobalMove`'s `Display`.
pub const fn parse_global(s: &str) -> Result<GlobalMove, Error> {
    let t = s.as_bytes().trim_ascii();
    if same(t, b"none") {
        Ok(GlobalMove::None)
    } else if same(t, b"imh") {
        Ok(GlobalMove::Imh)
    } else if same(t, b"isir") {
        Ok(GlobalMove::Isir { particles: 64 })
    } else {
        match t {
            [b'i', b's', b'i', b'r', b':', n @ ..] => match decimal_bytes(n, u16::MAX as u64) {
                Some(particles) if particles >= 2 => Ok(GlobalMove::Isir {
                    particles: particles as u16,
                }),
                _ => Err(Error::InvalidSetting),
            },
            _ => Err(Error::InvalidSetting),
        }
    }
}

/// Parse a warm-up adaptation: `off` (or `none`), `on` (or `default`), `optimal` (the target
/// [`Adaptation::OPTIMAL_MALA_TARGET`]) or a target acceptance in (0, 1) (surrounding ASCII
/// white space ignored); [`Error::InvalidSetting`] for anything else.
///
/// A number is read by the caller, `number` being `s`'s value if it is one (no float parsing
/// here, so this is a `const fn`: the firmware's build script derives the f32 bits, the host
/// uses `str::parse`).
pub const fn parse_adapt(s: &str, number: Option<f32>) -> Result<Adapt, Error> {
    let t = s.as_bytes().trim_ascii();
    if same(t, b"off") || same(t, b"none") {
        Ok(Adapt::Off)
    } else if same(t, b"on") || same(t, b"default") {
        Ok(Adapt::On)
    } else if same(t, b"optimal") {
        Ok(Adapt::Target(Adaptation::OPTIMAL_MALA_TARGET))
    } else {
        match number {
            Some(target) if target > 0.0 && target < 1.0 => Ok(Adapt::Target(target)),
            _ => Err(Error::InvalidSetting),
        }
    }
}

/// `none`, `imh` or `isir:N`.
impl fmt::Display for GlobalMove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlobalMove::None => f.write_str("none"),
            GlobalMove::Imh => f.write_str("imh"),
            GlobalMove::Isir { particles } => write!(f, "isir:{particles}"),
        }
    }
}

/// `off`, `on` or the target in Rust's shortest round-trip form (so it parses back to the same
/// bits).
impl fmt::Display for Adapt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Adapt::Off => f.write_str("off"),
            Adapt::On => f.write_str("on"),
            Adapt::Target(t) => write!(f, "{t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_moves_parse_and_print() {
        for (s, g) in [
            ("none", GlobalMove::None),
            (" imh\t", GlobalMove::Imh),
            ("isir", GlobalMove::Isir { particles: 64 }),
            ("isir:2", GlobalMove::Isir { particles: 2 }),
            ("isir:+65535", GlobalMove::Isir { particles: 65535 }),
        ] {
            assert_eq!(parse_global(s), Ok(g), "{s}");
            assert_eq!(parse_global(&std::format!("{g}")), Ok(g));
        }
        for s in [
            "",
            "isir:",
            "isir:1",
            "isir:65536",
            "isir: 5",
            "isir:x",
            "IMH",
            "mala",
        ] {
            assert_eq!(parse_global(s), Err(Error::InvalidSetting), "{s}");
        }
        const G: GlobalMove = match parse_global("isir:8") {
            Ok(g) => g,
            Err(_) => panic!("const evaluation"),
        };
        assert_eq!(G, GlobalMove::Isir { particles: 8 });
    }

    #[test]
    fn adaptations_parse_and_print() {
        assert_eq!(parse_adapt("off", None), Ok(Adapt::Off));
        assert_eq!(parse_adapt("none", None), Ok(Adapt::Off));
        assert_eq!(parse_adapt(" on ", None), Ok(Adapt::On));
        assert_eq!(parse_adapt("default", None), Ok(Adapt::On));
        assert_eq!(
            parse_adapt("optimal", None),
            Ok(Adapt::Target(Adaptation::optimal_mala().target))
        );
        assert_eq!(parse_adapt("0.6", Some(0.6)), Ok(Adapt::Target(0.6)));
        for (s, n) in [
            ("0", Some(0.0)),
            ("1", Some(1.0)),
            ("x", None),
            ("nan", Some(f32::NAN)),
        ] {
            assert_eq!(parse_adapt(s, n), Err(Error::InvalidSetting), "{s}");
        }
        for a in [
            Adapt::Off,
            Adapt::On,
            Adapt::Target(0.574),
            Adapt::Target(0.1 + 0.2),
        ] {
            let s = std::format!("{a}");
            assert_eq!(parse_adapt(&s, s.parse().ok()), Ok(a));
        }
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal(" +42 ", 100), Some(42));
        assert_eq!(parse_decimal("101", 100), None);
        assert_eq!(parse_decimal("18446744073709551616", u64::MAX), None);
        assert_eq!(parse_decimal("", 1), None);
        assert_eq!(parse_decimal("-1", 1), None);
    }
}

//! The frames the host reads (`tools/src/firmware/protocol.rs` parses them).
//!
//! Data frames use `defmt::println!` (never filtered by `DEFMT_LOG`); each message is a tag
//! followed by `key=value` fields. Floats travel as their IEEE-754 bits (`u32`), so the host
//! gets exactly the value the MCU computed. Format strings are interned by defmt, so the
//! field names cost nothing on the wire.
//!
//! | tag | fields |
//! |---|---|
//! | `ef:begin` | `program d chains n warmup seed model_seed global particles mala_steps rounds step_size adapt unit` |
//! | `ef:s` | `c` chain, `i` sample index, `x` bits of the state after sweep `i` |
//! | `ef:chain` | `c local_proposed local_accepted global_proposed global_accepted nonfinite step_size` |
//! | `ef:e` | `i` point index, `x` bits of the point, `u` bits of `U(x) = −ln π(x)` (unnormalised) |
//! | `ef:cost` | `kind` (`mala`, `global`, `energy`) `unit count total min max` |
//! | `ef:memory` | `stack` high-water mark and `stack_capacity`, bytes |
//! | `ef:end` | `records` data records sent |
//!
//! Errors are `defmt::error!` frames; the program then exits non-zero.

use crate::config::SampleConfig;
use crate::cost::{Tally, UNIT};
use emberflow_core::{GlobalMove, StepStats};

/// `ef:begin` for the `sample` program.
pub fn begin_sample(d: usize, cfg: &SampleConfig) {
    let (global, particles) = match cfg.schedule.global {
        GlobalMove::None => ("none", 0),
        GlobalMove::Imh => ("imh", 1),
        GlobalMove::Isir { particles } => ("isir", particles),
    };
    let adapt = cfg.adaptation.map_or(0, |a| a.target.to_bits());
    defmt::println!(
        "ef:begin program=sample d={=usize} chains={=u16} n={=u32} warmup={=u32} seed={=u64} model_seed={=u64} global={=str} particles={=u16} mala_steps={=u16} rounds={=u16} step_size={=u32} adapt={=u32} unit={=str}",
        d,
        cfg.chains,
        cfg.n,
        cfg.warmup,
        cfg.seed,
        cfg.model_seed,
        global,
        particles,
        cfg.schedule.mala_steps,
        cfg.schedule.rounds,
        cfg.step_size.to_bits(),
        adapt,
        UNIT
    );
}

/// `ef:begin` for the `energy` program.
pub fn begin_energy(d: usize, model_seed: u64) {
    defmt::println!(
        "ef:begin program=energy d={=usize} model_seed={=u64} unit={=str}",
        d,
        model_seed,
        UNIT
    );
}

/// `ef:s`: the state of chain `chain` after sweep `index`.
#[inline]
pub fn sample<const D: usize>(chain: u16, index: u32, x: &[f32; D]) {
    let bits = x.map(f32::to_bits);
    defmt::println!("ef:s c={=u16} i={=u32} x={=[?]}", chain, index, &bits[..]);
}

/// `ef:chain`: a chain's counts over its recorded sweeps, and its final step size.
pub fn chain(chain: u16, stats: &StepStats, step_size: f32) {
    defmt::println!(
        "ef:chain c={=u16} local_proposed={=u64} local_accepted={=u64} global_proposed={=u64} global_accepted={=u64} nonfinite={=u64} step_size={=u32}",
        chain,
        stats.local_proposed,
        stats.local_accepted,
        stats.global_proposed,
        stats.global_accepted,
        stats.nonfinite,
        step_size.to_bits()
    );
}

/// `ef:e`: `U(x)` at point `index`.
#[inline]
pub fn energy<const D: usize>(index: u32, x: &[f32; D], u: f32) {
    let bits = x.map(f32::to_bits);
    defmt::println!(
        "ef:e i={=u32} x={=[?]} u={=u32}",
        index,
        &bits[..],
        u.to_bits()
    );
}

/// `ef:cost`: what the measured steps of `kind` took.
pub fn cost(kind: &str, tally: &Tally) {
    defmt::println!(
        "ef:cost kind={=str} unit={=str} count={=u64} total={=u64} min={=u32} max={=u32}",
        kind,
        UNIT,
        tally.count,
        tally.total,
        tally.min,
        tally.max
    );
}

/// `ef:memory`: the stack high-water mark so far.
pub fn memory() {
    defmt::println!(
        "ef:memory stack={=u32} stack_capacity={=u32}",
        crate::stack::high_water_mark(),
        crate::stack::capacity()
    );
}

/// `ef:end`: the run is complete.
pub fn end(records: u64) {
    defmt::println!("ef:end records={=u64}", records);
}

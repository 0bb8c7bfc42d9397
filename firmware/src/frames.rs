//! The frames the host reads (`tools/src/firmware/report.rs` parses them).
//!
//! Data frames use `defmt::println!` (never filtered by `DEFMT_LOG`); each message is a tag
//! followed by `key=value` fields. Floats travel as their IEEE-754 bits (`u32`), so the host
//! gets exactly the value the MCU computed. Format strings are interned by defmt, so the
//! field names cost nothing on the wire.
//!
//! | tag | fields |
//! |---|---|
//! | `ef:begin` | `program model_crc d` and, for `sample`, `chains n warmup seed global particles mala_steps rounds step_size adapt` (the effective settings: the model's with the build's overrides), then `unit` |
//! | `ef:s` | `c` chain, `i` sample index, `x` bits of the state after sweep `i`, in data units |
//! | `ef:chain` | `c local_proposed local_accepted global_proposed global_accepted nonfinite step_size` |
//! | `ef:e` | `i` point index, `x` bits of the point (data units), `u` bits of `U = −ln π` (unnormalised, model space) |
//! | `ef:alarm` | `i` a point whose `U` is above the model's anomaly threshold (or not finite); `ef:begin` of the `energy` program then carries `threshold` (bits) |
//! | `ef:cost` | `kind` (`mala`, `global`, `energy`) `unit count total min max` |
//! | `ef:memory` | `stack` high-water mark and `stack_capacity`, bytes |
//! | `ef:end` | `records` data records sent |
//!
//! Errors are `defmt::error!` frames; the program then exits non-zero.

use crate::cost::{Tally, UNIT};
use emberflow_core::mcmc::run::Protocol;
use emberflow_core::{GlobalMove, StepStats};

/// `ef:begin` for the `sample` program: the model's CRC-32 and dimension, the settings in force.
pub fn begin_sample(model_crc: u32, d: usize, p: &Protocol) {
    let (global, particles) = match p.schedule.global {
        GlobalMove::None => ("none", 0),
        GlobalMove::Imh => ("imh", 1),
        GlobalMove::Isir { particles } => ("isir", particles),
    };
    let adapt = p.adaptation.map_or(0, |a| a.target.to_bits());
    defmt::println!(
        "ef:begin program=sample model_crc={=u32} d={=usize} chains={=u16} n={=u32} warmup={=u32} seed={=u64} global={=str} particles={=u16} mala_steps={=u16} rounds={=u16} step_size={=u32} adapt={=u32} unit={=str}",
        model_crc,
        d,
        p.run.chains,
        p.run.n,
        p.run.warmup,
        p.run.seed,
        global,
        particles,
        p.schedule.mala_steps,
        p.schedule.rounds,
        p.step_size.to_bits(),
        adapt,
        UNIT
    );
}

/// `ef:begin` for the `energy` program, with the model's anomaly threshold if it has one.
pub fn begin_energy(model_crc: u32, d: usize, threshold: Option<f32>) {
    match threshold {
        Some(t) => defmt::println!(
            "ef:begin program=energy model_crc={=u32} d={=usize} threshold={=u32} unit={=str}",
            model_crc,
            d,
            t.to_bits(),
            UNIT
        ),
        None => defmt::println!(
            "ef:begin program=energy model_crc={=u32} d={=usize} unit={=str}",
            model_crc,
            d,
            UNIT
        ),
    }
}

/// `ef:alarm`: point `index` is an anomaly (its energy is above the model's threshold).
#[inline]
pub fn alarm(index: u32) {
    defmt::println!("ef:alarm i={=u32}", index);
}

/// `ef:s`: the state of chain `chain` after sweep `index`.
#[inline]
pub fn sample(chain: u16, index: u32, x: &[f32]) {
    let bits = bits(x);
    defmt::println!(
        "ef:s c={=u16} i={=u32} x={=[?]}",
        chain,
        index,
        &bits[..x.len()]
    );
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
pub fn energy(index: u32, x: &[f32], u: f32) {
    let bits = bits(x);
    defmt::println!(
        "ef:e i={=u32} x={=[?]} u={=u32}",
        index,
        &bits[..x.len()],
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

/// The IEEE-754 bits of `x` (at most the model's dimension of values) in its first
/// `x.len()` entries.
#[inline]
fn bits(x: &[f32]) -> [u32; crate::model::D] {
    let mut bits = [0u32; crate::model::D];
    for (b, v) in bits.iter_mut().zip(x) {
        *b = v.to_bits();
    }
    bits
}

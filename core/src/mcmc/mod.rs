//! Persistent-chain MCMC: MALA, flow-proposed independent MH and i-SIR, the FlowMC schedule,
//! and the unadjusted Langevin algorithm ([`ula`], the one kernel that is not MH-corrected).
//!
//! Every other kernel targets `π ∝ exp(−U)` for a `U: Energy<D>` and is exactly MH-corrected, so with
//! adaptation frozen each one leaves π invariant. Every step consumes the same number of random
//! draws whatever happens (a rejected or non-finite proposal included), so one seed gives one
//! chain on every platform. A non-finite energy, gradient, density or state rejects the proposal
//! and is counted in [`StepStats::nonfinite`]; a chain state is never NaN.

mod adapt;
mod chain;
mod flowmc;
mod imh;
mod isir;
mod mala;
pub mod run;
mod sampler;
mod stats;
mod target;
mod ula;

pub use adapt::Adaptation;
pub use chain::{ChainState, ChainView};
pub use flowmc::{FlowMc, FlowMcConfig, GlobalMove, Schedule};
pub use imh::{imh, imh_scratch_len, imh_step};
pub use isir::{isir, isir_scratch_len, isir_step};
pub use mala::{mala, mala_scratch_len, mala_step};
pub use run::{Adapt, Observer, Overrides, Protocol, Run, Step, parse_adapt, parse_global};
pub use sampler::Sampler;
pub use stats::StepStats;
pub use target::{Fixed, Potential, Proposal};
pub use ula::{ula, ula_scratch_len};

#[inline]
fn all_finite(v: &[f32]) -> bool {
    v.iter().all(|x| x.is_finite())
}

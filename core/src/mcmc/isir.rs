//! Iterated sampling-importance-resampling (i-SIR) with the flow as proposal.
//!
//! The current state is particle 1; `N − 1` fresh flow draws join it; the next state is drawn
//! from the `N` particles with probability ∝ `w = exp(−U − ln λ)`. The draw is streamed: each
//! particle replaces the running choice with probability `w_j / Σ_{i≤j} w_i` (computed in log
//! space), which picks particle `j` with probability `w_j / Σ w` exactly while holding a single
//! candidate, so `N` is a run-time setting and no buffer of particles is needed.
//!
//! Random draws per step: `N − 1` flow samples and `N − 1` uniforms, always.

use super::{ChainState, StepStats, all_finite};
use crate::energy::Energy;
use crate::flow::Flow;
use crate::math;
use crate::random::log_uniform;
use rand_core::RngCore;

/// One i-SIR step with `particles` particles (the current state included; at least 2);
/// returns whether the chain moved to a new particle.
#[inline]
pub fn isir_step<const D: usize, U, F, R>(
    target: &U,
    flow: &F,
    chain: &mut ChainState<D>,
    particles: u16,
    rng: &mut R,
    stats: &mut StepStats,
) -> bool
where
    U: Energy<D> + ?Sized,
    F: Flow<D> + ?Sized,
    R: RngCore + ?Sized,
{
    let log_w_cur = -chain.energy - flow.log_density(&chain.x);
    let mut log_total = if log_w_cur.is_nan() {
        f32::NEG_INFINITY
    } else {
        log_w_cur
    };
    let mut candidate = [0.0f32; D];
    let mut chosen = [0.0f32; D];
    let mut moved = false;
    for _ in 1..particles {
        let log_lambda = flow.sample(rng, &mut candidate);
        let log_u = log_uniform(rng);
        let log_w = if log_lambda.is_finite() && all_finite(&candidate) {
            -target.energy(&candidate) - log_lambda
        } else {
            f32::NAN
        };
        if !log_w.is_finite() {
            stats.nonfinite += 1;
            continue;
        }
        log_total = math::log_add_exp(log_total, log_w);
        if log_u < log_w - log_total {
            chosen = candidate;
            moved = true;
        }
    }
    stats.global_proposed += 1;
    if moved {
        chain.move_to(target, &chosen);
        stats.global_accepted += 1;
    }
    moved
}

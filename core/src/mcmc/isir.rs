//! Iterated sampling-importance-resampling (i-SIR) with the flow as proposal.
//!
//! The current state is particle 1; `N − 1` fresh flow draws join it; the next state is drawn
//! from the `N` particles with probability ∝ `w = exp(−U − ln λ)`. The draw is streamed: each
//! particle replaces the running choice with probability `w_j / Σ_{i≤j} w_i` (computed in log
//! space), which picks particle `j` with probability `w_j / Σ w` exactly while holding a single
//! candidate, so `N` is a run-time setting and no buffer of particles is needed.
//!
//! Random draws per step: `N − 1` flow samples and `N − 1` uniforms, always.

use super::target::{Fixed, Potential, Proposal, take};
use super::{ChainState, ChainView, StepStats, all_finite};
use crate::energy::Energy;
use crate::flow::Flow;
use crate::math;
use crate::random::log_uniform;
use rand_core::RngCore;

/// Scratch floats [`isir`] needs: the candidate and the chosen particle (`2d`) and the larger
/// of the target's and the flow's own.
pub fn isir_scratch_len<U: Potential + ?Sized, F: Proposal + ?Sized>(
    target: &U,
    flow: &F,
) -> usize {
    2 * target.dim() + target.scratch_len().max(flow.scratch_len())
}

/// One i-SIR step with `particles` particles of a compile-time-shaped chain (the kernel is
/// [`isir`]).
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
    let mut scratch = [[0.0f32; D]; 2];
    isir(
        &Fixed::<U, D>(target),
        &Fixed::<F, D>(flow),
        &mut chain.view(),
        particles,
        rng,
        stats,
        scratch.as_flattened_mut(),
    )
}

/// One i-SIR step with `particles` particles (the current state and `particles − 1` flow
/// draws) on a chain over slices, with [`isir_scratch_len`] floats of `scratch`; returns
/// whether the chain moved.
#[inline]
pub fn isir<U, F, R>(
    target: &U,
    flow: &F,
    chain: &mut ChainView<'_>,
    particles: u16,
    rng: &mut R,
    stats: &mut StepStats,
    scratch: &mut [f32],
) -> bool
where
    U: Potential + ?Sized,
    F: Proposal + ?Sized,
    R: RngCore + ?Sized,
{
    let d = chain.x.len();
    let Some((pair, rest)) = take(scratch, 2 * d) else {
        stats.nonfinite += 1;
        return false;
    };
    let (candidate, chosen) = pair.split_at_mut(d);
    let log_w_cur = -*chain.energy - flow.log_density(chain.x, rest);
    let mut log_total = if log_w_cur.is_nan() {
        f32::NEG_INFINITY
    } else {
        log_w_cur
    };
    let mut moved = false;
    for _ in 1..particles {
        let log_lambda = flow.sample(rng, candidate, rest);
        let log_u = log_uniform(rng);
        let log_w = if log_lambda.is_finite() && all_finite(candidate) {
            -target.energy(candidate, rest) - log_lambda
        } else {
            f32::NAN
        };
        if !log_w.is_finite() {
            stats.nonfinite += 1;
            continue;
        }
        log_total = math::log_add_exp(log_total, log_w);
        if log_u < log_w - log_total {
            chosen.copy_from_slice(candidate);
            moved = true;
        }
    }
    stats.global_proposed += 1;
    if moved {
        chain.move_to(target, chosen, rest);
        stats.global_accepted += 1;
    }
    moved
}

//! Independent Metropolis–Hastings with the flow as proposal.
//!
//! ```text
//! x' ~ λ,   ln w(x) = −U(x) − ln λ(x),   ln α = ln w(x') − ln w(x)
//! ```
//! Random draws per step: one flow sample (`D` normals) and one uniform, always.

use super::target::{Fixed, Potential, Proposal, take};
use super::{ChainState, ChainView, StepStats, all_finite};
use crate::energy::Energy;
use crate::flow::Flow;
use crate::random::log_uniform;
use rand_core::RngCore;

/// Scratch floats [`imh`] needs: the proposal (`d`) and the larger of the target's and the
/// flow's own.
pub fn imh_scratch_len<U: Potential + ?Sized, F: Proposal + ?Sized>(target: &U, flow: &F) -> usize {
    target.dim() + target.scratch_len().max(flow.scratch_len())
}

/// One independent-MH step of a compile-time-shaped chain (the kernel is [`imh`]).
#[inline]
pub fn imh_step<const D: usize, U, F, R>(
    target: &U,
    flow: &F,
    chain: &mut ChainState<D>,
    rng: &mut R,
    stats: &mut StepStats,
) -> bool
where
    U: Energy<D> + ?Sized,
    F: Flow<D> + ?Sized,
    R: RngCore + ?Sized,
{
    let mut scratch = [0.0f32; D];
    imh(
        &Fixed::<U, D>(target),
        &Fixed::<F, D>(flow),
        &mut chain.view(),
        rng,
        stats,
        &mut scratch,
    )
}

/// One independent-MH step with the flow as proposal, on a chain over slices, with
/// [`imh_scratch_len`] floats of `scratch`; returns whether the proposal was accepted.
#[inline]
pub fn imh<U, F, R>(
    target: &U,
    flow: &F,
    chain: &mut ChainView<'_>,
    rng: &mut R,
    stats: &mut StepStats,
    scratch: &mut [f32],
) -> bool
where
    U: Potential + ?Sized,
    F: Proposal + ?Sized,
    R: RngCore + ?Sized,
{
    let Some((proposal, rest)) = take(scratch, chain.x.len()) else {
        stats.nonfinite += 1;
        return false;
    };
    let log_lambda = flow.sample(rng, proposal, rest);
    let log_u = log_uniform(rng);
    stats.global_proposed += 1;

    let log_w_new = if log_lambda.is_finite() && all_finite(proposal) {
        -target.energy(proposal, rest) - log_lambda
    } else {
        f32::NAN
    };
    if !log_w_new.is_finite() {
        stats.nonfinite += 1;
        return false;
    }
    let log_w_cur = -*chain.energy - flow.log_density(chain.x, rest);
    let log_w_cur = if log_w_cur.is_nan() {
        f32::NEG_INFINITY
    } else {
        log_w_cur
    };
    if log_u < log_w_new - log_w_cur {
        chain.move_to(target, proposal, rest);
        stats.global_accepted += 1;
        true
    } else {
        false
    }
}

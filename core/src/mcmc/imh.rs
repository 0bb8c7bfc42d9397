//! Independent Metropolis–Hastings with the flow as proposal.
//!
//! ```text
//! x' ~ λ,   ln w(x) = −U(x) − ln λ(x),   ln α = ln w(x') − ln w(x)
//! ```
//! Random draws per step: one flow sample (`D` normals) and one uniform, always.

use super::{ChainState, StepStats, all_finite};
use crate::energy::Energy;
use crate::flow::Flow;
use crate::random::log_uniform;
use rand_core::RngCore;

/// One independent MH step with proposal `flow`; returns whether the state moved.
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
    let mut proposal = [0.0f32; D];
    let log_lambda = flow.sample(rng, &mut proposal);
    let log_u = log_uniform(rng);
    stats.global_proposed += 1;

    let log_w_new = if log_lambda.is_finite() && all_finite(&proposal) {
        -target.energy(&proposal) - log_lambda
    } else {
        f32::NAN
    };
    if !log_w_new.is_finite() {
        stats.nonfinite += 1;
        return false;
    }
    let log_w_cur = -chain.energy - flow.log_density(&chain.x);
    let log_w_cur = if log_w_cur.is_nan() {
        f32::NEG_INFINITY
    } else {
        log_w_cur
    };
    if log_u < log_w_new - log_w_cur {
        chain.move_to(target, &proposal);
        stats.global_accepted += 1;
        true
    } else {
        false
    }
}

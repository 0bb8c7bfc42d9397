//! The Metropolis-adjusted Langevin step.
//!
//! ```text
//! x' = x − η∇U(x) + √(2η) ξ,   ξ ~ N(0, I)
//! ln α = U(x) − U(x') + ln q(x|x') − ln q(x'|x),   ln q(b|a) = −‖b − a + η∇U(a)‖² / 4η
//! ```
//! Random draws per step: `D` normals (⌈D/2⌉ Box–Muller pairs) and one uniform, always.

use super::target::{Fixed, Potential, take};
use super::{Adaptation, ChainState, ChainView, StepStats, all_finite};
use crate::energy::Energy;
use crate::random::{fill_standard_normal, log_uniform};
use crate::{kernels, math};
use rand_core::RngCore;

/// Scratch floats [`mala`] needs for `target`: five vectors of `d` and the target's own.
pub fn mala_scratch_len<U: Potential + ?Sized>(target: &U) -> usize {
    5 * target.dim() + target.scratch_len()
}

/// One MALA step of a compile-time-shaped chain (the kernel is [`mala`]); returns whether the
/// proposal was accepted. With `adapt`, the chain's step size is updated afterwards.
#[inline]
pub fn mala_step<const D: usize, U, R>(
    target: &U,
    chain: &mut ChainState<D>,
    rng: &mut R,
    adapt: Option<&Adaptation>,
    stats: &mut StepStats,
) -> bool
where
    U: Energy<D> + ?Sized,
    R: RngCore + ?Sized,
{
    let mut scratch = [[0.0f32; D]; 5];
    mala(
        &Fixed::<U, D>(target),
        &mut chain.view(),
        rng,
        adapt,
        stats,
        scratch.as_flattened_mut(),
    )
}

/// One MALA step on a chain over slices, with [`mala_scratch_len`] floats of `scratch`;
/// returns whether the proposal was accepted. A scratch too short rejects without drawing
/// (counted as non-finite; [`crate::mcmc::Sampler`] checks the length once).
#[inline]
pub fn mala<U, R>(
    target: &U,
    chain: &mut ChainView<'_>,
    rng: &mut R,
    adapt: Option<&Adaptation>,
    stats: &mut StepStats,
    scratch: &mut [f32],
) -> bool
where
    U: Potential + ?Sized,
    R: RngCore + ?Sized,
{
    let d = chain.x.len();
    let Some((vectors, rest)) = take(scratch, 5 * d) else {
        stats.nonfinite += 1;
        return false;
    };
    let (xi, vectors) = vectors.split_at_mut(d);
    let (proposal, vectors) = vectors.split_at_mut(d);
    let (grad, vectors) = vectors.split_at_mut(d);
    let (fwd, bwd) = vectors.split_at_mut(d);

    let eta = *chain.step_size;
    let noise = math::sqrt(2.0 * eta);
    fill_standard_normal(rng, xi);
    let log_u = log_uniform(rng);

    for i in 0..d {
        proposal[i] = chain.x[i] - eta * chain.grad[i] + noise * xi[i];
    }
    stats.local_proposed += 1;

    let energy = if all_finite(proposal) {
        target.energy_and_grad(proposal, grad, rest)
    } else {
        f32::NAN
    };
    let log_alpha = if energy.is_finite() && all_finite(grad) {
        for i in 0..d {
            fwd[i] = proposal[i] - chain.x[i] + eta * chain.grad[i];
            bwd[i] = chain.x[i] - proposal[i] + eta * grad[i];
        }
        let log_q_ratio = (kernels::dot(fwd, fwd) - kernels::dot(bwd, bwd)) / (4.0 * eta);
        (*chain.energy - energy) + log_q_ratio
    } else {
        stats.nonfinite += 1;
        f32::NEG_INFINITY
    };

    let accepted = log_u < log_alpha;
    if accepted {
        chain.x.copy_from_slice(proposal);
        *chain.energy = energy;
        chain.grad.copy_from_slice(grad);
        stats.local_accepted += 1;
    }
    if let Some(a) = adapt {
        let alpha = if log_alpha >= 0.0 {
            1.0
        } else if log_alpha > f32::NEG_INFINITY {
            math::exp(log_alpha)
        } else {
            0.0
        };
        a.update_view(chain, alpha);
    }
    accepted
}

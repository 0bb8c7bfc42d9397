//! The Metropolis-adjusted Langevin step.
//!
//! ```text
//! x' = x − η∇U(x) + √(2η) ξ,   ξ ~ N(0, I)
//! ln α = U(x) − U(x') + ln q(x|x') − ln q(x'|x),   ln q(b|a) = −‖b − a + η∇U(a)‖² / 4η
//! ```
//! Random draws per step: `D` normals (⌈D/2⌉ Box–Muller pairs) and one uniform, always.

use super::{Adaptation, ChainState, StepStats, all_finite};
use crate::energy::Energy;
use crate::random::{fill_standard_normal, log_uniform};
use crate::{kernels, math};
use rand_core::RngCore;

/// One MALA step on `chain`; returns whether the proposal was accepted. With `adapt`, the
/// chain's step size is updated from the step's acceptance probability.
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
    let eta = chain.step_size;
    let noise = math::sqrt(2.0 * eta);
    let mut xi = [0.0f32; D];
    fill_standard_normal(rng, &mut xi);
    let log_u = log_uniform(rng);

    let mut proposal = [0.0f32; D];
    for i in 0..D {
        proposal[i] = chain.x[i] - eta * chain.grad[i] + noise * xi[i];
    }
    stats.local_proposed += 1;

    let mut grad = [0.0f32; D];
    let energy = if all_finite(&proposal) {
        target.energy_and_grad(&proposal, &mut grad)
    } else {
        f32::NAN
    };
    let log_alpha = if energy.is_finite() && all_finite(&grad) {
        let mut fwd = [0.0f32; D];
        let mut bwd = [0.0f32; D];
        for i in 0..D {
            fwd[i] = proposal[i] - chain.x[i] + eta * chain.grad[i];
            bwd[i] = chain.x[i] - proposal[i] + eta * grad[i];
        }
        let log_q_ratio = (kernels::dot(&fwd, &fwd) - kernels::dot(&bwd, &bwd)) / (4.0 * eta);
        (chain.energy - energy) + log_q_ratio
    } else {
        stats.nonfinite += 1;
        f32::NEG_INFINITY
    };

    let accepted = log_u < log_alpha;
    if accepted {
        chain.x = proposal;
        chain.energy = energy;
        chain.grad = grad;
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
        a.update(chain, alpha);
    }
    accepted
}

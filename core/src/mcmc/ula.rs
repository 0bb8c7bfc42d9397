//! The unadjusted Langevin algorithm (ULA): the Langevin move of MALA without the MH test.
//!
//! ```text
//! x ← x − η∇U(x) + √(2η) ξ,   ξ ~ N(0, I)
//! ```
//! Not exact: its stationary law is π only as `η → 0` (for a standard Gaussian the variance
//! is `1 / (1 − η/2)`). The trainer uses it to refresh short-run negatives. Random draws per
//! step: `D` normals, one [`standard_normal`] each (its Box–Muller partner is discarded),
//! always; a move to a non-finite state is dropped (the state stays where it was).

use super::target::Potential;
use crate::math;
use crate::random::standard_normal;
use rand_core::RngCore;

/// Scratch floats [`ula`] needs on `target`: the gradient, the proposed state and the
/// target's own.
pub fn ula_scratch_len<U: Potential + ?Sized>(target: &U) -> usize {
    2 * target.dim() + target.scratch_len()
}

/// `steps` ULA moves of `x` (`target.dim()` values) on `target` with step size `eta`, on
/// caller `scratch` of [`ula_scratch_len`] floats (too short a scratch or a state of another
/// length: nothing moves, no draw is made).
pub fn ula<U: Potential + ?Sized, R: RngCore + ?Sized>(
    target: &U,
    x: &mut [f32],
    eta: f32,
    steps: usize,
    rng: &mut R,
    scratch: &mut [f32],
) {
    let d = target.dim();
    if x.len() != d || scratch.len() < ula_scratch_len(target) {
        return;
    }
    let noise = math::sqrt(2.0 * eta);
    let (g, rest) = scratch.split_at_mut(d);
    let (next, inner) = rest.split_at_mut(d);
    for _ in 0..steps {
        target.energy_and_grad(x, g, inner);
        for i in 0..d {
            next[i] = x[i] - eta * g[i] + noise * standard_normal(rng);
        }
        if next.iter().all(|v| v.is_finite()) {
            x.copy_from_slice(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::Energy;
    use crate::mcmc::Fixed;
    use crate::random::Xoshiro128PlusPlus;

    /// [`ula`] on a typed energy, with its own scratch.
    fn ula<const D: usize, U: Energy<D>>(
        target: &U,
        x: &mut [f32; D],
        eta: f32,
        steps: usize,
        rng: &mut Xoshiro128PlusPlus,
    ) {
        let t = Fixed::<U, D>(target);
        let mut scratch = [0.0f32; 16];
        super::ula(&t, x, eta, steps, rng, &mut scratch[..ula_scratch_len(&t)]);
    }
    use crate::targets::Gaussian;

    #[test]
    fn standard_gaussian_moments_with_the_discretisation_bias() {
        let target = Gaussian {
            mean: [0.0; 2],
            precision: [[1.0, 0.0], [0.0, 1.0]],
        };
        let eta = 0.2f32;
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(5);
        let mut x = [3.0f32, -3.0];
        ula(&target, &mut x, eta, 200, &mut rng); // burn-in
        let (mut sum, mut sq, mut n) = ([0.0f64; 2], [0.0f64; 2], 0.0f64);
        for _ in 0..40_000 {
            ula(&target, &mut x, eta, 1, &mut rng);
            for i in 0..2 {
                sum[i] += f64::from(x[i]);
                sq[i] += f64::from(x[i]) * f64::from(x[i]);
            }
            n += 1.0;
        }
        // x' = (1 − η)x + √(2η)ξ: stationary N(0, 1/(1 − η/2)) = N(0, 1.111…)
        let var_exact = 1.0 / (1.0 - f64::from(eta) / 2.0);
        for i in 0..2 {
            let mean = sum[i] / n;
            let var = sq[i] / n - mean * mean;
            assert!(mean.abs() < 0.05, "mean {mean}");
            assert!((var - var_exact).abs() < 0.06, "var {var} vs {var_exact}");
        }
    }

    /// +∞ energy and NaN gradient beyond `x₀ > 1`.
    struct Cliff;
    impl Energy<1> for Cliff {
        fn energy(&self, x: &[f32; 1]) -> f32 {
            let mut g = [0.0];
            self.energy_and_grad(x, &mut g)
        }
        fn energy_and_grad(&self, x: &[f32; 1], grad: &mut [f32; 1]) -> f32 {
            if x[0] > 1.0 {
                grad[0] = f32::NAN;
                f32::INFINITY
            } else {
                grad[0] = x[0];
                0.5 * x[0] * x[0]
            }
        }
    }

    #[test]
    fn a_non_finite_move_is_dropped() {
        // beyond the cliff every move is NaN: the state stays put, the draws are still made
        let mut x = [2.0f32];
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(1);
        ula(&Cliff, &mut x, 0.1, 50, &mut rng);
        assert_eq!(x, [2.0]);
        let mut fresh = Xoshiro128PlusPlus::seed_from_u64(1);
        for _ in 0..50 {
            standard_normal(&mut fresh);
        }
        assert_eq!(rng, fresh);
        // an infinite step size overflows the move: dropped
        let mut y = [0.5f32];
        ula(&Cliff, &mut y, f32::INFINITY, 3, &mut rng);
        assert_eq!(y, [0.5]);
        // inside, the chain stays finite
        let mut z = [0.0f32];
        ula(&Cliff, &mut z, 0.05, 1000, &mut rng);
        assert!(z[0].is_finite());
    }
}

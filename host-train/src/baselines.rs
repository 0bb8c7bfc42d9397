//! The baselines' sampler: unadjusted Langevin (the paper's ULA-EBM and short-run EBM).

use emberflow_core::random::standard_normal;
use emberflow_core::{Energy, RngCore};

/// Unadjusted Langevin: `x ← x − η∇U + √(2η)ξ`, `steps` times; a non-finite move is dropped.
pub fn ula<const D: usize, U: Energy<D>, R: RngCore + ?Sized>(
    target: &U,
    x: &mut [f32; D],
    eta: f32,
    steps: usize,
    rng: &mut R,
) {
    let noise = (2.0 * eta).sqrt();
    let mut g = [0.0f32; D];
    for _ in 0..steps {
        target.energy_and_grad(x, &mut g);
        let mut next = *x;
        for i in 0..D {
            next[i] = x[i] - eta * g[i] + noise * standard_normal(rng);
        }
        if next.iter().all(|v| v.is_finite()) {
            *x = next;
        }
    }
}

//! Deterministic seeded models: the same parameters, bit for bit, on every platform.
//!
//! Benchmarks and tests need models of the paper's shapes in any supported dimension without a
//! training run (e.g. the d = 16 model of `cargo xtask bench-firmware`, written to a model file
//! with [`crate::model::encode_energy_flow`]). Parameters are drawn in the canonical
//! [`Parameters::visit_mut`] order from a [`Xoshiro128PlusPlus`] stream: each value is
//! `scale · u` with `u = k·2⁻²³ − 1` for a 24-bit integer `k`, so `u ∈ [−1, 1)` is exact and
//! `scale · u` is one correctly rounded product.
//!
//! ```
//! use emberflow_core::models::{Energy2d, Flow2d};
//! use emberflow_core::testing::seeded_paper_model;
//! use emberflow_core::{Energy, Flow};
//! let (energy, flow): (Energy2d, Flow2d) = seeded_paper_model(7, 2.0);
//! assert!(energy.energy(&[0.5, -1.0]).is_finite());
//! assert!(flow.log_density(&[0.5, -1.0]).is_finite());
//! assert_eq!(seeded_paper_model::<2, 1, 1, 16, 4>(7, 2.0).0, energy); // same seed, same bits
//! ```

use crate::energy::{MlpEnergy, Tilted};
use crate::gaussian::DiagGaussian;
use crate::models::{PaperEnergy, PaperEnergyNet, PaperFlow};
use crate::network::Parameters;
use crate::rng::Xoshiro128PlusPlus;
use rand_core::RngCore;

/// Scale of the seeded energy network's parameters (`scale · U[−1, 1)`).
pub const SEEDED_ENERGY_SCALE: f32 = 0.3;
/// Scale of the seeded flow's conditioner parameters.
pub const SEEDED_FLOW_SCALE: f32 = 0.3;
/// Mixed into the model seed for the flow, so energy and flow draw different streams.
const FLOW_SEED_MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// A uniform variate on `[−1, 1)` with 24 random bits, exactly representable.
#[inline]
pub fn uniform_pm1(rng: &mut Xoshiro128PlusPlus) -> f32 {
    const SCALE: f32 = 1.0 / (1u32 << 23) as f32;
    (rng.next_u32() >> 8) as f32 * SCALE - 1.0
}

/// Fill every tensor a visitor hands out with `scale · U[−1, 1)` drawn from the stream of
/// `seed`, in visiting order.
///
/// `visit` receives the filling closure; pass it to a model's `visit_mut`:
/// `fill_params_deterministic(seed, 0.3, |f| net.visit_mut(f))`.
pub fn fill_params_deterministic(
    seed: u64,
    scale: f32,
    visit: impl FnOnce(&mut dyn FnMut(&mut [f32])),
) {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    visit(&mut |tensor: &mut [f32]| {
        for v in tensor.iter_mut() {
            *v = scale * uniform_pm1(&mut rng);
        }
    });
}

/// The paper's tilted energy and RealNVP flow in dimension `D` (flow shape `A | B`, hidden
/// `H`, `K` blocks) with parameters drawn from `model_seed`, both over the base
/// N(0, `sigma`² I).
///
/// # Panics
/// If `sigma` is not finite and positive.
pub fn seeded_paper_model<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
>(
    model_seed: u64,
    sigma: f32,
) -> (PaperEnergy<D>, PaperFlow<D, A, B, H, K>) {
    let base = DiagGaussian::isotropic(sigma).expect("sigma is finite and positive");
    let mut energy = Tilted::new(MlpEnergy::new(PaperEnergyNet::<D>::zeroed()), base.clone());
    fill_params_deterministic(model_seed, SEEDED_ENERGY_SCALE, |f| {
        energy.energy.visit_mut(f)
    });
    let mut flow = PaperFlow::<D, A, B, H, K>::identity(base);
    fill_params_deterministic(model_seed ^ FLOW_SEED_MIX, SEEDED_FLOW_SCALE, |f| {
        flow.visit_mut(f)
    });
    (energy, flow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Energy2d, Energy16, Flow2d, Flow16};
    use crate::{Energy, Flow};

    #[test]
    fn uniform_is_in_range_and_exact() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(3);
        for _ in 0..10_000 {
            let u = uniform_pm1(&mut rng);
            assert!((-1.0..1.0).contains(&u));
            // a multiple of 2^-23: exactly representable, no rounding happened
            let k = (u + 1.0) * (1u32 << 23) as f32;
            assert_eq!(k, k.trunc());
        }
    }

    #[test]
    fn seeds_give_reproducible_distinct_models() {
        let (a, f): (Energy2d, Flow2d) = seeded_paper_model(1, 2.0);
        let (a2, f2): (Energy2d, Flow2d) = seeded_paper_model(1, 2.0);
        let (b, g): (Energy2d, Flow2d) = seeded_paper_model(2, 2.0);
        assert_eq!((&a, &f), (&a2, &f2));
        assert_ne!(a, b);
        assert_ne!(f, g);
        let mut n = 0;
        a.energy.visit(&mut |t| {
            n += t.len();
            assert!(t.iter().all(|v| v.abs() <= SEEDED_ENERGY_SCALE));
        });
        assert_eq!(n, 10_593);
        assert_eq!(f.num_params(), 784); // 4 blocks × 2 couplings × 2 nets × (16 + 16 + 16 + 1)
    }

    #[test]
    fn seeded_models_are_finite_and_invertible() {
        let (e, f): (Energy16, Flow16) = seeded_paper_model(5, 1.5);
        let x: [f32; 16] = core::array::from_fn(|i| 0.3 * i as f32 - 2.0);
        let mut g = [0.0; 16];
        assert!(e.energy_and_grad(&x, &mut g).is_finite());
        let mut z = [0.0; 16];
        let mut back = [0.0; 16];
        let ld_inv = f.inverse(&x, &mut z);
        let ld_fwd = f.transform(&z, &mut back);
        assert!(x.iter().zip(&back).all(|(a, b)| (a - b).abs() < 1e-4));
        assert!((ld_inv + ld_fwd).abs() < 1e-4);
    }
}

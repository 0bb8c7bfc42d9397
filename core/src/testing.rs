//! Deterministic demo models: the same parameters, bit for bit, on every platform.
//!
//! Before a trained model file is compiled into the firmware, the microcontroller and the host
//! both build the paper's 2-D models ([`Energy2d`], [`Flow2d`]) from a seed through the
//! functions here, so that a chain run on a Cortex-M4F can be compared bit for bit with the same
//! chain run on a desktop.
//!
//! Parameters are drawn in the canonical [`Parameters::visit_mut`] order from a
//! [`Xoshiro128PlusPlus`] stream: each value is `scale · u` with `u = k·2⁻²³ − 1` for a 24-bit
//! integer `k`, so `u ∈ [−1, 1)` is exact and `scale · u` is one correctly rounded product.
//!
//! ```
//! use emberflow_core::testing::{demo_energy_2d, demo_flow_2d};
//! use emberflow_core::{Energy, Flow};
//! let (energy, flow) = (demo_energy_2d(7), demo_flow_2d(7));
//! assert!(energy.energy(&[0.5, -1.0]).is_finite());
//! assert!(flow.log_density(&[0.5, -1.0]).is_finite());
//! assert_eq!(demo_energy_2d(7), energy); // same seed, same bits
//! ```

use crate::energy::{MlpEnergy, Tilted};
use crate::gaussian::DiagGaussian;
use crate::models::{Energy2d, Flow2d, PaperEnergyNet};
use crate::network::Parameters;
use crate::rng::Xoshiro128PlusPlus;
use rand_core::RngCore;

/// σ of the demo base density ρ = N(0, σ² I) shared by the tilt and the flow.
pub const DEMO_SIGMA: f32 = 2.0;
/// Scale of the demo energy network's parameters (`scale · U[−1, 1)`).
pub const DEMO_ENERGY_SCALE: f32 = 0.3;
/// Scale of the demo flow's conditioner parameters.
pub const DEMO_FLOW_SCALE: f32 = 0.3;
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

/// The demo base density N(0, [`DEMO_SIGMA`]² I) in 2-D.
pub fn demo_base_2d() -> DiagGaussian<2> {
    DiagGaussian::isotropic(DEMO_SIGMA).expect("DEMO_SIGMA is finite and positive")
}

/// The demo tilted energy with all network parameters zero (fill it with
/// [`randomize_energy_2d`]).
pub fn zeroed_energy_2d() -> Energy2d {
    Tilted::new(
        MlpEnergy::new(PaperEnergyNet::<2>::zeroed()),
        demo_base_2d(),
    )
}

/// Overwrite the energy network's parameters with the demo values of `model_seed` (in place,
/// so a microcontroller needs no second copy of the weights).
pub fn randomize_energy_2d(energy: &mut Energy2d, model_seed: u64) {
    fill_params_deterministic(model_seed, DEMO_ENERGY_SCALE, |f| {
        energy.energy.visit_mut(f)
    });
}

/// Overwrite the flow's conditioner parameters with the demo values of `model_seed` (in place).
pub fn randomize_flow_2d(flow: &mut Flow2d, model_seed: u64) {
    fill_params_deterministic(model_seed ^ FLOW_SEED_MIX, DEMO_FLOW_SCALE, |f| {
        flow.visit_mut(f)
    });
}

/// The demo tilted energy of `model_seed`: [`Energy2d`] over N(0, [`DEMO_SIGMA`]² I).
pub fn demo_energy_2d(model_seed: u64) -> Energy2d {
    let mut energy = zeroed_energy_2d();
    randomize_energy_2d(&mut energy, model_seed);
    energy
}

/// The demo flow of `model_seed`: [`Flow2d`] over N(0, [`DEMO_SIGMA`]² I).
pub fn demo_flow_2d(model_seed: u64) -> Flow2d {
    let mut flow = Flow2d::identity(demo_base_2d());
    randomize_flow_2d(&mut flow, model_seed);
    flow
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let a = demo_energy_2d(1);
        assert_eq!(a, demo_energy_2d(1));
        assert_ne!(a, demo_energy_2d(2));
        let f = demo_flow_2d(1);
        assert_eq!(f, demo_flow_2d(1));
        assert_ne!(f, demo_flow_2d(2));
        let mut n = 0;
        a.energy.visit(&mut |t| {
            n += t.len();
            assert!(t.iter().all(|v| v.abs() <= DEMO_ENERGY_SCALE));
        });
        assert_eq!(n, 10_593);
        assert_eq!(f.num_params(), 784); // 4 blocks × 2 couplings × 2 nets × (16 + 16 + 16 + 1)
    }

    #[test]
    fn demo_models_are_finite_and_invertible() {
        let (e, f) = (demo_energy_2d(5), demo_flow_2d(5));
        let x = [0.7f32, -1.3];
        let mut g = [0.0; 2];
        assert!(e.energy_and_grad(&x, &mut g).is_finite());
        let mut z = [0.0; 2];
        let mut back = [0.0; 2];
        let ld_inv = f.inverse(&x, &mut z);
        let ld_fwd = f.transform(&z, &mut back);
        assert!((back[0] - x[0]).abs() < 1e-5 && (back[1] - x[1]).abs() < 1e-5);
        assert!((ld_inv + ld_fwd).abs() < 1e-5);
    }
}

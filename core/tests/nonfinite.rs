//! Non-finite energies, gradients, densities and states are rejected and counted; a chain
//! state is never NaN (property tests over seeds, step sizes and schedules).

use emberflow_core::shapes::Flow2d;
use emberflow_core::testing::randomize_flow;
use emberflow_core::{
    Adaptation, DiagGaussian, Energy, Flow, FlowMc, FlowMcConfig, GlobalMove, Schedule, StepStats,
    Xoshiro128PlusPlus,
};
use proptest::prelude::*;

/// A Gaussian well that turns hostile outside a box: NaN energy for `x₀ > a`, +∞ for `x₀ < −a`,
/// a NaN gradient (finite energy) for `x₁ > a`, and −∞ energy nowhere but on a line.
struct Hostile {
    a: f32,
}

impl Energy<2> for Hostile {
    fn energy(&self, x: &[f32; 2]) -> f32 {
        let mut g = [0.0; 2];
        self.energy_and_grad(x, &mut g)
    }
    fn energy_and_grad(&self, x: &[f32; 2], grad: &mut [f32; 2]) -> f32 {
        *grad = [x[0], x[1]];
        if x[0] > self.a {
            f32::NAN
        } else if x[0] < -self.a {
            f32::INFINITY
        } else if x[1] > self.a {
            grad[1] = f32::NAN;
            0.5 * (x[0] * x[0] + x[1] * x[1])
        } else {
            0.5 * (x[0] * x[0] + x[1] * x[1])
        }
    }
}

/// A flow whose density is NaN on half its draws.
struct BrokenFlow(DiagGaussian<2>);

impl Flow<2> for BrokenFlow {
    fn base(&self) -> &DiagGaussian<2> {
        &self.0
    }
    fn transform(&self, z: &[f32; 2], x: &mut [f32; 2]) -> f32 {
        *x = *z;
        if z[0] > 0.0 { f32::NAN } else { 0.0 }
    }
    fn inverse(&self, x: &[f32; 2], z: &mut [f32; 2]) -> f32 {
        *z = *x;
        if x[0] > 0.0 { f32::NAN } else { 0.0 }
    }
}

fn run<F: Flow<2>>(flow: &F, global: GlobalMove, step: f32, a: f32, seed: u64) -> StepStats {
    let target = Hostile { a };
    let cfg = FlowMcConfig {
        schedule: Schedule {
            global,
            mala_steps: 3,
            rounds: 2,
        },
        adaptation: Some(Adaptation::default()),
    };
    let k = FlowMc::new(&target, flow, cfg).unwrap();
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut s = StepStats::default();
    let mut c = k.chain([0.0, 0.0], step);
    for _ in 0..50 {
        k.sweep_observed(&mut c, &mut rng, &mut s, |st| {
            assert!(st.x.iter().all(|v| v.is_finite()), "state {:?}", st.x);
            assert!(st.energy.is_finite(), "energy {}", st.energy);
        });
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn states_stay_finite(
        seed in 0u64..10_000,
        step in 0.01f32..5.0,
        a in 0.3f32..2.0,
        particles in 2u16..16,
    ) {
        let wide = DiagGaussian::isotropic(3.0).unwrap();
        let mut flow = Flow2d::identity(wide.clone());
        randomize_flow(&mut flow, &mut Xoshiro128PlusPlus::seed_from_u64(seed), 0.3);
        let mut nonfinite = 0;
        for global in [GlobalMove::None, GlobalMove::Imh, GlobalMove::Isir { particles }] {
            nonfinite += run(&wide, global, step, a, seed).nonfinite;
            nonfinite += run(&flow, global, step, a, seed + 1).nonfinite;
            nonfinite += run(&BrokenFlow(wide.clone()), global, step, a, seed + 2).nonfinite;
        }
        // The hostile region is reachable in every configuration: rejections were counted.
        prop_assert!(nonfinite > 0);
    }
}

#[test]
fn broken_flow_proposals_are_all_counted() {
    let wide = DiagGaussian::isotropic(1.0).unwrap();
    // Keep MALA away from the hostile box so every non-finite count comes from the flow.
    let s = run(&BrokenFlow(wide), GlobalMove::Imh, 1e-4, 100.0, 3);
    assert!(s.nonfinite > 0);
    assert!(s.nonfinite <= s.global_proposed);
}

#[test]
fn nan_parameter_flow_never_moves_the_chain() {
    let mut flow = Flow2d::identity(DiagGaussian::isotropic(1.0).unwrap());
    flow.visit_mut(&mut |t| t[0] = f32::NAN);
    let s = run(&flow, GlobalMove::Isir { particles: 8 }, 0.1, 100.0, 4);
    assert_eq!(s.global_accepted, 0);
    assert_eq!(s.nonfinite, 7 * s.global_proposed);
}

//! Exactness of the FlowMC kernels on analytic targets.
//!
//! Monte-Carlo tolerances are stated per quantity: means and covariances within 5 standard errors
//! (estimated from the spread of independent chains) and an absolute cap; mode weights within
//! 0.01 (the bound) of the truth.

use emberflow_core::random::standard_normal;
use emberflow_core::shapes::Flow2d;
use emberflow_core::targets::{Gaussian, GaussianMixture};
use emberflow_core::testing::randomize_flow;
use emberflow_core::{
    Adaptation, ChainState, DiagGaussian, Energy, Flow, FlowMc, FlowMcConfig, GlobalMove, Schedule,
    StepStats, Tilted, Xoshiro128PlusPlus, ZeroEnergy,
};

fn frozen(global: GlobalMove, mala_steps: u16) -> FlowMcConfig {
    FlowMcConfig {
        schedule: Schedule {
            global,
            mala_steps,
            rounds: 1,
        },
        adaptation: None,
    }
}

/// Mean and standard error across chains of a per-chain statistic.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn mala_recovers_gaussian_mean_and_covariance() {
    // Σ = [[1, 0.6], [0.6, 0.5]], P = Σ⁻¹ = [[3.8462, −4.6154], [−4.6154, 7.6923]].
    let (s11, s12, s22) = (1.0f64, 0.6f64, 0.5f64);
    let det = s11 * s22 - s12 * s12;
    let target = Gaussian {
        mean: [1.0, -2.0],
        precision: [
            [(s22 / det) as f32, (-s12 / det) as f32],
            [(-s12 / det) as f32, (s11 / det) as f32],
        ],
    };
    let flow = DiagGaussian::<2>::standard();
    let k = FlowMc::new(&target, &flow, frozen(GlobalMove::None, 1)).unwrap();
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(10);
    let (chains, steps, burn) = (64, 6000, 500);
    let mut stats = StepStats::default();
    let (mut m0, mut m1, mut c00, mut c01, mut c11) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..chains {
        let x0 = [
            1.0 + standard_normal(&mut rng),
            -2.0 + standard_normal(&mut rng),
        ];
        let mut c = k.chain(x0, 0.15);
        let mut xs = Vec::with_capacity(steps);
        for t in 0..steps + burn {
            k.mala_step(&mut c, &mut rng, &mut stats);
            if t >= burn {
                xs.push([c.x[0] as f64, c.x[1] as f64]);
            }
        }
        let n = xs.len() as f64;
        let a = xs.iter().map(|x| x[0]).sum::<f64>() / n;
        let b = xs.iter().map(|x| x[1]).sum::<f64>() / n;
        m0.push(a);
        m1.push(b);
        c00.push(xs.iter().map(|x| (x[0] - 1.0).powi(2)).sum::<f64>() / n);
        c01.push(xs.iter().map(|x| (x[0] - 1.0) * (x[1] + 2.0)).sum::<f64>() / n);
        c11.push(xs.iter().map(|x| (x[1] + 2.0).powi(2)).sum::<f64>() / n);
    }
    for (name, v, truth, cap) in [
        ("mean x", &m0, 1.0, 0.05),
        ("mean y", &m1, -2.0, 0.05),
        ("var x", &c00, s11, 0.05),
        ("cov xy", &c01, s12, 0.05),
        ("var y", &c11, s22, 0.05),
    ] {
        let (m, se) = mean_se(v);
        assert!(
            (m - truth).abs() < 5.0 * se && (m - truth).abs() < cap,
            "{name}: {m:.4} vs {truth} (SE {se:.4})"
        );
    }
    let acc = stats.local_acceptance();
    assert!(acc > 0.3 && acc < 0.99, "acceptance {acc}");
    assert_eq!(stats.nonfinite, 0);
}

#[test]
fn adaptation_reaches_target_acceptance() {
    let target = Gaussian {
        mean: [0.0; 3],
        precision: [[4.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.25]],
    };
    let flow = DiagGaussian::<3>::standard();
    for goal in [0.75f32, 0.574] {
        let adapt = Adaptation {
            target: goal,
            ..Adaptation::default()
        };
        let mut cfg = frozen(GlobalMove::None, 1);
        cfg.adaptation = Some(adapt);
        let k = FlowMc::new(&target, &flow, cfg).unwrap();
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(3);
        let mut chains: Vec<ChainState<3>> = (0..32).map(|_| k.chain([0.1; 3], 1e-3)).collect();
        let mut s = StepStats::default();
        for c in chains.iter_mut() {
            for _ in 0..2000 {
                k.mala_step(c, &mut rng, &mut s);
            }
        }
        // Freeze and measure.
        let kf = FlowMc::new(&target, &flow, frozen(GlobalMove::None, 1)).unwrap();
        let mut measured = StepStats::default();
        for c in chains.iter_mut() {
            for _ in 0..2000 {
                kf.mala_step(c, &mut rng, &mut measured);
            }
        }
        let acc = measured.local_acceptance();
        assert!(
            (acc - goal).abs() < 0.05,
            "target {goal}: frozen acceptance {acc}"
        );
    }
}

#[test]
fn imh_with_exact_proposal_accepts_everything() {
    let base = DiagGaussian::new([0.5, 3.0]).unwrap();
    let target = Tilted::new(ZeroEnergy, base.clone());
    let k = FlowMc::new(&target, &base, frozen(GlobalMove::Imh, 0)).unwrap();
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(1);
    let mut c = k.chain([0.0, 0.0], 0.1);
    let mut s = StepStats::default();
    for _ in 0..10_000 {
        assert!(k.global_step(&mut c, &mut rng, &mut s));
    }
    assert_eq!(s.global_accepted, 10_000);
}

#[test]
fn isir_with_exact_proposal_moves_n_minus_1_of_n() {
    // Equal weights: the current particle is kept with probability 1/N.
    let base = DiagGaussian::new([1.0, 2.0]).unwrap();
    let target = Tilted::new(ZeroEnergy, base.clone());
    let k = FlowMc::new(&target, &base, frozen(GlobalMove::Isir { particles: 8 }, 0)).unwrap();
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(2);
    let mut c = k.chain([0.0, 0.0], 0.1);
    let mut s = StepStats::default();
    for _ in 0..40_000 {
        k.global_step(&mut c, &mut rng, &mut s);
    }
    // 7/8 = 0.875; binomial SE = √(0.875·0.125/40000) = 0.0017; 5 SE.
    let acc = s.global_acceptance() as f64;
    assert!((acc - 0.875).abs() < 0.0083, "{acc}");
}

/// The four-mode mixture of PAPER.md §4 (C.3): weights 0.1/0.2/0.3/0.4 at x = −3, −1, 1, 3,
/// covariance 0.05·I — modes ≈ 9 standard deviations apart.
fn four_modes() -> GaussianMixture<2, 4> {
    GaussianMixture {
        weights: [0.1, 0.2, 0.3, 0.4],
        means: [[-3.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [3.0, 0.0]],
        sigmas: [0.05f32.sqrt(); 4],
    }
}

/// Run `chains` chains, all started in the leftmost mode, for `sweeps` sweeps of `config`;
/// return the fraction of post-burn-in states nearest each mode.
fn mode_weights<F: Flow<2>>(
    flow: &F,
    config: FlowMcConfig,
    chains: usize,
    sweeps: usize,
    seed: u64,
) -> ([f64; 4], StepStats) {
    let target = four_modes();
    let k = FlowMc::new(&target, flow, config).unwrap();
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut counts = [0usize; 4];
    let mut stats = StepStats::default();
    let burn = sweeps / 10;
    for _ in 0..chains {
        let mut c = k.chain([-3.0, 0.0], 0.01);
        for t in 0..sweeps {
            k.sweep(&mut c, &mut rng, &mut stats);
            if t >= burn {
                counts[target.nearest(&c.x)] += 1;
            }
        }
    }
    let n = counts.iter().sum::<usize>() as f64;
    (counts.map(|c| c as f64 / n), stats)
}

fn assert_weights(w: &[f64; 4], tol: f64, what: &str) {
    let truth = [0.1, 0.2, 0.3, 0.4];
    for k in 0..4 {
        assert!(
            (w[k] - truth[k]).abs() < tol,
            "{what}: weights {w:?} vs {truth:?}"
        );
    }
}

#[test]
fn isir_plus_mala_recovers_unequal_mode_weights() {
    let flow = DiagGaussian::isotropic(2.5).unwrap();
    let (w, s) = mode_weights(
        &flow,
        frozen(GlobalMove::Isir { particles: 32 }, 4),
        128,
        300,
        21,
    );
    assert_weights(&w, 0.01, "i-SIR(32) + 4 MALA");
    assert!(s.global_acceptance() > 0.3, "{s:?}");
}

#[test]
fn imh_plus_mala_recovers_unequal_mode_weights() {
    let flow = DiagGaussian::isotropic(2.5).unwrap();
    let (w, s) = mode_weights(&flow, frozen(GlobalMove::Imh, 2), 128, 3000, 22);
    assert_weights(&w, 0.01, "IMH + 2 MALA");
    assert!(s.global_acceptance() > 0.02, "{s:?}");
}

#[test]
fn exact_for_any_flow_proposal() {
    // A random, far-from-identity RealNVP proposal: the MH correction must still make the chain
    // exact. Heavier tails than the target are kept by a wide base.
    let mut flow = Flow2d::identity(DiagGaussian::isotropic(2.5).unwrap());
    randomize_flow(&mut flow, &mut Xoshiro128PlusPlus::seed_from_u64(5), 0.2);
    let (w, _) = mode_weights(
        &flow,
        frozen(GlobalMove::Isir { particles: 32 }, 4),
        128,
        300,
        23,
    );
    assert_weights(&w, 0.01, "i-SIR with a random RealNVP proposal");
}

#[test]
fn mala_alone_cannot_balance_modes() {
    // The paper's point: local moves stay in the mode they start in.
    let flow = DiagGaussian::isotropic(2.5).unwrap();
    let mut cfg = frozen(GlobalMove::None, 10);
    cfg.adaptation = Some(Adaptation::default());
    let (w, _) = mode_weights(&flow, cfg, 64, 300, 24);
    assert!(w[0] > 0.99, "MALA alone left its starting mode: {w:?}");
    let mse: f64 = w
        .iter()
        .zip([0.1, 0.2, 0.3, 0.4])
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / 4.0;
    assert!(mse > 0.1, "MSE {mse}");
}

#[test]
fn same_seed_same_chain() {
    let target = four_modes();
    let flow = DiagGaussian::isotropic(2.5).unwrap();
    let run = || {
        let k = FlowMc::new(&target, &flow, FlowMcConfig::default()).unwrap();
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(99);
        let mut c = k.chain([0.0, 0.0], 0.01);
        let mut s = StepStats::default();
        for _ in 0..50 {
            k.sweep(&mut c, &mut rng, &mut s);
        }
        (c.x.map(f32::to_bits), c.step_size.to_bits(), s)
    };
    assert_eq!(run(), run());
}

#[test]
fn sweep_observes_every_step() {
    let target = four_modes();
    let flow = DiagGaussian::isotropic(2.5).unwrap();
    let cfg = FlowMcConfig {
        schedule: Schedule {
            global: GlobalMove::Isir { particles: 4 },
            mala_steps: 3,
            rounds: 5,
        },
        adaptation: None,
    };
    let k = FlowMc::new(&target, &flow, cfg).unwrap();
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(1);
    let mut c = k.chain([1.0, 0.0], 0.01);
    let mut s = StepStats::default();
    let mut seen = 0;
    k.sweep_observed(&mut c, &mut rng, &mut s, |st| {
        seen += 1;
        assert!(st.energy == target.energy(&st.x));
    });
    assert_eq!(seen, 20);
    assert_eq!(cfg.schedule.steps_per_sweep(), 20);
    assert_eq!((s.global_proposed, s.local_proposed), (5, 15));
}

#[test]
fn invalid_settings_are_rejected() {
    let target = four_modes();
    let flow = DiagGaussian::isotropic(1.0).unwrap();
    let bad = frozen(GlobalMove::Isir { particles: 1 }, 1);
    assert!(FlowMc::new(&target, &flow, bad).is_err());
    let mut bad = frozen(GlobalMove::Imh, 1);
    bad.adaptation = Some(Adaptation {
        target: 1.5,
        ..Adaptation::default()
    });
    assert!(FlowMc::new(&target, &flow, bad).is_err());
}

//! The RealNVP flow: exact inverse, log-determinant against a numerical Jacobian, and the 2-D
//! density integrating to one on a grid. Tolerances are the issue's: inverse∘forward within
//! 1e-5 (relative to 1 + the largest |value| on the way), ∫λ = 1 ± 1e-3.

use emberflow_core::random::standard_normal;
use emberflow_core::shapes::{Flow2d, Flow16};
use emberflow_core::testing::{det, randomize_flow};
use emberflow_core::{
    AffineCoupling, DiagGaussian, Error, Flow, Mlp1, RealNvp, Relu, Silu, Tanh, Xoshiro128PlusPlus,
};
use proptest::prelude::*;

fn random_flow2d(seed: u64, gain: f32) -> Flow2d {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut f = Flow2d::identity(DiagGaussian::new([1.3, 0.8]).unwrap());
    randomize_flow(&mut f, &mut rng, gain);
    f
}

#[test]
fn identity_flow_is_the_base() {
    let base = DiagGaussian::new([2.0, 0.5]).unwrap();
    let f = Flow2d::identity(base.clone());
    let x = [0.7f32, -1.1];
    let mut z = [0.0; 2];
    assert_eq!(f.inverse(&x, &mut z), 0.0);
    assert_eq!(z, x);
    assert_eq!(f.log_density(&x), base.log_density(&x));
    // The couplings are stored sliced (S, T: 1 → 16 → 1, 49 parameters each): 8 × 2 × 49 = 784.
    // The masked form (2 → 16 → 2) counts 1,312 (PAPER.md §1.2) but its masked-out weights never
    // influence the map.
    assert_eq!(f.num_params(), 784);
}

proptest! {
    #[test]
    fn inverse_of_forward_is_identity(seed in 0u64..1000, x0 in -4.0f32..4.0, x1 in -4.0f32..4.0) {
        let f = random_flow2d(seed, 0.3);
        let z = [x0, x1];
        let mut x = [0.0; 2];
        let mut back = [0.0; 2];
        let ld_fwd = f.transform(&z, &mut x);
        let ld_inv = f.inverse(&x, &mut back);
        // The round trip passes through `x`, which can be an order of magnitude larger than
        // `z` (|x| ≈ 31 for z ≈ (2.3, −3.4) at seed 859): f32 rounding there is relative to |x|.
        let scale = 1.0 + x[0].abs().max(x[1].abs());
        for i in 0..2 {
            prop_assert!((back[i] - z[i]).abs() <= 1e-5 * (scale + z[i].abs()), "{z:?} -> {x:?} -> {back:?}");
        }
        prop_assert!((ld_fwd + ld_inv).abs() <= 1e-5 * (1.0 + ld_fwd.abs()));
    }

    #[test]
    fn inverse_of_forward_16d(seed in 0u64..200) {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
        let mut f = Flow16::identity(DiagGaussian::isotropic(1.16).unwrap());
        randomize_flow(&mut f, &mut rng, 0.2);
        let z: [f32; 16] = core::array::from_fn(|_| 2.0 * standard_normal(&mut rng));
        let mut x = [0.0; 16];
        let mut back = [0.0; 16];
        f.transform(&z, &mut x);
        f.inverse(&x, &mut back);
        for i in 0..16 {
            prop_assert!((back[i] - z[i]).abs() <= 1e-5 * (1.0 + z[i].abs()));
        }
    }
}

/// ln|det ∂T/∂z| from a central-difference Jacobian with step `h` (f64 from f32 evaluations).
fn numeric_log_det<const D: usize, F: Flow<D>>(f: &F, z: &[f32; D], h: f32) -> f64 {
    let mut jac = [[0.0f64; D]; D];
    for j in 0..D {
        let (mut zp, mut zm) = (*z, *z);
        zp[j] += h;
        zm[j] -= h;
        let (mut xp, mut xm) = ([0.0f32; D], [0.0f32; D]);
        f.transform(&zp, &mut xp);
        f.transform(&zm, &mut xm);
        let dh = zp[j] as f64 - zm[j] as f64;
        for i in 0..D {
            jac[i][j] = (xp[i] as f64 - xm[i] as f64) / dh;
        }
    }
    det(jac).abs().ln()
}

/// The analytic ln|det ∂T/∂z| against the numerical one (Richardson-extrapolated central
/// differences, steps 1e-2 and 5e-3): within 1e-3·(1 + |ln det|) (f32 round-off in the
/// difference quotients). The coupling code is generic over the
/// conditioner, so smooth conditioners (tanh, SiLU) are used here: a ReLU conditioner's kinks
/// make finite differences meaningless at some points, not the formula wrong.
fn check_log_det<const D: usize, F: Flow<D>>(f: &F, z: &[f32; D]) {
    let mut x = [0.0f32; D];
    let ld = f.transform(z, &mut x) as f64;
    let (l1, l2) = (numeric_log_det(f, z, 1e-2), numeric_log_det(f, z, 5e-3));
    let numeric = (4.0 * l2 - l1) / 3.0;
    assert!(
        (numeric - ld).abs() < 1e-3 * (1.0 + ld.abs()),
        "z = {z:?}: log-det {ld} vs numerical {numeric}"
    );
}

#[test]
fn log_det_matches_numerical_jacobian() {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(11);
    type Smooth2 = RealNvp<2, 1, 1, Mlp1<1, 16, 1, Tanh>, Mlp1<1, 16, 1, Tanh>, 4>;
    for seed in 0..10 {
        let mut f = Smooth2::identity(DiagGaussian::new([1.3, 0.8]).unwrap());
        let mut r = Xoshiro128PlusPlus::seed_from_u64(seed);
        randomize_flow(&mut f, &mut r, 0.5);
        for _ in 0..20 {
            let z = [standard_normal(&mut rng), standard_normal(&mut rng)];
            check_log_det(&f, &z);
        }
    }
    // An odd dimension with unequal halves (A = 2, B = 3), three blocks, SiLU conditioners.
    type Smooth5 = RealNvp<5, 2, 3, Mlp1<2, 12, 3, Silu>, Mlp1<3, 12, 2, Silu>, 3>;
    for seed in 0..5 {
        let mut f = Smooth5::identity(DiagGaussian::isotropic(1.0).unwrap());
        let mut r = Xoshiro128PlusPlus::seed_from_u64(100 + seed);
        randomize_flow(&mut f, &mut r, 0.2);
        for _ in 0..10 {
            let z: [f32; 5] = core::array::from_fn(|_| standard_normal(&mut rng));
            check_log_det(&f, &z);
        }
    }
}

#[test]
fn random_test_flows_are_not_the_identity() {
    let f = random_flow2d(1, 0.3);
    let mut x = [0.0; 2];
    let ld = f.transform(&[0.5, -0.5], &mut x);
    assert!(
        (x[0] - 0.5).abs() + (x[1] + 0.5).abs() > 0.1 && ld.abs() > 0.05,
        "{x:?} {ld}"
    );
}

/// ∫ λ over a 1000 × 1000 grid on [−12, 12]² (midpoint rule, f64 accumulation).
#[test]
fn flow_density_integrates_to_one() {
    for seed in [1u64, 2, 3] {
        let f = random_flow2d(seed, 0.3);
        let (n, lo, hi) = (1000usize, -12.0f64, 12.0f64);
        let dx = (hi - lo) / n as f64;
        let mut total = 0.0f64;
        for i in 0..n {
            for j in 0..n {
                let x = [
                    (lo + (i as f64 + 0.5) * dx) as f32,
                    (lo + (j as f64 + 0.5) * dx) as f32,
                ];
                total += (f.log_density(&x) as f64).exp();
            }
        }
        total *= dx * dx;
        assert!((total - 1.0).abs() < 1e-3, "seed {seed}: ∫λ = {total}");
    }
}

#[test]
fn sample_density_matches_log_density() {
    // ln λ from the forward pass (used for i-SIR proposals) equals ln λ through the inverse.
    let f = random_flow2d(5, 0.3);
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(6);
    for _ in 0..500 {
        let mut x = [0.0; 2];
        let lf = f.sample(&mut rng, &mut x);
        let li = f.log_density(&x);
        assert!((lf - li).abs() < 1e-4 * (1.0 + lf.abs()), "{lf} vs {li}");
    }
}

#[test]
fn arbitrary_masks_and_bad_masks() {
    type Net = Mlp1<1, 4, 2, Relu>;
    use emberflow_core::Parameters;
    // A permuted mask (condition on coordinate 1, transform 2 and 0) is fine.
    let c = AffineCoupling::<3, 1, 2, Net>::new([1], [2, 0], 0.5, Net::zeroed(), Net::zeroed());
    assert!(c.is_ok());
    // Repeated or out-of-range indices are not a partition.
    let dup = AffineCoupling::<3, 1, 2, Net>::new([1], [1, 0], 1.0, Net::zeroed(), Net::zeroed());
    assert_eq!(dup.unwrap_err(), Error::InvalidMask);
    let oob = AffineCoupling::<3, 1, 2, Net>::new([3], [1, 0], 1.0, Net::zeroed(), Net::zeroed());
    assert_eq!(oob.unwrap_err(), Error::InvalidMask);
    let bad = AffineCoupling::<3, 1, 2, Net>::new([1], [2, 0], 0.0, Net::zeroed(), Net::zeroed());
    assert_eq!(bad.unwrap_err(), Error::InvalidScale);
}

#[test]
fn scale_factor_bounds_the_log_det() {
    // |s| ≤ c per transformed coordinate, so |ln det| ≤ c·D per block pair at most.
    type Net = Mlp1<1, 8, 1, Relu>;
    use emberflow_core::Parameters;
    let mut s = Net::zeroed();
    s.second.update(|_, b| *b = [100.0]); // tanh saturates at 1
    let c = AffineCoupling::<2, 1, 1, Net>::new([0], [1], 0.25, s, Net::zeroed()).unwrap();
    let mut x = [0.3f32, 2.0];
    let ld = c.forward_in_place(&mut x);
    assert!((ld - 0.25).abs() < 1e-6);
    assert!((x[1] - 2.0 * (0.25f32).exp()).abs() < 1e-6);
}

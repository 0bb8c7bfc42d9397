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
//! use emberflow_core::shapes::{Energy2d, Flow2d};
//! use emberflow_core::testing::seeded_paper_model;
//! use emberflow_core::{Energy, Flow};
//! let (energy, flow): (Energy2d, Flow2d) = seeded_paper_model(7, 2.0);
//! assert!(energy.energy(&[0.5, -1.0]).is_finite());
//! assert!(flow.log_density(&[0.5, -1.0]).is_finite());
//! assert_eq!(seeded_paper_model::<2, 1, 1, 16, 4>(7, 2.0).0, energy); // same seed, same bits
//! ```

use crate::energy::{MlpEnergy, Tilted};
use crate::gaussian::DiagGaussian;
use crate::network::Parameters;
use crate::random::{SeedStream, Xoshiro128PlusPlus};
use crate::shapes::{PaperEnergy, PaperEnergyNet, PaperFlow};
use rand_core::RngCore;

#[cfg(feature = "model-generator")]
pub mod four_modes;
mod random_init;
#[cfg(feature = "model-generator")]
pub mod runtime_file;

pub use random_init::{det, randomize, randomize_flow};

/// Scale of the seeded energy network's parameters (`scale · U[−1, 1)`).
pub const SEEDED_ENERGY_SCALE: f32 = 0.3;
/// Scale of the seeded flow's conditioner parameters.
pub const SEEDED_FLOW_SCALE: f32 = 0.3;

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
    fill_params_deterministic(
        SeedStream::SEEDED_FLOW.seed(model_seed),
        SEEDED_FLOW_SCALE,
        |f| flow.visit_mut(f),
    );
    (energy, flow)
}

/// Rows of the shapes [`check_f32_dense_kernels`] runs: `1..=KERNEL_CHECK_ROWS` (two blocks of
/// four and a remainder).
pub const KERNEL_CHECK_ROWS: usize = 9;
/// Columns of the shapes [`check_f32_dense_kernels`] runs: every remainder modulo 8 and 16,
/// and the paper's widths.
pub const KERNEL_CHECK_COLS: [usize; 30] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 23, 24, 25, 31, 32, 33, 47,
    48, 63, 64, 70,
];
const KERNEL_CHECK_MAX_COLS: usize = 70;

/// Where the f32 dense kernels and their definition disagree ([`check_f32_dense_kernels`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KernelMismatch {
    /// `"forward"` (`y = W x + b`) or `"backward"` (`dx = Wᵀ dy`).
    pub pass: &'static str,
    /// Rows (outputs) of the layer.
    pub rows: u16,
    /// Columns (inputs) of the layer.
    pub cols: u16,
    /// The element of `y` or `dx` that differs.
    pub index: u16,
    /// Its bits from the kernel.
    pub got: u32,
    /// Its bits by the definition.
    pub want: u32,
}

/// One weight of the kernel check: every magnitude from 1e-3 to 1e4, and one time in 32 a
/// special value (zeros of both signs, infinities, NaN, subnormals, the largest finite).
fn kernel_check_value(rng: &mut Xoshiro128PlusPlus) -> f32 {
    const SPECIAL: [f32; 8] = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1e-40,
        -3e-39,
        f32::MAX,
    ];
    let v = rng.next_u32();
    if v.is_multiple_of(32) {
        SPECIAL[(v >> 5) as usize % SPECIAL.len()]
    } else {
        uniform_pm1(rng) * [1e-3f32, 1.0, 1e4][(v >> 5) as usize % 3]
    }
}

/// Check the f32 dense-layer kernels, as this build runs them (blocked, and on Arm hard-float
/// targets the VFP assembly loops), against their definition: `y[o] = dot(W[o], x) + b[o]`
/// and `dx = Σ_o axpy(dy[o], W[o])` in row order (the `kernels` module), for every shape
/// `rows × cols` with `rows` in `1..=`[`KERNEL_CHECK_ROWS`] and `cols` in
/// [`KERNEL_CHECK_COLS`], on data drawn from `seed`. Every output must have the same bits
/// (NaN: any NaN). Returns the number of shapes checked.
///
/// The host's unit tests run it on the portable kernels; `cargo xtask test` runs it on the
/// Cortex-M4F in QEMU (the firmware's `kernels` program).
pub fn check_f32_dense_kernels(seed: u64) -> Result<u32, KernelMismatch> {
    use crate::kernels::{axpy, dot, row_axpys, row_dots};
    const R: usize = KERNEL_CHECK_ROWS;
    const C: usize = KERNEL_CHECK_MAX_COLS;
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut shapes = 0;
    let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    for rows in 1..=R {
        for cols in KERNEL_CHECK_COLS {
            let mut w = [0.0f32; R * C];
            let (mut x, mut dx, mut want_dx) = ([0.0f32; C], [0.0f32; C], [0.0f32; C]);
            let (mut b, mut dy, mut y) = ([0.0f32; R], [0.0f32; R], [0.0f32; R]);
            let w = &mut w[..rows * cols];
            let (x, dx, want_dx) = (&mut x[..cols], &mut dx[..cols], &mut want_dx[..cols]);
            let (b, dy, y) = (&mut b[..rows], &mut dy[..rows], &mut y[..rows]);
            for v in w
                .iter_mut()
                .chain(x.iter_mut())
                .chain(b.iter_mut())
                .chain(dy.iter_mut())
            {
                *v = kernel_check_value(&mut rng);
            }
            row_dots(w, x, b, y);
            row_axpys(w, dy, dx);
            let mismatch = |pass, index: usize, got: f32, want: f32| KernelMismatch {
                pass,
                rows: rows as u16,
                cols: cols as u16,
                index: index as u16,
                got: got.to_bits(),
                want: want.to_bits(),
            };
            for (o, row) in w.chunks_exact(cols).enumerate() {
                let want = dot(row, x) + b[o];
                if !same(y[o], want) {
                    return Err(mismatch("forward", o, y[o], want));
                }
                axpy(dy[o], row, want_dx);
            }
            for (i, (&got, &want)) in dx.iter().zip(want_dx.iter()).enumerate() {
                if !same(got, want) {
                    return Err(mismatch("backward", i, got, want));
                }
            }
            shapes += 1;
        }
    }
    Ok(shapes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::{Energy2d, Energy16, Flow2d, Flow16};
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
    fn f32_dense_kernels_match_their_definition() {
        for seed in 0..4 {
            assert_eq!(
                check_f32_dense_kernels(seed),
                Ok((KERNEL_CHECK_ROWS * KERNEL_CHECK_COLS.len()) as u32)
            );
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

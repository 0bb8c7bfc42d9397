//! Mode weights — the share of probability mass in each mode's region — estimated from
//! samples (a histogram over regions), from an energy on a 2-D grid, or by self-normalised
//! importance sampling in any dimension; and their MSE against the true weights (the paper's
//! Table 3).
//!
//! Regions are given as `n_modes` and a function `region(x) → 0..n_modes` (for the built-in
//! sets, `GroundTruth::region`). An energy `U` is the model's negative log density up to a
//! constant, `p(x) ∝ exp(−U(x))` — for the tilted EBM, `U = E_θ − ln ρ`, in the same units as
//! `x` (compose with the standardisation when the model works in standardised space; the
//! Jacobian is a constant and cancels).
//!
//! A non-finite point, a non-finite weight (`U` or `ln q` NaN or infinite) or a region index
//! `≥ n_modes` is skipped and counted in [`ModeWeights::skipped`]; if nothing is left the
//! weights are NaN.

use crate::metrics::grid::Grid2d;

/// Estimated mode weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ModeWeights {
    /// The weight of each mode (summing to 1, or all NaN when nothing was counted).
    pub weights: Vec<f64>,
    /// How many points the estimate rests on: counted samples (histogram), finite grid cells
    /// (grid), or Kish's effective sample size `(Σw)²/Σw²` (importance sampling).
    pub effective_n: f64,
    /// Points, cells or draws that were skipped (see the module documentation).
    pub skipped: usize,
}

/// Sum `mass` into regions and normalise.
fn normalise(mut sums: Vec<f64>, effective_n: f64, skipped: usize) -> ModeWeights {
    let total: f64 = sums.iter().sum();
    if total > 0.0 && total.is_finite() {
        sums.iter_mut().for_each(|s| *s /= total);
    } else {
        sums.iter_mut().for_each(|s| *s = f64::NAN);
    }
    ModeWeights {
        weights: sums,
        effective_n,
        skipped,
    }
}

/// Mode weights of samples (row-major, `dim` per point): the fraction of points in each region.
pub fn mode_weights_from_samples(
    samples: &[f32],
    dim: usize,
    n_modes: usize,
    region: impl Fn(&[f32]) -> usize,
) -> ModeWeights {
    let mut counts = vec![0.0f64; n_modes];
    let mut skipped = 0;
    let mut counted = 0usize;
    for x in samples.chunks_exact(dim.max(1)) {
        match x.iter().all(|v| v.is_finite()).then(|| region(x)) {
            Some(k) if k < n_modes => {
                counts[k] += 1.0;
                counted += 1;
            }
            _ => skipped += 1,
        }
    }
    normalise(counts, counted as f64, skipped)
}

/// Mode weights of the density `∝ exp(−U)` on a 2-D grid, from the energies at the cell centres
/// (in [`Grid2d`] index order): `softmax(−U)` over cells, summed per region of each cell
/// centre. The cell area is constant and cancels. Panics if `energies.len() != grid.len()`.
pub fn mode_weights_from_grid_energies<R: Copy + Into<f64>>(
    grid: &Grid2d,
    energies: &[R],
    n_modes: usize,
    region: impl Fn(&[f32]) -> usize,
) -> ModeWeights {
    assert_eq!(energies.len(), grid.len(), "one energy per grid cell");
    let neg: Vec<f64> = energies.iter().map(|&u| -u.into()).collect();
    let max = neg
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let mut sums = vec![0.0f64; n_modes];
    let mut skipped = 0;
    let mut counted = 0usize;
    for (i, &v) in neg.iter().enumerate() {
        let k = region(&grid.centre(i));
        if v.is_finite() && k < n_modes {
            sums[k] += (v - max).exp();
            counted += 1;
        } else {
            skipped += 1;
        }
    }
    normalise(sums, counted as f64, skipped)
}

/// [`mode_weights_from_grid_energies`] with the energy evaluated at every cell centre.
pub fn mode_weights_on_grid<R: Copy + Into<f64>>(
    grid: &Grid2d,
    n_modes: usize,
    region: impl Fn(&[f32]) -> usize,
    energy: impl Fn(&[f32]) -> R,
) -> ModeWeights {
    let energies: Vec<R> = grid.centres().map(|c| energy(&c)).collect();
    mode_weights_from_grid_energies(grid, &energies, n_modes, region)
}

/// Mode weights by self-normalised importance sampling: draws `x_i` from a proposal `q` (row-
/// major `samples`, `dim` per point) with their `ln q(x_i)` and the model's energies `U(x_i)`;
/// weights `w_i ∝ exp(−U(x_i) − ln q(x_i))`, summed per region. Consistent for any proposal
/// that covers the model (the flow, in the trainer); [`ModeWeights::effective_n`] is Kish's
/// ESS and says how far to trust it. Panics if the lengths disagree.
pub fn mode_weights_importance<R: Copy + Into<f64>, Q: Copy + Into<f64>>(
    samples: &[f32],
    dim: usize,
    log_q: &[Q],
    energies: &[R],
    n_modes: usize,
    region: impl Fn(&[f32]) -> usize,
) -> ModeWeights {
    let n = log_q.len();
    assert_eq!(energies.len(), n, "one energy per draw");
    assert_eq!(samples.len(), n * dim, "dim values per draw");
    let log_w: Vec<f64> = energies
        .iter()
        .zip(log_q)
        .zip(samples.chunks_exact(dim.max(1)))
        .map(|((&u, &lq), x)| {
            let lw = -u.into() - lq.into();
            if x.iter().all(|v| v.is_finite()) {
                lw
            } else {
                f64::NAN
            }
        })
        .collect();
    let max = log_w
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let mut sums = vec![0.0f64; n_modes];
    let (mut sum_w, mut sum_w2, mut skipped) = (0.0f64, 0.0f64, 0);
    for (lw, x) in log_w.iter().zip(samples.chunks_exact(dim.max(1))) {
        if !lw.is_finite() {
            skipped += 1;
            continue;
        }
        let k = region(x);
        if k >= n_modes {
            skipped += 1;
            continue;
        }
        let w = (lw - max).exp();
        sums[k] += w;
        sum_w += w;
        sum_w2 += w * w;
    }
    let kish = if sum_w2 > 0.0 {
        sum_w * sum_w / sum_w2
    } else {
        0.0
    };
    normalise(sums, kish, skipped)
}

/// [`mode_weights_importance`] with `n` draws made by closures: `sample(out)` writes one
/// proposal draw into `out` (`dim` values; the closure owns its generator), `log_q(x)` is the
/// proposal's log density and `energy(x)` the model's energy at a draw.
pub fn mode_weights_importance_sampling<R: Copy + Into<f64>, Q: Copy + Into<f64>>(
    n: usize,
    dim: usize,
    n_modes: usize,
    region: impl Fn(&[f32]) -> usize,
    energy: impl Fn(&[f32]) -> R,
    mut sample: impl FnMut(&mut [f32]),
    log_q: impl Fn(&[f32]) -> Q,
) -> ModeWeights {
    let mut samples = vec![0.0f32; n * dim];
    let mut lq = Vec::with_capacity(n);
    let mut u = Vec::with_capacity(n);
    for x in samples.chunks_exact_mut(dim.max(1)) {
        sample(x);
        lq.push(log_q(x));
        u.push(energy(x));
    }
    mode_weights_importance(&samples, dim, &lq, &u, n_modes, region)
}

/// Mean squared error of estimated weights against the true ones, `(1/K) Σ_k (ŵ_k − w_k)²`
/// (NaN if any estimate is NaN). Panics if the lengths differ.
pub fn weights_mse(estimate: &[f64], truth: &[f64]) -> f64 {
    assert_eq!(estimate.len(), truth.len(), "one estimate per mode");
    estimate
        .iter()
        .zip(truth)
        .map(|(e, t)| (e - t).powi(2))
        .sum::<f64>()
        / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::BuiltIn;
    use emberflow_core::{Xoshiro128PlusPlus, random};

    #[test]
    fn grid_weights_of_each_true_density_recover_its_weights() {
        for set in [
            BuiltIn::TwoModes,
            BuiltIn::FourModes,
            BuiltIn::EightGaussians,
            BuiltIn::Rings,
        ] {
            let t = set.truth();
            let grid = Grid2d::for_set(set).unwrap();
            let w =
                mode_weights_on_grid(&grid, t.n_modes(), |x| t.region(x), |x| -t.log_density(x));
            assert_eq!(w.skipped, 0);
            for (e, tw) in w.weights.iter().zip(t.weights()) {
                // Rings: a ring's region is its radial band, which leaks ~1e-3 across.
                let tol = if set == BuiltIn::Rings { 2e-3 } else { 5e-4 };
                assert!((e - tw).abs() < tol, "{set}: {:?}", w.weights);
            }
            assert!(weights_mse(&w.weights, &t.weights()) < 1e-6, "{set}");
        }
    }

    #[test]
    fn four_modes_band_weights_to_three_decimals() {
        let t = BuiltIn::FourModes.truth();
        let grid = Grid2d::for_set(BuiltIn::FourModes).unwrap();
        // f32 energies, as the trainer's model gives them.
        let w = mode_weights_on_grid(&grid, 4, |x| t.region(x), |x| -t.log_density(x) as f32);
        let rounded: Vec<f64> = w.weights.iter().map(|v| (v * 1e3).round() / 1e3).collect();
        assert_eq!(rounded, [0.1, 0.2, 0.3, 0.4]);
        assert_eq!(w.effective_n, 160_000.0);
    }

    #[test]
    fn sample_histogram_and_skips() {
        let t = BuiltIn::FourModes.truth();
        let d = t.sample(10_000, 3);
        let w = mode_weights_from_samples(d.values(), 2, 4, |x| t.region(x));
        assert!(
            weights_mse(&w.weights, &t.weights()) < 1e-8,
            "{:?}",
            w.weights
        );
        let w =
            mode_weights_from_samples(&[0.5, f32::NAN, 9.0, 9.0, 3.0, 0.0], 2, 4, |x| t.region(x));
        assert_eq!((w.skipped, w.effective_n), (1, 2.0));
        assert_eq!(w.weights, [0.0, 0.0, 0.0, 1.0]);
        let w = mode_weights_from_samples(&[], 2, 2, |_| 0);
        assert!(w.weights.iter().all(|v| v.is_nan()));
        let w = mode_weights_from_samples(&[1.0, 2.0], 1, 2, |_| 7);
        assert_eq!(w.skipped, 2);
    }

    #[test]
    fn non_finite_energies_are_skipped_on_the_grid() {
        let g = Grid2d::new([0.0, 0.0], [2.0, 1.0], [2, 1]).unwrap();
        let w =
            mode_weights_from_grid_energies(&g, &[f64::NAN, 1.0], 2, |x| usize::from(x[0] > 1.0));
        assert_eq!((w.weights.clone(), w.skipped), (vec![0.0, 1.0], 1));
        let w = mode_weights_from_grid_energies(&g, &[f32::INFINITY, f32::NAN], 2, |_| 0);
        assert!(w.weights[0].is_nan());
    }

    #[test]
    fn importance_sampling_recovers_weights_in_16d() {
        // Proposal N(0, σ² I) with σ² = 1 + a² covers the GMM; 200 000 draws.
        let t = BuiltIn::Gmm16.truth();
        let var = t.max_marginal_variance();
        let sd = var.sqrt() as f32;
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(11);
        let w = mode_weights_importance_sampling(
            200_000,
            16,
            4,
            |x| t.region(x),
            |x| -t.log_density(x),
            |out| {
                random::fill_standard_normal(&mut rng, out);
                out.iter_mut().for_each(|v| *v *= sd);
            },
            |x| {
                let sq: f64 = x.iter().map(|&v| f64::from(v).powi(2)).sum();
                -0.5 * sq / var - 8.0 * (2.0 * std::f64::consts::PI * var).ln()
            },
        );
        assert_eq!(w.skipped, 0);
        assert!(w.effective_n > 10_000.0, "{}", w.effective_n);
        for e in &w.weights {
            assert!((e - 0.25).abs() < 0.01, "{:?}", w.weights);
        }
    }

    #[test]
    fn mse() {
        assert!((weights_mse(&[0.1, 0.9], &[0.2, 0.8]) - 0.01).abs() < 1e-15);
        assert!(weights_mse(&[f64::NAN, 1.0], &[0.5, 0.5]).is_nan());
    }
}

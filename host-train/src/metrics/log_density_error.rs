//! The median squared log-density error on a 2-D grid (the paper's Table 1 metric,
//! `med_x (ln p_θ(x) − ln p*(x))²`).
//!
//! The paper does not say where `x` runs or how the EBM is normalised (PAPER.md §5). The rule
//! here:
//! 1. **Grid**: a [`Grid2d`] — for a built-in set [`Grid2d::for_set`] (a fixed box with every
//!    mode ± 5 sd, 400 × 400 cells), otherwise [`Grid2d::covering`] (the data's bounding box
//!    plus 10 % of its span per side, 400 × 400).
//! 2. **Normalisation**: both densities are normalised *on the grid* by log-sum-exp over the
//!    cell centres, `ln p̂(x_i) = −U(x_i) − ln Σ_j e^{−U(x_j)} − ln ΔA` and the same for `ln p*`
//!    (so the metric compares shapes on the box, is invariant to constants in either, and the
//!    true density against itself gives exactly 0; `ln ΔA` cancels).
//! 3. **Points**: the cell centres where the true density is non-negligible,
//!    `p*(x_i) ≥ 1e-4 · max_j p*(x_j)` ([`DEFAULT_REL_THRESHOLD`]).
//! 4. **Median** of the squared differences over those points (`numpy.median`: the mean of the
//!    two middle values of an even count).
//!
//! A model cell whose energy is NaN or infinite has density 0 there (its error is `+∞`); a cell
//! whose true log density is NaN is skipped and counted.

use crate::metrics::grid::Grid2d;

/// Points whose true density is below this fraction of its maximum on the grid are left out.
pub const DEFAULT_REL_THRESHOLD: f64 = 1e-4;

/// The median squared log-density error and what it was computed on.
#[derive(Clone, Debug, PartialEq)]
pub struct LogDensityError {
    /// `median_i (ln p̂(x_i) − ln p*(x_i))²` over the kept points (NaN if none).
    pub median: f64,
    /// Points kept (true density above the threshold).
    pub points: usize,
    /// Cells skipped because the true log density was NaN.
    pub skipped: usize,
    /// Kept points where the model's energy was not finite.
    pub model_non_finite: usize,
}

/// The metric from values at the grid points: the model's energies `U(x_i)` and the true
/// `ln p*(x_i)` (any unnormalised version), in the same order. `rel_threshold` is the
/// fraction of the maximal true density below which points are left out. Panics if the
/// lengths differ.
pub fn log_density_error_from_values<R: Copy + Into<f64>>(
    energies: &[R],
    true_log_density: &[f64],
    rel_threshold: f64,
) -> LogDensityError {
    assert_eq!(
        energies.len(),
        true_log_density.len(),
        "one value per point"
    );
    let model: Vec<f64> = energies
        .iter()
        .map(|&u| {
            let v = -u.into();
            if v.is_finite() { v } else { f64::NEG_INFINITY }
        })
        .collect();
    let skipped = true_log_density.iter().filter(|v| v.is_nan()).count();
    let truth_max = true_log_density
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NEG_INFINITY, f64::max);
    let ln_z_model = log_sum_exp(&model);
    let ln_z_true = log_sum_exp(
        &true_log_density
            .iter()
            .map(|&v| if v.is_nan() { f64::NEG_INFINITY } else { v })
            .collect::<Vec<_>>(),
    );
    let cut = truth_max + rel_threshold.ln();
    let mut errors = Vec::new();
    let mut model_non_finite = 0;
    for (&m, &t) in model.iter().zip(true_log_density) {
        if t.is_nan() || t < cut || !t.is_finite() {
            continue;
        }
        if m == f64::NEG_INFINITY || !ln_z_model.is_finite() {
            model_non_finite += 1;
            errors.push(f64::INFINITY);
        } else {
            errors.push(((m - ln_z_model) - (t - ln_z_true)).powi(2));
        }
    }
    LogDensityError {
        median: crate::metrics::chains::median(&errors),
        points: errors.len(),
        skipped,
        model_non_finite,
    }
}

/// The metric on `grid` with the default threshold ([`DEFAULT_REL_THRESHOLD`]): the model's
/// energy `U` (density `∝ e^{−U}`, in data units) and the true log density are evaluated at
/// every cell centre.
pub fn log_density_error_on_grid<R: Copy + Into<f64>>(
    grid: &Grid2d,
    energy: impl Fn(&[f32]) -> R,
    true_log_density: impl Fn(&[f32]) -> f64,
) -> LogDensityError {
    let (u, t): (Vec<R>, Vec<f64>) = grid
        .centres()
        .map(|c| (energy(&c), true_log_density(&c)))
        .unzip();
    log_density_error_from_values(&u, &t, DEFAULT_REL_THRESHOLD)
}

/// `ln Σ e^v` over the finite-or-`−∞` values (`−∞` if none is finite).
fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return f64::NEG_INFINITY;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::BuiltIn;

    #[test]
    fn true_density_against_itself_is_zero() {
        for set in [
            BuiltIn::TwoModes,
            BuiltIn::FourModes,
            BuiltIn::EightGaussians,
            BuiltIn::Rings,
        ] {
            let t = set.truth();
            let g = Grid2d::for_set(set).unwrap();
            // Shifted by a constant: normalisation on the grid removes it.
            let e = log_density_error_on_grid(&g, |x| 3.0 - t.log_density(x), |x| t.log_density(x));
            assert!(e.median < 1e-20, "{set}: {e:?}");
            assert!(
                e.points > 1000 && e.skipped == 0 && e.model_non_finite == 0,
                "{set}: {e:?}"
            );
        }
    }

    #[test]
    fn a_wrong_width_is_penalised() {
        // Model: eight Gaussians with std 0.2 instead of 0.15.
        let t = BuiltIn::EightGaussians.truth();
        let g = Grid2d::for_set(BuiltIn::EightGaussians).unwrap();
        let wide = |x: &[f32]| {
            let lse: f64 = t
                .centres()
                .iter()
                .map(|c| {
                    let sq = (f64::from(x[0]) - f64::from(c[0])).powi(2)
                        + (f64::from(x[1]) - f64::from(c[1])).powi(2);
                    (-sq / (2.0 * 0.04)).exp()
                })
                .sum();
            -lse.ln()
        };
        let e = log_density_error_on_grid(&g, wide, |x| t.log_density(x));
        assert!(e.median > 0.05 && e.median < 10.0, "{e:?}");
    }

    #[test]
    fn threshold_median_and_non_finite_model() {
        // Truth ∝ (1, 1, 1, 1e-6): the last point is below 1e-4 of the max and left out.
        let truth = [0.0, 0.0, 0.0, (1e-6f64).ln()];
        let exact = truth.map(|v| -v);
        let e = log_density_error_from_values(&exact, &truth, 1e-4);
        assert_eq!(e.points, 3);
        assert!(e.median < 1e-24, "{e:?}");
        // A flat model puts 1/4 of its mass on each point, not 1/3: error (ln 3/4)².
        let e = log_density_error_from_values(&[0.0f64; 4], &truth, 1e-4);
        assert!((e.median - (0.75f64).ln().powi(2)).abs() < 1e-5, "{e:?}");
        let e = log_density_error_from_values(&[0.0f32, f32::NAN, 0.0, 0.0], &truth, 1e-4);
        assert_eq!((e.points, e.model_non_finite), (3, 1));
        assert!(e.median.is_finite());
        let e = log_density_error_from_values(&[f32::NAN; 4], &truth, 1e-4);
        assert_eq!(e.median, f64::INFINITY);
        let e = log_density_error_from_values(&[0.0f32; 2], &[f64::NAN, 0.0], 1e-4);
        // The model still spreads its mass over both cells.
        assert_eq!((e.points, e.skipped), (1, 1));
        assert!((e.median - 2f64.ln().powi(2)).abs() < 1e-12);
    }
}

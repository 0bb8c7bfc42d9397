//! The MMD two-sample test: unbiased MMD², Gaussian kernel (median-heuristic bandwidth), and
//! a permutation p-value with the null's scale.

use super::kmeans::dist2;
use crate::data::Dataset;
use crate::data::sampling::subsample;
use emberflow_core::{SeedStream, shuffle};

/// An MMD two-sample test.
pub struct Mmd {
    /// Unbiased MMD² estimate.
    pub mmd2: f64,
    /// Kernel bandwidth h of `k(x, y) = exp(−|x − y|² / (2h²))`.
    pub bandwidth: f64,
    /// Whether the bandwidth is the median heuristic's.
    pub median: bool,
    /// Samples in the test (after subsampling).
    pub n_samples: usize,
    /// Data points in the test.
    pub n_data: usize,
    /// Permutations of the null.
    pub permutations: usize,
    /// Mean and standard deviation of MMD² over the permutations (the null's location and
    /// scale), and the p-value `(1 + #{perm ≥ observed}) / (1 + permutations)`.
    pub null_mean: f64,
    /// See `null_mean`.
    pub null_sd: f64,
    /// See `null_mean`.
    pub p_value: f64,
}

/// Unbiased MMD² between `x` and `y` on random subsets of at most `max_points` each, Gaussian
/// kernel with the median pairwise distance of the pooled subsets as bandwidth (or the given
/// one), and a permutation test.
pub fn mmd(
    x: &Dataset,
    y: &Dataset,
    max_points: usize,
    permutations: usize,
    bandwidth: Option<f64>,
    seed: u64,
) -> Mmd {
    let mut r = SeedStream::MMD.rng(seed);
    let xs = subsample(x.len(), max_points.max(2), &mut r);
    let ys = subsample(y.len(), max_points.max(2), &mut r);
    let pooled: Vec<&[f32]> = xs
        .iter()
        .map(|&i| x.row(i))
        .chain(ys.iter().map(|&i| y.row(i)))
        .collect();
    let (m, n) = (xs.len(), ys.len());
    let total = m + n;
    let mut d2 = vec![0.0f64; total * total];
    for i in 0..total {
        for j in i + 1..total {
            let v = dist2(pooled[i], pooled[j]);
            d2[i * total + j] = v;
            d2[j * total + i] = v;
        }
    }
    let mut upper: Vec<f64> = (0..total)
        .flat_map(|i| (i + 1..total).map(move |j| (i, j)))
        .map(|(i, j)| d2[i * total + j])
        .collect();
    let mid = upper.len() / 2;
    let med = if upper.is_empty() {
        1.0
    } else {
        *upper.select_nth_unstable_by(mid, f64::total_cmp).1
    };
    let h2 = match bandwidth {
        Some(h) => h * h,
        None if med > 0.0 && med.is_finite() => med,
        None => 1.0,
    };
    let kmat: Vec<f64> = d2.iter().map(|&v| (-v / (2.0 * h2)).exp()).collect();
    drop(d2);
    let stat = |is_x: &[bool]| -> f64 {
        let (mut sxx, mut syy, mut sxy) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..total {
            let row = &kmat[i * total..(i + 1) * total];
            let (mut rx, mut ry) = (0.0f64, 0.0f64);
            for j in i + 1..total {
                if is_x[j] {
                    rx += row[j];
                } else {
                    ry += row[j];
                }
            }
            if is_x[i] {
                sxx += rx;
                sxy += ry;
            } else {
                syy += ry;
                sxy += rx;
            }
        }
        let (mf, nf) = (m as f64, n as f64);
        2.0 * sxx / (mf * (mf - 1.0)) + 2.0 * syy / (nf * (nf - 1.0)) - 2.0 * sxy / (mf * nf)
    };
    let mut labels: Vec<bool> = (0..total).map(|i| i < m).collect();
    let observed = stat(&labels);
    let mut null = Vec::with_capacity(permutations);
    for _ in 0..permutations {
        shuffle(&mut r, &mut labels);
        null.push(stat(&labels));
    }
    let p = null.len() as f64;
    let null_mean = null.iter().sum::<f64>() / p.max(1.0);
    let null_sd =
        (null.iter().map(|v| (v - null_mean).powi(2)).sum::<f64>() / (p - 1.0).max(1.0)).sqrt();
    let exceed = null.iter().filter(|&&v| v >= observed).count();
    Mmd {
        mmd2: observed,
        bandwidth: h2.sqrt(),
        median: bandwidth.is_none(),
        n_samples: m,
        n_data: n,
        permutations,
        null_mean: if permutations > 0 {
            null_mean
        } else {
            f64::NAN
        },
        null_sd: if permutations > 1 { null_sd } else { f64::NAN },
        p_value: if permutations > 0 {
            (1.0 + exceed as f64) / (1.0 + p)
        } else {
            f64::NAN
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::kmeans::tests::blobs;

    #[test]
    fn mmd_separates_shifted_sets_and_not_equal_ones() {
        let a = blobs(&[[0.0, 0.0]], 400, 1.0, 4);
        let b = blobs(&[[0.0, 0.0]], 400, 1.0, 5);
        let shifted = blobs(&[[0.6, 0.0]], 400, 1.0, 6);
        let same = mmd(&a, &b, 400, 200, None, 0);
        let diff = mmd(&a, &shifted, 400, 200, None, 0);
        assert!(same.median && same.bandwidth > 1.0 && same.bandwidth < 2.5);
        assert!(same.p_value > 0.01, "p = {}", same.p_value);
        assert!(diff.p_value < 0.01, "p = {}", diff.p_value);
        assert!(diff.mmd2 > 5.0 * diff.null_sd);
        assert!(same.mmd2.abs() < 4.0 * same.null_sd);
        // The null of the unbiased estimator is centred at 0.
        assert!(diff.null_mean.abs() < diff.null_sd);
        let given = mmd(&a, &shifted, 400, 0, Some(0.5), 0);
        assert!(!given.median && (given.bandwidth - 0.5).abs() < 1e-12);
        assert!(given.p_value.is_nan() && given.null_sd.is_nan());
    }
}

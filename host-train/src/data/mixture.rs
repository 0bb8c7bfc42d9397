//! [`GaussianMixture`]: a mixture of isotropic Gaussians, `Σ_k w_k N(μ_k, v_k I)`, with its
//! exact log density and seeded sampling.

use super::dataset::Dataset;
use super::sampling::{log_sum_exp, shuffled_labels, stratified_counts};
use emberflow_core::{Xoshiro128PlusPlus, random};

/// One isotropic component `w · N(mean, variance · I)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// Mixture weight (the weights of a mixture sum to 1).
    pub weight: f64,
    /// Mean `μ`.
    pub mean: Vec<f64>,
    /// Variance `v` of every coordinate (covariance `v · I`).
    pub variance: f64,
}

/// A mixture of isotropic Gaussians in dimension `d`.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianMixture {
    dim: usize,
    components: Vec<Component>,
    /// `ln w_k − d/2 · ln(2π v_k)` per component.
    log_norm: Vec<f64>,
}

impl GaussianMixture {
    /// A mixture from its components. Panics unless there is at least one component, all of the
    /// same dimension `≥ 1`, with positive finite weights summing to 1 (±1e-9) and positive
    /// finite variances: the built-in sets are fixed, so a bad one is a programming error.
    pub fn new(components: Vec<Component>) -> Self {
        assert!(!components.is_empty(), "a mixture needs a component");
        let dim = components[0].mean.len();
        assert!(dim > 0, "dimension must be at least 1");
        let total: f64 = components.iter().map(|c| c.weight).sum();
        assert!((total - 1.0).abs() < 1e-9, "weights sum to {total}, not 1");
        for c in &components {
            assert_eq!(c.mean.len(), dim, "components of different dimensions");
            assert!(c.weight > 0.0 && c.weight.is_finite(), "bad weight");
            assert!(c.variance > 0.0 && c.variance.is_finite(), "bad variance");
            assert!(c.mean.iter().all(|m| m.is_finite()), "bad mean");
        }
        let log_norm = components
            .iter()
            .map(|c| {
                c.weight.ln() - 0.5 * dim as f64 * (2.0 * std::f64::consts::PI * c.variance).ln()
            })
            .collect();
        Self {
            dim,
            components,
            log_norm,
        }
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The components.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// The mixture weights, in component order.
    pub fn weights(&self) -> Vec<f64> {
        self.components.iter().map(|c| c.weight).collect()
    }

    /// The component of the largest responsibility `w_k N(x; μ_k, v_k I)` at `x` (the first
    /// of equals).
    pub fn most_likely(&self, x: &[f32]) -> usize {
        let mut best = (0, f64::NEG_INFINITY);
        for (k, (c, ln)) in self.components.iter().zip(&self.log_norm).enumerate() {
            let sq: f64 = x
                .iter()
                .zip(&c.mean)
                .map(|(&xi, m)| (f64::from(xi) - m).powi(2))
                .sum();
            let l = ln - 0.5 * sq / c.variance;
            if l > best.1 {
                best = (k, l);
            }
        }
        best.0
    }

    /// Exact `ln p(x)` in f64 (log-sum-exp over components). `x.len()` must be `d`.
    pub fn log_density(&self, x: &[f32]) -> f64 {
        debug_assert_eq!(x.len(), self.dim);
        log_sum_exp(self.components.iter().zip(&self.log_norm).map(|(c, ln)| {
            let sq: f64 = x
                .iter()
                .zip(&c.mean)
                .map(|(&xi, m)| (f64::from(xi) - m).powi(2))
                .sum();
            ln - sq / (2.0 * c.variance)
        }))
    }

    /// The index of the component whose mean is nearest to `x` (Euclidean; the lowest index
    /// on ties; 0 for a point with NaN coordinates).
    pub fn nearest(&self, x: &[f32]) -> usize {
        nearest_centre(self.components.iter().map(|c| c.mean.as_slice()), x)
    }

    /// One draw of component `k` into `out` (`μ_k + √v_k · z`, computed in f32).
    pub fn sample_component(&self, k: usize, rng: &mut Xoshiro128PlusPlus, out: &mut [f32]) {
        let c = &self.components[k];
        random::fill_standard_normal(rng, out);
        let sd = c.variance.sqrt() as f32;
        for (o, &m) in out.iter_mut().zip(&c.mean) {
            *o = m as f32 + sd * *o;
        }
    }

    /// `n` points with exactly `round(n · w_k)` from component `k` (largest remainder, so the
    /// sample's mode weights equal the true ones up to `1/n`), in a seeded random order.
    pub fn sample(&self, n: usize, rng: &mut Xoshiro128PlusPlus) -> Dataset {
        let counts = stratified_counts(&self.weights(), n);
        let labels = shuffled_labels(rng, &counts);
        let mut values = vec![0.0f32; n * self.dim];
        for (row, &k) in values.chunks_exact_mut(self.dim).zip(&labels) {
            self.sample_component(k, rng, row);
        }
        Dataset::from_trusted(self.dim, values)
    }
}

/// The index of the nearest of `centres` to `x` (squared Euclidean distance in f64; the lowest
/// index on ties; 0 when every distance is NaN).
pub(crate) fn nearest_centre<'a>(centres: impl Iterator<Item = &'a [f64]>, x: &[f32]) -> usize {
    let mut best = (0, f64::INFINITY);
    for (k, c) in centres.enumerate() {
        let d: f64 = x
            .iter()
            .zip(c)
            .map(|(&xi, m)| (f64::from(xi) - m).powi(2))
            .sum();
        if d < best.1 {
            best = (k, d);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> GaussianMixture {
        GaussianMixture::new(vec![
            Component {
                weight: 0.25,
                mean: vec![-1.0, 0.0],
                variance: 0.5,
            },
            Component {
                weight: 0.75,
                mean: vec![2.0, 1.0],
                variance: 2.0,
            },
        ])
    }

    #[test]
    fn log_density_matches_the_formula() {
        let m = two();
        let x = [0.5f32, -0.25];
        let n = |mu: [f64; 2], v: f64| {
            let sq = (0.5 - mu[0]).powi(2) + (-0.25 - mu[1]).powi(2);
            (-sq / (2.0 * v)).exp() / (2.0 * std::f64::consts::PI * v)
        };
        let p = 0.25 * n([-1.0, 0.0], 0.5) + 0.75 * n([2.0, 1.0], 2.0);
        assert!((m.log_density(&x) - p.ln()).abs() < 1e-12);
        // Far in the tail the density underflows but its log stays finite.
        assert!(m.log_density(&[1e4, 1e4]).is_finite());
    }

    #[test]
    fn sample_has_exact_counts_and_right_moments() {
        let m = GaussianMixture::new(vec![
            Component {
                weight: 0.25,
                mean: vec![-3.0, 0.0],
                variance: 0.25,
            },
            Component {
                weight: 0.75,
                mean: vec![3.0, 1.0],
                variance: 0.5,
            },
        ]);
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(9);
        let d = m.sample(40_000, &mut rng);
        assert_eq!(d.len(), 40_000);
        let near: usize = d.rows().filter(|r| m.nearest(r) == 0).count();
        // Exactly 10 000 from component 0, and the modes are 8 sd apart.
        assert_eq!(near, 10_000);
        let mean_x: f64 = d.rows().map(|r| f64::from(r[0])).sum::<f64>() / 40_000.0;
        assert!(
            (mean_x - (0.25 * -3.0 + 0.75 * 3.0)).abs() < 0.01,
            "{mean_x}"
        );
        let var_y: f64 = d
            .rows()
            .filter(|r| r[0] < 0.0)
            .map(|r| f64::from(r[1]).powi(2))
            .sum::<f64>()
            / 10_000.0;
        assert!((var_y - 0.25).abs() < 0.01, "{var_y}");
        let again = m.sample(40_000, &mut Xoshiro128PlusPlus::seed_from_u64(9));
        assert_eq!(d, again);
    }

    #[test]
    fn nearest_handles_nan() {
        assert_eq!(two().nearest(&[f32::NAN, 0.0]), 0);
        assert_eq!(two().nearest(&[3.0, 1.0]), 1);
    }
}

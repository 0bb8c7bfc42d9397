//! [`Rings`]: concentric rings in the plane — radius `r ~ (1/K) Σ_k N(R_k, σ²)`, angle
//! `θ ~ U[0, 2π)`, `x = (r cos θ, r sin θ)` (PAPER.md §4).

use super::dataset::Dataset;
use super::sampling::{shuffled_labels, stratified_counts};
use emberflow_core::{Xoshiro128PlusPlus, math, random};
use std::f64::consts::PI;

/// Equal-weight rings of radii `R_k` and radial standard deviation `σ`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rings {
    radii: Vec<f64>,
    sd: f64,
}

impl Rings {
    /// Below this norm the density is evaluated at this norm (see [`Rings::log_density`]).
    pub const MIN_NORM: f64 = 1e-6;

    /// Rings of the given radii (positive, finite, at least one) and radial `sd > 0`; panics
    /// otherwise (the built-in sets are fixed, so a bad one is a programming error).
    pub fn new(radii: Vec<f64>, sd: f64) -> Self {
        assert!(!radii.is_empty(), "no rings");
        assert!(
            radii.iter().all(|r| *r > 0.0 && r.is_finite()),
            "bad radius"
        );
        assert!(sd > 0.0 && sd.is_finite(), "bad sd");
        Self { radii, sd }
    }

    /// The radii `R_k`.
    pub fn radii(&self) -> &[f64] {
        &self.radii
    }

    /// The radial standard deviation `σ`.
    pub fn sd(&self) -> f64 {
        self.sd
    }

    /// Exact `ln p(x)` of the sampling procedure, in f64:
    ///
    /// `p(x) = [f(‖x‖) + f(−‖x‖)] / (2π ‖x‖)`, `f(r) = (1/K) Σ_k N(r; R_k, σ²)`
    ///
    /// (polar change of variables; the `f(−‖x‖)` term accounts for a negative radius draw,
    /// probability ~1e-11). This is the density of the samples; ebm-anatomy's formula divides by
    /// `2π R_k` instead of `2π ‖x‖`, which is a different (radially tilted) density. The density
    /// has an integrable `1/‖x‖` singularity at the origin (of height `f(0) ≈ 1e-10`): norms below
    /// [`Self::MIN_NORM`] are evaluated at that norm so the value stays finite.
    pub fn log_density(&self, x: &[f32]) -> f64 {
        debug_assert_eq!(x.len(), 2);
        let r = f64::from(x[0]).hypot(f64::from(x[1])).max(Self::MIN_NORM);
        if r.is_nan() {
            return f64::NAN;
        }
        let k = self.radii.len() as f64;
        let v = self.sd * self.sd;
        let ln_n0 = -0.5 * (2.0 * PI * v).ln();
        let terms = self.radii.iter().flat_map(|&rk| {
            [
                ln_n0 - (r - rk).powi(2) / (2.0 * v),
                ln_n0 - (r + rk).powi(2) / (2.0 * v),
            ]
        });
        super::sampling::log_sum_exp(terms) - k.ln() - (2.0 * PI * r).ln()
    }

    /// The index of the ring whose radius is nearest to `‖x‖` (the lower index on ties).
    pub fn nearest(&self, x: &[f32]) -> usize {
        let r = f64::from(x[0]).hypot(f64::from(x[1]));
        let mut best = (0, f64::INFINITY);
        for (k, rk) in self.radii.iter().enumerate() {
            let d = (r - rk).abs();
            if d < best.1 {
                best = (k, d);
            }
        }
        best.0
    }

    /// `n` points with exactly `round(n / K)` per ring (largest remainder), in a seeded random
    /// order; radius and angle in f32 through `emberflow_core::math`, so bit-identical
    /// everywhere.
    pub fn sample(&self, n: usize, rng: &mut Xoshiro128PlusPlus) -> Dataset {
        let counts = stratified_counts(&vec![1.0; self.radii.len()], n);
        let labels = shuffled_labels(rng, &counts);
        let mut values = Vec::with_capacity(2 * n);
        for &k in &labels {
            let r = self.radii[k] as f32 + self.sd as f32 * random::standard_normal(rng);
            let theta = math::TWO_PI * random::uniform_open01(rng);
            let (s, c) = math::sin_cos(theta);
            values.extend_from_slice(&[r * c, r * s]);
        }
        Dataset::from_trusted(2, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_integrates_to_one() {
        // Midpoint rule in polar coordinates: ∫ p(x) dx = ∫∫ p r dr dθ = ∫ 2π r p(r) dr.
        let rings = Rings::new(vec![1.0, 2.0, 3.0, 4.0], 0.15);
        let dr = 1e-3;
        let total: f64 = (0..6000)
            .map(|i| {
                let r = (i as f64 + 0.5) * dr;
                2.0 * PI * r * rings.log_density(&[r as f32, 0.0]).exp() * dr
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        // Rotation invariant.
        let a = rings.log_density(&[2.0, 0.0]);
        let b = rings.log_density(&[0.0, -2.0]);
        assert!((a - b).abs() < 1e-12);
        assert!(rings.log_density(&[0.0, 0.0]).is_finite());
    }

    #[test]
    fn samples_sit_on_their_rings() {
        let rings = Rings::new(vec![1.0, 2.0, 3.0, 4.0], 0.15);
        let d = rings.sample(20_000, &mut Xoshiro128PlusPlus::seed_from_u64(3));
        let mut hist = [0usize; 4];
        for row in d.rows() {
            hist[rings.nearest(row)] += 1;
        }
        for h in hist {
            assert!((h as f64 / 20_000.0 - 0.25).abs() < 0.005, "{hist:?}");
        }
    }
}

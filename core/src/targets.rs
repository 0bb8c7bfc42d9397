//! Analytic targets: a correlated Gaussian and an isotropic Gaussian mixture, with exact
//! gradients. They let the kernels be checked against known answers, and they show that any
//! `Energy` can be sampled, not only networks.

use crate::energy::Energy;
use crate::math;

/// N(μ, Σ) given by its mean and precision matrix `P = Σ⁻¹`: `U(x) = ½ (x−μ)ᵀ P (x−μ)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian<const D: usize> {
    /// Mean μ.
    pub mean: [f32; D],
    /// Precision matrix (symmetric positive definite).
    pub precision: [[f32; D]; D],
}

impl<const D: usize> Energy<D> for Gaussian<D> {
    fn energy(&self, x: &[f32; D]) -> f32 {
        let mut g = [0.0; D];
        self.energy_and_grad(x, &mut g)
    }

    fn energy_and_grad(&self, x: &[f32; D], grad: &mut [f32; D]) -> f32 {
        let mut r = [0.0f32; D];
        for i in 0..D {
            r[i] = x[i] - self.mean[i];
        }
        let mut u = 0.0;
        for i in 0..D {
            let mut pi = 0.0;
            for j in 0..D {
                pi += self.precision[i][j] * r[j];
            }
            grad[i] = pi;
            u += r[i] * pi;
        }
        0.5 * u
    }
}

/// `Σ_k w_k N(μ_k, s_k² I)`: `U(x) = −ln Σ_k w_k N(x; μ_k, s_k² I)` (normalised).
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianMixture<const D: usize, const K: usize> {
    /// Component weights (positive, summing to 1).
    pub weights: [f32; K],
    /// Component means.
    pub means: [[f32; D]; K],
    /// Component standard deviations.
    pub sigmas: [f32; K],
}

impl<const D: usize, const K: usize> GaussianMixture<D, K> {
    /// The index of the component whose mean is nearest to `x` (mode assignment).
    pub fn nearest(&self, x: &[f32; D]) -> usize {
        let mut best = (0, f32::INFINITY);
        for (k, m) in self.means.iter().enumerate() {
            let d: f32 = m.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
            if d < best.1 {
                best = (k, d);
            }
        }
        best.0
    }

    fn log_components(&self, x: &[f32; D], out: &mut [f32; K]) {
        for k in 0..K {
            let s = self.sigmas[k];
            let mut q = 0.0;
            for i in 0..D {
                let r = (x[i] - self.means[k][i]) / s;
                q += r * r;
            }
            out[k] =
                math::ln(self.weights[k]) - 0.5 * q - D as f32 * (math::ln(s) + 0.5 * math::LN_2PI);
        }
    }
}

impl<const D: usize, const K: usize> Energy<D> for GaussianMixture<D, K> {
    fn energy(&self, x: &[f32; D]) -> f32 {
        let mut lc = [0.0; K];
        self.log_components(x, &mut lc);
        -lc.iter()
            .fold(f32::NEG_INFINITY, |a, b| math::log_add_exp(a, *b))
    }

    fn energy_and_grad(&self, x: &[f32; D], grad: &mut [f32; D]) -> f32 {
        let mut lc = [0.0; K];
        self.log_components(x, &mut lc);
        let lse = lc
            .iter()
            .fold(f32::NEG_INFINITY, |a, b| math::log_add_exp(a, *b));
        *grad = [0.0; D];
        for k in 0..K {
            let r = math::exp(lc[k] - lse);
            let inv_var = 1.0 / (self.sigmas[k] * self.sigmas[k]);
            for i in 0..D {
                grad[i] += r * (x[i] - self.means[k][i]) * inv_var;
            }
        }
        -lse
    }
}

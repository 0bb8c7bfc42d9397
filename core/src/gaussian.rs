//! `DiagGaussian<D>`: the base density ρ = N(0, diag σ²) shared by the flow and the tilt.

use crate::error::Error;
use crate::math;
use crate::random::fill_standard_normal;
use rand_core::RngCore;

/// A centred Gaussian with diagonal covariance `diag(σ²)`.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagGaussian<const D: usize> {
    sigma: [f32; D],
    inv_sigma: [f32; D],
    log_norm: f32,
}

impl<const D: usize> DiagGaussian<D> {
    /// N(0, diag σ²). Every σ must be finite and positive.
    pub fn new(sigma: [f32; D]) -> Result<Self, Error> {
        const { assert!(D > 0, "a Gaussian needs D > 0") };
        if !sigma.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(Error::InvalidScale);
        }
        let mut log_norm = -0.5 * D as f32 * math::LN_2PI;
        for s in &sigma {
            log_norm -= math::ln(*s);
        }
        Ok(Self {
            sigma,
            inv_sigma: sigma.map(|s| 1.0 / s),
            log_norm,
        })
    }

    /// N(0, σ² I).
    pub fn isotropic(sigma: f32) -> Result<Self, Error> {
        Self::new([sigma; D])
    }

    /// The standard normal N(0, I).
    pub fn standard() -> Self {
        Self {
            sigma: [1.0; D],
            inv_sigma: [1.0; D],
            log_norm: -0.5 * D as f32 * math::LN_2PI,
        }
    }

    /// Per-dimension standard deviations.
    pub fn sigma(&self) -> &[f32; D] {
        &self.sigma
    }

    /// `ln ρ(z)`.
    #[inline]
    pub fn log_density(&self, z: &[f32; D]) -> f32 {
        let mut q = 0.0f32;
        for (zi, is) in z.iter().zip(&self.inv_sigma) {
            let u = zi * is;
            q += u * u;
        }
        self.log_norm - 0.5 * q
    }

    /// `ln ρ(z)` and `∇ ln ρ(z) = −z/σ²` (written into `grad`).
    #[inline]
    pub fn log_density_and_grad(&self, z: &[f32; D], grad: &mut [f32; D]) -> f32 {
        let mut q = 0.0f32;
        for ((g, zi), is) in grad.iter_mut().zip(z).zip(&self.inv_sigma) {
            let u = zi * is;
            q += u * u;
            *g = -u * is;
        }
        self.log_norm - 0.5 * q
    }

    /// Draw `z ~ ρ`.
    #[inline]
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, z: &mut [f32; D]) {
        fill_standard_normal(rng, z);
        for (zi, s) in z.iter_mut().zip(&self.sigma) {
            *zi *= s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_scales() {
        assert_eq!(
            DiagGaussian::<2>::new([1.0, 0.0]).unwrap_err(),
            Error::InvalidScale
        );
        assert!(DiagGaussian::<2>::new([1.0, f32::NAN]).is_err());
        assert!(DiagGaussian::<1>::new([-1.0]).is_err());
    }

    #[test]
    fn log_density_matches_closed_form() {
        let g = DiagGaussian::new([0.5f32, 2.0]).unwrap();
        let z = [0.3f32, -1.2];
        let exact = -(2.0 * core::f64::consts::PI).ln()
            - (0.5f64).ln()
            - (2.0f64).ln()
            - 0.5 * ((0.3f64 / 0.5).powi(2) + (1.2f64 / 2.0).powi(2));
        assert!((g.log_density(&z) as f64 - exact).abs() < 1e-6);
        let mut grad = [0.0; 2];
        let v = g.log_density_and_grad(&z, &mut grad);
        assert_eq!(v, g.log_density(&z));
        assert!((grad[0] + 0.3 / 0.25).abs() < 1e-6 && (grad[1] - 1.2 / 4.0).abs() < 1e-6);
    }
}

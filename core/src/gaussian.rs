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
        let log_norm = log_norm(&sigma);
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
        log_density(&self.inv_sigma, self.log_norm, z)
    }

    /// `ln ρ(z)`, with `∇ ln ρ(z)` written into `grad`.
    #[inline]
    pub fn log_density_and_grad(&self, z: &[f32; D], grad: &mut [f32; D]) -> f32 {
        log_density_and_grad(&self.inv_sigma, self.log_norm, z, grad)
    }

    /// Draw `z ~ ρ` (`D` standard normals, then scaled).
    #[inline]
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, z: &mut [f32; D]) {
        sample(&self.sigma, rng, z)
    }
}

/// `ln ρ(z) = log_norm − ½ Σ (z_i / σ_i)²`, with `inv_sigma = 1/σ` (the one implementation, for
/// [`DiagGaussian`] and the run-time shaped run-time shapes).
#[inline]
pub(crate) fn log_density(inv_sigma: &[f32], log_norm: f32, z: &[f32]) -> f32 {
    let mut q = 0.0f32;
    for (zi, is) in z.iter().zip(inv_sigma) {
        let u = zi * is;
        q += u * u;
    }
    log_norm - 0.5 * q
}

/// [`log_density`] with its gradient `−z_i / σ_i²` written into `grad`.
#[inline]
pub(crate) fn log_density_and_grad(
    inv_sigma: &[f32],
    log_norm: f32,
    z: &[f32],
    grad: &mut [f32],
) -> f32 {
    let mut q = 0.0f32;
    for ((g, zi), is) in grad.iter_mut().zip(z).zip(inv_sigma) {
        let u = zi * is;
        q += u * u;
        *g = -u * is;
    }
    log_norm - 0.5 * q
}

/// `z ~ N(0, diag σ²)`: `z.len()` standard normals, each times its σ.
#[inline]
pub(crate) fn sample<R: RngCore + ?Sized>(sigma: &[f32], rng: &mut R, z: &mut [f32]) {
    fill_standard_normal(rng, z);
    for (zi, s) in z.iter_mut().zip(sigma) {
        *zi *= s;
    }
}

/// `−½ d ln 2π − Σ ln σ_i`, the log normaliser of N(0, diag σ²).
pub(crate) fn log_norm(sigma: &[f32]) -> f32 {
    let mut log_norm = -0.5 * sigma.len() as f32 * math::LN_2PI;
    for s in sigma {
        log_norm -= math::ln(*s);
    }
    log_norm
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

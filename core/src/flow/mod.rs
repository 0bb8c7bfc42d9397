//! Normalising flows: `trait Flow` and the RealNVP affine-coupling stack.
//!
//! A flow is a bijection `T` pushed forward from a base density ρ: `x = T(z)`, `z ~ ρ`, with
//! density `ln λ(x) = ln ρ(T⁻¹x) + ln|det J_{T⁻¹}(x)|`. The FlowMC global moves use it as an
//! independent proposal.

pub(crate) mod coupling;
mod realnvp;

pub use coupling::AffineCoupling;
pub use realnvp::{CouplingBlock, RealNvp};

use crate::gaussian::DiagGaussian;
use rand_core::RngCore;

/// An invertible map with a tractable Jacobian over a Gaussian base.
pub trait Flow<const D: usize> {
    /// The base density ρ.
    fn base(&self) -> &DiagGaussian<D>;

    /// `x = T(z)`; returns `ln|det ∂T/∂z|`.
    fn transform(&self, z: &[f32; D], x: &mut [f32; D]) -> f32;

    /// `z = T⁻¹(x)`; returns `ln|det ∂T⁻¹/∂x|`.
    fn inverse(&self, x: &[f32; D], z: &mut [f32; D]) -> f32;

    /// Draw `x ~ λ` into `x`; returns `ln λ(x)` (computed from the forward pass).
    #[inline]
    fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, x: &mut [f32; D]) -> f32 {
        let mut z = [0.0f32; D];
        self.base().sample(rng, &mut z);
        let log_det = self.transform(&z, x);
        self.base().log_density(&z) - log_det
    }

    /// `ln λ(x)`, through the inverse.
    #[inline]
    fn log_density(&self, x: &[f32; D]) -> f32 {
        let mut z = [0.0f32; D];
        let log_det = self.inverse(x, &mut z);
        self.base().log_density(&z) + log_det
    }
}

/// The base Gaussian is itself a flow with `T = Id`.
impl<const D: usize> Flow<D> for DiagGaussian<D> {
    fn base(&self) -> &DiagGaussian<D> {
        self
    }
    #[inline]
    fn transform(&self, z: &[f32; D], x: &mut [f32; D]) -> f32 {
        *x = *z;
        0.0
    }
    #[inline]
    fn inverse(&self, x: &[f32; D], z: &mut [f32; D]) -> f32 {
        *z = *x;
        0.0
    }
}

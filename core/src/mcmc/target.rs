//! What the kernels see of a target and of a proposal, over slices: [`Potential`] (`U` and
//! `∇U` of a state of [`Potential::dim`] values) and [`Proposal`] (draws and density of the
//! flow), both with caller-provided scratch of the length they state, so that a shape known
//! only at run time needs no heap. [`Fixed`] views a compile-time-shaped [`Energy`] or
//! [`Flow`] through them; the kernels (`mala`, `imh`, `isir`) exist once, over these traits.

use crate::energy::Energy;
use crate::flow::Flow;
use rand_core::RngCore;

/// A potential `U: R^d → R` with its gradient, `d` known at run time; the target is `exp(−U)`.
///
/// Implementations may return a non-finite value (the kernels then reject and count it), and
/// must do so rather than panic for slices of the wrong length or a scratch shorter than
/// [`Potential::scratch_len`].
pub trait Potential {
    /// The dimension `d`.
    fn dim(&self) -> usize;
    /// Scratch floats [`Potential::energy`] and [`Potential::energy_and_grad`] need.
    fn scratch_len(&self) -> usize {
        0
    }
    /// `U(x)`.
    fn energy(&self, x: &[f32], scratch: &mut [f32]) -> f32;
    /// `U(x)`, with `∇U(x)` written into `grad`.
    fn energy_and_grad(&self, x: &[f32], grad: &mut [f32], scratch: &mut [f32]) -> f32;
}

/// An independent proposal `λ` on `R^d` (the flow), `d` known at run time.
pub trait Proposal {
    /// The dimension `d`.
    fn dim(&self) -> usize;
    /// Scratch floats [`Proposal::sample`] and [`Proposal::log_density`] need.
    fn scratch_len(&self) -> usize {
        0
    }
    /// Draw `x ~ λ` (exactly `d` standard normals); returns `ln λ(x)`.
    fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, x: &mut [f32], scratch: &mut [f32]) -> f32;
    /// `ln λ(x)`.
    fn log_density(&self, x: &[f32], scratch: &mut [f32]) -> f32;
}

impl<P: Potential + ?Sized> Potential for &P {
    #[inline]
    fn dim(&self) -> usize {
        (**self).dim()
    }
    #[inline]
    fn scratch_len(&self) -> usize {
        (**self).scratch_len()
    }
    #[inline]
    fn energy(&self, x: &[f32], scratch: &mut [f32]) -> f32 {
        (**self).energy(x, scratch)
    }
    #[inline]
    fn energy_and_grad(&self, x: &[f32], grad: &mut [f32], scratch: &mut [f32]) -> f32 {
        (**self).energy_and_grad(x, grad, scratch)
    }
}

impl<P: Proposal + ?Sized> Proposal for &P {
    #[inline]
    fn dim(&self) -> usize {
        (**self).dim()
    }
    #[inline]
    fn scratch_len(&self) -> usize {
        (**self).scratch_len()
    }
    #[inline]
    fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, x: &mut [f32], scratch: &mut [f32]) -> f32 {
        (**self).sample(rng, x, scratch)
    }
    #[inline]
    fn log_density(&self, x: &[f32], scratch: &mut [f32]) -> f32 {
        (**self).log_density(x, scratch)
    }
}

/// A compile-time-shaped [`Energy<D>`] or [`Flow<D>`] seen as a [`Potential`] / [`Proposal`]
/// (no scratch; a slice of another length than `D` gives NaN).
#[derive(Debug)]
pub struct Fixed<'a, T: ?Sized, const D: usize>(pub &'a T);

impl<T: ?Sized, const D: usize> Clone for Fixed<'_, T, D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized, const D: usize> Copy for Fixed<'_, T, D> {}

impl<U: Energy<D> + ?Sized, const D: usize> Potential for Fixed<'_, U, D> {
    #[inline]
    fn dim(&self) -> usize {
        D
    }
    #[inline]
    fn energy(&self, x: &[f32], _: &mut [f32]) -> f32 {
        match <&[f32; D]>::try_from(x) {
            Ok(x) => self.0.energy(x),
            Err(_) => f32::NAN,
        }
    }
    #[inline]
    fn energy_and_grad(&self, x: &[f32], grad: &mut [f32], _: &mut [f32]) -> f32 {
        match (<&[f32; D]>::try_from(x), <&mut [f32; D]>::try_from(grad)) {
            (Ok(x), Ok(grad)) => self.0.energy_and_grad(x, grad),
            _ => f32::NAN,
        }
    }
}

impl<F: Flow<D> + ?Sized, const D: usize> Proposal for Fixed<'_, F, D> {
    #[inline]
    fn dim(&self) -> usize {
        D
    }
    #[inline]
    fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, x: &mut [f32], _: &mut [f32]) -> f32 {
        match <&mut [f32; D]>::try_from(x) {
            Ok(x) => self.0.sample(rng, x),
            Err(_) => f32::NAN,
        }
    }
    #[inline]
    fn log_density(&self, x: &[f32], _: &mut [f32]) -> f32 {
        match <&[f32; D]>::try_from(x) {
            Ok(x) => self.0.log_density(x),
            Err(_) => f32::NAN,
        }
    }
}

/// The first `n` floats of `scratch` and the rest, or `None` if it is shorter than `n`.
#[inline]
pub(crate) fn take(scratch: &mut [f32], n: usize) -> Option<(&mut [f32], &mut [f32])> {
    if scratch.len() < n {
        None
    } else {
        Some(scratch.split_at_mut(n))
    }
}

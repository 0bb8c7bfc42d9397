//! Element-wise activations, chosen by type.
//!
//! Each is a zero-sized type implementing [`Activation`]: the value, and the derivative from the
//! pre-activation (what the backward pass keeps).

use crate::math;

/// Which activation, as stored in a model file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ActivationKind {
    /// `x`.
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, `0.05·x` otherwise.
    LeakyRelu,
    /// `x·σ(x)`.
    Silu,
    /// `tanh x`.
    Tanh,
}

impl ActivationKind {
    /// Every activation, in tag order.
    pub const ALL: [ActivationKind; 5] = [
        ActivationKind::Identity,
        ActivationKind::Relu,
        ActivationKind::LeakyRelu,
        ActivationKind::Silu,
        ActivationKind::Tanh,
    ];

    /// `v_i ← σ(v_i)` with this activation's [`Activation::apply`] (one dispatch per vector).
    #[inline]
    pub fn apply_all(self, v: &mut [f32]) {
        fn each<A: Activation>(v: &mut [f32]) {
            for x in v {
                *x = A::apply(*x);
            }
        }
        match self {
            ActivationKind::Identity => {}
            ActivationKind::Relu => each::<Relu>(v),
            ActivationKind::LeakyRelu => each::<LeakyRelu>(v),
            ActivationKind::Silu => each::<Silu>(v),
            ActivationKind::Tanh => each::<Tanh>(v),
        }
    }

    /// `g_i ← g_i · σ'(z_i)` (the backward pass through the activation at pre-activations `z`).
    #[inline]
    pub fn scale_by_derivative(self, z: &[f32], g: &mut [f32]) {
        fn each<A: Activation>(z: &[f32], g: &mut [f32]) {
            for (d, z) in g.iter_mut().zip(z) {
                *d *= A::derivative(*z);
            }
        }
        match self {
            ActivationKind::Identity => each::<Identity>(z, g),
            ActivationKind::Relu => each::<Relu>(z, g),
            ActivationKind::LeakyRelu => each::<LeakyRelu>(z, g),
            ActivationKind::Silu => each::<Silu>(z, g),
            ActivationKind::Tanh => each::<Tanh>(z, g),
        }
    }
}

/// An element-wise nonlinearity with its derivative.
pub trait Activation {
    /// The kind, as recorded in a model file.
    const KIND: ActivationKind;
    /// `f(z)`.
    fn apply(z: f32) -> f32;
    /// `f'(z)`.
    fn derivative(z: f32) -> f32;
}

/// The identity (a linear output layer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;
/// Rectified linear unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;
/// Leaky ReLU with slope 0.05 (the paper's energy network).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeakyRelu;
/// SiLU / swish, `x·σ(x)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Silu;
/// Hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

/// Negative slope of [`LeakyRelu`].
pub const LEAKY_RELU_SLOPE: f32 = 0.05;

impl Activation for Identity {
    const KIND: ActivationKind = ActivationKind::Identity;
    #[inline]
    fn apply(z: f32) -> f32 {
        z
    }
    #[inline]
    fn derivative(_: f32) -> f32 {
        1.0
    }
}

impl Activation for Relu {
    const KIND: ActivationKind = ActivationKind::Relu;
    #[inline]
    fn apply(z: f32) -> f32 {
        if z > 0.0 { z } else { 0.0 }
    }
    #[inline]
    fn derivative(z: f32) -> f32 {
        if z > 0.0 { 1.0 } else { 0.0 }
    }
}

impl Activation for LeakyRelu {
    const KIND: ActivationKind = ActivationKind::LeakyRelu;
    #[inline]
    fn apply(z: f32) -> f32 {
        if z > 0.0 { z } else { LEAKY_RELU_SLOPE * z }
    }
    #[inline]
    fn derivative(z: f32) -> f32 {
        if z > 0.0 { 1.0 } else { LEAKY_RELU_SLOPE }
    }
}

impl Activation for Silu {
    const KIND: ActivationKind = ActivationKind::Silu;
    #[inline]
    fn apply(z: f32) -> f32 {
        z / (1.0 + math::exp(-z))
    }
    #[inline]
    fn derivative(z: f32) -> f32 {
        let s = 1.0 / (1.0 + math::exp(-z));
        s * (1.0 + z * (1.0 - s))
    }
}

impl Activation for Tanh {
    const KIND: ActivationKind = ActivationKind::Tanh;
    #[inline]
    fn apply(z: f32) -> f32 {
        math::tanh(z)
    }
    #[inline]
    fn derivative(z: f32) -> f32 {
        let t = math::tanh(z);
        1.0 - t * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<A: Activation>() {
        for i in -40..=40 {
            let z = i as f32 * 0.1 + 0.013;
            let h = 1e-3f32;
            let fd = (A::apply(z + h) as f64 - A::apply(z - h) as f64) / (2.0 * h as f64);
            assert!(
                (fd - A::derivative(z) as f64).abs() < 2e-3,
                "{:?} at {z}",
                A::KIND
            );
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        check::<Identity>();
        check::<Relu>();
        check::<LeakyRelu>();
        check::<Silu>();
        check::<Tanh>();
    }
}

//! Energies: `trait Energy`, the MLP energy `E_θ`, and the tilted target `U = E_θ − ln ρ`.
//!
//! Every sampler in this crate targets `π(x) ∝ exp(−U(x))` for some `U: Energy<D>`: an MLP
//! ([`MlpEnergy`]), its tilt by a base Gaussian ([`Tilted`], the paper's
//! `ln π = −E_θ + ln ρ`), or any analytic density ([`crate::targets`]).

use crate::gaussian::DiagGaussian;
use crate::network::{Network, Parameters, Tape};

/// A potential `U: R^D → R` with its gradient; the target density is `exp(−U)`.
///
/// Implementations may return a non-finite value; samplers then reject the point and count it.
pub trait Energy<const D: usize> {
    /// `U(x)`.
    fn energy(&self, x: &[f32; D]) -> f32;

    /// `U(x)`, with `∇U(x)` written into `grad`.
    fn energy_and_grad(&self, x: &[f32; D], grad: &mut [f32; D]) -> f32;
}

impl<const D: usize, U: Energy<D> + ?Sized> Energy<D> for &U {
    #[inline]
    fn energy(&self, x: &[f32; D]) -> f32 {
        (**self).energy(x)
    }
    #[inline]
    fn energy_and_grad(&self, x: &[f32; D], grad: &mut [f32; D]) -> f32 {
        (**self).energy_and_grad(x, grad)
    }
}

/// `E_θ(x)`: a scalar-output network; the input gradient is one forward plus one backward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct MlpEnergy<N> {
    /// The network `R^D → R^1`.
    pub net: N,
}

impl<N> MlpEnergy<N> {
    /// Wrap a network.
    pub const fn new(net: N) -> Self {
        Self { net }
    }
}

impl<const D: usize, N: Network<D, 1>> Energy<D> for MlpEnergy<N> {
    #[inline]
    fn energy(&self, x: &[f32; D]) -> f32 {
        let mut y = [0.0f32];
        self.net.forward(x, &mut y);
        y[0]
    }

    #[inline]
    fn energy_and_grad(&self, x: &[f32; D], grad: &mut [f32; D]) -> f32 {
        let mut tape = N::Tape::zeroed();
        let mut y = [0.0f32];
        self.net.forward_taped(x, &mut y, &mut tape);
        self.net.backward(&tape, &[1.0], grad);
        y[0]
    }
}

impl<N: Parameters> Parameters for MlpEnergy<N> {
    fn zeroed() -> Self {
        Self::new(N::zeroed())
    }
    fn visit(&self, f: &mut dyn FnMut(&[f32])) {
        self.net.visit(f)
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [f32])) {
        self.net.visit_mut(f)
    }
}

/// The tilted target `U(x) = E(x) − ln ρ(x)`, i.e. `ln π = −E + ln ρ` with ρ = N(0, diag σ²).
///
/// With `E ≡ 0`, `exp(−U)` is exactly ρ (normalisation included).
#[derive(Clone, Debug, PartialEq)]
pub struct Tilted<E, const D: usize> {
    /// The energy `E_θ`.
    pub energy: E,
    /// The base density ρ.
    pub base: DiagGaussian<D>,
}

impl<E, const D: usize> Tilted<E, D> {
    /// `E` tilted by `base`.
    pub const fn new(energy: E, base: DiagGaussian<D>) -> Self {
        Self { energy, base }
    }
}

impl<E: Energy<D>, const D: usize> Tilted<E, D> {
    /// `ln π(x) = −E(x) + ln ρ(x)` (unnormalised in `E`).
    #[inline]
    pub fn log_target(&self, x: &[f32; D]) -> f32 {
        -self.energy(x)
    }
}

impl<E: Energy<D>, const D: usize> Energy<D> for Tilted<E, D> {
    #[inline]
    fn energy(&self, x: &[f32; D]) -> f32 {
        self.energy.energy(x) - self.base.log_density(x)
    }

    #[inline]
    fn energy_and_grad(&self, x: &[f32; D], grad: &mut [f32; D]) -> f32 {
        let mut g_base = [0.0f32; D];
        let e = self.energy.energy_and_grad(x, grad);
        let lr = self.base.log_density_and_grad(x, &mut g_base);
        for (g, gb) in grad.iter_mut().zip(&g_base) {
            *g -= gb;
        }
        e - lr
    }
}

/// `E ≡ 0` (then a [`Tilted`] target is the base Gaussian itself).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZeroEnergy;

impl<const D: usize> Energy<D> for ZeroEnergy {
    #[inline]
    fn energy(&self, _: &[f32; D]) -> f32 {
        0.0
    }
    #[inline]
    fn energy_and_grad(&self, _: &[f32; D], grad: &mut [f32; D]) -> f32 {
        *grad = [0.0; D];
        0.0
    }
}

//! `ChainState<D>`: one persistent chain with its cached energy and gradient.

use crate::energy::Energy;

/// The state of one chain: position, `U(x)` and `∇U(x)` cached (so a MALA step costs one
/// energy-and-gradient evaluation), and the chain's own step size and acceptance average.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChainState<const D: usize> {
    /// Position.
    pub x: [f32; D],
    /// `U(x)`; `+∞` if it was not finite at start (any finite proposal is then accepted).
    pub energy: f32,
    /// `∇U(x)`.
    pub grad: [f32; D],
    /// MALA step size η.
    pub step_size: f32,
    /// Smoothed MALA acceptance probability, driving [`crate::Adaptation`].
    pub acceptance: f32,
}

impl<const D: usize> ChainState<D> {
    /// A chain at `x` with step size `step_size`; evaluates `U` and `∇U` there.
    pub fn new<U: Energy<D> + ?Sized>(target: &U, x: [f32; D], step_size: f32) -> Self {
        let mut chain = Self {
            x,
            energy: 0.0,
            grad: [0.0; D],
            step_size,
            acceptance: 0.75,
        };
        chain.refresh(target);
        chain
    }

    /// Re-evaluate the cached energy and gradient (after the target changed, e.g. a training step).
    pub fn refresh<U: Energy<D> + ?Sized>(&mut self, target: &U) {
        let e = target.energy_and_grad(&self.x, &mut self.grad);
        self.energy = if e.is_nan() { f32::INFINITY } else { e };
    }

    /// Move to `x` (already checked finite) and cache its energy and gradient.
    #[inline]
    pub(crate) fn move_to<U: Energy<D> + ?Sized>(&mut self, target: &U, x: &[f32; D]) {
        self.x = *x;
        self.refresh(target);
    }
}

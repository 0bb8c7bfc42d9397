//! `ChainState<D>`: one persistent chain with its cached energy and gradient, and
//! [`ChainView`], the same chain over borrowed slices (what the kernels work on; a shape known
//! at run time keeps its chains in one caller buffer, [`ChainView::from_buffer`]).

use super::target::{Fixed, Potential};
use crate::energy::Energy;

/// A chain: its state, the cached `U(x)` and `∇U(x)`, and its adapted MALA step size.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChainState<const D: usize> {
    /// Current state.
    pub x: [f32; D],
    /// `U(x)` (`+∞` if not finite).
    pub energy: f32,
    /// `∇U(x)`.
    pub grad: [f32; D],
    /// MALA step size `η`.
    pub step_size: f32,
    /// Smoothed MALA acceptance (for the adaptation).
    pub acceptance: f32,
}

impl<const D: usize> ChainState<D> {
    /// A chain at `x` with the energy and gradient evaluated there.
    pub fn new<U: Energy<D> + ?Sized>(target: &U, x: [f32; D], step_size: f32) -> Self {
        let mut chain = Self {
            x,
            energy: 0.0,
            grad: [0.0; D],
            step_size,
            acceptance: ChainView::INITIAL_ACCEPTANCE,
        };
        chain.refresh(target);
        chain
    }

    /// Re-evaluate the energy and gradient at the current state (after the target changed).
    pub fn refresh<U: Energy<D> + ?Sized>(&mut self, target: &U) {
        self.view().refresh(&Fixed::<U, D>(target), &mut []);
    }

    /// The chain as slices, for the kernels.
    #[inline]
    pub fn view(&mut self) -> ChainView<'_> {
        ChainView {
            x: &mut self.x,
            grad: &mut self.grad,
            energy: &mut self.energy,
            step_size: &mut self.step_size,
            acceptance: &mut self.acceptance,
        }
    }
}

/// One chain over borrowed storage: the state `x`, the cached `U(x)` and `∇U(x)`, the MALA
/// step size and the smoothed acceptance (the fields of [`ChainState`]).
#[derive(Debug)]
pub struct ChainView<'a> {
    /// Current state (`d` values).
    pub x: &'a mut [f32],
    /// `∇U(x)` (`d` values).
    pub grad: &'a mut [f32],
    /// `U(x)` (`+∞` if not finite).
    pub energy: &'a mut f32,
    /// MALA step size `η`.
    pub step_size: &'a mut f32,
    /// Smoothed MALA acceptance.
    pub acceptance: &'a mut f32,
}

impl<'a> ChainView<'a> {
    /// The smoothed acceptance a new chain starts from.
    pub const INITIAL_ACCEPTANCE: f32 = 0.75;

    /// Floats one chain of dimension `d` takes in a buffer: `x`, `∇U`, then `U`, `η`, the
    /// acceptance.
    pub const fn buffer_len(d: usize) -> usize {
        2 * d + 3
    }

    /// The chain stored in `buf` (at least [`ChainView::buffer_len`]`(d)` floats, laid out as
    /// that function says); `None` if `buf` is too short.
    pub fn from_buffer(d: usize, buf: &'a mut [f32]) -> Option<Self> {
        let buf = buf.get_mut(..Self::buffer_len(d))?;
        let (x, rest) = buf.split_at_mut(d);
        let (grad, rest) = rest.split_at_mut(d);
        let [energy, step_size, acceptance] = rest else {
            return None;
        };
        Some(Self {
            x,
            grad,
            energy,
            step_size,
            acceptance,
        })
    }

    /// Start the chain at `x0` with step size `step_size`: the state copied in, the energy and
    /// gradient evaluated there, the acceptance reset.
    pub fn start<U: Potential + ?Sized>(
        &mut self,
        target: &U,
        x0: &[f32],
        step_size: f32,
        scratch: &mut [f32],
    ) {
        for (x, v) in self.x.iter_mut().zip(x0) {
            *x = *v;
        }
        *self.step_size = step_size;
        *self.acceptance = Self::INITIAL_ACCEPTANCE;
        self.refresh(target, scratch);
    }

    /// Re-evaluate the energy and gradient at the current state.
    #[inline]
    pub fn refresh<U: Potential + ?Sized>(&mut self, target: &U, scratch: &mut [f32]) {
        let e = target.energy_and_grad(self.x, self.grad, scratch);
        *self.energy = if e.is_nan() { f32::INFINITY } else { e };
    }

    /// Move to `x` and re-evaluate there.
    #[inline]
    pub(crate) fn move_to<U: Potential + ?Sized>(
        &mut self,
        target: &U,
        x: &[f32],
        scratch: &mut [f32],
    ) {
        self.x.copy_from_slice(x);
        self.refresh(target, scratch);
    }

    /// A shorter-lived view of the same chain.
    #[inline]
    pub fn reborrow(&mut self) -> ChainView<'_> {
        ChainView {
            x: self.x,
            grad: self.grad,
            energy: self.energy,
            step_size: self.step_size,
            acceptance: self.acceptance,
        }
    }
}

//! `Dense<IN, OUT>`: a fully connected layer `y = W x + b` with f32 weights held in the type.
//!
//! `W` is row-major, `[OUT][IN]` (PyTorch's and candle's `Linear` layout). The forward pass is
//! a fixed-order dot product per row ([`crate::kernels::dot`]); the input gradient `Wᵀ g` is an
//! `axpy` per row. Quantised layers that read their weights in place from a model blob
//! implement the same [`Network`] trait.

use crate::kernels::{axpy, dot};
use crate::network::{Network, Parameters};

/// A fully connected layer with owned f32 weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<const IN: usize, const OUT: usize> {
    /// Weights, row `o` maps the input to output `o`.
    pub weight: [[f32; IN]; OUT],
    /// Biases.
    pub bias: [f32; OUT],
}

impl<const IN: usize, const OUT: usize> Dense<IN, OUT> {
    /// All weights and biases zero.
    pub const fn zeroed() -> Self {
        const { assert!(IN > 0 && OUT > 0, "a Dense layer needs IN > 0 and OUT > 0") };
        Self {
            weight: [[0.0; IN]; OUT],
            bias: [0.0; OUT],
        }
    }

    /// A layer from its weights and biases.
    pub const fn new(weight: [[f32; IN]; OUT], bias: [f32; OUT]) -> Self {
        Self { weight, bias }
    }
}

impl<const IN: usize, const OUT: usize> Network<IN, OUT> for Dense<IN, OUT> {
    type Tape = ();

    #[inline]
    fn forward(&self, x: &[f32; IN], y: &mut [f32; OUT]) {
        for ((yo, row), b) in y.iter_mut().zip(&self.weight).zip(&self.bias) {
            *yo = dot(row, x) + b;
        }
    }

    #[inline]
    fn forward_taped(&self, x: &[f32; IN], y: &mut [f32; OUT], _tape: &mut ()) {
        self.forward(x, y)
    }

    #[inline]
    fn backward(&self, _tape: &(), dy: &[f32; OUT], dx: &mut [f32; IN]) {
        *dx = [0.0; IN];
        for (row, g) in self.weight.iter().zip(dy) {
            axpy(*g, row, dx);
        }
    }

    fn macs() -> usize {
        IN * OUT
    }
}

impl<const IN: usize, const OUT: usize> Parameters for Dense<IN, OUT> {
    fn zeroed() -> Self {
        Dense::zeroed()
    }

    fn visit(&self, f: &mut dyn FnMut(&[f32])) {
        f(self.weight.as_flattened());
        f(&self.bias);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [f32])) {
        f(self.weight.as_flattened_mut());
        f(&mut self.bias);
    }
}

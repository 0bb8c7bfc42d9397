//! `Dense<IN, OUT>`: a fully connected layer `y = W x + b` with f32 weights held in the type.
//!
//! `W` is row-major, `[OUT][IN]` (PyTorch's and candle's `Linear` layout). The layer also keeps
//! `Wᵀ`, so both passes stream contiguous memory and vectorise across independent outputs:
//! the forward pass `y = Wᵀᵀx + b` through `gemv_t`, the input gradient `Wᵀ g` as an `axpy`
//! per row. Each output is a sequential sum in index order (the `kernels` module), so the result
//! is bit-identical to a plain per-row loop over `W` — which is what the quantised and in-flash
//! layers of the model file use on a microcontroller.

use crate::kernels::{axpy, gemv_t};
use crate::network::{Network, Parameters};

/// A fully connected layer with owned f32 weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<const IN: usize, const OUT: usize> {
    weight: [[f32; IN]; OUT],
    weight_t: [[f32; OUT]; IN],
    bias: [f32; OUT],
}

impl<const IN: usize, const OUT: usize> Dense<IN, OUT> {
    /// All weights and biases zero.
    pub const fn zeroed() -> Self {
        const { assert!(IN > 0 && OUT > 0, "a Dense layer needs IN > 0 and OUT > 0") };
        Self {
            weight: [[0.0; IN]; OUT],
            weight_t: [[0.0; OUT]; IN],
            bias: [0.0; OUT],
        }
    }

    /// A layer from its weights (`[OUT][IN]`) and biases.
    pub fn new(weight: [[f32; IN]; OUT], bias: [f32; OUT]) -> Self {
        let mut d = Self::zeroed();
        d.weight = weight;
        d.bias = bias;
        d.sync();
        d
    }

    /// The weights, `[OUT][IN]`.
    pub fn weight(&self) -> &[[f32; IN]; OUT] {
        &self.weight
    }

    /// The biases.
    pub fn bias(&self) -> &[f32; OUT] {
        &self.bias
    }

    /// Change weights and biases in place (the transposed copy follows).
    pub fn update(&mut self, f: impl FnOnce(&mut [[f32; IN]; OUT], &mut [f32; OUT])) {
        f(&mut self.weight, &mut self.bias);
        self.sync();
    }

    fn sync(&mut self) {
        for (o, row) in self.weight.iter().enumerate() {
            for (i, w) in row.iter().enumerate() {
                self.weight_t[i][o] = *w;
            }
        }
    }
}

impl<const IN: usize, const OUT: usize> Network<IN, OUT> for Dense<IN, OUT> {
    type Tape = ();

    #[inline]
    fn forward(&self, x: &[f32; IN], y: &mut [f32; OUT]) {
        gemv_t(&self.weight_t, x, y);
        for (yo, b) in y.iter_mut().zip(&self.bias) {
            *yo += b;
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

    /// Weights (`[OUT][IN]`, row-major), then biases.
    fn visit(&self, f: &mut dyn FnMut(&[f32])) {
        f(self.weight.as_flattened());
        f(&self.bias);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [f32])) {
        f(self.weight.as_flattened_mut());
        f(&mut self.bias);
        self.sync();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dot;

    #[test]
    fn forward_equals_row_dots_bitwise_and_backward_is_transpose() {
        let mut d = Dense::<5, 3>::zeroed();
        let mut k = 0.0f32;
        d.visit_mut(&mut |t| {
            for v in t.iter_mut() {
                k += 0.731;
                *v = libm::sinf(k) * 2.0;
            }
        });
        let x = [0.3f32, -1.2, 2.5, 0.01, -0.7];
        let mut y = [0.0; 3];
        d.forward(&x, &mut y);
        for o in 0..3 {
            assert_eq!(
                y[o].to_bits(),
                (dot(&d.weight()[o], &x) + d.bias()[o]).to_bits()
            );
        }
        let g = [1.0f32, -2.0, 0.5];
        let mut dx = [0.0; 5];
        d.backward(&(), &g, &mut dx);
        for i in 0..5 {
            let want: f32 = (0..3).map(|o| d.weight()[o][i] * g[o]).sum();
            assert!((dx[i] - want).abs() < 1e-6);
        }
        d.update(|w, _| w[1][4] = 9.0);
        d.forward(&x, &mut y);
        assert_eq!(
            y[1].to_bits(),
            (dot(&d.weight()[1], &x) + d.bias()[1]).to_bits()
        );
    }
}

//! Fixed-size differentiable networks, composed by type.
//!
//! A [`Network<IN, OUT>`] maps `[f32; IN]` to `[f32; OUT]` and can pull a gradient back to its
//! input (a vector–Jacobian product) from a [`Tape`] of what the forward pass kept. Networks are
//! built from [`Dense`](crate::Dense) layers and [`Act`] activations joined by [`Chain`], so depth
//! and widths live in the type and a shape mismatch does not compile:
//!
//! ```
//! use emberflow_core::{Chain, Dense, Act, LeakyRelu, Network, Parameters};
//! // 2 → 8 → 1 with a leaky ReLU in between
//! type Net = Chain<Chain<Dense<2, 8>, Act<LeakyRelu>, 8>, Dense<8, 1>, 8>;
//! let net = Net::zeroed();
//! let mut y = [0.0];
//! net.forward(&[0.5, -1.0], &mut y);
//! assert_eq!(y, [0.0]);
//! ```
//!
//! [`crate::shapes`] names the common compositions ([`Mlp1`](crate::Mlp1) … [`Mlp4`](crate::Mlp4)).

use crate::activation::Activation;
use core::marker::PhantomData;

/// What a forward pass keeps for the backward pass; always plain f32 storage.
pub trait Tape {
    /// A zeroed tape (a scratch buffer for [`Network::forward_taped`]).
    fn zeroed() -> Self;
}

impl Tape for () {
    fn zeroed() -> Self {}
}

impl<const N: usize> Tape for [f32; N] {
    fn zeroed() -> Self {
        [0.0; N]
    }
}

impl<A: Tape, B: Tape> Tape for (A, B) {
    fn zeroed() -> Self {
        (A::zeroed(), B::zeroed())
    }
}

/// A map `R^IN → R^OUT` with its input vector–Jacobian product.
///
/// All methods are total and write into caller buffers; none allocates.
pub trait Network<const IN: usize, const OUT: usize> {
    /// Intermediate values kept by [`Self::forward_taped`] for [`Self::backward`].
    type Tape: Tape;

    /// `y = f(x)`.
    fn forward(&self, x: &[f32; IN], y: &mut [f32; OUT]);

    /// `y = f(x)`, recording what [`Self::backward`] needs.
    fn forward_taped(&self, x: &[f32; IN], y: &mut [f32; OUT], tape: &mut Self::Tape);

    /// `dx = J_f(x)ᵀ dy` at the `x` recorded in `tape`.
    fn backward(&self, tape: &Self::Tape, dy: &[f32; OUT], dx: &mut [f32; IN]);

    /// Multiply–accumulates of one forward pass (for FLOP accounting).
    fn macs() -> usize;
}

/// Parameter storage in a canonical order (for initialisation, export and checks).
pub trait Parameters {
    /// All parameters zero.
    fn zeroed() -> Self
    where
        Self: Sized;

    /// Visit every parameter tensor, flattened row-major, in the canonical order.
    fn visit(&self, f: &mut dyn FnMut(&[f32]));

    /// Visit every parameter tensor mutably, in the canonical order.
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [f32]));

    /// Number of scalar parameters.
    fn num_params(&self) -> usize {
        let mut n = 0;
        self.visit(&mut |t| n += t.len());
        n
    }

    /// Whether every parameter is finite.
    fn all_finite(&self) -> bool {
        let mut ok = true;
        self.visit(&mut |t| ok &= t.iter().all(|v| v.is_finite()));
        ok
    }
}

/// An element-wise activation as a network layer (`R^N → R^N` for every `N`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Act<A>(PhantomData<A>);

impl<A> Act<A> {
    /// The layer.
    pub const fn new() -> Self {
        Act(PhantomData)
    }
}

impl<A: Activation, const N: usize> Network<N, N> for Act<A> {
    type Tape = [f32; N];

    #[inline]
    fn forward(&self, x: &[f32; N], y: &mut [f32; N]) {
        for (yi, xi) in y.iter_mut().zip(x) {
            *yi = A::apply(*xi);
        }
    }

    #[inline]
    fn forward_taped(&self, x: &[f32; N], y: &mut [f32; N], tape: &mut [f32; N]) {
        *tape = *x;
        self.forward(x, y)
    }

    #[inline]
    fn backward(&self, tape: &[f32; N], dy: &[f32; N], dx: &mut [f32; N]) {
        for ((d, g), z) in dx.iter_mut().zip(dy).zip(tape) {
            *d = g * A::derivative(*z);
        }
    }

    fn macs() -> usize {
        0
    }
}

impl<A> Parameters for Act<A> {
    fn zeroed() -> Self {
        Act(PhantomData)
    }
    fn visit(&self, _: &mut dyn FnMut(&[f32])) {}
    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut [f32])) {}
}

/// `second ∘ first`, with the intermediate width `MID` in the type.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain<F, G, const MID: usize> {
    /// Applied first.
    pub first: F,
    /// Applied to the output of `first`.
    pub second: G,
}

impl<F, G, const MID: usize> Chain<F, G, MID> {
    /// `second ∘ first`.
    pub const fn new(first: F, second: G) -> Self {
        Self { first, second }
    }
}

impl<const IN: usize, const MID: usize, const OUT: usize, F, G> Network<IN, OUT>
    for Chain<F, G, MID>
where
    F: Network<IN, MID>,
    G: Network<MID, OUT>,
{
    type Tape = (F::Tape, G::Tape);

    #[inline]
    fn forward(&self, x: &[f32; IN], y: &mut [f32; OUT]) {
        let mut h = [0.0f32; MID];
        self.first.forward(x, &mut h);
        self.second.forward(&h, y);
    }

    #[inline]
    fn forward_taped(&self, x: &[f32; IN], y: &mut [f32; OUT], tape: &mut Self::Tape) {
        let mut h = [0.0f32; MID];
        self.first.forward_taped(x, &mut h, &mut tape.0);
        self.second.forward_taped(&h, y, &mut tape.1);
    }

    #[inline]
    fn backward(&self, tape: &Self::Tape, dy: &[f32; OUT], dx: &mut [f32; IN]) {
        let mut dh = [0.0f32; MID];
        self.second.backward(&tape.1, dy, &mut dh);
        self.first.backward(&tape.0, &dh, dx);
    }

    fn macs() -> usize {
        F::macs() + G::macs()
    }
}

impl<F: Parameters, G: Parameters, const MID: usize> Parameters for Chain<F, G, MID> {
    fn zeroed() -> Self {
        Chain::new(F::zeroed(), G::zeroed())
    }
    fn visit(&self, f: &mut dyn FnMut(&[f32])) {
        self.first.visit(f);
        self.second.visit(f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [f32])) {
        self.first.visit_mut(f);
        self.second.visit_mut(f);
    }
}

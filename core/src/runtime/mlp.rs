//! [`Mlp`]: a multilayer perceptron whose depth and widths are run-time values — dense layers
//! ([`Layer`]) with one hidden activation between them, a linear output — evaluated on caller
//! scratch ([`Mlp::scratch_len`], [`Mlp::taped_scratch_len`]). The order of every operation is
//! the typed `Chain` of `Dense`/`DenseView` and `Act` layers of the same shape, so the bits
//! are the same.

use super::layer::Layer;
use crate::activation::ActivationKind;
use crate::error::Error;
use crate::model::view::dense::{AnyEncoding, Encodings};

/// An MLP of at most `L` dense layers (`L − 1` hidden layers and the output layer). Two
/// networks are equal when their layers and activation are (unused slots do not count).
#[derive(Clone, Copy, Debug)]
pub struct Mlp<'a, E: Encodings = AnyEncoding, const L: usize = 7> {
    layers: [Layer<'a, E>; L],
    depth: u8,
    activation: ActivationKind,
    widest_hidden: u16,
    hidden_total: u32,
}

impl<E: Encodings, const L: usize> PartialEq for Mlp<'_, E, L> {
    fn eq(&self, other: &Self) -> bool {
        self.activation == other.activation && self.layers() == other.layers()
    }
}

impl<'a, E: Encodings, const L: usize> Mlp<'a, E, L> {
    /// A network with no layers (every output untouched); stands in for unused slots.
    pub const EMPTY: Self = Self {
        layers: [Layer::EMPTY; L],
        depth: 0,
        activation: ActivationKind::Identity,
        widest_hidden: 0,
        hidden_total: 0,
    };

    /// The network of `layers` (at least one, at most `L`, each one's inputs the previous one's
    /// outputs) with `activation` after every layer but the last.
    pub fn new(layers: &[Layer<'a, E>], activation: ActivationKind) -> Result<Self, Error> {
        if layers.is_empty() || layers.len() > L {
            return Err(Error::InvalidShape);
        }
        let mut net = Self::EMPTY;
        net.activation = activation;
        for l in layers {
            net.push(*l)?;
        }
        Ok(net)
    }

    /// Empty the network in place (no layers; `activation` between the layers pushed next).
    pub fn clear(&mut self, activation: ActivationKind) {
        self.depth = 0;
        self.activation = activation;
        self.widest_hidden = 0;
        self.hidden_total = 0;
    }

    /// Append `layer` in place, after the layers so far (its inputs the last one's outputs),
    /// which becomes a hidden layer: the network is built where it lives, with nothing moved.
    /// [`Error::InvalidShape`] for an empty layer, a width that does not match, or more than
    /// `L` layers (the network is unchanged).
    pub fn push(&mut self, layer: Layer<'a, E>) -> Result<(), Error> {
        let depth = usize::from(self.depth);
        let last = self.layers().last().copied();
        if layer.inputs() == 0
            || layer.outputs() == 0
            || depth >= L.min(usize::from(u8::MAX))
            || last.is_some_and(|l| l.outputs() != layer.inputs())
        {
            return Err(Error::InvalidShape);
        }
        if let Some(l) = last {
            self.widest_hidden = self.widest_hidden.max(l.outputs() as u16);
            self.hidden_total += l.outputs() as u32;
        }
        self.layers[depth] = layer;
        self.depth += 1;
        Ok(())
    }

    /// The dense layers, first to last.
    #[inline]
    pub fn layers(&self) -> &[Layer<'a, E>] {
        &self.layers[..usize::from(self.depth)]
    }

    /// The hidden activation.
    pub fn activation(&self) -> ActivationKind {
        self.activation
    }

    /// Input width.
    pub fn inputs(&self) -> usize {
        self.layers().first().map_or(0, Layer::inputs)
    }

    /// Output width.
    pub fn outputs(&self) -> usize {
        self.layers().last().map_or(0, Layer::outputs)
    }

    /// Multiply–accumulates of one forward pass.
    pub fn macs(&self) -> usize {
        self.layers().iter().map(|l| l.inputs() * l.outputs()).sum()
    }

    /// Scratch floats of [`Mlp::forward`]: two hidden vectors.
    pub fn scratch_len(&self) -> usize {
        2 * usize::from(self.widest_hidden)
    }

    /// Scratch floats of [`Mlp::forward_taped`] and [`Mlp::backward`] (the same buffer): every
    /// hidden pre-activation (the tape), then two hidden vectors.
    pub fn taped_scratch_len(&self) -> usize {
        self.hidden_total as usize + 2 * usize::from(self.widest_hidden)
    }

    /// `y = net(x)`. With a scratch shorter than [`Mlp::scratch_len`], `y` is set to NaN.
    #[inline]
    pub fn forward(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32]) {
        let layers = self.layers();
        let Some((last, hidden)) = layers.split_last() else {
            return;
        };
        if hidden.is_empty() {
            return last.forward(x, y);
        }
        let w = usize::from(self.widest_hidden);
        let Some(work) = scratch.get_mut(..2 * w) else {
            y.fill(f32::NAN);
            return;
        };
        let (mut cur, mut next) = work.split_at_mut(w);
        let mut input: Option<&[f32]> = Some(x);
        for l in hidden {
            match input {
                Some(x) => l.forward(x, next),
                None => l.forward(cur, next),
            }
            self.activation.apply_all(&mut next[..l.outputs()]);
            core::mem::swap(&mut cur, &mut next);
            input = None;
        }
        last.forward(cur, y);
    }

    /// `y = net(x)`, keeping in `scratch` ([`Mlp::taped_scratch_len`]) what
    /// [`Mlp::backward`] needs. With a scratch too short, `y` is set to NaN.
    #[inline]
    pub fn forward_taped(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32]) {
        let layers = self.layers();
        let Some((last, hidden)) = layers.split_last() else {
            return;
        };
        let w = usize::from(self.widest_hidden);
        let Some(scratch) = scratch.get_mut(..self.taped_scratch_len()) else {
            y.fill(f32::NAN);
            return;
        };
        let (mut tape, work) = scratch.split_at_mut(self.hidden_total as usize);
        let act = &mut work[..w];
        let mut first = true;
        for l in hidden {
            let (z, rest) = tape.split_at_mut(l.outputs());
            if first {
                l.forward(x, z);
            } else {
                l.forward(act, z);
            }
            first = false;
            let a = &mut act[..l.outputs()];
            a.copy_from_slice(z);
            self.activation.apply_all(a);
            tape = rest;
        }
        if hidden.is_empty() {
            last.forward(x, y);
        } else {
            last.forward(act, y);
        }
    }

    /// `dx = (∂net/∂x)ᵀ dy` at the input of the last [`Mlp::forward_taped`] on this `scratch`.
    #[inline]
    pub fn backward(&self, dy: &[f32], dx: &mut [f32], scratch: &mut [f32]) {
        let layers = self.layers();
        let Some((last, hidden)) = layers.split_last() else {
            return;
        };
        if hidden.is_empty() {
            return last.backward(dy, dx);
        }
        let w = usize::from(self.widest_hidden);
        let Some(scratch) = scratch.get_mut(..self.taped_scratch_len()) else {
            dx.fill(f32::NAN);
            return;
        };
        let (tape, work) = scratch.split_at_mut(self.hidden_total as usize);
        let (mut g, mut next) = work.split_at_mut(w);
        last.backward(dy, g);
        let mut end = tape.len();
        for (i, l) in hidden.iter().enumerate().rev() {
            let n = l.outputs();
            let z = &tape[end - n..end];
            end -= n;
            self.activation.scale_by_derivative(z, &mut g[..n]);
            if i == 0 {
                l.backward(g, dx);
            } else {
                l.backward(g, next);
                core::mem::swap(&mut g, &mut next);
            }
        }
    }
}

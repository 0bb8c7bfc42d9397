//! [`FromLayers`]: a network type built from a model file's tensors in the canonical order
//! (`Chain`s of [`DenseView`] and `Act`), every shape checked against the const generics, and
//! [`LayerCursor`], the tensors it consumes.

use super::dense::{DenseView, Encodings};
use crate::activation::{Activation, ActivationKind};
use crate::error::Error;
use crate::model::tensor::{TensorView, Tensors};
use crate::network::{Act, Chain};

/// The file's tensors, consumed in canonical order while a network type is built.
#[derive(Clone, Debug)]
pub struct LayerCursor<'a> {
    pub(crate) tensors: Tensors<'a>,
    pub(crate) activation: ActivationKind,
}

impl<'a> LayerCursor<'a> {
    #[inline(never)]
    fn next_tensor(&mut self) -> Result<TensorView<'a>, Error> {
        let index = self.tensors.position();
        match self.tensors.next() {
            Some(t) => t,
            None => Err(Error::MalformedTensor {
                tensor: index as u16,
            }),
        }
    }
}

/// A network type that can be built from a model file's tensors.
pub trait FromLayers<'a>: Sized {
    /// Dense layers the type consumes.
    const DENSE_LAYERS: usize;

    /// Build from the next tensors of `cursor`.
    fn from_layers(cursor: &mut LayerCursor<'a>) -> Result<Self, Error> {
        let mut net = Self::placeholder();
        net.fill(cursor)?;
        Ok(net)
    }

    /// Set every layer in place from the next tensors of `cursor` (after an error, `self` is
    /// partly set and must not be used). In place, so that no large value is moved per layer
    /// while a network is built (code size on a microcontroller).
    fn fill(&mut self, cursor: &mut LayerCursor<'a>) -> Result<(), Error>;

    /// A value standing in until it is filled or while an error is being returned (never
    /// evaluated).
    fn placeholder() -> Self;
}

impl<'a, const IN: usize, const OUT: usize, E: Encodings> FromLayers<'a>
    for DenseView<'a, IN, OUT, E>
{
    const DENSE_LAYERS: usize = 1;

    fn fill(&mut self, cursor: &mut LayerCursor<'a>) -> Result<(), Error> {
        *self = DenseView::new(&cursor.next_tensor()?)?;
        Ok(())
    }

    fn placeholder() -> Self {
        Self::empty()
    }
}

impl<'a, A: Activation> FromLayers<'a> for Act<A> {
    const DENSE_LAYERS: usize = 0;

    fn fill(&mut self, cursor: &mut LayerCursor<'a>) -> Result<(), Error> {
        if A::KIND == cursor.activation {
            Ok(())
        } else {
            Err(Error::WrongActivation {
                expected: A::KIND,
                found: cursor.activation,
            })
        }
    }

    fn placeholder() -> Self {
        Act::new()
    }
}

impl<'a, F: FromLayers<'a>, G: FromLayers<'a>, const MID: usize> FromLayers<'a>
    for Chain<F, G, MID>
{
    const DENSE_LAYERS: usize = F::DENSE_LAYERS + G::DENSE_LAYERS;

    fn fill(&mut self, cursor: &mut LayerCursor<'a>) -> Result<(), Error> {
        self.first.fill(cursor)?;
        self.second.fill(cursor)
    }

    fn placeholder() -> Self {
        Chain::new(F::placeholder(), G::placeholder())
    }
}

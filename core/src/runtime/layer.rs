//! [`Layer`]: one dense layer `y = W x + b` whose sizes are run-time values, over a model
//! file's tensor (f32, int16 or int8) or over f32 parameters in the file's layout. It runs the
//! kernels of [`crate::model::DenseView`] (the same functions), so a run-time shaped network
//! and the typed network of the same shape give the same bits.

use crate::error::Error;
#[cfg(feature = "host-form")]
use crate::kernels::{dot, gemv_t_rows, row_axpys};
use crate::model::view::dense::{
    AnyEncoding, Encodings, check_dense, dense_backward, dense_forward,
};
use crate::model::wire::DataLayout;
use crate::model::{Encoding, TensorView};
use core::marker::PhantomData;

/// A dense layer with `inputs()` inputs and `outputs()` outputs, weights borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layer<'a, E: Encodings = AnyEncoding> {
    encoding: Encoding,
    data: &'a [u8],
    /// The vectorised host form ([`Layer::from_f32_transposed`]; feature `host-form`).
    #[cfg(feature = "host-form")]
    host: HostForm<'a>,
    inputs: u16,
    outputs: u16,
    accepted: PhantomData<E>,
}

impl<'a, E: Encodings> Layer<'a, E> {
    /// A layer with no rows; stands in for unused slots.
    pub const EMPTY: Self = Self {
        encoding: Encoding::F32,
        data: &[],
        #[cfg(feature = "host-form")]
        host: HostForm::NONE,
        inputs: 0,
        outputs: 0,
        accepted: PhantomData,
    };

    /// The layer of tensor `t` (shape `[outputs, inputs]` from the file, lengths checked; its
    /// encoding one of `E`).
    pub fn from_tensor(t: &TensorView<'a>) -> Result<Self, Error> {
        let [outputs, inputs] = t.slot.shape;
        check_dense(t, usize::from(inputs), usize::from(outputs))?;
        if !E::accepts(t.encoding) || inputs == 0 || outputs == 0 {
            return Err(Error::UnknownEncoding {
                tensor: t.slot.index as u16,
                found: t.encoding.tag(),
            });
        }
        Ok(Self {
            encoding: t.encoding,
            data: t.data,
            #[cfg(feature = "host-form")]
            host: HostForm::NONE,
            inputs,
            outputs,
            accepted: PhantomData,
        })
    }

    /// The f32 layer whose parameters are `params`: the `outputs × inputs` weights row by row,
    /// then the `outputs` biases (the layout of an f32 tensor in a model file).
    /// [`Error::InvalidShape`] for a zero size or a length that does not match.
    pub fn from_f32(params: &'a [f32], inputs: usize, outputs: usize) -> Result<Self, Error> {
        let (Ok(i), Ok(o)) = (u16::try_from(inputs), u16::try_from(outputs)) else {
            return Err(Error::InvalidShape);
        };
        let layout = DataLayout::new(o, i, Encoding::F32).ok_or(Error::InvalidShape)?;
        let data: &[u8] = bytemuck::cast_slice(params);
        if i == 0 || o == 0 || data.len() != layout.len || !E::F32 {
            return Err(Error::InvalidShape);
        }
        Ok(Self {
            encoding: Encoding::F32,
            data,
            #[cfg(feature = "host-form")]
            host: HostForm::NONE,
            inputs: i,
            outputs: o,
            accepted: PhantomData,
        })
    }

    /// [`Layer::from_f32`] with a transposed copy of the weights, `transposed[i·outputs + o] =
    /// W[o][i]` (checked, bit for bit; [`Error::InvalidShape`] otherwise), which the forward
    /// pass walks input by input, vectorised across the outputs — the same sums in the same
    /// order, so the same bits as the row form. A host's form: it needs the weights twice.
    #[cfg(feature = "host-form")]
    pub fn from_f32_transposed(
        params: &'a [f32],
        transposed: &'a [f32],
        inputs: usize,
        outputs: usize,
    ) -> Result<Self, Error> {
        let mut layer = Self::from_f32(params, inputs, outputs)?;
        let (w, bias) = params.split_at(inputs * outputs);
        let matches = transposed.len() == w.len()
            && w.chunks_exact(inputs).enumerate().all(|(o, row)| {
                row.iter()
                    .enumerate()
                    .all(|(i, v)| v.to_bits() == transposed[i * outputs + o].to_bits())
            });
        if !matches {
            return Err(Error::InvalidShape);
        }
        layer.host = HostForm {
            transposed,
            weights: w,
            bias,
        };
        Ok(layer)
    }

    /// Input width.
    #[inline]
    pub fn inputs(&self) -> usize {
        usize::from(self.inputs)
    }

    /// Output width.
    #[inline]
    pub fn outputs(&self) -> usize {
        usize::from(self.outputs)
    }

    /// The weight encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// `y[..outputs] = W x[..inputs] + b` (nothing if a slice is too short).
    #[inline]
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        if let (Some(x), Some(y)) = (x.get(..self.inputs()), y.get_mut(..self.outputs())) {
            #[cfg(feature = "host-form")]
            if !self.host.transposed.is_empty() {
                return self.host.forward(x, y);
            }
            dense_forward::<E>(self.encoding, self.data, x, y)
        }
    }

    /// The weights (row-major, `outputs × inputs`) and biases of an f32 layer; `None` for a
    /// quantised one.
    pub fn f32_parts(&self) -> Option<(&'a [f32], &'a [f32])> {
        if self.encoding != Encoding::F32 {
            return None;
        }
        let params: &'a [f32] = bytemuck::try_cast_slice(self.data).ok()?;
        let weights = self.inputs() * self.outputs();
        (params.len() == weights + self.outputs()).then(|| params.split_at(weights))
    }

    /// `dx[..inputs] = Wᵀ dy[..outputs]` (nothing if a slice is too short).
    #[inline]
    pub fn backward(&self, dy: &[f32], dx: &mut [f32]) {
        if let (Some(dy), Some(dx)) = (dy.get(..self.outputs()), dx.get_mut(..self.inputs())) {
            #[cfg(feature = "host-form")]
            if !self.host.weights.is_empty() {
                return row_axpys(self.host.weights, dy, dx);
            }
            dense_backward::<E>(self.encoding, self.data, dy, dx)
        }
    }
}

/// A layer's host form: the weights transposed (`inputs × outputs`, row-major), the row
/// weights and the biases (empty: the file form).
#[cfg(feature = "host-form")]
#[derive(Clone, Copy, Debug, PartialEq)]
struct HostForm<'a> {
    transposed: &'a [f32],
    weights: &'a [f32],
    bias: &'a [f32],
}

#[cfg(feature = "host-form")]
impl HostForm<'_> {
    const NONE: Self = Self {
        transposed: &[],
        weights: &[],
        bias: &[],
    };

    /// A narrow layer (e.g. an output layer of one row) keeps its sums in registers in the row
    /// form; the column form vectorises across eight or more outputs. The same sums either way.
    #[inline]
    fn forward(&self, x: &[f32], y: &mut [f32]) {
        if y.len() < 8 {
            for ((yo, row), b) in y
                .iter_mut()
                .zip(self.weights.chunks_exact(x.len()))
                .zip(self.bias)
            {
                *yo = dot(row, x) + b;
            }
        } else {
            gemv_t_rows(self.transposed, x, y);
            for (yo, b) in y.iter_mut().zip(self.bias) {
                *yo += b;
            }
        }
    }
}

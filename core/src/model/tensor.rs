//! The weight tensors of a file: [`TensorView`], one record borrowed from the file, and
//! [`Tensors`], which reads the records in canonical order and checks each one's structure
//! (shape, lengths, alignment, padding) as it goes.

use super::format::ALIGN;
use super::header::{Header, TensorSlot};
use super::quant::Encoding;
use super::wire::{DataLayout, TensorWire};
use crate::error::Error;

/// One weight tensor of a file, borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorView<'a> {
    /// Where it belongs and its shape.
    pub slot: TensorSlot,
    /// How the weights are stored.
    pub encoding: Encoding,
    /// `rows × cols` weights, row-major, little-endian.
    pub weights: &'a [u8],
    /// `rows` f32 scales (int16/int8) or nothing (f32).
    pub scales: &'a [u8],
    /// `rows` f32 biases.
    pub bias: &'a [u8],
    /// The record's whole data: `weights`, zeros up to a multiple of [`super::ALIGN`] bytes,
    /// `scales`, `bias` (what a [`super::DenseView`] keeps).
    pub data: &'a [u8],
}

impl TensorView<'_> {
    /// Bytes of weights, scales and biases.
    pub fn data_len(&self) -> usize {
        self.weights.len() + self.scales.len() + self.bias.len()
    }

    /// Check the values: finite weights and biases, positive finite scales, quantised values in
    /// the symmetric range.
    pub fn validate_values(&self) -> Result<(), Error> {
        let tensor = self.slot.index as u16;
        let finite = |b: &[u8]| {
            b.chunks_exact(4)
                .all(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite())
        };
        if !finite(self.bias) {
            return Err(Error::NonFiniteWeight { tensor });
        }
        match self.encoding {
            Encoding::F32 => {
                if !finite(self.weights) {
                    return Err(Error::NonFiniteWeight { tensor });
                }
            }
            Encoding::I16 => {
                if self
                    .weights
                    .chunks_exact(2)
                    .any(|c| i16::from_le_bytes([c[0], c[1]]) == i16::MIN)
                {
                    return Err(Error::QuantOutOfRange { tensor });
                }
            }
            Encoding::I8 => {
                if self.weights.iter().any(|&b| b as i8 == i8::MIN) {
                    return Err(Error::QuantOutOfRange { tensor });
                }
            }
        }
        let scales_ok = self.scales.chunks_exact(4).all(|c| {
            let s = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            s.is_finite() && s > 0.0
        });
        if !scales_ok {
            return Err(Error::InvalidQuantScale { tensor });
        }
        Ok(())
    }
}

/// The tensors of a file in canonical order; stops after the first error.
#[derive(Clone, Debug)]
pub struct Tensors<'a> {
    pub(super) header: Header<'a>,
    pub(super) rest: &'a [u8],
    /// Offset of `rest` from the start of the file.
    pub(super) at: usize,
    pub(super) index: usize,
    pub(super) count: usize,
}

impl<'a> Tensors<'a> {
    /// Index of the next tensor.
    pub fn position(&self) -> usize {
        self.index
    }

    /// Bytes after the tensors read so far.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    fn read(&mut self) -> Result<TensorView<'a>, Error> {
        let index = self.index;
        let tensor = index as u16;
        let malformed = Error::MalformedTensor { tensor };
        let (w, rest) =
            postcard::take_from_bytes::<TensorWire<'a>>(self.rest).map_err(|_| malformed)?;
        let encoding = Encoding::from_tag(w.encoding).ok_or(Error::UnknownEncoding {
            tensor,
            found: w.encoding,
        })?;
        let slot = self.header.tensor_slot(index).ok_or(malformed)?;
        let found = [w.rows, w.cols];
        if found != slot.shape {
            return Err(Error::TensorShape {
                tensor,
                expected: slot.shape,
                found,
            });
        }
        // The data ends the record, so its offset in the file follows from the bytes read; the
        // pad must be fewer than ALIGN zeros that put it at a multiple of ALIGN.
        let consumed = self.rest.len() - rest.len();
        let data_at = self.at + consumed - w.data.len();
        if !data_at.is_multiple_of(ALIGN) || w.pad.len() >= ALIGN || w.pad.iter().any(|&b| b != 0) {
            return Err(malformed);
        }
        let layout =
            DataLayout::new(w.rows, w.cols, encoding).ok_or(Error::TensorLength { tensor })?;
        if w.data.len() != layout.len {
            return Err(Error::TensorLength { tensor });
        }
        let (weights, rest_data) = w.data.split_at(layout.weights);
        let (zeros, rest_data) = rest_data.split_at(layout.scales - layout.weights);
        let (scales, bias) = rest_data.split_at(layout.bias - layout.scales);
        if zeros.iter().any(|&b| b != 0) {
            return Err(malformed);
        }
        self.at += consumed;
        self.rest = rest;
        Ok(TensorView {
            slot,
            encoding,
            weights,
            scales,
            bias,
            data: w.data,
        })
    }
}

impl<'a> Iterator for Tensors<'a> {
    type Item = Result<TensorView<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.count {
            return None;
        }
        let r = self.read();
        self.index = if r.is_ok() {
            self.index + 1
        } else {
            self.count
        };
        Some(r)
    }
}

//! Networks whose weights stay in the model file: [`DenseView`] and the view types of the
//! paper's shapes.
//!
//! A [`DenseView<'a, IN, OUT>`] borrows one weight tensor (f32, int16 or int8) and implements
//! [`Network<IN, OUT>`](crate::Network), so it composes with [`Act`](crate::Act) and
//! [`Chain`](crate::Chain) exactly like an owned [`crate::Dense`]; nothing is copied to RAM.
//! The kernels keep the summation order of the `kernels` module — every output a sequential sum
//! in index order (forward `y[o] = (Σ_i w[o][i]·x[i]) + b[o]`, backward
//! `dx[i] = Σ_o (dy[o]·s[o])·w[o][i]`), with blocks of rows (forward) or columns (backward)
//! reduced side by side for speed — so a host and a Cortex-M4F give the same bits for the same
//! file.
//!
//! Format version 2 aligns every tensor's data to 4 bytes from the start of the file
//! ([`super::ALIGN`]). When the file itself is 4-byte aligned in memory (the firmware's
//! compiled-in blob), f32 and int16 weights are read as `&[f32]` / `&[i16]` through
//! `bytemuck::try_cast_slice` (a checked, safe reinterpretation: one load per weight);
//! otherwise (a file at an odd address, e.g. in a `Vec<u8>`, or a big-endian host) a small
//! row-by-row kernel decodes each weight with `from_le_bytes`. Both paths compute the same
//! sums in the same order, so they agree to the bit (tested in `dense.rs`).
//!
//! ```text
//! f32:        y_o = Σ_j W_oj x_j + b_o                    (bit-identical to Dense)
//! int16/int8: y_o = s_o · Σ_j q_oj x_j + b_o               (q exact in f32, activations f32)
//! ```
//!
//! [`FromLayers`] builds a whole network type (`Chain`s of `DenseView` and `Act`) from the file's
//! tensors in the canonical order, checking every shape against the const generics.
//!
//! The view types of the composed and the paper's shapes ([`Mlp1View`] …, [`Energy2dView`], …)
//! are named in [`crate::shapes`], next to their owned twins, and re-exported here.

pub(crate) mod dense;
mod layers;

pub use crate::shapes::{
    Energy2dView, Energy16View, Energy32View, Energy64View, Flow2dView, Flow16View, Flow32View,
    Flow64View, LayerView, Mlp1View, Mlp2View, Mlp3View, Mlp4View, PaperEnergyNetView,
    PaperEnergyView, PaperFlowView,
};
pub use dense::{AnyEncoding, DenseView, EncodingSet, Encodings};
pub use layers::{FromLayers, LayerCursor};

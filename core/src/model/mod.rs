//! The model file (`.efm`): one versioned, checksummed artifact from the trainer to the
//! microcontroller, defined here once and decoded without a heap.
//!
//! # Layout (format version 2)
//!
//! ```text
//! offset  size  field
//! 0       4     magic  "EFM\0"
//! 4       2     format version, u16 little-endian (2)
//! 6       4     body length L, u32 little-endian
//! 10      L     body: postcard( Header, Tensor₀, Tensor₁, … )
//! 10+L    4     CRC-32 (zlib) of bytes 0 .. 10+L, little-endian
//! ```
//!
//! The body is plain postcard (varint integers, f32 as 4 little-endian bytes, byte strings as a
//! varint length then the bytes). The header comes first: model kind, dimension, the energy
//! section (layer widths, activation, tilt σ), the flow section (blocks, split, hidden widths,
//! activation, masks, scale factors, base σ), the data normalisation, the sampler settings
//! (step size, global move and its particle count, K, R, chains, adaptation), training metadata
//! (data set, iterations, seed, metrics) and the quantisation error statistics measured at
//! export. Then one record per dense layer in canonical order — the energy network, then per
//! flow block: first coupling `S`, `T`, second coupling `S`, `T` (the order of
//! [`crate::Parameters::visit`] and [`crate::RealNvp::visit`]) — each with its shape, its
//! [`Encoding`], the weights, per-row scales (int16/int8) and f32 biases. Per-dimension lists
//! and weights are byte strings borrowed from the input, so decoding copies no weights
//! ([`lists`], [`view`]).
//!
//! # Tensor records and alignment
//!
//! Each tensor record is, in postcard:
//!
//! ```text
//! rows     varint u16
//! cols     varint u16
//! encoding u8        0 = f32, 1 = int16, 2 = int8
//! pad      bytes     0 ..= 3 zero bytes (a varint length, then the bytes)
//! data     bytes     weights ‖ zeros ‖ scales ‖ bias (a varint length, then the bytes)
//! ```
//!
//! `pad` is the shortest run of zeros that puts the first byte of `data` at an offset from the
//! start of the file that is a multiple of [`ALIGN`] (4). Inside `data`: `rows × cols` weights
//! (row-major, little-endian, 4, 2 or 1 bytes each), zeros up to the next multiple of
//! [`ALIGN`], `rows` f32 scales (int16/int8 only), `rows` f32 biases. So in a file that itself
//! starts at a 4-byte aligned address (the firmware's compiled-in blob), every tensor's
//! weights, scales and biases are 4-byte aligned, and the kernels read f32 and int16 weights
//! as `&[f32]` / `&[i16]` (`bytemuck`, no `unsafe`) with one load per weight; for an unaligned
//! file they read the same bytes one at a time, with the same result to the bit ([`view`]).
//! The decoder rejects data that is not aligned so, a `pad` of [`ALIGN`] bytes or more and
//! non-zero padding ([`crate::Error::MalformedTensor`]).
//!
//! # Versioning
//!
//! The magic and the version sit at fixed offsets, so any later layout still reads them: a
//! reader accepts exactly the versions it knows and names any other
//! ([`crate::Error::UnsupportedVersion`]) before looking further. A change to the body's layout or
//! meaning bumps [`FORMAT_VERSION`]; the golden files `core/tests/data/tiny_v2_*.efm` pin
//! version 2. Version 1 (the same body without `pad`, and weights, scales and biases as three
//! separate byte strings, so with no alignment) is no longer read: it is named
//! ([`crate::Error::UnsupportedVersion`]); `core/tests/data/tiny_v1_*.efm` check that.
//! Re-export a version-1 model from its checkpoint.
//!
//! # Decoding
//!
//! [`ModelView::parse`] checks everything once — envelope, CRC, header rules, every tensor's
//! shape, byte lengths and values — and returns a distinct [`crate::Error`] for each kind of
//! malformed input; it never panics. Typed accessors ([`ModelView::energy`],
//! [`ModelView::flow`], [`PaperModel::decode`]) then build networks of [`DenseView`]s whose
//! const-generic sizes are checked against the file, for the weight encodings of their
//! [`Encodings`] type (all by default).
//!
//! A firmware checks its compiled-in file once, at build time, with [`ModelView::parse`]; at
//! start-up [`ModelView::with_header`] takes the header decoded then and checks only the
//! envelope and the CRC again (and each tensor record's structure as it is read), so no header
//! decoder is linked.
//!
//! # Encoding
//!
//! [`encode_energy_flow`], [`encode_energy`] and [`encode_flow`] write core's owned models into
//! a caller's buffer in f32, int16 or int8 ([`quant`]).
//!
//! # Tests and fuzzing
//!
//! `core/tests/model_*.rs`: golden bytes and one test per error variant (`model_golden`),
//! round trips (`model_roundtrip`), quantised accuracy (`model_accuracy`), 140,000 random and
//! mutated blobs (`model_fuzz`), committed models (`model_committed`). The cargo-fuzz target:
//! `cargo +nightly fuzz run decode fuzz/corpus/decode fuzz/seeds -- -max_total_time=60`
//! (see `fuzz/README.md`).

mod crc;
mod decode;
mod encode;
mod format;
mod header;
pub mod lists;
mod metadata;
mod paper;
pub mod quant;
mod tags;
mod tensor;
#[cfg(test)]
mod tests;
pub mod view;
pub(crate) mod wire;

pub use crate::shapes::{
    Energy2dView, Energy16View, Energy32View, Energy64View, Flow2dView, Flow16View, Flow32View,
    Flow64View, PaperEnergyNetView, PaperEnergyView, PaperFlowView,
};
pub use crc::crc32;
pub use decode::{ModelView, check_envelope};
pub use encode::{
    Export, ExportNet, LayerRef, encode_energy, encode_energy_flow, encode_flow, encode_runtime,
    net_spec,
};
pub use format::{ALIGN, CRC_LEN, EXTENSION, FORMAT_VERSION, MAGIC, PREAMBLE_LEN};
pub use header::{EnergySpec, FlowSpec, Header, MAX_HIDDEN, NetSpec, TensorRole, TensorSlot};
pub use lists::{Bounded, F32s, U16s};
pub use metadata::{
    ANOMALY_QUANTILE, ANOMALY_THRESHOLD, MAX_METRICS, ModelErrors, Normalization, QuantStats,
    SamplerSpec, Training, is_anomaly,
};
pub use paper::{Model2d, Model16, Model32, Model64, PaperModel};
pub use quant::Encoding;
pub use tags::ModelKind;
pub use tensor::{TensorView, Tensors};
pub use view::{AnyEncoding, DenseView, EncodingSet, Encodings, FromLayers, LayerCursor};

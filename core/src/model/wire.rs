//! The postcard structures of a model file body, in wire order.
//!
//! Enumerations travel as `u8` tags so that an unknown tag gets its own error rather than a
//! generic postcard one; [`HeaderWire::into_header`] turns the tags into types and
//! [`super::Header::validate`] checks the rest.

use super::format::ALIGN;
use super::header::{EnergySpec, FlowSpec, Header, MAX_HIDDEN, NetSpec};
use super::lists::{Bounded, F32s, U16s};
use super::metadata::{Normalization, QuantStats, SamplerSpec, Training};
use super::quant::Encoding;
use super::tags::{ModelKind, activation_from_tag, activation_tag};
use crate::error::Error;
use crate::mcmc::{Adaptation, GlobalMove};
use serde::{Deserialize, Serialize};

/// A network: `input → hidden… → output`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct NetWire {
    pub input: u16,
    pub hidden: Bounded<u16, MAX_HIDDEN>,
    pub output: u16,
    pub activation: u8,
}

/// The energy section.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct EnergyWire<'a> {
    pub net: NetWire,
    #[serde(borrow)]
    pub tilt_sigma: F32s<'a>,
}

/// The flow section.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct FlowWire<'a> {
    pub blocks: u16,
    pub split: u16,
    pub hidden: Bounded<u16, MAX_HIDDEN>,
    pub activation: u8,
    #[serde(borrow)]
    pub masks: U16s<'a>,
    #[serde(borrow)]
    pub scale_factors: F32s<'a>,
    #[serde(borrow)]
    pub base_sigma: F32s<'a>,
}

/// The sampler settings; `global` is 0 (none), 1 (IMH) or 2 (i-SIR with `particles`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SamplerWire {
    pub step_size: f32,
    pub global: u8,
    pub particles: u16,
    pub mala_steps: u16,
    pub rounds: u16,
    pub chains: u32,
    /// target, factor, tolerance, smoothing, max_step.
    pub adaptation: Option<[f32; 5]>,
}

/// The header, first in the body.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct HeaderWire<'a> {
    pub kind: u8,
    pub dim: u16,
    #[serde(borrow)]
    pub energy: Option<EnergyWire<'a>>,
    #[serde(borrow)]
    pub flow: Option<FlowWire<'a>>,
    #[serde(borrow)]
    pub normalization: NormalizationWire<'a>,
    pub sampler: SamplerWire,
    #[serde(borrow)]
    pub training: Training<'a>,
    pub quant: QuantStats,
}

/// The normalisation: shift, then scale.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct NormalizationWire<'a> {
    #[serde(borrow)]
    pub shift: F32s<'a>,
    #[serde(borrow)]
    pub scale: F32s<'a>,
}

/// One dense layer's record: its shape, encoding, the alignment padding and the data
/// (see [`DataLayout`] and the module documentation of [`super`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TensorWire<'a> {
    pub rows: u16,
    pub cols: u16,
    pub encoding: u8,
    /// 0 ..= 3 zero bytes putting `data` at a multiple of [`ALIGN`] in the file.
    pub pad: &'a [u8],
    /// Weights ‖ zeros to [`ALIGN`] ‖ scales (int16/int8) ‖ biases.
    pub data: &'a [u8],
}

/// Where the parts of a tensor's `data` lie: `weights` bytes of weights at 0, then zeros up
/// to `scales` (a multiple of [`ALIGN`]), the scales up to `bias`, the biases up to `len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DataLayout {
    pub weights: usize,
    pub scales: usize,
    pub bias: usize,
    pub len: usize,
}

impl DataLayout {
    /// The layout of a `rows × cols` tensor in `encoding`; `None` if it does not fit a `usize`.
    pub(crate) fn new(rows: u16, cols: u16, encoding: Encoding) -> Option<Self> {
        // u64: a 32-bit usize could wrap for the largest shapes
        let (rows, cols) = (u64::from(rows), u64::from(cols));
        let weights = rows * cols * encoding.bytes_per_weight() as u64;
        let scales = weights.next_multiple_of(ALIGN as u64);
        let bias = scales + if encoding.is_quantized() { 4 * rows } else { 0 };
        let len = bias + 4 * rows;
        Some(Self {
            weights: usize::try_from(weights).ok()?,
            scales: usize::try_from(scales).ok()?,
            bias: usize::try_from(bias).ok()?,
            len: usize::try_from(len).ok()?,
        })
    }
}

/// Bytes of `n` as a postcard varint.
pub(crate) const fn varint_len(n: usize) -> usize {
    let mut len = 1;
    let mut n = n >> 7;
    while n != 0 {
        len += 1;
        n >>= 7;
    }
    len
}

/// The `pad` length of a tensor record whose `pad` field starts at file offset `at`, followed
/// by `data_len` bytes of data: the fewest zeros that put the data at a multiple of [`ALIGN`].
pub(crate) const fn pad_len(at: usize, data_len: usize) -> usize {
    // the pad's own length prefix is one byte (at most 3), then the data's length prefix
    let unpadded = at + 1 + varint_len(data_len);
    (ALIGN - unpadded % ALIGN) % ALIGN
}

impl NetWire {
    pub(crate) fn from_spec(n: &NetSpec) -> Self {
        Self {
            input: n.input,
            hidden: n.hidden,
            output: n.output,
            activation: activation_tag(n.activation),
        }
    }

    fn into_spec(self) -> Result<NetSpec, Error> {
        Ok(NetSpec {
            input: self.input,
            hidden: self.hidden,
            output: self.output,
            activation: activation_from_tag(self.activation).ok_or(Error::UnknownActivation {
                found: self.activation,
            })?,
        })
    }
}

impl SamplerWire {
    pub(crate) fn from_spec(s: &SamplerSpec) -> Self {
        let (global, particles) = match s.global {
            GlobalMove::None => (0, 0),
            GlobalMove::Imh => (1, 0),
            GlobalMove::Isir { particles } => (2, particles),
        };
        Self {
            step_size: s.step_size,
            global,
            particles,
            mala_steps: s.mala_steps,
            rounds: s.rounds,
            chains: s.chains,
            adaptation: s
                .adaptation
                .map(|a| [a.target, a.factor, a.tolerance, a.smoothing, a.max_step]),
        }
    }

    fn into_spec(self) -> Result<SamplerSpec, Error> {
        let global = match (self.global, self.particles) {
            (0, 0) => GlobalMove::None,
            (1, 0) => GlobalMove::Imh,
            (2, particles) => GlobalMove::Isir { particles },
            (0 | 1, _) => return Err(Error::InvalidSetting),
            (found, _) => return Err(Error::UnknownGlobalMove { found }),
        };
        Ok(SamplerSpec {
            step_size: self.step_size,
            global,
            mala_steps: self.mala_steps,
            rounds: self.rounds,
            chains: self.chains,
            adaptation: self
                .adaptation
                .map(
                    |[target, factor, tolerance, smoothing, max_step]| Adaptation {
                        target,
                        factor,
                        tolerance,
                        smoothing,
                        max_step,
                    },
                ),
        })
    }
}

impl<'a> HeaderWire<'a> {
    /// The wire form of a header.
    #[cfg(test)]
    pub(crate) fn from_header(h: &Header<'a>) -> Self {
        Self {
            kind: h.kind.tag(),
            dim: h.dim,
            energy: h.energy.map(|e| EnergyWire {
                net: NetWire::from_spec(&e.net),
                tilt_sigma: e.tilt_sigma,
            }),
            flow: h.flow.map(|f| FlowWire {
                blocks: f.blocks,
                split: f.split,
                hidden: f.hidden,
                activation: activation_tag(f.activation),
                masks: f.masks,
                scale_factors: f.scale_factors,
                base_sigma: f.base_sigma,
            }),
            normalization: NormalizationWire {
                shift: h.normalization.shift,
                scale: h.normalization.scale,
            },
            sampler: SamplerWire::from_spec(&h.sampler),
            training: h.training,
            quant: h.quant,
        }
    }

    /// Tags to types (the header is validated separately).
    pub(crate) fn into_header(self) -> Result<Header<'a>, Error> {
        let kind =
            ModelKind::from_tag(self.kind).ok_or(Error::UnknownModelKind { found: self.kind })?;
        let energy = match self.energy {
            Some(e) => Some(EnergySpec {
                net: e.net.into_spec()?,
                tilt_sigma: e.tilt_sigma,
            }),
            None => None,
        };
        let flow = match self.flow {
            Some(f) => Some(FlowSpec {
                blocks: f.blocks,
                split: f.split,
                hidden: f.hidden,
                activation: activation_from_tag(f.activation).ok_or(Error::UnknownActivation {
                    found: f.activation,
                })?,
                masks: f.masks,
                scale_factors: f.scale_factors,
                base_sigma: f.base_sigma,
            }),
            None => None,
        };
        Ok(Header {
            kind,
            dim: self.dim,
            energy,
            flow,
            normalization: Normalization {
                shift: self.normalization.shift,
                scale: self.normalization.scale,
            },
            sampler: self.sampler.into_spec()?,
            training: self.training,
            quant: self.quant,
        })
    }
}

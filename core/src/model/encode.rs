//! Encoding core's owned models into a caller's buffer (no heap, so it stays `no_std`).
//!
//! [`encode_energy_flow`], [`encode_energy`] and [`encode_flow`] write a complete file and
//! return its length; with a buffer too small they return [`Error::BufferTooSmall`] with the
//! size needed (so `encode_*(…, &mut [])` asks for the size). The written file is checked with
//! [`ModelView::parse`] before returning, so an encoder never produces a file the decoder
//! rejects. Networks are walked through [`ExportNet`], implemented for [`Dense`], [`Act`] and
//! [`Chain`], in the canonical order of [`crate::Parameters::visit`] /
//! [`RealNvp::visit`]. [`encode_runtime`] writes a run-time shaped model
//! ([`crate::runtime::Mlp`], [`crate::runtime::RealNvpFlow`]) over f32 parameters.

use super::crc::crc32;
use super::decode::ModelView;
use super::format::{ALIGN, CRC_LEN, FORMAT_VERSION, MAGIC, PREAMBLE_LEN};
use super::header::{MAX_HIDDEN, NetSpec};
use super::lists::{Bounded, F32s, U16s};
use super::metadata::{ModelErrors, Normalization, QuantStats, SamplerSpec, Training};
use super::quant::{Encoding, ErrorAccumulator, quantize, row_scale};
use super::tags::{ModelKind, activation_tag};
use super::view::Encodings;
use super::wire::{
    DataLayout, EnergyWire, FlowWire, HeaderWire, NetWire, NormalizationWire, SamplerWire, pad_len,
    varint_len,
};
use crate::activation::{Activation, ActivationKind};
use crate::dense::Dense;
use crate::energy::{MlpEnergy, Tilted};
use crate::error::Error;
use crate::flow::{Flow, RealNvp};
use crate::network::{Act, Chain, Network};
use crate::runtime::{self, MAX_DIM, MAX_FLOW_BLOCKS};
use serde::ser::{Serialize, SerializeSeq, SerializeStruct, Serializer};

/// One step of a network walked for export.
#[derive(Clone, Copy, Debug)]
pub enum LayerRef<'s> {
    /// A dense layer: `rows × cols` row-major weights and `rows` biases.
    Dense {
        /// Outputs.
        rows: usize,
        /// Inputs.
        cols: usize,
        /// Row-major weights.
        weight: &'s [f32],
        /// Biases.
        bias: &'s [f32],
    },
    /// An element-wise activation.
    Activation(ActivationKind),
}

/// A network whose layers can be written to a model file.
pub trait ExportNet {
    /// Visit the layers in order.
    fn export_layers(&self, f: &mut dyn FnMut(LayerRef<'_>));
}

impl<const IN: usize, const OUT: usize> ExportNet for Dense<IN, OUT> {
    fn export_layers(&self, f: &mut dyn FnMut(LayerRef<'_>)) {
        f(LayerRef::Dense {
            rows: OUT,
            cols: IN,
            weight: self.weight().as_flattened(),
            bias: self.bias(),
        })
    }
}

impl<A: Activation> ExportNet for Act<A> {
    fn export_layers(&self, f: &mut dyn FnMut(LayerRef<'_>)) {
        f(LayerRef::Activation(A::KIND))
    }
}

impl<F: ExportNet, G: ExportNet, const MID: usize> ExportNet for Chain<F, G, MID> {
    fn export_layers(&self, f: &mut dyn FnMut(LayerRef<'_>)) {
        self.first.export_layers(f);
        self.second.export_layers(f);
    }
}

/// The shape of `net`: dense layers joined by one activation, a linear output layer.
pub fn net_spec(net: &dyn ExportNet) -> Result<NetSpec, Error> {
    let mut input = None;
    let mut widths = Bounded::<u16, { MAX_HIDDEN + 1 }>::new();
    let mut activation: Option<ActivationKind> = None;
    let mut after_dense = false;
    let mut ok = true;
    net.export_layers(&mut |l| match l {
        LayerRef::Dense { rows, cols, .. } => {
            let fits = rows > 0 && cols > 0 && rows <= 0xffff && cols <= 0xffff;
            let chained = match widths.as_slice().last() {
                None => true,
                Some(&prev) => usize::from(prev) == cols && !after_dense,
            };
            ok &= fits && chained && widths.push(rows as u16).is_ok();
            input.get_or_insert(cols as u16);
            after_dense = true;
        }
        LayerRef::Activation(kind) => {
            ok &= after_dense && activation.is_none_or(|a| a == kind);
            activation = Some(kind);
            after_dense = false;
        }
    });
    let widths = widths.as_slice();
    let (Some(input), Some((&output, hidden))) = (input, widths.split_last()) else {
        return Err(Error::InvalidShape);
    };
    if !ok || !after_dense || hidden.is_empty() != activation.is_none() {
        return Err(Error::InvalidShape);
    }
    Ok(NetSpec {
        input,
        hidden: Bounded::from_slice(hidden).ok_or(Error::InvalidShape)?,
        output,
        activation: activation.unwrap_or(ActivationKind::Identity),
    })
}

/// Everything in the header besides the networks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Export<'s> {
    /// The weight encoding of the tensors.
    pub encoding: Encoding,
    /// Keep every network's linear output layer in f32 (mixed precision). Those layers are
    /// small, and an output layer with one row has a single scale, so quantising it costs the
    /// most accuracy (see BENCHMARKS.md, "Model file").
    pub f32_output_layers: bool,
    /// The trainer's data normalisation (`D` shifts and `D` positive scales).
    pub normalization: Normalization<'s>,
    /// The sampler settings.
    pub sampler: SamplerSpec,
    /// Training metadata.
    pub training: Training<'s>,
    /// Model-level quantisation errors measured by the exporter, if any.
    pub model_errors: Option<ModelErrors>,
}

/// Writes a weight tensor in the wire layout of `TensorWire`, quantising on the fly.
#[derive(Clone, Copy)]
struct TensorSource<'s> {
    rows: usize,
    cols: usize,
    encoding: Encoding,
    weight: &'s [f32],
    bias: &'s [f32],
    /// Offset of the record in the file (the pad depends on it).
    at: usize,
}

/// The record's data: weights, zeros to the alignment, scales, biases.
struct TensorData<'t, 's>(&'t TensorSource<'s>);

impl TensorSource<'_> {
    fn rows(&self) -> core::slice::ChunksExact<'_, f32> {
        self.weight.chunks_exact(self.cols.max(1))
    }

    fn layout(&self) -> DataLayout {
        // Shapes fit u16 (checked by `net_spec`); an empty layout keeps this total.
        DataLayout::new(self.rows as u16, self.cols as u16, self.encoding).unwrap_or(DataLayout {
            weights: 0,
            scales: 0,
            bias: 0,
            len: 0,
        })
    }

    /// The pad of the record: rows, cols and the encoding tag come before it.
    fn pad(&self) -> usize {
        let before = varint_len(self.rows) + varint_len(self.cols) + 1;
        pad_len(self.at + before, self.layout().len)
    }
}

impl Serialize for TensorSource<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TensorWire", 5)?;
        st.serialize_field("rows", &(self.rows as u16))?;
        st.serialize_field("cols", &(self.cols as u16))?;
        st.serialize_field("encoding", &self.encoding.tag())?;
        st.serialize_field("pad", &[0u8; ALIGN - 1][..self.pad()])?;
        st.serialize_field("data", &TensorData(self))?;
        st.end()
    }
}

impl Serialize for TensorData<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let layout = t.layout();
        let mut seq = s.serialize_seq(Some(layout.len))?;
        match t.encoding.q_max() {
            None => {
                for w in t.weight {
                    for b in w.to_le_bytes() {
                        seq.serialize_element(&b)?;
                    }
                }
            }
            Some(q_max) => {
                for row in t.rows() {
                    // Finite rows were checked before writing; 1 keeps this total.
                    let scale = row_scale(row, q_max).unwrap_or(1.0);
                    for &w in row {
                        let q = quantize(w, scale, q_max);
                        if t.encoding == Encoding::I8 {
                            seq.serialize_element(&(q as i8 as u8))?;
                        } else {
                            for b in (q as i16).to_le_bytes() {
                                seq.serialize_element(&b)?;
                            }
                        }
                    }
                }
            }
        }
        for _ in layout.weights..layout.scales {
            seq.serialize_element(&0u8)?;
        }
        if let Some(q_max) = t.encoding.q_max() {
            for row in t.rows() {
                for b in row_scale(row, q_max).unwrap_or(1.0).to_le_bytes() {
                    seq.serialize_element(&b)?;
                }
            }
        }
        for b in t.bias {
            for byte in b.to_le_bytes() {
                seq.serialize_element(&byte)?;
            }
        }
        seq.end()
    }
}

/// Visit every network of a model in canonical order.
type NetVisitor<'v> = dyn Fn(&mut dyn FnMut(&dyn ExportNet)) + 'v;

/// Visit every dense layer as the tensor to write: `export.encoding`, except each network's
/// output layer when `export.f32_output_layers` is set.
fn for_each_tensor(
    nets: &NetVisitor<'_>,
    export: &Export<'_>,
    f: &mut dyn FnMut(&TensorSource<'_>),
) {
    nets(&mut |net| {
        let mut dense = 0;
        net.export_layers(&mut |l| dense += usize::from(matches!(l, LayerRef::Dense { .. })));
        let mut index = 0;
        net.export_layers(&mut |l| {
            if let LayerRef::Dense {
                rows,
                cols,
                weight,
                bias,
            } = l
            {
                index += 1;
                let encoding = if export.f32_output_layers && index == dense {
                    Encoding::F32
                } else {
                    export.encoding
                };
                f(&TensorSource {
                    rows,
                    cols,
                    encoding,
                    weight,
                    bias,
                    at: 0,
                })
            }
        })
    });
}

fn postcard_err(e: postcard::Error) -> Error {
    match e {
        postcard::Error::SerializeBufferFull => Error::BufferTooSmall { needed: u32::MAX },
        _ => Error::InvalidShape,
    }
}

fn write_model(
    mut header: HeaderWire<'_>,
    nets: &NetVisitor<'_>,
    export: &Export<'_>,
    out: &mut [u8],
) -> Result<usize, Error> {
    // Pass 1: check the weights, measure the quantisation error.
    let mut acc = ErrorAccumulator::default();
    let mut status = Ok(());
    for_each_tensor(nets, export, &mut |t| {
        if status.is_err() {
            return;
        }
        if t.weight.len() != t.rows * t.cols || t.bias.len() != t.rows {
            status = Err(Error::InvalidShape);
        } else if !t.weight.iter().chain(t.bias).all(|v| v.is_finite()) {
            status = Err(Error::NonFiniteParameter);
        } else {
            for row in t.rows() {
                if let Err(e) = acc.add_row(row, t.encoding) {
                    status = Err(e);
                }
            }
        }
    });
    status?;
    header.quant.quantized_weights = acc.count;
    header.quant.max_abs_error = acc.max_abs as f32;
    header.quant.rms_error = acc.rms() as f32;
    header.quant.max_error_over_scale = acc.max_over_scale as f32;

    // Pass 2: the size.
    let mut size = PREAMBLE_LEN + CRC_LEN;
    size += postcard::experimental::serialized_size(&header).map_err(postcard_err)?;
    for_each_tensor(nets, export, &mut |t| {
        let t = TensorSource {
            at: size - CRC_LEN,
            ..*t
        };
        size += postcard::experimental::serialized_size(&t).unwrap_or(0);
    });
    let needed = u32::try_from(size).map_err(|_| Error::InvalidShape)?;
    if out.len() < size {
        return Err(Error::BufferTooSmall { needed });
    }

    // Pass 3: write.
    let out = &mut out[..size];
    let body_len = (size - PREAMBLE_LEN - CRC_LEN) as u32;
    out[..4].copy_from_slice(&MAGIC);
    out[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[6..10].copy_from_slice(&body_len.to_le_bytes());
    let mut pos = PREAMBLE_LEN;
    pos += postcard::to_slice(&header, &mut out[pos..])
        .map_err(postcard_err)?
        .len();
    let mut status = Ok(());
    for_each_tensor(nets, export, &mut |t| {
        let Some(room) = out.get_mut(pos..size - CRC_LEN) else {
            status = Err(Error::InvalidShape);
            return;
        };
        match postcard::to_slice(&TensorSource { at: pos, ..*t }, room) {
            Ok(used) => pos += used.len(),
            Err(e) => status = Err(postcard_err(e)),
        }
    });
    status?;
    if pos != size - CRC_LEN {
        return Err(Error::InvalidShape);
    }
    let crc = crc32(&out[..pos]);
    out[pos..].copy_from_slice(&crc.to_le_bytes());
    ModelView::parse(out)?;
    Ok(size)
}

fn header_base<'s>(
    kind: ModelKind,
    dim: usize,
    export: &Export<'s>,
    energy: Option<EnergyWire<'s>>,
    flow: Option<FlowWire<'s>>,
) -> Result<HeaderWire<'s>, Error> {
    Ok(HeaderWire {
        kind: kind.tag(),
        dim: u16::try_from(dim).map_err(|_| Error::InvalidShape)?,
        energy,
        flow,
        normalization: NormalizationWire {
            shift: export.normalization.shift,
            scale: export.normalization.scale,
        },
        sampler: SamplerWire::from_spec(&export.sampler),
        training: export.training,
        quant: QuantStats {
            model: export.model_errors,
            ..QuantStats::default()
        },
    })
}

fn energy_wire<'s, const D: usize, N: ExportNet>(
    energy: &'s Tilted<MlpEnergy<N>, D>,
) -> Result<EnergyWire<'s>, Error> {
    Ok(EnergyWire {
        net: NetWire::from_spec(&net_spec(&energy.energy.net)?),
        tilt_sigma: F32s::Native(energy.base.sigma()),
    })
}

/// Masks and scale factors of a flow, laid out as the file stores them.
struct FlowLists<const D: usize, const K: usize> {
    masks: [[[u16; D]; 2]; K],
    scale_factors: [[f32; 2]; K],
}

fn flow_lists<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>(
    flow: &RealNvp<D, A, B, N1, N2, K>,
) -> FlowLists<D, K> {
    FlowLists {
        masks: core::array::from_fn(|k| {
            let b = &flow.blocks[k];
            [
                core::array::from_fn(|i| {
                    if i < A {
                        b.first.cond()[i]
                    } else {
                        b.first.trans()[i - A]
                    }
                }),
                core::array::from_fn(|i| {
                    if i < B {
                        b.second.cond()[i]
                    } else {
                        b.second.trans()[i - B]
                    }
                }),
            ]
        }),
        scale_factors: core::array::from_fn(|k| {
            let b = &flow.blocks[k];
            [b.first.scale_factor(), b.second.scale_factor()]
        }),
    }
}

fn flow_wire<'s, const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>(
    flow: &'s RealNvp<D, A, B, N1, N2, K>,
    lists: &'s FlowLists<D, K>,
) -> Result<FlowWire<'s>, Error>
where
    N1: ExportNet + Network<A, B>,
    N2: ExportNet + Network<B, A>,
{
    let first = flow.blocks.first().ok_or(Error::InvalidShape)?;
    let spec = net_spec(&first.first.scale_net)?;
    for b in &flow.blocks {
        for (net, a) in [
            (&b.first.scale_net as &dyn ExportNet, A),
            (&b.first.shift_net, A),
            (&b.second.scale_net, B),
            (&b.second.shift_net, B),
        ] {
            let s = net_spec(net)?;
            let expected_io = (a, D - a);
            if s.hidden != spec.hidden
                || s.activation != spec.activation
                || (usize::from(s.input), usize::from(s.output)) != expected_io
            {
                return Err(Error::InvalidShape);
            }
        }
    }
    Ok(FlowWire {
        blocks: u16::try_from(K).map_err(|_| Error::InvalidShape)?,
        split: u16::try_from(A).map_err(|_| Error::InvalidShape)?,
        hidden: spec.hidden,
        activation: activation_tag(spec.activation),
        masks: U16s::Native(lists.masks.as_flattened().as_flattened()),
        scale_factors: F32s::Native(lists.scale_factors.as_flattened()),
        base_sigma: F32s::Native(flow.base().sigma()),
    })
}

fn visit_flow<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>(
    flow: &RealNvp<D, A, B, N1, N2, K>,
    f: &mut dyn FnMut(&dyn ExportNet),
) where
    N1: ExportNet,
    N2: ExportNet,
{
    for b in &flow.blocks {
        f(&b.first.scale_net);
        f(&b.first.shift_net);
        f(&b.second.scale_net);
        f(&b.second.shift_net);
    }
}

/// Encode a joint model (tilted energy + flow) into `out`; returns the bytes written.
pub fn encode_energy_flow<
    const D: usize,
    N,
    const A: usize,
    const B: usize,
    N1,
    N2,
    const K: usize,
>(
    energy: &Tilted<MlpEnergy<N>, D>,
    flow: &RealNvp<D, A, B, N1, N2, K>,
    export: &Export<'_>,
    out: &mut [u8],
) -> Result<usize, Error>
where
    N: ExportNet,
    N1: ExportNet + Network<A, B>,
    N2: ExportNet + Network<B, A>,
{
    let lists = flow_lists(flow);
    let header = header_base(
        ModelKind::EnergyFlow,
        D,
        export,
        Some(energy_wire(energy)?),
        Some(flow_wire(flow, &lists)?),
    )?;
    let nets = |f: &mut dyn FnMut(&dyn ExportNet)| {
        f(&energy.energy.net);
        visit_flow(flow, f);
    };
    write_model(header, &nets, export, out)
}

/// Encode a tilted energy alone into `out`; returns the bytes written.
pub fn encode_energy<const D: usize, N: ExportNet>(
    energy: &Tilted<MlpEnergy<N>, D>,
    export: &Export<'_>,
    out: &mut [u8],
) -> Result<usize, Error> {
    let header = header_base(
        ModelKind::Energy,
        D,
        export,
        Some(energy_wire(energy)?),
        None,
    )?;
    let nets = |f: &mut dyn FnMut(&dyn ExportNet)| f(&energy.energy.net);
    write_model(header, &nets, export, out)
}

/// Encode a flow alone into `out`; returns the bytes written.
pub fn encode_flow<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>(
    flow: &RealNvp<D, A, B, N1, N2, K>,
    export: &Export<'_>,
    out: &mut [u8],
) -> Result<usize, Error>
where
    N1: ExportNet + Network<A, B>,
    N2: ExportNet + Network<B, A>,
{
    let lists = flow_lists(flow);
    let header = header_base(
        ModelKind::Flow,
        D,
        export,
        None,
        Some(flow_wire(flow, &lists)?),
    )?;
    let nets = |f: &mut dyn FnMut(&dyn ExportNet)| visit_flow(flow, f);
    write_model(header, &nets, export, out)
}

impl<E: Encodings, const L: usize> ExportNet for runtime::Mlp<'_, E, L> {
    /// Every layer with its f32 weights (a quantised layer has none: the encoder rejects it
    /// with [`Error::InvalidShape`]), the activation between them.
    fn export_layers(&self, f: &mut dyn FnMut(LayerRef<'_>)) {
        let layers = self.layers();
        for (i, l) in layers.iter().enumerate() {
            let (weight, bias) = l.f32_parts().unwrap_or((&[], &[]));
            f(LayerRef::Dense {
                rows: l.outputs(),
                cols: l.inputs(),
                weight,
                bias,
            });
            if i + 1 < layers.len() {
                f(LayerRef::Activation(self.activation()));
            }
        }
    }
}

/// Most couplings of a run-time flow the encoder writes.
const MAX_RUNTIME_COUPLINGS: usize = 2 * MAX_FLOW_BLOCKS;

/// Encode a run-time shaped joint model into `out`: the energy network `energy` tilted by
/// N(0, diag `tilt_sigma`²), and `flow`, whose couplings come in blocks of two (the first
/// conditioning on as many coordinates in every block, the second on the rest) with the same
/// conditioner shape throughout. The layers must be f32 (the export quantises them to
/// `export.encoding`). The same bytes as [`encode_energy_flow`] for a typed model of the same
/// shape and parameters. [`Error::InvalidShape`] for anything else.
pub fn encode_runtime<E: Encodings, const L: usize, const C: usize, const FL: usize>(
    energy: &runtime::Mlp<'_, E, L>,
    tilt_sigma: &[f32],
    flow: &runtime::RealNvpFlow<'_, E, C, FL>,
    export: &Export<'_>,
    out: &mut [u8],
) -> Result<usize, Error> {
    let d = tilt_sigma.len();
    let couplings = flow.couplings();
    if energy.inputs() != d
        || energy.outputs() != 1
        || flow.sigma().len() != d
        || couplings.is_empty()
        || !couplings.len().is_multiple_of(2)
        || couplings.len() > MAX_RUNTIME_COUPLINGS
        || d > MAX_DIM
    {
        return Err(Error::InvalidShape);
    }
    let split = couplings[0].cond.len();
    let spec = net_spec(&couplings[0].scale_net)?;
    let mut masks = [0u16; MAX_RUNTIME_COUPLINGS * MAX_DIM];
    let mut scale_factors = [0.0f32; MAX_RUNTIME_COUPLINGS];
    for (k, c) in couplings.iter().enumerate() {
        let cond = if k % 2 == 0 { split } else { d - split };
        if c.cond.len() != cond || c.cond.len() + c.trans.len() != d {
            return Err(Error::InvalidShape);
        }
        for net in [&c.scale_net, &c.shift_net] {
            let s = net_spec(net)?;
            if s.hidden != spec.hidden
                || s.activation != spec.activation
                || (usize::from(s.input), usize::from(s.output)) != (cond, d - cond)
            {
                return Err(Error::InvalidShape);
            }
        }
        for (slot, i) in masks[k * d..(k + 1) * d]
            .iter_mut()
            .zip(c.cond.iter().chain(c.trans.iter()))
        {
            *slot = i;
        }
        scale_factors[k] = c.scale;
    }
    let n = couplings.len();
    let header = header_base(
        ModelKind::EnergyFlow,
        d,
        export,
        Some(EnergyWire {
            net: NetWire::from_spec(&net_spec(energy)?),
            tilt_sigma: F32s::Native(tilt_sigma),
        }),
        Some(FlowWire {
            blocks: u16::try_from(n / 2).map_err(|_| Error::InvalidShape)?,
            split: u16::try_from(split).map_err(|_| Error::InvalidShape)?,
            hidden: spec.hidden,
            activation: activation_tag(spec.activation),
            masks: U16s::Native(&masks[..n * d]),
            scale_factors: F32s::Native(&scale_factors[..n]),
            base_sigma: F32s::Native(flow.sigma()),
        }),
    )?;
    let nets = |f: &mut dyn FnMut(&dyn ExportNet)| {
        f(energy);
        for c in couplings {
            f(&c.scale_net);
            f(&c.shift_net);
        }
    };
    write_model(header, &nets, export, out)
}

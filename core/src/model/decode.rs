//! Decoding: [`ModelView::parse`] checks a whole file once, then typed accessors build
//! networks over its bytes.

use super::crc::crc32;
use super::header::{FlowSpec, Header, ModelKind, TensorSlot};
use super::lists::U16s;
use super::quant::Encoding;
use super::view::{FromLayers, LayerCursor};
use super::wire::{DataLayout, HeaderWire, TensorWire};
use super::{ALIGN, CRC_LEN, FORMAT_VERSION, MAGIC, PREAMBLE_LEN};
use crate::energy::{MlpEnergy, Tilted};
use crate::error::Error;
use crate::flow::{AffineCoupling, CouplingBlock, RealNvp};
use crate::gaussian::DiagGaussian;
use crate::network::Network;

/// Check the envelope (magic, version, length, CRC); returns the body and the stored CRC.
///
/// The checks run in this order, each with its own error: empty input, magic (as far as the
/// input goes), truncation before the version, version, truncation before the declared end,
/// trailing bytes, checksum.
pub fn check_envelope(bytes: &[u8]) -> Result<(&[u8], u32), Error> {
    if bytes.is_empty() {
        return Err(Error::EmptyInput);
    }
    let magic_seen = bytes.len().min(MAGIC.len());
    if bytes[..magic_seen] != MAGIC[..magic_seen] {
        return Err(Error::BadMagic);
    }
    let [_, _, _, _, v0, v1, ..] = *bytes else {
        return Err(Error::Truncated);
    };
    let version = u16::from_le_bytes([v0, v1]);
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion { found: version });
    }
    let [_, _, _, _, _, _, l0, l1, l2, l3, ..] = *bytes else {
        return Err(Error::Truncated);
    };
    let body_len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    let Some(end) = PREAMBLE_LEN.checked_add(body_len) else {
        return Err(Error::Truncated);
    };
    let total = end.checked_add(CRC_LEN).ok_or(Error::Truncated)?;
    if bytes.len() < total {
        return Err(Error::Truncated);
    }
    if bytes.len() > total {
        return Err(Error::TrailingBytes);
    }
    let (covered, stored) = bytes.split_at(end);
    let [c0, c1, c2, c3] = *stored else {
        return Err(Error::Truncated);
    };
    let stored = u32::from_le_bytes([c0, c1, c2, c3]);
    let computed = crc32(covered);
    if stored != computed {
        return Err(Error::ChecksumMismatch { stored, computed });
    }
    Ok((&covered[PREAMBLE_LEN..], stored))
}

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
    header: Header<'a>,
    rest: &'a [u8],
    /// Offset of `rest` from the start of the file.
    at: usize,
    index: usize,
    count: usize,
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

/// A model file, checked and borrowed: the header and the weight tensors stay in the input
/// bytes (`&'static [u8]` in flash on a microcontroller).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelView<'a> {
    header: Header<'a>,
    version: u16,
    crc: u32,
    size: usize,
    tensors: &'a [u8],
    /// Offset of `tensors` from the start of the file.
    tensors_at: usize,
}

impl<'a> ModelView<'a> {
    /// Check a whole file: envelope, header, every tensor's shape, lengths and values. Every
    /// malformed input gives an error; none panics.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let (body, crc) = check_envelope(bytes)?;
        let (wire, rest) = postcard::take_from_bytes::<HeaderWire<'a>>(body)
            .map_err(|_| Error::MalformedHeader)?;
        let header = wire.into_header()?;
        header.validate()?;
        let tensors_at = bytes.len() - CRC_LEN - rest.len();
        let mut tensors = Tensors {
            header,
            rest,
            at: tensors_at,
            index: 0,
            count: header.tensor_count(),
        };
        for t in &mut tensors {
            t?.validate_values()?;
        }
        if !tensors.rest.is_empty() {
            return Err(Error::TrailingBytes);
        }
        Ok(Self {
            header,
            version: FORMAT_VERSION,
            crc,
            size: bytes.len(),
            tensors: rest,
            tensors_at,
        })
    }

    /// A file whose header was decoded and checked ahead of time, e.g. by a firmware's build
    /// script running [`ModelView::parse`] on the same bytes: `header` is that header (its
    /// per-dimension lists borrowed from `bytes`) and `tensors_at` the offset of the first
    /// tensor record.
    ///
    /// Only the envelope is checked again (magic, version, length, CRC-32; a corrupted copy
    /// gives [`Error::ChecksumMismatch`]), plus that `tensors_at` lies in the body; the tensor
    /// records are checked for shape, lengths and alignment as they are read (so any bytes give
    /// an error, never a panic), but their values are not checked again. This keeps the header
    /// decoder and the validation out of a microcontroller's flash. The caller vouches that
    /// `header` and `tensors_at` come from a successful [`ModelView::parse`] of `bytes`.
    pub fn with_header(
        bytes: &'a [u8],
        header: Header<'a>,
        tensors_at: usize,
    ) -> Result<Self, Error> {
        let (body, crc) = check_envelope(bytes)?;
        let tensors = tensors_at
            .checked_sub(PREAMBLE_LEN)
            .and_then(|at| body.get(at..))
            .ok_or(Error::MalformedHeader)?;
        Ok(Self {
            header,
            version: FORMAT_VERSION,
            crc,
            size: bytes.len(),
            tensors,
            tensors_at,
        })
    }

    /// Offset of the first tensor record from the start of the file.
    pub fn tensors_at(&self) -> usize {
        self.tensors_at
    }

    /// The header.
    pub fn header(&self) -> &Header<'a> {
        &self.header
    }

    /// The format version of the file.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The file's CRC-32.
    pub fn crc(&self) -> u32 {
        self.crc
    }

    /// The file's size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The weight tensors in canonical order.
    pub fn tensors(&self) -> Tensors<'a> {
        Tensors {
            header: self.header,
            rest: self.tensors,
            at: self.tensors_at,
            index: 0,
            count: self.header.tensor_count(),
        }
    }

    fn check_dim<const D: usize>(&self) -> Result<(), Error> {
        if usize::from(self.header.dim) != D {
            return Err(Error::WrongDimension {
                expected: D.min(usize::from(u16::MAX)) as u16,
                found: self.header.dim,
            });
        }
        Ok(())
    }

    fn check_depth(type_layers: usize, file_layers: usize) -> Result<(), Error> {
        if type_layers != file_layers {
            return Err(Error::DepthMismatch {
                expected: type_layers.min(usize::from(u16::MAX)) as u16,
                found: file_layers.min(usize::from(u16::MAX)) as u16,
            });
        }
        Ok(())
    }

    fn wrong_kind(&self, expected: ModelKind) -> Error {
        Error::WrongModelKind {
            expected,
            found: self.header.kind,
        }
    }

    /// The tilted energy `U = E_θ − ln ρ` with network type `N` over the file's weights, e.g.
    /// [`super::PaperEnergyView`]. Every size of `N` is checked against the file.
    pub fn energy<const D: usize, N>(&self) -> Result<Tilted<MlpEnergy<N>, D>, Error>
    where
        N: FromLayers<'a> + Network<D, 1>,
    {
        let spec = self
            .header
            .energy
            .ok_or_else(|| self.wrong_kind(ModelKind::Energy))?;
        self.check_dim::<D>()?;
        Self::check_depth(N::DENSE_LAYERS, spec.net.depth())?;
        let mut cursor = LayerCursor {
            tensors: self.tensors(),
            activation: spec.net.activation,
        };
        let mut energy = Tilted::new(MlpEnergy::new(N::placeholder()), DiagGaussian::standard());
        energy.energy.net.fill(&mut cursor)?;
        let sigma = spec.tilt_sigma.to_array::<D>().ok_or(Error::InvalidShape)?;
        energy.base = DiagGaussian::new(sigma)?;
        Ok(energy)
    }

    /// The RealNVP flow with conditioner types `N1: A → B`, `N2: B → A` and `K` blocks over the
    /// file's weights, e.g. [`super::PaperFlowView`]. Every size is checked against the file.
    pub fn flow<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>(
        &self,
    ) -> Result<RealNvp<D, A, B, N1, N2, K>, Error>
    where
        N1: FromLayers<'a> + Network<A, B>,
        N2: FromLayers<'a> + Network<B, A>,
    {
        let spec = self
            .header
            .flow
            .ok_or_else(|| self.wrong_kind(ModelKind::Flow))?;
        self.check_dim::<D>()?;
        if usize::from(spec.blocks) != K {
            return Err(Error::WrongBlockCount {
                expected: K.min(usize::from(u16::MAX)) as u16,
                found: spec.blocks,
            });
        }
        let depth = spec.hidden.len() + 1;
        Self::check_depth(N1::DENSE_LAYERS, depth)?;
        Self::check_depth(N2::DENSE_LAYERS, depth)?;
        let mut tensors = self.tensors();
        let skip = self.header.energy.map_or(0, |e| e.net.depth());
        for _ in 0..skip {
            tensors.next().transpose()?;
        }
        let mut cursor = LayerCursor {
            tensors,
            activation: spec.activation,
        };
        let mut blocks: [CouplingBlock<D, A, B, N1, N2>; K] =
            core::array::from_fn(|_| CouplingBlock {
                first: AffineCoupling::half(true, N1::placeholder(), N1::placeholder()),
                second: AffineCoupling::half(false, N2::placeholder(), N2::placeholder()),
            });
        for (k, block) in blocks.iter_mut().enumerate() {
            self.fill_block(&spec, k, &mut cursor, block)?;
        }
        let sigma = spec.base_sigma.to_array::<D>().ok_or(Error::InvalidShape)?;
        Ok(RealNvp::new(blocks, DiagGaussian::new(sigma)?))
    }

    /// Set block `k` in place: its four conditioners from the next tensors, its masks and
    /// scale factors from the header.
    fn fill_block<const D: usize, const A: usize, const B: usize, N1, N2>(
        &self,
        spec: &FlowSpec<'a>,
        k: usize,
        cursor: &mut LayerCursor<'a>,
        block: &mut CouplingBlock<D, A, B, N1, N2>,
    ) -> Result<(), Error>
    where
        N1: FromLayers<'a>,
        N2: FromLayers<'a>,
    {
        let dim = self.header.dim;
        let scale = |c: usize| spec.scale_factors.get(c).ok_or(Error::InvalidShape);
        let first = &mut block.first;
        first.scale_net.fill(cursor)?;
        first.shift_net.fill(cursor)?;
        let (s, t) = (take(&mut first.scale_net), take(&mut first.shift_net));
        let (cond, trans) = spec.mask(2 * k, dim);
        *first = AffineCoupling::new(indices(cond)?, indices(trans)?, scale(2 * k)?, s, t)?;
        let second = &mut block.second;
        second.scale_net.fill(cursor)?;
        second.shift_net.fill(cursor)?;
        let (s, t) = (take(&mut second.scale_net), take(&mut second.shift_net));
        let (cond, trans) = spec.mask(2 * k + 1, dim);
        *second = AffineCoupling::new(indices(cond)?, indices(trans)?, scale(2 * k + 1)?, s, t)?;
        Ok(())
    }
}

/// The value of `net`, leaving a placeholder.
fn take<'a, N: FromLayers<'a>>(net: &mut N) -> N {
    core::mem::replace(net, N::placeholder())
}

fn indices<const N: usize>(list: U16s<'_>) -> Result<[u16; N], Error> {
    if list.len() != N {
        return Err(Error::InvalidMask);
    }
    let mut out = [0u16; N];
    for (o, i) in out.iter_mut().zip(list.iter()) {
        *o = i;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Energy;
    use crate::activation::Relu;
    use crate::mcmc::FlowMcConfig;
    use crate::model::lists::{Bounded, F32s};
    use crate::model::{Export, SamplerSpec, Training, encode_energy_flow};
    use crate::network::{Mlp1, Parameters};

    type Net = Mlp1<2, 4, 1, Relu>;
    type Cond = Mlp1<1, 3, 1, Relu>;
    type Nvp = RealNvp<2, 1, 1, Cond, Cond, 2>;

    fn filler(seed: u32) -> impl FnMut(&mut [f32]) {
        let mut k = seed;
        move |t| {
            for v in t.iter_mut() {
                k = k.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *v = ((k >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.8;
            }
        }
    }

    fn model() -> (Tilted<MlpEnergy<Net>, 2>, Nvp) {
        let mut net = Net::zeroed();
        net.visit_mut(&mut filler(1));
        let energy = Tilted::new(MlpEnergy::new(net), DiagGaussian::new([1.0, 2.0]).unwrap());
        let mut flow = Nvp::identity(DiagGaussian::standard());
        flow.visit_mut(&mut filler(2));
        (energy, flow)
    }

    fn export(encoding: Encoding) -> Export<'static> {
        Export {
            encoding,
            f32_output_layers: false,
            normalization: crate::model::Normalization {
                shift: F32s::Native(&[0.5, -1.0]),
                scale: F32s::Native(&[2.0, 0.25]),
            },
            sampler: SamplerSpec::new(&FlowMcConfig::default(), 0.01, 16),
            training: Training {
                dataset: "unit",
                iterations: 3,
                seed: 4,
                metrics: Bounded::from_slice(&[("loss", 0.5)]).unwrap(),
            },
            model_errors: None,
        }
    }

    /// The body the encoder streams equals postcard's own encoding of the decoded structures.
    #[test]
    fn encoder_output_is_canonical_postcard() {
        let (energy, flow) = model();
        for enc in Encoding::ALL {
            let mut buf = [0u8; 4096];
            let n = encode_energy_flow(&energy, &flow, &export(enc), &mut buf).unwrap();
            let view = ModelView::parse(&buf[..n]).unwrap();
            let mut again = [0u8; 4096];
            let wire = HeaderWire::from_header(view.header());
            let mut pos = postcard::to_slice(&wire, &mut again).unwrap().len();
            for t in view.tensors() {
                let t = t.unwrap();
                let layout = DataLayout::new(t.slot.shape[0], t.slot.shape[1], t.encoding).unwrap();
                let mut data = t.weights.to_vec();
                data.resize(layout.scales, 0);
                data.extend_from_slice(t.scales);
                data.extend_from_slice(t.bias);
                assert_eq!(data.len(), layout.len);
                let before = 1 + 1 + 1; // rows, cols (< 128) and the encoding tag
                let pad = super::super::wire::pad_len(PREAMBLE_LEN + pos + before, data.len());
                let w = TensorWire {
                    rows: t.slot.shape[0],
                    cols: t.slot.shape[1],
                    encoding: t.encoding.tag(),
                    pad: &[0; 3][..pad],
                    data: &data,
                };
                pos += postcard::to_slice(&w, &mut again[pos..]).unwrap().len();
                assert!((PREAMBLE_LEN + pos - data.len()).is_multiple_of(ALIGN));
            }
            assert_eq!(&again[..pos], &buf[PREAMBLE_LEN..n - CRC_LEN], "{enc}");
        }
    }

    #[test]
    fn f32_views_are_bit_identical() {
        let (energy, flow) = model();
        let mut buf = [0u8; 4096];
        let n = encode_energy_flow(&energy, &flow, &export(Encoding::F32), &mut buf).unwrap();
        let view = ModelView::parse(&buf[..n]).unwrap();
        let e = view
            .energy::<2, crate::model::view::Mlp1View<'_, 2, 4, 1, Relu>>()
            .unwrap();
        type CondView<'a> = crate::model::view::Mlp1View<'a, 1, 3, 1, Relu>;
        let f = view
            .flow::<2, 1, 1, CondView<'_>, CondView<'_>, 2>()
            .unwrap();
        use crate::Flow;
        for i in 0..50 {
            let x = [i as f32 * 0.1 - 2.5, 1.0 - i as f32 * 0.07];
            let (mut g1, mut g2) = ([0.0; 2], [0.0; 2]);
            assert_eq!(
                energy.energy_and_grad(&x, &mut g1).to_bits(),
                e.energy_and_grad(&x, &mut g2).to_bits()
            );
            assert_eq!(g1, g2);
            assert_eq!(flow.log_density(&x).to_bits(), f.log_density(&x).to_bits());
            let (mut y1, mut y2) = ([0.0; 2], [0.0; 2]);
            assert_eq!(flow.transform(&x, &mut y1), f.transform(&x, &mut y2));
            assert_eq!(y1, y2);
        }
    }
}

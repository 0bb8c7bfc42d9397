//! Decoding: [`ModelView::parse`] checks a whole file once, then typed accessors build
//! networks over its bytes. The tensor records are read by [`Tensors`] (`tensor.rs`).

use super::crc::crc32;
use super::format::{CRC_LEN, FORMAT_VERSION, MAGIC, PREAMBLE_LEN};
use super::header::{FlowSpec, Header};
use super::lists::U16s;
use super::tags::ModelKind;
use super::tensor::Tensors;
use super::view::{FromLayers, LayerCursor};
use super::wire::HeaderWire;
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

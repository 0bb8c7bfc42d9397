//! [`DenseView`]: a dense layer over one weight tensor of a model file (f32, int16 or int8), and
//! the set of encodings it accepts ([`Encodings`]). The arithmetic is in the kernels module
//! (`kernels::rows`); here each encoding's bytes are taken apart and handed to its kernel.

use crate::error::Error;
use crate::kernels::{
    row_axpys, row_axpys_narrow, row_axpys_unaligned, row_dots, row_dots_narrow, row_dots_unaligned,
};
use crate::model::quant::Encoding;
use crate::model::tensor::TensorView;
use crate::model::wire::DataLayout;
use crate::network::Network;
use core::marker::PhantomData;

/// The weight encodings a [`DenseView`] accepts, as a type: [`EncodingSet`].
///
/// The kernels of the other encodings are never called, so they are not compiled in: a
/// microcontroller build that knows its model's encodings ahead of time (the firmware's build
/// script reads them from the file) links only those. [`AnyEncoding`] accepts all three.
pub trait Encodings: Copy + core::fmt::Debug + PartialEq {
    /// Whether f32 weights are accepted.
    const F32: bool;
    /// Whether int16 weights are accepted.
    const I16: bool;
    /// Whether int8 weights are accepted.
    const I8: bool;

    /// Whether `encoding` is accepted.
    fn accepts(encoding: Encoding) -> bool {
        match encoding {
            Encoding::F32 => Self::F32,
            Encoding::I16 => Self::I16,
            Encoding::I8 => Self::I8,
        }
    }
}

/// The set of weight encodings `{f32 if F32, int16 if I16, int8 if I8}` (see [`Encodings`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodingSet<const F32: bool, const I16: bool, const I8: bool>;

impl<const F32: bool, const I16: bool, const I8: bool> Encodings for EncodingSet<F32, I16, I8> {
    const F32: bool = F32;
    const I16: bool = I16;
    const I8: bool = I8;
}

/// Every encoding: f32, int16 and int8 (the default).
pub type AnyEncoding = EncodingSet<true, true, true>;

/// A dense layer `y = W x + b` reading its weights in place from a model file, in one of the
/// encodings `E` (all by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseView<'a, const IN: usize, const OUT: usize, E: Encodings = AnyEncoding> {
    encoding: Encoding,
    /// The tensor's data: weights, zeros, scales, biases (see [`TensorView::data`]); one slice
    /// rather than three keeps a model's views small (they are moved around while it is built).
    data: &'a [u8],
    tensor: u16,
    accepted: PhantomData<E>,
}

#[inline]
fn le_f32(c: &[u8]) -> f32 {
    match c {
        [a, b, c, d, ..] => f32::from_le_bytes([*a, *b, *c, *d]),
        _ => 0.0,
    }
}

/// Check that tensor `t` can be a `DenseView<inputs, outputs>`: its shape and byte lengths.
/// Not generic and not inlined, so the many layer types of a model share one copy.
#[inline(never)]
pub(crate) fn check_dense(t: &TensorView<'_>, inputs: usize, outputs: usize) -> Result<(), Error> {
    let tensor = t.slot.index as u16;
    let expected = [outputs as u16, inputs as u16];
    if outputs > usize::from(u16::MAX) || inputs > usize::from(u16::MAX) || t.slot.shape != expected
    {
        return Err(Error::TensorShape {
            tensor,
            expected,
            found: t.slot.shape,
        });
    }
    let bpw = t.encoding.bytes_per_weight();
    let scales = if t.encoding.is_quantized() {
        4 * outputs
    } else {
        0
    };
    let weights = (outputs as u64) * (inputs as u64) * (bpw as u64);
    let layout = DataLayout::new(expected[0], expected[1], t.encoding);
    if t.weights.len() as u64 != weights
        || t.scales.len() != scales
        || t.bias.len() as u64 != 4 * outputs as u64
        || layout.is_none_or(|l| t.data.len() != l.len)
    {
        return Err(Error::TensorLength { tensor });
    }
    Ok(())
}

impl<'a, const IN: usize, const OUT: usize, E: Encodings> DenseView<'a, IN, OUT, E> {
    const SHAPE_OK: () = assert!(IN > 0 && OUT > 0, "a DenseView needs IN > 0 and OUT > 0");

    /// The layer of tensor `t`; its shape must be `[OUT, IN]` and its encoding one of `E`
    /// ([`Error::UnknownEncoding`] otherwise).
    pub fn new(t: &TensorView<'a>) -> Result<Self, Error> {
        let () = Self::SHAPE_OK;
        check_dense(t, IN, OUT)?;
        if !E::accepts(t.encoding) {
            return Err(Error::UnknownEncoding {
                tensor: t.slot.index as u16,
                found: t.encoding.tag(),
            });
        }
        Ok(Self {
            encoding: t.encoding,
            data: t.data,
            tensor: t.slot.index as u16,
            accepted: PhantomData,
        })
    }

    /// A layer with no rows (every output untouched); stands in only while an error is returned.
    pub(super) const fn empty() -> Self {
        Self {
            encoding: Encoding::F32,
            data: &[],
            tensor: 0,
            accepted: PhantomData,
        }
    }

    /// The weight encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Index of the tensor in the file.
    pub fn tensor_index(&self) -> u16 {
        self.tensor
    }

    /// The weights, scales (empty for f32) and biases: the parts of the tensor's data.
    #[inline(always)]
    fn parts(&self) -> (&'a [u8], &'a [u8], &'a [u8]) {
        parts(self.encoding, self.data, OUT, IN)
    }

    /// The scale of row `o` (`None` for f32 or out of range).
    pub fn scale(&self, o: usize) -> Option<f32> {
        self.parts().1.get(4 * o..4 * o + 4).map(le_f32)
    }

    /// The bias of row `o` (0 out of range).
    pub fn bias(&self, o: usize) -> f32 {
        self.parts().2.get(4 * o..4 * o + 4).map_or(0.0, le_f32)
    }

    /// The weight `W[o][j]` this layer stands for (`s_o · q_oj` when quantised; 0 out of range).
    pub fn weight(&self, o: usize, j: usize) -> f32 {
        if o >= OUT || j >= IN {
            return 0.0;
        }
        let bpw = self.encoding.bytes_per_weight();
        let at = (o * IN + j) * bpw;
        let Some(c) = self.parts().0.get(at..at + bpw) else {
            return 0.0;
        };
        match (self.encoding, c) {
            (Encoding::F32, c) => le_f32(c),
            (Encoding::I16, [a, b]) => {
                self.scale(o).unwrap_or(0.0) * f32::from(i16::from_le_bytes([*a, *b]))
            }
            (Encoding::I8, [a]) => self.scale(o).unwrap_or(0.0) * f32::from(*a as i8),
            _ => 0.0,
        }
    }
}

/// The weights as `&[T]` when they are aligned for `T` in memory (and the target is
/// little-endian, the byte order of the file); `None` otherwise.
#[inline(always)]
fn aligned<T: bytemuck::Pod>(bytes: &[u8]) -> Option<&[T]> {
    if cfg!(target_endian = "little") {
        bytemuck::try_cast_slice(bytes).ok()
    } else {
        None
    }
}

/// The weights, scales (empty for f32) and biases of a `rows × cols` tensor's `data` (empty
/// parts if it is too short; `DenseView::new` checked the length).
#[inline(always)]
fn parts(encoding: Encoding, data: &[u8], rows: usize, cols: usize) -> (&[u8], &[u8], &[u8]) {
    let l = DataLayout::new(rows as u16, cols as u16, encoding).unwrap_or(DataLayout {
        weights: 0,
        scales: 0,
        bias: 0,
        len: 0,
    });
    let part = |start: usize, end: usize| data.get(start..end).unwrap_or_default();
    (
        part(0, l.weights),
        part(l.scales, l.bias),
        part(l.bias, l.len),
    )
}

/// The forward pass `y = W x + b` of a layer with `x.len()` inputs and `y.len()` outputs
/// stored in `data`. Not generic in the sizes, so one copy serves every layer.
#[inline(never)]
pub(crate) fn dense_forward<E: Encodings>(
    encoding: Encoding,
    data: &[u8],
    x: &[f32],
    y: &mut [f32],
) {
    let (w, scales, bias) = parts(encoding, data, y.len(), x.len());
    // (an encoding outside `E` never gets here: `DenseView::new` rejects it)
    match encoding {
        Encoding::F32 if E::F32 => match (aligned::<f32>(w), aligned::<f32>(bias)) {
            // the bias added in the kernel: y[o] = acc + b[o], as below
            (Some(w), Some(b)) => return row_dots(w, x, b, y),
            _ => row_dots_unaligned(w.as_chunks::<4>().0, x, y),
        },
        Encoding::I16 if E::I16 => match aligned::<i16>(w) {
            Some(w) => row_dots_narrow(w, x, y),
            None => row_dots_unaligned(w.as_chunks::<2>().0, x, y),
        },
        Encoding::I8 if E::I8 => row_dots_narrow(w, x, y),
        _ => return,
    }
    // y[o] = acc + b (f32) or s·acc + b (quantised), as `Dense` and the encoder define it
    let bias = bias.as_chunks::<4>().0;
    if encoding.is_quantized() {
        for ((yo, s), b) in y.iter_mut().zip(scales.as_chunks::<4>().0).zip(bias) {
            *yo = f32::from_le_bytes(*s) * *yo + f32::from_le_bytes(*b);
        }
    } else {
        for (yo, b) in y.iter_mut().zip(bias) {
            *yo += f32::from_le_bytes(*b);
        }
    }
}

/// The input gradient `dx = Wᵀ dy` of a layer stored in `data` (the rows' coefficients are
/// `dy[o]`, or `dy[o]·s[o]` when quantised). One copy serves every layer, as
/// [`dense_forward`].
#[inline(never)]
pub(crate) fn dense_backward<E: Encodings>(
    encoding: Encoding,
    data: &[u8],
    dy: &[f32],
    dx: &mut [f32],
) {
    let (w, scales, _) = parts(encoding, data, dy.len(), dx.len());
    let scales = scales.as_chunks::<4>().0;
    match encoding {
        Encoding::F32 if E::F32 => match aligned::<f32>(w) {
            Some(w) => row_axpys(w, dy, dx),
            None => row_axpys_unaligned(w.as_chunks::<4>().0, dy, None, dx),
        },
        Encoding::I16 if E::I16 => match aligned::<i16>(w) {
            Some(w) => row_axpys_narrow(w, dy, scales, dx),
            None => row_axpys_unaligned(w.as_chunks::<2>().0, dy, Some(scales), dx),
        },
        Encoding::I8 if E::I8 => row_axpys_narrow(w, dy, scales, dx),
        _ => {}
    }
}

impl<const IN: usize, const OUT: usize, E: Encodings> Network<IN, OUT>
    for DenseView<'_, IN, OUT, E>
{
    type Tape = ();

    #[inline]
    fn forward(&self, x: &[f32; IN], y: &mut [f32; OUT]) {
        dense_forward::<E>(self.encoding, self.data, x, y)
    }

    #[inline]
    fn forward_taped(&self, x: &[f32; IN], y: &mut [f32; OUT], _tape: &mut ()) {
        self.forward(x, y)
    }

    #[inline]
    fn backward(&self, _tape: &(), dy: &[f32; OUT], dx: &mut [f32; IN]) {
        dense_backward::<E>(self.encoding, self.data, dy, dx)
    }

    fn macs() -> usize {
        IN * OUT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{axpy, dot};
    use crate::model::header::{TensorRole, TensorSlot};

    // forward: two blocks of eight inputs and a tail of five, three blocks of four rows and a
    // tail of one; backward: two blocks of sixteen columns and five single ones
    const IN: usize = 37;
    const OUT: usize = 13;

    /// The reference: each row decoded to f32, then `dot` (forward) and one `axpy` per row
    /// (backward), as the format defines the arithmetic.
    fn reference(
        enc: Encoding,
        w: &[u8],
        s: &[f32],
        b: &[f32],
        x: &[f32; IN],
        dy: &[f32; OUT],
    ) -> ([f32; OUT], [f32; IN]) {
        let row = |o: usize| -> [f32; IN] {
            core::array::from_fn(|i| match enc {
                Encoding::F32 => {
                    let k = 4 * (o * IN + i);
                    f32::from_le_bytes([w[k], w[k + 1], w[k + 2], w[k + 3]])
                }
                Encoding::I16 => {
                    let k = 2 * (o * IN + i);
                    f32::from(i16::from_le_bytes([w[k], w[k + 1]]))
                }
                Encoding::I8 => f32::from(w[o * IN + i] as i8),
            })
        };
        let q = enc.is_quantized();
        let y = core::array::from_fn(|o| {
            let acc = dot(&row(o), x);
            if q { s[o] * acc + b[o] } else { acc + b[o] }
        });
        let mut dx = [0.0; IN];
        for o in 0..OUT {
            axpy(if q { dy[o] * s[o] } else { dy[o] }, &row(o), &mut dx);
        }
        (y, dx)
    }

    #[test]
    fn blocked_kernels_match_the_row_by_row_reference_bitwise() {
        let mut k = 12345u32;
        let mut next = move || {
            k = k.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            k
        };
        for enc in Encoding::ALL {
            for _ in 0..20 {
                let bpw = enc.bytes_per_weight();
                let mut w = [0u8; 4 * IN * OUT];
                let w = &mut w[..bpw * IN * OUT];
                for c in w.chunks_exact_mut(bpw) {
                    let v = next();
                    match enc {
                        // values of all magnitudes, so that the summation order shows
                        Encoding::F32 => c.copy_from_slice(
                            &(((v >> 8) as f32 / 16_777_216.0 - 0.5)
                                * [1e-3f32, 1.0, 1e4][(v % 3) as usize])
                                .to_le_bytes(),
                        ),
                        Encoding::I16 => {
                            c.copy_from_slice(&((v >> 16) as i16).max(-32767).to_le_bytes())
                        }
                        Encoding::I8 => c[0] = ((v >> 24) as i8).max(-127) as u8,
                    }
                }
                let f = |v: u32| ((v >> 8) as f32 / 16_777_216.0 - 0.5) * 3.0;
                let s: [f32; OUT] = core::array::from_fn(|_| f(next()).abs() + 0.01);
                let b: [f32; OUT] = core::array::from_fn(|_| f(next()));
                let x: [f32; IN] = core::array::from_fn(|_| f(next()) * 100.0);
                let dy: [f32; OUT] = core::array::from_fn(|_| f(next()));
                let (mut sb, mut bb) = ([0u8; 4 * OUT], [0u8; 4 * OUT]);
                for o in 0..OUT {
                    sb[4 * o..4 * o + 4].copy_from_slice(&s[o].to_le_bytes());
                    bb[4 * o..4 * o + 4].copy_from_slice(&b[o].to_le_bytes());
                }
                // the tensor's data (weights, zeros, scales, biases) aligned in memory (the
                // fast path for f32 and int16) and one byte off (the byte-wise path): the same
                // bits either way
                let layout = DataLayout::new(OUT as u16, IN as u16, enc).unwrap();
                let mut data = vec![0u8; layout.len];
                data[..w.len()].copy_from_slice(w);
                if enc.is_quantized() {
                    data[layout.scales..layout.bias].copy_from_slice(&sb);
                }
                data[layout.bias..].copy_from_slice(&bb);
                let mut aligned_buf = [0u32; 2 * (IN + 1) * OUT];
                let aligned_bytes = &mut bytemuck::cast_slice_mut(&mut aligned_buf)[..data.len()];
                aligned_bytes.copy_from_slice(&data);
                let mut shifted_buf = [0u32; 2 * (IN + 1) * OUT + 1];
                let shifted_bytes =
                    &mut bytemuck::cast_slice_mut::<u32, u8>(&mut shifted_buf)[1..data.len() + 1];
                shifted_bytes.copy_from_slice(&data);
                let mut results = Vec::new();
                for (bytes, is_aligned) in [(&*aligned_bytes, true), (&*shifted_bytes, false)] {
                    let weights = &bytes[..layout.weights];
                    let fast = match enc {
                        Encoding::F32 => aligned::<f32>(weights).is_some(),
                        Encoding::I16 => aligned::<i16>(weights).is_some(),
                        Encoding::I8 => is_aligned,
                    };
                    assert_eq!(fast, is_aligned, "{enc}");
                    let t = TensorView {
                        slot: TensorSlot {
                            index: 0,
                            role: TensorRole::Energy,
                            layer: 0,
                            shape: [OUT as u16, IN as u16],
                        },
                        encoding: enc,
                        weights,
                        scales: &bytes[layout.scales..layout.bias],
                        bias: &bytes[layout.bias..],
                        data: bytes,
                    };
                    let view = DenseView::<IN, OUT>::new(&t).unwrap();
                    for o in 0..OUT {
                        assert_eq!(view.bias(o), b[o]);
                        assert_eq!(view.scale(o), enc.is_quantized().then_some(s[o]));
                    }
                    let (mut y, mut dx) = ([0.0; OUT], [0.0; IN]);
                    view.forward(&x, &mut y);
                    view.backward(&(), &dy, &mut dx);
                    results.push((y, dx));
                }
                let (ry, rdx) = reference(enc, w, &s, &b, &x, &dy);
                for (y, dx) in results {
                    assert_eq!(y.map(f32::to_bits), ry.map(f32::to_bits), "{enc}");
                    assert_eq!(dx.map(f32::to_bits), rdx.map(f32::to_bits), "{enc}");
                }
            }
        }
    }
}

//! Networks whose weights stay in the model file: [`DenseView`] and the view types of the
//! paper's shapes.
//!
//! A [`DenseView<'a, IN, OUT>`] borrows one weight tensor (f32, int16 or int8) and implements
//! [`Network<IN, OUT>`], so it composes with [`Act`] and [`Chain`] exactly like an owned
//! [`crate::Dense`]; nothing is copied to RAM. The kernels keep the summation order of
//! the `kernels` module — every output a sequential sum in index order (forward
//! `y[o] = (Σ_i w[o][i]·x[i]) + b[o]`, backward `dx[i] = Σ_o (dy[o]·s[o])·w[o][i]`), with blocks
//! of rows (forward) or columns (backward) reduced side by side for speed — so a host and a
//! Cortex-M4F give the same bits for the same file.
//!
//! Format version 2 aligns every tensor's data to 4 bytes from the start of the file
//! ([`super::ALIGN`]). When the file itself is 4-byte aligned in memory (the firmware's
//! compiled-in blob), f32 and int16 weights are read as `&[f32]` / `&[i16]` through
//! `bytemuck::try_cast_slice` (a checked, safe reinterpretation: one load per weight);
//! otherwise (a file at an odd address, e.g. in a `Vec<u8>`, or a big-endian host) a small
//! row-by-row kernel decodes each weight with `from_le_bytes`. Both paths compute the same
//! sums in the same order, so they agree to the bit (tested below).
//!
//! ```text
//! f32:        y_o = Σ_j W_oj x_j + b_o                    (bit-identical to Dense)
//! int16/int8: y_o = s_o · Σ_j q_oj x_j + b_o               (q exact in f32, activations f32)
//! ```
//!
//! [`FromLayers`] builds a whole network type (`Chain`s of `DenseView` and `Act`) from the file's
//! tensors in the canonical order, checking every shape against the const generics.

use super::decode::TensorView;
use super::quant::Encoding;
use super::wire::DataLayout;
use crate::activation::{Activation, ActivationKind, LeakyRelu, Relu};
use crate::energy::{MlpEnergy, Tilted};
use crate::error::Error;
use crate::flow::RealNvp;
use crate::network::{Act, Chain, Network};
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
fn check_dense(t: &TensorView<'_>, inputs: usize, outputs: usize) -> Result<(), Error> {
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
    const fn empty() -> Self {
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

/// A stored weight: f32 (4 little-endian bytes), int16 (2) or int8 (1), read as the f32 it
/// stands for (the quantised integer `q` for int16 and int8; the scale is applied per row).
trait Stored: Copy {
    fn get(self) -> f32;
}

impl Stored for f32 {
    #[inline(always)]
    fn get(self) -> f32 {
        self
    }
}

impl Stored for i16 {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from(self)
    }
}

impl Stored for [u8; 4] {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from_le_bytes(self)
    }
}

impl Stored for [u8; 2] {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from(i16::from_le_bytes(self))
    }
}

impl Stored for u8 {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from(self as i8)
    }
}

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
use super::vfp::{axpys16, dot4};
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
use {axpys16_portable as axpys16, dot4_portable as dot4};

/// One step `i` of four row sums: `s[r] += w[r]·x` (product, then sum: the order of
/// [`crate::kernels::dot`]).
#[inline(always)]
fn mac4<T: Stored>(s: &mut [f32; 4], x: f32, w: [T; 4]) {
    s[0] += w[0].get() * x;
    s[1] += w[1].get() * x;
    s[2] += w[2].get() * x;
    s[3] += w[3].get() * x;
}

/// The four rows of a block of `4n` weights.
#[inline(always)]
fn four_rows<T>(block: &[T], n: usize) -> [&[T]; 4] {
    let (r0, rest) = block.split_at(n);
    let (r1, rest) = rest.split_at(n);
    let (r2, r3) = rest.split_at(n);
    [r0, r1, r2, r3]
}

/// `y[o] = (Σ_i w[o][i]·x[i]) + b[o]`, the sum over `i` in index order (the bits of
/// [`crate::kernels::dot`] of each row, then the bias), for the row-major f32 weights `w`
/// (`x.len()` per row).
///
/// Four rows are reduced side by side ([`dot4`]) and the remaining `rows mod 4` one at a time.
/// Not inlined and not specialised by size: one copy serves every layer, which keeps a
/// microcontroller's flash small.
#[inline(never)]
pub(crate) fn row_dots(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32]) {
    let n = x.len();
    let Some(block_len) = n.checked_mul(4).filter(|&b| b > 0) else {
        return;
    };
    let mut blocks = w.chunks_exact(block_len);
    let (y4, y1) = y.as_chunks_mut::<4>();
    let (b4, b1) = b.as_chunks::<4>();
    for ((out, bias), block) in y4.iter_mut().zip(b4).zip(&mut blocks) {
        dot4(block, x, bias, out);
    }
    for ((out, bias), row) in y1
        .iter_mut()
        .zip(b1)
        .zip(blocks.remainder().chunks_exact(n))
    {
        let mut s = 0.0f32;
        for (xi, wi) in x.iter().zip(row) {
            s += wi * xi;
        }
        *out = s + bias;
    }
}

/// The four row sums `Σ_i w[r][i]·x[i]` of a block of four rows (`4·x.len()` weights), each in
/// index order: the loop over `i` is unrolled eight times and each `x[i]` loaded once per four
/// weights, with four independent sums in flight. Its own function, so that the loop gets all
/// the registers. (On Arm hard-float targets `row_dots` uses the same loop in VFP assembly,
/// `vfp::dot4`, with the same bits.)
#[cfg_attr(not(all(target_arch = "arm", target_abi = "eabihf")), inline(never))]
fn dot4_sums(block: &[f32], x: &[f32]) -> [f32; 4] {
    let n = x.len();
    let (x8, x1) = x.as_chunks::<8>();
    let [r0, r1, r2, r3] = four_rows(block, n);
    let ((a8, a1), (b8, b1)) = (r0.as_chunks::<8>(), r1.as_chunks::<8>());
    let ((c8, c1), (d8, d1)) = (r2.as_chunks::<8>(), r3.as_chunks::<8>());
    let mut s = [0.0f32; 4];
    for ((((xs, a), b), c), d) in x8.iter().zip(a8).zip(b8).zip(c8).zip(d8) {
        mac4(&mut s, xs[0], [a[0], b[0], c[0], d[0]]);
        mac4(&mut s, xs[1], [a[1], b[1], c[1], d[1]]);
        mac4(&mut s, xs[2], [a[2], b[2], c[2], d[2]]);
        mac4(&mut s, xs[3], [a[3], b[3], c[3], d[3]]);
        mac4(&mut s, xs[4], [a[4], b[4], c[4], d[4]]);
        mac4(&mut s, xs[5], [a[5], b[5], c[5], d[5]]);
        mac4(&mut s, xs[6], [a[6], b[6], c[6], d[6]]);
        mac4(&mut s, xs[7], [a[7], b[7], c[7], d[7]]);
    }
    for ((((&xi, &a), &b), &c), &d) in x1.iter().zip(a1).zip(b1).zip(c1).zip(d1) {
        mac4(&mut s, xi, [a, b, c, d]);
    }
    s
}

/// One block of four rows of [`row_dots`]: `y[r] = dot4_sums(block, x)[r] + b[r]`. (On Arm
/// hard-float targets `vfp::dot4`, which falls back to this for blocks shorter than `4·x.len()`.)
#[inline(always)]
pub(super) fn dot4_portable(block: &[f32], x: &[f32], b: &[f32; 4], y: &mut [f32; 4]) {
    let s = dot4_sums(block, x);
    *y = [s[0] + b[0], s[1] + b[1], s[2] + b[2], s[3] + b[3]];
}

/// `dx[i] = Σ_o alpha[o]·w[o][i]`, summed over the rows `o` in order from `dx = 0` (the bits
/// of one [`crate::kernels::axpy`] per row), for the row-major f32 weights `w` (`dx.len()` per
/// row).
///
/// Sixteen columns at a time ([`axpys16`]): their sums stay in registers while the kernel
/// walks down the rows, so `dx` is written once and `alpha[o]` read once per sixteen weights;
/// the last `n mod 16` columns one at a time. Not inlined, as [`row_dots`].
#[inline(never)]
pub(crate) fn row_axpys(w: &[f32], alpha: &[f32], dx: &mut [f32]) {
    let n = dx.len();
    if n == 0 {
        return;
    }
    let (dx16, dx1) = dx.as_chunks_mut::<16>();
    let mut col = 0;
    for d in dx16 {
        *d = axpys16(w, n, col, alpha);
        col += 16;
    }
    for d in dx1 {
        let mut s = 0.0f32;
        for (row, &a) in w.chunks_exact(n).zip(alpha) {
            if let Some(c) = row.get(col) {
                s += a * c;
            }
        }
        *d = s;
        col += 1;
    }
}

/// The sixteen column sums `d[j] = Σ_o alpha[o]·w[o·n + col + j]`, from 0 and the rows `o`
/// in order, over the rows `o < min(w.len() / n, alpha.len())` (zeros where `col + 16 > n`).
/// (On Arm hard-float targets the kernels use the same loop in VFP assembly,
/// `vfp::axpys16`, with the same bits.)
#[inline(always)]
pub(super) fn axpys16_portable(w: &[f32], n: usize, col: usize, alpha: &[f32]) -> [f32; 16] {
    let mut s = [0.0f32; 16];
    if n == 0 {
        return s;
    }
    for (row, &a) in w.chunks_exact(n).zip(alpha) {
        if let Some(c) = row.get(col..).and_then(|r| r.first_chunk::<16>()) {
            s[0] += a * c[0];
            s[1] += a * c[1];
            s[2] += a * c[2];
            s[3] += a * c[3];
            s[4] += a * c[4];
            s[5] += a * c[5];
            s[6] += a * c[6];
            s[7] += a * c[7];
            s[8] += a * c[8];
            s[9] += a * c[9];
            s[10] += a * c[10];
            s[11] += a * c[11];
            s[12] += a * c[12];
            s[13] += a * c[13];
            s[14] += a * c[14];
            s[15] += a * c[15];
        }
    }
    s
}

/// One element `d = dx[i]` of four row updates in row order: `d += a[r]·w[r]` (the order of
/// one [`crate::kernels::axpy`] per row).
#[inline(always)]
fn axpy4<T: Stored>(d: &mut f32, a: &[f32; 4], w: [T; 4]) {
    let mut t = *d;
    t += a[0] * w[0].get();
    t += a[1] * w[1].get();
    t += a[2] * w[2].get();
    t += a[3] * w[3].get();
    *d = t;
}

/// `acc[o] = Σ_i w[o][i]·x[i]`, summed over `i` in index order (the bits of
/// [`crate::kernels::dot`] of each row), for the row-major weights `w` (`x.len()` per row).
///
/// The kernel for int16 and int8 weights (each converted to f32 before its multiply, which
/// takes the registers a wider kernel would need): four rows are reduced side by side and the
/// loop over `i` is unrolled four times, so each `x[i]` is loaded once per four weights and
/// four independent sums are in flight. Not inlined, as [`row_dots`].
#[inline(never)]
fn row_dots_narrow<T: Stored>(w: &[T], x: &[f32], acc: &mut [f32]) {
    let n = x.len();
    let Some(block_len) = n.checked_mul(4).filter(|&b| b > 0) else {
        return;
    };
    let (x4, x1) = x.as_chunks::<4>();
    let mut blocks = w.chunks_exact(block_len);
    let mut outs = acc.chunks_exact_mut(4);
    for (out, block) in (&mut outs).zip(&mut blocks) {
        let [r0, r1, r2, r3] = four_rows(block, n);
        let ((a4, a1), (b4, b1)) = (r0.as_chunks::<4>(), r1.as_chunks::<4>());
        let ((c4, c1), (d4, d1)) = (r2.as_chunks::<4>(), r3.as_chunks::<4>());
        let mut s = [0.0f32; 4];
        for ((((xs, a), b), c), d) in x4.iter().zip(a4).zip(b4).zip(c4).zip(d4) {
            mac4(&mut s, xs[0], [a[0], b[0], c[0], d[0]]);
            mac4(&mut s, xs[1], [a[1], b[1], c[1], d[1]]);
            mac4(&mut s, xs[2], [a[2], b[2], c[2], d[2]]);
            mac4(&mut s, xs[3], [a[3], b[3], c[3], d[3]]);
        }
        for ((((&xi, &a), &b), &c), &d) in x1.iter().zip(a1).zip(b1).zip(c1).zip(d1) {
            mac4(&mut s, xi, [a, b, c, d]);
        }
        out.copy_from_slice(&s);
    }
    for (out, row) in outs
        .into_remainder()
        .iter_mut()
        .zip(blocks.remainder().chunks_exact(n))
    {
        let mut s = 0.0f32;
        for (xi, wi) in x.iter().zip(row) {
            s += wi.get() * xi;
        }
        *out = s;
    }
}

/// `dx[i] = Σ_o alpha[o]·w[o][i]`, summed over the rows `o` in order from `dx = 0` (the bits
/// of one [`crate::kernels::axpy`] per row), for the row-major weights `w` (`dx.len()` per
/// row). The kernel for int16 and int8 weights: four rows at a time, so each `dx[i]` is loaded
/// and stored once per four weights; unrolled and not inlined, as [`row_dots`].
#[inline(never)]
fn row_axpys_narrow<T: Stored>(w: &[T], dy: &[f32], scales: &[[u8; 4]], dx: &mut [f32]) {
    dx.fill(0.0);
    let n = dx.len();
    let Some(block_len) = n.checked_mul(4).filter(|&b| b > 0) else {
        return;
    };
    let mut blocks = w.chunks_exact(block_len);
    let (dy4, dy1) = dy.as_chunks::<4>();
    let (s4, s1) = scales.as_chunks::<4>();
    for ((dy, s), block) in dy4.iter().zip(s4).zip(&mut blocks) {
        // the rows' coefficients alpha[o] = dy[o]·s[o]
        let a = &[
            dy[0] * f32::from_le_bytes(s[0]),
            dy[1] * f32::from_le_bytes(s[1]),
            dy[2] * f32::from_le_bytes(s[2]),
            dy[3] * f32::from_le_bytes(s[3]),
        ];
        let [r0, r1, r2, r3] = four_rows(block, n);
        let ((a4, a1), (b4, b1)) = (r0.as_chunks::<4>(), r1.as_chunks::<4>());
        let ((c4, c1), (d4, d1)) = (r2.as_chunks::<4>(), r3.as_chunks::<4>());
        let (dx4, dx1) = dx.as_chunks_mut::<4>();
        for ((((ds, wa), wb), wc), wd) in dx4.iter_mut().zip(a4).zip(b4).zip(c4).zip(d4) {
            axpy4(&mut ds[0], a, [wa[0], wb[0], wc[0], wd[0]]);
            axpy4(&mut ds[1], a, [wa[1], wb[1], wc[1], wd[1]]);
            axpy4(&mut ds[2], a, [wa[2], wb[2], wc[2], wd[2]]);
            axpy4(&mut ds[3], a, [wa[3], wb[3], wc[3], wd[3]]);
        }
        for ((((d, &wa), &wb), &wc), &wd) in dx1.iter_mut().zip(a1).zip(b1).zip(c1).zip(d1) {
            axpy4(d, a, [wa, wb, wc, wd]);
        }
    }
    for ((&dy, s), row) in dy1.iter().zip(s1).zip(blocks.remainder().chunks_exact(n)) {
        let a = dy * f32::from_le_bytes(*s);
        for (d, wi) in dx.iter_mut().zip(row) {
            *d += a * wi.get();
        }
    }
}

/// `acc[o] = Σ_i w[o][i]·x[i]` one row at a time: the same sums as [`row_dots`] and
/// [`row_dots_narrow`], for weights
/// that are not aligned in memory (a file in a heap buffer). Small rather than fast.
#[inline(never)]
fn row_dots_unaligned<T: Stored>(w: &[T], x: &[f32], acc: &mut [f32]) {
    for (out, row) in acc.iter_mut().zip(w.chunks_exact(x.len().max(1))) {
        let mut s = 0.0f32;
        for (xi, wi) in x.iter().zip(row) {
            s += wi.get() * xi;
        }
        *out = s;
    }
}

/// `dx[i] = Σ_o alpha[o]·w[o][i]` one row at a time: the same sums as [`row_axpys`], for
/// weights that are not aligned in memory.
#[inline(never)]
fn row_axpys_unaligned<T: Stored>(w: &[T], dy: &[f32], scales: Option<&[[u8; 4]]>, dx: &mut [f32]) {
    dx.fill(0.0);
    for (o, row) in dy.iter().zip(w.chunks_exact(dx.len().max(1))).enumerate() {
        let (&dy, row) = row;
        // the row's coefficient: dy[o] (f32) or dy[o]·s[o] (quantised)
        let a = match scales {
            Some(s) => dy * s.get(o).map_or(0.0, |s| f32::from_le_bytes(*s)),
            None => dy,
        };
        for (d, wi) in dx.iter_mut().zip(row) {
            *d += a * wi.get();
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
fn dense_forward<E: Encodings>(encoding: Encoding, data: &[u8], x: &[f32], y: &mut [f32]) {
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
fn dense_backward<E: Encodings>(encoding: Encoding, data: &[u8], dy: &[f32], dx: &mut [f32]) {
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

/// The file's tensors, consumed in canonical order while a network type is built.
#[derive(Clone, Debug)]
pub struct LayerCursor<'a> {
    pub(crate) tensors: super::decode::Tensors<'a>,
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

/// A dense view followed by an activation: `IN → OUT`.
pub type LayerView<'a, const IN: usize, const OUT: usize, A, E = AnyEncoding> =
    Chain<DenseView<'a, IN, OUT, E>, Act<A>, OUT>;

/// One hidden layer `IN → H → OUT` over file weights (the view of [`crate::Mlp1`]).
pub type Mlp1View<'a, const IN: usize, const H: usize, const OUT: usize, A, E = AnyEncoding> =
    Chain<LayerView<'a, IN, H, A, E>, DenseView<'a, H, OUT, E>, H>;

/// Two hidden layers over file weights (the view of [`crate::Mlp2`]).
pub type Mlp2View<
    'a,
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const OUT: usize,
    A,
    E = AnyEncoding,
> = Chain<LayerView<'a, IN, H1, A, E>, Mlp1View<'a, H1, H2, OUT, A, E>, H1>;

/// Three hidden layers over file weights (the view of [`crate::Mlp3`]).
pub type Mlp3View<
    'a,
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const OUT: usize,
    A,
    E = AnyEncoding,
> = Chain<LayerView<'a, IN, H1, A, E>, Mlp2View<'a, H1, H2, H3, OUT, A, E>, H1>;

/// Four hidden layers over file weights (the view of [`crate::Mlp4`]).
pub type Mlp4View<
    'a,
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const H4: usize,
    const OUT: usize,
    A,
    E = AnyEncoding,
> = Chain<LayerView<'a, IN, H1, A, E>, Mlp3View<'a, H1, H2, H3, H4, OUT, A, E>, H1>;

/// The paper's energy network `d → 32 → 64 → 64 → 64 → 1` over file weights.
pub type PaperEnergyNetView<'a, const D: usize, E = AnyEncoding> =
    Mlp4View<'a, D, 32, 64, 64, 64, 1, LeakyRelu, E>;

/// The paper's tilted energy over file weights.
pub type PaperEnergyView<'a, const D: usize, E = AnyEncoding> =
    Tilted<MlpEnergy<PaperEnergyNetView<'a, D, E>>, D>;

/// The paper's RealNVP flow over file weights.
pub type PaperFlowView<
    'a,
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
    E = AnyEncoding,
> = RealNvp<D, A, B, Mlp1View<'a, A, H, B, Relu, E>, Mlp1View<'a, B, H, A, Relu, E>, K>;

/// The 2-D energy over file weights.
pub type Energy2dView<'a> = PaperEnergyView<'a, 2>;
/// The 2-D flow over file weights (4 blocks, hidden 16).
pub type Flow2dView<'a> = PaperFlowView<'a, 2, 1, 1, 16, 4>;
/// The d = 16 energy over file weights.
pub type Energy16View<'a> = PaperEnergyView<'a, 16>;
/// The d = 16 flow over file weights (2 blocks, hidden 32).
pub type Flow16View<'a> = PaperFlowView<'a, 16, 8, 8, 32, 2>;
/// The d = 32 energy over file weights.
pub type Energy32View<'a> = PaperEnergyView<'a, 32>;
/// The d = 32 flow over file weights (2 blocks, hidden 39).
pub type Flow32View<'a> = PaperFlowView<'a, 32, 16, 16, 39, 2>;
/// The d = 64 energy over file weights.
pub type Energy64View<'a> = PaperEnergyView<'a, 64>;
/// The d = 64 flow over file weights (2 blocks, hidden 51).
pub type Flow64View<'a> = PaperFlowView<'a, 64, 32, 32, 51, 2>;

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

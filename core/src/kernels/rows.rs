//! Whole row-major weight matrices, as a model file stores them: the forward sums
//! `y[o] = Σ_i w[o][i]·x[i]` ([`row_dots`] for f32 with the bias, [`row_dots_narrow`] for int16
//! and int8) and the backward sums `dx[i] = Σ_o alpha[o]·w[o][i]` ([`row_axpys`],
//! [`row_axpys_narrow`]), blocked for speed, and their small row-by-row forms for weights that
//! are not aligned in memory ([`row_dots_unaligned`], [`row_axpys_unaligned`]). Every sum keeps
//! the order of [`super::dot`] / [`super::axpy`].

use super::blocks::{axpy4, four_rows, mac4};
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
use super::blocks::{axpys16_portable as axpys16, dot4_portable as dot4};
use super::stored::Stored;
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
use super::vfp::{axpys16, dot4};

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

/// `acc[o] = Σ_i w[o][i]·x[i]`, summed over `i` in index order (the bits of
/// [`crate::kernels::dot`] of each row), for the row-major weights `w` (`x.len()` per row).
///
/// The kernel for int16 and int8 weights (each converted to f32 before its multiply, which
/// takes the registers a wider kernel would need): four rows are reduced side by side and the
/// loop over `i` is unrolled four times, so each `x[i]` is loaded once per four weights and
/// four independent sums are in flight. Not inlined, as [`row_dots`].
#[inline(never)]
pub(crate) fn row_dots_narrow<T: Stored>(w: &[T], x: &[f32], acc: &mut [f32]) {
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
pub(crate) fn row_axpys_narrow<T: Stored>(w: &[T], dy: &[f32], scales: &[[u8; 4]], dx: &mut [f32]) {
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
pub(crate) fn row_dots_unaligned<T: Stored>(w: &[T], x: &[f32], acc: &mut [f32]) {
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
pub(crate) fn row_axpys_unaligned<T: Stored>(
    w: &[T],
    dy: &[f32],
    scales: Option<&[[u8; 4]]>,
    dx: &mut [f32],
) {
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

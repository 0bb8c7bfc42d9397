//! The blocks the row kernels reduce side by side, in portable Rust: four rows of a dot product
//! ([`dot4_portable`], one step [`mac4`]), sixteen columns of a sum of rows
//! ([`axpys16_portable`]) and four rows of one (the step [`axpy4`]). On Arm hard-float targets
//! the two f32 blocks run in VFP assembly instead (the `vfp` module), with the same bits.

use super::stored::Stored;

/// One step `i` of four row sums: `s[r] += w[r]·x` (product, then sum: the order of
/// [`crate::kernels::dot`]).
#[inline(always)]
pub(super) fn mac4<T: Stored>(s: &mut [f32; 4], x: f32, w: [T; 4]) {
    s[0] += w[0].get() * x;
    s[1] += w[1].get() * x;
    s[2] += w[2].get() * x;
    s[3] += w[3].get() * x;
}

/// The four rows of a block of `4n` weights.
#[inline(always)]
pub(super) fn four_rows<T>(block: &[T], n: usize) -> [&[T]; 4] {
    let (r0, rest) = block.split_at(n);
    let (r1, rest) = rest.split_at(n);
    let (r2, r3) = rest.split_at(n);
    [r0, r1, r2, r3]
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

/// One block of four rows of [`row_dots`](super::row_dots): `y[r] = dot4_sums(block, x)[r] +
/// b[r]`. (On Arm hard-float targets `vfp::dot4`, which falls back to this for blocks shorter
/// than `4·x.len()`.)
#[inline(always)]
pub(super) fn dot4_portable(block: &[f32], x: &[f32], b: &[f32; 4], y: &mut [f32; 4]) {
    let s = dot4_sums(block, x);
    *y = [s[0] + b[0], s[1] + b[1], s[2] + b[2], s[3] + b[3]];
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
pub(super) fn axpy4<T: Stored>(d: &mut f32, a: &[f32; 4], w: [T; 4]) {
    let mut t = *d;
    t += a[0] * w[0].get();
    t += a[1] * w[1].get();
    t += a[2] * w[2].get();
    t += a[3] * w[3].get();
    *d = t;
}

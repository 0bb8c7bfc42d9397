//! The definitions on f32 slices: [`dot`] and [`axpy`], and [`gemv_t`] for weights stored
//! transposed (the owned `Dense`).

/// `Σ_i a_i b_i`, summed in index order.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sum = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        sum += x * y;
    }
    sum
}

/// `y += alpha · x`, element by element.
#[inline]
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// `acc[o] = Σ_i wt[i][o] · x[i]` (summed over `i` in order) for weights stored transposed,
/// `wt = Wᵀ`: the same bits as `dot(W[o], x)` for every `o`, vectorised across outputs.
#[inline]
pub fn gemv_t<const IN: usize, const OUT: usize>(
    wt: &[[f32; OUT]; IN],
    x: &[f32; IN],
    acc: &mut [f32; OUT],
) {
    *acc = [0.0; OUT];
    for (row, xi) in wt.iter().zip(x) {
        axpy(*xi, row, acc);
    }
}

/// [`gemv_t`] at run-time sizes: `acc[o] = Σ_i wt[i·n + o] · x[i]` with `n = acc.len()`
/// (`wt` holds `x.len()` rows of `n`), summed over `i` in order.
///
/// The outputs go in blocks of 32 (then 8, then one at a time) whose sums stay in registers
/// while the kernel walks down the inputs; every output's sum is still the sequential one.
#[cfg(any(feature = "host-form", test))]
#[inline]
pub fn gemv_t_rows(wt: &[f32], x: &[f32], acc: &mut [f32]) {
    let n = acc.len();
    if n == 0 || wt.len() < x.len() * n {
        acc.fill(0.0);
        return;
    }
    let mut o = 0;
    while o + 32 <= n {
        gemv_t_block::<32>(wt, x, n, o, acc);
        o += 32;
    }
    while o + 8 <= n {
        gemv_t_block::<8>(wt, x, n, o, acc);
        o += 8;
    }
    for (k, a) in acc.iter_mut().enumerate().skip(o) {
        let mut s = 0.0f32;
        for (i, xi) in x.iter().enumerate() {
            s += xi * wt[i * n + k];
        }
        *a = s;
    }
}

/// Outputs `o..o + B` of [`gemv_t_rows`].
#[cfg(any(feature = "host-form", test))]
#[inline(always)]
fn gemv_t_block<const B: usize>(wt: &[f32], x: &[f32], n: usize, o: usize, acc: &mut [f32]) {
    let mut a = [0.0f32; B];
    for (i, xi) in x.iter().enumerate() {
        let row: &[f32; B] = wt[i * n + o..i * n + o + B].try_into().expect("block");
        for k in 0..B {
            a[k] += xi * row[k];
        }
    }
    acc[o..o + B].copy_from_slice(&a);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_is_sequential() {
        let a = [1e8f32, 1.0, -1e8, 1.0];
        let b = [1.0f32; 4];
        // ((1e8 + 1) − 1e8) + 1 = 1 in f32 (the 1 is absorbed), not 2.
        assert_eq!(dot(&a, &b), 1.0);
    }

    #[test]
    fn gemv_t_matches_row_dots_bitwise() {
        let w: [[f32; 7]; 5] =
            core::array::from_fn(|o| core::array::from_fn(|i| ((o * 7 + i) as f32 * 0.37).sin()));
        let wt: [[f32; 5]; 7] = core::array::from_fn(|i| core::array::from_fn(|o| w[o][i]));
        let x: [f32; 7] = core::array::from_fn(|i| (i as f32 * 1.3).cos() * 3.0);
        let mut acc = [0.0; 5];
        gemv_t(&wt, &x, &mut acc);
        let mut rows = [0.0; 5];
        gemv_t_rows(wt.as_flattened(), &x, &mut rows);
        for o in 0..5 {
            assert_eq!(acc[o].to_bits(), dot(&w[o], &x).to_bits());
            assert_eq!(rows[o].to_bits(), acc[o].to_bits());
        }
        // every block size and tail: 32 + 8 + 3 outputs
        let (ni, no) = (9, 43);
        let w: Vec<f32> = (0..ni * no).map(|k| (k as f32 * 0.61).sin()).collect();
        let wt: Vec<f32> = (0..ni * no).map(|k| w[(k % no) * ni + k / no]).collect();
        let x: Vec<f32> = (0..ni).map(|i| (i as f32 * 0.9).cos() * 2.0).collect();
        let mut y = vec![0.0; no];
        gemv_t_rows(&wt, &x, &mut y);
        for o in 0..no {
            assert_eq!(
                y[o].to_bits(),
                dot(&w[o * ni..(o + 1) * ni], &x).to_bits(),
                "{o}"
            );
        }
    }

    #[test]
    fn axpy_adds() {
        let mut y = [1.0f32, 2.0, 3.0];
        axpy(2.0, &[1.0, 0.5, -1.0], &mut y);
        assert_eq!(y, [3.0, 3.0, 1.0]);
    }
}

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
        for o in 0..5 {
            assert_eq!(acc[o].to_bits(), dot(&w[o], &x).to_bits());
        }
    }

    #[test]
    fn axpy_adds() {
        let mut y = [1.0f32, 2.0, 3.0];
        axpy(2.0, &[1.0, 0.5, -1.0], &mut y);
        assert_eq!(y, [3.0, 3.0, 1.0]);
    }
}

//! The inner loops, written once, with a summation order fixed in the source.
//!
//! Rust never reassociates or contracts floating-point arithmetic, so these loops produce the
//! same bits on x86-64 (where LLVM vectorises the independent lanes) and on a Cortex-M4F (where
//! they run scalar). That is what makes host and microcontroller chains bit-identical.

/// Independent accumulators in [`dot`]; their sums are combined in a fixed tree.
pub const DOT_LANES: usize = 16;

/// `Σ a_i b_i`, accumulated in [`DOT_LANES`] interleaved partial sums, combined pairwise,
/// then the tail added in order.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; DOT_LANES];
    let mut ca = a.chunks_exact(DOT_LANES);
    let mut cb = b.chunks_exact(DOT_LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..DOT_LANES {
            acc[j] += x[j] * y[j];
        }
    }
    let mut width = DOT_LANES / 2;
    while width > 0 {
        for j in 0..width {
            acc[j] += acc[j + width];
        }
        width /= 2;
    }
    let mut sum = acc[0];
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_f64_reference() {
        for n in [0usize, 1, 2, 7, 16, 17, 33, 64, 100] {
            let a: [f32; 100] = core::array::from_fn(|i| ((i * 37 % 11) as f32 - 5.0) * 0.13);
            let b: [f32; 100] = core::array::from_fn(|i| ((i * 17 % 7) as f32 - 3.0) * 0.29);
            let exact: f64 = (0..n).map(|i| a[i] as f64 * b[i] as f64).sum();
            let got = dot(&a[..n], &b[..n]) as f64;
            assert!((got - exact).abs() < 1e-5, "n={n}: {got} vs {exact}");
        }
    }

    #[test]
    fn axpy_adds() {
        let mut y = [1.0f32, 2.0, 3.0];
        axpy(2.0, &[1.0, 0.5, -1.0], &mut y);
        assert_eq!(y, [3.0, 3.0, 1.0]);
    }
}

//! Autocovariances at every lag, by FFT (as ArviZ's `autocov` does):
//! `acov_k = (1/n) Σ_{i<n−k} (x_i − x̄)(x_{i+k} − x̄)`, `k = 0..n`.
//!
//! [`mean_autocov`] needs only the mean over chains, so it sums the chains' power spectra and
//! inverts once, and transforms two real chains per complex FFT (`z = x + i·y`: the pair's
//! summed power is `(|Z_k|² + |Z_{−k}|²)/2`).

/// A radix-2 FFT of one power-of-two length, with its twiddles computed once, directly (one
/// `sin_cos` per index, not by repeated multiplication, so their error does not grow with
/// the length).
struct Fft {
    n: usize,
    /// `e^{−2πik/n}` for `k < n/2`, as `(cos, sin)`.
    twiddles: Vec<(f64, f64)>,
}

impl Fft {
    fn new(n: usize) -> Self {
        debug_assert!(n.is_power_of_two());
        let twiddles = (0..n / 2)
            .map(|k| {
                let (s, c) = (-2.0 * std::f64::consts::PI * k as f64 / n as f64).sin_cos();
                (c, s)
            })
            .collect();
        Self { n, twiddles }
    }

    /// In place; `inverse` uses the conjugate twiddles and divides by `n`.
    fn run(&self, re: &mut [f64], im: &mut [f64], inverse: bool) {
        let n = self.n;
        debug_assert!(re.len() == n && im.len() == n);
        let mut j = 0;
        for i in 1..n {
            let mut bit = n >> 1;
            while j & bit != 0 {
                j ^= bit;
                bit >>= 1;
            }
            j |= bit;
            if i < j {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        let sign = if inverse { -1.0 } else { 1.0 };
        let mut len = 2;
        while len <= n {
            let stride = n / len;
            let half = len / 2;
            for start in (0..n).step_by(len) {
                for k in 0..half {
                    let (wr, wi) = self.twiddles[k * stride];
                    let wi = sign * wi;
                    let (a, b) = (start + k, start + k + half);
                    let (xr, xi) = (re[b] * wr - im[b] * wi, re[b] * wi + im[b] * wr);
                    re[b] = re[a] - xr;
                    im[b] = im[a] - xi;
                    re[a] += xr;
                    im[a] += xi;
                }
            }
            len <<= 1;
        }
        if inverse {
            let scale = 1.0 / n as f64;
            re.iter_mut().for_each(|x| *x *= scale);
            im.iter_mut().for_each(|x| *x *= scale);
        }
    }
}

/// The mean over `rows` (each of length `n ≥ 1`) of their biased autocovariances at lags
/// `0..n` (each row's mean removed, divisor `n`), by zero-padded FFT (padded length a power of
/// two `≥ 2n`, so there is no circular wrap-around).
pub(crate) fn mean_autocov(rows: &[&[f64]], n: usize) -> Vec<f64> {
    if n == 0 || rows.is_empty() {
        return Vec::new();
    }
    let m = (2 * n).next_power_of_two();
    let fft = Fft::new(m);
    let mut power = vec![0.0f64; m];
    let (mut re, mut im) = (vec![0.0f64; m], vec![0.0f64; m]);
    let centred = |row: &[f64], out: &mut [f64]| {
        let mean = row.iter().sum::<f64>() / n as f64;
        for (o, &v) in out.iter_mut().zip(row) {
            *o = v - mean;
        }
        out[n..].iter_mut().for_each(|o| *o = 0.0);
    };
    for pair in rows.chunks(2) {
        centred(pair[0], &mut re);
        match pair.get(1) {
            Some(second) => centred(second, &mut im),
            None => im.iter_mut().for_each(|o| *o = 0.0),
        }
        fft.run(&mut re, &mut im, false);
        for k in 0..m {
            let j = (m - k) % m;
            let pk = re[k] * re[k] + im[k] * im[k];
            let pj = re[j] * re[j] + im[j] * im[j];
            power[k] += 0.5 * (pk + pj);
        }
    }
    im.iter_mut().for_each(|o| *o = 0.0);
    fft.run(&mut power, &mut im, true);
    power.truncate(n);
    let scale = 1.0 / (n as f64 * rows.len() as f64);
    power.iter_mut().for_each(|v| *v *= scale);
    power
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        let mean = x.iter().sum::<f64>() / n as f64;
        (0..n)
            .map(|k| {
                (0..n - k)
                    .map(|i| (x[i] - mean) * (x[i + k] - mean))
                    .sum::<f64>()
                    / n as f64
            })
            .collect()
    }

    /// A deterministic, autocorrelated series.
    fn series(n: usize, seed: usize) -> Vec<f64> {
        let mut s = 0.3f64;
        (0..n)
            .map(|i| {
                s = 0.8 * s + (((i + seed) * 7919 % 101) as f64 / 50.0 - 1.0);
                s + seed as f64
            })
            .collect()
    }

    #[test]
    fn fft_matches_the_direct_sum() {
        for n in [1usize, 2, 3, 7, 64, 100, 257] {
            for chains in [1usize, 2, 3, 5] {
                let rows: Vec<Vec<f64>> = (0..chains).map(|c| series(n, c)).collect();
                let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
                let got = mean_autocov(&refs, n);
                let mut want = vec![0.0; n];
                for r in &rows {
                    for (w, d) in want.iter_mut().zip(direct(r)) {
                        *w += d / chains as f64;
                    }
                }
                assert_eq!(got.len(), n);
                for (k, (u, v)) in got.iter().zip(&want).enumerate() {
                    let tol = 1e-12 * want[0].abs().max(1.0);
                    assert!((u - v).abs() < tol, "n={n} m={chains} k={k}: {u} vs {v}");
                }
            }
        }
        assert!(mean_autocov(&[], 3).is_empty());
    }
}

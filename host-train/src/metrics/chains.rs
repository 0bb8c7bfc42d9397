//! [`Chains`]: a `chains × draws × dims` array of MCMC draws, and the array operations the
//! convergence diagnostics share, written to follow ArviZ 0.23 (`arviz/stats/diagnostics.py`)
//! step by step: splitting chains, rank normalisation, folding, quantiles.

use super::normal::normal_quantile;
use std::fmt;

/// A read-only view of MCMC draws laid out `[chain][draw][dim]` (row-major: value
/// `(c, t, j)` is at `(c · draws + t) · dims + j`), in f32 or f64.
#[derive(Clone, Copy, Debug)]
pub struct Chains<'a, T> {
    values: &'a [T],
    chains: usize,
    draws: usize,
    dims: usize,
}

/// A [`Chains`] shape that does not match its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// Number of values given.
    pub len: usize,
    /// `(chains, draws, dims)` asked for.
    pub shape: (usize, usize, usize),
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (c, d, k) = self.shape;
        write!(
            f,
            "{} values do not fill {c} chains × {d} draws × {k} dims",
            self.len
        )
    }
}

impl std::error::Error for ShapeError {}

impl<'a, T: Copy + Into<f64>> Chains<'a, T> {
    /// A view of `values` as `chains × draws × dims` (each at least 1).
    pub fn new(
        values: &'a [T],
        chains: usize,
        draws: usize,
        dims: usize,
    ) -> Result<Self, ShapeError> {
        let fits = chains
            .checked_mul(draws)
            .and_then(|n| n.checked_mul(dims))
            .is_some_and(|n| n == values.len());
        if chains == 0 || draws == 0 || dims == 0 || !fits {
            return Err(ShapeError {
                len: values.len(),
                shape: (chains, draws, dims),
            });
        }
        Ok(Self {
            values,
            chains,
            draws,
            dims,
        })
    }

    /// Number of chains.
    pub fn chains(&self) -> usize {
        self.chains
    }

    /// Draws per chain.
    pub fn draws(&self) -> usize {
        self.draws
    }

    /// Dimensions.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Coordinate `dim` of every draw as a `chains × draws` matrix in f64.
    pub(crate) fn coordinate(&self, dim: usize) -> Mat {
        let v = self
            .values
            .iter()
            .skip(dim)
            .step_by(self.dims)
            .map(|&x| x.into())
            .collect();
        Mat {
            rows: self.chains,
            cols: self.draws,
            v,
        }
    }
}

/// A `rows × cols` f64 matrix, row-major: one row per chain.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mat {
    pub rows: usize,
    pub cols: usize,
    pub v: Vec<f64>,
}

impl Mat {
    pub fn row(&self, r: usize) -> &[f64] {
        &self.v[r * self.cols..(r + 1) * self.cols]
    }

    pub fn map(&self, f: impl Fn(f64) -> f64) -> Mat {
        Mat {
            rows: self.rows,
            cols: self.cols,
            v: self.v.iter().map(|&x| f(x)).collect(),
        }
    }

    pub fn has_nan(&self) -> bool {
        self.v.iter().any(|x| x.is_nan())
    }

    /// ArviZ `_split_chains`: each chain's first `⌊n/2⌋` draws and its last `⌊n/2⌋` draws
    /// (the middle draw of an odd chain is dropped), stacked as `[first halves; last halves]`.
    pub fn split(&self) -> Mat {
        let half = self.cols / 2;
        let mut v = Vec::with_capacity(2 * self.rows * half);
        for r in 0..self.rows {
            v.extend_from_slice(&self.row(r)[..half]);
        }
        for r in 0..self.rows {
            v.extend_from_slice(&self.row(r)[self.cols - half..]);
        }
        Mat {
            rows: 2 * self.rows,
            cols: half,
            v,
        }
    }

    /// ArviZ `_z_scale`: average ranks over all values (ties share their mean rank, like
    /// `scipy.stats.rankdata(method="average")`), the fractional ranks
    /// `(r − 3/8) / (S + 1/4)` (Blom), then `Φ⁻¹`. No NaN allowed (checked by the callers).
    pub fn z_scale(&self) -> Mat {
        let ranks = average_ranks(&self.v);
        let size = self.v.len() as f64;
        let c = 3.0 / 8.0;
        Mat {
            rows: self.rows,
            cols: self.cols,
            v: ranks
                .iter()
                .map(|r| normal_quantile((r - c) / (size - 2.0 * c + 1.0)))
                .collect(),
        }
    }
}

/// 1-based ranks, ties averaged (values are compared with `==`, so `−0.0 == 0.0`).
pub(crate) fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<(f64, usize)> = values.iter().copied().zip(0..).collect();
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < sorted.len() {
        let mut end = start + 1;
        while end < sorted.len() && sorted[end].0 == sorted[start].0 {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &(_, i) in &sorted[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// The values sorted ascending (`total_cmp`).
fn sorted(values: &[f64]) -> Vec<f64> {
    let mut s = values.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    s
}

/// The median of all values (`numpy.median`: the mean of the two middle values of an even
/// count). NaN for an empty slice.
pub(crate) fn median(values: &[f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let mut s = values.to_vec();
    let (left, mid, _) = s.select_nth_unstable_by(n / 2, f64::total_cmp);
    let mid = *mid;
    if n % 2 == 1 {
        mid
    } else {
        let below = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + mid) / 2.0
    }
}

/// The `p`-quantiles of all values, type 7 (ArviZ `quantile`, i.e.
/// `scipy.stats.mstats.mquantiles(alphap=1, betap=1)`): `h = n·p + 1 − p`,
/// `k = ⌊clip(h, 1, n − 1)⌋`, `γ = clip(h − k, 0, 1)`, `(1 − γ)·x₍ₖ₎ + γ·x₍ₖ₊₁₎`
/// (1-based order statistics).
pub(crate) fn quantiles_type7<const K: usize>(values: &[f64], p: [f64; K]) -> [f64; K] {
    let s = sorted(values);
    let n = s.len();
    p.map(|p| match n {
        0 => f64::NAN,
        1 => s[0],
        _ => {
            let nf = n as f64;
            let h = nf * p + (1.0 - p);
            let k = h.clamp(1.0, nf - 1.0).floor();
            let gamma = (h - k).clamp(0.0, 1.0);
            let k = k as usize;
            (1.0 - gamma) * s[k - 1] + gamma * s[k]
        }
    })
}

/// Sample variance with divisor `n − 1` (NaN for fewer than 2 values).
pub(crate) fn var_ddof1(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// The arithmetic mean.
pub(crate) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_shape_is_checked() {
        let v = [0.0f32; 24];
        assert!(Chains::new(&v, 2, 3, 4).is_ok());
        assert!(Chains::new(&v, 2, 3, 5).is_err());
        assert!(Chains::new(&v, 0, 3, 4).is_err());
        let e = Chains::new(&v[..0], 0, 0, 0).unwrap_err();
        assert!(e.to_string().contains("0 values"));
        let v: Vec<f64> = (0..24).map(f64::from).collect();
        let c = Chains::new(&v, 2, 3, 4).unwrap();
        let m = c.coordinate(1);
        assert_eq!((m.rows, m.cols), (2, 3));
        assert_eq!(m.v, [1.0, 5.0, 9.0, 13.0, 17.0, 21.0]);
    }

    #[test]
    fn split_drops_the_middle_of_odd_chains() {
        let m = Mat {
            rows: 2,
            cols: 5,
            v: (0..10).map(f64::from).collect(),
        };
        let s = m.split();
        assert_eq!((s.rows, s.cols), (4, 2));
        assert_eq!(s.v, [0.0, 1.0, 5.0, 6.0, 3.0, 4.0, 8.0, 9.0]);
    }

    #[test]
    fn ranks_median_quantile() {
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0, -0.0, 0.0]),
            [5.5, 3.0, 5.5, 4.0, 1.5, 1.5]
        );
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        // numpy.quantile's default (linear) method is type 7 as well.
        let x = [6., 47., 49., 15., 42., 41., 7., 39., 43., 40., 36.];
        let [q25, q05, q0, q1] = quantiles_type7(&x, [0.25, 0.05, 0.0, 1.0]);
        assert!((q25 - 25.5).abs() < 1e-12 && (q05 - 6.5).abs() < 1e-12);
        assert_eq!((q0, q1), (6.0, 49.0));
        assert_eq!(quantiles_type7(&[2.0], [0.3]), [2.0]);
        assert!(quantiles_type7(&[], [0.3])[0].is_nan());
        assert_eq!(median(&[5.0, -1.0, 3.0, 3.0, 0.0, 9.0]), 3.0);
        assert!(median(&[]).is_nan());
        assert!((var_ddof1(&[1.0, 2.0, 3.0, 4.0]) - 5.0 / 3.0).abs() < 1e-15);
    }
}

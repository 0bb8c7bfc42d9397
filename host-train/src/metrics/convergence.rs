//! [`Convergence`]: R̂ and ESS of every dimension of a set of chains, and their summaries (the
//! paper's Table 2 reports the maximum R̂ over dimensions of 128 chains).

use super::chains::Chains;
use super::chains::Mat;
use super::ess::{ess_2d, ess_tail_2d};
use super::rhat::rhat_rank_split;

/// Convergence diagnostics per dimension, and over dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Convergence {
    /// Rank-normalised split R̂ per dimension.
    pub rhat: Vec<f64>,
    /// Bulk-ESS per dimension.
    pub ess_bulk: Vec<f64>,
    /// Tail-ESS per dimension.
    pub ess_tail: Vec<f64>,
}

impl Convergence {
    /// The largest R̂ over dimensions; NaN if any dimension's R̂ is NaN (as `numpy.max`).
    pub fn max_rhat(&self) -> f64 {
        nan_or(&self.rhat, f64::max)
    }

    /// The smallest bulk-ESS over dimensions; NaN if any is NaN.
    pub fn min_ess_bulk(&self) -> f64 {
        nan_or(&self.ess_bulk, f64::min)
    }

    /// The smallest tail-ESS over dimensions; NaN if any is NaN.
    pub fn min_ess_tail(&self) -> f64 {
        nan_or(&self.ess_tail, f64::min)
    }
}

fn nan_or(values: &[f64], pick: fn(f64, f64) -> f64) -> f64 {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    values.iter().copied().reduce(pick).unwrap_or(f64::NAN)
}

/// R̂ (rank), bulk-ESS and tail-ESS of every dimension of `draws`
/// ([`super::rhat_rank`], [`super::ess_bulk`], [`super::ess_tail`] in one pass per dimension).
pub fn convergence<T: Copy + Into<f64>>(draws: &Chains<'_, T>) -> Convergence {
    let mut out = Convergence {
        rhat: Vec::with_capacity(draws.dims()),
        ess_bulk: Vec::with_capacity(draws.dims()),
        ess_tail: Vec::with_capacity(draws.dims()),
    };
    for j in 0..draws.dims() {
        let (rhat, bulk, tail) = diagnose(&draws.coordinate(j));
        out.rhat.push(rhat);
        out.ess_bulk.push(bulk);
        out.ess_tail.push(tail);
    }
    out
}

/// `(R̂, bulk-ESS, tail-ESS)` of one coordinate, sharing the split and rank normalisation
/// between R̂ and bulk-ESS; the same numbers as the separate functions.
fn diagnose(x: &Mat) -> (f64, f64, f64) {
    if x.cols < 4 || x.has_nan() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let split = x.split();
    let z = split.z_scale();
    let rhat = if x.rows < 2 {
        f64::NAN
    } else {
        rhat_rank_split(&split, &z)
    };
    (rhat, ess_2d(&z), ess_tail_2d(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        let c = Convergence {
            rhat: vec![1.0, 1.2, 1.1],
            ess_bulk: vec![300.0, 100.0, 200.0],
            ess_tail: vec![50.0, f64::NAN, 70.0],
        };
        assert_eq!((c.max_rhat(), c.min_ess_bulk()), (1.2, 100.0));
        assert!(c.min_ess_tail().is_nan());
        let v: Vec<f32> = (0..64).map(|i| ((i * 37) % 17) as f32).collect();
        let d = Chains::new(&v, 2, 16, 2).unwrap();
        let all = convergence(&d);
        assert_eq!(all.rhat, super::super::rhat_rank(&d));
        assert_eq!(all.ess_bulk, super::super::ess_bulk(&d));
        assert_eq!(all.ess_tail, super::super::ess_tail(&d));
        // One chain: no R̂, but ESS.
        let one = convergence(&Chains::new(&v[..32], 1, 16, 2).unwrap());
        assert!(one.rhat.iter().all(|r| r.is_nan()));
        assert!(one.ess_bulk.iter().all(|e| e.is_finite()));
    }
}

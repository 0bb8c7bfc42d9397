//! Rank-normalised split R̂, as ArviZ 0.23's `rhat(method="rank")` (Vehtari et al. 2021):
//! the larger of the bulk R̂ (classic R̂ of `z_scale(split(x))`) and the tail R̂ (classic R̂ of
//! `z_scale(|split(x) − median(split(x))|)`), per dimension.
//!
//! Classic R̂ of an `m × n` array (`_rhat`): `B = n · var(chain means)`,
//! `W = mean(chain variances)` (both with divisor `n − 1` / `m − 1`),
//! `R̂ = √((B/W + n − 1)/n)`.

use super::chains::{Chains, Mat, mean, median, var_ddof1};

/// Classic R̂ of an `m × n` array (ArviZ `_rhat`).
pub(crate) fn rhat_classic(x: &Mat) -> f64 {
    let n = x.cols as f64;
    let means: Vec<f64> = (0..x.rows).map(|r| mean(x.row(r))).collect();
    let vars: Vec<f64> = (0..x.rows).map(|r| var_ddof1(x.row(r))).collect();
    let between = n * var_ddof1(&means);
    let within = mean(&vars);
    ((between / within + n - 1.0) / n).sqrt()
}

/// Rank-normalised split R̂ of one coordinate (`chains × draws`): NaN with fewer than 2
/// chains, fewer than 4 draws, or a NaN draw.
pub(crate) fn rhat_rank_2d(x: &Mat) -> f64 {
    if x.rows < 2 || x.cols < 4 || x.has_nan() {
        return f64::NAN;
    }
    let split = x.split();
    rhat_rank_split(&split, &split.z_scale())
}

/// R̂ (rank) from the split chains and their rank-normalised values `z_scale(split)`.
pub(crate) fn rhat_rank_split(split: &Mat, z_bulk: &Mat) -> f64 {
    let bulk = rhat_classic(z_bulk);
    let med = median(&split.v);
    let tail = rhat_classic(&split.map(|v| (v - med).abs()).z_scale());
    // Python's max(bulk, tail): the first argument wins unless the second is greater.
    if tail > bulk { tail } else { bulk }
}

/// Rank-normalised split R̂ per dimension (ArviZ `rhat(method="rank")`). NaN for a dimension
/// with a NaN draw, or for every dimension with fewer than 2 chains or 4 draws.
pub fn rhat_rank<T: Copy + Into<f64>>(draws: &Chains<'_, T>) -> Vec<f64> {
    (0..draws.dims())
        .map(|j| rhat_rank_2d(&draws.coordinate(j)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use emberflow_core::{Xoshiro128PlusPlus, random};

    fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| f64::from(random::standard_normal(&mut rng)))
            .collect()
    }

    #[test]
    fn mixed_chains_are_near_one_and_stuck_chains_are_not() {
        let v = normals(4 * 500, 1);
        let r = rhat_rank(&Chains::new(&v, 4, 500, 1).unwrap())[0];
        assert!((0.99..1.01).contains(&r), "{r}");
        // Chain c centred at 2c: far from converged.
        let w: Vec<f64> = v
            .iter()
            .enumerate()
            .map(|(i, x)| x + 2.0 * (i / 500) as f64)
            .collect();
        let r = rhat_rank(&Chains::new(&w, 4, 500, 1).unwrap())[0];
        assert!(r > 2.0, "{r}");
        // Same means, different scales: the bulk R̂ misses it, the folded (tail) one does not.
        let s: Vec<f64> = v
            .iter()
            .enumerate()
            .map(|(i, x)| x * if i < 1000 { 0.2 } else { 3.0 })
            .collect();
        let r = rhat_rank(&Chains::new(&s, 4, 500, 1).unwrap())[0];
        assert!(r > 1.3, "{r}");
    }

    #[test]
    fn invalid_shapes_give_nan() {
        let v = normals(12, 2);
        assert!(rhat_rank(&Chains::new(&v, 1, 12, 1).unwrap())[0].is_nan());
        assert!(rhat_rank(&Chains::new(&v, 4, 3, 1).unwrap())[0].is_nan());
        let mut w = normals(40, 3);
        w[7] = f64::NAN;
        let r = rhat_rank(&Chains::new(&w, 4, 5, 2).unwrap());
        assert!(r[1].is_nan() && r[0].is_finite());
    }
}

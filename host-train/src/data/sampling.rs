//! Seeded sampling helpers shared by the data sets: exact per-component counts and shuffled
//! labels, subsets of indices, on [`Xoshiro128PlusPlus`] (the index draw, the shuffle and the
//! partial shuffle are `emberflow_core::random`'s).

use emberflow_core::random::{choose, shuffle, uniform_index};
use emberflow_core::{RngCore, Xoshiro128PlusPlus};

/// Split `n` into counts proportional to `weights` (largest remainder; ties to the lower
/// index), so the counts sum to `n` exactly. `weights` are positive and need not sum to 1.
pub(crate) fn stratified_counts(weights: &[f64], n: usize) -> Vec<usize> {
    let total: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / total * n as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let assigned: usize = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Largest fractional part first; a stable sort keeps the lower index first on ties.
    order.sort_by(|&a, &b| {
        let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        fb.total_cmp(&fa)
    });
    for &k in order.iter().take(n.saturating_sub(assigned)) {
        counts[k] += 1;
    }
    counts
}

/// [`uniform_index`] for a `usize` range (at most `u32::MAX`).
pub(crate) fn below<R: RngCore + ?Sized>(rng: &mut R, n: usize) -> usize {
    let n = u32::try_from(n).expect("index range fits in u32");
    uniform_index(rng, n) as usize
}

/// `m` distinct indices of `0..n` in draw order (all of them, shuffled, when `m ≥ n`):
/// [`choose`] on `0..n`.
pub fn subsample<R: RngCore + ?Sized>(n: usize, m: usize, rng: &mut R) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    choose(rng, &mut idx, m);
    idx.truncate(m.min(n));
    idx
}

/// Member of [`emberflow_core::SeedStream::DATA`] that draws the validation split (`"valid"`
/// in ASCII in the high bytes: far from the members a run's iterations could reach; a
/// sub-index of the existing stream, so no new stream is needed).
pub const VALIDATION_MEMBER: u64 = 0x7661_6c69_6400_0000;

/// A seeded split of a data set into training and validation rows.
#[derive(Clone, Debug)]
pub struct Split {
    /// The training rows, in their original order.
    pub train: crate::data::Dataset,
    /// The validation rows, in their original order.
    pub validation: crate::data::Dataset,
    /// The indices of the validation rows in the original data, ascending.
    pub validation_rows: Vec<usize>,
}

/// The default validation fraction: 0.1 for data read from a file or the digits with at
/// least 500 rows, 0 otherwise (small sets, and the built-in synthetic sets, which can be
/// regenerated from their seed).
pub fn default_validation_fraction(rows: usize, built_in: bool) -> f64 {
    if !built_in && rows >= 500 { 0.1 } else { 0.0 }
}

/// Split `data`: `round(fraction · n)` rows, drawn without replacement by
/// `SeedStream::DATA.rng_at(seed, VALIDATION_MEMBER)`, go to validation. `fraction` is in
/// `[0, 1)`; with `fraction > 0` both parts must keep at least 2 rows.
pub fn validation_split(
    data: &crate::data::Dataset,
    fraction: f64,
    seed: u64,
) -> Result<Split, String> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(format!(
            "the validation fraction must be in [0, 1), got {fraction}"
        ));
    }
    let n = data.len();
    let k = (fraction * n as f64).round() as usize;
    if fraction > 0.0 && (k < 2 || n - k < 2) {
        return Err(format!(
            "a validation fraction of {fraction} of {n} rows leaves {k} validation and {} \
             training rows; each part needs at least 2",
            n - k
        ));
    }
    let mut rng = emberflow_core::SeedStream::DATA.rng_at(seed, VALIDATION_MEMBER);
    let mut rows = subsample(n, k, &mut rng);
    rows.sort_unstable();
    let mut in_val = vec![false; n];
    for &r in &rows {
        in_val[r] = true;
    }
    let train: Vec<usize> = (0..n).filter(|&i| !in_val[i]).collect();
    Ok(Split {
        train: data.select(&train),
        validation: data.select(&rows),
        validation_rows: rows,
    })
}

/// `counts[k]` copies of each label `k`, in a seeded random order.
pub(crate) fn shuffled_labels(rng: &mut Xoshiro128PlusPlus, counts: &[usize]) -> Vec<usize> {
    let mut labels: Vec<usize> = counts
        .iter()
        .enumerate()
        .flat_map(|(k, &c)| std::iter::repeat_n(k, c))
        .collect();
    shuffle(rng, &mut labels);
    labels
}

/// `ln Σ exp(v)` in f64, stable; `−∞` for an empty slice or all `−∞`.
pub(crate) fn log_sum_exp(values: impl IntoIterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().into_iter().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY || max.is_nan() {
        return max;
    }
    if max == f64::INFINITY {
        return f64::INFINITY;
    }
    max + values
        .into_iter()
        .map(|v| (v - max).exp())
        .sum::<f64>()
        .ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validation_split_is_seeded_and_disjoint() {
        let values: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let data = crate::data::Dataset::new(2, values).unwrap();
        let a = validation_split(&data, 0.1, 5).unwrap();
        let b = validation_split(&data, 0.1, 5).unwrap();
        let c = validation_split(&data, 0.1, 6).unwrap();
        assert_eq!(a.validation_rows, b.validation_rows);
        assert_ne!(a.validation_rows, c.validation_rows);
        assert_eq!((a.train.len(), a.validation.len()), (450, 50));
        let mut seen: Vec<f32> = a
            .train
            .rows()
            .chain(a.validation.rows())
            .map(|r| r[0])
            .collect();
        seen.sort_by(f32::total_cmp);
        let all: Vec<f32> = (0..500).map(|i| (2 * i) as f32).collect();
        assert_eq!(seen, all, "every row exactly once");
        let none = validation_split(&data, 0.0, 5).unwrap();
        assert_eq!((none.train.len(), none.validation.len()), (500, 0));
        assert!(validation_split(&data, 1.0, 5).is_err());
        assert!(validation_split(&data, -0.1, 5).is_err());
        assert!(validation_split(&data, 0.001, 5).is_err());
        assert_eq!(default_validation_fraction(500, false), 0.1);
        assert_eq!(default_validation_fraction(499, false), 0.0);
        assert_eq!(default_validation_fraction(5000, true), 0.0);
    }

    #[test]
    fn counts_sum_to_n_and_follow_weights() {
        assert_eq!(
            stratified_counts(&[0.1, 0.2, 0.3, 0.4], 100),
            [10, 20, 30, 40]
        );
        assert_eq!(stratified_counts(&[1.0, 2.0], 10), [3, 7]);
        assert_eq!(stratified_counts(&[1.0, 1.0, 1.0], 10), [4, 3, 3]);
        assert_eq!(stratified_counts(&[1.0; 4], 0), [0; 4]);
        for n in [1, 7, 60000, 16384] {
            assert_eq!(
                stratified_counts(&[1.0 / 3.0, 2.0 / 3.0], n)
                    .iter()
                    .sum::<usize>(),
                n
            );
        }
    }

    #[test]
    fn subsample_draws_distinct_indices() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(2);
        let picked = subsample(50, 10, &mut rng);
        let mut sorted = picked.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 10);
        assert!(picked.iter().all(|&i| i < 50));
        let mut all = subsample(3, 9, &mut rng);
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2]);
    }

    #[test]
    fn log_sum_exp_is_stable() {
        assert!((log_sum_exp([1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(log_sum_exp([f64::NEG_INFINITY; 3]), f64::NEG_INFINITY);
        assert_eq!(log_sum_exp(Vec::<f64>::new()), f64::NEG_INFINITY);
    }
}

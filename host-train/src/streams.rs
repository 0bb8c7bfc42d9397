//! The one uniform-index draw, the shuffles built on it, the per-chain generator and the named
//! seed streams of every generator in a run.
//!
//! Every random draw of the trainer and the evaluation goes through this module: a run's seed
//! is turned into a generator by naming its stream ([`SeedStream`]), never by an ad-hoc mask.
//! The names and signatures are those of `emberflow_core::random`, which this module will
//! re-export once it offers them.

use emberflow_core::{RngCore, Xoshiro128PlusPlus};

/// A uniform integer in `0..n` (Lemire's multiply-and-reject, unbiased). `n` must be positive.
pub fn uniform_index<R: RngCore + ?Sized>(rng: &mut R, n: u32) -> u32 {
    assert!(n > 0, "empty index range");
    let mut m = u64::from(rng.next_u32()) * u64::from(n);
    if (m as u32) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u32) < threshold {
            m = u64::from(rng.next_u32()) * u64::from(n);
        }
    }
    (m >> 32) as u32
}

/// [`uniform_index`] for a `usize` range (at most `u32::MAX`).
pub(crate) fn index_below<R: RngCore + ?Sized>(rng: &mut R, n: usize) -> usize {
    let n = u32::try_from(n).expect("index range fits in u32");
    uniform_index(rng, n) as usize
}

/// Move `k` items drawn without replacement to the front (partial Fisher–Yates, from the
/// start), in draw order, and return them (all of them when `k ≥ items.len()`).
pub fn choose<'a, R: RngCore + ?Sized, T>(
    rng: &mut R,
    items: &'a mut [T],
    k: usize,
) -> &'a mut [T] {
    let n = items.len();
    let k = k.min(n);
    for i in 0..k {
        let j = i + index_below(rng, n - i);
        items.swap(i, j);
    }
    &mut items[..k]
}

/// `m` distinct indices of `0..n` (all of them, shuffled, when `m ≥ n`).
pub fn subsample<R: RngCore + ?Sized>(n: usize, m: usize, rng: &mut R) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    let m = choose(rng, &mut idx, m).len();
    idx.truncate(m);
    idx
}

/// Shuffle in place (Fisher–Yates, from the end).
pub fn shuffle<R: RngCore + ?Sized, T>(rng: &mut R, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = index_below(rng, i + 1);
        items.swap(i, j);
    }
}

/// The generator of one chain at one iteration: `(seed, iteration, slot)` mixed into one
/// 64-bit seed, so a chain's draws do not depend on the number of threads.
pub fn chain_rng(seed: u64, iteration: u64, slot: usize) -> Xoshiro128PlusPlus {
    let mix = seed
        ^ iteration.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (slot as u64)
            .wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            .rotate_left(29);
    Xoshiro128PlusPlus::seed_from_u64(mix)
}

/// 2⁶⁴/φ, the multiplier of the hashed streams.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// How a stream derives its seed from the run's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Derive {
    /// `run_seed ^ mask ^ index`.
    Mask(u64),
    /// `run_seed ^ (stream + index)·φ` (wrapping).
    Golden(u64),
}

/// A named stream of generators derived from a run's seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedStream(Derive);

impl SeedStream {
    /// The trainer's own generator (initialisation, data batches, chain selection): the seed
    /// itself.
    pub const TRAINING: Self = Self(Derive::Mask(0));
    /// The initial states of the persistent bank: `seed ^ 0x5eed_ba4c`.
    pub const BANK_INIT: Self = Self(Derive::Mask(0x5eed_ba4c));
    /// The fresh FlowMC chains of the final report's sample weights: `seed ^ 0xf5e5`.
    pub const FRESH_CHAINS: Self = Self(Derive::Mask(0xf5e5));
    /// The fresh chains of the R̂ diagnostics: `seed ^ 0x4a47`.
    pub const BASELINE_CHAINS: Self = Self(Derive::Mask(0x4a47));
    /// The evaluations logged during training: `seed ^ iteration` ([`Self::seed_at`]).
    pub const EVALUATION: Self = Self(Derive::Mask(0));
    /// k-means with `k` clusters: `seed ^ (0x6b6d_6561_6e73 + k)·φ` ([`Self::seed_at`]).
    pub const KMEANS: Self = Self(Derive::Golden(0x6b6d_6561_6e73));
    /// The silhouette subset: `seed ^ 0x73_696c·φ`.
    pub const SILHOUETTE: Self = Self(Derive::Golden(0x73_696c));
    /// The MMD subsamples and permutations: `seed ^ 0x6d6d64·φ`.
    pub const MMD: Self = Self(Derive::Golden(0x6d6d64));
    /// The flow draws of the EBM's importance-sampled mode weights: `seed ^ 0x6973·φ`.
    pub const IMPORTANCE: Self = Self(Derive::Golden(0x6973));

    /// This stream's seed for a run.
    pub const fn seed(self, run_seed: u64) -> u64 {
        self.seed_at(run_seed, 0)
    }

    /// This stream's seed for item `index` of a run (an iteration, a cluster count…).
    pub const fn seed_at(self, run_seed: u64, index: u64) -> u64 {
        match self.0 {
            Derive::Mask(mask) => run_seed ^ mask ^ index,
            Derive::Golden(stream) => run_seed ^ stream.wrapping_add(index).wrapping_mul(GOLDEN),
        }
    }

    /// This stream's generator for a run.
    pub const fn rng(self, run_seed: u64) -> Xoshiro128PlusPlus {
        Xoshiro128PlusPlus::seed_from_u64(self.seed(run_seed))
    }

    /// This stream's generator for item `index` of a run.
    pub const fn rng_at(self, run_seed: u64, index: u64) -> Xoshiro128PlusPlus {
        Xoshiro128PlusPlus::seed_from_u64(self.seed_at(run_seed, index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(1);
        let mut hist = [0usize; 7];
        for _ in 0..70_000 {
            hist[uniform_index(&mut rng, 7) as usize] += 1;
        }
        assert!(
            hist.iter().all(|&h| (9_500..10_500).contains(&h)),
            "{hist:?}"
        );
        assert_eq!(uniform_index(&mut rng, 1), 0);
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..100).collect();
        shuffle(&mut Xoshiro128PlusPlus::seed_from_u64(5), &mut a);
        let mut b: Vec<usize> = (0..100).collect();
        shuffle(&mut Xoshiro128PlusPlus::seed_from_u64(5), &mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
        a.sort();
        assert_eq!(a, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn choose_draws_distinct_items() {
        let mut all: Vec<usize> = (0..50).collect();
        let picked = choose(&mut Xoshiro128PlusPlus::seed_from_u64(2), &mut all, 10).to_vec();
        let mut sorted = picked.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 10);
        assert!(picked.iter().all(|&i| i < 50));
        let mut few = [1, 2, 3];
        assert_eq!(
            choose(&mut Xoshiro128PlusPlus::seed_from_u64(2), &mut few, 9).len(),
            3
        );
    }

    #[test]
    fn streams_keep_their_formulas() {
        let s = 0x1234_5678_9abc_def0u64;
        assert_eq!(SeedStream::TRAINING.seed(s), s);
        assert_eq!(SeedStream::BANK_INIT.seed(s), s ^ 0x5eed_ba4c);
        assert_eq!(SeedStream::FRESH_CHAINS.seed(s), s ^ 0xf5e5);
        assert_eq!(SeedStream::BASELINE_CHAINS.seed(s), s ^ 0x4a47);
        assert_eq!(SeedStream::EVALUATION.seed_at(s, 250), s ^ 250);
        assert_eq!(
            SeedStream::KMEANS.seed_at(s, 3),
            s ^ (0x6b6d_6561_6e73u64 + 3).wrapping_mul(GOLDEN)
        );
        assert_eq!(
            SeedStream::MMD.seed(s),
            s ^ 0x6d6d64u64.wrapping_mul(GOLDEN)
        );
        assert_eq!(
            SeedStream::BANK_INIT.rng(s).state(),
            Xoshiro128PlusPlus::seed_from_u64(s ^ 0x5eed_ba4c).state()
        );
    }
}

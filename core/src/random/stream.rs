//! Named seed streams: how each part of the project derives its generator from a run's seed
//! (the table in the [module documentation](super)).

use super::Xoshiro128PlusPlus;

/// `φ`, the 64-bit golden-ratio constant (`2⁶⁴/φ`, odd): the step between indexed streams.
const PHI: u64 = 0x9e37_79b9_7f4a_7c15;

/// The generator of the chain in `slot` at training iteration `iteration`:
/// `seed ^ iteration·φ ^ rotl(slot·0xc2b2_ae3d_27d4_eb4f, 29)`, expanded by
/// [`Xoshiro128PlusPlus::seed_from_u64`].
pub fn chain_rng(seed: u64, iteration: u64, slot: usize) -> Xoshiro128PlusPlus {
    let mix = seed
        ^ iteration.wrapping_mul(PHI)
        ^ (slot as u64)
            .wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            .rotate_left(29);
    Xoshiro128PlusPlus::seed_from_u64(mix)
}

/// A named derivation of a generator's seed from a run's seed: `run_seed ^ mask`, and for the
/// `index`-th member of the stream `run_seed ^ (mask + index·step)` (wrapping).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedStream {
    name: &'static str,
    mask: u64,
    step: u64,
}

impl SeedStream {
    /// A stream called `name`, with its `mask` and the `step` between indexed members.
    pub const fn new(name: &'static str, mask: u64, step: u64) -> Self {
        Self { name, mask, step }
    }

    /// The stream's name.
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// The seed of the stream for `run_seed`: `run_seed ^ mask`.
    pub const fn seed(self, run_seed: u64) -> u64 {
        run_seed ^ self.mask
    }

    /// The seed of member `index`: `run_seed ^ (mask + index·step)` (wrapping).
    pub const fn seed_at(self, run_seed: u64, index: u64) -> u64 {
        run_seed ^ self.mask.wrapping_add(index.wrapping_mul(self.step))
    }

    /// The generator of [`Self::seed`].
    pub const fn rng(self, run_seed: u64) -> Xoshiro128PlusPlus {
        Xoshiro128PlusPlus::seed_from_u64(self.seed(run_seed))
    }

    /// The generator of [`Self::seed_at`].
    pub const fn rng_at(self, run_seed: u64, index: u64) -> Xoshiro128PlusPlus {
        Xoshiro128PlusPlus::seed_from_u64(self.seed_at(run_seed, index))
    }

    /// The trainer's main generator: the run seed itself.
    pub const TRAINING: Self = Self::new("training", 0, 1);
    /// The data of a built-in set and the bundled digits' subset: the run seed itself, as
    /// [`Self::TRAINING`] (the two draw different things; the formula predates the streams).
    pub const DATA: Self = Self::new("data", 0, 1);
    /// The trainer's persistent chain bank, started from flow samples.
    pub const BANK_INIT: Self = Self::new("bank-init", 0x5eed_ba4c, 1);
    /// Fresh chains of `emberflow train`'s evaluation (then [`chain_rng`]`(.., u64::MAX, c)`).
    pub const FRESH_CHAINS: Self = Self::new("fresh-chains", 0xf5e5, 1);
    /// Fresh baseline chains for R-hat (then [`chain_rng`]`(.., u64::MAX − 1, c)`).
    pub const BASELINE_CHAINS: Self = Self::new("baseline-chains", 0x4a47, 1);
    /// One evaluation during training: member `iteration` is `seed ^ iteration`.
    pub const EVALUATION: Self = Self::new("evaluation", 0, 1);
    /// k-means restarts: member `k` is `seed ^ (0x6b6d_6561_6e73 + k)·φ`.
    pub const KMEANS: Self = Self::new("kmeans", 0x6b6d_6561_6e73u64.wrapping_mul(PHI), PHI);
    /// The silhouette's subsample: `seed ^ 0x73_696c·φ`.
    pub const SILHOUETTE: Self = Self::new("silhouette", 0x73_696cu64.wrapping_mul(PHI), PHI);
    /// The MMD's subsample: `seed ^ 0x6d6d64·φ`.
    pub const MMD: Self = Self::new("mmd", 0x6d6d64u64.wrapping_mul(PHI), PHI);
    /// The flow draws of the importance-sampled mode weights: `seed ^ 0x6973·φ`.
    pub const IMPORTANCE: Self = Self::new("importance", 0x6973u64.wrapping_mul(PHI), PHI);
    /// The data subset of a plot: `seed ^ 1`.
    pub const PLOT_DATA: Self = Self::new("plot-data", 1, 1);
    /// The sample subset of a plot: `seed ^ 2`.
    pub const PLOT_SAMPLES: Self = Self::new("plot-samples", 2, 1);
    /// The flow of a seeded test model (the energy draws from the model seed itself).
    pub const SEEDED_FLOW: Self = Self::new("seeded-flow", PHI, 1);

    /// Every named stream.
    pub const ALL: [Self; 13] = [
        Self::TRAINING,
        Self::DATA,
        Self::BANK_INIT,
        Self::FRESH_CHAINS,
        Self::BASELINE_CHAINS,
        Self::EVALUATION,
        Self::KMEANS,
        Self::SILHOUETTE,
        Self::MMD,
        Self::IMPORTANCE,
        Self::PLOT_DATA,
        Self::PLOT_SAMPLES,
        Self::SEEDED_FLOW,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEEDS: [u64; 4] = [0, 1, 0x0123_4567_89ab_cdef, u64::MAX];

    #[test]
    fn names_are_distinct() {
        for (i, a) in SeedStream::ALL.iter().enumerate() {
            for b in &SeedStream::ALL[i + 1..] {
                assert_ne!(a.name(), b.name());
            }
        }
    }

    #[test]
    fn streams_reproduce_the_former_mixes() {
        // the evaluation's former `rng(seed, stream) = seed ^ stream·φ`
        let eval_rng = |seed: u64, stream: u64| seed ^ stream.wrapping_mul(PHI);
        for s in SEEDS {
            assert_eq!(SeedStream::TRAINING.seed(s), s);
            assert_eq!(SeedStream::DATA.seed(s), s);
            assert_eq!(SeedStream::BANK_INIT.seed(s), s ^ 0x5eed_ba4c);
            assert_eq!(SeedStream::FRESH_CHAINS.seed(s), s ^ 0xf5e5);
            assert_eq!(SeedStream::BASELINE_CHAINS.seed(s), s ^ 0x4a47);
            assert_eq!(SeedStream::PLOT_DATA.seed(s), s ^ 1);
            assert_eq!(SeedStream::PLOT_SAMPLES.seed(s), s ^ 2);
            assert_eq!(SeedStream::SEEDED_FLOW.seed(s), s ^ 0x9e37_79b9_7f4a_7c15);
            assert_eq!(SeedStream::SILHOUETTE.seed(s), eval_rng(s, 0x73_696c));
            assert_eq!(SeedStream::MMD.seed(s), eval_rng(s, 0x6d6d64));
            assert_eq!(SeedStream::IMPORTANCE.seed(s), eval_rng(s, 0x6973));
            for k in [0u64, 1, 2, 7, 1000, u64::MAX] {
                assert_eq!(SeedStream::EVALUATION.seed_at(s, k), s ^ k);
                assert_eq!(
                    SeedStream::KMEANS.seed_at(s, k),
                    s ^ 0x6b6d_6561_6e73u64.wrapping_add(k).wrapping_mul(PHI)
                );
                if k < 1000 {
                    assert_eq!(
                        SeedStream::KMEANS.seed_at(s, k),
                        eval_rng(s, 0x6b6d_6561_6e73 + k)
                    );
                }
            }
            assert_eq!(SeedStream::KMEANS.seed_at(s, 0), SeedStream::KMEANS.seed(s));
            assert_eq!(
                SeedStream::BANK_INIT.rng(s),
                Xoshiro128PlusPlus::seed_from_u64(s ^ 0x5eed_ba4c)
            );
            assert_eq!(
                SeedStream::KMEANS.rng_at(s, 3),
                Xoshiro128PlusPlus::seed_from_u64(eval_rng(s, 0x6b6d_6561_6e73 + 3))
            );
        }
    }

    #[test]
    fn chain_rng_is_the_former_formula() {
        for s in SEEDS {
            for (it, slot) in [
                (0u64, 0usize),
                (1, 0),
                (0, 1),
                (17, 5),
                (u64::MAX, 3),
                (u64::MAX - 1, 255),
            ] {
                let mix = s
                    ^ it.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    ^ (slot as u64)
                        .wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
                        .rotate_left(29);
                assert_eq!(
                    chain_rng(s, it, slot),
                    Xoshiro128PlusPlus::seed_from_u64(mix)
                );
            }
        }
    }
}

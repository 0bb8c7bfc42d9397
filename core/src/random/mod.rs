//! Portable randomness: the [`Xoshiro128PlusPlus`] generator, variates built on any
//! [`RngCore`](rand_core::RngCore) (uniform on (0, 1), standard normals), unbiased integer draws ([`uniform_index`],
//! [`choose`], [`shuffle`]) and the project's named seed streams ([`SeedStream`],
//! [`chain_rng`]). Only integer arithmetic and [`crate::math`], so one seed gives the same bits
//! on every platform.
//!
//! # Seed streams
//!
//! Every generator of the project is derived from a run's seed through one of these, so two
//! parts never draw the same stream by accident (`φ = 0x9e37_79b9_7f4a_7c15`):
//!
//! | stream | seed | used by |
//! |---|---|---|
//! | [`SeedStream::TRAINING`] | `seed` | the trainer's main generator (data, minibatches, flow noise) |
//! | [`SeedStream::DATA`] | `seed` | the points of a built-in data set, the bundled digits' subset |
//! | [`SeedStream::BANK_INIT`] | `seed ^ 0x5eed_ba4c` | the trainer's persistent chain bank, started from the flow |
//! | [`chain_rng`] | `seed ^ iteration·φ ^ rotl(slot·0xc2b2ae3d27d4eb4f, 29)` | the chains of one training iteration |
//! | [`SeedStream::FRESH_CHAINS`] | `seed ^ 0xf5e5`, then `chain_rng(.., u64::MAX, c)` | fresh chains of `emberflow train`'s evaluation |
//! | [`SeedStream::BASELINE_CHAINS`] | `seed ^ 0x4a47`, then `chain_rng(.., u64::MAX − 1, c)` | fresh baseline chains for R-hat |
//! | [`SeedStream::EVALUATION`] | `seed ^ iteration` | one evaluation during training |
//! | [`SeedStream::KMEANS`] | `seed ^ (0x6b6d_6561_6e73 + k)·φ` | k-means restarts of the evaluation (`k` = number of clusters) |
//! | [`SeedStream::SILHOUETTE`] | `seed ^ 0x73_696c·φ` | silhouette subsample |
//! | [`SeedStream::MMD`] | `seed ^ 0x6d6d64·φ` | MMD subsample |
//! | [`SeedStream::IMPORTANCE`] | `seed ^ 0x6973·φ` | flow draws of the evaluation's importance-sampled mode weights |
//! | [`SeedStream::PLOT_DATA`] | `seed ^ 1` | the data subset of a plot |
//! | [`SeedStream::PLOT_SAMPLES`] | `seed ^ 2` | the sample subset of a plot |
//! | [`SeedStream::SEEDED_FLOW`] | `seed ^ φ` | the flow of `testing::seeded_paper_model` (test models) |
//! | `Xoshiro128PlusPlus::stream(seed, c)` | `seed`, jumped `c` times | chain `c` of the sampling protocol ([`crate::mcmc::run`]) |

mod index;
mod stream;
mod variates;
mod xoshiro;

pub use index::{choose, shuffle, uniform_index};
pub use stream::{SeedStream, chain_rng};
pub use variates::{
    fill_standard_normal, log_uniform, standard_normal, standard_normal_pair, uniform_open01,
};
pub use xoshiro::Xoshiro128PlusPlus;

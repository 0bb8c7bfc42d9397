//! The options of `emberflow plot density`, shared by the 2-D figure (`density.rs`) and the
//! pairwise projections (`pairs.rs`).

use clap::Args as ClapArgs;
use std::path::PathBuf;

/// `emberflow plot density` options.
#[derive(Debug, ClapArgs)]
pub(super) struct DensityArgs {
    /// The model file (`.efm`).
    #[arg(long)]
    pub(super) model: PathBuf,
    /// Data to draw (default for a built-in set: that set, from the model's seed).
    #[arg(long)]
    pub(super) data: Option<PathBuf>,
    /// Samples to draw (`emberflow sample` output or bare coordinates).
    #[arg(long)]
    pub(super) samples: Option<PathBuf>,
    /// Grid cells per side (2-D).
    #[arg(long, default_value_t = 200)]
    pub(super) grid: usize,
    /// At most this many points of each set are drawn (a seeded random subset).
    #[arg(long, default_value_t = 3000)]
    pub(super) points: usize,
    /// d > 2: the dimensions to project, e.g. 0,1,5 (default: the first four).
    #[arg(long)]
    pub(super) dims: Option<String>,
    /// Colour by ln density (clipped 12 below its maximum) instead of the density.
    #[arg(long)]
    pub(super) log: bool,
    /// Seed of the subsets drawn.
    #[arg(long, default_value_t = 0)]
    pub(super) seed: u64,
    /// The PNG file to write.
    #[arg(long)]
    pub(super) out: PathBuf,
}

//! Training metrics: mode weights and their MSE, the median squared log-density error on a
//! 2-D grid, and MCMC convergence diagnostics (rank-normalised split R̂, bulk- and tail-ESS)
//! that reproduce ArviZ.
//!
//! * [`mode_weights_from_samples`] — histogram of samples over mode regions (the negatives);
//! * [`mode_weights_on_grid`] / [`mode_weights_from_grid_energies`] — the EBM's own weights in
//!   2-D: `softmax(−U)` over a [`Grid2d`], summed per region;
//! * [`mode_weights_importance`] / [`mode_weights_importance_sampling`] — the EBM's weights in
//!   any dimension by self-normalised importance sampling with a proposal (the flow);
//! * [`weights_mse`] — against the true weights;
//! * [`log_density_error_on_grid`] / [`log_density_error_from_values`] — the paper's Table 1
//!   metric (exact rule in [`log_density_error`](mod@log_density_error));
//! * [`Chains`], [`rhat_rank`], [`ess_bulk`], [`ess_tail`], [`convergence`] — per-dimension
//!   diagnostics of `chains × draws × dims` draws, as ArviZ `rhat(method="rank")`,
//!   `ess(method="bulk")`, `ess(method="tail")` (checked against ArviZ 0.23.4 in
//!   `tests/metrics_arviz.rs`).
//!
//! Everything is computed in f64.

mod autocov;
mod chains;
mod convergence;
pub mod detection;
mod ess;
mod grid;
pub mod kmeans;
pub mod likelihood;
pub mod log_density_error;
pub mod mmd;
mod mode_weights;
mod normal;
pub mod regions;
mod rhat;

pub use chains::{Chains, ShapeError};
pub use convergence::{Convergence, convergence};
pub use detection::{Detection, DetectionError, LabelError, detection, parse_labels};
pub use ess::{ess_bulk, ess_tail};
pub use grid::Grid2d;
pub use kmeans::{KChoice, KMeans, choose_k, kmeans};
pub use likelihood::{LogZ, log_z, mean_nll, quantile};
pub use log_density_error::{
    DEFAULT_REL_THRESHOLD, LogDensityError, log_density_error_from_values,
    log_density_error_on_grid,
};
pub use mmd::{Mmd, mmd};
pub use mode_weights::{
    ModeWeights, mode_weights_from_grid_energies, mode_weights_from_samples,
    mode_weights_importance, mode_weights_importance_sampling, mode_weights_on_grid, weights_mse,
};
pub use normal::normal_quantile;
pub use regions::Regions;
pub use rhat::rhat_rank;

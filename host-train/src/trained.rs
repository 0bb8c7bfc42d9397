//! The result of a run: the averaged parameters in core order and the run's statistics, and
//! the core models built from them.

use crate::host_model::HostModel;
use crate::shape::ModelShape;
use anyhow::Result;
use emberflow_core::StepStats;

/// The trained parameters (host vectors in core order) and run statistics.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The architecture.
    pub shape: ModelShape,
    /// Energy network parameters (averaged), core order.
    pub energy: Vec<Vec<f32>>,
    /// Flow parameters (averaged), core order.
    pub flow: Vec<Vec<f32>>,
    /// Base σ of the tilt and the flow (model units).
    pub sigma: f32,
    /// Iterations run.
    pub iterations: u64,
    /// Seconds of training (evaluations by the observer not counted).
    pub seconds: f64,
    /// Skipped EBM / flow steps (non-finite loss or gradient).
    pub skipped: (u64, u64),
    /// Sampler statistics over the last evaluation window.
    pub stats: StepStats,
    /// Mean MALA step size of the bank at the end.
    pub step_size: f32,
    /// Roll-backs to the last good state after a divergence (each halves the learning rates).
    pub rollbacks: u64,
    /// Whether the run was stopped from outside before its last iteration.
    pub interrupted: bool,
    /// The best-scoring evaluation (iteration, score; lower is better), if scores were given.
    pub best: Option<(u64, f64)>,
    /// The iteration whose (averaged) parameters these are.
    pub exported_iteration: u64,
    /// Whether the patience rule stopped the run.
    pub early_stopped: bool,
}

impl Trained {
    /// The trained model (the exported parameters).
    pub fn model(&self) -> Result<HostModel> {
        HostModel::new(&self.shape, self.sigma, &self.energy, &self.flow)
    }
}

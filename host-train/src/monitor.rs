//! What a training run measures about itself: at every evaluation the averaged EBM's mode
//! weights and log-density error (built-in 2-D sets, on a grid), the bank's mode weights and
//! the R̂ of fresh chains ([`Monitor::record`], one [`LogRecord`] of the report); at the end the
//! metrics stored in the exported model ([`Monitor::finish`]).

use crate::config::TrainConfig;
use crate::data::{BuiltIn, Dataset, GroundTruth, Standardizer, subsample};
use crate::metrics::{
    DEFAULT_REL_THRESHOLD, Grid2d, log_density_error_from_values, mode_weights_from_grid_energies,
    mode_weights_from_samples, weights_mse,
};
use crate::metrics::{LogZ, log_z, mean_nll};
use crate::report::LogRecord;
use crate::sampler::{fresh_samples, max_rhat};
use crate::train::Progress;
use emberflow_core::{Potential, Proposal, SeedStream, StepStats};

/// Fresh chains of the R̂ logged at every evaluation (the final metric uses 128 × 200).
pub const LOG_RHAT_CHAINS: usize = 32;
/// Sweeps per chain of the R̂ logged at every evaluation.
pub const LOG_RHAT_DRAWS: usize = 40;
/// Fresh chains of the final sample weights and acceptance rates.
pub const FINAL_CHAINS: usize = 4096;
/// Sweeps per chain of the final sample weights.
pub const FINAL_SWEEPS: usize = 8;

/// The run's reference quantities, computed once.
#[derive(Clone, Debug)]
pub struct Monitor {
    dim: usize,
    standardizer: Standardizer,
    truth: Option<GroundTruth>,
    /// 2-D built-in sets: the grid and the true log density at its cell centres.
    grid: Option<(Grid2d, Vec<f64>)>,
    true_weights: Option<Vec<f64>>,
    seed: u64,
    held_out: Option<HeldOut>,
}

/// Flow draws of the `ln Z` estimate at every evaluation, by default.
pub const DEFAULT_NLL_DRAWS: usize = 4096;

/// The held-out likelihood's inputs: validation rows and a training subsample of the same
/// size (model units), the log-Jacobian to data units and the importance draws.
#[derive(Clone, Debug)]
struct HeldOut {
    val_rows: Dataset,
    train_rows: Dataset,
    log_jacobian: f64,
    draws: usize,
}

/// `ln Z` and the mean NLL of the training subsample and of the validation rows (data units).
#[derive(Clone, Copy, Debug)]
pub struct Likelihood {
    /// The `ln Z` estimate.
    pub log_z: LogZ,
    /// Mean NLL of the training subsample.
    pub train_nll: f64,
    /// Mean NLL of the validation rows.
    pub val_nll: f64,
}

/// The end-of-run evaluation of the exported (averaged) model.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The metrics stored in the model file, in order (at most 8).
    pub metrics: Vec<(String, f32)>,
    /// The EBM's mode weights (2-D built-in sets, on the grid).
    pub ebm_weights: Option<Vec<f64>>,
    /// The mode weights of fresh chains.
    pub neg_weights: Option<Vec<f64>>,
}

impl Monitor {
    /// The monitor of a run on data standardised by `standardizer`; `set` is the built-in set
    /// the data came from (`None` for a CSV file or the digits: no ground truth).
    pub fn new(set: Option<BuiltIn>, standardizer: Standardizer, seed: u64) -> Self {
        let truth = set.map(BuiltIn::truth);
        let dim = standardizer.shift.len();
        let grid = match (&truth, set.and_then(Grid2d::for_set).filter(|_| dim == 2)) {
            (Some(t), Some(g)) => {
                let ld = g.centres().map(|c| t.log_density(&c)).collect();
                Some((g, ld))
            }
            _ => None,
        };
        let true_weights = truth.as_ref().map(GroundTruth::weights);
        Self {
            dim,
            standardizer,
            truth,
            grid,
            true_weights,
            seed,
            held_out: None,
        }
    }

    /// Also measure the held-out likelihood at every evaluation: `validation` and `train` are
    /// in model units; the training subsample has as many rows as `validation`, drawn by
    /// `SeedStream::DATA.rng_at(seed, VALIDATION_MEMBER + 1)`; `ln Z` takes `draws` flow draws.
    pub fn with_held_out(mut self, validation: Dataset, train: &Dataset, draws: usize) -> Self {
        let mut rng = SeedStream::DATA.rng_at(self.seed, crate::data::VALIDATION_MEMBER + 1);
        let rows = subsample(train.len(), validation.len(), &mut rng);
        self.held_out = Some(HeldOut {
            val_rows: validation,
            train_rows: train.select(&rows),
            log_jacobian: -self.standardizer.log_det_jacobian(),
            draws,
        });
        self
    }

    /// The held-out likelihood of a model (`None` without a validation set). The `ln Z` draws
    /// are the same generator members at every evaluation, so evaluations compare on common
    /// random numbers.
    pub fn likelihood<U: Potential + Sync, F: Proposal + Sync>(
        &self,
        energy: &U,
        flow: &F,
        threads: usize,
    ) -> Option<Likelihood> {
        let h = self.held_out.as_ref()?;
        let lz = log_z(energy, flow, h.draws, self.seed, threads);
        let mut scratch = vec![0.0f32; energy.scratch_len()];
        let mut nll = |d: &Dataset| {
            let u: Vec<f32> = d.rows().map(|r| energy.energy(r, &mut scratch)).collect();
            mean_nll(&u, lz.ln_z, h.log_jacobian)
        };
        Some(Likelihood {
            log_z: lz,
            train_nll: nll(&h.train_rows),
            val_nll: nll(&h.val_rows),
        })
    }

    /// The true mode weights (built-in sets).
    pub fn true_weights(&self) -> Option<&[f64]> {
        self.true_weights.as_deref()
    }

    /// The EBM's mode weights and median squared log-density error on the grid (one pass of
    /// the energy over the cell centres); `None` without a grid.
    fn on_grid<U: Potential>(&self, energy: &U) -> Option<(Vec<f64>, f64)> {
        let truth = self.truth.as_ref()?;
        let (grid, true_ld) = self.grid.as_ref()?;
        let mut scratch = vec![0.0f32; energy.scratch_len()];
        let u: Vec<f32> = grid
            .centres()
            .map(|c| {
                let mut z = c;
                self.standardizer.apply_point(&mut z);
                energy.energy(&z, &mut scratch)
            })
            .collect();
        let weights =
            mode_weights_from_grid_energies(grid, &u, truth.n_modes(), |x| truth.region(x)).weights;
        let err = log_density_error_from_values(&u, true_ld, DEFAULT_REL_THRESHOLD).median;
        Some((weights, err))
    }

    /// The mode weights of model-space states (in data units); `None` without ground truth.
    fn sample_weights(&self, states: &[f32]) -> Option<Vec<f64>> {
        let truth = self.truth.as_ref()?;
        let mut flat = states.to_vec();
        for x in flat.chunks_exact_mut(self.dim) {
            self.standardizer.invert_point(x);
        }
        Some(
            mode_weights_from_samples(&flat, self.dim, truth.n_modes(), |x| truth.region(x))
                .weights,
        )
    }

    /// The share of `states` (model space) far from every mode of the truth
    /// ([`GroundTruth::far_from_modes`]).
    fn far_fraction(&self, states: &[f32]) -> f64 {
        let Some(truth) = &self.truth else {
            return f64::NAN;
        };
        let mut x = vec![0.0f32; self.dim];
        let (mut far, mut n) = (0usize, 0usize);
        for s in states.chunks_exact(self.dim) {
            x.copy_from_slice(s);
            self.standardizer.invert_point(&mut x);
            far += usize::from(truth.far_from_modes(&x));
            n += 1;
        }
        far as f64 / n.max(1) as f64
    }

    fn mse(&self, w: &Option<Vec<f64>>) -> Option<f64> {
        Some(weights_mse(w.as_ref()?, self.true_weights.as_ref()?))
    }

    /// One evaluation during training: the report's record of `p`.
    pub fn record(&self, p: &Progress<'_>, config: &TrainConfig) -> LogRecord {
        let (ebm, log_density_err) = self.on_grid(p.energy).unzip();
        let neg = self.sample_weights(p.bank);
        let rhat = max_rhat(
            p.energy,
            p.flow,
            config,
            LOG_RHAT_CHAINS,
            LOG_RHAT_DRAWS,
            SeedStream::EVALUATION.seed_at(self.seed, p.iteration),
        );
        let finite = |v: f64| Some(v).filter(|x| x.is_finite());
        let lik = self.likelihood(p.energy, p.flow, config.threads);
        LogRecord {
            iteration: p.iteration,
            seconds: p.seconds,
            ebm_mse: self.mse(&ebm),
            neg_mse: self.mse(&neg),
            bank_vs_ebm_mse: match (&neg, &ebm) {
                (Some(a), Some(b)) => Some(weights_mse(a, b)),
                _ => None,
            },
            log_density_err,
            rhat: finite(rhat),
            ebm_weights: ebm,
            neg_weights: neg,
            local_acceptance: f64::from(p.stats.local_acceptance()),
            global_acceptance: f64::from(p.stats.global_acceptance()),
            energy_gap: finite(f64::from(p.losses.0)),
            flow_loss: finite(f64::from(p.losses.1)),
            train_nll: lik.and_then(|l| finite(l.train_nll)),
            val_nll: lik.and_then(|l| finite(l.val_nll)),
            ln_z: lik.and_then(|l| finite(l.log_z.ln_z)),
            ln_z_se: lik.and_then(|l| finite(l.log_z.se)),
            ln_z_ess: lik.and_then(|l| finite(l.log_z.ess)),
        }
    }

    /// The final evaluation of the exported model (`energy`, `flow`) after `train_seconds` of
    /// training: EBM weights MSE, fresh-chain weights against the EBM's and the truth, the
    /// log-density error (paper Table 1, 2-D sets), the max R̂ of 128 fresh chains (Table 2,
    /// d > 2 built-in sets), the fresh chains' acceptance rates and the training time.
    pub fn finish<U: Potential + Sync, F: Proposal + Sync>(
        &self,
        energy: &U,
        flow: &F,
        config: &TrainConfig,
        train_seconds: f64,
    ) -> Finished {
        let (ebm, log_density_err) = self.on_grid(energy).unzip();
        let (states, stats): (Vec<f32>, StepStats) =
            fresh_samples(energy, flow, config, FINAL_CHAINS, FINAL_SWEEPS, self.seed);
        let fresh = self.sample_weights(&states);
        let mut metrics: Vec<(String, f32)> = Vec::new();
        if let Some(m) = self.mse(&ebm) {
            metrics.push(("ebm_weights_mse".into(), m as f32));
        }
        if let (Some(a), Some(b)) = (&fresh, &ebm) {
            metrics.push(("negatives_vs_ebm_mse".into(), weights_mse(a, b) as f32));
        }
        if let Some(m) = self.mse(&fresh) {
            metrics.push(("negatives_weights_mse".into(), m as f32));
        }
        // the sets beyond the paper: the first mode's weight (SLIPS) and the share of samples
        // far from every mode
        if let Some(t) = self.truth.as_ref().filter(|t| !t.set().in_paper()) {
            if let (BuiltIn::Slips(_), Some(f), Some(w)) = (t.set(), &fresh, &self.true_weights) {
                metrics.push(("mode1_weight_error".into(), (f[0] - w[0]).abs() as f32));
            }
            metrics.push(("far_from_modes".into(), self.far_fraction(&states) as f32));
        }
        if let Some(err) = log_density_err {
            metrics.push(("log_density_sq_err_median".into(), err as f32));
        }
        if self.dim > 2 && self.truth.is_some() {
            let rhat = max_rhat(energy, flow, config, 128, 200, self.seed);
            metrics.push(("max_rhat_128_chains".into(), rhat as f32));
        }
        metrics.push(("local_acceptance".into(), stats.local_acceptance()));
        metrics.push(("global_acceptance".into(), stats.global_acceptance()));
        metrics.push(("train_seconds".into(), train_seconds as f32));
        Finished {
            metrics,
            ebm_weights: ebm,
            neg_weights: fresh,
        }
    }
}

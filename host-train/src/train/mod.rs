//! Algorithm 1 of the paper (flowMC-EBM), and the baselines, on the host: [`train()`] is the
//! loop, the state it carries between iterations and the steps are in `state.rs`.
//!
//! Each iteration:
//! 1. a batch of `n` data points (standardised);
//! 2. `n` chains of the persistent bank (drawn without replacement) run one FlowMC sweep —
//!    `(1 i-SIR(N) + K MALA) × R` by emberflow-core's kernel on the current weights, in
//!    parallel threads; the state at the end of every round is a negative (`n·R` negatives taken
//!    along the trajectory), the final state is written back;
//! 3. an EBM Adam step on `mean E(x⁺) − mean E(x⁻)` (+ `λ·mean E²` if asked);
//! 4. a flow Adam step on `−mean ln λ(x⁻)` (negatives detached).
//!
//! Guard rails: a non-finite loss or gradient skips that step and is counted. The learning
//! rates decay linearly to `lr_final` of their start over the run, and the exported model is an
//! exponential moving average (Polyak) of the parameters, which removes the iteration-to-
//! iteration swing of the mode weights under plain Adam.

mod state;

pub use crate::config::{Method, TrainConfig};
use crate::host_model::{HostEnergy, HostFlow};
use crate::shape::ModelShape;
pub use crate::trained::Trained;
use anyhow::{Result, bail};
use emberflow_core::StepStats;
use state::TrainState;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::data::Dataset;

/// What the observer sees every `eval_every` iterations.
#[derive(Debug)]
pub struct Progress<'a> {
    /// Iteration just finished (1-based).
    pub iteration: u64,
    /// Seconds of training so far; the time spent in the observer is not counted.
    pub seconds: f64,
    /// The averaged (exported) energy in model units.
    pub energy: &'a HostEnergy<'a>,
    /// The averaged (exported) flow in model units.
    pub flow: &'a HostFlow<'a>,
    /// The current negatives' bank (model units), row-major `chains × d`.
    pub bank: &'a [f32],
    /// Sampler statistics since the last call.
    pub stats: StepStats,
    /// Last EBM loss (`mean E⁺ − mean E⁻`) and flow loss.
    pub losses: (f32, f32),
}

/// What the observer of [`train_scored`] answers: go on or stop, and the evaluation's score
/// (lower is better, e.g. the validation NLL) for the patience rule and the model choice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// `false` stops the run.
    pub keep_going: bool,
    /// The score of this evaluation (non-finite: no improvement).
    pub score: Option<f64>,
}

/// Train on `data` (already standardised; `sigma` is the base σ in those units), calling
/// `observe` every `eval_every` iterations; `observe` returning `false` stops the run.
///
/// The model has the shape `config.shape`, or [`ModelShape::default_for`] the data's dimension.
pub fn train(
    data: &Dataset,
    sigma: f32,
    config: &TrainConfig,
    mut observe: impl FnMut(&Progress<'_>) -> bool,
) -> Result<Trained> {
    train_scored(data, sigma, config, |p| Verdict {
        keep_going: observe(p),
        score: None,
    })
}

/// [`train()`] with scored evaluations: the run stops after `config.patience` evaluations in
/// a row without a better score (0: never), and with `config.keep_best` the exported
/// parameters are those of the best-scoring evaluation, kept as a snapshot of the state
/// (a state snapshot, the roll-back's machinery).
pub fn train_scored(
    data: &Dataset,
    sigma: f32,
    config: &TrainConfig,
    mut observe: impl FnMut(&Progress<'_>) -> Verdict,
) -> Result<Trained> {
    let shape = config
        .shape
        .clone()
        .unwrap_or_else(|| ModelShape::default_for(data.dim()));
    if data.dim() != shape.dim {
        bail!(
            "the data have {} columns, the model expects {}",
            data.dim(),
            shape.dim
        );
    }
    shape.validate()?;
    if data.len() < 2 {
        bail!("need at least 2 data points, got {}", data.len());
    }
    config
        .sampler
        .validate()
        .map_err(|e| anyhow::anyhow!("sampler settings: {e}"))?;

    let mut state = TrainState::new(data, sigma, &shape, config)?;
    if let Some(cp) = &config.resume {
        state.resume(cp)?;
    }
    let start = Instant::now();
    // Time spent in the observer (evaluations), left out of the training clock.
    let mut observing = 0.0f64;
    let clock = |observing: f64| start.elapsed().as_secs_f64() - observing;
    let mut last_good = None;
    let mut interrupted = false;
    let mut best: Option<(crate::checkpoint::Checkpoint, u64, f64)> = None;
    let mut since_best = 0u64;
    let mut early_stopped = false;

    while state.iteration < config.iters {
        if config
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
        {
            interrupted = true;
            break;
        }
        if let Some(budget) = config.time_budget
            && clock(observing) >= budget
        {
            break;
        }
        state.begin_iteration();
        let positives = state.data_batch()?;
        let negatives = state.negatives()?;
        state.energy_step(&positives, &negatives)?;
        state.flow_step(&positives, &negatives)?;
        if state.diverged()? {
            let Some(good) = &last_good else {
                bail!(
                    "training diverged at iteration {} before any good state was kept",
                    state.iteration
                );
            };
            state.roll_back(good)?;
            continue;
        }
        state.accept_parameters()?;

        let it = state.iteration;
        if it.is_multiple_of(config.eval_every.max(1)) || it == config.iters {
            let observe_start = Instant::now();
            let seconds = clock(observing);
            let (stats, losses) = (state.window, state.losses);
            let (bank, seen) = state.observed()?;
            let verdict = observe(&Progress {
                iteration: it,
                seconds,
                energy: &seen.energy,
                flow: &seen.flow,
                bank: &bank,
                stats,
                losses,
            });
            observing += observe_start.elapsed().as_secs_f64();
            state.window = StepStats::default();
            let snapshot = state.snapshot()?;
            if let Some(score) = verdict.score {
                if score.is_finite() && best.as_ref().is_none_or(|b| score < b.2) {
                    best = Some((snapshot.clone(), it, score));
                    since_best = 0;
                } else {
                    since_best += 1;
                }
            }
            last_good = Some(snapshot);
            if !verdict.keep_going {
                break;
            }
            if config.patience > 0 && since_best >= config.patience {
                early_stopped = true;
                break;
            }
        }
        if let Some(path) = &config.checkpoint
            && config.checkpoint_every > 0
            && it.is_multiple_of(config.checkpoint_every)
        {
            state.snapshot()?.save(path)?;
        }
    }
    if interrupted && let Some(path) = &config.checkpoint {
        state.snapshot()?.save(path)?;
    }
    let bank = &state.bank;
    let step_size =
        (0..bank.len()).map(|k| bank.step_size(k)).sum::<f32>() / bank.len().max(1) as f32;
    let (iterations, skipped, stats, rollbacks) = (
        state.iteration,
        state.skipped,
        state.window,
        state.rollbacks,
    );
    let energy_tensors = state.energy_tensors();
    let (mut energy, mut flow) = state.into_averages();
    let mut exported_iteration = iterations;
    if config.keep_best
        && let Some((cp, it, _)) = &best
    {
        energy = cp.averages[..energy_tensors].to_vec();
        flow = cp.averages[energy_tensors..].to_vec();
        exported_iteration = *it;
    }
    Ok(Trained {
        shape,
        energy,
        flow,
        sigma,
        iterations,
        seconds: clock(observing),
        skipped,
        stats,
        step_size,
        rollbacks,
        interrupted,
        best: best.map(|(_, it, score)| (it, score)),
        exported_iteration,
        early_stopped,
    })
}

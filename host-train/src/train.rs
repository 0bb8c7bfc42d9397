//! Algorithm 1 of the paper (flowMC-EBM), and the baselines, on the host.
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

use crate::adam::Adam;
pub use crate::baselines::ula;
use crate::checkpoint::Checkpoint;
use crate::data::Dataset;
use crate::nets::{EnergyNet, FlowNet};
use crate::params::{core_energy, core_flow, to_host, update_energy, update_flow};
use crate::sampler::Bank;
use anyhow::{Context, Result, bail};
use candle_core::{Device, Tensor};
use emberflow_core::shapes::{PaperEnergy, PaperFlow, flow_shape};
use emberflow_core::{
    DiagGaussian, FlowMcConfig, GlobalMove, Schedule, StepStats, Xoshiro128PlusPlus,
};
use emberflow_core::{SeedStream, chain_rng, shuffle};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The training method (`--method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// flowMC-EBM: FlowMC negatives from a persistent bank, flow trained on them.
    FlowMc,
    /// Persistent unadjusted Langevin (the paper's ULA-EBM).
    Ula,
    /// Unadjusted Langevin from noise every iteration (short-run).
    ShortRun,
    /// The flow alone, fitted to the data by maximum likelihood.
    Nf,
}

impl Method {
    /// Parse a `--method` value.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "flowmc" => Method::FlowMc,
            "ula" => Method::Ula,
            "short-run" => Method::ShortRun,
            "nf" => Method::Nf,
            other => bail!("unknown method `{other}` (expected flowmc, ula, short-run or nf)"),
        })
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::FlowMc => "flowmc",
            Method::Ula => "ula",
            Method::ShortRun => "short-run",
            Method::Nf => "nf",
        }
    }
}

/// Everything a run needs besides its data.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Method.
    pub method: Method,
    /// Iterations (upper bound when a time budget is set).
    pub iters: u64,
    /// Stop after this many seconds of training.
    pub time_budget: Option<f64>,
    /// Data points (and chains) per iteration.
    pub batch: usize,
    /// Persistent chains.
    pub bank: usize,
    /// EBM learning rate at the start.
    pub lr_energy: f64,
    /// Flow learning rate at the start.
    pub lr_flow: f64,
    /// Learning rates at the end, as a fraction of the start (linear decay).
    pub lr_final: f64,
    /// `λ` of the `λ·mean E²` regulariser.
    pub energy_reg: f64,
    /// Decay of the parameter average that is exported.
    pub ema: f64,
    /// The FlowMC sweep.
    pub sampler: FlowMcConfig,
    /// Initial MALA step size.
    pub step_size: f32,
    /// ULA: step size and steps per iteration.
    pub ula_step: f32,
    /// ULA steps per iteration.
    pub ula_steps: usize,
    /// Seed.
    pub seed: u64,
    /// Sampler threads.
    pub threads: usize,
    /// Call the observer every this many iterations.
    pub eval_every: u64,
    /// Write a checkpoint here every `checkpoint_every` iterations and when stopped.
    pub checkpoint: Option<PathBuf>,
    /// Checkpoint period in iterations (0: only when stopped).
    pub checkpoint_every: u64,
    /// Continue from this checkpoint.
    pub resume: Option<Box<Checkpoint>>,
    /// Set from outside (e.g. Ctrl-C) to stop after the current iteration.
    pub stop: Option<Arc<AtomicBool>>,
    /// Where candle runs the gradient steps ([`crate::device::parse_device`]); the negatives
    /// are drawn on the CPU cores whatever it is.
    pub device: Device,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            method: Method::FlowMc,
            iters: 2000,
            time_budget: None,
            batch: 256,
            bank: 8192,
            lr_energy: 1e-3,
            lr_flow: 1e-3,
            lr_final: 0.1,
            energy_reg: 0.0,
            ema: 0.995,
            sampler: FlowMcConfig {
                schedule: Schedule {
                    global: GlobalMove::Isir { particles: 64 },
                    mala_steps: 15,
                    rounds: 2,
                },
                adaptation: Some(emberflow_core::Adaptation::default()),
            },
            step_size: 0.01,
            ula_step: 0.125 * 0.125 / 2.0,
            ula_steps: 64,
            seed: 0,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            eval_every: 25,
            checkpoint: None,
            checkpoint_every: 0,
            resume: None,
            stop: None,
            device: Device::Cpu,
        }
    }
}

/// The trained parameters (host vectors in core order) and run statistics.
#[derive(Clone, Debug)]
pub struct Trained {
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
}

/// What the observer sees every `eval_every` iterations.
#[derive(Debug)]
pub struct Progress<'a, const D: usize, F> {
    /// Iteration just finished (1-based).
    pub iteration: u64,
    /// Seconds of training so far; the time spent in the observer is not counted.
    pub seconds: f64,
    /// The averaged (exported) energy in model units.
    pub energy: &'a PaperEnergy<D>,
    /// The averaged (exported) flow in model units.
    pub flow: &'a F,
    /// The current negatives' bank (model units).
    pub bank: &'a [[f32; D]],
    /// Sampler statistics since the last call.
    pub stats: StepStats,
    /// Last EBM loss (`mean E⁺ − mean E⁻`) and flow loss.
    pub losses: (f32, f32),
}

fn exp_average(avg: &mut [Vec<f32>], now: &[Vec<f32>], decay: f32) {
    for (a, n) in avg.iter_mut().zip(now) {
        for (x, y) in a.iter_mut().zip(n) {
            *x = decay * *x + (1.0 - decay) * y;
        }
    }
}

fn rows_tensor<const D: usize>(rows: &[[f32; D]], device: &Device) -> Result<Tensor> {
    Ok(Tensor::from_vec(
        rows.as_flattened().to_vec(),
        (rows.len(), D),
        device,
    )?)
}

/// Train on `data` (already standardised; `sigma` is the base σ in those units), calling
/// `observe` every `eval_every` iterations; `observe` returning `false` stops the run.
pub fn train<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>(
    data: &Dataset,
    sigma: f32,
    config: &TrainConfig,
    mut observe: impl FnMut(&Progress<'_, D, PaperFlow<D, A, B, H, K>>) -> bool,
) -> Result<Trained> {
    if data.dim() != D {
        bail!("data have {} columns, the model expects {D}", data.dim());
    }
    if data.len() < 2 {
        bail!("need at least 2 data points, got {}", data.len());
    }
    let (hidden, blocks) = flow_shape(D).context("unsupported dimension")?;
    if (hidden, blocks) != (H, K) {
        bail!("flow shape mismatch");
    }
    config
        .sampler
        .validate()
        .map_err(|e| anyhow::anyhow!("sampler settings: {e}"))?;
    let base = DiagGaussian::<D>::isotropic(sigma).map_err(|e| anyhow::anyhow!("base σ: {e}"))?;

    let mut rng = SeedStream::TRAINING.rng(config.seed);
    let energy_net = EnergyNet::new_on(D, &mut rng, &config.device)?;
    let flow_net = FlowNet::new_on(D, H, K, sigma, &mut rng, &config.device)?;
    let mut opt_e = Adam::new(energy_net.params.vars.clone(), config.lr_energy)?;
    let mut opt_f = Adam::new(flow_net.params.vars.clone(), config.lr_flow)?;

    let tensors = |p: &crate::nets::ParamList| -> Vec<Tensor> {
        p.vars.iter().map(|v| v.as_tensor().clone()).collect()
    };
    let mut e_now = to_host(&tensors(&energy_net.params))?;
    let mut f_now = to_host(&tensors(&flow_net.params))?;
    let mut e_avg = e_now.clone();
    let mut f_avg = f_now.clone();
    let mut target = core_energy::<D>(&e_now, &base)?;
    let mut flow = core_flow::<D, A, B, H, K>(&f_now, &base)?;
    let mut averaged = core_energy::<D>(&e_avg, &base)?;
    let mut averaged_flow = core_flow::<D, A, B, H, K>(&f_avg, &base)?;

    let mut bank = Bank::from_flow(
        config.bank.max(config.batch),
        &target,
        &flow,
        config.step_size,
        config.seed,
    );
    let n = config.batch.min(bank.chains.len());
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut cursor = order.len();
    let mut skipped = (0u64, 0u64);
    let mut window = StepStats::default();
    let mut losses = (0.0f32, 0.0f32);
    let start = Instant::now();
    // Time spent in the observer (evaluations), left out of the training clock.
    let mut observing = 0.0f64;
    let clock = |observing: f64| start.elapsed().as_secs_f64() - observing;
    let mut it = 0u64;
    let mut lr_factor = 1.0f64;
    let mut rollbacks = 0u64;
    let mut bad_in_a_row = 0u32;
    let mut last_skipped = 0u64;
    let shape = [D as u64, config.batch as u64, bank.chains.len() as u64];
    let energy_tensors = energy_net.params.vars.len();
    let all_vars: Vec<candle_core::Var> = energy_net
        .params
        .vars
        .iter()
        .chain(&flow_net.params.vars)
        .cloned()
        .collect();

    // The whole state between two iterations, and its inverse.
    macro_rules! snapshot {
        () => {{
            let (me, ve) = opt_e.moments();
            let (mf, vf) = opt_f.moments();
            let mut adam_m = to_host(me)?;
            adam_m.extend(to_host(mf)?);
            let mut adam_v = to_host(ve)?;
            adam_v.extend(to_host(vf)?);
            let mut params = e_now.clone();
            params.extend(f_now.iter().cloned());
            let mut averages = e_avg.clone();
            averages.extend(f_avg.iter().cloned());
            Checkpoint {
                iteration: it,
                shape,
                seed: config.seed,
                rng: rng.state(),
                order: order.iter().map(|&i| i as u32).collect(),
                cursor: cursor as u64,
                params,
                adam_m,
                adam_v,
                adam_t: [opt_e.t, opt_f.t],
                lr_factor,
                averages,
                energy_tensors: energy_tensors as u64,
                bank_x: bank.chains.iter().flat_map(|c| c.x).collect(),
                bank_step: bank.chains.iter().map(|c| c.step_size).collect(),
                bank_accept: bank.chains.iter().map(|c| c.acceptance).collect(),
                counters: [skipped.0, skipped.1, rollbacks],
            }
        }};
    }
    let restore =
        |cp: &Checkpoint, opt_e: &mut Adam, opt_f: &mut Adam, bank: &mut Bank<D>| -> Result<()> {
            if cp.shape != shape || cp.seed != config.seed || cp.order.len() != data.len() {
                bail!(
                    "the checkpoint belongs to another run (dimension, batch, bank size, seed or \
                 data size differ)"
                );
            }
            if cp.params.len() != all_vars.len() || cp.energy_tensors as usize != energy_tensors {
                bail!("the checkpoint's parameters do not match this model");
            }
            let to_tensors = |lists: &[Vec<f32>]| -> Result<Vec<Tensor>> {
                lists
                    .iter()
                    .zip(&all_vars)
                    .map(|(v, var)| {
                        Ok(Tensor::from_vec(
                            v.clone(),
                            var.as_tensor().shape(),
                            var.device(),
                        )?)
                    })
                    .collect()
            };
            for (t, var) in to_tensors(&cp.params)?.iter().zip(&all_vars) {
                var.set(t)?;
            }
            let m = to_tensors(&cp.adam_m)?;
            let v = to_tensors(&cp.adam_v)?;
            opt_e.set_moments(
                m[..energy_tensors].to_vec(),
                v[..energy_tensors].to_vec(),
                cp.adam_t[0],
            );
            opt_f.set_moments(
                m[energy_tensors..].to_vec(),
                v[energy_tensors..].to_vec(),
                cp.adam_t[1],
            );
            if cp.bank_x.len() != bank.chains.len() * D
                || cp.bank_step.len() != bank.chains.len()
                || cp.bank_accept.len() != bank.chains.len()
            {
                bail!("the checkpoint's chains do not match this run");
            }
            for (k, c) in bank.chains.iter_mut().enumerate() {
                c.x.copy_from_slice(&cp.bank_x[k * D..(k + 1) * D]);
                c.step_size = cp.bank_step[k];
                c.acceptance = cp.bank_accept[k];
            }
            Ok(())
        };
    let mut last_good: Option<Checkpoint> = None;
    if let Some(cp) = &config.resume {
        restore(cp, &mut opt_e, &mut opt_f, &mut bank)?;
        it = cp.iteration;
        rng = Xoshiro128PlusPlus::from_state(cp.rng);
        order = cp.order.iter().map(|&i| i as usize).collect();
        cursor = cp.cursor as usize;
        lr_factor = cp.lr_factor;
        skipped = (cp.counters[0], cp.counters[1]);
        last_skipped = skipped.0 + skipped.1;
        rollbacks = cp.counters[2];
        e_avg = cp.averages[..energy_tensors].to_vec();
        f_avg = cp.averages[energy_tensors..].to_vec();
        e_now = cp.params[..energy_tensors].to_vec();
        f_now = cp.params[energy_tensors..].to_vec();
        update_energy(&mut target, &e_now)?;
        update_flow(&mut flow, &f_now)?;
    }
    let mut interrupted = false;

    while it < config.iters {
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
        it += 1;
        let frac = (it - 1) as f64 / config.iters.max(1) as f64;
        let decay = 1.0 - (1.0 - config.lr_final) * frac;
        opt_e.lr = config.lr_energy * decay * lr_factor;
        opt_f.lr = config.lr_flow * decay * lr_factor;

        // 1. Data batch (epoch-wise shuffling).
        let mut positives = Vec::with_capacity(n * D);
        for _ in 0..n {
            if cursor == order.len() {
                shuffle(&mut rng, &mut order);
                cursor = 0;
            }
            positives.extend_from_slice(data.row(order[cursor]));
            cursor += 1;
        }
        let positives = Tensor::from_vec(positives, (n, D), &config.device)?;

        // 2. Negatives.
        let negatives: Vec<[f32; D]> = match config.method {
            Method::FlowMc => {
                let slots = draw_slots(&mut rng, bank.chains.len(), n);
                let (neg, stats) = bank.sweep(
                    &slots,
                    &target,
                    &flow,
                    config.sampler,
                    config.seed,
                    it,
                    config.threads,
                );
                window.merge(&stats);
                neg
            }
            Method::Ula => {
                let slots = draw_slots(&mut rng, bank.chains.len(), n);
                let mut neg = Vec::with_capacity(n);
                for &s in &slots {
                    let mut crng = chain_rng(config.seed, it, s);
                    let x = &mut bank.chains[s].x;
                    ula(&target, x, config.ula_step, config.ula_steps, &mut crng);
                    neg.push(*x);
                }
                neg
            }
            Method::ShortRun => {
                let mut neg = Vec::with_capacity(n);
                for s in 0..n {
                    let mut crng = chain_rng(config.seed, it, s);
                    let mut x = [0.0f32; D];
                    for v in x.iter_mut() {
                        *v = sigma
                            * 3.0
                            * (2.0 * emberflow_core::random::uniform_open01(&mut crng) - 1.0);
                    }
                    ula(
                        &target,
                        &mut x,
                        config.ula_step,
                        config.ula_steps,
                        &mut crng,
                    );
                    neg.push(x);
                }
                neg
            }
            Method::Nf => Vec::new(),
        };

        // 3. EBM step.
        if config.method != Method::Nf {
            let neg = rows_tensor(&negatives, &config.device)?;
            let e_pos = energy_net.forward(&positives)?;
            let e_neg = energy_net.forward(&neg)?;
            let mut loss = (e_pos.mean_all()? - e_neg.mean_all()?)?;
            if config.energy_reg > 0.0 {
                let reg = (e_pos.sqr()?.mean_all()? + e_neg.sqr()?.mean_all()?)?;
                loss = (loss + reg.affine(config.energy_reg, 0.0)?)?;
            }
            let value = loss.to_scalar::<f32>()?;
            let grads = loss.backward()?;
            if value.is_finite() && opt_e.grads_finite(&grads)? {
                opt_e.step(&grads)?;
                losses.0 = value;
            } else {
                skipped.0 += 1;
            }
        }

        // 4. Flow step: on the negatives (flowMC), or on the data (nf).
        if matches!(config.method, Method::FlowMc | Method::Nf) {
            let fit_on = if config.method == Method::Nf {
                positives.clone()
            } else {
                rows_tensor(&negatives, &config.device)?
            };
            let loss = flow_net.log_density(&fit_on)?.mean_all()?.neg()?;
            let value = loss.to_scalar::<f32>()?;
            let grads = loss.backward()?;
            if value.is_finite() && opt_f.grads_finite(&grads)? {
                opt_f.step(&grads)?;
                losses.1 = value;
            } else {
                skipped.1 += 1;
            }
        }

        // Core copies for the next sweep, and the averages.
        e_now = to_host(&tensors(&energy_net.params))?;
        f_now = to_host(&tensors(&flow_net.params))?;
        // Divergence: non-finite parameters, or ten non-finite steps in a row, or a runaway
        // energy gap. Roll back to the last good state with halved learning rates.
        let finite = e_now.iter().chain(&f_now).flatten().all(|v| v.is_finite());
        let skipped_now = skipped.0 + skipped.1;
        bad_in_a_row = if skipped_now > last_skipped {
            bad_in_a_row + 1
        } else {
            0
        };
        last_skipped = skipped_now;
        if !finite || bad_in_a_row >= 10 || losses.0.abs() > 1e4 {
            let Some(good) = last_good.clone() else {
                bail!("training diverged at iteration {it} before any good state was kept");
            };
            rollbacks += 1;
            if rollbacks > 8 {
                bail!("training diverged {rollbacks} times; last at iteration {it}");
            }
            restore(&good, &mut opt_e, &mut opt_f, &mut bank)?;
            it = good.iteration;
            rng = Xoshiro128PlusPlus::from_state(good.rng);
            rng.jump();
            order = good.order.iter().map(|&i| i as usize).collect();
            cursor = good.cursor as usize;
            lr_factor = good.lr_factor * 0.5;
            e_avg = good.averages[..energy_tensors].to_vec();
            f_avg = good.averages[energy_tensors..].to_vec();
            e_now = good.params[..energy_tensors].to_vec();
            f_now = good.params[energy_tensors..].to_vec();
            update_energy(&mut target, &e_now)?;
            update_flow(&mut flow, &f_now)?;
            bad_in_a_row = 0;
            losses.0 = 0.0;
            continue;
        }
        update_energy(&mut target, &e_now)?;
        update_flow(&mut flow, &f_now)?;
        let d = config.ema.min(1.0 - 1.0 / (it as f64 + 1.0)) as f32;
        exp_average(&mut e_avg, &e_now, d);
        exp_average(&mut f_avg, &f_now, d);

        if it.is_multiple_of(config.eval_every.max(1)) || it == config.iters {
            let observe_start = Instant::now();
            let seconds = clock(observing);
            update_energy(&mut averaged, &e_avg)?;
            update_flow(&mut averaged_flow, &f_avg)?;
            let states: Vec<[f32; D]> = bank.chains.iter().map(|c| c.x).collect();
            let keep_going = observe(&Progress {
                iteration: it,
                seconds,
                energy: &averaged,
                flow: &averaged_flow,
                bank: &states,
                stats: window,
                losses,
            });
            observing += observe_start.elapsed().as_secs_f64();
            window = StepStats::default();
            last_good = Some(snapshot!());
            if !keep_going {
                break;
            }
        }
        if let Some(path) = &config.checkpoint
            && config.checkpoint_every > 0
            && it.is_multiple_of(config.checkpoint_every)
        {
            snapshot!().save(path)?;
        }
    }
    if interrupted && let Some(path) = &config.checkpoint {
        snapshot!().save(path)?;
    }
    let step_size =
        bank.chains.iter().map(|c| c.step_size).sum::<f32>() / bank.chains.len().max(1) as f32;
    Ok(Trained {
        energy: e_avg,
        flow: f_avg,
        sigma,
        iterations: it,
        seconds: clock(observing),
        skipped,
        stats: window,
        step_size,
        rollbacks,
        interrupted,
    })
}

/// The core flow and tilted energy of a trained run.
pub fn core_models<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
>(
    trained: &Trained,
) -> Result<(PaperEnergy<D>, PaperFlow<D, A, B, H, K>)> {
    let base = DiagGaussian::<D>::isotropic(trained.sigma).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((
        core_energy::<D>(&trained.energy, &base)?,
        core_flow::<D, A, B, H, K>(&trained.flow, &base)?,
    ))
}

/// `k` distinct bank slots of `0..n`, in draw order.
fn draw_slots(rng: &mut Xoshiro128PlusPlus, n: usize, k: usize) -> Vec<usize> {
    crate::data::subsample(n, k, rng)
}

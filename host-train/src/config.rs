//! A run's settings: the method (Algorithm 1 or a baseline) and every hyper-parameter.

use crate::checkpoint::Checkpoint;
use crate::shape::ModelShape;
use anyhow::{Result, bail};
use candle_core::Device;
use emberflow_core::{FlowMcConfig, GlobalMove, Schedule};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

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
    /// Standard deviation (model units) of the Gaussian jitter added to every data point of a
    /// batch: the EBM then fits the data smoothed by that kernel, which keeps it from sharp
    /// wells around the rows of a small data set (0: off).
    pub data_noise: f64,
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
    /// Stop after this many evaluations in a row without a better score (0: never).
    pub patience: u64,
    /// Export the parameters of the best-scoring evaluation instead of the last ones.
    pub keep_best: bool,
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
    /// The architecture; `None`: [`ModelShape::default_for`] the data's dimension.
    pub shape: Option<ModelShape>,
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
            data_noise: 0.0,
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
            patience: 0,
            keep_best: false,
            checkpoint: None,
            checkpoint_every: 0,
            resume: None,
            stop: None,
            device: Device::Cpu,
            shape: None,
        }
    }
}

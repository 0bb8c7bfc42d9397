//! The sampling options shared by `emberflow sample` and `emberflow firmware run` (so both
//! commands take the same flags and give the same settings).

use crate::firmware::{SampleSettings, parse_adapt, parse_global};
use anyhow::{Result, anyhow};
use emberflow_core::GlobalMove;

/// The sampling options of `emberflow sample` and `emberflow firmware run`.
#[derive(Debug, clap::Args)]
pub struct SamplingArgs {
    /// Samples per chain (one per sweep).
    #[arg(long)]
    pub n: u32,
    /// Number of chains.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub chains: u16,
    /// Sampling seed; chain c draws from Xoshiro128PlusPlus::stream(seed, c).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Adapting warm-up sweeps per chain (not recorded).
    #[arg(long, default_value_t = 20)]
    pub warmup: u32,
    /// Global move: none, imh, isir (64 particles) or isir:N [default: the model's].
    #[arg(long, value_parser = parse_global_arg)]
    pub global: Option<GlobalMove>,
    /// MALA steps per round [default: the model's].
    #[arg(long)]
    pub mala_steps: Option<u16>,
    /// Rounds per sweep [default: the model's].
    #[arg(long)]
    pub rounds: Option<u16>,
    /// Initial MALA step size [default: the model's].
    #[arg(long)]
    pub step_size: Option<f32>,
    /// Warm-up adaptation: off, on, optimal or a target acceptance in (0, 1) [default: the
    /// model's].
    #[arg(long)]
    pub adapt: Option<String>,
}

impl SamplingArgs {
    /// The settings these options give (`--adapt` is parsed here, so that a bad value is one
    /// error line naming the option).
    pub fn settings(&self) -> Result<SampleSettings> {
        Ok(SampleSettings {
            seed: self.seed,
            chains: self.chains,
            n: self.n,
            warmup: self.warmup,
            global: self.global,
            mala_steps: self.mala_steps,
            rounds: self.rounds,
            step_size: self.step_size,
            adapt: self
                .adapt
                .as_deref()
                .map(parse_adapt)
                .transpose()
                .map_err(|e| anyhow!("`--adapt`: {e}"))?,
        })
    }
}

fn parse_global_arg(s: &str) -> Result<GlobalMove, String> {
    parse_global(s).map_err(|e| e.to_string())
}

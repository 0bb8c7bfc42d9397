//! `emberflow sample` and `emberflow energy`: the model file on the host, through the sampling
//! and scoring protocol the firmware runs ([`emberflow_core::mcmc::run`]), so
//! `emberflow sample --model M …` and `emberflow firmware run --model M …` write the same bytes.

use crate::firmware::{
    ModelFile, SampleSettings, Score, parse_adapt, parse_global, read_points_csv, sample_model,
    score_model, write_energies_csv, write_samples_csv,
};
use anyhow::{Result, anyhow};
use emberflow_core::GlobalMove;
use emberflow_train::fs::write_atomically_to;
use std::path::PathBuf;

/// Arguments of `emberflow sample`.
#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// The model file (`.efm`, energy+flow, any supported dimension).
    #[arg(long)]
    pub model: PathBuf,
    /// Seed, chains, samples and the sampler settings.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Output CSV (`chain,index,x0,…`, data units; `-` for stdout).
    #[arg(long)]
    pub out: String,
}

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

/// Arguments of `emberflow energy`.
#[derive(Debug, clap::Args)]
pub struct EnergyArgs {
    /// The model file (`.efm`, energy+flow).
    #[arg(long)]
    pub model: PathBuf,
    /// Points in data units, one a row (a non-numeric first row is a header; if it names
    /// x0…x{d−1}, those columns are read, so a samples CSV can be scored as it is).
    #[arg(long)]
    pub data: PathBuf,
    /// Output CSV (`index,x0,…,energy` with energy = U = −ln π + const; `-` for stdout).
    #[arg(long)]
    pub out: String,
}

fn parse_global_arg(s: &str) -> Result<GlobalMove, String> {
    parse_global(s).map_err(|e| e.to_string())
}

/// Run `emberflow sample`.
pub fn run_sample(args: &SampleArgs) -> Result<()> {
    let model = ModelFile::read(&args.model)?;
    let settings = args.sampling.settings()?;
    let sampled = sample_model(&model, &settings)?;
    write_atomically_to(&args.out, |w| {
        write_samples_csv(w, model.dim, &sampled.samples)
    })?;
    let (accepted, proposed, g_accepted, g_proposed) =
        sampled
            .chains
            .iter()
            .fold((0, 0, 0, 0), |(a, p, ga, gp), c| {
                (
                    a + c.local_accepted,
                    p + c.local_proposed,
                    ga + c.global_accepted,
                    gp + c.global_proposed,
                )
            });
    eprintln!(
        "{} samples from {} chains (d = {}); MALA acceptance {accepted}/{proposed}, global \
         moves accepted {g_accepted}/{g_proposed}; written to {}",
        sampled.samples.len(),
        sampled.chains.len(),
        model.dim,
        args.out
    );
    Ok(())
}

/// Run `emberflow energy`.
pub fn run_energy(args: &EnergyArgs) -> Result<()> {
    let model = ModelFile::read(&args.model)?;
    let points = read_points_csv(&args.data, model.dim)?;
    let energies = score_model(&model, &points)?;
    let scores: Vec<Score> = points
        .into_iter()
        .zip(energies)
        .enumerate()
        .map(|(k, (x, energy))| Score {
            index: k as u32,
            x,
            energy,
        })
        .collect();
    write_atomically_to(&args.out, |w| write_energies_csv(w, model.dim, &scores))?;
    eprintln!(
        "{} points scored (d = {}); energy = U = -ln pi + const in model space; as a density \
         over data units, -ln p(y) = U + ln Z + {:.6} (the normalisation's log-Jacobian); \
         written to {}",
        scores.len(),
        model.dim,
        model.log_jacobian,
        args.out
    );
    Ok(())
}

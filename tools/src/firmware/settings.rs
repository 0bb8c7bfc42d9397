//! The sampling settings on the host: what `emberflow sample` and `emberflow firmware run`
//! accept, turned into the shared protocol's [`Run`] and [`Overrides`] (host) or the firmware's
//! `EMBERFLOW_*` build variables ([`SampleSettings::env`]).

use anyhow::{Result, anyhow, bail};
use emberflow_core::GlobalMove;
use emberflow_core::mcmc::run::{self, Adapt, Overrides, Protocol, Run};
use emberflow_core::model::SamplerSpec;

/// Seed, chains, samples, warm-up, and the sampler settings that replace the model's (`None`
/// keeps the model's). The defaults equal the firmware's.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleSettings {
    /// Sampling seed; chain `c` draws from `Xoshiro128PlusPlus::stream(seed, c)`.
    pub seed: u64,
    /// Number of chains (≥ 1).
    pub chains: u16,
    /// Samples per chain, one per sweep (≥ 1).
    pub n: u32,
    /// Adapting warm-up sweeps per chain (not recorded).
    pub warmup: u32,
    /// The global move.
    pub global: Option<GlobalMove>,
    /// MALA steps per round.
    pub mala_steps: Option<u16>,
    /// Rounds per sweep.
    pub rounds: Option<u16>,
    /// Initial MALA step size.
    pub step_size: Option<f32>,
    /// Warm-up adaptation.
    pub adapt: Option<Adapt>,
}

impl Default for SampleSettings {
    fn default() -> Self {
        Self {
            seed: 0,
            chains: 4,
            n: 100,
            warmup: 20,
            global: None,
            mala_steps: None,
            rounds: None,
            step_size: None,
            adapt: None,
        }
    }
}

impl SampleSettings {
    /// Seed, chains, samples, warm-up.
    pub fn run(&self) -> Run {
        Run {
            seed: self.seed,
            chains: self.chains,
            n: self.n,
            warmup: self.warmup,
        }
    }

    /// What replaces the model's sampler settings.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            global: self.global,
            mala_steps: self.mala_steps,
            rounds: self.rounds,
            step_size: self.step_size,
            adapt: self.adapt,
        }
    }

    /// The settings in force with a model whose sampler settings are `spec`; fails with what
    /// the firmware would reject at start-up.
    pub fn protocol(&self, spec: &SamplerSpec) -> Result<Protocol> {
        if self.chains == 0 || self.n == 0 {
            bail!("the number of chains and of samples per chain must be at least 1");
        }
        if self.rounds == Some(0) {
            bail!("a sweep needs at least one round");
        }
        if let Some(eta) = self.step_size
            && !(eta.is_finite() && eta > 0.0)
        {
            bail!("the step size must be finite and positive");
        }
        if let Some(Adapt::Target(t)) = self.adapt
            && !(t > 0.0 && t < 1.0)
        {
            bail!("the target acceptance must be in (0, 1)");
        }
        Protocol::new(spec, &self.overrides(), self.run()).map_err(|e| {
            anyhow!(
                "invalid sampler settings (the model's, with the options given): {e}; a sweep \
                 needs a global move or at least one MALA step, i-SIR at least 2 particles"
            )
        })
    }

    /// The `EMBERFLOW_*` build variables that make the firmware run these settings (the model
    /// file itself is `EMBERFLOW_MODEL`, added by the build). Floats are written in Rust's
    /// shortest round-trip form, so the firmware's build script gets the same bits.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("EMBERFLOW_SEED", self.seed.to_string()),
            ("EMBERFLOW_CHAINS", self.chains.to_string()),
            ("EMBERFLOW_N", self.n.to_string()),
            ("EMBERFLOW_WARMUP", self.warmup.to_string()),
        ];
        if let Some(g) = self.global {
            env.push(("EMBERFLOW_GLOBAL", global_name(g)));
        }
        if let Some(k) = self.mala_steps {
            env.push(("EMBERFLOW_MALA_STEPS", k.to_string()));
        }
        if let Some(r) = self.rounds {
            env.push(("EMBERFLOW_ROUNDS", r.to_string()));
        }
        if let Some(eta) = self.step_size {
            env.push(("EMBERFLOW_STEP_SIZE", format!("{eta}")));
        }
        if let Some(a) = self.adapt {
            env.push(("EMBERFLOW_ADAPT", a.to_string()));
        }
        env
    }
}

/// `none`, `imh` or `isir:N` (the protocol's text form, `GlobalMove`'s `Display`).
pub fn global_name(g: GlobalMove) -> String {
    g.to_string()
}

/// Parse `none`, `imh`, `isir` (64 particles) or `isir:N`: the protocol's grammar
/// (`emberflow_core::mcmc::run::parse_global`), as the firmware does.
pub fn parse_global(s: &str) -> Result<GlobalMove> {
    run::parse_global(s.trim())
        .map_err(|_| anyhow!("expected `none`, `imh`, `isir` or `isir:N` (N >= 2), got `{s}`"))
}

/// Parse `off`, `on`, `optimal` or a target acceptance in (0, 1): the protocol's grammar
/// (`emberflow_core::mcmc::run::parse_adapt`), as the firmware does.
pub fn parse_adapt(s: &str) -> Result<Adapt> {
    let t = s.trim();
    run::parse_adapt(t, t.parse::<f32>().ok()).map_err(|_| {
        anyhow!("expected `off`, `on`, `optimal` or a target acceptance in (0, 1), got `{s}`")
    })
}

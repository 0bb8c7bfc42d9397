//! The sampling configuration, mirrored from `firmware/src/config.rs`.

use anyhow::{Result, bail};
use emberflow_core::{Adaptation, FlowMcConfig, GlobalMove, Schedule};

/// What the `sample` program runs (defaults equal the firmware's).
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
    /// Seed of the demo models (`emberflow_core::testing`).
    pub model_seed: u64,
    /// The global move opening each round.
    pub global: GlobalMove,
    /// MALA steps per round.
    pub mala_steps: u16,
    /// Rounds per sweep (≥ 1).
    pub rounds: u16,
    /// Initial MALA step size.
    pub step_size: f32,
    /// Target acceptance of the warm-up adaptation (`None`: no adaptation).
    pub adapt_target: Option<f32>,
}

impl Default for SampleSettings {
    fn default() -> Self {
        Self {
            seed: 0,
            chains: 4,
            n: 100,
            warmup: 20,
            model_seed: 1,
            global: GlobalMove::Isir { particles: 64 },
            mala_steps: 15,
            rounds: 2,
            step_size: 0.1,
            adapt_target: Some(Adaptation::default().target),
        }
    }
}

impl SampleSettings {
    /// The schedule of one sweep.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            global: self.global,
            mala_steps: self.mala_steps,
            rounds: self.rounds,
        }
    }

    /// The kernel settings of the warm-up sweeps.
    pub fn warmup_kernel(&self) -> FlowMcConfig {
        FlowMcConfig {
            schedule: self.schedule(),
            adaptation: self.adapt_target.map(|target| Adaptation {
                target,
                ..Adaptation::default()
            }),
        }
    }

    /// The kernel settings of the recorded sweeps (adaptation frozen).
    pub fn sampling_kernel(&self) -> FlowMcConfig {
        FlowMcConfig {
            schedule: self.schedule(),
            adaptation: None,
        }
    }

    /// Reject what the firmware would reject at start-up.
    pub fn validate(&self) -> Result<()> {
        if self.chains == 0 || self.n == 0 || self.rounds == 0 {
            bail!("chains, samples per chain and rounds must be at least 1");
        }
        if self.global == GlobalMove::None && self.mala_steps == 0 {
            bail!("a sweep without a global move needs at least one MALA step");
        }
        if !(self.step_size.is_finite() && self.step_size > 0.0) {
            bail!("the step size must be finite and positive");
        }
        if let Some(t) = self.adapt_target
            && !(t > 0.0 && t < 1.0)
        {
            bail!("the target acceptance must be in (0, 1)");
        }
        self.warmup_kernel()
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid kernel settings: {e}"))
    }

    /// The `EMBERFLOW_*` build variables that make the firmware run these settings. Floats are
    /// written in Rust's shortest round-trip form, so the firmware parses the same bits.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let global = match self.global {
            GlobalMove::None => "none".to_string(),
            GlobalMove::Imh => "imh".to_string(),
            GlobalMove::Isir { particles } => format!("isir:{particles}"),
        };
        vec![
            ("EMBERFLOW_SEED", self.seed.to_string()),
            ("EMBERFLOW_CHAINS", self.chains.to_string()),
            ("EMBERFLOW_N", self.n.to_string()),
            ("EMBERFLOW_WARMUP", self.warmup.to_string()),
            ("EMBERFLOW_MODEL_SEED", self.model_seed.to_string()),
            ("EMBERFLOW_GLOBAL", global),
            ("EMBERFLOW_MALA_STEPS", self.mala_steps.to_string()),
            ("EMBERFLOW_ROUNDS", self.rounds.to_string()),
            ("EMBERFLOW_STEP_SIZE", format!("{}", self.step_size)),
            (
                "EMBERFLOW_ADAPT",
                self.adapt_target
                    .map_or_else(|| "off".to_string(), |t| format!("{t}")),
            ),
        ]
    }
}

/// Parse `none`, `imh`, `isir` or `isir:N`, as the firmware does.
pub fn parse_global(s: &str) -> Result<GlobalMove> {
    Ok(match s.trim() {
        "none" => GlobalMove::None,
        "imh" => GlobalMove::Imh,
        "isir" => GlobalMove::Isir { particles: 64 },
        t => match t.strip_prefix("isir:").map(str::parse::<u16>) {
            Some(Ok(particles)) if particles >= 2 => GlobalMove::Isir { particles },
            _ => bail!("expected `none`, `imh`, `isir` or `isir:N` (N >= 2), got `{s}`"),
        },
    })
}

//! The build-time configuration: `EMBERFLOW_*` environment variables read with `option_env!`
//! when a program is compiled, parsed and checked at start-up.
//!
//! The model file itself is chosen with `EMBERFLOW_MODEL` (see [`crate::model`]). The schedule,
//! step size and adaptation come from the model's sampler settings; each variable below that is
//! set replaces the model's value ([`Overrides`]).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `EMBERFLOW_SEED` | sampling seed; chain `c` uses `Xoshiro128PlusPlus::stream(seed, c)` | `0` |
//! | `EMBERFLOW_CHAINS` | number of chains, 1..=65535 | `4` |
//! | `EMBERFLOW_N` | samples per chain (one per sweep), ≥ 1 | `100` |
//! | `EMBERFLOW_WARMUP` | adapting sweeps before sampling (not recorded) | `20` |
//! | `EMBERFLOW_GLOBAL` | global move: `none`, `imh`, `isir` (64 particles) or `isir:N` | the model's |
//! | `EMBERFLOW_MALA_STEPS` | MALA steps per round `K` | the model's |
//! | `EMBERFLOW_ROUNDS` | rounds per sweep `R` | the model's |
//! | `EMBERFLOW_STEP_SIZE` | initial MALA step size η | the model's |
//! | `EMBERFLOW_ADAPT` | warm-up adaptation: `off`, `on` (the model's rule, else target 0.75), `optimal` (0.574) or a target in (0, 1) | the model's |
//!
//! The sampling protocol these drive is [`crate::protocol`]. Values are checked at start-up,
//! so a bad one stops the program with a clear error and [`crate::EXIT_CONFIG`] instead of
//! failing the build.

use crate::protocol::{Adapt, Overrides, Run};
use emberflow_core::GlobalMove;

/// The raw strings, as captured by [`build_config!`](crate::build_config).
#[derive(Clone, Copy, Debug, Default)]
pub struct RawConfig {
    /// `EMBERFLOW_SEED`.
    pub seed: Option<&'static str>,
    /// `EMBERFLOW_CHAINS`.
    pub chains: Option<&'static str>,
    /// `EMBERFLOW_N`.
    pub n: Option<&'static str>,
    /// `EMBERFLOW_WARMUP`.
    pub warmup: Option<&'static str>,
    /// `EMBERFLOW_GLOBAL`.
    pub global: Option<&'static str>,
    /// `EMBERFLOW_MALA_STEPS`.
    pub mala_steps: Option<&'static str>,
    /// `EMBERFLOW_ROUNDS`.
    pub rounds: Option<&'static str>,
    /// `EMBERFLOW_STEP_SIZE`.
    pub step_size: Option<&'static str>,
    /// Its f32 bits, when it parses (set by `build.rs`).
    pub step_size_bits: Option<&'static str>,
    /// `EMBERFLOW_ADAPT`.
    pub adapt: Option<&'static str>,
    /// Its f32 bits, when it is a number (set by `build.rs`).
    pub adapt_bits: Option<&'static str>,
}

/// Capture the `EMBERFLOW_*` variables of the build into a [`RawConfig`].
///
/// A macro, so that `option_env!` is expanded in the program being built (only that program
/// is recompiled when a variable changes).
#[macro_export]
macro_rules! build_config {
    () => {
        $crate::config::RawConfig {
            seed: option_env!("EMBERFLOW_SEED"),
            chains: option_env!("EMBERFLOW_CHAINS"),
            n: option_env!("EMBERFLOW_N"),
            warmup: option_env!("EMBERFLOW_WARMUP"),
            global: option_env!("EMBERFLOW_GLOBAL"),
            mala_steps: option_env!("EMBERFLOW_MALA_STEPS"),
            rounds: option_env!("EMBERFLOW_ROUNDS"),
            step_size: option_env!("EMBERFLOW_STEP_SIZE"),
            step_size_bits: option_env!("EMBERFLOW_STEP_SIZE_BITS"),
            adapt: option_env!("EMBERFLOW_ADAPT"),
            adapt_bits: option_env!("EMBERFLOW_ADAPT_BITS"),
        }
    };
}

/// A rejected variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable's name.
    pub var: &'static str,
    /// Its value.
    pub value: &'static str,
    /// What was expected.
    pub expected: &'static str,
}

impl defmt::Format for ConfigError {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(
            f,
            "{=str}=\"{=str}\": expected {=str}",
            self.var,
            self.value,
            self.expected
        )
    }
}

/// The checked settings of the `sample` program.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleConfig {
    /// Seed, chains, samples, warm-up.
    pub run: Run,
    /// What replaces the model's sampler settings.
    pub overrides: Overrides,
}

fn err(var: &'static str, value: &'static str, expected: &'static str) -> ConfigError {
    ConfigError {
        var,
        value,
        expected,
    }
}

fn int<T: core::str::FromStr>(
    var: &'static str,
    raw: Option<&'static str>,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match raw {
        None => Ok(default),
        Some(s) => s.trim().parse().map_err(|_| err(var, s, expected)),
    }
}

fn nonzero<T: Default + PartialEq>(
    var: &'static str,
    value: T,
    raw: Option<&'static str>,
    expected: &'static str,
) -> Result<T, ConfigError> {
    if value == T::default() {
        Err(err(var, raw.unwrap_or(""), expected))
    } else {
        Ok(value)
    }
}

/// Parse `none`, `imh`, `isir` or `isir:N` (N ≥ 2).
pub fn parse_global(s: &'static str) -> Result<GlobalMove, ConfigError> {
    const EXPECTED: &str = "`none`, `imh`, `isir` or `isir:N` with 2 <= N <= 65535";
    let t = s.trim();
    match t {
        "none" => Ok(GlobalMove::None),
        "imh" => Ok(GlobalMove::Imh),
        "isir" => Ok(GlobalMove::Isir { particles: 64 }),
        _ => match t.strip_prefix("isir:").map(|n| n.parse::<u16>()) {
            Some(Ok(particles)) if particles >= 2 => Ok(GlobalMove::Isir { particles }),
            _ => Err(err("EMBERFLOW_GLOBAL", s, EXPECTED)),
        },
    }
}

/// An f32 from the bits `build.rs` derived from a decimal value (no float parsing here).
pub fn float_bits(bits: Option<&'static str>) -> Option<f32> {
    bits.and_then(|b| b.parse::<u32>().ok()).map(f32::from_bits)
}

/// Parse `off`, `on`, `optimal` or a target acceptance in (0, 1) (given as its f32 `bits`).
pub fn parse_adapt(s: &'static str, bits: Option<&'static str>) -> Result<Adapt, ConfigError> {
    const EXPECTED: &str = "`off`, `on`, `optimal` or a target acceptance in (0, 1)";
    match s.trim() {
        "off" | "none" => Ok(Adapt::Off),
        "on" | "default" => Ok(Adapt::On),
        "optimal" => Ok(Adapt::Target(
            emberflow_core::Adaptation::optimal_mala().target,
        )),
        _ => match float_bits(bits) {
            Some(target) if target > 0.0 && target < 1.0 => Ok(Adapt::Target(target)),
            _ => Err(err("EMBERFLOW_ADAPT", s, EXPECTED)),
        },
    }
}

fn optional<T: core::str::FromStr>(
    var: &'static str,
    raw: Option<&'static str>,
    expected: &'static str,
) -> Result<Option<T>, ConfigError> {
    raw.map(|s| s.trim().parse().map_err(|_| err(var, s, expected)))
        .transpose()
}

impl RawConfig {
    /// Check and convert every variable (defaults in the [module table](self)).
    pub fn sample(&self) -> Result<SampleConfig, ConfigError> {
        let seed = int("EMBERFLOW_SEED", self.seed, 0u64, "an integer in 0..2^64")?;
        const CHAINS: &str = "an integer in 1..=65535";
        let chains = int("EMBERFLOW_CHAINS", self.chains, 4u16, CHAINS)?;
        let chains = nonzero("EMBERFLOW_CHAINS", chains, self.chains, CHAINS)?;
        const N: &str = "an integer in 1..2^32";
        let n = int("EMBERFLOW_N", self.n, 100u32, N)?;
        let n = nonzero("EMBERFLOW_N", n, self.n, N)?;
        let warmup = int(
            "EMBERFLOW_WARMUP",
            self.warmup,
            20u32,
            "an integer in 0..2^32",
        )?;
        let global = self.global.map(parse_global).transpose()?;
        let mala_steps = optional(
            "EMBERFLOW_MALA_STEPS",
            self.mala_steps,
            "an integer in 0..=65535",
        )?;
        const ROUNDS: &str = "an integer in 1..=65535";
        let rounds = optional("EMBERFLOW_ROUNDS", self.rounds, ROUNDS)?;
        if rounds == Some(0) {
            return Err(err("EMBERFLOW_ROUNDS", self.rounds.unwrap_or(""), ROUNDS));
        }
        if global == Some(GlobalMove::None) && mala_steps == Some(0) {
            return Err(err(
                "EMBERFLOW_MALA_STEPS",
                self.mala_steps.unwrap_or("0"),
                "at least 1 MALA step when EMBERFLOW_GLOBAL=none",
            ));
        }
        const STEP: &str = "a finite step size > 0";
        let step_size = match self.step_size {
            None => None,
            Some(raw) => match float_bits(self.step_size_bits) {
                Some(eta) if eta.is_finite() && eta > 0.0 => Some(eta),
                _ => return Err(err("EMBERFLOW_STEP_SIZE", raw, STEP)),
            },
        };
        let adapt = self
            .adapt
            .map(|s| parse_adapt(s, self.adapt_bits))
            .transpose()?;
        Ok(SampleConfig {
            run: Run {
                seed,
                chains,
                n,
                warmup,
            },
            overrides: Overrides {
                global,
                mala_steps,
                rounds,
                step_size,
                adapt,
            },
        })
    }
}

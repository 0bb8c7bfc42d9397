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
//! The sampling protocol these drive is [`emberflow_core::mcmc::run`], which also defines the
//! text form of the global move and the adaptation ([`parse_global`], [`parse_adapt`]).
//! [`RawConfig::sample`] is a `const fn`: the program evaluates it when it is compiled
//! (`const`), so no parsing code reaches the MCU's flash, and reports a bad value at start-up —
//! a clear error and [`crate::EXIT_CONFIG`] instead of a failed build. Surrounding ASCII white
//! space is ignored.

use emberflow_core::GlobalMove;
use emberflow_core::mcmc::run::{Adapt, Overrides, Run, parse_adapt, parse_decimal, parse_global};

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
    /// `EMBERFLOW_GLOBAL`.
    pub global: Option<GlobalMove>,
    /// `EMBERFLOW_MALA_STEPS`.
    pub mala_steps: Option<u16>,
    /// `EMBERFLOW_ROUNDS`.
    pub rounds: Option<u16>,
    /// `EMBERFLOW_STEP_SIZE`.
    pub step_size: Option<f32>,
    /// `EMBERFLOW_ADAPT`.
    pub adapt: Option<Adapt>,
}

impl SampleConfig {
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
}

const fn err(var: &'static str, value: &'static str, expected: &'static str) -> ConfigError {
    ConfigError {
        var,
        value,
        expected,
    }
}

/// The integer variable `var` (at most `max`), or `default` when it is not set.
const fn int(
    var: &'static str,
    raw: Option<&'static str>,
    default: u64,
    max: u64,
    expected: &'static str,
) -> Result<u64, ConfigError> {
    match raw {
        None => Ok(default),
        Some(s) => match parse_decimal(s, max) {
            Some(v) => Ok(v),
            None => Err(err(var, s, expected)),
        },
    }
}

/// The integer variable `var` (at most `max`), if it is set.
const fn optional(
    var: &'static str,
    raw: Option<&'static str>,
    max: u64,
    expected: &'static str,
) -> Result<Option<u64>, ConfigError> {
    match raw {
        None => Ok(None),
        Some(s) => match parse_decimal(s, max) {
            Some(v) => Ok(Some(v)),
            None => Err(err(var, s, expected)),
        },
    }
}

/// `EMBERFLOW_GLOBAL`: [`parse_global`]'s grammar.
const fn global(s: &'static str) -> Result<GlobalMove, ConfigError> {
    const EXPECTED: &str = "`none`, `imh`, `isir` or `isir:N` with 2 <= N <= 65535";
    match parse_global(s) {
        Ok(g) => Ok(g),
        Err(_) => Err(err("EMBERFLOW_GLOBAL", s, EXPECTED)),
    }
}

/// An f32 from the bits `build.rs` derived from a decimal value (no float parsing here).
pub const fn float_bits(bits: Option<&'static str>) -> Option<f32> {
    match bits {
        Some(b) => match parse_decimal(b, u32::MAX as u64) {
            Some(v) => Some(f32::from_bits(v as u32)),
            None => None,
        },
        None => None,
    }
}

/// `EMBERFLOW_ADAPT`: [`parse_adapt`]'s grammar, a number given as its f32 `bits`.
const fn adapt(s: &'static str, bits: Option<&'static str>) -> Result<Adapt, ConfigError> {
    const EXPECTED: &str = "`off`, `on`, `optimal` or a target acceptance in (0, 1)";
    match parse_adapt(s, float_bits(bits)) {
        Ok(a) => Ok(a),
        Err(_) => Err(err("EMBERFLOW_ADAPT", s, EXPECTED)),
    }
}

/// `Ok(v)` of a `Result` in a `const fn` (where `?` is not available).
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Err(e),
        }
    };
}

impl RawConfig {
    /// Check and convert every variable (defaults in the [module table](self)). A `const fn`,
    /// so a program evaluates it at compile time.
    pub const fn sample(&self) -> Result<SampleConfig, ConfigError> {
        const U64: &str = "an integer in 0..2^64";
        let seed = tri!(int("EMBERFLOW_SEED", self.seed, 0, u64::MAX, U64));
        const CHAINS: &str = "an integer in 1..=65535";
        let chains = tri!(int(
            "EMBERFLOW_CHAINS",
            self.chains,
            4,
            u16::MAX as u64,
            CHAINS
        ));
        if chains == 0 {
            return Err(err("EMBERFLOW_CHAINS", unwrap_str(self.chains), CHAINS));
        }
        const N: &str = "an integer in 1..2^32";
        let n = tri!(int("EMBERFLOW_N", self.n, 100, u32::MAX as u64, N));
        if n == 0 {
            return Err(err("EMBERFLOW_N", unwrap_str(self.n), N));
        }
        const WARMUP: &str = "an integer in 0..2^32";
        let warmup = tri!(int(
            "EMBERFLOW_WARMUP",
            self.warmup,
            20,
            u32::MAX as u64,
            WARMUP
        ));
        let global = match self.global {
            Some(s) => Some(tri!(global(s))),
            None => None,
        };
        const STEPS: &str = "an integer in 0..=65535";
        let mala_steps = tri!(optional(
            "EMBERFLOW_MALA_STEPS",
            self.mala_steps,
            u16::MAX as u64,
            STEPS
        ));
        const ROUNDS: &str = "an integer in 1..=65535";
        let rounds = tri!(optional(
            "EMBERFLOW_ROUNDS",
            self.rounds,
            u16::MAX as u64,
            ROUNDS
        ));
        if let Some(0) = rounds {
            return Err(err("EMBERFLOW_ROUNDS", unwrap_str(self.rounds), ROUNDS));
        }
        if matches!(global, Some(GlobalMove::None)) && matches!(mala_steps, Some(0)) {
            return Err(err(
                "EMBERFLOW_MALA_STEPS",
                match self.mala_steps {
                    Some(s) => s,
                    None => "0",
                },
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
        let adapt = match self.adapt {
            Some(s) => Some(tri!(adapt(s, self.adapt_bits))),
            None => None,
        };
        Ok(SampleConfig {
            run: Run {
                seed,
                chains: chains as u16,
                n: n as u32,
                warmup: warmup as u32,
            },
            global,
            mala_steps: match mala_steps {
                Some(k) => Some(k as u16),
                None => None,
            },
            rounds: match rounds {
                Some(r) => Some(r as u16),
                None => None,
            },
            step_size,
            adapt,
        })
    }
}

/// The value of a variable that is set (`""` otherwise).
const fn unwrap_str(raw: Option<&'static str>) -> &'static str {
    match raw {
        Some(s) => s,
        None => "",
    }
}

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
//! The sampling protocol these drive is [`crate::protocol`]. [`RawConfig::sample`] is a
//! `const fn`: the program evaluates it when it is compiled (`const`), so no parsing code
//! reaches the MCU's flash, and reports a bad value at start-up — a clear error and
//! [`crate::EXIT_CONFIG`] instead of a failed build. Surrounding ASCII white space is ignored.

use crate::protocol::{Adapt, Overrides, Run};
use emberflow_core::{Adaptation, GlobalMove};

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
    pub adapt: Option<AdaptSetting>,
}

/// A value of `EMBERFLOW_ADAPT`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AdaptSetting {
    /// `off` (or `none`).
    Off,
    /// `on` (or `default`).
    On,
    /// `optimal`: the target acceptance of [`Adaptation::optimal_mala`].
    Optimal,
    /// A target acceptance in (0, 1).
    Target(f32),
}

impl AdaptSetting {
    /// The protocol's setting.
    pub fn adapt(self) -> Adapt {
        match self {
            AdaptSetting::Off => Adapt::Off,
            AdaptSetting::On => Adapt::On,
            AdaptSetting::Optimal => Adapt::Target(Adaptation::optimal_mala().target),
            AdaptSetting::Target(t) => Adapt::Target(t),
        }
    }
}

impl SampleConfig {
    /// What replaces the model's sampler settings.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            global: self.global,
            mala_steps: self.mala_steps,
            rounds: self.rounds,
            step_size: self.step_size,
            adapt: self.adapt.map(AdaptSetting::adapt),
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

/// `s` without surrounding ASCII white space.
const fn trimmed(s: &str) -> &[u8] {
    s.as_bytes().trim_ascii()
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A decimal integer at most `max` (an optional `+`, then digits).
const fn decimal(b: &[u8], max: u64) -> Option<u64> {
    let digits = match b {
        [b'+', rest @ ..] => rest,
        _ => b,
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    let mut i = 0;
    while i < digits.len() {
        let d = digits[i];
        if !d.is_ascii_digit() {
            return None;
        }
        v = match v.checked_mul(10) {
            Some(v) => match v.checked_add((d - b'0') as u64) {
                Some(v) => v,
                None => return None,
            },
            None => return None,
        };
        i += 1;
    }
    if v > max { None } else { Some(v) }
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
        Some(s) => match decimal(trimmed(s), max) {
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
        Some(s) => match decimal(trimmed(s), max) {
            Some(v) => Ok(Some(v)),
            None => Err(err(var, s, expected)),
        },
    }
}

/// Parse `none`, `imh`, `isir` or `isir:N` (N ≥ 2).
pub const fn parse_global(s: &'static str) -> Result<GlobalMove, ConfigError> {
    const EXPECTED: &str = "`none`, `imh`, `isir` or `isir:N` with 2 <= N <= 65535";
    let t = trimmed(s);
    if same(t, b"none") {
        Ok(GlobalMove::None)
    } else if same(t, b"imh") {
        Ok(GlobalMove::Imh)
    } else if same(t, b"isir") {
        Ok(GlobalMove::Isir { particles: 64 })
    } else {
        match t {
            [b'i', b's', b'i', b'r', b':', n @ ..] => match decimal(n, u16::MAX as u64) {
                Some(particles) if particles >= 2 => Ok(GlobalMove::Isir {
                    particles: particles as u16,
                }),
                _ => Err(err("EMBERFLOW_GLOBAL", s, EXPECTED)),
            },
            _ => Err(err("EMBERFLOW_GLOBAL", s, EXPECTED)),
        }
    }
}

/// An f32 from the bits `build.rs` derived from a decimal value (no float parsing here).
pub const fn float_bits(bits: Option<&'static str>) -> Option<f32> {
    match bits {
        Some(b) => match decimal(trimmed(b), u32::MAX as u64) {
            Some(v) => Some(f32::from_bits(v as u32)),
            None => None,
        },
        None => None,
    }
}

/// Parse `off`, `on`, `optimal` or a target acceptance in (0, 1) (given as its f32 `bits`).
pub const fn parse_adapt(
    s: &'static str,
    bits: Option<&'static str>,
) -> Result<AdaptSetting, ConfigError> {
    const EXPECTED: &str = "`off`, `on`, `optimal` or a target acceptance in (0, 1)";
    let t = trimmed(s);
    if same(t, b"off") || same(t, b"none") {
        Ok(AdaptSetting::Off)
    } else if same(t, b"on") || same(t, b"default") {
        Ok(AdaptSetting::On)
    } else if same(t, b"optimal") {
        Ok(AdaptSetting::Optimal)
    } else {
        match float_bits(bits) {
            Some(target) if target > 0.0 && target < 1.0 => Ok(AdaptSetting::Target(target)),
            _ => Err(err("EMBERFLOW_ADAPT", s, EXPECTED)),
        }
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
            Some(s) => Some(tri!(parse_global(s))),
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
            Some(s) => Some(tri!(parse_adapt(s, self.adapt_bits))),
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

//! What a model file records besides its networks: the trainer's data normalisation, the
//! sampler settings it ended with, training metadata and the quantisation error statistics
//! measured at export.

use super::lists::{Bounded, F32s};
use crate::error::Error;
use crate::mcmc::{Adaptation, FlowMcConfig, GlobalMove, Schedule};
use serde::{Deserialize, Serialize};

/// Most training metrics a model file may record.
pub const MAX_METRICS: usize = 8;

/// The metric holding the model's anomaly threshold: a point whose energy `U` (model space,
/// what the scoring protocol returns) is above it is flagged as an anomaly.
pub const ANOMALY_THRESHOLD: &str = "anomaly_threshold";

/// The metric holding the quantile of the held-out energies that [`ANOMALY_THRESHOLD`] is.
pub const ANOMALY_QUANTILE: &str = "anomaly_quantile";

/// Whether the energy `u` flags an anomaly under the threshold `threshold`: `u > threshold`,
/// and a non-finite `u` too (the model cannot vouch for the point). The one rule of
/// `emberflow energy` and the firmware's `energy` program.
pub fn is_anomaly(u: f32, threshold: f32) -> bool {
    !matches!(
        u.partial_cmp(&threshold),
        Some(core::cmp::Ordering::Less | core::cmp::Ordering::Equal)
    )
}

/// The trainer's data normalisation: `x_data = shift + scale ⊙ x_model`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalization<'a> {
    /// Per-dimension shift.
    pub shift: F32s<'a>,
    /// Per-dimension scale (positive).
    pub scale: F32s<'a>,
}

impl Normalization<'_> {
    /// Map a model-space point to data space in place.
    pub fn to_data(&self, x: &mut [f32]) {
        for ((xi, m), s) in x.iter_mut().zip(self.shift.iter()).zip(self.scale.iter()) {
            *xi = m + s * *xi;
        }
    }

    /// Map a data-space point to model space in place.
    pub fn from_data(&self, x: &mut [f32]) {
        for ((xi, m), s) in x.iter_mut().zip(self.shift.iter()).zip(self.scale.iter()) {
            *xi = (*xi - m) / s;
        }
    }
}

/// The sampler settings the trainer ended with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplerSpec {
    /// MALA step size η.
    pub step_size: f32,
    /// The global move (i-SIR carries its particle count `N`).
    pub global: GlobalMove,
    /// MALA steps per round `K`.
    pub mala_steps: u16,
    /// Rounds per sweep `R`.
    pub rounds: u16,
    /// Persistent chains the trainer ran.
    pub chains: u32,
    /// Step-size adaptation, if it was on.
    pub adaptation: Option<Adaptation>,
}

impl SamplerSpec {
    /// The settings of `config` with step size `step_size` and `chains` chains.
    pub fn new(config: &FlowMcConfig, step_size: f32, chains: u32) -> Self {
        Self {
            step_size,
            global: config.schedule.global,
            mala_steps: config.schedule.mala_steps,
            rounds: config.schedule.rounds,
            chains,
            adaptation: config.adaptation,
        }
    }

    /// The FlowMC configuration.
    pub fn config(&self) -> FlowMcConfig {
        FlowMcConfig {
            schedule: Schedule {
                global: self.global,
                mala_steps: self.mala_steps,
                rounds: self.rounds,
            },
            adaptation: self.adaptation,
        }
    }

    pub(super) fn validate(&self) -> Result<(), Error> {
        let adapt_finite = self.adaptation.is_none_or(|a| {
            [a.target, a.factor, a.tolerance, a.smoothing, a.max_step]
                .iter()
                .all(|v| v.is_finite())
        });
        if !(self.step_size.is_finite() && self.step_size > 0.0 && adapt_finite) {
            return Err(Error::InvalidSetting);
        }
        self.config().validate()
    }
}

/// Training metadata.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Training<'a> {
    /// Data set name.
    pub dataset: &'a str,
    /// Training iterations.
    pub iterations: u64,
    /// Seed of the run.
    pub seed: u64,
    /// Final metrics, `(name, value)`.
    #[serde(borrow)]
    pub metrics: Bounded<(&'a str, f32), MAX_METRICS>,
}

impl Training<'_> {
    /// The value of the metric `name`, if the file records it.
    pub fn metric(&self, name: &str) -> Option<f32> {
        self.metrics
            .as_slice()
            .iter()
            .find(|(k, _)| *k == name)
            .map(|&(_, v)| v)
    }

    /// The model's anomaly threshold on `U` ([`ANOMALY_THRESHOLD`]), if it carries one.
    pub fn anomaly_threshold(&self) -> Option<f32> {
        self.metric(ANOMALY_THRESHOLD)
    }
}

/// Model-level quantisation errors measured at export (quantised against f32 on probe points).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelErrors {
    /// Probe points.
    pub points: u32,
    /// Largest `|U_q − U_f32|` of the tilted energy.
    pub energy_max_abs: f32,
    /// RMS of `U_q − U_f32`.
    pub energy_rms: f32,
    /// Largest `|ln λ_q − ln λ_f32|` of the flow density.
    pub log_density_max_abs: f32,
    /// RMS of `ln λ_q − ln λ_f32`.
    pub log_density_rms: f32,
}

/// Quantisation error statistics recorded at export (all zero for an f32 file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuantStats {
    /// Quantised weights.
    pub quantized_weights: u64,
    /// Largest `|s·q − w|`.
    pub max_abs_error: f32,
    /// RMS of `s·q − w`.
    pub rms_error: f32,
    /// Largest `|s·q − w| / s` (at most ½).
    pub max_error_over_scale: f32,
    /// Errors of the model's outputs, if the exporter measured them.
    pub model: Option<ModelErrors>,
}

impl QuantStats {
    pub(super) fn all_finite(&self) -> bool {
        let base = [
            self.max_abs_error,
            self.rms_error,
            self.max_error_over_scale,
        ];
        let model = self.model.map_or([0.0; 4], |m| {
            [
                m.energy_max_abs,
                m.energy_rms,
                m.log_density_max_abs,
                m.log_density_rms,
            ]
        });
        base.iter().chain(model.iter()).all(|v| v.is_finite())
    }
}

//! # emberflow-train
//!
//! Joint training of a tilted EBM and its RealNVP flow (flowMC-EBM, Grenioux, Moulines & Gabrié
//! 2023) with candle on the CPU, negatives drawn by emberflow-core's FlowMC kernel.
//!
//! * [`mod@train`] — Algorithm 1 ([`train()`]) and the baselines ([`Method`]).
//! * [`nets`] — the energy and flow in candle, shaped and ordered as core's models.
//! * [`params`] — the one mapping between candle parameters and core models.
//! * [`sampler`] — the persistent bank run by the core kernel in parallel threads.
//! * [`adam`] — Adam with exposed state.
//! * [`device`] — CPU, or CUDA behind the `cuda` feature, for the gradient steps.
//! * [`data`] — built-in data sets with their true densities, CSV and digits loaders,
//!   standardisation.
//! * [`metrics`] — mode weights, log-density error, R̂ and ESS (checked against ArviZ).

pub mod adam;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod eval;
pub mod export;
pub mod fs;
pub mod metrics;
pub mod model_file;
pub mod monitor;
pub mod nets;
pub mod params;
pub mod report;
pub mod sampler;
pub mod train;
pub mod trained;

pub use config::{Method, TrainConfig};
pub use train::train;
pub use trained::Trained;

pub use emberflow_core::shapes as models;

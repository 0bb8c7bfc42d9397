//! # emberflow-train
//!
//! Joint training of a tilted EBM and its RealNVP flow (flowMC-EBM, Grenioux, Moulines & Gabrié
//! 2023) with candle on the CPU, negatives drawn by emberflow-core's FlowMC kernel.
//!
//! * [`mod@train`] — Algorithm 1 ([`train()`]) and the baselines ([`Method`]).
//! * [`shape`] — the architecture ([`ModelShape`]): any dimension and widths within core's
//!   run-time limits, the default shape of each dimension.
//! * [`nets`] — the energy and flow in candle, shaped and ordered as core's models.
//! * [`host_model`] — the parameters on the host seen through core's run-time evaluators
//!   ([`HostModel`]), what the sampler runs and the exporter writes.
//! * [`params`] — the candle parameters as host vectors.
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
pub mod host_model;
pub mod metrics;
pub mod model_file;
pub mod monitor;
pub mod nets;
pub mod params;
pub mod report;
pub mod sampler;
pub mod shape;
pub mod train;
pub mod trained;

pub use config::{Method, TrainConfig};
pub use host_model::HostModel;
pub use shape::ModelShape;
pub use train::train;
pub use trained::Trained;

pub use emberflow_core::shapes as models;

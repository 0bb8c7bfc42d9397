//! # emberflow-train
//!
//! Joint training of a tilted EBM and its RealNVP flow (flowMC-EBM). The training loop arrives
//! with its own change; this crate currently re-exports the core model shapes it will train.

pub use emberflow_core::models;

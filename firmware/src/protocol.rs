//! Temporary: the host tools' `#[path]` include of the protocol, now [`emberflow_core::mcmc::run`] (not part of the firmware crate).
pub use emberflow_core::mcmc::run::*;

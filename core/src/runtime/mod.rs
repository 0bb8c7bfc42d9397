//! Networks whose sizes are run-time values, for models whose shape is known only from a file:
//! [`Layer`] (one dense layer over a tensor or over f32 parameters) and [`Mlp`] (a stack of
//! them with one hidden activation) and [`TiltedMlp`] (the tilted energy over one, a
//! [`crate::mcmc::Potential`]) and [`RealNvpFlow`] (a RealNVP flow of [`Coupling`]s, a
//! [`crate::mcmc::Proposal`]), evaluated on caller scratch, no heap. They run the same
//! dense kernels as the typed networks, in the same order, so a run-time shaped network and the
//! typed network of the same shape give the same bits. The samplers over run-time shapes are
//! [`crate::mcmc::Sampler`] and the kernels [`crate::mcmc::mala`], [`crate::mcmc::imh`],
//! [`crate::mcmc::isir`], over [`crate::mcmc::Potential`] and [`crate::mcmc::Proposal`].

mod energy;
mod flow;
mod layer;
mod mlp;
mod model;

pub use energy::TiltedMlp;
pub use flow::{Coupling, RealNvpFlow};
pub use layer::Layer;
pub use mlp::Mlp;
pub use model::{
    FileModel, MAX_CONDITIONER_HIDDEN, MAX_DIM, MAX_ENERGY_HIDDEN, MAX_FLOW_BLOCKS, MAX_WIDTH,
    check_limits,
};

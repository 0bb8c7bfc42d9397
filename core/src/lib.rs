//! # emberflow-core
//!
//! Energy-based models that get their mode weights right, sampled anywhere: the same `no_std`,
//! heap-free code runs inside the trainer, on a desktop and on a Cortex-M4F.
//!
//! The target is a tilted EBM, `ln π(x) = −E_θ(x) + ln ρ(x)` with ρ = N(0, diag σ²). Negatives
//! come from **FlowMC**: persistent chains that mix local MALA steps with global moves proposed
//! by a RealNVP flow (independent MH, or i-SIR with N particles), all exactly MH-corrected.
//!
//! * [`Dense`], [`Act`], [`Chain`] — fixed-size networks composed by type ([`Network`]), with the
//!   input gradient by a hand-written backward pass; [`Mlp1`]…[`Mlp4`] name common shapes.
//! * [`Energy`] — `U(x)` and `∇U(x)`: [`MlpEnergy`], the tilt [`Tilted`], analytic
//!   [`targets`].
//! * [`Flow`] — [`RealNvp`] of [`AffineCoupling`] layers over a [`DiagGaussian`] base.
//! * [`FlowMc`] — the kernel: [`mala_step`], [`imh_step`], [`isir_step`], the schedule
//!   `(1 global + K MALA) × R`, per-chain [`Adaptation`], [`StepStats`].
//! * [`Xoshiro128PlusPlus`] and [`random`] — a portable generator and variates, identical bits
//!   on every platform.
//! * [`shapes`] — the paper's shapes (`Energy2d`, `Flow2d`, …).
//! * [`model`] — the model file (`.efm`): one versioned, checksummed postcard artifact, decoded
//!   zero-copy into [`ModelView`] and weight views in f32, int16 or int8 ([`Encoding`]).
//!
//! All transcendental maths goes through [`math`] (libm); hot paths are total functions writing
//! into caller buffers; errors ([`Error`]) belong to validation only. [`math`] is public on
//! purpose, so that host code computing the same quantities (data generation, checks) gets the
//! same bits; the dense kernels' inner loops are private. The `testing` feature adds
//! `emberflow_core::testing`: seeded models and the kernel self-check, for tests, benchmarks
//! and the firmware's `kernels` program.
//!
//! ```
//! use emberflow_core::shapes::{Energy2d, Flow2d, PaperEnergyNet};
//! use emberflow_core::*;
//!
//! let base = DiagGaussian::isotropic(2.0)?;
//! let energy: Energy2d = Tilted::new(MlpEnergy::new(PaperEnergyNet::<2>::zeroed()), base.clone());
//! let flow = Flow2d::identity(base); // E ≡ 0, T = Id: a perfect match
//! let kernel = FlowMc::new(&energy, &flow, FlowMcConfig::default())?;
//! let mut rng = Xoshiro128PlusPlus::seed_from_u64(7);
//! let mut chain = kernel.chain([0.0, 0.0], 0.01);
//! let mut stats = StepStats::default();
//! kernel.sweep(&mut chain, &mut rng, &mut stats); // (1 i-SIR(64) + 15 MALA) × 2
//! assert_eq!((stats.global_proposed, stats.local_proposed), (2, 30));
//! # Ok::<(), emberflow_core::Error>(())
//! ```

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)] // allowed in one module only: the VFP assembly kernels (`kernels::vfp`)
#![warn(missing_docs)]

#[cfg(all(feature = "model-generator", not(test)))]
extern crate std;

pub mod activation;
pub mod dense;
pub mod energy;
pub mod error;
pub mod flow;
pub mod gaussian;
mod kernels;
pub mod math;
pub mod mcmc;
pub mod model;
pub mod network;
pub mod random;
pub mod runtime;
pub mod shapes;
pub mod targets;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use activation::{Activation, ActivationKind, Identity, LeakyRelu, Relu, Silu, Tanh};
pub use dense::Dense;
pub use energy::{Energy, MlpEnergy, Tilted, ZeroEnergy};
pub use error::Error;
pub use flow::{AffineCoupling, CouplingBlock, Flow, RealNvp};
pub use gaussian::DiagGaussian;
pub use mcmc::{
    Adaptation, ChainState, ChainView, Fixed, FlowMc, FlowMcConfig, GlobalMove, Potential,
    Proposal, Sampler, Schedule, StepStats, imh_step, isir_step, mala_step,
};
pub use model::{Encoding, ModelKind, ModelView};
pub use network::{Act, Chain, Network, Parameters, Tape};
pub use rand_core::RngCore;
pub use random::{SeedStream, Xoshiro128PlusPlus, chain_rng, choose, shuffle, uniform_index};
pub use shapes::{Layer, Mlp1, Mlp2, Mlp3, Mlp4};

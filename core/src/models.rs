//! The paper's model shapes, named once.
//!
//! * Energy: `d → 32 → 64 → 64 → 64 → 1` with LeakyReLU(0.05) (10,593 parameters at d = 2),
//!   tilted by ρ = N(0, diag σ²).
//! * Flow: RealNVP with `K` blocks of two half-mask couplings whose `S` and `T` are
//!   `A → H → B` ReLU MLPs: 4 blocks, hidden 16 in 2-D; 2 blocks with hidden 32 / 39 / 51 for
//!   the d = 16 / 32 / 64 mixtures. The conditioners act on the slices only, so the 2-D flow has
//!   784 parameters; the masked form the paper counts (`2 → 16 → 2`, 1,312 parameters) has the
//!   same map, its masked-out weights never mattering.

use crate::activation::{LeakyRelu, Relu};
use crate::energy::{MlpEnergy, Tilted};
use crate::flow::RealNvp;
use crate::network::{Mlp1, Mlp4};

/// The paper's energy network `d → 32 → 64 → 64 → 64 → 1`.
pub type PaperEnergyNet<const D: usize> = Mlp4<D, 32, 64, 64, 64, 1, LeakyRelu>;

/// The paper's tilted energy `E_θ − ln ρ`.
pub type PaperEnergy<const D: usize> = Tilted<MlpEnergy<PaperEnergyNet<D>>, D>;

/// A RealNVP flow with one-hidden-layer ReLU conditioners of width `H` and `K` blocks.
pub type PaperFlow<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize> =
    RealNvp<D, A, B, Mlp1<A, H, B, Relu>, Mlp1<B, H, A, Relu>, K>;

/// The 2-D energy.
pub type Energy2d = PaperEnergy<2>;
/// The 2-D flow: 4 blocks × 2 couplings, hidden 16.
pub type Flow2d = PaperFlow<2, 1, 1, 16, 4>;
/// The d = 16 mixture energy.
pub type Energy16 = PaperEnergy<16>;
/// The d = 16 flow: 2 blocks, hidden 32.
pub type Flow16 = PaperFlow<16, 8, 8, 32, 2>;
/// The d = 32 mixture energy.
pub type Energy32 = PaperEnergy<32>;
/// The d = 32 flow: 2 blocks, hidden 39.
pub type Flow32 = PaperFlow<32, 16, 16, 39, 2>;
/// The d = 64 mixture energy.
pub type Energy64 = PaperEnergy<64>;
/// The d = 64 flow: 2 blocks, hidden 51.
pub type Flow64 = PaperFlow<64, 32, 32, 51, 2>;

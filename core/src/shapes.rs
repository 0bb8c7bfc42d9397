//! Network shapes, named once: the composed MLPs ([`Layer`], [`Mlp1`] … [`Mlp4`]), the
//! paper's model shapes, and the twin of each over a model file's weights ([`LayerView`],
//! [`Mlp1View`] …, [`PaperEnergyView`], [`Energy2dView`], …: the same `Chain`s with
//! [`DenseView`] layers; also named in [`crate::model::view`] and [`crate::model`]).
//!
//! * Energy: `d → 32 → 64 → 64 → 64 → 1` with LeakyReLU(0.05) (10,593 parameters at d = 2),
//!   tilted by ρ = N(0, diag σ²).
//! * Flow: RealNVP with `K` blocks of two half-mask couplings whose `S` and `T` are
//!   `A → H → B` ReLU MLPs: 4 blocks, hidden 16 in 2-D; 2 blocks with hidden 32 / 39 / 51 for
//!   the d = 16 / 32 / 64 mixtures. The conditioners act on the slices only, so the 2-D flow has
//!   784 parameters; the masked form the paper counts (`2 → 16 → 2`, 1,312 parameters) has the
//!   same map, its masked-out weights never mattering.

use crate::activation::{LeakyRelu, Relu};
use crate::dense::Dense;
use crate::energy::{MlpEnergy, Tilted};
use crate::flow::RealNvp;
use crate::model::view::dense::{AnyEncoding, DenseView};
use crate::network::{Act, Chain};

/// A dense layer followed by an activation: `IN → OUT`.
pub type Layer<const IN: usize, const OUT: usize, A> = Chain<Dense<IN, OUT>, Act<A>, OUT>;

/// One hidden layer: `IN → H → OUT` (linear output).
pub type Mlp1<const IN: usize, const H: usize, const OUT: usize, A> =
    Chain<Layer<IN, H, A>, Dense<H, OUT>, H>;

/// Two hidden layers: `IN → H1 → H2 → OUT`.
pub type Mlp2<const IN: usize, const H1: usize, const H2: usize, const OUT: usize, A> =
    Chain<Layer<IN, H1, A>, Mlp1<H1, H2, OUT, A>, H1>;

/// Three hidden layers: `IN → H1 → H2 → H3 → OUT`.
pub type Mlp3<
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const OUT: usize,
    A,
> = Chain<Layer<IN, H1, A>, Mlp2<H1, H2, H3, OUT, A>, H1>;

/// Four hidden layers: `IN → H1 → H2 → H3 → H4 → OUT` (the paper's energy network is
/// `Mlp4<D, 32, 64, 64, 64, 1, LeakyRelu>`).
pub type Mlp4<
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const H4: usize,
    const OUT: usize,
    A,
> = Chain<Layer<IN, H1, A>, Mlp3<H1, H2, H3, H4, OUT, A>, H1>;

/// A dense view followed by an activation: `IN → OUT`.
pub type LayerView<'a, const IN: usize, const OUT: usize, A, E = AnyEncoding> =
    Chain<DenseView<'a, IN, OUT, E>, Act<A>, OUT>;

/// One hidden layer `IN → H → OUT` over file weights (the view of [`crate::Mlp1`]).
pub type Mlp1View<'a, const IN: usize, const H: usize, const OUT: usize, A, E = AnyEncoding> =
    Chain<LayerView<'a, IN, H, A, E>, DenseView<'a, H, OUT, E>, H>;

/// Two hidden layers over file weights (the view of [`crate::Mlp2`]).
pub type Mlp2View<
    'a,
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const OUT: usize,
    A,
    E = AnyEncoding,
> = Chain<LayerView<'a, IN, H1, A, E>, Mlp1View<'a, H1, H2, OUT, A, E>, H1>;

/// Three hidden layers over file weights (the view of [`crate::Mlp3`]).
pub type Mlp3View<
    'a,
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const OUT: usize,
    A,
    E = AnyEncoding,
> = Chain<LayerView<'a, IN, H1, A, E>, Mlp2View<'a, H1, H2, H3, OUT, A, E>, H1>;

/// Four hidden layers over file weights (the view of [`crate::Mlp4`]).
pub type Mlp4View<
    'a,
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const H4: usize,
    const OUT: usize,
    A,
    E = AnyEncoding,
> = Chain<LayerView<'a, IN, H1, A, E>, Mlp3View<'a, H1, H2, H3, H4, OUT, A, E>, H1>;

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

/// The paper's energy network `d → 32 → 64 → 64 → 64 → 1` over file weights.
pub type PaperEnergyNetView<'a, const D: usize, E = AnyEncoding> =
    Mlp4View<'a, D, 32, 64, 64, 64, 1, LeakyRelu, E>;

/// The paper's tilted energy over file weights.
pub type PaperEnergyView<'a, const D: usize, E = AnyEncoding> =
    Tilted<MlpEnergy<PaperEnergyNetView<'a, D, E>>, D>;

/// The paper's RealNVP flow over file weights.
pub type PaperFlowView<
    'a,
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
    E = AnyEncoding,
> = RealNvp<D, A, B, Mlp1View<'a, A, H, B, Relu, E>, Mlp1View<'a, B, H, A, Relu, E>, K>;

/// The 2-D energy over file weights.
pub type Energy2dView<'a> = PaperEnergyView<'a, 2>;
/// The 2-D flow over file weights (4 blocks, hidden 16).
pub type Flow2dView<'a> = PaperFlowView<'a, 2, 1, 1, 16, 4>;
/// The d = 16 energy over file weights.
pub type Energy16View<'a> = PaperEnergyView<'a, 16>;
/// The d = 16 flow over file weights (2 blocks, hidden 32).
pub type Flow16View<'a> = PaperFlowView<'a, 16, 8, 8, 32, 2>;
/// The d = 32 energy over file weights.
pub type Energy32View<'a> = PaperEnergyView<'a, 32>;
/// The d = 32 flow over file weights (2 blocks, hidden 39).
pub type Flow32View<'a> = PaperFlowView<'a, 32, 16, 16, 39, 2>;
/// The d = 64 energy over file weights.
pub type Energy64View<'a> = PaperEnergyView<'a, 64>;
/// The d = 64 flow over file weights (2 blocks, hidden 51).
pub type Flow64View<'a> = PaperFlowView<'a, 64, 32, 32, 51, 2>;

/// Conditioner width `H` and block count `K` of the flow emberflow uses in dimension `d`:
/// the paper's shapes at d = 2, 16, 32, 64 (hidden 16 × 4 blocks; 32, 39, 51 × 2 blocks), hidden
/// 32 × 4 blocks for 3 ≤ d ≤ 8 and hidden 32 × 2 blocks for 9 ≤ d ≤ 16. The split is
/// `A = ⌊d/2⌋`, `B = d − A`.
pub const fn flow_shape(d: usize) -> Option<(usize, usize)> {
    match d {
        2 => Some((16, 4)),
        3..=8 => Some((32, 4)),
        9..=16 => Some((32, 2)),
        32 => Some((39, 2)),
        64 => Some((51, 2)),
        _ => None,
    }
}

/// The dimensions with a model shape (see [`flow_shape`]).
pub const SUPPORTED_DIMS: &[usize] = &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 32, 64];

/// Call a generic function `f::<D, A, B, H, K>(args…)` for a run-time dimension, with the shape
/// of [`flow_shape`]; evaluates to `None` for an unsupported dimension.
///
/// ```
/// use emberflow_core::with_model_shape;
/// fn params<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>()
/// -> usize {
///     emberflow_core::shapes::PaperFlow::<D, A, B, H, K>::identity(
///         emberflow_core::DiagGaussian::standard(),
///     )
///     .num_params()
/// }
/// assert_eq!(with_model_shape!(2, params()), Some(784));
/// assert_eq!(with_model_shape!(17, params()), None);
/// ```
#[macro_export]
macro_rules! with_model_shape {
    ($dim:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $dim {
            2 => Some($f::<2, 1, 1, 16, 4>($($arg),*)),
            3 => Some($f::<3, 1, 2, 32, 4>($($arg),*)),
            4 => Some($f::<4, 2, 2, 32, 4>($($arg),*)),
            5 => Some($f::<5, 2, 3, 32, 4>($($arg),*)),
            6 => Some($f::<6, 3, 3, 32, 4>($($arg),*)),
            7 => Some($f::<7, 3, 4, 32, 4>($($arg),*)),
            8 => Some($f::<8, 4, 4, 32, 4>($($arg),*)),
            9 => Some($f::<9, 4, 5, 32, 2>($($arg),*)),
            10 => Some($f::<10, 5, 5, 32, 2>($($arg),*)),
            11 => Some($f::<11, 5, 6, 32, 2>($($arg),*)),
            12 => Some($f::<12, 6, 6, 32, 2>($($arg),*)),
            13 => Some($f::<13, 6, 7, 32, 2>($($arg),*)),
            14 => Some($f::<14, 7, 7, 32, 2>($($arg),*)),
            15 => Some($f::<15, 7, 8, 32, 2>($($arg),*)),
            16 => Some($f::<16, 8, 8, 32, 2>($($arg),*)),
            32 => Some($f::<32, 16, 16, 39, 2>($($arg),*)),
            64 => Some($f::<64, 32, 32, 51, 2>($($arg),*)),
            _ => None,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>()
    -> (usize, usize, usize, usize, usize) {
        (D, A, B, H, K)
    }

    #[test]
    fn dispatch_agrees_with_flow_shape() {
        for &d in SUPPORTED_DIMS {
            let (dd, a, b, h, k) = with_model_shape!(d, shape()).unwrap();
            assert_eq!((dd, a, b), (d, d / 2, d - d / 2));
            assert_eq!(flow_shape(d), Some((h, k)));
        }
        assert_eq!(flow_shape(1), None);
        assert!(with_model_shape!(17usize, shape()).is_none());
    }
}

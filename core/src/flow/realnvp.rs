//! `RealNvp`: `K` blocks of two complementary affine couplings over a Gaussian base.
//!
//! Block `k` is `(A | B)` then `(B | A)`: the first coupling conditions on `A` coordinates and
//! moves the other `B`, the second the reverse. With `T = Id` (all conditioner outputs zero, as
//! after [`RealNvp::identity`]) the flow density is exactly the base density.

use super::{AffineCoupling, Flow};
use crate::gaussian::DiagGaussian;
use crate::network::{Network, Parameters};

/// Two complementary couplings.
#[derive(Clone, Debug, PartialEq)]
pub struct CouplingBlock<const D: usize, const A: usize, const B: usize, N1, N2> {
    /// Conditions on `A` coordinates, transforms `B`.
    pub first: AffineCoupling<D, A, B, N1>,
    /// Conditions on `B` coordinates, transforms `A`.
    pub second: AffineCoupling<D, B, A, N2>,
}

/// A RealNVP flow: `K` coupling blocks over the base ρ.
#[derive(Clone, Debug, PartialEq)]
pub struct RealNvp<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize> {
    /// The blocks, applied in order by [`Flow::transform`].
    pub blocks: [CouplingBlock<D, A, B, N1, N2>; K],
    base: DiagGaussian<D>,
}

impl<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>
    RealNvp<D, A, B, N1, N2, K>
{
    /// A flow from its blocks and base.
    pub fn new(blocks: [CouplingBlock<D, A, B, N1, N2>; K], base: DiagGaussian<D>) -> Self {
        Self { blocks, base }
    }
}

impl<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>
    RealNvp<D, A, B, N1, N2, K>
where
    N1: Parameters,
    N2: Parameters,
{
    /// `T = Id`: half masks (`A | B` then `B | A`), all conditioner parameters zero.
    pub fn identity(base: DiagGaussian<D>) -> Self {
        Self {
            blocks: core::array::from_fn(|_| CouplingBlock {
                first: AffineCoupling::half(true, N1::zeroed(), N1::zeroed()),
                second: AffineCoupling::half(false, N2::zeroed(), N2::zeroed()),
            }),
            base,
        }
    }

    /// Visit every parameter tensor: for each block, first `S`, first `T`, second `S`, second `T`.
    pub fn visit(&self, f: &mut dyn FnMut(&[f32])) {
        for b in &self.blocks {
            b.first.visit(f);
            b.second.visit(f);
        }
    }

    /// Visit every parameter tensor mutably, in the order of [`Self::visit`].
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [f32])) {
        for b in &mut self.blocks {
            b.first.visit_mut(f);
            b.second.visit_mut(f);
        }
    }

    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        let mut n = 0;
        self.visit(&mut |t| n += t.len());
        n
    }
}

impl<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>
    RealNvp<D, A, B, N1, N2, K>
where
    N1: Network<A, B>,
    N2: Network<B, A>,
{
    /// Multiply–accumulates of one pass through the flow.
    pub fn macs() -> usize {
        K * (AffineCoupling::<D, A, B, N1>::macs() + AffineCoupling::<D, B, A, N2>::macs())
    }
}

impl<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize> Flow<D>
    for RealNvp<D, A, B, N1, N2, K>
where
    N1: Network<A, B>,
    N2: Network<B, A>,
{
    fn base(&self) -> &DiagGaussian<D> {
        &self.base
    }

    #[inline]
    fn transform(&self, z: &[f32; D], x: &mut [f32; D]) -> f32 {
        *x = *z;
        let mut log_det = 0.0;
        for b in &self.blocks {
            log_det += b.first.forward_in_place(x);
            log_det += b.second.forward_in_place(x);
        }
        log_det
    }

    #[inline]
    fn inverse(&self, x: &[f32; D], z: &mut [f32; D]) -> f32 {
        *z = *x;
        let mut log_det = 0.0;
        for b in self.blocks.iter().rev() {
            log_det += b.second.inverse_in_place(z);
            log_det += b.first.inverse_in_place(z);
        }
        log_det
    }
}

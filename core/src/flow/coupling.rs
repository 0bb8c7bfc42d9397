//! `AffineCoupling<D, A, B, N>`: one RealNVP affine coupling layer.
//!
//! The `A` conditioning coordinates pass through unchanged and feed two networks `S, T: R^A → R^B`;
//! the `B` transformed coordinates move as
//!
//! ```text
//! s = c · tanh(S(x_A)),  t = T(x_A)
//! forward:  y_B = (x_B + t) ⊙ exp(s),   ln|det J| = Σ s
//! inverse:  x_B = y_B ⊙ exp(−s) − t,    ln|det J⁻¹| = −Σ s
//! ```
//!
//! with a per-layer scale bound `c` (1 by default). The masks are index lists, so half masks,
//! alternating masks and any fixed permutation are all allowed; `A + B == D` is checked when the
//! type is used.

use crate::error::Error;
use crate::math;
use crate::network::{Network, Parameters};

/// An affine coupling layer with conditioner networks of type `N: Network<A, B>`.
#[derive(Clone, Debug, PartialEq)]
pub struct AffineCoupling<const D: usize, const A: usize, const B: usize, N> {
    cond: [u16; A],
    trans: [u16; B],
    scale_factor: f32,
    /// The scale network `S`.
    pub scale_net: N,
    /// The shift network `T`.
    pub shift_net: N,
}

impl<const D: usize, const A: usize, const B: usize, N> AffineCoupling<D, A, B, N> {
    const SHAPE_OK: () = assert!(
        A > 0 && B > 0 && A + B == D,
        "an affine coupling needs A > 0, B > 0 and A + B == D"
    );

    /// A coupling conditioning on `cond`, transforming `trans`. The two lists must be a
    /// partition of `0..D`, and `scale_factor` finite and positive.
    pub fn new(
        cond: [u16; A],
        trans: [u16; B],
        scale_factor: f32,
        scale_net: N,
        shift_net: N,
    ) -> Result<Self, Error> {
        let () = Self::SHAPE_OK;
        let mut seen = [false; D];
        for &i in cond.iter().chain(trans.iter()) {
            let i = i as usize;
            if i >= D || seen[i] {
                return Err(Error::InvalidMask);
            }
            seen[i] = true;
        }
        if !(scale_factor.is_finite() && scale_factor > 0.0) {
            return Err(Error::InvalidScale);
        }
        Ok(Self {
            cond,
            trans,
            scale_factor,
            scale_net,
            shift_net,
        })
    }

    /// Half mask: condition on the first `A` coordinates and transform the last `B`
    /// (`lower = true`), or condition on the last `A` and transform the first `B`.
    pub fn half(lower: bool, scale_net: N, shift_net: N) -> Self {
        let () = Self::SHAPE_OK;
        let (cond, trans) = if lower {
            (
                core::array::from_fn(|i| i as u16),
                core::array::from_fn(|i| (A + i) as u16),
            )
        } else {
            (
                core::array::from_fn(|i| (B + i) as u16),
                core::array::from_fn(|i| i as u16),
            )
        };
        Self {
            cond,
            trans,
            scale_factor: 1.0,
            scale_net,
            shift_net,
        }
    }

    /// The conditioning coordinates.
    pub fn cond(&self) -> &[u16; A] {
        &self.cond
    }

    /// The transformed coordinates.
    pub fn trans(&self) -> &[u16; B] {
        &self.trans
    }

    /// The scale bound `c` in `s = c·tanh(S(·))`.
    pub fn scale_factor(&self) -> f32 {
        self.scale_factor
    }
}

impl<const D: usize, const A: usize, const B: usize, N: Network<A, B>> AffineCoupling<D, A, B, N> {
    #[inline]
    fn conditioner(&self, x: &[f32; D], s: &mut [f32; B], t: &mut [f32; B]) {
        let xa: [f32; A] = core::array::from_fn(|i| x[self.cond[i] as usize]);
        self.scale_net.forward(&xa, s);
        self.shift_net.forward(&xa, t);
        bound_scales(self.scale_factor, s);
    }

    /// `x ← coupling(x)`; returns `ln|det J|`.
    #[inline]
    pub fn forward_in_place(&self, x: &mut [f32; D]) -> f32 {
        let (mut s, mut t) = ([0.0f32; B], [0.0f32; B]);
        self.conditioner(x, &mut s, &mut t);
        shift_then_scale(x, self.trans.iter().map(|&k| usize::from(k)), &s, &t)
    }

    /// `y ← coupling⁻¹(y)`; returns `ln|det J⁻¹|`.
    #[inline]
    pub fn inverse_in_place(&self, y: &mut [f32; D]) -> f32 {
        let (mut s, mut t) = ([0.0f32; B], [0.0f32; B]);
        self.conditioner(y, &mut s, &mut t);
        unscale_then_unshift(y, self.trans.iter().map(|&k| usize::from(k)), &s, &t)
    }

    /// Multiply–accumulates of one pass.
    pub fn macs() -> usize {
        2 * N::macs()
    }
}

impl<const D: usize, const A: usize, const B: usize, N: Parameters> AffineCoupling<D, A, B, N> {
    /// Visit `S` then `T`.
    pub fn visit(&self, f: &mut dyn FnMut(&[f32])) {
        self.scale_net.visit(f);
        self.shift_net.visit(f);
    }

    /// Visit `S` then `T`, mutably.
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [f32])) {
        self.scale_net.visit_mut(f);
        self.shift_net.visit_mut(f);
    }
}

/// `s ← c · tanh(s)`: the bounded log-scales of a coupling (the one implementation, for
/// [`AffineCoupling`] and the run-time shaped run-time shapes).
#[inline]
pub(crate) fn bound_scales(c: f32, s: &mut [f32]) {
    for si in s.iter_mut() {
        *si = c * math::tanh(*si);
    }
}

/// The forward move of the transformed coordinates `trans`: `x_k ← (x_k + t_j) · exp(s_j)`;
/// returns `ln|det J| = Σ s_j` (summed in order).
#[inline]
pub(crate) fn shift_then_scale(
    x: &mut [f32],
    trans: impl Iterator<Item = usize>,
    s: &[f32],
    t: &[f32],
) -> f32 {
    let mut log_det = 0.0;
    for ((k, sj), tj) in trans.zip(s).zip(t) {
        if let Some(xk) = x.get_mut(k) {
            *xk = (*xk + tj) * math::exp(*sj);
        }
        log_det += sj;
    }
    log_det
}

/// The inverse move: `y_k ← y_k · exp(−s_j) − t_j`; returns `ln|det J⁻¹| = −Σ s_j`.
#[inline]
pub(crate) fn unscale_then_unshift(
    y: &mut [f32],
    trans: impl Iterator<Item = usize>,
    s: &[f32],
    t: &[f32],
) -> f32 {
    let mut log_det = 0.0;
    for ((k, sj), tj) in trans.zip(s).zip(t) {
        if let Some(yk) = y.get_mut(k) {
            *yk = *yk * math::exp(-sj) - tj;
        }
        log_det -= sj;
    }
    log_det
}

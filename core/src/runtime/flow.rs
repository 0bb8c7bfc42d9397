//! [`RealNvpFlow`]: a RealNVP flow whose dimension, coupling count, masks and conditioner
//! shapes are run-time values ([`Coupling`]s of two run-time [`Mlp`]s over a Gaussian base), as
//! a [`Proposal`]; the moves are the slice functions the typed `AffineCoupling` runs, in the
//! same order, so the bits are the typed flow's.

use super::mlp::Mlp;
use crate::activation::ActivationKind;
use crate::error::Error;
use crate::flow::coupling::{bound_scales, shift_then_scale, unscale_then_unshift};
use crate::gaussian;
use crate::mcmc::Proposal;
use crate::model::U16s;
use crate::model::view::dense::{AnyEncoding, Encodings};
use rand_core::RngCore;

/// One affine coupling: `cond` indices feed the scale and shift networks, `trans` move as
/// `x ← (x + t) · exp(c · tanh(s))`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coupling<'a, E: Encodings = AnyEncoding, const L: usize = 4> {
    /// Conditioning indices.
    pub cond: U16s<'a>,
    /// Transformed indices.
    pub trans: U16s<'a>,
    /// The scale bound `c`.
    pub scale: f32,
    /// `S: R^|cond| → R^|trans|`.
    pub scale_net: Mlp<'a, E, L>,
    /// `T: R^|cond| → R^|trans|`.
    pub shift_net: Mlp<'a, E, L>,
}

impl<'a, E: Encodings, const L: usize> Coupling<'a, E, L> {
    const EMPTY: Self = Self {
        cond: U16s::Native(&[]),
        trans: U16s::Native(&[]),
        scale: 1.0,
        scale_net: Mlp::EMPTY,
        shift_net: Mlp::EMPTY,
    };

    fn net_scratch(&self) -> usize {
        self.scale_net
            .scratch_len()
            .max(self.shift_net.scratch_len())
    }

    /// `(s, t)` of the conditioner at `x` into the first `|trans|` floats of `s` and `t`.
    #[inline]
    fn conditioner(
        &self,
        x: &[f32],
        xa: &mut [f32],
        s: &mut [f32],
        t: &mut [f32],
        net: &mut [f32],
    ) {
        let a = self.cond.len();
        for (o, i) in xa[..a].iter_mut().zip(self.cond.iter()) {
            *o = x.get(usize::from(i)).copied().unwrap_or(f32::NAN);
        }
        let b = self.trans.len();
        self.scale_net.forward(&xa[..a], &mut s[..b], net);
        self.shift_net.forward(&xa[..a], &mut t[..b], net);
        bound_scales(self.scale, &mut s[..b]);
    }
}

/// A RealNVP flow of at most `C` couplings (conditioners of at most `L` dense layers) over
/// ρ = N(0, diag σ²), σ and 1/σ borrowed from the caller. Two flows are equal when their
/// couplings and bases are (unused slots do not count).
#[derive(Clone, Debug)]
pub struct RealNvpFlow<'a, E: Encodings = AnyEncoding, const C: usize = 32, const L: usize = 4> {
    couplings: [Coupling<'a, E, L>; C],
    count: usize,
    sigma: &'a [f32],
    inv_sigma: &'a [f32],
    log_norm: f32,
}

impl<E: Encodings, const C: usize, const L: usize> PartialEq for RealNvpFlow<'_, E, C, L> {
    fn eq(&self, other: &Self) -> bool {
        self.couplings() == other.couplings()
            && self.sigma == other.sigma
            && self.inv_sigma == other.inv_sigma
            && self.log_norm == other.log_norm
    }
}

impl<'a, E: Encodings, const C: usize, const L: usize> RealNvpFlow<'a, E, C, L> {
    /// The flow of `couplings` (applied in order from the base to the data) over
    /// N(0, diag σ²); `inv_sigma` (`d` floats of the caller's) receives `1/σ`. Every coupling's
    /// masks must partition `0..d` and its networks map `|cond|` to `|trans|` values.
    pub fn new(
        couplings: &[Coupling<'a, E, L>],
        sigma: &'a [f32],
        inv_sigma: &'a mut [f32],
    ) -> Result<Self, Error> {
        if couplings.len() > C {
            return Err(Error::InvalidShape);
        }
        let mut flow = Self::identity(sigma, inv_sigma)?;
        for c in couplings {
            flow.push(c)?;
        }
        Ok(flow)
    }

    /// A flow with no couplings and no base (dimension 0): the starting value of a flow that
    /// [`RealNvpFlow::reset`] gives a base and [`RealNvpFlow::next_slot`] builds in place.
    pub const EMPTY: Self = Self {
        couplings: [Coupling::EMPTY; C],
        count: 0,
        sigma: &[],
        inv_sigma: &[],
        log_norm: 0.0,
    };

    /// The flow of no couplings (the identity) over N(0, diag σ²), to [`RealNvpFlow::push`]
    /// couplings onto; `inv_sigma` (`d` floats of the caller's) receives `1/σ`.
    /// [`Error::InvalidShape`] if the sizes disagree, [`Error::InvalidScale`] for a σ that is
    /// not positive and finite.
    pub fn identity(sigma: &'a [f32], inv_sigma: &'a mut [f32]) -> Result<Self, Error> {
        // not `Self::EMPTY`: this repeat expression is a loop over one empty coupling, where
        // the constant would be a copy of the whole empty flow in flash
        let mut flow = Self {
            couplings: [Coupling::EMPTY; C],
            count: 0,
            sigma: &[],
            inv_sigma: &[],
            log_norm: 0.0,
        };
        flow.reset(sigma, inv_sigma)?;
        Ok(flow)
    }

    /// [`RealNvpFlow::identity`] in place: the couplings are dropped and the base replaced
    /// (on an error the flow is left with no couplings and its old base).
    pub fn reset(&mut self, sigma: &'a [f32], inv_sigma: &'a mut [f32]) -> Result<(), Error> {
        self.count = 0;
        let d = sigma.len();
        if d == 0 || inv_sigma.len() != d {
            return Err(Error::InvalidShape);
        }
        if !sigma.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(Error::InvalidScale);
        }
        for (i, s) in inv_sigma.iter_mut().zip(sigma) {
            *i = 1.0 / s;
        }
        self.sigma = sigma;
        self.inv_sigma = inv_sigma;
        self.log_norm = gaussian::log_norm(sigma);
        Ok(())
    }

    /// A coupling slot at the data end of the flow, to build in place: its masks and scale
    /// are set to `cond`, `trans` and `scale` and its networks emptied (with `activation`), for
    /// [`Mlp::push`]; the flow does not use it until [`RealNvpFlow::commit`] has checked it.
    /// `None` when the flow holds `C` couplings.
    pub fn next_slot(
        &mut self,
        cond: U16s<'a>,
        trans: U16s<'a>,
        scale: f32,
        activation: ActivationKind,
    ) -> Option<&mut Coupling<'a, E, L>> {
        let slot = self.couplings.get_mut(self.count)?;
        slot.cond = cond;
        slot.trans = trans;
        slot.scale = scale;
        slot.scale_net.clear(activation);
        slot.shift_net.clear(activation);
        Some(slot)
    }

    /// Append the coupling [`RealNvpFlow::next_slot`] filled in, once checked: its masks must
    /// partition `0..d` and its networks map `|cond|` to `|trans|` values
    /// ([`Error::InvalidMask`], [`Error::InvalidShape`], [`Error::InvalidScale`]; the flow is
    /// unchanged).
    pub fn commit(&mut self) -> Result<(), Error> {
        let d = self.sigma.len();
        let c = self.couplings.get(self.count).ok_or(Error::InvalidShape)?;
        let (a, b) = (c.cond.len(), c.trans.len());
        let mut seen = [0u64; 4];
        for i in c.cond.iter().chain(c.trans.iter()).map(usize::from) {
            if i >= d || i >= 256 || seen[i / 64] & (1 << (i % 64)) != 0 {
                return Err(Error::InvalidMask);
            }
            seen[i / 64] |= 1 << (i % 64);
        }
        if a == 0 || b == 0 || a + b != d {
            return Err(Error::InvalidMask);
        }
        for net in [&c.scale_net, &c.shift_net] {
            if net.inputs() != a || net.outputs() != b {
                return Err(Error::InvalidShape);
            }
        }
        if !(c.scale.is_finite() && c.scale > 0.0) {
            return Err(Error::InvalidScale);
        }
        self.count += 1;
        Ok(())
    }

    /// Append a copy of `coupling` at the data end of the flow, checked as
    /// [`RealNvpFlow::commit`] does ([`Error::InvalidShape`] when the flow holds `C`).
    pub fn push(&mut self, coupling: &Coupling<'a, E, L>) -> Result<(), Error> {
        let slot = self
            .couplings
            .get_mut(self.count)
            .ok_or(Error::InvalidShape)?;
        *slot = *coupling;
        self.commit()
    }

    /// The base standard deviations σ.
    pub fn sigma(&self) -> &'a [f32] {
        self.sigma
    }

    /// The couplings, base to data.
    pub fn couplings(&self) -> &[Coupling<'a, E, L>] {
        &self.couplings[..self.count]
    }

    /// Multiply-accumulates of one pass through the flow (every coupling's two networks).
    pub fn macs(&self) -> usize {
        self.couplings()
            .iter()
            .map(|c| c.scale_net.macs() + c.shift_net.macs())
            .sum()
    }

    /// `x = T(z)` in place; returns `ln|det J_T|`. `work`: `3d` floats and the networks'.
    fn transform_in_place(&self, x: &mut [f32], work: &mut [f32]) -> f32 {
        let d = self.sigma.len();
        let (xa, rest) = work.split_at_mut(d);
        let (s, rest) = rest.split_at_mut(d);
        let (t, net) = rest.split_at_mut(d);
        let mut log_det = 0.0;
        for c in self.couplings() {
            c.conditioner(x, xa, s, t, net);
            let b = c.trans.len();
            log_det += shift_then_scale(x, c.trans.iter().map(usize::from), &s[..b], &t[..b]);
        }
        log_det
    }

    /// `z = T⁻¹(x)` in place; returns `ln|det J_{T⁻¹}|`.
    fn inverse_in_place(&self, z: &mut [f32], work: &mut [f32]) -> f32 {
        let d = self.sigma.len();
        let (xa, rest) = work.split_at_mut(d);
        let (s, rest) = rest.split_at_mut(d);
        let (t, net) = rest.split_at_mut(d);
        let mut log_det = 0.0;
        for c in self.couplings().iter().rev() {
            c.conditioner(z, xa, s, t, net);
            let b = c.trans.len();
            log_det += unscale_then_unshift(z, c.trans.iter().map(usize::from), &s[..b], &t[..b]);
        }
        log_det
    }
}

impl<E: Encodings, const C: usize, const L: usize> Proposal for RealNvpFlow<'_, E, C, L> {
    #[inline]
    fn dim(&self) -> usize {
        self.sigma.len()
    }

    fn scratch_len(&self) -> usize {
        let net = self
            .couplings()
            .iter()
            .map(Coupling::net_scratch)
            .max()
            .unwrap_or(0);
        4 * self.dim() + net
    }

    fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, x: &mut [f32], scratch: &mut [f32]) -> f32 {
        let d = self.dim();
        if scratch.len() < self.scratch_len() || x.len() != d {
            return f32::NAN;
        }
        let (z, work) = scratch.split_at_mut(d);
        gaussian::sample(self.sigma, rng, z);
        x.copy_from_slice(z);
        let log_det = self.transform_in_place(x, work);
        gaussian::log_density(self.inv_sigma, self.log_norm, z) - log_det
    }

    fn log_density(&self, x: &[f32], scratch: &mut [f32]) -> f32 {
        let d = self.dim();
        if scratch.len() < self.scratch_len() || x.len() != d {
            return f32::NAN;
        }
        let (z, work) = scratch.split_at_mut(d);
        z.copy_from_slice(x);
        let log_det = self.inverse_in_place(z, work);
        gaussian::log_density(self.inv_sigma, self.log_norm, z) + log_det
    }
}

//! [`TiltedMlp`]: the tilted energy `U(x) = E_θ(x) − ln ρ(x)` of a run-time shaped network
//! ([`Mlp`]) and a Gaussian base ρ = N(0, diag σ²), as a [`Potential`]; the same operations in
//! the same order as the typed `Tilted<MlpEnergy<N>, D>`.

use super::mlp::Mlp;
use crate::error::Error;
use crate::gaussian;
use crate::mcmc::Potential;
use crate::model::view::dense::{AnyEncoding, Encodings};

/// `U = E_θ − ln ρ` over a run-time shaped network; `1/σ` borrowed from the caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TiltedMlp<'a, E: Encodings = AnyEncoding, const L: usize = 7> {
    net: Mlp<'a, E, L>,
    inv_sigma: &'a [f32],
    log_norm: f32,
}

impl<'a, E: Encodings, const L: usize> TiltedMlp<'a, E, L> {
    /// A network with no layers over no base (dimension 0); stands in for an energy not read
    /// yet.
    pub const EMPTY: Self = Self {
        net: Mlp::EMPTY,
        inv_sigma: &[],
        log_norm: 0.0,
    };

    /// The network `net: R^d → R` tilted by N(0, diag σ²) with `σ = sigma`; `inv_sigma` (`d`
    /// floats of the caller's) receives `1/σ`. [`Error::InvalidShape`] if the sizes disagree,
    /// [`Error::InvalidScale`] for a σ that is not positive and finite.
    pub fn new(net: Mlp<'a, E, L>, sigma: &[f32], inv_sigma: &'a mut [f32]) -> Result<Self, Error> {
        let mut tilted = Self {
            net,
            inv_sigma: &[],
            log_norm: 0.0,
        };
        tilted.tilt(sigma, inv_sigma)?;
        Ok(tilted)
    }

    /// The network, to build in place before [`TiltedMlp::tilt`] checks it.
    pub(crate) fn net_mut(&mut self) -> &mut Mlp<'a, E, L> {
        &mut self.net
    }

    /// Tilt the network (whose shape it checks) by N(0, diag σ²), as [`TiltedMlp::new`].
    pub(crate) fn tilt(&mut self, sigma: &[f32], inv_sigma: &'a mut [f32]) -> Result<(), Error> {
        let d = self.net.inputs();
        if self.net.outputs() != 1 || sigma.len() != d || inv_sigma.len() != d {
            return Err(Error::InvalidShape);
        }
        if !sigma.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(Error::InvalidScale);
        }
        for (i, s) in inv_sigma.iter_mut().zip(sigma) {
            *i = 1.0 / s;
        }
        self.inv_sigma = inv_sigma;
        self.log_norm = gaussian::log_norm(sigma);
        Ok(())
    }

    /// The network `E_θ`.
    pub fn net(&self) -> &Mlp<'a, E, L> {
        &self.net
    }
}

impl<E: Encodings, const L: usize> Potential for TiltedMlp<'_, E, L> {
    #[inline]
    fn dim(&self) -> usize {
        self.inv_sigma.len()
    }

    fn scratch_len(&self) -> usize {
        self.net.taped_scratch_len() + self.dim()
    }

    #[inline]
    fn energy(&self, x: &[f32], scratch: &mut [f32]) -> f32 {
        let mut y = [0.0f32];
        self.net.forward(x, &mut y, scratch);
        y[0] - gaussian::log_density(self.inv_sigma, self.log_norm, x)
    }

    #[inline]
    fn energy_and_grad(&self, x: &[f32], grad: &mut [f32], scratch: &mut [f32]) -> f32 {
        let taped = self.net.taped_scratch_len();
        if scratch.len() < taped + self.dim() || grad.len() != self.dim() {
            return f32::NAN;
        }
        let (tape, g_base) = scratch.split_at_mut(taped);
        let g_base = &mut g_base[..self.dim()];
        let mut y = [0.0f32];
        self.net.forward_taped(x, &mut y, tape);
        self.net.backward(&[1.0], grad, tape);
        let lr = gaussian::log_density_and_grad(self.inv_sigma, self.log_norm, x, g_base);
        for (g, gb) in grad.iter_mut().zip(g_base.iter()) {
            *g -= gb;
        }
        y[0] - lr
    }
}

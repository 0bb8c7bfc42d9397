//! `Adaptation`: per-chain MALA step-size control toward a target acceptance.

use super::{ChainState, ChainView};
use crate::error::Error;

/// The ×/÷ rule: after each MALA step the chain's smoothed acceptance probability `ā` is
/// updated, `ā ← (1−w)·ā + w·α`; then `η ← η·factor` if `ā > target + tolerance`,
/// `η ← η/factor` if `ā < target − tolerance`, and `η ≤ max_step` always.
///
/// Adaptation breaks detailed balance; freeze it (`FlowMcConfig::adaptation = None`) for exact
/// MCMC.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adaptation {
    /// Target acceptance (0.75 by default; 0.574 is the asymptotically optimal MALA rate).
    pub target: f32,
    /// Multiplicative step (1.05).
    pub factor: f32,
    /// Dead band around the target (0.03).
    pub tolerance: f32,
    /// Weight `w` of the newest acceptance probability in the running average (0.1).
    pub smoothing: f32,
    /// Upper bound on the step size (1.0).
    pub max_step: f32,
}

impl Default for Adaptation {
    fn default() -> Self {
        Self {
            target: 0.75,
            factor: 1.05,
            tolerance: 0.03,
            smoothing: 0.1,
            max_step: 1.0,
        }
    }
}

impl Adaptation {
    /// The asymptotically optimal MALA acceptance, 0.574.
    pub const OPTIMAL_MALA_TARGET: f32 = 0.574;

    /// The default rule with the asymptotically optimal MALA acceptance, 0.574.
    pub fn optimal_mala() -> Self {
        Self {
            target: Self::OPTIMAL_MALA_TARGET,
            ..Self::default()
        }
    }

    /// Check every field is in range.
    pub fn validate(&self) -> Result<(), Error> {
        let ok = self.target > 0.0
            && self.target < 1.0
            && self.factor > 1.0
            && self.factor.is_finite()
            && self.tolerance >= 0.0
            && self.tolerance < 1.0
            && self.smoothing > 0.0
            && self.smoothing <= 1.0
            && self.max_step > 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidSetting)
        }
    }

    /// Update `chain`'s step size after a MALA step whose acceptance probability was `alpha`.
    #[inline]
    pub fn update<const D: usize>(&self, chain: &mut ChainState<D>, alpha: f32) {
        self.update_view(&mut chain.view(), alpha)
    }

    /// [`Adaptation::update`] for a chain over borrowed storage.
    #[inline]
    pub fn update_view(&self, chain: &mut ChainView<'_>, alpha: f32) {
        let (acceptance, step_size) = (&mut *chain.acceptance, &mut *chain.step_size);
        *acceptance += self.smoothing * (alpha - *acceptance);
        if *acceptance > self.target + self.tolerance {
            *step_size *= self.factor;
        } else if *acceptance < self.target - self.tolerance {
            *step_size /= self.factor;
        }
        if *step_size > self.max_step {
            *step_size = self.max_step;
        }
    }
}

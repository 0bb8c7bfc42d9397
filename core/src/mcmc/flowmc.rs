//! `FlowMc`: the FlowMC schedule `(1 global + K MALA) × R` on persistent chains.

use super::{Adaptation, ChainState, StepStats, imh_step, isir_step, mala_step};
use crate::energy::Energy;
use crate::error::Error;
use crate::flow::Flow;
use rand_core::RngCore;

/// The global (flow-proposed) move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GlobalMove {
    /// MALA only.
    None,
    /// Independent Metropolis–Hastings with the flow as proposal.
    Imh,
    /// i-SIR with this many particles (the current state included; ≥ 2).
    Isir {
        /// Number of particles `N`.
        particles: u16,
    },
}

/// `(1 global + mala_steps MALA) × rounds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Schedule {
    /// The global move opening each round.
    pub global: GlobalMove,
    /// MALA steps per round (`K`).
    pub mala_steps: u16,
    /// Rounds per sweep (`R`).
    pub rounds: u16,
}

impl Schedule {
    /// The steps of one sweep in order: `step(true)` for each global move, `step(false)` for
    /// each MALA step (`(1 global + K MALA) × R`, the global move left out for
    /// [`GlobalMove::None`]). The one schedule loop, shared by [`FlowMc`] and
    /// [`super::Sampler`].
    #[inline]
    pub fn for_each_step(&self, mut step: impl FnMut(bool)) {
        for _ in 0..self.rounds {
            if self.global != GlobalMove::None {
                step(true);
            }
            for _ in 0..self.mala_steps {
                step(false);
            }
        }
    }

    /// Steps (global and local) in one sweep.
    pub fn steps_per_sweep(&self) -> u32 {
        let global = u32::from(self.global != GlobalMove::None);
        (global + u32::from(self.mala_steps)) * u32::from(self.rounds)
    }
}

/// Everything the FlowMC kernel needs besides the target and the flow.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FlowMcConfig {
    /// The schedule of one sweep.
    pub schedule: Schedule,
    /// Step-size adaptation; `None` freezes the step sizes (exact MCMC).
    pub adaptation: Option<Adaptation>,
}

impl Default for FlowMcConfig {
    /// i-SIR with 64 particles + 15 MALA steps, two rounds, adaptation to 0.75.
    fn default() -> Self {
        Self {
            schedule: Schedule {
                global: GlobalMove::Isir { particles: 64 },
                mala_steps: 15,
                rounds: 2,
            },
            adaptation: Some(Adaptation::default()),
        }
    }
}

impl FlowMcConfig {
    /// Check the settings.
    pub fn validate(&self) -> Result<(), Error> {
        if let GlobalMove::Isir { particles } = self.schedule.global
            && particles < 2
        {
            return Err(Error::InvalidSetting);
        }
        if let Some(a) = &self.adaptation {
            a.validate()?;
        }
        Ok(())
    }
}

/// The FlowMC kernel: a target `exp(−U)`, a flow proposal and a schedule.
#[derive(Clone, Debug)]
pub struct FlowMc<'a, const D: usize, U: ?Sized, F: ?Sized> {
    target: &'a U,
    flow: &'a F,
    config: FlowMcConfig,
}

impl<'a, const D: usize, U, F> FlowMc<'a, D, U, F>
where
    U: Energy<D> + ?Sized,
    F: Flow<D> + ?Sized,
{
    /// A kernel; fails on invalid settings.
    pub fn new(target: &'a U, flow: &'a F, config: FlowMcConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            target,
            flow,
            config,
        })
    }

    /// The settings.
    pub fn config(&self) -> &FlowMcConfig {
        &self.config
    }

    /// A chain at `x` (energy and gradient evaluated).
    pub fn chain(&self, x: [f32; D], step_size: f32) -> ChainState<D> {
        ChainState::new(self.target, x, step_size)
    }

    /// One MALA step.
    #[inline]
    pub fn mala_step<R: RngCore + ?Sized>(
        &self,
        chain: &mut ChainState<D>,
        rng: &mut R,
        stats: &mut StepStats,
    ) -> bool {
        mala_step(
            self.target,
            chain,
            rng,
            self.config.adaptation.as_ref(),
            stats,
        )
    }

    /// One global move as configured (`false` without drawing anything for `GlobalMove::None`).
    #[inline]
    pub fn global_step<R: RngCore + ?Sized>(
        &self,
        chain: &mut ChainState<D>,
        rng: &mut R,
        stats: &mut StepStats,
    ) -> bool {
        match self.config.schedule.global {
            GlobalMove::None => false,
            GlobalMove::Imh => imh_step(self.target, self.flow, chain, rng, stats),
            GlobalMove::Isir { particles } => {
                isir_step(self.target, self.flow, chain, particles, rng, stats)
            }
        }
    }

    /// One sweep of the schedule; `observe` sees the state after every step (for negatives
    /// taken along the trajectory).
    pub fn sweep_observed<R: RngCore + ?Sized>(
        &self,
        chain: &mut ChainState<D>,
        rng: &mut R,
        stats: &mut StepStats,
        mut observe: impl FnMut(&ChainState<D>),
    ) {
        self.config.schedule.for_each_step(|global| {
            if global {
                self.global_step(chain, rng, stats);
            } else {
                self.mala_step(chain, rng, stats);
            }
            observe(chain);
        })
    }

    /// One sweep of the schedule.
    #[inline]
    pub fn sweep<R: RngCore + ?Sized>(
        &self,
        chain: &mut ChainState<D>,
        rng: &mut R,
        stats: &mut StepStats,
    ) {
        self.sweep_observed(chain, rng, stats, |_| {})
    }
}

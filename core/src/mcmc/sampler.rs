//! [`Sampler`]: the FlowMC schedule over a [`Potential`] and a [`Proposal`] whose dimension is
//! known at run time, on chains over caller storage ([`ChainView`]) with caller scratch
//! ([`Sampler::scratch_len`]). The steps are the kernels [`mala`], [`imh`] and [`isir`], the
//! same that [`super::FlowMc`] runs for compile-time shapes.

use super::target::{Potential, Proposal};
use super::{
    ChainView, FlowMcConfig, GlobalMove, StepStats, imh, imh_scratch_len, isir, isir_scratch_len,
    mala, mala_scratch_len,
};
use crate::error::Error;
use rand_core::RngCore;

/// The FlowMC kernel for run-time shapes: a target, a flow, a schedule and an adaptation rule.
#[derive(Clone, Debug)]
pub struct Sampler<'a, U: ?Sized, F: ?Sized> {
    target: &'a U,
    flow: &'a F,
    config: FlowMcConfig,
    scratch_len: usize,
}

impl<'a, U: Potential + ?Sized, F: Proposal + ?Sized> Sampler<'a, U, F> {
    /// The kernel; [`Error::InvalidSetting`] for a bad configuration,
    /// [`Error::WrongDimension`] if the target's and the flow's dimensions differ.
    pub fn new(target: &'a U, flow: &'a F, config: FlowMcConfig) -> Result<Self, Error> {
        config.validate()?;
        let clamp = |d: usize| d.min(usize::from(u16::MAX)) as u16;
        if target.dim() != flow.dim() {
            return Err(Error::WrongDimension {
                expected: clamp(target.dim()),
                found: clamp(flow.dim()),
            });
        }
        let scratch_len = mala_scratch_len(target)
            .max(imh_scratch_len(target, flow))
            .max(isir_scratch_len(target, flow));
        Ok(Self {
            target,
            flow,
            config,
            scratch_len,
        })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.target.dim()
    }

    /// The configuration.
    pub fn config(&self) -> &FlowMcConfig {
        &self.config
    }

    /// The target.
    pub fn target(&self) -> &'a U {
        self.target
    }

    /// The flow.
    pub fn flow(&self) -> &'a F {
        self.flow
    }

    /// Scratch floats every method needs (one buffer serves all of them, and every chain).
    pub fn scratch_len(&self) -> usize {
        self.scratch_len
    }

    /// Floats one chain takes in a buffer ([`ChainView::from_buffer`]).
    pub fn chain_len(&self) -> usize {
        ChainView::buffer_len(self.dim())
    }

    /// Start `chain` at `x0` with step size `step_size`.
    pub fn start(
        &self,
        chain: &mut ChainView<'_>,
        x0: &[f32],
        step_size: f32,
        scratch: &mut [f32],
    ) {
        chain.start(self.target, x0, step_size, scratch)
    }

    /// One MALA step (with the adaptation, if configured).
    #[inline]
    pub fn mala_step<R: RngCore + ?Sized>(
        &self,
        chain: &mut ChainView<'_>,
        rng: &mut R,
        stats: &mut StepStats,
        scratch: &mut [f32],
    ) -> bool {
        let adapt = self.config.adaptation.as_ref();
        mala(self.target, chain, rng, adapt, stats, scratch)
    }

    /// One global move of the configured kind.
    #[inline]
    pub fn global_step<R: RngCore + ?Sized>(
        &self,
        chain: &mut ChainView<'_>,
        rng: &mut R,
        stats: &mut StepStats,
        scratch: &mut [f32],
    ) -> bool {
        match self.config.schedule.global {
            GlobalMove::None => false,
            GlobalMove::Imh => imh(self.target, self.flow, chain, rng, stats, scratch),
            GlobalMove::Isir { particles } => isir(
                self.target,
                self.flow,
                chain,
                particles,
                rng,
                stats,
                scratch,
            ),
        }
    }

    /// One sweep of the schedule, calling `observe` after every step.
    pub fn sweep_observed<R: RngCore + ?Sized>(
        &self,
        chain: &mut ChainView<'_>,
        rng: &mut R,
        stats: &mut StepStats,
        scratch: &mut [f32],
        mut observe: impl FnMut(&ChainView<'_>),
    ) {
        self.config.schedule.for_each_step(|global| {
            if global {
                self.global_step(chain, rng, stats, scratch);
            } else {
                self.mala_step(chain, rng, stats, scratch);
            }
            observe(chain);
        })
    }

    /// One sweep of the schedule.
    #[inline]
    pub fn sweep<R: RngCore + ?Sized>(
        &self,
        chain: &mut ChainView<'_>,
        rng: &mut R,
        stats: &mut StepStats,
        scratch: &mut [f32],
    ) {
        self.sweep_observed(chain, rng, stats, scratch, |_| {})
    }
}

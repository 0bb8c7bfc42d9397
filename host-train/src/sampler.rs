//! The negative sampler: a persistent bank of FlowMC chains run by emberflow-core's kernel on
//! the current weights, in parallel threads.
//!
//! Each selected chain draws from its own generator, seeded from (run seed, iteration, bank
//! slot), so the result does not depend on the number of threads.

use emberflow_core::{
    ChainState, Energy, Flow, FlowMc, FlowMcConfig, StepStats, Xoshiro128PlusPlus,
};

/// The persistent chains.
#[derive(Clone, Debug)]
pub struct Bank<const D: usize> {
    /// One state per chain.
    pub chains: Vec<ChainState<D>>,
}

/// A generator for `(seed, iteration, slot)`.
pub fn chain_rng(seed: u64, iteration: u64, slot: usize) -> Xoshiro128PlusPlus {
    let mix = seed
        ^ iteration.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (slot as u64)
            .wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            .rotate_left(29);
    Xoshiro128PlusPlus::seed_from_u64(mix)
}

impl<const D: usize> Bank<D> {
    /// `size` chains started from flow samples.
    pub fn from_flow<U: Energy<D>, F: Flow<D>>(
        size: usize,
        target: &U,
        flow: &F,
        step_size: f32,
        seed: u64,
    ) -> Self {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed ^ 0x5eed_ba4c);
        let chains = (0..size)
            .map(|_| {
                let mut x = [0.0; D];
                flow.sample(&mut rng, &mut x);
                ChainState::new(target, x, step_size)
            })
            .collect();
        Self { chains }
    }

    /// Run one sweep of `config` on the chains at `slots`; returns the states at the end of
    /// every round (`rounds` per chain, chain-major) and the merged statistics.
    #[allow(clippy::too_many_arguments)]
    pub fn sweep<U, F>(
        &mut self,
        slots: &[usize],
        target: &U,
        flow: &F,
        config: FlowMcConfig,
        seed: u64,
        iteration: u64,
        threads: usize,
    ) -> (Vec<[f32; D]>, StepStats)
    where
        U: Energy<D> + Sync,
        F: Flow<D> + Sync,
    {
        let kernel = FlowMc::new(target, flow, config).expect("validated config");
        let per_round =
            config.schedule.steps_per_sweep() / u32::from(config.schedule.rounds).max(1);
        let rounds = usize::from(config.schedule.rounds);
        // Take the selected chains out, run them in parallel chunks, put them back.
        let mut work: Vec<(usize, ChainState<D>)> =
            slots.iter().map(|&s| (s, self.chains[s].clone())).collect();
        let threads = threads.max(1).min(work.len().max(1));
        let chunk = work.len().div_ceil(threads).max(1);
        let mut results: Vec<(Vec<[f32; D]>, StepStats)> = Vec::new();
        std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .chunks_mut(chunk)
                .map(|part| {
                    let kernel = &kernel;
                    scope.spawn(move || {
                        let mut negatives = Vec::with_capacity(part.len() * rounds);
                        let mut stats = StepStats::default();
                        for (slot, chain) in part.iter_mut() {
                            chain.refresh(target);
                            let mut rng = chain_rng(seed, iteration, *slot);
                            let mut step = 0u32;
                            kernel.sweep_observed(chain, &mut rng, &mut stats, |c| {
                                step += 1;
                                if step.is_multiple_of(per_round.max(1)) {
                                    negatives.push(c.x);
                                }
                            });
                        }
                        (negatives, stats)
                    })
                })
                .collect();
            for h in handles {
                results.push(h.join().expect("sampler thread panicked"));
            }
        });
        for (slot, chain) in work {
            self.chains[slot] = chain;
        }
        let mut negatives = Vec::with_capacity(slots.len() * rounds);
        let mut stats = StepStats::default();
        for (n, s) in results {
            negatives.extend(n);
            stats.merge(&s);
        }
        (negatives, stats)
    }
}

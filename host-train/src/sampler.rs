//! The negative sampler: a persistent bank of FlowMC chains run by emberflow-core's kernel on
//! the current weights, in parallel threads.
//!
//! Each selected chain draws from its own generator, seeded from (run seed, iteration, bank
//! slot), so the result does not depend on the number of threads.

use crate::config::{Method, TrainConfig};
use crate::metrics::{Chains, convergence};
use emberflow_core::SeedStream;
use emberflow_core::mcmc::ula;
use emberflow_core::{ChainState, Energy, Flow, FlowMc, FlowMcConfig, StepStats};

/// The persistent chains.
#[derive(Clone, Debug)]
pub struct Bank<const D: usize> {
    /// One state per chain.
    pub chains: Vec<ChainState<D>>,
}

pub use emberflow_core::chain_rng;

impl<const D: usize> Bank<D> {
    /// `size` chains started from flow samples.
    pub fn from_flow<U: Energy<D>, F: Flow<D>>(
        size: usize,
        target: &U,
        flow: &F,
        step_size: f32,
        seed: u64,
    ) -> Self {
        let mut rng = SeedStream::BANK_INIT.rng(seed);
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

/// `chains` fresh chains started from the flow, `sweeps` sweeps of the sampler; the states after
/// every sweep past the first two (≈ 6 nearly independent states per chain: the global move
/// renews a chain in one sweep) and the statistics.
pub fn fresh_samples<const D: usize, U, F>(
    energy: &U,
    flow: &F,
    config: &TrainConfig,
    chains: usize,
    sweeps: usize,
    seed: u64,
) -> (Vec<[f32; D]>, StepStats)
where
    U: Energy<D> + Sync,
    F: Flow<D> + Sync,
{
    let kernel = FlowMc::new(energy, flow, config.sampler).expect("validated");
    let threads = config.threads.max(1);
    let per = chains.div_ceil(threads);
    let mut out = Vec::new();
    let mut stats = StepStats::default();
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let kernel = &kernel;
                s.spawn(move || {
                    let mut st = StepStats::default();
                    let mut xs = Vec::new();
                    for c in t * per..((t + 1) * per).min(chains) {
                        let mut rng = chain_rng(SeedStream::FRESH_CHAINS.seed(seed), u64::MAX, c);
                        let mut x = [0.0; D];
                        flow.sample(&mut rng, &mut x);
                        let mut chain: ChainState<D> = kernel.chain(x, config.step_size);
                        for k in 0..sweeps {
                            kernel.sweep(&mut chain, &mut rng, &mut st);
                            if k >= 2 {
                                xs.push(chain.x);
                            }
                        }
                    }
                    (xs, st)
                })
            })
            .collect();
        for h in hs {
            let (xs, st) = h.join().expect("sampler thread");
            out.extend(xs);
            stats.merge(&st);
        }
    });
    (out, stats)
}

/// Max over dimensions of the rank-normalised split R̂ of `chains` fresh chains of the run's
/// own sampler, `draws` draws each: for flowMC-EBM (and `nf`) FlowMC chains started from the
/// flow, a draw after every sweep; for the ULA baselines ULA chains started from the base
/// N(0, I), a draw after every `ula_steps` steps (one training iteration's worth) — so a
/// baseline is judged by the sampler it was trained with, as in the paper's Table 2.
pub fn max_rhat<const D: usize, U, F>(
    energy: &U,
    flow: &F,
    config: &TrainConfig,
    chains: usize,
    draws: usize,
    seed: u64,
) -> f64
where
    U: Energy<D> + Sync,
    F: Flow<D> + Sync,
{
    let kernel = FlowMc::new(energy, flow, config.sampler).expect("validated");
    let langevin = matches!(config.method, Method::Ula | Method::ShortRun);
    let threads = config.threads.max(1);
    let per = chains.div_ceil(threads);
    let mut values = vec![0.0f32; chains * draws * D];
    std::thread::scope(|s| {
        for (t, part) in values.chunks_mut(per * draws * D).enumerate() {
            let kernel = &kernel;
            s.spawn(move || {
                let mut st = StepStats::default();
                for (k, chain_out) in part.chunks_mut(draws * D).enumerate() {
                    let c = t * per + k;
                    let mut rng =
                        chain_rng(SeedStream::BASELINE_CHAINS.seed(seed), u64::MAX - 1, c);
                    if langevin {
                        let mut x: [f32; D] = std::array::from_fn(|_| {
                            emberflow_core::random::standard_normal(&mut rng)
                        });
                        for draw in chain_out.chunks_mut(D) {
                            ula(energy, &mut x, config.ula_step, config.ula_steps, &mut rng);
                            draw.copy_from_slice(&x);
                        }
                        continue;
                    }
                    let mut x = [0.0; D];
                    flow.sample(&mut rng, &mut x);
                    let mut chain: ChainState<D> = kernel.chain(x, config.step_size);
                    for draw in chain_out.chunks_mut(D) {
                        kernel.sweep(&mut chain, &mut rng, &mut st);
                        draw.copy_from_slice(&chain.x);
                    }
                }
            });
        }
    });
    Chains::new(&values, chains, draws, D).map_or(f64::NAN, |c| convergence(&c).max_rhat())
}

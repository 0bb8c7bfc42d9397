//! The negative sampler: a persistent bank of FlowMC chains run by emberflow-core's kernel
//! ([`Sampler`]) on the current weights, in parallel threads, for a model of any shape.
//!
//! Each selected chain draws from its own generator, seeded from (run seed, iteration, bank
//! slot), so the result does not depend on the number of threads.

use crate::config::{Method, TrainConfig};
use crate::metrics::{Chains, convergence};
use emberflow_core::SeedStream;
use emberflow_core::mcmc::{ula, ula_scratch_len};
use emberflow_core::{ChainView, Potential, Proposal, Sampler, StepStats};

/// The persistent chains: `len()` chains of dimension `dim()`, each stored as
/// [`ChainView::buffer_len`] floats (state, gradient, energy, step size, acceptance).
#[derive(Clone, Debug)]
pub struct Bank {
    dim: usize,
    buf: Vec<f32>,
}

pub use emberflow_core::chain_rng;

/// The sampler of `config` over `target` and `flow` (the config was validated).
fn kernel<'a, U: Potential, F: Proposal>(
    target: &'a U,
    flow: &'a F,
    config: emberflow_core::FlowMcConfig,
) -> Sampler<'a, U, F> {
    Sampler::new(target, flow, config).expect("validated config and matching dimensions")
}

impl Bank {
    /// `size` chains started from flow samples.
    pub fn from_flow<U: Potential, F: Proposal>(
        size: usize,
        target: &U,
        flow: &F,
        step_size: f32,
        seed: u64,
    ) -> Self {
        let d = target.dim();
        let len = ChainView::buffer_len(d);
        let mut rng = SeedStream::BANK_INIT.rng(seed);
        let mut buf = vec![0.0f32; size * len];
        let mut scratch = vec![0.0f32; target.scratch_len().max(flow.scratch_len())];
        let mut x = vec![0.0f32; d];
        for chain in buf.chunks_exact_mut(len) {
            flow.sample(&mut rng, &mut x, &mut scratch);
            let mut view = ChainView::from_buffer(d, chain).expect("chain length");
            view.start(target, &x, step_size, &mut scratch);
        }
        Self { dim: d, buf }
    }

    /// Number of chains.
    pub fn len(&self) -> usize {
        self.buf.len() / ChainView::buffer_len(self.dim)
    }

    /// Whether the bank has no chains.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Dimension of the chains.
    pub fn dim(&self) -> usize {
        self.dim
    }

    fn raw(&self, k: usize) -> &[f32] {
        let len = ChainView::buffer_len(self.dim);
        &self.buf[k * len..(k + 1) * len]
    }

    /// Chain `k`.
    pub fn chain(&mut self, k: usize) -> ChainView<'_> {
        let len = ChainView::buffer_len(self.dim);
        ChainView::from_buffer(self.dim, &mut self.buf[k * len..(k + 1) * len]).expect("length")
    }

    /// The state of chain `k`.
    pub fn x(&self, k: usize) -> &[f32] {
        &self.raw(k)[..self.dim]
    }

    /// The MALA step size of chain `k`.
    pub fn step_size(&self, k: usize) -> f32 {
        self.raw(k)[2 * self.dim + 1]
    }

    /// The smoothed acceptance of chain `k`.
    pub fn acceptance(&self, k: usize) -> f32 {
        self.raw(k)[2 * self.dim + 2]
    }

    /// Every chain's state, row-major `len() × dim()`.
    pub fn states(&self) -> Vec<f32> {
        (0..self.len()).flat_map(|k| self.x(k).to_vec()).collect()
    }

    /// Run one sweep of `config` on the chains at `slots`; returns the states at the end of
    /// every round (`rounds` per chain, chain-major, row-major `d` floats each) and the merged
    /// statistics.
    #[allow(clippy::too_many_arguments)]
    pub fn sweep<U, F>(
        &mut self,
        slots: &[usize],
        target: &U,
        flow: &F,
        config: emberflow_core::FlowMcConfig,
        seed: u64,
        iteration: u64,
        threads: usize,
    ) -> (Vec<f32>, StepStats)
    where
        U: Potential + Sync,
        F: Proposal + Sync,
    {
        let kernel = kernel(target, flow, config);
        let d = self.dim;
        let len = ChainView::buffer_len(d);
        let per_round =
            config.schedule.steps_per_sweep() / u32::from(config.schedule.rounds).max(1);
        let rounds = usize::from(config.schedule.rounds);
        // Take the selected chains out, run them in parallel chunks, put them back.
        let mut work: Vec<f32> = slots.iter().flat_map(|&s| self.raw(s).to_vec()).collect();
        let threads = threads.max(1).min(slots.len().max(1));
        let chunk = slots.len().div_ceil(threads).max(1);
        let mut results: Vec<(Vec<f32>, StepStats)> = Vec::new();
        std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .chunks_mut(chunk * len)
                .zip(slots.chunks(chunk))
                .map(|(part, part_slots)| {
                    let kernel = &kernel;
                    scope.spawn(move || {
                        let mut negatives = Vec::with_capacity(part_slots.len() * rounds * d);
                        let mut stats = StepStats::default();
                        let mut scratch = vec![0.0f32; kernel.scratch_len()];
                        for (buf, &slot) in part.chunks_exact_mut(len).zip(part_slots) {
                            let mut chain = ChainView::from_buffer(d, buf).expect("length");
                            chain.refresh(target, &mut scratch);
                            let mut rng = chain_rng(seed, iteration, slot);
                            let mut step = 0u32;
                            kernel.sweep_observed(
                                &mut chain,
                                &mut rng,
                                &mut stats,
                                &mut scratch,
                                |c| {
                                    step += 1;
                                    if step.is_multiple_of(per_round.max(1)) {
                                        negatives.extend_from_slice(c.x);
                                    }
                                },
                            );
                        }
                        (negatives, stats)
                    })
                })
                .collect();
            for h in handles {
                results.push(h.join().expect("sampler thread panicked"));
            }
        });
        for (buf, &slot) in work.chunks_exact(len).zip(slots) {
            self.buf[slot * len..(slot + 1) * len].copy_from_slice(buf);
        }
        let mut negatives = Vec::with_capacity(slots.len() * rounds * d);
        let mut stats = StepStats::default();
        for (n, s) in results {
            negatives.extend(n);
            stats.merge(&s);
        }
        (negatives, stats)
    }

    /// `steps` ULA moves of the chains at `slots` (chain `s` drawing from
    /// `chain_rng(seed, iteration, s)`); returns their new states, row-major.
    #[allow(clippy::too_many_arguments)]
    pub fn ula<U: Potential>(
        &mut self,
        slots: &[usize],
        target: &U,
        eta: f32,
        steps: usize,
        seed: u64,
        iteration: u64,
    ) -> Vec<f32> {
        let mut scratch = vec![0.0f32; ula_scratch_len(target)];
        let mut out = Vec::with_capacity(slots.len() * self.dim);
        for &s in slots {
            let mut rng = chain_rng(seed, iteration, s);
            let chain = self.chain(s);
            ula(target, chain.x, eta, steps, &mut rng, &mut scratch);
            out.extend_from_slice(chain.x);
        }
        out
    }
}

/// `chains` fresh chains started from the flow, `sweeps` sweeps of the sampler; the states after
/// every sweep past the first two (≈ 6 nearly independent states per chain: the global move
/// renews a chain in one sweep), row-major, and the statistics.
pub fn fresh_samples<U, F>(
    energy: &U,
    flow: &F,
    config: &TrainConfig,
    chains: usize,
    sweeps: usize,
    seed: u64,
) -> (Vec<f32>, StepStats)
where
    U: Potential + Sync,
    F: Proposal + Sync,
{
    let kernel = kernel(energy, flow, config.sampler);
    let d = kernel.dim();
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
                    let mut scratch = vec![0.0f32; kernel.scratch_len().max(flow.scratch_len())];
                    let mut buf = vec![0.0f32; kernel.chain_len()];
                    let mut x = vec![0.0f32; d];
                    for c in t * per..((t + 1) * per).min(chains) {
                        let mut rng = chain_rng(SeedStream::FRESH_CHAINS.seed(seed), u64::MAX, c);
                        flow.sample(&mut rng, &mut x, &mut scratch);
                        let mut chain = ChainView::from_buffer(d, &mut buf).expect("length");
                        kernel.start(&mut chain, &x, config.step_size, &mut scratch);
                        for k in 0..sweeps {
                            kernel.sweep(&mut chain, &mut rng, &mut st, &mut scratch);
                            if k >= 2 {
                                xs.extend_from_slice(chain.x);
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
pub fn max_rhat<U, F>(
    energy: &U,
    flow: &F,
    config: &TrainConfig,
    chains: usize,
    draws: usize,
    seed: u64,
) -> f64
where
    U: Potential + Sync,
    F: Proposal + Sync,
{
    let kernel = kernel(energy, flow, config.sampler);
    let d = kernel.dim();
    let langevin = matches!(config.method, Method::Ula | Method::ShortRun);
    let threads = config.threads.max(1);
    let per = chains.div_ceil(threads);
    let mut values = vec![0.0f32; chains * draws * d];
    std::thread::scope(|s| {
        for (t, part) in values.chunks_mut(per * draws * d).enumerate() {
            let kernel = &kernel;
            s.spawn(move || {
                let mut st = StepStats::default();
                let mut scratch = vec![
                    0.0f32;
                    kernel
                        .scratch_len()
                        .max(ula_scratch_len(energy))
                        .max(flow.scratch_len())
                ];
                let mut buf = vec![0.0f32; kernel.chain_len()];
                let mut x = vec![0.0f32; d];
                for (k, chain_out) in part.chunks_mut(draws * d).enumerate() {
                    let c = t * per + k;
                    let mut rng =
                        chain_rng(SeedStream::BASELINE_CHAINS.seed(seed), u64::MAX - 1, c);
                    if langevin {
                        for v in x.iter_mut() {
                            *v = emberflow_core::random::standard_normal(&mut rng);
                        }
                        for draw in chain_out.chunks_mut(d) {
                            ula(
                                energy,
                                &mut x,
                                config.ula_step,
                                config.ula_steps,
                                &mut rng,
                                &mut scratch,
                            );
                            draw.copy_from_slice(&x);
                        }
                        continue;
                    }
                    flow.sample(&mut rng, &mut x, &mut scratch);
                    let mut chain = ChainView::from_buffer(d, &mut buf).expect("length");
                    kernel.start(&mut chain, &x, config.step_size, &mut scratch);
                    for draw in chain_out.chunks_mut(d) {
                        kernel.sweep(&mut chain, &mut rng, &mut st, &mut scratch);
                        draw.copy_from_slice(chain.x);
                    }
                }
            });
        }
    });
    Chains::new(&values, chains, draws, d).map_or(f64::NAN, |c| convergence(&c).max_rhat())
}

//! Exactness of the run-time kernel ([`Sampler`] over slices) in high dimension: FlowMC with
//! i-SIR or IMH global moves recovers the unequal mode weights of an analytic mixture in
//! d = 24 and d = 100, although its proposal puts equal weight on every mode.
//!
//! Target: PAPER.md §4's four modes (weights 0.1/0.2/0.3/0.4 at x₀ = −3, −1, 1, 3, every
//! other coordinate 0, standard deviation √0.05 in every direction), lifted to d dimensions.
//! Proposal: the equal-weight mixture of the same means with standard deviations 1.05× wider —
//! the weights are wrong by up to 0.15, only the Metropolis–Hastings correction can fix them.
//! Tolerance: 0.01 on every weight (the bound of the 2-D exactness tests in `kernel.rs`).

use emberflow_core::random::{fill_standard_normal, uniform_index};
use emberflow_core::targets::GaussianMixture;
use emberflow_core::{
    ChainView, Fixed, FlowMcConfig, GlobalMove, Potential, Proposal, RngCore, Sampler, Schedule,
    StepStats, Xoshiro128PlusPlus,
};

const WEIGHTS: [f32; 4] = [0.1, 0.2, 0.3, 0.4];
const CENTRES: [f32; 4] = [-3.0, -1.0, 1.0, 3.0];

fn target<const D: usize>() -> GaussianMixture<D, 4> {
    GaussianMixture {
        weights: WEIGHTS,
        means: core::array::from_fn(|k| {
            core::array::from_fn(|i| if i == 0 { CENTRES[k] } else { 0.0 })
        }),
        sigmas: [0.05f32.sqrt(); 4],
    }
}

/// The equal-weight mixture of the target's means, standard deviation `sigma`.
struct EqualMixture {
    dim: usize,
    sigma: f32,
}

impl EqualMixture {
    fn log_density_of(&self, x: &[f32]) -> f32 {
        let d = self.dim as f32;
        let norm = -d * (self.sigma.ln() + 0.5 * (2.0 * std::f32::consts::PI).ln());
        let rest: f32 = x[1..].iter().map(|v| v * v).sum();
        let mut lse = f32::NEG_INFINITY;
        for c in CENTRES {
            let q = ((x[0] - c) * (x[0] - c) + rest) / (self.sigma * self.sigma);
            let l = 0.25f32.ln() + norm - 0.5 * q;
            let m = lse.max(l);
            lse = m + ((lse - m).exp() + (l - m).exp()).ln();
        }
        lse
    }
}

impl Proposal for EqualMixture {
    fn dim(&self) -> usize {
        self.dim
    }

    fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, x: &mut [f32], _scratch: &mut [f32]) -> f32 {
        let k = uniform_index(rng, 4) as usize;
        fill_standard_normal(rng, x);
        for v in x.iter_mut() {
            *v *= self.sigma;
        }
        x[0] += CENTRES[k];
        self.log_density_of(x)
    }

    fn log_density(&self, x: &[f32], _scratch: &mut [f32]) -> f32 {
        self.log_density_of(x)
    }
}

fn nearest(x: &[f32]) -> usize {
    (0..4)
        .min_by(|&a, &b| {
            (x[0] - CENTRES[a])
                .abs()
                .total_cmp(&(x[0] - CENTRES[b]).abs())
        })
        .unwrap()
}

/// `chains` chains started in the leftmost mode, `sweeps` sweeps each; the fraction of the
/// post-burn-in states nearest each mode.
fn weights<const D: usize>(
    global: GlobalMove,
    mala_steps: u16,
    chains: usize,
    sweeps: usize,
) -> ([f64; 4], StepStats) {
    let mixture = target::<D>();
    let u = Fixed::<_, D>(&mixture);
    let flow = EqualMixture {
        dim: D,
        sigma: 1.05 * 0.05f32.sqrt(),
    };
    let config = FlowMcConfig {
        schedule: Schedule {
            global,
            mala_steps,
            rounds: 1,
        },
        adaptation: None,
    };
    let sampler = Sampler::new(&u, &flow, config).unwrap();
    assert_eq!(u.dim(), D);
    let mut scratch = vec![0.0; sampler.scratch_len()];
    let mut buf = vec![0.0; sampler.chain_len()];
    let mut x0 = vec![0.0f32; D];
    x0[0] = -3.0;
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(D as u64);
    let (mut counts, mut stats) = ([0usize; 4], StepStats::default());
    for _ in 0..chains {
        let mut chain = ChainView::from_buffer(D, &mut buf).unwrap();
        sampler.start(&mut chain, &x0, 0.005, &mut scratch);
        for t in 0..sweeps {
            sampler.sweep(&mut chain, &mut rng, &mut stats, &mut scratch);
            if t >= sweeps / 10 {
                counts[nearest(chain.x)] += 1;
            }
        }
    }
    let n = counts.iter().sum::<usize>() as f64;
    (counts.map(|c| c as f64 / n), stats)
}

fn assert_weights(w: &[f64; 4], what: &str) {
    for k in 0..4 {
        assert!(
            (w[k] - f64::from(WEIGHTS[k])).abs() < 0.01,
            "{what}: weights {w:?} vs {WEIGHTS:?}"
        );
    }
}

#[test]
fn isir_recovers_unequal_weights_in_24_and_100_dimensions() {
    let (w, s) = weights::<24>(GlobalMove::Isir { particles: 16 }, 2, 128, 300);
    assert_weights(&w, "d = 24, i-SIR(16) + 2 MALA");
    assert!(s.global_acceptance() > 0.3, "{s:?}");
    let (w, s) = weights::<100>(GlobalMove::Isir { particles: 16 }, 2, 128, 300);
    assert_weights(&w, "d = 100, i-SIR(16) + 2 MALA");
    assert!(s.global_acceptance() > 0.2, "{s:?}");
}

#[test]
fn imh_recovers_unequal_weights_in_24_and_100_dimensions() {
    let (w, s) = weights::<24>(GlobalMove::Imh, 1, 128, 600);
    assert_weights(&w, "d = 24, IMH + 1 MALA");
    assert!(s.global_acceptance() > 0.2, "{s:?}");
    let (w, s) = weights::<100>(GlobalMove::Imh, 1, 128, 600);
    assert_weights(&w, "d = 100, IMH + 1 MALA");
    assert!(s.global_acceptance() > 0.1, "{s:?}");
}

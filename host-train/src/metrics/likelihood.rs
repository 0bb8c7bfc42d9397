//! Held-out likelihood of a tilted EBM `π ∝ exp(−U)`: its log normaliser `ln Z` estimated by
//! importance sampling with the model's own flow,
//! `ln Z ≈ ln mean_m exp(−U(x_m) − ln λ(x_m))`, `x_m ~ λ`, with the delta-method standard
//! error (`sd(w) / (√M · mean(w))`) and the effective sample size `(Σw)² / Σw²`; the negative
//! log-likelihood of points, `mean U + ln Z`, plus the data normalisation's log-Jacobian for a
//! value in data units (`−ln p(y) = U(x) + ln Z + Σ_j ln scale_j`, as `emberflow energy`
//! states it); and the quantile of a set of energies (an anomaly threshold).
//!
//! When the flow misses mass of `π` the estimate is biased low (Jensen's inequality), and the
//! effective sample size tells how far to trust it.

use emberflow_core::{Potential, Proposal, SeedStream, Xoshiro128PlusPlus};

/// Flow draws per generator: draw `m` uses generator `m / CHUNK`, so the estimate does not
/// depend on the number of threads.
const CHUNK: usize = 256;

/// Member of [`SeedStream::IMPORTANCE`] of the first chunk of draws. The evaluation's
/// importance-sampled mode weights use member 0; the `ln Z` draws start at member `2³²` (a
/// sub-index of the same named stream, so no new stream is needed).
pub const LOG_Z_MEMBER: u64 = 1 << 32;

/// An estimate of `ln Z`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogZ {
    /// `ln Ẑ`.
    pub ln_z: f64,
    /// Its standard error (delta method).
    pub se: f64,
    /// Effective sample size `(Σw)² / Σw²` of the importance weights.
    pub ess: f64,
    /// Flow draws.
    pub draws: usize,
}

/// `ln Z` from the log importance weights `ln w_m = −U(x_m) − ln λ(x_m)`: NaN if any is NaN
/// or there are none.
pub fn log_z_from_log_weights(log_weights: &[f64]) -> LogZ {
    let draws = log_weights.len();
    let nan = LogZ {
        ln_z: f64::NAN,
        se: f64::NAN,
        ess: f64::NAN,
        draws,
    };
    if draws == 0 || log_weights.iter().any(|v| v.is_nan()) {
        return nan;
    }
    let max = log_weights
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return LogZ { ln_z: max, ..nan };
    }
    let w: Vec<f64> = log_weights.iter().map(|v| (v - max).exp()).collect();
    let m = draws as f64;
    let sum: f64 = w.iter().sum();
    let sum_sq: f64 = w.iter().map(|x| x * x).sum();
    let mean = sum / m;
    let var = if draws > 1 {
        w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (m - 1.0)
    } else {
        f64::NAN
    };
    LogZ {
        ln_z: max + mean.ln(),
        se: (var / m).sqrt() / mean,
        ess: sum * sum / sum_sq,
        draws,
    }
}

/// `ln Z` of `energy` (`π ∝ exp(−U)`) by `draws` importance draws from `flow`, seeded by
/// [`SeedStream::IMPORTANCE`] members [`LOG_Z_MEMBER`]`+ c` of `seed` (chunk `c`), on
/// `threads` threads; the same result for any number of threads.
pub fn log_z<E: Potential + Sync, F: Proposal + Sync>(
    energy: &E,
    flow: &F,
    draws: usize,
    seed: u64,
    threads: usize,
) -> LogZ {
    let mut lw = vec![0.0f64; draws];
    let chunks: Vec<(usize, &mut [f64])> = lw.chunks_mut(CHUNK).enumerate().collect();
    let threads = threads.clamp(1, chunks.len().max(1));
    let per = chunks.len().div_ceil(threads).max(1);
    let mut groups: Vec<Vec<(usize, &mut [f64])>> = Vec::new();
    let mut it = chunks.into_iter().peekable();
    while it.peek().is_some() {
        groups.push(it.by_ref().take(per).collect());
    }
    std::thread::scope(|s| {
        for group in groups {
            s.spawn(move || {
                let mut x = vec![0.0f32; flow.dim()];
                let mut scratch = vec![0.0f32; energy.scratch_len().max(flow.scratch_len())];
                for (c, out) in group {
                    let mut rng: Xoshiro128PlusPlus =
                        SeedStream::IMPORTANCE.rng_at(seed, LOG_Z_MEMBER + c as u64);
                    for v in out.iter_mut() {
                        let ln_lambda = flow.sample(&mut rng, &mut x, &mut scratch);
                        let u = energy.energy(&x, &mut scratch);
                        *v = -f64::from(u) - f64::from(ln_lambda);
                    }
                }
            });
        }
    });
    log_z_from_log_weights(&lw)
}

/// The mean negative log-likelihood per point: `mean U + ln Z + log_jacobian`, where `u` are
/// the energies (model units) and `log_jacobian = Σ_j ln scale_j` turns it into data units
/// (0 for model units).
pub fn mean_nll(u: &[f32], ln_z: f64, log_jacobian: f64) -> f64 {
    let mean = u.iter().map(|&v| f64::from(v)).sum::<f64>() / u.len() as f64;
    mean + ln_z + log_jacobian
}

/// The `q`-quantile of `values` by linear interpolation between order statistics (NumPy's
/// default); `None` for no values, a NaN value or `q` outside `[0, 1]`.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    let hi = (lo + 1).min(v.len() - 1);
    Some(v[lo] + frac * (v[hi] - v[lo]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use emberflow_core::shapes::PaperFlow;
    use emberflow_core::targets::Gaussian;
    use emberflow_core::{DiagGaussian, Energy, Fixed, RealNvp, Tilted, ZeroEnergy};

    type Flow2 = PaperFlow<2, 1, 1, 16, 4>;

    fn identity_flow(sigma: f32) -> Flow2 {
        RealNvp::identity(DiagGaussian::isotropic(sigma).unwrap())
    }

    #[test]
    fn a_zero_energy_tilted_by_the_flow_base_has_ln_z_zero_exactly() {
        // exp(−U) = ρ, the flow's density: every weight is 1.
        let energy = Tilted::new(ZeroEnergy, DiagGaussian::<2>::isotropic(1.0).unwrap());
        let flow = identity_flow(1.0);
        let z = log_z(&Fixed::<_, 2>(&energy), &Fixed::<_, 2>(&flow), 4096, 7, 2);
        assert!(z.ln_z.abs() < 1e-5, "{z:?}");
        assert!(z.se < 1e-5 && (z.ess - 4096.0).abs() < 1e-2, "{z:?}");
    }

    #[test]
    fn ln_z_of_gaussians_is_within_a_few_standard_errors_and_thread_independent() {
        // U = ½ (x − μ)ᵀ P (x − μ) + c: Z = e^{−c} (2π)^{d/2} / √det P.
        let cases = [
            ([0.5f32, -0.3], [2.0f32, 0.5], 0.0f64),
            ([1.0, 1.0], [0.25, 4.0], 1.5),
        ];
        for (mean, prec, shift) in cases {
            let g = Gaussian {
                mean,
                precision: [[prec[0], 0.0], [0.0, prec[1]]],
            };
            struct Shifted(Gaussian<2>, f32);
            impl Energy<2> for Shifted {
                fn energy(&self, x: &[f32; 2]) -> f32 {
                    self.0.energy(x) + self.1
                }
                fn energy_and_grad(&self, x: &[f32; 2], g: &mut [f32; 2]) -> f32 {
                    self.0.energy_and_grad(x, g) + self.1
                }
            }
            let e = Shifted(g, shift as f32);
            let truth = -shift + std::f64::consts::TAU.ln()
                - 0.5 * (f64::from(prec[0]) * f64::from(prec[1])).ln();
            let flow = identity_flow(1.5);
            let (e, flow) = (Fixed::<_, 2>(&e), Fixed::<_, 2>(&flow));
            let a = log_z(&e, &flow, 8192, 3, 1);
            let b = log_z(&e, &flow, 8192, 3, 2);
            assert_eq!(a, b, "thread count changes nothing");
            let err = (a.ln_z - truth).abs();
            eprintln!(
                "ln Z {:.4} ± {:.4} (ESS {:.0}), truth {truth:.4}",
                a.ln_z, a.se, a.ess
            );
            assert!(err < 4.0 * a.se && a.se < 0.05, "{a:?} truth {truth}");
            assert!(a.ess > 100.0 && a.ess < 8192.0, "{a:?}");
        }
    }

    #[test]
    fn weights_nll_and_quantiles() {
        let z = log_z_from_log_weights(&[0.0, 0.0, f64::NEG_INFINITY, f64::NEG_INFINITY]);
        assert!((z.ln_z - 0.5f64.ln()).abs() < 1e-12 && (z.ess - 2.0).abs() < 1e-12);
        assert!(log_z_from_log_weights(&[0.0, f64::NAN]).ln_z.is_nan());
        assert!(log_z_from_log_weights(&[]).ln_z.is_nan());
        assert!((mean_nll(&[1.0, 3.0], 0.5, 0.25) - 2.75).abs() < 1e-12);
        let v = [3.0, 1.0, 2.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), Some(3.0));
        assert_eq!(quantile(&v, 1.0), Some(5.0));
        assert_eq!(quantile(&v, 0.9), Some(4.6));
        assert_eq!(quantile(&v, 1.5), None);
        assert_eq!(quantile(&[], 0.5), None);
    }
}

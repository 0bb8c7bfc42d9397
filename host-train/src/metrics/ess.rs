//! Effective sample sizes, bulk and tail, as ArviZ 0.23's `ess(method="bulk")` and
//! `ess(method="tail")` (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021, "Rank-normalization,
//! folding, and localization: an improved R̂", Bayesian Analysis 16(2)).
//!
//! * **bulk**: the ESS of the rank-normalised split chains (`z_scale(split(x))`);
//! * **tail**: the minimum over `p ∈ {0.05, 0.95}` of the ESS of the split indicator chains
//!   `1{x ≤ q_p}`, with `q_p` the type-7 quantile of all draws.
//!
//! The ESS of an `m × n` array (`_ess`): if its range is below 1e-15 it is `m·n`; otherwise
//! with the FFT autocovariances `acov_c(t)` of each chain, `W = mean_c acov_c(0) · n/(n−1)`,
//! `var⁺ = W (n−1)/n + var(chain means)` (the last term only for `m > 1`),
//! `ρ̂_t = 1 − (W − mean_c acov_c(t)) / var⁺`, Geyer's initial positive sequence (pairs
//! `ρ̂_{2k} + ρ̂_{2k+1}` while positive) made monotone, `τ̂ = −1 + 2 Σ_{t ≤ max_t} ρ̂_t + ρ̂_{max_t+1}`,
//! floored at `1/log₁₀(m·n)`, and `ESS = m·n / τ̂`.

use super::autocov::mean_autocov;
use super::chains::{Chains, Mat, mean, quantiles_type7, var_ddof1};

/// The ESS of an `m × n` array (ArviZ `_ess`, not relative). NaN when a value is NaN or the
/// autocorrelation estimate is NaN.
pub(crate) fn ess_2d(x: &Mat) -> f64 {
    if x.has_nan() {
        return f64::NAN;
    }
    let (m, n) = (x.rows, x.cols);
    let max = x.v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = x.v.iter().copied().fold(f64::INFINITY, f64::min);
    if max - min < 1e-15 {
        return (m * n) as f64;
    }
    let nf = n as f64;
    // The mean over chains of the autocovariance at each lag.
    let rows: Vec<&[f64]> = (0..m).map(|r| x.row(r)).collect();
    let acov = mean_autocov(&rows, n);
    let chain_means: Vec<f64> = rows.iter().map(|r| mean(r)).collect();
    let mean_var = acov[0] * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        var_plus += var_ddof1(&chain_means);
    }
    let rho = |t: usize| 1.0 - (mean_var - acov[t]) / var_plus;

    let mut rho_hat = vec![0.0; n];
    let mut rho_even = 1.0;
    rho_hat[0] = rho_even;
    let mut rho_odd = if n > 1 { rho(1) } else { f64::NAN };
    if n > 1 {
        rho_hat[1] = rho_odd;
    }
    // Geyer's initial positive sequence.
    let mut t = 1usize;
    while t + 3 < n && rho_even + rho_odd > 0.0 {
        rho_even = rho(t + 1);
        rho_odd = rho(t + 2);
        if rho_even + rho_odd >= 0.0 {
            rho_hat[t + 1] = rho_even;
            rho_hat[t + 2] = rho_odd;
        }
        t += 2;
    }
    // max_t = t − 2 may be −1 (no pair accepted): work with max_t + 1 ≥ 0.
    let max_t1 = t - 1;
    if rho_even > 0.0 {
        rho_hat[max_t1] = rho_even;
    }
    // Geyer's initial monotone sequence.
    let mut t = 1usize;
    while t + 3 <= max_t1 {
        if rho_hat[t + 1] + rho_hat[t + 2] > rho_hat[t - 1] + rho_hat[t] {
            rho_hat[t + 1] = (rho_hat[t - 1] + rho_hat[t]) / 2.0;
            rho_hat[t + 2] = rho_hat[t + 1];
        }
        t += 2;
    }
    let size = (m * n) as f64;
    let tau = -1.0 + 2.0 * rho_hat[..max_t1].iter().sum::<f64>() + rho_hat[max_t1];
    let tau = tau.max(1.0 / size.log10());
    if rho_hat.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    size / tau
}

/// Bulk-ESS of one coordinate (`chains × draws`): NaN with fewer than 4 draws or a NaN draw.
pub(crate) fn ess_bulk_2d(x: &Mat) -> f64 {
    if x.cols < 4 || x.has_nan() {
        return f64::NAN;
    }
    ess_2d(&x.split().z_scale())
}

/// Tail-ESS of one coordinate: `min(ESS of 1{x ≤ q₀.₀₅}, ESS of 1{x ≤ q₀.₉₅})` on split chains.
pub(crate) fn ess_tail_2d(x: &Mat) -> f64 {
    if x.cols < 4 || x.has_nan() {
        return f64::NAN;
    }
    let [q_low, q_high] = quantiles_type7(&x.v, [0.05, 0.95]);
    let quantile_ess = |q: f64| ess_2d(&x.map(|v| if v <= q { 1.0 } else { 0.0 }).split());
    quantile_ess(q_low).min(quantile_ess(q_high))
}

/// Bulk-ESS per dimension (ArviZ `ess(method="bulk")`). NaN for a dimension with a NaN draw or
/// fewer than 4 draws.
pub fn ess_bulk<T: Copy + Into<f64>>(draws: &Chains<'_, T>) -> Vec<f64> {
    (0..draws.dims())
        .map(|j| ess_bulk_2d(&draws.coordinate(j)))
        .collect()
}

/// Tail-ESS per dimension (ArviZ `ess(method="tail")`, quantiles 0.05 and 0.95). NaN for a
/// dimension with a NaN draw or fewer than 4 draws.
pub fn ess_tail<T: Copy + Into<f64>>(draws: &Chains<'_, T>) -> Vec<f64> {
    (0..draws.dims())
        .map(|j| ess_tail_2d(&draws.coordinate(j)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use emberflow_core::{Xoshiro128PlusPlus, random};

    fn ar1(chains: usize, draws: usize, phi: f64, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
        let mut v = Vec::with_capacity(chains * draws);
        for _ in 0..chains {
            let mut s = 0.0f64;
            for _ in 0..draws {
                s = phi * s
                    + (1.0 - phi * phi).sqrt() * f64::from(random::standard_normal(&mut rng));
                v.push(s);
            }
        }
        v
    }

    #[test]
    fn independent_draws_have_ess_near_their_count() {
        let v = ar1(4, 1000, 0.0, 1);
        let c = Chains::new(&v, 4, 1000, 1).unwrap();
        let (b, t) = (ess_bulk(&c)[0], ess_tail(&c)[0]);
        assert!((3000.0..5000.0).contains(&b), "bulk {b}");
        assert!((2500.0..5500.0).contains(&t), "tail {t}");
    }

    #[test]
    fn autocorrelation_lowers_ess() {
        // AR(1) with φ = 0.9: ESS ≈ N (1 − φ)/(1 + φ) ≈ N/19.
        let v = ar1(4, 4000, 0.9, 2);
        let c = Chains::new(&v, 4, 4000, 1).unwrap();
        let b = ess_bulk(&c)[0];
        assert!((600.0..1100.0).contains(&b), "bulk {b}");
    }

    #[test]
    fn constant_and_short_chains() {
        let v = vec![1.5f64; 40];
        let c = Chains::new(&v, 2, 20, 1).unwrap();
        // Constant draws: ranks all tie, the z-scores are constant, so ESS = m·n of the split.
        assert_eq!(ess_bulk(&c), [40.0]);
        assert_eq!(ess_tail(&c), [40.0]);
        let c = Chains::new(&v[..6], 2, 3, 1).unwrap();
        assert!(ess_bulk(&c)[0].is_nan());
        let mut w = ar1(2, 10, 0.0, 3);
        w[4] = f64::NAN;
        assert!(ess_tail(&Chains::new(&w, 2, 10, 1).unwrap())[0].is_nan());
    }
}

//! The one place where transcendental maths happens.
//!
//! Every function here goes through [`libm`] (a pure-Rust port of musl's libm, within 1 ulp)
//! or, for the Box–Muller angle ([`sin_cos_turn23`]), musl's polynomials evaluated in f32, so
//! the same bits come out on x86-64 and on a Cortex-M4F, and a host test cannot hide a broken
//! `no_std` build by calling `f32::exp` from `std`.

/// `e^x`.
#[inline]
pub fn exp(x: f32) -> f32 {
    libm::expf(x)
}

/// Natural logarithm.
#[inline]
pub fn ln(x: f32) -> f32 {
    libm::logf(x)
}

/// `ln(1 + x)`, accurate for small `x`.
#[inline]
pub fn ln_1p(x: f32) -> f32 {
    libm::log1pf(x)
}

/// Square root (correctly rounded).
#[inline]
pub fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}

/// Hyperbolic tangent.
#[inline]
pub fn tanh(x: f32) -> f32 {
    libm::tanhf(x)
}

/// `(sin x, cos x)`.
#[inline]
pub fn sin_cos(x: f32) -> (f32, f32) {
    libm::sincosf(x)
}

/// `(sin 2πu, cos 2πu)` for the dyadic `u = (k + ½)·2⁻²³` (`k` taken modulo 2²³): the angle
/// of a Box–Muller pair, from the 23-bit integer of a uniform variate
/// ([`crate::random::standard_normal_pair`]). Single precision only, no table: the reduction to
/// an angle `ψ ∈ (0, π/4)` is exact (integer arithmetic on `k`: the quadrant, then `ψ` or
/// `π/2 − ψ` as `(2j + 1)·π·2⁻²³` with `2j + 1 < 2²¹`), then musl's minimax polynomials for
/// sin and cos on `[−π/4, π/4]` (`__sindf`, `__cosdf`) in f32, then exact swaps and sign
/// changes. Within 2.3 ulp of the exact values (tested on all 2²³ inputs), and a small
/// fraction of [`sin_cos`]'s cost on a Cortex-M4F, where libm evaluates it in double
/// precision, which that FPU does in software (numbers: `docs/firmware-performance.md`).
#[inline]
pub fn sin_cos_turn23(k: u32) -> (f32, f32) {
    const HALF_QUADRANT: u32 = 1 << 20;
    // π·2⁻²³: the angle of one step of `t` (an exact power-of-two scaling of f32 π)
    const STEP: f32 = core::f32::consts::PI / (1u32 << 23) as f32;
    const S1: f32 = -0.166_666_67;
    const S2: f32 = 0.008_333_329;
    const S3: f32 = -0.000_198_393_35;
    const S4: f32 = 0.000_002_718_311_5;
    const C0: f32 = -0.5;
    const C1: f32 = 0.041_666_623;
    const C2: f32 = -0.001_388_676_4;
    const C3: f32 = 0.000_024_390_449;
    let quadrant = (k >> 21) & 3;
    let j = k & ((1 << 21) - 1);
    // the angle within the quadrant, (j + ½)·(π/2)·2⁻²¹, is ψ = (2j + 1)·STEP below π/4, and
    // otherwise π/2 − ψ' with ψ' = (2(2²¹ − 1 − j) + 1)·STEP
    let upper = j >= HALF_QUADRANT;
    let t = if upper {
        2 * ((1 << 21) - 1 - j) + 1
    } else {
        2 * j + 1
    };
    let psi = t as f32 * STEP;
    let z = psi * psi;
    let w = z * z;
    let sin = (psi + psi * z * (S1 + z * S2)) + psi * z * w * (S3 + z * S4);
    let cos = ((1.0 + z * C0) + w * C1) + w * z * (C2 + z * C3);
    // (sin, cos) of the angle within the quadrant
    let (s, c) = if upper { (cos, sin) } else { (sin, cos) };
    match quadrant {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// `ln(e^a + e^b)` without overflow; `-inf` is the neutral element.
#[inline]
pub fn log_add_exp(a: f32, b: f32) -> f32 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi == f32::NEG_INFINITY {
        return f32::NEG_INFINITY;
    }
    hi + ln_1p(exp(lo - hi))
}

/// `ln(2π)`.
pub const LN_2PI: f32 = 1.837_877_1;

/// `2π`.
pub const TWO_PI: f32 = core::f32::consts::TAU;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_add_exp_matches_direct_formula() {
        for &(a, b) in &[(0.0f32, 0.0f32), (1.0, -2.0), (-50.0, -51.0), (80.0, 80.0)] {
            let direct = ((a as f64).exp() + (b as f64).exp()).ln() as f32;
            assert!((log_add_exp(a, b) - direct).abs() <= 1e-6 * direct.abs().max(1.0));
        }
        assert_eq!(log_add_exp(f32::NEG_INFINITY, 2.0), 2.0);
        assert_eq!(
            log_add_exp(f32::NEG_INFINITY, f32::NEG_INFINITY),
            f32::NEG_INFINITY
        );
    }

    #[test]
    fn sin_cos_turn23_is_within_2_3_ulp_everywhere() {
        let ulp = |v: f64| {
            let f = v.abs() as f32;
            f64::from(f32::from_bits(f.to_bits() + 1) - f).max(f64::from(f32::MIN_POSITIVE))
        };
        let mut worst = 0.0f64;
        for k in 0..1u32 << 23 {
            let angle = 2.0 * core::f64::consts::PI * (f64::from(k) + 0.5) / f64::from(1u32 << 23);
            let (s, c) = sin_cos_turn23(k);
            let (es, ec) = (angle.sin(), angle.cos());
            worst = worst
                .max((f64::from(s) - es).abs() / ulp(es))
                .max((f64::from(c) - ec).abs() / ulp(ec));
        }
        // measured: 2.26 ulp (the rounding of ψ itself, about 1 ulp, is in every value)
        assert!(worst <= 2.3, "worst error {worst} ulp");
        // k is taken modulo 2²³
        assert_eq!(sin_cos_turn23(5 + (1 << 23)), sin_cos_turn23(5));
    }

    #[test]
    fn ln_2pi_constant() {
        assert!((LN_2PI as f64 - (2.0 * core::f64::consts::PI).ln()).abs() < 1e-7);
    }
}

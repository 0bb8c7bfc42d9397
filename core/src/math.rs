//! The one place where transcendental maths happens.
//!
//! Every function here goes through [`libm`] (a pure-Rust port of musl's libm, within 1 ulp),
//! so the same bits come out on x86-64 and on a Cortex-M4F, and a host test cannot hide a
//! broken `no_std` build by calling `f32::exp` from `std`.

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
    fn ln_2pi_constant() {
        assert!((LN_2PI as f64 - (2.0 * core::f64::consts::PI).ln()).abs() < 1e-7);
    }
}

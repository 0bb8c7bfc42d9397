//! Variates built on any [`RngCore`]: uniform in the open interval (0, 1) and the
//! standard normal (Box–Muller through [`crate::math`]), bit-identical on every platform.

use crate::math;
use rand_core::RngCore;

/// Uniform on the open interval (0, 1): `(k + ½)·2⁻²³` for a 23-bit integer `k`.
///
/// Never returns 0 (so `ln u` is finite) and never 1 (so `ln u < 0` in an accept test).
#[inline]
pub fn uniform_open01<R: RngCore + ?Sized>(rng: &mut R) -> f32 {
    const SCALE: f32 = 1.0 / (1u32 << 23) as f32;
    ((rng.next_u32() >> 9) as f32 + 0.5) * SCALE
}

/// A pair of independent standard normals (Box–Muller): `r = √(−2 ln u₁)` and the angle
/// `2π·u₂`, for two draws of [`uniform_open01`]. The angle's sine and cosine come from `u₂`'s
/// 23-bit integer through [`math::sin_cos_turn23`] (exact reduction, single precision), not
/// from a rounded `2π·u₂`.
#[inline]
pub fn standard_normal_pair<R: RngCore + ?Sized>(rng: &mut R) -> (f32, f32) {
    let u1 = uniform_open01(rng);
    // u₂ = (k + ½)·2⁻²³, as `uniform_open01` would make it from the same draw
    let k2 = rng.next_u32() >> 9;
    let r = math::sqrt(-2.0 * math::ln(u1));
    let (s, c) = math::sin_cos_turn23(k2);
    (r * c, r * s)
}

/// One standard normal (the second of the Box–Muller pair is discarded).
#[inline]
pub fn standard_normal<R: RngCore + ?Sized>(rng: &mut R) -> f32 {
    standard_normal_pair(rng).0
}

/// Fill `out` with independent standard normals, two per Box–Muller draw (an odd tail
/// discards the last second half).
#[inline]
pub fn fill_standard_normal<R: RngCore + ?Sized>(rng: &mut R, out: &mut [f32]) {
    let mut pairs = out.chunks_exact_mut(2);
    for p in &mut pairs {
        let (a, b) = standard_normal_pair(rng);
        p[0] = a;
        p[1] = b;
    }
    if let [last] = pairs.into_remainder() {
        *last = standard_normal(rng);
    }
}

/// `ln u` for `u` uniform on (0, 1): the threshold of a Metropolis–Hastings test
/// (accept when `ln u < ln α`).
#[inline]
pub fn log_uniform<R: RngCore + ?Sized>(rng: &mut R) -> f32 {
    math::ln(uniform_open01(rng))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Xoshiro128PlusPlus;

    #[test]
    fn uniform_bounds_at_extremes() {
        struct Const(u32);
        impl RngCore for Const {
            fn next_u32(&mut self) -> u32 {
                self.0
            }
            fn next_u64(&mut self) -> u64 {
                self.0 as u64
            }
            fn fill_bytes(&mut self, _: &mut [u8]) {}
        }
        let lo = uniform_open01(&mut Const(0));
        let hi = uniform_open01(&mut Const(u32::MAX));
        assert!(lo > 0.0 && lo < 1e-6);
        assert!(hi < 1.0 && hi > 1.0 - 1e-6);
        assert!(math::ln(hi) < 0.0);
        assert!(math::ln(lo).is_finite());
    }

    #[test]
    fn fill_odd_length() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(3);
        let mut v = [0.0f32; 5];
        fill_standard_normal(&mut rng, &mut v);
        assert!(v.iter().all(|x| x.is_finite() && *x != 0.0));
    }
}

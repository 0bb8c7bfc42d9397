//! Unbiased integer draws: a uniform index, a random subset, a random permutation.

use rand_core::RngCore;

/// An unbiased uniform integer in `0..n` (Lemire's multiply-and-reject, 32-bit): the high word
/// of `next_u32() · n`, redrawn while the low word falls below `2³² mod n`.
///
/// Precondition `n ≥ 1`; `n == 0` returns 0 without drawing (and fails a debug assertion).
#[inline]
pub fn uniform_index<R: RngCore + ?Sized>(rng: &mut R, n: u32) -> u32 {
    debug_assert!(n > 0, "empty index range");
    if n == 0 {
        return 0;
    }
    let mut m = u64::from(rng.next_u32()) * u64::from(n);
    if (m as u32) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u32) < threshold {
            m = u64::from(rng.next_u32()) * u64::from(n);
        }
    }
    (m >> 32) as u32
}

/// The index draw of a slice of length `len` (`len` fits in `u32` in every use).
#[inline]
fn index_below<R: RngCore + ?Sized>(rng: &mut R, len: usize) -> usize {
    debug_assert!(u32::try_from(len).is_ok(), "index range fits in u32");
    uniform_index(rng, len as u32) as usize
}

/// Partial Fisher–Yates: afterwards `items[..k.min(len)]` is a uniform random `k`-subset of
/// `items`, in random order (`for i in 0..k { swap(i, i + uniform_index(len − i)) }`).
pub fn choose<T, R: RngCore + ?Sized>(rng: &mut R, items: &mut [T], k: usize) {
    let len = items.len();
    for i in 0..k.min(len) {
        let j = i + index_below(rng, len - i);
        items.swap(i, j);
    }
}

/// Shuffle in place (Fisher–Yates, from the end: `for i in (1..len).rev() { swap(i,
/// uniform_index(i + 1)) }`).
pub fn shuffle<T, R: RngCore + ?Sized>(rng: &mut R, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = index_below(rng, i + 1);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Xoshiro128PlusPlus;

    /// The trainer's former `below` (host-train `data/sampling.rs`), verbatim.
    fn below_reference(rng: &mut Xoshiro128PlusPlus, n: usize) -> usize {
        let n = u32::try_from(n).expect("index range fits in u32");
        assert!(n > 0, "empty index range");
        let mut m = u64::from(rng.next_word()) * u64::from(n);
        if (m as u32) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u32) < threshold {
                m = u64::from(rng.next_word()) * u64::from(n);
            }
        }
        (m >> 32) as usize
    }

    fn shuffle_reference<T>(rng: &mut Xoshiro128PlusPlus, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = below_reference(rng, i + 1);
            items.swap(i, j);
        }
    }

    #[test]
    fn uniform_index_matches_the_reference_bit_for_bit() {
        let mut a = Xoshiro128PlusPlus::seed_from_u64(11);
        let mut b = a.clone();
        // small, odd, power-of-two and huge ranges (the last rejects often)
        let ranges = [
            1u32,
            2,
            3,
            7,
            10,
            64,
            1000,
            65_537,
            1 << 31,
            (1 << 31) + 1,
            u32::MAX,
        ];
        for round in 0..2_000 {
            let n = ranges[round % ranges.len()];
            let got = uniform_index(&mut a, n);
            assert!(got < n);
            assert_eq!(got as usize, below_reference(&mut b, n as usize));
        }
        assert_eq!(a, b);
    }

    #[test]
    fn uniform_index_is_roughly_uniform() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(1);
        let mut hist = [0usize; 7];
        for _ in 0..70_000 {
            hist[uniform_index(&mut rng, 7) as usize] += 1;
        }
        assert!(
            hist.iter().all(|&h| (9_500..10_500).contains(&h)),
            "{hist:?}"
        );
        assert_eq!(uniform_index(&mut rng, 1), 0);
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn uniform_index_of_empty_range_is_zero_without_a_draw() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(2);
        let before = rng.clone();
        assert_eq!(uniform_index(&mut rng, 0), 0);
        assert_eq!(rng, before);
    }

    #[test]
    fn shuffle_matches_the_reference() {
        for seed in 0..20 {
            let mut a: [u16; 100] = core::array::from_fn(|i| i as u16);
            let mut b = a;
            let mut ra = Xoshiro128PlusPlus::seed_from_u64(seed);
            let mut rb = ra.clone();
            shuffle(&mut ra, &mut a);
            shuffle_reference(&mut rb, &mut b);
            assert_eq!(a, b);
            assert_eq!(ra, rb);
            assert_ne!(a, core::array::from_fn(|i| i as u16));
            a.sort_unstable();
            assert_eq!(a, core::array::from_fn(|i| i as u16));
        }
        let mut empty: [u8; 0] = [];
        shuffle(&mut Xoshiro128PlusPlus::seed_from_u64(0), &mut empty);
    }

    #[test]
    fn choose_is_a_partial_fisher_yates() {
        for seed in 0..20 {
            let mut a: [u16; 50] = core::array::from_fn(|i| i as u16);
            let mut b = a;
            let mut ra = Xoshiro128PlusPlus::seed_from_u64(seed);
            let mut rb = ra.clone();
            choose(&mut ra, &mut a, 10);
            for i in 0..10 {
                let j = i + below_reference(&mut rb, 50 - i);
                b.swap(i, j);
            }
            assert_eq!(a, b);
            assert_eq!(ra, rb);
            a.sort_unstable();
            assert_eq!(a, core::array::from_fn(|i| i as u16)); // still a permutation
        }
        // k beyond the length: a full permutation, no draw past the end
        let mut c = [1u8, 2, 3];
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(9);
        choose(&mut rng, &mut c, 10);
        c.sort_unstable();
        assert_eq!(c, [1, 2, 3]);
    }
}

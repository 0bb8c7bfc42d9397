//! Random initialisations and a determinant for the crate's tests: Gaussian draws (unlike the
//! exact seeded models of [`super::seeded_paper_model`]), so gradients and Jacobians are checked
//! on generic parameters.

use crate::flow::RealNvp;
use crate::math;
use crate::network::Parameters;
use crate::random::{Xoshiro128PlusPlus, standard_normal};

/// Most tensors [`randomize`] handles (weight and bias of 32 layers).
const MAX_TENSORS: usize = 64;

/// He-style random initialisation of a stack of dense layers (tensors visited as weight, bias
/// pairs): weights `N(0, gain²·2/fan_in)`, biases `N(0, 0.1²)`. Panics on more than 64 tensors.
pub fn randomize<P: Parameters>(p: &mut P, rng: &mut Xoshiro128PlusPlus, gain: f32) {
    let mut lens = [0usize; MAX_TENSORS];
    let mut n = 0;
    p.visit(&mut |t| {
        lens[n] = t.len();
        n += 1;
    });
    let mut k = 0;
    p.visit_mut(&mut |t| {
        let s = if k % 2 == 0 {
            let fan_in = lens[k] / lens[k + 1];
            gain * math::sqrt(2.0 / fan_in as f32)
        } else {
            0.1
        };
        for v in t.iter_mut() {
            *v = s * standard_normal(rng);
        }
        k += 1;
    });
}

/// Fill a flow's conditioners with random values `N(0, gain²)`.
pub fn randomize_flow<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>(
    f: &mut RealNvp<D, A, B, N1, N2, K>,
    rng: &mut Xoshiro128PlusPlus,
    gain: f32,
) where
    N1: Parameters,
    N2: Parameters,
{
    f.visit_mut(&mut |t| {
        for v in t.iter_mut() {
            *v = gain * standard_normal(rng);
        }
    });
}

/// Determinant of a small square matrix by Gaussian elimination with partial pivoting (f64).
pub fn det<const D: usize>(mut m: [[f64; D]; D]) -> f64 {
    let mut det = 1.0;
    for c in 0..D {
        let mut p = c; // the last of equal pivots, as `Iterator::max_by` picks
        for r in c + 1..D {
            if m[r][c].abs() >= m[p][c].abs() {
                p = r;
            }
        }
        if m[p][c] == 0.0 {
            return 0.0;
        }
        if p != c {
            m.swap(p, c);
            det = -det;
        }
        det *= m[c][c];
        for r in c + 1..D {
            let f = m[r][c] / m[c][c];
            for k in c..D {
                m[r][k] -= f * m[c][k];
            }
        }
    }
    det
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn determinants_of_known_matrices() {
        assert_eq!(det([[2.0, 0.0], [0.0, 3.0]]), 6.0);
        assert_eq!(det([[0.0, 1.0], [1.0, 0.0]]), -1.0);
        assert_eq!(det([[1.0, 2.0], [2.0, 4.0]]), 0.0);
        let m = [[4.0, 3.0, 2.0], [1.0, 3.0, 1.0], [2.0, 1.0, 5.0]];
        assert!((det(m) - 37.0).abs() < 1e-12);
    }
}

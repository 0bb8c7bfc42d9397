//! Shared helpers for the integration tests.
#![allow(dead_code)]

use emberflow_core::random::standard_normal;
use emberflow_core::{Parameters, RealNvp, Xoshiro128PlusPlus};

/// He-style random initialisation of a stack of dense layers (tensors visited as weight, bias
/// pairs): weights N(0, gain²·2/fan_in), biases N(0, 0.1²).
pub fn randomize<P: Parameters>(p: &mut P, rng: &mut Xoshiro128PlusPlus, gain: f32) {
    let mut lens = Vec::new();
    p.visit(&mut |t| lens.push(t.len()));
    let mut k = 0;
    p.visit_mut(&mut |t| {
        let s = if k % 2 == 0 {
            let fan_in = lens[k] / lens[k + 1];
            gain * (2.0 / fan_in as f32).sqrt()
        } else {
            0.1
        };
        for v in t.iter_mut() {
            *v = s * standard_normal(rng);
        }
        k += 1;
    });
}

/// Fill a flow's conditioners with random values of scale `gain`.
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
        let p = (c..D)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap();
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

//! Quantised against f32 on the committed 2-D paper model (`models/four_modes_2d_*.efm`).
//! Stated tolerances (measured values in BENCHMARKS.md, "Model file"):
//!
//! | quantity (61 × 61 grid over [−3, 3]², model space) | int16 | int8 |
//! |---|---|---|
//! | max \|U_q − U_f32\| (tilted energy)                 | ≤ 0.005 | ≤ 0.5 |
//! | RMS \|U_q − U_f32\|                                 | ≤ 0.002 | ≤ 0.3 |
//! | max where U_f32 ≤ min U + 10 (the data region)     | ≤ 0.005 | ≤ 0.5 |
//! | mode weights of exp(−U), max difference            | ≤ 0.001 | ≤ 0.04 |
//!
//! The int8 energy error stays below the model's own fit error (RMS 0.74, `models/README.md`)
//! because the generator snaps the hidden layers to their int8 grids before fitting the output
//! layer; int16 is effectively lossless. Whatever the encoding, the flow is an exact density of
//! the map it samples with: it integrates to 1 ± 1e-3 and inverse ∘ forward = id.

use emberflow_core::model::Model2d;
use emberflow_core::{Energy, Flow, StepStats, Xoshiro128PlusPlus};

const F32: &[u8] = include_bytes!("../../models/four_modes_2d_f32.efm");
const I16: &[u8] = include_bytes!("../../models/four_modes_2d_int16.efm");
const I8: &[u8] = include_bytes!("../../models/four_modes_2d_int8.efm");

fn grid() -> impl Iterator<Item = [f32; 2]> {
    (0..61).flat_map(|i| (0..61).map(move |j| [-3.0 + 0.1 * i as f32, -3.0 + 0.1 * j as f32]))
}

/// Mode weights of exp(−U): grid cells assigned to the nearest mode along x (data space).
fn mode_weights(m: &Model2d<'_>) -> [f64; 4] {
    let mut mass = [0.0f64; 4];
    for i in 0..300 {
        for j in 0..300 {
            let z = [
                -3.2 + 5.2 * (i as f32 + 0.5) / 300.0,
                -4.0 + 8.0 * (j as f32 + 0.5) / 300.0,
            ];
            let mut x = z;
            m.to_data(&mut x);
            let k = ((f64::from(x[0]) + 3.0) / 2.0).round().clamp(0.0, 3.0) as usize;
            mass[k] += (-f64::from(m.energy.energy(&z))).exp();
        }
    }
    let total: f64 = mass.iter().sum();
    mass.map(|v| v / total)
}

struct Errors {
    max: f64,
    rms: f64,
    max_data: f64,
    modes: f64,
}

fn energy_errors(reference: &Model2d<'_>, q: &Model2d<'_>) -> Errors {
    let u_min = grid()
        .map(|z| reference.energy.energy(&z))
        .fold(f32::INFINITY, f32::min);
    let (mut max, mut sq, mut n, mut max_data) = (0.0f64, 0.0f64, 0, 0.0f64);
    for z in grid() {
        let u = reference.energy.energy(&z);
        let d = (f64::from(u) - f64::from(q.energy.energy(&z))).abs();
        max = max.max(d);
        sq += d * d;
        n += 1;
        if u <= u_min + 10.0 {
            max_data = max_data.max(d);
        }
    }
    let (a, b) = (mode_weights(reference), mode_weights(q));
    let modes = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    Errors {
        max,
        rms: (sq / f64::from(n)).sqrt(),
        max_data,
        modes,
    }
}

#[test]
fn quantised_energies_are_within_tolerance() {
    let f = Model2d::decode(F32).unwrap();
    for (name, bytes, max, rms, max_data, modes) in [
        ("int16", I16, 0.005, 0.002, 0.005, 0.001),
        ("int8", I8, 0.5, 0.3, 0.5, 0.04),
    ] {
        let q = Model2d::decode(bytes).unwrap();
        let e = energy_errors(&f, &q);
        println!(
            "{name}: max |dU| {:.4}, rms {:.4}, max in data region {:.4}, mode weights {:.4}",
            e.max, e.rms, e.max_data, e.modes
        );
        assert!(e.max <= max, "{name}: max |dU| {}", e.max);
        assert!(e.rms <= rms, "{name}: rms {}", e.rms);
        assert!(
            e.max_data <= max_data,
            "{name}: data-region max {}",
            e.max_data
        );
        assert!(
            e.modes <= modes,
            "{name}: mode weights differ by {}",
            e.modes
        );
        // the statistics recorded at export agree with this measurement
        let recorded = q.header.quant.model.unwrap();
        assert_eq!(recorded.points, 61 * 61);
        assert!((f64::from(recorded.energy_max_abs) - e.max).abs() < 1e-3);
    }
}

#[test]
fn quantised_flows_are_exact_densities() {
    for (name, bytes) in [("f32", F32), ("int16", I16), ("int8", I8)] {
        let m = Model2d::decode(bytes).unwrap();
        // ∫ λ over [−8, 8]² by the midpoint rule, h = 0.02
        let h = 0.02f64;
        let n = (16.0 / h) as usize;
        let mut total = 0.0f64;
        for i in 0..n {
            for j in 0..n {
                let x = [
                    (-8.0 + (i as f64 + 0.5) * h) as f32,
                    (-8.0 + (j as f64 + 0.5) * h) as f32,
                ];
                total += f64::from(m.flow.log_density(&x)).exp() * h * h;
            }
        }
        println!("{name}: integral of the flow density {total:.6}");
        assert!((total - 1.0).abs() < 1e-3, "{name}: ∫λ = {total}");
        // inverse ∘ forward = id, log-determinants opposite
        let mut worst = 0.0f32;
        for z in grid() {
            let (mut x, mut back) = ([0.0; 2], [0.0; 2]);
            let ld = m.flow.transform(&z, &mut x);
            let ld_inv = m.flow.inverse(&x, &mut back);
            assert!((ld + ld_inv).abs() < 1e-5, "{name}: log-dets {ld} {ld_inv}");
            worst = worst.max((back[0] - z[0]).abs().max((back[1] - z[1]).abs()));
        }
        assert!(worst < 1e-5, "{name}: |T⁻¹(T(z)) − z| = {worst}");
    }
}

#[test]
fn committed_models_sample_with_their_recorded_settings() {
    for bytes in [F32, I16, I8] {
        let m = Model2d::decode(bytes).unwrap();
        let sampler = m.sampler().unwrap();
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(11);
        let mut stats = StepStats::default();
        let mut chain = sampler.chain([0.0, 0.0], m.step_size());
        for _ in 0..20 {
            sampler.sweep(&mut chain, &mut rng, &mut stats);
        }
        assert!(chain.x.iter().all(|v| v.is_finite()));
        assert!(
            stats.global_accepted > 0 && stats.local_accepted > 0,
            "{stats:?}"
        );
        let mut x = chain.x;
        m.to_data(&mut x);
        assert!(x[0] > -5.0 && x[0] < 5.0 && x[1].abs() < 2.0, "{x:?}");
    }
}

//! The generator of the committed model files under `models/` (`four_modes_2d_*.efm`), run by
//! the `make_models` example:
//!
//! ```text
//! cargo run -p emberflow-core --release --example make_models            # writes models/*.efm
//! cargo run -p emberflow-core --release --example make_models -- DIR     # writes DIR/*.efm
//! ```
//!
//! There is no trainer yet, so these are *not* flowMC-EBM models. They are the paper's 2-D
//! shapes (`Energy2d`, `Flow2d`), built deterministically from fixed seeds:
//!
//! * **Energy** — fitted to the "four modes" mixture of the paper (App. C.3: weights 0.1, 0.2,
//!   0.3, 0.4 at x = −3, −1, 1, 3 on the horizontal axis, covariance 0.05 I) by a *random
//!   features* least-squares fit. The four hidden layers `2 → 32 → 64 → 64 → 64` keep seeded
//!   weights: layer 1 is 26 ridge units across x and 6 across y with jittered directions and
//!   kinks spread over the data; layers 2–4 pass those 32 features on (identity plus Gaussian
//!   noise of 0.05) and add 32 He-scaled random mixtures; all four are then snapped onto their
//!   int8 grids (quantisation-aware: without it the int8 file's energy error reached 1.9, RMS
//!   0.75, and moved the mode weights by 0.15). Only the output layer `64 → 1` is solved, by ridge-regularised least squares in f64, so that the tilted energy `U = E − ln ρ`
//!   matches `−ln p*` (up to a constant) on 6000 points, half drawn from the mixture and half
//!   uniform around it (target capped 30 above its minimum). The fit RMS and the mode weights
//!   of `exp(−U)` are recorded as the file's metrics.
//! * **Flow** — untrained: RealNVP, 4 blocks, hidden 16, seeded random conditioner weights
//!   (uniform ±0.4) with scale bound c = 0.25 (the `dt` of the paper's reference code for 4
//!   blocks). Over the standard-normal base it is a mild, non-linear warp of N(0, I), which in
//!   the model space below already covers the data.
//! * **Normalisation** — the data are standardised per dimension (shift = the mixture mean
//!   (1, 0), scale = its standard deviations (√4.05, √0.05)); the base ρ = N(0, I) in model
//!   space serves both the tilt and the flow.
//!
//! The same model is written as f32, int16 and int8; the quantised files record the
//! quantisation error of the weights and, measured here on a 61 × 61 grid over [−3, 3]², of
//! the energy and of the flow's log-density. Everything is bit-reproducible: core's
//! xoshiro128++ stream, libm, and f32 kernels with a fixed summation order.
//!
//! The integration test `core/tests/model_committed.rs` checks that the committed files equal
//! what [`generate`] makes. Needs std (feature `model-generator`).

use crate::model::quant;
use crate::model::{
    Bounded, Encoding, Export, F32s, ModelErrors, Normalization, SamplerSpec, Training,
    encode_energy_flow,
};
use crate::random::{standard_normal, uniform_open01};
use crate::shapes::{Energy2d, Flow2d, PaperEnergyNet};
use crate::{
    AffineCoupling, CouplingBlock, DiagGaussian, Energy, Flow, FlowMcConfig, GlobalMove, MlpEnergy,
    Network, Parameters, RealNvp, Schedule, Tilted, Xoshiro128PlusPlus,
};
use std::string::String;
use std::vec::Vec;
use std::{format, vec};

/// Mixture weights of the four-modes data set.
pub const WEIGHTS: [f64; 4] = [0.1, 0.2, 0.3, 0.4];
/// Mode centres (x; y = 0).
pub const MEANS_X: [f64; 4] = [-3.0, -1.0, 1.0, 3.0];
/// Per-coordinate variance of each mode.
pub const MODE_VAR: f64 = 0.05;
/// Data normalisation: shift.
pub const SHIFT: [f32; 2] = [1.0, 0.0];
/// Data normalisation: scale (√4.05, √0.05).
pub const SCALE: [f32; 2] = [2.012_461_2, 0.223_606_8];
/// Seed of the energy's random features and fit points.
pub const ENERGY_SEED: u64 = 20_230_600;
/// Seed of the flow's weights.
pub const FLOW_SEED: u64 = 20_230_601;
/// Snap the energy's hidden weights to the int8 grid before the fit (see `fit_energy`).
pub const SNAP_HIDDEN_TO_INT8: bool = true;
/// File stem of the committed models.
pub const STEM: &str = "four_modes_2d";

/// `−ln p*(x)` of the four-modes mixture in data space (f64).
pub fn neg_log_density_data(x: [f64; 2]) -> f64 {
    let norm = -(2.0 * std::f64::consts::PI * MODE_VAR).ln();
    let mut terms = [0.0f64; 4];
    for k in 0..4 {
        let dx = x[0] - MEANS_X[k];
        terms[k] = WEIGHTS[k].ln() + norm - 0.5 * (dx * dx + x[1] * x[1]) / MODE_VAR;
    }
    let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    -(m + libm::log(terms.iter().map(|t| libm::exp(t - m)).sum::<f64>()))
}

/// `−ln p_model(z)` in model space (`x = shift + scale ⊙ z`).
pub fn neg_log_density_model(z: [f32; 2]) -> f64 {
    let x = [
        f64::from(SHIFT[0]) + f64::from(SCALE[0]) * f64::from(z[0]),
        f64::from(SHIFT[1]) + f64::from(SCALE[1]) * f64::from(z[1]),
    ];
    neg_log_density_data(x) - libm::log(f64::from(SCALE[0]) * f64::from(SCALE[1]))
}

/// A draw from the mixture, in model space.
fn sample_model(rng: &mut Xoshiro128PlusPlus) -> [f32; 2] {
    let u = f64::from(uniform_open01(rng));
    let mut k = 0;
    let mut acc = WEIGHTS[0];
    while u > acc && k < 3 {
        k += 1;
        acc += WEIGHTS[k];
    }
    let sd = MODE_VAR.sqrt();
    let x = [
        MEANS_X[k] + sd * f64::from(standard_normal(rng)),
        sd * f64::from(standard_normal(rng)),
    ];
    [
        ((x[0] - f64::from(SHIFT[0])) / f64::from(SCALE[0])) as f32,
        ((x[1] - f64::from(SHIFT[1])) / f64::from(SCALE[1])) as f32,
    ]
}

/// The fitted energy and the quality of the fit.
pub struct Fit {
    /// The tilted energy.
    pub energy: Energy2d,
    /// RMS of `U − U*` on points drawn from the data (U* = −ln p*, constant fitted).
    pub rms_data: f64,
    /// RMS of `U − U*` on the uniform points (capped target).
    pub rms_box: f64,
    /// Fit points.
    pub points: usize,
    /// Mode weights of `exp(−U)` (true: 0.1, 0.2, 0.3, 0.4).
    pub mode_weights: [f64; 4],
}

/// The random-features least-squares fit of the energy (see the file's documentation).
pub fn fit_energy() -> Fit {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(ENERGY_SEED);
    let mut net = PaperEnergyNet::<2>::zeroed();
    // Layer 1: 26 ridge units across x (the modes' axis) and 6 across y, directions jittered
    // by up to ±0.05 rad, kinks at evenly spread positions with a random offset.
    let l1 = &mut net.first.first;
    for o in 0..32 {
        let (along_x, k, n) = if o < 26 {
            (true, o, 26)
        } else {
            (false, o - 26, 6)
        };
        let (lo, hi) = if along_x {
            (-2.4f32, 1.4f32)
        } else {
            (-2.5, 2.5)
        };
        let pos = lo + (hi - lo) * (k as f32 + uniform_open01(&mut rng)) / n as f32;
        let jitter = 0.1 * (uniform_open01(&mut rng) - 0.5);
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        let theta = if along_x {
            jitter
        } else {
            std::f32::consts::FRAC_PI_2 + jitter
        };
        let (s, c) = theta.sin_cos();
        let (wx, wy) = (sign * c, sign * s);
        let p = if along_x { [pos, 0.0] } else { [0.0, pos] };
        l1.update(|w, b| {
            w[o] = [wx, wy];
            b[o] = -(wx * p[0] + wy * p[1]);
        });
    }
    // Layers 2–4: close to the identity on the first 32 features (plus Gaussian noise of
    // 0.05), the other rows of layer 2 He-scaled random mixtures.
    let noisy_identity =
        |rng: &mut Xoshiro128PlusPlus, w: &mut [f32], fan_in: usize, keep: usize| {
            for (o, row) in w.chunks_exact_mut(fan_in).enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = if o < keep {
                        f32::from(u8::from(o == j)) + 0.05 * standard_normal(rng)
                    } else {
                        (2.0 / fan_in as f32).sqrt() * standard_normal(rng)
                    };
                }
            }
        };
    net.second
        .first
        .first
        .update(|w, _| noisy_identity(&mut rng, w.as_flattened_mut(), 32, 32));
    net.second
        .second
        .first
        .first
        .update(|w, _| noisy_identity(&mut rng, w.as_flattened_mut(), 64, 64));
    net.second
        .second
        .second
        .first
        .first
        .update(|w, _| noisy_identity(&mut rng, w.as_flattened_mut(), 64, 64));

    // Quantisation-aware: snap the hidden layers onto their int8 grids (per-row symmetric
    // scales), so the int8 file's error comes from the fitted output layer alone.
    if SNAP_HIDDEN_TO_INT8 {
        let snap = |w: &mut [f32], fan_in: usize| {
            for row in w.chunks_exact_mut(fan_in) {
                let s = quant::row_scale(row, 127).expect("finite row");
                for v in row.iter_mut() {
                    *v = quant::dequantize(quant::quantize(*v, s, 127), s);
                }
            }
        };
        net.first.first.update(|w, _| snap(w.as_flattened_mut(), 2));
        net.second
            .first
            .first
            .update(|w, _| snap(w.as_flattened_mut(), 32));
        net.second
            .second
            .first
            .first
            .update(|w, _| snap(w.as_flattened_mut(), 64));
        net.second
            .second
            .second
            .first
            .first
            .update(|w, _| snap(w.as_flattened_mut(), 64));
    }

    // Fit points: half from the data, half uniform over a box around it.
    const N: usize = 6000;
    let mut points = Vec::with_capacity(N);
    for i in 0..N {
        points.push(if i % 2 == 0 {
            sample_model(&mut rng)
        } else {
            [
                -2.6 + 4.2 * uniform_open01(&mut rng),
                -3.5 + 7.0 * uniform_open01(&mut rng),
            ]
        });
    }
    let base = DiagGaussian::<2>::standard();
    let u_star: Vec<f64> = points.iter().map(|z| neg_log_density_model(*z)).collect();
    let cap = u_star.iter().cloned().fold(f64::INFINITY, f64::min) + 30.0;
    // Targets for E = U + ln ρ, features = the 64 last hidden activations (+ 1).
    let features = |z: &[f32; 2]| {
        let mut h = [0.0f32; 64];
        let mut h1 = [0.0f32; 32];
        net.first.forward(z, &mut h1);
        let mut h2 = [0.0f32; 64];
        net.second.first.forward(&h1, &mut h2);
        let mut h3 = [0.0f32; 64];
        net.second.second.first.forward(&h2, &mut h3);
        net.second.second.second.first.forward(&h3, &mut h);
        h
    };
    const P: usize = 65;
    let mut ata = vec![[0.0f64; P]; P];
    let mut atb = [0.0f64; P];
    for (z, u) in points.iter().zip(&u_star) {
        let h = features(z);
        let mut phi = [1.0f64; P];
        for j in 0..64 {
            phi[j] = f64::from(h[j]);
        }
        let target = u.min(cap) + f64::from(base.log_density(z));
        for i in 0..P {
            atb[i] += phi[i] * target;
            for j in 0..P {
                ata[i][j] += phi[i] * phi[j];
            }
        }
    }
    // Ridge 1e-3 (relative to the mean diagonal) keeps the output weights small (|w| < 7):
    // weaker ridges fit a little better but amplify the int8 error of the hidden layers.
    let ridge = 1e-3 * (0..P).map(|i| ata[i][i]).sum::<f64>() / P as f64;
    for (i, row) in ata.iter_mut().enumerate() {
        row[i] += ridge;
    }
    let coef = cholesky_solve(ata, atb);
    let out = &mut net.second.second.second.second;
    out.update(|w, b| {
        for j in 0..64 {
            w[0][j] = coef[j] as f32;
        }
        b[0] = coef[64] as f32;
    });

    let energy = Tilted::new(MlpEnergy::new(net), base);
    // Fit quality (constant offset removed: the fit includes a bias, compare centred residuals).
    let resid: Vec<f64> = points
        .iter()
        .zip(&u_star)
        .map(|(z, u)| f64::from(energy.energy(z)) - u.min(cap))
        .collect();
    let rms = |idx: &mut dyn Iterator<Item = usize>| {
        let v: Vec<f64> = idx.map(|i| resid[i]).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / v.len() as f64).sqrt()
    };
    // Mode weights of exp(−U) on a fine grid (each point to its nearest mode along x).
    let mut mass = [0.0f64; 4];
    for i in 0..400 {
        for j in 0..400 {
            let z = [
                -3.2 + 5.2 * (i as f32 + 0.5) / 400.0,
                -4.0 + 8.0 * (j as f32 + 0.5) / 400.0,
            ];
            let x = f64::from(SHIFT[0]) + f64::from(SCALE[0]) * f64::from(z[0]);
            let k = ((x + 3.0) / 2.0).round().clamp(0.0, 3.0) as usize;
            mass[k] += libm::exp(-f64::from(energy.energy(&z)));
        }
    }
    let total: f64 = mass.iter().sum();
    let mode_weights = mass.map(|m| m / total);
    Fit {
        mode_weights,
        energy,
        rms_data: rms(&mut (0..N).step_by(2)),
        rms_box: rms(&mut (1..N).step_by(2)),
        points: N,
    }
}

/// Solve `A x = b` for a symmetric positive definite `A` (Cholesky, f64).
fn cholesky_solve<const P: usize>(mut a: Vec<[f64; P]>, b: [f64; P]) -> [f64; P] {
    for j in 0..P {
        let mut d = a[j][j];
        for k in 0..j {
            d -= a[j][k] * a[j][k];
        }
        let d = d.max(1e-300).sqrt();
        a[j][j] = d;
        for i in j + 1..P {
            let mut s = a[i][j];
            for k in 0..j {
                s -= a[i][k] * a[j][k];
            }
            a[i][j] = s / d;
        }
    }
    let mut y = [0.0; P];
    for i in 0..P {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i][k] * y[k];
        }
        y[i] = s / a[i][i];
    }
    let mut x = [0.0; P];
    for i in (0..P).rev() {
        let mut s = y[i];
        for k in i + 1..P {
            s -= a[k][i] * x[k];
        }
        x[i] = s / a[i][i];
    }
    x
}

/// The untrained flow (see the file's documentation).
pub fn make_flow() -> Flow2d {
    let identity = Flow2d::identity(DiagGaussian::standard());
    let blocks: [CouplingBlock<2, 1, 1, _, _>; 4] = core::array::from_fn(|k| {
        let b = &identity.blocks[k];
        CouplingBlock {
            first: AffineCoupling::new(
                *b.first.cond(),
                *b.first.trans(),
                0.25,
                b.first.scale_net.clone(),
                b.first.shift_net.clone(),
            )
            .expect("half masks are partitions"),
            second: AffineCoupling::new(
                *b.second.cond(),
                *b.second.trans(),
                0.25,
                b.second.scale_net.clone(),
                b.second.shift_net.clone(),
            )
            .expect("half masks are partitions"),
        }
    });
    let mut flow = RealNvp::new(blocks, DiagGaussian::standard());
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(FLOW_SEED);
    flow.visit_mut(&mut |t| {
        for v in t.iter_mut() {
            *v = 0.4 * (2.0 * uniform_open01(&mut rng) - 1.0);
        }
    });
    flow
}

/// The sampler settings recorded in the files: i-SIR with 64 particles + 24 MALA steps, one
/// round (App. C.3), step size adapted towards 0.75 acceptance, 8192 chains.
pub fn sampler() -> SamplerSpec {
    let config = FlowMcConfig {
        schedule: Schedule {
            global: GlobalMove::Isir { particles: 64 },
            mala_steps: 24,
            rounds: 1,
        },
        adaptation: Some(Default::default()),
    };
    SamplerSpec::new(&config, 0.005, 8192)
}

/// Encode into a new vector.
pub fn to_vec(energy: &Energy2d, flow: &Flow2d, export: &Export<'_>) -> Vec<u8> {
    let needed = match encode_energy_flow(energy, flow, export, &mut []) {
        Err(crate::Error::BufferTooSmall { needed }) => needed as usize,
        other => panic!("sizing the model file: {other:?}"),
    };
    let mut buf = vec![0u8; needed];
    let n = encode_energy_flow(energy, flow, export, &mut buf).expect("encoding");
    buf.truncate(n);
    buf
}

/// Errors of a quantised model against the f32 one on a 61 × 61 grid over [−3, 3]².
pub fn model_errors(f32_file: &[u8], q_file: &[u8]) -> ModelErrors {
    let a = crate::model::Model2d::decode(f32_file).expect("f32 file");
    let b = crate::model::Model2d::decode(q_file).expect("quantised file");
    let (mut e_max, mut e_sq, mut l_max, mut l_sq, mut n) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0);
    for i in 0..61 {
        for j in 0..61 {
            let z = [-3.0 + 0.1 * i as f32, -3.0 + 0.1 * j as f32];
            let de = f64::from(a.energy.energy(&z)) - f64::from(b.energy.energy(&z));
            let dl = f64::from(a.flow.log_density(&z)) - f64::from(b.flow.log_density(&z));
            e_max = e_max.max(de.abs());
            l_max = l_max.max(dl.abs());
            e_sq += de * de;
            l_sq += dl * dl;
            n += 1;
        }
    }
    ModelErrors {
        points: n,
        energy_max_abs: e_max as f32,
        energy_rms: (e_sq / f64::from(n)).sqrt() as f32,
        log_density_max_abs: l_max as f32,
        log_density_rms: (l_sq / f64::from(n)).sqrt() as f32,
    }
}

/// `(file name, bytes)` of every committed model, and the fit.
pub fn generate() -> (Vec<(String, Vec<u8>)>, Fit) {
    let fit = fit_energy();
    let flow = make_flow();
    let metrics = [
        ("mode_w1", fit.mode_weights[0] as f32),
        ("mode_w2", fit.mode_weights[1] as f32),
        ("mode_w3", fit.mode_weights[2] as f32),
        ("mode_w4", fit.mode_weights[3] as f32),
        ("fit_rms_data", fit.rms_data as f32),
        ("fit_rms_box", fit.rms_box as f32),
        ("fit_points", fit.points as f32),
    ];
    let export = |encoding, model_errors| Export {
        encoding,
        f32_output_layers: false,
        normalization: Normalization {
            shift: F32s::Native(&SHIFT),
            scale: F32s::Native(&SCALE),
        },
        sampler: sampler(),
        training: Training {
            dataset: "four-modes (paper App. C.3); energy: random-features least squares, flow: untrained",
            iterations: 0,
            seed: ENERGY_SEED,
            metrics: Bounded::from_slice(&metrics).expect("7 metrics"),
        },
        model_errors,
    };
    let f32_bytes = to_vec(&fit.energy, &flow, &export(Encoding::F32, None));
    let mut files = vec![(format!("{STEM}_f32.efm"), f32_bytes.clone())];
    for (enc, name) in [(Encoding::I16, "int16"), (Encoding::I8, "int8")] {
        let first = to_vec(&fit.energy, &flow, &export(enc, None));
        let errors = model_errors(&f32_bytes, &first);
        files.push((
            format!("{STEM}_{name}.efm"),
            to_vec(&fit.energy, &flow, &export(enc, Some(errors))),
        ));
    }
    (files, fit)
}

//! Model files of odd shapes for the firmware parity checks: dimensions 3, 24, 30 and 100,
//! widths that are not multiples of 4 or 8, energies of 1 to 6 hidden layers, f32 and int8,
//! with seeded weights, written by `encode_runtime` to `target/firmware-shapes/`.

use anyhow::{Context, Result, anyhow};
use emberflow_core::model::lists::{Bounded, F32s};
use emberflow_core::model::{
    ANOMALY_THRESHOLD, AnyEncoding, Encoding, Export, Normalization, SamplerSpec, Training, U16s,
    encode_runtime,
};
use emberflow_core::random::uniform_open01;
use emberflow_core::runtime::{Coupling, Layer, Mlp, RealNvpFlow};
use emberflow_core::{ActivationKind, FlowMcConfig, GlobalMove, Schedule, Xoshiro128PlusPlus};
use std::path::PathBuf;

/// One odd shape: dimension, energy hidden widths, flow blocks, conditioner hidden widths,
/// encoding.
pub struct Shape {
    /// Data dimension.
    pub d: usize,
    /// Hidden widths of the energy network.
    pub energy: &'static [usize],
    /// Flow blocks (two couplings each).
    pub blocks: usize,
    /// Hidden widths of every conditioner.
    pub conditioner: &'static [usize],
    /// Weight encoding of the file.
    pub encoding: Encoding,
}

/// The shapes the parity checks run: small, so QEMU runs them in seconds.
pub const SHAPES: [Shape; 4] = [
    Shape {
        d: 3,
        energy: &[5],
        blocks: 1,
        conditioner: &[7],
        encoding: Encoding::F32,
    },
    Shape {
        d: 24,
        energy: &[13, 9, 11, 7, 5, 6],
        blocks: 2,
        conditioner: &[10],
        encoding: Encoding::I8,
    },
    Shape {
        d: 30,
        energy: &[21, 11],
        blocks: 1,
        conditioner: &[9, 5],
        encoding: Encoding::F32,
    },
    Shape {
        d: 100,
        energy: &[17],
        blocks: 1,
        conditioner: &[6],
        encoding: Encoding::I8,
    },
];

/// Seeded parameters of dense layers of sizes `sizes` (file layout: weights row by row, then
/// biases), scaled by `gain / √fan-in`.
fn params(sizes: &[usize], gain: f32, rng: &mut Xoshiro128PlusPlus) -> Vec<Vec<f32>> {
    sizes
        .windows(2)
        .map(|io| {
            let g = gain / (io[0] as f32).sqrt();
            (0..io[1] * (io[0] + 1))
                .map(|_| g * (2.0 * uniform_open01(rng) - 1.0))
                .collect()
        })
        .collect()
}

fn layers<'a>(params: &'a [Vec<f32>], sizes: &[usize]) -> Result<Vec<Layer<'a>>> {
    params
        .iter()
        .zip(sizes.windows(2))
        .map(|(p, io)| Layer::from_f32(p, io[0], io[1]).map_err(|e| anyhow!("{e}")))
        .collect()
}

fn sizes(input: usize, hidden: &[usize], output: usize) -> Vec<usize> {
    let mut s = vec![input];
    s.extend_from_slice(hidden);
    s.push(output);
    s
}

impl Shape {
    /// A short name: `d24-h6-int8`.
    pub fn name(&self) -> String {
        format!("d{}-h{}-{}", self.d, self.energy.len(), self.encoding)
    }

    /// Write the model file (seeded weights, the IMH schedule) and return its path.
    pub fn write(&self, seed: u64) -> Result<PathBuf> {
        self.write_with(seed, None)
    }

    /// [`Shape::write`], the file carrying the anomaly threshold `threshold` (the metric
    /// `anomaly_threshold`, as `emberflow train --threshold-quantile` writes it) if given; a
    /// file with a threshold is named `…-alarm.efm`.
    pub fn write_with(&self, seed: u64, threshold: Option<f32>) -> Result<PathBuf> {
        let d = self.d;
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
        let e_sizes = sizes(d, self.energy, 1);
        let e_params = params(&e_sizes, 1.0, &mut rng);
        let e_layers = layers(&e_params, &e_sizes)?;
        let energy = Mlp::<'_, AnyEncoding, 7>::new(&e_layers, ActivationKind::LeakyRelu)
            .map_err(|e| anyhow!("{e}"))?;
        let a = d / 2;
        let index: Vec<u16> = (0..d as u16).collect();
        let (lower, upper) = index.split_at(a);
        let cond_params: Vec<(Vec<usize>, Vec<Vec<f32>>)> = (0..4 * self.blocks)
            .map(|k| {
                let coupling = k / 2;
                let cond = if coupling % 2 == 0 { a } else { d - a };
                let s = sizes(cond, self.conditioner, d - cond);
                let p = params(&s, 0.3, &mut rng);
                (s, p)
            })
            .collect();
        let nets: Vec<Mlp<'_, AnyEncoding, 4>> = cond_params
            .iter()
            .map(|(s, p)| {
                Mlp::new(&layers(p, s)?, ActivationKind::Tanh).map_err(|e| anyhow!("{e}"))
            })
            .collect::<Result<_>>()?;
        let couplings: Vec<Coupling<'_>> = nets
            .chunks(2)
            .enumerate()
            .map(|(c, n)| {
                let (cond, trans) = if c % 2 == 0 {
                    (lower, upper)
                } else {
                    (upper, lower)
                };
                Coupling {
                    cond: U16s::Native(cond),
                    trans: U16s::Native(trans),
                    scale: 1.0,
                    scale_net: n[0],
                    shift_net: n[1],
                }
            })
            .collect();
        let sigma = vec![1.0f32; d];
        let mut inv = vec![0.0f32; d];
        let flow: RealNvpFlow<'_> =
            RealNvpFlow::new(&couplings, &sigma, &mut inv).map_err(|e| anyhow!("{e}"))?;
        let shift: Vec<f32> = (0..d).map(|j| 0.25 * j as f32).collect();
        let scale: Vec<f32> = (0..d).map(|j| 1.0 + 0.125 * (j % 5) as f32).collect();
        let config = FlowMcConfig {
            schedule: Schedule {
                global: GlobalMove::Imh,
                mala_steps: 3,
                rounds: 1,
            },
            adaptation: Some(Default::default()),
        };
        let export = Export {
            encoding: self.encoding,
            f32_output_layers: false,
            normalization: Normalization {
                shift: F32s::Native(&shift),
                scale: F32s::Native(&scale),
            },
            sampler: SamplerSpec::new(&config, 0.05, 4),
            training: Training {
                dataset: "seeded odd shape (cargo xtask test)",
                iterations: 0,
                seed,
                metrics: match threshold {
                    Some(t) => {
                        Bounded::from_slice(&[(ANOMALY_THRESHOLD, t)]).context("one metric fits")?
                    }
                    None => Bounded::new(),
                },
            },
            model_errors: None,
        };
        let needed = match encode_runtime(&energy, &sigma, &flow, &export, &mut []) {
            Err(emberflow_core::Error::BufferTooSmall { needed }) => needed as usize,
            other => return Err(anyhow!("sizing the {} model: {other:?}", self.name())),
        };
        let mut buf = vec![0u8; needed];
        let n = encode_runtime(&energy, &sigma, &flow, &export, &mut buf)
            .map_err(|e| anyhow!("encoding the {} model: {e}", self.name()))?;
        buf.truncate(n);
        let dir = crate::setup::target_dir().join("firmware-shapes");
        std::fs::create_dir_all(&dir)?;
        let suffix = if threshold.is_some() { "-alarm" } else { "" };
        let path = dir.join(format!("{}{suffix}.efm", self.name()));
        std::fs::write(&path, &buf).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

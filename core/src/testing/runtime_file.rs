//! Model files of random run-time shapes with seeded weights, written by
//! [`encode_runtime`]: the property tests of the decoder (`core/tests/model_fuzz.rs`) and
//! the cargo-fuzz target `shapes` (`fuzz/`) draw shapes and read the files back.

use crate::activation::ActivationKind;
use crate::mcmc::FlowMcConfig;
use crate::mcmc::{Potential, Proposal};
use crate::model::ModelView;
use crate::model::{
    AnyEncoding, Bounded, Encoding, Export, F32s, Normalization, SamplerSpec, Training, U16s,
    encode_runtime,
};
use crate::random::Xoshiro128PlusPlus;
use crate::runtime::{Coupling, FileModel, Layer, Mlp, RealNvpFlow};
use std::vec;
use std::vec::Vec;

/// A random run-time shape: dimension, energy widths and activation, blocks, conditioner widths.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Data dimension (at least 2).
    pub d: usize,
    /// The energy's hidden widths.
    pub energy: Vec<usize>,
    /// The energy's activation: 0 leaky ReLU, 1 ReLU, 2 SiLU, 3 tanh.
    pub activation: usize,
    /// Flow blocks (two couplings each, halves `⌊d/2⌋` / rest).
    pub blocks: usize,
    /// The conditioners' hidden widths.
    pub cond: Vec<usize>,
    /// 0 f32, 1 int16, 2 int8.
    pub encoding: usize,
}

/// The f32 network of `p` with these widths.
fn mlp<'p, const L: usize>(
    p: &'p [Vec<f32>],
    widths: &[usize],
    act: ActivationKind,
) -> Mlp<'p, AnyEncoding, L> {
    let layers: Vec<Layer<'p>> = p
        .iter()
        .zip(widths.windows(2))
        .map(|(p, w)| Layer::from_f32(p, w[0], w[1]).unwrap())
        .collect();
    Mlp::new(&layers, act).unwrap()
}

/// The model file of a random model of `s` (weights `0.5·N(0, 1)` from `seed`). Panics on a
/// shape the encoder refuses (a test helper: the shapes it is given are valid by construction).
pub fn random_file(s: &Shape, seed: u64) -> Vec<u8> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut params = |widths: &[usize]| -> Vec<Vec<f32>> {
        widths
            .windows(2)
            .map(|w| {
                (0..w[0] * w[1] + w[1])
                    .map(|_| 0.5 * crate::random::standard_normal(&mut rng))
                    .collect()
            })
            .collect()
    };
    let d = s.d;
    let mut ew = vec![d];
    ew.extend(&s.energy);
    ew.push(1);
    let ep = params(&ew);
    let act = [
        ActivationKind::LeakyRelu,
        ActivationKind::Relu,
        ActivationKind::Silu,
        ActivationKind::Tanh,
    ][s.activation];
    let energy = mlp::<7>(&ep, &ew, act);
    let a = d / 2;
    let masks: Vec<(Vec<u16>, Vec<u16>)> = (0..2 * s.blocks)
        .map(|c| {
            if c % 2 == 0 {
                ((0..a as u16).collect(), (a as u16..d as u16).collect())
            } else {
                ((a as u16..d as u16).collect(), (0..a as u16).collect())
            }
        })
        .collect();
    let widths: Vec<Vec<usize>> = masks
        .iter()
        .map(|(c, t)| {
            let mut w = vec![c.len()];
            w.extend(&s.cond);
            w.push(t.len());
            w
        })
        .collect();
    let nets: Vec<Vec<Vec<f32>>> = widths
        .iter()
        .flat_map(|w| [w.clone(), w.clone()])
        .map(|w| params(&w))
        .collect();
    let couplings: Vec<Coupling<'_>> = masks
        .iter()
        .enumerate()
        .map(|(k, (c, t))| Coupling {
            cond: U16s::Native(c),
            trans: U16s::Native(t),
            scale: 1.0,
            scale_net: mlp::<4>(&nets[2 * k], &widths[k], ActivationKind::Relu),
            shift_net: mlp::<4>(&nets[2 * k + 1], &widths[k], ActivationKind::Relu),
        })
        .collect();
    let sigma = vec![1.2f32; d];
    let mut inv = vec![0.0; d];
    let flow: RealNvpFlow<'_> = RealNvpFlow::new(&couplings, &sigma, &mut inv).unwrap();
    let (shift, scale) = (vec![0.0f32; d], vec![1.0f32; d]);
    let export = Export {
        encoding: [Encoding::F32, Encoding::I16, Encoding::I8][s.encoding],
        f32_output_layers: s.encoding > 0,
        normalization: Normalization {
            shift: F32s::Native(&shift),
            scale: F32s::Native(&scale),
        },
        sampler: SamplerSpec::new(&FlowMcConfig::default(), 0.01, 64),
        training: Training {
            dataset: "fuzz",
            iterations: 1,
            seed,
            metrics: Bounded::new(),
        },
        model_errors: None,
    };
    let n = match encode_runtime(&energy, &sigma, &flow, &export, &mut []) {
        Err(crate::Error::BufferTooSmall { needed }) => needed as usize,
        other => panic!("{other:?}"),
    };
    let mut out = vec![0u8; n];
    encode_runtime(&energy, &sigma, &flow, &export, &mut out).unwrap();
    out
}

/// The run-time reader on a parsed file: any shape within the limits is decoded and evaluated
/// at one point (energy and gradient, flow density and a sample); nothing may panic.
pub fn exercise_runtime(view: &ModelView<'_>) {
    let d = usize::from(view.header().dim);
    let mut storage = vec![0.0; FileModel::<'_, AnyEncoding, 32>::storage_len(d)];
    let Ok(m) = FileModel::<'_, AnyEncoding, 32>::from_view(view, &mut storage) else {
        return;
    };
    let x: Vec<f32> = (0..d).map(|i| 0.1 * i as f32 - 0.3).collect();
    let mut g = vec![0.0; d];
    if let Some(u) = &m.energy {
        let mut scratch = vec![0.0; u.scratch_len()];
        let _ = u.energy_and_grad(&x, &mut g, &mut scratch);
    }
    if let Some(f) = &m.flow {
        let mut scratch = vec![0.0; f.scratch_len()];
        let _ = f.log_density(&x, &mut scratch);
        let mut y = vec![0.0; d];
        let _ = f.sample(
            &mut Xoshiro128PlusPlus::seed_from_u64(1),
            &mut y,
            &mut scratch,
        );
    }
}

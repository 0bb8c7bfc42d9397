//! Bad input never panics: 140,000 random and mutated blobs through the decoder (and, when one
//! parses, through the typed decoders and an evaluation). Mutations are applied to valid files
//! (the golden tiny models and the committed 2-D int8 model), both as they are — the CRC then
//! catches them — and with the length and CRC fixed up afterwards, so that they reach the
//! header and tensor checks; and through `ModelView::with_header` with the unmutated header (the
//! firmware's start-up path). Every blob that parses also goes through the run-time reader
//! (`runtime::FileModel`) and its energy, gradient, flow density and sample; and files of
//! random run-time shapes (dimension, depths, widths, activations, blocks) are written by
//! `encode_runtime`, mutated and read back. The cargo-fuzz target in `fuzz/` runs the same
//! checks unbounded.

use emberflow_core::model::view::Mlp1View;
use emberflow_core::model::{
    AnyEncoding, Bounded, Encoding, Export, F32s, Model2d, ModelView, Normalization, SamplerSpec,
    Training, U16s, crc32, encode_runtime,
};
use emberflow_core::runtime::{Coupling, FileModel, Layer, Mlp, RealNvpFlow};
use emberflow_core::{
    ActivationKind, Energy, Flow, FlowMcConfig, Potential, Proposal, Relu, Tanh, Xoshiro128PlusPlus,
};
use proptest::prelude::*;

const SEEDS: [&[u8]; 3] = [
    include_bytes!("data/tiny_v2_f32.efm"),
    include_bytes!("data/tiny_v2_int8.efm"),
    include_bytes!("../../models/four_modes_2d_int8.efm"),
];

type TinyNetView<'a> = Mlp1View<'a, 2, 3, 1, Tanh>;
type TinyCondView<'a> = Mlp1View<'a, 1, 2, 1, Relu>;

/// Parse, and if that works, decode every type that could fit and evaluate it.
fn exercise(bytes: &[u8]) {
    let Ok(view) = ModelView::parse(bytes) else {
        return;
    };
    let _ = view.tensors().count();
    if let Ok(e) = view.energy::<2, TinyNetView<'_>>() {
        let _ = e.energy(&[0.1, 0.2]);
    }
    if let Ok(f) = view.flow::<2, 1, 1, TinyCondView<'_>, TinyCondView<'_>, 1>() {
        let _ = f.log_density(&[0.1, 0.2]);
    }
    if let Ok(m) = Model2d::from_view(&view) {
        let mut g = [0.0; 2];
        let _ = m.energy.energy_and_grad(&[0.1, 0.2], &mut g);
        let _ = m.flow.log_density(&[0.1, 0.2]);
    }
    exercise_runtime(&view);
}

/// The run-time reader on a parsed file: any shape, evaluated at one point.
fn exercise_runtime(view: &ModelView<'_>) {
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

/// A random run-time shape: dimension, energy widths and activation, blocks, conditioner widths.
#[derive(Clone, Debug)]
struct Shape {
    d: usize,
    energy: Vec<usize>,
    activation: usize,
    blocks: usize,
    cond: Vec<usize>,
    encoding: usize,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        2usize..40,
        prop::collection::vec(1usize..24, 1..7),
        0usize..4,
        1usize..5,
        prop::collection::vec(1usize..12, 1..4),
        0usize..3,
    )
        .prop_map(|(d, energy, activation, blocks, cond, encoding)| Shape {
            d,
            energy,
            activation,
            blocks,
            cond,
            encoding,
        })
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

/// The model file of a random model of `s` (weights from `seed`).
fn random_file(s: &Shape, seed: u64) -> Vec<u8> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut params = |widths: &[usize]| -> Vec<Vec<f32>> {
        widths
            .windows(2)
            .map(|w| {
                (0..w[0] * w[1] + w[1])
                    .map(|_| 0.5 * emberflow_core::random::standard_normal(&mut rng))
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
        Err(emberflow_core::Error::BufferTooSmall { needed }) => needed as usize,
        other => panic!("{other:?}"),
    };
    let mut out = vec![0u8; n];
    encode_runtime(&energy, &sigma, &flow, &export, &mut out).unwrap();
    out
}

fn reseal(bytes: &mut [u8]) {
    if bytes.len() >= 14 {
        let body = (bytes.len() - 14) as u32;
        bytes[6..10].copy_from_slice(&body.to_le_bytes());
        let end = bytes.len() - 4;
        let crc = crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
    Splice(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, v)| Mutation::Splice(i, v)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::Flip(i, b) if !bytes.is_empty() => bytes[i % len] ^= 1 << b,
        Mutation::Set(i, v) if !bytes.is_empty() => bytes[i % len] = *v,
        Mutation::Insert(i, v) => bytes.insert(i % (bytes.len() + 1), *v),
        Mutation::Remove(i) if !bytes.is_empty() => {
            bytes.remove(i % len);
        }
        Mutation::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
        Mutation::Splice(i, v) if !bytes.is_empty() => {
            let at = i % len;
            let end = (at + v.len()).min(bytes.len());
            bytes[at..end].copy_from_slice(&v[..end - at]);
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_blobs(blob in prop::collection::vec(any::<u8>(), 0..600)) {
        exercise(&blob);
    }

    #[test]
    fn random_bodies_in_a_valid_envelope(body in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut blob = b"EFM\0\x01\x00\0\0\0\0".to_vec();
        blob.extend_from_slice(&body);
        blob.extend_from_slice(&[0; 4]);
        reseal(&mut blob);
        exercise(&blob);
    }

    #[test]
    fn mutated_files(seed in 0usize..3, muts in prop::collection::vec(mutation(), 1..4)) {
        let mut blob = SEEDS[seed].to_vec();
        for m in &muts {
            apply(&mut blob, m);
        }
        exercise(&blob);
    }

    #[test]
    fn mutated_and_resealed_tiny(seed in 0usize..2, muts in prop::collection::vec(mutation(), 1..4)) {
        let mut blob = SEEDS[seed].to_vec();
        for m in &muts {
            apply(&mut blob, m);
        }
        reseal(&mut blob);
        exercise(&blob);
    }

    #[test]
    fn mutated_and_resealed_2d(muts in prop::collection::vec(mutation(), 1..3)) {
        let mut blob = SEEDS[2].to_vec();
        for m in &muts {
            apply(&mut blob, m);
        }
        reseal(&mut blob);
        exercise(&blob);
    }

    /// The firmware's start-up path: the seed's header as checked ahead of time, the bytes
    /// mutated (and resealed, so the CRC passes) and any tensor offset.
    #[test]
    fn mutated_tensors_with_a_trusted_header(
        seed in 0usize..3,
        muts in prop::collection::vec(mutation(), 1..4),
        shift in 0usize..40,
    ) {
        let view = ModelView::parse(SEEDS[seed]).unwrap();
        let mut blob = SEEDS[seed].to_vec();
        for m in &muts {
            apply(&mut blob, m);
        }
        reseal(&mut blob);
        let at = (view.tensors_at() + shift).saturating_sub(20);
        if let Ok(v) = ModelView::with_header(&blob, *view.header(), at) {
            let _ = v.tensors().count();
            if let Ok(e) = v.energy::<2, TinyNetView<'_>>() {
                let mut g = [0.0; 2];
                let _ = e.energy_and_grad(&[0.1, 0.2], &mut g);
            }
            if let Ok(f) = v.flow::<2, 1, 1, TinyCondView<'_>, TinyCondView<'_>, 1>() {
                let _ = f.log_density(&[0.1, 0.2]);
            }
            if let Ok(m) = Model2d::from_view(&v) {
                let mut g = [0.0; 2];
                let _ = m.energy.energy_and_grad(&[0.1, -0.2], &mut g);
                let _ = m.flow.log_density(&[0.1, -0.2]);
            }
        }
    }

    #[test]
    fn mutated_headers_resealed(seed in 0usize..3, muts in prop::collection::vec((0usize..200, any::<u8>()), 1..4)) {
        // mutations concentrated on the header (the first ~200 bytes)
        let mut blob = SEEDS[seed].to_vec();
        for (i, v) in &muts {
            if 10 + i < blob.len() {
                blob[10 + i] = *v;
            }
        }
        reseal(&mut blob);
        exercise(&blob);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Files of random shapes read back whole, then mutated (resealed, so the CRC passes).
    #[test]
    fn random_shapes_written_and_mutated(
        s in shape(),
        seed in any::<u64>(),
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut blob = random_file(&s, seed);
        let view = ModelView::parse(&blob).unwrap();
        let mut storage = vec![0.0; FileModel::<'_, AnyEncoding, 32>::storage_len(s.d)];
        let m = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut storage).unwrap();
        prop_assert_eq!(m.energy.as_ref().unwrap().net().layers().len(), s.energy.len() + 1);
        prop_assert_eq!(m.flow.as_ref().unwrap().couplings().len(), 2 * s.blocks);
        for mu in &muts {
            apply(&mut blob, mu);
        }
        reseal(&mut blob);
        exercise(&blob);
    }
}

#[test]
fn seeds_are_valid() {
    for s in SEEDS {
        ModelView::parse(s).unwrap();
    }
}

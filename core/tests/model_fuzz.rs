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
use emberflow_core::model::{AnyEncoding, Model2d, ModelView, crc32};
use emberflow_core::runtime::FileModel;
use emberflow_core::testing::runtime_file::{Shape, exercise_runtime, random_file};
use emberflow_core::{Energy, Flow, Relu, Tanh};
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

/// A random run-time shape: dimension, energy widths and activation, blocks, conditioner widths.
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

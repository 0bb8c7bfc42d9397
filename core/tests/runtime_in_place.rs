//! Run-time networks built in place (`FileModel::read` into `FileModel::SLOTS`, `Mlp::push`,
//! `RealNvpFlow::next_slot`/`commit`/`push`) against the networks built by value
//! (`FileModel::from_view`, `Mlp::new`, `RealNvpFlow::new`): the same networks and the same
//! bits, with slot bounds sized to the model (as the firmware's) or the defaults; bounds too
//! small are refused.

use emberflow_core::mcmc::{Potential, Proposal};
use emberflow_core::model::{AnyEncoding, ModelView};
use emberflow_core::runtime::{FileModel, Layer, Mlp, RealNvpFlow};
use emberflow_core::{ActivationKind, Error, Xoshiro128PlusPlus};

const MODELS: [&[u8]; 3] = [
    include_bytes!("../../models/four_modes_2d_f32.efm"),
    include_bytes!("../../models/four_modes_2d_int16.efm"),
    include_bytes!("../../models/four_modes_2d_int8.efm"),
];

/// Energies, gradients, flow densities and flow draws at a few points, as bits.
fn fingerprint(u: &impl Potential, f: &impl Proposal) -> Vec<u32> {
    let mut out = Vec::new();
    let mut scratch = vec![0.0f32; u.scratch_len().max(f.scratch_len())];
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(7);
    for k in 0..8 {
        let x = [0.37 * k as f32 - 1.2, 1.1 - 0.29 * k as f32];
        let mut g = [0.0f32; 2];
        out.push(u.energy(&x, &mut scratch).to_bits());
        out.push(u.energy_and_grad(&x, &mut g, &mut scratch).to_bits());
        out.extend(g.map(f32::to_bits));
        out.push(f.log_density(&x, &mut scratch).to_bits());
        let mut y = [0.0f32; 2];
        out.push(f.sample(&mut rng, &mut y, &mut scratch).to_bits());
        out.extend(y.map(f32::to_bits));
    }
    out
}

#[test]
fn read_in_place_matches_from_view_with_tight_and_default_bounds() {
    for bytes in MODELS {
        let view = ModelView::parse(bytes).unwrap();
        let mut s1 = vec![0.0; FileModel::<'_, AnyEncoding>::storage_len(2)];
        let by_value = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut s1).unwrap();
        let (u, f) = by_value.joint().unwrap();
        let expected = fingerprint(u, f);
        // the committed models: energy 2→32→64→64→64→1 (5 layers), 8 couplings of 2 layers
        let mut s2 = vec![0.0; FileModel::<'_, AnyEncoding>::storage_len(2)];
        let mut tight = FileModel::<'_, AnyEncoding, 8, 5, 2>::SLOTS;
        tight.read(&view, &mut s2).unwrap();
        let (tu, tf) = tight.joint().unwrap();
        assert_eq!(fingerprint(tu, tf), expected);
        assert_eq!(tu.net().layers(), u.net().layers());
        assert_eq!(tf.couplings().len(), f.couplings().len());
        for (a, b) in tf.couplings().iter().zip(f.couplings()) {
            assert_eq!(a.scale_net.layers(), b.scale_net.layers());
            assert_eq!(a.shift_net.layers(), b.shift_net.layers());
            assert_eq!((a.cond, a.trans, a.scale), (b.cond, b.trans, b.scale));
        }
        // read again into the same places, and into empty ones: the same model
        let mut s3 = vec![0.0; FileModel::<'_, AnyEncoding>::storage_len(2)];
        tight.read(&view, &mut s3).unwrap();
        let (tu, tf) = tight.joint().unwrap();
        assert_eq!(fingerprint(tu, tf), expected);
        let mut s4 = vec![0.0; FileModel::<'_, AnyEncoding>::storage_len(2)];
        let mut empty = FileModel::<'_, AnyEncoding, 32>::EMPTY;
        empty.read(&view, &mut s4).unwrap();
        assert_eq!(empty, by_value);
    }
}

#[test]
fn read_refuses_bounds_below_the_model() {
    let view = ModelView::parse(MODELS[0]).unwrap();
    let mut s = vec![0.0; FileModel::<'_, AnyEncoding>::storage_len(2)];
    let mut few_couplings = FileModel::<'_, AnyEncoding, 7, 5, 2>::SLOTS;
    assert_eq!(few_couplings.read(&view, &mut s), Err(Error::InvalidShape));
    let mut s = vec![0.0; FileModel::<'_, AnyEncoding>::storage_len(2)];
    let mut shallow_energy = FileModel::<'_, AnyEncoding, 8, 4, 2>::SLOTS;
    assert_eq!(shallow_energy.read(&view, &mut s), Err(Error::InvalidShape));
    let mut s = vec![0.0; FileModel::<'_, AnyEncoding>::storage_len(2)];
    let mut shallow_flow = FileModel::<'_, AnyEncoding, 8, 5, 1>::SLOTS;
    assert_eq!(shallow_flow.read(&view, &mut s), Err(Error::InvalidShape));
    let mut s = vec![0.0; 7];
    let mut short = FileModel::<'_, AnyEncoding, 8, 5, 2>::SLOTS;
    assert!(matches!(
        short.read(&view, &mut s),
        Err(Error::BufferTooSmall { .. })
    ));
}

#[test]
fn mlp_push_builds_what_new_builds_and_refuses_bad_layers() {
    let p1 = vec![0.5f32; 3 * 4 + 4];
    let p2 = vec![0.25f32; 4 * 2 + 2];
    let a = Layer::<'_, AnyEncoding>::from_f32(&p1, 3, 4).unwrap();
    let b = Layer::<'_, AnyEncoding>::from_f32(&p2, 4, 2).unwrap();
    let built = Mlp::<'_, AnyEncoding, 2>::new(&[a, b], ActivationKind::Tanh).unwrap();
    let mut pushed = Mlp::<'_, AnyEncoding, 2>::EMPTY;
    pushed.clear(ActivationKind::Tanh);
    pushed.push(a).unwrap();
    pushed.push(b).unwrap();
    assert_eq!(pushed, built);
    assert_eq!(pushed.taped_scratch_len(), built.taped_scratch_len());
    // full, or a width that does not follow: refused, the network unchanged
    assert_eq!(pushed.push(b), Err(Error::InvalidShape));
    let mut one = Mlp::<'_, AnyEncoding, 3>::EMPTY;
    one.push(a).unwrap();
    assert_eq!(one.push(a), Err(Error::InvalidShape));
    assert_eq!(one.layers().len(), 1);
    assert_eq!(
        Mlp::<'_, AnyEncoding, 1>::new(&[a, b], ActivationKind::Relu),
        Err(Error::InvalidShape)
    );
    // an emptied network compares equal to a fresh one (unused slots do not count)
    pushed.clear(ActivationKind::Identity);
    assert_eq!(pushed, Mlp::EMPTY);
}

#[test]
fn flow_push_and_in_place_slots_match_new() {
    let view = ModelView::parse(MODELS[2]).unwrap();
    let mut s = vec![0.0; FileModel::<'_, AnyEncoding>::storage_len(2)];
    let model = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut s).unwrap();
    let (_, f) = model.joint().unwrap();
    let sigma = f.sigma().to_vec();
    let mut inv1 = vec![0.0; 2];
    let by_new =
        RealNvpFlow::<'_, AnyEncoding, 8, 4>::new(f.couplings(), &sigma, &mut inv1).unwrap();
    let mut inv2 = vec![0.0; 2];
    let mut pushed = RealNvpFlow::<'_, AnyEncoding, 8, 4>::identity(&sigma, &mut inv2).unwrap();
    for c in f.couplings() {
        pushed.push(c).unwrap();
    }
    assert_eq!(pushed, by_new);
    // full
    assert_eq!(pushed.push(&f.couplings()[0]), Err(Error::InvalidShape));
    let mut inv3 = vec![0.0; 2];
    let mut slots = RealNvpFlow::<'_, AnyEncoding, 8, 4>::EMPTY;
    slots.reset(&sigma, &mut inv3).unwrap();
    for c in f.couplings() {
        let slot = slots
            .next_slot(c.cond, c.trans, c.scale, c.scale_net.activation())
            .unwrap();
        for l in c.scale_net.layers() {
            slot.scale_net.push(*l).unwrap();
        }
        for l in c.shift_net.layers() {
            slot.shift_net.push(*l).unwrap();
        }
        slots.commit().unwrap();
    }
    assert_eq!(slots, by_new);
    let mut scratch = vec![0.0f32; by_new.scratch_len()];
    for k in 0..8 {
        let x = [0.3 * k as f32 - 1.0, 0.5];
        assert_eq!(
            slots.log_density(&x, &mut scratch).to_bits(),
            by_new.log_density(&x, &mut scratch).to_bits()
        );
    }
    // a coupling whose networks do not match its masks is not committed
    let mut inv4 = vec![0.0; 2];
    let mut bad = RealNvpFlow::<'_, AnyEncoding, 8, 4>::identity(&sigma, &mut inv4).unwrap();
    let c = f.couplings()[0];
    let slot = bad
        .next_slot(c.cond, c.trans, c.scale, ActivationKind::Tanh)
        .unwrap();
    slot.scale_net.push(c.scale_net.layers()[0]).unwrap();
    assert_eq!(bad.commit(), Err(Error::InvalidShape));
    assert!(bad.couplings().is_empty());
}

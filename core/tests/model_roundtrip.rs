//! Encode → decode round trips of the paper's shapes (d = 2 and d = 16) in every encoding:
//! header fields survive, f32 files reproduce the owned model bit for bit, and every quantised
//! weight is within half a scale step of the original.

use emberflow_core::model::{
    Bounded, DenseView, Encoding, Export, F32s, Model2d, Model16, ModelErrors, ModelView,
    Normalization, SamplerSpec, Training, encode_energy, encode_energy_flow, encode_flow,
};
use emberflow_core::shapes::{Energy2d, Energy16, Flow2d, Flow16, PaperEnergyNet};
use emberflow_core::{
    DiagGaussian, Energy, Flow, FlowMcConfig, MlpEnergy, ModelKind, Parameters, StepStats, Tilted,
    Xoshiro128PlusPlus,
};

fn fill(seed: u64, scale: f32) -> impl FnMut(&mut [f32]) {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    move |t| {
        for v in t.iter_mut() {
            *v = scale * (emberflow_core::random::uniform_open01(&mut rng) * 2.0 - 1.0);
        }
    }
}

fn energy<const D: usize>(seed: u64) -> Tilted<MlpEnergy<PaperEnergyNet<D>>, D> {
    let mut net = PaperEnergyNet::<D>::zeroed();
    net.visit_mut(&mut fill(seed, 0.3));
    Tilted::new(MlpEnergy::new(net), DiagGaussian::isotropic(1.5).unwrap())
}

fn flow2d(seed: u64) -> Flow2d {
    let mut f = Flow2d::identity(DiagGaussian::new([1.0, 0.5]).unwrap());
    f.visit_mut(&mut fill(seed, 0.4));
    f
}

fn flow16(seed: u64) -> Flow16 {
    let mut f = Flow16::identity(DiagGaussian::isotropic(1.2).unwrap());
    f.visit_mut(&mut fill(seed, 0.2));
    f
}

const SHIFT16: [f32; 16] = [0.25; 16];
const SCALE16: [f32; 16] = [1.5; 16];

fn export(encoding: Encoding, dim: usize) -> Export<'static> {
    let (shift, scale): (&[f32], &[f32]) = if dim == 2 {
        (&[1.0, -2.0], &[0.5, 3.0])
    } else {
        (&SHIFT16, &SCALE16)
    };
    Export {
        encoding,
        f32_output_layers: false,
        normalization: Normalization {
            shift: F32s::Native(shift),
            scale: F32s::Native(scale),
        },
        sampler: SamplerSpec::new(&FlowMcConfig::default(), 0.02, 1024),
        training: Training {
            dataset: "round-trip",
            iterations: 123_456,
            seed: u64::MAX,
            metrics: Bounded::from_slice(&[("nll", 1.5), ("acc", 0.75)]).unwrap(),
        },
        model_errors: Some(ModelErrors {
            points: 9,
            energy_max_abs: 0.5,
            ..ModelErrors::default()
        }),
    }
}

fn to_vec(f: impl Fn(&mut [u8]) -> Result<usize, emberflow_core::Error>) -> Vec<u8> {
    let needed = match f(&mut []) {
        Err(emberflow_core::Error::BufferTooSmall { needed }) => needed as usize,
        other => panic!("{other:?}"),
    };
    let mut buf = vec![0u8; needed];
    assert_eq!(f(&mut buf).unwrap(), needed);
    buf
}

/// Check `|w_file − w| ≤ s/2` for every weight (and exact equality for f32); `originals` are
/// the owned model's tensors in `visit` order.
fn check_weights(view: &ModelView<'_>, originals: &[Vec<f32>]) {
    let mut tensors = view.tensors();
    // visit order: weight, bias, weight, bias, …
    for pair in originals.chunks(2) {
        let t = tensors.next().unwrap().unwrap();
        let [rows, cols] = t.slot.shape.map(usize::from);
        assert_eq!(pair[0].len(), rows * cols);
        assert_eq!(pair[1].len(), rows);
        for o in 0..rows {
            let scale = t
                .scales
                .get(4 * o..4 * o + 4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()));
            let bias = f32::from_le_bytes(t.bias[4 * o..4 * o + 4].try_into().unwrap());
            assert_eq!(bias.to_bits(), pair[1][o].to_bits());
            for j in 0..cols {
                let w = pair[0][o * cols + j];
                let got = match t.encoding {
                    Encoding::F32 => {
                        f32::from_le_bytes(t.weights[4 * (o * cols + j)..][..4].try_into().unwrap())
                    }
                    Encoding::I16 => {
                        let q = i16::from_le_bytes(
                            t.weights[2 * (o * cols + j)..][..2].try_into().unwrap(),
                        );
                        scale.unwrap() * f32::from(q)
                    }
                    Encoding::I8 => scale.unwrap() * f32::from(t.weights[o * cols + j] as i8),
                };
                match scale {
                    None => assert_eq!(got.to_bits(), w.to_bits()),
                    Some(s) => {
                        // in exact arithmetic |s·q − w| ≤ s/2; allow the f32 rounding of s·q
                        let err =
                            (f64::from(s) * f64::from((got / s).round()) - f64::from(w)).abs();
                        assert!(err <= f64::from(s) * 0.5 * (1.0 + 1e-6), "{err} > {s}/2");
                    }
                }
            }
        }
    }
    assert!(tensors.next().is_none());
}

#[test]
fn paper_2d_round_trip() {
    let (e, f) = (energy::<2>(1), flow2d(2));
    for enc in Encoding::ALL {
        let bytes = to_vec(|out| encode_energy_flow(&e, &f, &export(enc, 2), out));
        assert_eq!(
            bytes,
            to_vec(|out| encode_energy_flow(&e, &f, &export(enc, 2), out)),
            "deterministic"
        );
        let view = ModelView::parse(&bytes).unwrap();
        let h = view.header();
        assert_eq!(h.kind, ModelKind::EnergyFlow);
        assert_eq!(h.dim, 2);
        assert_eq!(h.energy_params(), 10_593);
        assert_eq!(h.flow_params(), f.num_params());
        assert_eq!(h.sampler, export(enc, 2).sampler);
        assert_eq!(h.sampler.config(), FlowMcConfig::default());
        assert_eq!(h.training, export(enc, 2).training);
        assert_eq!(h.normalization, export(enc, 2).normalization);
        assert_eq!(h.quant.model, export(enc, 2).model_errors);
        let quantized = h.quant.quantized_weights;
        if enc == Encoding::F32 {
            assert_eq!(quantized, 0);
        } else {
            let weights = 10_593 - 225 + f.num_params() as u64 - 8 * 2 * 17;
            assert_eq!(quantized, weights);
            assert!(h.quant.max_error_over_scale <= 0.5 + 1e-6);
            assert!(h.quant.max_abs_error > 0.0 && h.quant.rms_error > 0.0);
        }
        let mut originals = Vec::new();
        e.energy.visit(&mut |t| originals.push(t.to_vec()));
        f.visit(&mut |t| originals.push(t.to_vec()));
        check_weights(&view, &originals);

        let model = Model2d::decode(&bytes).unwrap();
        let mut x = [0.5f32, 2.0];
        model.to_data(&mut x);
        assert_eq!(x, [1.25, 4.0]);
        model.from_data(&mut x);
        assert_eq!(x, [0.5, 2.0]);
        let mut max_de = 0.0f32;
        for i in 0..200 {
            let x = [(i % 20) as f32 * 0.3 - 3.0, (i / 20) as f32 * 0.6 - 3.0];
            let (mut g1, mut g2) = ([0.0; 2], [0.0; 2]);
            let (u1, u2) = (
                e.energy_and_grad(&x, &mut g1),
                model.energy.energy_and_grad(&x, &mut g2),
            );
            let (l1, l2) = (f.log_density(&x), model.flow.log_density(&x));
            if enc == Encoding::F32 {
                assert_eq!((u1.to_bits(), g1), (u2.to_bits(), g2));
                assert_eq!(l1.to_bits(), l2.to_bits());
            } else {
                max_de = max_de.max((u1 - u2).abs());
            }
        }
        // loose sanity bound for random weights (the committed models have their own test)
        assert!(
            max_de < if enc == Encoding::I8 { 0.5 } else { 0.01 },
            "{enc}: {max_de}"
        );

        // the decoded model drives FlowMc directly
        let sampler = model.sampler().unwrap();
        let mut chain = sampler.chain([0.0, 0.0], model.step_size());
        let (mut rng, mut stats) = (Xoshiro128PlusPlus::seed_from_u64(9), StepStats::default());
        for _ in 0..5 {
            sampler.sweep(&mut chain, &mut rng, &mut stats);
        }
        assert!(chain.x.iter().all(|v| v.is_finite()));
        assert_eq!(stats.local_proposed, 5 * 30);
    }
}

#[test]
fn paper_16d_round_trip() {
    let (e, f): (Energy16, Flow16) = (energy::<16>(3), flow16(4));
    for enc in Encoding::ALL {
        let bytes = to_vec(|out| encode_energy_flow(&e, &f, &export(enc, 16), out));
        let view = ModelView::parse(&bytes).unwrap();
        let mut originals = Vec::new();
        e.energy.visit(&mut |t| originals.push(t.to_vec()));
        f.visit(&mut |t| originals.push(t.to_vec()));
        check_weights(&view, &originals);
        let model = Model16::decode(&bytes).unwrap();
        let x: [f32; 16] = core::array::from_fn(|i| i as f32 * 0.1 - 0.8);
        let mut z = [0.0f32; 16];
        let mut back = [0.0f32; 16];
        let ld_inv = model.flow.inverse(&x, &mut z);
        let ld_fwd = model.flow.transform(&z, &mut back);
        assert!((ld_inv + ld_fwd).abs() < 1e-4);
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b).abs() < 1e-5, "{enc}");
        }
        if enc == Encoding::F32 {
            assert_eq!(e.energy(&x).to_bits(), model.energy.energy(&x).to_bits());
            assert_eq!(
                f.log_density(&x).to_bits(),
                model.flow.log_density(&x).to_bits()
            );
        }
        // the 2-D type does not fit a 16-D file
        assert!(matches!(
            Model2d::decode(&bytes),
            Err(emberflow_core::Error::WrongDimension {
                expected: 2,
                found: 16
            })
        ));
    }
}

#[test]
fn energy_only_and_flow_only_files() {
    let (e, f): (Energy2d, Flow2d) = (energy::<2>(5), flow2d(6));
    let eb = to_vec(|out| encode_energy(&e, &export(Encoding::I16, 2), out));
    let fb = to_vec(|out| encode_flow(&f, &export(Encoding::I8, 2), out));
    let ev = ModelView::parse(&eb).unwrap();
    let fv = ModelView::parse(&fb).unwrap();
    assert_eq!(ev.header().kind, ModelKind::Energy);
    assert_eq!(fv.header().kind, ModelKind::Flow);
    assert!(ev.header().flow.is_none() && fv.header().energy.is_none());
    let de: emberflow_core::model::Energy2dView<'_> = ev.energy().unwrap();
    let df: emberflow_core::model::Flow2dView<'_> = fv.flow().unwrap();
    assert!((de.energy(&[0.1, 0.2]) - e.energy(&[0.1, 0.2])).abs() < 0.01);
    assert!((df.log_density(&[0.1, 0.2]) - f.log_density(&[0.1, 0.2])).abs() < 0.1);
    assert!(Model2d::decode(&eb).is_err() && Model2d::decode(&fb).is_err());
    // f32 output layers: mixed encodings in one file
    let mut mixed = export(Encoding::I8, 2);
    mixed.f32_output_layers = true;
    let mb = to_vec(|out| encode_energy_flow(&e, &f, &mixed, out));
    let mv = ModelView::parse(&mb).unwrap();
    let encodings: Vec<Encoding> = mv.tensors().map(|t| t.unwrap().encoding).collect();
    assert_eq!(encodings[3], Encoding::I8);
    assert_eq!(encodings[4], Encoding::F32);
    let out: DenseView<'_, 64, 1> = DenseView::new(&mv.tensors().nth(4).unwrap().unwrap()).unwrap();
    assert_eq!(out.encoding(), Encoding::F32);
    assert_eq!(
        out.weight(0, 3),
        e.energy.net.second.second.second.second.weight()[0][3]
    );
}

/// The d = 32 and d = 64 shapes decode through their aliases and reproduce f32 bit for bit.
#[test]
fn paper_32d_and_64d_decode() {
    fn check<const D: usize, const A: usize, const B: usize, const H: usize>(
        flow: emberflow_core::shapes::PaperFlow<D, A, B, H, 2>,
    ) {
        let e = energy::<D>(7);
        let shift = [0.0f32; D];
        let scale = [1.0f32; D];
        let mut ex = export(Encoding::F32, 16);
        ex.normalization = Normalization {
            shift: F32s::Native(&shift),
            scale: F32s::Native(&scale),
        };
        let bytes = to_vec(|out| encode_energy_flow(&e, &flow, &ex, out));
        let m = emberflow_core::model::PaperModel::<'_, D, A, B, H, 2>::decode(&bytes).unwrap();
        let x: [f32; D] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
        assert_eq!(e.energy(&x).to_bits(), m.energy.energy(&x).to_bits());
        assert_eq!(
            flow.log_density(&x).to_bits(),
            m.flow.log_density(&x).to_bits()
        );
    }
    let mut f32d = emberflow_core::shapes::Flow32::identity(DiagGaussian::isotropic(1.2).unwrap());
    f32d.visit_mut(&mut fill(8, 0.1));
    check::<32, 16, 16, 39>(f32d);
    let mut f64d = emberflow_core::shapes::Flow64::identity(DiagGaussian::isotropic(1.2).unwrap());
    f64d.visit_mut(&mut fill(9, 0.1));
    check::<64, 32, 32, 51>(f64d);
    // the aliases name the same types
    let _: Option<emberflow_core::model::Model32<'_>> = None;
    let _: Option<emberflow_core::model::Model64<'_>> = None;
}

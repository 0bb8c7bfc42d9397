//! Run-time shaped networks and the slice kernels against the typed path: the same bits for
//! the paper's shapes (owned parameters and model-file tensors, f32 and int8), input gradients
//! against finite differences for random shapes, and the run-time `Sampler` against `FlowMc`.

use emberflow_core::model::AnyEncoding;
use emberflow_core::model::{
    Encoding, Export, F32s, ModelView, Normalization, SamplerSpec, Training, encode_energy,
};
use emberflow_core::runtime::{Layer, Mlp};
use emberflow_core::shapes::{Energy2d, Flow2d, PaperEnergyNet};
use emberflow_core::testing::{randomize, randomize_flow};
use emberflow_core::{
    ActivationKind, ChainView, DiagGaussian, Fixed, FlowMc, FlowMcConfig, MlpEnergy, Network,
    Parameters, Sampler, StepStats, Tilted, Xoshiro128PlusPlus,
};
use proptest::prelude::*;

type L<'a> = Layer<'a, AnyEncoding>;
type M<'a> = Mlp<'a, AnyEncoding, 7>;

fn paper_net(seed: u64) -> PaperEnergyNet<5> {
    let mut net = PaperEnergyNet::<5>::zeroed();
    randomize(&mut net, &mut Xoshiro128PlusPlus::seed_from_u64(seed), 1.0);
    net
}

/// The parameters of each dense layer in the file's layout (weights row by row, then biases).
fn layer_params(net: &impl Parameters) -> Vec<Vec<f32>> {
    let mut tensors = Vec::new();
    net.visit(&mut |t| tensors.push(t.to_vec()));
    tensors
        .chunks(2)
        .map(|wb| [wb[0].clone(), wb[1].clone()].concat())
        .collect()
}

/// The export settings of the tests' model files: `encoding`, the given normalisation.
fn export<'a>(encoding: Encoding, shift: &'a [f32], scale: &'a [f32]) -> Export<'a> {
    Export {
        encoding,
        f32_output_layers: false,
        normalization: Normalization {
            shift: F32s::Native(shift),
            scale: F32s::Native(scale),
        },
        sampler: SamplerSpec::new(&FlowMcConfig::default(), 0.02, 16),
        training: Training {
            dataset: "runtime",
            iterations: 0,
            seed: 0,
            metrics: Default::default(),
        },
        model_errors: None,
    }
}

/// The f32 layers of `params` (one per dense layer, file layout) for the widths `widths`.
fn f32_layers<'a>(params: &'a [Vec<f32>], widths: &[usize]) -> Vec<Layer<'a>> {
    params
        .iter()
        .zip(widths.windows(2))
        .map(|(p, io)| L::from_f32(p, io[0], io[1]).unwrap())
        .collect()
}

fn inputs(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| 4.0 * (emberflow_core::random::uniform_open01(&mut rng) - 0.5))
        .collect()
}

fn run_mlp(mlp: &Mlp<'_>, x: &[f32]) -> (f32, Vec<f32>) {
    let mut scratch = vec![0.0; mlp.taped_scratch_len()];
    let mut y = [0.0f32];
    let mut y_plain = [0.0f32];
    let mut plain_scratch = vec![0.0; mlp.scratch_len()];
    mlp.forward(x, &mut y_plain, &mut plain_scratch);
    mlp.forward_taped(x, &mut y, &mut scratch);
    assert_eq!(y[0].to_bits(), y_plain[0].to_bits());
    let mut dx = vec![0.0; x.len()];
    mlp.backward(&[1.0], &mut dx, &mut scratch);
    (y[0], dx)
}

#[test]
fn runtime_mlp_over_owned_parameters_matches_the_typed_network_bitwise() {
    for seed in 0..8 {
        let net = paper_net(seed);
        let params = layer_params(&net);
        let widths = [5usize, 32, 64, 64, 64, 1];
        let layers = f32_layers(&params, &widths);
        let mlp = M::new(&layers, ActivationKind::LeakyRelu).unwrap();
        assert_eq!(mlp.macs(), <PaperEnergyNet<5> as Network<5, 1>>::macs());
        for k in 0..16 {
            let x: [f32; 5] = inputs(100 * seed + k, 5).try_into().unwrap();
            let mut y = [0.0];
            let mut tape = <<PaperEnergyNet<5> as Network<5, 1>>::Tape as emberflow_core::network::Tape>::zeroed();
            net.forward_taped(&x, &mut y, &mut tape);
            let mut dx = [0.0; 5];
            net.backward(&tape, &[1.0], &mut dx);
            let (ry, rdx) = run_mlp(&mlp, &x);
            assert_eq!(ry.to_bits(), y[0].to_bits());
            assert_eq!(
                rdx.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                dx.map(f32::to_bits)
            );
        }
        // the host form (transposed weights) gives the same bits
        #[cfg(feature = "host-form")]
        host_form_matches(&mlp, &params, &widths, seed);
    }
}

/// The host form of the layers (transposed weights) gives the bits of the file form.
#[cfg(feature = "host-form")]
fn host_form_matches(mlp: &M<'_>, params: &[Vec<f32>], widths: &[usize], seed: u64) {
    {
        let transposed: Vec<Vec<f32>> = params
            .iter()
            .zip(widths.windows(2))
            .map(|(p, w)| {
                let (i, o) = (w[0], w[1]);
                (0..i * o).map(|k| p[(k % o) * i + k / o]).collect()
            })
            .collect();
        let layers: Vec<L<'_>> = params
            .iter()
            .zip(&transposed)
            .zip(widths.windows(2))
            .map(|((p, t), w)| L::from_f32_transposed(p, t, w[0], w[1]).unwrap())
            .collect();
        let host = M::new(&layers, ActivationKind::LeakyRelu).unwrap();
        for k in 0..16 {
            let x = inputs(200 * seed + k, 5);
            let (a, da) = run_mlp(mlp, &x);
            let (b, db) = run_mlp(&host, &x);
            assert_eq!(a.to_bits(), b.to_bits());
            assert_eq!(
                da.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                db.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
        // a copy that is not the transpose is refused
        let mut wrong = transposed[1].clone();
        wrong[3] += 1.0;
        assert_eq!(
            L::from_f32_transposed(&params[1], &wrong, 32, 64),
            Err(emberflow_core::Error::InvalidShape)
        );
        assert!(L::from_f32_transposed(&params[1], &wrong[1..], 32, 64).is_err());
    }
}

#[test]
fn runtime_mlp_over_file_tensors_matches_the_typed_view_bitwise() {
    let energy = Tilted::new(
        MlpEnergy::new(paper_net(3)),
        DiagGaussian::<5>::isotropic(1.5).unwrap(),
    );
    let shift = [0.0f32; 5];
    let scale = [1.0f32; 5];
    for encoding in Encoding::ALL {
        let export = export(encoding, &shift, &scale);
        // 4-byte aligned storage: the fast kernels
        let mut buf = vec![0u32; 20_000];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        let n = encode_energy(&energy, &export, bytes).unwrap();
        let view = ModelView::parse(&bytes[..n]).unwrap();
        let typed = view
            .energy::<5, emberflow_core::shapes::PaperEnergyNetView<'_, 5>>()
            .unwrap();
        let layers: Vec<Layer<'_>> = view
            .tensors()
            .map(|t| L::from_tensor(&t.unwrap()).unwrap())
            .collect();
        let mlp = M::new(&layers, ActivationKind::LeakyRelu).unwrap();
        for k in 0..16 {
            let x: [f32; 5] = inputs(k, 5).try_into().unwrap();
            let mut y = [0.0];
            let mut tape = emberflow_core::network::Tape::zeroed();
            typed.energy.net.forward_taped(&x, &mut y, &mut tape);
            let mut dx = [0.0; 5];
            typed.energy.net.backward(&tape, &[1.0], &mut dx);
            let (ry, rdx) = run_mlp(&mlp, &x);
            assert_eq!(ry.to_bits(), y[0].to_bits(), "{encoding}");
            assert_eq!(
                rdx.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                dx.map(f32::to_bits),
                "{encoding}"
            );
        }
    }
}

#[test]
fn bad_layer_shapes_are_errors() {
    let p = [0.0f32; 7];
    assert!(L::from_f32(&p, 2, 2).is_err()); // 6 needed
    assert!(L::from_f32(&p, 0, 7).is_err());
    let a = L::from_f32(&p[..6], 2, 2).unwrap();
    let b = L::from_f32(&p[..4], 3, 1).unwrap();
    assert!(M::new(&[a, b], ActivationKind::Relu).is_err()); // 2 outputs feed 3 inputs
    assert!(M::new(&[], ActivationKind::Relu).is_err());
    assert!(Mlp::<'_, AnyEncoding, 1>::new(&[a, a], ActivationKind::Relu).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random depths (1–7 dense layers), widths 1–40 (tails of every block size) and
    /// activations: the input gradient of the run-time MLP against central differences.
    #[test]
    fn runtime_gradient_matches_finite_differences(
        widths in prop::collection::vec(1usize..40, 1..7),
        d in 1usize..30,
        act in 0usize..5,
        seed in 0u64..1000,
    ) {
        let activation = ActivationKind::ALL[act];
        let mut sizes = vec![d];
        sizes.extend(&widths);
        sizes.push(1);
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
        let params: Vec<Vec<f32>> = sizes
            .windows(2)
            .map(|io| {
                let gain = 1.0 / (io[0] as f32).sqrt();
                (0..io[1] * (io[0] + 1))
                    .map(|_| gain * (emberflow_core::random::uniform_open01(&mut rng) * 2.0 - 1.0))
                    .collect()
            })
            .collect();
        let layers = f32_layers(&params, &sizes);
        let mlp = M::new(&layers, activation).unwrap();
        let x = inputs(seed, d);
        let (y, dx) = run_mlp(&mlp, &x);
        prop_assert!(y.is_finite());
        let f = |x: &[f32]| {
            let mut out = [0.0f32];
            let mut s = vec![0.0; mlp.scratch_len()];
            mlp.forward(x, &mut out, &mut s);
            f64::from(out[0])
        };
        for i in 0..d {
            let h = 1e-2f32;
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[i] += h;
            xm[i] -= h;
            let fd = (f(&xp) - f(&xm)) / (2.0 * f64::from(h));
            // ReLU kinks inside ±h make single differences unreliable; a loose bound
            prop_assert!((fd - f64::from(dx[i])).abs() < 2e-2 + 5e-2 * fd.abs(),
                "{activation:?} i={i}: fd {fd} vs {}", dx[i]);
        }
    }
}

#[test]
fn runtime_sampler_runs_the_same_chain_as_flowmc() {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(11);
    let mut net = PaperEnergyNet::<2>::zeroed();
    randomize(&mut net, &mut rng, 1.0);
    let energy: Energy2d = Tilted::new(MlpEnergy::new(net), DiagGaussian::isotropic(2.0).unwrap());
    let mut flow = Flow2d::identity(DiagGaussian::isotropic(2.0).unwrap());
    randomize_flow(&mut flow, &mut rng, 0.5);
    for config in [
        FlowMcConfig::default(),
        FlowMcConfig {
            schedule: emberflow_core::Schedule {
                global: emberflow_core::GlobalMove::Imh,
                mala_steps: 5,
                rounds: 3,
            },
            ..FlowMcConfig::default()
        },
    ] {
        let typed = FlowMc::new(&energy, &flow, config).unwrap();
        let (u, f) = (Fixed::<_, 2>(&energy), Fixed::<_, 2>(&flow));
        let sampler = Sampler::new(&u, &f, config).unwrap();
        let mut chain = typed.chain([0.5, -0.5], 0.05);
        let mut buf = vec![0.0; sampler.chain_len()];
        let mut view = ChainView::from_buffer(2, &mut buf).unwrap();
        let mut scratch = vec![0.0; sampler.scratch_len()];
        sampler.start(&mut view, &[0.5, -0.5], 0.05, &mut scratch);
        let (mut r1, mut r2) = (
            Xoshiro128PlusPlus::seed_from_u64(5),
            Xoshiro128PlusPlus::seed_from_u64(5),
        );
        let (mut s1, mut s2) = (StepStats::default(), StepStats::default());
        for _ in 0..30 {
            typed.sweep(&mut chain, &mut r1, &mut s1);
            sampler.sweep(&mut view, &mut r2, &mut s2, &mut scratch);
            assert_eq!(
                view.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                chain.x.map(f32::to_bits)
            );
            assert_eq!(view.energy.to_bits(), chain.energy.to_bits());
            assert_eq!(view.step_size.to_bits(), chain.step_size.to_bits());
        }
        assert_eq!(s1, s2);
        assert!(s1.local_accepted > 0 && s1.global_proposed > 0);
    }
}

#[test]
fn tilted_runtime_energy_samples_the_same_chain_as_the_typed_energy() {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(21);
    let mut net = PaperEnergyNet::<2>::zeroed();
    randomize(&mut net, &mut rng, 1.0);
    let params = layer_params(&net);
    let energy: Energy2d = Tilted::new(MlpEnergy::new(net), DiagGaussian::new([2.0, 1.5]).unwrap());
    let mut flow = Flow2d::identity(DiagGaussian::isotropic(2.0).unwrap());
    randomize_flow(&mut flow, &mut rng, 0.5);
    let widths = [2usize, 32, 64, 64, 64, 1];
    let layers = f32_layers(&params, &widths);
    let mut inv = [0.0f32; 2];
    let runtime = emberflow_core::runtime::TiltedMlp::new(
        M::new(&layers, ActivationKind::LeakyRelu).unwrap(),
        &[2.0, 1.5],
        &mut inv,
    )
    .unwrap();
    let mut scratch = vec![0.0; emberflow_core::Potential::scratch_len(&runtime)];
    for k in 0..32 {
        let x: [f32; 2] = inputs(k, 2).try_into().unwrap();
        let mut g = [0.0; 2];
        let mut rg = [0.0; 2];
        let e = emberflow_core::Energy::energy_and_grad(&energy, &x, &mut g);
        let re = emberflow_core::Potential::energy_and_grad(&runtime, &x, &mut rg, &mut scratch);
        assert_eq!(e.to_bits(), re.to_bits());
        assert_eq!(g.map(f32::to_bits), rg.map(f32::to_bits));
        let u = emberflow_core::Potential::energy(&runtime, &x, &mut scratch);
        assert_eq!(
            u.to_bits(),
            emberflow_core::Energy::energy(&energy, &x).to_bits()
        );
    }
    let config = FlowMcConfig::default();
    let typed = FlowMc::new(&energy, &flow, config).unwrap();
    let f = Fixed::<_, 2>(&flow);
    let sampler = Sampler::new(&runtime, &f, config).unwrap();
    let mut chain = typed.chain([1.0, 0.0], 0.05);
    let mut buf = vec![0.0; sampler.chain_len()];
    let mut view = ChainView::from_buffer(2, &mut buf).unwrap();
    let mut scratch = vec![0.0; sampler.scratch_len()];
    sampler.start(&mut view, &[1.0, 0.0], 0.05, &mut scratch);
    let (mut r1, mut r2) = (
        Xoshiro128PlusPlus::seed_from_u64(8),
        Xoshiro128PlusPlus::seed_from_u64(8),
    );
    let (mut s1, mut s2) = (StepStats::default(), StepStats::default());
    for _ in 0..20 {
        typed.sweep(&mut chain, &mut r1, &mut s1);
        sampler.sweep(&mut view, &mut r2, &mut s2, &mut scratch);
        assert_eq!(
            view.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            chain.x.map(f32::to_bits)
        );
    }
    assert_eq!(s1, s2);
}

#[test]
fn runtime_flow_matches_the_typed_flow_bitwise() {
    use emberflow_core::Flow;
    use emberflow_core::model::U16s;
    use emberflow_core::runtime::{Coupling, RealNvpFlow};
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(4);
    let mut flow = Flow2d::identity(DiagGaussian::new([2.0, 0.7]).unwrap());
    randomize_flow(&mut flow, &mut rng, 0.8);
    let mut tensors = Vec::new();
    flow.visit(&mut |t| tensors.push(t.to_vec()));
    let params: Vec<Vec<f32>> = tensors
        .chunks(2)
        .map(|wb| [wb[0].clone(), wb[1].clone()].concat())
        .collect();
    // per coupling: scale net (1 → 16 → 1), shift net (1 → 16 → 1)
    let nets: Vec<Mlp<'_, AnyEncoding, 4>> = params
        .chunks(2)
        .map(|p| {
            let layers = [
                L::from_f32(&p[0], 1, 16).unwrap(),
                L::from_f32(&p[1], 16, 1).unwrap(),
            ];
            Mlp::new(&layers, ActivationKind::Relu).unwrap()
        })
        .collect();
    let (lower, upper): (&[u16], &[u16]) = (&[0], &[1]);
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
    let sigma = [2.0f32, 0.7];
    let mut inv = [0.0f32; 2];
    let runtime: RealNvpFlow<'_> = RealNvpFlow::new(&couplings, &sigma, &mut inv).unwrap();
    let mut scratch = vec![0.0; emberflow_core::Proposal::scratch_len(&runtime)];
    let (mut r1, mut r2) = (
        Xoshiro128PlusPlus::seed_from_u64(9),
        Xoshiro128PlusPlus::seed_from_u64(9),
    );
    for k in 0..64 {
        let x: [f32; 2] = inputs(k, 2).try_into().unwrap();
        let lt = flow.log_density(&x);
        let lr = emberflow_core::Proposal::log_density(&runtime, &x, &mut scratch);
        assert_eq!(lt.to_bits(), lr.to_bits());
        let mut xt = [0.0; 2];
        let mut xr = [0.0; 2];
        let st = flow.sample(&mut r1, &mut xt);
        let sr = emberflow_core::Proposal::sample(&runtime, &mut r2, &mut xr, &mut scratch);
        assert_eq!(st.to_bits(), sr.to_bits());
        assert_eq!(xt.map(f32::to_bits), xr.map(f32::to_bits));
    }
    // a bad mask is an error, not a panic
    let mut bad = couplings.clone();
    bad[0].trans = U16s::Native(&[0]);
    let mut inv = [0.0f32; 2];
    assert!(RealNvpFlow::<'_, AnyEncoding, 32, 4>::new(&bad, &sigma, &mut inv).is_err());
}

/// A whole model file through the run-time path and through the typed `PaperModel`: the same
/// FlowMC chains, bit for bit (f32 and int8; d = 2 and d = 16).
fn file_chains_match<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
>(
    seed: u64,
) {
    use emberflow_core::model::{PaperModel, encode_energy_flow};
    use emberflow_core::runtime::FileModel;
    use emberflow_core::shapes::PaperFlow;
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut net = PaperEnergyNet::<D>::zeroed();
    randomize(&mut net, &mut rng, 1.0);
    let energy = Tilted::new(
        MlpEnergy::new(net),
        DiagGaussian::<D>::isotropic(1.7).unwrap(),
    );
    let mut flow = PaperFlow::<D, A, B, H, K>::identity(DiagGaussian::isotropic(1.7).unwrap());
    randomize_flow(&mut flow, &mut rng, 0.5);
    let (shift, scale) = ([0.0f32; D], [1.0f32; D]);
    for encoding in [Encoding::F32, Encoding::I8] {
        let export = export(encoding, &shift, &scale);
        let mut buf = vec![0u32; 60_000];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        let n = encode_energy_flow(&energy, &flow, &export, bytes).unwrap();
        let bytes = &bytes[..n];
        let typed = PaperModel::<'_, D, A, B, H, K>::decode(bytes).unwrap();
        let view = ModelView::parse(bytes).unwrap();
        let mut storage = vec![0.0; FileModel::<'_, AnyEncoding, 32>::storage_len(D)];
        let model = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut storage).unwrap();
        let (u, f) = (model.energy.as_ref().unwrap(), model.flow.as_ref().unwrap());
        let config = typed.config();
        let kernel = typed.sampler().unwrap();
        let sampler = Sampler::new(u, f, config).unwrap();
        let x0 = [0.3f32; D];
        let mut chain = kernel.chain(x0, 0.02);
        let mut cbuf = vec![0.0; sampler.chain_len()];
        let mut cv = ChainView::from_buffer(D, &mut cbuf).unwrap();
        let mut scratch = vec![0.0; sampler.scratch_len()];
        sampler.start(&mut cv, &x0, 0.02, &mut scratch);
        let (mut r1, mut r2) = (
            Xoshiro128PlusPlus::seed_from_u64(seed),
            Xoshiro128PlusPlus::seed_from_u64(seed),
        );
        let (mut s1, mut s2) = (StepStats::default(), StepStats::default());
        for _ in 0..6 {
            kernel.sweep(&mut chain, &mut r1, &mut s1);
            sampler.sweep(&mut cv, &mut r2, &mut s2, &mut scratch);
            assert_eq!(
                cv.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                chain.x.map(f32::to_bits),
                "d = {D}, {encoding}"
            );
            assert_eq!(cv.energy.to_bits(), chain.energy.to_bits());
        }
        assert_eq!(s1, s2);
    }
}

#[test]
fn file_models_run_the_typed_chains_through_the_runtime_path() {
    file_chains_match::<2, 1, 1, 16, 4>(1);
    file_chains_match::<16, 8, 8, 32, 2>(2);
}

/// `encode_runtime` over a run-time model read from an f32 file writes the bytes the typed
/// encoder writes, in every encoding; a quantised run-time model cannot be re-encoded.
fn runtime_encoding_matches<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
>(
    seed: u64,
) {
    use emberflow_core::model::{encode_energy_flow, encode_runtime};
    use emberflow_core::runtime::FileModel;
    use emberflow_core::shapes::PaperFlow;
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut net = PaperEnergyNet::<D>::zeroed();
    randomize(&mut net, &mut rng, 1.0);
    let sigma = [1.3f32; D];
    let energy = Tilted::new(
        MlpEnergy::new(net),
        DiagGaussian::<D>::isotropic(1.3).unwrap(),
    );
    let mut flow = PaperFlow::<D, A, B, H, K>::identity(DiagGaussian::isotropic(1.3).unwrap());
    randomize_flow(&mut flow, &mut rng, 0.5);
    let (shift, scale) = ([0.5f32; D], [2.0f32; D]);
    let encode_typed = |encoding| {
        let mut buf = vec![0u32; 60_000];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        let n =
            encode_energy_flow(&energy, &flow, &export(encoding, &shift, &scale), bytes).unwrap();
        buf.truncate(n.div_ceil(4));
        (buf, n)
    };
    let (f32_file, n) = encode_typed(Encoding::F32);
    let f32_bytes = &bytemuck::cast_slice::<u32, u8>(&f32_file)[..n];
    let view = ModelView::parse(f32_bytes).unwrap();
    let mut storage = vec![0.0; FileModel::<'_, AnyEncoding, 32>::storage_len(D)];
    let model = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut storage).unwrap();
    let (u, f) = (model.energy.as_ref().unwrap(), model.flow.as_ref().unwrap());
    for encoding in [Encoding::F32, Encoding::I16, Encoding::I8] {
        let (typed, n) = encode_typed(encoding);
        let typed = &bytemuck::cast_slice::<u32, u8>(&typed)[..n];
        let mut out = vec![0u8; n];
        let export = export(encoding, &shift, &scale);
        let m = encode_runtime(u.net(), &sigma, f, &export, &mut out).unwrap();
        assert_eq!(m, n, "d = {D}, {encoding}");
        assert!(out == typed, "d = {D}, {encoding}: the bytes differ");
        // the size query
        assert_eq!(
            encode_runtime(u.net(), &sigma, f, &export, &mut []),
            Err(emberflow_core::Error::BufferTooSmall { needed: n as u32 })
        );
    }
    // a quantised model has no f32 weights to write
    let (i8_file, n) = encode_typed(Encoding::I8);
    let view = ModelView::parse(&bytemuck::cast_slice::<u32, u8>(&i8_file)[..n]).unwrap();
    let mut storage = vec![0.0; FileModel::<'_, AnyEncoding, 32>::storage_len(D)];
    let q = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut storage).unwrap();
    let export = export(Encoding::F32, &shift, &scale);
    let mut out = vec![0u8; 2 * n + 4096];
    assert_eq!(
        encode_runtime(
            q.energy.as_ref().unwrap().net(),
            &sigma,
            q.flow.as_ref().unwrap(),
            &export,
            &mut out
        ),
        Err(emberflow_core::Error::InvalidShape)
    );
}

#[test]
fn runtime_models_encode_to_the_typed_bytes() {
    runtime_encoding_matches::<2, 1, 1, 16, 4>(3);
    runtime_encoding_matches::<16, 8, 8, 32, 2>(4);
}

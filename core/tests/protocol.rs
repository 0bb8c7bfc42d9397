//! The sampling and scoring protocol (`mcmc::run`) over a model file's run-time shaped
//! networks gives the bits of the typed protocol it replaced (the paper model's `FlowMc` chain
//! by chain, written out here as the protocol documents it), for the committed 2-D models in
//! f32, int16 and int8, with i-SIR and IMH schedules, adaptation on and off.

use emberflow_core::mcmc::run::{self, Adapt, Observer, Overrides, Protocol, Run};
use emberflow_core::model::{AnyEncoding, Model2d, ModelView};
use emberflow_core::runtime::FileModel;
use emberflow_core::{Energy, Flow, FlowMc, GlobalMove, StepStats, Xoshiro128PlusPlus};

fn committed(encoding: &str) -> Vec<u8> {
    let path = format!(
        "{}/../models/four_modes_2d_{encoding}.efm",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Default, Debug, PartialEq)]
struct Collect {
    samples: Vec<(u16, u32, Vec<u32>)>,
    chains: Vec<(u16, StepStats, u32)>,
}

impl Observer for Collect {
    fn sample(&mut self, chain: u16, index: u32, x: &[f32]) {
        self.samples
            .push((chain, index, x.iter().map(|v| v.to_bits()).collect()));
    }
    fn chain_end(&mut self, chain: u16, stats: &StepStats, step_size: f32) {
        self.chains.push((chain, *stats, step_size.to_bits()));
    }
}

/// The protocol over the typed paper model, step by step as the module documentation says.
fn typed(model: &Model2d<'_>, protocol: &Protocol) -> Collect {
    let warm = FlowMc::new(&model.energy, &model.flow, protocol.warmup_kernel()).unwrap();
    let sampling = FlowMc::new(&model.energy, &model.flow, protocol.sampling_kernel()).unwrap();
    let mut out = Collect::default();
    for c in 0..protocol.run.chains {
        let mut rng = Xoshiro128PlusPlus::stream(protocol.run.seed, u32::from(c));
        let mut x0 = [0.0f32; 2];
        model.flow.sample(&mut rng, &mut x0);
        let mut chain = warm.chain(x0, protocol.step_size);
        let mut discarded = StepStats::default();
        for _ in 0..protocol.run.warmup {
            warm.sweep(&mut chain, &mut rng, &mut discarded);
        }
        let mut stats = StepStats::default();
        for i in 0..protocol.run.n {
            sampling.sweep(&mut chain, &mut rng, &mut stats);
            let mut x = chain.x;
            model.to_data(&mut x);
            out.sample(c, i, &x);
        }
        out.chain_end(c, &stats, chain.step_size);
    }
    out
}

#[test]
fn runtime_protocol_gives_the_typed_protocols_bits() {
    let settings = [
        (Overrides::default(), 2026),
        (
            Overrides {
                global: Some(GlobalMove::Imh),
                mala_steps: Some(6),
                rounds: Some(2),
                step_size: Some(0.02),
                adapt: Some(Adapt::Off),
            },
            11,
        ),
        (
            Overrides {
                global: Some(GlobalMove::Isir { particles: 8 }),
                mala_steps: Some(4),
                adapt: Some(Adapt::Target(0.574)),
                ..Overrides::default()
            },
            7,
        ),
    ];
    for encoding in ["f32", "int16", "int8"] {
        let bytes = committed(encoding);
        let typed_model = Model2d::decode(&bytes).unwrap();
        let view = ModelView::parse(&bytes).unwrap();
        let mut storage = vec![0.0; FileModel::<'_, AnyEncoding, 32>::storage_len(2)];
        let file = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut storage).unwrap();
        let (energy, flow) = file.joint().unwrap();
        let header = view.header();
        for (overrides, seed) in &settings {
            let protocol = Protocol::new(
                &header.sampler,
                overrides,
                Run {
                    seed: *seed,
                    chains: 2,
                    n: 6,
                    warmup: 3,
                },
            )
            .unwrap();
            let want = typed(&typed_model, &protocol);
            let mut got = Collect::default();
            let mut buffer = vec![0.0; run::run_len(energy, flow)];
            run::run(
                energy,
                flow,
                &header.normalization,
                &protocol,
                &mut got,
                &mut buffer,
            )
            .unwrap();
            assert_eq!(got, want, "{encoding}, {overrides:?}");
            // a buffer one float short is refused
            let mut short = vec![0.0; run::run_len(energy, flow) - 1];
            assert!(matches!(
                run::run(
                    energy,
                    flow,
                    &header.normalization,
                    &protocol,
                    &mut got,
                    &mut short
                ),
                Err(emberflow_core::Error::BufferTooSmall { .. })
            ));
        }
        // scoring
        let mut buffer = vec![0.0; run::score_len(energy)];
        for k in 0..50 {
            let y = [0.37 * k as f32 - 9.0, 4.0 - 0.21 * k as f32];
            let mut x = y;
            typed_model.from_data(&mut x);
            let want = typed_model.energy.energy(&x);
            let got = run::score(energy, &header.normalization, &y, &mut buffer);
            assert_eq!(got.to_bits(), want.to_bits(), "{encoding} at {y:?}");
        }
        assert!(run::score(energy, &header.normalization, &[0.0; 3], &mut buffer).is_nan());
    }
}

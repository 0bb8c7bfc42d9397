//! The model file on the host: decode time, and one chain's MALA step / IMH move / i-SIR(64)
//! move on the committed 2-D paper model (`models/four_modes_2d_*.efm`) with the weights owned
//! (`Dense`, f32) and read in place from the file (`DenseView`, f32 / int16 / int8).
//!
//! ```text
//! cargo bench -p emberflow-core --bench model
//! ```
//!
//! File sizes are printed first; BENCHMARKS.md ("Model file") records a run.

use criterion::{Criterion, criterion_group};
use emberflow_core::model::{Encoding, Export, Model2d, ModelView, encode_energy_flow};
use emberflow_core::shapes::{Energy2d, Flow2d, PaperEnergyNet};
use emberflow_core::{
    ChainState, DiagGaussian, Energy, Flow, FlowMc, FlowMcConfig, GlobalMove, MlpEnergy,
    Parameters, Schedule, StepStats, Tilted, Xoshiro128PlusPlus,
};
use std::hint::black_box;

/// A file at a 16-byte aligned address, as the firmware places it (the aligned kernels then
/// apply; `include_bytes!` alone gives no alignment).
#[repr(C)]
struct Aligned<B: ?Sized> {
    _align: [u128; 0],
    bytes: B,
}

static F32_FILE: &Aligned<[u8]> = &Aligned {
    _align: [],
    bytes: *include_bytes!("../../models/four_modes_2d_f32.efm"),
};
static I16_FILE: &Aligned<[u8]> = &Aligned {
    _align: [],
    bytes: *include_bytes!("../../models/four_modes_2d_int16.efm"),
};
static I8_FILE: &Aligned<[u8]> = &Aligned {
    _align: [],
    bytes: *include_bytes!("../../models/four_modes_2d_int8.efm"),
};
static F32: &[u8] = &F32_FILE.bytes;
static I16: &[u8] = &I16_FILE.bytes;
static I8: &[u8] = &I8_FILE.bytes;

/// The owned model of an f32 file (its tensors in canonical order fill `visit_mut`).
fn owned(bytes: &[u8]) -> (Energy2d, Flow2d) {
    let view = ModelView::parse(bytes).unwrap();
    let mut values: Vec<Vec<f32>> = Vec::new();
    for t in view.tensors() {
        let t = t.unwrap();
        assert_eq!(t.encoding, Encoding::F32);
        let le = |b: &[u8]| -> Vec<f32> {
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        };
        values.push(le(t.weights));
        values.push(le(t.bias));
    }
    let mut next = values.into_iter();
    let mut fill = |t: &mut [f32]| t.copy_from_slice(&next.next().unwrap());
    let mut net = PaperEnergyNet::<2>::zeroed();
    net.visit_mut(&mut fill);
    let m = Model2d::decode(bytes).unwrap();
    let mut flow = m.flow_owned_template();
    flow.visit_mut(&mut fill);
    let energy = Tilted::new(MlpEnergy::new(net), m.energy.base.clone());
    let x = [0.3, -0.4];
    assert_eq!(energy.energy(&x).to_bits(), m.energy.energy(&x).to_bits());
    assert_eq!(
        flow.log_density(&x).to_bits(),
        m.flow.log_density(&x).to_bits()
    );
    (energy, flow)
}

trait Template {
    fn flow_owned_template(&self) -> Flow2d;
}

impl Template for Model2d<'_> {
    /// An owned flow with this file's masks and scale factors (parameters zero).
    fn flow_owned_template(&self) -> Flow2d {
        use emberflow_core::{AffineCoupling, CouplingBlock, RealNvp};
        let id = Flow2d::identity(DiagGaussian::standard());
        let blocks = core::array::from_fn(|k| {
            let (b, v) = (&id.blocks[k], &self.flow.blocks[k]);
            CouplingBlock {
                first: AffineCoupling::new(
                    *v.first.cond(),
                    *v.first.trans(),
                    v.first.scale_factor(),
                    b.first.scale_net.clone(),
                    b.first.shift_net.clone(),
                )
                .unwrap(),
                second: AffineCoupling::new(
                    *v.second.cond(),
                    *v.second.trans(),
                    v.second.scale_factor(),
                    b.second.scale_net.clone(),
                    b.second.shift_net.clone(),
                )
                .unwrap(),
            }
        });
        RealNvp::new(blocks, self.flow.base().clone())
    }
}

fn bench_model<U: Energy<2>, F: Flow<2>>(c: &mut Criterion, name: &str, target: &U, flow: &F) {
    let mut group = c.benchmark_group(name);
    let cfg = |global| FlowMcConfig {
        schedule: Schedule {
            global,
            mala_steps: 1,
            rounds: 1,
        },
        adaptation: None,
    };
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(2);
    for (id, global) in [
        ("mala", GlobalMove::None),
        ("imh", GlobalMove::Imh),
        ("isir64", GlobalMove::Isir { particles: 64 }),
    ] {
        let k = FlowMc::new(target, flow, cfg(global)).unwrap();
        let mut chain: ChainState<2> = k.chain([-0.5, 0.1], 0.005);
        let mut stats = StepStats::default();
        group.bench_function(id, |b| {
            b.iter(|| {
                if id == "mala" {
                    k.mala_step(&mut chain, &mut rng, &mut stats)
                } else {
                    k.global_step(&mut chain, &mut rng, &mut stats)
                }
            })
        });
        black_box(&chain);
    }
    group.finish();
}

fn all(c: &mut Criterion) {
    let (e, f) = owned(F32);
    bench_model(c, "owned-f32", &e, &f);
    for (name, bytes) in [("file-f32", F32), ("file-int16", I16), ("file-int8", I8)] {
        let m = Model2d::decode(bytes).unwrap();
        bench_model(c, name, &m.energy, &m.flow);
    }
    let mut group = c.benchmark_group("decode");
    for (name, bytes) in [("f32", F32), ("int16", I16), ("int8", I8)] {
        group.bench_function(name, |b| {
            b.iter(|| Model2d::decode(black_box(bytes)).unwrap().step_size())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = all
}

/// Size of the int8 file with every output layer kept in f32 (mixed precision).
fn mixed_int8_size() -> usize {
    let (e, f) = owned(F32);
    let view = ModelView::parse(I8).unwrap();
    let h = view.header();
    let export = Export {
        encoding: Encoding::I8,
        f32_output_layers: true,
        normalization: h.normalization,
        sampler: h.sampler,
        training: h.training,
        model_errors: None,
    };
    match encode_energy_flow(&e, &f, &export, &mut []) {
        Err(emberflow_core::Error::BufferTooSmall { needed }) => needed as usize,
        other => panic!("{other:?}"),
    }
}

fn main() {
    let m = ModelView::parse(F32).unwrap();
    println!(
        "2-D paper model (energy {} + flow {} parameters): f32 {} B, int16 {} B, int8 {} B, \
         int8 with f32 output layers {} B",
        m.header().energy_params(),
        m.header().flow_params(),
        F32.len(),
        I16.len(),
        I8.len(),
        mixed_int8_size()
    );
    benches();
    Criterion::default().configure_from_args().final_summary();
}

//! Single-chain FlowMC step costs for the paper's models (criterion).
//!
//! For each model — 2-D (energy 2→32→64→64→64→1, flow 4 blocks × 2 couplings, hidden 16) and
//! the d = 16 / 32 / 64 mixtures (flow 2 blocks, hidden 32 / 39 / 51) — one chain's MALA step,
//! IMH move and i-SIR move (N = 64); and the same through the run-time path (`Sampler` over
//! `runtime::TiltedMlp` / `RealNvpFlow` in the host's transposed-weight form, as the trainer runs
//! it) for shapes only the run-time path has: d = 24, 100 and 256 with emberflow's default
//! shapes (energy d→32→64→64→64→1, or d→8⌈d/16⌉→64→64→64→1 above 64; 2 blocks, hidden 32,
//! 64, 123). The FLOP count of each operation and a measured f32 FMA
//! peak of one core are written to `$EMBERFLOW_FLOPS_OUT` (default
//! `target/criterion/emberflow-flops.json`), from which
//! `cargo xtask bench-core` builds the table in BENCHMARKS.md.

use criterion::{Criterion, criterion_group};
use emberflow_core::model::{AnyEncoding, U16s};
use emberflow_core::random::standard_normal;
use emberflow_core::runtime::{Coupling, Layer, Mlp, RealNvpFlow, TiltedMlp};
use emberflow_core::shapes::{
    Energy2d, Energy16, Energy32, Energy64, Flow2d, Flow16, Flow32, Flow64, PaperEnergyNet,
};
use emberflow_core::{ActivationKind, ChainView, Sampler};
use emberflow_core::{
    ChainState, DiagGaussian, Energy, Flow, FlowMc, FlowMcConfig, GlobalMove, MlpEnergy, Network,
    Parameters, RealNvp, Schedule, StepStats, Tilted, Xoshiro128PlusPlus,
};
use std::hint::black_box;

/// Owned f32 layers (weights then biases, and the transposed weights) of a network.
struct Owned {
    params: Vec<Vec<f32>>,
    transposed: Vec<Vec<f32>>,
    widths: Vec<usize>,
}

impl Owned {
    fn new(widths: &[usize], scale: f32, rng: &mut Xoshiro128PlusPlus) -> Self {
        let mut params = Vec::new();
        let mut transposed = Vec::new();
        for w in widths.windows(2) {
            let (i, o) = (w[0], w[1]);
            let s = scale * (2.0 / i as f32).sqrt();
            let p: Vec<f32> = (0..i * o + o).map(|_| s * standard_normal(rng)).collect();
            transposed.push((0..i * o).map(|k| p[(k % o) * i + k / o]).collect());
            params.push(p);
        }
        Self {
            params,
            transposed,
            widths: widths.to_vec(),
        }
    }

    fn mlp<const L: usize>(&self, act: ActivationKind) -> Mlp<'_, AnyEncoding, L> {
        let layers: Vec<Layer<'_>> = self
            .params
            .iter()
            .zip(&self.transposed)
            .zip(self.widths.windows(2))
            .map(|((p, t), w)| Layer::from_f32_transposed(p, t, w[0], w[1]).unwrap())
            .collect();
        Mlp::new(&layers, act).unwrap()
    }

    fn macs(&self) -> usize {
        self.widths.windows(2).map(|w| w[0] * w[1]).sum()
    }
}

/// The run-time model of dimension `d` with emberflow's default shape: energy and flow nets,
/// masks, σ.
struct RuntimeModel {
    d: usize,
    energy: Owned,
    nets: Vec<Owned>,
    masks: Vec<(Vec<u16>, Vec<u16>)>,
    sigma: Vec<f32>,
}

impl RuntimeModel {
    /// emberflow's default shape of `d` ≥ 3 (two blocks), or the paper's 2-D shape (four
    /// blocks, conditioners of 16) at `d = 2`.
    fn new(d: usize) -> Self {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(d as u64);
        let first = if d <= 64 { 32 } else { 8 * d.div_ceil(16) };
        let hidden = match d {
            2 => 16,
            3..=31 => 32,
            _ => 27 + 3 * d / 8,
        };
        let couplings = if d == 2 { 8 } else { 4 };
        let energy = Owned::new(&[d, first, 64, 64, 64, 1], 1.0, &mut rng);
        let a = d / 2;
        let mut nets = Vec::new();
        let mut masks = Vec::new();
        for c in 0..couplings {
            let (cond, trans): (Vec<u16>, Vec<u16>) = if c % 2 == 0 {
                ((0..a as u16).collect(), (a as u16..d as u16).collect())
            } else {
                ((a as u16..d as u16).collect(), (0..a as u16).collect())
            };
            for _ in 0..2 {
                nets.push(Owned::new(
                    &[cond.len(), hidden, trans.len()],
                    0.05,
                    &mut rng,
                ));
            }
            masks.push((cond, trans));
        }
        Self {
            d,
            energy,
            nets,
            masks,
            sigma: vec![1.16; d],
        }
    }

    fn flow_macs(&self) -> usize {
        self.nets.iter().map(Owned::macs).sum()
    }
}

fn bench_runtime(c: &mut Criterion, name: &'static str, m: &RuntimeModel) {
    let d = m.d;
    let (mut inv_e, mut inv_f) = (vec![0.0; d], vec![0.0; d]);
    let target: TiltedMlp<'_> = TiltedMlp::new(
        m.energy.mlp(ActivationKind::LeakyRelu),
        &m.sigma,
        &mut inv_e,
    )
    .unwrap();
    let couplings: Vec<Coupling<'_>> = m
        .masks
        .iter()
        .enumerate()
        .map(|(k, (cond, trans))| Coupling {
            cond: U16s::Native(cond),
            trans: U16s::Native(trans),
            scale: 1.0,
            scale_net: m.nets[2 * k].mlp(ActivationKind::Relu),
            shift_net: m.nets[2 * k + 1].mlp(ActivationKind::Relu),
        })
        .collect();
    let flow: RealNvpFlow<'_> = RealNvpFlow::new(&couplings, &m.sigma, &mut inv_f).unwrap();
    let mut group = c.benchmark_group(name);
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(2);
    let x0: Vec<f32> = (0..d).map(|_| 0.5 * standard_normal(&mut rng)).collect();
    for (id, global) in [
        ("mala", GlobalMove::None),
        ("imh", GlobalMove::Imh),
        ("isir64", GlobalMove::Isir { particles: 64 }),
    ] {
        let config = FlowMcConfig {
            schedule: Schedule {
                global,
                mala_steps: 1,
                rounds: 1,
            },
            adaptation: None,
        };
        let k = Sampler::new(&target, &flow, config).unwrap();
        let mut scratch = vec![0.0; k.scratch_len()];
        let mut buf = vec![0.0; k.chain_len()];
        let mut chain = ChainView::from_buffer(d, &mut buf).unwrap();
        k.start(&mut chain, &x0, 0.01, &mut scratch);
        let mut stats = StepStats::default();
        group.bench_function(id, |b| {
            b.iter(|| {
                if id == "mala" {
                    k.mala_step(&mut chain, &mut rng, &mut stats, &mut scratch)
                } else {
                    k.global_step(&mut chain, &mut rng, &mut stats, &mut scratch)
                }
            })
        });
        black_box(&chain);
    }
    group.finish();
}

fn he_init<P: Parameters>(p: &mut P, rng: &mut Xoshiro128PlusPlus) {
    let mut lens = Vec::new();
    p.visit(&mut |t| lens.push(t.len()));
    let mut k = 0;
    p.visit_mut(&mut |t| {
        let s = if k % 2 == 0 {
            (2.0 / (lens[k] / lens[k + 1]) as f32).sqrt()
        } else {
            0.05
        };
        t.iter_mut().for_each(|v| *v = s * standard_normal(rng));
        k += 1;
    });
}

fn models<const D: usize, const A: usize, const B: usize, N1, N2, const K: usize>(
    sigma: f32,
) -> (
    Tilted<MlpEnergy<PaperEnergyNet<D>>, D>,
    RealNvp<D, A, B, N1, N2, K>,
)
where
    N1: Parameters,
    N2: Parameters,
{
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(1);
    let mut net = PaperEnergyNet::<D>::zeroed();
    he_init(&mut net, &mut rng);
    let base = DiagGaussian::isotropic(sigma).unwrap();
    let mut flow = RealNvp::identity(base.clone());
    flow.visit_mut(&mut |t| {
        t.iter_mut()
            .for_each(|v| *v = 0.05 * standard_normal(&mut rng))
    });
    (Tilted::new(MlpEnergy::new(net), base), flow)
}

struct Flops {
    name: &'static str,
    mala: f64,
    imh: f64,
    isir64: f64,
}

fn bench_model<const D: usize, U: Energy<D>, F: Flow<D>>(
    c: &mut Criterion,
    name: &'static str,
    target: &U,
    flow: &F,
) {
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
    let x0: [f32; D] = core::array::from_fn(|_| 0.5 * standard_normal(&mut rng));
    for (id, global) in [
        ("mala", GlobalMove::None),
        ("imh", GlobalMove::Imh),
        ("isir64", GlobalMove::Isir { particles: 64 }),
    ] {
        let k = FlowMc::new(target, flow, cfg(global)).unwrap();
        let mut chain: ChainState<D> = k.chain(x0, 0.01);
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

/// FLOPs (a multiply–add = 2) of one MALA step (forward + backward of the energy), one IMH move
/// (flow forward for the proposal, flow inverse for the current state, energy forward) and one
/// i-SIR(64) move (63 × (flow forward + energy forward) + 1 flow inverse).
fn flops(name: &'static str, energy_macs: usize, flow_macs: usize) -> Flops {
    let (e, f) = (2.0 * energy_macs as f64, 2.0 * flow_macs as f64);
    Flops {
        name,
        mala: 2.0 * e,
        imh: 2.0 * f + e,
        isir64: 63.0 * (f + e) + f,
    }
}

fn all(c: &mut Criterion) {
    let (e, f) = models::<2, 1, 1, _, _, 4>(2.0);
    let (e, f): (Energy2d, Flow2d) = (e, f);
    bench_model(c, "d2", &e, &f);
    let (e, f): (Energy16, Flow16) = models::<16, 8, 8, _, _, 2>(1.16);
    bench_model(c, "d16", &e, &f);
    let (e, f): (Energy32, Flow32) = models::<32, 16, 16, _, _, 2>(1.16);
    bench_model(c, "d32", &e, &f);
    let (e, f): (Energy64, Flow64) = models::<64, 32, 32, _, _, 2>(1.16);
    bench_model(c, "d64", &e, &f);
    for (name, d) in RUNTIME {
        bench_runtime(c, name, &RuntimeModel::new(d));
    }
}

/// The run-time rows: name and dimension (`rt2`: the paper's 2-D shape, next to the typed `d2`).
const RUNTIME: [(&str, usize); 4] = [("rt2", 2), ("rt24", 24), ("rt100", 100), ("rt256", 256)];

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = all
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let mut rows = vec![
        flops(
            "d2",
            <PaperEnergyNet<2> as Network<2, 1>>::macs(),
            Flow2d::macs(),
        ),
        flops(
            "d16",
            <PaperEnergyNet<16> as Network<16, 1>>::macs(),
            Flow16::macs(),
        ),
        flops(
            "d32",
            <PaperEnergyNet<32> as Network<32, 1>>::macs(),
            Flow32::macs(),
        ),
        flops(
            "d64",
            <PaperEnergyNet<64> as Network<64, 1>>::macs(),
            Flow64::macs(),
        ),
    ];
    for (name, d) in RUNTIME {
        let m = RuntimeModel::new(d);
        rows.push(flops(name, m.energy.macs(), m.flow_macs()));
    }
    let mut json = String::from("{\n  \"models\": [\n");
    for (i, r) in rows.iter().enumerate() {
        json += &format!(
            "    {{\"name\": \"{}\", \"mala\": {}, \"imh\": {}, \"isir64\": {}}}{}\n",
            r.name,
            r.mala,
            r.imh,
            r.isir64,
            if i + 1 < rows.len() { "," } else { "" }
        );
    }
    json += "  ]\n}\n";
    let out = std::env::var_os("EMBERFLOW_FLOPS_OUT").map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/criterion/emberflow-flops.json")
        },
        std::path::PathBuf::from,
    );
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(&out, json).expect("write flops json");
}

//! Single-chain FlowMC step costs for the paper's models (criterion).
//!
//! For each model — 2-D (energy 2→32→64→64→64→1, flow 4 blocks × 2 couplings, hidden 16) and
//! the d = 16 / 32 / 64 mixtures (flow 2 blocks, hidden 32 / 39 / 51) — one chain's MALA step,
//! IMH move and i-SIR move (N = 64). The FLOP count of each operation and a measured f32 FMA
//! peak of one core are written to `$EMBERFLOW_FLOPS_OUT` (default
//! `target/criterion/emberflow-flops.json`), from which
//! `cargo xtask bench-core` builds the table in BENCHMARKS.md.

use criterion::{Criterion, criterion_group};
use emberflow_core::random::standard_normal;
use emberflow_core::shapes::{
    Energy2d, Energy16, Energy32, Energy64, Flow2d, Flow16, Flow32, Flow64, PaperEnergyNet,
};
use emberflow_core::{
    ChainState, DiagGaussian, Energy, Flow, FlowMc, FlowMcConfig, GlobalMove, MlpEnergy, Network,
    Parameters, RealNvp, Schedule, StepStats, Tilted, Xoshiro128PlusPlus,
};
use std::hint::black_box;

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
fn flops<const D: usize>(name: &'static str, energy_macs: usize, flow_macs: usize) -> Flops {
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
}

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
    let rows = [
        flops::<2>(
            "d2",
            <PaperEnergyNet<2> as Network<2, 1>>::macs(),
            Flow2d::macs(),
        ),
        flops::<16>(
            "d16",
            <PaperEnergyNet<16> as Network<16, 1>>::macs(),
            Flow16::macs(),
        ),
        flops::<32>(
            "d32",
            <PaperEnergyNet<32> as Network<32, 1>>::macs(),
            Flow32::macs(),
        ),
        flops::<64>(
            "d64",
            <PaperEnergyNet<64> as Network<64, 1>>::macs(),
            Flow64::macs(),
        ),
    ];
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

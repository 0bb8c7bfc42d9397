//! Small, fast training runs: the loop runs, is deterministic for a seed whatever the number of
//! sampler threads, moves the parameters, and exports a model file that decodes and samples.

use emberflow_core::model::{Encoding, Model2d};
use emberflow_core::{
    Adaptation, FlowMc, FlowMcConfig, GlobalMove, Schedule, StepStats, Xoshiro128PlusPlus,
};
use emberflow_train::data::BuiltIn;
use emberflow_train::export::{ExportMeta, to_bytes};
use emberflow_train::{Method, TrainConfig, train};

fn small(method: Method, threads: usize) -> TrainConfig {
    TrainConfig {
        method,
        iters: 40,
        batch: 64,
        bank: 256,
        sampler: FlowMcConfig {
            schedule: Schedule {
                global: GlobalMove::Isir { particles: 16 },
                mala_steps: 4,
                rounds: 2,
            },
            adaptation: Some(Adaptation::default()),
        },
        ula_steps: 8,
        seed: 3,
        threads,
        eval_every: 10,
        ..TrainConfig::default()
    }
}

fn data() -> emberflow_train::data::Dataset {
    let d = BuiltIn::FourModes.sample(2000, 1);
    let s = emberflow_train::data::Standardizer::fit(&d);
    s.apply(&d).unwrap()
}

#[test]
fn flowmc_run_is_deterministic_across_thread_counts_and_learns() {
    let data = data();
    let mut seen = 0;
    let a = train(&data, 1.0, &small(Method::FlowMc, 1), |p| {
        seen += 1;
        assert!(p.losses.0.is_finite() && p.losses.1.is_finite());
        assert!(p.stats.local_proposed > 0 && p.stats.global_proposed > 0);
        true
    })
    .unwrap();
    assert_eq!(seen, 4);
    let b = train(&data, 1.0, &small(Method::FlowMc, 2), |_| true).unwrap();
    assert_eq!(
        a.energy, b.energy,
        "same seed, different threads: same energy"
    );
    assert_eq!(a.flow, b.flow);
    assert_eq!(a.iterations, 40);
    assert_eq!(a.skipped, (0, 0));
    // The output layer started at zero (E ≡ 0) and has moved.
    let last_w = &a.energy[8];
    assert!(
        last_w.iter().any(|w| w.abs() > 1e-3),
        "energy did not train"
    );
}

#[test]
fn baselines_run() {
    let data = data();
    for m in [Method::Ula, Method::ShortRun, Method::Nf] {
        let t = train(&data, 1.0, &small(m, 2), |_| true).unwrap();
        assert_eq!(t.iterations, 40, "{m:?}");
        assert!(
            t.energy
                .iter()
                .flatten()
                .chain(t.flow.iter().flatten())
                .all(|v| v.is_finite())
        );
    }
}

#[test]
fn time_budget_and_early_stop() {
    let data = data();
    let mut cfg = small(Method::FlowMc, 2);
    cfg.iters = 1_000_000;
    cfg.time_budget = Some(0.5);
    let t = train(&data, 1.0, &cfg, |_| true).unwrap();
    assert!(t.iterations < 1_000_000 && t.seconds < 10.0);
    let mut cfg = small(Method::FlowMc, 2);
    cfg.iters = 100;
    let t = train(&data, 1.0, &cfg, |p| p.iteration < 20).unwrap();
    assert_eq!(t.iterations, 20);
}

#[test]
fn rejects_bad_input() {
    let data = data();
    let three = TrainConfig {
        shape: Some(emberflow_train::ModelShape::default_for(3)),
        ..small(Method::FlowMc, 1)
    };
    let err = train(&data, 1.0, &three, |_| true).unwrap_err().to_string();
    assert!(err.contains("2 columns, the model expects 3"), "{err}");
    assert!(train(&data, 0.0, &small(Method::FlowMc, 1), |_| true).is_err());
    let mut bad = small(Method::FlowMc, 1);
    bad.sampler.schedule.global = GlobalMove::Isir { particles: 1 };
    assert!(train(&data, 1.0, &bad, |_| true).is_err());
    assert!(Method::parse("sgld").is_err());
}

#[test]
fn export_decodes_and_samples() {
    let data = data();
    let t = train(&data, 1.0, &small(Method::FlowMc, 2), |_| true).unwrap();
    let meta = ExportMeta {
        shift: vec![0.5, 0.0],
        scale: vec![2.0, 2.0],
        sampler: small(Method::FlowMc, 1).sampler,
        chains: 256,
        dataset: "four-modes".into(),
        seed: 3,
        metrics: vec![("ebm_weights_mse".into(), 1e-3)],
    };
    for enc in [Encoding::F32, Encoding::I16, Encoding::I8] {
        let bytes = to_bytes(&t, &meta, enc, data.values()).unwrap();
        let m = Model2d::decode(&bytes).unwrap();
        let k = FlowMc::new(&m.energy, &m.flow, m.config()).unwrap();
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(1);
        let mut c = k.chain([0.0, 0.0], m.step_size());
        let mut s = StepStats::default();
        for _ in 0..5 {
            k.sweep(&mut c, &mut rng, &mut s);
        }
        assert!(c.x.iter().all(|v| v.is_finite()));
        let mut x = c.x;
        m.to_data(&mut x);
        assert!((x[0] - (0.5 + 2.0 * c.x[0])).abs() < 1e-6, "{enc:?}");
    }
}

#[test]
fn resume_continues_exactly() {
    use emberflow_train::checkpoint::Checkpoint;
    let data = data();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.efck");
    let straight = train(&data, 1.0, &small(Method::FlowMc, 2), |_| true).unwrap();
    // Stop after 20 iterations (checkpoint written on stop), then resume to 40.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut first = small(Method::FlowMc, 2);
    first.checkpoint = Some(path.clone());
    first.stop = Some(stop.clone());
    let flag = stop.clone();
    let part = train(&data, 1.0, &first, |p| {
        if p.iteration == 20 {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        true
    })
    .unwrap();
    assert!(part.interrupted);
    assert_eq!(part.iterations, 20);
    let cp = Checkpoint::load(&path).unwrap();
    assert_eq!(cp.iteration, 20);
    let mut second = small(Method::FlowMc, 1);
    second.resume = Some(Box::new(cp));
    let resumed = train(&data, 1.0, &second, |_| true).unwrap();
    assert_eq!(resumed.iterations, 40);
    assert_eq!(resumed.energy, straight.energy, "resumed run differs");
    assert_eq!(resumed.flow, straight.flow);
    // A checkpoint of another run is refused.
    let mut other = small(Method::FlowMc, 1);
    other.seed = 4;
    other.resume = Some(Box::new(Checkpoint::load(&path).unwrap()));
    assert!(train(&data, 1.0, &other, |_| true).is_err());
}

#[test]
fn early_stopping_keeps_the_best_scored_evaluation() {
    use emberflow_core::Potential;
    use emberflow_train::train::{Verdict, train_scored};
    let data = data();
    let cfg = TrainConfig {
        iters: 80,
        patience: 3,
        keep_best: true,
        ..small(Method::FlowMc, 2)
    };
    let scores = [5.0, 3.0, 4.0, 2.5, 4.0, f64::NAN, 4.0, 1.0];
    let probe = [0.3f32, -0.2];
    let mut seen: Vec<(u64, f32)> = Vec::new();
    let t = train_scored(&data, 1.0, &cfg, |p| {
        let mut scratch = vec![0.0; p.energy.scratch_len()];
        seen.push((p.iteration, p.energy.energy(&probe, &mut scratch)));
        Verdict {
            keep_going: true,
            score: Some(scores[seen.len() - 1]),
        }
    })
    .unwrap();
    // Three evaluations without improvement after iteration 40: stopped after iteration 70.
    assert!(t.early_stopped);
    assert_eq!(t.iterations, 70);
    assert_eq!(seen.len(), 7);
    let argmin = (0..seen.len())
        .filter(|&k| scores[k].is_finite())
        .min_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .unwrap();
    assert_eq!(t.best, Some((seen[argmin].0, 2.5)));
    assert_eq!(t.exported_iteration, 40);
    // The exported parameters are that evaluation's averaged model.
    let mut model = t.model().unwrap();
    let energy = model.views().unwrap().energy;
    let mut scratch = vec![0.0; energy.scratch_len()];
    assert_eq!(energy.energy(&probe, &mut scratch), seen[argmin].1);
    assert_ne!(seen[argmin].1, seen[6].1);
}

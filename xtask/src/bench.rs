//! `cargo xtask bench-core`: criterion benchmarks of the core kernel, summarised into the
//! "Core kernel" section of BENCHMARKS.md.

use crate::setup::{cargo, replace_section, root, run, target_dir};
use anyhow::{Context, Result};
use std::path::Path;

const MODELS: [(&str, &str); 8] = [
    (
        "d2",
        "2-D paper model (EBM 2→32→64→64→64→1, flow 4×2 couplings, hidden 16)",
    ),
    (
        "d16",
        "d = 16 mixture model (flow 2×2 couplings, hidden 32)",
    ),
    (
        "d32",
        "d = 32 mixture model (flow 2×2 couplings, hidden 39)",
    ),
    (
        "d64",
        "d = 64 mixture model (flow 2×2 couplings, hidden 51)",
    ),
    (
        "rt2",
        "2-D paper model, run-time path (the same shape through TiltedMlp / RealNvpFlow)",
    ),
    (
        "rt24",
        "d = 24, run-time path (EBM 24→32→64→64→64→1, flow 2×2 couplings, hidden 32)",
    ),
    (
        "rt100",
        "d = 100, run-time path (EBM 100→56→64→64→64→1, flow 2×2 couplings, hidden 64)",
    ),
    (
        "rt256",
        "d = 256, run-time path (EBM 256→128→64→64→64→1, flow 2×2 couplings, hidden 123)",
    ),
];
const OPS: [(&str, &str); 3] = [
    ("mala", "MALA step"),
    ("imh", "IMH move"),
    ("isir64", "i-SIR move, N = 64"),
];

/// `cargo xtask bench-core`.
pub fn run_core() -> Result<()> {
    let root = root();
    let load_before = load_average();
    let crit = target_dir().join("criterion");
    run(
        &root,
        cargo()
            .args([
                "bench",
                "-p",
                "emberflow-core",
                "--features",
                "host-form",
                "--bench",
                "step",
            ])
            .env("EMBERFLOW_FLOPS_OUT", crit.join("emberflow-flops.json")),
    )?;
    let flops = std::fs::read_to_string(crit.join("emberflow-flops.json"))
        .context("reading target/criterion/emberflow-flops.json written by the bench")?;
    let (peak, peak_how) = fma_peak();

    let mut md = String::new();
    md += &format!(
        "Command: `cargo xtask bench-core` (criterion, `core/benches/step.rs`; median of 30 \
         samples). Machine: {}. Load average before / after the run: {load_before} / {} (other \
         work on this shared machine slows every figure; rerun on a quiet machine to compare).\n\n",
        machine(),
        load_average()
    );
    md += &format!(
        "One chain, one core. FLOPs count a multiply–add as 2 (network MACs only). f32 FMA peak \
         of one core: **{peak:.0} GFLOP/s** ({peak_how}).\n\n"
    );
    md += "| model | operation | time per step | FLOPs | GFLOP/s | % of FMA peak |\n";
    md += "|---|---|---|---|---|---|\n";
    for (id, desc) in MODELS {
        let row = flops
            .lines()
            .find(|l| l.contains(&format!("\"name\": \"{id}\"")))
            .with_context(|| format!("no FLOP row for {id}"))?;
        for (op, op_desc) in OPS {
            let ns = median_ns(&crit.join(id).join(op))?;
            let f = number_after(row, &format!("\"{op}\":")).context("flops")?;
            let gflops = f / ns;
            md += &format!(
                "| {desc} | {op_desc} | {} | {:.0} | {gflops:.2} | {:.1}% |\n",
                fmt_ns(ns),
                f,
                100.0 * gflops / peak
            );
        }
    }
    md += &many_chains();
    replace_section(&root.join("BENCHMARKS.md"), "Core kernel", &md)?;
    eprintln!("BENCHMARKS.md: section `Core kernel` updated");
    Ok(())
}

/// Chains of the throughput table (the batch of the paper and of the PyTorch reference).
const MANY_CHAINS: usize = 256;

/// Throughput of the core kernel on many chains at once, as the trainer runs them: 256 chains
/// of the 2-D paper model (seeded weights) split over every core, each chain stepped by
/// `mala_step` / `isir_step` with its own generator; chain-steps per second, median of 5
/// timed windows after one untimed one. Next to the figures recorded for the PyTorch
/// reference and the JAX peer on this machine type (quoted, not rerun here).
fn many_chains() -> String {
    use emberflow_core::shapes::{Energy2d, Flow2d};
    use emberflow_core::testing::seeded_paper_model;
    use emberflow_core::{ChainState, Flow, StepStats, Xoshiro128PlusPlus, isir_step, mala_step};
    use std::time::Instant;

    let (energy, flow): (Energy2d, Flow2d) = seeded_paper_model(1, 2.0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(7);
    let mut chains: Vec<(ChainState<2>, Xoshiro128PlusPlus)> = (0..MANY_CHAINS)
        .map(|i| {
            let mut x = [0.0; 2];
            flow.sample(&mut rng, &mut x);
            (
                ChainState::new(&energy, x, 0.01),
                Xoshiro128PlusPlus::stream(1, i as u32),
            )
        })
        .collect();
    // chain-steps per second of `steps` steps of every chain, the chains split over the cores
    let mut rate = |steps: usize, isir: bool| -> f64 {
        let chunk = MANY_CHAINS.div_ceil(threads);
        let start = Instant::now();
        std::thread::scope(|scope| {
            for part in chains.chunks_mut(chunk) {
                let (energy, flow) = (&energy, &flow);
                scope.spawn(move || {
                    let mut stats = StepStats::default();
                    for (chain, rng) in part.iter_mut() {
                        for _ in 0..steps {
                            if isir {
                                isir_step(energy, flow, chain, 64, rng, &mut stats);
                            } else {
                                mala_step(energy, chain, rng, None, &mut stats);
                            }
                        }
                    }
                });
            }
        });
        (MANY_CHAINS * steps) as f64 / start.elapsed().as_secs_f64()
    };
    let mut windows = |steps: usize, isir: bool| -> f64 {
        rate(steps, isir);
        median((0..5).map(|_| rate(steps, isir)).collect())
    };
    let mala = windows(400, false);
    let isir = windows(8, true);
    let mut md = format!(
        "\nMany chains ({MANY_CHAINS} chains of the 2-D paper model, seeded weights, over \
         {threads} threads; median of 5 windows), next to the figures recorded on this machine \
         type for the paper-faithful PyTorch reference (`anchors/torch_ref/RESULTS.md`, §3: \
         256 chains, 2 threads, trained model) and the hand-written JAX `jit`+`vmap` MALA quoted \
         in the project guide; those two are quoted, not rerun by this command:\n\n"
    );
    md += "| operation | emberflow, chain-steps/s | PyTorch reference | JAX peer |\n";
    md += "|---|---:|---:|---:|\n";
    md += &format!(
        "| MALA step | {mala:.0} | 208000 ({:.1}×) | 883000 ({:.2}×) |\n",
        mala / 208_000.0,
        mala / 883_000.0
    );
    md += &format!(
        "| i-SIR move, N = 64 | {isir:.0} | 14260 ({:.1}×) | — |\n",
        isir / 14_260.0
    );
    md
}

fn median_ns(dir: &Path) -> Result<f64> {
    let path = dir.join("new/estimates.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let median = text
        .find("\"median\"")
        .with_context(|| format!("no median in {}", path.display()))?;
    number_after(&text[median..], "\"point_estimate\":")
        .with_context(|| format!("no point estimate in {}", path.display()))
}

fn number_after(text: &str, key: &str) -> Option<f64> {
    let start = text.find(key)? + key.len();
    let rest = text[start..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// One core's f32 FMA peak from /proc/cpuinfo: clock × SIMD lanes (AVX-512: 16, AVX2 + FMA: 8,
/// else 4) × 2 FMA units × 2 FLOPs. The two FMA units are an assumption (server cores since
/// Haswell have two); the clock is the nominal one the kernel reports.
fn fma_peak() -> (f64, String) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let mhz = info
        .lines()
        .find(|l| l.starts_with("cpu MHz"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    let flags = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .unwrap_or_default();
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    let (lanes, isa) = if has("avx512f") {
        (16.0, "AVX-512")
    } else if has("avx2") && has("fma") {
        (8.0, "AVX2+FMA")
    } else {
        (4.0, "SSE")
    };
    let peak = mhz / 1000.0 * lanes * 2.0 * 2.0;
    (
        peak,
        format!("{mhz:.0} MHz × {lanes} {isa} lanes × 2 FMA units × 2 FLOPs"),
    )
}

/// The 1-minute load average (other processes competing for the cores).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The median (the mean of the two middle values of an even count; NaN if empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// CPU model, core count and rustc version.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {rustc}")
}

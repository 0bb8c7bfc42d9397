//! `cargo xtask bench-core`: criterion benchmarks of the core kernel, summarised into the
//! "Core kernel" section of BENCHMARKS.md.

use crate::setup::{cargo, replace_section, root, run, target_dir};
use anyhow::{Context, Result, bail};
use std::path::Path;

const MODELS: [(&str, &str); 4] = [
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
];
const OPS: [(&str, &str); 3] = [
    ("mala", "MALA step"),
    ("imh", "IMH move"),
    ("isir64", "i-SIR move, N = 64"),
];

pub fn run_core(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        bail!("`cargo xtask bench-core` takes no arguments (got `{a}`)");
    }
    let root = root();
    let load_before = load_average();
    let crit = target_dir().join("criterion");
    run(
        &root,
        cargo()
            .args(["bench", "-p", "emberflow-core", "--bench", "step"])
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
    replace_section(&root.join("BENCHMARKS.md"), "Core kernel", &md)?;
    eprintln!("BENCHMARKS.md: section `Core kernel` updated");
    Ok(())
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

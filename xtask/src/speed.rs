//! `cargo xtask bench-speed --torch-ref DIR [--rounds N] [--iters N]`: time per training
//! iteration of `emberflow train` against the paper-faithful PyTorch reference
//! (`DIR/flowmc_ebm.py`, which needs `pip install torch numpy`), run alternately on this machine
//! (A/B/A/B…), and write the "Training speed" section of BENCHMARKS.md.
//!
//! Both sides train the built-in four-modes set from scratch with the same schedule:
//! 256 chains of an 8192-chain bank, `(1 i-SIR(64) + 15 MALA) × 2`, Adam on both models, two
//! threads. Each side evaluates every 25 iterations and leaves the evaluations out of its training
//! clock; a side's figure for one round is the median of its per-window milliseconds per
//! iteration, the first window (warm-up) left out. This machine's speed drifts over minutes, hence
//! the alternation and the medians over rounds.

use crate::bench::{machine, median};
use crate::setup::{emberflow_binary, replace_section, root, target_dir};
use anyhow::{Context, Result, bail};
use emberflow_train::report::TrainReport;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Evaluation period of both sides, in iterations.
const WINDOW: u64 = 25;

/// Milliseconds per iteration of each window after the first, from `(iteration, seconds)`.
fn window_ms(points: &[(f64, f64)]) -> Vec<f64> {
    points
        .windows(2)
        .skip(1)
        .filter(|w| w[1].0 > w[0].0)
        .map(|w| 1000.0 * (w[1].1 - w[0].1) / (w[1].0 - w[0].0))
        .collect()
}

/// One run of `emberflow train`: the per-window ms per iteration.
fn ours(bin: &Path, out: &Path, iters: u64) -> Result<Vec<f64>> {
    let status = Command::new(bin)
        .args([
            "train",
            "--dataset",
            "four-modes",
            "--quiet",
            "--threads",
            "2",
        ])
        .args(["--iters", &iters.to_string()])
        .args(["--eval-every", &WINDOW.to_string()])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .context("running emberflow train")?;
    if !status.success() {
        bail!("emberflow train failed");
    }
    let report = TrainReport::read(&out.with_extension("json"))?;
    let points: Vec<(f64, f64)> = report
        .log
        .iter()
        .map(|r| (r.iteration as f64, r.seconds))
        .collect();
    Ok(window_ms(&points))
}

/// One run of the PyTorch reference, stopped once `iters` iterations are logged: the
/// per-window ms per iteration (its `win_ms_per_it`) and the foreign CPU load it measured.
fn reference(torch_ref: &Path, out: &Path, iters: u64) -> Result<(Vec<f64>, Vec<f64>)> {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out)?;
    let mut child = Command::new("python3")
        .current_dir(torch_ref)
        .args(["flowmc_ebm.py", "train", "--seed", "0", "--cap", "wall"])
        .args(["--iters", &iters.to_string(), "--minutes", "30"])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running python3 flowmc_ebm.py (is python3 installed?)")?;
    let log_path = out.join("log.jsonl");
    let start = Instant::now();
    let read = |path: &Path| -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    loop {
        let recs = read(&log_path);
        let last = recs.last().and_then(|r| r.get("it")?.as_u64()).unwrap_or(0);
        if last >= iters {
            // The training part is done; its final evaluation (10,000 fresh chains) is not
            // needed here.
            let _ = child.kill();
            let _ = child.wait();
            let ms = recs
                .iter()
                .skip(1)
                .filter_map(|r| r.get("win_ms_per_it")?.as_f64())
                .collect();
            let other = recs
                .iter()
                .skip(1)
                .filter_map(|r| r.get("other_cpu")?.as_f64())
                .collect();
            return Ok((ms, other));
        }
        if let Some(status) = child.try_wait()? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                e.read_to_string(&mut err).ok();
            }
            bail!(
                "the PyTorch reference stopped ({status}) before iteration {iters}:\n{}\n\
                 (it needs `pip install torch numpy`)",
                err.lines().rev().take(5).collect::<Vec<_>>().join("\n")
            );
        }
        if start.elapsed() > Duration::from_secs(1800) {
            let _ = child.kill();
            bail!("the PyTorch reference took more than 30 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The options of `cargo xtask bench-speed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder of the PyTorch reference's `flowmc_ebm.py` (required).
    #[arg(long, value_name = "DIR")]
    torch_ref: Option<PathBuf>,
    /// Alternating rounds (one run of each side per round).
    #[arg(long, value_name = "N", default_value_t = 5)]
    rounds: usize,
    /// Training iterations per run.
    #[arg(long, value_name = "N", default_value_t = 200)]
    iters: u64,
}

/// `cargo xtask bench-speed`.
pub fn run_speed(args: &Args) -> Result<()> {
    let (rounds, iters) = (args.rounds, args.iters);
    let torch_ref = args.torch_ref.as_deref().context(
        "--torch-ref DIR is required: the folder of the PyTorch reference's flowmc_ebm.py",
    )?;
    let torch_ref = std::fs::canonicalize(torch_ref)
        .with_context(|| format!("--torch-ref {}", torch_ref.display()))?;
    if !torch_ref.join("flowmc_ebm.py").is_file() {
        bail!("{} has no flowmc_ebm.py", torch_ref.display());
    }
    if rounds == 0 || iters < 3 * WINDOW {
        bail!("need --rounds ≥ 1 and --iters ≥ {}", 3 * WINDOW);
    }
    let root = root();
    let out_dir = target_dir().join("bench-speed");
    let bin = emberflow_binary(&out_dir)?;

    let mut ours_ms = Vec::new();
    let mut ref_ms = Vec::new();
    let mut foreign = Vec::new();
    for r in 0..rounds {
        let (t, o) = reference(&torch_ref, &out_dir.join("torch"), iters)?;
        let t = median(t);
        foreign.extend(o);
        let e = median(ours(&bin, &out_dir.join("ours.efm"), iters)?);
        eprintln!(
            "bench-speed: round {}/{rounds}: PyTorch {t:.1} ms/iteration, emberflow {e:.1} ms/iteration",
            r + 1
        );
        ref_ms.push(t);
        ours_ms.push(e);
    }
    let (t, e) = (median(ref_ms.clone()), median(ours_ms.clone()));
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let md = format!(
        "Command: `cargo xtask bench-speed --torch-ref DIR --rounds {rounds} --iters {iters}` \
         (DIR: the paper-faithful PyTorch reference, `flowmc_ebm.py`, torch on 2 threads). \
         Machine: {}.\n\n\
         Both train four-modes from scratch with the same schedule — 256 chains of 8192, \
         (1 i-SIR(64) + 15 MALA) × 2, Adam on both models — alternately, PyTorch then emberflow, \
         {rounds} rounds of {iters} iterations. A round's figure is the median of its \
         {WINDOW}-iteration windows (evaluations not counted, first window left out). The \
         reference measured a median foreign CPU load of {:.2} cores during its windows.\n\n\
         | | ms per iteration (median of rounds) | per round |\n|---|---:|---|\n\
         | PyTorch reference | {t:.1} | {} |\n\
         | emberflow | {e:.1} | {} |\n\
         | speed-up | **{:.2}×** | |\n",
        machine(),
        median(foreign),
        list(&ref_ms),
        list(&ours_ms),
        t / e
    );
    replace_section(&root.join("BENCHMARKS.md"), "Training speed", &md)?;
    eprintln!(
        "BENCHMARKS.md: section `Training speed` updated ({:.2}× faster)",
        t / e
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_skip_the_first_and_scale_to_ms() {
        let pts = [(25.0, 1.0), (50.0, 1.5), (75.0, 2.0), (100.0, 3.0)];
        assert_eq!(window_ms(&pts), vec![20.0, 40.0]);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}

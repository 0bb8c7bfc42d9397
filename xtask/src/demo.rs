//! `cargo xtask demo`: the whole path on the built-in four-modes set — train, export f32 and
//! int8, sample on the host and on the emulated Cortex-M4F, and write `out/demo/report.md`.

use crate::setup::{emberflow_binary, ensure_qemu, ensure_thumb_target, root, target_dir};
use anyhow::{Context, Result, bail};
use emberflow_train::data::BuiltIn;
use emberflow_train::metrics::mode_weights_from_samples;
use emberflow_train::report::TrainReport;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const ITERS: &str = "1500";
const SEED: &str = "0";
/// Host sampling: draws per chain and chains (the mode-weight estimate).
const N: &str = "250";
const CHAINS: &str = "64";
/// The host ↔ Cortex-M4F comparison: an emulated M4 runs ~10 M instructions per sweep of this
/// schedule, so the MCU run is kept short; the host repeats exactly the same run.
const MCU_N: &str = "60";
const MCU_CHAINS: &str = "4";

fn emberflow(bin: &Path, args: &[&str]) -> Result<f64> {
    eprintln!("$ emberflow {}", args.join(" "));
    let t = Instant::now();
    let status = Command::new(bin)
        .args(args)
        .status()
        .with_context(|| format!("running {}", bin.display()))?;
    if !status.success() {
        bail!("`emberflow {}` failed ({status})", args.join(" "));
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Mode weights of a samples CSV (header, then `chain,index,x0,x1`), by the four-modes bands.
fn csv_weights(path: &Path) -> Result<Vec<f64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut xs = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 4 {
            bail!("{}: malformed line `{line}`", path.display());
        }
        for c in &cols[cols.len() - 2..] {
            xs.push(
                c.trim()
                    .parse::<f32>()
                    .with_context(|| format!("{}: `{c}`", path.display()))?,
            );
        }
    }
    let truth = BuiltIn::FourModes.truth();
    Ok(mode_weights_from_samples(&xs, 2, 4, |x| truth.region(x)).weights)
}

fn fmt_w(w: &[f64]) -> String {
    w.iter()
        .map(|v| format!("{v:.3}"))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn mse(w: &[f64]) -> f64 {
    let t = [0.1, 0.2, 0.3, 0.4];
    w.iter().zip(t).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / 4.0
}

/// `cargo xtask demo`.
pub fn run_demo() -> Result<()> {
    let root = root();
    ensure_thumb_target()?;
    let qemu = ensure_qemu()?;
    let bin = emberflow_binary(&target_dir().join("demo"))?;
    let dir = root.join("out/demo");
    std::fs::create_dir_all(&dir)?;
    let p = |name: &str| -> PathBuf { dir.join(name) };
    let s = |p: &PathBuf| p.to_string_lossy().into_owned();

    // 1. Train and export (f32 and int8 of the same model).
    let model = p("model.efm");
    let model8 = p("model_int8.efm");
    let train_s = emberflow(
        &bin,
        &[
            "train",
            "--dataset",
            "four-modes",
            "--iters",
            ITERS,
            "--seed",
            SEED,
            "--also",
            "int8",
            "--out",
            &s(&model),
        ],
    )?;
    let report = TrainReport::read(&model.with_extension("json"))?;

    // 2. Sample on the host, and 3. on the emulated Cortex-M4F.
    let mut rows = Vec::new();
    let mut identical = Vec::new();
    let n_host: f64 = N.parse::<f64>()? * CHAINS.parse::<f64>()?;
    let n_mcu: f64 = MCU_N.parse::<f64>()? * MCU_CHAINS.parse::<f64>()?;
    for (label, m) in [("f32", &model), ("int8", &model8)] {
        let host = p(&format!("host_{label}.csv"));
        let big = ["--n", N, "--chains", CHAINS, "--seed", "1"];
        let secs = emberflow(
            &bin,
            &[
                &["sample", "--model", &s(m)][..],
                &big[..],
                &["--out", &s(&host)][..],
            ]
            .concat(),
        )?;
        rows.push((
            format!("host, {label} ({n_host} draws)"),
            csv_weights(&host)?,
            Some(secs / n_host),
        ));
        if qemu {
            let small = p(&format!("host_small_{label}.csv"));
            let mcu = p(&format!("mcu_{label}.csv"));
            let few = ["--n", MCU_N, "--chains", MCU_CHAINS, "--seed", "2"];
            let model_arg = s(m);
            let host_secs = emberflow(
                &bin,
                &[
                    &["sample", "--model", &model_arg][..],
                    &few[..],
                    &["--out", &s(&small)][..],
                ]
                .concat(),
            )?;
            let mcu_secs = emberflow(
                &bin,
                &[
                    &["firmware", "run", "--model", &model_arg][..],
                    &few[..],
                    &["--out", &s(&mcu)][..],
                ]
                .concat(),
            )?;
            rows.push((
                format!("host, {label} ({n_mcu} draws, the run below)"),
                csv_weights(&small)?,
                Some(host_secs / n_mcu),
            ));
            rows.push((
                format!("Cortex-M4F (QEMU), {label} ({n_mcu} draws)"),
                csv_weights(&mcu)?,
                Some(mcu_secs / n_mcu),
            ));
            identical.push((label, std::fs::read(&small)? == std::fs::read(&mcu)?));
        }
    }

    // 4. Pictures.
    let density = p("density.png");
    let curves = p("training.png");
    let bars = p("weights.png");
    emberflow(
        &bin,
        &[
            "plot",
            "density",
            "--model",
            &s(&model),
            "--samples",
            &s(&p("host_f32.csv")),
            "--out",
            &s(&density),
        ],
    )?;
    emberflow(
        &bin,
        &[
            "plot",
            "training",
            "--report",
            &s(&model.with_extension("json")),
            "--out",
            &s(&curves),
        ],
    )?;
    emberflow(
        &bin,
        &[
            "plot",
            "weights",
            "--report",
            &s(&model.with_extension("json")),
            "--out",
            &s(&bars),
        ],
    )?;

    // 5. The report.
    let mut md = String::from("# emberflow demo: four modes with unequal weights\n\n");
    md += &format!(
        "Trained with `emberflow train --dataset four-modes --iters {ITERS} --seed {SEED}` in \
         {train_s:.0} s on this machine; {N} draws × {CHAINS} chains sampled from the exported \
         models on the host, and a shorter run ({MCU_N} draws × {MCU_CHAINS} chains) both on the \
         host and in QEMU's Cortex-M4F (mps2-an386).\n\n"
    );
    md += "![learned density](density.png)\n\n| | mode weights (x = −3 / −1 / 1 / 3) | MSE vs truth | time per sample |\n|---|---|---|---|\n";
    md += "| truth | 0.100 / 0.200 / 0.300 / 0.400 | 0 | |\n";
    if let Some(w) = &report.ebm_weights {
        md += &format!(
            "| the EBM itself (grid integral) | {} | {:.2e} | |\n",
            fmt_w(w),
            mse(w)
        );
    }
    for (label, w, secs) in &rows {
        md += &format!(
            "| samples: {label} | {} | {:.2e} | {} |\n",
            fmt_w(w),
            mse(w),
            secs.map_or(String::new(), |t| format!(
                "{:.0} µs (wall clock incl. start-up{})",
                1e6 * t,
                if label.contains("QEMU") {
                    ", firmware build and emulation"
                } else {
                    ""
                }
            ))
        );
    }
    md += "\n";
    for (label, same) in &identical {
        md += &format!(
            "- {label}: host and Cortex-M4F samples are {}.\n",
            if *same {
                "**bit-identical**"
            } else {
                "NOT identical"
            }
        );
    }
    if !qemu {
        md += "- qemu-system-arm was not available: the Cortex-M4F rows were skipped.\n";
    }
    for key in ["local_acceptance", "global_acceptance"] {
        if let Some(v) = report.metric(key) {
            md += &format!("- {key} (fresh chains on the exported model): {v:.3}\n");
        }
    }
    for (label, m) in [("f32", &model), ("int8", &model8)] {
        md += &format!(
            "- model file, {label}: {} bytes\n",
            std::fs::metadata(m)?.len()
        );
    }
    md += "\nFirmware footprint and instruction counts: `cargo xtask bench-firmware` (BENCHMARKS.md).\n\n";
    md += "![training curves](training.png)\n\n![mode weights](weights.png)\n\n";
    md += "## Redo each step by hand\n\n```sh\n";
    let e = "cargo run --release -p emberflow-tools --bin emberflow --";
    md += &format!(
        "{e} train --dataset four-modes --iters {ITERS} --seed {SEED} --also int8 --out out/demo/model.efm\n"
    );
    md += &format!(
        "{e} sample --model out/demo/model.efm --n {N} --chains {CHAINS} --seed 1 --out out/demo/host_f32.csv\n"
    );
    md += &format!(
        "{e} firmware run --model out/demo/model.efm --n {MCU_N} --chains {MCU_CHAINS} --seed 2 --out out/demo/mcu_f32.csv\n"
    );
    md += &format!(
        "{e} plot density --model out/demo/model.efm --samples out/demo/host_f32.csv --out out/demo/density.png\n"
    );
    md += &format!("{e} eval --model out/demo/model.efm --samples out/demo/host_f32.csv\n```\n");
    let report_path = p("report.md");
    std::fs::write(&report_path, md)?;
    println!("\nreport: {}", report_path.display());
    println!("redo by hand: see the commands at the end of the report, e.g.");
    println!(
        "  {e} train --dataset four-modes --iters {ITERS} --seed {SEED} --also int8 --out out/demo/model.efm"
    );
    println!(
        "  {e} sample --model out/demo/model.efm --n {N} --chains {CHAINS} --seed 1 --out out/demo/host_f32.csv"
    );
    println!(
        "  {e} firmware run --model out/demo/model.efm --n {MCU_N} --chains {MCU_CHAINS} --seed 2 --out out/demo/mcu_f32.csv"
    );
    Ok(())
}

//! `cargo xtask bench-train [--seeds N] [--sets a,b,…] [--baselines]`: train the built-in sets
//! with `emberflow train`, take the median over seeds of each final metric of the exported
//! model, and write the "Training quality" section of BENCHMARKS.md.

use crate::bench::machine;
use crate::setup::{cargo, replace_section, root, run, target_dir};
use anyhow::{Context, Result, bail};
use std::process::Command;

/// `(set, iterations, metric in the report, target, paper's flowMC-EBM figure)`.
const TARGETS: &[(&str, u64, &str, f64, &str)] = &[
    ("four-modes", 1500, "ebm_weights_mse", 1e-4, "4.29e-4"),
    ("four-modes", 1500, "negatives_vs_ebm_mse", 3e-5, "3.12e-5"),
    (
        "eight-gaussians",
        1500,
        "log_density_sq_err_median",
        0.5,
        "0.94",
    ),
    ("rings", 1500, "log_density_sq_err_median", 0.3, "0.40"),
    ("gmm-16", 600, "max_rhat_128_chains", 1.01, "1.01"),
    ("gmm-32", 600, "max_rhat_128_chains", 1.01, "1.01"),
    ("gmm-64", 600, "max_rhat_128_chains", 1.02, "1.05"),
];

struct Run {
    set: String,
    method: String,
    metrics: Vec<(String, f64)>,
    seconds: f64,
}

fn metric(report: &str, key: &str) -> Option<f64> {
    let start = report.find("\"metrics\":")?;
    let body = &report[start..];
    let k = body.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = body[k..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2])
    }
}

pub fn run_train(args: &[String]) -> Result<()> {
    let mut seeds = 3u64;
    let mut sets: Option<Vec<String>> = None;
    let mut baselines = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seeds" => {
                seeds = it
                    .next()
                    .context("--seeds needs a number")?
                    .parse()
                    .context("--seeds needs a number")?
            }
            "--sets" => {
                sets = Some(
                    it.next()
                        .context("--sets needs a list")?
                        .split(',')
                        .map(str::to_string)
                        .collect(),
                )
            }
            "--baselines" => baselines = true,
            other => bail!("unknown option `{other}` (--seeds N, --sets a,b, --baselines)"),
        }
    }
    let root = root();
    run(
        &root,
        cargo().args([
            "build",
            "--release",
            "-p",
            "emberflow-tools",
            "--bin",
            "emberflow",
        ]),
    )?;
    let bin = target_dir().join("release/emberflow");
    let out_dir = target_dir().join("bench-train");
    std::fs::create_dir_all(&out_dir)?;
    let mut plan: Vec<(&str, u64)> = Vec::new();
    for (set, iters, ..) in TARGETS {
        if sets.as_ref().is_none_or(|s| s.iter().any(|x| x == set))
            && !plan.iter().any(|(s, _)| s == set)
        {
            plan.push((set, *iters));
        }
    }
    let mut runs: Vec<Run> = Vec::new();
    for (set, iters) in &plan {
        let methods: &[&str] = if baselines {
            &["flowmc", "ula", "short-run"]
        } else {
            &["flowmc"]
        };
        for method in methods {
            let n_seeds = if *method == "flowmc" { seeds } else { 1 };
            for seed in 0..n_seeds {
                let out = out_dir.join(format!("{set}-{method}-{seed}.efm"));
                eprintln!("bench-train: {set} {method} seed {seed}");
                let status = Command::new(&bin)
                    .args(["train", "--dataset", set, "--method", method, "--quiet"])
                    .args(["--iters", &iters.to_string(), "--seed", &seed.to_string()])
                    .arg("--out")
                    .arg(&out)
                    .status()
                    .context("running emberflow train")?;
                if !status.success() {
                    bail!("emberflow train failed for {set} {method} seed {seed}");
                }
                let report = std::fs::read_to_string(out.with_extension("json"))?;
                let keys = [
                    "ebm_weights_mse",
                    "negatives_vs_ebm_mse",
                    "negatives_weights_mse",
                    "log_density_sq_err_median",
                    "max_rhat_128_chains",
                    "train_seconds",
                ];
                runs.push(Run {
                    set: set.to_string(),
                    method: method.to_string(),
                    metrics: keys
                        .iter()
                        .filter_map(|k| metric(&report, k).map(|v| (k.to_string(), v)))
                        .collect(),
                    seconds: metric(&report, "train_seconds").unwrap_or(f64::NAN),
                });
            }
        }
    }

    let mut md = format!(
        "Command: `cargo xtask bench-train --seeds {seeds}{}{}` (each run: `emberflow train \
         --dataset SET --method M --seed S --iters N`; figures of the exported, parameter-averaged \
         model; median over seeds for flowMC-EBM, one seed for the baselines). Machine: {}.\n\n",
        sets.as_ref()
            .map_or(String::new(), |s| format!(" --sets {}", s.join(","))),
        if baselines { " --baselines" } else { "" },
        machine()
    );
    md += "| set | metric | paper (flowMC-EBM) | target | ours (median) | per seed | met | train time (median) |\n";
    md += "|---|---|---|---|---|---|---|---|\n";
    for (set, _, key, target, paper) in TARGETS {
        let vals: Vec<f64> = runs
            .iter()
            .filter(|r| r.set == *set && r.method == "flowmc")
            .filter_map(|r| r.metrics.iter().find(|(k, _)| k == key).map(|(_, v)| *v))
            .collect();
        if vals.is_empty() {
            continue;
        }
        let secs: Vec<f64> = runs
            .iter()
            .filter(|r| r.set == *set && r.method == "flowmc")
            .map(|r| r.seconds)
            .collect();
        let m = median(vals.clone());
        md += &format!(
            "| {set} | {key} | {paper} | ≤ {target} | {m:.3e} | {} | {} | {:.0} s |\n",
            vals.iter()
                .map(|v| format!("{v:.2e}"))
                .collect::<Vec<_>>()
                .join(", "),
            if m <= *target { "yes" } else { "no" },
            median(secs)
        );
    }
    if baselines {
        md += "\nBaselines (one seed, same sets and iterations):\n\n| set | method | metric | value |\n|---|---|---|---|\n";
        for r in runs.iter().filter(|r| r.method != "flowmc") {
            for (k, v) in &r.metrics {
                if k != "train_seconds" {
                    md += &format!("| {} | {} | {k} | {v:.3e} |\n", r.set, r.method);
                }
            }
        }
    }
    replace_section(&root.join("BENCHMARKS.md"), "Training quality", &md)?;
    eprintln!("BENCHMARKS.md: section `Training quality` updated");
    Ok(())
}

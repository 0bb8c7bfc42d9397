//! `emberflow train` from the command line: argument and file errors give one readable line and
//! a non-zero exit; a tiny run writes a model that `emberflow inspect` reads, and a report.

mod common;

use common::{TINY_TRAIN, emberflow, fails_with};

#[test]
fn argument_and_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.efm");
    let out = out.to_str().unwrap();
    fails_with(
        &["train", "--dataset", "five-modes", "--out", out],
        "five-modes",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--device",
            "tpu",
            "--out",
            out,
        ],
        "unknown device `tpu`",
    );
    // Nothing to resume: no checkpoint next to the model (nor in a --checkpoint-dir).
    fails_with(
        &["train", "--dataset", "four-modes", "--resume", "--out", out],
        "--resume",
    );
    #[cfg(not(feature = "cuda"))]
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--device",
            "cuda",
            "--out",
            out,
        ],
        "no CUDA support",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--quantize",
            "int4",
            "--out",
            out,
        ],
        "int4",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--method",
            "sgld",
            "--out",
            out,
        ],
        "sgld",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--particles",
            "1",
            "--out",
            out,
        ],
        "particles",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--time-budget=-3",
            "--out",
            out,
        ],
        "time-budget",
    );
    fails_with(
        &["train", "--data", "/no/such/file.csv", "--out", out],
        "file.csv",
    );
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "x,y\n1,2\n3,abc\n").unwrap();
    fails_with(
        &["train", "--data", csv.to_str().unwrap(), "--out", out],
        "line 3",
    );
    let wide = dir.path().join("wide.csv");
    std::fs::write(&wide, "1\n2\n3\n").unwrap();
    fails_with(
        &["train", "--data", wide.to_str().unwrap(), "--out", out],
        "supported dimensions",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--scale",
            "pca",
            "--out",
            out,
        ],
        "unknown scaling `pca`",
    );
    let flat = dir.path().join("flat.csv");
    std::fs::write(&flat, "a,b\n1,5\n2,5\n3,5\n").unwrap();
    fails_with(
        &["train", "--data", flat.to_str().unwrap(), "--out", out],
        "constant",
    );
    assert!(!std::path::Path::new(out).exists(), "no partial model file");
}

/// A CSV file is scaled per feature by default: a column in large units and one in small
/// units both get unit spread in model space, and the model file records each scale.
#[test]
fn csv_data_are_scaled_per_feature() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("mixed.csv");
    let mut text = String::from("big,small\n");
    for i in 0..200 {
        let t = f64::from(i) / 200.0;
        text += &format!("{},{}\n", 300.0 * (6.0 * t).sin(), 0.1 * (11.0 * t).cos());
    }
    std::fs::write(&csv, text).unwrap();
    let run = |extra: &[&str], name: &str| {
        let out = dir.path().join(name);
        let args = [
            &[
                "train",
                "--data",
                csv.to_str().unwrap(),
                "--iters",
                "5",
                "--batch",
                "32",
            ][..],
            &[
                "--bank",
                "64",
                "--eval-every",
                "5",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ],
            extra,
        ]
        .concat();
        let (ok, _, err) = emberflow(&args);
        assert!(ok, "{err}");
        let (ok, stdout, err) = emberflow(&["inspect", out.to_str().unwrap()]);
        assert!(ok, "{err}");
        (stdout, err)
    };
    // `inspect`'s line `data  x_data = shift + scale * x_model; shift [..], scale [s0, s1]`.
    let scales = |inspect: &str| -> Vec<f64> {
        let line = inspect
            .lines()
            .find(|l| l.starts_with("data"))
            .unwrap_or_else(|| panic!("no data line in {inspect}"));
        let list = line.rsplit("scale [").next().unwrap().trim_end_matches(']');
        list.split(',').map(|v| v.trim().parse().unwrap()).collect()
    };
    let (per, _) = run(&[], "per.efm");
    let s = scales(&per);
    assert_eq!(s.len(), 2, "{per}");
    assert!(s[0] / s[1] > 1000.0, "per-feature scales {s:?}");
    let (common, _) = run(&["--scale", "common"], "common.efm");
    let s = scales(&common);
    assert_eq!(s[0], s[1], "common scale {s:?}");
}

#[test]
fn tiny_run_writes_model_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.efm");
    let (ok, stdout, err) = emberflow(
        &[
            TINY_TRAIN,
            &[
                "--eval-every",
                "10",
                "--quantize",
                "int8",
                "--out",
                out.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert!(ok, "{err}");
    assert!(stdout.contains("wrote"), "{stdout}");
    let report = std::fs::read_to_string(out.with_extension("json")).unwrap();
    assert!(report.contains("\"ebm_weights_mse\""), "{report}");
    // Every evaluation logs the metrics the benchmark's time-to-target and the training
    // curves read: the log-density error (2-D built-in set), R̂ of fresh chains, and the
    // bank's mode weights against the EBM's.
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    let log = v["log"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{report}");
    let mut last_seconds = 0.0;
    for r in log {
        let err = r["log_density_err"].as_f64().expect("log_density_err");
        assert!(err.is_finite() && err >= 0.0, "{r}");
        let rhat = r["rhat"].as_f64().expect("rhat");
        assert!(rhat > 0.5 && rhat < 10.0, "{r}");
        let mse = r["bank_vs_ebm_mse"].as_f64().expect("bank_vs_ebm_mse");
        assert!((0.0..1.0).contains(&mse), "{r}");
        let t = r["seconds"].as_f64().unwrap();
        assert!(t > last_seconds, "{r}");
        last_seconds = t;
    }
    assert!(
        v["train_seconds"].as_f64().unwrap() >= last_seconds,
        "{report}"
    );
    let (ok, stdout, err) = emberflow(&["inspect", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(stdout.to_lowercase().contains("int8"), "{stdout}");
}

#[test]
fn a_validation_split_logs_the_held_out_likelihood() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.efm");
    let out = out.to_str().unwrap();
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--validation",
            "1.5",
            "--out",
            out,
        ],
        "--validation must be a fraction",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--nll-draws",
            "1",
            "--out",
            out,
        ],
        "--nll-draws",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "four-modes",
            "--keep",
            "first",
            "--out",
            out,
        ],
        "--keep: `first`",
    );
    let mut no_split = TINY_TRAIN.to_vec();
    no_split.extend(["--patience", "3", "--out", out]);
    fails_with(&no_split, "need a validation set");
    let mut args = TINY_TRAIN.to_vec();
    args.extend([
        "--validation",
        "0.1",
        "--nll-draws",
        "512",
        "--eval-every",
        "10",
        "--out",
        out,
    ]);
    let (ok, _, err) = emberflow(&args);
    assert!(ok, "{err}");
    let report = emberflow_train::report::TrainReport::read(&dir.path().join("m.json")).unwrap();
    assert!(!report.log.is_empty());
    for r in &report.log {
        let (t, v, z) = (r.train_nll.unwrap(), r.val_nll.unwrap(), r.ln_z.unwrap());
        assert!(t.is_finite() && v.is_finite() && z.is_finite(), "{r:?}");
        assert!(
            r.ln_z_se.unwrap() >= 0.0 && r.ln_z_ess.unwrap() > 1.0,
            "{r:?}"
        );
    }
    // The model choice is recorded in the file: the best logged validation NLL's iteration.
    let best = report
        .log
        .iter()
        .min_by(|a, b| a.val_nll.unwrap().total_cmp(&b.val_nll.unwrap()))
        .unwrap();
    let selected = report.metric("selected_iteration").unwrap();
    assert_eq!(selected as u64, best.iteration);
    assert!((report.metric("val_nll").unwrap() - best.val_nll.unwrap()).abs() < 1e-3);
    let (ok, text, err) = emberflow(&["inspect", out]);
    assert!(
        ok && text.contains("selected_iteration") && text.contains("ln_z_se"),
        "{err}"
    );
    let png = dir.path().join("curves.png");
    let (ok, _, err) = emberflow(&[
        "plot",
        "training",
        "--report",
        dir.path().join("m.json").to_str().unwrap(),
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(ok && png.exists(), "{err}");
}

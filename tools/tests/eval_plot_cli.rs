//! `emberflow eval` and `emberflow plot` from the command line: argument and file errors give one
//! readable line and a non-zero exit; a tiny model trained, sampled, evaluated and drawn end to
//! end writes sensible numbers and real PNG files.

use serde_json::Value;
use std::path::Path;
mod common;

use common::{TINY_TRAIN, emberflow, fails_with};

/// Run `emberflow`, which must succeed; its stdout.
fn ok(args: &[&str]) -> String {
    let (ok, out, err) = emberflow(args);
    assert!(ok, "{args:?} failed:\n{err}");
    out
}

/// A usage error (clap): non-zero exit, a message naming `needle`, no panic.
fn usage_error(args: &[&str], needle: &str) {
    let (ok, _, err) = emberflow(args);
    assert!(!ok, "{args:?} should fail");
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected `{needle}` in:\n{err}"
    );
}

/// The committed 2-D model (its training set is not a built-in name, so nothing is implied).
fn committed() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/four_modes_2d_f32.efm"
    )
    .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// Width and height of a PNG file, after checking its signature; and its size in bytes.
fn png(path: &Path) -> (u32, u32, usize) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
    (w, h, b.len())
}

fn assert_png(path: &Path, min_bytes: usize) {
    let (w, h, n) = png(path);
    assert!(w >= 400 && h >= 250, "{}: {w}x{h}", path.display());
    assert!(n >= min_bytes, "{}: only {n} bytes", path.display());
}

/// Points around three centres with weights 0.5 / 0.3 / 0.2, as CSV with a header.
fn three_clusters(n: usize) -> String {
    let mut s = String::from("a,b\n");
    let mut state = 12345u64;
    let mut unif = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    for i in 0..n {
        let (cx, cy) = match i % 10 {
            0..=4 => (-2.0, 1.0),
            5..=7 => (2.0, 1.0),
            _ => (0.0, -2.0),
        };
        // Box–Muller.
        let (u, v) = (unif(), unif());
        let r = (-2.0 * u.ln()).sqrt() * 0.3;
        let t = std::f64::consts::TAU * v;
        s += &format!("{:.5},{:.5}\n", cx + r * t.cos(), cy + r * t.sin());
    }
    s
}

#[test]
fn eval_argument_and_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = committed();
    let missing = d.join("missing.efm");
    fails_with(
        &["eval", "--model", missing.to_str().unwrap()],
        "cannot read the model",
    );
    let junk = write(d, "junk.efm", "this is not a model file at all");
    fails_with(&["eval", "--model", &junk], "is not a valid model file");
    // Nothing to compare with: the committed model's data set is not built in.
    fails_with(&["eval", "--model", &model], "nothing to evaluate");
    let nofile = d.join("nope.csv");
    fails_with(
        &[
            "eval",
            "--model",
            &model,
            "--data",
            nofile.to_str().unwrap(),
        ],
        "cannot read the file",
    );
    let bad = write(d, "bad.csv", "x,y\n1,2\n3,abc\n");
    fails_with(
        &["eval", "--model", &model, "--data", &bad],
        "line 3, column 2: `abc` is not a number",
    );
    let ragged = write(d, "ragged.csv", "1,2\n3\n");
    fails_with(
        &["eval", "--model", &model, "--data", &ragged],
        "expected 2 columns, found 1",
    );
    let three = write(d, "three.csv", "1,2,3\n4,5,6\n");
    fails_with(
        &["eval", "--model", &model, "--data", &three],
        "3 columns, but the model is 2-dimensional",
    );
    let empty = write(d, "empty.csv", "x,y\n");
    fails_with(
        &["eval", "--model", &model, "--data", &empty],
        "no data rows",
    );
    let data = write(d, "data.csv", &three_clusters(300));
    let s3 = write(d, "s3.csv", "chain,index,x0,x1,x2\n0,0,1,2,3\n");
    fails_with(
        &["eval", "--model", &model, "--data", &data, "--samples", &s3],
        "3 coordinate columns besides chain/index, but the model is 2-dimensional",
    );
    let s_bad_chain = write(d, "sc.csv", "chain,index,x0,x1\n0,0,1,2\n-1,1,1,2\n");
    fails_with(
        &["eval", "--model", &model, "--samples", &s_bad_chain],
        "chain id `-1` is not a non-negative integer",
    );
    let s_no_header = write(d, "snh.csv", "0,0,1,2\n0,1,1,2\n");
    fails_with(
        &["eval", "--model", &model, "--samples", &s_no_header],
        "header is needed",
    );
    let c3 = write(d, "c3.csv", "0,0,0\n");
    fails_with(
        &["eval", "--model", &model, "--data", &data, "--centers", &c3],
        "--centers",
    );
    fails_with(
        &["eval", "--model", &model, "--data", &data, "--k", "0"],
        "--k must be between 1",
    );
    fails_with(
        &["eval", "--model", &model, "--data", &data, "--bandwidth=-1"],
        "--bandwidth",
    );
    usage_error(&["eval", "--data", &data], "--model");
    usage_error(
        &["eval", "--model", &model, "--centers", &c3, "--k", "3"],
        "cannot be used with",
    );
    usage_error(
        &["eval", "--model", &model, "--permutations", "many"],
        "many",
    );
}

#[test]
fn plot_argument_and_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = committed();
    let data = write(d, "data.csv", &three_clusters(200));
    let png = d.join("x.png");
    let png = png.to_str().unwrap();
    fails_with(
        &[
            "plot",
            "density",
            "--model",
            &model,
            "--data",
            &data,
            "--out",
            &d.join("x.jpg").to_string_lossy(),
        ],
        "must end in .png",
    );
    fails_with(
        &[
            "plot",
            "density",
            "--model",
            &model,
            "--data",
            &data,
            "--out",
            &d.join("no/such/dir/x.png").to_string_lossy(),
        ],
        "does not exist",
    );
    fails_with(
        &[
            "plot",
            "density",
            "--model",
            &d.join("m.efm").to_string_lossy(),
            "--out",
            png,
        ],
        "cannot read the model",
    );
    let three = write(d, "three.csv", "1,2,3\n");
    fails_with(
        &[
            "plot", "density", "--model", &model, "--data", &three, "--out", png,
        ],
        "the model is 2-dimensional",
    );
    fails_with(
        &[
            "plot", "density", "--model", &model, "--data", &data, "--grid", "1", "--out", png,
        ],
        "--grid",
    );
    fails_with(
        &[
            "plot",
            "training",
            "--report",
            &d.join("r.json").to_string_lossy(),
            "--out",
            png,
        ],
        "cannot read the report",
    );
    let notjson = write(d, "n.json", "{ \"log\": [1, 2");
    fails_with(
        &["plot", "training", "--report", &notjson, "--out", png],
        "is not valid JSON",
    );
    let nolog = write(d, "nolog.json", "{\"dataset\": \"x\"}");
    fails_with(
        &["plot", "training", "--report", &nolog, "--out", png],
        "no `log` array",
    );
    // A whole report (as `emberflow train` writes it) whose run ended before its first
    // evaluation, on a set without known mode weights.
    let emptylog = write(
        d,
        "e.json",
        "{\"dataset\": \"x\", \"method\": \"flowmc\", \"seed\": 0, \"iterations\": 0, \
         \"train_seconds\": 0.0, \"skipped_steps\": [0, 0], \"true_weights\": null, \
         \"ebm_weights\": null, \"negatives_weights\": null, \"metrics\": {}, \"log\": []}",
    );
    fails_with(
        &["plot", "training", "--report", &emptylog, "--out", png],
        "the log is empty",
    );
    fails_with(
        &["plot", "weights", "--report", &emptylog, "--out", png],
        "no mode weights in this report",
    );
    usage_error(&["plot", "weights", "--out", png], "--report");
    usage_error(&["plot", "histogram", "--out", png], "histogram");
    assert!(
        !Path::new(png).exists(),
        "no PNG is left behind by a failure"
    );
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Eval and plots on user data (k-means regions) with the committed model.
#[test]
fn user_data_regions_by_kmeans_and_centres() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = committed();
    let data = write(d, "data.csv", &three_clusters(3000));
    let out = ok(&["eval", "--model", &model, "--data", &data, "--json"]);
    let v: Value = serde_json::from_str(&out).expect("eval --json prints JSON");
    let regions = &v["regions"];
    assert_eq!(regions["method"], "k-means (automatic k)", "{regions}");
    assert_eq!(regions["k"], 3);
    let w: Vec<f64> = serde_json::from_value(v["mode_weights"]["data"].clone()).unwrap();
    // Centres sorted by x0: (−2, 1), (0, −2), (2, 1) with weights 0.5, 0.2, 0.3.
    for (got, want) in w.iter().zip([0.5, 0.2, 0.3]) {
        assert!((got - want).abs() < 0.01, "{w:?}");
    }
    let ebm: Vec<f64> = serde_json::from_value(v["mode_weights"]["ebm"].clone()).unwrap();
    assert_eq!(ebm.len(), 3);
    assert!((ebm.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(v["energy"]["mean_u_data"].as_f64().unwrap().is_finite());

    let centres = write(d, "c.csv", "x,y\n-2,1\n2,1\n");
    let text = ok(&[
        "eval",
        "--model",
        &model,
        "--data",
        &data,
        "--centers",
        &centres,
    ]);
    assert!(text.contains("2 centres from"), "{text}");
    assert!(text.contains("MSE vs data"), "{text}");

    let png = d.join("w.png");
    ok(&[
        "plot",
        "weights",
        "--model",
        &model,
        "--data",
        &data,
        "--k",
        "3",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_png(&png, 5_000);
    let png = d.join("d.png");
    ok(&[
        "plot",
        "density",
        "--model",
        &model,
        "--data",
        &data,
        "--grid",
        "60",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_png(&png, 5_000);
}

/// Samples of a model: `emberflow sample` where it exists, otherwise a synthetic file of the
/// same layout (`chain,index,x0,x1`) drawn around the four modes.
fn samples_for(model: &str, out: &Path, chains: usize, per_chain: usize) {
    let (has_sample, _, _) = emberflow(&["sample", "--help"]);
    if has_sample {
        ok(&[
            "sample",
            "--model",
            model,
            "--n",
            &per_chain.to_string(),
            "--chains",
            &chains.to_string(),
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]);
        return;
    }
    let mut s = String::from("chain,index,x0,x1\n");
    for c in 0..chains {
        for i in 0..per_chain {
            let mode = [-3.0, -1.0, 1.0, 3.0][(c * 7 + i * 3) % 4];
            let jitter = ((i * 37 + c * 11) % 17) as f64 / 40.0 - 0.2;
            s += &format!("{c},{i},{},{}\n", mode + jitter, jitter / 2.0);
        }
    }
    std::fs::write(out, s).unwrap();
}

#[test]
fn end_to_end_train_sample_eval_plot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = d.join("tiny.efm");
    let model_s = model.to_str().unwrap();
    ok(&[TINY_TRAIN, &["--eval-every", "5", "--out", model_s]].concat());
    let report = d.join("tiny.json");
    assert!(
        report.is_file(),
        "train writes its report next to the model"
    );
    let samples = d.join("samples.csv");
    samples_for(model_s, &samples, 4, 100);
    let samples_s = samples.to_str().unwrap();

    // Text report: every section.
    let text = ok(&[
        "eval",
        "--model",
        model_s,
        "--samples",
        samples_s,
        "--permutations",
        "50",
    ]);
    for needle in [
        "built-in four-modes regenerated from the model's seed 0",
        "mode weights",
        "MSE vs true",
        "EBM: softmax(-U) on a 400x400 grid",
        "4 chains x 100 draws",
        "max R-hat",
        "MMD^2",
        "energy gap",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }

    // JSON: the same numbers, machine-readable.
    let out = ok(&[
        "eval",
        "--model",
        model_s,
        "--samples",
        samples_s,
        "--permutations",
        "50",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let mw = &v["mode_weights"];
    let truth: Vec<f64> = serde_json::from_value(mw["true"].clone()).unwrap();
    assert_eq!(truth, vec![0.1, 0.2, 0.3, 0.4]);
    assert_eq!(mw["mse_reference"], "true");
    for key in ["data", "samples", "ebm"] {
        let w: Vec<f64> = serde_json::from_value(mw[key].clone()).unwrap();
        assert_eq!(w.len(), 4, "{key}");
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{key}: {w:?}");
        assert!(mw["mse"][key].as_f64().unwrap() >= 0.0);
    }
    let conv = &v["convergence"];
    assert_eq!(conv["chains"], 4);
    assert_eq!(conv["draws"], 100);
    assert!(conv["max_rhat"].as_f64().unwrap() > 0.9);
    assert!(conv["min_ess_bulk"].as_f64().unwrap() > 1.0);
    let mmd = &v["mmd"];
    assert_eq!(mmd["n_samples"], 400);
    assert_eq!(mmd["n_data"], 1000);
    let p = mmd["p_value"].as_f64().unwrap();
    assert!(p > 0.0 && p <= 1.0, "{p}");
    assert!(mmd["bandwidth"].as_f64().unwrap() > 0.0);
    let e = &v["energy"];
    let gap = e["gap"].as_f64().unwrap();
    let (ud, us) = (
        e["mean_u_data"].as_f64().unwrap(),
        e["mean_u_samples"].as_f64().unwrap(),
    );
    assert!((gap - (ud - us)).abs() < 1e-9);

    // Pictures.
    let density = d.join("density.png");
    let curves = d.join("curves.png");
    let bars = d.join("bars.png");
    let bars_model = d.join("bars_model.png");
    let out = ok(&[
        "plot",
        "density",
        "--model",
        model_s,
        "--samples",
        samples_s,
        "--grid",
        "80",
        "--out",
        density.to_str().unwrap(),
    ]);
    assert!(out.contains("wrote"), "{out}");
    ok(&[
        "plot",
        "training",
        "--report",
        report.to_str().unwrap(),
        "--out",
        curves.to_str().unwrap(),
    ]);
    ok(&[
        "plot",
        "weights",
        "--report",
        report.to_str().unwrap(),
        "--out",
        bars.to_str().unwrap(),
    ]);
    ok(&[
        "plot",
        "weights",
        "--model",
        model_s,
        "--samples",
        samples_s,
        "--out",
        bars_model.to_str().unwrap(),
    ]);
    for p in [&density, &curves, &bars, &bars_model] {
        assert_png(p, 10_000);
    }
    // The density figure has three panels (density, data, samples), stacked for this wide box.
    let (w, h, _) = png(&density);
    assert!(h > w, "{w}x{h}");
}

/// d > 2: importance-sampled EBM weights in eval, pairwise projections in plot.
#[test]
fn higher_dimension_eval_and_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = d.join("g16.efm");
    let model_s = model.to_str().unwrap();
    ok(&[
        "train",
        "--dataset",
        "gmm-16",
        "--iters",
        "10",
        "--batch",
        "32",
        "--bank",
        "64",
        "--particles",
        "8",
        "--mala-steps",
        "2",
        "--rounds",
        "1",
        "--quiet",
        "--out",
        model_s,
    ]);
    let out = ok(&["eval", "--model", model_s, "--is-draws", "2000", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let method = v["mode_weights"]["ebm_method"].as_str().unwrap();
    assert!(
        method.starts_with("importance sampling, 2000 flow draws"),
        "{method}"
    );
    assert_eq!(v["samples"], Value::Null);
    let png = d.join("pairs.png");
    ok(&[
        "plot",
        "density",
        "--model",
        model_s,
        "--dims",
        "0,8,15",
        "--points",
        "500",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_png(&png, 10_000);
    fails_with(
        &[
            "plot",
            "density",
            "--model",
            model_s,
            "--dims",
            "0,16",
            "--out",
            png.to_str().unwrap(),
        ],
        "--dims: 16 is out of range",
    );
}

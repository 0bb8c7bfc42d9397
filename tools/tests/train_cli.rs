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
        "at least 2 coordinates",
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

/// A CSV of `n` rows of a two-mode mixture in `d` dimensions (weights 0.3 / 0.7 at ∓2 along
/// the first axis, every coordinate in its own units).
fn mixture_csv(path: &std::path::Path, d: usize, n: usize) {
    use emberflow_core::Xoshiro128PlusPlus;
    use emberflow_core::random::{standard_normal, uniform_open01};
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(d as u64);
    let mut text = String::new();
    for _ in 0..n {
        let centre = if uniform_open01(&mut rng) < 0.3 {
            -2.0
        } else {
            2.0
        };
        let row: Vec<String> = (0..d)
            .map(|i| {
                let z = standard_normal(&mut rng);
                let v = if i == 0 {
                    centre + 0.5 * z
                } else {
                    (1.0 + i as f32) * z
                };
                format!("{v}")
            })
            .collect();
        text += &row.join(",");
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// The model file's dimension and layer shapes, read back through core's run-time reader.
fn file_shape(path: &std::path::Path) -> (usize, Vec<usize>, usize, usize) {
    use emberflow_core::model::{AnyEncoding, ModelView};
    use emberflow_core::runtime::FileModel;
    let bytes = std::fs::read(path).unwrap();
    let view = ModelView::parse(&bytes).unwrap();
    let d = usize::from(view.header().dim);
    let mut storage = vec![0.0; FileModel::<'_, AnyEncoding, 32>::storage_len(d)];
    let model = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut storage).unwrap();
    let energy = model.energy.as_ref().unwrap();
    let widths = energy.net().layers().iter().map(|l| l.outputs()).collect();
    let flow = model.flow.as_ref().unwrap();
    let cond = flow.couplings()[0].scale_net.layers().len() - 1;
    (d, widths, flow.couplings().len(), cond)
}

#[test]
fn trains_24_and_100_dimensional_csv_data_with_default_and_chosen_shapes() {
    let dir = tempfile::tempdir().unwrap();
    for d in [24usize, 100] {
        let csv = dir.path().join(format!("mix{d}.csv"));
        mixture_csv(&csv, d, 300);
        let out = dir.path().join(format!("m{d}.efm"));
        let (ok, stdout, stderr) = emberflow(&[
            "train",
            "--data",
            csv.to_str().unwrap(),
            "--iters",
            "12",
            "--eval-every",
            "6",
            "--batch",
            "32",
            "--bank",
            "64",
            "--particles",
            "8",
            "--mala-steps",
            "2",
            "--nll-draws",
            "256",
            "--validation",
            "0.2",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "d = {d}: {stderr}");
        assert!(stdout.contains("val_nll"), "{stdout}");
        let (dim, widths, couplings, cond) = file_shape(&out);
        assert_eq!(dim, d);
        // the default shape of d (ModelShape::default_for): 2 blocks
        let first = if d <= 64 { 32 } else { 8 * d.div_ceil(16) };
        assert_eq!(widths, [first, 64, 64, 64, 1], "d = {d}");
        assert_eq!((couplings, cond), (4, 1));
        let (ok, text, err) = emberflow(&["inspect", out.to_str().unwrap()]);
        assert!(ok, "{err}");
        assert!(text.contains(&format!("{d}")), "{text}");
    }
    // a chosen architecture: one hidden layer of 7, silu, 3 blocks with two-layer conditioners
    let csv = dir.path().join("mix24.csv");
    let out = dir.path().join("chosen.efm");
    let (ok, _, stderr) = emberflow(&[
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--energy-hidden",
        "7",
        "--activation",
        "silu",
        "--flow-blocks",
        "3",
        "--flow-hidden",
        "9,5",
        "--iters",
        "6",
        "--eval-every",
        "3",
        "--batch",
        "16",
        "--bank",
        "32",
        "--particles",
        "4",
        "--mala-steps",
        "1",
        "--nll-draws",
        "64",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("energy 7 (silu), flow 3 blocks"),
        "{stderr}"
    );
    assert_eq!(file_shape(&out), (24, vec![7, 1], 6, 2));
    // shapes outside the limits
    let bad = |flag: &str, value: &str, needle: &str| {
        fails_with(
            &[
                "train",
                "--data",
                csv.to_str().unwrap(),
                flag,
                value,
                "--out",
                out.to_str().unwrap(),
            ],
            needle,
        )
    };
    bad("--energy-hidden", "8,8,8,8,8,8,8", "7 hidden layers");
    bad("--energy-hidden", "2000", "width 2000");
    bad(
        "--energy-hidden",
        "8,zero",
        "`zero` is not a positive width",
    );
    bad("--flow-blocks", "17", "--flow-blocks 17");
    bad("--flow-hidden", "4,4,4,4", "4 hidden layers");
    bad("--activation", "gelu", "unknown activation `gelu`");
}

/// `--threshold-quantile`: the file (and each `--also` encoding, with its own energies)
/// carries the quantile of the validation rows' energies; `emberflow energy` flags exactly the
/// points above it (the anomaly column), `--threshold` overrides it, and points far from the
/// data are flagged.
#[test]
fn an_anomaly_threshold_is_stored_and_applied() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let csv = dir.path().join("mix.csv");
    mixture_csv(&csv, 3, 400);
    let train = |extra: &[&str]| {
        let mut a = vec![
            "train",
            "--data",
            csv.to_str().unwrap(),
            "--iters",
            "30",
            "--eval-every",
            "10",
            "--batch",
            "64",
            "--bank",
            "64",
            "--particles",
            "8",
            "--nll-draws",
            "256",
            "--validation",
            "0.25",
        ];
        a.extend_from_slice(extra);
        emberflow(&a)
    };
    let out = path("m.efm");
    for bad in ["0", "1", "1.5", "nan"] {
        let (ok, _, err) = train(&["--threshold-quantile", bad, "--out", &out]);
        assert!(!ok && err.contains("--threshold-quantile"), "{bad}: {err}");
    }
    let (ok, _, err) = train(&[
        "--threshold-quantile",
        "0.9",
        "--also",
        "int8",
        "--out",
        &out,
    ]);
    assert!(ok, "{err}");
    assert!(
        err.contains("the 0.9 quantile of the energies of the 100 validation rows"),
        "{err}"
    );
    let (ok, text, err) = emberflow(&["inspect", &out]);
    assert!(ok && text.contains("anomaly_threshold"), "{err}{text}");

    // the rows of the data set and three far points
    let mut points = std::fs::read_to_string(&csv).unwrap();
    points += "40,0,0\n0,-60,0\n0,0,90\n";
    std::fs::write(path("p.csv"), points).unwrap();
    for (file, n_file) in [(out.clone(), "m"), (path("m_int8.efm"), "m_int8")] {
        let model = emberflow_train::model_file::ModelFile::read(file.as_ref()).unwrap();
        let t = model.threshold.expect("the model carries a threshold");
        assert_eq!(model.threshold_quantile, Some(0.9));
        let e = path(&format!("{n_file}.csv"));
        let (ok, _, err) = emberflow(&[
            "energy",
            "--model",
            &file,
            "--data",
            &path("p.csv"),
            "--out",
            &e,
        ]);
        assert!(ok, "{err}");
        let text = std::fs::read_to_string(&e).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("index,x0,x1,x2,energy,anomaly"));
        let rows: Vec<(f32, bool)> = lines
            .map(|l| {
                let v: Vec<&str> = l.split(',').collect();
                (v[4].parse().unwrap(), v[5] == "1")
            })
            .collect();
        assert_eq!(rows.len(), 403);
        for &(u, flagged) in &rows {
            assert_eq!(flagged, u > t, "U = {u}, threshold {t}");
        }
        // the validation rows above the quantile at least; a minority of the data
        let flagged = rows[..400].iter().filter(|r| r.1).count();
        assert!((1..=120).contains(&flagged), "{flagged} of 400 flagged");
        assert!(
            rows[400..].iter().all(|r| r.1),
            "far points: {:?}",
            &rows[400..]
        );
        assert!(
            err.contains(&format!("{} of 403 points flagged", flagged + 3)),
            "{err}"
        );
    }
    // --threshold overrides the model's
    let (e, points) = (path("o.csv"), path("p.csv"));
    let with_threshold = |t: &str| {
        emberflow(&[
            "energy",
            "--model",
            &out,
            "--data",
            &points,
            "--out",
            &e,
            "--threshold",
            t,
        ])
    };
    let (ok, _, err) = with_threshold("1e6");
    assert!(
        ok && err.contains("0 of 403 points flagged as anomalies (U > 1000000, --threshold)"),
        "{err}"
    );
    let (ok, _, err) = with_threshold("inf");
    assert!(
        !ok && err.contains("--threshold must be a finite number"),
        "{err}"
    );
}

/// Tabular data in mixed units (column spreads from 0.01 to 300, correlated): the default
/// per-feature scaling lets the EBM rank anomalies as well as a full-covariance Gaussian fitted
/// to the same training rows (the baseline a common scale lost to: AUROC 0.54–0.75 against
/// 0.98). The anomalies break the correlation of two small-unit columns — barely visible in
/// their marginals, plain to any model of the joint density.
#[test]
fn mixed_unit_anomalies_rank_at_least_as_well_as_a_gaussian() {
    use emberflow_core::Xoshiro128PlusPlus;
    use emberflow_core::random::standard_normal;
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let units = [300.0f64, 0.1, 1.0, 5.0, 0.01, 50.0];
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(11);
    // z: latent N(0, I); columns 1 and 4 share a factor (correlation 0.95), as do 0 and 3
    let mut row = |anomaly: bool| -> Vec<f64> {
        let z: Vec<f64> = (0..6)
            .map(|_| f64::from(standard_normal(&mut rng)))
            .collect();
        let r = 0.95f64;
        let c = (1.0 - r * r).sqrt();
        let mut v = [
            z[0],
            z[1],
            z[2],
            r * z[0] + c * z[3],
            r * z[1] + c * z[4],
            z[5],
        ];
        if anomaly {
            // column 4 off its regression on column 1 by 4 conditional standard deviations:
            // 1.25 marginal ones, the correlation broken
            v[4] += c * 4.0 * if z[5] > 0.0 { 1.0 } else { -1.0 };
        }
        v.iter().zip(units).map(|(x, u)| 10.0 + u * x).collect()
    };
    let write = |name: &str, rows: &[Vec<f64>]| {
        let text: String = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| format!("{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
                    + "\n"
            })
            .collect();
        std::fs::write(path(name), text).unwrap();
    };
    let train: Vec<Vec<f64>> = (0..400).map(|_| row(false)).collect();
    let mut test: Vec<Vec<f64>> = (0..150).map(|_| row(false)).collect();
    test.extend((0..50).map(|_| row(true)));
    let labels: Vec<bool> = (0..200).map(|k| k >= 150).collect();
    write("train.csv", &train);
    write("test.csv", &test);
    let label_text: String = labels
        .iter()
        .map(|&l| if l { "1\n" } else { "0\n" })
        .collect();
    std::fs::write(path("labels.txt"), label_text).unwrap();

    // the Gaussian baseline: mean and covariance of the training rows, Mahalanobis scores
    let d = 6;
    let n = train.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| train.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let mut cov = vec![vec![0.0; d]; d];
    for r in &train {
        for i in 0..d {
            for j in 0..d {
                cov[i][j] += (r[i] - mean[i]) * (r[j] - mean[j]) / (n - 1.0);
            }
        }
    }
    // Cholesky L Lᵀ = cov; score = |L⁻¹(x − μ)|²
    let mut l = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            l[i][j] = if i == j {
                (cov[i][i] - s).sqrt()
            } else {
                (cov[i][j] - s) / l[j][j]
            };
        }
    }
    let gauss: Vec<f64> = test
        .iter()
        .map(|x| {
            let mut y = vec![0.0; d];
            for i in 0..d {
                let s: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
                y[i] = (x[i] - mean[i] - s) / l[i][i];
            }
            y.iter().map(|v| v * v).sum()
        })
        .collect();
    let baseline = emberflow_train::metrics::detection(&gauss, &labels)
        .unwrap()
        .auroc;

    let out = path("m.efm");
    let (ok, _, err) = emberflow(&[
        "train",
        "--data",
        &path("train.csv"),
        "--iters",
        "300",
        "--lr",
        "3e-3",
        "--quiet",
        "--out",
        &out,
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = emberflow(&[
        "energy",
        "--model",
        &out,
        "--data",
        &path("test.csv"),
        "--labels",
        &path("labels.txt"),
        "--out",
        &path("e.csv"),
    ]);
    assert!(ok, "{err}");
    let auroc: f64 = err
        .split("AUROC ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no AUROC in {err}"));
    eprintln!("AUROC: EBM {auroc}, Gaussian {baseline}");
    assert!(baseline > 0.9, "Gaussian baseline AUROC {baseline}");
    // measured: 0.9415 against 0.9588 (300 iterations at lr 3e-3; the default 1500 at 1e-3
    // close the gap to 0.004 on a sample of the same law); 0.03 leaves room for another CPU's
    // bits, far from the common-scale failure (0.54–0.75 against 0.98)
    assert!(
        auroc >= baseline - 0.03,
        "EBM AUROC {auroc} against the Gaussian's {baseline}"
    );
}

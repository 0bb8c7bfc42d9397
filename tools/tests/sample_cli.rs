//! `emberflow sample` and `emberflow energy`: small runs, and one readable error line with a
//! non-zero exit for bad arguments, files, models and CSV — never a panic, never a partial
//! output file.

use emberflow_core::model::lists::{Bounded, F32s};
use emberflow_core::model::{
    Encoding, Export, Normalization, SamplerSpec, Training, encode_energy_flow,
};
use emberflow_core::testing::seeded_paper_model;
use emberflow_core::{FlowMcConfig, GlobalMove, Schedule};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn emberflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emberflow"))
        .args(args)
        .output()
        .expect("running emberflow")
}

fn committed(encoding: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../models/four_modes_2d_{encoding}.efm"))
        .to_str()
        .unwrap()
        .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failed run: non-zero exit, exactly one line on stderr, starting `error: ` and naming
/// `needle`.
fn assert_one_error_line(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "succeeded: {err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
}

/// A model file with seeded weights in dimension `D` (any shape; the file need not be one
/// emberflow can sample).
fn seeded_file<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>(
    dir: &Path,
    name: &str,
) -> PathBuf {
    let (energy, flow) = seeded_paper_model::<D, A, B, H, K>(3, 1.0);
    let (shift, scale) = ([0.5f32; D], [2.0f32; D]);
    let config = FlowMcConfig {
        schedule: Schedule {
            global: GlobalMove::Imh,
            mala_steps: 3,
            rounds: 1,
        },
        adaptation: None,
    };
    let export = Export {
        encoding: Encoding::I8,
        f32_output_layers: false,
        normalization: Normalization {
            shift: F32s::Native(&shift),
            scale: F32s::Native(&scale),
        },
        sampler: SamplerSpec::new(&config, 0.05, 4),
        training: Training {
            dataset: "seeded",
            iterations: 0,
            seed: 3,
            metrics: Bounded::new(),
        },
        model_errors: None,
    };
    let mut buf = vec![0u8; 1 << 20];
    let n = encode_energy_flow(&energy, &flow, &export, &mut buf).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, &buf[..n]).unwrap();
    path
}

#[test]
fn samples_in_data_units_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |seed: &str, file: &str| {
        emberflow(&[
            "sample",
            "--model",
            &committed("int16"),
            "--n",
            "3",
            "--chains",
            "2",
            "--seed",
            seed,
            "--warmup",
            "2",
            "--global",
            "isir:4",
            "--mala-steps",
            "3",
            "--out",
            file,
        ])
    };
    for (seed, file) in [("5", "a.csv"), ("5", "b.csv"), ("6", "c.csv")] {
        let o = run(seed, &out(file));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let a = std::fs::read_to_string(out("a.csv")).unwrap();
    let lines: Vec<&str> = a.lines().collect();
    assert_eq!(lines[0], "chain,index,x0,x1");
    assert_eq!(lines.len(), 1 + 2 * 3);
    assert!(
        lines[1].starts_with("0,0,") && lines[6].starts_with("1,2,"),
        "{a}"
    );
    assert_eq!(a, std::fs::read_to_string(out("b.csv")).unwrap());
    assert_ne!(a, std::fs::read_to_string(out("c.csv")).unwrap());

    // the samples file scores as it is (its x0, x1 columns)
    let o = emberflow(&[
        "energy",
        "--model",
        &committed("int16"),
        "--data",
        &out("a.csv"),
        "--out",
        &out("e.csv"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("log-Jacobian"), "{}", stderr(&o));
    let e = std::fs::read_to_string(out("e.csv")).unwrap();
    let rows: Vec<&str> = e.lines().collect();
    assert_eq!(rows[0], "index,x0,x1,energy");
    assert_eq!(rows.len(), 7);
    let (first_sample, first_score) = (lines[1], rows[1]);
    assert_eq!(
        first_score.split(',').skip(1).take(2).collect::<Vec<_>>(),
        first_sample.split(',').skip(2).collect::<Vec<_>>()
    );
    assert!(
        first_score
            .split(',')
            .nth(3)
            .unwrap()
            .parse::<f32>()
            .unwrap()
            .is_finite()
    );
}

/// `emberflow sample` on a model of dimension `D`: two samples of one chain, `D` columns.
fn samples_in_dimension<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
>(
    dir: &Path,
) -> (PathBuf, PathBuf) {
    let model = seeded_file::<D, A, B, H, K>(dir, &format!("d{D}.efm"));
    let out = dir.join(format!("s{D}.csv"));
    let o = emberflow(&[
        "sample",
        "--model",
        model.to_str().unwrap(),
        "--n",
        "2",
        "--chains",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let columns: Vec<String> = (0..D).map(|j| format!("x{j}")).collect();
    let header = format!("chain,index,{}\n0,0,", columns.join(","));
    assert!(text.starts_with(&header), "{text}");
    assert_eq!(text.lines().count(), 3);
    assert_eq!(text.lines().nth(1).unwrap().split(',').count(), D + 2);
    (model, out)
}

#[test]
fn any_dimension_within_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    samples_in_dimension::<3, 1, 2, 32, 4>(dir.path());
    samples_in_dimension::<17, 8, 9, 4, 1>(dir.path());
    // d = 24, conditioners of width 13 (not a multiple of 4 or 8): sampled and scored
    let (model, samples) = samples_in_dimension::<24, 12, 12, 13, 1>(dir.path());
    let scores = dir.path().join("u24.csv");
    let energy = |data: &Path| {
        emberflow(&[
            "energy",
            "--model",
            model.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--out",
            scores.to_str().unwrap(),
        ])
    };
    let o = energy(&samples);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&scores).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    let last = text.lines().nth(1).unwrap().rsplit(',').next().unwrap();
    assert!(last.parse::<f32>().unwrap().is_finite(), "{text}");
    // a data file of 23 columns for the 24-dimensional model: both numbers in the message
    let narrow = dir.path().join("narrow.csv");
    std::fs::write(&narrow, vec!["0.5"; 23].join(",") + "\n").unwrap();
    std::fs::remove_file(&scores).unwrap();
    assert_one_error_line(&energy(&narrow), "23 values, expected 24");
    assert!(!scores.exists());
}

#[test]
fn bad_files_give_one_error_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let out = path("out.csv");
    let sample = |model: &str| emberflow(&["sample", "--model", model, "--n", "2", "--out", &out]);

    assert_one_error_line(&sample(&path("missing.efm")), "cannot read");

    let mut bytes = std::fs::read(committed("f32")).unwrap();
    bytes[3000] ^= 8;
    std::fs::write(path("flipped.efm"), &bytes).unwrap();
    assert_one_error_line(&sample(&path("flipped.efm")), "not a valid model file");
    std::fs::write(path("short.efm"), &bytes[..100]).unwrap();
    assert_one_error_line(&sample(&path("short.efm")), "not a valid model file");

    // 17 flow blocks: one more than the run-time limit
    let deep = seeded_file::<4, 2, 2, 4, 17>(dir.path(), "deep.efm");
    assert_one_error_line(&sample(deep.to_str().unwrap()), "beyond the limits");
    assert!(!Path::new(&out).exists(), "a failed run wrote {out}");

    // scoring: bad CSV files
    let energy = |data: &str| {
        emberflow(&[
            "energy",
            "--model",
            &committed("f32"),
            "--data",
            data,
            "--out",
            &out,
        ])
    };
    assert_one_error_line(&energy(&path("none.csv")), "cannot read");
    for (name, text, needle) in [
        ("wide.csv", "1,2,3\n", "wide.csv:1: 3 values, expected 2"),
        (
            "nan.csv",
            "x0,x1\n0.5,nan\n",
            "nan.csv:2, column 2: `nan` is not a finite number",
        ),
        ("text.csv", "1,2\nfoo,2\n", "text.csv:2, column 1: `foo`"),
    ] {
        std::fs::write(path(name), text).unwrap();
        assert_one_error_line(&energy(&path(name)), needle);
    }
    assert!(!Path::new(&out).exists(), "a failed run wrote {out}");
}

#[test]
fn bad_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.csv");
    let out = out.to_str().unwrap();
    let model = committed("f32");
    // settings the protocol refuses: one readable line
    let o = emberflow(&[
        "sample", "--model", &model, "--n", "2", "--adapt", "1.5", "--out", out,
    ]);
    assert_one_error_line(&o, "--adapt");
    let o = emberflow(&[
        "sample",
        "--model",
        &model,
        "--n",
        "2",
        "--global",
        "none",
        "--mala-steps",
        "0",
        "--out",
        out,
    ]);
    assert_one_error_line(&o, "invalid sampler settings");
    let o = emberflow(&["sample", "--model", &model, "--n", "0", "--out", out]);
    assert_one_error_line(&o, "at least 1");
    // argument errors (clap): a non-zero exit naming the argument
    for (args, needle) in [
        (vec!["sample", "--model", &model, "--out", out], "--n"),
        (
            vec!["sample", "--model", &model, "--n", "x", "--out", out],
            "--n",
        ),
        (
            vec![
                "sample", "--model", &model, "--n", "2", "--global", "isir:1", "--out", out,
            ],
            "isir:1",
        ),
        (
            vec![
                "sample", "--model", &model, "--n", "2", "--chains", "0", "--out", out,
            ],
            "--chains",
        ),
        (vec!["energy", "--model", &model, "--out", out], "--data"),
    ] {
        let o = emberflow(&args);
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    assert!(!Path::new(out).exists());
}

/// `emberflow firmware energy` takes its points as `--data`, as `emberflow energy` does, and
/// still as `--points`; the CSV is read (by the same reader) before any firmware is built.
#[test]
fn firmware_energy_takes_data_or_points() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.csv");
    let out = out.to_str().unwrap();
    let wide = dir.path().join("wide.csv");
    std::fs::write(&wide, "1,2,3\n").unwrap();
    for flag in ["--data", "--points"] {
        let run = |points: &str| {
            emberflow(&[
                "firmware",
                "energy",
                "--model",
                &committed("f32"),
                flag,
                points,
                "--out",
                out,
            ])
        };
        assert_one_error_line(&run("/nonexistent/p.csv"), "cannot read /nonexistent/p.csv");
        assert_one_error_line(
            &run(wide.to_str().unwrap()),
            "wide.csv:1: 3 values, expected 2",
        );
    }
    assert!(!Path::new(out).exists());
    let help = emberflow(&["firmware", "energy", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "{}", stderr(&help));
    assert!(
        text.contains("--data") && text.contains("--points"),
        "{text}"
    );
}

/// `emberflow energy --labels`: points on the four modes (normal) and far from them
/// (anomalies) are ranked perfectly by the committed model's energy; bad label files are
/// one-line errors.
#[test]
fn energy_scores_anomalies_with_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let mut points = String::from("x0,x1\n");
    let mut labels = String::new();
    for x in [-3.0, -1.0, 1.0, 3.0] {
        points += &format!("{x},0\n");
        labels += "0\n";
    }
    for (x, y) in [(9.0, 9.0), (-8.0, 7.0), (0.0, -10.0)] {
        points += &format!("{x},{y}\n");
        labels += "1\n";
    }
    std::fs::write(path("p.csv"), points).unwrap();
    std::fs::write(path("l.txt"), labels).unwrap();
    let args = |labels: &str| {
        vec![
            "energy".to_owned(),
            "--model".into(),
            committed("f32"),
            "--data".into(),
            path("p.csv"),
            "--out".into(),
            path("e.csv"),
            "--labels".into(),
            path(labels),
        ]
    };
    let run = |a: Vec<String>| emberflow(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = run(args("l.txt"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("AUROC 1.0000, AUPRC 1.0000 (3 anomalies, 4 normal points)"),
        "{}",
        stderr(&o)
    );
    std::fs::write(path("short.txt"), "0\n1\n").unwrap();
    let o = run(args("short.txt"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("7 scores but 2 labels"),
        "{}",
        stderr(&o)
    );
    std::fs::write(path("bad.txt"), "0\nyes\n").unwrap();
    let o = run(args("bad.txt"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("line 2: `yes` is not 0 or 1"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
}

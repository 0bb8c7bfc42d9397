//! `emberflow inspect`: a readable report for good files; one line naming the problem and a
//! non-zero exit code for bad ones.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn emberflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emberflow"))
        .args(args)
        .output()
        .expect("running emberflow")
}

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspects_committed_models() {
    for (name, encoding) in [
        ("four_modes_2d_f32.efm", "f32"),
        ("four_modes_2d_int8.efm", "int8"),
        ("four_modes_2d_int16.efm", "int16"),
    ] {
        let path = model(name);
        let out = emberflow(&["inspect", path.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        for needle in [
            "version 2".to_string(),
            format!("size       {size} bytes"),
            "CRC-32 0x".to_string(),
            "kind       energy+flow".to_string(),
            "dimension  2".to_string(),
            format!("encoding   {encoding}"),
            "2 -> 32 -> 64 -> 64 -> 64 -> 1 (LeakyRelu), 10593 parameters".to_string(),
            "RealNVP, 4 blocks".to_string(),
            "i-SIR, N = 64 particles, K = 24 MALA steps, R = 1 rounds".to_string(),
            "fit_rms_data".to_string(),
            "flow.c7.shift.1".to_string(),
        ] {
            assert!(text.contains(&needle), "{name}: no {needle:?} in\n{text}");
        }
        if encoding == "f32" {
            assert!(text.contains("quantisation none"), "{text}");
        } else {
            assert!(text.contains("quantisation 10880 weights"), "{text}");
            assert!(text.contains("vs f32 on 3721 points"), "{text}");
        }
    }
}

/// A bad file: non-zero exit, nothing on stdout, one line on stderr naming the file and the
/// problem.
fn check_bad(bytes: &[u8], problem: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.efm");
    std::fs::write(&path, bytes).unwrap();
    let out = emberflow(&["inspect", path.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("bad.efm is not a valid model file"), "{err}");
    assert!(err.contains(problem), "expected {problem:?} in {err}");
}

#[test]
fn rejects_bad_files_with_a_message() {
    let good = std::fs::read(model("four_modes_2d_int8.efm")).unwrap();
    let mut flipped = good.clone();
    flipped[1000] ^= 4;
    check_bad(&flipped, "checksum mismatch");
    check_bad(&good[..good.len() - 1], "truncated");
    check_bad(&[], "empty");
    check_bad(b"hello, world", "bad magic");
    let mut v3 = good.clone();
    v3[4] = 3;
    check_bad(&v3, "unsupported model-file version 3");
    let mut long = good;
    long.extend_from_slice(b"junk");
    check_bad(&long, "after the end of the model");
}

#[test]
fn missing_file_and_usage_errors() {
    let out = emberflow(&["inspect", "/nonexistent/model.efm"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.starts_with("error: cannot read /nonexistent/model.efm"),
        "{err}"
    );
    assert!(!emberflow(&[]).status.success());
    assert!(!emberflow(&["inspect"]).status.success());
    assert!(!emberflow(&["frobnicate"]).status.success());
    assert!(emberflow(&["--version"]).status.success());
}

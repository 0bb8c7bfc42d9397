//! Helpers shared by the CLI integration tests that train (`train_cli`, `eval_plot_cli`): run
//! the `emberflow` binary, check how it fails, and the options of a tiny training run.

use std::process::Command;

/// Run `emberflow` with `args`: (success, stdout, stderr).
pub fn emberflow(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_emberflow"))
        .args(args)
        .output()
        .expect("run emberflow");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The command fails with one `error: …` line that contains `needle`.
pub fn fails_with(args: &[&str], needle: &str) {
    let (ok, _, err) = emberflow(args);
    assert!(!ok, "{args:?} should fail");
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected `{needle}` in:\n{err}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line:\n{err}"
    );
    assert!(err.starts_with("error: "), "{args:?}:\n{err}");
}

/// Options of a tiny training run (seconds): four-modes, 20 iterations, small bank and sweep.
pub const TINY_TRAIN: &[&str] = &[
    "train",
    "--dataset",
    "four-modes",
    "--iters",
    "20",
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
];

//! `cargo xtask test`: the whole suite.

use crate::setup::{THUMB, cargo, ensure_thumb_target, root, run as sh};
use anyhow::{Context, Result};

/// `cargo xtask test`.
pub fn run() -> Result<()> {
    let root = root();
    ensure_thumb_target()?;

    sh(&root, cargo().args(["fmt", "--all", "--", "--check"]))?;
    sh(
        &root,
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--release",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    sh(
        &root,
        cargo().args([
            "clippy",
            "-p",
            "emberflow-core",
            "--release",
            "--target",
            THUMB,
            "--features",
            "defmt",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // The API documentation builds without a broken or ambiguous link.
    sh(
        &root,
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--release"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    let (passed, failed) = cargo_test(&root)?;
    // The no_std, no-heap build of the core, with and without defmt.
    sh(
        &root,
        cargo().args([
            "build",
            "-p",
            "emberflow-core",
            "--release",
            "--target",
            THUMB,
        ]),
    )?;
    sh(
        &root,
        cargo().args([
            "build",
            "-p",
            "emberflow-core",
            "--release",
            "--target",
            THUMB,
            "--features",
            "defmt",
        ]),
    )?;
    // The firmware: build and lints, then runs under QEMU checked against the host.
    crate::firmware::check()?;
    eprintln!("xtask test: all checks passed");
    println!("xtask test: {passed} passed, {failed} failed");
    Ok(())
}

/// `cargo test --workspace --release`, echoing its output and adding up its `test result:` lines.
fn cargo_test(root: &std::path::Path) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--release"])
        .current_dir(root)
        .stdout(std::process::Stdio::piped());
    eprintln!("$ cargo test --workspace --release");
    let mut child = cmd.spawn().context("could not start cargo test")?;
    let (mut passed, mut failed) = (0u64, 0u64);
    let out = child.stdout.take().context("cargo test stdout")?;
    for line in BufReader::new(out).lines() {
        let line = line.context("reading cargo test output")?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            passed += count(rest, " passed");
            failed += count(rest, " failed");
        }
    }
    let status = child.wait().context("waiting for cargo test")?;
    if !status.success() {
        anyhow::bail!("cargo test failed ({status}): {passed} passed, {failed} failed");
    }
    Ok((passed, failed))
}

/// The number just before `what` in a `test result:` line.
fn count(line: &str, what: &str) -> u64 {
    line.find(what)
        .and_then(|end| {
            let head = &line[..end];
            let start = head
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |i| i + 1);
            head[start..].parse().ok()
        })
        .unwrap_or(0)
}

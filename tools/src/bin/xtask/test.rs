//! `cargo xtask test`: the whole suite.

use crate::setup::{THUMB, cargo, ensure_thumb_target, root, run as sh};
use anyhow::Result;

pub fn run(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        anyhow::bail!("`cargo xtask test` takes no arguments (got `{a}`)");
    }
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
    sh(&root, cargo().args(["test", "--workspace", "--release"]))?;
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
    eprintln!("xtask test: all checks passed");
    Ok(())
}

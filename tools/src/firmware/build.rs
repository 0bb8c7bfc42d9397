//! Building a firmware program: `cd firmware && cargo build --release --bin NAME`.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Cortex-M4F target the firmware builds for (set in `firmware/.cargo/config.toml`).
pub const TARGET: &str = "thumbv7em-none-eabihf";

/// The build variable naming the model file compiled into the firmware.
pub const MODEL_VAR: &str = "EMBERFLOW_MODEL";

/// A program of the firmware crate (`firmware/src/bin/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// FlowMC sampling.
    Sample,
    /// Energy scoring.
    Energy,
    /// Fails on purpose (a panic), for the error-path check.
    SelftestFail,
}

impl Program {
    /// The binary's name.
    pub fn name(self) -> &'static str {
        match self {
            Program::Sample => "sample",
            Program::Energy => "energy",
            Program::SelftestFail => "selftest_fail",
        }
    }
}

/// The firmware crate: `$EMBERFLOW_FIRMWARE_DIR`, or `firmware/` next to this tool's crate.
pub fn firmware_dir() -> PathBuf {
    match std::env::var_os("EMBERFLOW_FIRMWARE_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tools/ has a parent")
            .join("firmware"),
    }
}

/// `cargo` for a firmware build, run in `firmware/` so that its `.cargo/config.toml` applies,
/// with the variables that would break or silently change it removed: inherited
/// `EMBERFLOW_*` (only `env` counts), `RUSTFLAGS` (would replace the linker scripts),
/// `CARGO_TARGET_DIR` and `CARGO_BUILD_TARGET`.
pub fn firmware_cargo(dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(dir);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("EMBERFLOW_") && k != "EMBERFLOW_FIRMWARE_DIR" {
            cmd.env_remove(k);
        }
    }
    for k in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
    ] {
        cmd.env_remove(k);
    }
    cmd
}

/// Build `program` in release mode with the `EMBERFLOW_*` variables `env`; returns the ELF.
pub fn build_program(program: Program, env: &[(&'static str, String)]) -> Result<PathBuf> {
    build_program_in(program, env, None)
}

/// [`build_program`] into the cargo target directory `target_dir` (default: `firmware/target`),
/// e.g. to keep builds with another profile from replacing the usual ones.
pub fn build_program_in(
    program: Program,
    env: &[(&'static str, String)],
    target_dir: Option<&Path>,
) -> Result<PathBuf> {
    let dir = firmware_dir();
    let mut cmd = firmware_cargo(&dir);
    cmd.args(["build", "--release", "--bin", program.name()]);
    if let Some(t) = target_dir {
        cmd.arg("--target-dir").arg(t);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!(
        "$ (cd {} && {} cargo build --release --bin {}{})",
        dir.display(),
        shown.join(" "),
        program.name(),
        target_dir.map_or(String::new(), |t| format!(" --target-dir {}", t.display()))
    );
    let status = cmd
        .status()
        .with_context(|| format!("could not run cargo in {}", dir.display()))?;
    if !status.success() {
        bail!(
            "building the firmware program `{}` failed ({status})",
            program.name()
        );
    }
    let elf = target_dir
        .map_or_else(|| dir.join("target"), Path::to_path_buf)
        .join(TARGET)
        .join("release")
        .join(program.name());
    if !elf.is_file() {
        bail!("the build succeeded but {} is missing", elf.display());
    }
    Ok(elf)
}

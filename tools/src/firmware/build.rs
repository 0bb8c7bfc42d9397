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
    /// Checks the f32 dense kernels against their definition.
    Kernels,
    /// Fails on purpose (a panic), for the error-path check.
    SelftestFail,
}

impl Program {
    /// The binary's name.
    pub fn name(self) -> &'static str {
        match self {
            Program::Sample => "sample",
            Program::Energy => "energy",
            Program::Kernels => "kernels",
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

/// A built firmware program: a private copy of the ELF (in a temporary directory removed when
/// this is dropped), so another build of the same program cannot replace it while it runs.
#[derive(Debug)]
pub struct Elf {
    path: PathBuf,
    dir: PathBuf,
}

impl Elf {
    /// The ELF's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for Elf {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Elf {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Build `program` in release mode with the `EMBERFLOW_*` variables `env`; returns a private
/// copy of the ELF.
pub fn build_program(program: Program, env: &[(&'static str, String)]) -> Result<Elf> {
    build_program_in(program, env, None)
}

/// [`build_program`] into the cargo target directory `target_dir` (default: `firmware/target`),
/// e.g. to keep builds with another profile from replacing the usual ones.
///
/// The build and the copy of its ELF happen under an exclusive lock on
/// `TARGET_DIR/emberflow-build.lock`, so two runs of these tools at once (each building the
/// program with its own model and settings) never run each other's ELF.
pub fn build_program_in(
    program: Program,
    env: &[(&'static str, String)],
    target_dir: Option<&Path>,
) -> Result<Elf> {
    let dir = firmware_dir();
    let target = target_dir.map_or_else(|| dir.join("target"), Path::to_path_buf);
    std::fs::create_dir_all(&target)
        .with_context(|| format!("cannot create {}", target.display()))?;
    let lock_path = target.join("emberflow-build.lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;

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
    let built = target.join(TARGET).join("release").join(program.name());
    if !built.is_file() {
        bail!("the build succeeded but {} is missing", built.display());
    }
    let private = super::tempdir("emberflow-elf")?;
    let path = private.join(program.name());
    let elf = Elf { path, dir: private };
    std::fs::copy(&built, &elf.path)
        .with_context(|| format!("cannot copy {} to {}", built.display(), elf.path.display()))?;
    drop(lock);
    Ok(elf)
}

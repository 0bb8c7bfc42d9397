//! The host side of the firmware: build a firmware program with a model file and a
//! configuration, run it under QEMU (`mps2-an386`, Cortex-M4F, `-icount shift=0`), decode its
//! defmt frames in-process (defmt-decoder), parse the samples, scores and summary, and write
//! them as CSV — plus the host run of the same protocol, for `emberflow sample` / `energy` and
//! the bit-for-bit parity checks.
//!
//! * [`ModelFile`], [`sample_model`], [`score_model`] — the sampling and scoring protocol
//!   ([`emberflow_core::mcmc::run`], the very code the firmware runs) on the host, for any
//!   supported dimension.
//! * [`SampleSettings`] — seed, chains, samples, warm-up and the overrides of the model's
//!   sampler settings; passed to the firmware build as `EMBERFLOW_*` variables
//!   ([`SampleSettings::env`]).
//! * [`build_program`] — `cd firmware && cargo build --release --bin NAME` with those variables.
//! * [`run_qemu`] — one QEMU run with a timeout; [`decode_frames`] — its stdout as defmt frames.
//! * [`Report::parse`] — the `ef:*` frames (see `firmware/src/frames.rs`) as samples, scores,
//!   per-chain counts, costs and memory.
//! * [`sample_on_qemu`], [`score_on_qemu`] — the three steps above, for the two programs.
//! * [`write_samples_csv`], [`write_energies_csv`], [`read_points_csv`], [`footprint`] — files
//!   and ELF sizes.
//! * [`cli`] — `emberflow firmware …`.
//!
//! Used by the `emberflow` CLI, `cargo xtask` and the integration tests.

mod build;
pub mod cli;
mod decode;
mod elf;
mod output;
mod qemu;
mod reference;
mod report;
mod settings;

pub use build::{
    Elf, MODEL_VAR, Program, TARGET, build_program, build_program_in, firmware_cargo, firmware_dir,
};
pub use decode::{LogFrame, decode_frames};
pub use elf::{Footprint, footprint};
pub use output::{
    read_points_csv, replace_markdown_section, write_energies_csv, write_samples_csv,
};
pub use qemu::{QemuRun, qemu_available, qemu_command, run_qemu};
pub use reference::{ModelFile, Sampled, model_from_bytes, read_model, sample_model, score_model};
pub use report::{ChainSummary, Cost, Memory, Report, Sample, Score};
pub use settings::{SampleSettings, global_name, parse_adapt, parse_global};

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A program run under QEMU: its ELF, the QEMU outcome and the decoded frames.
#[derive(Debug)]
pub struct FirmwareRun {
    /// The ELF that ran.
    pub elf: Elf,
    /// Exit status, output and timing of QEMU.
    pub qemu: QemuRun,
    /// The decoded defmt frames, in order.
    pub frames: Vec<LogFrame>,
}

impl FirmwareRun {
    /// The error-level frames' messages.
    pub fn errors(&self) -> Vec<&str> {
        self.frames
            .iter()
            .filter(|f| f.level == Some("error"))
            .map(|f| f.message.as_str())
            .collect()
    }

    /// The run as text, one frame a line (`LEVEL message`), for error reports.
    pub fn transcript(&self) -> String {
        let mut s = String::new();
        for f in &self.frames {
            s.push_str(&f.to_string());
            s.push('\n');
        }
        s
    }

    /// Fail unless QEMU exited with status 0; the error names the firmware's own error frames.
    pub fn ensure_success(&self) -> Result<()> {
        if self.qemu.timed_out {
            bail!(
                "{} did not finish within {:?} (killed); last frames:\n{}",
                self.elf.display(),
                self.qemu.wall,
                tail(&self.transcript(), 20)
            );
        }
        if self.qemu.status != Some(0) {
            let errors = self.errors();
            bail!(
                "{} exited with status {:?}: {}{}",
                self.elf.display(),
                self.qemu.status,
                if errors.is_empty() {
                    "no error frame".to_string()
                } else {
                    errors.join("; ")
                },
                if self.qemu.stderr.trim().is_empty() {
                    String::new()
                } else {
                    format!("\nqemu stderr: {}", self.qemu.stderr.trim())
                }
            );
        }
        Ok(())
    }
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Run a built ELF under QEMU and decode its frames (a non-zero exit is not an error
/// here; see [`FirmwareRun::ensure_success`]). `cwd` is QEMU's working directory, where
/// semihosting file paths resolve.
pub fn run_elf(elf: Elf, cwd: Option<&Path>, timeout: Duration) -> Result<FirmwareRun> {
    let bytes = std::fs::read(&*elf).with_context(|| format!("reading {}", elf.display()))?;
    let qemu = run_qemu(&elf, cwd, timeout)?;
    let frames = decode_frames(&bytes, &qemu.stdout)
        .with_context(|| format!("decoding the defmt output of {}", elf.display()))?;
    Ok(FirmwareRun { elf, qemu, frames })
}

/// Build `program` with `env` and run it under QEMU.
pub fn run_program(
    program: Program,
    env: &[(&'static str, String)],
    timeout: Duration,
) -> Result<FirmwareRun> {
    let elf = build_program(program, env)?;
    run_elf(elf, None, timeout)
}

/// The build variable naming `model`'s file (absolute, as the build runs in `firmware/`).
pub fn model_env(model: &Path) -> Result<(&'static str, String)> {
    let path =
        std::fs::canonicalize(model).with_context(|| format!("cannot read {}", model.display()))?;
    let path = path
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", path.display()))?;
    Ok((MODEL_VAR, path.to_string()))
}

/// Fail unless the program reported running the model whose CRC-32 is `crc`.
fn check_model_crc(report: &Report, crc: u32) -> Result<()> {
    let got = report.begin.get("model_crc").map(String::as_str);
    if got != Some(crc.to_string().as_str()) {
        bail!(
            "the firmware ran a model with CRC-32 {}, not the requested one ({crc:#010x})",
            got.and_then(|v| v.parse::<u32>().ok())
                .map_or_else(|| "(none)".to_string(), |c| format!("{c:#010x}"))
        );
    }
    Ok(())
}

/// Build the `sample` program with the model file at `model` and `settings`, run it under
/// QEMU and parse its report (samples in data units).
pub fn sample_on_qemu(
    model: &Path,
    settings: &SampleSettings,
    timeout: Duration,
) -> Result<(FirmwareRun, Report)> {
    let file = read_model(model)?;
    settings.protocol(&file.sampler)?;
    let mut env = settings.env();
    env.push(model_env(model)?);
    let run = run_program(Program::Sample, &env, timeout)?;
    run.ensure_success()?;
    let report = Report::parse(&run.frames)?;
    check_model_crc(&report, file.crc)?;
    report.check_sample_shape(settings)?;
    Ok((run, report))
}

/// Build the `energy` program with the model file at `model`, score `points` (data units, the
/// model's dimension each) under QEMU and parse the scores.
///
/// The points go through a file in a temporary directory that QEMU reads by semihosting, so
/// new points need no rebuild of the program beyond the first.
pub fn score_on_qemu(
    model: &Path,
    points: &[Vec<f32>],
    timeout: Duration,
) -> Result<(FirmwareRun, Report)> {
    let file = read_model(model)?;
    if let Some(k) = points.iter().position(|p| p.len() != file.dim) {
        bail!(
            "point {k} has {} coordinates, the model's dimension is {}",
            points[k].len(),
            file.dim
        );
    }
    let dir = tempdir("emberflow-firmware-points")?;
    let mut bytes = Vec::with_capacity(points.len() * file.dim * 4);
    for v in points.iter().flatten() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(dir.join("points.f32"), bytes)?;
    let env = vec![
        model_env(model)?,
        ("EMBERFLOW_POINTS_FILE", "points.f32".to_string()),
    ];
    let run =
        build_program(Program::Energy, &env).and_then(|elf| run_elf(elf, Some(&dir), timeout));
    let _ = std::fs::remove_dir_all(&dir);
    let run = run?;
    run.ensure_success()?;
    let report = Report::parse(&run.frames)?;
    check_model_crc(&report, file.crc)?;
    if report.scores.len() != points.len() {
        bail!(
            "the firmware scored {} points, {} were sent",
            report.scores.len(),
            points.len()
        );
    }
    Ok((run, report))
}

/// A fresh, empty directory under the system's temporary directory.
pub fn tempdir(prefix: &str) -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

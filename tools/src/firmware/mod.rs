//! The host side of the firmware: build a firmware program with a configuration, run it under
//! QEMU (`mps2-an386`, Cortex-M4F, `-icount shift=0`), decode its defmt frames in-process
//! (defmt-decoder), parse the samples, scores and summary, and write them as CSV — plus the
//! host reference that runs the same protocol on emberflow-core, for bit-for-bit parity.
//!
//! * [`SampleSettings`] — the sampling configuration, passed to the firmware build as
//!   `EMBERFLOW_*` variables ([`SampleSettings::env`]).
//! * [`build_program`] — `cd firmware && cargo build --release --bin NAME` with those variables.
//! * [`run_qemu`] — one QEMU run with a timeout; [`decode_frames`] — its stdout as defmt frames.
//! * [`Report::parse`] — the `ef:*` frames (see `firmware/src/wire.rs`) as samples, scores,
//!   per-chain counts, costs and memory.
//! * [`sample_on_qemu`], [`score_on_qemu`] — the three steps above, for the two programs.
//! * [`reference_samples`], [`reference_energies`] — the host side of the parity check.
//! * [`write_samples_csv`], [`write_energies_csv`], [`footprint`] — outputs and ELF sizes.
//! * [`run_cli`] — `emberflow firmware …`.
//!
//! This module is compiled into more than one binary (the `emberflow` CLI and xtask), each of
//! which uses a part of it.
#![allow(dead_code, unused_imports)]

mod build;
mod cli;
mod decode;
mod elf;
mod output;
mod protocol;
mod qemu;
mod reference;
mod settings;

pub use build::{Program, TARGET, build_program, firmware_cargo, firmware_dir};
pub use cli::{USAGE, run_cli};
pub use decode::{LogFrame, decode_frames};
pub use elf::{Footprint, footprint};
pub use output::{replace_markdown_section, write_energies_csv, write_samples_csv};
pub use protocol::{ChainSummary, Cost, Memory, Report, Sample, Score};
pub use qemu::{QemuRun, qemu_available, qemu_command, run_qemu};
pub use reference::{reference_energies, reference_samples};
pub use settings::SampleSettings;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The demo models' dimension (the paper's 2-D models).
pub const DIM: usize = 2;

/// A program run under QEMU: its ELF, the QEMU outcome and the decoded frames.
#[derive(Debug)]
pub struct FirmwareRun {
    /// The ELF that ran.
    pub elf: PathBuf,
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

/// Run an already built ELF under QEMU and decode its frames (a non-zero exit is not an error
/// here; see [`FirmwareRun::ensure_success`]). `cwd` is QEMU's working directory, where
/// semihosting file paths resolve.
pub fn run_elf(elf: &Path, cwd: Option<&Path>, timeout: Duration) -> Result<FirmwareRun> {
    let bytes = std::fs::read(elf).with_context(|| format!("reading {}", elf.display()))?;
    let qemu = run_qemu(elf, cwd, timeout)?;
    let frames = decode_frames(&bytes, &qemu.stdout)
        .with_context(|| format!("decoding the defmt output of {}", elf.display()))?;
    Ok(FirmwareRun {
        elf: elf.to_path_buf(),
        qemu,
        frames,
    })
}

/// Build `program` with `env` and run it under QEMU.
pub fn run_program(
    program: Program,
    env: &[(&'static str, String)],
    timeout: Duration,
) -> Result<FirmwareRun> {
    let elf = build_program(program, env)?;
    run_elf(&elf, None, timeout)
}

/// Build the `sample` program for `settings`, run it under QEMU and parse its report.
pub fn sample_on_qemu(
    settings: &SampleSettings,
    timeout: Duration,
) -> Result<(FirmwareRun, Report)> {
    let run = run_program(Program::Sample, &settings.env(), timeout)?;
    run.ensure_success()?;
    let report = Report::parse(&run.frames)?;
    report.check_sample_shape(settings)?;
    Ok((run, report))
}

/// Build the `energy` program for the demo model of `model_seed`, score `points` (`DIM`
/// coordinates each) under QEMU and parse the scores.
///
/// The points go through a file in a temporary directory that QEMU reads by semihosting, so
/// new points need no rebuild of the program beyond the first.
pub fn score_on_qemu(
    model_seed: u64,
    points: &[[f32; DIM]],
    timeout: Duration,
) -> Result<(FirmwareRun, Report)> {
    let dir = std::env::temp_dir().join(format!("emberflow-firmware-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("points.f32");
    let mut bytes = Vec::with_capacity(points.len() * DIM * 4);
    for p in points {
        for v in p {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(&file, bytes)?;
    let env = vec![
        ("EMBERFLOW_MODEL_SEED", model_seed.to_string()),
        ("EMBERFLOW_POINTS_FILE", "points.f32".to_string()),
    ];
    let elf = build_program(Program::Energy, &env)?;
    let run = run_elf(&elf, Some(&dir), timeout);
    let _ = std::fs::remove_dir_all(&dir);
    let run = run?;
    run.ensure_success()?;
    let report = Report::parse(&run.frames)?;
    if report.scores.len() != points.len() {
        bail!(
            "the firmware scored {} points, {} were sent",
            report.scores.len(),
            points.len()
        );
    }
    Ok((run, report))
}

//! Running a firmware ELF under QEMU.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The emulator binary.
pub const QEMU: &str = "qemu-system-arm";

/// What a QEMU run produced.
#[derive(Debug)]
pub struct QemuRun {
    /// Exit status (the firmware's own, through semihosting); `None` if killed.
    pub status: Option<i32>,
    /// Whether the run was killed at the timeout.
    pub timed_out: bool,
    /// Semihosting stdout: the defmt frames.
    pub stdout: Vec<u8>,
    /// QEMU's own messages.
    pub stderr: String,
    /// Wall-clock time of the run.
    pub wall: Duration,
}

/// Whether `qemu-system-arm` can be started.
pub fn qemu_available() -> bool {
    Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The QEMU command for `elf`: Cortex-M4F on `mps2-an386`, only semihosting for I/O (stdout
/// carries nothing but defmt frames), and `-icount shift=0,align=off` so one guest
/// instruction is one virtual nanosecond (exact, repeatable instruction counts).
pub fn qemu_command(elf: &Path) -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args([
        "-cpu",
        "cortex-m4",
        "-machine",
        "mps2-an386",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-icount",
        "shift=0,align=off",
        "-kernel",
    ])
    .arg(elf);
    cmd
}

/// Run `elf` under QEMU in `cwd` (or the current directory), killing it after `timeout`.
pub fn run_qemu(elf: &Path, cwd: Option<&Path>, timeout: Duration) -> Result<QemuRun> {
    let mut cmd = qemu_command(elf);
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{QEMU}` (is it installed?)"))?;
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        out.read_to_end(&mut buf).map(|_| buf)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        err.read_to_end(&mut buf).map(|_| buf)
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = start.elapsed();
    let stdout = out_reader
        .join()
        .expect("stdout reader")
        .context("reading QEMU's stdout")?;
    let stderr = err_reader
        .join()
        .expect("stderr reader")
        .context("reading QEMU's stderr")?;
    Ok(QemuRun {
        status: if timed_out { None } else { status.code() },
        timed_out,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        wall,
    })
}

//! Running commands and installing what the suite needs on a fresh machine.

use anyhow::{Context, Result, bail, ensure};
use emberflow_train::fs::write_bytes_atomically;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root: the nearest folder, from the current directory up, that holds this
/// xtask's sources (`cargo xtask` runs in the directory it was called from). Falls back to
/// where this binary was compiled from — which can be another checkout when checkouts share a
/// target directory, hence the search first.
pub fn root() -> PathBuf {
    let is_root = |d: &Path| d.join("xtask/src/main.rs").is_file();
    if let Ok(cwd) = std::env::current_dir()
        && let Some(d) = cwd.ancestors().find(|d| is_root(d))
    {
        return d.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent")
        .to_path_buf()
}

/// Cargo's target directory (`$CARGO_TARGET_DIR`, else `target/` in the repository).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Run `cmd` in `dir`, echoing it; fail with its exit status.
pub fn run(dir: &Path, cmd: &mut Command) -> Result<()> {
    cmd.current_dir(dir);
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", describe(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(cmd));
    }
    Ok(())
}

/// `cargo` as invoked by this xtask (respecting `$CARGO`).
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Build the `emberflow` tool in release mode and run a private copy of it from `dir`
/// (`dir/emberflow`), so that a build during a long command cannot swap the binary under it.
pub fn emberflow_binary(dir: &Path) -> Result<PathBuf> {
    run(
        &root(),
        cargo().args([
            "build",
            "--release",
            "-p",
            "emberflow-tools",
            "--bin",
            "emberflow",
        ]),
    )?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Installed by copy and rename rather than `emberflow_train::fs::write_atomically`, which
    // writes bytes: the copy keeps the binary's executable permission.
    let bin = dir.join("emberflow");
    let tmp = dir.join("emberflow.tmp");
    std::fs::copy(target_dir().join("release/emberflow"), &tmp)
        .with_context(|| format!("copying the emberflow binary to {}", tmp.display()))?;
    std::fs::rename(&tmp, &bin).with_context(|| format!("replacing {}", bin.display()))?;
    Ok(bin)
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The Cortex-M4F target the core and the firmware build for.
pub const THUMB: &str = "thumbv7em-none-eabihf";

/// Install the thumbv7em target through rustup when it is missing.
pub fn ensure_thumb_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            if String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == THUMB)
            {
                return Ok(());
            }
            run(
                &root(),
                Command::new("rustup").args(["target", "add", THUMB]),
            )
        }
        _ => bail!(
            "rustup was not found: install the `{THUMB}` target for the pinned toolchain \
             (rust-toolchain.toml) by hand"
        ),
    }
}

/// Make sure `qemu-system-arm` is there: install it with apt-get when missing. `Ok(false)`
/// when it cannot be had here and the QEMU checks are to be skipped (no apt-get, or
/// `EMBERFLOW_SKIP_QEMU=1`).
pub fn ensure_qemu() -> Result<bool> {
    if emberflow_tools::firmware::qemu_available() {
        return Ok(true);
    }
    const WHAT: &str = "QEMU's Arm system emulator `qemu-system-arm` (Debian/Ubuntu: `apt-get \
                        install qemu-system-arm`; Fedora: `dnf install qemu-system-arm`; macOS: \
                        `brew install qemu`)";
    if std::env::var_os("EMBERFLOW_SKIP_QEMU").is_some_and(|v| v == "1") {
        eprintln!("warning: EMBERFLOW_SKIP_QEMU=1: skipping the QEMU checks (they need {WHAT})");
        return Ok(false);
    }
    let has_apt = Command::new("apt-get")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_apt {
        eprintln!(
            "warning: qemu-system-arm is missing and apt-get is not available; install {WHAT} \
             to run the firmware under QEMU. Skipping the QEMU checks."
        );
        return Ok(false);
    }
    let here = root();
    let apt = || {
        let mut c = Command::new("apt-get");
        c.env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&here, apt().args(["update", "-q"]))
        .and_then(|_| {
            run(
                &here,
                apt().args([
                    "install",
                    "-y",
                    "-q",
                    "--no-install-recommends",
                    "qemu-system-arm",
                ]),
            )
        })
        .with_context(|| {
            format!(
                "installing qemu-system-arm failed; install {WHAT} by hand, or set \
                 EMBERFLOW_SKIP_QEMU=1 to skip the QEMU checks"
            )
        })?;
    ensure!(
        emberflow_tools::firmware::qemu_available(),
        "qemu-system-arm was installed but does not start"
    );
    Ok(true)
}

/// Replace (or append) the `## {heading}` section of a markdown file, atomically; other
/// sections are kept as they are.
pub fn replace_section(path: &Path, heading: &str, body: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| {
        "# Benchmarks\n\nEvery figure here comes from the command named in its section.\n".into()
    });
    let marker = format!("## {heading}\n");
    let section = format!("{marker}\n{}\n\n", body.trim_end());
    let new = match old.find(&marker) {
        Some(start) => {
            let after = start + marker.len();
            let end = old[after..]
                .find("\n## ")
                .map_or(old.len(), |i| after + i + 1);
            format!("{}{}{}", &old[..start], section, &old[end..])
        }
        None => format!(
            "{}\n{}",
            old.trim_end_matches('\n').to_string() + "\n",
            section
        ),
    };
    write_bytes_atomically(path, new.as_bytes())
}

//! The firmware build's memory check (`firmware/build.rs`, `check_fit`): a model that does not
//! fit the selected memory map stops the build with the needed and the available flash and
//! RAM; the same model builds for a larger map, and the 2-D models build for the small one.

use super::shapes::Shape;
use anyhow::{Context, Result, ensure};
use emberflow_core::model::Encoding;
use emberflow_tools::firmware as host;
use host::Program;

/// A model of about 1.07 MB: d = 256, one energy hidden layer of 1024, f32 (the energy's first
/// layer alone is 1 MiB), one flow block with conditioners of 4. Over the 1 MiB of flash of
/// the STM32F4 map, within the 4 MiB of QEMU's.
const TOO_BIG_FOR_STM32F4: Shape = Shape {
    d: 256,
    energy: &[1024],
    blocks: 1,
    conditioner: &[4],
    encoding: Encoding::F32,
};

/// `cargo build --release --bin sample` of the firmware for `features` (none: the default
/// features, QEMU's map) with the model at `model`; the exit status and the standard error.
fn build_sample(model: &std::path::Path, features: Option<&str>) -> Result<(bool, String)> {
    let fw = host::firmware_dir();
    let mut cmd = host::firmware_cargo(&fw);
    cmd.args(["build", "--release", "--bin", Program::Sample.name()]);
    if let Some(f) = features {
        cmd.args(["--no-default-features", "--features", f]);
    }
    let (k, v) = host::model_env(model)?;
    cmd.env(k, &v);
    eprintln!(
        "$ (cd {} && {k}={v} cargo build --release --bin sample{})",
        fw.display(),
        features.map_or(String::new(), |f| format!(
            " --no-default-features --features {f}"
        ))
    );
    let out = cmd
        .output()
        .with_context(|| format!("could not run cargo in {}", fw.display()))?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// The refusal: the too-big model fails the STM32F4 build with the message of `check_fit`
/// (needed flash over the map's 1 MiB, both RAM figures), builds for QEMU's 4 MiB map, and
/// the committed 2-D models (f32, int8) build for the STM32F4.
pub fn check_too_big_model_is_refused() -> Result<()> {
    let stm32 = "defmt-rtt,board-stm32f4";
    let big = TOO_BIG_FOR_STM32F4.write(256)?;
    let file_len = std::fs::metadata(&big)?.len() as usize;
    let (ok, stderr) = build_sample(&big, Some(stm32))?;
    ensure!(
        !ok,
        "the {file_len} B model built for the STM32F4 map (1 MiB of flash); stderr:\n{stderr}"
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("the model does not fit memory/stm32f4.x"))
        .with_context(|| format!("no refusal message in the build's output:\n{stderr}"))?;
    let flash: usize = line
        .split("it needs about ")
        .nth(1)
        .and_then(|r| r.split(" B of flash").next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no needed flash in `{line}`"))?;
    ensure!(
        flash > 1024 * 1024 && flash > file_len,
        "needed flash {flash} B should exceed the map's 1048576 B and the {file_len} B file: `{line}`"
    );
    let file_part = format!("({file_len} B model file + ");
    for part in [
        file_part.as_str(),
        " B of RAM (",
        " B of stack); the memory map has 1048576 B of flash and 131072 B of RAM",
    ] {
        ensure!(line.contains(part), "`{part}` missing in `{line}`");
    }
    eprintln!(
        "firmware: a {file_len} B model is refused for the STM32F4 map: {}",
        line.trim()
    );
    let (ok, stderr) = build_sample(&big, None)?;
    ensure!(
        ok,
        "the {file_len} B model should build for QEMU's 4 MiB map; stderr:\n{stderr}"
    );
    for encoding in ["f32", "int8"] {
        let (ok, stderr) = build_sample(&super::committed_model(encoding), Some(stm32))?;
        ensure!(
            ok,
            "the 2-D {encoding} model should build for the STM32F4 map; stderr:\n{stderr}"
        );
    }
    eprintln!("firmware: the same model builds for QEMU's map, the 2-D models for the STM32F4's");
    Ok(())
}

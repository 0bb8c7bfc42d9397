//! `cargo xtask test`, firmware part: build and lints of the firmware crate, then its runs
//! under QEMU checked bit for bit against the host, and its failure paths.

use super::{QEMU_TIMEOUT, committed_model};
use crate::setup::{ensure_qemu, ensure_thumb_target, run};
use anyhow::{Context, Result, ensure};
use emberflow_core::mcmc::run::Adapt;
use emberflow_core::{Adaptation, GlobalMove};
use emberflow_tools::firmware as host;
use host::{FirmwareRun, Program, SampleSettings, read_model};
use std::path::Path;
use std::time::Instant;

/// The firmware checks of `cargo xtask test`.
pub fn check() -> Result<()> {
    let start = Instant::now();
    ensure_thumb_target()?;
    let fw = host::firmware_dir();
    let cargo = || host::firmware_cargo(&fw);
    run(&fw, cargo().args(["fmt", "--check"]))?;
    run(&fw, cargo().args(["build", "--release"]))?;
    run(
        &fw,
        cargo().args(["clippy", "--release", "--", "-D", "warnings"]),
    )?;
    // The board variants: RTT transport, DWT cycle counter; their memory maps must link.
    for board in ["board-stm32f4", "board-nrf52840"] {
        let features = format!("defmt-rtt,{board}");
        let variant = [
            "--release",
            "--no-default-features",
            "--features",
            &features,
        ];
        run(
            &fw,
            cargo()
                .arg("clippy")
                .args(variant)
                .args(["--", "-D", "warnings"]),
        )?;
        run(&fw, cargo().arg("build").args(variant))?;
    }
    // a model too big for the STM32F4's flash: refused by the build, with the figures
    super::fit::check_too_big_model_is_refused()?;

    if !ensure_qemu()? {
        return Ok(());
    }
    // f32: the model's own schedule (i-SIR, N = 64, K = 24) and adaptation.
    let f32_settings = SampleSettings {
        seed: 2026,
        chains: 2,
        n: 8,
        warmup: 4,
        ..SampleSettings::default()
    };
    // int16: IMH, adaptation off, a given step size.
    let int16_settings = SampleSettings {
        seed: 11,
        chains: 3,
        n: 10,
        warmup: 3,
        global: Some(GlobalMove::Imh),
        mala_steps: Some(6),
        rounds: Some(2),
        step_size: Some(0.02),
        adapt: Some(Adapt::Off),
    };
    // int8: i-SIR with 8 particles, adaptation to 0.574.
    let int8_settings = SampleSettings {
        seed: 7,
        chains: 2,
        n: 10,
        warmup: 5,
        global: Some(GlobalMove::Isir { particles: 8 }),
        mala_steps: Some(4),
        rounds: None,
        step_size: None,
        adapt: Some(Adapt::Target(Adaptation::optimal_mala().target)),
    };
    check_kernels()?;
    for (encoding, settings) in [
        ("f32", f32_settings),
        ("int16", int16_settings),
        ("int8", int8_settings),
    ] {
        let model = committed_model(encoding);
        parity_sample(&model, &settings)?;
        parity_energy(&model)?;
    }
    // odd shapes: one chain, IMH and MALA with the model's adaptation
    let odd_settings = SampleSettings {
        seed: 5,
        chains: 1,
        n: 3,
        warmup: 2,
        ..SampleSettings::default()
    };
    for (k, shape) in super::shapes::SHAPES.iter().enumerate() {
        let model = shape.write(100 + k as u64)?;
        parity_sample(&model, &odd_settings)?;
        parity_energy(&model)?;
    }
    // the anomaly alarm: the d = 3 shape with a threshold at the median of its probe energies
    let shape = &super::shapes::SHAPES[0];
    let plain = read_model(&shape.write(100)?)?;
    let mut u = host::score_model(&plain, &probe_points(plain.dim))?;
    u.sort_by(f32::total_cmp);
    let alarmed = shape.write_with(100, Some(u[u.len() / 2]))?;
    let flagged = parity_energy(&alarmed)?;
    ensure!(
        flagged > 0 && flagged < u.len(),
        "the median threshold should flag some of the probe points, not {flagged} of {}",
        u.len()
    );
    check_bad_model_exits_nonzero()?;
    check_bad_config_exits_nonzero()?;
    check_panic_exits_nonzero()?;
    eprintln!(
        "firmware: all checks passed in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The first line where two CSV texts differ, for an error message.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let mut lines = a.lines().zip(b.lines()).enumerate();
    match lines.find(|(_, (x, y))| x != y) {
        Some((k, (x, y))) => format!("line {}: firmware `{x}`, host `{y}`", k + 1),
        None => format!(
            "{} lines from the firmware, {} from the host",
            a.lines().count(),
            b.lines().count()
        ),
    }
}

/// The `sample` program under QEMU against `emberflow sample` (the host running the same
/// protocol): the same CSV bytes, the same chain counts and final step sizes.
fn parity_sample(model: &Path, settings: &SampleSettings) -> Result<()> {
    let (run, report) = host::sample_on_qemu(model, settings, QEMU_TIMEOUT)?;
    let file = read_model(model)?;
    let sampled = host::sample_model(&file, settings)?;
    let (mut mcu_csv, mut host_csv) = (Vec::new(), Vec::new());
    host::write_samples_csv(&mut mcu_csv, report.dim, &report.samples)?;
    host::write_samples_csv(&mut host_csv, file.dim, &sampled.samples)?;
    ensure!(
        mcu_csv == host_csv,
        "firmware/host parity broken for {} ({settings:?}): {}",
        model.display(),
        first_difference(&mcu_csv, &host_csv)
    );
    for (mcu, host) in report.chains.iter().zip(&sampled.chains) {
        let same = mcu.step_size.to_bits() == host.step_size.to_bits()
            && (
                mcu.local_proposed,
                mcu.local_accepted,
                mcu.global_proposed,
                mcu.global_accepted,
                mcu.nonfinite,
            ) == (
                host.local_proposed,
                host.local_accepted,
                host.global_proposed,
                host.global_accepted,
                host.nonfinite,
            );
        ensure!(
            same,
            "firmware/host chain counts differ for {}: MCU {mcu:?}, host {host:?}",
            model.display()
        );
    }
    ensure!(
        report.chains.len() == sampled.chains.len(),
        "chain summaries: {} from the firmware, {} from the host",
        report.chains.len(),
        sampled.chains.len()
    );
    eprintln!(
        "firmware parity ({}, {:?}): {} samples, {} CSV bytes identical to `emberflow sample`, \
         {:.2} s of QEMU\n{}",
        model.display(),
        sampled.protocol.schedule.global,
        sampled.samples.len(),
        host_csv.len(),
        run.qemu.wall.as_secs_f64(),
        report.summary()
    );
    Ok(())
}

/// Points in data units that exercise the scoring: a grid, signed zeros, large, tiny and
/// subnormal values; in `dim` dimensions the first two coordinates are those of the 2-D
/// points and the others a mix of them.
fn probe_points(dim: usize) -> Vec<Vec<f32>> {
    let mut points: Vec<Vec<f32>> = Vec::new();
    for i in 0..11 {
        for j in 0..11 {
            points.push(vec![i as f32 - 4.0, 0.25 * j as f32 - 1.25]);
        }
    }
    for p in [
        [0.0, -0.0],
        [1e3, -1e3],
        [1e-30, 3.25],
        [-7.5, 0.125],
        [1e-40, -2.5e-39],
    ] {
        points.push(p.to_vec());
    }
    for p in &mut points {
        let (a, b) = (p[0], p[1]);
        p.extend((2..dim).map(|j| {
            if j % 3 == 0 {
                a
            } else {
                0.5 * b - 0.125 * j as f32
            }
        }));
    }
    points
}

/// The `energy` program's scores against `emberflow energy`'s, bit for bit, and its alarms
/// (`ef:alarm`) against the host's rule on the model's threshold; returns the points flagged.
fn parity_energy(model: &Path) -> Result<usize> {
    let file = read_model(model)?;
    let points = probe_points(file.dim);
    let (_run, report) = host::score_on_qemu(model, &points, QEMU_TIMEOUT)?;
    let expected = host::score_model(&file, &points)?;
    for (k, (score, want)) in report.scores.iter().zip(&expected).enumerate() {
        ensure!(
            score.energy.to_bits() == want.to_bits()
                && score
                    .x
                    .iter()
                    .zip(&points[k])
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
            "energy parity broken for {} at point {k} {:?}: MCU {}, host {want}",
            model.display(),
            points[k],
            score.energy
        );
    }
    ensure!(
        report.threshold.map(f32::to_bits) == file.threshold.map(f32::to_bits),
        "{}: the firmware applied the threshold {:?}, the file carries {:?}",
        model.display(),
        report.threshold,
        file.threshold
    );
    let want: Vec<u32> = match file.threshold {
        Some(t) => (0..expected.len() as u32)
            .filter(|&k| emberflow_core::model::is_anomaly(expected[k as usize], t))
            .collect(),
        None => Vec::new(),
    };
    ensure!(
        report.alarms == want,
        "{}: the firmware raised alarms for points {:?}, the host flags {want:?}",
        model.display(),
        report.alarms
    );
    eprintln!(
        "firmware parity ({}): {} energies bit-identical to `emberflow energy`{}",
        model.display(),
        points.len(),
        file.threshold.map_or(String::new(), |t| format!(
            ", {} alarms above U = {t} as on the host",
            want.len()
        ))
    );
    Ok(want.len())
}

fn expect_failure(run: &FirmwareRun, status: i32, needles: &[&str]) -> Result<()> {
    let errors = run.errors().join("\n");
    ensure!(
        run.qemu.status == Some(status),
        "{} should exit with status {status}, got {:?}; frames:\n{}",
        run.elf.display(),
        run.qemu.status,
        run.transcript()
    );
    for needle in needles {
        ensure!(
            errors.contains(needle),
            "{}: no error frame mentions `{needle}`; frames:\n{}",
            run.elf.display(),
            run.transcript()
        );
    }
    eprintln!("firmware: failure reported as expected (status {status}): {errors}");
    Ok(())
}

/// A corrupted model file compiled in (one flipped bit in a weight): the build succeeds, the
/// program stops at start-up with an error frame naming the problem and exit status 2.
fn check_bad_model_exits_nonzero() -> Result<()> {
    let mut bytes = std::fs::read(committed_model("int8"))?;
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    let dir = host::tempdir("emberflow-bad-model")?;
    let path = dir.join("corrupted.efm");
    std::fs::write(&path, &bytes)?;
    let env = vec![host::model_env(&path)?];
    let run = host::run_program(Program::Sample, &env, QEMU_TIMEOUT);
    let _ = std::fs::remove_dir_all(&dir);
    expect_failure(&run?, 2, &["invalid model file", "ChecksumMismatch"])
}

/// The f32 dense kernels as the Cortex-M4F runs them (VFP assembly) against their definition,
/// bit for bit, on every shape of `emberflow_core::testing::check_f32_dense_kernels`.
fn check_kernels() -> Result<()> {
    let run = host::run_program(Program::Kernels, &[], QEMU_TIMEOUT)?;
    run.ensure_success()?;
    let shapes = run
        .frames
        .iter()
        .find_map(|f| f.message.strip_prefix("ef:kernels shapes="))
        .with_context(|| format!("no `ef:kernels` frame; frames:\n{}", run.transcript()))?;
    eprintln!("firmware: f32 dense kernels bit-identical to their definition ({shapes} shapes)");
    Ok(())
}

/// A panic on the MCU: an error frame with the message and exit status 101.
fn check_panic_exits_nonzero() -> Result<()> {
    let run = host::run_program(Program::SelftestFail, &[], QEMU_TIMEOUT)?;
    expect_failure(&run, 101, &["panic", "index out of bounds"])
}

/// An invalid build configuration: a clear error frame naming the variable, exit status 2.
fn check_bad_config_exits_nonzero() -> Result<()> {
    let env = vec![("EMBERFLOW_GLOBAL", "isir:1".to_string())];
    let run = host::run_program(Program::Sample, &env, QEMU_TIMEOUT)?;
    expect_failure(
        &run,
        2,
        &["invalid build configuration", "EMBERFLOW_GLOBAL", "isir:1"],
    )
}

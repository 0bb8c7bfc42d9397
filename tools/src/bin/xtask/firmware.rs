//! `cargo xtask test` (firmware part) and `cargo xtask bench-firmware`.
//!
//! * [`check`] — firmware fmt, build, clippy (QEMU and board variants); then, under QEMU:
//!   the `sample` program's output is bit-identical to the host running the same protocol on
//!   emberflow-core (i-SIR and IMH schedules), the `energy` program's scores likewise, and a
//!   panicking program and an invalid configuration exit non-zero with a clear defmt error.
//! * [`bench`] — flash, RAM and instructions per step, recorded under `## Firmware` in
//!   BENCHMARKS.md.

#[path = "../../firmware/mod.rs"]
mod host;

use crate::setup::{ensure_thumb_target, root, run};
use anyhow::{Context, Result, bail, ensure};
use emberflow_core::models::{Flow2d, PaperEnergyNet};
use emberflow_core::{GlobalMove, Network, Parameters};
use host::{FirmwareRun, Program, SampleSettings};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const QEMU_TIMEOUT: Duration = Duration::from_secs(300);

/// The firmware checks of `cargo xtask test`.
pub fn check() -> Result<()> {
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

    if !ensure_qemu()? {
        return Ok(());
    }
    parity_sample(&SampleSettings {
        seed: 2026,
        chains: 3,
        n: 40,
        warmup: 10,
        model_seed: 7,
        global: GlobalMove::Isir { particles: 8 },
        mala_steps: 4,
        rounds: 2,
        step_size: 0.2,
        adapt_target: Some(0.75),
    })?;
    parity_sample(&SampleSettings {
        seed: 11,
        chains: 2,
        n: 40,
        warmup: 5,
        model_seed: 3,
        global: GlobalMove::Imh,
        mala_steps: 3,
        rounds: 1,
        step_size: 0.05,
        adapt_target: None,
    })?;
    parity_energy()?;
    check_panic_exits_nonzero()?;
    check_bad_config_exits_nonzero()?;
    eprintln!("firmware: all checks passed");
    Ok(())
}

/// Make sure `qemu-system-arm` is there: install it with apt-get when missing. `Ok(false)`
/// when it cannot be had here and the QEMU checks are to be skipped (no apt-get, or
/// `EMBERFLOW_SKIP_QEMU=1`).
pub fn ensure_qemu() -> Result<bool> {
    if host::qemu_available() {
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
        host::qemu_available(),
        "qemu-system-arm was installed but does not start"
    );
    Ok(true)
}

/// The `sample` program under QEMU against the host reference, bit for bit.
fn parity_sample(settings: &SampleSettings) -> Result<()> {
    let (run, report) = host::sample_on_qemu(settings, QEMU_TIMEOUT)?;
    let (samples, chains) = host::reference_samples(settings)?;
    ensure!(
        report.samples.len() == samples.len(),
        "the firmware sent {} samples, the host made {}",
        report.samples.len(),
        samples.len()
    );
    for (k, (mcu, host)) in report.samples.iter().zip(&samples).enumerate() {
        let same = mcu.chain == host.chain
            && mcu.index == host.index
            && mcu.x.len() == host.x.len()
            && mcu
                .x
                .iter()
                .zip(&host.x)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if !same {
            bail!(
                "firmware/host parity broken at sample {k} (chain {}, index {}): MCU {:?}, host \
                 {:?} ({settings:?})",
                host.chain,
                host.index,
                mcu.x,
                host.x
            );
        }
    }
    for (mcu, host) in report.chains.iter().zip(&chains) {
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
            "firmware/host chain counts differ: MCU {mcu:?}, host {host:?}"
        );
    }
    eprintln!(
        "firmware parity ({:?}): {} samples bit-identical to the host in {:.2} s of QEMU\n{}",
        settings.global,
        samples.len(),
        run.qemu.wall.as_secs_f64(),
        report.summary()
    );
    Ok(())
}

/// The `energy` program's scores against the host's `U(x)`, bit for bit.
fn parity_energy() -> Result<()> {
    let mut points: Vec<[f32; host::DIM]> = Vec::new();
    for i in 0..11 {
        for j in 0..11 {
            points.push([i as f32 - 5.0, 0.5 * j as f32 - 2.5]);
        }
    }
    points.extend([[0.0, -0.0], [1e3, -1e3], [1e-30, 3.25], [-7.5, 0.125]]);
    let model_seed = 7;
    let (_run, report) = host::score_on_qemu(model_seed, &points, QEMU_TIMEOUT)?;
    let expected = host::reference_energies(model_seed, &points);
    for (k, (score, want)) in report.scores.iter().zip(&expected).enumerate() {
        ensure!(
            score.energy.to_bits() == want.to_bits()
                && score
                    .x
                    .iter()
                    .zip(&points[k])
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
            "energy parity broken at point {k} {:?}: MCU {}, host {want}",
            points[k],
            score.energy
        );
    }
    eprintln!(
        "firmware parity: {} energies bit-identical to the host",
        points.len()
    );
    Ok(())
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

/// `cargo xtask bench-firmware`: measure and record under `## Firmware` in BENCHMARKS.md.
pub fn bench() -> Result<()> {
    ensure_thumb_target()?;
    ensure!(
        ensure_qemu()?,
        "`cargo xtask bench-firmware` needs qemu-system-arm"
    );
    let energy_macs = <PaperEnergyNet<2> as Network<2, 1>>::macs() as f64;
    let flow_macs = Flow2d::macs() as f64;

    let imh = SampleSettings {
        seed: 1,
        chains: 2,
        n: 50,
        warmup: 10,
        model_seed: 1,
        global: GlobalMove::Imh,
        mala_steps: 10,
        rounds: 1,
        ..SampleSettings::default()
    };
    let isir = SampleSettings {
        global: GlobalMove::Isir { particles: 64 },
        n: 20,
        ..imh.clone()
    };
    let (imh_run, imh_report) = host::sample_on_qemu(&imh, QEMU_TIMEOUT)?;
    let imh_fp = host::footprint(&imh_run.elf)?;
    let (isir_run, isir_report) = host::sample_on_qemu(&isir, QEMU_TIMEOUT)?;
    let isir_fp = host::footprint(&isir_run.elf)?;
    let grid: Vec<[f32; 2]> = (0..81)
        .map(|k| [(k / 9) as f32 - 4.0, (k % 9) as f32 - 4.0])
        .collect();
    let (energy_run, energy_report) = host::score_on_qemu(1, &grid, QEMU_TIMEOUT)?;
    let energy_fp = host::footprint(&energy_run.elf)?;

    let cost = |r: &host::Report, kind: &str| -> Result<host::Cost> {
        r.cost(kind)
            .cloned()
            .with_context(|| format!("no `{kind}` cost in the report"))
    };
    let stack = |r: &host::Report| r.memory.map_or(0, |m| u64::from(m.stack));
    let mala = cost(&imh_report, "mala")?;
    let imh_cost = cost(&imh_report, "global")?;
    let isir_cost = cost(&isir_report, "global")?;
    let eval = cost(&energy_report, "energy")?;
    // MACs: a MALA step evaluates U and ∇U (forward + backward: 2 E). An IMH move draws from
    // the flow (F), evaluates U there (E) and the flow density at the current state (F); an
    // accepted move refreshes U and ∇U (2 E). i-SIR with N particles: F + (N − 1)(F + E),
    // plus 2 E when it moves.
    let mala_macs = 2.0 * energy_macs;
    let imh_macs = 2.0 * flow_macs + energy_macs + imh_report.global_acceptance() * mala_macs;
    let isir_macs =
        flow_macs + 63.0 * (flow_macs + energy_macs) + isir_report.global_acceptance() * mala_macs;

    let energy_params = emberflow_core::testing::demo_energy_2d(1)
        .energy
        .num_params();
    let flow_params = emberflow_core::testing::demo_flow_2d(1).num_params();
    let weights = 4 * (energy_params + flow_params) as u64;
    let rustc = first_line(
        Command::new("rustc")
            .arg("--version")
            .current_dir(host::firmware_dir()),
    );
    let qemu = first_line(Command::new("qemu-system-arm").arg("--version"));
    let mut md = String::new();
    md.push_str("## Firmware\n\n");
    md.push_str(&format!(
        "Recorded by `cargo xtask bench-firmware`: {rustc}, firmware release profile (opt-level 3, \
         fat LTO, 1 codegen unit), run under {qemu} `-machine mps2-an386 -cpu cortex-m4 -icount \
         shift=0,align=off`. Instruction counts are exact (SysTick under icount: 40 \
         instructions per tick, so ±40 per measured step); cycles on a real Cortex-M4F are \
         higher (VMLA takes 3 cycles, flash wait states). Model: the deterministic 2-D demo \
         model (`emberflow_core::testing`, paper shapes: energy 2→32→64→64→64→1 LeakyReLU, \
         {energy_params} f32 parameters = {}; flow 4 blocks × 2 couplings, hidden 16, \
         {flow_params} parameters = {}), generated at boot into `.bss` — no model file is \
         compiled in yet, so flash holds code only and static RAM holds the typed f32 \
         weights.\n\n",
        kib(4 * energy_params as u64),
        kib(4 * flow_params as u64),
    ));
    md.push_str(
        "| program (schedule) | flash: vector table + .text + .rodata + .data | .text | .rodata | \
         static RAM: .data + .bss + .uninit | stack high-water | RAM total |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (name, fp, r) in [
        ("`sample` (IMH, K = 10)", imh_fp, &imh_report),
        ("`sample` (i-SIR N = 64, K = 10)", isir_fp, &isir_report),
        ("`energy`", energy_fp, &energy_report),
    ] {
        md.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {} |\n",
            kib(fp.flash()),
            kib(fp.text),
            kib(fp.rodata),
            kib(fp.static_ram()),
            kib(stack(r)),
            kib(fp.static_ram() + stack(r)),
        ));
    }
    md.push_str(
        "\n| step | instructions (mean) | min | max | steps | f32 MACs | instructions / MAC |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (name, c, macs) in [
        ("energy U(x) (forward)", &eval, energy_macs),
        ("MALA step (U and ∇U)", &mala, mala_macs),
        ("IMH global move", &imh_cost, imh_macs),
        ("i-SIR global move, N = 64", &isir_cost, isir_macs),
    ] {
        md.push_str(&format!(
            "| {name} | {:.0} | {} | {} | {} | {:.0} | {:.2} |\n",
            c.mean(),
            c.min,
            c.max,
            c.count,
            macs,
            c.mean() / macs
        ));
    }
    md.push_str(&format!(
        "\nMACs: energy forward E = {energy_macs:.0}, flow pass F = {flow_macs:.0}. MALA = 2E \
         (forward + backward); IMH = 2F + E + a·2E and i-SIR = F + 63(F + E) + a·2E, with the \
         measured global acceptance a (IMH {:.3}, i-SIR {:.3}: an accepted move refreshes U \
         and ∇U). Global moves also pay the flow's tanh/exp and the Box–Muller normals, which \
         MACs do not count. MALA acceptance {:.3}, non-finite rejections {}.\n\n\
         Targets (issue 5): f32 2-D model ≤ 96 KiB flash; ≤ 2.5 instructions per MAC for f32. A \
         compiled-in f32 model adds its weights ({}) to flash; read in place (zero-copy), it \
         takes them back out of `.bss`. int8/int16 and d = 16 models arrive with the model \
         file.\n",
        imh_report.global_acceptance(),
        isir_report.global_acceptance(),
        imh_report.local_acceptance(),
        imh_report.totals().nonfinite + isir_report.totals().nonfinite,
        kib(weights),
    ));
    let path = root().join("BENCHMARKS.md");
    write_section(&path, "## Firmware", &md)?;
    eprintln!("{md}");
    eprintln!("recorded under `## Firmware` in {}", path.display());
    Ok(())
}

fn kib(bytes: u64) -> String {
    format!("{bytes} B ({:.1} KiB)", bytes as f64 / 1024.0)
}

fn first_line(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "(unknown)".to_string())
}

/// Replace the section under `heading` (up to the next `## ` heading) in the Markdown file at
/// `path` with `body` (which starts with the heading), or append it; other sections are kept.
pub fn write_section(path: &Path, heading: &str, body: &str) -> Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "# Benchmarks\n".to_string(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    std::fs::write(path, host::replace_markdown_section(&old, heading, body))
        .with_context(|| format!("writing {}", path.display()))
}

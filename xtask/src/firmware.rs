//! `cargo xtask test` (firmware part) and `cargo xtask bench-firmware`.
//!
//! * [`check`] — firmware fmt, build, clippy (QEMU and board variants); then, under QEMU, for
//!   the committed 2-D models in f32, int16 and int8: the `sample` program's CSV is
//!   byte-identical to `emberflow sample`'s (the host running the same protocol source on
//!   emberflow-core; i-SIR and IMH schedules), the `energy` program's scores are
//!   bit-identical to `emberflow energy`'s; and a corrupted model file, an invalid
//!   configuration and a panic each exit non-zero with a clear defmt error.
//! * [`bench()`] — flash, RAM and instructions per step for the 2-D model in f32, int16 and int8
//!   and a seeded d = 16 model, recorded under `## Firmware` in BENCHMARKS.md.

use crate::setup::{ensure_thumb_target, root, run};
use anyhow::{Context, Result, bail, ensure};
use emberflow_core::mcmc::run::Adapt;
use emberflow_core::model::lists::{Bounded, F32s};
use emberflow_core::model::{
    Encoding, Export, Normalization, SamplerSpec, Training, encode_energy_flow,
};
use emberflow_core::shapes::{PaperEnergyNet, PaperFlow};
use emberflow_core::{Adaptation, FlowMcConfig, GlobalMove, Network, Schedule, with_model_shape};
use emberflow_tools::firmware as host;
use host::{FirmwareRun, ModelFile, Program, SampleSettings};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const QEMU_TIMEOUT: Duration = Duration::from_secs(300);

/// The committed 2-D model in `encoding` (`f32`, `int16`, `int8`).
fn committed_model(encoding: &str) -> PathBuf {
    root()
        .join("models")
        .join(format!("four_modes_2d_{encoding}.efm"))
}

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
    check_bad_model_exits_nonzero()?;
    check_bad_config_exits_nonzero()?;
    check_panic_exits_nonzero()?;
    eprintln!(
        "firmware: all checks passed in {:.0} s",
        start.elapsed().as_secs_f64()
    );
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
    let file = ModelFile::read(model)?;
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
/// subnormal values.
fn probe_points() -> Vec<Vec<f32>> {
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
    points
}

/// The `energy` program's scores against `emberflow energy`'s, bit for bit.
fn parity_energy(model: &Path) -> Result<()> {
    let points = probe_points();
    let (_run, report) = host::score_on_qemu(model, &points, QEMU_TIMEOUT)?;
    let file = ModelFile::read(model)?;
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
    eprintln!(
        "firmware parity ({}): {} energies bit-identical to `emberflow energy`",
        model.display(),
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

/// The d = 16 model of the benchmark: the paper's shapes (energy 16→32→64→64→64→1, flow 2
/// blocks, hidden 32) with seeded weights (`emberflow_core::testing`), f32, written to
/// `target/bench-firmware/`.
fn seeded_d16_model() -> Result<PathBuf> {
    let (energy, flow) = emberflow_core::testing::seeded_paper_model::<16, 8, 8, 32, 2>(16, 1.0);
    let (shift, scale) = ([0.0f32; 16], [1.0f32; 16]);
    let config = FlowMcConfig {
        schedule: Schedule {
            global: GlobalMove::Isir { particles: 64 },
            mala_steps: 10,
            rounds: 1,
        },
        adaptation: Some(Adaptation::default()),
    };
    let export = Export {
        encoding: Encoding::F32,
        f32_output_layers: false,
        normalization: Normalization {
            shift: F32s::Native(&shift),
            scale: F32s::Native(&scale),
        },
        sampler: SamplerSpec::new(&config, 0.01, 64),
        training: Training {
            dataset: "seeded d = 16 paper model (cargo xtask bench-firmware)",
            iterations: 0,
            seed: 16,
            metrics: Bounded::new(),
        },
        model_errors: None,
    };
    let needed = match encode_energy_flow(&energy, &flow, &export, &mut []) {
        Err(emberflow_core::Error::BufferTooSmall { needed }) => needed as usize,
        other => bail!("sizing the d = 16 model file: {other:?}"),
    };
    let mut buf = vec![0u8; needed];
    let n = encode_energy_flow(&energy, &flow, &export, &mut buf)
        .map_err(|e| anyhow::anyhow!("encoding the d = 16 model: {e}"))?;
    buf.truncate(n);
    let dir = crate::setup::target_dir().join("bench-firmware");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("seeded_d16_f32.efm");
    std::fs::write(&path, &buf).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `(energy U forward, flow pass)` multiply-accumulates of the paper's shapes in dimension `D`.
fn paper_macs<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>()
-> (f64, f64) {
    (
        <PaperEnergyNet<D> as Network<D, 1>>::macs() as f64,
        PaperFlow::<D, A, B, H, K>::macs() as f64,
    )
}

/// One model's figures.
struct Measured {
    label: String,
    file_size: u64,
    /// The `sample` program's sections.
    sample: host::Footprint,
    /// The `energy` program's sections.
    energy: host::Footprint,
    /// Deepest stack of the `sample` runs.
    stack: u64,
    eval: host::Cost,
    mala: host::Cost,
    imh: host::Cost,
    isir: host::Cost,
    energy_macs: f64,
    flow_macs: f64,
    imh_acceptance: f64,
    isir_acceptance: f64,
    mala_acceptance: f64,
    nonfinite: u64,
}

impl Measured {
    fn ram(&self) -> u64 {
        self.sample.static_ram() + self.stack
    }

    /// MACs of a MALA step (U and ∇U: forward + backward), an IMH move (a flow draw F, U there,
    /// the flow density at the current state F, and U, ∇U again when it moves) and an i-SIR
    /// move with 64 particles (F at the current state, 63 × (F + U), U and ∇U when it moves).
    fn step_macs(&self) -> (f64, f64, f64) {
        let (e, f) = (self.energy_macs, self.flow_macs);
        (
            2.0 * e,
            2.0 * f + e + self.imh_acceptance * 2.0 * e,
            f + 63.0 * (f + e) + self.isir_acceptance * 2.0 * e,
        )
    }
}

fn stack_of(r: &host::Report) -> u64 {
    r.memory.map_or(0, |m| u64::from(m.stack))
}

fn cost(r: &host::Report, kind: &str) -> Result<host::Cost> {
    r.cost(kind)
        .cloned()
        .with_context(|| format!("no `{kind}` cost in the report"))
}

/// Build and run the `sample` program (IMH and i-SIR, N = 64, both with K = 10) and the
/// `energy` program with the model at `path`.
fn measure(label: &str, path: &Path) -> Result<Measured> {
    let file = ModelFile::read(path)?;
    let imh = SampleSettings {
        seed: 1,
        chains: 2,
        n: 20,
        warmup: 5,
        global: Some(GlobalMove::Imh),
        mala_steps: Some(10),
        rounds: Some(1),
        ..SampleSettings::default()
    };
    let isir = SampleSettings {
        n: 4,
        warmup: 2,
        global: Some(GlobalMove::Isir { particles: 64 }),
        ..imh.clone()
    };
    let (_, imh_report) = host::sample_on_qemu(path, &imh, QEMU_TIMEOUT)?;
    let (isir_run, isir_report) = host::sample_on_qemu(path, &isir, QEMU_TIMEOUT)?;
    let points: Vec<Vec<f32>> = (0..20)
        .map(|k| {
            (0..file.dim)
                .map(|j| ((k * 7 + j * 3) % 9) as f32 * 0.5 - 2.0)
                .collect()
        })
        .collect();
    let (energy_run, energy_report) = host::score_on_qemu(path, &points, QEMU_TIMEOUT)?;
    let (energy_macs, flow_macs) = with_model_shape!(file.dim, paper_macs())
        .with_context(|| format!("no model shape for d = {}", file.dim))?;
    Ok(Measured {
        label: label.to_string(),
        file_size: file.bytes.len() as u64,
        sample: host::footprint(&isir_run.elf)?,
        energy: host::footprint(&energy_run.elf)?,
        stack: stack_of(&imh_report).max(stack_of(&isir_report)),
        eval: cost(&energy_report, "energy")?,
        mala: cost(&imh_report, "mala")?,
        imh: cost(&imh_report, "global")?,
        isir: cost(&isir_report, "global")?,
        energy_macs,
        flow_macs,
        imh_acceptance: imh_report.global_acceptance(),
        isir_acceptance: isir_report.global_acceptance(),
        mala_acceptance: imh_report.local_acceptance(),
        nonfinite: imh_report.totals().nonfinite + isir_report.totals().nonfinite,
    })
}

/// The `sample` program (IMH, K = 10) for the model at `path` built at `opt_level` in its own
/// target directory: flash and instructions per MALA step.
fn measure_opt_level(path: &Path, opt_level: &str) -> Result<(host::Footprint, host::Cost)> {
    let settings = SampleSettings {
        seed: 1,
        chains: 1,
        n: 10,
        warmup: 2,
        global: Some(GlobalMove::Imh),
        mala_steps: Some(10),
        rounds: Some(1),
        ..SampleSettings::default()
    };
    let mut env = settings.env();
    env.push(host::model_env(path)?);
    env.push(("CARGO_PROFILE_RELEASE_OPT_LEVEL", opt_level.to_string()));
    let target = host::firmware_dir()
        .join("target")
        .join(format!("opt-level-{opt_level}"));
    let elf = host::build_program_in(Program::Sample, &env, Some(&target))?;
    let run = host::run_elf(elf, None, QEMU_TIMEOUT)?;
    run.ensure_success()?;
    let report = host::Report::parse(&run.frames)?;
    Ok((host::footprint(&run.elf)?, cost(&report, "mala")?))
}

fn verdict(ok: bool) -> &'static str {
    if ok { "**met**" } else { "**not met**" }
}

/// `cargo xtask bench-firmware`: measure and record under `## Firmware` in BENCHMARKS.md.
pub fn bench() -> Result<()> {
    ensure_thumb_target()?;
    ensure!(
        ensure_qemu()?,
        "`cargo xtask bench-firmware` needs qemu-system-arm"
    );
    let d16 = seeded_d16_model()?;
    let mut rows = Vec::new();
    for (label, path) in [
        ("2-D four-modes, f32", committed_model("f32")),
        ("2-D four-modes, int16", committed_model("int16")),
        ("2-D four-modes, int8", committed_model("int8")),
        ("d = 16 seeded, f32", d16.clone()),
    ] {
        rows.push(measure(label, &path)?);
    }
    let (int8, f32) = (committed_model("int8"), committed_model("f32"));
    let mut opt_levels = Vec::new();
    for level in ["s", "z", "2", "3"] {
        let int8 = measure_opt_level(&int8, level)?;
        let f32 = measure_opt_level(&f32, level)?;
        opt_levels.push((level, int8, f32));
    }

    let rustc = first_line(
        Command::new("rustc")
            .arg("--version")
            .current_dir(host::firmware_dir()),
    );
    let qemu = first_line(Command::new("qemu-system-arm").arg("--version"));
    let mut md = String::new();
    md.push_str(&format!(
        "Recorded by `cargo xtask bench-firmware`: {rustc}; firmware release profile \
         (opt-level \"s\", fat LTO, 1 codegen unit); run under {qemu} `-machine mps2-an386 -cpu \
         cortex-m4 -icount shift=0,align=off`. Instruction counts are exact (SysTick under \
         icount: 40 instructions per tick, so ±40 per measured step); cycles on a real \
         Cortex-M4F are higher (VMLA takes 3 cycles, plus flash wait states). Models: the \
         committed `models/four_modes_2d_{{f32,int16,int8}}.efm` (energy 2→32→64→64→64→1, \
         flow 4 blocks, hidden 16) and a d = 16 model with seeded weights written by the \
         bench (`{}`; energy 16→32→64→64→64→1, flow 2 blocks, hidden 32), each compiled in \
         with `EMBERFLOW_MODEL` and read in place from flash.\n\n",
        d16.strip_prefix(root()).unwrap_or(&d16).display()
    ));
    md.push_str(
        "| model | file | `sample` flash: vector table + .text + .rodata + .data | .text | \
         .rodata (the model file is in here) | static RAM: .data + .bss | stack high-water | \
         RAM total | `energy` flash |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in &rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            m.label,
            kib(m.file_size),
            kib(m.sample.flash()),
            kib(m.sample.text),
            kib(m.sample.rodata),
            kib(m.sample.static_ram()),
            kib(m.stack),
            kib(m.ram()),
            kib(m.energy.flash()),
        ));
    }
    md.push_str(
        "\n| model | step | instructions (mean) | min | max | steps | MACs | instructions / MAC |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in &rows {
        let (mala_macs, imh_macs, isir_macs) = m.step_macs();
        for (name, c, macs) in [
            ("energy U(x) (forward)", &m.eval, m.energy_macs),
            ("MALA step (U and ∇U)", &m.mala, mala_macs),
            ("IMH global move", &m.imh, imh_macs),
            ("i-SIR global move, N = 64", &m.isir, isir_macs),
        ] {
            md.push_str(&format!(
                "| {} | {name} | {:.0} | {} | {} | {} | {macs:.0} | {:.2} |\n",
                m.label,
                c.mean(),
                c.min,
                c.max,
                c.count,
                c.mean() / macs
            ));
        }
    }
    md.push_str(
        "\nMACs: energy forward E (2-D: 10,368; d = 16: 10,816), flow pass F (2-D: 512; d = 16: \
         4,096). MALA = 2E (forward + backward); IMH = 2F + E + a·2E; i-SIR = F + 63(F + E) + \
         a·2E, with the measured global acceptance a (an accepted move refreshes U and ∇U). \
         Global moves also pay the flow's tanh/exp and the Box–Muller normals, which MACs do \
         not count. Acceptances (MALA / IMH / i-SIR):",
    );
    for m in &rows {
        md.push_str(&format!(
            " {} {:.3} / {:.3} / {:.3};",
            m.label, m.mala_acceptance, m.imh_acceptance, m.isir_acceptance
        ));
    }
    md.push_str(&format!(
        " non-finite rejections {}.\n\n",
        rows.iter().map(|m| m.nonfinite).sum::<u64>()
    ));

    let by = |label: &str| rows.iter().find(|m| m.label == label);
    let mut targets = String::from("Targets (issue 5), from the figures above:\n\n");
    if let Some(m) = by("2-D four-modes, int8") {
        targets.push_str(&format!(
            "- 2-D int8: flash {} ≤ 48 KiB: {}; RAM {} ≤ 8 KiB: {}.\n",
            kib(m.sample.flash()),
            verdict(m.sample.flash() <= 48 * 1024),
            kib(m.ram()),
            verdict(m.ram() <= 8 * 1024)
        ));
    }
    if let Some(m) = by("2-D four-modes, f32") {
        let (mala_macs, _, _) = m.step_macs();
        let per_mac = m.mala.mean() / mala_macs;
        targets.push_str(&format!(
            "- 2-D f32: flash {} ≤ 96 KiB: {}; {per_mac:.2} instructions per MAC (MALA step) \
             ≤ 2.5: {}.\n",
            kib(m.sample.flash()),
            verdict(m.sample.flash() <= 96 * 1024),
            verdict(per_mac <= 2.5)
        ));
    }
    md.push_str(&targets);
    md.push_str(
        "\nOptimisation level (2-D models, `sample` program, each level in its own target \
         directory; MALA step in instructions, exact):\n\n| opt-level | int8: flash | int8: \
         .text | int8: MALA step | f32: flash | f32: MALA step | f32: instructions / MAC |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mala_macs = by("2-D four-modes, f32").map_or(f64::NAN, |m| m.step_macs().0);
    for (level, (fp8, mala8), (fp32, mala32)) in &opt_levels {
        md.push_str(&format!(
            "| \"{level}\" | {} | {} | {:.0} | {} | {:.0} | {:.2} |\n",
            kib(fp8.flash()),
            kib(fp8.text),
            mala8.mean(),
            kib(fp32.flash()),
            mala32.mean(),
            mala32.mean() / mala_macs
        ));
    }
    md.push_str(FIRMWARE_NOTES);
    let path = root().join("BENCHMARKS.md");
    crate::setup::replace_section(&path, "Firmware", &md)?;
    eprintln!("{md}");
    eprintln!("recorded under `## Firmware` in {}", path.display());
    Ok(())
}

/// What the figures say, written next to them.
const FIRMWARE_NOTES: &str = "
Where the instructions go (2-D f32 MALA step, about 41,000 instructions, from an instruction
trace of QEMU at opt-level \"s\"): the dense kernels about 30,100 (forward 15,200 with the
biases, backward 14,900), the network code around them (LeakyReLU forward and backward, the
tapes) about 6,300, zeroing and copying buffers about 3,100, and the MALA step itself with its
normals, square roots and logarithm about 1,100. A pair of Box–Muller normals costs about 90
instructions: the angle's sine and cosine are single-precision polynomials after an exact
reduction of the uniform's 23-bit integer (`math::sin_cos_turn23`); libm's `sincosf`, which
works in double precision (software on this FPU), took about 2,400 and linked about 6 KiB of
soft-float code.
On Arm hard-float targets the inner loops of the f32 kernels are VFP assembly
(`core/src/model/vfp.rs`, the one module of the core with `unsafe` code): each row's weights
come in eight at a time with one `VLDMIA` (post-increment: no address arithmetic), and each
multiply–accumulate is one `VMLA.F32`, which rounds the product and then the sum, exactly as the
portable `s += w * x` (it is not fused). The forward kernel reduces four rows by eight inputs
(39 instructions per 32 MACs: 1.22 per MAC), the backward kernel keeps sixteen column sums in
registers while it walks down the rows, two at a time (41 per 32 MACs: 1.28). Every output is still a
sequential sum in index order, so host and MCU agree to the bit: `cargo xtask test` runs the
firmware's `kernels` program, which checks these loops against their definition on 270 shapes
(rows 1–9, every remainder of the columns modulo 8 and 16, values of every magnitude with
signed zeros, infinities, NaN and subnormals), besides the sampler's output against the host's.
Compiled from the portable Rust, each weight takes its own `VLDR` (LLVM forms multi-register
loads only when its register allocation happens to line up): at least two instructions per MAC.
The format's 4-byte alignment of tensor data
(version 2) and the 16-byte aligned placement of the file let both read f32 weights in place.
int16 and int8 weights take an integer load and a `VCVT` each, so their kernels (portable Rust,
four rows by four) cost more per MAC than f32.

Flash: the model file, then the sampler (MALA, IMH and i-SIR are all linked since the global move
is a run-time setting of the core's kernel) and the dense kernels. The build script
(`firmware/build.rs`) checks the compiled-in file completely and writes its header as a constant
(plus the dimension, the CRC and the set of weight encodings), so the firmware checks only the
envelope and the CRC at start-up (`ModelView::with_header`) and links no header decoder; only
the kernels of the file's encodings are compiled in (`EncodingSet`); the build configuration is
parsed at compile time (a `const fn`); the vector table holds the board's 32 device interrupts,
not 240; the CRC-32 uses a 64-byte table. RAM: no heap and almost no static data; the views
keep one slice per tensor and are filled in place while the model is built (no large values
moved through `Result`s), which took the stack high-water mark from 7.6 KiB to about 5.4 KiB.
";

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

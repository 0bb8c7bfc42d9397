//! `cargo xtask bench-firmware`: flash, RAM and exact instruction counts per step of the
//! firmware programs under QEMU, recorded under `## Firmware` in BENCHMARKS.md.

use super::{QEMU_TIMEOUT, committed_model};
use crate::setup::{ensure_qemu, ensure_thumb_target, root};
use anyhow::{Context, Result, bail, ensure};
use emberflow_core::model::lists::{Bounded, F32s};
use emberflow_core::model::{
    Encoding, Export, Normalization, SamplerSpec, Training, encode_energy_flow,
};
use emberflow_core::{Adaptation, FlowMcConfig, GlobalMove, Schedule};
use emberflow_tools::firmware as host;
use host::{ModelFile, Program, SampleSettings, read_model};
use std::path::{Path, PathBuf};
use std::process::Command;

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

/// `(energy U forward, flow pass)` multiply-accumulates of the model file's networks.
fn model_macs(file: &ModelFile) -> Result<(f64, f64)> {
    emberflow_train::eval::with_networks(file, |energy, flow, _| {
        Ok((energy.net().macs() as f64, flow.macs() as f64))
    })
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
    let file = read_model(path)?;
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
    let (energy_macs, flow_macs) = model_macs(&file)?;
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
    md.push_str(
        "\nWhere the instructions, the flash and the RAM go, and why: \
         `docs/firmware-performance.md`.\n",
    );
    let path = root().join("BENCHMARKS.md");
    crate::setup::replace_section(&path, "Firmware", &md)?;
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

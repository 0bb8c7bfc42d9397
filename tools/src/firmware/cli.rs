//! `emberflow firmware …`: run the firmware programs under QEMU from the command line.

use super::{
    Report, decode_frames, read_model, read_points_csv, sample_on_qemu, score_on_qemu,
    write_energies_csv, write_samples_csv,
};
use crate::sampling_args::SamplingArgs;
use anyhow::{Context, Result};
use clap::{Args as ClapArgs, Subcommand};
use emberflow_train::fs::write_atomically_to;
use std::path::PathBuf;
use std::time::Duration;

/// `emberflow firmware` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

/// What `emberflow firmware --help` says besides the commands.
pub const ABOUT: &str = "\
Build the firmware and run it under QEMU.

Builds the firmware (firmware/, thumbv7em-none-eabihf) with the model file compiled in, runs it
under qemu-system-arm -machine mps2-an386 -icount shift=0, decodes its defmt output and writes
CSV (`-` for stdout). `run` writes the samples in data units, byte for byte what
`emberflow sample` writes for the same model and options.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Sample a model file on the emulated Cortex-M4F; the samples in data units.
    ///
    /// Writes byte for byte what `emberflow sample` writes for the same model and options. The
    /// schedule, step size and adaptation default to the model's sampler settings.
    Run(RunArgs),
    /// Score points with a model file on the emulated Cortex-M4F.
    ///
    /// The output has columns index,x0..x{d-1},energy with energy = U = -ln pi (unnormalised,
    /// model space), as `emberflow energy` writes it.
    Energy(EnergyArgs),
    /// Print the defmt frames of a captured run, then the run's summary.
    ///
    /// The frames are read from FILE (or stdin), as written by the firmware ELF (e.g. captured
    /// from `qemu-system-arm … -kernel ELF > FILE`).
    Decode(DecodeArgs),
}

/// `emberflow firmware run` options.
#[derive(Debug, ClapArgs)]
struct RunArgs {
    /// The model file compiled into the firmware.
    #[arg(long, value_name = "M.efm")]
    model: PathBuf,
    /// Seed, chains, samples and the sampler settings.
    #[command(flatten)]
    sampling: SamplingArgs,
    /// Kill QEMU after this many seconds.
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_timeout)]
    timeout: Duration,
    /// Output CSV (`chain,index,x0,…`, data units; `-` for stdout).
    #[arg(long, value_name = "FILE.csv")]
    out: String,
}

/// `emberflow firmware energy` options.
#[derive(Debug, ClapArgs)]
struct EnergyArgs {
    /// The model file compiled into the firmware.
    #[arg(long, value_name = "M.efm")]
    model: PathBuf,
    /// A CSV of points in data units (a non-numeric first row is a header; if it names
    /// x0..x{d-1}, those columns are read).
    #[arg(long, visible_alias = "points", value_name = "FILE.csv")]
    data: PathBuf,
    /// Kill QEMU after this many seconds.
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_timeout)]
    timeout: Duration,
    /// Output CSV (`index,x0,…,energy`; `-` for stdout).
    #[arg(long, value_name = "FILE.csv")]
    out: String,
}

/// `emberflow firmware decode` options.
#[derive(Debug, ClapArgs)]
struct DecodeArgs {
    /// The firmware ELF that wrote the frames (its defmt table).
    #[arg(long, value_name = "ELF")]
    elf: PathBuf,
    /// The captured output (default: stdin).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
}

/// A positive number of seconds.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err("expected a positive number of seconds".into()),
    }
}

/// Run `emberflow firmware`.
pub fn run(args: &Args) -> Result<()> {
    match &args.command {
        Command::Run(a) => run_sample(a),
        Command::Energy(a) => run_energy(a),
        Command::Decode(a) => run_decode(a),
    }
}

fn run_sample(args: &RunArgs) -> Result<()> {
    let settings = args.sampling.settings()?;
    let (run, report) = sample_on_qemu(&args.model, &settings, args.timeout)?;
    let out = &args.out;
    write_atomically_to(out, |w| write_samples_csv(w, report.dim, &report.samples))?;
    eprintln!("{}", report.summary());
    eprintln!(
        "QEMU ran {} in {:.2} s; samples written to {out}",
        run.elf.display(),
        run.qemu.wall.as_secs_f64()
    );
    Ok(())
}

fn run_energy(args: &EnergyArgs) -> Result<()> {
    let file = read_model(&args.model)?;
    let points = read_points_csv(&args.data, file.dim)?;
    let (run, report) = score_on_qemu(&args.model, &points, args.timeout)?;
    let out = &args.out;
    write_atomically_to(out, |w| {
        write_energies_csv(w, report.dim, &report.scores, report.threshold)
    })?;
    eprintln!("{}", report.summary());
    eprintln!(
        "QEMU ran {} in {:.2} s; energies written to {out}",
        run.elf.display(),
        run.qemu.wall.as_secs_f64()
    );
    Ok(())
}

fn run_decode(args: &DecodeArgs) -> Result<()> {
    let elf =
        std::fs::read(&args.elf).with_context(|| format!("reading {}", args.elf.display()))?;
    let stream = match &args.input {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf)?;
            buf
        }
    };
    let frames = decode_frames(&elf, &stream)?;
    for f in &frames {
        println!("{f}");
    }
    match Report::parse(&frames) {
        Ok(report) => eprintln!("{}", report.summary()),
        Err(e) => eprintln!("(no complete report: {e})"),
    }
    Ok(())
}

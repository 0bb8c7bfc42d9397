//! `emberflow`: train, sample and inspect energy-based models.
//!
//! Errors are printed as one line (`error: context: cause`) and give a non-zero exit code.

use clap::{Parser, Subcommand};
use emberflow_tools::{eval, firmware, inspect, plot, sample, train};
use std::process::ExitCode;

/// Train, sample and inspect energy-based models.
#[derive(Debug, Parser)]
#[command(name = "emberflow", version, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train an EBM and its flow (flowMC-EBM) and export a model file.
    Train(Box<train::Args>),
    /// Print a model file's header, layer shapes, encoding, size, checksum and quantisation
    /// errors; fails on a malformed file.
    Inspect(inspect::Args),
    /// Evaluate a model against data and its samples: mode weights, R-hat/ESS, MMD, energy gap.
    Eval(Box<eval::Args>),
    /// Draw PNG figures: the learned density, training curves, mode-weight bars.
    Plot(plot::Args),
    /// Sample a model file with FlowMC on the host (the firmware's protocol), in data units.
    Sample(sample::SampleArgs),
    /// Score points with a model file: U = -ln pi (unnormalised) per point, data units in.
    Energy(sample::EnergyArgs),
    /// Build the firmware and run it under QEMU (`emberflow firmware --help`).
    #[command(long_about = firmware::cli::ABOUT, arg_required_else_help = true)]
    Firmware(firmware::cli::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Train(args) => train::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Sample(args) => sample::run_sample(args),
        Command::Energy(args) => sample::run_energy(args),
        Command::Firmware(args) => firmware::cli::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

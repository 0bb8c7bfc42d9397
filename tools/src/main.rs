//! `emberflow`: train, sample and inspect energy-based models.
//!
//! Errors are printed as one line (`error: context: cause`) and give a non-zero exit code.

mod firmware;
mod inspect;
mod train;

use clap::{Parser, Subcommand};
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
    /// Build the firmware and run it under QEMU (`emberflow firmware --help`).
    #[command(disable_help_flag = true)]
    Firmware {
        /// The firmware command and its options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Train(args) => train::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Firmware { args } => firmware::run_cli(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! `cargo xtask <command>`: the project's automation, the same for people and CI.
//!
//! * `test` — the whole suite: rustfmt check, clippy `-D warnings`, rustdoc `-D warnings`, unit
//!   and integration tests (release mode), the no_std build of the core for thumbv7em, and the
//!   firmware: its build, lints, and runs under QEMU checked bit for bit against the host.
//! * `bench-core` — criterion benchmarks of the core kernel, summarised into BENCHMARKS.md.
//! * `bench-train` — train the built-in sets over several seeds and record the quality
//!   figures against the paper's in BENCHMARKS.md.
//! * `bench-speed` — time per training iteration against the PyTorch reference, run
//!   alternately on this machine, into BENCHMARKS.md.
//! * `bench-firmware` — flash, RAM and exact instruction counts of the firmware under QEMU,
//!   into BENCHMARKS.md.
//! * `bench-real` — EBMs on real tabular data sets (`data/real`) against scikit-learn
//!   baselines: AUROC and held-out NLL, into BENCHMARKS.md.
//! * `demo` — train the built-in four-modes set, export f32 and int8, sample on the host and in
//!   the emulated Cortex-M4F, and write `out/demo/report.md`.
//!
//! `cargo xtask` is an alias (`.cargo/config.toml`) for `cargo run --quiet --release -p xtask --`.

mod bench;
mod bench_real;
mod demo;
mod firmware;
mod setup;
mod speed;
mod test;
mod train_bench;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

/// The project's automation, the same for people and CI.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole suite: fmt, clippy, rustdoc, tests, the no_std core build and the firmware
    /// under QEMU, checked bit for bit against the host.
    Test,
    /// Criterion benchmarks of the core kernel, summarised into BENCHMARKS.md.
    BenchCore,
    /// Train the built-in sets over several seeds; quality figures into BENCHMARKS.md.
    BenchTrain(train_bench::Args),
    /// Time per training iteration against the PyTorch reference, into BENCHMARKS.md.
    BenchSpeed(speed::Args),
    /// Flash, RAM and exact instruction counts of the firmware under QEMU, into BENCHMARKS.md.
    BenchFirmware,
    /// EBMs on real data sets against scikit-learn baselines: AUROC, held-out NLL, into
    /// BENCHMARKS.md.
    BenchReal(bench_real::Args),
    /// Train, export, sample on the host and in the emulated Cortex-M4F; `out/demo/report.md`.
    Demo,
}

fn main() -> Result<()> {
    let Some(command) = Cli::parse().command else {
        Cli::command().print_help()?;
        return Ok(());
    };
    match command {
        Command::Test => test::run(),
        Command::BenchCore => bench::run_core(),
        Command::BenchTrain(args) => train_bench::run_train(&args),
        Command::BenchSpeed(args) => speed::run_speed(&args),
        Command::BenchFirmware => firmware::bench(),
        Command::BenchReal(args) => bench_real::run_real(&args),
        Command::Demo => demo::run_demo(),
    }
}

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
//! * `demo` — train the built-in four-modes set, export f32 and int8, sample on the host and in
//!   the emulated Cortex-M4F, and write `out/demo/report.md`.

mod bench;
mod demo;
mod firmware;
mod setup;
mod speed;
mod test;
mod train_bench;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => ("help", &[][..]),
    };
    match cmd {
        "test" => test::run(rest),
        "bench-core" => bench::run_core(rest),
        "bench-train" => train_bench::run_train(rest),
        "bench-speed" => speed::run_speed(rest),
        "bench-firmware" => {
            if let Some(a) = rest.first() {
                bail!("`cargo xtask bench-firmware` takes no arguments (got `{a}`)");
            }
            firmware::bench()
        }
        "demo" => demo::run_demo(rest),
        "help" | "-h" | "--help" => {
            println!(
                "usage: cargo xtask <test | bench-core | bench-train | bench-speed | bench-firmware | demo>"
            );
            Ok(())
        }
        other => bail!("unknown xtask command `{other}` (try `cargo xtask help`)"),
    }
}

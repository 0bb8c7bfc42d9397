//! `cargo xtask bench-core`: criterion benchmarks of the core kernel.

use crate::setup::{cargo, root, run};
use anyhow::Result;

pub fn run_core(_args: &[String]) -> Result<()> {
    run(
        &root(),
        cargo().args(["bench", "-p", "emberflow-core", "--bench", "step"]),
    )
}

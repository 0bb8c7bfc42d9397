//! `cargo xtask test` (firmware part) and `cargo xtask bench-firmware`.
//!
//! * [`check()`] — firmware fmt, build, clippy (QEMU and board variants); a model too big for
//!   the STM32F4's flash is refused by the build with the needed and available flash and RAM
//!   (`fit.rs`), and builds for QEMU's map; then, under QEMU, for
//!   the committed 2-D models in f32, int16 and int8: the `sample` program's CSV is
//!   byte-identical to `emberflow sample`'s (the host running the same protocol source on
//!   emberflow-core; i-SIR and IMH schedules), the `energy` program's scores are
//!   bit-identical to `emberflow energy`'s; and a corrupted model file, an invalid
//!   configuration and a panic each exit non-zero with a clear defmt error; and the same
//!   parity, sampling and scoring, for models of odd shapes (`shapes.rs`: d = 3, 24, 30 and
//!   100, widths not multiples of 4 or 8, energies of 1, 2 and 6 hidden layers, f32 and int8).
//! * [`bench()`] — flash, RAM and instructions per step for the 2-D model in f32, int16 and int8
//!   and a seeded d = 16 model, recorded under `## Firmware` in BENCHMARKS.md; what the figures
//!   say is in `docs/firmware-performance.md`.
//!
//! Both drive the firmware through the host side in `emberflow_tools::firmware`.

mod bench;
mod check;
mod fit;
mod shapes;

pub use bench::bench;
pub use check::check;

use crate::setup::root;
use std::path::PathBuf;
use std::time::Duration;

/// How long one QEMU run may take.
const QEMU_TIMEOUT: Duration = Duration::from_secs(300);

/// The committed 2-D model in `encoding` (`f32`, `int16`, `int8`).
fn committed_model(encoding: &str) -> PathBuf {
    root()
        .join("models")
        .join(format!("four_modes_2d_{encoding}.efm"))
}

//! The library behind the `emberflow` command-line tool: one module per command, and the
//! firmware's host side, shared with `cargo xtask` and the integration tests.
//!
//! * [`train`] — `emberflow train`: joint EBM + flow training, exported to a model file with
//!   a JSON report next to it.
//! * [`inspect`] — `emberflow inspect`: a model file's header, shapes, size and checksum.
//! * [`eval`] — `emberflow eval`: mode weights, R̂/ESS, MMD and energy gap of a model.
//! * [`plot`] — `emberflow plot`: PNG figures of a model, its samples and its training run.
//! * [`sample`] — `emberflow sample` and `emberflow energy`: the firmware's sampling and
//!   scoring protocol on the host.
//! * [`sampling_args`] — the sampling options `emberflow sample` and `emberflow firmware run`
//!   share.
//! * [`firmware`] — the host side of the firmware: build a firmware program with a model file,
//!   run it under QEMU, decode its defmt frames; and `emberflow firmware`.
//!
//! Each command module has its clap arguments (`Args`, …) and a `run` function; `main.rs`
//! parses the command line and calls it.

pub mod eval;
pub mod firmware;
pub mod inspect;
pub mod plot;
pub mod sample;
pub mod sampling_args;
pub mod train;

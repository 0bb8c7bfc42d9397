//! Selects the memory map of the board family chosen by a `board-*` feature and puts it on the
//! linker search path as `memory.x` (cortex-m-rt's `link.x` includes it).
//!
//! It copies the model file named by `EMBERFLOW_MODEL` (default: the committed
//! `../models/four_modes_2d_f32.efm`; a relative path is taken from this directory) to
//! `$OUT_DIR/model.efm`, which `src/model.rs` compiles in with `include_bytes!`, and writes
//! `$OUT_DIR/model_dim.rs` with the model's dimension, read from the file's header, so the
//! firmware is built for that dimension. A file that is not a valid model still builds (with a
//! warning, as a 2-D model): the firmware checks it at start-up and stops with a defmt error.
//!
//! It also turns the decimal numbers of the build configuration (`EMBERFLOW_STEP_SIZE`,
//! `EMBERFLOW_ADAPT`, `EMBERFLOW_POINTS`) into their f32 bits (`…_BITS`), so the firmware
//! never parses a float: `core`'s decimal-to-float code and its tables would add about 13 KiB
//! of flash. A value that does not parse gets no `…_BITS`, and the program reports it at
//! start-up.

use std::{env, fs, path::PathBuf};

/// The model compiled in when `EMBERFLOW_MODEL` is not set (relative to this directory).
const DEFAULT_MODEL: &str = "../models/four_modes_2d_f32.efm";

const BOARDS: [(&str, &str); 3] = [
    ("CARGO_FEATURE_BOARD_MPS2_AN386", "memory/mps2-an386.x"),
    ("CARGO_FEATURE_BOARD_STM32F4", "memory/stm32f4.x"),
    ("CARGO_FEATURE_BOARD_NRF52840", "memory/nrf52840.x"),
];

/// Variables holding one decimal number (or a keyword, left to the firmware).
const FLOAT_VARS: [&str; 2] = ["EMBERFLOW_STEP_SIZE", "EMBERFLOW_ADAPT"];

fn main() {
    model();
    for var in FLOAT_VARS {
        println!("cargo:rerun-if-env-changed={var}");
        if let Some(x) = env::var(var)
            .ok()
            .and_then(|v| v.trim().parse::<f32>().ok())
        {
            println!("cargo:rustc-env={var}_BITS={}", x.to_bits());
        }
    }
    println!("cargo:rerun-if-env-changed=EMBERFLOW_POINTS");
    if let Some(bits) = env::var("EMBERFLOW_POINTS")
        .ok()
        .and_then(|v| points_bits(&v))
    {
        println!("cargo:rustc-env=EMBERFLOW_POINTS_BITS={bits}");
    }

    let chosen: Vec<&str> = BOARDS
        .iter()
        .filter(|(feature, _)| env::var_os(feature).is_some())
        .map(|(_, file)| *file)
        .collect();
    let file = match chosen.as_slice() {
        [one] => *one,
        [] => panic!("choose a memory map: enable one `board-*` feature"),
        _ => panic!("enable exactly one `board-*` feature (got {chosen:?})"),
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let map = fs::read(file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    fs::write(out.join("memory.x"), map).expect("cannot write memory.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    for (_, file) in BOARDS {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// Copy the model file into `OUT_DIR` and record its dimension.
fn model() {
    println!("cargo:rerun-if-env-changed=EMBERFLOW_MODEL");
    let given = env::var_os("EMBERFLOW_MODEL").filter(|p| !p.is_empty());
    let path = PathBuf::from(given.unwrap_or_else(|| DEFAULT_MODEL.into()));
    println!("cargo:rerun-if-changed={}", path.display());
    let bytes = fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the model file {} (EMBERFLOW_MODEL; relative paths start in firmware/): {e}",
            path.display()
        )
    });
    let dim = match emberflow_core::ModelView::parse(&bytes) {
        Ok(view) => view.header().dim,
        Err(e) => {
            println!(
                "cargo:warning={} is not a valid model file ({e}); the firmware will report it at \
                 start-up",
                path.display()
            );
            2
        }
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("model.efm"), &bytes).expect("cannot write model.efm to OUT_DIR");
    fs::write(
        out.join("model_dim.rs"),
        format!(
            "/// The dimension of the compiled-in model (from its header).\n\
             pub const D: usize = {dim};\n"
        ),
    )
    .expect("cannot write model_dim.rs to OUT_DIR");
}

/// `x0,x1;x0,x1;…` as the same list of f32 bits, or `None` if a number does not parse.
fn points_bits(text: &str) -> Option<String> {
    let mut points = Vec::new();
    for point in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let coords: Option<Vec<String>> = point
            .split(',')
            .map(|c| {
                c.trim()
                    .parse::<f32>()
                    .ok()
                    .map(|x| x.to_bits().to_string())
            })
            .collect();
        points.push(coords?.join(","));
    }
    Some(points.join(";"))
}

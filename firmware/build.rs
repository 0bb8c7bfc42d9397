//! Selects the memory map of the board family chosen by a `board-*` feature and puts it on the
//! linker search path as `memory.x` (cortex-m-rt's `link.x` includes it).
//!
//! It also turns the decimal numbers of the build configuration (`EMBERFLOW_STEP_SIZE`,
//! `EMBERFLOW_ADAPT`, `EMBERFLOW_POINTS`) into their f32 bits (`…_BITS`), so the firmware
//! never parses a float: `core`'s decimal-to-float code and its tables would add about 13 KiB
//! of flash. A value that does not parse gets no `…_BITS`, and the program reports it at
//! start-up.

use std::{env, fs, path::PathBuf};

const BOARDS: [(&str, &str); 3] = [
    ("CARGO_FEATURE_BOARD_MPS2_AN386", "memory/mps2-an386.x"),
    ("CARGO_FEATURE_BOARD_STM32F4", "memory/stm32f4.x"),
    ("CARGO_FEATURE_BOARD_NRF52840", "memory/nrf52840.x"),
];

/// Variables holding one decimal number (or a keyword, left to the firmware).
const FLOAT_VARS: [&str; 2] = ["EMBERFLOW_STEP_SIZE", "EMBERFLOW_ADAPT"];

fn main() {
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

//! Energy scoring (anomaly use) with the compiled-in model: `U = −ln π` (unnormalised) for
//! each point, given in data units (`emberflow_core::mcmc::run::score`, the host's
//! `emberflow energy` runs the same source).
//!
//! Points (data units, `D` coordinates each), in order of precedence:
//! * `EMBERFLOW_POINTS` at build time: `x0,x1,…;x0,x1,…;…` compiled in;
//! * `EMBERFLOW_POINTS_FILE` at build time: a file of little-endian f32, `D` per point, read
//!   at run time through semihosting (relative to QEMU's working directory);
//! * otherwise a 9×9 grid over [−4, 4]² in the first two coordinates (the others 0).
//!
//! Each point is answered with an `ef:e` frame; the cost per evaluation follows. A model that
//! carries an anomaly threshold (`emberflow train --threshold-quantile`) also raises an
//! `ef:alarm` frame for each point above it (`U > threshold`, or a non-finite `U`): the hook
//! for an alarm pin.

#![no_std]
#![no_main]

use emberflow_core::mcmc::run as protocol;
use emberflow_core::model::is_anomaly;
use emberflow_firmware::config::ConfigError;
use emberflow_firmware::cost::{Counter, Tally};
use emberflow_firmware::model::{self, D};
use emberflow_firmware::{EXIT_CONFIG, EXIT_OK, exit, frames, or_exit};

const GRID: u32 = 9;

/// The points of `EMBERFLOW_POINTS` (`x0,x1;x0,x1;…`), from the same list as f32 bits that
/// `build.rs` made of it (`None` if a number did not parse), calling `f` per point.
fn inline_points(
    text: &'static str,
    bits: Option<&'static str>,
    mut f: impl FnMut([f32; D]),
) -> Result<u32, ConfigError> {
    let bad = ConfigError {
        var: "EMBERFLOW_POINTS",
        value: text,
        expected: "points `x0,x1,…;x0,x1,…;…` of D numbers each (D: the model's dimension)",
    };
    let bits = bits.ok_or(bad)?;
    let mut n = 0;
    for point in bits.split(';').filter(|p| !p.is_empty()) {
        let mut x = [0.0f32; D];
        let mut coords = point.split(',');
        for xi in x.iter_mut() {
            *xi = coords
                .next()
                .and_then(|v| v.parse::<u32>().ok())
                .map(f32::from_bits)
                .ok_or(bad)?;
        }
        if coords.next().is_some() {
            return Err(bad);
        }
        f(x);
        n += 1;
    }
    Ok(n)
}

#[cfg(feature = "defmt-semihosting")]
fn file_points(path: &'static str, mut f: impl FnMut([f32; D])) -> Result<u32, ConfigError> {
    use semihosting::io::Read;
    let fail = |expected| ConfigError {
        var: "EMBERFLOW_POINTS_FILE",
        value: path,
        expected,
    };
    let mut name = [0u8; 256];
    if path.len() >= name.len() || path.as_bytes().contains(&0) {
        return Err(fail("a path shorter than 256 bytes"));
    }
    name[..path.len()].copy_from_slice(path.as_bytes());
    let cpath = core::ffi::CStr::from_bytes_until_nul(&name).map_err(|_| fail("a path"))?;
    let mut file = semihosting::fs::File::open(cpath)
        .map_err(|_| fail("a readable file (relative to QEMU's working directory)"))?;
    let mut n = 0;
    let mut buf = [0u8; 4 * D];
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match file.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(k) => filled += k,
                Err(_) => return Err(fail("a readable file")),
            }
        }
        if filled == 0 {
            return Ok(n);
        }
        if filled < buf.len() {
            return Err(fail("little-endian f32 values, a multiple of D per file"));
        }
        let x: [f32; D] = core::array::from_fn(|i| {
            f32::from_le_bytes([buf[4 * i], buf[4 * i + 1], buf[4 * i + 2], buf[4 * i + 3]])
        });
        f(x);
        n += 1;
    }
}

#[cfg(not(feature = "defmt-semihosting"))]
fn file_points(path: &'static str, _f: impl FnMut([f32; D])) -> Result<u32, ConfigError> {
    Err(ConfigError {
        var: "EMBERFLOW_POINTS_FILE",
        value: path,
        expected: "no file: reading files needs the `defmt-semihosting` feature",
    })
}

fn grid_points(mut f: impl FnMut([f32; D])) -> u32 {
    let step = 8.0 / (GRID - 1) as f32;
    for i in 0..GRID {
        for j in 0..GRID {
            let mut x = [0.0f32; D];
            x[0] = -4.0 + step * i as f32;
            x[1] = -4.0 + step * j as f32;
            f(x);
        }
    }
    GRID * GRID
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let counter = Counter::start();
    let (model, header, crc) = model::load();
    let Some((energy, _)) = model.joint() else {
        exit(EXIT_CONFIG)
    };
    let buffer = or_exit(
        cortex_m::singleton!(: [f32; model::SCORE_LEN] = [0.0; model::SCORE_LEN]).ok_or("taken"),
        "the scoring buffer",
    );
    let threshold = header.training.anomaly_threshold();
    frames::begin_energy(crc, D, threshold);

    let mut tally = Tally::default();
    let mut index = 0u32;
    let mut score = |x: [f32; D]| {
        let start = counter.now();
        let u = protocol::score(energy, &header.normalization, &x, buffer);
        tally.add(counter.since(start));
        frames::energy(index, &x, u);
        if threshold.is_some_and(|t| is_anomaly(u, t)) {
            frames::alarm(index);
        }
        index += 1;
    };
    let points = match (
        option_env!("EMBERFLOW_POINTS"),
        option_env!("EMBERFLOW_POINTS_FILE"),
    ) {
        (Some(text), _) => or_exit(
            inline_points(text, option_env!("EMBERFLOW_POINTS_BITS"), &mut score),
            "invalid points",
        ),
        (None, Some(path)) => or_exit(file_points(path, &mut score), "invalid points"),
        (None, None) => grid_points(&mut score),
    };
    frames::cost("energy", &tally);
    frames::memory();
    frames::end(u64::from(points));
    exit(EXIT_OK)
}

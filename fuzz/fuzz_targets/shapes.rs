//! Model files of random run-time shapes: the input's first bytes choose a shape (dimension
//! 2–41, 1–6 energy hidden layers of widths 1–24, the activation, 1–4 flow blocks, 1–3
//! conditioner hidden layers of widths 1–12, f32/int16/int8) and a weight seed; the file is
//! written by `encode_runtime`, must read back through `FileModel`, and is then mutated by the
//! rest of the input (byte pairs: position, XOR mask), its CRC fixed up, and read again.
//! Nothing may panic.
//!
//! ```text
//! cargo +nightly fuzz run shapes fuzz/corpus/shapes -- -max_total_time=60
//! ```

#![no_main]

use emberflow_core::model::{ModelView, crc32};
use emberflow_core::testing::runtime_file::{Shape, exercise_runtime, random_file};
use libfuzzer_sys::fuzz_target;

/// The shape and seed the first 16 bytes choose (`None` for a shorter input).
fn shape(data: &[u8]) -> Option<(Shape, u64, &[u8])> {
    let (head, rest) = data.split_at_checked(16)?;
    let b = |i: usize| usize::from(head[i]);
    let layers = 1 + b(1) % 6;
    let cond_layers = 1 + b(4) % 3;
    let shape = Shape {
        d: 2 + b(0) % 40,
        energy: (0..layers).map(|k| 1 + (b(5) + 7 * k * b(6)) % 24).collect(),
        activation: b(2) % 4,
        blocks: 1 + b(3) % 4,
        cond: (0..cond_layers).map(|k| 1 + (b(7) + 5 * k * b(6)) % 12).collect(),
        encoding: b(8) % 3,
    };
    let seed = u64::from_le_bytes(head[8..16].try_into().ok()?);
    Some((shape, seed, rest))
}

fuzz_target!(|data: &[u8]| {
    let Some((shape, seed, mutations)) = shape(data) else {
        return;
    };
    let mut file = random_file(&shape, seed);
    let view = ModelView::parse(&file).expect("a freshly written file parses");
    exercise_runtime(&view);
    if file.is_empty() {
        return;
    }
    for m in mutations.chunks_exact(2) {
        let at = usize::from(m[0]) * file.len() / 256;
        file[at] ^= m[1];
    }
    // the checksum fixed up, so that the mutations reach the header and tensor checks
    if let Some(end) = file.len().checked_sub(4) {
        let crc = crc32(&file[..end]);
        file[end..].copy_from_slice(&crc.to_le_bytes());
    }
    if let Ok(view) = ModelView::parse(&file) {
        exercise_runtime(&view);
    }
});

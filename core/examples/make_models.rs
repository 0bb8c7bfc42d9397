//! Generate the committed model files under `models/`:
//!
//! ```text
//! cargo run -p emberflow-core --release --example make_models            # writes models/*.efm
//! cargo run -p emberflow-core --release --example make_models -- DIR     # writes DIR/*.efm
//! ```
//!
//! The models and how they are made: `emberflow_core::testing::four_modes` (feature
//! `model-generator`, enabled for the crate's examples and tests).

use emberflow_core::testing::four_modes::generate;
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` atomically (a temporary file in the same folder, then a rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("efm.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"));
    std::fs::create_dir_all(&dir).expect("creating the output folder");
    let (files, fit) = generate();
    println!(
        "energy fit: RMS {:.3} on data points, {:.3} on the box ({} points); mode weights {:.3?}",
        fit.rms_data, fit.rms_box, fit.points, fit.mode_weights
    );
    for (name, bytes) in files {
        let path = dir.join(&name);
        write_atomic(&path, &bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
}

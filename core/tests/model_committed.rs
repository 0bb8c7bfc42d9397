//! The committed models under `models/` are exactly what `emberflow_core::testing::four_modes`
//! generates (`core/examples/make_models.rs` writes them), so they can be regenerated, and a
//! format change cannot slip past them.

use emberflow_core::testing::four_modes as make_models;

use std::path::Path;

#[test]
fn committed_models_match_the_generator() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let (files, fit) = make_models::generate();
    assert!(fit.rms_data < 1.0, "fit RMS {}", fit.rms_data);
    for (name, bytes) in files {
        let path = dir.join(&name);
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == bytes,
            "{} differs from the generator's output; rerun \
             `cargo run -p emberflow-core --release --example make_models`",
            path.display()
        );
    }
}

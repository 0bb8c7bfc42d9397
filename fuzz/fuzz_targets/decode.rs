//! The model-file decoder on arbitrary bytes: `ModelView::parse`, then every typed decoder that
//! could fit, the run-time reader (`runtime::FileModel`, any shape within the limits) and an
//! evaluation, must never panic.
//!
//! ```text
//! cargo +nightly fuzz run decode fuzz/corpus/decode fuzz/seeds -- -max_total_time=60
//! ```
//!
//! An input whose first byte is odd is also tried with its length and CRC fixed up (the rest of
//! the input as the file), so that mutations get past the checksum to the header and tensor
//! checks.

#![no_main]

use emberflow_core::model::view::Mlp1View;
use emberflow_core::model::{Model2d, Model16, ModelView, crc32};
use emberflow_core::testing::runtime_file::exercise_runtime;
use emberflow_core::{Energy, Flow, Relu, Tanh};
use libfuzzer_sys::fuzz_target;

type TinyNetView<'a> = Mlp1View<'a, 2, 3, 1, Tanh>;
type TinyCondView<'a> = Mlp1View<'a, 1, 2, 1, Relu>;

fn exercise(bytes: &[u8]) {
    let Ok(view) = ModelView::parse(bytes) else {
        return;
    };
    let _ = view.tensors().count();
    // the firmware's start-up path (header checked ahead of time) gives the same model
    let again = ModelView::with_header(bytes, *view.header(), view.tensors_at());
    assert_eq!(again.as_ref(), Ok(&view));
    let h = view.header();
    let _ = (h.tensor_count(), h.energy_params(), h.flow_params());
    if let Ok(e) = view.energy::<2, TinyNetView<'_>>() {
        let mut g = [0.0; 2];
        let _ = e.energy_and_grad(&[0.1, -0.2], &mut g);
    }
    if let Ok(f) = view.flow::<2, 1, 1, TinyCondView<'_>, TinyCondView<'_>, 1>() {
        let _ = f.log_density(&[0.1, -0.2]);
    }
    if let Ok(m) = Model2d::from_view(&view) {
        let mut g = [0.0; 2];
        let _ = m.energy.energy_and_grad(&[0.1, -0.2], &mut g);
        let _ = m.flow.log_density(&[0.1, -0.2]);
        let mut x = [0.3, 0.4];
        m.to_data(&mut x);
    }
    if let Ok(m) = Model16::from_view(&view) {
        let _ = m.energy.energy(&[0.1; 16]);
    }
    exercise_runtime(&view);
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    if let Some((&flag, rest)) = data.split_first()
        && flag & 1 == 1
        && rest.len() >= 14
    {
        let mut v = rest.to_vec();
        let body = (v.len() - 14) as u32;
        v[6..10].copy_from_slice(&body.to_le_bytes());
        let end = v.len() - 4;
        let crc = crc32(&v[..end]);
        v[end..].copy_from_slice(&crc.to_le_bytes());
        exercise(&v);
    }
});

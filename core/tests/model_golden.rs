//! Format stability: the golden bytes of a tiny model, and one distinct error for every kind of
//! malformed file.
//!
//! The golden files `core/tests/data/tiny_v2_{f32,int8}.efm` are written by this test from the
//! tiny model below when `EMBERFLOW_BLESS=1` is set (atomically: temporary file + rename).
//! Without it the test only compares. A difference means the format changed: bump
//! `FORMAT_VERSION` (the old files must then still load, or be rejected as "unsupported
//! version") rather than re-blessing. `tiny_v1_{f32,int8}.efm` are the same model in format
//! version 1, which this version names as unsupported.
//!
//! One file on purpose (it is longer than our ~600-line rule): every malformed-file case below
//! edits the golden bytes at offsets found in them, so the bytes and the cases that break them
//! are read together.

use emberflow_core::model::view::Mlp1View;
use emberflow_core::model::{
    ALIGN, Bounded, Encoding, Export, F32s, FORMAT_VERSION, ModelView, Normalization, SamplerSpec,
    Training, encode_energy, encode_energy_flow,
};
use emberflow_core::{
    AffineCoupling, CouplingBlock, DiagGaussian, Energy, Error, Flow, FlowMcConfig, GlobalMove,
    Mlp1, MlpEnergy, ModelKind, Parameters, RealNvp, Relu, Schedule, Tanh, Tilted,
};
use std::path::{Path, PathBuf};

type TinyNet = Mlp1<2, 3, 1, Tanh>;
type TinyCond = Mlp1<1, 2, 1, Relu>;
type TinyEnergy = Tilted<MlpEnergy<TinyNet>, 2>;
type TinyFlow = RealNvp<2, 1, 1, TinyCond, TinyCond, 1>;
type TinyNetView<'a> = Mlp1View<'a, 2, 3, 1, Tanh>;
type TinyCondView<'a> = Mlp1View<'a, 1, 2, 1, Relu>;

/// Parameter `i` of the tiny model: a multiple of 1/64 in [−0.5, 0.5), exact in f32.
fn value(i: usize) -> f32 {
    ((i * 37 + 11) % 64) as f32 / 64.0 - 0.5
}

fn tiny() -> (TinyEnergy, TinyFlow) {
    let mut net = TinyNet::zeroed();
    let mut i = 0;
    net.visit_mut(&mut |t| {
        for v in t.iter_mut() {
            *v = value(i);
            i += 1;
        }
    });
    let energy = Tilted::new(MlpEnergy::new(net), DiagGaussian::new([1.5, 0.5]).unwrap());
    let block = CouplingBlock {
        first: AffineCoupling::new([1], [0], 0.5, TinyCond::zeroed(), TinyCond::zeroed()).unwrap(),
        second: AffineCoupling::new([0], [1], 0.75, TinyCond::zeroed(), TinyCond::zeroed())
            .unwrap(),
    };
    let mut flow = RealNvp::new([block], DiagGaussian::new([1.0, 2.0]).unwrap());
    flow.visit_mut(&mut |t| {
        for v in t.iter_mut() {
            *v = value(i);
            i += 1;
        }
    });
    (energy, flow)
}

const METRICS: [(&str, f32); 2] = [("loss", -1.25), ("acceptance", 0.5)];

fn export(encoding: Encoding) -> Export<'static> {
    Export {
        encoding,
        f32_output_layers: false,
        normalization: Normalization {
            shift: F32s::Native(&[0.5, -1.0]),
            scale: F32s::Native(&[2.0, 0.25]),
        },
        sampler: SamplerSpec::new(
            &FlowMcConfig {
                schedule: Schedule {
                    global: GlobalMove::Isir { particles: 8 },
                    mala_steps: 4,
                    rounds: 2,
                },
                adaptation: None,
            },
            0.125,
            32,
        ),
        training: Training {
            dataset: "tiny",
            iterations: 7,
            seed: 42,
            metrics: Bounded::from_slice(&METRICS).unwrap(),
        },
        model_errors: None,
    }
}

fn encode(encoding: Encoding) -> Vec<u8> {
    let (energy, flow) = tiny();
    let mut buf = vec![0u8; 4096];
    let n = encode_energy_flow(&energy, &flow, &export(encoding), &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The committed golden file of `encoding` (rewritten first, once, under `EMBERFLOW_BLESS`).
fn golden(encoding: Encoding) -> (PathBuf, Vec<u8>) {
    static BLESS: std::sync::Once = std::sync::Once::new();
    BLESS.call_once(|| {
        if std::env::var_os("EMBERFLOW_BLESS").is_some() {
            for enc in [Encoding::F32, Encoding::I8] {
                let path = golden_path(&format!("tiny_v2_{}.efm", enc.name()));
                let tmp = path.with_extension("efm.tmp");
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&tmp, encode(enc)).unwrap();
                std::fs::rename(&tmp, &path).unwrap();
            }
        }
    });
    let path = golden_path(&format!("tiny_v2_{}.efm", encoding.name()));
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with EMBERFLOW_BLESS=1)", path.display()));
    (path, bytes)
}

/// Recompute the body length and the CRC of a (modified) file.
fn reseal(bytes: &mut [u8]) {
    let body = (bytes.len() - 14) as u32;
    bytes[6..10].copy_from_slice(&body.to_le_bytes());
    let end = bytes.len() - 4;
    let crc = emberflow_core::model::crc32(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
}

fn offset(file: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - file.as_ptr() as usize
}

#[test]
fn golden_bytes_are_stable() {
    for encoding in [Encoding::F32, Encoding::I8] {
        let (path, bytes) = golden(encoding);
        assert_eq!(
            bytes,
            encode(encoding),
            "{} differs from what this build writes: the format changed (bump FORMAT_VERSION)",
            path.display()
        );
        // magic "EFM\0", version 2 (u16 LE), then the body length (u32 LE)
        assert_eq!(&bytes[..6], b"EFM\0\x02\x00");
        assert_eq!(
            u32::from_le_bytes(bytes[6..10].try_into().unwrap()) as usize,
            bytes.len() - 14
        );
    }
}

#[test]
fn golden_v2_loads() {
    let (_, bytes) = golden(Encoding::F32);
    let view = ModelView::parse(&bytes).unwrap();
    assert_eq!(view.version(), 2);
    let h = view.header();
    assert_eq!(h.kind, ModelKind::EnergyFlow);
    assert_eq!(h.dim, 2);
    assert_eq!(h.training.dataset, "tiny");
    assert_eq!(h.training.metrics.as_slice(), &METRICS);
    assert_eq!(h.sampler.global, GlobalMove::Isir { particles: 8 });
    assert_eq!(h.normalization.scale.to_array::<2>(), Some([2.0, 0.25]));
    assert_eq!(h.tensor_count(), 2 + 4 * 2);
    // The f32 file reproduces the owned model bit for bit.
    let (energy, flow) = tiny();
    let e = view.energy::<2, TinyNetView<'_>>().unwrap();
    let f = view
        .flow::<2, 1, 1, TinyCondView<'_>, TinyCondView<'_>, 1>()
        .unwrap();
    for x in [[0.3f32, -0.7], [2.0, 1.0], [-1.5, 0.0]] {
        assert_eq!(e.energy(&x).to_bits(), energy.energy(&x).to_bits());
        assert_eq!(f.log_density(&x).to_bits(), flow.log_density(&x).to_bits());
    }
}

/// Every tensor's weights, scales and biases start at a multiple of `ALIGN` from the start of
/// the file, in every encoding, and the padding is as short as it can be.
#[test]
fn tensor_data_is_aligned() {
    for encoding in Encoding::ALL {
        let bytes = encode(encoding);
        let view = ModelView::parse(&bytes).unwrap();
        let mut padding = 0;
        let mut previous_end = None;
        for t in view.tensors() {
            let t = t.unwrap();
            for part in [t.weights, t.scales, t.bias] {
                assert_eq!(offset(&bytes, part) % ALIGN, 0, "{encoding} {}", t.slot);
            }
            // rows, cols (< 128 here), the tag, the pad's length and the data's length (< 128)
            let start = offset(&bytes, t.weights);
            if let Some(end) = previous_end {
                let pad = start - end - 5;
                assert!(pad < ALIGN, "{encoding} {}: pad {pad}", t.slot);
                padding += pad;
            }
            previous_end = Some(offset(&bytes, t.bias) + t.bias.len());
        }
        assert!(padding > 0, "{encoding}: the tiny model needs some padding");
    }
}

#[test]
fn golden_v1_is_rejected_as_unsupported() {
    for encoding in [Encoding::F32, Encoding::I8] {
        let path = golden_path(&format!("tiny_v1_{}.efm", encoding.name()));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..6], b"EFM\0\x01\x00");
        let e = ModelView::parse(&bytes).unwrap_err();
        assert_eq!(
            e,
            Error::UnsupportedVersion { found: 1 },
            "a version-{FORMAT_VERSION} reader names version 1 as unsupported"
        );
        assert!(
            e.to_string()
                .contains("unsupported model-file version 1 (this build reads version 2)"),
            "{e}"
        );
    }
}

#[test]
fn unknown_version_is_named() {
    let mut bytes = encode(Encoding::F32);
    bytes[4..6].copy_from_slice(&3u16.to_le_bytes());
    reseal(&mut bytes);
    let e = ModelView::parse(&bytes).unwrap_err();
    assert_eq!(e, Error::UnsupportedVersion { found: 3 });
    assert!(
        e.to_string().contains("unsupported model-file version 3"),
        "{e}"
    );
    // Even a file cut right after the version is reported by version.
    assert_eq!(ModelView::parse(&bytes[..6]).unwrap_err(), e);
}

#[test]
fn envelope_errors() {
    let good = encode(Encoding::I8);
    let parse = |b: &[u8]| ModelView::parse(b).unwrap_err();
    assert_eq!(parse(&[]), Error::EmptyInput);
    assert_eq!(parse(b"EF"), Error::Truncated);
    assert_eq!(parse(b"PK\x03\x04"), Error::BadMagic);
    assert_eq!(parse(b"{\"json\": true}"), Error::BadMagic);
    for cut in [4, 6, 9, 10, 11, good.len() / 2, good.len() - 1] {
        assert_eq!(parse(&good[..cut]), Error::Truncated, "cut at {cut}");
    }
    let mut long = good.clone();
    long.push(0);
    assert_eq!(parse(&long), Error::TrailingBytes);
    for i in [10, 20, good.len() / 2, good.len() - 5, good.len() - 1] {
        let mut flipped = good.clone();
        flipped[i] ^= 0x10;
        assert!(
            matches!(parse(&flipped), Error::ChecksumMismatch { .. }),
            "bit flip at {i}: {:?}",
            parse(&flipped)
        );
    }
    let mut flipped = good.clone();
    flipped[30] ^= 1;
    assert!(parse(&flipped).to_string().starts_with("checksum mismatch"));
}

/// Edit a valid file at `at` (resealing the CRC) and check the error.
fn check_edit(good: &[u8], at: usize, expect_old: Option<u8>, new: &[u8], expected: Error) {
    if let Some(old) = expect_old {
        assert_eq!(good[at], old, "layout assumption at byte {at}");
    }
    let mut b = good.to_vec();
    b[at..at + new.len()].copy_from_slice(new);
    reseal(&mut b);
    assert_eq!(ModelView::parse(&b).unwrap_err(), expected, "edit at {at}");
}

#[test]
fn header_errors() {
    let good = encode(Encoding::I8);
    let view = ModelView::parse(&good).unwrap();
    let h = *view.header();
    // body: kind, dim, Some(energy), input, hidden len, hidden[0], output, activation
    check_edit(
        &good,
        10,
        Some(2),
        &[7],
        Error::UnknownModelKind { found: 7 },
    );
    check_edit(&good, 10, Some(2), &[0], Error::InvalidShape);
    check_edit(&good, 11, Some(2), &[0], Error::InvalidShape);
    check_edit(
        &good,
        17,
        Some(4),
        &[9],
        Error::UnknownActivation { found: 9 },
    );
    let F32s::Le(tilt) = h.energy.unwrap().tilt_sigma else {
        panic!()
    };
    check_edit(
        &good,
        offset(&good, tilt),
        None,
        &(-1.0f32).to_le_bytes(),
        Error::InvalidScale,
    );
    let flow = h.flow.unwrap();
    let emberflow_core::model::U16s::Le(masks) = flow.masks else {
        panic!()
    };
    check_edit(
        &good,
        offset(&good, masks),
        None,
        &[0, 0],
        Error::InvalidMask,
    );
    let F32s::Le(shift) = h.normalization.shift else {
        panic!()
    };
    let nan = f32::NAN.to_le_bytes();
    check_edit(
        &good,
        offset(&good, shift),
        None,
        &nan,
        Error::NonFiniteHeaderValue,
    );
    let F32s::Le(scale) = h.normalization.scale else {
        panic!()
    };
    check_edit(
        &good,
        offset(&good, scale),
        None,
        &[0; 4],
        Error::InvalidScale,
    );
    // sampler: step size (f32), then the global-move tag
    let sampler = offset(&good, scale) + scale.len();
    check_edit(
        &good,
        sampler,
        None,
        &(-0.5f32).to_le_bytes(),
        Error::InvalidSetting,
    );
    check_edit(
        &good,
        sampler + 4,
        Some(2),
        &[5],
        Error::UnknownGlobalMove { found: 5 },
    );
    check_edit(&good, sampler + 5, Some(8), &[1], Error::InvalidSetting);
    // the data-set name must be UTF-8
    let name = offset(&good, h.training.dataset.as_bytes());
    check_edit(&good, name, Some(b't'), &[0xff], Error::MalformedHeader);
    // a metric value follows its name
    let (metric, _) = h.training.metrics.as_slice()[0];
    let value = offset(&good, metric.as_bytes()) + metric.len();
    check_edit(&good, value, None, &nan, Error::NonFiniteHeaderValue);
}

/// The pad length of tensor `t`'s record in `file`: the `k` for which rows, cols, the encoding
/// tag, `k`, `k` zeros and the data length (one byte here) precede the data.
fn pad_len(file: &[u8], t: &emberflow_core::model::TensorView<'_>) -> usize {
    let data = offset(file, t.weights);
    let [rows, cols] = t.slot.shape.map(|v| v as u8);
    (0..ALIGN)
        .find(|&k| {
            let at = data - 5 - k;
            file[at..at + 4] == [rows, cols, t.encoding.tag(), k as u8]
                && file[at + 4..at + 4 + k].iter().all(|&b| b == 0)
        })
        .expect("a tensor record")
}

#[test]
fn tensor_errors() {
    let good = encode(Encoding::I8);
    let view = ModelView::parse(&good).unwrap();
    let tensors: Vec<_> = view.tensors().map(Result::unwrap).collect();
    let t0 = offset(&good, tensors[0].weights);
    // record: rows, cols, encoding, pad length k, k zeros, data length, data (weights…)
    let k = pad_len(&good, &tensors[0]);
    let tag = t0 - 3 - k;
    check_edit(
        &good,
        tag,
        Some(2),
        &[9],
        Error::UnknownEncoding {
            tensor: 0,
            found: 9,
        },
    );
    check_edit(&good, tag, Some(2), &[1], Error::TensorLength { tensor: 0 });
    check_edit(
        &good,
        tag - 2,
        Some(3),
        &[4],
        Error::TensorShape {
            tensor: 0,
            expected: [3, 2],
            found: [4, 2],
        },
    );
    // padding: a non-zero pad byte, a pad that misaligns the data, non-zero bytes between the
    // int8 weights (3 × 2) and the scales
    let malformed = Error::MalformedTensor { tensor: 0 };
    assert_eq!(tensors[0].weights.len(), 6);
    check_edit(&good, t0 + 6, Some(0), &[1], malformed);
    let mut misaligned = good.clone();
    misaligned[t0 - 2 - k] = (k + 1) as u8;
    misaligned.insert(t0 - 1, 0);
    reseal(&mut misaligned);
    assert_eq!(ModelView::parse(&misaligned).unwrap_err(), malformed);
    let mut long_pad = good.clone();
    long_pad[t0 - 2 - k] = (k + ALIGN) as u8;
    for _ in 0..ALIGN {
        long_pad.insert(t0 - 1, 0);
    }
    reseal(&mut long_pad);
    assert_eq!(ModelView::parse(&long_pad).unwrap_err(), malformed);
    let pads: Vec<(usize, usize)> = tensors
        .iter()
        .filter_map(|t| {
            let k = pad_len(&good, t);
            (k > 0).then_some((offset(&good, t.weights) - 1 - k, t.slot.index))
        })
        .collect();
    let &(pad_at, tensor) = pads.first().expect("some tensor has a pad");
    check_edit(
        &good,
        pad_at,
        Some(0),
        &[7],
        Error::MalformedTensor {
            tensor: tensor as u16,
        },
    );
    check_edit(
        &good,
        t0,
        None,
        &[0x80],
        Error::QuantOutOfRange { tensor: 0 },
    );
    let t3 = &tensors[3];
    check_edit(
        &good,
        offset(&good, t3.scales),
        None,
        &[0; 4],
        Error::InvalidQuantScale { tensor: 3 },
    );
    let inf = f32::INFINITY.to_le_bytes();
    check_edit(
        &good,
        offset(&good, t3.bias),
        None,
        &inf,
        Error::NonFiniteWeight { tensor: 3 },
    );
    // f32 weights
    let good32 = encode(Encoding::F32);
    let v32 = ModelView::parse(&good32).unwrap();
    let t1 = v32.tensors().nth(1).unwrap().unwrap();
    check_edit(
        &good32,
        offset(&good32, t1.weights),
        None,
        &inf,
        Error::NonFiniteWeight { tensor: 1 },
    );
    // a body cut inside the last tensor, and a body with a byte too many
    let mut cut = good.clone();
    cut.remove(good.len() - 5);
    reseal(&mut cut);
    assert_eq!(
        ModelView::parse(&cut).unwrap_err(),
        Error::MalformedTensor { tensor: 9 }
    );
    let mut extra = good.clone();
    extra.insert(good.len() - 4, 0);
    reseal(&mut extra);
    assert_eq!(ModelView::parse(&extra).unwrap_err(), Error::TrailingBytes);
}

#[test]
fn wrong_sizes_for_the_requested_type() {
    let good = encode(Encoding::I8);
    let view = ModelView::parse(&good).unwrap();
    type Wrong<'a, const H: usize> = Mlp1View<'a, 2, H, 1, Tanh>;
    assert_eq!(
        view.energy::<3, Mlp1View<'_, 3, 3, 1, Tanh>>().unwrap_err(),
        Error::WrongDimension {
            expected: 3,
            found: 2
        }
    );
    assert_eq!(
        view.energy::<2, Wrong<'_, 4>>().unwrap_err(),
        Error::TensorShape {
            tensor: 0,
            expected: [4, 2],
            found: [3, 2]
        }
    );
    assert_eq!(
        view.energy::<2, Mlp1View<'_, 2, 3, 1, Relu>>().unwrap_err(),
        Error::WrongActivation {
            expected: emberflow_core::ActivationKind::Relu,
            found: emberflow_core::ActivationKind::Tanh
        }
    );
    type Deep<'a> = emberflow_core::model::view::Mlp2View<'a, 2, 3, 3, 1, Tanh>;
    assert_eq!(
        view.energy::<2, Deep<'_>>().unwrap_err(),
        Error::DepthMismatch {
            expected: 3,
            found: 2
        }
    );
    assert_eq!(
        view.flow::<2, 1, 1, TinyCondView<'_>, TinyCondView<'_>, 2>()
            .unwrap_err(),
        Error::WrongBlockCount {
            expected: 2,
            found: 1
        }
    );
    let e = emberflow_core::model::Model2d::decode(&good).unwrap_err();
    assert!(
        matches!(e, Error::DepthMismatch { .. } | Error::TensorShape { .. }),
        "{e}"
    );
    // an energy-only file has no flow
    let (energy, _) = tiny();
    let mut buf = vec![0u8; 2048];
    let n = encode_energy(&energy, &export(Encoding::F32), &mut buf).unwrap();
    let energy_only = ModelView::parse(&buf[..n]).unwrap();
    let e = energy_only
        .flow::<2, 1, 1, TinyCondView<'_>, TinyCondView<'_>, 1>()
        .unwrap_err();
    assert_eq!(
        e,
        Error::WrongModelKind {
            expected: ModelKind::Flow,
            found: ModelKind::Energy
        }
    );
    assert_eq!(
        e.to_string(),
        "the file holds an energy model, a flow was requested"
    );
    assert!(energy_only.energy::<2, TinyNetView<'_>>().is_ok());
}

#[test]
fn encoder_errors() {
    let (mut energy, flow) = tiny();
    assert_eq!(
        encode_energy_flow(&energy, &flow, &export(Encoding::I8), &mut [0u8; 16]).unwrap_err(),
        Error::BufferTooSmall {
            needed: encode(Encoding::I8).len() as u32
        }
    );
    energy.energy.net.second.update(|w, _| w[0][1] = f32::NAN);
    let mut buf = vec![0u8; 4096];
    assert_eq!(
        encode_energy_flow(&energy, &flow, &export(Encoding::F32), &mut buf).unwrap_err(),
        Error::NonFiniteParameter
    );
    let (energy, flow) = tiny();
    let mut bad = export(Encoding::F32);
    bad.normalization.scale = F32s::Native(&[1.0]);
    assert_eq!(
        encode_energy_flow(&energy, &flow, &bad, &mut buf).unwrap_err(),
        Error::InvalidShape
    );
}

/// `ModelView::with_header` (the firmware's start-up path: the header decoded and checked at
/// build time) gives the same model as `parse`, still checks the envelope and the CRC, and never
/// panics, whatever the bytes and the offset.
#[test]
fn with_header_matches_parse_and_checks_the_envelope() {
    for encoding in Encoding::ALL {
        let bytes = encode(encoding);
        let view = ModelView::parse(&bytes).unwrap();
        let again = ModelView::with_header(&bytes, *view.header(), view.tensors_at()).unwrap();
        assert_eq!(again, view, "{encoding}");
        let tensors: Vec<_> = again.tensors().map(Result::unwrap).collect();
        assert_eq!(
            tensors,
            view.tensors().map(Result::unwrap).collect::<Vec<_>>()
        );
        // a corrupted copy is caught by the CRC
        let mut flipped = bytes.clone();
        flipped[view.tensors_at() + 7] ^= 0x04;
        assert!(matches!(
            ModelView::with_header(&flipped, *view.header(), view.tensors_at()),
            Err(Error::ChecksumMismatch { .. })
        ));
        // an offset outside the body, or one that is not a record, gives an error
        for at in [0, 9, bytes.len(), usize::MAX] {
            assert_eq!(
                ModelView::with_header(&bytes, *view.header(), at).unwrap_err(),
                Error::MalformedHeader,
                "{encoding} at {at}"
            );
        }
        for at in [10, 11, view.tensors_at() + 1, bytes.len() - 5] {
            let shifted = ModelView::with_header(&bytes, *view.header(), at).unwrap();
            let e = shifted.energy::<2, TinyNetView<'_>>();
            let f = shifted.flow::<2, 1, 1, TinyCondView<'_>, TinyCondView<'_>, 1>();
            assert!(e.is_err() && f.is_err(), "{encoding} at {at}");
        }
    }
}

/// A view that accepts only some encodings names the others as unknown.
#[test]
fn encoding_sets_reject_other_encodings() {
    use emberflow_core::model::EncodingSet;
    type Int8Only<'a> = Mlp1View<'a, 2, 3, 1, Tanh, EncodingSet<false, false, true>>;
    let f32_file = encode(Encoding::F32);
    let view = ModelView::parse(&f32_file).unwrap();
    assert_eq!(
        view.energy::<2, Int8Only<'_>>().unwrap_err(),
        Error::UnknownEncoding {
            tensor: 0,
            found: Encoding::F32.tag()
        }
    );
    let int8_file = encode(Encoding::I8);
    let view = ModelView::parse(&int8_file).unwrap();
    let only = view.energy::<2, Int8Only<'_>>().unwrap();
    let any = view.energy::<2, TinyNetView<'_>>().unwrap();
    for x in [[0.3f32, -0.7], [2.0, 1.0]] {
        let (mut g1, mut g2) = ([0.0; 2], [0.0; 2]);
        assert_eq!(
            only.energy_and_grad(&x, &mut g1).to_bits(),
            any.energy_and_grad(&x, &mut g2).to_bits()
        );
        assert_eq!(g1, g2);
    }
}

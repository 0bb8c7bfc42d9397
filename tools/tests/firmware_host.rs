//! The host side of the firmware, without QEMU: defmt decoding of a synthetic ELF and byte
//! stream, the `ef:*` protocol, CSV input and output, the build settings and the host run of
//! the shared sampling protocol.
//! (The QEMU run and the bit-for-bit parity with the MCU are checked by `cargo xtask test`.)

use emberflow_core::GlobalMove;
use emberflow_core::mcmc::run::Adapt;
use emberflow_tools::firmware;
use emberflow_train::fs::write_atomically_to;
use firmware::{
    LogFrame, Report, SampleSettings, decode_frames, model_from_bytes, read_model, read_points_csv,
    replace_markdown_section, sample_model, score_model, write_energies_csv, write_samples_csv,
};
use object::write::{Object, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};
use std::path::{Path, PathBuf};

/// The format strings of the synthetic firmware, in table order (index = address in
/// `.defmt`), with their defmt tags. They mirror `firmware/src/wire.rs`.
const TABLE: [(&str, &str); 7] = [
    (
        "defmt_println",
        "ef:begin program=sample d={=u32} chains={=u16}",
    ),
    ("defmt_println", "ef:s c={=u16} i={=u32} x=[{=u32}, {=u32}]"),
    (
        "defmt_println",
        "ef:chain c={=u16} local_proposed={=u64} local_accepted={=u64} global_proposed={=u64} global_accepted={=u64} nonfinite={=u64} step_size={=u32}",
    ),
    (
        "defmt_println",
        "ef:cost kind={=str} unit={=str} count={=u64} total={=u64} min={=u32} max={=u32}",
    ),
    ("defmt_println", "ef:end records={=u64}"),
    ("defmt_error", "invalid build configuration: {=str}"),
    ("defmt_info", "hello {=u32}"),
];

/// A relocatable ARM ELF carrying a defmt table (raw encoding), as `Table::parse` reads it.
fn synthetic_elf() -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
    let section = obj.add_section(Vec::new(), b".defmt".to_vec(), SectionKind::Data);
    obj.append_section_data(section, &[0u8; TABLE.len()], 1);
    for (address, (tag, format)) in TABLE.iter().enumerate() {
        let name = format!(
            r#"{{"package":"emberflow-firmware","tag":"{tag}","data":"{format}","disambiguator":"{address}","crate_name":"sample"}}"#
        );
        obj.add_symbol(Symbol {
            name: name.into_bytes(),
            value: address as u64,
            size: 1,
            kind: SymbolKind::Data,
            scope: SymbolScope::Linkage,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
    }
    for name in ["_defmt_version_ = 4", "_defmt_encoding_ = raw"] {
        obj.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: 1,
            size: 0,
            kind: SymbolKind::Data,
            scope: SymbolScope::Linkage,
            weak: false,
            section: SymbolSection::Absolute,
            flags: SymbolFlags::None,
        });
    }
    obj.write().expect("writing the synthetic ELF")
}

/// Raw-encoded frames: the table index, then the arguments little-endian.
#[derive(Default)]
struct Stream(Vec<u8>);

impl Stream {
    fn frame(&mut self, index: u16) -> &mut Self {
        self.0.extend_from_slice(&index.to_le_bytes());
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
}

/// Values that must survive the trip bit for bit (a negative zero, a subnormal, extremes).
const XS: [[f32; 2]; 3] = [[0.5, -1.25], [-0.0, 1.0e-40], [f32::MAX, -3.402_823_5e-38]];

fn good_run() -> Stream {
    let mut s = Stream::default();
    s.frame(6).u32(7);
    s.frame(0).u32(2).u16(1);
    for (i, x) in XS.iter().enumerate() {
        s.frame(1)
            .u16(0)
            .u32(i as u32)
            .u32(x[0].to_bits())
            .u32(x[1].to_bits());
    }
    s.frame(2).u16(0).u64(30).u64(27).u64(3).u64(2).u64(1);
    s.u32(0.125f32.to_bits());
    s.frame(3)
        .str("mala")
        .str("insns")
        .u64(30)
        .u64(3_000_000)
        .u32(99_000)
        .u32(101_000);
    s.frame(4).u64(XS.len() as u64);
    s
}

#[test]
fn decodes_frames_with_levels() {
    let elf = synthetic_elf();
    let frames = decode_frames(&elf, &good_run().0).unwrap();
    assert_eq!(frames.len(), 8);
    assert_eq!(
        frames[0],
        LogFrame {
            level: Some("info"),
            message: "hello 7".into()
        }
    );
    assert_eq!(frames[0].to_string(), "INFO  hello 7");
    assert_eq!(frames[1].level, None);
    assert_eq!(frames[1].message, "ef:begin program=sample d=2 chains=1");
    assert_eq!(
        frames[2].message,
        format!(
            "ef:s c=0 i=0 x=[{}, {}]",
            0.5f32.to_bits(),
            (-1.25f32).to_bits()
        )
    );
}

/// `emberflow firmware decode`: the frames of a captured run, one a line, then its summary.
#[test]
fn the_decode_command_prints_the_frames_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (elf, input) = (dir.path().join("fw.elf"), dir.path().join("run.bin"));
    std::fs::write(&elf, synthetic_elf()).unwrap();
    std::fs::write(&input, good_run().0).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emberflow"))
        .args(["firmware", "decode", "--elf"])
        .arg(&elf)
        .arg("--input")
        .arg(&input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let frames = decode_frames(&synthetic_elf(), &good_run().0).unwrap();
    let expected: String = frames.iter().map(|f| format!("{f}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    assert!(
        stderr.contains("3 samples from 1 chains (d = 2)"),
        "{stderr}"
    );
}

#[test]
fn a_truncated_stream_keeps_the_complete_frames() {
    let elf = synthetic_elf();
    let bytes = good_run().0;
    let frames = decode_frames(&elf, &bytes[..bytes.len() - 3]).unwrap();
    assert_eq!(frames.len(), 7);
    let err = Report::parse(&frames).unwrap_err().to_string();
    assert!(err.contains("before `ef:end`"), "{err}");
}

#[test]
fn an_elf_without_defmt_is_rejected() {
    let obj = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
    let err = decode_frames(&obj.write().unwrap(), &[]).unwrap_err();
    assert!(format!("{err:#}").contains("no defmt table"), "{err:#}");
}

#[test]
fn report_keeps_every_bit_and_the_counts() {
    let frames = decode_frames(&synthetic_elf(), &good_run().0).unwrap();
    let report = Report::parse(&frames).unwrap();
    assert_eq!(report.dim, 2);
    assert_eq!(report.samples.len(), XS.len());
    for (s, x) in report.samples.iter().zip(XS) {
        assert_eq!(s.x.len(), 2);
        assert_eq!(s.x[0].to_bits(), x[0].to_bits());
        assert_eq!(s.x[1].to_bits(), x[1].to_bits());
    }
    assert_eq!(report.log.len(), 1);
    let c = report.chains[0];
    assert_eq!(
        (
            c.local_proposed,
            c.local_accepted,
            c.global_proposed,
            c.global_accepted,
            c.nonfinite
        ),
        (30, 27, 3, 2, 1)
    );
    assert_eq!(c.step_size, 0.125);
    assert!((report.local_acceptance() - 0.9).abs() < 1e-12);
    let mala = report.cost("mala").unwrap();
    assert_eq!((mala.unit.as_str(), mala.mean()), ("insns", 100_000.0));
    let summary = report.summary();
    assert!(summary.contains("MALA acceptance 0.900"), "{summary}");
}

#[test]
fn an_error_frame_fails_the_report_with_its_message() {
    let mut s = good_run();
    s.frame(5)
        .str("EMBERFLOW_CHAINS=\"0\": expected an integer in 1..=65535");
    let frames = decode_frames(&synthetic_elf(), &s.0).unwrap();
    let err = Report::parse(&frames).unwrap_err().to_string();
    assert!(err.contains("EMBERFLOW_CHAINS"), "{err}");
}

#[test]
fn a_record_count_mismatch_is_an_error() {
    let mut s = Stream::default();
    s.frame(0).u32(2).u16(1);
    s.frame(1).u16(0).u32(0).u32(0).u32(0);
    s.frame(4).u64(2);
    let frames = decode_frames(&synthetic_elf(), &s.0).unwrap();
    let err = Report::parse(&frames).unwrap_err().to_string();
    assert!(err.contains("2 records"), "{err}");
}

#[test]
fn csv_round_trips_exact_values() {
    let frames = decode_frames(&synthetic_elf(), &good_run().0).unwrap();
    let report = Report::parse(&frames).unwrap();
    let mut out = Vec::new();
    write_samples_csv(&mut out, 2, &report.samples).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("chain,index,x0,x1"));
    assert_eq!(lines.next(), Some("0,0,0.5,-1.25"));
    for (line, x) in lines.zip(XS.iter().skip(1)) {
        let v: Vec<f32> = line
            .split(',')
            .skip(2)
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(v[0].to_bits(), x[0].to_bits(), "{line}");
        assert_eq!(v[1].to_bits(), x[1].to_bits(), "{line}");
    }

    let scores = vec![firmware::Score {
        index: 0,
        x: vec![1.0, 2.0],
        energy: 3.5,
    }];
    let mut out = Vec::new();
    write_energies_csv(&mut out, 2, &scores, None).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "index,x0,x1,energy\n0,1,2,3.5\n"
    );

    // with a threshold: the anomaly column, strictly above it (and a NaN energy) flagged
    let scores: Vec<firmware::Score> = [3.5, 2.0, 2.5, f32::NAN]
        .iter()
        .enumerate()
        .map(|(k, &energy)| firmware::Score {
            index: k as u32,
            x: vec![0.0],
            energy,
        })
        .collect();
    let mut out = Vec::new();
    write_energies_csv(&mut out, 1, &scores, Some(2.5)).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "index,x0,energy,anomaly\n0,0,3.5,1\n1,0,2,0\n2,0,2.5,0\n3,0,NaN,1\n"
    );
}

fn committed(encoding: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(format!("four_modes_2d_{encoding}.efm"))
}

#[test]
fn settings_become_build_variables() {
    let s = SampleSettings {
        global: Some(GlobalMove::Isir { particles: 8 }),
        step_size: Some(0.1),
        adapt: Some(Adapt::Off),
        ..SampleSettings::default()
    };
    let env = s.env();
    let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    assert_eq!(get("EMBERFLOW_GLOBAL").as_deref(), Some("isir:8"));
    assert_eq!(get("EMBERFLOW_ADAPT").as_deref(), Some("off"));
    // shortest round-trip form: the firmware's build script parses the same bits
    assert_eq!(
        get("EMBERFLOW_STEP_SIZE").unwrap().parse::<f32>().unwrap(),
        0.1f32
    );
    // what is not overridden is not passed: the firmware keeps the model's setting
    assert_eq!(get("EMBERFLOW_MALA_STEPS"), None);
    assert_eq!(get("EMBERFLOW_ROUNDS"), None);
    let model = read_model(&committed("f32")).unwrap();
    let p = SampleSettings::default().protocol(&model.sampler).unwrap();
    assert_eq!(p.schedule.global, GlobalMove::Isir { particles: 64 });
    assert_eq!((p.schedule.mala_steps, p.schedule.rounds), (24, 1));
    assert_eq!(p.step_size, model.sampler.step_size);
    for bad in [
        SampleSettings {
            chains: 0,
            ..SampleSettings::default()
        },
        SampleSettings {
            global: Some(GlobalMove::None),
            mala_steps: Some(0),
            ..SampleSettings::default()
        },
        SampleSettings {
            step_size: Some(-1.0),
            ..SampleSettings::default()
        },
    ] {
        assert!(bad.protocol(&model.sampler).is_err(), "{bad:?}");
    }
}

#[test]
fn the_host_protocol_is_deterministic_in_data_units() {
    let s = SampleSettings {
        chains: 2,
        n: 5,
        warmup: 2,
        global: Some(GlobalMove::Isir { particles: 4 }),
        mala_steps: Some(2),
        rounds: Some(1),
        ..SampleSettings::default()
    };
    let model = read_model(&committed("int8")).unwrap();
    let a = sample_model(&model, &s).unwrap();
    let b = sample_model(&model, &s).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.samples.len(), 10);
    assert_eq!((a.samples[5].chain, a.samples[5].index), (1, 0));
    assert!(a.samples.iter().all(|s| s.x.iter().all(|v| v.is_finite())));
    assert_eq!(a.chains[0].local_proposed, 2 * 5);
    assert_eq!(a.chains[0].global_proposed, 5);
    let c = sample_model(&model, &SampleSettings { seed: 1, ..s }).unwrap();
    assert_ne!(a.samples, c.samples);
    // the four modes sit at x0 = -3, -1, 1, 3 in data units (x1 near 0): the samples are
    // mapped back from the model's normalised space
    let spread = a
        .samples
        .iter()
        .map(|s| s.x[0].abs())
        .fold(0.0f32, f32::max);
    assert!(spread > 1.5, "{spread}");
    let u = score_model(&model, &[vec![0.0, 0.0], vec![1.0, -1.0]]).unwrap();
    assert!(u.iter().all(|v| v.is_finite()));
    assert!(score_model(&model, &[vec![0.0]]).is_err());
}

#[test]
fn model_files_are_checked() {
    let good = std::fs::read(committed("f32")).unwrap();
    let model = model_from_bytes(good.clone(), PathBuf::new()).unwrap();
    assert_eq!(model.dim, 2);
    let mut flipped = good.clone();
    flipped[2000] ^= 1;
    let err = format!(
        "{:#}",
        model_from_bytes(flipped, PathBuf::new()).unwrap_err()
    );
    assert!(err.contains("not a valid model file"), "{err}");
    assert!(err.contains("checksum"), "{err}");
    let err = format!(
        "{:#}",
        read_model(Path::new("/nonexistent/m.efm")).unwrap_err()
    );
    assert!(err.contains("cannot read /nonexistent/m.efm"), "{err}");
}

#[test]
fn points_csv_with_and_without_header() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let plain = write("plain.csv", "1,2\n\n-0.5, 3e-2\n");
    assert_eq!(
        read_points_csv(&plain, 2).unwrap(),
        vec![vec![1.0, 2.0], vec![-0.5, 0.03]]
    );
    // a samples file: the x0, x1 columns are read, chain and index ignored
    let samples = write("samples.csv", "chain,index,x0,x1\n0,0,0.5,-1.25\n1,3,2,4\n");
    assert_eq!(
        read_points_csv(&samples, 2).unwrap(),
        vec![vec![0.5, -1.25], vec![2.0, 4.0]]
    );
    let other_header = write("h.csv", "a,b\n1,2\n");
    assert_eq!(
        read_points_csv(&other_header, 2).unwrap(),
        vec![vec![1.0, 2.0]]
    );
    for (name, text, needle) in [
        ("wide.csv", "1,2,3\n", ":1: 3 values, expected 2"),
        (
            "nan.csv",
            "x0,x1\n1,NaN\n",
            ":2, column 2: `NaN` is not a finite number",
        ),
        ("word.csv", "1,2\n1,oops\n", ":2, column 2: `oops`"),
        (
            "short.csv",
            "chain,index,x0,x1\n0,0,1\n",
            ":2, column 4: `` is not a finite",
        ),
    ] {
        let err = read_points_csv(&write(name, text), 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{name}: {err}");
    }
}

#[test]
fn files_are_replaced_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    std::fs::write(&out, "old").unwrap();
    let out_str = out.to_str().unwrap();
    // a failing writer leaves the old file and no temporary behind
    let err = write_atomically_to(out_str, |w| {
        w.write_all(b"partial")?;
        anyhow::bail!("disk full")
    });
    assert!(err.is_err());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    write_atomically_to(out_str, |w| Ok(w.write_all(b"new")?)).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn markdown_sections_are_replaced_in_place() {
    let doc = "# Benchmarks\n\n## Core\n\nfast\n\n## Firmware\n\nold\n\n## Other\n\nkept\n";
    let new = replace_markdown_section(doc, "## Firmware", "## Firmware\n\nnew\n");
    assert_eq!(
        new,
        "# Benchmarks\n\n## Core\n\nfast\n\n## Firmware\n\nnew\n\n## Other\n\nkept\n"
    );
    let appended = replace_markdown_section("# Benchmarks\n", "## Firmware", "## Firmware\n\nx");
    assert_eq!(appended, "# Benchmarks\n\n## Firmware\n\nx\n");
}

/// The decoder reads every number with `from_le_bytes`: a model file at an odd address (as
/// `include_bytes!` may place it in flash) decodes to the same weights and the same energies.
#[test]
fn a_model_at_an_odd_address_decodes_the_same() {
    use emberflow_core::Energy;
    use emberflow_core::model::Model2d;
    for encoding in ["f32", "int16", "int8"] {
        let bytes = std::fs::read(committed(encoding)).unwrap();
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(&bytes);
        let (a, b) = (&bytes[..], &shifted[1..]);
        assert_ne!(a.as_ptr() as usize % 2, b.as_ptr() as usize % 2);
        let (ma, mb) = (Model2d::decode(a).unwrap(), Model2d::decode(b).unwrap());
        for k in 0..50 {
            let x = [k as f32 * 0.13 - 3.0, 1.5 - k as f32 * 0.07];
            assert_eq!(
                ma.energy.energy(&x).to_bits(),
                mb.energy.energy(&x).to_bits(),
                "{encoding}"
            );
        }
    }
}

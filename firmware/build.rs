//! Selects the memory map of the board family chosen by a `board-*` feature and puts it on the
//! linker search path as `memory.x` (cortex-m-rt's `link.x` includes it).
//!
//! It copies the model file named by `EMBERFLOW_MODEL` (default: the committed
//! `../models/four_modes_2d_f32.efm`; a relative path is taken from this directory) to
//! `$OUT_DIR/model.efm`, which `src/model.rs` compiles in with `include_bytes!`, checks it
//! completely (`ModelView::parse`, then its run-time shaped networks, `FileModel::from_view`)
//! and writes `$OUT_DIR/model_meta.rs`: the model's dimension, its couplings and the floats of
//! the static buffers the protocol needs for it (`FileModel::storage_len`,
//! `mcmc::run::run_len`, `score_len`), the bounds of the static model it is read into (its
//! couplings and the layers of its energy and its conditioners), the set of
//! weight encodings of its tensors (only their kernels get compiled in), its CRC-32, where its
//! tensors start and its header as Rust code over the compiled-in bytes, so the firmware needs
//! no header decoder or validation (`ModelView::with_header` checks the CRC at start-up). A
//! file that is not a valid model still builds (with a warning, as a 2-D model): the firmware
//! reports the build's error at start-up and stops with a defmt error. A valid model that does
//! not fit the board's memory map fails the build, stating the needed and the available flash
//! and RAM: flash for the file, the model's networks (`.data`) and the code; RAM for the
//! buffers, the networks and the stack (`cargo xtask test` checks this with a model too big
//! for the STM32F4's flash).
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
    let map = fs::read(file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    model(file, &String::from_utf8_lossy(&map));
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

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), map).expect("cannot write memory.x to OUT_DIR");
    // cortex-m-rt's `device` feature includes `device.x` (a device crate's handler names);
    // the firmware's own `__INTERRUPTS` names none, so it is empty.
    fs::write(
        out.join("device.x"),
        "/* no device interrupt handlers: see __INTERRUPTS in src/lib.rs */\n",
    )
    .expect("cannot write device.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    for (_, file) in BOARDS {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// Flash the programs take besides the model file and the model's place (their code, constants
/// and vector table: 25–28 KiB measured by `cargo xtask bench-firmware`, with a margin).
const CODE_FLASH: usize = 40 * 1024;
/// Stack the programs take (about 1.6 KiB measured for the 2-D models and less for d = 16, with
/// a margin): the buffers that grow with the model are static, and the model is read in place,
/// so the stack does not grow with it.
const STACK_RAM: usize = 4 * 1024;

/// Bytes of the firmware's model (`FileModel` with the model's bounds: `C` couplings, `LE`
/// energy layers, `LF` conditioner layers) on the 32-bit target, where a layer takes 16 bytes:
/// the energy network (`16·LE + 8`) with its tilt (12), every coupling's masks and scale (28)
/// and two networks (`16·LF + 8` each), and the flow's base (24). It lives in `.data`: once in
/// flash, once in RAM.
fn model_place(sizes: &Sizes) -> usize {
    let net = |layers: usize| 16 * layers + 8;
    net(sizes.energy_layers) + 12 + sizes.couplings * (28 + 2 * net(sizes.conditioner_layers)) + 24
}

/// `LENGTH` of the memory region `region` in a memory map (`1024K`, `4M` or a number).
fn region_len(map: &str, region: &str) -> Option<usize> {
    let line = map
        .lines()
        .find(|l| l.trim_start().starts_with(region) && l.contains("LENGTH"))?;
    let len = line
        .split("LENGTH")
        .nth(1)?
        .trim_start_matches([' ', '='])
        .trim();
    let digits: String = len.chars().take_while(char::is_ascii_digit).collect();
    let n: usize = digits.parse().ok()?;
    Some(match len[digits.len()..].trim().chars().next() {
        Some('K') => n * 1024,
        Some('M') => n * 1024 * 1024,
        _ => n,
    })
}

/// The flash and the RAM the programs need for the model: the model file, the model's place
/// and the code; the static buffers, the model's place and the stack.
fn needs(model_bytes: usize, sizes: &Sizes) -> (usize, usize) {
    let place = model_place(sizes);
    let buffers = 4 * (sizes.storage + sizes.run.max(sizes.score));
    (
        model_bytes + place + CODE_FLASH,
        buffers + place + STACK_RAM,
    )
}

/// Fail the build when the model does not fit the memory map `file` (text `map`): the flash and
/// the RAM it needs ([`needs`]) against the map's `FLASH` and `RAM` lengths, both stated.
fn check_fit(file: &str, map: &str, model_bytes: usize, sizes: &Sizes) {
    let (flash, ram) = needs(model_bytes, sizes);
    let (Some(flash_len), Some(ram_len)) = (region_len(map, "FLASH"), region_len(map, "RAM"))
    else {
        fail(&format!("{file}: no FLASH and RAM regions with a LENGTH"));
    };
    if flash > flash_len || ram > ram_len {
        let place = model_place(sizes);
        let buffers = ram - place - STACK_RAM;
        fail(&format!(
            "the model does not fit {file}: it needs about {flash} B of flash ({model_bytes} B \
             model file + {place} B of networks + {CODE_FLASH} B of code) and {ram} B of RAM \
             ({buffers} B of buffers + {place} B of networks + {STACK_RAM} B of stack); the \
             memory map has {flash_len} B of flash and {ram_len} B of RAM"
        ));
    }
}

/// Stop the build with `message` (cargo shows the build script's standard error).
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

/// Copy the model file into `OUT_DIR` and describe it in `model_meta.rs`; fail the build if it
/// does not fit the memory map `file` (text `map`).
fn model(file: &str, map: &str) {
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
    let meta = match check_model(&bytes) {
        Ok((meta, sizes)) => {
            check_fit(file, map, bytes.len(), &sizes);
            meta
        }
        Err(e) => {
            println!(
                "cargo:warning={} is not a valid model file ({e}); the firmware will report it at \
                 start-up",
                path.display()
            );
            invalid_meta(&format!("{e:?}"))
        }
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("model.efm"), &bytes).expect("cannot write model.efm to OUT_DIR");
    fs::write(out.join("model_meta.rs"), meta).expect("cannot write model_meta.rs to OUT_DIR");
}

/// What the program needs for the model: its networks' couplings and the floats of its
/// static buffers.
struct Sizes {
    /// Couplings of the flow.
    couplings: usize,
    /// Dense layers of the energy network.
    energy_layers: usize,
    /// Dense layers of a flow conditioner (the deepest).
    conditioner_layers: usize,
    /// `FileModel::storage_len`.
    storage: usize,
    /// `mcmc::run::run_len`.
    run: usize,
    /// `mcmc::run::score_len`.
    score: usize,
}

/// The whole check of the firmware's start-up, done here: the file (`ModelView::parse`) and
/// the run-time shaped networks the firmware builds from it (`FileModel::from_view`), with the
/// sizes of the buffers the protocol needs for them.
fn check_model(bytes: &[u8]) -> Result<(String, Sizes), emberflow_core::Error> {
    use emberflow_core::mcmc::run::{run_len, score_len};
    use emberflow_core::runtime::FileModel;
    let view = emberflow_core::ModelView::parse(bytes)?;
    let d = usize::from(view.header().dim);
    let mut storage =
        vec![0.0f32; FileModel::<'_, emberflow_core::model::AnyEncoding, 32>::storage_len(d)];
    let model =
        FileModel::<'_, emberflow_core::model::AnyEncoding, 32>::from_view(&view, &mut storage)?;
    let (energy, flow) = model.joint().ok_or(emberflow_core::Error::WrongModelKind {
        expected: emberflow_core::ModelKind::EnergyFlow,
        found: view.header().kind,
    })?;
    let sizes = Sizes {
        couplings: flow.couplings().len(),
        energy_layers: energy.net().layers().len(),
        conditioner_layers: flow
            .couplings()
            .iter()
            .flat_map(|c| [&c.scale_net, &c.shift_net])
            .map(|n| n.layers().len())
            .max()
            .unwrap_or(0),
        storage: FileModel::<'_, emberflow_core::model::AnyEncoding, 32>::storage_len(d),
        run: run_len(energy, flow),
        score: score_len(energy),
    };
    Ok((valid_meta(bytes, &view, &sizes), sizes))
}

/// `model_meta.rs` of a file the build rejected: the firmware reports `error` at start-up.
fn invalid_meta(error: &str) -> String {
    format!(
        "/// The dimension the firmware is built for (the file is invalid: 2).\n\
         pub const D: usize = 2;\n\
         /// Why the build rejected the model file.\n\
         pub const BUILD_ERROR: Option<&str> = Some({error:?});\n\
         /// The weight encodings of the file's tensors.\n\
         pub type Encodings = emberflow_core::model::EncodingSet<true, false, false>;\n\
         /// The name of the first tensor's weight encoding (none).\n\
         pub const ENCODING: &str = \"no\";\n\
         /// The file's CRC-32 (none).\n\
         pub const CRC: u32 = 0;\n\
         /// Offset of the first tensor record (none).\n\
         pub const TENSORS_AT: usize = 0;\n\
         /// The file's header (none).\n\
         pub static HEADER: Option<emberflow_core::model::Header<'static>> = None;\n\
         /// Couplings of the flow (none).\n\
         pub const COUPLINGS: usize = 0;\n\
         /// Dense layers of the energy network (none).\n\
         pub const ENERGY_LAYERS: usize = 0;\n\
         /// Dense layers of a flow conditioner (none).\n\
         pub const CONDITIONER_LAYERS: usize = 0;\n\
         /// Bytes of the model's networks on the target (at least `size_of::<Model>()`).\n\
         pub const MODEL_PLACE: usize = {place};\n\
         /// Floats of the networks' storage (σ and 1/σ).\n\
         pub const STORAGE_LEN: usize = 0;\n\
         /// Floats of the sampling buffer.\n\
         pub const RUN_LEN: usize = 0;\n\
         /// Floats of the scoring buffer.\n\
         pub const SCORE_LEN: usize = 0;\n",
        place = model_place(&Sizes {
            couplings: 0,
            energy_layers: 0,
            conditioner_layers: 0,
            storage: 0,
            run: 0,
            score: 0,
        })
    )
}

/// `f32::from_bits(…)`: the exact value.
fn f32_expr(x: f32) -> String {
    format!("f32::from_bits({:#010x})", x.to_bits())
}

/// The offset range of `part` within `file`, as a constant slice of the compiled-in file.
fn slice_expr(file: &[u8], part: &[u8]) -> String {
    let start = part.as_ptr() as usize - file.as_ptr() as usize;
    format!("part(&ALIGNED.bytes, {start}, {})", start + part.len())
}

fn f32s_expr(file: &[u8], list: &emberflow_core::model::F32s<'_>) -> String {
    match list {
        emberflow_core::model::F32s::Le(b) => format!("F32s::Le({})", slice_expr(file, b)),
        emberflow_core::model::F32s::Native(_) => unreachable!("a decoded file borrows its lists"),
    }
}

fn u16s_expr(file: &[u8], list: &emberflow_core::model::U16s<'_>) -> String {
    match list {
        emberflow_core::model::U16s::Le(b) => format!("U16s::Le({})", slice_expr(file, b)),
        emberflow_core::model::U16s::Native(_) => unreachable!("a decoded file borrows its lists"),
    }
}

fn bounded_expr<T: std::fmt::Debug>(items: &[T], unused: &str) -> String {
    format!("Bounded::from_array({items:?}, {unused})")
}

/// `model_meta.rs` of a valid file: its dimension, encodings, CRC, where its tensors start
/// and its header as a constant over the compiled-in bytes (so the firmware needs no header
/// decoder: `ModelView::with_header`).
fn valid_meta(file: &[u8], view: &emberflow_core::ModelView<'_>, sizes: &Sizes) -> String {
    use emberflow_core::model::Encoding;
    let h = view.header();
    let mut enc = [false; 3];
    for t in view.tensors().flatten() {
        enc[match t.encoding {
            Encoding::F32 => 0,
            Encoding::I16 => 1,
            Encoding::I8 => 2,
        }] = true;
    }
    let net = |n: &emberflow_core::model::NetSpec| {
        format!(
            "NetSpec {{ input: {}, hidden: {}, output: {}, activation: ActivationKind::{:?} }}",
            n.input,
            bounded_expr(n.hidden.as_slice(), "0"),
            n.output,
            n.activation
        )
    };
    let energy = h.energy.map_or("None".to_string(), |e| {
        format!(
            "Some(EnergySpec {{ net: {}, tilt_sigma: {} }})",
            net(&e.net),
            f32s_expr(file, &e.tilt_sigma)
        )
    });
    let flow = h.flow.map_or("None".to_string(), |f| {
        format!(
            "Some(FlowSpec {{ blocks: {}, split: {}, hidden: {}, activation: ActivationKind::{:?}, \
             masks: {}, scale_factors: {}, base_sigma: {} }})",
            f.blocks,
            f.split,
            bounded_expr(f.hidden.as_slice(), "0"),
            f.activation,
            u16s_expr(file, &f.masks),
            f32s_expr(file, &f.scale_factors),
            f32s_expr(file, &f.base_sigma)
        )
    });
    let s = &h.sampler;
    let adaptation = s.adaptation.map_or("None".to_string(), |a| {
        format!(
            "Some(Adaptation {{ target: {}, factor: {}, tolerance: {}, smoothing: {}, max_step: {} }})",
            f32_expr(a.target),
            f32_expr(a.factor),
            f32_expr(a.tolerance),
            f32_expr(a.smoothing),
            f32_expr(a.max_step)
        )
    });
    let metrics: Vec<String> = h
        .training
        .metrics
        .as_slice()
        .iter()
        .map(|(name, v)| format!("({name:?}, {})", f32_expr(*v)))
        .collect();
    let q = &h.quant;
    let model_errors = q.model.map_or("None".to_string(), |m| {
        format!(
            "Some(ModelErrors {{ points: {}, energy_max_abs: {}, energy_rms: {}, \
             log_density_max_abs: {}, log_density_rms: {} }})",
            m.points,
            f32_expr(m.energy_max_abs),
            f32_expr(m.energy_rms),
            f32_expr(m.log_density_max_abs),
            f32_expr(m.log_density_rms)
        )
    });
    format!(
        "/// The dimension of the compiled-in model (from its header).\n\
         pub const D: usize = {dim};\n\
         /// Why the build rejected the model file (it did not).\n\
         pub const BUILD_ERROR: Option<&str> = None;\n\
         /// The weight encodings of the file's tensors (only their kernels are compiled in).\n\
         pub type Encodings = emberflow_core::model::EncodingSet<{f32}, {i16}, {i8}>;\n\
         /// The name of the first tensor's weight encoding (`no` for a file of none).\n\
         pub const ENCODING: &str = {encoding:?};\n\
         /// The file's CRC-32.\n\
         pub const CRC: u32 = {crc:#010x};\n\
         /// Couplings of the flow.\n\
         pub const COUPLINGS: usize = {couplings};\n\
         /// Dense layers of the energy network.\n\
         pub const ENERGY_LAYERS: usize = {energy_layers};\n\
         /// Dense layers of a flow conditioner (the deepest).\n\
         pub const CONDITIONER_LAYERS: usize = {conditioner_layers};\n\
         /// Bytes of the model's networks on the target (at least `size_of::<Model>()`).\n\
         pub const MODEL_PLACE: usize = {place};\n\
         /// Floats of the networks' storage (σ and 1/σ; `FileModel::storage_len`).\n\
         pub const STORAGE_LEN: usize = {storage};\n\
         /// Floats of the sampling buffer (`mcmc::run::run_len`).\n\
         pub const RUN_LEN: usize = {run};\n\
         /// Floats of the scoring buffer (`mcmc::run::score_len`).\n\
         pub const SCORE_LEN: usize = {score};\n\
         /// Offset of the first tensor record.\n\
         pub const TENSORS_AT: usize = {tensors_at};\n\
         /// The file's header, as the build script decoded and checked it, its lists borrowed\n\
         /// from the compiled-in file (a constant in flash: no code builds it).\n\
         #[rustfmt::skip]\n\
         pub static HEADER: Option<emberflow_core::model::Header<'static>> = {{\n    \
             use emberflow_core::model::*;\n    \
             use emberflow_core::{{ActivationKind, Adaptation, GlobalMove, ModelKind}};\n    \
             Some(Header {{\n        \
                 kind: ModelKind::{kind:?},\n        \
                 dim: {dim},\n        \
                 energy: {energy},\n        \
                 flow: {flow},\n        \
                 normalization: Normalization {{ shift: {shift}, scale: {scale} }},\n        \
                 sampler: SamplerSpec {{ step_size: {step}, global: GlobalMove::{global:?}, \
                 mala_steps: {mala_steps}, rounds: {rounds}, chains: {chains}, adaptation: {adaptation} }},\n        \
                 training: Training {{ dataset: {dataset:?}, iterations: {iterations}, seed: {seed}, \
                 metrics: Bounded::from_array([{metrics}], (\"\", 0.0)) }},\n        \
                 quant: QuantStats {{ quantized_weights: {qw}, max_abs_error: {qmax}, rms_error: {qrms}, \
                 max_error_over_scale: {qover}, model: {model_errors} }},\n    \
             }})\n\
         }};\n",
        dim = h.dim,
        f32 = enc[0],
        i16 = enc[1],
        i8 = enc[2],
        crc = view.crc(),
        encoding = view
            .tensors()
            .next()
            .and_then(Result::ok)
            .map_or("no", |t| t.encoding.name()),
        couplings = sizes.couplings,
        energy_layers = sizes.energy_layers,
        conditioner_layers = sizes.conditioner_layers,
        place = model_place(sizes),
        storage = sizes.storage,
        run = sizes.run,
        score = sizes.score,
        tensors_at = view.tensors_at(),
        kind = h.kind,
        shift = f32s_expr(file, &h.normalization.shift),
        scale = f32s_expr(file, &h.normalization.scale),
        step = f32_expr(s.step_size),
        global = s.global,
        mala_steps = s.mala_steps,
        rounds = s.rounds,
        chains = s.chains,
        dataset = h.training.dataset,
        iterations = h.training.iterations,
        seed = h.training.seed,
        metrics = metrics.join(", "),
        qw = q.quantized_weights,
        qmax = f32_expr(q.max_abs_error),
        qrms = f32_expr(q.rms_error),
        qover = f32_expr(q.max_error_over_scale),
    )
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

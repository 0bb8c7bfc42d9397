//! The compiled-in model file, read in place.
//!
//! `build.rs` copies the file named by `EMBERFLOW_MODEL` at build time (default: the committed
//! `models/four_modes_2d_f32.efm`) to `$OUT_DIR/model.efm`; [`BYTES`] is that file, placed in
//! flash by `include_bytes!` at a 16-byte aligned address, so the kernels read the f32 and
//! int16 weights (4-byte aligned within the file, format version 2) as `&[f32]` / `&[i16]`
//! with one load each.
//!
//! The build script also checks the file completely (envelope, CRC, header, every tensor's
//! shape and values, the run-time shaped networks `FileModel::from_view` builds from it), and
//! writes what the firmware needs into `$OUT_DIR/model_meta.rs`: the dimension [`D`], the
//! bounds of the networks ([`COUPLINGS`], [`ENERGY_LAYERS`], [`CONDITIONER_LAYERS`]: exactly
//! the model's, so no slot is unused) and their size on the target ([`MODEL_PLACE`]), the
//! floats of the static buffers ([`STORAGE_LEN`], [`RUN_LEN`], [`SCORE_LEN`]), the set of
//! weight encodings [`Encodings`] (only their kernels are compiled in) and the name of the
//! file's ([`ENCODING`]), the CRC-32, where the tensors start, and the header as a constant
//! over [`BYTES`]. At start-up [`load`] checks the envelope and the CRC again
//! (`ModelView::with_header`: a corrupted copy in flash is reported) and reads the networks in
//! place into a static (`FileModel::read`); the header decoder and the validation stay out of
//! flash. A file the build rejected is reported at start-up with the build's error. The
//! weights are never copied to RAM; the networks' views of them (16 bytes a layer: 988 bytes
//! for the 2-D models) are, once, and never pass through the stack.
//!
//! Any model shape within the run-time limits (`emberflow_core::runtime`) that fits the
//! board's memory compiles in.

use crate::{EXIT_CONFIG, exit};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use emberflow_core::model::{Header, ModelView};
use emberflow_core::runtime::FileModel;
use emberflow_core::{Error, ModelKind};

include!(concat!(env!("OUT_DIR"), "/model_meta.rs"));

/// Bytes placed at an address aligned like `A` (a zero-length array of `A` sets the alignment
/// of the `repr(C)` struct without taking space).
#[repr(C)]
struct AlignedAs<A, B: ?Sized> {
    _align: [A; 0],
    bytes: B,
}

/// The model file at a 16-byte aligned address, so that its tensors, aligned to 4 bytes from
/// the start of the file (format version 2), are aligned in memory too.
static ALIGNED: AlignedAs<u128, [u8; LEN]> = AlignedAs {
    _align: [],
    bytes: *include_bytes!(concat!(env!("OUT_DIR"), "/model.efm")),
};

/// Bytes in the model file.
const LEN: usize = include_bytes!(concat!(env!("OUT_DIR"), "/model.efm")).len();

/// `bytes[start..end]`, in a constant (the generated [`HEADER`] borrows its lists from the file).
#[allow(dead_code)] // unused when the build rejected the file (then there is no header)
const fn part(bytes: &'static [u8], start: usize, end: usize) -> &'static [u8] {
    bytes.split_at(end).0.split_at(start).1
}

/// The model file, in flash.
pub static BYTES: &[u8] = &ALIGNED.bytes;

/// The decoded model: the tilted energy and the flow over [`BYTES`], run-time shaped, with
/// the kernels of the file's encodings only and room for exactly its [`COUPLINGS`] couplings,
/// [`ENERGY_LAYERS`] energy layers and [`CONDITIONER_LAYERS`] conditioner layers.
pub type Model = FileModel<'static, Encodings, COUPLINGS, ENERGY_LAYERS, CONDITIONER_LAYERS>;

/// Check and decode [`BYTES`]: the networks, the header and the file's CRC-32. An invalid
/// file is logged (`invalid model file …`) and ends the program with [`EXIT_CONFIG`].
///
/// The networks are built in place in a static (`FileModel::read`), with their σ and 1/σ in a
/// static buffer of [`STORAGE_LEN`] floats, and the header is the build script's constant, so
/// neither is moved nor lives on the stack while the program samples. The steps run in
/// separate, non-inlined functions, so the decoder's temporaries never pile up in one stack
/// frame and are gone when sampling starts.
pub fn load() -> (&'static Model, &'static Header<'static>, u32) {
    if let Some(error) = BUILD_ERROR {
        defmt::error!(
            "invalid model file ({=usize} bytes compiled in from EMBERFLOW_MODEL): {=str}",
            BYTES.len(),
            error
        );
        exit(EXIT_CONFIG)
    }
    let (header, crc) = or_invalid(parse());
    let model = or_invalid(networks());
    defmt::info!(
        "model: {=usize} bytes in flash at {=usize:#010x}, CRC-32 {=u32:#010x}, d = {=usize}, {=str} weights",
        BYTES.len(),
        BYTES.as_ptr() as usize,
        crc,
        D,
        ENCODING
    );
    (model, header, crc)
}

/// The model's place: empty networks of exactly the model's shape bounds, initialised with
/// the rest of `.data` at reset (so no copy of them passes through the stack), filled in once
/// by [`networks`].
struct Place(UnsafeCell<Model>);

// SAFETY: one core, no interrupt handler touches the model, and [`networks`] hands out the
// only reference to its contents, once ([`TAKEN`]).
unsafe impl Sync for Place {}

static MODEL: Place = Place(UnsafeCell::new(Model::SLOTS));

// the build script's memory check counts the model's place as `MODEL_PLACE` bytes
const _: () = assert!(core::mem::size_of::<Model>() <= MODEL_PLACE);

/// Whether [`networks`] has taken [`MODEL`].
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The networks, built in place in [`MODEL`].
#[inline(never)]
fn networks() -> Result<&'static Model, Error> {
    // borrowed in place from the `Result`: a moved view would be a second copy on the stack
    let view = view();
    let view = view.as_ref().map_err(|e| *e)?;
    let storage = cortex_m::singleton!(: [f32; STORAGE_LEN] = [0.0; STORAGE_LEN]);
    let (Some(storage), false) = (storage, TAKEN.swap(true, Ordering::Relaxed)) else {
        return Err(Error::BufferTooSmall { needed: 0 });
    };
    // SAFETY: `TAKEN` was false, so this is the only reference to the model ever made.
    let model: &'static mut Model = unsafe { &mut *MODEL.0.get() };
    model.read(view, storage)?;
    if model.joint().is_none() {
        return Err(Error::WrongModelKind {
            expected: ModelKind::EnergyFlow,
            found: view.header().kind,
        });
    }
    Ok(model)
}

/// The view of [`BYTES`] with the header the build script decoded (the envelope checked).
fn view() -> Result<ModelView<'static>, Error> {
    let Some(header) = HEADER else {
        return Err(Error::Truncated);
    };
    ModelView::with_header(BYTES, header, TENSORS_AT)
}

/// The envelope and the CRC, with the header the build script decoded; the CRC must be the
/// one the build script saw, so that header describes these bytes.
#[inline(never)]
fn parse() -> Result<(&'static Header<'static>, u32), Error> {
    let view = view();
    let view = view.as_ref().map_err(|e| *e)?;
    if view.crc() != CRC {
        return Err(Error::ChecksumMismatch {
            stored: view.crc(),
            computed: CRC,
        });
    }
    let header = HEADER.as_ref().ok_or(Error::Truncated)?;
    if header.kind != ModelKind::EnergyFlow {
        return Err(Error::WrongModelKind {
            expected: ModelKind::EnergyFlow,
            found: header.kind,
        });
    }
    Ok((header, CRC))
}

fn or_invalid<T>(result: Result<T, Error>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            defmt::error!(
                "invalid model file ({=usize} bytes compiled in from EMBERFLOW_MODEL): {}",
                BYTES.len(),
                e
            );
            exit(EXIT_CONFIG)
        }
    }
}

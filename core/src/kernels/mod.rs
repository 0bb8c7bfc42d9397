//! The inner loops, with a summation order fixed by definition.
//!
//! Every output of these kernels is a **sequential** sum in index order:
//! `y[o] = ((w₀x₀ + w₁x₁) + w₂x₂) + …`. Rust never reassociates or contracts floating-point
//! arithmetic, so whatever the memory layout or the SIMD width (LLVM vectorises *across*
//! independent outputs, never along one sum), the same bits come out on x86-64 and on a
//! Cortex-M4F. That is what makes host and microcontroller chains bit-identical, and lets a
//! layer keep a transposed copy of its weights for speed without changing a single result.
//!
//! * `vector`: [`dot`], [`axpy`] (the definitions) and [`gemv_t`] / `gemv_t_rows`, on f32
//!   slices: the owned `Dense`, the host form of a run-time layer and the MALA proposal.
//! * `rows`: whole row-major weight matrices as a model file stores them (f32, int16, int8,
//!   aligned or not): the forward and backward passes of the weight views (`model::view`).
//!   `stored` reads a stored weight as f32; `blocks` holds the four-row and sixteen-column blocks
//!   the row kernels reduce side by side, and on Arm hard-float targets `vfp` runs the f32 blocks
//!   in VFP assembly (the only `unsafe` code in the crate).

mod blocks;
mod rows;
mod stored;
mod vector;
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
mod vfp;

pub(crate) use rows::{
    row_axpys, row_axpys_narrow, row_axpys_unaligned, row_dots, row_dots_narrow, row_dots_unaligned,
};
#[cfg(feature = "host-form")]
pub use vector::gemv_t_rows;
pub use vector::{axpy, dot, gemv_t};

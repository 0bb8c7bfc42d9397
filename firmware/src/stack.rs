//! The stack high-water mark.
//!
//! cortex-m-rt's `paint-stack` feature fills the whole stack region, `_stack_end` (the end of
//! `.bss`/`.uninit`) up to `_stack_start` (the top of RAM), with [`PAINT`] before `main`. The
//! deepest word no longer holding the paint marks how far the stack has ever grown.

/// The value cortex-m-rt paints the stack with.
pub const PAINT: u32 = cortex_m_rt::STACK_PAINT_VALUE;

unsafe extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

/// Bytes of stack used so far (the deepest point reached since reset).
pub fn high_water_mark() -> u32 {
    let top = &raw const _stack_start as usize;
    let bottom = &raw const _stack_end as usize;
    let mut p = bottom;
    while p < top {
        // SAFETY: `bottom..top` is the stack region defined by the linker script: word-aligned
        // RAM that is always readable. Words below the stack pointer are only read, never
        // written, and read volatile so the loop is not optimised on an assumption about them.
        let word = unsafe { core::ptr::read_volatile(p as *const u32) };
        if word != PAINT {
            break;
        }
        p += 4;
    }
    (top - p) as u32
}

/// The size of the stack region (all RAM above `.data`, `.bss` and `.uninit`).
pub fn capacity() -> u32 {
    (&raw const _stack_start as usize - &raw const _stack_end as usize) as u32
}

//! The inner loops of the f32 dense kernels in VFP assembly, for Arm hard-float targets
//! (Cortex-M4F, M7, M33 …: `target_arch = "arm"`, `target_abi = "eabihf"`).
//!
//! LLVM loads each weight with its own `VLDR` (it forms multi-register loads only when the
//! register allocator happens to pick consecutive registers), so the portable loops cost two
//! instructions per multiply–accumulate at best. Here each row's weights come in eight at a
//! time with one `VLDMIA` (post-increment, so no address arithmetic either), and each MAC is
//! one `VMLA.F32`, which rounds the product and then the sum exactly as the portable
//! `s += w * x` does (it is not fused). The order of every sum is the portable kernels' order,
//! so the results are the same bits (checked in QEMU by `cargo xtask test`: the firmware's
//! `kernels` program compares these loops with their definition on 270 shapes,
//! `testing::check_f32_dense_kernels`, and the sampler's output with the host's).
//! What they gained, measured: `docs/firmware-performance.md`.
//!
//! The only `unsafe` code in this crate: the assembly reads through raw pointers, within the
//! bounds checked before it runs.
#![allow(unsafe_code)]

use core::arch::asm;

/// Sixteen zeros, loaded into the accumulators with one instruction.
static ZEROS: [f32; 16] = [0.0; 16];

/// One row of [`dot4`]'s block: the eight weights at `{$row}` (post-increment) into s8–s15,
/// then `$acc += w[t]·x[t]` for the eight inputs in s0–s7, in order.
macro_rules! dot_row {
    ($row:literal, $acc:literal) => {
        concat!(
            "vldmia {",
            $row,
            "}!, {{s8-s15}}\n",
            "vmla.f32 ",
            $acc,
            ", s8, s0\n",
            "vmla.f32 ",
            $acc,
            ", s9, s1\n",
            "vmla.f32 ",
            $acc,
            ", s10, s2\n",
            "vmla.f32 ",
            $acc,
            ", s11, s3\n",
            "vmla.f32 ",
            $acc,
            ", s12, s4\n",
            "vmla.f32 ",
            $acc,
            ", s13, s5\n",
            "vmla.f32 ",
            $acc,
            ", s14, s6\n",
            "vmla.f32 ",
            $acc,
            ", s15, s7\n",
        )
    };
}

/// One row of [`axpys16`]: the sixteen column sums s16–s31 `+= $alpha·w[j]` for the sixteen
/// weights at `{w}`, eight at a time through s8–s15, then `{w}` moves to the next row.
macro_rules! axpy_row {
    ($alpha:literal) => {
        concat!(
            "vldmia {w}!, {{s8-s15}}\n",
            "vmla.f32 s16, ",
            $alpha,
            ", s8\n",
            "vmla.f32 s17, ",
            $alpha,
            ", s9\n",
            "vmla.f32 s18, ",
            $alpha,
            ", s10\n",
            "vmla.f32 s19, ",
            $alpha,
            ", s11\n",
            "vmla.f32 s20, ",
            $alpha,
            ", s12\n",
            "vmla.f32 s21, ",
            $alpha,
            ", s13\n",
            "vmla.f32 s22, ",
            $alpha,
            ", s14\n",
            "vmla.f32 s23, ",
            $alpha,
            ", s15\n",
            "vldm {w}, {{s8-s15}}\n",
            "vmla.f32 s24, ",
            $alpha,
            ", s8\n",
            "vmla.f32 s25, ",
            $alpha,
            ", s9\n",
            "vmla.f32 s26, ",
            $alpha,
            ", s10\n",
            "vmla.f32 s27, ",
            $alpha,
            ", s11\n",
            "vmla.f32 s28, ",
            $alpha,
            ", s12\n",
            "vmla.f32 s29, ",
            $alpha,
            ", s13\n",
            "vmla.f32 s30, ",
            $alpha,
            ", s14\n",
            "vmla.f32 s31, ",
            $alpha,
            ", s15\n",
            "add {w}, {w}, {stride}\n",
        )
    };
}

/// `y[r] = (Σ_i w[r][i]·x[i]) + b[r]` for a block of four rows (`block`: `4·x.len()`
/// weights, row-major), each sum from 0 and `i` in order, then the bias: what the portable
/// `dot4` and `row_dots` compute. Eight inputs at a time, then the last `n mod 8` one by one.
#[inline(always)]
pub(super) fn dot4(block: &[f32], x: &[f32], b: &[f32; 4], y: &mut [f32; 4]) {
    let n = x.len();
    if block.len() < 4 * n {
        // (never from `row_dots`, whose blocks are `4·x.len()` long; kept total all the same)
        return super::blocks::dot4_portable(block, x, b, y);
    }
    let r0 = block.as_ptr();
    let row_bytes = 4 * n;
    // SAFETY: the pointers start at the four rows of `block` (`n` f32 each, inside `block` as
    // `4n ≤ block.len()`) and at `x`; each walks forward over exactly `n` f32 (`n / 8`
    // blocks of eight, then `n mod 8` single values), then four biases are read from `b` and
    // four sums written to `y`. Only the named registers, the flags and `y` are written.
    // (Values cannot go in `s` registers as operands on stable Rust, where the `vfp2` target
    // feature is not visible: the sums start from `ZEROS` and leave through `y`.)
    unsafe {
        asm!(
            "vldm {z}, {{s16-s19}}",
            "add {r1}, {r0}, {rb}",
            "add {r2}, {r1}, {rb}",
            "add {r3}, {r2}, {rb}",
            "lsrs {k}, {n}, #3",
            "beq 3f",
            "2:",
            "vldmia {x}!, {{s0-s7}}",
            dot_row!("r0", "s16"),
            dot_row!("r1", "s17"),
            dot_row!("r2", "s18"),
            dot_row!("r3", "s19"),
            "subs {k}, {k}, #1",
            "bne 2b",
            "3:",
            "ands {k}, {n}, #7",
            "beq 5f",
            "4:",
            "vldmia {x}!, {{s0}}",
            "vldmia {r0}!, {{s8}}",
            "vldmia {r1}!, {{s9}}",
            "vldmia {r2}!, {{s10}}",
            "vldmia {r3}!, {{s11}}",
            "vmla.f32 s16, s8, s0",
            "vmla.f32 s17, s9, s0",
            "vmla.f32 s18, s10, s0",
            "vmla.f32 s19, s11, s0",
            "subs {k}, {k}, #1",
            "bne 4b",
            "5:",
            "vldm {b}, {{s0-s3}}",
            "vadd.f32 s16, s16, s0",
            "vadd.f32 s17, s17, s1",
            "vadd.f32 s18, s18, s2",
            "vadd.f32 s19, s19, s3",
            "vstm {y}, {{s16-s19}}",
            z = in(reg) ZEROS.as_ptr(),
            n = in(reg) n,
            rb = in(reg) row_bytes,
            x = inout(reg) x.as_ptr() => _,
            r0 = inout(reg) r0 => _,
            r1 = out(reg) _,
            r2 = out(reg) _,
            r3 = out(reg) _,
            k = out(reg) _,
            b = in(reg) b.as_ptr(),
            y = in(reg) y.as_mut_ptr(),
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            options(nostack),
        );
    }
}

/// The sixteen column sums `d[j] = Σ_o alpha[o]·w[o·n + col + j]` (from 0, rows `o` in
/// order) over the rows `o < min(w.len() / n, alpha.len())`: what the portable `row_axpys`
/// block computes. `col + 16 ≤ n`.
#[inline(always)]
pub(super) fn axpys16(w: &[f32], n: usize, col: usize, alpha: &[f32]) -> [f32; 16] {
    let mut d = [0.0f32; 16];
    let rows = match n {
        0 => 0,
        n => (w.len() / n).min(alpha.len()),
    };
    if rows == 0 || col + 16 > n {
        // (never from `row_axpys`, which passes whole blocks)
        return super::blocks::axpys16_portable(w, n, col, alpha);
    }
    // bytes from the ninth weight of a row's block to the first of the next row's
    let stride = 4 * n - 32;
    // SAFETY: row `o < rows` reads the sixteen f32 at `o·n + col .. o·n + col + 16`, inside
    // `w` as `(o + 1)·n ≤ w.len()` and `col + 16 ≤ n`, and `alpha[o]`, inside `alpha` (both
    // checked above); the sums go to `d`, sixteen f32. Only the named registers, the flags
    // and `d` are written.
    unsafe {
        asm!(
            "vldm {z}, {{s16-s31}}",
            // two rows per iteration
            "lsrs {k2}, {k}, #1",
            "beq 3f",
            "2:",
            "vldmia {a}!, {{s0-s1}}",
            axpy_row!("s0"),
            axpy_row!("s1"),
            "subs {k2}, {k2}, #1",
            "bne 2b",
            // the last row of an odd count
            "3:",
            "tst {k}, #1",
            "beq 4f",
            "vldmia {a}!, {{s0}}",
            axpy_row!("s0"),
            "4:",
            "vstm {d}, {{s16-s31}}",
            z = in(reg) ZEROS.as_ptr(),
            a = inout(reg) alpha.as_ptr() => _,
            w = inout(reg) w[col..].as_ptr() => _,
            stride = in(reg) stride,
            k = in(reg) rows,
            k2 = out(reg) _,
            d = in(reg) d.as_mut_ptr(),
            out("s0") _, out("s1") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
            options(nostack),
        );
    }
    d
}

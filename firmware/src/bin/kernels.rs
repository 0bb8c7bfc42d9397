//! Checks the f32 dense-layer kernels as this build runs them (on the Cortex-M4F: the VFP
//! assembly loops of `emberflow_core`) against their definition, bit for bit, over every
//! shape of `emberflow_core::testing::check_f32_dense_kernels`. `cargo xtask test` runs it in
//! QEMU: `ef:kernels shapes=N` and exit status 0, or an error frame naming the shape and the
//! element that differs and exit status 1.

#![no_std]
#![no_main]

use emberflow_core::testing::check_f32_dense_kernels;
use emberflow_firmware::{EXIT_CHECK, EXIT_OK, exit};

/// Seeds of the data: each gives a different draw of values for every shape.
const SEEDS: [u64; 3] = [1, 2, 2026];

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut shapes = 0;
    for seed in SEEDS {
        match check_f32_dense_kernels(seed) {
            Ok(n) => shapes += n,
            Err(m) => {
                defmt::error!(
                    "f32 dense kernel differs from its definition (seed {=u64}): {}",
                    seed,
                    m
                );
                exit(EXIT_CHECK)
            }
        }
    }
    defmt::println!("ef:kernels shapes={=u32}", shapes);
    exit(EXIT_OK)
}

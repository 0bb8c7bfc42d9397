//! A program that fails on purpose: `cargo xtask test` checks that a panic on the MCU reaches
//! the host as a defmt error frame and a non-zero exit status (101).

#![no_std]
#![no_main]

use emberflow_firmware as _;

#[cortex_m_rt::entry]
fn main() -> ! {
    defmt::println!("ef:selftest about to index out of bounds");
    let table = [1u32, 2, 3];
    let index = core::hint::black_box(7usize);
    let value = table[index];
    defmt::println!("unreachable: {=u32}", value);
    emberflow_firmware::exit(emberflow_firmware::EXIT_OK)
}

//! # emberflow-firmware
//!
//! The runtime shared by the firmware programs in `src/bin/`: the defmt transport, the panic
//! and fault handlers, [`exit`], the build-time configuration ([`config`]), the compiled-in
//! model file ([`model`]), the cost counter ([`cost`]), the stack high-water mark ([`stack`])
//! and the defmt frames the host decodes ([`frames`]). The sampling and scoring protocol,
//! shared with the host, is core's [`emberflow_core::mcmc::run`].
//!
//! * Transport (one of): `defmt-semihosting` (default; QEMU, or a board under a debugger) or
//!   `defmt-rtt` (boards, read by probe-rs).
//! * Memory map (one of): `board-mps2-an386` (default; QEMU), `board-stm32f4`,
//!   `board-nrf52840` — `build.rs` copies the matching `memory/*.x` to `memory.x`.
//!
//! Exit statuses: [`EXIT_OK`], [`EXIT_CHECK`], [`EXIT_CONFIG`] (invalid configuration or model),
//! [`EXIT_PANIC`], [`EXIT_FAULT`]. Under QEMU they become the exit status of
//! `qemu-system-arm` (semihosting `SYS_EXIT_EXTENDED`).

#![no_std]
#![warn(missing_docs)]

#[cfg(all(feature = "defmt-semihosting", feature = "defmt-rtt"))]
compile_error!("enable exactly one defmt transport: `defmt-semihosting` or `defmt-rtt`");
#[cfg(not(any(feature = "defmt-semihosting", feature = "defmt-rtt")))]
compile_error!("enable a defmt transport: `defmt-semihosting` (QEMU) or `defmt-rtt` (boards)");

use cortex_m as _; // the critical-section implementation
#[cfg(feature = "defmt-rtt")]
use defmt_rtt as _;
#[cfg(feature = "defmt-semihosting")]
use defmt_semihosting as _;

pub mod config;
pub mod cost;
pub mod frames;
pub mod model;
pub mod stack;

/// Device interrupts of the board (external interrupts of its NVIC).
#[cfg(feature = "board-mps2-an386")]
const DEVICE_INTERRUPTS: usize = 32;
/// Device interrupts of the board (external interrupts of its NVIC).
#[cfg(feature = "board-stm32f4")]
const DEVICE_INTERRUPTS: usize = 82;
/// Device interrupts of the board (external interrupts of its NVIC).
#[cfg(feature = "board-nrf52840")]
const DEVICE_INTERRUPTS: usize = 48;

unsafe extern "C" {
    /// cortex-m-rt's default exception handler.
    fn DefaultHandler();
}

/// The device-interrupt part of the vector table (cortex-m-rt's `device` feature): one entry per
/// interrupt of the board, each to the default handler (the firmware enables none), instead of
/// the 240 entries cortex-m-rt reserves when it does not know the device (less flash).
#[unsafe(link_section = ".vector_table.interrupts")]
#[unsafe(no_mangle)]
pub static __INTERRUPTS: [unsafe extern "C" fn(); DEVICE_INTERRUPTS] =
    [DefaultHandler; DEVICE_INTERRUPTS];

/// The program finished normally.
pub const EXIT_OK: i32 = 0;
/// A self-check found a wrong result (the `kernels` program).
pub const EXIT_CHECK: i32 = 1;
/// The build-time configuration or the model was rejected at start-up.
pub const EXIT_CONFIG: i32 = 2;
/// A panic (its message was logged at error level).
pub const EXIT_PANIC: i32 = 101;
/// A HardFault (the faulting PC was logged at error level).
pub const EXIT_FAULT: i32 = 102;

/// End the program with `code`.
///
/// With `defmt-semihosting` the code reaches the host (QEMU exits with it). With `defmt-rtt`
/// the core stops on a breakpoint, which probe-rs reports.
pub fn exit(code: i32) -> ! {
    #[cfg(feature = "defmt-semihosting")]
    {
        semihosting::process::exit(code)
    }
    #[cfg(not(feature = "defmt-semihosting"))]
    {
        let _ = code;
        loop {
            cortex_m::asm::bkpt();
        }
    }
}

/// The value of `result`, or log `what` with the error and exit with [`EXIT_CONFIG`].
pub fn or_exit<T, E: defmt::Format>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            defmt::error!("{=str}: {}", what, e);
            exit(EXIT_CONFIG)
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    exit(EXIT_PANIC)
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    defmt::error!(
        "hard fault at pc={=u32:#010x} lr={=u32:#010x}",
        frame.pc(),
        frame.lr()
    );
    exit(EXIT_FAULT)
}

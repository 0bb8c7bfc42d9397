//! Counting what a step costs.
//!
//! * `board-mps2-an386` (QEMU): **instructions**. QEMU does not emulate the DWT cycle counter,
//!   but under `-icount shift=0` every guest instruction advances virtual time by 1 ns and
//!   SysTick (core clock, 25 MHz) ticks exactly once per [`INSNS_PER_TICK`] instructions. So
//!   `instructions = ticks × 40`, exactly, to within one tick per measured interval.
//! * Boards: **cycles** from the DWT cycle counter.
//!
//! [`Counter::now`] is a monotonic reading in [`UNIT`]s (wrapping), [`Counter::since`] the
//! units elapsed since an earlier reading.

use cortex_m::Peripherals;

/// What the counter counts.
#[cfg(feature = "board-mps2-an386")]
pub const UNIT: &str = "insns";
/// What the counter counts.
#[cfg(not(feature = "board-mps2-an386"))]
pub const UNIT: &str = "cycles";

/// Guest instructions per SysTick tick under `qemu-system-arm -machine mps2-an386 -icount
/// shift=0` (1 ns per instruction, SysTick at the 25 MHz core clock).
pub const INSNS_PER_TICK: u32 = 40;

#[cfg(feature = "board-mps2-an386")]
const SYST_MASK: u32 = 0x00ff_ffff;

/// The running counter (owns SysTick under QEMU, the DWT cycle counter on boards).
pub struct Counter {
    _private: (),
}

impl Counter {
    /// Start counting. Takes the core peripherals, so call it once.
    pub fn start() -> Self {
        let Some(mut p) = Peripherals::take() else {
            defmt::panic!("core peripherals already taken")
        };
        #[cfg(feature = "board-mps2-an386")]
        {
            use cortex_m::peripheral::syst::SystClkSource;
            p.SYST.set_clock_source(SystClkSource::Core);
            p.SYST.set_reload(SYST_MASK);
            p.SYST.clear_current();
            p.SYST.enable_counter();
        }
        #[cfg(not(feature = "board-mps2-an386"))]
        {
            p.DCB.enable_trace();
            p.DWT.enable_cycle_counter();
        }
        Counter { _private: () }
    }

    /// A reading, in [`UNIT`]s, modulo the counter's range.
    #[inline(always)]
    pub fn now(&self) -> u32 {
        #[cfg(feature = "board-mps2-an386")]
        {
            // SysTick counts down; negate so readings increase.
            SYST_MASK - cortex_m::peripheral::SYST::get_current()
        }
        #[cfg(not(feature = "board-mps2-an386"))]
        {
            cortex_m::peripheral::DWT::cycle_count()
        }
    }

    /// Units elapsed from reading `earlier` to reading `later` (one wrap at most: 671 M
    /// instructions under QEMU, 2^32 cycles on a board).
    #[inline(always)]
    pub fn between(&self, earlier: u32, later: u32) -> u32 {
        #[cfg(feature = "board-mps2-an386")]
        {
            (later.wrapping_sub(earlier) & SYST_MASK) * INSNS_PER_TICK
        }
        #[cfg(not(feature = "board-mps2-an386"))]
        {
            later.wrapping_sub(earlier)
        }
    }

    /// Units elapsed since reading `earlier`.
    #[inline(always)]
    pub fn since(&self, earlier: u32) -> u32 {
        self.between(earlier, self.now())
    }
}

/// Totals of measured steps of one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Steps measured.
    pub count: u64,
    /// Units they took in total.
    pub total: u64,
    /// The cheapest step.
    pub min: u32,
    /// The dearest step.
    pub max: u32,
}

impl Tally {
    /// Add one step of `units`.
    #[inline]
    pub fn add(&mut self, units: u32) {
        if self.count == 0 || units < self.min {
            self.min = units;
        }
        if units > self.max {
            self.max = units;
        }
        self.count += 1;
        self.total += u64::from(units);
    }
}

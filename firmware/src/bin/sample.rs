//! FlowMC sampling of the compiled-in model on the MCU; the samples go to the host as defmt
//! frames, in data units.
//!
//! The protocol is `emberflow_core::mcmc::run` (the host's `emberflow sample` runs the same
//! source, and `cargo xtask test` checks the two agree bit for bit). After the samples: the
//! per-chain counts, the cost per MALA step and per global move (measured on the recorded
//! sweeps only) and the stack high-water mark. Settings: `emberflow_firmware::config`.

#![no_std]
#![no_main]

use emberflow_core::mcmc::run::{self as protocol, Observer, Protocol, Step};
use emberflow_core::{GlobalMove, StepStats};
use emberflow_firmware::config::{ConfigError, SampleConfig};
use emberflow_firmware::cost::{Counter, Tally};
use emberflow_firmware::{EXIT_CONFIG, EXIT_OK, build_config, exit, frames, model, or_exit};

/// Sends the samples and measures each step of the recorded sweeps.
struct Recorder {
    counter: Counter,
    last: u32,
    mala: Tally,
    global: Tally,
    records: u64,
}

impl Observer for Recorder {
    #[inline(always)]
    fn sweep_start(&mut self) {
        self.last = self.counter.now();
    }

    #[inline(always)]
    fn step(&mut self, kind: Step) {
        let units = self.counter.since(self.last);
        match kind {
            Step::Global => self.global.add(units),
            Step::Mala => self.mala.add(units),
        }
        self.last = self.counter.now();
    }

    fn sample(&mut self, chain: u16, index: u32, x: &[f32]) {
        frames::sample(chain, index, x);
        self.records += 1;
    }

    fn chain_end(&mut self, chain: u16, stats: &StepStats, step_size: f32) {
        frames::chain(chain, stats, step_size);
    }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    // evaluated when this program is compiled: no parsing on the MCU
    const CONFIG: Result<SampleConfig, ConfigError> = build_config!().sample();
    let cfg = or_exit(CONFIG, "invalid build configuration");
    let counter = Counter::start();
    let (model, header, crc) = model::load();
    let Some((energy, flow)) = model.joint() else {
        exit(EXIT_CONFIG)
    };
    let protocol = or_exit(
        Protocol::new(&header.sampler, &cfg.overrides(), cfg.run),
        "invalid sampler settings (the model's, with the EMBERFLOW_* overrides)",
    );
    frames::begin_sample(crc, model::D, &protocol);
    let mut recorder = Recorder {
        counter,
        last: 0,
        mala: Tally::default(),
        global: Tally::default(),
        records: 0,
    };
    let buffer = or_exit(
        cortex_m::singleton!(: [f32; model::RUN_LEN] = [0.0; model::RUN_LEN]).ok_or("taken"),
        "the sampling buffer",
    );
    or_exit(
        protocol::run(
            energy,
            flow,
            &header.normalization,
            &protocol,
            &mut recorder,
            buffer,
        ),
        "invalid kernel settings",
    );
    frames::cost("mala", &recorder.mala);
    if protocol.schedule.global != GlobalMove::None {
        frames::cost("global", &recorder.global);
    }
    frames::memory();
    frames::end(recorder.records);
    exit(EXIT_OK)
}

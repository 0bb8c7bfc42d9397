//! The models the programs run, placed once in static memory.
//!
//! Until the model file is compiled in, the programs use the deterministic demo models of
//! `emberflow_core::testing` (the paper's 2-D shapes, [`Energy2d`] and [`Flow2d`], with
//! parameters drawn from a model seed), built by the same code the host uses, so host and MCU
//! sample the same target bit for bit. They are built in place in `.bss` (about 41 KiB for the
//! energy and 3 KiB for the flow); no copy passes through the stack.

use emberflow_core::models::{Energy2d, Flow2d};
use emberflow_core::testing;
use static_cell::StaticCell;

static ENERGY: StaticCell<Energy2d> = StaticCell::new();
static FLOW: StaticCell<Flow2d> = StaticCell::new();

/// The demo 2-D tilted energy and flow of `model_seed`. Call it once per program run.
pub fn demo_2d(model_seed: u64) -> (&'static Energy2d, &'static Flow2d) {
    let energy = ENERGY.init_with(testing::zeroed_energy_2d);
    testing::randomize_energy_2d(energy, model_seed);
    let flow = FLOW.init_with(|| Flow2d::identity(testing::demo_base_2d()));
    testing::randomize_flow_2d(flow, model_seed);
    (energy, flow)
}

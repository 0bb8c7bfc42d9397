//! Placeholder replaced by the FlowMC step benchmark.
fn main() {}

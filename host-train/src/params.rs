//! The one place that maps the candle parameters onto emberflow-core's models: both sides list
//! their tensors in core's canonical order ([`Parameters::visit`](emberflow_core::Parameters),
//! [`RealNvp::visit`](emberflow_core::RealNvp::visit)), so the copy is positional and every
//! length is checked.

use anyhow::{Result, bail};
use candle_core::Tensor;
use emberflow_core::shapes::{PaperEnergy, PaperEnergyNet, PaperFlow};
use emberflow_core::{DiagGaussian, MlpEnergy, Parameters, Tilted};

/// Flatten tensors to host vectors (one per parameter tensor).
pub fn to_host(tensors: &[Tensor]) -> Result<Vec<Vec<f32>>> {
    tensors
        .iter()
        .map(|t| Ok(t.flatten_all()?.to_vec1::<f32>()?))
        .collect()
}

/// Copy host vectors into a visitor's tensors, in order, checking every length.
fn fill(
    visit: impl FnOnce(&mut dyn FnMut(&mut [f32])),
    values: &[Vec<f32>],
    what: &str,
) -> Result<()> {
    let mut i = 0;
    let mut bad = None;
    visit(&mut |t| {
        match values.get(i) {
            Some(v) if v.len() == t.len() => t.copy_from_slice(v),
            Some(v) => {
                bad.get_or_insert((i, v.len(), t.len()));
            }
            None => {
                bad.get_or_insert((i, 0, t.len()));
            }
        }
        i += 1;
    });
    if let Some((k, got, want)) = bad {
        bail!("{what}: tensor {k} has {got} values, the core model expects {want}");
    }
    if i != values.len() {
        bail!(
            "{what}: {} tensors given, the core model has {i}",
            values.len()
        );
    }
    Ok(())
}

/// The tilted core energy with the given network parameters (core order) and base σ.
pub fn core_energy<const D: usize>(
    values: &[Vec<f32>],
    base: &DiagGaussian<D>,
) -> Result<PaperEnergy<D>> {
    let mut net = PaperEnergyNet::<D>::zeroed();
    fill(|f| net.visit_mut(f), values, "energy")?;
    Ok(Tilted::new(MlpEnergy::new(net), base.clone()))
}

/// Overwrite a core energy's network parameters.
pub fn update_energy<const D: usize>(e: &mut PaperEnergy<D>, values: &[Vec<f32>]) -> Result<()> {
    fill(|f| e.energy.net.visit_mut(f), values, "energy")
}

/// The core flow with the given parameters (core order) and base σ.
pub fn core_flow<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>(
    values: &[Vec<f32>],
    base: &DiagGaussian<D>,
) -> Result<PaperFlow<D, A, B, H, K>> {
    let mut flow = PaperFlow::<D, A, B, H, K>::identity(base.clone());
    fill(|f| flow.visit_mut(f), values, "flow")?;
    Ok(flow)
}

/// Overwrite a core flow's parameters.
pub fn update_flow<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
>(
    flow: &mut PaperFlow<D, A, B, H, K>,
    values: &[Vec<f32>],
) -> Result<()> {
    fill(|f| flow.visit_mut(f), values, "flow")
}

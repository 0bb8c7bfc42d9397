//! Export a trained run to a model file (`.efm`, defined in emberflow-core): f32, int16 or int8
//! weights, the data normalisation, the sampler settings the run ended with, training metadata
//! and — for quantised files — the quantisation errors measured against the f32 model.

use crate::trained::{Trained, core_models};
use anyhow::{Context, Result, anyhow};
use emberflow_core::model::{
    Bounded, Encoding, Export, F32s, MAX_METRICS, ModelErrors, Normalization, PaperModel,
    SamplerSpec, Training, encode_energy_flow,
};
use emberflow_core::{Energy, Flow, FlowMcConfig};

/// What goes into the header besides the weights.
#[derive(Clone, Debug)]
pub struct ExportMeta {
    /// Per-dimension shift of the data normalisation (`x_data = shift + scale·x_model`).
    pub shift: Vec<f32>,
    /// Per-dimension scale.
    pub scale: Vec<f32>,
    /// The sampler settings.
    pub sampler: FlowMcConfig,
    /// Chains the trainer ran.
    pub chains: u32,
    /// Data set name.
    pub dataset: String,
    /// Seed.
    pub seed: u64,
    /// Up to 8 final metrics.
    pub metrics: Vec<(String, f32)>,
}

fn encode<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>(
    trained: &Trained,
    meta: &ExportMeta,
    encoding: Encoding,
    errors: Option<ModelErrors>,
) -> Result<Vec<u8>> {
    let (energy, flow) = core_models::<D, A, B, H, K>(trained)?;
    let metrics: Vec<(&str, f32)> = meta
        .metrics
        .iter()
        .take(MAX_METRICS)
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    let export = Export {
        encoding,
        f32_output_layers: encoding != Encoding::F32,
        normalization: Normalization {
            shift: F32s::Native(&meta.shift),
            scale: F32s::Native(&meta.scale),
        },
        sampler: SamplerSpec::new(&meta.sampler, trained.step_size, meta.chains),
        training: Training {
            dataset: &meta.dataset,
            iterations: trained.iterations,
            seed: meta.seed,
            metrics: Bounded::from_slice(&metrics).context("too many metrics")?,
        },
        model_errors: errors,
    };
    let needed = match encode_energy_flow(&energy, &flow, &export, &mut []) {
        Err(emberflow_core::Error::BufferTooSmall { needed }) => needed as usize,
        Err(e) => return Err(anyhow!("encoding the model: {e}")),
        Ok(_) => 0,
    };
    let mut buf = vec![0u8; needed];
    let n = encode_energy_flow(&energy, &flow, &export, &mut buf)
        .map_err(|e| anyhow!("encoding the model: {e}"))?;
    buf.truncate(n);
    Ok(buf)
}

/// The model file bytes of a run in `encoding`; quantised files carry their errors against
/// the f32 model, measured on `probes` (model units, row-major).
pub fn to_bytes<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>(
    trained: &Trained,
    meta: &ExportMeta,
    encoding: Encoding,
    probes: &[f32],
) -> Result<Vec<u8>> {
    let f32_bytes = encode::<D, A, B, H, K>(trained, meta, Encoding::F32, None)?;
    if encoding == Encoding::F32 {
        return Ok(f32_bytes);
    }
    let first = encode::<D, A, B, H, K>(trained, meta, encoding, None)?;
    let a = PaperModel::<D, A, B, H, K>::decode(&f32_bytes).map_err(|e| anyhow!("{e}"))?;
    let b = PaperModel::<D, A, B, H, K>::decode(&first).map_err(|e| anyhow!("{e}"))?;
    let (mut e_max, mut e_sq, mut l_max, mut l_sq, mut n) = (0.0f64, 0.0, 0.0f64, 0.0, 0u32);
    for p in probes.chunks_exact(D) {
        let z: [f32; D] = p.try_into().expect("chunk of D");
        let de = f64::from(a.energy.energy(&z)) - f64::from(b.energy.energy(&z));
        let dl = f64::from(a.flow.log_density(&z)) - f64::from(b.flow.log_density(&z));
        if de.is_finite() && dl.is_finite() {
            e_max = e_max.max(de.abs());
            l_max = l_max.max(dl.abs());
            e_sq += de * de;
            l_sq += dl * dl;
            n += 1;
        }
    }
    let errors = ModelErrors {
        points: n,
        energy_max_abs: e_max as f32,
        energy_rms: (e_sq / f64::from(n.max(1))).sqrt() as f32,
        log_density_max_abs: l_max as f32,
        log_density_rms: (l_sq / f64::from(n.max(1))).sqrt() as f32,
    };
    encode::<D, A, B, H, K>(trained, meta, encoding, Some(errors))
}

//! Export a trained run to a model file (`.efm`, defined in emberflow-core): f32, int16 or int8
//! weights, the data normalisation, the sampler settings the run ended with, training metadata
//! and — for quantised files — the quantisation errors measured against the f32 model.

use crate::trained::Trained;
use anyhow::{Context, Result, anyhow};
use emberflow_core::model::{
    AnyEncoding, Bounded, Encoding, Export, F32s, MAX_METRICS, ModelErrors, ModelView,
    Normalization, SamplerSpec, Training,
};
use emberflow_core::runtime::FileModel;
use emberflow_core::{FlowMcConfig, Potential, Proposal};

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

fn encode(
    trained: &Trained,
    meta: &ExportMeta,
    encoding: Encoding,
    errors: Option<ModelErrors>,
) -> Result<Vec<u8>> {
    let mut model = trained.model()?;
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
    model.encode(&export)
}

/// The energy `U` and log-density `ln λ` of a model file at every probe (model units).
fn evaluate(bytes: &[u8], dim: usize, probes: &[f32]) -> Result<Vec<(f32, f32)>> {
    // 4-byte aligned copy: the f32 tensors are read in place
    let mut words = vec![0u32; bytes.len().div_ceil(4)];
    bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
    let bytes = &bytemuck::cast_slice::<u32, u8>(&words)[..bytes.len()];
    let view = ModelView::parse(bytes).map_err(|e| anyhow!("{e}"))?;
    let mut storage = vec![0.0; FileModel::<'_, AnyEncoding, 32>::storage_len(dim)];
    let model = FileModel::<'_, AnyEncoding, 32>::from_view(&view, &mut storage)
        .map_err(|e| anyhow!("{e}"))?;
    let (u, f) = (
        model.energy.as_ref().context("no energy")?,
        model.flow.as_ref().context("no flow")?,
    );
    let mut scratch = vec![0.0f32; u.scratch_len().max(f.scratch_len())];
    Ok(probes
        .chunks_exact(dim)
        .map(|z| (u.energy(z, &mut scratch), f.log_density(z, &mut scratch)))
        .collect())
}

/// The model file bytes of a run in `encoding`; quantised files carry their errors against
/// the f32 model, measured on `probes` (model units, row-major).
pub fn to_bytes(
    trained: &Trained,
    meta: &ExportMeta,
    encoding: Encoding,
    probes: &[f32],
) -> Result<Vec<u8>> {
    let f32_bytes = encode(trained, meta, Encoding::F32, None)?;
    if encoding == Encoding::F32 {
        return Ok(f32_bytes);
    }
    let first = encode(trained, meta, encoding, None)?;
    let dim = trained.shape.dim;
    let a = evaluate(&f32_bytes, dim, probes)?;
    let b = evaluate(&first, dim, probes)?;
    let (mut e_max, mut e_sq, mut l_max, mut l_sq, mut n) = (0.0f64, 0.0, 0.0f64, 0.0, 0u32);
    for ((ea, la), (eb, lb)) in a.into_iter().zip(b) {
        let de = f64::from(ea) - f64::from(eb);
        let dl = f64::from(la) - f64::from(lb);
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
    encode(trained, meta, encoding, Some(errors))
}

/// The anomaly threshold a model file carries: the `quantile` of the energies `U` the encoded
/// model (`bytes`) gives the rows of `held_out` (data units, `d` values a row), so the file
/// flags about a `1 − quantile` share of new normal points. The energies are those of the
/// very encoding in `bytes` (an int8 file gets its own threshold), through the scoring
/// protocol that `emberflow energy` and the firmware run.
pub fn anomaly_threshold(bytes: &[u8], held_out: &[f32], quantile: f64) -> Result<f32> {
    if !(quantile > 0.0 && quantile < 1.0) {
        return Err(anyhow!(
            "the threshold quantile must be in (0, 1), got {quantile}"
        ));
    }
    let model = crate::model_file::ModelFile::from_bytes(bytes.to_vec())?;
    if held_out.is_empty() || !held_out.len().is_multiple_of(model.dim) {
        return Err(anyhow!(
            "the threshold needs held-out rows of {} values",
            model.dim
        ));
    }
    let u: Vec<f64> = crate::eval::energies_at(&model, held_out)?
        .into_iter()
        .map(f64::from)
        .collect();
    if let Some(k) = u.iter().position(|v| !v.is_finite()) {
        return Err(anyhow!(
            "the energy of held-out row {k} is not finite ({}); no threshold can be set",
            u[k]
        ));
    }
    let t = crate::metrics::quantile(&u, quantile)
        .ok_or_else(|| anyhow!("no quantile of {} energies", u.len()))?;
    Ok(t as f32)
}

/// [`to_bytes`] with an anomaly threshold: the file is encoded, its [`anomaly_threshold`] on
/// `held_out` measured, and the file encoded again with the threshold and its quantile as the
/// first two metrics (the networks, and so the energies, are the same bytes). Returns the
/// file and the threshold.
pub fn to_bytes_with_threshold(
    trained: &Trained,
    meta: &ExportMeta,
    encoding: Encoding,
    probes: &[f32],
    held_out: &[f32],
    quantile: f64,
) -> Result<(Vec<u8>, f32)> {
    let plain = to_bytes(trained, meta, encoding, probes)?;
    let threshold = anomaly_threshold(&plain, held_out, quantile)?;
    let mut metrics = vec![
        (
            emberflow_core::model::ANOMALY_THRESHOLD.to_string(),
            threshold,
        ),
        (
            emberflow_core::model::ANOMALY_QUANTILE.to_string(),
            quantile as f32,
        ),
    ];
    metrics.extend(
        meta.metrics
            .iter()
            .filter(|(k, _)| {
                k != emberflow_core::model::ANOMALY_THRESHOLD
                    && k != emberflow_core::model::ANOMALY_QUANTILE
            })
            .cloned(),
    );
    let meta = ExportMeta {
        metrics,
        ..meta.clone()
    };
    Ok((to_bytes(trained, &meta, encoding, probes)?, threshold))
}

//! A model's own quantities: its energies at points, and the EBM's mode weights (on a grid in
//! 2-D, by importance sampling with the flow above), over the model file's run-time shaped
//! networks (`emberflow_core::runtime::FileModel`), and the reader of model files for sampling,
//! scoring and evaluation (any shape within the run-time limits).

use crate::data::Dataset;
use crate::metrics::{
    Grid2d, ModeWeights, Regions, mode_weights_from_grid_energies, mode_weights_importance,
};
use crate::model_file::ModelFile;
use anyhow::{Result, anyhow};
use emberflow_core::mcmc::run::{score, score_len};
use emberflow_core::model::{AnyEncoding, Header, ModelView};
use emberflow_core::runtime::{FileModel, RealNvpFlow, TiltedMlp};
use emberflow_core::{Potential, Proposal, SeedStream};
use std::path::{Path, PathBuf};

/// What the model itself says: energies on data and samples, its own mode weights.
#[derive(Default)]
pub struct ModelQuantities {
    /// U at each data point (model units).
    pub u_data: Vec<f32>,
    /// U at each sample.
    pub u_samples: Vec<f32>,
    /// The EBM's mode weights and how they were computed.
    pub ebm: Option<(ModeWeights, String)>,
}

/// Inputs of [`model_quantities`].
pub struct ModelInputs<'a> {
    /// The reference data, data units.
    pub data: Option<&'a Dataset>,
    /// The samples, data units.
    pub samples: Option<&'a Dataset>,
    /// The regions of the mode weights.
    pub regions: Option<&'a Regions>,
    /// The 2-D grid of the EBM's weights (data units).
    pub grid: Option<Grid2d>,
    /// Flow draws of the importance-sampled weights (d > 2).
    pub is_draws: usize,
    /// Seed of the importance sampling.
    pub seed: u64,
}

/// Evaluate `f` on every row, in parallel threads.
fn par_rows<T: Send + Copy + Default>(
    rows: &[f32],
    dim: usize,
    f: &(dyn Fn(&[f32]) -> T + Sync),
) -> Vec<T> {
    let n = rows.len() / dim.max(1);
    let mut out = vec![T::default(); n];
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .clamp(1, 16);
    let per = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (part, vals) in out.chunks_mut(per).zip(rows.chunks(per * dim.max(1))) {
            s.spawn(move || {
                for (o, x) in part.iter_mut().zip(vals.chunks_exact(dim.max(1))) {
                    *o = f(x);
                }
            });
        }
    });
    out
}

/// The networks of a model file, any encoding, up to 32 couplings (the run-time limits).
type Model<'a> = FileModel<'a, AnyEncoding, 32>;

/// Check a model file's bytes for sampling and scoring ([`ModelFile::from_bytes`]: valid,
/// energy+flow, a shape within the run-time limits); `path` names it in messages.
pub fn model_from_bytes(bytes: Vec<u8>, path: PathBuf) -> Result<ModelFile> {
    let file = ModelFile::from_bytes(bytes)?;
    Ok(ModelFile { path, ..file })
}

/// Read and check the model file at `path` for sampling and scoring ([`ModelFile::read`]).
pub fn read_model(path: &Path) -> Result<ModelFile> {
    ModelFile::read(path)
}

/// Read and check the model file at `path` for evaluation ([`ModelFile::load`]: the messages
/// of `emberflow eval` and `emberflow plot`).
pub fn read_model_for_eval(path: &Path) -> Result<ModelFile> {
    ModelFile::load(path)
}

/// Run `f` on the decoded networks of `model` (an energy+flow file [`model_from_bytes`]
/// accepted): the tilted energy, the flow and the header.
pub fn with_networks<T>(
    model: &ModelFile,
    f: impl FnOnce(&TiltedMlp<'_>, &RealNvpFlow<'_>, &Header<'_>) -> Result<T>,
) -> Result<T> {
    let view = ModelView::parse(&model.bytes).map_err(|e| anyhow!("decoding the model: {e}"))?;
    let mut storage = vec![0.0f32; Model::storage_len(model.dim)];
    let file =
        Model::from_view(&view, &mut storage).map_err(|e| anyhow!("decoding the model: {e}"))?;
    let (u, flow) = file
        .joint()
        .ok_or_else(|| anyhow!("the model is not an energy+flow model"))?;
    f(u, flow, view.header())
}

/// U (model units) at data-unit points (`dim` values a point, one after the other).
pub fn energies_at(model: &ModelFile, points: &[f32]) -> Result<Vec<f32>> {
    with_networks(model, |u, _, header| {
        let f = |x: &[f32]| {
            let mut buf = vec![0.0f32; score_len(u)];
            score(u, &header.normalization, x, &mut buf)
        };
        Ok(par_rows(points, model.dim, &f))
    })
}

/// Energies and the EBM's mode weights of `model`.
pub fn model_quantities(model: &ModelFile, inputs: &ModelInputs<'_>) -> Result<ModelQuantities> {
    with_networks(model, |energy, flow, header| {
        quantities(model.dim, energy, flow, header, inputs)
    })
}

fn quantities(
    d: usize,
    energy: &TiltedMlp<'_>,
    flow: &RealNvpFlow<'_>,
    header: &Header<'_>,
    inputs: &ModelInputs<'_>,
) -> Result<ModelQuantities> {
    let u = |x: &[f32]| {
        let mut buf = vec![0.0f32; score_len(energy)];
        score(energy, &header.normalization, x, &mut buf)
    };
    let mut out = ModelQuantities::default();
    if let Some(data) = inputs.data {
        out.u_data = par_rows(data.values(), d, &u);
    }
    if let Some(s) = inputs.samples {
        out.u_samples = par_rows(s.values(), d, &u);
    }
    let Some(regions) = inputs.regions else {
        return Ok(out);
    };
    if let Some(grid) = inputs.grid.as_ref().filter(|_| d == 2) {
        let pts = grid.points();
        let energies = par_rows(&pts, 2, &u);
        let w =
            mode_weights_from_grid_energies(grid, &energies, regions.n(), |x| regions.region(x));
        let [nx, ny] = grid.cells();
        let (lo, hi) = (grid.lo(), grid.hi());
        out.ebm = Some((
            w,
            format!(
                "softmax(-U) on a {nx}x{ny} grid over [{:.2}, {:.2}] x [{:.2}, {:.2}]",
                lo[0], hi[0], lo[1], hi[1]
            ),
        ));
    } else if d > 2 && inputs.is_draws > 0 {
        let mut r = SeedStream::IMPORTANCE.rng(inputs.seed);
        let n = inputs.is_draws;
        let mut xs = vec![0.0f32; n * d];
        let mut lq = Vec::with_capacity(n);
        let mut us = Vec::with_capacity(n);
        let mut scratch =
            vec![0.0f32; Proposal::scratch_len(flow).max(Potential::scratch_len(energy))];
        for x in xs.chunks_exact_mut(d) {
            lq.push(flow.sample(&mut r, x, &mut scratch));
            us.push(Potential::energy(energy, x, &mut scratch));
            header.normalization.to_data(x);
        }
        let w = mode_weights_importance(&xs, d, &lq, &us, regions.n(), |x| regions.region(x));
        let method = format!(
            "importance sampling, {n} flow draws (Kish ESS {:.0})",
            w.effective_n
        );
        out.ebm = Some((w, method));
    }
    Ok(out)
}

//! A model's own quantities: its energies at points, and the EBM's mode weights (on a grid in
//! 2-D, by importance sampling with the flow above).

use crate::data::Dataset;
use crate::metrics::{
    Grid2d, ModeWeights, Regions, mode_weights_from_grid_energies, mode_weights_importance,
};
use anyhow::{Result, anyhow};
use emberflow_core::SeedStream;
use emberflow_core::mcmc::run::score;
use emberflow_core::model::PaperModel;
use emberflow_core::{Energy, Flow};

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

/// U (model units) at data-unit points, for a model of shape `<D, A, B, H, K>`.
pub fn energies_at<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
>(
    bytes: &[u8],
    points: &[f32],
) -> Result<Vec<f32>> {
    let model = PaperModel::<D, A, B, H, K>::decode(bytes)
        .map_err(|e| anyhow!("decoding the model: {e}"))?;
    let f = |x: &[f32]| {
        let y: [f32; D] = x.try_into().expect("D values");
        score(&model, &y)
    };
    Ok(par_rows(points, D, &f))
}

/// Energies and the EBM's mode weights for a model of shape `<D, A, B, H, K>`.
pub fn model_quantities<
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
>(
    bytes: &[u8],
    inputs: &ModelInputs<'_>,
) -> Result<ModelQuantities> {
    let model = PaperModel::<D, A, B, H, K>::decode(bytes)
        .map_err(|e| anyhow!("decoding the model: {e}"))?;
    let u = |x: &[f32]| {
        let y: [f32; D] = x.try_into().expect("D values");
        score(&model, &y)
    };
    let mut out = ModelQuantities::default();
    if let Some(d) = inputs.data {
        out.u_data = par_rows(d.values(), D, &u);
    }
    if let Some(s) = inputs.samples {
        out.u_samples = par_rows(s.values(), D, &u);
    }
    let Some(regions) = inputs.regions else {
        return Ok(out);
    };
    if let Some(grid) = inputs.grid.as_ref().filter(|_| D == 2) {
        let pts = grid.points();
        let energies = par_rows(&pts, 2, &|x: &[f32]| u(x));
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
    } else if D > 2 && inputs.is_draws > 0 {
        let mut r = SeedStream::IMPORTANCE.rng(inputs.seed);
        let n = inputs.is_draws;
        let mut xs = vec![0.0f32; n * D];
        let mut lq = Vec::with_capacity(n);
        let mut us = Vec::with_capacity(n);
        for x in xs.chunks_exact_mut(D) {
            let mut z = [0.0f32; D];
            lq.push(model.flow.sample(&mut r, &mut z));
            us.push(model.energy.energy(&z));
            model.to_data(&mut z);
            x.copy_from_slice(&z);
        }
        let w = mode_weights_importance(&xs, D, &lq, &us, regions.n(), |x| regions.region(x));
        let method = format!(
            "importance sampling, {n} flow draws (Kish ESS {:.0})",
            w.effective_n
        );
        out.ebm = Some((w, method));
    }
    Ok(out)
}

//! The evaluation of `emberflow eval` (and the figures of `emberflow plot`): how good is a trained model, against data and against its own samples?
//!
//! * **Mode weights** — the share of mass in each mode's region, for the data, the samples and
//!   the EBM itself (2-D: `softmax(−U)` on a grid; d > 2: self-normalised importance sampling
//!   with the model's flow as proposal). Regions, in order of precedence: the centres of
//!   `--centers` (nearest centre); k-means on the data with `--k` clusters; the true regions of
//!   the built-in set the model was trained on (true weights known); otherwise k-means on the
//!   data with `k` chosen by the silhouette rule of [`choose_k`](crate::metrics::choose_k()).
//! * **R̂ and ESS** of the chains in the samples file (rank-normalised split R̂, bulk- and
//!   tail-ESS, as ArviZ), the chains identified by its `chain` column.
//! * **MMD²** between samples and data: Gaussian kernel with the median-heuristic bandwidth,
//!   the unbiased estimator, and a permutation p-value with the null's scale.
//! * **Energy gap**: mean U on the data − mean U on the samples (U = E − ln ρ, model units).
//!
//! Without `--data`, a model trained on a built-in set is compared with that set regenerated
//! from the model's recorded seed (the training data, point for point).

use crate::data::{Dataset, load_csv};
use crate::metrics::{
    Chains, Grid2d, Mmd, ModeWeights, Regions, choose_k, convergence, kmeans, mmd,
    mode_weights_from_grid_energies, mode_weights_from_samples, mode_weights_importance,
    weights_mse,
};
pub use crate::model_file::ModelFile;
use anyhow::{Context, Result, anyhow, bail};
use emberflow_core::SeedStream;
use emberflow_core::mcmc::run::score;
use emberflow_core::model::PaperModel;
use emberflow_core::{Energy, Flow, with_model_shape};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What to evaluate and how (the options of `emberflow eval`).
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// The model file (`.efm`).
    pub model: PathBuf,
    /// Reference data (default for a model trained on a built-in set: that set, regenerated).
    pub data: Option<PathBuf>,
    /// Samples of the model (a `chain,index,x0,…` CSV or bare coordinates).
    pub samples: Option<PathBuf>,
    /// Mode centres, one per row.
    pub centers: Option<PathBuf>,
    /// Regions by k-means with this many clusters.
    pub k: Option<usize>,
    /// Seed of k-means, the MMD and importance sampling.
    pub seed: u64,
    /// Points of each side in the MMD.
    pub mmd_points: usize,
    /// Kernel bandwidth of the MMD (default: the median heuristic).
    pub bandwidth: Option<f64>,
    /// Permutations of the MMD test.
    pub permutations: usize,
    /// Flow draws for the EBM's mode weights by importance sampling (d > 2).
    pub is_draws: usize,
}

/// Read and check a model file for evaluation: readable, valid, energy+flow, of a supported
/// dimension ([`ModelFile::load`]).
pub fn load_model(path: &Path) -> Result<ModelFile> {
    ModelFile::load(path)
}

/// Points and where they came from.
pub struct Points {
    /// Where the points came from (a path or the built-in set).
    pub source: String,
    /// The points, data units.
    pub data: Dataset,
}

/// A numeric CSV whose rows are points of the model's dimension.
pub fn load_points(path: &Path, dim: usize, what: &str) -> Result<Dataset> {
    let data = load_csv(path).map_err(|e| anyhow!("{what}: {e}"))?;
    if data.dim() != dim {
        bail!(
            "{what}: {} has {} column{}, but the model is {dim}-dimensional",
            path.display(),
            data.dim(),
            if data.dim() == 1 { "" } else { "s" }
        );
    }
    Ok(data)
}

/// The reference data: `--data`, or the built-in training set regenerated from the model's seed.
pub fn reference_data(model: &ModelFile, data: Option<&Path>) -> Result<Option<Points>> {
    if let Some(path) = data {
        return Ok(Some(Points {
            source: path.display().to_string(),
            data: load_points(path, model.dim, "--data")?,
        }));
    }
    Ok(model.builtin().map(|set| Points {
        source: format!(
            "built-in {} regenerated from the model's seed {}",
            set.name(),
            model.seed
        ),
        data: set.sample(set.paper_len(), model.seed),
    }))
}

/// Samples and their chains.
pub struct Samples {
    /// The samples file.
    pub source: String,
    /// The samples, data units, in file order.
    pub points: Dataset,
    /// Row indices of each chain, in draw order (one chain in file order without a `chain`
    /// column).
    pub chains: Vec<Vec<usize>>,
    /// Whether the file has a `chain` column.
    pub chain_column: bool,
}

/// Header names of a CSV (lower-case, unquoted), if its first line is a header.
fn csv_header(path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let fields: Vec<String> = line
        .split(',')
        .map(|f| f.trim().trim_matches('"').trim().to_ascii_lowercase())
        .collect();
    fields
        .iter()
        .all(|f| f.parse::<f32>().is_err())
        .then_some(fields)
}

/// Read a samples CSV: `chain` and `index` (or `draw`) columns where its header names them,
/// the other columns the coordinates in data units.
pub fn load_samples(path: &Path, dim: usize) -> Result<Samples> {
    let table = load_csv(path).map_err(|e| anyhow!("--samples: {e}"))?;
    let header = csv_header(path);
    let find = |names: &[&str]| {
        header
            .as_ref()
            .and_then(|h| h.iter().position(|f| names.contains(&f.as_str())))
    };
    let chain_col = find(&["chain"]);
    let index_col = find(&["index", "draw", "iteration"]);
    let special = usize::from(chain_col.is_some()) + usize::from(index_col.is_some());
    let coords = table.dim().saturating_sub(special);
    if coords != dim || table.dim() < special {
        bail!(
            "--samples: {} has {coords} coordinate column{}{}, but the model is {dim}-dimensional",
            path.display(),
            if coords == 1 { "" } else { "s" },
            if special > 0 {
                " besides chain/index"
            } else if table.dim() == dim + 2 {
                " (a `chain,index,…` header is needed to name the chain column)"
            } else {
                ""
            }
        );
    }
    let keep: Vec<usize> = (0..table.dim())
        .filter(|c| Some(*c) != chain_col && Some(*c) != index_col)
        .collect();
    let mut values = Vec::with_capacity(table.len() * dim);
    let mut by_chain: BTreeMap<u64, Vec<(f32, usize)>> = BTreeMap::new();
    for (r, row) in table.rows().enumerate() {
        values.extend(keep.iter().map(|&c| row[c]));
        let chain = match chain_col {
            Some(c) => {
                let v = row[c];
                if v < 0.0 || v.fract() != 0.0 || v > u32::MAX as f32 {
                    bail!(
                        "--samples: {}, data row {}: chain id `{v}` is not a non-negative integer",
                        path.display(),
                        r + 1
                    );
                }
                v as u64
            }
            None => 0,
        };
        let order = index_col.map_or(r as f32, |c| row[c]);
        by_chain.entry(chain).or_default().push((order, r));
    }
    let chains = by_chain
        .into_values()
        .map(|mut rows| {
            rows.sort_by(|a, b| a.0.total_cmp(&b.0));
            rows.into_iter().map(|(_, r)| r).collect()
        })
        .collect();
    Ok(Samples {
        source: path.display().to_string(),
        points: Dataset::new(dim, values).map_err(|e| anyhow!("--samples: {e}"))?,
        chains,
        chain_column: chain_col.is_some(),
    })
}

/// The regions of an evaluation or a plot (see the module documentation for the precedence).
pub fn resolve_regions(
    model: &ModelFile,
    centers: Option<&Path>,
    k: Option<usize>,
    data: Option<&Points>,
    seed: u64,
) -> Result<Option<Regions>> {
    if let Some(path) = centers {
        let c = load_points(path, model.dim, "--centers")?;
        let centres: Vec<Vec<f32>> = c.rows().map(<[f32]>::to_vec).collect();
        return Ok(Some(Regions::Centres {
            how: format!(
                "{} centre{} from {} (nearest centre)",
                centres.len(),
                if centres.len() == 1 { "" } else { "s" },
                path.display()
            ),
            centres,
            kmeans: None,
        }));
    }
    if let Some(k) = k {
        let data = data.context("--k: k-means runs on the data; give --data")?;
        if k == 0 || k > data.data.len() {
            bail!(
                "--k must be between 1 and the number of data points ({})",
                data.data.len()
            );
        }
        let fit = kmeans(&data.data, k, seed);
        return Ok(Some(Regions::Centres {
            how: format!("k-means on the data, k = {k} (given; seed {seed})"),
            centres: fit.centres,
            kmeans: None,
        }));
    }
    if let Some(set) = model.builtin() {
        return Ok(Some(Regions::Truth(set.truth())));
    }
    let Some(data) = data else { return Ok(None) };
    let choice = choose_k(&data.data, seed);
    let how = format!(
        "k-means on the data, k = {} ({}; seed {seed})",
        choice.k, choice.rule
    );
    Ok(Some(Regions::Centres {
        how,
        centres: choice.centres.clone(),
        kmeans: Some(choice),
    }))
}

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

/// Convergence diagnostics of the samples' chains.
pub struct ChainReport {
    /// Chains.
    pub chains: usize,
    /// Draws per chain (the shortest chain's length).
    pub draws: usize,
    /// Rows beyond the shortest chain's length, not used.
    pub dropped: usize,
    /// R̂ per dimension.
    pub rhat: Vec<f64>,
    /// Bulk ESS per dimension.
    pub ess_bulk: Vec<f64>,
    /// Tail ESS per dimension.
    pub ess_tail: Vec<f64>,
}

/// Everything `emberflow eval` reports.
pub struct Evaluation {
    /// The model file.
    pub model: ModelFile,
    /// The reference data.
    pub data: Option<Points>,
    /// The samples.
    pub samples: Option<Samples>,
    /// The regions of the mode weights.
    pub regions: Option<Regions>,
    /// The true mode weights (built-in sets).
    pub true_weights: Option<Vec<f64>>,
    /// The data's mode weights.
    pub data_weights: Option<ModeWeights>,
    /// The samples' mode weights.
    pub sample_weights: Option<ModeWeights>,
    /// The EBM's mode weights and how they were computed.
    pub ebm_weights: Option<(ModeWeights, String)>,
    /// Convergence of the samples' chains.
    pub chains: Option<ChainReport>,
    /// The MMD test of samples against data.
    pub mmd: Option<Mmd>,
    /// Energies on data and samples.
    pub quantities: ModelQuantities,
    /// What was skipped or should be kept in mind.
    pub notes: Vec<String>,
}

/// The grid of the EBM's 2-D mode weights: the built-in set's fixed box, or the data's (else
/// the samples') bounding box widened by 10 %.
pub fn weight_grid(
    model: &ModelFile,
    data: Option<&Dataset>,
    samples: Option<&Dataset>,
) -> Option<Grid2d> {
    if model.dim != 2 {
        return None;
    }
    if let Some(g) = model.builtin().and_then(Grid2d::for_set) {
        return Some(g);
    }
    data.or(samples).and_then(Grid2d::covering)
}

fn chain_report(s: &Samples, dim: usize, notes: &mut Vec<String>) -> Option<ChainReport> {
    let draws = s.chains.iter().map(Vec::len).min().unwrap_or(0);
    let chains = s.chains.len();
    if draws < 4 {
        notes.push(format!(
            "R-hat/ESS skipped: {chains} chain(s) with as few as {draws} draw(s); at least 4 draws per chain are needed"
        ));
        return None;
    }
    let mut values = Vec::with_capacity(chains * draws * dim);
    for rows in &s.chains {
        for &r in &rows[..draws] {
            values.extend_from_slice(s.points.row(r));
        }
    }
    let dropped = s.points.len() - chains * draws;
    if dropped > 0 {
        notes.push(format!(
            "chains have unequal lengths: each cut to the shortest ({draws} draws), {dropped} rows unused in R-hat/ESS"
        ));
    }
    if !s.chain_column {
        notes.push(
            "the samples have no `chain` column: R-hat/ESS treat them as one chain in file order"
                .into(),
        );
    }
    let c = Chains::new(&values, chains, draws, dim).ok()?;
    let conv = convergence(&c);
    Some(ChainReport {
        chains,
        draws,
        dropped,
        rhat: conv.rhat,
        ess_bulk: conv.ess_bulk,
        ess_tail: conv.ess_tail,
    })
}

/// Run the whole evaluation (the MMD test only `with_mmd`).
pub fn evaluate(args: &EvalOptions, with_mmd: bool) -> Result<Evaluation> {
    let model = load_model(&args.model)?;
    let data = reference_data(&model, args.data.as_deref())?;
    let samples = match &args.samples {
        Some(p) => Some(load_samples(p, model.dim)?),
        None => None,
    };
    let regions = resolve_regions(
        &model,
        args.centers.as_deref(),
        args.k,
        data.as_ref(),
        args.seed,
    )?;
    if data.is_none() && samples.is_none() && regions.is_none() {
        bail!(
            "nothing to evaluate: give --data and/or --samples (the model was trained on `{}`, not a built-in set)",
            model.dataset
        );
    }
    let mut notes = Vec::new();
    let grid = weight_grid(
        &model,
        data.as_ref().map(|d| &d.data),
        samples.as_ref().map(|s| &s.points),
    );
    let inputs = ModelInputs {
        data: data.as_ref().map(|d| &d.data),
        samples: samples.as_ref().map(|s| &s.points),
        regions: regions.as_ref(),
        grid,
        is_draws: args.is_draws,
        seed: args.seed,
    };
    let bytes = &model.bytes;
    let quantities = with_model_shape!(model.dim, model_quantities(bytes, &inputs))
        .expect("dimension checked on load")?;
    let weights_of = |d: &Dataset| {
        regions
            .as_ref()
            .map(|r| mode_weights_from_samples(d.values(), d.dim(), r.n(), |x| r.region(x)))
    };
    let data_weights = data.as_ref().and_then(|d| weights_of(&d.data));
    let sample_weights = samples.as_ref().and_then(|s| weights_of(&s.points));
    let chains = samples
        .as_ref()
        .and_then(|s| chain_report(s, model.dim, &mut notes));
    let mmd = match (&samples, &data) {
        _ if !with_mmd => None,
        (Some(s), Some(d)) if s.points.len() >= 2 && d.data.len() >= 2 => Some(mmd(
            &s.points,
            &d.data,
            args.mmd_points,
            args.permutations,
            args.bandwidth,
            args.seed,
        )),
        (Some(_), Some(_)) => {
            notes.push("MMD skipped: it needs at least 2 samples and 2 data points".into());
            None
        }
        _ => None,
    };
    if let Some(s) = &samples
        && s.chain_column
        && mmd.is_some()
    {
        notes.push(
            "the permutation p-value assumes independent draws; correlated chain draws make it optimistic"
                .into(),
        );
    }
    if regions.is_none() {
        notes.push(
            "mode weights skipped: no regions (give --centers, --k, or --data for k-means)".into(),
        );
    }
    let ebm_weights = quantities.ebm.clone();
    Ok(Evaluation {
        true_weights: regions.as_ref().and_then(Regions::truth),
        model,
        data,
        samples,
        regions,
        data_weights,
        sample_weights,
        ebm_weights,
        chains,
        mmd,
        quantities,
        notes,
    })
}

/// Mean of the finite values and how many were not finite.
fn finite_mean(v: &[f32]) -> (f64, usize) {
    let (mut s, mut n) = (0.0f64, 0usize);
    for &x in v {
        if x.is_finite() {
            s += f64::from(x);
            n += 1;
        }
    }
    (if n > 0 { s / n as f64 } else { f64::NAN }, v.len() - n)
}

impl Evaluation {
    /// `(mean U on data, mean U on samples, gap)`, NaN where missing.
    pub fn energy_gap(&self) -> (f64, f64, f64) {
        let (ud, _) = finite_mean(&self.quantities.u_data);
        let (us, _) = finite_mean(&self.quantities.u_samples);
        (ud, us, ud - us)
    }

    /// The reference of the weights' MSE: the true weights, else the data's.
    fn mse_reference(&self) -> Option<(&'static str, Vec<f64>)> {
        if let Some(t) = &self.true_weights {
            return Some(("true", t.clone()));
        }
        self.data_weights
            .as_ref()
            .map(|w| ("data", w.weights.clone()))
    }

    /// The rows of the weights table: `(name, weights)`.
    pub fn weight_rows(&self) -> Vec<(&'static str, Vec<f64>)> {
        let mut rows = Vec::new();
        if let Some(t) = &self.true_weights {
            rows.push(("true", t.clone()));
        }
        if let Some(w) = &self.data_weights {
            rows.push(("data", w.weights.clone()));
        }
        if let Some((w, _)) = &self.ebm_weights {
            rows.push(("EBM", w.weights.clone()));
        }
        if let Some(w) = &self.sample_weights {
            rows.push(("samples", w.weights.clone()));
        }
        rows
    }

    /// Plain-text report.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let m = &self.model;
        let _ = writeln!(
            o,
            "model      {} ({}-D, trained on {}, seed {}, {} iterations)",
            m.path.display(),
            m.dim,
            m.dataset,
            m.seed,
            m.iterations
        );
        match &self.data {
            Some(d) => {
                let _ = writeln!(o, "data       {} ({} points)", d.source, d.data.len());
            }
            None => {
                let _ = writeln!(o, "data       none");
            }
        }
        match &self.samples {
            Some(s) => {
                let _ = writeln!(
                    o,
                    "samples    {} ({} points, {} chain{})",
                    s.source,
                    s.points.len(),
                    s.chains.len(),
                    if s.chains.len() == 1 { "" } else { "s" }
                );
            }
            None => {
                let _ = writeln!(o, "samples    none");
            }
        }
        if let Some(r) = &self.regions {
            let _ = writeln!(o, "regions    {}", r.describe());
            if let Regions::Centres {
                kmeans: Some(c), ..
            } = r
            {
                let scores: Vec<String> = c
                    .scores
                    .iter()
                    .map(|(k, s)| format!("{k}:{s:.2}"))
                    .collect();
                let _ = writeln!(o, "           silhouette by k  {}", scores.join("  "));
            }
            for (k, c) in r.centres().iter().enumerate() {
                let shown: Vec<String> = c.iter().take(4).map(|v| format!("{v:.3}")).collect();
                let more = if c.len() > 4 { ", …" } else { "" };
                let _ = writeln!(
                    o,
                    "           mode {:<2} centre ({}{more})",
                    k + 1,
                    shown.join(", ")
                );
            }
        }
        let rows = self.weight_rows();
        if !rows.is_empty() {
            let n = rows[0].1.len();
            let reference = self.mse_reference();
            let _ = writeln!(o);
            let mut head = format!("{:<20}", "mode weights");
            for k in 0..n {
                head += &format!(" {:>7}", format!("mode {}", k + 1));
            }
            if let Some((name, _)) = &reference {
                head += &format!("   MSE vs {name}");
            }
            let _ = writeln!(o, "{head}");
            for (name, w) in &rows {
                let mut line = format!("  {name:<18}");
                for v in w {
                    line += &format!(" {v:>7.4}");
                }
                if let Some((rname, rw)) = &reference
                    && rname != name
                {
                    line += &format!("   {:.3e}", weights_mse(w, rw));
                }
                let _ = writeln!(o, "{line}");
            }
            if let Some((w, how)) = &self.ebm_weights {
                let skipped = if w.skipped > 0 {
                    format!(", {} skipped", w.skipped)
                } else {
                    String::new()
                };
                let _ = writeln!(o, "  EBM: {how}{skipped}");
            }
        }
        if let Some(c) = &self.chains {
            let _ = writeln!(o);
            let _ = writeln!(
                o,
                "convergence  {} chain{} x {} draws (rank-normalised split R-hat, bulk/tail ESS as ArviZ)",
                c.chains,
                if c.chains == 1 { "" } else { "s" },
                c.draws
            );
            let argmax = |v: &[f64], better: fn(f64, f64) -> bool| {
                v.iter()
                    .enumerate()
                    .fold(None::<(usize, f64)>, |b, (i, &x)| match b {
                        Some((_, bx)) if !better(x, bx) => b,
                        _ => Some((i, x)),
                    })
            };
            let show =
                |name: &str, v: &[f64], better: fn(f64, f64) -> bool, prec: usize| match argmax(
                    v, better,
                ) {
                    Some((i, x)) => format!("  {name:<14} {x:.prec$}  (x{i})"),
                    None => format!("  {name:<14} n/a"),
                };
            let _ = writeln!(
                o,
                "{}",
                show("max R-hat", &c.rhat, |a, b| a > b || a.is_nan(), 4)
            );
            let _ = writeln!(
                o,
                "{}",
                show("min bulk ESS", &c.ess_bulk, |a, b| a < b || a.is_nan(), 0)
            );
            let _ = writeln!(
                o,
                "{}",
                show("min tail ESS", &c.ess_tail, |a, b| a < b || a.is_nan(), 0)
            );
            if c.rhat.len() <= 8 {
                for j in 0..c.rhat.len() {
                    let _ = writeln!(
                        o,
                        "    x{j:<3} R-hat {:.4}  bulk ESS {:>8.0}  tail ESS {:>8.0}",
                        c.rhat[j], c.ess_bulk[j], c.ess_tail[j]
                    );
                }
            }
        }
        if let Some(mm) = &self.mmd {
            let _ = writeln!(o);
            let _ = writeln!(
                o,
                "MMD^2        {:.3e}  (unbiased; Gaussian kernel, bandwidth {:.4}{}; {} samples vs {} data points)",
                mm.mmd2,
                mm.bandwidth,
                if mm.median {
                    " = median distance"
                } else {
                    ", given"
                },
                mm.n_samples,
                mm.n_data
            );
            if mm.permutations > 0 {
                let _ = writeln!(
                    o,
                    "  null (permutations)  mean {:.3e}, sd {:.3e}; p = {:.3} ({} permutations)",
                    mm.null_mean, mm.null_sd, mm.p_value, mm.permutations
                );
            }
        }
        let (ud, us, gap) = self.energy_gap();
        let (has_d, has_s) = (
            !self.quantities.u_data.is_empty(),
            !self.quantities.u_samples.is_empty(),
        );
        if has_d || has_s {
            let _ = writeln!(o);
            if has_d && has_s {
                let _ = writeln!(
                    o,
                    "energy gap   {}  = mean U on data {} - mean U on samples {} (U = E - ln rho, model units)",
                    fmt_num(gap, "+.4"),
                    fmt_num(ud, ".4"),
                    fmt_num(us, ".4")
                );
            } else {
                let (what, v) = if has_d { ("data", ud) } else { ("samples", us) };
                let _ = writeln!(
                    o,
                    "energy       mean U on {what} {} (U = E - ln rho, model units; the gap needs both data and samples)",
                    fmt_num(v, ".4")
                );
            }
            let (_, bad_d) = finite_mean(&self.quantities.u_data);
            let (_, bad_s) = finite_mean(&self.quantities.u_samples);
            if bad_d + bad_s > 0 {
                let _ = writeln!(
                    o,
                    "  non-finite U: {bad_d} data points, {bad_s} samples (left out of the means)"
                );
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(o);
            for n in &self.notes {
                let _ = writeln!(o, "note: {n}");
            }
        }
        o
    }

    /// JSON report.
    pub fn json(&self) -> Value {
        let m = &self.model;
        let weights = |w: &Option<ModeWeights>| w.as_ref().map(|w| json!(w.weights));
        let reference = self.mse_reference();
        let mse = |w: Option<&Vec<f64>>| -> Value {
            match (w, &reference) {
                (Some(w), Some((_, r))) => json!(weights_mse(w, r)),
                _ => Value::Null,
            }
        };
        let (ud, us, gap) = self.energy_gap();
        json!({
            "model": {
                "path": m.path.display().to_string(),
                "dim": m.dim,
                "dataset": m.dataset,
                "seed": m.seed,
                "iterations": m.iterations,
            },
            "data": self.data.as_ref().map(|d| json!({"source": d.source, "points": d.data.len()})),
            "samples": self.samples.as_ref().map(|s| json!({
                "source": s.source,
                "points": s.points.len(),
                "chains": s.chains.len(),
                "chain_column": s.chain_column,
            })),
            "regions": self.regions.as_ref().map(|r| json!({
                "method": match r {
                    Regions::Truth(_) => "built-in",
                    Regions::Centres { kmeans: Some(_), .. } => "k-means (automatic k)",
                    Regions::Centres { .. } if r.describe().starts_with("k-means") => "k-means",
                    Regions::Centres { .. } => "centres",
                },
                "description": r.describe(),
                "k": r.n(),
                "centres": r.centres(),
                "silhouette": match r {
                    Regions::Centres { kmeans: Some(c), .. } =>
                        json!(c.scores.iter().map(|(k, s)| json!({"k": k, "score": s})).collect::<Vec<_>>()),
                    _ => Value::Null,
                },
            })),
            "mode_weights": self.regions.as_ref().map(|_| json!({
                "true": self.true_weights,
                "data": weights(&self.data_weights),
                "samples": weights(&self.sample_weights),
                "ebm": self.ebm_weights.as_ref().map(|(w, _)| json!(w.weights)),
                "ebm_method": self.ebm_weights.as_ref().map(|(_, h)| h.clone()),
                "mse_reference": reference.as_ref().map(|(n, _)| *n),
                "mse": {
                    "data": mse(self.data_weights.as_ref().map(|w| &w.weights)),
                    "samples": mse(self.sample_weights.as_ref().map(|w| &w.weights)),
                    "ebm": mse(self.ebm_weights.as_ref().map(|(w, _)| &w.weights)),
                },
            })),
            "convergence": self.chains.as_ref().map(|c| {
                let conv = crate::metrics::Convergence {
                    rhat: c.rhat.clone(),
                    ess_bulk: c.ess_bulk.clone(),
                    ess_tail: c.ess_tail.clone(),
                };
                json!({
                    "chains": c.chains,
                    "draws": c.draws,
                    "unused_rows": c.dropped,
                    "max_rhat": conv.max_rhat(),
                    "min_ess_bulk": conv.min_ess_bulk(),
                    "min_ess_tail": conv.min_ess_tail(),
                    "rhat": c.rhat,
                    "ess_bulk": c.ess_bulk,
                    "ess_tail": c.ess_tail,
                })
            }),
            "mmd": self.mmd.as_ref().map(|mm| json!({
                "mmd2": mm.mmd2,
                "bandwidth": mm.bandwidth,
                "kernel": if mm.median { "gaussian, median heuristic" } else { "gaussian, given bandwidth" },
                "n_samples": mm.n_samples,
                "n_data": mm.n_data,
                "permutations": mm.permutations,
                "null_mean": mm.null_mean,
                "null_sd": mm.null_sd,
                "p_value": mm.p_value,
            })),
            "energy": {
                "mean_u_data": ud,
                "mean_u_samples": us,
                "gap": gap,
                "non_finite_data": finite_mean(&self.quantities.u_data).1,
                "non_finite_samples": finite_mean(&self.quantities.u_samples).1,
            },
            "notes": self.notes,
        })
    }
}

fn fmt_num(v: f64, spec: &str) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    match spec {
        "+.4" => format!("{v:+.4}"),
        _ => format!("{v:.4}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_grouped_by_chain_and_ordered_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(
            &p,
            "chain,index,x0,x1\n1,1,11,0\n0,1,1,0\n1,0,10,0\n0,0,0,0\n0,2,2,0\n",
        )
        .unwrap();
        let s = load_samples(&p, 2).unwrap();
        assert!(s.chain_column);
        let firsts: Vec<Vec<f32>> = s
            .chains
            .iter()
            .map(|rows| rows.iter().map(|&r| s.points.row(r)[0]).collect())
            .collect();
        assert_eq!(firsts, vec![vec![0.0, 1.0, 2.0], vec![10.0, 11.0]]);
        std::fs::write(&p, "chain,index,x0,x1\n0.5,0,1,2\n").unwrap();
        let e = load_samples(&p, 2).err().unwrap().to_string();
        assert!(e.contains("chain id"), "{e}");
        std::fs::write(&p, "1,2\n3,4\n").unwrap();
        let s = load_samples(&p, 2).unwrap();
        assert!(!s.chain_column && s.chains == vec![vec![0, 1]]);
        std::fs::write(&p, "0,0,1,2\n").unwrap();
        let e = load_samples(&p, 2).err().unwrap().to_string();
        assert!(e.contains("header is needed"), "{e}");
    }
}

//! `emberflow eval`: how good is a trained model, against data and against its own samples?
//!
//! * **Mode weights** — the share of mass in each mode's region, for the data, the samples and
//!   the EBM itself (2-D: `softmax(−U)` on a grid; d > 2: self-normalised importance sampling
//!   with the model's flow as proposal). Regions, in order of precedence: the centres of
//!   `--centers` (nearest centre); k-means on the data with `--k` clusters; the true regions of
//!   the built-in set the model was trained on (true weights known); otherwise k-means on the
//!   data with `k` chosen by the silhouette rule of [`choose_k`].
//! * **R̂ and ESS** of the chains in the samples file (rank-normalised split R̂, bulk- and
//!   tail-ESS, as ArviZ), the chains identified by its `chain` column.
//! * **MMD²** between samples and data: Gaussian kernel with the median-heuristic bandwidth,
//!   the unbiased estimator, and a permutation p-value with the null's scale.
//! * **Energy gap**: mean U on the data − mean U on the samples (U = E − ln ρ, model units).
//!
//! Without `--data`, a model trained on a built-in set is compared with that set regenerated
//! from the model's recorded seed (the training data, point for point).

use anyhow::{Context, Result, anyhow, bail};
use clap::Args as ClapArgs;
use emberflow_core::model::{ModelView, PaperModel};
use emberflow_core::shapes::SUPPORTED_DIMS;
use emberflow_core::{Energy, Flow, ModelKind, RngCore, Xoshiro128PlusPlus, with_model_shape};
use emberflow_train::data::{BuiltIn, Dataset, GroundTruth, load_csv};
use emberflow_train::metrics::{
    Chains, Grid2d, ModeWeights, convergence, mode_weights_from_grid_energies,
    mode_weights_from_samples, mode_weights_importance, weights_mse,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// `emberflow eval` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The model file (`.efm`).
    #[arg(long)]
    pub model: PathBuf,
    /// Reference data, a CSV of the model's dimension (default for a model trained on a
    /// built-in set: that set, regenerated from the model's seed).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Samples of the model: a CSV with a `chain,index,x0,…` header (as `emberflow sample`
    /// writes), or bare coordinates (then one chain, in file order).
    #[arg(long)]
    pub samples: Option<PathBuf>,
    /// Mode centres, one per row (regions: nearest centre, in data units).
    #[arg(long, conflicts_with = "k")]
    pub centers: Option<PathBuf>,
    /// Regions by k-means on the data with this many clusters (default: the true regions of a
    /// built-in set, otherwise k chosen by the silhouette rule).
    #[arg(long)]
    pub k: Option<usize>,
    /// Seed of k-means, the MMD subsamples and permutations, and importance sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Points of each side in the MMD (random subsample; the cost grows as its square).
    #[arg(long, default_value_t = 1000)]
    pub mmd_points: usize,
    /// Kernel bandwidth of the MMD in data units (default: the median heuristic, the median
    /// distance between pooled points; with well-separated modes it mostly compares mode
    /// weights, a smaller bandwidth also compares the shape within modes).
    #[arg(long)]
    pub bandwidth: Option<f64>,
    /// Permutations of the MMD test (0: statistic only).
    #[arg(long, default_value_t = 200)]
    pub permutations: usize,
    /// Flow draws for the EBM's mode weights by importance sampling (d > 2).
    #[arg(long, default_value_t = 20_000)]
    pub is_draws: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// A checked energy+flow model file and what its header says.
pub(crate) struct ModelFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub dim: usize,
    /// The training set's name (a built-in name, `digits`, or the CSV path).
    pub dataset: String,
    pub seed: u64,
    pub iterations: u64,
    /// `shift`, `scale` of `x_data = shift + scale · x_model`.
    pub shift: Vec<f32>,
    pub scale: Vec<f32>,
}

impl ModelFile {
    /// The built-in set the model was trained on, if it is one of this dimension.
    pub fn builtin(&self) -> Option<BuiltIn> {
        self.dataset
            .parse::<BuiltIn>()
            .ok()
            .filter(|b| b.dim() == self.dim)
    }
}

/// Read and check a model file: readable, valid, energy+flow, of a supported dimension.
pub(crate) fn load_model(path: &Path) -> Result<ModelFile> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read the model {}", path.display()))?;
    let (dim, dataset, seed, iterations, shift, scale) = {
        let view = ModelView::parse(&bytes)
            .with_context(|| format!("{} is not a valid model file", path.display()))?;
        let h = view.header();
        if h.kind != ModelKind::EnergyFlow {
            bail!(
                "{} holds {}; evaluation needs an energy+flow model (as `emberflow train` writes)",
                path.display(),
                h.kind.article_name()
            );
        }
        (
            usize::from(h.dim),
            h.training.dataset.to_owned(),
            h.training.seed,
            h.training.iterations,
            h.normalization.shift.iter().collect::<Vec<f32>>(),
            h.normalization.scale.iter().collect::<Vec<f32>>(),
        )
    };
    if !SUPPORTED_DIMS.contains(&dim) {
        bail!(
            "{}: dimension {dim} has no model shape in this build (supported: {SUPPORTED_DIMS:?})",
            path.display()
        );
    }
    Ok(ModelFile {
        path: path.to_path_buf(),
        bytes,
        dim,
        dataset,
        seed,
        iterations,
        shift,
        scale,
    })
}

/// Points and where they came from.
pub(crate) struct Points {
    pub source: String,
    pub data: Dataset,
}

/// A numeric CSV whose rows are points of the model's dimension.
pub(crate) fn load_points(path: &Path, dim: usize, what: &str) -> Result<Dataset> {
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
pub(crate) fn reference_data(model: &ModelFile, data: Option<&Path>) -> Result<Option<Points>> {
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
pub(crate) struct Samples {
    pub source: String,
    pub points: Dataset,
    /// Row indices of each chain, in draw order (one chain in file order without a `chain`
    /// column).
    pub chains: Vec<Vec<usize>>,
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
pub(crate) fn load_samples(path: &Path, dim: usize) -> Result<Samples> {
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

// ---------------------------------------------------------------------------------------------
// Regions

/// How points are assigned to modes.
pub(crate) enum Regions {
    /// The true regions of a built-in set.
    Truth(GroundTruth),
    /// Nearest of the given centres (data units).
    Centres {
        centres: Vec<Vec<f32>>,
        how: String,
        kmeans: Option<KChoice>,
    },
}

impl Regions {
    pub fn n(&self) -> usize {
        match self {
            Self::Truth(t) => t.n_modes(),
            Self::Centres { centres, .. } => centres.len(),
        }
    }

    pub fn region(&self, x: &[f32]) -> usize {
        match self {
            Self::Truth(t) => t.region(x),
            Self::Centres { centres, .. } => nearest(centres, x),
        }
    }

    pub fn centres(&self) -> Vec<Vec<f32>> {
        match self {
            Self::Truth(t) => t.centres(),
            Self::Centres { centres, .. } => centres.clone(),
        }
    }

    pub fn truth(&self) -> Option<Vec<f64>> {
        match self {
            Self::Truth(t) => Some(t.weights()),
            Self::Centres { .. } => None,
        }
    }

    /// A few words for figure titles.
    pub fn short(&self) -> String {
        match self {
            Self::Truth(t) => format!("true regions of {}", t.set().name()),
            Self::Centres {
                centres,
                kmeans: Some(_),
                ..
            } => format!("k-means, k = {} (silhouette rule)", centres.len()),
            Self::Centres { how, centres, .. } if how.starts_with("k-means") => {
                format!("k-means, k = {}", centres.len())
            }
            Self::Centres { centres, .. } => format!("nearest of {} centres", centres.len()),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Truth(t) => format!(
                "built-in {}: {} modes, true regions and weights",
                t.set().name(),
                t.n_modes()
            ),
            Self::Centres { how, .. } => how.clone(),
        }
    }
}

fn nearest(centres: &[Vec<f32>], x: &[f32]) -> usize {
    let mut best = (f32::INFINITY, 0);
    for (k, c) in centres.iter().enumerate() {
        let d: f32 = c.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best.0 {
            best = (d, k);
        }
    }
    best.1
}

/// The regions of an evaluation or a plot (see the module documentation for the precedence).
pub(crate) fn resolve_regions(
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

// ---------------------------------------------------------------------------------------------
// Random helpers

fn rng(seed: u64, stream: u64) -> Xoshiro128PlusPlus {
    Xoshiro128PlusPlus::seed_from_u64(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A uniform integer in `0..n` (`n > 0`).
fn below(rng: &mut Xoshiro128PlusPlus, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// `m` distinct indices of `0..n` (all of them, shuffled, when `m ≥ n`).
pub(crate) fn subsample(n: usize, m: usize, rng: &mut Xoshiro128PlusPlus) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    let m = m.min(n);
    for i in 0..m {
        let j = i + below(rng, n - i);
        idx.swap(i, j);
    }
    idx.truncate(m);
    idx
}

fn dist2(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = f64::from(*x) - f64::from(*y);
            d * d
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------
// k-means

/// A k-means fit: centres sorted lexicographically (so mode 1 is the left-most, …).
pub(crate) struct KMeans {
    pub centres: Vec<Vec<f32>>,
}

/// Points k-means is fitted on (a seeded random subset of larger data).
const KMEANS_FIT_POINTS: usize = 10_000;
/// Points of the silhouette score (its cost grows as the square).
const SILHOUETTE_POINTS: usize = 1_500;
/// Largest k the automatic rule tries.
const K_MAX: usize = 10;
/// Below this best mean silhouette the data are taken to have no clear cluster structure
/// (k = 1): the lower end of Kaufman & Rousseeuw's "reasonable structure" band (splitting a
/// single Gaussian scores about 0.35–0.4).
const SILHOUETTE_MIN: f64 = 0.5;

/// Lloyd's k-means with k-means++ seeding, best of 4 restarts by inertia, on at most
/// [`KMEANS_FIT_POINTS`] points.
pub(crate) fn kmeans(data: &Dataset, k: usize, seed: u64) -> KMeans {
    let d = data.dim();
    let mut r = rng(seed, 0x6b6d_6561_6e73 + k as u64);
    let rows: Vec<&[f32]> = subsample(data.len(), KMEANS_FIT_POINTS, &mut r)
        .into_iter()
        .map(|i| data.row(i))
        .collect();
    let k = k.clamp(1, rows.len().max(1));
    let mut best: Option<(f64, Vec<Vec<f64>>)> = None;
    for _restart in 0..4 {
        // k-means++.
        let mut centres: Vec<Vec<f64>> = vec![
            rows[below(&mut r, rows.len())]
                .iter()
                .map(|&v| f64::from(v))
                .collect(),
        ];
        let mut d2: Vec<f64> = rows.iter().map(|x| dist2_f64(&centres[0], x)).collect();
        while centres.len() < k {
            let total: f64 = d2.iter().sum();
            let pick = if total > 0.0 {
                let u = (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
                let mut acc = 0.0;
                d2.iter()
                    .position(|&w| {
                        acc += w;
                        acc > u
                    })
                    .unwrap_or(rows.len() - 1)
            } else {
                below(&mut r, rows.len())
            };
            let c: Vec<f64> = rows[pick].iter().map(|&v| f64::from(v)).collect();
            for (w, x) in d2.iter_mut().zip(&rows) {
                *w = w.min(dist2_f64(&c, x));
            }
            centres.push(c);
        }
        // Lloyd.
        let mut assign = vec![usize::MAX; rows.len()];
        for _iter in 0..300 {
            let mut changed = false;
            for (a, x) in assign.iter_mut().zip(&rows) {
                let j = nearest_f64(&centres, x);
                if *a != j {
                    *a = j;
                    changed = true;
                }
            }
            let mut sums = vec![vec![0.0f64; d]; k];
            let mut counts = vec![0usize; k];
            for (&a, x) in assign.iter().zip(&rows) {
                counts[a] += 1;
                for (s, &v) in sums[a].iter_mut().zip(x.iter()) {
                    *s += f64::from(v);
                }
            }
            for j in 0..k {
                if counts[j] > 0 {
                    centres[j] = sums[j].iter().map(|s| s / counts[j] as f64).collect();
                } else {
                    // An empty cluster takes the point farthest from its centre.
                    let far = rows
                        .iter()
                        .zip(&assign)
                        .map(|(x, &a)| dist2_f64(&centres[a], x))
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .map_or(0, |(i, _)| i);
                    centres[j] = rows[far].iter().map(|&v| f64::from(v)).collect();
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let inertia: f64 = rows
            .iter()
            .map(|x| dist2_f64(&centres[nearest_f64(&centres, x)], x))
            .sum();
        if best.as_ref().is_none_or(|b| inertia < b.0) {
            best = Some((inertia, centres));
        }
    }
    let (_, centres) = best.expect("at least one restart");
    let mut centres: Vec<Vec<f32>> = centres
        .into_iter()
        .map(|c| c.into_iter().map(|v| v as f32).collect())
        .collect();
    centres.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    KMeans { centres }
}

fn dist2_f64(c: &[f64], x: &[f32]) -> f64 {
    c.iter()
        .zip(x)
        .map(|(a, &b)| (a - f64::from(b)).powi(2))
        .sum()
}

fn nearest_f64(centres: &[Vec<f64>], x: &[f32]) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (j, c) in centres.iter().enumerate() {
        let d = dist2_f64(c, x);
        if d < best.0 {
            best = (d, j);
        }
    }
    best.1
}

/// The automatic choice of k.
pub(crate) struct KChoice {
    pub k: usize,
    pub centres: Vec<Vec<f32>>,
    /// Mean silhouette of each k tried, `(k, score)`.
    pub scores: Vec<(usize, f64)>,
    pub rule: String,
}

/// The rule: k-means (seeded) for every k in 2..=10 (at most n − 1), the mean silhouette of
/// each on a fixed subset of at most 1,500 points; k is the one with the largest silhouette,
/// or 1 if even that is below 0.5 (no clear cluster structure).
pub(crate) fn choose_k(data: &Dataset, seed: u64) -> KChoice {
    let n = data.len();
    let mut r = rng(seed, 0x73_696c);
    let pts: Vec<&[f32]> = subsample(n, SILHOUETTE_POINTS, &mut r)
        .into_iter()
        .map(|i| data.row(i))
        .collect();
    let m = pts.len();
    let mut dist = vec![0.0f64; m * m];
    for i in 0..m {
        for j in i + 1..m {
            let v = dist2(pts[i], pts[j]).sqrt();
            dist[i * m + j] = v;
            dist[j * m + i] = v;
        }
    }
    let mut scores = Vec::new();
    let mut best: Option<(f64, usize, Vec<Vec<f32>>)> = None;
    for k in 2..=K_MAX.min(m.saturating_sub(1)) {
        let fit = kmeans(data, k, seed);
        let labels: Vec<usize> = pts.iter().map(|x| nearest(&fit.centres, x)).collect();
        let s = silhouette(&dist, &labels, k);
        scores.push((k, s));
        if best.as_ref().is_none_or(|b| s > b.0) {
            best = Some((s, k, fit.centres));
        }
    }
    match best {
        Some((s, k, centres)) if s >= SILHOUETTE_MIN => KChoice {
            k,
            centres,
            rule: format!(
                "largest mean silhouette {s:.2} over k = 2..={}",
                scores.last().map_or(2, |p| p.0)
            ),
            scores,
        },
        other => {
            let s = other.map_or(f64::NAN, |b| b.0);
            let fit = kmeans(data, 1, seed);
            KChoice {
                k: 1,
                centres: fit.centres,
                rule: format!(
                    "best mean silhouette {s:.2} < {SILHOUETTE_MIN}: no clear cluster structure, one region"
                ),
                scores,
            }
        }
    }
}

/// Mean silhouette `(b − a)/max(a, b)` of labelled points with distance matrix `dist` (a point
/// alone in its cluster scores 0).
fn silhouette(dist: &[f64], labels: &[usize], k: usize) -> f64 {
    let m = labels.len();
    let mut counts = vec![0usize; k];
    labels.iter().for_each(|&l| counts[l] += 1);
    let mut total = 0.0;
    let mut sums = vec![0.0f64; k];
    for i in 0..m {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for j in 0..m {
            sums[labels[j]] += dist[i * m + j];
        }
        let own = labels[i];
        if counts[own] <= 1 {
            continue;
        }
        let a = sums[own] / (counts[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && counts[c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b).max(f64::MIN_POSITIVE);
        }
    }
    total / m.max(1) as f64
}

// ---------------------------------------------------------------------------------------------
// MMD

/// An MMD two-sample test.
pub(crate) struct Mmd {
    /// Unbiased MMD² estimate.
    pub mmd2: f64,
    /// Kernel bandwidth h of `k(x, y) = exp(−|x − y|² / (2h²))`.
    pub bandwidth: f64,
    /// Whether the bandwidth is the median heuristic's.
    pub median: bool,
    pub n_samples: usize,
    pub n_data: usize,
    pub permutations: usize,
    /// Mean and standard deviation of MMD² over the permutations (the null's location and
    /// scale), and the p-value `(1 + #{perm ≥ observed}) / (1 + permutations)`.
    pub null_mean: f64,
    pub null_sd: f64,
    pub p_value: f64,
}

/// Unbiased MMD² between `x` and `y` on random subsets of at most `max_points` each, Gaussian
/// kernel with the median pairwise distance of the pooled subsets as bandwidth (or the given
/// one), and a permutation test.
pub(crate) fn mmd(
    x: &Dataset,
    y: &Dataset,
    max_points: usize,
    permutations: usize,
    bandwidth: Option<f64>,
    seed: u64,
) -> Mmd {
    let mut r = rng(seed, 0x6d6d64);
    let xs = subsample(x.len(), max_points.max(2), &mut r);
    let ys = subsample(y.len(), max_points.max(2), &mut r);
    let pooled: Vec<&[f32]> = xs
        .iter()
        .map(|&i| x.row(i))
        .chain(ys.iter().map(|&i| y.row(i)))
        .collect();
    let (m, n) = (xs.len(), ys.len());
    let total = m + n;
    let mut d2 = vec![0.0f64; total * total];
    for i in 0..total {
        for j in i + 1..total {
            let v = dist2(pooled[i], pooled[j]);
            d2[i * total + j] = v;
            d2[j * total + i] = v;
        }
    }
    let mut upper: Vec<f64> = (0..total)
        .flat_map(|i| (i + 1..total).map(move |j| (i, j)))
        .map(|(i, j)| d2[i * total + j])
        .collect();
    let mid = upper.len() / 2;
    let med = if upper.is_empty() {
        1.0
    } else {
        *upper.select_nth_unstable_by(mid, f64::total_cmp).1
    };
    let h2 = match bandwidth {
        Some(h) => h * h,
        None if med > 0.0 && med.is_finite() => med,
        None => 1.0,
    };
    let kmat: Vec<f64> = d2.iter().map(|&v| (-v / (2.0 * h2)).exp()).collect();
    drop(d2);
    let stat = |is_x: &[bool]| -> f64 {
        let (mut sxx, mut syy, mut sxy) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..total {
            let row = &kmat[i * total..(i + 1) * total];
            let (mut rx, mut ry) = (0.0f64, 0.0f64);
            for j in i + 1..total {
                if is_x[j] {
                    rx += row[j];
                } else {
                    ry += row[j];
                }
            }
            if is_x[i] {
                sxx += rx;
                sxy += ry;
            } else {
                syy += ry;
                sxy += rx;
            }
        }
        let (mf, nf) = (m as f64, n as f64);
        2.0 * sxx / (mf * (mf - 1.0)) + 2.0 * syy / (nf * (nf - 1.0)) - 2.0 * sxy / (mf * nf)
    };
    let mut labels: Vec<bool> = (0..total).map(|i| i < m).collect();
    let observed = stat(&labels);
    let mut null = Vec::with_capacity(permutations);
    for _ in 0..permutations {
        for i in (1..total).rev() {
            let j = below(&mut r, i + 1);
            labels.swap(i, j);
        }
        null.push(stat(&labels));
    }
    let p = null.len() as f64;
    let null_mean = null.iter().sum::<f64>() / p.max(1.0);
    let null_sd =
        (null.iter().map(|v| (v - null_mean).powi(2)).sum::<f64>() / (p - 1.0).max(1.0)).sqrt();
    let exceed = null.iter().filter(|&&v| v >= observed).count();
    Mmd {
        mmd2: observed,
        bandwidth: h2.sqrt(),
        median: bandwidth.is_none(),
        n_samples: m,
        n_data: n,
        permutations,
        null_mean: if permutations > 0 {
            null_mean
        } else {
            f64::NAN
        },
        null_sd: if permutations > 1 { null_sd } else { f64::NAN },
        p_value: if permutations > 0 {
            (1.0 + exceed as f64) / (1.0 + p)
        } else {
            f64::NAN
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Model quantities

/// What the model itself says: energies on data and samples, its own mode weights.
#[derive(Default)]
pub(crate) struct ModelQuantities {
    /// U at each data point (model units).
    pub u_data: Vec<f32>,
    /// U at each sample.
    pub u_samples: Vec<f32>,
    /// The EBM's mode weights and how they were computed.
    pub ebm: Option<(ModeWeights, String)>,
}

/// Inputs of [`model_quantities`].
pub(crate) struct ModelInputs<'a> {
    pub data: Option<&'a Dataset>,
    pub samples: Option<&'a Dataset>,
    pub regions: Option<&'a Regions>,
    /// The 2-D grid of the EBM's weights (data units).
    pub grid: Option<Grid2d>,
    pub is_draws: usize,
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
pub(crate) fn energies_at<
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
        let mut z: [f32; D] = x.try_into().expect("D values");
        model.from_data(&mut z);
        model.energy.energy(&z)
    };
    Ok(par_rows(points, D, &f))
}

/// Energies and the EBM's mode weights for a model of shape `<D, A, B, H, K>`.
pub(crate) fn model_quantities<
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
        let mut z: [f32; D] = x.try_into().expect("D values");
        model.from_data(&mut z);
        model.energy.energy(&z)
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
        let mut r = rng(inputs.seed, 0x6973);
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

// ---------------------------------------------------------------------------------------------
// The evaluation

/// Convergence diagnostics of the samples' chains.
pub(crate) struct ChainReport {
    pub chains: usize,
    pub draws: usize,
    /// Rows beyond the shortest chain's length, not used.
    pub dropped: usize,
    pub rhat: Vec<f64>,
    pub ess_bulk: Vec<f64>,
    pub ess_tail: Vec<f64>,
}

/// Everything `emberflow eval` reports.
pub(crate) struct Evaluation {
    pub model: ModelFile,
    pub data: Option<Points>,
    pub samples: Option<Samples>,
    pub regions: Option<Regions>,
    pub true_weights: Option<Vec<f64>>,
    pub data_weights: Option<ModeWeights>,
    pub sample_weights: Option<ModeWeights>,
    pub ebm_weights: Option<(ModeWeights, String)>,
    pub chains: Option<ChainReport>,
    pub mmd: Option<Mmd>,
    pub quantities: ModelQuantities,
    pub notes: Vec<String>,
}

/// The grid of the EBM's 2-D mode weights: the built-in set's fixed box, or the data's (else
/// the samples') bounding box widened by 10 %.
pub(crate) fn weight_grid(
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
pub(crate) fn evaluate(args: &Args, with_mmd: bool) -> Result<Evaluation> {
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
                let conv = emberflow_train::metrics::Convergence {
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

/// Run `emberflow eval`.
pub fn run(args: &Args) -> Result<()> {
    if args.mmd_points < 2 {
        bail!("--mmd-points must be at least 2");
    }
    if let Some(h) = args.bandwidth
        && !(h > 0.0 && h.is_finite())
    {
        bail!("--bandwidth must be a positive number");
    }
    let ev = evaluate(args, true)?;
    let text = if args.json {
        serde_json::to_string_pretty(&ev.json()).context("writing JSON")? + "\n"
    } else {
        ev.text()
    };
    // A closed pipe (`emberflow eval … | head`) is not an error.
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing to standard output")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emberflow_core::random::standard_normal;

    /// `n` points around each centre (standard deviation `sd`), interleaved.
    fn blobs(centres: &[[f32; 2]], per: usize, sd: f32, seed: u64) -> Dataset {
        let mut r = Xoshiro128PlusPlus::seed_from_u64(seed);
        let mut v = Vec::new();
        for _ in 0..per {
            for c in centres {
                v.push(c[0] + sd * standard_normal(&mut r));
                v.push(c[1] + sd * standard_normal(&mut r));
            }
        }
        Dataset::new(2, v).unwrap()
    }

    #[test]
    fn kmeans_finds_separated_centres_in_sorted_order() {
        let d = blobs(&[[3.0, 0.0], [-3.0, 0.0], [0.0, 4.0]], 400, 0.3, 1);
        let fit = kmeans(&d, 3, 0);
        let want = [[-3.0, 0.0], [0.0, 4.0], [3.0, 0.0]];
        for (c, w) in fit.centres.iter().zip(want) {
            assert!(
                (c[0] - w[0]).abs() < 0.1 && (c[1] - w[1]).abs() < 0.1,
                "{c:?}"
            );
        }
    }

    #[test]
    fn silhouette_rule_picks_the_cluster_count() {
        let d = blobs(&[[3.0, 0.0], [-3.0, 0.0], [0.0, 4.0]], 400, 0.3, 2);
        let c = choose_k(&d, 0);
        assert_eq!(c.k, 3, "{}", c.rule);
        assert_eq!(c.scores.first().map(|s| s.0), Some(2));
        // One Gaussian blob: no clear structure, one region.
        let one = blobs(&[[0.0, 0.0]], 1000, 1.0, 3);
        let c = choose_k(&one, 0);
        assert_eq!(c.k, 1, "{}", c.rule);
        assert_eq!(c.centres.len(), 1);
    }

    #[test]
    fn mmd_separates_shifted_sets_and_not_equal_ones() {
        let a = blobs(&[[0.0, 0.0]], 400, 1.0, 4);
        let b = blobs(&[[0.0, 0.0]], 400, 1.0, 5);
        let shifted = blobs(&[[0.6, 0.0]], 400, 1.0, 6);
        let same = mmd(&a, &b, 400, 200, None, 0);
        let diff = mmd(&a, &shifted, 400, 200, None, 0);
        assert!(same.median && same.bandwidth > 1.0 && same.bandwidth < 2.5);
        assert!(same.p_value > 0.01, "p = {}", same.p_value);
        assert!(diff.p_value < 0.01, "p = {}", diff.p_value);
        assert!(diff.mmd2 > 5.0 * diff.null_sd);
        assert!(same.mmd2.abs() < 4.0 * same.null_sd);
        // The null of the unbiased estimator is centred at 0.
        assert!(diff.null_mean.abs() < diff.null_sd);
        let given = mmd(&a, &shifted, 400, 0, Some(0.5), 0);
        assert!(!given.median && (given.bandwidth - 0.5).abs() < 1e-12);
        assert!(given.p_value.is_nan() && given.null_sd.is_nan());
    }

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

//! The inputs of an evaluation: the model file, the data, the samples file (with its chains)
//! and the mode regions.

use crate::data::{Dataset, load_csv};
use crate::metrics::{Regions, choose_k, kmeans};
use crate::model_file::ModelFile;
use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;
use std::path::Path;

/// Read and check a model file for evaluation: readable, valid, energy+flow, a shape within
/// the run-time limits ([`super::read_model_for_eval`]).
pub fn load_model(path: &Path) -> Result<ModelFile> {
    super::read_model_for_eval(path)
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

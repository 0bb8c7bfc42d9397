//! `emberflow plot`: PNG figures of a model, its samples and its training run.
//!
//! * `density` — 2-D: the learned density `exp(−U)` on a grid, alone and with the data and the
//!   samples over it; d > 2: pairwise projections of data and samples (first dimensions, or
//!   `--dims`) with marginal histograms on the diagonal.
//! * `training` — curves from the JSON report `emberflow train` writes next to a model: mode-
//!   weight MSE, acceptance rates, energy gap, flow loss, and the mode weights of the EBM and
//!   of the negatives over iterations.
//! * `weights` — mode-weight bars: true vs EBM vs negatives from a report, or true/data/EBM/
//!   samples from a model (the regions of `emberflow eval`).
//!
//! Drawn with plotters' bitmap backend; text uses the Ubuntu typeface bundled by the
//! `epaint_default_fonts` crate (registered with plotters' `ab_glyph` renderer), so no system
//! font or fontconfig is needed. Files are written to a temporary name and renamed.

use crate::eval::{self, ModelFile, Points, Samples};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args as ClapArgs, Subcommand};
use emberflow_core::with_model_shape;
use emberflow_train::data::Dataset;
use emberflow_train::metrics::{Grid2d, weights_mse};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `emberflow plot` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// The learned density exp(-U) on a grid with data and samples over it (2-D); pairwise
    /// projections of data and samples (d > 2).
    Density(DensityArgs),
    /// Training curves from the JSON report written next to a model by `emberflow train`.
    Training(TrainingArgs),
    /// Mode-weight bars: from a report (true, EBM, negatives) or from a model (true, data, EBM,
    /// samples).
    Weights(WeightsArgs),
}

/// `emberflow plot density` options.
#[derive(Debug, ClapArgs)]
struct DensityArgs {
    /// The model file (`.efm`).
    #[arg(long)]
    model: PathBuf,
    /// Data to draw (default for a built-in set: that set, from the model's seed).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Samples to draw (`emberflow sample` output or bare coordinates).
    #[arg(long)]
    samples: Option<PathBuf>,
    /// Grid cells per side (2-D).
    #[arg(long, default_value_t = 200)]
    grid: usize,
    /// At most this many points of each set are drawn (a seeded random subset).
    #[arg(long, default_value_t = 3000)]
    points: usize,
    /// d > 2: the dimensions to project, e.g. 0,1,5 (default: the first four).
    #[arg(long)]
    dims: Option<String>,
    /// Colour by ln density (clipped 12 below its maximum) instead of the density.
    #[arg(long)]
    log: bool,
    /// Seed of the subsets drawn.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The PNG file to write.
    #[arg(long)]
    out: PathBuf,
}

/// `emberflow plot training` options.
#[derive(Debug, ClapArgs)]
struct TrainingArgs {
    /// The JSON report of a run (MODEL.json next to MODEL.efm).
    #[arg(long)]
    report: PathBuf,
    /// The PNG file to write.
    #[arg(long)]
    out: PathBuf,
}

/// `emberflow plot weights` options.
#[derive(Debug, ClapArgs)]
struct WeightsArgs {
    /// The JSON report of a run: bars of its final true, EBM and negatives' weights.
    #[arg(long, conflicts_with = "model", required_unless_present = "model")]
    report: Option<PathBuf>,
    /// A model: bars of the weights `emberflow eval` computes (true, data, EBM, samples).
    #[arg(long)]
    model: Option<PathBuf>,
    /// With --model: reference data.
    #[arg(long, requires = "model")]
    data: Option<PathBuf>,
    /// With --model: samples.
    #[arg(long, requires = "model")]
    samples: Option<PathBuf>,
    /// With --model: mode centres, one per row.
    #[arg(long, requires = "model", conflicts_with = "k")]
    centers: Option<PathBuf>,
    /// With --model: k-means on the data with this many clusters.
    #[arg(long, requires = "model")]
    k: Option<usize>,
    /// With --model: seed of k-means and importance sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The PNG file to write.
    #[arg(long)]
    out: PathBuf,
}

/// Run `emberflow plot`.
pub fn run(args: &Args) -> Result<()> {
    register_fonts()?;
    match &args.what {
        What::Density(a) => density(a),
        What::Training(a) => training(a),
        What::Weights(a) => weights(a),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

const FONT: &str = "sans-serif";

fn register_fonts() -> Result<()> {
    for style in [FontStyle::Normal, FontStyle::Bold] {
        plotters::style::register_font(FONT, style, epaint_default_fonts::UBUNTU_LIGHT)
            .map_err(|_| anyhow!("the bundled font could not be loaded"))?;
    }
    Ok(())
}

/// Tableau 10.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Where a PNG goes: checked up front, drawn under a temporary name, renamed at the end.
struct PngTarget {
    path: PathBuf,
    tmp: PathBuf,
}

impl PngTarget {
    fn new(out: &Path) -> Result<Self> {
        let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !ext.eq_ignore_ascii_case("png") {
            bail!("--out {}: the file name must end in .png", out.display());
        }
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !parent.is_dir() {
            bail!(
                "--out {}: the directory {} does not exist",
                out.display(),
                parent.display()
            );
        }
        let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("plot");
        let tmp = parent.join(format!(".{stem}.{}.partial.png", std::process::id()));
        Ok(Self {
            path: out.to_path_buf(),
            tmp,
        })
    }

    fn finish(self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.path).with_context(|| {
            let _ = std::fs::remove_file(&self.tmp);
            format!("cannot write {}", self.path.display())
        })?;
        println!("wrote {}", self.path.display());
        Ok(())
    }

    fn fail<E: std::fmt::Display>(&self, e: E) -> anyhow::Error {
        let _ = std::fs::remove_file(&self.tmp);
        anyhow!("drawing {}: {e}", self.path.display())
    }
}

/// Draw a figure of `size` with `draw` and write it.
fn render(
    out: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<()>,
) -> Result<()> {
    let target = PngTarget::new(out)?;
    {
        let root = BitMapBackend::new(&target.tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| target.fail(e))?;
        draw(&root).map_err(|e| target.fail(e))?;
        root.present().map_err(|e| target.fail(e))?;
    }
    target.finish()
}

/// plotters' error as an `anyhow` error.
fn de<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("{e:?}")
}

/// `[lo, hi]` widened by `margin` of its span (span 1 when empty).
fn widen(lo: f64, hi: f64, margin: f64) -> (f64, f64) {
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mid = 0.5 * (lo + hi);
    (mid - span * (0.5 + margin), mid + span * (0.5 + margin))
}

/// A seeded subset of at most `max` rows.
fn subset(d: &Dataset, max: usize, seed: u64, stream: u64) -> Vec<&[f32]> {
    let mut rng = emberflow_core::Xoshiro128PlusPlus::seed_from_u64(seed ^ stream);
    let mut idx = eval::subsample(d.len(), max, &mut rng);
    idx.sort_unstable();
    idx.into_iter().map(|i| d.row(i)).collect()
}

// ---------------------------------------------------------------------------------------------
// density

fn density(a: &DensityArgs) -> Result<()> {
    if a.grid < 2 || a.grid > 2000 {
        bail!("--grid must be between 2 and 2000 cells per side");
    }
    let model = eval::load_model(&a.model)?;
    let data = eval::reference_data(&model, a.data.as_deref())?;
    let samples = match &a.samples {
        Some(p) => Some(eval::load_samples(p, model.dim)?),
        None => None,
    };
    if model.dim == 2 {
        density_2d(a, &model, data.as_ref(), samples.as_ref())
    } else {
        if data.is_none() && samples.is_none() {
            bail!(
                "a {}-D model is drawn through pairwise projections of data and samples: give --data and/or --samples",
                model.dim
            );
        }
        pairs(a, &model, data.as_ref(), samples.as_ref())
    }
}

/// The plotting box of a 2-D model: the built-in set's grid box, else data and samples ± 10 %,
/// else the normalisation's shift ± 4 scales.
fn box_2d(model: &ModelFile, sets: &[&Dataset]) -> ([f64; 2], [f64; 2]) {
    if let Some(g) = model.builtin().and_then(Grid2d::for_set) {
        return (g.lo(), g.hi());
    }
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for d in sets {
        if let Some((l, h)) = d.bounds() {
            for k in 0..2 {
                lo[k] = lo[k].min(f64::from(l[k]));
                hi[k] = hi[k].max(f64::from(h[k]));
            }
        }
    }
    if lo[0].is_finite() {
        for k in 0..2 {
            (lo[k], hi[k]) = widen(lo[k], hi[k], 0.1);
        }
        return (lo, hi);
    }
    let s = |k: usize| f64::from(model.shift.get(k).copied().unwrap_or(0.0));
    let c = |k: usize| f64::from(model.scale.get(k).copied().unwrap_or(1.0));
    (
        [s(0) - 4.0 * c(0), s(1) - 4.0 * c(1)],
        [s(0) + 4.0 * c(0), s(1) + 4.0 * c(1)],
    )
}

/// Points drawn over a panel, and their colour.
type Dots<'a> = (Vec<&'a [f32]>, RGBAColor);

fn density_2d(
    a: &DensityArgs,
    model: &ModelFile,
    data: Option<&Points>,
    samples: Option<&Samples>,
) -> Result<()> {
    let sets: Vec<&Dataset> = data
        .map(|d| &d.data)
        .into_iter()
        .chain(samples.map(|s| &s.points))
        .collect();
    let (lo, hi) = box_2d(model, &sets);
    let n = a.grid;
    let grid = Grid2d::new(lo, hi, [n, n]).context("empty plotting box")?;
    let pts = grid.points();
    let bytes = &model.bytes;
    let u = with_model_shape!(model.dim, energies_at(bytes, &pts)).expect("2-D")?;
    let umin = u
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f32::INFINITY, f32::min);
    if !umin.is_finite() {
        bail!("the model's energy is not finite anywhere on the plotting box");
    }
    // Colour value in [0, 1]: the density relative to its maximum, or its log clipped at −12.
    let value = |v: f32| -> f32 {
        if !v.is_finite() {
            return 0.0;
        }
        let l = -(v - umin);
        if a.log {
            ((l + 12.0) / 12.0).clamp(0.0, 1.0)
        } else {
            l.exp()
        }
    };
    let values: Vec<f32> = u.iter().map(|&v| value(v)).collect();
    let [hx, hy] = grid.cell_size();
    let cells: Vec<(f64, f64, RGBColor)> = grid
        .centres()
        .zip(&values)
        .map(|(c, &v)| (f64::from(c[0]), f64::from(c[1]), ViridisRGB.get_color(v)))
        .collect();

    let mut panels: Vec<(String, Option<Dots<'_>>)> = vec![(
        if a.log {
            "learned ln density (clipped at max - 12)".to_string()
        } else {
            "learned density exp(-U), max = 1".to_string()
        },
        None,
    )];
    if let Some(d) = data {
        let shown = subset(&d.data, a.points, a.seed, 1);
        panels.push((
            format!("data ({} of {} points)", shown.len(), d.data.len()),
            Some((shown, WHITE.mix(0.55))),
        ));
    }
    if let Some(s) = samples {
        let shown = subset(&s.points, a.points, a.seed, 2);
        panels.push((
            format!("samples ({} of {} points)", shown.len(), s.points.len()),
            Some((shown, RGBColor(255, 70, 70).mix(0.7))),
        ));
    }
    // Keep cells square: the panel's plot area follows the box's aspect ratio; wide boxes
    // stack their panels vertically.
    let aspect = (hi[1] - lo[1]) / (hi[0] - lo[0]);
    let stacked = aspect < 0.6;
    let pw: u32 = if stacked { 1000 } else { 560 };
    let plot_w = f64::from(pw - 90);
    let ph = ((plot_w * aspect).clamp(150.0, 900.0) as u32) + 100;
    let np = panels.len() as u32;
    let size = if stacked {
        (pw, ph * np + 30)
    } else {
        (pw * np, ph + 30)
    };
    let layout = if stacked {
        (panels.len(), 1)
    } else {
        (1, panels.len())
    };
    let title = format!(
        "{} - trained on {}, {} iterations",
        model.path.display(),
        model.dataset,
        model.iterations
    );
    render(&a.out, size, |root| {
        let root = root
            .titled(&title, (FONT, 18).into_font().color(&BLACK))
            .map_err(de)?;
        let areas = root.split_evenly(layout);
        for (area, (caption, points)) in areas.iter().zip(&panels) {
            let mut chart = ChartBuilder::on(area)
                .caption(caption, (FONT, 16))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(55)
                .build_cartesian_2d(lo[0]..hi[0], lo[1]..hi[1])
                .map_err(de)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("x0")
                .y_desc("x1")
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 14))
                .draw()
                .map_err(de)?;
            chart
                .draw_series(cells.iter().map(|&(x, y, c)| {
                    Rectangle::new(
                        [(x - 0.5 * hx, y - 0.5 * hy), (x + 0.5 * hx, y + 0.5 * hy)],
                        c.filled(),
                    )
                }))
                .map_err(de)?;
            if let Some((pts, col)) = points {
                chart
                    .draw_series(pts.iter().filter_map(|p| {
                        let (x, y) = (f64::from(p[0]), f64::from(p[1]));
                        (x >= lo[0] && x <= hi[0] && y >= lo[1] && y <= hi[1])
                            .then(|| Circle::new((x, y), 1, col.filled()))
                    }))
                    .map_err(de)?;
            }
        }
        Ok(())
    })
}

/// U at data-unit points (dispatch target of `with_model_shape!`).
fn energies_at<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>(
    bytes: &[u8],
    points: &[f32],
) -> Result<Vec<f32>> {
    eval::energies_at::<D, A, B, H, K>(bytes, points)
}

/// Parse `--dims`.
fn parse_dims(text: Option<&str>, dim: usize) -> Result<Vec<usize>> {
    let Some(t) = text else {
        return Ok((0..dim.min(4)).collect());
    };
    let mut out = Vec::new();
    for f in t.split(',') {
        let f = f.trim();
        let v: usize = f
            .parse()
            .map_err(|_| anyhow!("--dims: `{f}` is not a dimension index"))?;
        if v >= dim {
            bail!("--dims: {v} is out of range (the model has dimensions 0..{dim})");
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.len() < 2 || out.len() > 8 {
        bail!("--dims: give between 2 and 8 distinct dimensions");
    }
    Ok(out)
}

/// The 0.5 % and 99.5 % quantiles of coordinate `k` over the sets, widened by 5 %.
fn range_of(sets: &[&[&[f32]]], k: usize) -> (f64, f64) {
    let mut v: Vec<f32> = sets.iter().flat_map(|s| s.iter().map(|x| x[k])).collect();
    if v.is_empty() {
        return (-1.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let q = |p: f64| f64::from(v[((v.len() - 1) as f64 * p).round() as usize]);
    widen(q(0.005), q(0.995), 0.05)
}

fn pairs(
    a: &DensityArgs,
    model: &ModelFile,
    data: Option<&Points>,
    samples: Option<&Samples>,
) -> Result<()> {
    let dims = parse_dims(a.dims.as_deref(), model.dim)?;
    let m = dims.len();
    let data_pts = data.map(|d| subset(&d.data, a.points, a.seed, 1));
    let sample_pts = samples.map(|s| subset(&s.points, a.points, a.seed, 2));
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    let sets: Vec<(&str, &Vec<&[f32]>, RGBColor)> = data_pts
        .as_ref()
        .map(|p| ("data", p, blue))
        .into_iter()
        .chain(sample_pts.as_ref().map(|p| ("samples", p, orange)))
        .collect();
    let all: Vec<&[&[f32]]> = sets.iter().map(|s| s.1.as_slice()).collect();
    let ranges: Vec<(f64, f64)> = dims.iter().map(|&k| range_of(&all, k)).collect();
    let cell: u32 = if m <= 4 { 300 } else { 220 };
    let size = (cell * m as u32, cell * m as u32 + 40);
    let title = format!(
        "{} ({}-D, trained on {}): pairwise projections",
        model.path.display(),
        model.dim,
        model.dataset
    );
    let legend: Vec<String> = sets
        .iter()
        .map(|(name, p, _)| {
            let total = if *name == "data" {
                data.map_or(0, |d| d.data.len())
            } else {
                samples.map_or(0, |s| s.points.len())
            };
            format!("{name}: {} of {total} points", p.len())
        })
        .collect();
    render(&a.out, size, |root| {
        let root = root
            .titled(&title, (FONT, 18).into_font().color(&BLACK))
            .map_err(de)?;
        let areas = root.split_evenly((m, m));
        for i in 0..m {
            for j in 0..m {
                let area = &areas[i * m + j];
                let (xi, yi) = (dims[j], dims[i]);
                if j > i {
                    if i == 0 && j == m - 1 {
                        for (n, (line, (_, _, col))) in legend.iter().zip(&sets).enumerate() {
                            let y = 20 + 22 * n as i32;
                            area.draw(&Rectangle::new([(10, y), (24, y + 14)], col.filled()))
                                .map_err(de)?;
                            area.draw(&Text::new(line.clone(), (30, y), (FONT, 14)))
                                .map_err(de)?;
                        }
                    }
                    continue;
                }
                let (x0, x1) = ranges[j];
                let label = |k: usize| format!("x{k}");
                if i == j {
                    let bins = 30usize;
                    let w = (x1 - x0) / bins as f64;
                    let hists: Vec<(Vec<f64>, RGBColor)> = sets
                        .iter()
                        .map(|(_, p, col)| {
                            let mut h = vec![0.0f64; bins];
                            for x in p.iter() {
                                let b = ((f64::from(x[xi]) - x0) / w).floor();
                                if b >= 0.0 && (b as usize) < bins {
                                    h[b as usize] += 1.0;
                                }
                            }
                            let total = p.len().max(1) as f64 * w;
                            h.iter_mut().for_each(|v| *v /= total);
                            (h, *col)
                        })
                        .collect();
                    let top = hists
                        .iter()
                        .flat_map(|h| h.0.iter().copied())
                        .fold(0.0f64, f64::max)
                        .max(1e-12)
                        * 1.1;
                    let mut chart = ChartBuilder::on(area)
                        .margin(6)
                        .x_label_area_size(28)
                        .y_label_area_size(40)
                        .build_cartesian_2d(x0..x1, 0.0..top)
                        .map_err(de)?;
                    chart
                        .configure_mesh()
                        .disable_mesh()
                        .x_desc(label(xi))
                        .x_labels(4)
                        .y_labels(3)
                        .label_style((FONT, 11))
                        .axis_desc_style((FONT, 12))
                        .draw()
                        .map_err(de)?;
                    for (h, col) in &hists {
                        let steps = h.iter().enumerate().flat_map(|(b, &v)| {
                            let l = x0 + b as f64 * w;
                            [(l, v), (l + w, v)]
                        });
                        chart
                            .draw_series(LineSeries::new(steps, col.stroke_width(2)))
                            .map_err(de)?;
                    }
                } else {
                    let (y0, y1) = ranges[i];
                    let mut chart = ChartBuilder::on(area)
                        .margin(6)
                        .x_label_area_size(28)
                        .y_label_area_size(40)
                        .build_cartesian_2d(x0..x1, y0..y1)
                        .map_err(de)?;
                    chart
                        .configure_mesh()
                        .disable_mesh()
                        .x_desc(label(xi))
                        .y_desc(label(yi))
                        .x_labels(4)
                        .y_labels(4)
                        .label_style((FONT, 11))
                        .axis_desc_style((FONT, 12))
                        .draw()
                        .map_err(de)?;
                    for (_, p, col) in &sets {
                        chart
                            .draw_series(p.iter().filter_map(|x| {
                                let (u, v) = (f64::from(x[xi]), f64::from(x[yi]));
                                (u >= x0 && u <= x1 && v >= y0 && v <= y1)
                                    .then(|| Circle::new((u, v), 1, col.mix(0.35).filled()))
                            }))
                            .map_err(de)?;
                    }
                }
            }
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// training

/// One evaluation record of a report's log.
struct Record {
    iteration: f64,
    ebm_weights: Option<Vec<f64>>,
    ebm_mse: Option<f64>,
    neg_weights: Option<Vec<f64>>,
    neg_mse: Option<f64>,
    local: Option<f64>,
    global: Option<f64>,
    gap: Option<f64>,
    flow: Option<f64>,
    rhat: Option<f64>,
    log_density_err: Option<f64>,
}

/// A training report (`emberflow train`'s MODEL.json).
struct Report {
    path: PathBuf,
    dataset: String,
    method: String,
    seed: Option<u64>,
    iterations: Option<u64>,
    seconds: Option<f64>,
    true_weights: Option<Vec<f64>>,
    ebm_weights: Option<Vec<f64>>,
    neg_weights: Option<Vec<f64>>,
    log: Vec<Record>,
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn list(v: &Value, key: &str) -> Option<Vec<f64>> {
    let a = v.get(key)?.as_array()?;
    a.iter().map(Value::as_f64).collect()
}

fn load_report(path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let log = v.get("log").and_then(Value::as_array).with_context(|| {
        format!(
            "{}: no `log` array (is it the report `emberflow train` writes next to a model?)",
            path.display()
        )
    })?;
    let mut records = Vec::with_capacity(log.len());
    for (i, r) in log.iter().enumerate() {
        let iteration = num(r, "iteration").with_context(|| {
            format!("{}: log entry {} has no `iteration`", path.display(), i + 1)
        })?;
        records.push(Record {
            iteration,
            ebm_weights: list(r, "ebm_weights"),
            ebm_mse: num(r, "ebm_mse"),
            neg_weights: list(r, "negatives_weights"),
            neg_mse: num(r, "negatives_mse"),
            local: num(r, "local_acceptance"),
            global: num(r, "global_acceptance"),
            gap: num(r, "energy_gap"),
            flow: num(r, "flow_loss"),
            rhat: num(r, "rhat"),
            log_density_err: num(r, "log_density_err"),
        });
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
    Ok(Report {
        path: path.to_path_buf(),
        dataset: s("dataset"),
        method: s("method"),
        seed: v.get("seed").and_then(Value::as_u64),
        iterations: v.get("iterations").and_then(Value::as_u64),
        seconds: num(&v, "train_seconds"),
        true_weights: list(&v, "true_weights"),
        ebm_weights: list(&v, "ebm_weights"),
        neg_weights: list(&v, "negatives_weights"),
        log: records,
    })
}

/// A named series of `(iteration, value)` points.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    colour: RGBColor,
    dashed: bool,
}

fn series(
    name: &str,
    log: &[Record],
    f: impl Fn(&Record) -> Option<f64>,
    colour: RGBColor,
) -> Series {
    Series {
        name: name.into(),
        points: log
            .iter()
            .filter_map(|r| f(r).map(|v| (r.iteration, v)))
            .collect(),
        colour,
        dashed: false,
    }
}

/// A panel of line series over iterations.
struct LinePanel<'a> {
    caption: &'a str,
    series: &'a [Series],
    /// A fixed y range (default: the data's, widened by 8 %).
    y_fixed: Option<(f64, f64)>,
    log_y: bool,
    /// The legend in the lower right corner instead of the upper right.
    legend_low: bool,
    /// What an empty panel says.
    empty: &'a str,
}

/// Draw one line panel; an empty panel says why.
fn line_panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    x_range: (f64, f64),
    panel: &LinePanel<'_>,
) -> Result<()> {
    let LinePanel {
        caption,
        series,
        y_fixed,
        log_y,
        legend_low,
        empty,
    } = *panel;
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|y| y.is_finite() && (!log_y || *y > 0.0))
        .collect();
    if ys.is_empty() {
        let mut chart = ChartBuilder::on(area)
            .caption(caption, (FONT, 16))
            .margin(12)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(Text::new(
                empty.to_string(),
                (0.05, 0.5),
                (FONT, 14),
            )))
            .map_err(de)?;
        return Ok(());
    }
    let (lo, hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &y| {
            (l.min(y), h.max(y))
        });
    let (x0, x1) = x_range;
    macro_rules! body {
        ($chart:expr, $yfmt:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .y_label_formatter(&$yfmt)
                .light_line_style(RGBColor(235, 235, 235))
                .bold_line_style(RGBColor(215, 215, 215))
                .x_desc("iteration")
                .x_label_formatter(&|x: &f64| format!("{x:.0}"))
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .draw()
                .map_err(de)?;
            for s in series {
                let style = s.colour.stroke_width(2);
                let c = s.colour;
                if s.dashed {
                    // Reference lines (true weights, zero): no legend entry.
                    chart
                        .draw_series(DashedLineSeries::new(
                            s.points.iter().copied().filter(|p| !log_y || p.1 > 0.0),
                            8,
                            5,
                            style,
                        ))
                        .map_err(de)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(
                            s.points.iter().copied().filter(|p| !log_y || p.1 > 0.0),
                            style,
                        ))
                        .map_err(de)?
                        .label(s.name.clone())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                        });
                    if s.points.len() <= 40 {
                        chart
                            .draw_series(
                                s.points
                                    .iter()
                                    .filter(|p| !log_y || p.1 > 0.0)
                                    .map(|&p| Circle::new(p, 2, c.filled())),
                            )
                            .map_err(de)?;
                    }
                }
            }
            chart
                .configure_series_labels()
                .position(if legend_low {
                    SeriesLabelPosition::LowerRight
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font((FONT, 12))
                .draw()
                .map_err(de)?;
        }};
    }
    let builder = |a| {
        let mut b = ChartBuilder::on(a);
        b.caption(caption, (FONT, 16))
            .margin(12)
            .x_label_area_size(38)
            .y_label_area_size(70);
        b
    };
    if log_y {
        let (l, h) = (
            lo.log10().floor(),
            hi.log10().ceil().max(lo.log10().floor() + 1.0),
        );
        let chart = builder(area)
            .build_cartesian_2d(x0..x1, (10f64.powf(l)..10f64.powf(h)).log_scale())
            .map_err(de)?;
        body!(chart, |y: &f64| format!("{y:.0e}"));
    } else {
        let (l, h) = y_fixed.unwrap_or_else(|| widen(lo, hi, 0.08));
        let chart = builder(area).build_cartesian_2d(x0..x1, l..h).map_err(de)?;
        body!(chart, |y: &f64| tick(*y));
    }
    Ok(())
}

fn training(a: &TrainingArgs) -> Result<()> {
    let rep = load_report(&a.report)?;
    if rep.log.is_empty() {
        bail!(
            "{}: the log is empty (the run ended before its first evaluation; see --eval-every)",
            rep.path.display()
        );
    }
    let x0 = rep.log.first().map_or(0.0, |r| r.iteration).min(0.0);
    let x1 = rep.log.last().map_or(1.0, |r| r.iteration).max(x0 + 1.0);
    let weights_series = |get: &dyn Fn(&Record) -> Option<&Vec<f64>>| -> Vec<Series> {
        let k = rep
            .log
            .iter()
            .filter_map(|r| get(r).map(Vec::len))
            .max()
            .unwrap_or(0);
        let mut out = Vec::new();
        for j in 0..k {
            out.push(series(
                &format!("mode {}", j + 1),
                &rep.log,
                |r| get(r).and_then(|w| w.get(j).copied()),
                colour(j),
            ));
            if let Some(t) = rep.true_weights.as_ref().and_then(|t| t.get(j)) {
                out.push(Series {
                    name: format!("true {}", j + 1),
                    points: vec![(x0, *t), (x1, *t)],
                    colour: colour(j),
                    dashed: true,
                });
            }
        }
        out
    };
    let mse = vec![
        series("EBM", &rep.log, |r| r.ebm_mse, colour(0)),
        series("negatives", &rep.log, |r| r.neg_mse, colour(1)),
    ];
    let acc = vec![
        series("local (MALA)", &rep.log, |r| r.local, colour(0)),
        series("global (flow)", &rep.log, |r| r.global, colour(1)),
    ];
    let gap = vec![
        series("E(data) - E(negatives)", &rep.log, |r| r.gap, colour(2)),
        Series {
            name: "0".into(),
            points: vec![(x0, 0.0), (x1, 0.0)],
            colour: RGBColor(150, 150, 150),
            dashed: true,
        },
    ];
    let flow = vec![series(
        "-mean ln lambda(negatives)",
        &rep.log,
        |r| r.flow,
        colour(4),
    )];
    let rhat = vec![
        series("max R-hat", &rep.log, |r| r.rhat, colour(3)),
        Series {
            name: "1.01".into(),
            points: vec![(x0, 1.01), (x1, 1.01)],
            colour: RGBColor(150, 150, 150),
            dashed: true,
        },
    ];
    let ld_err = vec![series(
        "median (ln p - ln p*)^2",
        &rep.log,
        |r| r.log_density_err,
        colour(5),
    )];
    let ebm_w = weights_series(&|r: &Record| r.ebm_weights.as_ref());
    let neg_w = weights_series(&|r: &Record| r.neg_weights.as_ref());
    let title = format!(
        "training: {} - {}, seed {}, {} iterations, {}",
        rep.dataset,
        rep.method,
        rep.seed.map_or("?".into(), |s| s.to_string()),
        rep.iterations.map_or("?".into(), |s| s.to_string()),
        rep.seconds.map_or("? s".into(), |s| format!("{s:.1} s"))
    );
    let no_weights = "no mode weights in this report (built-in sets only; see emberflow eval)";
    render(&a.out, (1300, 1640), |root| {
        let root = root
            .titled(&title, (FONT, 20).into_font().color(&BLACK))
            .map_err(de)?;
        let p = root.split_evenly((4, 2));
        let panel = |caption, series, y_fixed, log_y, legend_low, empty| LinePanel {
            caption,
            series,
            y_fixed,
            log_y,
            legend_low,
            empty,
        };
        let panels = [
            panel(
                "mode-weight MSE vs true (log scale)",
                &mse,
                None,
                true,
                false,
                no_weights,
            ),
            panel(
                "acceptance rates",
                &acc,
                Some((0.0, 1.05)),
                false,
                true,
                "no acceptance rates",
            ),
            panel(
                "energy gap: mean E(data) - mean E(negatives)",
                &gap,
                None,
                false,
                false,
                "no energy gap",
            ),
            panel("flow loss", &flow, None, false, false, "no flow loss"),
            panel(
                "EBM mode weights (dashed: true)",
                &ebm_w,
                Some((0.0, 1.0)),
                false,
                false,
                no_weights,
            ),
            panel(
                "negatives' mode weights (dashed: true)",
                &neg_w,
                Some((0.0, 1.0)),
                false,
                false,
                no_weights,
            ),
            panel(
                "max R-hat over dimensions, 32 fresh chains x 40 sweeps",
                &rhat,
                None,
                false,
                false,
                "no R-hat in this report",
            ),
            panel(
                "median squared log-density error (log scale)",
                &ld_err,
                None,
                true,
                false,
                "no log-density error (2-D built-in sets only)",
            ),
        ];
        for (area, panel) in p.iter().zip(&panels) {
            line_panel(area, (x0, x1), panel)?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// weights

fn weights(a: &WeightsArgs) -> Result<()> {
    let (title, rows) = if let Some(path) = &a.report {
        let rep = load_report(path)?;
        let mut rows = Vec::new();
        for (name, w) in [
            ("true", &rep.true_weights),
            ("EBM", &rep.ebm_weights),
            ("negatives", &rep.neg_weights),
        ] {
            if let Some(w) = w {
                rows.push((name.to_string(), w.clone()));
            }
        }
        if rows.is_empty() {
            bail!(
                "{}: no mode weights in this report (they are computed for built-in sets; use --model with --data or --centers)",
                path.display()
            );
        }
        (
            format!(
                "mode weights: {} - {}, {} iterations",
                rep.dataset,
                rep.method,
                rep.iterations.map_or("?".into(), |s| s.to_string())
            ),
            rows,
        )
    } else {
        let model = a.model.clone().context("--report or --model is required")?;
        let ev = eval::evaluate(
            &eval::Args {
                model,
                data: a.data.clone(),
                samples: a.samples.clone(),
                centers: a.centers.clone(),
                k: a.k,
                seed: a.seed,
                mmd_points: 2,
                permutations: 0,
                is_draws: 20_000,
                bandwidth: None,
                json: false,
            },
            false,
        )?;
        let rows: Vec<(String, Vec<f64>)> = ev
            .weight_rows()
            .into_iter()
            .map(|(n, w)| (n.to_string(), w))
            .collect();
        if rows.is_empty() {
            bail!(
                "no mode weights: give --data (k-means), --centers, or a model of a built-in set"
            );
        }
        (
            format!(
                "mode weights - {} (trained on {}); regions: {}",
                ev.model.path.display(),
                ev.model.dataset,
                ev.regions.as_ref().map_or(String::new(), |r| r.short())
            ),
            rows,
        )
    };
    let k = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    if k == 0 || rows.iter().any(|r| r.1.len() != k) {
        bail!("the weight lists have different lengths");
    }
    let truth = rows.iter().find(|r| r.0 == "true").map(|r| r.1.clone());
    let labels: Vec<String> = rows
        .iter()
        .map(|(name, w)| match &truth {
            Some(t) if name != "true" => format!("{name} (MSE vs true {})", sci(weights_mse(w, t))),
            _ => name.clone(),
        })
        .collect();
    let top = rows
        .iter()
        .flat_map(|r| r.1.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(0.05)
        * 1.25;
    let nrows = rows.len();
    let width = (200 + 50 * (k * nrows) as u32).clamp(720, 2400);
    render(&a.out, (width, 560), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 17))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..k as f64 - 0.5, 0.0..top)
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels(k.min(40))
            .x_label_formatter(&|x: &f64| {
                let j = x.round();
                if (x - j).abs() < 1e-6 && j >= 0.0 && j < k as f64 {
                    format!("mode {}", j as usize + 1)
                } else {
                    String::new()
                }
            })
            .y_desc("weight")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(de)?;
        let group = 0.8;
        let bw = group / nrows as f64;
        for (s, ((_, w), label)) in rows.iter().zip(&labels).enumerate() {
            let c = colour(s);
            chart
                .draw_series(w.iter().enumerate().map(|(j, &v)| {
                    let l = j as f64 - 0.5 * group + s as f64 * bw;
                    Rectangle::new([(l, 0.0), (l + bw * 0.92, v.max(0.0))], c.filled())
                }))
                .map_err(de)?
                .label(label.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
            if k * nrows <= 32 {
                chart
                    .draw_series(w.iter().enumerate().filter(|(_, v)| v.is_finite()).map(
                        |(j, &v)| {
                            let mid = j as f64 - 0.5 * group + (s as f64 + 0.46) * bw;
                            Text::new(
                                format!("{v:.3}"),
                                (mid, v + top * 0.01),
                                (FONT, 11)
                                    .into_font()
                                    .color(&BLACK)
                                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
                            )
                        },
                    ))
                    .map_err(de)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FONT, 13))
            .draw()
            .map_err(de)?;
        Ok(())
    })
}

/// A compact number for legends: `0` or `1.2e-4`.
fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.1e}")
    }
}

/// A tick label: at most 4 decimals, trailing zeros dropped, no "-0".
fn tick(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

//! The drawing pieces every figure shares: the bundled font, the palette, the PNG output and
//! number formats.

use crate::eval;
use anyhow::{Context, Result, anyhow, bail};
use emberflow_core::SeedStream;
use emberflow_train::data::Dataset;
use emberflow_train::fs::write_atomically;
use image::codecs::png::PngEncoder;
use image::{ColorType, ImageEncoder};
use plotters::prelude::*;
use std::path::Path;

pub(super) const FONT: &str = "sans-serif";

pub(super) fn register_fonts() -> Result<()> {
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

pub(super) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Fail unless `out` can take the figure: a `.png` name in a folder that exists (checked
/// before anything is drawn).
fn check_png_path(out: &Path) -> Result<()> {
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
    Ok(())
}

/// Draw a figure of `size` (white background) with `draw` in memory and write it to `out` as a
/// PNG, atomically ([`write_atomically`]: a failed run leaves no file behind).
pub(super) fn render(
    out: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<()>,
) -> Result<()> {
    check_png_path(out)?;
    let drawing = |e: &dyn std::fmt::Display| anyhow!("drawing {}: {e}", out.display());
    let (width, height) = size;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| drawing(&e))?;
        draw(&root).map_err(|e| drawing(&e))?;
        root.present().map_err(|e| drawing(&e))?;
    }
    write_atomically(out, |w| {
        PngEncoder::new(w)
            .write_image(&pixels, width, height, ColorType::Rgb8)
            .with_context(|| format!("cannot write {}", out.display()))
    })?;
    println!("wrote {}", out.display());
    Ok(())
}

/// plotters' error as an `anyhow` error.
pub(super) fn de<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("{e:?}")
}

/// `[lo, hi]` widened by `margin` of its span (span 1 when empty).
pub(super) fn widen(lo: f64, hi: f64, margin: f64) -> (f64, f64) {
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mid = 0.5 * (lo + hi);
    (mid - span * (0.5 + margin), mid + span * (0.5 + margin))
}

/// A seeded subset of at most `max` rows, drawn from `stream` of the run seed
/// ([`SeedStream::PLOT_DATA`] for the data, [`SeedStream::PLOT_SAMPLES`] for the samples).
pub(super) fn subset(d: &Dataset, max: usize, seed: u64, stream: SeedStream) -> Vec<&[f32]> {
    let mut rng = stream.rng(seed);
    let mut idx = eval::subsample(d.len(), max, &mut rng);
    idx.sort_unstable();
    idx.into_iter().map(|i| d.row(i)).collect()
}

/// A compact number for legends: `0` or `1.2e-4`.
pub(super) fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.1e}")
    }
}

/// A tick label: at most 4 decimals, trailing zeros dropped, no "-0".
pub(super) fn tick(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

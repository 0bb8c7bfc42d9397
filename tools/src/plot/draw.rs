//! The drawing pieces every figure shares: the bundled font, the palette, the PNG output and
//! number formats.

use crate::eval;
use anyhow::{Context, Result, anyhow, bail};
use emberflow_train::data::Dataset;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

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
pub(super) fn render(
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
pub(super) fn de<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("{e:?}")
}

/// `[lo, hi]` widened by `margin` of its span (span 1 when empty).
pub(super) fn widen(lo: f64, hi: f64, margin: f64) -> (f64, f64) {
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mid = 0.5 * (lo + hi);
    (mid - span * (0.5 + margin), mid + span * (0.5 + margin))
}

/// A seeded subset of at most `max` rows.
pub(super) fn subset(d: &Dataset, max: usize, seed: u64, stream: u64) -> Vec<&[f32]> {
    let mut rng = emberflow_core::Xoshiro128PlusPlus::seed_from_u64(seed ^ stream);
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

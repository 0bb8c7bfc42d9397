//! `emberflow plot density`: the learned density of a 2-D model on a grid, with the data and
//! the samples over it (d > 2: `pairs.rs`).

use super::density_args::DensityArgs;
use super::draw::{FONT, de, render, subset, widen};
use crate::eval::{self, ModelFile, Points, Samples};
use anyhow::{Context, Result, bail};
use emberflow_core::SeedStream;
use emberflow_train::data::Dataset;
use emberflow_train::metrics::Grid2d;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

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

pub(super) fn density_2d(
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
    let u = eval::energies_at(model, &pts)?;
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
        let shown = subset(&d.data, a.points, a.seed, SeedStream::PLOT_DATA);
        panels.push((
            format!("data ({} of {} points)", shown.len(), d.data.len()),
            Some((shown, WHITE.mix(0.55))),
        ));
    }
    if let Some(s) = samples {
        let shown = subset(&s.points, a.points, a.seed, SeedStream::PLOT_SAMPLES);
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

//! Line panels over iterations, for the training curves.

use super::draw::{FONT, de, tick, widen};
use anyhow::Result;
use emberflow_train::report::LogRecord;
use plotters::prelude::*;

/// A named series of `(iteration, value)` points.
pub(super) struct Series {
    pub(super) name: String,
    pub(super) points: Vec<(f64, f64)>,
    pub(super) colour: RGBColor,
    pub(super) dashed: bool,
}

pub(super) fn series(
    name: &str,
    log: &[LogRecord],
    f: impl Fn(&LogRecord) -> Option<f64>,
    colour: RGBColor,
) -> Series {
    Series {
        name: name.into(),
        points: log
            .iter()
            .filter_map(|r| f(r).map(|v| (r.iteration as f64, v)))
            .collect(),
        colour,
        dashed: false,
    }
}

/// A panel of line series over iterations.
pub(super) struct LinePanel<'a> {
    pub(super) caption: &'a str,
    pub(super) series: &'a [Series],
    /// A fixed y range (default: the data's, widened by 8 %).
    pub(super) y_fixed: Option<(f64, f64)>,
    pub(super) log_y: bool,
    /// The legend in the lower right corner instead of the upper right.
    pub(super) legend_low: bool,
    /// What an empty panel says.
    pub(super) empty: &'a str,
}

/// Draw one line panel; an empty panel says why.
pub(super) fn line_panel(
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

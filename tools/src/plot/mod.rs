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
//!
//! One file per figure: `density.rs` (2-D) and `pairs.rs` (d > 2), `training.rs` (with the
//! line panels of `lines.rs`), `weights.rs`; `report.rs` reads the training report and
//! `draw.rs` holds the shared drawing pieces (font, palette, PNG output).

mod density;
mod density_args;
mod draw;
mod lines;
mod pairs;
mod report;
mod training;
mod weights;

use crate::eval;
use anyhow::{Result, bail};
use clap::{Args as ClapArgs, Subcommand};
use density_args::DensityArgs;

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
    Training(training::TrainingArgs),
    /// Mode-weight bars: from a report (true, EBM, negatives) or from a model (true, data, EBM,
    /// samples).
    Weights(weights::WeightsArgs),
}

/// Run `emberflow plot`.
pub fn run(args: &Args) -> Result<()> {
    draw::register_fonts()?;
    match &args.what {
        What::Density(a) => density(a),
        What::Training(a) => training::training(a),
        What::Weights(a) => weights::weights(a),
    }
}

/// `emberflow plot density`: the 2-D figure, or pairwise projections for d > 2.
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
        density::density_2d(a, &model, data.as_ref(), samples.as_ref())
    } else {
        if data.is_none() && samples.is_none() {
            bail!(
                "a {}-D model is drawn through pairwise projections of data and samples: give --data and/or --samples",
                model.dim
            );
        }
        pairs::pairs(a, &model, data.as_ref(), samples.as_ref())
    }
}

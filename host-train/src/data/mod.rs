//! Training data: the paper's built-in sets, user CSV files, the bundled UCI digits, and the
//! per-dimension standardisation the trainer stores in the exported model.
//!
//! * [`Dataset`] — `n × d` f32 rows, row-major.
//! * [`BuiltIn`] — `two-modes`, `four-modes`, `eight-gaussians`, `rings`, `gmm-16/32/64`
//!   (PAPER.md §4), generated from a seed; its [`GroundTruth`] gives the exact log density
//!   ([`GroundTruth::log_density`]), mode centres, true weights and mode regions
//!   ([`GroundTruth::region`]) for the metrics.
//! * [`load_csv`] / [`parse_csv`] — numeric CSV, header optional; errors ([`CsvError`]) name
//!   the file, line and column.
//! * [`digits`] / [`DigitsOptions`] — the UCI 8×8 digits (64-d), dequantised, with class
//!   selection and unequal class weights.
//! * [`Standardizer`] — per-dimension mean/std: `x_model = (x_data − shift) / scale`.
//!
//! Everything random is drawn from [`emberflow_core::Xoshiro128PlusPlus`] through
//! [`emberflow_core::random`], so a seed gives the same data on every platform.

mod builtin;
mod csv;
mod dataset;
mod digits;
mod mixture;
mod rings;
pub(crate) mod sampling;
mod standardize;

pub use builtin::{BuiltIn, GMM_MEAN_SCALE, GroundTruth, UnknownDataset};
pub use csv::{CsvError, CsvErrorKind, load_csv, parse_csv};
pub use dataset::{Dataset, DatasetError};
pub use digits::{
    DIGITS_CSV, DigitsError, DigitsOptions, LabelledDataset, digits, parse_class_weights,
    parse_classes,
};
pub use mixture::{Component, GaussianMixture};
pub use rings::Rings;
pub use sampling::{
    Split, VALIDATION_MEMBER, default_validation_fraction, subsample, validation_split,
};
pub use standardize::{Scaling, Standardizer, constant_columns, spread_ratio};

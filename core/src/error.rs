//! The one error type: what can go wrong when decoding or validating a model. Hot paths never
//! return errors; a non-finite value there rejects a proposal and is counted instead.

use core::fmt;

/// Why a model, a layer or a setting was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A scale (σ of a Gaussian, a coupling's scale factor) is zero, negative or not finite.
    InvalidScale,
    /// A coupling's conditioning and transformed indices are not a partition of `0..D`.
    InvalidMask,
    /// A parameter is NaN or infinite.
    NonFiniteParameter,
    /// A sampler setting is out of range (step size, particle count, target acceptance…).
    InvalidSetting,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::InvalidScale => "a scale is zero, negative or not finite",
            Error::InvalidMask => "coupling indices are not a partition of the dimensions",
            Error::NonFiniteParameter => "a parameter is NaN or infinite",
            Error::InvalidSetting => "a sampler setting is out of range",
        })
    }
}

impl core::error::Error for Error {}

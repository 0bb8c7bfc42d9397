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
    /// Model file: the input is empty.
    EmptyInput,
    /// Model file: the input ends before the length its preamble declares.
    Truncated,
    /// Model file: the input does not start with the model-file magic bytes.
    BadMagic,
    /// Model file: a format version this build cannot read.
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
    },
    /// Model file: the CRC-32 stored in the file does not match its contents.
    ChecksumMismatch {
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// Model file: bytes follow the end of the model.
    TrailingBytes,
    /// Model file: the header is not a valid postcard encoding of the header structure.
    MalformedHeader,
    /// Model file: a weight tensor record is not a valid postcard encoding.
    MalformedTensor {
        /// Index of the tensor in the canonical order.
        tensor: u16,
    },
    /// Model file: an unknown model kind tag.
    UnknownModelKind {
        /// The tag in the file.
        found: u8,
    },
    /// Model file: an unknown activation tag.
    UnknownActivation {
        /// The tag in the file.
        found: u8,
    },
    /// Model file: an unknown global-move tag in the sampler settings.
    UnknownGlobalMove {
        /// The tag in the file.
        found: u8,
    },
    /// Model file: an unknown weight encoding tag.
    UnknownEncoding {
        /// Index of the tensor.
        tensor: u16,
        /// The tag in the file.
        found: u8,
    },
    /// Model file: the header describes impossible shapes (a zero width, a network whose input
    /// or output does not fit the dimension, a list of the wrong length, a model kind without
    /// its section), or a network the format cannot describe was given to the encoder.
    InvalidShape,
    /// Model file: a tensor's shape differs from the one the header (or the requested model
    /// type) implies; shapes are `[rows (outputs), cols (inputs)]`.
    TensorShape {
        /// Index of the tensor.
        tensor: u16,
        /// The expected shape.
        expected: [u16; 2],
        /// The shape in the file.
        found: [u16; 2],
    },
    /// Model file: a tensor's byte lengths do not match its shape and encoding.
    TensorLength {
        /// Index of the tensor.
        tensor: u16,
    },
    /// Model file: a weight or bias is NaN or infinite.
    NonFiniteWeight {
        /// Index of the tensor.
        tensor: u16,
    },
    /// Model file: a quantisation scale is zero, negative or not finite.
    InvalidQuantScale {
        /// Index of the tensor.
        tensor: u16,
    },
    /// Model file: a quantised weight lies outside the symmetric range (−127…127, −32767…32767).
    QuantOutOfRange {
        /// Index of the tensor.
        tensor: u16,
    },
    /// Model file: a header value (normalisation, metric, statistic) is NaN or infinite.
    NonFiniteHeaderValue,
    /// Model file: the file holds another kind of model than the one requested.
    WrongModelKind {
        /// The kind requested.
        expected: crate::model::ModelKind,
        /// The kind in the file.
        found: crate::model::ModelKind,
    },
    /// Model file: the data dimension differs from the requested model type's.
    WrongDimension {
        /// The requested dimension.
        expected: u16,
        /// The dimension in the file.
        found: u16,
    },
    /// Model file: a network's activation differs from the requested model type's.
    WrongActivation {
        /// The requested activation.
        expected: crate::activation::ActivationKind,
        /// The activation in the file.
        found: crate::activation::ActivationKind,
    },
    /// Model file: a network has another number of dense layers than the requested type.
    DepthMismatch {
        /// Dense layers of the requested type.
        expected: u16,
        /// Dense layers in the file.
        found: u16,
    },
    /// Model file: the flow has another number of coupling blocks than the requested type.
    WrongBlockCount {
        /// Blocks of the requested type.
        expected: u16,
        /// Blocks in the file.
        found: u16,
    },
    /// Model file: the output buffer is too small for the encoded model.
    BufferTooSmall {
        /// Bytes the encoded model needs.
        needed: u32,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::InvalidScale => "a scale is zero, negative or not finite",
            Error::InvalidMask => "coupling indices are not a partition of the dimensions",
            Error::NonFiniteParameter => "a parameter is NaN or infinite",
            Error::InvalidSetting => "a sampler setting is out of range",
            Error::EmptyInput => "the model file is empty",
            Error::Truncated => "the model file is truncated",
            Error::BadMagic => "not an emberflow model file (bad magic bytes)",
            Error::UnsupportedVersion { found } => {
                return write!(
                    f,
                    "unsupported model-file version {found} (this build reads version {})",
                    crate::model::FORMAT_VERSION
                );
            }
            Error::ChecksumMismatch { stored, computed } => {
                return write!(
                    f,
                    "checksum mismatch: the file says {stored:#010x}, its contents give {computed:#010x}"
                );
            }
            Error::TrailingBytes => "unexpected bytes after the end of the model",
            Error::MalformedHeader => "the model header is malformed",
            Error::MalformedTensor { tensor } => {
                return write!(f, "weight tensor {tensor} is malformed");
            }
            Error::UnknownModelKind { found } => {
                return write!(f, "unknown model kind tag {found}");
            }
            Error::UnknownActivation { found } => {
                return write!(f, "unknown activation tag {found}");
            }
            Error::UnknownGlobalMove { found } => {
                return write!(f, "unknown global-move tag {found}");
            }
            Error::UnknownEncoding { tensor, found } => {
                return write!(f, "weight tensor {tensor} has an unknown encoding tag {found}");
            }
            Error::InvalidShape => "the model header describes impossible shapes",
            Error::TensorShape {
                tensor,
                expected,
                found,
            } => {
                return write!(
                    f,
                    "weight tensor {tensor} is {}x{}, expected {}x{}",
                    found[0], found[1], expected[0], expected[1]
                );
            }
            Error::TensorLength { tensor } => {
                return write!(
                    f,
                    "weight tensor {tensor} has byte lengths that do not match its shape"
                );
            }
            Error::NonFiniteWeight { tensor } => {
                return write!(f, "weight tensor {tensor} holds a NaN or infinite value");
            }
            Error::InvalidQuantScale { tensor } => {
                return write!(
                    f,
                    "weight tensor {tensor} has a zero, negative or non-finite quantisation scale"
                );
            }
            Error::QuantOutOfRange { tensor } => {
                return write!(
                    f,
                    "weight tensor {tensor} holds a quantised value outside the symmetric range"
                );
            }
            Error::NonFiniteHeaderValue => "a model header value is NaN or infinite",
            Error::WrongModelKind { expected, found } => {
                return write!(
                    f,
                    "the file holds {} model, {} was requested",
                    found.article_name(),
                    expected.article_name()
                );
            }
            Error::WrongDimension { expected, found } => {
                return write!(f, "the model is {found}-dimensional, {expected} was requested");
            }
            Error::WrongActivation { expected, found } => {
                return write!(f, "the network uses {found:?}, {expected:?} was requested");
            }
            Error::DepthMismatch { expected, found } => {
                return write!(
                    f,
                    "a network has {found} dense layers, the requested type has {expected}"
                );
            }
            Error::WrongBlockCount { expected, found } => {
                return write!(
                    f,
                    "the flow has {found} coupling blocks, the requested type has {expected}"
                );
            }
            Error::BufferTooSmall { needed } => {
                return write!(f, "the output buffer is too small ({needed} bytes needed)");
            }
        })
    }
}

impl core::error::Error for Error {}

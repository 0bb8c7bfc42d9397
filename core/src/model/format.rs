//! The format's constants: the magic and the version at the start of every file, the sizes of
//! the envelope around the body, the alignment of tensor data (the layout is described in the
//! module's documentation, [`crate::model`]) and the usual file extension.

/// The first four bytes of every model file.
pub const MAGIC: [u8; 4] = *b"EFM\0";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 2;

/// Alignment (bytes, from the start of the file) of every tensor's weights, scales and biases.
pub const ALIGN: usize = 4;

/// Bytes before the body: magic, version, body length.
pub const PREAMBLE_LEN: usize = 10;

/// Bytes of the CRC-32 trailer.
pub const CRC_LEN: usize = 4;

/// The usual file extension.
pub const EXTENSION: &str = "efm";

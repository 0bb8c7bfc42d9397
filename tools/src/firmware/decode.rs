//! Decoding defmt frames in-process with `defmt-decoder` (no `defmt-print` needed).

use anyhow::{Context, Result, anyhow, bail};
use defmt_decoder::{DecodeError, Table};
use std::fmt;

/// One decoded frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFrame {
    /// `trace` … `error`, or `None` for `defmt::println!` frames.
    pub level: Option<&'static str>,
    /// The formatted message.
    pub message: String,
}

impl fmt::Display for LogFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level {
            Some(level) => write!(f, "{:<5} {}", level.to_uppercase(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Decode the defmt stream `stream` written by the firmware `elf` (its defmt table is read
/// from the ELF). A trailing incomplete frame (a run killed mid-write) is dropped; a
/// malformed frame is an error, since the samples must arrive intact.
pub fn decode_frames(elf: &[u8], stream: &[u8]) -> Result<Vec<LogFrame>> {
    let table = Table::parse(elf)
        .map_err(|e| anyhow!("{e}"))
        .context("reading the defmt table from the ELF")?
        .ok_or_else(|| anyhow!("the ELF has no defmt table (is defmt linked in?)"))?;
    let mut decoder = table.new_stream_decoder();
    decoder.received(stream);
    let mut frames = Vec::new();
    loop {
        match decoder.decode() {
            Ok(frame) => frames.push(LogFrame {
                level: frame.level().map(|l| l.as_str()),
                message: frame.display_message().to_string(),
            }),
            Err(DecodeError::UnexpectedEof) => break,
            Err(DecodeError::Malformed) => bail!(
                "malformed defmt frame after {} good ones (does the ELF match the output?)",
                frames.len()
            ),
        }
    }
    Ok(frames)
}

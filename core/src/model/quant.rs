//! Weight encodings: f32, and int16 / int8 with symmetric per-output-channel f32 scales.
//!
//! For a row (output channel) `i` of a weight matrix with `b`-bit storage, `q_max = 2^(b−1) − 1`:
//!
//! ```text
//! s_i  = max_j |W_ij| / q_max          (1 for an all-zero row)
//! q_ij = clamp(round(W_ij / s_i), −q_max, q_max)
//! ```
//!
//! so `|s_i·q_ij − W_ij| ≤ s_i / 2`. There is no zero point and `−2^(b−1)` is never used, which
//! keeps the range symmetric. Biases stay f32. A quantised layer computes
//! `y_i = s_i · Σ_j q_ij x_j + b_i` with activations in f32 (see [`super::DenseView`]).

use crate::error::Error;

/// How a tensor's weights are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Encoding {
    /// IEEE-754 single precision, little-endian.
    F32,
    /// Signed 16-bit integers (little-endian) with one f32 scale per output row.
    I16,
    /// Signed 8-bit integers with one f32 scale per output row.
    I8,
}

impl Encoding {
    /// All encodings, in tag order.
    pub const ALL: [Encoding; 3] = [Encoding::F32, Encoding::I16, Encoding::I8];

    /// The tag stored in a file.
    pub const fn tag(self) -> u8 {
        match self {
            Encoding::F32 => 0,
            Encoding::I16 => 1,
            Encoding::I8 => 2,
        }
    }

    /// The encoding of a tag.
    pub const fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            0 => Some(Encoding::F32),
            1 => Some(Encoding::I16),
            2 => Some(Encoding::I8),
            _ => None,
        }
    }

    /// Bytes per weight.
    pub const fn bytes_per_weight(self) -> usize {
        match self {
            Encoding::F32 => 4,
            Encoding::I16 => 2,
            Encoding::I8 => 1,
        }
    }

    /// Largest magnitude of a quantised value (`None` for f32).
    pub const fn q_max(self) -> Option<i32> {
        match self {
            Encoding::F32 => None,
            Encoding::I16 => Some(i16::MAX as i32),
            Encoding::I8 => Some(i8::MAX as i32),
        }
    }

    /// Whether the weights carry per-row scales.
    pub const fn is_quantized(self) -> bool {
        !matches!(self, Encoding::F32)
    }

    /// `"f32"`, `"int16"` or `"int8"`.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::F32 => "f32",
            Encoding::I16 => "int16",
            Encoding::I8 => "int8",
        }
    }
}

impl core::fmt::Display for Encoding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The symmetric scale of one row: `max |w| / q_max`, or 1 for an all-zero row.
///
/// Fails with [`Error::NonFiniteParameter`] for a non-finite weight and with
/// [`Error::InvalidScale`] if the scale underflows to zero (weights below ~1e-36).
pub fn row_scale(row: &[f32], q_max: i32) -> Result<f32, Error> {
    let mut max = 0.0f32;
    for w in row {
        if !w.is_finite() {
            return Err(Error::NonFiniteParameter);
        }
        max = max.max(w.abs());
    }
    if max == 0.0 {
        return Ok(1.0);
    }
    let s = max / q_max as f32;
    if s > 0.0 && s.is_finite() {
        Ok(s)
    } else {
        Err(Error::InvalidScale)
    }
}

/// `clamp(round(w / s), −q_max, q_max)`, rounding half away from zero (computed in f64).
#[inline]
pub fn quantize(w: f32, scale: f32, q_max: i32) -> i32 {
    let q = libm::round(f64::from(w) / f64::from(scale));
    let q_max = f64::from(q_max);
    q.clamp(-q_max, q_max) as i32
}

/// `s · q`, the weight a quantised value stands for.
#[inline]
pub fn dequantize(q: i32, scale: f32) -> f32 {
    scale * q as f32
}

/// Accumulates `|s·q − w|` over the quantised weights of a model.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ErrorAccumulator {
    /// Weights seen.
    pub count: u64,
    /// Largest `|s·q − w|`.
    pub max_abs: f64,
    /// Σ `(s·q − w)²`.
    pub sum_sq: f64,
    /// Largest `|s·q − w| / s` (at most ½).
    pub max_over_scale: f64,
}

impl ErrorAccumulator {
    /// Quantise `row` with `encoding` and record the errors (a no-op for f32).
    pub fn add_row(&mut self, row: &[f32], encoding: Encoding) -> Result<(), Error> {
        let Some(q_max) = encoding.q_max() else {
            return Ok(());
        };
        let s = row_scale(row, q_max)?;
        for &w in row {
            let q = quantize(w, s, q_max);
            let err = (f64::from(s) * f64::from(q) - f64::from(w)).abs();
            self.count += 1;
            self.max_abs = self.max_abs.max(err);
            self.sum_sq += err * err;
            self.max_over_scale = self.max_over_scale.max(err / f64::from(s));
        }
        Ok(())
    }

    /// Root mean square error (0 with no weights).
    pub fn rms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            libm::sqrt(self.sum_sq / self.count as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for e in Encoding::ALL {
            assert_eq!(Encoding::from_tag(e.tag()), Some(e));
        }
        assert_eq!(Encoding::from_tag(3), None);
    }

    #[test]
    fn row_extremes_hit_q_max() {
        let row = [0.5f32, -2.0, 1.0, 0.0];
        for enc in [Encoding::I8, Encoding::I16] {
            let q_max = enc.q_max().unwrap();
            let s = row_scale(&row, q_max).unwrap();
            assert_eq!(quantize(-2.0, s, q_max), -q_max);
            assert_eq!(quantize(0.0, s, q_max), 0);
        }
        assert_eq!(row_scale(&[0.0; 3], 127), Ok(1.0));
        assert_eq!(row_scale(&[f32::NAN], 127), Err(Error::NonFiniteParameter));
    }
}

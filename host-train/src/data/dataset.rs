//! [`Dataset`]: `n` points of dimension `d`, f32, stored row-major.

use std::fmt;

/// `n` points of dimension `d ≥ 1`, stored row-major in one `Vec<f32>` (point `i` is
/// `values[i·d .. (i+1)·d]`). Every value is finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    dim: usize,
    values: Vec<f32>,
}

/// Why a [`Dataset`] could not be built from raw values.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatasetError {
    /// The dimension was 0.
    ZeroDimension,
    /// The number of values is not a multiple of the dimension.
    RaggedLength {
        /// Number of values given.
        len: usize,
        /// The dimension.
        dim: usize,
    },
    /// A value is NaN or infinite (0-based row and column).
    NonFinite {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
    },
}

impl fmt::Display for DatasetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroDimension => write!(f, "a data set needs dimension at least 1"),
            Self::RaggedLength { len, dim } => {
                write!(f, "{len} values do not make whole rows of dimension {dim}")
            }
            Self::NonFinite { row, column } => {
                write!(
                    f,
                    "non-finite value at row {row}, column {column} (0-based)"
                )
            }
        }
    }
}

impl std::error::Error for DatasetError {}

impl Dataset {
    /// A data set from row-major `values` of dimension `dim`; checks the shape and that every
    /// value is finite.
    pub fn new(dim: usize, values: Vec<f32>) -> Result<Self, DatasetError> {
        if dim == 0 {
            return Err(DatasetError::ZeroDimension);
        }
        if !values.len().is_multiple_of(dim) {
            return Err(DatasetError::RaggedLength {
                len: values.len(),
                dim,
            });
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(DatasetError::NonFinite {
                row: i / dim,
                column: i % dim,
            });
        }
        Ok(Self { dim, values })
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of points `n`.
    pub fn len(&self) -> usize {
        self.values.len() / self.dim
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Point `i` (panics if `i >= len()`, like slice indexing).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// The points, in order.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.values.chunks_exact(self.dim)
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The values, row-major, by value.
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }

    /// Per-dimension `(min, max)` over the points; `None` for an empty set.
    pub fn bounds(&self) -> Option<(Vec<f32>, Vec<f32>)> {
        let mut rows = self.rows();
        let first = rows.next()?;
        let (mut lo, mut hi) = (first.to_vec(), first.to_vec());
        for r in rows {
            for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(r) {
                *l = l.min(v);
                *h = h.max(v);
            }
        }
        Some((lo, hi))
    }

    /// The points whose indices are listed, in that order (indices may repeat).
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut values = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        Self {
            dim: self.dim,
            values,
        }
    }

    /// Rows-major values already known to be finite and whole (internal constructor).
    pub(crate) fn from_trusted(dim: usize, values: Vec<f32>) -> Self {
        debug_assert!(dim > 0 && values.len().is_multiple_of(dim));
        debug_assert!(values.iter().all(|v| v.is_finite()));
        Self { dim, values }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_values_are_checked() {
        assert_eq!(Dataset::new(0, vec![]), Err(DatasetError::ZeroDimension));
        assert_eq!(
            Dataset::new(2, vec![1.0; 3]),
            Err(DatasetError::RaggedLength { len: 3, dim: 2 })
        );
        assert_eq!(
            Dataset::new(2, vec![1.0, 2.0, 3.0, f32::NAN]),
            Err(DatasetError::NonFinite { row: 1, column: 1 })
        );
        let d = Dataset::new(2, vec![1.0, -2.0, 3.0, 4.0]).unwrap();
        assert_eq!((d.len(), d.dim(), d.is_empty()), (2, 2, false));
        assert_eq!(d.row(1), &[3.0, 4.0]);
        assert_eq!(d.bounds(), Some((vec![1.0, -2.0], vec![3.0, 4.0])));
        assert_eq!(d.select(&[1, 1]).values(), &[3.0, 4.0, 3.0, 4.0]);
        assert_eq!(Dataset::new(3, vec![]).unwrap().bounds(), None);
    }
}

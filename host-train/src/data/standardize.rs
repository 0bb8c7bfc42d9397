//! [`Standardizer`]: per-dimension standardisation, `x_model = (x_data − shift) / scale`, the
//! convention of the model file's `Normalization` (`x_data = shift + scale · x_model`).

use super::dataset::{Dataset, DatasetError};

/// Per-dimension affine standardisation fitted on data: `shift` = mean, `scale` = standard
/// deviation (population, divisor `n`), with a scale of 1 where the standard deviation is 0 or
/// not a positive finite number.
///
/// [`Standardizer::apply`] maps data to model space, [`Standardizer::invert`] maps back; the
/// arithmetic is the same as `emberflow_core::model::Normalization::{from_data, to_data}`, so
/// the trainer can store `shift` and `scale` in the exported model unchanged.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Per-dimension shift (the mean).
    pub shift: Vec<f32>,
    /// Per-dimension positive scale (the standard deviation, or 1).
    pub scale: Vec<f32>,
}

impl Standardizer {
    /// The identity transform in dimension `dim`.
    pub fn identity(dim: usize) -> Self {
        Self {
            shift: vec![0.0; dim],
            scale: vec![1.0; dim],
        }
    }

    /// Fit on `data` (means and standard deviations accumulated in f64). An empty data set
    /// gives the identity.
    pub fn fit(data: &Dataset) -> Self {
        let d = data.dim();
        if data.is_empty() {
            return Self::identity(d);
        }
        let n = data.len() as f64;
        let mut mean = vec![0.0f64; d];
        for row in data.rows() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0f64; d];
        for row in data.rows() {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        let scale = var
            .iter()
            .map(|s| {
                let sd = (s / n).sqrt() as f32;
                if sd > 0.0 && sd.is_finite() { sd } else { 1.0 }
            })
            .collect();
        Self {
            shift: mean.iter().map(|&m| m as f32).collect(),
            scale,
        }
    }

    /// Isotropic standardisation: per-dimension means, one scale (the largest per-dimension
    /// standard deviation) for every dimension, so the geometry of the data is kept; the base σ
    /// is then 1 (the paper's rule: σ² = the largest per-dimension variance).
    pub fn isotropic(data: &Dataset) -> Self {
        let mut s = Self::fit(data);
        let m = s.scale.iter().cloned().fold(0.0f32, f32::max);
        let m = if m > 0.0 && m.is_finite() { m } else { 1.0 };
        s.scale.iter_mut().for_each(|v| *v = m);
        s
    }

    /// The standardisation `scaling` asks for: [`Self::fit`], [`Self::isotropic`] or the
    /// identity. Per-feature scaling refuses constant columns (they would become a direction
    /// of zero spread in model space): the error names them.
    pub fn for_scaling(data: &Dataset, scaling: Scaling) -> Result<Self, String> {
        Ok(match scaling {
            Scaling::PerFeature => {
                let constant = constant_columns(data);
                if !constant.is_empty() {
                    return Err(format!(
                        "--scale per-feature: column(s) {constant:?} are constant (remove them, or use --scale common)"
                    ));
                }
                Self::fit(data)
            }
            Scaling::Common => Self::isotropic(data),
            Scaling::None => Self::identity(data.dim()),
        })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.shift.len()
    }

    /// Data → model space for one point, in place: `x ← (x − shift) / scale`.
    pub fn apply_point(&self, x: &mut [f32]) {
        for ((xi, m), s) in x.iter_mut().zip(&self.shift).zip(&self.scale) {
            *xi = (*xi - m) / s;
        }
    }

    /// Model → data space for one point, in place: `x ← shift + scale · x`.
    pub fn invert_point(&self, x: &mut [f32]) {
        for ((xi, m), s) in x.iter_mut().zip(&self.shift).zip(&self.scale) {
            *xi = m + s * *xi;
        }
    }

    /// Data → model space for a whole data set (panics if the dimensions differ). Fails only
    /// when a value overflows f32 (a point absurdly far out relative to a tiny scale).
    pub fn apply(&self, data: &Dataset) -> Result<Dataset, DatasetError> {
        self.map(data, Self::apply_point)
    }

    /// Model → data space for a whole data set (panics if the dimensions differ). Fails only
    /// when a value overflows f32.
    pub fn invert(&self, data: &Dataset) -> Result<Dataset, DatasetError> {
        self.map(data, Self::invert_point)
    }

    /// `ln |det ∂x_model/∂x_data| = −Σ ln scale`: add it to a model-space log density to get
    /// the data-space one, `ln p_data(x) = ln p_model(apply(x)) − Σ ln scale`.
    pub fn log_det_jacobian(&self) -> f64 {
        -self.scale.iter().map(|&s| f64::from(s).ln()).sum::<f64>()
    }

    fn map(&self, data: &Dataset, f: impl Fn(&Self, &mut [f32])) -> Result<Dataset, DatasetError> {
        assert_eq!(data.dim(), self.dim(), "dimension mismatch");
        let mut values = data.values().to_vec();
        for row in values.chunks_exact_mut(self.dim()) {
            f(self, row);
        }
        Dataset::new(self.dim(), values)
    }
}

/// How `emberflow train` maps the data into model space (`--scale`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scaling {
    /// Each column centred and divided by its own standard deviation (tabular data: columns
    /// in different units).
    PerFeature,
    /// Centred, one scale for all columns (the largest standard deviation): the geometry is
    /// kept (points in a plane, images).
    Common,
    /// The data as they are.
    None,
}

impl Scaling {
    /// Parse a `--scale` value.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "per-feature" => Ok(Self::PerFeature),
            "common" => Ok(Self::Common),
            "none" => Ok(Self::None),
            other => Err(format!(
                "--scale: unknown scaling `{other}` (expected per-feature, common or none)"
            )),
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::PerFeature => "per-feature",
            Self::Common => "common",
            Self::None => "none",
        }
    }
}

/// Columns of `data` whose values are all equal.
pub fn constant_columns(data: &Dataset) -> Vec<usize> {
    (0..data.dim())
        .filter(|&j| {
            let mut rows = data.rows();
            let Some(first) = rows.next().map(|r| r[j]) else {
                return false;
            };
            rows.all(|r| r[j] == first)
        })
        .collect()
}

/// The ratio of the largest to the smallest positive per-column standard deviation (1 for
/// fewer than two such columns).
pub fn spread_ratio(data: &Dataset) -> f64 {
    let s = Standardizer::fit(data);
    let sds: Vec<f64> = s
        .scale
        .iter()
        .zip(
            constant_columns(data)
                .iter()
                .fold(vec![false; data.dim()], |mut c, &j| {
                    c[j] = true;
                    c
                }),
        )
        .filter(|(_, constant)| !constant)
        .map(|(&v, _)| f64::from(v))
        .collect();
    let max = sds.iter().cloned().fold(0.0, f64::max);
    let min = sds.iter().cloned().fold(f64::INFINITY, f64::min);
    if sds.len() < 2 || min <= 0.0 {
        1.0
    } else {
        max / min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalings() {
        let d = Dataset::new(2, vec![0.0, 100.0, 1.0, 300.0, 2.0, 200.0]).unwrap();
        let per = Standardizer::for_scaling(&d, Scaling::PerFeature).unwrap();
        assert!(
            (per.scale[1] / per.scale[0] - 100.0).abs() < 1e-3,
            "{per:?}"
        );
        let common = Standardizer::for_scaling(&d, Scaling::Common).unwrap();
        assert_eq!(common.scale[0], common.scale[1]);
        assert_eq!(common.scale[1], per.scale[1]);
        assert_eq!(
            Standardizer::for_scaling(&d, Scaling::None).unwrap(),
            Standardizer::identity(2)
        );
        assert!((spread_ratio(&d) - 100.0).abs() < 1e-3);
        let flat = Dataset::new(2, vec![0.0, 5.0, 1.0, 5.0]).unwrap();
        assert_eq!(constant_columns(&flat), [1]);
        let e = Standardizer::for_scaling(&flat, Scaling::PerFeature).unwrap_err();
        assert!(e.contains("[1]"), "{e}");
        assert_eq!(Scaling::parse("per-feature"), Ok(Scaling::PerFeature));
        assert!(Scaling::parse("pca").unwrap_err().contains("pca"));
    }

    #[test]
    fn fit_apply_invert() {
        let data = Dataset::new(3, vec![1.0, 5.0, 2.0, 3.0, 5.0, -2.0, 5.0, 5.0, 0.0]).unwrap();
        let s = Standardizer::fit(&data);
        assert_eq!(s.shift, [3.0, 5.0, 0.0]);
        // Population sd: √(8/3) and √(8/3); the constant column gets scale 1.
        let sd = (8.0f32 / 3.0).sqrt();
        assert!((s.scale[0] - sd).abs() < 1e-6 && (s.scale[2] - sd).abs() < 1e-6);
        assert_eq!(s.scale[1], 1.0);
        let z = s.apply(&data).unwrap();
        let refit = Standardizer::fit(&z);
        for (m, sc) in refit.shift.iter().zip(&refit.scale) {
            assert!(m.abs() < 1e-6 && (sc - 1.0).abs() < 1e-6);
        }
        let back = s.invert(&z).unwrap();
        for (a, b) in back.values().iter().zip(data.values()) {
            assert!((a - b).abs() < 1e-6);
        }
        assert!((s.log_det_jacobian() + 2.0 * f64::from(sd).ln()).abs() < 1e-6);
        assert_eq!(Standardizer::identity(2).log_det_jacobian(), 0.0);
        // Overflow is an error, not a panic.
        let tiny = Standardizer {
            shift: vec![0.0],
            scale: vec![1e-30],
        };
        let big = Dataset::new(1, vec![1e10]).unwrap();
        assert!(tiny.apply(&big).is_err());
    }
}

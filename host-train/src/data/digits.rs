//! The UCI 8×8 handwritten digits (bundled: `host-train/data/digits8x8.csv`, CC BY 4.0, see
//! `digits8x8.ATTRIBUTION.md` there): 1797 images, 64 pixels in `0..=16`, label in the last
//! column. Loaded as 64-d data, dequantised, optionally restricted to some classes and
//! resampled to unequal class weights.

use super::csv::{CsvError, parse_csv};
use super::dataset::Dataset;
use super::sampling::{below, stratified_counts};
use emberflow_core::shuffle;
use emberflow_core::{SeedStream, random};
use std::fmt;

/// The bundled CSV text (header `p0,…,p63,label`).
pub const DIGITS_CSV: &str = include_str!("../../data/digits8x8.csv");

/// Pixels per image.
const PIXELS: usize = 64;
/// Largest pixel value; dequantised values are `(pixel + u) / (MAX_PIXEL + 1)`.
const MAX_PIXEL: f32 = 16.0;

/// Which digits to load and how ([`digits`]).
///
/// * `classes` — the digits to keep, in this order (empty: all ten);
/// * `class_weights` — `None`: every image of the kept classes, once; `Some(w)`: one positive
///   weight per class (normalised to sum 1), and the set is resampled so class `c` holds
///   `round(n · w_c)` images (largest remainder);
/// * `n` — the size of a weighted set. `None`: the largest `n` for which no class needs an
///   image twice (`⌊min_c size_c / w_c⌋`); a larger `n` repeats images of the classes that run
///   short (whole shuffled passes first, so repeats are spread evenly). Ignored without weights;
/// * `seed` — drives resampling, the dequantisation noise and the final shuffle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DigitsOptions {
    /// Digits to keep (empty: all).
    pub classes: Vec<u8>,
    /// Class weights, one per entry of `classes` (or of 0..=9 when `classes` is empty).
    pub class_weights: Option<Vec<f64>>,
    /// Size of a weighted set (`None`: as large as possible without repeats).
    pub n: Option<usize>,
    /// The seed.
    pub seed: u64,
}

/// A data set with a class label per point.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledDataset {
    /// The points (64-d, dequantised, in `(0, 1)`).
    pub data: Dataset,
    /// The digit of each point.
    pub labels: Vec<u8>,
    /// The classes, in the order of `weights`.
    pub classes: Vec<u8>,
    /// The proportion of each class in `data` (the true mode weights of this set).
    pub weights: Vec<f64>,
}

impl LabelledDataset {
    /// The index in `classes` of each point's label (the "region" of each point).
    pub fn class_indices(&self) -> Vec<usize> {
        self.labels
            .iter()
            .map(|l| self.classes.iter().position(|c| c == l).unwrap_or(0))
            .collect()
    }
}

/// Bad digits options, or a damaged bundled file.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DigitsError {
    /// A class is not an integer in 0..=9 (the text as given).
    BadClass(String),
    /// A class is listed twice.
    DuplicateClass(u8),
    /// A weight is not a positive finite number (the text as given).
    BadWeight(String),
    /// The numbers of classes and weights differ.
    WeightCount {
        /// Number of classes.
        classes: usize,
        /// Number of weights.
        weights: usize,
    },
    /// A weighted set of size 0 was asked for.
    EmptySet,
    /// The bundled CSV did not parse (a build problem, not a user one).
    Bundled(String),
}

impl fmt::Display for DigitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadClass(s) => write!(f, "`{s}` is not a digit class (0 to 9)"),
            Self::DuplicateClass(c) => write!(f, "class {c} is listed twice"),
            Self::BadWeight(s) => write!(f, "`{s}` is not a positive finite class weight"),
            Self::WeightCount { classes, weights } => {
                write!(f, "{classes} classes but {weights} class weights")
            }
            Self::EmptySet => write!(f, "a digits set needs at least one image"),
            Self::Bundled(msg) => write!(f, "the bundled digits file is damaged: {msg}"),
        }
    }
}

impl std::error::Error for DigitsError {}

impl From<CsvError> for DigitsError {
    fn from(e: CsvError) -> Self {
        Self::Bundled(e.to_string())
    }
}

/// Parse `--classes` (`"0,1,7"`): comma-separated digits 0–9, no repeats, blanks allowed.
pub fn parse_classes(text: &str) -> Result<Vec<u8>, DigitsError> {
    let mut out = Vec::new();
    for field in text.split(',').map(str::trim) {
        let c = field
            .parse::<u8>()
            .ok()
            .filter(|c| *c <= 9)
            .ok_or_else(|| DigitsError::BadClass(field.to_owned()))?;
        if out.contains(&c) {
            return Err(DigitsError::DuplicateClass(c));
        }
        out.push(c);
    }
    Ok(out)
}

/// Parse `--class-weights` (`"0.2,0.3,0.5"`): comma-separated positive finite numbers (they
/// are normalised to sum 1 when used).
pub fn parse_class_weights(text: &str) -> Result<Vec<f64>, DigitsError> {
    text.split(',')
        .map(str::trim)
        .map(|field| {
            field
                .parse::<f64>()
                .ok()
                .filter(|w| *w > 0.0 && w.is_finite())
                .ok_or_else(|| DigitsError::BadWeight(field.to_owned()))
        })
        .collect()
}

/// Load the bundled digits as described by `options` (see [`DigitsOptions`]).
///
/// Dequantisation: each pixel `p ∈ {0, …, 16}` becomes `(p + u) / 17` with a fresh
/// `u ~ U(0, 1)` per point and pixel, so values lie in `(0, 1)` and repeated images differ.
/// The rows come out in a seeded random order.
pub fn digits(options: &DigitsOptions) -> Result<LabelledDataset, DigitsError> {
    let classes: Vec<u8> = if options.classes.is_empty() {
        (0..=9).collect()
    } else {
        for (i, c) in options.classes.iter().enumerate() {
            if *c > 9 {
                return Err(DigitsError::BadClass(c.to_string()));
            }
            if options.classes[..i].contains(c) {
                return Err(DigitsError::DuplicateClass(*c));
            }
        }
        options.classes.clone()
    };
    let raw = parse_csv(DIGITS_CSV, "digits8x8.csv")?;
    if raw.dim() != PIXELS + 1 {
        return Err(DigitsError::Bundled(format!("{} columns", raw.dim())));
    }
    // Image indices of each kept class.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
    for (i, row) in raw.rows().enumerate() {
        let label = row[PIXELS];
        if let Some(k) = classes.iter().position(|&c| f32::from(c) == label) {
            members[k].push(i);
        }
    }
    if let Some(k) = members.iter().position(Vec::is_empty) {
        return Err(DigitsError::Bundled(format!(
            "no image of class {}",
            classes[k]
        )));
    }
    let mut rng = SeedStream::DATA.rng(options.seed);
    let mut picked: Vec<(usize, usize)> = Vec::new(); // (class index, image index)
    match &options.class_weights {
        None => {
            for (k, m) in members.iter().enumerate() {
                picked.extend(m.iter().map(|&i| (k, i)));
            }
        }
        Some(w) => {
            if w.len() != classes.len() {
                return Err(DigitsError::WeightCount {
                    classes: classes.len(),
                    weights: w.len(),
                });
            }
            if let Some(bad) = w.iter().find(|x| !(**x > 0.0 && x.is_finite())) {
                return Err(DigitsError::BadWeight(bad.to_string()));
            }
            let total: f64 = w.iter().sum();
            let n = options.n.unwrap_or_else(|| {
                members
                    .iter()
                    .zip(w)
                    .map(|(m, wk)| (m.len() as f64 / (wk / total)).floor() as usize)
                    .min()
                    .unwrap_or(0)
            });
            if n == 0 {
                return Err(DigitsError::EmptySet);
            }
            for (k, count) in stratified_counts(w, n).into_iter().enumerate() {
                let mut pool = members[k].clone();
                let mut left = count;
                while left >= pool.len() {
                    picked.extend(pool.iter().map(|&i| (k, i)));
                    left -= pool.len();
                }
                // The rest without replacement: a partial Fisher–Yates.
                for j in 0..left {
                    let r = j + below(&mut rng, pool.len() - j);
                    pool.swap(j, r);
                    picked.push((k, pool[j]));
                }
            }
        }
    }
    shuffle(&mut rng, &mut picked);
    let mut values = Vec::with_capacity(picked.len() * PIXELS);
    let mut labels = Vec::with_capacity(picked.len());
    let mut counts = vec![0usize; classes.len()];
    for &(k, i) in &picked {
        for &p in &raw.row(i)[..PIXELS] {
            values.push((p + random::uniform_open01(&mut rng)) / (MAX_PIXEL + 1.0));
        }
        labels.push(classes[k]);
        counts[k] += 1;
    }
    let total = picked.len() as f64;
    Ok(LabelledDataset {
        data: Dataset::new(PIXELS, values).map_err(|e| DigitsError::Bundled(e.to_string()))?,
        labels,
        classes,
        weights: counts.iter().map(|&c| c as f64 / total).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_digits_dequantised() {
        let d = digits(&DigitsOptions::default()).unwrap();
        assert_eq!((d.data.len(), d.data.dim()), (1797, 64));
        assert!(d.data.values().iter().all(|&v| v > 0.0 && v < 1.0));
        let per_class: Vec<usize> = (0..10u8)
            .map(|c| d.labels.iter().filter(|&&l| l == c).count())
            .collect();
        assert_eq!(
            per_class,
            [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
        );
        // Dequantisation keeps the pixel: ⌊17 x⌋ is the integer pixel of some image.
        let ints: Vec<f32> = d.data.row(0).iter().map(|v| (v * 17.0).floor()).collect();
        assert!(ints.iter().all(|p| (0.0..=16.0).contains(p)));
        assert_eq!(d, digits(&DigitsOptions::default()).unwrap());
    }

    #[test]
    fn weighted_subset_follows_the_weights() {
        let opts = DigitsOptions {
            classes: parse_classes("0, 1,7").unwrap(),
            class_weights: Some(parse_class_weights("0.2,0.3,0.5").unwrap()),
            n: None,
            seed: 4,
        };
        let d = digits(&opts).unwrap();
        // Largest n without repeats: min(178/0.2, 182/0.3, 179/0.5) = 358.
        assert_eq!(d.data.len(), 358);
        assert_eq!(d.classes, [0, 1, 7]);
        let counts: Vec<usize> = [0u8, 1, 7]
            .iter()
            .map(|c| d.labels.iter().filter(|l| *l == c).count())
            .collect();
        assert_eq!(counts, [72, 107, 179]);
        assert!((d.weights[2] - 179.0 / 358.0).abs() < 1e-12);
        assert_eq!(d.class_indices()[..5].len(), 5);
        // A larger n repeats images; the noise makes every row distinct.
        let big = digits(&DigitsOptions {
            n: Some(2000),
            ..opts.clone()
        })
        .unwrap();
        assert_eq!(big.data.len(), 2000);
        assert!((big.weights[0] - 0.2).abs() < 1e-3);
        let mut rows: Vec<Vec<u32>> = big
            .data
            .rows()
            .map(|r| r.iter().map(|v| v.to_bits()).collect())
            .collect();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), 2000);
    }

    #[test]
    fn bad_options_are_errors() {
        assert_eq!(parse_classes("0,x"), Err(DigitsError::BadClass("x".into())));
        assert_eq!(parse_classes("10"), Err(DigitsError::BadClass("10".into())));
        assert_eq!(parse_classes("1,1"), Err(DigitsError::DuplicateClass(1)));
        assert_eq!(parse_classes(""), Err(DigitsError::BadClass(String::new())));
        assert_eq!(
            parse_class_weights("0.5,-1"),
            Err(DigitsError::BadWeight("-1".into()))
        );
        assert_eq!(
            parse_class_weights("nan"),
            Err(DigitsError::BadWeight("nan".into()))
        );
        let e = digits(&DigitsOptions {
            classes: vec![1, 2],
            class_weights: Some(vec![1.0]),
            ..Default::default()
        });
        assert_eq!(
            e,
            Err(DigitsError::WeightCount {
                classes: 2,
                weights: 1
            })
        );
        let e = digits(&DigitsOptions {
            classes: vec![3],
            class_weights: Some(vec![1.0]),
            n: Some(0),
            ..Default::default()
        });
        assert_eq!(e, Err(DigitsError::EmptySet));
        let e = digits(&DigitsOptions {
            classes: vec![12],
            ..Default::default()
        });
        assert_eq!(e, Err(DigitsError::BadClass("12".into())));
    }
}

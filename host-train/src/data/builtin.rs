//! [`BuiltIn`]: the paper's data sets (PAPER.md §4) and harder mixtures beyond them (modes of
//! very different widths, the SLIPS two-mode benchmark up to d = 128, unequal weights in 24-D
//! and 100-D), generated from a seed, and their [`GroundTruth`] — exact log density, mode
//! centres, true weights and mode regions.

use super::dataset::Dataset;
use super::mixture::{Component, GaussianMixture, nearest_centre};
use super::rings::Rings;
use emberflow_core::SeedStream;
use std::fmt;
use std::str::FromStr;

/// A built-in data set. Names as on the command line: the paper's (PAPER.md §4) `two-modes`,
/// `four-modes`, `eight-gaussians`, `rings`, `gmm-16`, `gmm-32`, `gmm-64`, and `widths`,
/// `slips-8` … `slips-128`, `weighted-24`, `weighted-100`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltIn {
    /// The motivating example (C.2): `(1/3) N(−1.5·𝟙, 0.05 I) + (2/3) N(1.5·𝟙, 0.1 I)` in 2-D.
    TwoModes,
    /// The extended example (C.3): weights 0.1, 0.2, 0.3, 0.4 at `(−3, 0)`, `(−1, 0)`, `(1, 0)`,
    /// `(3, 0)`, covariance `0.05 I`.
    FourModes,
    /// Eight equal Gaussians on the unit circle (C.4): `μ_i = (cos 2πi/8, sin 2πi/8)`, std 0.15.
    EightGaussians,
    /// Four equal rings of radii 1, 2, 3, 4 (C.4), radial std 0.15.
    Rings,
    /// Four equal `N(μ_i, I)` in 16-D (C.5), `a = 0.5919`.
    Gmm16,
    /// Four equal `N(μ_i, I)` in 32-D (C.5).
    Gmm32,
    /// Four equal `N(μ_i, I)` in 64-D (C.5).
    Gmm64,
    /// Three modes whose widths differ 16-fold, with unequal weights, in 2-D:
    /// `0.5 N((−4, 0), 0.05² I) + 0.3 N((0, 0), 0.25² I) + 0.2 N((4, 0), 0.8² I)`. Regions by
    /// the largest responsibility (a wide mode reaches past the midpoint to a narrow one).
    Widths,
    /// The two-mode benchmark of SLIPS (Grenioux et al. 2024) in dimension `d` (8, 16, 32, 64
    /// or 128): means `±𝟙` shifted by `+⅓` — `(2/3) N(−(2/3)·𝟙, 0.05 I) + (1/3) N((4/3)·𝟙,
    /// 0.05 I)`, weights 2:1. Its figure is the error of the first mode's weight.
    Slips(u16),
    /// Four `N(μ_i, I)` with the `gmm-*` means (`a = 0.5919`) and unequal weights 0.1, 0.2,
    /// 0.3, 0.4, in dimension `d` (24 or 100): dimensions between and beyond the paper's.
    Weighted(u16),
}

/// The mean scale `a` of the high-dimensional mixtures (PAPER.md §4: the paper's constant,
/// not flow_mcmc's `0.5910·√(2 ln d)`).
pub const GMM_MEAN_SCALE: f64 = 0.5919;

impl BuiltIn {
    /// Every built-in set, in documentation order.
    pub const ALL: [BuiltIn; 15] = [
        Self::TwoModes,
        Self::FourModes,
        Self::EightGaussians,
        Self::Rings,
        Self::Gmm16,
        Self::Gmm32,
        Self::Gmm64,
        Self::Widths,
        Self::Slips(8),
        Self::Slips(16),
        Self::Slips(32),
        Self::Slips(64),
        Self::Slips(128),
        Self::Weighted(24),
        Self::Weighted(100),
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Widths => "widths",
            Self::Slips(8) => "slips-8",
            Self::Slips(16) => "slips-16",
            Self::Slips(32) => "slips-32",
            Self::Slips(64) => "slips-64",
            Self::Slips(_) => "slips-128",
            Self::Weighted(24) => "weighted-24",
            Self::Weighted(_) => "weighted-100",
            Self::TwoModes => "two-modes",
            Self::FourModes => "four-modes",
            Self::EightGaussians => "eight-gaussians",
            Self::Rings => "rings",
            Self::Gmm16 => "gmm-16",
            Self::Gmm32 => "gmm-32",
            Self::Gmm64 => "gmm-64",
        }
    }

    /// The dimension.
    pub fn dim(self) -> usize {
        match self {
            Self::Gmm16 => 16,
            Self::Gmm32 => 32,
            Self::Gmm64 => 64,
            Self::Slips(d) | Self::Weighted(d) => usize::from(d),
            _ => 2,
        }
    }

    /// The data-set size the paper used (App. C): 16 384, 60 000, 60 000, 60 000, 50 000;
    /// 60 000 for `widths` and 50 000 for the other sets beyond the paper.
    pub fn paper_len(self) -> usize {
        match self {
            Self::TwoModes => 16_384,
            Self::FourModes | Self::EightGaussians | Self::Rings | Self::Widths => 60_000,
            Self::Gmm16 | Self::Gmm32 | Self::Gmm64 | Self::Slips(_) | Self::Weighted(_) => 50_000,
        }
    }

    /// Whether this is one of the paper's sets (PAPER.md §4).
    pub fn in_paper(self) -> bool {
        !matches!(self, Self::Widths | Self::Slips(_) | Self::Weighted(_))
    }

    /// The true distribution (built once; keep it for repeated density or region calls).
    pub fn truth(self) -> GroundTruth {
        let law = match self {
            Self::TwoModes => Law::Mixture(GaussianMixture::new(vec![
                iso(1.0 / 3.0, vec![-1.5, -1.5], 0.05),
                iso(2.0 / 3.0, vec![1.5, 1.5], 0.1),
            ])),
            Self::FourModes => Law::Mixture(GaussianMixture::new(
                [(0.1, -3.0), (0.2, -1.0), (0.3, 1.0), (0.4, 3.0)]
                    .into_iter()
                    .map(|(w, x)| iso(w, vec![x, 0.0], 0.05))
                    .collect(),
            )),
            Self::EightGaussians => Law::Mixture(GaussianMixture::new(
                (0..8)
                    .map(|i| {
                        let t = 2.0 * std::f64::consts::PI * f64::from(i) / 8.0;
                        iso(0.125, vec![t.cos(), t.sin()], 0.15 * 0.15)
                    })
                    .collect(),
            )),
            Self::Rings => Law::Rings(Rings::new(vec![1.0, 2.0, 3.0, 4.0], 0.15)),
            Self::Gmm16 | Self::Gmm32 | Self::Gmm64 => {
                Law::Mixture(gmm_means(self.dim(), [0.25; 4]))
            }
            Self::Weighted(_) => Law::Mixture(gmm_means(self.dim(), [0.1, 0.2, 0.3, 0.4])),
            Self::Widths => Law::Mixture(GaussianMixture::new(vec![
                iso(0.5, vec![-4.0, 0.0], 0.05 * 0.05),
                iso(0.3, vec![0.0, 0.0], 0.25 * 0.25),
                iso(0.2, vec![4.0, 0.0], 0.8 * 0.8),
            ])),
            Self::Slips(_) => {
                let d = self.dim();
                Law::Mixture(GaussianMixture::new(vec![
                    iso(2.0 / 3.0, vec![-1.0 + 1.0 / 3.0; d], 0.05),
                    iso(1.0 / 3.0, vec![1.0 + 1.0 / 3.0; d], 0.05),
                ]))
            }
        };
        GroundTruth { set: self, law }
    }

    /// `n` points generated from `seed` (see [`GroundTruth::sample`]).
    pub fn sample(self, n: usize, seed: u64) -> Dataset {
        self.truth().sample(n, seed)
    }
}

/// Four `N(μ_i, I)` with the paper's high-dimensional means: `μ₁ = a𝟙`, `μ₂` = `−a` on the
/// first half and `a` on the rest, `μ₃ = −μ₂`, `μ₄ = −μ₁`.
fn gmm_means(d: usize, weights: [f64; 4]) -> GaussianMixture {
    let a = GMM_MEAN_SCALE;
    let mu1 = vec![a; d];
    let mu2: Vec<f64> = (0..d).map(|i| if i < d / 2 { -a } else { a }).collect();
    let neg = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<_>>();
    let (mu3, mu4) = (neg(&mu2), neg(&mu1));
    GaussianMixture::new(
        [mu1, mu2, mu3, mu4]
            .into_iter()
            .zip(weights)
            .map(|(m, w)| iso(w, m, 1.0))
            .collect(),
    )
}

fn iso(weight: f64, mean: Vec<f64>, variance: f64) -> Component {
    Component {
        weight,
        mean,
        variance,
    }
}

impl fmt::Display for BuiltIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown built-in data-set name (the message lists the known ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownDataset(pub String);

impl fmt::Display for UnknownDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = BuiltIn::ALL.iter().map(|b| b.name()).collect();
        write!(
            f,
            "unknown data set `{}` (built-in: {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownDataset {}

impl FromStr for BuiltIn {
    type Err = UnknownDataset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownDataset(s.to_owned()))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Law {
    Mixture(GaussianMixture),
    Rings(Rings),
}

/// The true distribution of a built-in set: sampling, exact log density, modes and regions.
///
/// Mode `k` has centre `centres()[k]`, true weight `weights()[k]` and region
/// `{x : region(x) = k}`. Regions: `four-modes` — vertical bands split at `x = −2, 0, 2`
/// (the paper's Fig. 4); `rings` — the ring of nearest radius; every other set — the nearest
/// centre (Euclidean).
#[derive(Clone, Debug, PartialEq)]
pub struct GroundTruth {
    set: BuiltIn,
    law: Law,
}

impl GroundTruth {
    /// Which built-in set this is.
    pub fn set(&self) -> BuiltIn {
        self.set
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.set.dim()
    }

    /// The number of modes (= regions).
    pub fn n_modes(&self) -> usize {
        match &self.law {
            Law::Mixture(m) => m.components().len(),
            Law::Rings(r) => r.radii().len(),
        }
    }

    /// The true mode weights (mixture weights; equal for the rings).
    pub fn weights(&self) -> Vec<f64> {
        match &self.law {
            Law::Mixture(m) => m.weights(),
            Law::Rings(r) => vec![1.0 / r.radii().len() as f64; r.radii().len()],
        }
    }

    /// The mode centres: component means; for the rings, the point `(R_k, 0)` of each ring.
    pub fn centres(&self) -> Vec<Vec<f32>> {
        match &self.law {
            Law::Mixture(m) => m
                .components()
                .iter()
                .map(|c| c.mean.iter().map(|&v| v as f32).collect())
                .collect(),
            Law::Rings(r) => r.radii().iter().map(|&rk| vec![rk as f32, 0.0]).collect(),
        }
    }

    /// The region (mode index in `0..n_modes()`) of a point; see the type's documentation.
    /// A point with NaN coordinates lands in some valid region; callers skip non-finite
    /// points themselves.
    pub fn region(&self, x: &[f32]) -> usize {
        match (&self.law, self.set) {
            (Law::Mixture(_), BuiltIn::FourModes) => {
                let v = x[0];
                if v < -2.0 {
                    0
                } else if v < 0.0 {
                    1
                } else if v < 2.0 {
                    2
                } else {
                    3
                }
            }
            (Law::Mixture(m), BuiltIn::Widths) => m.most_likely(x),
            (Law::Mixture(m), _) => {
                nearest_centre(m.components().iter().map(|c| c.mean.as_slice()), x)
            }
            (Law::Rings(r), _) => r.nearest(x),
        }
    }

    /// Whether `x` is far from every mode: its squared Mahalanobis distance to each component
    /// is above the `1 − 10⁻⁴` quantile of χ²_d (Wilson–Hilferty), so a draw of the true
    /// distribution is far with probability below 10⁻⁴. Always `false` for the rings.
    pub fn far_from_modes(&self, x: &[f32]) -> bool {
        let Law::Mixture(m) = &self.law else {
            return false;
        };
        let d = m.dim() as f64;
        // z of the 1 − 1e-4 normal quantile
        let z = 3.719_016_485;
        let h = 2.0 / (9.0 * d);
        let q = d * (1.0 - h + z * h.sqrt()).powi(3);
        m.components().iter().all(|c| {
            let sq: f64 = x
                .iter()
                .zip(&c.mean)
                .map(|(&xi, mu)| (f64::from(xi) - mu).powi(2))
                .sum();
            sq / c.variance > q
        })
    }

    /// Exact `ln p*(x)` in f64 (`x.len()` must be `dim()`).
    pub fn log_density(&self, x: &[f32]) -> f64 {
        match &self.law {
            Law::Mixture(m) => m.log_density(x),
            Law::Rings(r) => r.log_density(x),
        }
    }

    /// The largest per-coordinate variance of the distribution, `max_i Var(x_i)` — the
    /// paper's rule for the base variance `σ²` of high-dimensional runs (`1 + a²` for the
    /// GMMs).
    pub fn max_marginal_variance(&self) -> f64 {
        match &self.law {
            Law::Mixture(m) => (0..m.dim())
                .map(|i| {
                    let mean: f64 = m.components().iter().map(|c| c.weight * c.mean[i]).sum();
                    m.components()
                        .iter()
                        .map(|c| c.weight * (c.variance + (c.mean[i] - mean).powi(2)))
                        .sum::<f64>()
                })
                .fold(0.0, f64::max),
            // E[x₁²] = E[r²]·E[cos²θ] = E[r²]/2, E[x₁] = 0.
            Law::Rings(r) => {
                let k = r.radii().len() as f64;
                let er2: f64 = r.radii().iter().map(|rk| rk * rk).sum::<f64>() / k;
                0.5 * (er2 + r.sd() * r.sd())
            }
        }
    }

    /// `n` points from `seed`: exactly `round(n · w_k)` from mode `k` (largest remainder, so
    /// the data's mode proportions equal the true weights up to `1/n` and do not add
    /// multinomial noise to the weight metrics), in a random order. The generator is
    /// [`SeedStream::DATA`]'s; the same seed gives the same bits on every platform.
    pub fn sample(&self, n: usize, seed: u64) -> Dataset {
        let mut rng = SeedStream::DATA.rng(seed);
        match &self.law {
            Law::Mixture(m) => m.sample(n, &mut rng),
            Law::Rings(r) => r.sample(n, &mut rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in BuiltIn::ALL {
            assert_eq!(b.name().parse::<BuiltIn>(), Ok(b));
            assert_eq!(b.to_string(), b.name());
        }
        let err = "moons".parse::<BuiltIn>().unwrap_err().to_string();
        assert!(err.contains("moons") && err.contains("gmm-64"), "{err}");
    }

    #[test]
    fn shapes_weights_and_centres() {
        for b in BuiltIn::ALL {
            let t = b.truth();
            assert_eq!(t.dim(), b.dim());
            assert_eq!(t.weights().len(), t.n_modes());
            assert_eq!(t.centres().len(), t.n_modes());
            assert!((t.weights().iter().sum::<f64>() - 1.0).abs() < 1e-12);
            // Each centre lies in its own region, and the density is finite there.
            for (k, c) in t.centres().iter().enumerate() {
                assert_eq!(c.len(), b.dim());
                assert_eq!(t.region(c), k, "{b}: centre {k}");
                assert!(t.log_density(c).is_finite());
            }
            let d = b.sample(100, 1);
            assert_eq!((d.len(), d.dim()), (100, b.dim()));
            assert_eq!(d, b.sample(100, 1));
            assert_ne!(d, b.sample(100, 2));
        }
        assert_eq!(BuiltIn::FourModes.truth().weights(), [0.1, 0.2, 0.3, 0.4]);
        let w = BuiltIn::TwoModes.truth().weights();
        assert!((w[0] - 1.0 / 3.0).abs() < 1e-15 && (w[1] - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn gmm_means_follow_the_paper() {
        let c = BuiltIn::Gmm16.truth().centres();
        let a = GMM_MEAN_SCALE as f32;
        assert!(c[0].iter().all(|&v| v == a));
        assert!(c[1][..8].iter().all(|&v| v == -a) && c[1][8..].iter().all(|&v| v == a));
        assert!(c[2].iter().zip(&c[1]).all(|(x, y)| *x == -*y));
        assert!(c[3].iter().all(|&v| v == -a));
        let v = BuiltIn::Gmm32.truth().max_marginal_variance();
        assert!((v - (1.0 + GMM_MEAN_SCALE * GMM_MEAN_SCALE)).abs() < 1e-12);
        // the weighted sets share the means, with weights 0.1 … 0.4
        let w = BuiltIn::Weighted(24).truth();
        let c1 = &w.centres()[1];
        assert!(c1[..12].iter().all(|&v| v == -a) && c1[12..].iter().all(|&v| v == a));
        assert_eq!(w.weights(), [0.1, 0.2, 0.3, 0.4]);
        assert_eq!(BuiltIn::Weighted(100).dim(), 100);
    }

    #[test]
    fn sets_beyond_the_paper() {
        let names: Vec<&str> = BuiltIn::ALL.iter().map(|b| b.name()).collect();
        for n in [
            "widths",
            "slips-8",
            "slips-128",
            "weighted-24",
            "weighted-100",
        ] {
            assert!(names.contains(&n), "{n}");
        }
        assert!(BuiltIn::FourModes.in_paper() && !BuiltIn::Slips(8).in_paper());
        // SLIPS: means −2/3 and 4/3 in every coordinate, weights 2:1
        for d in [8u16, 16, 32, 64, 128] {
            let t = BuiltIn::Slips(d).truth();
            assert_eq!(t.dim(), usize::from(d));
            let c = t.centres();
            assert!(c[0].iter().all(|&v| (v + 2.0 / 3.0).abs() < 1e-6));
            assert!(c[1].iter().all(|&v| (v - 4.0 / 3.0).abs() < 1e-6));
            let w = t.weights();
            assert!((w[0] - 2.0 / 3.0).abs() < 1e-15, "{w:?}");
        }
        // widths: a wide-mode point past the midpoint towards the medium mode stays wide, and
        // the sampled regions give the true weights up to the tails' leakage
        let t = BuiltIn::Widths.truth();
        assert_eq!(t.region(&[1.9, 0.0]), 2);
        assert_eq!(t.region(&[0.5, 0.0]), 1);
        assert_eq!(t.region(&[-3.9, 0.05]), 0);
        let d = t.sample(60_000, 3);
        let mut hist = [0usize; 3];
        for r in d.rows() {
            hist[t.region(r)] += 1;
        }
        let w: Vec<f64> = hist.iter().map(|&h| h as f64 / 60_000.0).collect();
        for (a, b) in w.iter().zip(t.weights()) {
            assert!((a - b).abs() < 2e-3, "{w:?}");
        }
        // far from every mode: a true draw almost never; a point between the modes, yes
        let far = d.rows().filter(|r| t.far_from_modes(r)).count();
        assert!(far < 30, "{far} of 60000 true draws far");
        assert!(t.far_from_modes(&[-2.0, 0.0]));
        assert!(!t.far_from_modes(&[4.5, 0.5]));
        let s = BuiltIn::Slips(64).truth();
        let d = s.sample(5_000, 1);
        assert!(d.rows().filter(|r| s.far_from_modes(r)).count() < 5);
        assert!(s.far_from_modes(&[0.33; 64]));
    }

    #[test]
    fn sampled_regions_match_true_weights() {
        // Exact counts per component: the region histogram of the data is within leakage of
        // the true weights (four-modes bands are 4.5 sd from each mode).
        let t = BuiltIn::FourModes.truth();
        let d = t.sample(60_000, 0);
        let mut hist = [0usize; 4];
        for r in d.rows() {
            hist[t.region(r)] += 1;
        }
        assert_eq!(hist, [6_000, 12_000, 18_000, 24_000]);
        let t = BuiltIn::TwoModes.truth();
        let d = t.sample(16_384, 0);
        let top = d.rows().filter(|r| t.region(r) == 1).count();
        assert_eq!(top, 10_923);
    }

    #[test]
    fn four_modes_density_is_normalised_on_a_fine_grid() {
        let t = BuiltIn::FourModes.truth();
        let h = 0.01f64;
        let mut total = 0.0;
        for i in 0..1000 {
            for j in 0..300 {
                let x = [
                    (-5.0 + (i as f64 + 0.5) * h) as f32,
                    (-1.5 + (j as f64 + 0.5) * h) as f32,
                ];
                total += t.log_density(&x).exp() * h * h;
            }
        }
        assert!((total - 1.0).abs() < 1e-4, "{total}");
    }
}

//! k-means (k-means++ seeding, Lloyd) and the silhouette rule that chooses k.

use crate::data::Dataset;
use crate::data::sampling::{below, subsample};
use emberflow_core::RngCore;
use emberflow_core::SeedStream;

/// A k-means fit: centres sorted lexicographically (so mode 1 is the left-most, …).
pub struct KMeans {
    /// The centres, sorted lexicographically.
    pub centres: Vec<Vec<f32>>,
}

/// Points k-means is fitted on (a seeded random subset of larger data).
pub const KMEANS_FIT_POINTS: usize = 10_000;
/// Points of the silhouette score (its cost grows as the square).
const SILHOUETTE_POINTS: usize = 1_500;
/// Largest k the automatic rule tries.
const K_MAX: usize = 10;
/// Below this best mean silhouette the data are taken to have no clear cluster structure
/// (k = 1): the lower end of Kaufman & Rousseeuw's "reasonable structure" band (splitting a
/// single Gaussian scores about 0.35–0.4).
const SILHOUETTE_MIN: f64 = 0.5;

/// Lloyd's k-means with k-means++ seeding, best of 4 restarts by inertia, on at most
/// [`KMEANS_FIT_POINTS`] points.
pub fn kmeans(data: &Dataset, k: usize, seed: u64) -> KMeans {
    let d = data.dim();
    let mut r = SeedStream::KMEANS.rng_at(seed, k as u64);
    let rows: Vec<&[f32]> = subsample(data.len(), KMEANS_FIT_POINTS, &mut r)
        .into_iter()
        .map(|i| data.row(i))
        .collect();
    let k = k.clamp(1, rows.len().max(1));
    let mut best: Option<(f64, Vec<Vec<f64>>)> = None;
    for _restart in 0..4 {
        // k-means++.
        let mut centres: Vec<Vec<f64>> = vec![
            rows[below(&mut r, rows.len())]
                .iter()
                .map(|&v| f64::from(v))
                .collect(),
        ];
        let mut d2: Vec<f64> = rows.iter().map(|x| dist2_f64(&centres[0], x)).collect();
        while centres.len() < k {
            let total: f64 = d2.iter().sum();
            let pick = if total > 0.0 {
                let u = (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
                let mut acc = 0.0;
                d2.iter()
                    .position(|&w| {
                        acc += w;
                        acc > u
                    })
                    .unwrap_or(rows.len() - 1)
            } else {
                below(&mut r, rows.len())
            };
            let c: Vec<f64> = rows[pick].iter().map(|&v| f64::from(v)).collect();
            for (w, x) in d2.iter_mut().zip(&rows) {
                *w = w.min(dist2_f64(&c, x));
            }
            centres.push(c);
        }
        // Lloyd.
        let mut assign = vec![usize::MAX; rows.len()];
        for _iter in 0..300 {
            let mut changed = false;
            for (a, x) in assign.iter_mut().zip(&rows) {
                let j = nearest_f64(&centres, x);
                if *a != j {
                    *a = j;
                    changed = true;
                }
            }
            let mut sums = vec![vec![0.0f64; d]; k];
            let mut counts = vec![0usize; k];
            for (&a, x) in assign.iter().zip(&rows) {
                counts[a] += 1;
                for (s, &v) in sums[a].iter_mut().zip(x.iter()) {
                    *s += f64::from(v);
                }
            }
            for j in 0..k {
                if counts[j] > 0 {
                    centres[j] = sums[j].iter().map(|s| s / counts[j] as f64).collect();
                } else {
                    // An empty cluster takes the point farthest from its centre.
                    let far = rows
                        .iter()
                        .zip(&assign)
                        .map(|(x, &a)| dist2_f64(&centres[a], x))
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .map_or(0, |(i, _)| i);
                    centres[j] = rows[far].iter().map(|&v| f64::from(v)).collect();
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let inertia: f64 = rows
            .iter()
            .map(|x| dist2_f64(&centres[nearest_f64(&centres, x)], x))
            .sum();
        if best.as_ref().is_none_or(|b| inertia < b.0) {
            best = Some((inertia, centres));
        }
    }
    let (_, centres) = best.expect("at least one restart");
    let mut centres: Vec<Vec<f32>> = centres
        .into_iter()
        .map(|c| c.into_iter().map(|v| v as f32).collect())
        .collect();
    centres.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    KMeans { centres }
}

fn dist2_f64(c: &[f64], x: &[f32]) -> f64 {
    c.iter()
        .zip(x)
        .map(|(a, &b)| (a - f64::from(b)).powi(2))
        .sum()
}

fn nearest_f64(centres: &[Vec<f64>], x: &[f32]) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (j, c) in centres.iter().enumerate() {
        let d = dist2_f64(c, x);
        if d < best.0 {
            best = (d, j);
        }
    }
    best.1
}

/// The automatic choice of k.
pub struct KChoice {
    /// The chosen k.
    pub k: usize,
    /// Its centres (sorted).
    pub centres: Vec<Vec<f32>>,
    /// Mean silhouette of each k tried, `(k, score)`.
    pub scores: Vec<(usize, f64)>,
    /// The rule's outcome, in words.
    pub rule: String,
}

/// The rule: k-means (seeded) for every k in 2..=10 (at most n − 1), the mean silhouette of
/// each on a fixed subset of at most 1,500 points; k is the one with the largest silhouette,
/// or 1 if even that is below 0.5 (no clear cluster structure).
pub fn choose_k(data: &Dataset, seed: u64) -> KChoice {
    let n = data.len();
    let mut r = SeedStream::SILHOUETTE.rng(seed);
    let pts: Vec<&[f32]> = subsample(n, SILHOUETTE_POINTS, &mut r)
        .into_iter()
        .map(|i| data.row(i))
        .collect();
    let m = pts.len();
    let mut dist = vec![0.0f64; m * m];
    for i in 0..m {
        for j in i + 1..m {
            let v = dist2(pts[i], pts[j]).sqrt();
            dist[i * m + j] = v;
            dist[j * m + i] = v;
        }
    }
    let mut scores = Vec::new();
    let mut best: Option<(f64, usize, Vec<Vec<f32>>)> = None;
    for k in 2..=K_MAX.min(m.saturating_sub(1)) {
        let fit = kmeans(data, k, seed);
        let labels: Vec<usize> = pts.iter().map(|x| nearest(&fit.centres, x)).collect();
        let s = silhouette(&dist, &labels, k);
        scores.push((k, s));
        if best.as_ref().is_none_or(|b| s > b.0) {
            best = Some((s, k, fit.centres));
        }
    }
    match best {
        Some((s, k, centres)) if s >= SILHOUETTE_MIN => KChoice {
            k,
            centres,
            rule: format!(
                "largest mean silhouette {s:.2} over k = 2..={}",
                scores.last().map_or(2, |p| p.0)
            ),
            scores,
        },
        other => {
            let s = other.map_or(f64::NAN, |b| b.0);
            let fit = kmeans(data, 1, seed);
            KChoice {
                k: 1,
                centres: fit.centres,
                rule: format!(
                    "best mean silhouette {s:.2} < {SILHOUETTE_MIN}: no clear cluster structure, one region"
                ),
                scores,
            }
        }
    }
}

/// Mean silhouette `(b − a)/max(a, b)` of labelled points with distance matrix `dist` (a point
/// alone in its cluster scores 0).
fn silhouette(dist: &[f64], labels: &[usize], k: usize) -> f64 {
    let m = labels.len();
    let mut counts = vec![0usize; k];
    labels.iter().for_each(|&l| counts[l] += 1);
    let mut total = 0.0;
    let mut sums = vec![0.0f64; k];
    for i in 0..m {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for j in 0..m {
            sums[labels[j]] += dist[i * m + j];
        }
        let own = labels[i];
        if counts[own] <= 1 {
            continue;
        }
        let a = sums[own] / (counts[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && counts[c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b).max(f64::MIN_POSITIVE);
        }
    }
    total / m.max(1) as f64
}

/// The squared Euclidean distance, in f64.
pub(crate) fn dist2(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = f64::from(*x) - f64::from(*y);
            d * d
        })
        .sum()
}

/// The index of the nearest centre (the first on ties).
pub fn nearest(centres: &[Vec<f32>], x: &[f32]) -> usize {
    let mut best = (f32::INFINITY, 0);
    for (k, c) in centres.iter().enumerate() {
        let d: f32 = c.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best.0 {
            best = (d, k);
        }
    }
    best.1
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use emberflow_core::Xoshiro128PlusPlus;
    use emberflow_core::random::standard_normal;

    /// `n` points around each centre (standard deviation `sd`), interleaved.
    pub(crate) fn blobs(centres: &[[f32; 2]], per: usize, sd: f32, seed: u64) -> Dataset {
        let mut r = Xoshiro128PlusPlus::seed_from_u64(seed);
        let mut v = Vec::new();
        for _ in 0..per {
            for c in centres {
                v.push(c[0] + sd * standard_normal(&mut r));
                v.push(c[1] + sd * standard_normal(&mut r));
            }
        }
        Dataset::new(2, v).unwrap()
    }

    #[test]
    fn kmeans_finds_separated_centres_in_sorted_order() {
        let d = blobs(&[[3.0, 0.0], [-3.0, 0.0], [0.0, 4.0]], 400, 0.3, 1);
        let fit = kmeans(&d, 3, 0);
        let want = [[-3.0, 0.0], [0.0, 4.0], [3.0, 0.0]];
        for (c, w) in fit.centres.iter().zip(want) {
            assert!(
                (c[0] - w[0]).abs() < 0.1 && (c[1] - w[1]).abs() < 0.1,
                "{c:?}"
            );
        }
    }

    #[test]
    fn silhouette_rule_picks_the_cluster_count() {
        let d = blobs(&[[3.0, 0.0], [-3.0, 0.0], [0.0, 4.0]], 400, 0.3, 2);
        let c = choose_k(&d, 0);
        assert_eq!(c.k, 3, "{}", c.rule);
        assert_eq!(c.scores.first().map(|s| s.0), Some(2));
        // One Gaussian blob: no clear structure, one region.
        let one = blobs(&[[0.0, 0.0]], 1000, 1.0, 3);
        let c = choose_k(&one, 0);
        assert_eq!(c.k, 1, "{}", c.rule);
        assert_eq!(c.centres.len(), 1);
    }
}

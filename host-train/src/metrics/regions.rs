//! How points are assigned to modes: the true regions of a built-in set, or the nearest of
//! given centres.

use super::kmeans::{KChoice, nearest};
use crate::data::GroundTruth;

/// How points are assigned to modes.
pub enum Regions {
    /// The true regions of a built-in set.
    Truth(GroundTruth),
    /// Nearest of the given centres (data units).
    Centres {
        /// The centres (data units).
        centres: Vec<Vec<f32>>,
        /// How they were obtained, in words.
        how: String,
        /// The automatic choice of k, when it made them.
        kmeans: Option<KChoice>,
    },
}

impl Regions {
    /// The number of regions.
    pub fn n(&self) -> usize {
        match self {
            Self::Truth(t) => t.n_modes(),
            Self::Centres { centres, .. } => centres.len(),
        }
    }

    /// The region of `x` (data units).
    pub fn region(&self, x: &[f32]) -> usize {
        match self {
            Self::Truth(t) => t.region(x),
            Self::Centres { centres, .. } => nearest(centres, x),
        }
    }

    /// A centre per region (data units).
    pub fn centres(&self) -> Vec<Vec<f32>> {
        match self {
            Self::Truth(t) => t.centres(),
            Self::Centres { centres, .. } => centres.clone(),
        }
    }

    /// The true weights of the regions, if known.
    pub fn truth(&self) -> Option<Vec<f64>> {
        match self {
            Self::Truth(t) => Some(t.weights()),
            Self::Centres { .. } => None,
        }
    }

    /// A few words for figure titles.
    pub fn short(&self) -> String {
        match self {
            Self::Truth(t) => format!("true regions of {}", t.set().name()),
            Self::Centres {
                centres,
                kmeans: Some(_),
                ..
            } => format!("k-means, k = {} (silhouette rule)", centres.len()),
            Self::Centres { how, centres, .. } if how.starts_with("k-means") => {
                format!("k-means, k = {}", centres.len())
            }
            Self::Centres { centres, .. } => format!("nearest of {} centres", centres.len()),
        }
    }

    /// The regions, in a sentence.
    pub fn describe(&self) -> String {
        match self {
            Self::Truth(t) => format!(
                "built-in {}: {} modes, true regions and weights",
                t.set().name(),
                t.n_modes()
            ),
            Self::Centres { how, .. } => how.clone(),
        }
    }
}

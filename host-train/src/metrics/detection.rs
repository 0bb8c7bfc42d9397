//! How well a score ranks anomalies above normal points: the area under the ROC curve
//! (AUROC, ties counted one half — the Mann–Whitney statistic) and the average precision
//! (AUPRC as scikit-learn's `average_precision_score`: `Σ (R_k − R_{k−1}) P_k` over the
//! distinct score thresholds, highest first).

/// AUROC and average precision of `scores` (higher = more anomalous) against `labels`
/// (`true` = anomaly).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    /// Area under the ROC curve, in [0, 1] (0.5: no better than chance).
    pub auroc: f64,
    /// Average precision, in [0, 1] (chance: the share of anomalies).
    pub auprc: f64,
    /// Anomalies among the points.
    pub positives: usize,
    /// Normal points.
    pub negatives: usize,
}

/// Why a detection score cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DetectionError {
    /// `scores` and `labels` have different lengths.
    Lengths {
        /// Number of scores.
        scores: usize,
        /// Number of labels.
        labels: usize,
    },
    /// Only one class is present.
    OneClass,
    /// A score is NaN.
    NotANumber {
        /// Its position.
        index: usize,
    },
}

impl std::fmt::Display for DetectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Lengths { scores, labels } => {
                write!(f, "{scores} scores but {labels} labels")
            }
            Self::OneClass => write!(
                f,
                "the labels need both anomalies (1) and normal points (0)"
            ),
            Self::NotANumber { index } => write!(f, "score {index} is NaN"),
        }
    }
}

impl std::error::Error for DetectionError {}

/// A labels file's text that is not one `0` or `1` per non-empty line: the first bad line
/// (1-based) and its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelError {
    /// The line number, from 1.
    pub line: usize,
    /// The line, trimmed.
    pub text: String,
}

impl std::fmt::Display for LabelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: `{}` is not 0 or 1", self.line, self.text)
    }
}

impl std::error::Error for LabelError {}

/// Anomaly labels: one `0` (normal) or `1` (anomaly) per non-empty line.
pub fn parse_labels(text: &str) -> Result<Vec<bool>, LabelError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| match l.trim() {
            "1" => Ok(true),
            "0" => Ok(false),
            other => Err(LabelError {
                line: i + 1,
                text: other.to_owned(),
            }),
        })
        .collect()
}

/// AUROC and average precision (see the [module documentation](self)).
pub fn detection(scores: &[f64], labels: &[bool]) -> Result<Detection, DetectionError> {
    if scores.len() != labels.len() {
        return Err(DetectionError::Lengths {
            scores: scores.len(),
            labels: labels.len(),
        });
    }
    if let Some(index) = scores.iter().position(|s| s.is_nan()) {
        return Err(DetectionError::NotANumber { index });
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(DetectionError::OneClass);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // Walk the thresholds from the highest score down, a group of tied scores at a time.
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut auroc, mut ap) = (0.0f64, 0.0f64);
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        let (mut gp, mut gn) = (0usize, 0usize);
        while i < order.len() && scores[order[i]] == s {
            if labels[order[i]] {
                gp += 1;
            } else {
                gn += 1;
            }
            i += 1;
        }
        // Each normal point of the group is beaten by every earlier anomaly and ties with
        // the group's anomalies.
        auroc += gn as f64 * (tp as f64 + 0.5 * gp as f64);
        tp += gp;
        fp += gn;
        if gp > 0 {
            ap += gp as f64 / positives as f64 * (tp as f64 / (tp + fp) as f64);
        }
    }
    Ok(Detection {
        auroc: auroc / (positives as f64 * negatives as f64),
        auprc: ap,
        positives,
        negatives,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn_on_small_cases() {
        // sklearn.metrics.roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75,
        // average_precision_score(...) = 0.8333…
        let d = detection(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!((d.auroc - 0.75).abs() < 1e-12, "{d:?}");
        assert!((d.auprc - 5.0 / 6.0).abs() < 1e-12, "{d:?}");
        assert_eq!((d.positives, d.negatives), (2, 2));
        // Ties: roc_auc_score([0,1,0,1], [1,1,1,2]) = 0.75; average precision 0.8333….
        let d = detection(&[1.0, 1.0, 1.0, 2.0], &[false, true, false, true]).unwrap();
        assert!((d.auroc - 0.75).abs() < 1e-12, "{d:?}");
        assert!((d.auprc - (0.5 + 0.5 * 2.0 / 4.0)).abs() < 1e-12, "{d:?}");
        // Perfect and reversed rankings.
        let labels = [false, false, true];
        assert_eq!(detection(&[0.0, 1.0, 2.0], &labels).unwrap().auroc, 1.0);
        assert_eq!(detection(&[2.0, 1.0, 0.0], &labels).unwrap().auroc, 0.0);
        assert_eq!(detection(&[2.0, 1.0, 5.0], &labels).unwrap().auprc, 1.0);
    }

    #[test]
    fn labels_are_zeros_and_ones() {
        assert_eq!(
            parse_labels("0\n1\n\n 1 \n").unwrap(),
            vec![false, true, true]
        );
        let err = parse_labels("0\n2\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: `2` is not 0 or 1");
    }

    #[test]
    fn bad_inputs_are_named() {
        assert_eq!(
            detection(&[1.0], &[true, false]),
            Err(DetectionError::Lengths {
                scores: 1,
                labels: 2
            })
        );
        assert_eq!(
            detection(&[1.0, 2.0], &[true, true]),
            Err(DetectionError::OneClass)
        );
        assert_eq!(
            detection(&[1.0, f64::NAN], &[true, false]),
            Err(DetectionError::NotANumber { index: 1 })
        );
    }
}

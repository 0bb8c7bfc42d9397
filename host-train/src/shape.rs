//! [`ModelShape`]: the architecture of a trained model — data dimension, the energy's hidden
//! widths and activation, the flow's blocks and conditioner widths — chosen at run time,
//! checked against emberflow-core's run-time limits, with the defaults emberflow uses in each
//! dimension ([`ModelShape::default_for`]).
//!
//! The flow is RealNVP over ρ = N(0, σ²I): `blocks` blocks of two affine couplings, the first
//! conditioning on the lower `⌊d/2⌋` coordinates and moving the rest, the second the other way
//! round; every conditioner (scale and shift nets) has the hidden widths `flow_hidden` with
//! ReLU, and its scales are bounded by `tanh`.

use anyhow::{Result, bail};
use emberflow_core::ActivationKind;
use emberflow_core::runtime::{
    MAX_CONDITIONER_HIDDEN, MAX_DIM, MAX_ENERGY_HIDDEN, MAX_FLOW_BLOCKS, MAX_WIDTH,
};
use std::fmt;

/// The energy's hidden widths of the paper (every dimension up to 64).
pub const PAPER_ENERGY_HIDDEN: [usize; 4] = [32, 64, 64, 64];

/// The architecture of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelShape {
    /// Data dimension `d`.
    pub dim: usize,
    /// The energy network's hidden widths, input side first (`d → h₁ → … → 1`).
    pub energy_hidden: Vec<usize>,
    /// The energy network's hidden activation.
    pub activation: ActivationKind,
    /// Flow blocks (two couplings each).
    pub flow_blocks: usize,
    /// The conditioners' hidden widths (ReLU).
    pub flow_hidden: Vec<usize>,
}

/// The energy activations a user may choose.
pub const ACTIVATIONS: [(&str, ActivationKind); 4] = [
    ("leaky-relu", ActivationKind::LeakyRelu),
    ("relu", ActivationKind::Relu),
    ("silu", ActivationKind::Silu),
    ("tanh", ActivationKind::Tanh),
];

/// An activation by its command-line name.
pub fn parse_activation(name: &str) -> Result<ActivationKind> {
    match ACTIVATIONS.iter().find(|(n, _)| *n == name) {
        Some((_, a)) => Ok(*a),
        None => bail!(
            "unknown activation `{name}` (expected one of {})",
            ACTIVATIONS.map(|(n, _)| n).join(", ")
        ),
    }
}

/// The command-line name of an activation.
pub fn activation_name(a: ActivationKind) -> &'static str {
    ACTIVATIONS
        .iter()
        .find(|(_, k)| *k == a)
        .map_or("identity", |(n, _)| n)
}

/// A comma-separated list of positive widths, e.g. `32,64,64`.
pub fn parse_widths(text: &str, what: &str) -> Result<Vec<usize>> {
    let widths: Vec<usize> = text
        .split(',')
        .map(|w| {
            w.trim()
                .parse::<usize>()
                .ok()
                .filter(|&v| v > 0)
                .ok_or_else(|| anyhow::anyhow!("{what}: `{}` is not a positive width", w.trim()))
        })
        .collect::<Result<_>>()?;
    Ok(widths)
}

impl ModelShape {
    /// The shape emberflow uses in dimension `d`:
    /// * energy `d → 32 → 64 → 64 → 64 → 1` (the paper's) for `d ≤ 64`; above, the first hidden
    ///   width grows with the input: `d → w → 64 → 64 → 64 → 1`, `w = 8·⌈d/16⌉` (half of `d`,
    ///   rounded up to a multiple of 8);
    /// * leaky ReLU (slope 0.05);
    /// * flow: 4 blocks of hidden 16 at d = 2, 4 blocks of hidden 32 for 3 ≤ d ≤ 8, 2 blocks of
    ///   hidden 32 for 9 ≤ d ≤ 31, 2 blocks of hidden `27 + ⌊3d/8⌋` from d = 32 (39 at 32 and
    ///   51 at 64, the paper's; 64 at 100, 123 at 256).
    ///
    /// At d = 2, 16, 32 and 64 these are the paper's shapes.
    pub fn default_for(dim: usize) -> Self {
        let energy_hidden = if dim <= 64 {
            PAPER_ENERGY_HIDDEN.to_vec()
        } else {
            vec![8 * dim.div_ceil(16), 64, 64, 64]
        };
        let (hidden, blocks) = match dim {
            0..=2 => (16, 4),
            3..=8 => (32, 4),
            9..=31 => (32, 2),
            _ => (27 + 3 * dim / 8, 2),
        };
        Self {
            dim,
            energy_hidden,
            activation: ActivationKind::LeakyRelu,
            flow_blocks: blocks,
            flow_hidden: vec![hidden],
        }
    }

    /// Check the shape against the run-time limits of emberflow-core (which the sampler, the
    /// model file readers and the firmware share): 2 ≤ d ≤ 256 (a coupling flow needs two
    /// coordinates), 1–6 energy hidden layers, 1–16 flow blocks, 1–3 conditioner hidden
    /// layers, widths 1–1024.
    pub fn validate(&self) -> Result<()> {
        let d = self.dim;
        if d < 2 {
            bail!(
                "dimension {d}: the coupling flow needs at least 2 coordinates (the data have {d} \
                 column{})",
                if d == 1 { "" } else { "s" }
            );
        }
        if d > MAX_DIM {
            bail!("dimension {d} is above the limit of {MAX_DIM}");
        }
        let layers = |what: &str, w: &[usize], max: usize| -> Result<()> {
            if w.is_empty() || w.len() > max {
                bail!(
                    "{what}: {} hidden layers; between 1 and {max} are supported",
                    w.len()
                );
            }
            if let Some(bad) = w.iter().find(|&&x| x == 0 || x > MAX_WIDTH) {
                bail!("{what}: width {bad} is outside 1..={MAX_WIDTH}");
            }
            Ok(())
        };
        layers("--energy-hidden", &self.energy_hidden, MAX_ENERGY_HIDDEN)?;
        layers("--flow-hidden", &self.flow_hidden, MAX_CONDITIONER_HIDDEN)?;
        if self.flow_blocks == 0 || self.flow_blocks > MAX_FLOW_BLOCKS {
            bail!(
                "--flow-blocks {}: between 1 and {MAX_FLOW_BLOCKS} are supported",
                self.flow_blocks
            );
        }
        if !ACTIVATIONS.iter().any(|(_, a)| *a == self.activation) {
            bail!("the energy activation must be one of leaky-relu, relu, silu, tanh");
        }
        Ok(())
    }

    /// Conditioning width of the first coupling of each block (`⌊d/2⌋`).
    pub fn split(&self) -> usize {
        self.dim / 2
    }

    /// The energy's layer widths, `d` first, `1` last.
    pub fn energy_widths(&self) -> Vec<usize> {
        let mut w = vec![self.dim];
        w.extend(&self.energy_hidden);
        w.push(1);
        w
    }

    /// The widths of coupling `c`'s conditioners (`|cond| → hidden… → |trans|`).
    pub fn conditioner_widths(&self, c: usize) -> Vec<usize> {
        let a = if c.is_multiple_of(2) {
            self.split()
        } else {
            self.dim - self.split()
        };
        let mut w = vec![a];
        w.extend(&self.flow_hidden);
        w.push(self.dim - a);
        w
    }

    /// Couplings (two per block).
    pub fn couplings(&self) -> usize {
        2 * self.flow_blocks
    }

    /// The conditioning and transformed coordinates of coupling `c`.
    pub fn mask(&self, c: usize) -> (Vec<u16>, Vec<u16>) {
        let (d, a) = (self.dim as u16, self.split() as u16);
        if c.is_multiple_of(2) {
            ((0..a).collect(), (a..d).collect())
        } else {
            ((a..d).collect(), (0..a).collect())
        }
    }
}

impl fmt::Display for ModelShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |w: &[usize]| w.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        write!(
            f,
            "d = {}, energy {} ({}), flow {} blocks × hidden {}",
            self.dim,
            list(&self.energy_hidden),
            activation_name(self.activation),
            self.flow_blocks,
            list(&self.flow_hidden)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emberflow_core::shapes::flow_shape;

    #[test]
    fn the_defaults_are_the_paper_shapes_where_the_paper_has_them() {
        for d in emberflow_core::shapes::SUPPORTED_DIMS.iter().copied() {
            let s = ModelShape::default_for(d);
            assert_eq!(s.energy_hidden, PAPER_ENERGY_HIDDEN, "d = {d}");
            let (h, k) = flow_shape(d).unwrap();
            assert_eq!(
                (s.flow_hidden.as_slice(), s.flow_blocks),
                (&[h][..], k),
                "d = {d}"
            );
            s.validate().unwrap();
        }
        let s = ModelShape::default_for(100);
        assert_eq!(s.energy_hidden, [56, 64, 64, 64]);
        assert_eq!(s.flow_hidden, [64]);
        assert_eq!(ModelShape::default_for(256).flow_hidden, [123]);
        for d in 2..=256 {
            ModelShape::default_for(d).validate().unwrap();
        }
    }

    #[test]
    fn shapes_outside_the_limits_are_clear_errors() {
        let err = |s: ModelShape| s.validate().unwrap_err().to_string();
        assert!(err(ModelShape::default_for(1)).contains("at least 2"));
        assert!(err(ModelShape::default_for(257)).contains("limit of 256"));
        let mut s = ModelShape::default_for(5);
        s.energy_hidden = vec![8; 7];
        assert!(err(s.clone()).contains("7 hidden layers"));
        s.energy_hidden = vec![2000];
        assert!(err(s.clone()).contains("width 2000"));
        s.energy_hidden = vec![8];
        s.flow_blocks = 17;
        assert!(err(s.clone()).contains("--flow-blocks 17"));
        s.flow_blocks = 1;
        s.flow_hidden = vec![];
        assert!(err(s).contains("0 hidden layers"));
        assert!(parse_widths("32,0", "--energy-hidden").is_err());
        assert!(parse_widths("32,x", "--energy-hidden").is_err());
        assert_eq!(parse_widths("3, 5", "w").unwrap(), [3, 5]);
        assert!(
            parse_activation("gelu")
                .unwrap_err()
                .to_string()
                .contains("silu")
        );
    }

    #[test]
    fn masks_partition_the_coordinates() {
        let s = ModelShape::default_for(5);
        assert_eq!(s.mask(0), (vec![0, 1], vec![2, 3, 4]));
        assert_eq!(s.mask(1), (vec![2, 3, 4], vec![0, 1]));
        assert_eq!(s.conditioner_widths(0), [2, 32, 3]);
        assert_eq!(s.conditioner_widths(1), [3, 32, 2]);
        assert_eq!(s.energy_widths(), [5, 32, 64, 64, 64, 1]);
    }
}

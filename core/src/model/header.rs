//! The header: everything needed to rebuild the model and sample in data space.
//!
//! [`Header`] is the validated, typed form; the wire form is in `wire.rs`. Per-dimension values
//! ([`F32s`], [`U16s`]) stay borrowed from the file.
//!
//! The sections that describe the networks ([`NetSpec`], [`EnergySpec`], [`FlowSpec`]) and the
//! tensors' canonical order ([`TensorSlot`]) are here, with the rules [`Header::validate`]
//! checks; the other fields' types are in `metadata.rs`, the tags in `tags.rs`.

use super::lists::{Bounded, F32s, U16s};
use super::metadata::{Normalization, QuantStats, SamplerSpec, Training};
use super::tags::ModelKind;
use crate::activation::ActivationKind;
use crate::error::Error;

/// Most hidden layers a network in a model file may have.
pub const MAX_HIDDEN: usize = 8;

/// An MLP `input → hidden… → output`: each hidden layer is dense + `activation`, the output
/// layer is dense and linear (the shape of [`crate::Mlp1`] … [`crate::Mlp4`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetSpec {
    /// Input width.
    pub input: u16,
    /// Hidden widths, first to last.
    pub hidden: Bounded<u16, MAX_HIDDEN>,
    /// Output width.
    pub output: u16,
    /// The hidden layers' activation.
    pub activation: ActivationKind,
}

impl NetSpec {
    /// Dense layers (hidden layers + the output layer).
    pub fn depth(&self) -> usize {
        self.hidden.len() + 1
    }

    /// `[rows (outputs), cols (inputs)]` of dense layer `layer`.
    pub fn layer_shape(&self, layer: usize) -> Option<[u16; 2]> {
        let h = self.hidden.as_slice();
        let rows = if layer < h.len() {
            h[layer]
        } else if layer == h.len() {
            self.output
        } else {
            return None;
        };
        let cols = if layer == 0 { self.input } else { h[layer - 1] };
        Some([rows, cols])
    }

    /// Scalar parameters (weights and biases).
    pub fn num_params(&self) -> usize {
        (0..self.depth())
            .filter_map(|l| self.layer_shape(l))
            .map(|[r, c]| usize::from(r).saturating_mul(usize::from(c) + 1))
            .fold(0, usize::saturating_add)
    }

    fn validate(&self) -> Result<(), Error> {
        if self.input == 0 || self.output == 0 || self.hidden.as_slice().contains(&0) {
            return Err(Error::InvalidShape);
        }
        Ok(())
    }
}

/// The energy section: the network `E_θ` and the tilt's base ρ = N(0, diag σ²).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnergySpec<'a> {
    /// `E_θ: R^D → R`.
    pub net: NetSpec,
    /// σ of the tilt ρ, one per dimension.
    pub tilt_sigma: F32s<'a>,
}

/// The flow section: `blocks` RealNVP blocks of two complementary affine couplings.
///
/// Coupling `2k` conditions on `split` coordinates and moves the other `D − split`; coupling
/// `2k + 1` conditions on `D − split` and moves `split`. The scale and shift networks of a
/// coupling share the hidden widths and activation of this section.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowSpec<'a> {
    /// Coupling blocks `K`.
    pub blocks: u16,
    /// Conditioning width `A` of each block's first coupling.
    pub split: u16,
    /// Hidden widths of every conditioner network.
    pub hidden: Bounded<u16, MAX_HIDDEN>,
    /// Hidden activation of every conditioner network.
    pub activation: ActivationKind,
    /// For each coupling in order, `D` indices: the conditioning ones, then the transformed ones.
    pub masks: U16s<'a>,
    /// For each coupling, the scale bound `c` in `s = c·tanh(S(·))`.
    pub scale_factors: F32s<'a>,
    /// σ of the base ρ = N(0, diag σ²), one per dimension.
    pub base_sigma: F32s<'a>,
}

impl<'a> FlowSpec<'a> {
    /// Number of couplings (`2 · blocks`).
    pub fn couplings(&self) -> usize {
        2 * usize::from(self.blocks)
    }

    /// Conditioning width of coupling `c` in dimension `dim`.
    pub fn cond_width(&self, c: usize, dim: u16) -> u16 {
        if c.is_multiple_of(2) {
            self.split
        } else {
            dim.saturating_sub(self.split)
        }
    }

    /// The scale (or shift) network of coupling `c`.
    pub fn net(&self, c: usize, dim: u16) -> NetSpec {
        let a = self.cond_width(c, dim);
        NetSpec {
            input: a,
            hidden: self.hidden,
            output: dim.saturating_sub(a),
            activation: self.activation,
        }
    }

    /// `(conditioning, transformed)` indices of coupling `c`.
    pub fn mask(&self, c: usize, dim: u16) -> (U16s<'a>, U16s<'a>) {
        let d = usize::from(dim);
        let a = usize::from(self.cond_width(c, dim));
        (
            self.masks.window(c * d, a),
            self.masks.window(c * d + a, d.saturating_sub(a)),
        )
    }
}

/// The validated header of a model file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Header<'a> {
    /// What the file holds.
    pub kind: ModelKind,
    /// Data dimension `D`.
    pub dim: u16,
    /// The energy section (kinds `Energy`, `EnergyFlow`).
    pub energy: Option<EnergySpec<'a>>,
    /// The flow section (kinds `Flow`, `EnergyFlow`).
    pub flow: Option<FlowSpec<'a>>,
    /// Data normalisation applied by the trainer.
    pub normalization: Normalization<'a>,
    /// Sampler settings.
    pub sampler: SamplerSpec,
    /// Training metadata.
    pub training: Training<'a>,
    /// Quantisation error statistics.
    pub quant: QuantStats,
}

/// Which network a weight tensor belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorRole {
    /// The energy network.
    Energy,
    /// The scale network `S` of a coupling.
    Scale {
        /// Coupling index (`2·block + 0/1`).
        coupling: usize,
    },
    /// The shift network `T` of a coupling.
    Shift {
        /// Coupling index (`2·block + 0/1`).
        coupling: usize,
    },
}

/// A weight tensor's place in the canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorSlot {
    /// Index in the file.
    pub index: usize,
    /// The network it belongs to.
    pub role: TensorRole,
    /// Dense layer within that network.
    pub layer: usize,
    /// `[rows (outputs), cols (inputs)]`.
    pub shape: [u16; 2],
}

impl core::fmt::Display for TensorSlot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.role {
            TensorRole::Energy => write!(f, "energy.{}", self.layer),
            TensorRole::Scale { coupling } => write!(f, "flow.c{coupling}.scale.{}", self.layer),
            TensorRole::Shift { coupling } => write!(f, "flow.c{coupling}.shift.{}", self.layer),
        }
    }
}

impl<'a> Header<'a> {
    fn energy_tensors(&self) -> usize {
        self.energy.map_or(0, |e| e.net.depth())
    }

    /// Weight tensors in the file (one per dense layer).
    pub fn tensor_count(&self) -> usize {
        self.energy_tensors()
            + self
                .flow
                .map_or(0, |f| f.couplings() * 2 * (f.hidden.len() + 1))
    }

    /// Where tensor `index` belongs and its shape.
    pub fn tensor_slot(&self, index: usize) -> Option<TensorSlot> {
        let ne = self.energy_tensors();
        if index < ne {
            let net = self.energy?.net;
            return Some(TensorSlot {
                index,
                role: TensorRole::Energy,
                layer: index,
                shape: net.layer_shape(index)?,
            });
        }
        let flow = self.flow?;
        let depth = flow.hidden.len() + 1;
        let i = index - ne;
        let (net_index, layer) = (i / depth, i % depth);
        let coupling = net_index / 2;
        if coupling >= flow.couplings() {
            return None;
        }
        let role = if net_index.is_multiple_of(2) {
            TensorRole::Scale { coupling }
        } else {
            TensorRole::Shift { coupling }
        };
        Some(TensorSlot {
            index,
            role,
            layer,
            shape: flow.net(coupling, self.dim).layer_shape(layer)?,
        })
    }

    /// Scalar parameters of the energy network.
    pub fn energy_params(&self) -> usize {
        self.energy.map_or(0, |e| e.net.num_params())
    }

    /// Scalar parameters of the flow.
    pub fn flow_params(&self) -> usize {
        self.flow.map_or(0, |f| {
            (0..f.couplings())
                .map(|c| f.net(c, self.dim).num_params().saturating_mul(2))
                .fold(0, usize::saturating_add)
        })
    }

    /// Check every rule a header must satisfy.
    pub fn validate(&self) -> Result<(), Error> {
        let dim = usize::from(self.dim);
        if dim == 0
            || self.kind.has_energy() != self.energy.is_some()
            || self.kind.has_flow() != self.flow.is_some()
        {
            return Err(Error::InvalidShape);
        }
        if let Some(e) = &self.energy {
            e.net.validate()?;
            if e.net.input != self.dim || e.net.output != 1 {
                return Err(Error::InvalidShape);
            }
            check_sigma(&e.tilt_sigma, dim)?;
        }
        if let Some(f) = &self.flow {
            if f.blocks == 0 || f.split == 0 || f.split >= self.dim {
                return Err(Error::InvalidShape);
            }
            f.net(0, self.dim).validate()?;
            let couplings = f.couplings() as u64;
            if f.masks.byte_len() as u64 != 2 * couplings * dim as u64
                || f.scale_factors.byte_len() as u64 != 4 * couplings
            {
                return Err(Error::InvalidShape);
            }
            for c in 0..f.couplings() {
                let start = c * dim;
                if !is_partition(f.masks.window(start, dim), dim) {
                    return Err(Error::InvalidMask);
                }
            }
            if !f.scale_factors.iter().all(|c| c.is_finite() && c > 0.0) {
                return Err(Error::InvalidScale);
            }
            check_sigma(&f.base_sigma, dim)?;
        }
        let n = &self.normalization;
        if n.shift.byte_len() != 4 * dim || n.scale.byte_len() != 4 * dim {
            return Err(Error::InvalidShape);
        }
        if !n.shift.iter().all(f32::is_finite) {
            return Err(Error::NonFiniteHeaderValue);
        }
        if !n.scale.iter().all(|s| s.is_finite() && s > 0.0) {
            return Err(Error::InvalidScale);
        }
        self.sampler.validate()?;
        let metrics = self.training.metrics;
        if !metrics.as_slice().iter().all(|(_, v)| v.is_finite()) || !self.quant.all_finite() {
            return Err(Error::NonFiniteHeaderValue);
        }
        if self.tensor_count() > usize::from(u16::MAX) {
            return Err(Error::InvalidShape);
        }
        Ok(())
    }
}

fn check_sigma(sigma: &F32s<'_>, dim: usize) -> Result<(), Error> {
    if sigma.byte_len() != 4 * dim {
        return Err(Error::InvalidShape);
    }
    if !sigma.iter().all(|s| s.is_finite() && s > 0.0) {
        return Err(Error::InvalidScale);
    }
    Ok(())
}

/// Whether `indices` is a permutation of `0..dim` (no heap: a 512-bit window at a time).
fn is_partition(indices: U16s<'_>, dim: usize) -> bool {
    const WINDOW: usize = 512;
    if indices.len() != dim || indices.byte_len() != 2 * dim {
        return false;
    }
    if indices.iter().any(|i| usize::from(i) >= dim) {
        return false;
    }
    let mut start = 0;
    while start < dim {
        let mut bits = [0u64; WINDOW / 64];
        for i in indices.iter().map(usize::from) {
            if (start..start + WINDOW).contains(&i) {
                let k = i - start;
                let (word, bit) = (k / 64, 1u64 << (k % 64));
                if bits[word] & bit != 0 {
                    return false;
                }
                bits[word] |= bit;
            }
        }
        start += WINDOW;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert!(is_partition(U16s::Native(&[1, 0, 2]), 3));
        assert!(!is_partition(U16s::Native(&[1, 1, 2]), 3));
        assert!(!is_partition(U16s::Native(&[0, 3, 2]), 3));
        assert!(!is_partition(U16s::Native(&[0, 1]), 3));
        let big: [u16; 1100] = core::array::from_fn(|i| (1099 - i) as u16);
        assert!(is_partition(U16s::Native(&big), 1100));
    }
}

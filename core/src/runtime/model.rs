//! [`FileModel`]: the energy and the flow of any model file whose shape fits the run-time
//! limits, built from its header and tensors (nothing copied but σ and 1/σ, which go into
//! caller storage of [`FileModel::storage_len`] floats).

use super::energy::TiltedMlp;
use super::flow::{Coupling, RealNvpFlow};
use super::layer::Layer;
use super::mlp::Mlp;
use crate::error::Error;
use crate::model::view::dense::{AnyEncoding, Encodings};
use crate::model::{F32s, Header, ModelView, TensorView};

/// Largest data dimension of a run-time shaped model.
pub const MAX_DIM: usize = 256;
/// Most hidden layers of the energy network.
pub const MAX_ENERGY_HIDDEN: usize = 6;
/// Most hidden layers of a flow conditioner.
pub const MAX_CONDITIONER_HIDDEN: usize = 3;
/// Most coupling blocks (two couplings each).
pub const MAX_FLOW_BLOCKS: usize = 16;
/// Widest hidden layer.
pub const MAX_WIDTH: usize = 1024;

/// The networks of a model file (either may be absent, as the file's kind says), over its
/// weights, for at most `C` couplings.
#[derive(Clone, Debug, PartialEq)]
pub struct FileModel<'a, E: Encodings = AnyEncoding, const C: usize = 32> {
    /// The tilted energy `U = E_θ − ln ρ`.
    pub energy: Option<TiltedMlp<'a, E, 7>>,
    /// The flow.
    pub flow: Option<RealNvpFlow<'a, E, C, 4>>,
}

fn copy_f32s(list: &F32s<'_>, out: &mut [f32]) -> Result<(), Error> {
    if list.len() != out.len() {
        return Err(Error::InvalidShape);
    }
    for (o, v) in out.iter_mut().zip(list.iter()) {
        *o = v;
    }
    Ok(())
}

/// Check the run-time limits (the header itself is valid: `ModelView::parse` checked it).
pub fn check_limits(header: &Header<'_>, couplings: usize) -> Result<(), Error> {
    let d = usize::from(header.dim);
    let wide = |h: &[u16]| h.iter().any(|&w| usize::from(w) > MAX_WIDTH);
    if d > MAX_DIM {
        return Err(Error::InvalidShape);
    }
    if let Some(e) = &header.energy
        && (e.net.hidden.len() > MAX_ENERGY_HIDDEN || wide(e.net.hidden.as_slice()))
    {
        return Err(Error::InvalidShape);
    }
    if let Some(f) = &header.flow
        && (f.hidden.len() > MAX_CONDITIONER_HIDDEN
            || wide(f.hidden.as_slice())
            || usize::from(f.blocks) > MAX_FLOW_BLOCKS
            || f.couplings() > couplings)
    {
        return Err(Error::InvalidShape);
    }
    Ok(())
}

impl<'a, E: Encodings, const C: usize> FileModel<'a, E, C> {
    /// Floats of storage [`FileModel::from_view`] needs for a model of dimension `d`.
    pub const fn storage_len(d: usize) -> usize {
        4 * d
    }

    /// The tilted energy and the flow of a joint model (`None` if either is absent).
    pub fn joint(&self) -> Option<(&TiltedMlp<'a, E, 7>, &RealNvpFlow<'a, E, C, 4>)> {
        Some((self.energy.as_ref()?, self.flow.as_ref()?))
    }

    /// The networks of `view`; `storage` ([`FileModel::storage_len`] floats) receives the
    /// bases' σ and 1/σ. [`Error::InvalidShape`] for a shape beyond the limits.
    pub fn from_view(view: &ModelView<'a>, storage: &'a mut [f32]) -> Result<Self, Error> {
        let header = *view.header();
        check_limits(&header, C)?;
        let d = usize::from(header.dim);
        let storage = storage
            .get_mut(..Self::storage_len(d))
            .ok_or(Error::BufferTooSmall {
                needed: (4 * Self::storage_len(d)) as u32,
            })?;
        let (tilt, base) = storage.split_at_mut(2 * d);
        let (tilt_sigma, tilt_inv) = tilt.split_at_mut(d);
        let (base_sigma, base_inv) = base.split_at_mut(d);
        let mut tensors = view.tensors();
        let mut next = || -> Result<TensorView<'a>, Error> {
            tensors
                .next()
                .unwrap_or(Err(Error::MalformedTensor { tensor: 0 }))
        };
        let energy = match &header.energy {
            None => None,
            Some(spec) => {
                let mut layers = [Layer::EMPTY; 7];
                for l in layers.iter_mut().take(spec.net.depth()) {
                    *l = Layer::from_tensor(&next()?)?;
                }
                let net = Mlp::new(&layers[..spec.net.depth()], spec.net.activation)?;
                copy_f32s(&spec.tilt_sigma, tilt_sigma)?;
                Some(TiltedMlp::new(net, tilt_sigma, tilt_inv)?)
            }
        };
        let flow = match &header.flow {
            None => None,
            Some(spec) => {
                let depth = spec.hidden.len() + 1;
                let mut couplings = [Coupling {
                    cond: crate::model::U16s::Native(&[]),
                    trans: crate::model::U16s::Native(&[]),
                    scale: 1.0,
                    scale_net: Mlp::EMPTY,
                    shift_net: Mlp::EMPTY,
                }; C];
                for (c, slot) in couplings.iter_mut().enumerate().take(spec.couplings()) {
                    let mut net = || -> Result<Mlp<'a, E, 4>, Error> {
                        let mut layers = [Layer::EMPTY; 4];
                        for l in layers.iter_mut().take(depth) {
                            *l = Layer::from_tensor(&next()?)?;
                        }
                        Mlp::new(&layers[..depth], spec.activation)
                    };
                    let scale_net = net()?;
                    let shift_net = net()?;
                    let (cond, trans) = spec.mask(c, header.dim);
                    *slot = Coupling {
                        cond,
                        trans,
                        scale: spec.scale_factors.get(c).ok_or(Error::InvalidShape)?,
                        scale_net,
                        shift_net,
                    };
                }
                copy_f32s(&spec.base_sigma, base_sigma)?;
                let base_sigma: &'a [f32] = base_sigma;
                Some(RealNvpFlow::new(
                    &couplings[..spec.couplings()],
                    base_sigma,
                    base_inv,
                )?)
            }
        };
        Ok(Self { energy, flow })
    }
}

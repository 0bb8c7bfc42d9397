//! [`FileModel`]: the energy and the flow of any model file whose shape fits the run-time
//! limits, built from its header and tensors (nothing copied but σ and 1/σ, which go into
//! caller storage of [`FileModel::storage_len`] floats).

use super::energy::TiltedMlp;
use super::flow::RealNvpFlow;
use super::layer::Layer;
use crate::error::Error;
use crate::model::view::dense::{AnyEncoding, Encodings};
use crate::model::{F32s, Header, ModelView};

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
/// weights, for at most `C` couplings, energies of at most `LE` dense layers and conditioners
/// of at most `LF` (the defaults hold every shape within the run-time limits; a program built
/// for one model, like the firmware, sizes them from its header, since every unused slot takes
/// room).
#[derive(Clone, Debug, PartialEq)]
pub struct FileModel<
    'a,
    E: Encodings = AnyEncoding,
    const C: usize = 32,
    const LE: usize = 7,
    const LF: usize = 4,
> {
    /// The tilted energy `U = E_θ − ln ρ`.
    pub energy: Option<TiltedMlp<'a, E, LE>>,
    /// The flow.
    pub flow: Option<RealNvpFlow<'a, E, C, LF>>,
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

/// `slot = Some(RealNvpFlow::identity(…))`, out of line: the one flow built elsewhere and
/// moved (a caller starting from [`FileModel::SLOTS`] never gets here).
#[cold]
#[inline(never)]
fn new_flow<'s, 'a, E: Encodings, const C: usize, const L: usize>(
    slot: &'s mut Option<RealNvpFlow<'a, E, C, L>>,
    sigma: &'a [f32],
    inv_sigma: &'a mut [f32],
) -> Result<&'s mut RealNvpFlow<'a, E, C, L>, Error> {
    Ok(slot.insert(RealNvpFlow::identity(sigma, inv_sigma)?))
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

impl<'a, E: Encodings, const C: usize, const LE: usize, const LF: usize>
    FileModel<'a, E, C, LE, LF>
{
    /// No networks; [`FileModel::read`] fills them in.
    pub const EMPTY: Self = Self {
        energy: None,
        flow: None,
    };

    /// Empty networks in both places (no layers, no couplings): the starting value of a model
    /// that [`FileModel::read`] fills where it is, a static say, flow included, so that
    /// nothing of the size of a network is built elsewhere and moved. Not a model until a
    /// read succeeds.
    pub const SLOTS: Self = Self {
        energy: Some(TiltedMlp::EMPTY),
        flow: Some(RealNvpFlow::EMPTY),
    };

    /// Floats of storage [`FileModel::from_view`] needs for a model of dimension `d`.
    pub const fn storage_len(d: usize) -> usize {
        4 * d
    }

    /// The tilted energy and the flow of a joint model (`None` if either is absent).
    pub fn joint(&self) -> Option<(&TiltedMlp<'a, E, LE>, &RealNvpFlow<'a, E, C, LF>)> {
        Some((self.energy.as_ref()?, self.flow.as_ref()?))
    }

    /// The networks of `view`; `storage` ([`FileModel::storage_len`] floats) receives the
    /// bases' σ and 1/σ. [`Error::InvalidShape`] for a shape beyond the limits (or beyond
    /// `C`, `LE`, `LF`).
    pub fn from_view(view: &ModelView<'a>, storage: &'a mut [f32]) -> Result<Self, Error> {
        let mut model = Self::EMPTY;
        model.read(view, storage)?;
        Ok(model)
    }

    /// [`FileModel::from_view`] in place: the networks of `view` are built where `self` is,
    /// layer by layer into networks that are already there (start from [`FileModel::SLOTS`]),
    /// so no network is built elsewhere and moved; only one dense layer at a time passes
    /// through the stack. On an error `self` holds part of the model.
    pub fn read(&mut self, view: &ModelView<'a>, storage: &'a mut [f32]) -> Result<(), Error> {
        let header = view.header();
        check_limits(header, C)?;
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
        let mut next = || -> Result<Layer<'a, E>, Error> {
            let t = tensors
                .next()
                .unwrap_or(Err(Error::MalformedTensor { tensor: 0 }))?;
            Layer::from_tensor(&t)
        };
        match &header.energy {
            None => self.energy = None,
            Some(spec) => {
                let energy = match &mut self.energy {
                    Some(energy) => energy,
                    None => self.energy.insert(TiltedMlp::EMPTY),
                };
                let net = energy.net_mut();
                net.clear(spec.net.activation);
                for _ in 0..spec.net.depth() {
                    net.push(next()?)?;
                }
                copy_f32s(&spec.tilt_sigma, tilt_sigma)?;
                energy.tilt(tilt_sigma, tilt_inv)?;
            }
        }
        let Some(spec) = &header.flow else {
            self.flow = None;
            return Ok(());
        };
        copy_f32s(&spec.base_sigma, base_sigma)?;
        let base_sigma: &'a [f32] = base_sigma;
        let flow = match &mut self.flow {
            Some(flow) => {
                flow.reset(base_sigma, base_inv)?;
                flow
            }
            None => new_flow(&mut self.flow, base_sigma, base_inv)?,
        };
        let depth = spec.hidden.len() + 1;
        for c in 0..spec.couplings() {
            let (cond, trans) = spec.mask(c, header.dim);
            let scale = spec.scale_factors.get(c).ok_or(Error::InvalidShape)?;
            let slot = flow
                .next_slot(cond, trans, scale, spec.activation)
                .ok_or(Error::InvalidShape)?;
            for _ in 0..depth {
                slot.scale_net.push(next()?)?;
            }
            for _ in 0..depth {
                slot.shift_net.push(next()?)?;
            }
            flow.commit()?;
        }
        Ok(())
    }
}

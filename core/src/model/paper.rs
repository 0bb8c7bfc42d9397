//! [`PaperModel`]: the paper's joint model (tilted energy + flow) decoded in one call, ready
//! for [`FlowMc`].

use super::decode::ModelView;
use super::header::Header;
use super::view::{AnyEncoding, Encodings, PaperEnergyView, PaperFlowView};
use crate::error::Error;
use crate::mcmc::{FlowMc, FlowMcConfig};

/// A decoded energy+flow file of the paper's shapes: energy `D → 32 → 64 → 64 → 64 → 1`
/// (LeakyReLU), RealNVP flow with `K` blocks of `A | B` couplings whose conditioners are
/// `A → H → B` ReLU MLPs. The weights stay in the file's bytes. `E` is the set of weight
/// encodings it accepts (all by default; see [`super::view::Encodings`]).
///
/// ```
/// # use emberflow_core::model::Model2d;
/// # use emberflow_core::{StepStats, Xoshiro128PlusPlus};
/// # fn run(bytes: &'static [u8]) -> Result<(), emberflow_core::Error> {
/// let model = Model2d::decode(bytes)?;
/// let sampler = model.sampler()?;
/// let mut chain = sampler.chain([0.0, 0.0], model.step_size());
/// let (mut rng, mut stats) = (Xoshiro128PlusPlus::seed_from_u64(1), StepStats::default());
/// sampler.sweep(&mut chain, &mut rng, &mut stats);
/// let mut x = chain.x;
/// model.to_data(&mut x); // back in the user's units
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PaperModel<
    'a,
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
    E: Encodings = AnyEncoding,
> {
    /// The file's header.
    pub header: Header<'a>,
    /// The tilted energy `U = E_θ − ln ρ`.
    pub energy: PaperEnergyView<'a, D, E>,
    /// The flow proposal.
    pub flow: PaperFlowView<'a, D, A, B, H, K, E>,
}

impl<
    'a,
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
    E: Encodings,
> PaperModel<'a, D, A, B, H, K, E>
{
    /// Check and decode an energy+flow file.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::from_view(&ModelView::parse(bytes)?)
    }

    /// The model of a checked file.
    pub fn from_view(view: &ModelView<'a>) -> Result<Self, Error> {
        let header = *view.header();
        if header.kind != crate::ModelKind::EnergyFlow {
            return Err(Error::WrongModelKind {
                expected: crate::ModelKind::EnergyFlow,
                found: header.kind,
            });
        }
        Ok(Self {
            header,
            energy: view.energy()?,
            flow: view.flow()?,
        })
    }

    /// The sampler settings the trainer ended with.
    pub fn config(&self) -> FlowMcConfig {
        self.header.sampler.config()
    }

    /// The MALA step size the trainer ended with.
    pub fn step_size(&self) -> f32 {
        self.header.sampler.step_size
    }

    /// The FlowMC kernel on this model's energy and flow with the recorded settings.
    pub fn sampler(
        &self,
    ) -> Result<FlowMc<'_, D, PaperEnergyView<'a, D, E>, PaperFlowView<'a, D, A, B, H, K, E>>, Error>
    {
        FlowMc::new(&self.energy, &self.flow, self.config())
    }

    /// Map a model-space point to the user's units.
    pub fn to_data(&self, x: &mut [f32; D]) {
        self.header.normalization.to_data(x)
    }

    /// Map a point in the user's units to model space.
    pub fn from_data(&self, x: &mut [f32; D]) {
        self.header.normalization.from_data(x)
    }
}

/// The 2-D paper model (energy 10,593 parameters; flow 4 blocks, hidden 16, 1,312 parameters).
pub type Model2d<'a> = PaperModel<'a, 2, 1, 1, 16, 4>;
/// The d = 16 paper model (flow 2 blocks, hidden 32).
pub type Model16<'a> = PaperModel<'a, 16, 8, 8, 32, 2>;
/// The d = 32 paper model (flow 2 blocks, hidden 39).
pub type Model32<'a> = PaperModel<'a, 32, 16, 16, 39, 2>;
/// The d = 64 paper model (flow 2 blocks, hidden 51).
pub type Model64<'a> = PaperModel<'a, 64, 32, 32, 51, 2>;

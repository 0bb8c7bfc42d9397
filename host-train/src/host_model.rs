//! [`HostModel`]: a model of any [`ModelShape`] with its parameters owned on the host, seen
//! through emberflow-core's run-time evaluators ([`HostModel::views`]: the tilted energy as a
//! [`Potential`](emberflow_core::Potential), the flow as a
//! [`Proposal`](emberflow_core::Proposal)) — the same kernels, and so the same bits, as the
//! model file read by `emberflow sample` or the firmware.
//!
//! Parameters come in core's canonical order, one host vector per tensor (weights `[out, in]`
//! row-major, then biases): the energy's layers input first, then per coupling the scale
//! net's layers and the shift net's. [`HostModel`] keeps each layer as one vector (weights
//! then biases: the layout of an f32 tensor in a model file).

use crate::shape::ModelShape;
use anyhow::{Context, Result, anyhow, bail};
use emberflow_core::model::{EncodingSet, Export, U16s, encode_runtime};
use emberflow_core::runtime::{Coupling, Layer, Mlp, RealNvpFlow, TiltedMlp};

/// Only f32 weights: the host model's layers.
pub type F32Only = EncodingSet<true, false, false>;
/// The host model's tilted energy.
pub type HostEnergy<'m> = TiltedMlp<'m, F32Only, 7>;
/// The host model's flow.
pub type HostFlow<'m> = RealNvpFlow<'m, F32Only, 32, 4>;

/// A shape, the base σ and the parameters.
#[derive(Clone, Debug)]
pub struct HostModel {
    shape: ModelShape,
    sigma: Vec<f32>,
    /// The energy's layers (weights, then biases).
    energy: Vec<Vec<f32>>,
    /// Per coupling: the scale net's layers, then the shift net's.
    flow: Vec<Vec<f32>>,
    /// The layers' weights transposed (the vectorised forward pass of
    /// [`Layer::from_f32_transposed`]), in the order of `energy`, then `flow`.
    transposed: Vec<Vec<f32>>,
    masks: Vec<(Vec<u16>, Vec<u16>)>,
    inv_energy: Vec<f32>,
    inv_flow: Vec<f32>,
}

/// The energy and flow of a [`HostModel`], borrowed.
#[derive(Clone, Debug)]
pub struct Views<'m> {
    /// `U = E_θ − ln ρ`.
    pub energy: HostEnergy<'m>,
    /// The flow λ.
    pub flow: HostFlow<'m>,
}

/// `(inputs, outputs)` of every layer of a network with these widths.
fn layer_io(widths: &[usize]) -> impl Iterator<Item = (usize, usize)> + '_ {
    widths.windows(2).map(|w| (w[0], w[1]))
}

/// Join per-tensor vectors (weight, bias, weight, bias, …) into per-layer vectors, checking
/// every length against `io`.
fn join_layers(
    tensors: &[Vec<f32>],
    io: &[(usize, usize)],
    what: &str,
    out: &mut Vec<Vec<f32>>,
) -> Result<()> {
    if tensors.len() != 2 * io.len() {
        bail!(
            "{what}: {} parameter tensors, the shape has {}",
            tensors.len(),
            2 * io.len()
        );
    }
    out.resize(io.len(), Vec::new());
    for (k, ((wb, &(i, o)), layer)) in tensors.chunks(2).zip(io).zip(out.iter_mut()).enumerate() {
        if wb[0].len() != i * o || wb[1].len() != o {
            bail!(
                "{what}: layer {k} has {} weights and {} biases, the shape needs {} and {o}",
                wb[0].len(),
                wb[1].len(),
                i * o
            );
        }
        layer.clear();
        layer.extend_from_slice(&wb[0]);
        layer.extend_from_slice(&wb[1]);
    }
    Ok(())
}

/// The f32 network of `layers` with these widths.
fn mlp<'p, const L: usize>(
    layers: &'p [Vec<f32>],
    transposed: &'p [Vec<f32>],
    widths: &[usize],
    activation: emberflow_core::ActivationKind,
) -> Result<Mlp<'p, F32Only, L>> {
    let bad = |e: emberflow_core::Error| anyhow!("network {widths:?}: {e}");
    let layers: Vec<Layer<'p, F32Only>> = layers
        .iter()
        .zip(transposed)
        .zip(layer_io(widths))
        .map(|((p, t), (i, o))| Layer::from_f32_transposed(p, t, i, o))
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    Mlp::new(&layers, activation).map_err(bad)
}

impl HostModel {
    /// The model of `shape` over N(0, σ²I) with the given parameters (core order).
    pub fn new(
        shape: &ModelShape,
        sigma: f32,
        energy: &[Vec<f32>],
        flow: &[Vec<f32>],
    ) -> Result<Self> {
        shape.validate()?;
        if !(sigma.is_finite() && sigma > 0.0) {
            bail!("the base σ must be positive and finite, got {sigma}");
        }
        let d = shape.dim;
        let mut model = Self {
            shape: shape.clone(),
            sigma: vec![sigma; d],
            energy: Vec::new(),
            flow: Vec::new(),
            transposed: Vec::new(),
            masks: (0..shape.couplings()).map(|c| shape.mask(c)).collect(),
            inv_energy: vec![0.0; d],
            inv_flow: vec![0.0; d],
        };
        model.set(energy, flow)?;
        model.views()?;
        Ok(model)
    }

    /// Replace the parameters (core order; every length checked).
    pub fn set(&mut self, energy: &[Vec<f32>], flow: &[Vec<f32>]) -> Result<()> {
        let io: Vec<_> = layer_io(&self.shape.energy_widths()).collect();
        join_layers(energy, &io, "energy", &mut self.energy)?;
        let mut io = Vec::new();
        for c in 0..self.shape.couplings() {
            let w = self.shape.conditioner_widths(c);
            for _net in 0..2 {
                io.extend(layer_io(&w));
            }
        }
        join_layers(flow, &io, "flow", &mut self.flow)?;
        let all = self.energy.iter().chain(&self.flow);
        let io = layer_io(&self.shape.energy_widths())
            .collect::<Vec<_>>()
            .into_iter()
            .chain(io);
        self.transposed
            .resize(self.energy.len() + self.flow.len(), Vec::new());
        for ((layer, (i, o)), t) in all.zip(io).zip(self.transposed.iter_mut()) {
            t.clear();
            t.extend((0..i * o).map(|k| layer[(k % o) * i + k / o]));
        }
        Ok(())
    }

    /// The shape.
    pub fn shape(&self) -> &ModelShape {
        &self.shape
    }

    /// Data dimension.
    pub fn dim(&self) -> usize {
        self.shape.dim
    }

    /// The base σ (the same in every coordinate).
    pub fn sigma(&self) -> f32 {
        self.sigma[0]
    }

    /// The energy and the flow over the parameters.
    pub fn views(&mut self) -> Result<Views<'_>> {
        let shape = &self.shape;
        let bad = |e: emberflow_core::Error| anyhow!("model of shape {shape}: {e}");
        let (te, tf) = self.transposed.split_at(self.energy.len());
        let net = mlp::<7>(
            &self.energy,
            te,
            &self.shape.energy_widths(),
            self.shape.activation,
        )?;
        let energy = TiltedMlp::new(net, &self.sigma, &mut self.inv_energy).map_err(bad)?;
        let mut couplings = Vec::with_capacity(self.shape.couplings());
        let mut at = 0;
        for (c, (cond, trans)) in self.masks.iter().enumerate() {
            let w = self.shape.conditioner_widths(c);
            let n = w.len() - 1;
            let scale_net = mlp::<4>(
                &self.flow[at..at + n],
                &tf[at..at + n],
                &w,
                emberflow_core::ActivationKind::Relu,
            )?;
            let shift_net = mlp::<4>(
                &self.flow[at + n..at + 2 * n],
                &tf[at + n..at + 2 * n],
                &w,
                emberflow_core::ActivationKind::Relu,
            )?;
            at += 2 * n;
            couplings.push(Coupling {
                cond: U16s::Native(cond),
                trans: U16s::Native(trans),
                scale: 1.0,
                scale_net,
                shift_net,
            });
        }
        let flow = RealNvpFlow::new(&couplings, &self.sigma, &mut self.inv_flow).map_err(bad)?;
        Ok(Views { energy, flow })
    }

    /// The model file of this model with `export`'s settings (the weights quantised to
    /// `export.encoding`).
    pub fn encode(&mut self, export: &Export<'_>) -> Result<Vec<u8>> {
        let sigma = self.sigma.clone();
        let views = self.views()?;
        let needed = match encode_runtime(views.energy.net(), &sigma, &views.flow, export, &mut [])
        {
            Err(emberflow_core::Error::BufferTooSmall { needed }) => needed as usize,
            Err(e) => return Err(anyhow!("encoding the model: {e}")),
            Ok(n) => n,
        };
        let mut buf = vec![0u8; needed];
        let n = encode_runtime(views.energy.net(), &sigma, &views.flow, export, &mut buf)
            .context("encoding the model")
            .map_err(|e| anyhow!("{e:#}"))?;
        buf.truncate(n);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nets::{EnergyNet, FlowNet};
    use crate::params::to_host;
    use emberflow_core::{Potential, Proposal, Xoshiro128PlusPlus};

    fn values(p: &crate::nets::ParamList) -> Vec<Vec<f32>> {
        let t: Vec<_> = p.vars.iter().map(|v| v.as_tensor().clone()).collect();
        to_host(&t).unwrap()
    }

    #[test]
    fn wrong_lengths_are_errors_naming_the_layer() {
        let shape = ModelShape::default_for(3);
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(1);
        let e = EnergyNet::new(&shape, &mut rng).unwrap();
        let f = FlowNet::new(&shape, 1.0, &mut rng).unwrap();
        let (mut ev, fv) = (values(&e.params), values(&f.params));
        let mut m = HostModel::new(&shape, 1.0, &ev, &fv).unwrap();
        let v = m.views().unwrap();
        assert_eq!((v.energy.dim(), v.flow.dim()), (3, 3));
        ev[2].pop();
        let err = HostModel::new(&shape, 1.0, &ev, &fv)
            .unwrap_err()
            .to_string();
        assert!(err.contains("energy: layer 1"), "{err}");
        ev.pop();
        assert!(HostModel::new(&shape, 1.0, &ev, &fv).is_err());
        assert!(HostModel::new(&shape, 0.0, &values(&e.params), &fv).is_err());
    }
}

//! The trained networks in candle, batched over rows: the energy `E_θ` and the RealNVP flow
//! `T_α`, with exactly the shapes, activations, masks and parameter order of emberflow-core's
//! [`PaperEnergyNet`](emberflow_core::shapes::PaperEnergyNet) and
//! [`PaperFlow`](emberflow_core::shapes::PaperFlow), so [`crate::params`] copies them one-to-one.

use candle_core::{DType, Device, Result, Tensor, Var};
use emberflow_core::Xoshiro128PlusPlus;
use emberflow_core::random::{standard_normal, uniform_open01};

/// Slope of the energy's leaky ReLU (core's `LEAKY_RELU_SLOPE`).
const SLOPE: f64 = emberflow_core::activation::LEAKY_RELU_SLOPE as f64;

/// A named trainable tensor list, in core's canonical parameter order.
#[derive(Debug)]
pub struct ParamList {
    /// `energy.l0.weight`, `flow.b0.first.scale.l1.bias`, …
    pub names: Vec<String>,
    /// The variables, in the same order.
    pub vars: Vec<Var>,
}

impl ParamList {
    fn new() -> Self {
        Self {
            names: Vec::new(),
            vars: Vec::new(),
        }
    }

    /// Total number of scalars.
    pub fn num_params(&self) -> usize {
        self.vars.iter().map(|v| v.as_tensor().elem_count()).sum()
    }
}

/// How a layer starts.
#[derive(Clone, Copy, Debug)]
enum Init {
    /// Weights N(0, std²), biases zero.
    Normal(f32),
    /// PyTorch's `nn.Linear` default: weights and biases U(±1/√fan_in). Random biases spread
    /// the ReLU kinks over the input space; with zero biases every kink passes through the
    /// origin and the network starts positively homogeneous.
    Uniform,
    /// All zero (the energy's output layer: `E ≡ 0` at the start).
    Zero,
}

/// `y = x Wᵀ + b` with `W: [out, in]`.
#[derive(Clone, Debug)]
pub struct Linear {
    w: Tensor,
    b: Tensor,
}

impl Linear {
    fn new(
        params: &mut ParamList,
        name: &str,
        fan_in: usize,
        fan_out: usize,
        init: Init,
        rng: &mut Xoshiro128PlusPlus,
        device: &Device,
    ) -> Result<Self> {
        let bound = 1.0 / (fan_in as f32).sqrt();
        let uniform = |rng: &mut Xoshiro128PlusPlus| bound * (2.0 * uniform_open01(rng) - 1.0);
        let w: Vec<f32> = (0..fan_in * fan_out)
            .map(|_| match init {
                Init::Normal(std) => std * standard_normal(rng),
                Init::Uniform => uniform(rng),
                Init::Zero => 0.0,
            })
            .collect();
        let b: Vec<f32> = (0..fan_out)
            .map(|_| match init {
                Init::Uniform => uniform(rng),
                _ => 0.0,
            })
            .collect();
        let w = Var::from_vec(w, (fan_out, fan_in), device)?;
        let b = Var::from_vec(b, fan_out, device)?;
        params.names.push(format!("{name}.weight"));
        params.vars.push(w.clone());
        params.names.push(format!("{name}.bias"));
        params.vars.push(b.clone());
        Ok(Self {
            w: w.as_tensor().clone(),
            b: b.as_tensor().clone(),
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.matmul(&self.w.t()?)?.broadcast_add(&self.b)
    }
}

fn leaky_relu(x: &Tensor) -> Result<Tensor> {
    x.maximum(&x.affine(SLOPE, 0.0)?)
}

/// `E_θ: R^D → R`, `D → 32 → 64 → 64 → 64 → 1`, leaky ReLU(0.05); hidden layers start as
/// PyTorch's `nn.Linear` does, the output layer at zero so `E ≡ 0`.
#[derive(Debug)]
pub struct EnergyNet {
    layers: Vec<Linear>,
    /// The parameters, in core's order.
    pub params: ParamList,
}

impl EnergyNet {
    /// Hidden layers initialised from `rng` (U(±1/√fan_in) weights and biases), the output
    /// layer zero.
    pub fn new(dim: usize, rng: &mut Xoshiro128PlusPlus) -> Result<Self> {
        Self::new_on(dim, rng, &Device::Cpu)
    }

    /// [`Self::new`] with the parameters on `device`.
    pub fn new_on(dim: usize, rng: &mut Xoshiro128PlusPlus, device: &Device) -> Result<Self> {
        let widths = [dim, 32, 64, 64, 64, 1];
        let mut params = ParamList::new();
        let mut layers = Vec::new();
        for l in 0..5 {
            let init = if l == 4 { Init::Zero } else { Init::Uniform };
            layers.push(Linear::new(
                &mut params,
                &format!("energy.l{l}"),
                widths[l],
                widths[l + 1],
                init,
                rng,
                device,
            )?);
        }
        Ok(Self { layers, params })
    }

    /// `E_θ(x)` for each row of `x: [n, D]`, as `[n]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for (l, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&h)?;
            if l + 1 < self.layers.len() {
                h = leaky_relu(&h)?;
            }
        }
        h.squeeze(1)
    }
}

/// One affine coupling: conditions on a contiguous half, moves the other.
#[derive(Debug)]
struct Coupling {
    /// Conditioning coordinates are the lower `a` (then `trans` is the upper rest), or the upper
    /// `a` (then `trans` is the lower rest).
    lower: bool,
    a: usize,
    b: usize,
    scale: [Linear; 2],
    shift: [Linear; 2],
}

impl Coupling {
    fn conditioner(&self, xa: &Tensor) -> Result<(Tensor, Tensor)> {
        let s = self.scale[1]
            .forward(&self.scale[0].forward(xa)?.relu()?)?
            .tanh()?;
        let t = self.shift[1].forward(&self.shift[0].forward(xa)?.relu()?)?;
        Ok((s, t))
    }

    fn split(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        if self.lower {
            Ok((x.narrow(1, 0, self.a)?, x.narrow(1, self.a, self.b)?))
        } else {
            Ok((x.narrow(1, self.b, self.a)?, x.narrow(1, 0, self.b)?))
        }
    }

    fn join(&self, xa: &Tensor, xb: &Tensor) -> Result<Tensor> {
        if self.lower {
            Tensor::cat(&[xa, xb], 1)
        } else {
            Tensor::cat(&[xb, xa], 1)
        }
    }

    /// `y → T⁻¹(y)`, returning the inverse's log-determinant per row.
    fn inverse(&self, y: &Tensor) -> Result<(Tensor, Tensor)> {
        let (ya, yb) = self.split(y)?;
        let (s, t) = self.conditioner(&ya)?;
        let xb = (yb * s.neg()?.exp()?)?.sub(&t)?;
        Ok((self.join(&ya, &xb)?, s.sum(1)?.neg()?))
    }

    /// `z → T(z)`, returning the forward log-determinant per row.
    fn forward(&self, z: &Tensor) -> Result<(Tensor, Tensor)> {
        let (za, zb) = self.split(z)?;
        let (s, t) = self.conditioner(&za)?;
        let yb = ((zb + t)? * s.exp()?)?;
        Ok((self.join(&za, &yb)?, s.sum(1)?))
    }
}

/// The RealNVP flow over ρ = N(0, σ²I): `K` blocks of two half-mask couplings with
/// `A → H → B` ReLU conditioners, initialised near the identity (weights ~1e-6).
#[derive(Debug)]
pub struct FlowNet {
    couplings: Vec<Coupling>,
    dim: usize,
    sigma: f32,
    /// The parameters, in core's order.
    pub params: ParamList,
}

impl FlowNet {
    /// A flow for dimension `dim` with conditioner width `hidden` and `blocks` blocks.
    pub fn new(
        dim: usize,
        hidden: usize,
        blocks: usize,
        sigma: f32,
        rng: &mut Xoshiro128PlusPlus,
    ) -> Result<Self> {
        Self::new_on(dim, hidden, blocks, sigma, rng, &Device::Cpu)
    }

    /// [`Self::new`] with the parameters on `device`.
    pub fn new_on(
        dim: usize,
        hidden: usize,
        blocks: usize,
        sigma: f32,
        rng: &mut Xoshiro128PlusPlus,
        device: &Device,
    ) -> Result<Self> {
        let (a, b) = (dim / 2, dim - dim / 2);
        let mut params = ParamList::new();
        let mut couplings = Vec::new();
        for k in 0..blocks {
            for (which, lower, ca, cb) in [("first", true, a, b), ("second", false, b, a)] {
                let mut net = |role: &str| -> Result<[Linear; 2]> {
                    let name = format!("flow.b{k}.{which}.{role}");
                    let l0 = Linear::new(
                        &mut params,
                        &format!("{name}.l0"),
                        ca,
                        hidden,
                        Init::Normal(1e-6 / (ca as f32).sqrt()),
                        rng,
                        device,
                    )?;
                    let l1 = Linear::new(
                        &mut params,
                        &format!("{name}.l1"),
                        hidden,
                        cb,
                        Init::Normal(1e-6 / (hidden as f32).sqrt()),
                        rng,
                        device,
                    )?;
                    Ok([l0, l1])
                };
                let scale = net("scale")?;
                let shift = net("shift")?;
                couplings.push(Coupling {
                    lower,
                    a: ca,
                    b: cb,
                    scale,
                    shift,
                });
            }
        }
        Ok(Self {
            couplings,
            dim,
            sigma,
            params,
        })
    }

    /// The base standard deviation σ.
    pub fn sigma(&self) -> f32 {
        self.sigma
    }

    fn base_log_density(&self, z: &Tensor) -> Result<Tensor> {
        let d = self.dim as f64;
        let s = self.sigma as f64;
        let c = -0.5 * d * (2.0 * std::f64::consts::PI).ln() - d * s.ln();
        z.sqr()?.sum(1)?.affine(-0.5 / (s * s), c)
    }

    /// `ln λ(x)` for each row of `x: [n, D]`.
    pub fn log_density(&self, x: &Tensor) -> Result<Tensor> {
        let mut z = x.clone();
        let mut log_det = Tensor::zeros(x.dim(0)?, DType::F32, x.device())?;
        for c in self.couplings.iter().rev() {
            let (next, ld) = c.inverse(&z)?;
            z = next;
            log_det = (log_det + ld)?;
        }
        self.base_log_density(&z)? + log_det
    }

    /// `x = T(z)` and `ln λ(x)` for base draws `z: [n, D]`.
    pub fn sample_from_base(&self, z: &Tensor) -> Result<(Tensor, Tensor)> {
        let mut x = z.clone();
        let mut log_det = Tensor::zeros(z.dim(0)?, DType::F32, z.device())?;
        for c in &self.couplings {
            let (next, ld) = c.forward(&x)?;
            x = next;
            log_det = (log_det + ld)?;
        }
        let lp = (self.base_log_density(z)? - log_det)?;
        Ok((x, lp))
    }
}

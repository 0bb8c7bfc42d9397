//! The trained networks in candle, batched over rows: the energy `E_θ` and the RealNVP flow
//! `T_α` of a [`ModelShape`], with exactly the shapes, activations, masks and parameter order
//! of emberflow-core's run-time models ([`crate::host_model::HostModel`]), so the parameters
//! copy over one-to-one.

use crate::shape::ModelShape;
use candle_core::{DType, Device, Result, Tensor, Var};
use emberflow_core::random::{standard_normal, uniform_open01};
use emberflow_core::{ActivationKind, Xoshiro128PlusPlus};

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

fn activate(x: &Tensor, a: ActivationKind) -> Result<Tensor> {
    match a {
        ActivationKind::Identity => Ok(x.clone()),
        ActivationKind::Relu => x.relu(),
        ActivationKind::LeakyRelu => x.maximum(&x.affine(SLOPE, 0.0)?),
        ActivationKind::Silu => x.silu(),
        ActivationKind::Tanh => x.tanh(),
        other => Err(candle_core::Error::Msg(format!(
            "activation {other:?} has no candle form"
        ))),
    }
}

/// Dense layers with `activation` between them and a linear output.
#[derive(Clone, Debug)]
struct Mlp {
    layers: Vec<Linear>,
    activation: ActivationKind,
}

impl Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for (l, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&h)?;
            if l + 1 < self.layers.len() {
                h = activate(&h, self.activation)?;
            }
        }
        Ok(h)
    }
}

/// `E_θ: R^d → R` of [`ModelShape`]'s widths and activation (the paper's: `d → 32 → 64 → 64
/// → 64 → 1`, leaky ReLU(0.05)); hidden layers start as PyTorch's `nn.Linear` does, the
/// output layer at zero so `E ≡ 0`.
#[derive(Debug)]
pub struct EnergyNet {
    net: Mlp,
    /// The parameters, in core's order.
    pub params: ParamList,
}

impl EnergyNet {
    /// Hidden layers initialised from `rng` (U(±1/√fan_in) weights and biases), the output
    /// layer zero.
    pub fn new(shape: &ModelShape, rng: &mut Xoshiro128PlusPlus) -> Result<Self> {
        Self::new_on(shape, rng, &Device::Cpu)
    }

    /// [`Self::new`] with the parameters on `device`.
    pub fn new_on(
        shape: &ModelShape,
        rng: &mut Xoshiro128PlusPlus,
        device: &Device,
    ) -> Result<Self> {
        let widths = shape.energy_widths();
        let last = widths.len() - 2;
        let mut params = ParamList::new();
        let mut layers = Vec::new();
        for l in 0..=last {
            let init = if l == last { Init::Zero } else { Init::Uniform };
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
        Ok(Self {
            net: Mlp {
                layers,
                activation: shape.activation,
            },
            params,
        })
    }

    /// `E_θ(x)` for each row of `x: [n, d]`, as `[n]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.net.forward(x)?.squeeze(1)
    }
}

/// One affine coupling: conditions on a contiguous part, moves the other.
#[derive(Debug)]
struct Coupling {
    /// Conditioning coordinates are the lower `a` (then `trans` is the upper rest), or the upper
    /// `a` (then `trans` is the lower rest).
    lower: bool,
    a: usize,
    b: usize,
    scale: Mlp,
    shift: Mlp,
}

impl Coupling {
    fn conditioner(&self, xa: &Tensor) -> Result<(Tensor, Tensor)> {
        let s = self.scale.forward(xa)?.tanh()?;
        let t = self.shift.forward(xa)?;
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

/// The RealNVP flow over ρ = N(0, σ²I): [`ModelShape::flow_blocks`] blocks of two half-mask
/// couplings with ReLU conditioners of [`ModelShape::flow_hidden`] widths, initialised near
/// the identity (weights ~1e-6).
#[derive(Debug)]
pub struct FlowNet {
    couplings: Vec<Coupling>,
    dim: usize,
    sigma: f32,
    /// The parameters, in core's order.
    pub params: ParamList,
}

impl FlowNet {
    /// The flow of `shape` over N(0, σ²I).
    pub fn new(shape: &ModelShape, sigma: f32, rng: &mut Xoshiro128PlusPlus) -> Result<Self> {
        Self::new_on(shape, sigma, rng, &Device::Cpu)
    }

    /// [`Self::new`] with the parameters on `device`.
    pub fn new_on(
        shape: &ModelShape,
        sigma: f32,
        rng: &mut Xoshiro128PlusPlus,
        device: &Device,
    ) -> Result<Self> {
        let mut params = ParamList::new();
        let mut couplings = Vec::new();
        for c in 0..shape.couplings() {
            let (k, which, lower) = (c / 2, ["first", "second"][c % 2], c % 2 == 0);
            let widths = shape.conditioner_widths(c);
            let mut net = |role: &str| -> Result<Mlp> {
                let name = format!("flow.b{k}.{which}.{role}");
                let mut layers = Vec::new();
                for (l, w) in widths.windows(2).enumerate() {
                    layers.push(Linear::new(
                        &mut params,
                        &format!("{name}.l{l}"),
                        w[0],
                        w[1],
                        Init::Normal(1e-6 / (w[0] as f32).sqrt()),
                        rng,
                        device,
                    )?);
                }
                Ok(Mlp {
                    layers,
                    activation: ActivationKind::Relu,
                })
            };
            let scale = net("scale")?;
            let shift = net("shift")?;
            couplings.push(Coupling {
                lower,
                a: widths[0],
                b: shape.dim - widths[0],
                scale,
                shift,
            });
        }
        Ok(Self {
            couplings,
            dim: shape.dim,
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

//! Adam (Kingma & Ba) over candle variables, with its moments exposed for checkpoints and a
//! settable learning rate (for decay and roll-back).

use candle_core::{Result, Tensor, Var, backprop::GradStore};

/// Adam with bias correction and no weight decay.
#[derive(Debug)]
pub struct Adam {
    vars: Vec<Var>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Steps taken.
    pub t: u64,
    /// Learning rate.
    pub lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl Adam {
    /// Adam over `vars` with learning rate `lr`, β = (0.9, 0.999), ε = 1e-8.
    pub fn new(vars: Vec<Var>, lr: f64) -> Result<Self> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        Ok(Self {
            m: vars.iter().map(zeros).collect::<Result<_>>()?,
            v: vars.iter().map(zeros).collect::<Result<_>>()?,
            vars,
            t: 0,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        })
    }

    /// Whether every gradient in `grads` for these variables is finite.
    pub fn grads_finite(&self, grads: &GradStore) -> Result<bool> {
        for var in &self.vars {
            if let Some(g) = grads.get(var.as_tensor()) {
                let s = g.sqr()?.sum_all()?.to_scalar::<f32>()?;
                if !s.is_finite() {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// One update from `grads`.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.t += 1;
        let c1 = 1.0 - self.beta1.powi(self.t as i32);
        let c2 = 1.0 - self.beta2.powi(self.t as i32);
        for (i, var) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let m = ((self.m[i].affine(self.beta1, 0.0))? + g.affine(1.0 - self.beta1, 0.0)?)?;
            let v =
                ((self.v[i].affine(self.beta2, 0.0))? + g.sqr()?.affine(1.0 - self.beta2, 0.0)?)?;
            let update =
                (m.affine(1.0 / c1, 0.0)? / (v.affine(1.0 / c2, 0.0)?.sqrt()? + self.eps)?)?;
            var.set(&(var.as_tensor() - update.affine(self.lr, 0.0)?)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }

    /// The first and second moments (for checkpoints).
    pub fn moments(&self) -> (&[Tensor], &[Tensor]) {
        (&self.m, &self.v)
    }

    /// Restore moments saved by [`Self::moments`].
    pub fn set_moments(&mut self, m: Vec<Tensor>, v: Vec<Tensor>, t: u64) {
        self.m = m;
        self.v = v;
        self.t = t;
    }
}

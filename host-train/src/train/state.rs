//! Everything a run carries from one iteration to the next ([`TrainState`]), the steps of one
//! iteration, and the state's round trip through a [`Checkpoint`].

use crate::adam::Adam;
use crate::checkpoint::Checkpoint;
use crate::config::{Method, TrainConfig};
use crate::data::{Dataset, subsample};
use crate::host_model::{HostModel, Views};
use crate::nets::{EnergyNet, FlowNet, ParamList};
use crate::params::to_host;
use crate::sampler::Bank;
use crate::shape::ModelShape;
use anyhow::{Result, bail};
use candle_core::{Device, Tensor, Var};
use emberflow_core::mcmc::{ula, ula_scratch_len};
use emberflow_core::random::uniform_open01;
use emberflow_core::{SeedStream, StepStats, Xoshiro128PlusPlus, chain_rng, shuffle};

/// The state of a run between two iterations: the candle networks and their optimisers, the
/// core copies the sampler runs on, the parameter averages that are exported, the chain bank,
/// the data order and the run's counters.
pub(crate) struct TrainState<'a> {
    config: &'a TrainConfig,
    data: &'a Dataset,
    sigma: f32,
    /// Data dimension.
    dim: usize,
    energy_net: EnergyNet,
    flow_net: FlowNet,
    opt_e: Adam,
    opt_f: Adam,
    /// The energy's variables, then the flow's (the checkpoint's order).
    all_vars: Vec<Var>,
    /// How many of `all_vars` belong to the energy.
    energy_tensors: usize,
    /// The trainer's generator ([`SeedStream::TRAINING`]): data order, bank slots.
    rng: Xoshiro128PlusPlus,
    /// The data order of the current epoch, and the next position in it.
    order: Vec<usize>,
    cursor: usize,
    /// Current and averaged parameters, host vectors in core order.
    e_now: Vec<Vec<f32>>,
    f_now: Vec<Vec<f32>>,
    e_avg: Vec<Vec<f32>>,
    f_avg: Vec<Vec<f32>>,
    /// The core model of the current parameters (what the sampler runs on).
    current: HostModel,
    /// The core model of the averaged parameters (what the observer sees).
    averaged: HostModel,
    pub(crate) bank: Bank,
    /// Chains (and data points) per iteration.
    n: usize,
    /// Dimension, batch and bank size: a checkpoint must match them.
    shape: [u64; 3],
    /// Iterations done.
    pub(crate) iteration: u64,
    /// Skipped EBM and flow steps (non-finite loss or gradient).
    pub(crate) skipped: (u64, u64),
    /// Sampler statistics since the last evaluation.
    pub(crate) window: StepStats,
    /// The last EBM loss and flow loss.
    pub(crate) losses: (f32, f32),
    /// Learning-rate factor (halved by every roll-back).
    lr_factor: f64,
    pub(crate) rollbacks: u64,
    bad_in_a_row: u32,
    last_skipped: u64,
}

fn exp_average(avg: &mut [Vec<f32>], now: &[Vec<f32>], decay: f32) {
    for (a, n) in avg.iter_mut().zip(now) {
        for (x, y) in a.iter_mut().zip(n) {
            *x = decay * *x + (1.0 - decay) * y;
        }
    }
}

fn rows_tensor(rows: &[f32], dim: usize, device: &Device) -> Result<Tensor> {
    Ok(Tensor::from_vec(
        rows.to_vec(),
        (rows.len() / dim, dim),
        device,
    )?)
}

fn values(p: &ParamList) -> Result<Vec<Vec<f32>>> {
    let tensors: Vec<Tensor> = p.vars.iter().map(|v| v.as_tensor().clone()).collect();
    to_host(&tensors)
}

impl<'a> TrainState<'a> {
    /// The start of a run: networks initialised from [`SeedStream::TRAINING`] (E ≡ 0, T = Id up
    /// to the initialisation), the bank started from flow samples.
    pub(crate) fn new(
        data: &'a Dataset,
        sigma: f32,
        model_shape: &ModelShape,
        config: &'a TrainConfig,
    ) -> Result<Self> {
        if !(sigma.is_finite() && sigma > 0.0) {
            bail!("base σ: must be positive and finite, got {sigma}");
        }
        let dim = model_shape.dim;
        let mut rng = SeedStream::TRAINING.rng(config.seed);
        let energy_net = EnergyNet::new_on(model_shape, &mut rng, &config.device)?;
        let flow_net = FlowNet::new_on(model_shape, sigma, &mut rng, &config.device)?;
        let opt_e = Adam::new(energy_net.params.vars.clone(), config.lr_energy)?;
        let opt_f = Adam::new(flow_net.params.vars.clone(), config.lr_flow)?;
        let e_now = values(&energy_net.params)?;
        let f_now = values(&flow_net.params)?;
        let mut current = HostModel::new(model_shape, sigma, &e_now, &f_now)?;
        let averaged = current.clone();
        let bank = {
            let v = current.views()?;
            Bank::from_flow(
                config.bank.max(config.batch),
                &v.energy,
                &v.flow,
                config.step_size,
                config.seed,
            )
        };
        let n = config.batch.min(bank.len());
        let shape = [dim as u64, config.batch as u64, bank.len() as u64];
        let energy_tensors = energy_net.params.vars.len();
        let all_vars: Vec<Var> = energy_net
            .params
            .vars
            .iter()
            .chain(&flow_net.params.vars)
            .cloned()
            .collect();
        Ok(Self {
            config,
            data,
            sigma,
            dim,
            energy_net,
            flow_net,
            opt_e,
            opt_f,
            all_vars,
            energy_tensors,
            rng,
            order: (0..data.len()).collect(),
            cursor: data.len(),
            e_avg: e_now.clone(),
            f_avg: f_now.clone(),
            e_now,
            f_now,
            current,
            averaged,
            bank,
            n,
            shape,
            iteration: 0,
            skipped: (0, 0),
            window: StepStats::default(),
            losses: (0.0, 0.0),
            lr_factor: 1.0,
            rollbacks: 0,
            bad_in_a_row: 0,
            last_skipped: 0,
        })
    }

    /// The whole state as a checkpoint.
    pub(crate) fn snapshot(&self) -> Result<Checkpoint> {
        let (me, ve) = self.opt_e.moments();
        let (mf, vf) = self.opt_f.moments();
        let mut adam_m = to_host(me)?;
        adam_m.extend(to_host(mf)?);
        let mut adam_v = to_host(ve)?;
        adam_v.extend(to_host(vf)?);
        let mut params = self.e_now.clone();
        params.extend(self.f_now.iter().cloned());
        let mut averages = self.e_avg.clone();
        averages.extend(self.f_avg.iter().cloned());
        let bank = &self.bank;
        Ok(Checkpoint {
            iteration: self.iteration,
            shape: self.shape,
            seed: self.config.seed,
            rng: self.rng.state(),
            order: self.order.iter().map(|&i| i as u32).collect(),
            cursor: self.cursor as u64,
            params,
            adam_m,
            adam_v,
            adam_t: [self.opt_e.t, self.opt_f.t],
            lr_factor: self.lr_factor,
            averages,
            energy_tensors: self.energy_tensors as u64,
            bank_x: bank.states(),
            bank_step: (0..bank.len()).map(|k| bank.step_size(k)).collect(),
            bank_accept: (0..bank.len()).map(|k| bank.acceptance(k)).collect(),
            counters: [self.skipped.0, self.skipped.1, self.rollbacks],
        })
    }

    /// Go back to `cp`: parameters, optimiser moments, chains, data order, generator,
    /// averages and the learning-rate factor (the step counters are the caller's choice).
    fn restore(&mut self, cp: &Checkpoint) -> Result<()> {
        if cp.shape != self.shape
            || cp.seed != self.config.seed
            || cp.order.len() != self.data.len()
        {
            bail!(
                "the checkpoint belongs to another run (dimension, batch, bank size, seed or \
                 data size differ)"
            );
        }
        let et = self.energy_tensors;
        if cp.params.len() != self.all_vars.len()
            || cp.energy_tensors as usize != et
            || cp
                .params
                .iter()
                .zip(&self.all_vars)
                .any(|(p, v)| p.len() != v.as_tensor().elem_count())
        {
            bail!(
                "the checkpoint's parameters do not match this model's shape ({})",
                self.current.shape()
            );
        }
        let to_tensors = |lists: &[Vec<f32>]| -> Result<Vec<Tensor>> {
            lists
                .iter()
                .zip(&self.all_vars)
                .map(|(v, var)| {
                    Ok(Tensor::from_vec(
                        v.clone(),
                        var.as_tensor().shape(),
                        var.device(),
                    )?)
                })
                .collect()
        };
        let params = to_tensors(&cp.params)?;
        let m = to_tensors(&cp.adam_m)?;
        let v = to_tensors(&cp.adam_v)?;
        for (t, var) in params.iter().zip(&self.all_vars) {
            var.set(t)?;
        }
        self.opt_e
            .set_moments(m[..et].to_vec(), v[..et].to_vec(), cp.adam_t[0]);
        self.opt_f
            .set_moments(m[et..].to_vec(), v[et..].to_vec(), cp.adam_t[1]);
        let (bank, d) = (&mut self.bank, self.dim);
        let chains = bank.len();
        if cp.bank_x.len() != chains * d
            || cp.bank_step.len() != chains
            || cp.bank_accept.len() != chains
        {
            bail!("the checkpoint's chains do not match this run");
        }
        for k in 0..chains {
            let c = bank.chain(k);
            c.x.copy_from_slice(&cp.bank_x[k * d..(k + 1) * d]);
            *c.step_size = cp.bank_step[k];
            *c.acceptance = cp.bank_accept[k];
        }
        self.iteration = cp.iteration;
        self.rng = Xoshiro128PlusPlus::from_state(cp.rng);
        self.order = cp.order.iter().map(|&i| i as usize).collect();
        self.cursor = cp.cursor as usize;
        self.lr_factor = cp.lr_factor;
        self.e_avg = cp.averages[..et].to_vec();
        self.f_avg = cp.averages[et..].to_vec();
        self.e_now = cp.params[..et].to_vec();
        self.f_now = cp.params[et..].to_vec();
        self.current.set(&self.e_now, &self.f_now)?;
        Ok(())
    }

    /// Continue a stopped run from its checkpoint, counters included.
    pub(crate) fn resume(&mut self, cp: &Checkpoint) -> Result<()> {
        self.restore(cp)?;
        self.skipped = (cp.counters[0], cp.counters[1]);
        self.last_skipped = self.skipped.0 + self.skipped.1;
        self.rollbacks = cp.counters[2];
        Ok(())
    }

    /// After a divergence: back to the last good state `good`, on a jumped generator (so the
    /// same batches are not drawn again) and with halved learning rates.
    pub(crate) fn roll_back(&mut self, good: &Checkpoint) -> Result<()> {
        self.rollbacks += 1;
        if self.rollbacks > 8 {
            bail!(
                "training diverged {} times; last at iteration {}",
                self.rollbacks,
                self.iteration
            );
        }
        self.restore(good)?;
        self.rng.jump();
        self.lr_factor = good.lr_factor * 0.5;
        self.bad_in_a_row = 0;
        self.losses.0 = 0.0;
        Ok(())
    }

    /// Start the next iteration: count it and set the learning rates (linear decay to
    /// `lr_final` of the start over `iters`, times the roll-back factor).
    pub(crate) fn begin_iteration(&mut self) {
        self.iteration += 1;
        let c = self.config;
        let frac = (self.iteration - 1) as f64 / c.iters.max(1) as f64;
        let decay = 1.0 - (1.0 - c.lr_final) * frac;
        self.opt_e.lr = c.lr_energy * decay * self.lr_factor;
        self.opt_f.lr = c.lr_flow * decay * self.lr_factor;
    }

    /// Step 1: the next `n` data points (epoch-wise shuffling), each coordinate jittered by
    /// `N(0, data_noise²)` when `data_noise > 0`.
    pub(crate) fn data_batch(&mut self) -> Result<Tensor> {
        let mut positives = Vec::with_capacity(self.n * self.dim);
        for _ in 0..self.n {
            if self.cursor == self.order.len() {
                shuffle(&mut self.rng, &mut self.order);
                self.cursor = 0;
            }
            positives.extend_from_slice(self.data.row(self.order[self.cursor]));
            self.cursor += 1;
        }
        let noise = self.config.data_noise as f32;
        if noise > 0.0 {
            for v in &mut positives {
                *v += noise * emberflow_core::random::standard_normal(&mut self.rng);
            }
        }
        Ok(Tensor::from_vec(
            positives,
            (self.n, self.dim),
            &self.config.device,
        )?)
    }

    /// Step 2: the negatives of the method — one FlowMC sweep of `n` bank chains (drawn
    /// without replacement), ULA on `n` bank chains, short-run ULA from noise, or none (nf).
    pub(crate) fn negatives(&mut self) -> Result<Vec<f32>> {
        let c = self.config;
        let (n, it, d) = (self.n, self.iteration, self.dim);
        let v = self.current.views()?;
        Ok(match c.method {
            Method::FlowMc => {
                let slots = subsample(self.bank.len(), n, &mut self.rng);
                let (neg, stats) = self
                    .bank
                    .sweep(&slots, &v.energy, &v.flow, c.sampler, c.seed, it, c.threads);
                self.window.merge(&stats);
                neg
            }
            Method::Ula => {
                let slots = subsample(self.bank.len(), n, &mut self.rng);
                self.bank
                    .ula(&slots, &v.energy, c.ula_step, c.ula_steps, c.seed, it)
            }
            Method::ShortRun => {
                let mut neg = vec![0.0f32; n * d];
                let mut scratch = vec![0.0f32; ula_scratch_len(&v.energy)];
                for (s, x) in neg.chunks_exact_mut(d).enumerate() {
                    let mut crng = chain_rng(c.seed, it, s);
                    for v in x.iter_mut() {
                        *v = self.sigma * 3.0 * (2.0 * uniform_open01(&mut crng) - 1.0);
                    }
                    ula(
                        &v.energy,
                        x,
                        c.ula_step,
                        c.ula_steps,
                        &mut crng,
                        &mut scratch,
                    );
                }
                neg
            }
            Method::Nf => Vec::new(),
        })
    }

    /// Step 3: an EBM Adam step on `mean E(x⁺) − mean E(x⁻)` (+ `λ·(mean E⁺² + mean E⁻²)`);
    /// a non-finite loss or gradient skips it and is counted.
    pub(crate) fn energy_step(&mut self, positives: &Tensor, negatives: &[f32]) -> Result<()> {
        let c = self.config;
        if c.method == Method::Nf {
            return Ok(());
        }
        let neg = rows_tensor(negatives, self.dim, &c.device)?;
        let e_pos = self.energy_net.forward(positives)?;
        let e_neg = self.energy_net.forward(&neg)?;
        let mut loss = (e_pos.mean_all()? - e_neg.mean_all()?)?;
        if c.energy_reg > 0.0 {
            let reg = (e_pos.sqr()?.mean_all()? + e_neg.sqr()?.mean_all()?)?;
            loss = (loss + reg.affine(c.energy_reg, 0.0)?)?;
        }
        let value = loss.to_scalar::<f32>()?;
        let grads = loss.backward()?;
        if value.is_finite() && self.opt_e.grads_finite(&grads)? {
            self.opt_e.step(&grads)?;
            self.losses.0 = value;
        } else {
            self.skipped.0 += 1;
        }
        Ok(())
    }

    /// Step 4: a flow Adam step on `−mean ln λ(x)`, on the negatives (flowMC, detached) or on
    /// the data (nf); a non-finite loss or gradient skips it and is counted.
    pub(crate) fn flow_step(&mut self, positives: &Tensor, negatives: &[f32]) -> Result<()> {
        let c = self.config;
        let fit_on = match c.method {
            Method::FlowMc => rows_tensor(negatives, self.dim, &c.device)?,
            Method::Nf => positives.clone(),
            Method::Ula | Method::ShortRun => return Ok(()),
        };
        let loss = self.flow_net.log_density(&fit_on)?.mean_all()?.neg()?;
        let value = loss.to_scalar::<f32>()?;
        let grads = loss.backward()?;
        if value.is_finite() && self.opt_f.grads_finite(&grads)? {
            self.opt_f.step(&grads)?;
            self.losses.1 = value;
        } else {
            self.skipped.1 += 1;
        }
        Ok(())
    }

    /// Read the new parameters back and tell whether the run diverged: non-finite
    /// parameters, ten skipped steps in a row, or a runaway energy gap (`|loss| > 10⁴`).
    pub(crate) fn diverged(&mut self) -> Result<bool> {
        self.e_now = values(&self.energy_net.params)?;
        self.f_now = values(&self.flow_net.params)?;
        let finite = self
            .e_now
            .iter()
            .chain(&self.f_now)
            .flatten()
            .all(|v| v.is_finite());
        let skipped_now = self.skipped.0 + self.skipped.1;
        self.bad_in_a_row = if skipped_now > self.last_skipped {
            self.bad_in_a_row + 1
        } else {
            0
        };
        self.last_skipped = skipped_now;
        Ok(!finite || self.bad_in_a_row >= 10 || self.losses.0.abs() > 1e4)
    }

    /// Keep the new parameters: the sampler's core copies, and the averages (decay
    /// `min(ema, 1 − 1/(t/10 + 1))`: the averaging horizon `1/(1 − decay)` is at most a tenth
    /// of the iterations so far, so the parameters of the first half of a run weigh less than
    /// 10⁻³ in the average at its end — a horizon that reaches back into the early, still
    /// wide-moded models biases the exported mode weights).
    pub(crate) fn accept_parameters(&mut self) -> Result<()> {
        self.current.set(&self.e_now, &self.f_now)?;
        let d = self
            .config
            .ema
            .min(1.0 - 1.0 / (self.iteration as f64 / 10.0 + 1.0)) as f32;
        exp_average(&mut self.e_avg, &self.e_now, d);
        exp_average(&mut self.f_avg, &self.f_now, d);
        Ok(())
    }

    /// The averaged models and a copy of the bank's states, for the observer.
    pub(crate) fn observed(&mut self) -> Result<(Vec<f32>, Views<'_>)> {
        self.averaged.set(&self.e_avg, &self.f_avg)?;
        Ok((self.bank.states(), self.averaged.views()?))
    }

    /// How many of the checkpoint's tensors belong to the energy.
    pub(crate) fn energy_tensors(&self) -> usize {
        self.energy_tensors
    }

    /// The averaged parameters (what is exported).
    pub(crate) fn into_averages(self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        (self.e_avg, self.f_avg)
    }
}

//! The candle networks and emberflow-core's run-time models ([`HostModel`]) agree on the same
//! parameters, for the paper's shapes and for odd ones (depths, widths, activations, flow
//! sizes): energies and flow log-densities within 1e-4 relative, samples within 1e-3 (different
//! summation orders in f32, amplified through the couplings' `exp(s)` at d = 100), after the
//! positional parameter copy.

use candle_core::{Device, Tensor};
use emberflow_core::random::{fill_standard_normal, standard_normal};
use emberflow_core::{ActivationKind, Potential, Proposal, Xoshiro128PlusPlus};
use emberflow_train::nets::{EnergyNet, FlowNet};
use emberflow_train::params::to_host;
use emberflow_train::{HostModel, ModelShape};

fn perturb(vars: &[candle_core::Var], rng: &mut Xoshiro128PlusPlus, scale: f32) {
    for v in vars {
        let t = v.as_tensor();
        let n = t.elem_count();
        let noise: Vec<f32> = (0..n).map(|_| scale * standard_normal(rng)).collect();
        let noise = Tensor::from_vec(noise, t.shape(), &Device::Cpu).unwrap();
        v.set(&(t + noise).unwrap()).unwrap();
    }
}

fn check(shape: &ModelShape) {
    let d = shape.dim;
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(d as u64);
    let sigma = 1.3f32;
    let e = EnergyNet::new(shape, &mut rng).unwrap();
    let f = FlowNet::new(shape, sigma, &mut rng).unwrap();
    // Move away from the initial E ≡ 0, T = Id so the comparison means something.
    perturb(&e.params.vars, &mut rng, 0.2);
    perturb(&f.params.vars, &mut rng, 0.2);
    let host = |vars: &[candle_core::Var]| -> Vec<Vec<f32>> {
        let t: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        to_host(&t).unwrap()
    };
    let mut model =
        HostModel::new(shape, sigma, &host(&e.params.vars), &host(&f.params.vars)).unwrap();
    let v = model.views().unwrap();
    let (ce, cf) = (&v.energy, &v.flow);
    let expected: usize = shape
        .energy_widths()
        .windows(2)
        .map(|w| w[0] * w[1] + w[1])
        .sum();
    assert_eq!(e.params.num_params(), expected);
    let mut scratch = vec![0.0f32; ce.scratch_len().max(cf.scratch_len())];
    let n = 64;
    let xs: Vec<f32> = (0..n * d)
        .map(|_| 1.5 * standard_normal(&mut rng))
        .collect();
    let x = Tensor::from_vec(xs.clone(), (n, d), &Device::Cpu).unwrap();
    let ev = e.forward(&x).unwrap().to_vec1::<f32>().unwrap();
    let lv = f.log_density(&x).unwrap().to_vec1::<f32>().unwrap();
    // ln ρ of the tilt, to compare E_θ alone
    let log_rho = |p: &[f32]| {
        let s = f64::from(sigma);
        let sq: f64 = p.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        -0.5 * sq / (s * s) - d as f64 * (s.ln() + 0.5 * std::f64::consts::TAU.ln())
    };
    for (i, p) in xs.chunks_exact(d).enumerate() {
        let u = f64::from(ce.energy(p, &mut scratch));
        let core_e = u + log_rho(p);
        let candle = f64::from(ev[i]);
        // core sums U = E − ln ρ in f32: its rounding scales with |U| (large for d = 100)
        assert!(
            (core_e - candle).abs() <= 1e-4 * (1.0 + candle.abs()) + 1e-5 * u.abs(),
            "{shape}: point {i}: core {core_e} candle {candle}"
        );
        let core_l = cf.log_density(p, &mut scratch);
        assert!(
            (core_l - lv[i]).abs() <= 1e-4 * (1.0 + lv[i].abs()),
            "{shape}: point {i}: core ln λ {core_l} candle {}",
            lv[i]
        );
    }
    // Sampling: core's draw (base z, then T) and the candle flow's map of the same z.
    let mut z = vec![0.0f32; n * d];
    let mut x = vec![0.0f32; n * d];
    let mut lp = vec![0.0f32; n];
    for i in 0..n {
        let mut r1 = Xoshiro128PlusPlus::seed_from_u64(i as u64);
        lp[i] = cf.sample(&mut r1, &mut x[i * d..(i + 1) * d], &mut scratch);
        let mut r2 = Xoshiro128PlusPlus::seed_from_u64(i as u64);
        let zi = &mut z[i * d..(i + 1) * d];
        fill_standard_normal(&mut r2, zi);
        for zj in zi {
            *zj *= sigma;
        }
    }
    let (cx, clp) = f
        .sample_from_base(&Tensor::from_vec(z, (n, d), &Device::Cpu).unwrap())
        .unwrap();
    let cx = cx.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let clp = clp.to_vec1::<f32>().unwrap();
    for i in 0..n * d {
        assert!(
            (cx[i] - x[i]).abs() <= 1e-3 * (1.0 + x[i].abs()),
            "{shape}: sample coordinate {i}: core {} candle {}",
            x[i],
            cx[i]
        );
    }
    for i in 0..n {
        assert!(
            (clp[i] - lp[i]).abs() <= 1e-3 * (1.0 + lp[i].abs()),
            "{shape}: ln λ {i}"
        );
    }
}

#[test]
fn candle_and_core_agree_on_the_paper_shapes() {
    for d in [2, 5, 16] {
        check(&ModelShape::default_for(d));
    }
}

#[test]
fn candle_and_core_agree_on_odd_shapes() {
    let shapes = [
        // one hidden layer, relu, deep conditioners
        ModelShape {
            dim: 3,
            energy_hidden: vec![7],
            activation: ActivationKind::Relu,
            flow_blocks: 3,
            flow_hidden: vec![5, 9, 3],
        },
        // six hidden layers, silu
        ModelShape {
            dim: 24,
            energy_hidden: vec![13, 29, 6, 17, 11, 5],
            activation: ActivationKind::Silu,
            flow_blocks: 1,
            flow_hidden: vec![33],
        },
        // tanh, an odd dimension
        ModelShape {
            dim: 31,
            energy_hidden: vec![37, 19],
            activation: ActivationKind::Tanh,
            flow_blocks: 2,
            flow_hidden: vec![21, 10],
        },
        ModelShape::default_for(100),
    ];
    for s in &shapes {
        s.validate().unwrap();
        check(s);
    }
}

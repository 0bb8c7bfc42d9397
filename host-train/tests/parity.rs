//! The candle networks and emberflow-core's models agree on the same parameters: energies
//! within 1e-5 relative, flow log-densities within 1e-4 absolute (different summation orders
//! in f32), after the positional parameter copy of `params.rs`.

use candle_core::{Device, Tensor};
use emberflow_core::random::standard_normal;
use emberflow_core::shapes::flow_shape;
use emberflow_core::{DiagGaussian, Energy, Flow, Xoshiro128PlusPlus};
use emberflow_train::nets::{EnergyNet, FlowNet};
use emberflow_train::params::{core_energy, core_flow, to_host};

fn perturb(vars: &[candle_core::Var], rng: &mut Xoshiro128PlusPlus, scale: f32) {
    for v in vars {
        let t = v.as_tensor();
        let n = t.elem_count();
        let noise: Vec<f32> = (0..n).map(|_| scale * standard_normal(rng)).collect();
        let noise = Tensor::from_vec(noise, t.shape(), &Device::Cpu).unwrap();
        v.set(&(t + noise).unwrap()).unwrap();
    }
}

fn check<const D: usize, const A: usize, const B: usize, const H: usize, const K: usize>() {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(D as u64);
    let sigma = 1.3f32;
    let e = EnergyNet::new(D, &mut rng).unwrap();
    let (h, k) = flow_shape(D).unwrap();
    assert_eq!((h, k), (H, K));
    let f = FlowNet::new(D, H, K, sigma, &mut rng).unwrap();
    // Move away from the initial E ≡ 0, T = Id so the comparison means something.
    perturb(&e.params.vars, &mut rng, 0.2);
    perturb(&f.params.vars, &mut rng, 0.2);
    let tensors = |vars: &[candle_core::Var]| -> Vec<Tensor> {
        vars.iter().map(|v| v.as_tensor().clone()).collect()
    };
    let base = DiagGaussian::<D>::isotropic(sigma).unwrap();
    let ce = core_energy::<D>(&to_host(&tensors(&e.params.vars)).unwrap(), &base).unwrap();
    let cf =
        core_flow::<D, A, B, H, K>(&to_host(&tensors(&f.params.vars)).unwrap(), &base).unwrap();
    assert_eq!(e.params.num_params(), ce.energy.net_params());
    let n = 64;
    let xs: Vec<f32> = (0..n * D)
        .map(|_| 1.5 * standard_normal(&mut rng))
        .collect();
    let x = Tensor::from_vec(xs.clone(), (n, D), &Device::Cpu).unwrap();
    let ev = e.forward(&x).unwrap().to_vec1::<f32>().unwrap();
    let lv = f.log_density(&x).unwrap().to_vec1::<f32>().unwrap();
    for (i, row) in xs.chunks_exact(D).enumerate() {
        let p: [f32; D] = row.try_into().unwrap();
        // Tilted energy = E − ln ρ.
        let core_e = ce.energy(&p) + base.log_density(&p);
        assert!(
            (core_e - ev[i]).abs() <= 1e-5 * (1.0 + ev[i].abs()),
            "D={D} point {i}: core {core_e} candle {}",
            ev[i]
        );
        let core_l = cf.log_density(&p);
        assert!(
            (core_l - lv[i]).abs() <= 1e-4 * (1.0 + lv[i].abs()),
            "D={D} point {i}: core ln λ {core_l} candle {}",
            lv[i]
        );
    }
    // Sampling through the candle flow agrees with core's forward map too.
    let z: Vec<f32> = (0..n * D)
        .map(|_| sigma * standard_normal(&mut rng))
        .collect();
    let (x, lp) = f
        .sample_from_base(&Tensor::from_vec(z.clone(), (n, D), &Device::Cpu).unwrap())
        .unwrap();
    let x = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let lp = lp.to_vec1::<f32>().unwrap();
    for i in 0..n {
        let zi: [f32; D] = z[i * D..(i + 1) * D].try_into().unwrap();
        let mut xi = [0.0f32; D];
        let ld = cf.transform(&zi, &mut xi);
        for j in 0..D {
            assert!((xi[j] - x[i * D + j]).abs() <= 1e-4 * (1.0 + xi[j].abs()));
        }
        let core_lp = base.log_density(&zi) - ld;
        assert!((core_lp - lp[i]).abs() <= 1e-4 * (1.0 + lp[i].abs()));
    }
}

trait NetParams {
    fn net_params(&self) -> usize;
}
impl<N: emberflow_core::Parameters> NetParams for emberflow_core::MlpEnergy<N> {
    fn net_params(&self) -> usize {
        self.net.num_params()
    }
}

#[test]
fn candle_and_core_agree() {
    check::<2, 1, 1, 16, 4>();
    check::<5, 2, 3, 32, 4>();
    check::<16, 8, 8, 32, 2>();
}

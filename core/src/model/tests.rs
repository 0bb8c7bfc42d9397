//! Unit tests of the encoder and the decoder together, on the private wire structures (the
//! round trips through the public API are in `core/tests/model_*.rs`).

use super::lists::{Bounded, F32s};
use super::quant::Encoding;
use super::wire::{DataLayout, HeaderWire, TensorWire, pad_len};
use super::{
    ALIGN, CRC_LEN, Export, ModelView, Normalization, PREAMBLE_LEN, SamplerSpec, Training,
    encode_energy_flow,
};
use crate::Energy;
use crate::activation::Relu;
use crate::energy::{MlpEnergy, Tilted};
use crate::flow::RealNvp;
use crate::gaussian::DiagGaussian;
use crate::mcmc::FlowMcConfig;
use crate::network::Parameters;
use crate::shapes::{Mlp1, Mlp1View};

type Net = Mlp1<2, 4, 1, Relu>;
type Cond = Mlp1<1, 3, 1, Relu>;
type Nvp = RealNvp<2, 1, 1, Cond, Cond, 2>;

fn filler(seed: u32) -> impl FnMut(&mut [f32]) {
    let mut k = seed;
    move |t| {
        for v in t.iter_mut() {
            k = k.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v = ((k >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.8;
        }
    }
}

fn model() -> (Tilted<MlpEnergy<Net>, 2>, Nvp) {
    let mut net = Net::zeroed();
    net.visit_mut(&mut filler(1));
    let energy = Tilted::new(MlpEnergy::new(net), DiagGaussian::new([1.0, 2.0]).unwrap());
    let mut flow = Nvp::identity(DiagGaussian::standard());
    flow.visit_mut(&mut filler(2));
    (energy, flow)
}

fn export(encoding: Encoding) -> Export<'static> {
    Export {
        encoding,
        f32_output_layers: false,
        normalization: Normalization {
            shift: F32s::Native(&[0.5, -1.0]),
            scale: F32s::Native(&[2.0, 0.25]),
        },
        sampler: SamplerSpec::new(&FlowMcConfig::default(), 0.01, 16),
        training: Training {
            dataset: "unit",
            iterations: 3,
            seed: 4,
            metrics: Bounded::from_slice(&[("loss", 0.5)]).unwrap(),
        },
        model_errors: None,
    }
}

/// The body the encoder streams equals postcard's own encoding of the decoded structures.
#[test]
fn encoder_output_is_canonical_postcard() {
    let (energy, flow) = model();
    for enc in Encoding::ALL {
        let mut buf = [0u8; 4096];
        let n = encode_energy_flow(&energy, &flow, &export(enc), &mut buf).unwrap();
        let view = ModelView::parse(&buf[..n]).unwrap();
        let mut again = [0u8; 4096];
        let wire = HeaderWire::from_header(view.header());
        let mut pos = postcard::to_slice(&wire, &mut again).unwrap().len();
        for t in view.tensors() {
            let t = t.unwrap();
            let layout = DataLayout::new(t.slot.shape[0], t.slot.shape[1], t.encoding).unwrap();
            let mut data = t.weights.to_vec();
            data.resize(layout.scales, 0);
            data.extend_from_slice(t.scales);
            data.extend_from_slice(t.bias);
            assert_eq!(data.len(), layout.len);
            let before = 1 + 1 + 1; // rows, cols (< 128) and the encoding tag
            let pad = pad_len(PREAMBLE_LEN + pos + before, data.len());
            let w = TensorWire {
                rows: t.slot.shape[0],
                cols: t.slot.shape[1],
                encoding: t.encoding.tag(),
                pad: &[0; 3][..pad],
                data: &data,
            };
            pos += postcard::to_slice(&w, &mut again[pos..]).unwrap().len();
            assert!((PREAMBLE_LEN + pos - data.len()).is_multiple_of(ALIGN));
        }
        assert_eq!(&again[..pos], &buf[PREAMBLE_LEN..n - CRC_LEN], "{enc}");
    }
}

#[test]
fn f32_views_are_bit_identical() {
    let (energy, flow) = model();
    let mut buf = [0u8; 4096];
    let n = encode_energy_flow(&energy, &flow, &export(Encoding::F32), &mut buf).unwrap();
    let view = ModelView::parse(&buf[..n]).unwrap();
    let e = view.energy::<2, Mlp1View<'_, 2, 4, 1, Relu>>().unwrap();
    type CondView<'a> = Mlp1View<'a, 1, 3, 1, Relu>;
    let f = view
        .flow::<2, 1, 1, CondView<'_>, CondView<'_>, 2>()
        .unwrap();
    use crate::Flow;
    for i in 0..50 {
        let x = [i as f32 * 0.1 - 2.5, 1.0 - i as f32 * 0.07];
        let (mut g1, mut g2) = ([0.0; 2], [0.0; 2]);
        assert_eq!(
            energy.energy_and_grad(&x, &mut g1).to_bits(),
            e.energy_and_grad(&x, &mut g2).to_bits()
        );
        assert_eq!(g1, g2);
        assert_eq!(flow.log_density(&x).to_bits(), f.log_density(&x).to_bits());
        let (mut y1, mut y2) = ([0.0; 2], [0.0; 2]);
        assert_eq!(flow.transform(&x, &mut y1), f.transform(&x, &mut y2));
        assert_eq!(y1, y2);
    }
}

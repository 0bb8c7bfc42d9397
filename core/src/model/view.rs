//! Networks whose weights stay in the model file: [`DenseView`] and the view types of the
//! paper's shapes.
//!
//! A [`DenseView<'a, IN, OUT>`] borrows one weight tensor (f32, int16 or int8) and implements
//! [`Network<IN, OUT>`], so it composes with [`Act`] and [`Chain`] exactly like an owned
//! [`crate::Dense`]; nothing is copied to RAM. Each row is decoded into a stack buffer of `IN`
//! f32 and reduced with [`crate::kernels::dot`] (backward: [`crate::kernels::axpy`]), so the
//! summation order is the one fixed in the source and a host and a Cortex-M4F give the same bits
//! for the same file:
//!
//! ```text
//! f32:        y_o = Σ_j W_oj x_j + b_o                    (bit-identical to Dense)
//! int16/int8: y_o = s_o · Σ_j q_oj x_j + b_o               (q exact in f32, activations f32)
//! ```
//!
//! [`FromLayers`] builds a whole network type (`Chain`s of `DenseView` and `Act`) from the file's
//! tensors in the canonical order, checking every shape against the const generics.

use super::decode::TensorView;
use super::quant::Encoding;
use crate::activation::{Activation, ActivationKind, LeakyRelu, Relu};
use crate::energy::{MlpEnergy, Tilted};
use crate::error::Error;
use crate::flow::RealNvp;
use crate::kernels::{axpy, dot};
use crate::network::{Act, Chain, Network};

/// A dense layer `y = W x + b` reading its weights in place from a model file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseView<'a, const IN: usize, const OUT: usize> {
    encoding: Encoding,
    weights: &'a [u8],
    scales: &'a [u8],
    bias: &'a [u8],
    tensor: u16,
}

#[inline]
fn le_f32(c: &[u8]) -> f32 {
    match c {
        [a, b, c, d, ..] => f32::from_le_bytes([*a, *b, *c, *d]),
        _ => 0.0,
    }
}

impl<'a, const IN: usize, const OUT: usize> DenseView<'a, IN, OUT> {
    const SHAPE_OK: () = assert!(IN > 0 && OUT > 0, "a DenseView needs IN > 0 and OUT > 0");

    /// The layer of tensor `t`; its shape must be `[OUT, IN]`.
    pub fn new(t: &TensorView<'a>) -> Result<Self, Error> {
        let () = Self::SHAPE_OK;
        let tensor = t.slot.index as u16;
        let expected = [OUT as u16, IN as u16];
        if OUT > usize::from(u16::MAX) || IN > usize::from(u16::MAX) || t.slot.shape != expected {
            return Err(Error::TensorShape {
                tensor,
                expected,
                found: t.slot.shape,
            });
        }
        let bpw = t.encoding.bytes_per_weight();
        let scales = if t.encoding.is_quantized() {
            4 * OUT
        } else {
            0
        };
        let weights = (OUT as u64) * (IN as u64) * (bpw as u64);
        if t.weights.len() as u64 != weights || t.scales.len() != scales || t.bias.len() != 4 * OUT
        {
            return Err(Error::TensorLength { tensor });
        }
        Ok(Self {
            encoding: t.encoding,
            weights: t.weights,
            scales: t.scales,
            bias: t.bias,
            tensor,
        })
    }

    /// A layer with no rows (every output untouched); stands in only while an error is returned.
    const fn empty() -> Self {
        Self {
            encoding: Encoding::F32,
            weights: &[],
            scales: &[],
            bias: &[],
            tensor: 0,
        }
    }

    /// The weight encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Index of the tensor in the file.
    pub fn tensor_index(&self) -> u16 {
        self.tensor
    }

    /// The scale of row `o` (`None` for f32 or out of range).
    pub fn scale(&self, o: usize) -> Option<f32> {
        self.scales.get(4 * o..4 * o + 4).map(le_f32)
    }

    /// The bias of row `o` (0 out of range).
    pub fn bias(&self, o: usize) -> f32 {
        self.bias.get(4 * o..4 * o + 4).map_or(0.0, le_f32)
    }

    /// The weight `W[o][j]` this layer stands for (`s_o · q_oj` when quantised; 0 out of range).
    pub fn weight(&self, o: usize, j: usize) -> f32 {
        if o >= OUT || j >= IN {
            return 0.0;
        }
        let bpw = self.encoding.bytes_per_weight();
        let at = (o * IN + j) * bpw;
        let Some(c) = self.weights.get(at..at + bpw) else {
            return 0.0;
        };
        match (self.encoding, c) {
            (Encoding::F32, c) => le_f32(c),
            (Encoding::I16, [a, b]) => {
                self.scale(o).unwrap_or(0.0) * f32::from(i16::from_le_bytes([*a, *b]))
            }
            (Encoding::I8, [a]) => self.scale(o).unwrap_or(0.0) * f32::from(*a as i8),
            _ => 0.0,
        }
    }

    /// Decode one row of stored weights (`q` for quantised encodings) into `row`.
    #[inline(always)]
    fn decode_row(encoding: Encoding, bytes: &[u8], row: &mut [f32; IN]) {
        match encoding {
            Encoding::F32 => {
                for (r, c) in row.iter_mut().zip(bytes.chunks_exact(4)) {
                    *r = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                }
            }
            Encoding::I16 => {
                for (r, c) in row.iter_mut().zip(bytes.chunks_exact(2)) {
                    *r = f32::from(i16::from_le_bytes([c[0], c[1]]));
                }
            }
            Encoding::I8 => {
                for (r, b) in row.iter_mut().zip(bytes) {
                    *r = f32::from(*b as i8);
                }
            }
        }
    }

    #[inline(always)]
    fn row_bytes(&self) -> usize {
        IN * self.encoding.bytes_per_weight()
    }
}

impl<const IN: usize, const OUT: usize> Network<IN, OUT> for DenseView<'_, IN, OUT> {
    type Tape = ();

    #[inline]
    fn forward(&self, x: &[f32; IN], y: &mut [f32; OUT]) {
        let mut row = [0.0f32; IN];
        let mut scales = self.scales.chunks_exact(4);
        let rows = self.weights.chunks_exact(self.row_bytes());
        for ((yo, w), b) in y.iter_mut().zip(rows).zip(self.bias.chunks_exact(4)) {
            Self::decode_row(self.encoding, w, &mut row);
            let acc = dot(&row, x);
            *yo = match scales.next() {
                Some(s) => le_f32(s) * acc + le_f32(b),
                None => acc + le_f32(b),
            };
        }
    }

    #[inline]
    fn forward_taped(&self, x: &[f32; IN], y: &mut [f32; OUT], _tape: &mut ()) {
        self.forward(x, y)
    }

    #[inline]
    fn backward(&self, _tape: &(), dy: &[f32; OUT], dx: &mut [f32; IN]) {
        *dx = [0.0; IN];
        let mut row = [0.0f32; IN];
        let mut scales = self.scales.chunks_exact(4);
        for (g, w) in dy.iter().zip(self.weights.chunks_exact(self.row_bytes())) {
            Self::decode_row(self.encoding, w, &mut row);
            let alpha = match scales.next() {
                Some(s) => g * le_f32(s),
                None => *g,
            };
            axpy(alpha, &row, dx);
        }
    }

    fn macs() -> usize {
        IN * OUT
    }
}

/// The file's tensors, consumed in canonical order while a network type is built.
#[derive(Clone, Debug)]
pub struct LayerCursor<'a> {
    pub(crate) tensors: super::decode::Tensors<'a>,
    pub(crate) activation: ActivationKind,
}

impl<'a> LayerCursor<'a> {
    fn next_tensor(&mut self) -> Result<TensorView<'a>, Error> {
        let index = self.tensors.position();
        match self.tensors.next() {
            Some(t) => t,
            None => Err(Error::MalformedTensor {
                tensor: index as u16,
            }),
        }
    }
}

/// A network type that can be built from a model file's tensors.
pub trait FromLayers<'a>: Sized {
    /// Dense layers the type consumes.
    const DENSE_LAYERS: usize;

    /// Build from the next tensors of `cursor`.
    fn from_layers(cursor: &mut LayerCursor<'a>) -> Result<Self, Error>;

    /// A value standing in only while an error is being returned (never evaluated).
    fn placeholder() -> Self;
}

impl<'a, const IN: usize, const OUT: usize> FromLayers<'a> for DenseView<'a, IN, OUT> {
    const DENSE_LAYERS: usize = 1;

    fn from_layers(cursor: &mut LayerCursor<'a>) -> Result<Self, Error> {
        DenseView::new(&cursor.next_tensor()?)
    }

    fn placeholder() -> Self {
        Self::empty()
    }
}

impl<'a, A: Activation> FromLayers<'a> for Act<A> {
    const DENSE_LAYERS: usize = 0;

    fn from_layers(cursor: &mut LayerCursor<'a>) -> Result<Self, Error> {
        if A::KIND == cursor.activation {
            Ok(Act::new())
        } else {
            Err(Error::WrongActivation {
                expected: A::KIND,
                found: cursor.activation,
            })
        }
    }

    fn placeholder() -> Self {
        Act::new()
    }
}

impl<'a, F: FromLayers<'a>, G: FromLayers<'a>, const MID: usize> FromLayers<'a>
    for Chain<F, G, MID>
{
    const DENSE_LAYERS: usize = F::DENSE_LAYERS + G::DENSE_LAYERS;

    fn from_layers(cursor: &mut LayerCursor<'a>) -> Result<Self, Error> {
        let first = F::from_layers(cursor)?;
        let second = G::from_layers(cursor)?;
        Ok(Chain::new(first, second))
    }

    fn placeholder() -> Self {
        Chain::new(F::placeholder(), G::placeholder())
    }
}

/// A dense view followed by an activation: `IN → OUT`.
pub type LayerView<'a, const IN: usize, const OUT: usize, A> =
    Chain<DenseView<'a, IN, OUT>, Act<A>, OUT>;

/// One hidden layer `IN → H → OUT` over file weights (the view of [`crate::Mlp1`]).
pub type Mlp1View<'a, const IN: usize, const H: usize, const OUT: usize, A> =
    Chain<LayerView<'a, IN, H, A>, DenseView<'a, H, OUT>, H>;

/// Two hidden layers over file weights (the view of [`crate::Mlp2`]).
pub type Mlp2View<'a, const IN: usize, const H1: usize, const H2: usize, const OUT: usize, A> =
    Chain<LayerView<'a, IN, H1, A>, Mlp1View<'a, H1, H2, OUT, A>, H1>;

/// Three hidden layers over file weights (the view of [`crate::Mlp3`]).
pub type Mlp3View<
    'a,
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const OUT: usize,
    A,
> = Chain<LayerView<'a, IN, H1, A>, Mlp2View<'a, H1, H2, H3, OUT, A>, H1>;

/// Four hidden layers over file weights (the view of [`crate::Mlp4`]).
pub type Mlp4View<
    'a,
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const H4: usize,
    const OUT: usize,
    A,
> = Chain<LayerView<'a, IN, H1, A>, Mlp3View<'a, H1, H2, H3, H4, OUT, A>, H1>;

/// The paper's energy network `d → 32 → 64 → 64 → 64 → 1` over file weights.
pub type PaperEnergyNetView<'a, const D: usize> = Mlp4View<'a, D, 32, 64, 64, 64, 1, LeakyRelu>;

/// The paper's tilted energy over file weights.
pub type PaperEnergyView<'a, const D: usize> = Tilted<MlpEnergy<PaperEnergyNetView<'a, D>>, D>;

/// The paper's RealNVP flow over file weights.
pub type PaperFlowView<
    'a,
    const D: usize,
    const A: usize,
    const B: usize,
    const H: usize,
    const K: usize,
> = RealNvp<D, A, B, Mlp1View<'a, A, H, B, Relu>, Mlp1View<'a, B, H, A, Relu>, K>;

/// The 2-D energy over file weights.
pub type Energy2dView<'a> = PaperEnergyView<'a, 2>;
/// The 2-D flow over file weights (4 blocks, hidden 16).
pub type Flow2dView<'a> = PaperFlowView<'a, 2, 1, 1, 16, 4>;
/// The d = 16 energy over file weights.
pub type Energy16View<'a> = PaperEnergyView<'a, 16>;
/// The d = 16 flow over file weights (2 blocks, hidden 32).
pub type Flow16View<'a> = PaperFlowView<'a, 16, 8, 8, 32, 2>;
/// The d = 32 energy over file weights.
pub type Energy32View<'a> = PaperEnergyView<'a, 32>;
/// The d = 32 flow over file weights (2 blocks, hidden 39).
pub type Flow32View<'a> = PaperFlowView<'a, 32, 16, 16, 39, 2>;
/// The d = 64 energy over file weights.
pub type Energy64View<'a> = PaperEnergyView<'a, 64>;
/// The d = 64 flow over file weights (2 blocks, hidden 51).
pub type Flow64View<'a> = PaperFlowView<'a, 64, 32, 32, 51, 2>;

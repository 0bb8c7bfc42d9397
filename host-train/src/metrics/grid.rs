//! [`Grid2d`]: the regular 2-D grid of cell centres on which the 2-D metrics integrate a model
//! density (mode weights of the EBM, the log-density error).

use crate::data::{BuiltIn, Dataset};

/// A regular grid of `nx × ny` cells over the box `[lo_x, hi_x] × [lo_y, hi_y]`, evaluated at
/// cell centres. Cell `index = iy · nx + ix` (x fastest) has centre
/// `(lo_x + (ix + ½)·h_x, lo_y + (iy + ½)·h_y)`, `h = (hi − lo)/cells`.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid2d {
    lo: [f64; 2],
    hi: [f64; 2],
    cells: [usize; 2],
}

impl Grid2d {
    /// Cells per side of the default grids (400 × 400 = 160 000 points).
    pub const DEFAULT_CELLS: usize = 400;
    /// The default margin of [`Grid2d::covering`]: 10 % of the data's span on each side.
    pub const DEFAULT_MARGIN: f64 = 0.1;

    /// A grid over `[lo, hi]` with `cells = [nx, ny]`; `None` unless `lo < hi` (finite) and
    /// both cell counts are positive.
    pub fn new(lo: [f64; 2], hi: [f64; 2], cells: [usize; 2]) -> Option<Self> {
        let ok = (0..2).all(|k| lo[k].is_finite() && hi[k].is_finite() && lo[k] < hi[k])
            && cells[0] > 0
            && cells[1] > 0;
        ok.then_some(Self { lo, hi, cells })
    }

    /// The default grid of a 2-D built-in set (`None` for the high-dimensional ones): a fixed
    /// box containing every mode ± at least 5 standard deviations, with
    /// [`Self::DEFAULT_CELLS`]² cells — `two-modes` `[−3.2, 3.2]²`, `four-modes`
    /// `[−5, 5] × [−1.5, 1.5]` (band edges −2, 0, 2 fall on cell edges), `eight-gaussians`
    /// `[−2, 2]²`, `rings` `[−5, 5]²`. Fixed boxes make the metrics of different runs and seeds
    /// comparable.
    pub fn for_set(set: BuiltIn) -> Option<Self> {
        let n = [Self::DEFAULT_CELLS; 2];
        match set {
            BuiltIn::TwoModes => Self::new([-3.2, -3.2], [3.2, 3.2], n),
            BuiltIn::FourModes => Self::new([-5.0, -1.5], [5.0, 1.5], n),
            BuiltIn::EightGaussians => Self::new([-2.0, -2.0], [2.0, 2.0], n),
            BuiltIn::Rings => Self::new([-5.0, -5.0], [5.0, 5.0], n),
            // the widths set's narrow mode (std 0.05) needs a finer grid than an evaluation
            // affords: its weights come from samples
            BuiltIn::Gmm16
            | BuiltIn::Gmm32
            | BuiltIn::Gmm64
            | BuiltIn::Widths
            | BuiltIn::Slips(_)
            | BuiltIn::Weighted(_) => None,
        }
    }

    /// The default grid for 2-D user data: the data's bounding box, widened by
    /// [`Self::DEFAULT_MARGIN`] of its span on each side, with [`Self::DEFAULT_CELLS`]² cells.
    /// `None` unless the data are 2-D and not empty.
    pub fn covering(data: &Dataset) -> Option<Self> {
        Self::covering_with(data, Self::DEFAULT_MARGIN, Self::DEFAULT_CELLS)
    }

    /// The bounding box of `data` widened by `margin × span` on each side, with `cells × cells`
    /// cells. A coordinate whose span is 0 gets span 1 (so the box is never empty). `None`
    /// unless the data are 2-D and not empty, `margin ≥ 0` and `cells > 0`.
    pub fn covering_with(data: &Dataset, margin: f64, cells: usize) -> Option<Self> {
        if data.dim() != 2 || margin.is_nan() || margin < 0.0 {
            return None;
        }
        let (lo, hi) = data.bounds()?;
        let mut l = [0.0; 2];
        let mut h = [0.0; 2];
        for k in 0..2 {
            let (a, b) = (f64::from(lo[k]), f64::from(hi[k]));
            let span = if b > a { b - a } else { 1.0 };
            let mid = 0.5 * (a + b);
            l[k] = mid - span * (0.5 + margin);
            h[k] = mid + span * (0.5 + margin);
        }
        Self::new(l, h, [cells, cells])
    }

    /// Lower corner.
    pub fn lo(&self) -> [f64; 2] {
        self.lo
    }

    /// Upper corner.
    pub fn hi(&self) -> [f64; 2] {
        self.hi
    }

    /// Cells along x and y.
    pub fn cells(&self) -> [usize; 2] {
        self.cells
    }

    /// Number of cells `nx · ny`.
    pub fn len(&self) -> usize {
        self.cells[0] * self.cells[1]
    }

    /// Always false (a grid has at least one cell); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell widths `(h_x, h_y)`.
    pub fn cell_size(&self) -> [f64; 2] {
        [0, 1].map(|k| (self.hi[k] - self.lo[k]) / self.cells[k] as f64)
    }

    /// Cell area `h_x · h_y`.
    pub fn cell_area(&self) -> f64 {
        let [hx, hy] = self.cell_size();
        hx * hy
    }

    /// The centre of cell `index` (x fastest), in f32 as the models take it.
    pub fn centre(&self, index: usize) -> [f32; 2] {
        let [hx, hy] = self.cell_size();
        let (ix, iy) = (index % self.cells[0], index / self.cells[0]);
        [
            (self.lo[0] + (ix as f64 + 0.5) * hx) as f32,
            (self.lo[1] + (iy as f64 + 0.5) * hy) as f32,
        ]
    }

    /// Every cell centre, in index order.
    pub fn centres(&self) -> impl ExactSizeIterator<Item = [f32; 2]> + '_ {
        (0..self.len()).map(|i| self.centre(i))
    }

    /// All cell centres as one row-major `len × 2` buffer (for a batched model call).
    pub fn points(&self) -> Vec<f32> {
        self.centres().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_and_order() {
        let g = Grid2d::new([0.0, -1.0], [4.0, 1.0], [4, 2]).unwrap();
        assert_eq!((g.len(), g.cell_area(), g.is_empty()), (8, 1.0, false));
        assert_eq!(g.centre(0), [0.5, -0.5]);
        assert_eq!(g.centre(3), [3.5, -0.5]);
        assert_eq!(g.centre(4), [0.5, 0.5]);
        assert_eq!(g.points().len(), 16);
        assert!(Grid2d::new([0.0, 0.0], [0.0, 1.0], [1, 1]).is_none());
        assert!(Grid2d::new([0.0, 0.0], [1.0, 1.0], [0, 1]).is_none());
    }

    #[test]
    fn covering_boxes() {
        let d = Dataset::new(2, vec![0.0, 1.0, 10.0, 1.0]).unwrap();
        let g = Grid2d::covering(&d).unwrap();
        assert_eq!((g.lo(), g.hi()), ([-1.0, 0.4], [11.0, 1.6]));
        assert_eq!(g.cells(), [400, 400]);
        assert!(Grid2d::covering(&Dataset::new(3, vec![0.0; 3]).unwrap()).is_none());
        assert!(Grid2d::covering(&Dataset::new(2, vec![]).unwrap()).is_none());
    }

    #[test]
    fn built_in_boxes_put_band_edges_on_cell_edges() {
        let g = Grid2d::for_set(BuiltIn::FourModes).unwrap();
        let hx = g.cell_size()[0];
        for edge in [-2.0, 0.0, 2.0] {
            let k = (edge - g.lo()[0]) / hx;
            assert!((k - k.round()).abs() < 1e-9, "{edge}");
        }
        assert!(Grid2d::for_set(BuiltIn::Gmm16).is_none());
        for b in [BuiltIn::TwoModes, BuiltIn::EightGaussians, BuiltIn::Rings] {
            assert!(Grid2d::for_set(b).is_some());
        }
    }
}

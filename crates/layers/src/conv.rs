//! The 2-D convolution layer (valid, stride 1) as im2col + one matrix product per block of images.
//!
//! A batch is a matrix with one image per row, laid out channel-major (c, h, w). For a layer with
//! weights W of shape c_out × (c_in·k·k) and bias b, one image x gives
//!
//! ```text
//! cols[(ci·k + ky)·k + kx, oy·ow + ox] = x[ci, oy + ky, ox + kx]      (im2col, oh = h−k+1, ow = w−k+1)
//! Y = W · cols + b 1ᵀ                                                 (c_out × oh·ow)
//! ```
//!
//! (LeCun et al., 1998; the im2col form is Chellapilla, Puri & Simard, 2006). Backward, with
//! G = ∂L/∂Y: ∂L/∂W = Σ_images G · colsᵀ, ∂L/∂b = Σ_images G 1, and ∂L/∂x = col2im(Wᵀ G), where
//! col2im adds every column entry back onto the pixel it was copied from.
//!
//! Images are processed in blocks of [`IMAGE_BLOCK`] (one product each, blocks in parallel); the
//! per-block weight gradients are added in block order, so results do not depend on the number of
//! threads.

use crate::error::Param;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::LayerError;
use crate::real::Real;

/// Images per matrix product (and per parallel task). Fixed so that sums, and therefore
/// results, are the same for any number of threads.
pub const IMAGE_BLOCK: usize = 8;

/// One block's ∂L/∂W, ∂L/∂b and (if asked for) ∂L/∂x.
type BlockGrads<T> = (Array2<T>, Array1<T>, Option<Array2<T>>);

/// Channels, height and width of one image.
pub type Shape3 = [usize; 3];

/// A 2-D convolution c_in × h × w → c_out × (h−k+1) × (w−k+1) with square k × k kernels.
///
/// ```
/// use ndarray::Array2;
/// use rks_layers::Conv2d;
///
/// let conv = Conv2d::<f32>::new([1, 28, 28], 20, 5, 7).unwrap();
/// assert_eq!(conv.output_shape(), [20, 24, 24]);
/// assert_eq!(conv.n_weights(), 20 * 25);
/// let y = conv.forward(Array2::<f32>::zeros((2, 784)).view()).unwrap();
/// assert_eq!(y.dim(), (2, 20 * 24 * 24));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Conv2d<T: Real> {
    input: Shape3,
    kernel: usize,
    weights: Array2<T>,
    bias: Array1<T>,
}

/// Gradients of a loss with respect to the weights and bias of a [`Conv2d`], summed over images.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvGrads<T> {
    /// ∂L/∂W (c_out × c_in·k·k).
    pub weights: Array2<T>,
    /// ∂L/∂b (c_out).
    pub bias: Array1<T>,
}

impl<T: Real> Conv2d<T> {
    /// A layer with weights drawn uniformly from ±√(3/fan_in), fan_in = c_in·k·k (Caffe's
    /// "xavier" filler, which LeNet uses), by a ChaCha8 generator seeded with `seed`; bias 0.
    /// The draws are made in f64 and rounded, so an f32 and an f64 layer of the same seed hold
    /// the same values up to rounding.
    pub fn new(
        input: Shape3,
        out_channels: usize,
        kernel: usize,
        seed: u64,
    ) -> Result<Self, LayerError> {
        check_shape(input, out_channels, kernel)?;
        let fan_in = input[0] * kernel * kernel;
        let a = (3.0 / fan_in as f64).sqrt();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weights =
            Array2::from_shape_simple_fn((out_channels, fan_in), || T::of(rng.random_range(-a..a)));
        Ok(Self {
            input,
            kernel,
            weights,
            bias: Array1::zeros(out_channels),
        })
    }

    /// A layer with the given weights (c_out × c_in·k·k) and bias (c_out).
    pub fn from_weights(
        input: Shape3,
        kernel: usize,
        weights: Array2<T>,
        bias: Array1<T>,
    ) -> Result<Self, LayerError> {
        check_shape(input, weights.nrows(), kernel)?;
        if weights.ncols() != input[0] * kernel * kernel || bias.len() != weights.nrows() {
            return Err(LayerError::InvalidParameter {
                name: Param::Weights,
                reason: format!(
                    "weights are {}×{} and bias has {} entries; expected c_out×{} and c_out",
                    weights.nrows(),
                    weights.ncols(),
                    bias.len(),
                    input[0] * kernel * kernel
                ),
            });
        }
        if weights.iter().chain(bias.iter()).any(|v| !v.is_finite()) {
            return Err(LayerError::InvalidParameter {
                name: Param::Weights,
                reason: "hold a non-finite value".into(),
            });
        }
        Ok(Self {
            input,
            kernel,
            weights: weights.as_standard_layout().into_owned(),
            bias,
        })
    }

    /// The input shape (c_in, h, w).
    pub fn input_shape(&self) -> Shape3 {
        self.input
    }
    /// The output shape (c_out, h−k+1, w−k+1).
    pub fn output_shape(&self) -> Shape3 {
        let [_, h, w] = self.input;
        [
            self.weights.nrows(),
            h + 1 - self.kernel,
            w + 1 - self.kernel,
        ]
    }
    /// Values per input image.
    pub fn input_dim(&self) -> usize {
        self.input.iter().product()
    }
    /// Values per output image.
    pub fn output_dim(&self) -> usize {
        self.output_shape().iter().product()
    }
    /// The kernel size k.
    pub fn kernel(&self) -> usize {
        self.kernel
    }
    /// The weights (c_out × c_in·k·k).
    pub fn weights(&self) -> &Array2<T> {
        &self.weights
    }
    /// The bias (c_out).
    pub fn bias(&self) -> &Array1<T> {
        &self.bias
    }
    /// Weights without the biases: c_out·c_in·k·k (how Yang et al. count parameters).
    pub fn n_weights(&self) -> usize {
        self.weights.len()
    }
    /// Weights and biases.
    pub fn n_parameters(&self) -> usize {
        self.weights.len() + self.bias.len()
    }

    /// Forward pass: images × (c_in·h·w) → images × (c_out·oh·ow).
    pub fn forward(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, LayerError> {
        self.check_input(x)?;
        let (k_dim, c_out, p) = (self.weights.ncols(), self.weights.nrows(), self.positions());
        let mut y = Array2::zeros((x.nrows(), self.output_dim()));
        y.axis_chunks_iter_mut(Axis(0), IMAGE_BLOCK)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), IMAGE_BLOCK))
            .for_each(|(mut yb, xb)| {
                let cols = self.im2col(xb);
                debug_assert_eq!(cols.nrows(), k_dim);
                // One product per image, straight into its output row seen as c_out × p (each
                // entry's sum over k is the same as in one product for the block).
                for (b, row) in yb.axis_iter_mut(Axis(0)).enumerate() {
                    let mut out = row
                        .into_shape_with_order((c_out, p))
                        .expect("a contiguous row of c_out·p entries");
                    let cols_b = cols.slice_axis(Axis(1), (b * p..(b + 1) * p).into());
                    general_mat_mul(T::one(), &self.weights, &cols_b, T::zero(), &mut out);
                    for (mut dst, &bias) in out.rows_mut().into_iter().zip(&self.bias) {
                        dst.map_inplace(|d| *d += bias);
                    }
                }
            });
        Ok(y)
    }

    /// Backward pass for the input `x` of the forward pass and ∂L/∂y: the gradients of W and b
    /// (summed over images) and, if `input_grad`, ∂L/∂x.
    pub fn backward(
        &self,
        x: ArrayView2<'_, T>,
        grad_out: ArrayView2<'_, T>,
        input_grad: bool,
    ) -> Result<(ConvGrads<T>, Option<Array2<T>>), LayerError> {
        self.check_input(x)?;
        crate::check::check_shape("grad_out", grad_out, x.nrows(), self.output_dim())?;
        let (c_out, p) = (self.weights.nrows(), self.positions());
        let n_blocks = x.nrows().div_ceil(IMAGE_BLOCK);
        let partial: Vec<BlockGrads<T>> = (0..n_blocks)
            .into_par_iter()
            .map(|i| {
                let rows = i * IMAGE_BLOCK..((i + 1) * IMAGE_BLOCK).min(x.nrows());
                let n = rows.len();
                let xb = x.slice_axis(Axis(0), rows.clone().into());
                let cols = self.im2col(xb);
                // G for the block: c_out × (images·positions), image-major along the columns.
                let gy = grad_out.slice_axis(Axis(0), rows.into());
                let owned = (!gy.is_standard_layout()).then(|| gy.to_owned());
                let gy = owned.as_ref().map_or(gy, |o| o.view());
                let gy = gy.as_slice().expect("standard layout");
                let mut g = Vec::with_capacity(c_out * n * p);
                for o in 0..c_out {
                    for image in gy.chunks_exact(c_out * p) {
                        g.extend_from_slice(&image[o * p..][..p]);
                    }
                }
                let g = Array2::from_shape_vec((c_out, n * p), g).expect("sized to the shape");
                let mut gw = Array2::zeros(self.weights.raw_dim());
                general_mat_mul(T::one(), &g, &cols.t(), T::zero(), &mut gw);
                let gb = g.sum_axis(Axis(1));
                let gxb = input_grad.then(|| {
                    let mut gcols = Array2::zeros(cols.raw_dim());
                    general_mat_mul(T::one(), &self.weights.t(), &g, T::zero(), &mut gcols);
                    self.col2im(gcols.view(), n)
                });
                (gw, gb, gxb)
            })
            .collect();
        let mut gx = input_grad.then(|| Array2::zeros(x.raw_dim()));
        if let Some(gx) = gx.as_mut() {
            for (mut dst, (_, _, src)) in
                gx.axis_chunks_iter_mut(Axis(0), IMAGE_BLOCK).zip(&partial)
            {
                if let Some(src) = src {
                    dst.assign(src);
                }
            }
        }
        // Block partial sums added in block order: the same sums for any thread count.
        let mut gw = Array2::zeros(self.weights.raw_dim());
        let mut gb = Array1::zeros(self.bias.len());
        for (w, b, _) in &partial {
            gw += w;
            gb += b;
        }
        Ok((
            ConvGrads {
                weights: gw,
                bias: gb,
            },
            gx,
        ))
    }

    /// Calls `f(parameter, weight_decay_applies)` on W (decayed) and b (not decayed).
    pub(crate) fn visit_params(&mut self, f: &mut dyn FnMut(&mut [T], bool)) {
        if let Some(w) = self.weights.as_slice_mut() {
            f(w, true);
        }
        if let Some(b) = self.bias.as_slice_mut() {
            f(b, false);
        }
    }

    /// True if the shapes agree, the arrays are in standard layout and every value is finite
    /// (for loaded networks).
    pub(crate) fn is_consistent(&self) -> bool {
        check_shape(self.input, self.weights.nrows(), self.kernel).is_ok()
            && self.weights.ncols() == self.input[0] * self.kernel * self.kernel
            && self.weights.is_standard_layout()
            && self.bias.len() == self.weights.nrows()
            && self
                .weights
                .iter()
                .chain(self.bias.iter())
                .all(|v| v.is_finite())
    }

    /// Output positions per channel, oh·ow.
    fn positions(&self) -> usize {
        let [_, oh, ow] = self.output_shape();
        oh * ow
    }

    fn check_input(&self, x: ArrayView2<'_, T>) -> Result<(), LayerError> {
        if x.ncols() != self.input_dim() {
            return Err(LayerError::WrongInputDim {
                expected: self.input_dim(),
                found: x.ncols(),
            });
        }
        Ok(())
    }

    /// The im2col matrix of a block of images: (c_in·k·k) × (images·oh·ow).
    fn im2col(&self, xb: ArrayView2<'_, T>) -> Array2<T> {
        let [c, h, w] = self.input;
        let k = self.kernel;
        let [_, oh, ow] = self.output_shape();
        let p = oh * ow;
        // Row by row with `extend`: every entry is written once, nothing is zeroed first.
        let owned;
        let images = match xb.to_slice() {
            Some(images) => images,
            None => {
                owned = xb.iter().copied().collect::<Vec<T>>();
                &owned
            }
        };
        let d = c * h * w;
        let mut cols = Vec::with_capacity(c * k * k * xb.nrows() * p);
        for r in 0..c * k * k {
            let (ci, ky, kx) = (r / (k * k), (r / k) % k, r % k);
            for img in images.chunks_exact(d) {
                for oy in 0..oh {
                    let at = ci * h * w + (oy + ky) * w + kx;
                    cols.extend_from_slice(&img[at..at + ow]);
                }
            }
        }
        Array2::from_shape_vec((c * k * k, xb.nrows() * p), cols).expect("sized to the shape")
    }

    /// Adds every entry of a column matrix back onto the pixel im2col copied it from, for a
    /// block of `n` images.
    fn col2im(&self, gcols: ArrayView2<'_, T>, n: usize) -> Array2<T> {
        let mut gxb = Array2::zeros((n, self.input_dim()));
        let [_, h, w] = self.input;
        let k = self.kernel;
        let [_, oh, ow] = self.output_shape();
        let p = oh * ow;
        let mut owned = Vec::new();
        for (b, mut img) in gxb.rows_mut().into_iter().enumerate() {
            let img = img
                .as_slice_mut()
                .expect("rows of a new array are contiguous");
            for (r, src) in gcols.rows().into_iter().enumerate() {
                let (ci, ky, kx) = (r / (k * k), (r / k) % k, r % k);
                let src = &contiguous(src, &mut owned)[b * p..][..p];
                for (oy, src) in src.chunks_exact(ow).enumerate() {
                    let at = ci * h * w + (oy + ky) * w + kx;
                    for (d, &s) in img[at..at + ow].iter_mut().zip(src) {
                        *d += s;
                    }
                }
            }
        }
        gxb
    }
}

/// The row as a slice: borrowed when contiguous, else copied into `buffer`.
fn contiguous<'a, 'r: 'a, T: Copy>(row: ArrayView1<'r, T>, buffer: &'a mut Vec<T>) -> &'a [T] {
    match row.to_slice() {
        Some(slice) => slice,
        None => {
            buffer.clear();
            buffer.extend(row.iter().copied());
            buffer
        }
    }
}

fn check_shape(input: Shape3, out_channels: usize, kernel: usize) -> Result<(), LayerError> {
    let bad = |name, reason: String| Err(LayerError::InvalidParameter { name, reason });
    if input.contains(&0) {
        return bad(Param::InputShape, format!("{input:?} has a zero dimension"));
    }
    if out_channels == 0 {
        return bad(Param::OutChannels, "must be at least 1".into());
    }
    if kernel == 0 || kernel > input[1] || kernel > input[2] {
        return bad(
            Param::Kernel,
            format!("{kernel} must lie in 1..={}", input[1].min(input[2])),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_grad_close, column_major, on_threads, random_matrix};

    /// Moves a parameter or an input by ±ε.
    type Perturb<'a> = dyn Fn(&mut Conv2d<f64>, &mut Array2<f64>, f64) + 'a;

    /// The definition, one output at a time.
    fn reference(l: &Conv2d<f64>, x: &Array2<f64>) -> Array2<f64> {
        let [c, h, w] = l.input;
        let k = l.kernel;
        let [co, oh, ow] = l.output_shape();
        Array2::from_shape_fn((x.nrows(), co * oh * ow), |(n, j)| {
            let (o, oy, ox) = (j / (oh * ow), (j / ow) % oh, j % ow);
            let mut s = l.bias[o];
            for ci in 0..c {
                for ky in 0..k {
                    for kx in 0..k {
                        s += l.weights[[o, (ci * k + ky) * k + kx]]
                            * x[[n, ci * h * w + (oy + ky) * w + ox + kx]];
                    }
                }
            }
            s
        })
    }

    fn layer() -> Conv2d<f64> {
        let mut l = Conv2d::<f64>::new([2, 6, 5], 3, 3, 1).unwrap();
        l.bias = random_matrix(1, 3, 2).row(0).to_owned();
        l
    }

    #[test]
    fn forward_matches_the_definition() {
        let l = layer();
        let x = random_matrix(11, 60, 3);
        let err = (&l.forward(x.view()).unwrap() - &reference(&l, &x))
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-12, "{err}");
    }

    #[test]
    fn gradients_match_central_differences() {
        let l = layer();
        let x = random_matrix(10, 60, 4);
        let w = random_matrix(10, l.output_dim(), 5);
        let loss = |l: &Conv2d<f64>, x: &Array2<f64>| {
            (&l.forward(x.view()).unwrap().mapv(f64::sin) * &w).sum()
        };
        let gy = &l.forward(x.view()).unwrap().mapv(f64::cos) * &w;
        let (g, gx) = l.backward(x.view(), gy.view(), true).unwrap();
        let eps = 1e-6;
        let fd = |f: &Perturb<'_>| {
            let (mut lp, mut xp, mut lm, mut xm) = (l.clone(), x.clone(), l.clone(), x.clone());
            f(&mut lp, &mut xp, eps);
            f(&mut lm, &mut xm, -eps);
            (loss(&lp, &xp) - loss(&lm, &xm)) / (2.0 * eps)
        };
        let fd_w: Vec<f64> = (0..l.weights.len())
            .map(|i| fd(&|l, _, e| l.weights.as_slice_mut().unwrap()[i] += e))
            .collect();
        assert_grad_close("W", g.weights.as_slice().unwrap(), &fd_w);
        let fd_b: Vec<f64> = (0..3).map(|i| fd(&|l, _, e| l.bias[i] += e)).collect();
        assert_grad_close("b", g.bias.as_slice().unwrap(), &fd_b);
        let fd_x: Vec<f64> = (0..x.len())
            .map(|i| fd(&|_, x, e| x.as_slice_mut().unwrap()[i] += e))
            .collect();
        assert_grad_close("x", gx.unwrap().as_slice().unwrap(), &fd_x);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let l64 = Conv2d::<f64>::new([1, 28, 28], 20, 5, 9).unwrap();
        let l32 = Conv2d::<f32>::new([1, 28, 28], 20, 5, 9).unwrap();
        assert_eq!(l32.weights, l64.weights.mapv(|v| v as f32));
        let x = random_matrix(3, 784, 10);
        let y64 = l64.forward(x.view()).unwrap();
        let y32 = l32.forward(x.mapv(|v| v as f32).view()).unwrap();
        let err = (&y32.mapv(f64::from) - &y64)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-5, "{err}");
    }

    #[test]
    fn any_memory_layout_gives_the_same_results() {
        let l = layer();
        let x = random_matrix(11, 60, 3);
        let gy = random_matrix(11, l.output_dim(), 4);
        let (xf, gyf) = (column_major(&x), column_major(&gy));
        assert!(xf.row(0).as_slice().is_none());
        assert_eq!(l.forward(x.view()).unwrap(), l.forward(xf.view()).unwrap());
        assert_eq!(
            l.backward(x.view(), gy.view(), true).unwrap(),
            l.backward(xf.view(), gyf.view(), true).unwrap()
        );
    }

    #[test]
    fn same_result_for_any_number_of_threads() {
        let l = Conv2d::<f32>::new([20, 12, 12], 50, 5, 11).unwrap();
        let x = random_matrix(37, l.input_dim(), 12).mapv(|v| v as f32);
        let gy = random_matrix(37, l.output_dim(), 13).mapv(|v| v as f32);
        let run = |threads| {
            on_threads(threads, || {
                let y = l.forward(x.view()).unwrap();
                (y, l.backward(x.view(), gy.view(), true).unwrap())
            })
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn bad_shapes_are_typed_errors() {
        assert!(Conv2d::<f32>::new([1, 4, 4], 2, 5, 0).is_err());
        assert!(Conv2d::<f32>::new([0, 4, 4], 2, 3, 0).is_err());
        assert!(Conv2d::<f32>::new([1, 4, 4], 0, 3, 0).is_err());
        let l = Conv2d::<f32>::new([1, 4, 4], 2, 3, 0).unwrap();
        assert!(matches!(
            l.forward(Array2::zeros((1, 15)).view()),
            Err(LayerError::WrongInputDim {
                expected: 16,
                found: 15
            })
        ));
        let x = Array2::zeros((2, 16));
        assert!(
            l.backward(x.view(), Array2::zeros((2, 7)).view(), true)
                .is_err()
        );
    }
}

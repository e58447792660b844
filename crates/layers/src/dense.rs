//! The dense (fully connected) layer y = x Wᵀ + b: the reference the Fastfood layer replaces, and
//! the softmax output layer of the network.

use crate::error::Param;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::LayerError;
use crate::check::{check_finite, check_input_dim, check_shape};
use crate::real::Real;

/// Rows (or output units) per parallel task in the matrix products. Fixed, so partitions and
/// therefore results do not depend on the number of threads.
const GEMM_BLOCK: usize = 64;

/// How the weights of a [`Dense`] layer are drawn; biases start at zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DenseInit {
    /// U(−a, a) with a = √(6/fan_in) (He et al., ICCV 2015): keeps the variance through ReLU.
    He,
    /// U(−a, a) with a = √(6/(fan_in + fan_out)) (Glorot & Bengio, AISTATS 2010): for the
    /// softmax output layer.
    Glorot,
}

/// A fully connected layer R^d → R^n: y = x Wᵀ + b, W of shape n × d, computed in `T` (f64 by
/// default, the [`Network`](crate::Network)'s precision; f32 in a [`ConvNet`](crate::ConvNet)'s
/// head).
///
/// ```
/// use ndarray::array;
/// use rks_layers::{Dense, DenseInit};
///
/// let layer = Dense::<f64>::new(2, 3, DenseInit::He, 7).unwrap();
/// let y = layer.forward(array![[1.0, -1.0]].view()).unwrap();
/// assert_eq!(y.dim(), (1, 3));
/// assert_eq!(layer.n_parameters(), 2 * 3 + 3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Dense<T: Real = f64> {
    weights: Array2<T>,
    bias: Array1<T>,
}

/// What [`Dense::forward_train`] keeps for the backward pass: the input rows.
#[derive(Debug, Clone)]
pub struct DenseCache<T = f64> {
    x: Array2<T>,
}

/// Gradients of a loss with respect to W and b, summed over the rows of the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseGrads<T = f64> {
    /// ∂L/∂W (n × d).
    pub weights: Array2<T>,
    /// ∂L/∂b (n).
    pub bias: Array1<T>,
}

impl<T: Real> Dense<T> {
    /// A layer d → n with weights drawn from `init` by a ChaCha8 generator seeded with `seed`.
    /// The draws are made in f64 and rounded to `T`, so an f32 and an f64 layer of the same seed
    /// hold the same values up to rounding.
    pub fn new(
        input_dim: usize,
        output_dim: usize,
        init: DenseInit,
        seed: u64,
    ) -> Result<Self, LayerError> {
        if input_dim == 0 || output_dim == 0 {
            return Err(LayerError::InvalidParameter {
                name: if input_dim == 0 {
                    Param::InputDim
                } else {
                    Param::OutputDim
                },
                reason: "must be at least 1".into(),
            });
        }
        // The weights, their gradient and up to two optimiser moments.
        let bytes =
            4 * std::mem::size_of::<T>() as u128 * (input_dim as u128 + 1) * output_dim as u128;
        if !rks::alloc::can_allocate(bytes) {
            return Err(LayerError::TooLarge {
                what: "a dense layer's weights, gradients and optimiser state",
                parameter: Param::OutputDim,
                bytes,
            });
        }
        let a = match init {
            DenseInit::He => (6.0 / input_dim as f64).sqrt(),
            DenseInit::Glorot => (6.0 / (input_dim + output_dim) as f64).sqrt(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weights = Array2::from_shape_simple_fn((output_dim, input_dim), || {
            T::of(rng.random_range(-a..a))
        });
        Ok(Self {
            weights,
            bias: Array1::zeros(output_dim),
        })
    }

    /// A layer with the given weights (n × d) and bias (n).
    pub fn from_weights(weights: Array2<T>, bias: Array1<T>) -> Result<Self, LayerError> {
        if weights.is_empty() || bias.len() != weights.nrows() {
            return Err(LayerError::InvalidParameter {
                name: Param::Bias,
                reason: format!(
                    "weights are {}×{}, bias has {} entries (need n ≥ 1, d ≥ 1, n bias entries)",
                    weights.nrows(),
                    weights.ncols(),
                    bias.len()
                ),
            });
        }
        if weights.iter().chain(bias.iter()).any(|v| !v.is_finite()) {
            return Err(LayerError::InvalidParameter {
                name: Param::Weights,
                reason: "hold a non-finite value".into(),
            });
        }
        Ok(Self { weights, bias })
    }

    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        self.weights.ncols()
    }
    /// Output dimension n.
    pub fn output_dim(&self) -> usize {
        self.weights.nrows()
    }
    /// The weights W (n × d).
    pub fn weights(&self) -> &Array2<T> {
        &self.weights
    }
    /// The bias b (n).
    pub fn bias(&self) -> &Array1<T> {
        &self.bias
    }
    /// n·d + n.
    pub fn n_parameters(&self) -> usize {
        self.weights.len() + self.bias.len()
    }

    /// Forward pass: rows × d → rows × n, in parallel over fixed blocks of rows.
    pub fn forward(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, LayerError> {
        check_input_dim(x, self.input_dim())?;
        check_finite(x)?;
        // Rows in standard layout (copied only if they are not), so the products, and so the
        // bits of the result, do not depend on the caller's memory layout.
        let x = x.as_standard_layout();
        let mut y = Array2::zeros((x.nrows(), self.output_dim()));
        y.axis_chunks_iter_mut(Axis(0), GEMM_BLOCK)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), GEMM_BLOCK))
            .for_each(|(mut yb, xb)| {
                yb.assign(&self.bias);
                general_mat_mul(T::one(), &xb, &self.weights.t(), T::one(), &mut yb);
            });
        Ok(y)
    }

    /// Forward pass that also returns what [`Dense::backward`] needs.
    pub fn forward_train(
        &self,
        x: ArrayView2<'_, T>,
    ) -> Result<(Array2<T>, DenseCache<T>), LayerError> {
        let y = self.forward(x)?;
        let x = x.as_standard_layout().into_owned();
        Ok((y, DenseCache { x }))
    }

    /// Backward pass: given ∂L/∂y (rows × n), returns ∂L/∂W, ∂L/∂b (summed over rows) and, if
    /// `input_grad`, ∂L/∂x = (∂L/∂y) W.
    pub fn backward(
        &self,
        cache: &DenseCache<T>,
        grad_out: ArrayView2<'_, T>,
        input_grad: bool,
    ) -> Result<(DenseGrads<T>, Option<Array2<T>>), LayerError> {
        let x = &cache.x;
        check_shape("grad_out", grad_out, x.nrows(), self.output_dim())?;
        let grad_out = grad_out.as_standard_layout();
        // ∂L/∂W = gᵀ x, split over blocks of output units (rows of W): each block is one
        // independent product, so the split does not change any sum.
        let mut gw = Array2::zeros(self.weights.raw_dim());
        gw.axis_chunks_iter_mut(Axis(0), GEMM_BLOCK)
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut gwb)| {
                let lo = i * GEMM_BLOCK;
                let gb = grad_out.slice_axis(Axis(1), (lo..lo + gwb.nrows()).into());
                general_mat_mul(T::one(), &gb.t(), x, T::zero(), &mut gwb);
            });
        let gb = grad_out.sum_axis(Axis(0));
        let gx = input_grad.then(|| {
            let mut gx = Array2::zeros(x.raw_dim());
            gx.axis_chunks_iter_mut(Axis(0), GEMM_BLOCK)
                .into_par_iter()
                .zip(grad_out.axis_chunks_iter(Axis(0), GEMM_BLOCK))
                .for_each(|(mut gxb, gyb)| {
                    general_mat_mul(T::one(), &gyb, &self.weights, T::zero(), &mut gxb);
                });
            gx
        });
        Ok((
            DenseGrads {
                weights: gw,
                bias: gb,
            },
            gx,
        ))
    }

    /// Calls `f(parameter, weight_decay_applies)` on W (decayed) and b (not decayed), in the
    /// order of the fields of [`DenseGrads`].
    pub(crate) fn visit_params(&mut self, f: &mut dyn FnMut(&mut [T], bool)) {
        // Both arrays are created in standard layout by this crate (and checked on load).
        if let Some(w) = self.weights.as_slice_mut() {
            f(w, true);
        }
        if let Some(b) = self.bias.as_slice_mut() {
            f(b, false);
        }
    }

    /// The same layer in the precision `U`, every value rounded to nearest (exact when widening).
    pub(crate) fn convert<U: Real>(&self) -> Dense<U> {
        Dense {
            weights: self.weights.mapv(|v| U::of(v.f64())),
            bias: self.bias.mapv(|v| U::of(v.f64())),
        }
    }

    /// True if every parameter is finite (used when checking a loaded network).
    pub(crate) fn is_finite(&self) -> bool {
        self.weights
            .iter()
            .chain(self.bias.iter())
            .all(|v| v.is_finite())
    }

    /// True if W and b are in standard layout with matching shapes (for loaded networks).
    pub(crate) fn is_consistent(&self) -> bool {
        !self.weights.is_empty()
            && self.weights.is_standard_layout()
            && self.bias.len() == self.weights.nrows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_grad_close, column_major, on_threads, random_matrix};

    fn loss(l: &Dense, x: &Array2<f64>, w: &Array2<f64>) -> f64 {
        (&l.forward(x.view()).unwrap().mapv(f64::sin) * w).sum()
    }

    #[test]
    fn gradients_match_central_differences() {
        let l = Dense::from_weights(
            random_matrix(7, 5, 1),
            random_matrix(1, 7, 2).row(0).to_owned(),
        )
        .unwrap();
        let x = random_matrix(4, 5, 3);
        let w = random_matrix(4, 7, 4);
        let (y, cache) = l.forward_train(x.view()).unwrap();
        let gy = &y.mapv(f64::cos) * &w;
        let (grads, dx) = l.backward(&cache, gy.view(), true).unwrap();
        let eps = 1e-6;
        let fd = |perturb: &dyn Fn(&mut Dense, &mut Array2<f64>, f64)| {
            let (mut lp, mut xp, mut lm, mut xm) = (l.clone(), x.clone(), l.clone(), x.clone());
            perturb(&mut lp, &mut xp, eps);
            perturb(&mut lm, &mut xm, -eps);
            (loss(&lp, &xp, &w) - loss(&lm, &xm, &w)) / (2.0 * eps)
        };
        let fd_w: Vec<f64> = (0..l.weights.len())
            .map(|i| fd(&|l, _, e| l.weights.as_slice_mut().unwrap()[i] += e))
            .collect();
        assert_grad_close("W", grads.weights.as_slice().unwrap(), &fd_w);
        let fd_b: Vec<f64> = (0..l.bias.len())
            .map(|i| fd(&|l, _, e| l.bias[i] += e))
            .collect();
        assert_grad_close("b", grads.bias.as_slice().unwrap(), &fd_b);
        let fd_x: Vec<f64> = (0..x.len())
            .map(|i| fd(&|_, x, e| x.as_slice_mut().unwrap()[i] += e))
            .collect();
        assert_grad_close("x", dx.unwrap().as_slice().unwrap(), &fd_x);
    }

    fn same_result_for_any_number_of_threads_in<T: Real>() {
        let l = Dense::<T>::new(33, 150, DenseInit::He, 5).unwrap();
        let x = random_matrix(130, 33, 6).mapv(T::of);
        let gy = random_matrix(130, 150, 7).mapv(T::of);
        let run = |threads| {
            on_threads(threads, || {
                let (y, cache) = l.forward_train(x.view()).unwrap();
                (y, l.backward(&cache, gy.view(), true).unwrap())
            })
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn same_result_for_any_number_of_threads() {
        same_result_for_any_number_of_threads_in::<f32>();
        same_result_for_any_number_of_threads_in::<f64>();
    }

    #[test]
    fn any_memory_layout_gives_the_same_results() {
        let l = Dense::<f32>::new(9, 70, DenseInit::He, 3).unwrap();
        let x = random_matrix(67, 9, 4).mapv(|v| v as f32);
        let gy = random_matrix(67, 70, 5).mapv(|v| v as f32);
        let (xf, gyf) = (column_major(&x), column_major(&gy));
        assert!(xf.row(0).as_slice().is_none());
        let (y, cache) = l.forward_train(x.view()).unwrap();
        let (yf, cache_f) = l.forward_train(xf.view()).unwrap();
        assert_eq!(y, yf);
        assert_eq!(
            l.backward(&cache, gy.view(), true).unwrap(),
            l.backward(&cache_f, gyf.view(), true).unwrap()
        );
    }

    #[test]
    fn f32_agrees_with_f64() {
        let l64 = Dense::<f64>::new(40, 30, DenseInit::He, 8).unwrap();
        let l32 = Dense::<f32>::new(40, 30, DenseInit::He, 8).unwrap();
        assert_eq!(l32.weights, l64.weights.mapv(|v| v as f32));
        let x = random_matrix(20, 40, 9);
        let gy = random_matrix(20, 30, 10);
        let (y64, c64) = l64.forward_train(x.view()).unwrap();
        let (y32, c32) = l32.forward_train(x.mapv(|v| v as f32).view()).unwrap();
        let (g64, dx64) = l64.backward(&c64, gy.view(), true).unwrap();
        let (g32, dx32) = l32
            .backward(&c32, gy.mapv(|v| v as f32).view(), true)
            .unwrap();
        let close = |a: &[f32], b: &[f64]| {
            let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let err = a
                .iter()
                .zip(b)
                .fold(0.0f64, |m, (a, b)| m.max((f64::from(*a) - b).abs()));
            assert!(err <= 1e-5 * scale, "{err} vs scale {scale}");
        };
        close(y32.as_slice().unwrap(), y64.as_slice().unwrap());
        close(
            g32.weights.as_slice().unwrap(),
            g64.weights.as_slice().unwrap(),
        );
        close(g32.bias.as_slice().unwrap(), g64.bias.as_slice().unwrap());
        close(
            dx32.unwrap().as_slice().unwrap(),
            dx64.unwrap().as_slice().unwrap(),
        );
    }

    #[test]
    fn forward_matches_plain_product() {
        let l = Dense::<f64>::new(6, 70, DenseInit::Glorot, 9).unwrap();
        let x = random_matrix(67, 6, 10);
        let want = x.dot(&l.weights.t()) + &l.bias;
        let err = (&l.forward(x.view()).unwrap() - &want)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-12);
        assert!(l.forward(random_matrix(2, 5, 1).view()).is_err());
        assert!(Dense::<f64>::new(0, 3, DenseInit::He, 0).is_err());
        assert!(Dense::<f32>::new(3, 0, DenseInit::He, 0).is_err());
    }
}

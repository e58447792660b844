//! 2 × 2 max pooling with stride 2 (LeNet's subsampling as Caffe's LeNet does it).
//!
//! y[c, i, j] = max over the window x[c, 2i..2i+2, 2j..2j+2]; an odd last row or column is
//! dropped (floor). Backward: ∂L/∂x is ∂L/∂y at the position that held the maximum (the first one
//! in row-major order on ties) and 0 elsewhere, so the forward pass records that position.

use crate::error::Param;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::LayerError;
use crate::check::check_shape;
use crate::conv::Shape3;
use crate::real::Real;

/// 2 × 2 max pooling c × h × w → c × ⌊h/2⌋ × ⌊w/2⌋.
///
/// ```
/// use ndarray::array;
/// use rks_layers::MaxPool2;
///
/// let pool = MaxPool2::new([1, 2, 4]).unwrap();
/// let (y, cache) = pool.forward_train(array![[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, -1.0, 7.0]].view()).unwrap();
/// assert_eq!(y, array![[5.0, 7.0]]);
/// let gx = pool.backward(&cache, array![[10.0, 20.0]].view()).unwrap();
/// assert_eq!(gx, array![[0.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 20.0]]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxPool2 {
    input: Shape3,
}

/// What [`MaxPool2::forward_train`] keeps: the input index of every output's maximum.
#[derive(Debug, Clone)]
pub struct PoolCache {
    argmax: Array2<u32>,
}

impl MaxPool2 {
    /// Pooling for images of shape (c, h, w), h, w ≥ 2.
    pub fn new(input: Shape3) -> Result<Self, LayerError> {
        if input[0] == 0
            || input[1] < 2
            || input[2] < 2
            || input.iter().product::<usize>() > u32::MAX as usize
        {
            return Err(LayerError::InvalidParameter {
                name: Param::InputShape,
                reason: format!("{input:?}: need c ≥ 1, h ≥ 2, w ≥ 2 and fewer than 2³² values"),
            });
        }
        Ok(Self { input })
    }
    /// The input shape.
    pub fn input_shape(&self) -> Shape3 {
        self.input
    }
    /// The output shape (c, ⌊h/2⌋, ⌊w/2⌋).
    pub fn output_shape(&self) -> Shape3 {
        [self.input[0], self.input[1] / 2, self.input[2] / 2]
    }
    /// Values per input image.
    pub fn input_dim(&self) -> usize {
        self.input.iter().product()
    }
    /// Values per output image.
    pub fn output_dim(&self) -> usize {
        self.output_shape().iter().product()
    }

    /// Forward pass for inference.
    pub fn forward<T: Real>(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, LayerError> {
        Ok(self.forward_train(x)?.0)
    }

    /// Forward pass that also records where each maximum came from.
    pub fn forward_train<T: Real>(
        &self,
        x: ArrayView2<'_, T>,
    ) -> Result<(Array2<T>, PoolCache), LayerError> {
        if x.ncols() != self.input_dim() {
            return Err(LayerError::WrongInputDim {
                expected: self.input_dim(),
                found: x.ncols(),
            });
        }
        let [c, h, w] = self.input;
        let [_, oh, ow] = self.output_shape();
        let mut y = Array2::zeros((x.nrows(), self.output_dim()));
        let mut argmax = Array2::zeros((x.nrows(), self.output_dim()));
        y.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(argmax.axis_iter_mut(Axis(0)))
            .zip(x.axis_iter(Axis(0)))
            .for_each(|((mut y, mut arg), x)| {
                let (y, arg) = (
                    y.as_slice_mut()
                        .expect("rows of a new array are contiguous"),
                    arg.as_slice_mut()
                        .expect("rows of a new array are contiguous"),
                );
                let owned;
                let x = match x.to_slice() {
                    Some(x) => x,
                    None => {
                        owned = x.to_vec();
                        &owned
                    }
                };
                for ch in 0..c {
                    for i in 0..oh {
                        for j in 0..ow {
                            let at = ch * h * w + 2 * i * w + 2 * j;
                            let mut best = at;
                            for q in [at + 1, at + w, at + w + 1] {
                                if x[q] > x[best] {
                                    best = q;
                                }
                            }
                            let o = (ch * oh + i) * ow + j;
                            y[o] = x[best];
                            arg[o] = best as u32;
                        }
                    }
                }
            });
        Ok((y, PoolCache { argmax }))
    }

    /// Backward pass: ∂L/∂x from ∂L/∂y.
    pub fn backward<T: Real>(
        &self,
        cache: &PoolCache,
        grad_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>, LayerError> {
        check_shape(
            "grad_out",
            grad_out,
            cache.argmax.nrows(),
            self.output_dim(),
        )?;
        let mut gx = Array2::zeros((grad_out.nrows(), self.input_dim()));
        gx.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(cache.argmax.axis_iter(Axis(0)))
            .zip(grad_out.axis_iter(Axis(0)))
            .for_each(|((mut gx, arg), gy)| {
                let gx = gx
                    .as_slice_mut()
                    .expect("rows of a new array are contiguous");
                // Windows do not overlap: each input receives at most one output's gradient.
                for (&a, &g) in arg.iter().zip(gy.iter()) {
                    gx[a as usize] = g;
                }
            });
        Ok(gx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_grad_close, random_matrix};

    #[test]
    fn gradients_match_central_differences() {
        let pool = MaxPool2::new([2, 5, 4]).unwrap();
        let x = random_matrix(3, 40, 1);
        let w = random_matrix(3, pool.output_dim(), 2);
        let loss = |x: &Array2<f64>| (&pool.forward(x.view()).unwrap() * &w).sum();
        let (_, cache) = pool.forward_train(x.view()).unwrap();
        let gx = pool.backward(&cache, w.view()).unwrap();
        let eps = 1e-6;
        let fd: Vec<f64> = (0..x.len())
            .map(|i| {
                let (mut p, mut m) = (x.clone(), x.clone());
                p.as_slice_mut().unwrap()[i] += eps;
                m.as_slice_mut().unwrap()[i] -= eps;
                (loss(&p) - loss(&m)) / (2.0 * eps)
            })
            .collect();
        assert_grad_close("x", gx.as_slice().unwrap(), &fd);
        // The dropped last row (h = 5) gets no gradient.
        assert!((0..2).all(|c| (16..20).all(|j| gx[[0, c * 20 + j]] == 0.0)));
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert!(MaxPool2::new([1, 1, 4]).is_err());
        let pool = MaxPool2::new([1, 2, 2]).unwrap();
        assert!(pool.forward(Array2::<f32>::zeros((1, 3)).view()).is_err());
        let (_, cache) = pool
            .forward_train(Array2::<f32>::zeros((2, 4)).view())
            .unwrap();
        assert!(
            pool.backward(&cache, Array2::<f32>::zeros((1, 1)).view())
                .is_err()
        );
    }
}

//! Inverted dropout (Srivastava et al., JMLR 2014): during training each value is kept with
//! probability 1 − p and scaled by 1/(1 − p), so inference is the identity.

use crate::error::Param;
use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::LayerError;
use crate::check::check_shape;
use crate::real::Real;

/// Dropout with drop probability p ∈ [0, 1).
///
/// ```
/// use ndarray::Array2;
/// use rks_layers::Dropout;
///
/// let drop = Dropout::new(0.5).unwrap();
/// let (y, mask) = drop.forward_train(Array2::<f32>::ones((4, 100)).view(), 7);
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// assert_eq!(drop.backward(&mask, y.view()).unwrap(), &y * 2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dropout {
    p: f64,
}

/// The mask of one training pass: 0 or 1/(1 − p) per value.
#[derive(Debug, Clone)]
pub struct DropoutMask<T> {
    mask: Array2<T>,
}

impl Dropout {
    /// Dropout with drop probability `p`.
    pub fn new(p: f64) -> Result<Self, LayerError> {
        if !(0.0..1.0).contains(&p) {
            return Err(LayerError::InvalidParameter {
                name: Param::Dropout,
                reason: format!("the drop probability must lie in [0, 1), got {p}"),
            });
        }
        Ok(Self { p })
    }
    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Training pass: the mask is drawn row after row by a ChaCha8 generator seeded with `seed`
    /// (callers pass a different seed per step), so it does not depend on the thread count.
    pub fn forward_train<T: Real>(
        &self,
        x: ArrayView2<'_, T>,
        seed: u64,
    ) -> (Array2<T>, DropoutMask<T>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let keep = T::of(1.0 / (1.0 - self.p));
        let mask = Array2::from_shape_simple_fn(x.raw_dim(), || {
            if rng.random::<f64>() < self.p {
                T::zero()
            } else {
                keep
            }
        });
        (&x * &mask, DropoutMask { mask })
    }

    /// Backward pass: ∂L/∂x = ∂L/∂y ⊙ mask.
    pub fn backward<T: Real>(
        &self,
        mask: &DropoutMask<T>,
        grad_out: ArrayView2<'_, T>,
    ) -> Result<Array2<T>, LayerError> {
        let (r, c) = mask.mask.dim();
        check_shape("grad_out", grad_out, r, c)?;
        Ok(&grad_out * &mask.mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_grad_close, random_matrix};

    #[test]
    fn gradient_matches_central_differences_and_rate_is_p() {
        let drop = Dropout::new(0.3).unwrap();
        let x = random_matrix(5, 8, 1);
        let w = random_matrix(5, 8, 2);
        let loss = |x: &Array2<f64>| (&drop.forward_train(x.view(), 9).0.mapv(f64::sin) * &w).sum();
        let (y, mask) = drop.forward_train(x.view(), 9);
        let gx = drop
            .backward(&mask, (&y.mapv(f64::cos) * &w).view())
            .unwrap();
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
        // 100,000 draws: the dropped fraction is within 5 standard deviations (0.0072) of p.
        let (y, _) = drop.forward_train(Array2::<f32>::ones((100, 1000)).view(), 3);
        let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / 1e5;
        assert!((dropped - 0.3).abs() < 0.0073, "{dropped}");
        assert!(Dropout::new(1.0).is_err() && Dropout::new(-0.1).is_err());
    }
}

//! Helpers shared by the unit tests.

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// A rows × cols matrix of standard normal values from a fixed seed.
pub(crate) fn random_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
}

/// Asserts |analytic − fd| ≤ 1e-6 · max(|analytic|, 10⁻³·‖analytic‖∞) entry by entry: relative
/// accuracy, with a floor so entries that are zero up to rounding are not held to a relative test.
pub(crate) fn assert_grad_close(name: &str, analytic: &[f64], fd: &[f64]) {
    assert_eq!(analytic.len(), fd.len(), "{name}: lengths differ");
    let scale = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{name}: gradient is identically zero");
    for (i, (a, f)) in analytic.iter().zip(fd).enumerate() {
        let tol = 1e-6 * a.abs().max(1e-3 * scale);
        assert!(
            (a - f).abs() <= tol,
            "{name}[{i}]: analytic {a}, finite difference {f}, tolerance {tol}"
        );
    }
}

//! Helpers shared by the unit tests.

use ndarray::{Array2, ShapeBuilder};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::Head;

/// The three heads of a small test convnet: dense, adaptive Fastfood, fixed Fastfood.
pub(crate) const HEADS: [Head; 3] = [
    Head::Dense { width: 6 },
    Head::Fastfood {
        width: 12,
        adaptive: true,
    },
    Head::Fastfood {
        width: 12,
        adaptive: false,
    },
];

/// `f` run on a pool of `threads` threads.
pub(crate) fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// A column-major copy of `a`: every row is strided.
pub(crate) fn column_major<T: Clone + num_traits::Zero>(a: &Array2<T>) -> Array2<T> {
    let mut f = Array2::zeros(a.raw_dim().f());
    f.assign(a);
    f
}

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

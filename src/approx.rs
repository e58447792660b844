//! How well a feature map approximates its kernel: |φ(x)·φ(y) − k(x, y)| over sampled pairs.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use rks::{AnyMap, FeatureMap};
use serde::Serialize;

use crate::error::{CliError, Result};

/// Mean and largest absolute error of φ(x)·φ(y) against k(x, y) over some pairs of rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KernelError {
    /// Mean |φ(x)·φ(y) − k(x, y)|.
    pub mean: f64,
    /// Largest |φ(x)·φ(y) − k(x, y)|.
    pub max: f64,
    /// Number of pairs measured.
    pub pairs: usize,
}

/// `count` pairs (i, j), i ≠ j, of row indices below `n_rows`, drawn with a ChaCha8 generator
/// seeded by `seed`: the same pairs for every map, so errors are compared on equal terms.
pub fn sample_pairs(n_rows: usize, count: usize, seed: u64) -> Result<Vec<(usize, usize)>> {
    if n_rows < 2 {
        return Err(CliError::compute(format!(
            "the kernel error needs at least two rows, the test file has {n_rows}"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok((0..count)
        .map(|_| {
            let two = sample(&mut rng, n_rows, 2);
            (two.index(0), two.index(1))
        })
        .collect())
}

/// The error of `map` on `pairs` of rows of `x` (already scaled as the map expects).
pub fn kernel_error(
    map: &AnyMap,
    x: ArrayView2<'_, f64>,
    pairs: &[(usize, usize)],
) -> Result<KernelError> {
    // Transform only the rows the pairs use: 500 pairs touch at most 1,000 rows.
    let mut rows: Vec<usize> = pairs.iter().flat_map(|&(i, j)| [i, j]).collect();
    rows.sort_unstable();
    rows.dedup();
    let picked = Array2::from_shape_fn((rows.len(), x.ncols()), |(r, c)| x[[rows[r], c]]);
    let phi = map.transform(picked.view()).map_err(CliError::compute)?;
    let position = |i: usize| {
        rows.binary_search(&i)
            .unwrap_or_else(|_| unreachable!("every pair row was picked"))
    };
    let spec = map.spec();
    let (mut sum, mut max) = (0.0, 0.0f64);
    for &(i, j) in pairs {
        let (a, b) = (position(i), position(j));
        let approx = phi.row(a).dot(&phi.row(b));
        let exact = spec
            .kernel()
            .exact(
                &picked.row(a).to_vec(),
                &picked.row(b).to_vec(),
                spec.bandwidth(),
            )
            .map_err(CliError::compute)?;
        let error = (approx - exact).abs();
        sum += error;
        max = max.max(error);
    }
    Ok(KernelError {
        mean: if pairs.is_empty() {
            0.0
        } else {
            sum / pairs.len() as f64
        },
        max,
        pairs: pairs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rks::{Bandwidth, Kernel, MapKind};

    fn rows() -> Array2<f64> {
        Array2::from_shape_fn((40, 6), |(i, j)| {
            (((i * 7 + j * 3) % 11) as f64 - 5.0) / 6.0
        })
    }

    #[test]
    fn pairs_are_distinct_rows_and_reproducible() {
        let pairs = sample_pairs(10, 200, 3).unwrap();
        assert!(pairs.iter().all(|&(i, j)| i != j && i < 10 && j < 10));
        assert_eq!(pairs, sample_pairs(10, 200, 3).unwrap());
        assert_ne!(pairs, sample_pairs(10, 200, 4).unwrap());
        assert!(sample_pairs(1, 5, 0).is_err());
    }

    #[test]
    fn error_shrinks_with_more_frequencies() {
        let x = rows();
        let pairs = sample_pairs(x.nrows(), 300, 0).unwrap();
        let error = |n| {
            let map = AnyMap::build(
                MapKind::Dense,
                6,
                n,
                Bandwidth::Sigma(1.0),
                Kernel::Gaussian,
                1,
            )
            .unwrap();
            kernel_error(&map, x.view(), &pairs).unwrap()
        };
        let (small, large) = (error(16), error(4096));
        assert!(large.mean < small.mean / 4.0, "{small:?} vs {large:?}");
        assert!(large.mean < 0.03 && large.max >= large.mean);
        assert_eq!(large.pairs, 300);
    }

    #[test]
    fn matches_a_direct_computation() {
        let x = rows();
        let pairs = vec![(0, 1), (5, 3), (0, 39)];
        let map = AnyMap::build(
            MapKind::Fastfood,
            6,
            64,
            Bandwidth::Gamma(0.3),
            Kernel::Gaussian,
            2,
        )
        .unwrap();
        let phi = map.transform(x.view()).unwrap();
        let errors: Vec<f64> = pairs
            .iter()
            .map(|&(i, j)| {
                let d2: f64 = x
                    .row(i)
                    .iter()
                    .zip(x.row(j))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
                (phi.row(i).dot(&phi.row(j)) - (-0.3 * d2).exp()).abs()
            })
            .collect();
        let got = kernel_error(&map, x.view(), &pairs).unwrap();
        let mean = errors.iter().sum::<f64>() / 3.0;
        assert!((got.mean - mean).abs() < 1e-12);
        assert!((got.max - errors.iter().cloned().fold(0.0, f64::max)).abs() < 1e-12);
    }
}

//! The median heuristic: a kernel bandwidth from the data when the user gives none.
//!
//! σ = median‖xᵢ − xⱼ‖ / √2 over the pairs of distinct rows of (a seeded sample of) the rows, so
//! that the Gaussian kernel exp(−‖x − y‖²/(2σ²)) equals e⁻¹ at the median distance. This is the usual heuristic of
//! kernel methods (Gretton et al., "A Kernel Two-Sample Test", JMLR 2012, use the median distance
//! itself); the √2 puts the typical pair in the kernel's steep part. On the bundled classification
//! sets, min–max scaled, the bandwidths chosen by cross-validation lie within 0.5–1.4× of it: a
//! good first try, and the centre of a grid for tuning.
//!
//! Pairs of identical rows are left out: their kernel value is 1 whatever σ is, so they say
//! nothing about the scale. Counting them made σ = 0 (an error) on data whose rows take few
//! distinct values, such as three categorical columns where most pairs of rows coincide, and
//! shrank σ on data with many repeated rows.

use crate::error::Param;
use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;

use crate::scaler::check_finite;
use crate::sparse::{self, SparseRows};
use crate::{Element, RksError};

/// Rows used at most: the median of 2,000·1,999/2 ≈ 2 M distances is stable to about 0.1 %.
pub const DEFAULT_SAMPLE_ROWS: usize = 2000;

/// The median-heuristic bandwidth σ of the rows of `x`, from at most `max_rows` rows chosen with
/// a ChaCha8 generator seeded by `seed` (all rows when there are no more than `max_rows`).
///
/// Pairs of identical rows are not counted (see the module docs). Errors when fewer than two rows
/// are given, the input is not finite, or every sampled pair of rows is identical (no scale to
/// learn from).
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]];
/// // Distances 5, 5 and 10: the median is 5, so σ = 5/√2.
/// let sigma = rks::median::median_heuristic_sigma(x.view(), 100, 0).unwrap();
/// assert!((sigma - 5.0 / 2f64.sqrt()).abs() < 1e-12);
/// ```
pub fn median_heuristic_sigma<F: Element>(
    x: ArrayView2<'_, F>,
    max_rows: usize,
    seed: u64,
) -> Result<f64, RksError> {
    check_finite(x)?;
    let n = x.nrows();
    if n < 2 || max_rows < 2 {
        return Err(RksError::InvalidParameter {
            name: Param::Rows,
            reason: format!(
                "the median heuristic needs at least two rows, got {}",
                n.min(max_rows)
            ),
        });
    }
    let rows: Vec<usize> = if n <= max_rows {
        (0..n).collect()
    } else {
        let mut picked = sample(&mut ChaCha8Rng::seed_from_u64(seed), n, max_rows).into_vec();
        picked.sort_unstable();
        picked
    };
    let mut distances = Vec::with_capacity(rows.len() * (rows.len() - 1) / 2);
    let sparse = sparse_rows(x, &rows);
    for (a, &i) in rows.iter().enumerate() {
        for (b, &j) in rows[..a].iter().enumerate() {
            let squared = match &sparse {
                Some(sparse) => squared_distance(sparse, a, b),
                None => x
                    .row(i)
                    .iter()
                    .zip(x.row(j))
                    .map(|(u, v)| (u.to_f64_exact() - v.to_f64_exact()).powi(2))
                    .sum(),
            };
            distances.push(squared);
        }
    }
    distances.retain(|&squared| squared > 0.0);
    if distances.is_empty() {
        return Err(RksError::InvalidParameter {
            name: Param::Sigma,
            reason: format!(
                "every pair of the {} sampled rows is identical, so the data give no scale: give the bandwidth explicitly",
                rows.len()
            ),
        });
    }
    let middle = distances.len() / 2;
    let (_, median_squared, _) = distances.select_nth_unstable_by(middle, f64::total_cmp);
    Ok(median_squared.sqrt() / std::f64::consts::SQRT_2)
}

/// The sampled rows as their non-zero entries when they are sparse: a pair's squared distance
/// then merges the two rows' entries (O(non-zeros) instead of O(d); 1,000 rows × 20,000 columns
/// with 20 non-zeros each: seconds instead of minutes), with the dense sum's bits
/// ([`crate::sparse`]).
fn sparse_rows<F: Element>(x: ArrayView2<'_, F>, rows: &[usize]) -> Option<SparseRows> {
    SparseRows::of(rows.len(), x.ncols(), |a| {
        x.row(rows[a]).into_iter().map(|v| v.to_f64_exact())
    })
}

/// ‖x_a − x_b‖² of rows a and b of the sample.
fn squared_distance(rows: &SparseRows, a: usize, b: usize) -> f64 {
    sparse::differences(rows.row(a), rows.row(b))
        .map(|t| t.powi(2))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn matches_brute_force_median() {
        let x = Array2::from_shape_fn((41, 3), |(i, j)| ((i * 31 + j * 17) % 23) as f64);
        let mut all = Vec::new();
        for i in 0..41 {
            for j in 0..i {
                let d: f64 = (0..3)
                    .map(|k| (x[[i, k]] - x[[j, k]]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                all.push(d);
            }
        }
        // Rows i and i + 23 coincide: those pairs are left out.
        assert!(all.contains(&0.0));
        all.retain(|&d| d > 0.0);
        all.sort_by(f64::total_cmp);
        let expected = all[all.len() / 2] / 2f64.sqrt();
        assert_eq!(median_heuristic_sigma(x.view(), 1000, 0).unwrap(), expected);
    }

    #[test]
    fn sampling_is_deterministic_and_close() {
        let x = Array2::from_shape_fn((500, 4), |(i, j)| {
            (((i * 7919 + j * 104729) % 1000) as f64) / 100.0
        });
        let full = median_heuristic_sigma(x.view(), 500, 0).unwrap();
        let a = median_heuristic_sigma(x.view(), 200, 3).unwrap();
        let b = median_heuristic_sigma(x.view(), 200, 3).unwrap();
        assert_eq!(a, b);
        assert!((a / full - 1.0).abs() < 0.1, "sampled {a} vs full {full}");
    }

    /// Three columns of few values, most pairs of rows identical (as in a table of categorical
    /// columns): counting the identical pairs made the median 0; σ comes from the distinct pairs.
    #[test]
    fn mostly_identical_rows_give_the_distinct_pairs_median() {
        // 80 rows of [0, 0, 0], 12 of [1, 0, 0], 8 of [1, 1, 1]: 3,254 of 4,950 pairs are
        // identical (the median of all pairs is 0); of the 1,696 others, 960 are 1 apart, 96
        // are √2 and 640 are √3.
        let mut rows = vec![[0.0, 0.0, 0.0]; 80];
        rows.extend([[1.0, 0.0, 0.0]; 12]);
        rows.extend([[1.0, 1.0, 1.0]; 8]);
        let x = Array2::from_shape_fn((100, 3), |(i, j)| rows[i][j]);
        let sigma = median_heuristic_sigma(x.view(), 100, 0).unwrap();
        assert_eq!(sigma, 1.0 / 2f64.sqrt());
    }

    /// Mostly zero rows take the merge ([`crate::sparse`]): the same σ as the dense loop.
    #[test]
    fn sparse_rows_give_the_dense_median() {
        let x = Array2::from_shape_fn((80, 60), |(i, j)| {
            let h = ((i * 60 + j) as u64 + 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
            if h.is_multiple_of(32) {
                (h % 1000) as f64 / 9.0 - 50.0
            } else {
                0.0
            }
        });
        let rows: Vec<usize> = (0..80).collect();
        assert!(sparse_rows(x.view(), &rows).is_some());
        let mut all = Vec::new();
        for i in 0..80 {
            for j in 0..i {
                let d: f64 = x
                    .row(i)
                    .iter()
                    .zip(x.row(j))
                    .map(|(u, v)| (u - v).powi(2))
                    .sum();
                all.push(d);
            }
        }
        all.retain(|&d| d > 0.0);
        all.sort_by(f64::total_cmp);
        let expected = all[all.len() / 2].sqrt() / 2f64.sqrt();
        assert_eq!(median_heuristic_sigma(x.view(), 80, 0).unwrap(), expected);
        // Dense rows keep the plain loop.
        assert!(sparse_rows(Array2::<f32>::ones((4, 4)).view(), &[0, 1, 2, 3]).is_none());
    }

    #[test]
    fn degenerate_input_is_an_error() {
        assert!(median_heuristic_sigma(array![[1.0f32, 2.0]].view(), 10, 0).is_err());
        assert!(
            median_heuristic_sigma(array![[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]].view(), 10, 0)
                .is_err()
        );
        assert!(
            median_heuristic_sigma(array![[1.0, f64::INFINITY], [1.0, 2.0]].view(), 10, 0).is_err()
        );
    }
}

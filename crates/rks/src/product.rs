//! Products X·B with a fixed right-hand side B, the same bits on every CPU and for any thread
//! count: the one matrix product a fitted linear model needs (scores = Φ·W + b), without the
//! per-CPU rounding of a BLAS or of `matrixmultiply`.
//!
//! Entry (i, j) of X·B is one chain of fused multiply-adds `acc = fma(x[i, k], b[k, j], acc)` for
//! k = 0, 1, …, d−1 in that order, starting from 0 — the definition the dense map's GEMM computes
//! (its AVX-512, AVX2 + FMA and portable kernels agree to the bit; see the `gemm` module's
//! documentation in the source). Rows never interact, so the blocks of 264 rows that threads take
//! do not change the result either (they are sized by d, about 512 KiB of rows each).
//!
//! ```
//! use ndarray::array;
//! use rks::product::FixedRight;
//!
//! let w = array![[1.0, 0.5], [2.0, -1.0], [0.0, 3.0]];
//! let scores = FixedRight::new(w.view()).multiply(array![[1.0, 1.0, 1.0]].view())?;
//! assert_eq!(scores, array![[3.0, 2.5]]);
//! # Ok::<(), rks::RksError>(())
//! ```

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::error::{Param, RksError};
use crate::gemm::{MC, MR, Packed, gemm_f64};
use crate::simd::Simd;

/// Bytes of packed rows per block of [`FixedRight::multiply`] (about a quarter of an L2 cache).
const PACKED_BYTES: usize = 512 * 1024;

/// Columns of B from which [`FixedRight`] blocks its rows like the dense map's GEMM: one
/// column chunk of the f64 kernel.
const WIDE: usize = 64;

/// B (d × n, f64) packed once in the GEMM's layout, for any number of products X·B.
#[derive(Clone)]
pub struct FixedRight {
    packed: Packed<f64>,
}

impl std::fmt::Debug for FixedRight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedRight")
            .field("rows", &self.packed.depth())
            .field("cols", &self.packed.cols())
            .finish()
    }
}

impl FixedRight {
    /// Packs `b` (its memory, padded to whole 64-byte column panels, is about the size of `b`
    /// with its columns rounded up to a multiple of 8).
    pub fn new(b: ArrayView2<'_, f64>) -> Self {
        Self {
            packed: Packed::from_columns(b.nrows(), b.ncols(), |j, col| {
                col.iter_mut().zip(b.column(j)).for_each(|(c, &v)| *c = v)
            }),
        }
    }

    /// Rows of B (the columns X must have).
    pub fn rows(&self) -> usize {
        self.packed.depth()
    }

    /// Columns of B (of the product).
    pub fn cols(&self) -> usize {
        self.packed.cols()
    }

    /// X·B, a new `x.nrows()` × [`cols`](Self::cols) array.
    ///
    /// # Errors
    /// [`RksError::WrongInputDim`] when X has not [`rows`](Self::rows) columns;
    /// [`RksError::TooLarge`] when the product cannot be allocated.
    pub fn multiply(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, RksError> {
        self.check_input(x)?;
        let mut z = crate::alloc::zeros((x.nrows(), self.cols()), "the product", Param::Output)?;
        self.product(x, z.view_mut());
        Ok(z)
    }

    /// X·B written over `z`.
    ///
    /// # Errors
    /// [`RksError::WrongInputDim`] when X has not [`rows`](Self::rows) columns,
    /// [`RksError::WrongOutputShape`] when `z` is not `x.nrows()` × [`cols`](Self::cols).
    pub fn multiply_into(
        &self,
        x: ArrayView2<'_, f64>,
        z: ArrayViewMut2<'_, f64>,
    ) -> Result<(), RksError> {
        self.check_input(x)?;
        if z.dim() != (x.nrows(), self.cols()) {
            return Err(RksError::WrongOutputShape {
                expected_rows: x.nrows(),
                expected_cols: self.cols(),
                found_rows: z.nrows(),
                found_cols: z.ncols(),
            });
        }
        self.product(x, z);
        Ok(())
    }

    fn check_input(&self, x: ArrayView2<'_, f64>) -> Result<(), RksError> {
        if x.ncols() != self.rows() {
            return Err(RksError::WrongInputDim {
                expected: self.rows(),
                found: x.ncols(),
            });
        }
        Ok(())
    }

    /// Blocks of rows in parallel, each one sequential GEMM. With the few columns of a model's
    /// weights, where each packed value is used once or twice, a block's packed rows (rows · d
    /// values) are kept to about [`PACKED_BYTES`], so that they are read back from L2 cache
    /// rather than memory (measured with `examples/product_cpu.rs`: 20,000 × 4,096 times 4,096 ×
    /// 26 took 0.23 s with blocks of 264 rows, 0.18 s with blocks of 12–48). With
    /// [`WIDE`] columns or more, B is the large operand, read once per block of rows, and the
    /// blocks are the GEMM's own [`MC`] rows (a Gram matrix of 4,000 rows × 4,096 on two
    /// threads: 2.1 s with blocks of 16 rows, 1.6 s with MC; `rks-solvers`'
    /// `examples/cholesky_cpu.rs`).
    /// The rows never interact, so the blocks do not change a bit of the result.
    fn product(&self, x: ArrayView2<'_, f64>, z: ArrayViewMut2<'_, f64>) {
        self.product_with(Simd::detect(), x, z);
    }

    /// [`Self::multiply_into`] with the kernels `simd` allows (the same bits at every level),
    /// for callers that already checked the shapes.
    pub(crate) fn product_with(
        &self,
        simd: Simd,
        x: ArrayView2<'_, f64>,
        z: ArrayViewMut2<'_, f64>,
    ) {
        let rows = if self.cols() >= WIDE {
            MC
        } else {
            (PACKED_BYTES / (size_of::<f64>() * x.ncols().max(1))).clamp(MR, MC) / MR * MR
        };
        crate::features::for_row_blocks(x, z, rows, |xb, zb| gemm_f64(simd, xb, &self.packed, zb));
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    /// The definition, one `mul_add` chain per entry.
    fn reference(x: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((x.nrows(), b.ncols()), |(i, j)| {
            x.row(i)
                .iter()
                .zip(b.column(j))
                .fold(0.0, |acc, (&a, &w)| a.mul_add(w, acc))
        })
    }

    fn random(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
    }

    #[test]
    fn every_entry_is_its_fma_chain_for_narrow_and_wide_right_sides() {
        // One column (a regression or two-class model), 26 (letter's classes), more than one
        // row block, depth past one k block; wide B (the GEMM's row blocks) from 64 columns.
        for (seed, &(m, d, n)) in [
            (1, 1, 1),
            (700, 300, 1),
            (5, 4096, 2),
            (530, 257, 26),
            (600, 300, 64),
            (70, 20, 300),
        ]
        .iter()
        .enumerate()
        {
            let (x, b) = (random(m, d, seed as u64), random(d, n, 10 + seed as u64));
            let product = FixedRight::new(b.view());
            let z = product.multiply(x.view()).unwrap();
            let want = reference(&x, &b);
            assert!(
                z.iter().zip(&want).all(|(g, e)| g.to_bits() == e.to_bits()),
                "{m} × {d} · {d} × {n}"
            );
            for threads in 1..=3 {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut again = Array2::from_elem(z.dim(), f64::NAN);
                pool.install(|| product.multiply_into(x.view(), again.view_mut()))
                    .unwrap();
                assert_eq!(again, z, "{threads} threads");
            }
        }
    }

    #[test]
    fn shapes_that_do_not_fit_are_errors() {
        let product = FixedRight::new(array![[1.0], [2.0]].view());
        assert!(matches!(
            product.multiply(array![[1.0, 2.0, 3.0]].view()),
            Err(RksError::WrongInputDim {
                expected: 2,
                found: 3
            })
        ));
        let mut z = Array2::zeros((2, 1));
        assert!(matches!(
            product.multiply_into(array![[1.0, 2.0]].view(), z.view_mut()),
            Err(RksError::WrongOutputShape { .. })
        ));
        let empty = product.multiply(Array2::zeros((0, 2)).view()).unwrap();
        assert_eq!(empty.dim(), (0, 1));
    }
}

//! The dense linear algebra whose results reach a model, **the same bits on every CPU and for
//! any thread count**: the Cholesky factorisation A = LLᵀ with its solves and inverse, the Gram
//! matrix XXᵀ of rows, and the products Xᵀ·A and A·B.
//!
//! Why our own: every ridge model's weights come out of one of these solves, (C + λI)⁻¹B or
//! Φcᵀ(K + λI)⁻¹Yc, as do the column weights of the relevance step; a LAPACK-style factorisation
//! or a BLAS product (faer's) picks its blocking and its SIMD kernels by CPU, so the same seed
//! gave models that differed in their last bits between x86-64 and aarch64. Here every
//! operation has a fixed order:
//!
//! - **Products** go through [`rks::product::FixedRight`]: each entry one chain of fused
//!   multiply-adds over k in order, the same on every SIMD path and CPU, with row blocks in
//!   parallel that never interact. Xᵀ·A (the dual form's Φcᵀα) is summed row by row in order,
//!   with separate multiplies and adds (Rust never fuses them on its own, so these are the same
//!   operations everywhere).
//! - **Cholesky, blocked and left-looking** (Golub & Van Loan, *Matrix Computations*, 4th ed.,
//!   §4.2.8), by column blocks of 128: the block column j₀..j₁ first takes the product of
//!   the rows already factored, A[j₀.., J] − L[j₀.., ..j₀]·L[J, ..j₀]ᵀ; its diagonal block is
//!   factored unblocked, ℓⱼⱼ = √(aⱼⱼ − Σₖ ℓⱼₖ²) and ℓᵢⱼ = (aᵢⱼ − Σₖ ℓᵢₖℓⱼₖ)/ℓⱼⱼ (sums in
//!   increasing k); the rows below are the block times the transposed inverse of the diagonal
//!   block (a triangular inverse by substitution, then one more product): the triangular solve
//!   as a matrix product.
//! - **Solves** are forward and back substitution, row by row in a fixed order, vectorised
//!   across the right-hand sides (each lane the same scalar sequence); the **inverse** is L⁻¹
//!   by substitution and (L⁻¹)ᵀL⁻¹ as a product, so it is exactly symmetric.
//!
//! Cost: n³/3 multiply-adds for the factorisation, nearly all in the products (about faer's
//! time: `examples/cholesky_cpu.rs`, docs/benchmarks.md). The results agree with any other
//! Cholesky factorisation or product to rounding (tested against the unblocked definitions).
//! The eigendecompositions that *score* λ, σ and n are [`rks::symmetric::Eigen`]'s, which has
//! the same bits on every CPU too; the model at the chosen values is then solved here.
//!
//! ```
//! use ndarray::array;
//! use rks_solvers::dense::Cholesky;
//!
//! let a = array![[4.0, 2.0], [2.0, 3.0]];
//! let chol = Cholesky::factor(a.clone(), 1.0)?; // A + 1·I
//! let x = chol.solve(array![[1.0], [2.0]].view())?;
//! // (A + I) x = b
//! assert!(((5.0 * x[[0, 0]] + 2.0 * x[[1, 0]]) - 1.0).abs() < 1e-12);
//! assert!(((2.0 * x[[0, 0]] + 4.0 * x[[1, 0]]) - 2.0).abs() < 1e-12);
//! // Shapes that do not fit are errors, not panics.
//! assert!(Cholesky::factor(array![[1.0, 2.0]], 0.0).is_err());
//! assert!(chol.solve(array![[1.0]].view()).is_err());
//! # Ok::<(), rks_solvers::dense::CholeskyError>(())
//! ```

use std::ops::Range;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use rayon::prelude::*;
use rks::product::FixedRight;

/// Columns per block: the products of the update have this many columns (16 of the AVX-512
/// kernel's 8-wide panels), and the unblocked work on the diagonal blocks is n·[`BLOCK`]²/2 in all.
const BLOCK: usize = 128;

/// Why a [`Cholesky`] factorisation or solve was refused.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum CholeskyError {
    /// A pivot aⱼⱼ − Σₖ ℓⱼₖ² was not a positive finite number: A (with its shift) is not
    /// positive definite to rounding, or holds a non-finite value.
    #[error("not positive definite: pivot {column} is {pivot}")]
    NotPositiveDefinite {
        /// The column of that pivot.
        column: usize,
        /// Its value.
        pivot: f64,
    },
    /// A is not square.
    #[error("the matrix is {rows} × {cols}, not square")]
    NotSquare {
        /// Rows of A.
        rows: usize,
        /// Columns of A.
        cols: usize,
    },
    /// The right-hand sides have another number of rows than A.
    #[error("the right-hand sides have {found} rows, A has {expected}")]
    WrongRows {
        /// The order of A.
        expected: usize,
        /// Rows of B.
        found: usize,
    },
}

/// The lower-triangular factor L of A + shift·I (n × n, row-major, zeros above the diagonal).
#[derive(Debug, Clone, PartialEq)]
pub struct Cholesky {
    l: Array2<f64>,
}

impl Cholesky {
    /// Factors A + shift·I, reading A's lower triangle (the upper one is ignored and
    /// overwritten).
    ///
    /// # Errors
    /// [`CholeskyError::NotSquare`] when A is not square,
    /// [`CholeskyError::NotPositiveDefinite`] when a pivot is not a positive finite number.
    pub fn factor(mut a: Array2<f64>, shift: f64) -> Result<Self, CholeskyError> {
        let n = a.nrows();
        if n != a.ncols() {
            return Err(CholeskyError::NotSquare {
                rows: n,
                cols: a.ncols(),
            });
        }
        for i in 0..n {
            a[[i, i]] += shift;
        }
        let mut j0 = 0;
        while j0 < n {
            let j1 = (j0 + BLOCK).min(n);
            if j0 > 0 {
                // A[j0.., J] −= L[j0.., ..j0] · L[J, ..j0]ᵀ
                let right = FixedRight::new(block(&a, j0..j1, 0..j0).t());
                let done = right
                    .multiply(block(&a, j0..n, 0..j0))
                    .unwrap_or_else(|e| unreachable!("shapes agree by construction: {e}"));
                let mut panel = block_mut(&mut a, j0..n, j0..j1);
                panel.zip_mut_with(&done, |p, d| *p -= d);
            }
            factor_diagonal_block(&mut a, j0, j1)?;
            if j1 < n {
                // L[j1.., J] = A[j1.., J] · L_JJ⁻ᵀ
                let inverse = lower_inverse(block(&a, j0..j1, j0..j1));
                let below = FixedRight::new(inverse.t())
                    .multiply(block(&a, j1..n, j0..j1))
                    .unwrap_or_else(|e| unreachable!("shapes agree by construction: {e}"));
                block_mut(&mut a, j1..n, j0..j1).assign(&below);
            }
            j0 = j1;
        }
        for i in 0..n {
            block_mut(&mut a, i..i + 1, i + 1..n).fill(0.0);
        }
        Ok(Self { l: a })
    }

    /// n, the order of A.
    pub fn order(&self) -> usize {
        self.l.nrows()
    }

    /// The factor L (lower triangular).
    pub fn factor_l(&self) -> ArrayView2<'_, f64> {
        self.l.view()
    }

    /// X = (A + shift·I)⁻¹ B for B of n rows: L Y = B row by row forward, then Lᵀ X = Y
    /// backward.
    ///
    /// # Errors
    /// [`CholeskyError::WrongRows`] when B has not n rows.
    pub fn solve(&self, b: ArrayView2<'_, f64>) -> Result<Array2<f64>, CholeskyError> {
        let n = self.order();
        if b.nrows() != n {
            return Err(CholeskyError::WrongRows {
                expected: n,
                found: b.nrows(),
            });
        }
        let mut y = b.as_standard_layout().into_owned();
        let m = y.ncols();
        if m == 0 {
            return Ok(y);
        }
        // Forward: yᵢ = (bᵢ − Σ_{k<i} ℓᵢₖ yₖ)/ℓᵢᵢ, k increasing.
        for i in 0..n {
            let (done, mut rest) = y.view_mut().split_at(Axis(0), i);
            let mut yi = rest.row_mut(0);
            for (k, yk) in done.rows().into_iter().enumerate() {
                let lik = self.l[[i, k]];
                yi.zip_mut_with(&yk, |a, &b| *a -= lik * b);
            }
            let lii = self.l[[i, i]];
            yi.mapv_inplace(|v| v / lii);
        }
        // Backward: xᵢ = yᵢ/ℓᵢᵢ once every later row is subtracted, then yₖ −= ℓᵢₖ xᵢ for k < i
        // (i decreasing: each yₖ takes its updates in the same order every time).
        for i in (0..n).rev() {
            let (mut before, mut rest) = y.view_mut().split_at(Axis(0), i);
            let mut xi = rest.row_mut(0);
            let lii = self.l[[i, i]];
            xi.mapv_inplace(|v| v / lii);
            for (k, mut yk) in before.rows_mut().into_iter().enumerate() {
                let lik = self.l[[i, k]];
                yk.zip_mut_with(&xi, |a, &b| *a -= lik * b);
            }
        }
        Ok(y)
    }

    /// (A + shift·I)⁻¹ = L⁻ᵀL⁻¹, exactly symmetric.
    pub fn inverse(&self) -> Array2<f64> {
        let x = blocked_lower_inverse(self.l.view());
        let xt = x.t().as_standard_layout().into_owned();
        FixedRight::new(x.view())
            .multiply(xt.view())
            .unwrap_or_else(|e| unreachable!("shapes agree by construction: {e}"))
    }
}

/// A·B (n × k times k × m) through [`FixedRight`]: entry (i, j) the chain over k in order.
///
/// # Panics
/// When the inner dimensions differ (a caller's bug).
pub(crate) fn product(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    FixedRight::new(b)
        .multiply(a)
        .unwrap_or_else(|e| panic!("dense::product: {e}"))
}

/// XXᵀ (n × n for X of n rows): entry (i, j) is the chain over k in order of x[i, k]·x[j, k],
/// the same chain as entry (j, i) (a fused multiply-add does not depend on the order of its
/// factors), so the matrix is exactly symmetric. The whole product, not its lower half: Xᵀ is
/// packed once and the row blocks run in parallel, which measured faster than half the work in
/// blocks that each repack their part of Xᵀ (`examples/cholesky_cpu.rs`).
pub fn row_gram(x: ArrayView2<'_, f64>) -> Array2<f64> {
    product(x, x.t())
}

/// Columns of Xᵀ·A per parallel task of [`transposed_product`].
const TRANSPOSED_COLUMNS: usize = 512;

/// Xᵀ·A (d × m for X n × d and A n × m): entry (j, o) = Σᵢ x[i, j]·a[i, o] summed over i in
/// order with separate multiplies and adds; columns of X in parallel blocks (disjoint outputs).
///
/// # Panics
/// When X and A have different numbers of rows (a caller's bug).
pub(crate) fn transposed_product(x: ArrayView2<'_, f64>, a: ArrayView2<'_, f64>) -> Array2<f64> {
    assert_eq!(
        x.nrows(),
        a.nrows(),
        "dense::transposed_product: rows differ"
    );
    let (d, m) = (x.ncols(), a.ncols());
    let starts: Vec<usize> = (0..d).step_by(TRANSPOSED_COLUMNS).collect();
    // Each block is (A's columns) × (its columns of X): contiguous along X's columns.
    let blocks: Vec<Array2<f64>> = starts
        .into_par_iter()
        .map(|j0| {
            let j1 = (j0 + TRANSPOSED_COLUMNS).min(d);
            let mut out = Array2::<f64>::zeros((m, j1 - j0));
            for (xi, ai) in x.rows().into_iter().zip(a.rows()) {
                let xi = xi.slice_axis(Axis(0), Slice::from(j0..j1));
                for (mut row, &aio) in out.rows_mut().into_iter().zip(ai.iter()) {
                    row.zip_mut_with(&xi, |o, &v| *o += v * aio);
                }
            }
            out
        })
        .collect();
    let mut out = Array2::<f64>::zeros((d, m));
    for (block, j0) in blocks.iter().zip((0..d).step_by(TRANSPOSED_COLUMNS)) {
        block_mut(&mut out, j0..j0 + block.ncols(), 0..m).assign(&block.t());
    }
    out
}

/// Rows × columns of `a`, as a view.
fn block(a: &Array2<f64>, rows: Range<usize>, cols: Range<usize>) -> ArrayView2<'_, f64> {
    let mut v = a.view();
    v.slice_axis_inplace(Axis(0), Slice::from(rows));
    v.slice_axis_inplace(Axis(1), Slice::from(cols));
    v
}

/// Rows × columns of `a`, as a mutable view.
fn block_mut(
    a: &mut Array2<f64>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> ArrayViewMut2<'_, f64> {
    let mut v = a.view_mut();
    v.slice_axis_inplace(Axis(0), Slice::from(rows));
    v.slice_axis_inplace(Axis(1), Slice::from(cols));
    v
}

/// Factors the diagonal block J = j0..j1 of `a` in place, unblocked: its entries already hold
/// A − (the earlier blocks' part of LLᵀ), and only the columns within J remain.
fn factor_diagonal_block(a: &mut Array2<f64>, j0: usize, j1: usize) -> Result<(), CholeskyError> {
    for j in j0..j1 {
        let mut pivot = a[[j, j]];
        for k in j0..j {
            pivot -= a[[j, k]] * a[[j, k]];
        }
        if !(pivot > 0.0 && pivot.is_finite()) {
            return Err(CholeskyError::NotPositiveDefinite { column: j, pivot });
        }
        let ljj = pivot.sqrt();
        a[[j, j]] = ljj;
        for i in j + 1..j1 {
            let mut v = a[[i, j]];
            for k in j0..j {
                v -= a[[i, k]] * a[[j, k]];
            }
            a[[i, j]] = v / ljj;
        }
    }
    Ok(())
}

/// L⁻¹ of a lower-triangular L by block rows of [`BLOCK`]: X_II = L_II⁻¹ ([`lower_inverse`])
/// and, below it, X[I, ..I] = −L_II⁻¹·(L[I, ..I]·X[..I, ..I]) (from Σ_{K ≤ I} L_IK X_KJ = 0),
/// both products fixed ones: the n³/3 multiply-adds go through the GEMM.
fn blocked_lower_inverse(l: ArrayView2<'_, f64>) -> Array2<f64> {
    let n = l.nrows();
    let mut x = Array2::<f64>::zeros((n, n));
    let mut i0 = 0;
    while i0 < n {
        let i1 = (i0 + BLOCK).min(n);
        let mut diagonal = l;
        diagonal.slice_axis_inplace(Axis(0), Slice::from(i0..i1));
        diagonal.slice_axis_inplace(Axis(1), Slice::from(i0..i1));
        let d = lower_inverse(diagonal);
        if i0 > 0 {
            let mut left = l;
            left.slice_axis_inplace(Axis(0), Slice::from(i0..i1));
            left.slice_axis_inplace(Axis(1), Slice::from(0..i0));
            let t = product(left, block(&x, 0..i0, 0..i0));
            let below = product(d.view(), t.view());
            block_mut(&mut x, i0..i1, 0..i0).zip_mut_with(&below, |o, &v| *o = -v);
        }
        block_mut(&mut x, i0..i1, i0..i1).assign(&d);
        i0 = i1;
    }
    x
}

/// L⁻¹ of a lower-triangular L (read from its lower triangle) by forward substitution on the
/// identity, row by row: row i of L⁻¹ is (eᵢ − Σ_{k<i} ℓᵢₖ·(row k of L⁻¹))/ℓᵢᵢ, k increasing.
fn lower_inverse(l: ArrayView2<'_, f64>) -> Array2<f64> {
    let n = l.nrows();
    let mut x = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        let (done, mut rest) = x.view_mut().split_at(Axis(0), i);
        let mut xi = rest.row_mut(0);
        xi[i] = 1.0;
        for (k, xk) in done.rows().into_iter().enumerate() {
            let lik = l[[i, k]];
            // Row k of L⁻¹ is zero past column k.
            xi.slice_axis_mut(Axis(0), Slice::from(..=k))
                .zip_mut_with(&xk.slice_axis(Axis(0), Slice::from(..=k)), |a, &b| {
                    *a -= lik * b
                });
        }
        let lii = l[[i, i]];
        xi.slice_axis_mut(Axis(0), Slice::from(..=i))
            .mapv_inplace(|v| v / lii);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Uniform values in [−1, 1).
    fn random(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0))
    }

    /// A = GGᵀ/cols for a random G (n × cols): positive definite when cols ≥ n.
    fn spd(n: usize, cols: usize, seed: u64) -> Array2<f64> {
        let g = random(n, cols, seed);
        g.dot(&g.t()) / cols as f64
    }

    /// The definition, unblocked: ℓⱼⱼ = √(aⱼⱼ − Σ ℓⱼₖ²), ℓᵢⱼ = (aᵢⱼ − Σ ℓᵢₖℓⱼₖ)/ℓⱼⱼ.
    fn reference(a: &Array2<f64>, shift: f64) -> Array2<f64> {
        let n = a.nrows();
        let mut l = Array2::<f64>::zeros((n, n));
        for j in 0..n {
            let s: f64 = (0..j).map(|k| l[[j, k]] * l[[j, k]]).sum();
            l[[j, j]] = (a[[j, j]] + shift - s).sqrt();
            for i in j + 1..n {
                let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
        l
    }

    fn max_abs(a: &Array2<f64>) -> f64 {
        a.iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    #[test]
    fn the_blocked_factor_matches_the_definition() {
        // Sizes below, at and across the block, with a partial last block.
        for (n, seed) in [
            (1, 1),
            (7, 2),
            (BLOCK, 3),
            (BLOCK + 1, 4),
            (2 * BLOCK + 37, 5),
        ] {
            let a = spd(n, n + 10, seed);
            let chol = Cholesky::factor(a.clone(), 0.01).unwrap();
            let expected = reference(&a, 0.01);
            let gap = max_abs(&(&chol.l - &expected));
            assert!(gap < 1e-11 * max_abs(&expected), "n = {n}: {gap:e}");
            // Nothing above the diagonal.
            for i in 0..n {
                assert!(block(&chol.l, i..i + 1, i + 1..n).iter().all(|&v| v == 0.0));
            }
        }
    }

    #[test]
    fn solves_and_the_inverse_satisfy_their_equations() {
        let n = BLOCK + 45;
        let a = spd(n, n + 3, 6);
        let shift = 0.1;
        let chol = Cholesky::factor(a.clone(), shift).unwrap();
        let shifted = &a + &(Array2::<f64>::eye(n) * shift);
        let b = random(n, 3, 7);
        let x = chol.solve(b.view()).unwrap();
        let residual = max_abs(&(shifted.dot(&x) - &b));
        assert!(residual < 1e-9, "{residual:e}");
        let inv = chol.inverse();
        assert_eq!(inv, inv.t(), "exactly symmetric");
        let off = max_abs(&(shifted.dot(&inv) - Array2::<f64>::eye(n)));
        assert!(off < 1e-9, "{off:e}");
        // No right-hand sides: nothing to solve.
        assert_eq!(
            chol.solve(Array2::zeros((n, 0)).view()).unwrap().dim(),
            (n, 0)
        );
        // Shapes that do not fit are typed errors.
        assert_eq!(
            chol.solve(Array2::zeros((n + 1, 2)).view()),
            Err(CholeskyError::WrongRows {
                expected: n,
                found: n + 1
            })
        );
        assert_eq!(
            Cholesky::factor(Array2::zeros((3, 4)), 1.0),
            Err(CholeskyError::NotSquare { rows: 3, cols: 4 })
        );
    }

    #[test]
    fn a_matrix_that_is_not_positive_definite_is_an_error() {
        // Rank 3 of order 5: the fourth pivot is rounding, or below.
        let a = spd(5, 3, 8);
        let err = Cholesky::factor(a.clone(), -1e-3).unwrap_err();
        assert!(
            matches!(err, CholeskyError::NotPositiveDefinite { column, pivot } if column >= 3 && pivot <= 0.0),
            "{err:?}"
        );
        let mut nan = spd(4, 6, 9);
        nan[[2, 1]] = f64::NAN;
        assert!(Cholesky::factor(nan, 0.0).is_err());
        // The upper triangle is not read.
        let mut upper = spd(6, 8, 10);
        let lower_only = Cholesky::factor(upper.clone(), 0.0).unwrap();
        upper[[0, 5]] = f64::NAN;
        assert_eq!(Cholesky::factor(upper, 0.0).unwrap(), lower_only);
    }

    /// The definition: one `mul_add` chain per entry, k in order.
    fn chains(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).fold(0.0, |acc, k| a[[i, k]].mul_add(b[[k, j]], acc))
        })
    }

    #[test]
    fn the_blocked_triangular_inverse_is_the_inverse() {
        let n = 2 * BLOCK + 41;
        let chol = Cholesky::factor(spd(n, n + 7, 16), 0.05).unwrap();
        let l = chol.factor_l().to_owned();
        let blocked = blocked_lower_inverse(l.view());
        let substituted = lower_inverse(l.view());
        let gap = max_abs(&(&blocked - &substituted));
        assert!(gap < 1e-12 * max_abs(&substituted), "{gap:e}");
        let off = max_abs(&(l.dot(&blocked) - Array2::<f64>::eye(n)));
        assert!(off < 1e-12, "{off:e}");
        assert!((0..n).all(|i| {
            block(&blocked, i..i + 1, i + 1..n)
                .iter()
                .all(|&v| v == 0.0)
        }));
    }

    #[test]
    fn the_products_are_their_definitions_bit_for_bit() {
        // Across a Gram block and a block of columns, with partial ones.
        let x = random(285, TRANSPOSED_COLUMNS + 70, 13);
        let g = row_gram(x.view());
        assert_eq!(g, chains(&x, &x.t().to_owned()));
        assert_eq!(g, g.t());
        let a = random(285, 3, 14);
        let expected = Array2::from_shape_fn((x.ncols(), 3), |(j, o)| {
            (0..x.nrows()).fold(0.0, |acc, i| acc + x[[i, j]] * a[[i, o]])
        });
        assert_eq!(transposed_product(x.view(), a.view()), expected);
        let b = random(x.ncols(), 5, 15);
        assert_eq!(product(x.view(), b.view()), chains(&x, &b));
    }

    /// The bits do not depend on the thread count (the products' row blocks run in parallel).
    #[test]
    fn the_same_bits_for_any_thread_count() {
        let a = spd(2 * BLOCK + 9, 2 * BLOCK + 20, 11);
        let b = random(2 * BLOCK + 9, 4, 12);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let chol = Cholesky::factor(a.clone(), 1e-3).unwrap();
                    let products = (row_gram(b.view()), transposed_product(a.view(), b.view()));
                    (chol.clone(), chol.solve(b.view()), chol.inverse(), products)
                })
        };
        let one = run(1);
        assert_eq!(run(2), one);
        assert_eq!(run(3), one);
    }
}

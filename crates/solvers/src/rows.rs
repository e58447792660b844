//! The rows a linear SVM is trained on: a dense matrix of features, or rows held as their
//! non-zero entries ([`SparseRows`]: text and other sparse data, where the linear SVM is fitted
//! on the scaled rows themselves).
//!
//! Dual coordinate descent ([`crate::svm`]) touches a row through a few operations — its dot
//! product with w, w ← w + d·φᵢ, its squared norm and its dot product with another row — so the
//! solver is written once over one row-access trait. The dense form calls the SIMD kernels
//! ([`rks::simd::Kernels`]) exactly as the solver always has (the same bits); the sparse form
//! visits a row's non-zero entries in increasing column order, its sums in f64 by fused
//! multiply-adds: the same bits on every CPU and for any thread count, and O(non-zeros) per
//! step instead of O(d) (a row of text has tens of words among thousands of columns).
//!
//! [`SvmData`] is the level above: what a fit, a cross-validation and a held-out score need of
//! the rows (select some, fit one-vs-rest on them, score them), for either form.

use ndarray::{Array2, ArrayView2, Axis};
use rks::Element;
use rks::scaler::Scaler;
use rks::simd::Kernels;

use crate::error::{Result, SolversError};
use crate::svm::{DualStart, LinearSvm, SvmParams};

/// Row access for dual coordinate descent; see the [module docs](self).
pub(crate) trait Rows<F>: Sync {
    /// Number of rows N.
    fn n_rows(&self) -> usize;
    /// Columns D.
    fn dim(&self) -> usize;
    /// wᵀφᵢ.
    fn dot(&self, i: usize, w: &[F]) -> f64;
    /// (wᵀφᵢ, wᵀφⱼ), each with the bits of [`Rows::dot`].
    fn dot2(&self, i: usize, j: usize, w: &[F]) -> (f64, f64);
    /// w ← w + d·φᵢ.
    fn axpy(&self, d: F, i: usize, w: &mut [F]);
    /// w ← w + dᵢ·φᵢ + dⱼ·φⱼ, with the bits of two [`Rows::axpy`].
    fn axpy2(&self, di: F, i: usize, dj: F, j: usize, w: &mut [F]);
    /// φᵢᵀφⱼ.
    fn cross(&self, i: usize, j: usize) -> f64;
    /// ‖φᵢ‖².
    fn squared_norm(&self, i: usize) -> f64;
    /// w ← w + s·φᵢ in f64.
    fn add_to(&self, i: usize, s: f64, w: &mut [f64]);
}

/// A dense row-major matrix of features (the rows of a contiguous N × D array).
pub(crate) struct DenseRows<'a, F> {
    pub(crate) flat: &'a [F],
    pub(crate) rows: usize,
    pub(crate) dim: usize,
}

impl<F> DenseRows<'_, F> {
    #[inline]
    fn row(&self, i: usize) -> &[F] {
        &self.flat[i * self.dim..(i + 1) * self.dim]
    }
}

impl<F: Kernels> Rows<F> for DenseRows<'_, F> {
    fn n_rows(&self) -> usize {
        self.rows
    }
    fn dim(&self) -> usize {
        self.dim
    }
    #[inline]
    fn dot(&self, i: usize, w: &[F]) -> f64 {
        F::dot(w, self.row(i)).to_f64_exact()
    }
    #[inline]
    fn dot2(&self, i: usize, j: usize, w: &[F]) -> (f64, f64) {
        let (a, b) = F::dot2(w, self.row(i), self.row(j));
        (a.to_f64_exact(), b.to_f64_exact())
    }
    #[inline]
    fn axpy(&self, d: F, i: usize, w: &mut [F]) {
        F::axpy(d, self.row(i), w);
    }
    #[inline]
    fn axpy2(&self, di: F, i: usize, dj: F, j: usize, w: &mut [F]) {
        F::axpy2(di, self.row(i), dj, self.row(j), w);
    }
    #[inline]
    fn cross(&self, i: usize, j: usize) -> f64 {
        F::dot(self.row(i), self.row(j)).to_f64_exact()
    }
    fn squared_norm(&self, i: usize) -> f64 {
        self.row(i)
            .iter()
            .map(|v| v.to_f64_exact().powi(2))
            .sum::<f64>()
    }
    fn add_to(&self, i: usize, s: f64, w: &mut [f64]) {
        for (wj, v) in w.iter_mut().zip(self.row(i)) {
            *wj += s * v.to_f64_exact();
        }
    }
}

/// Rows held as their non-zero entries (compressed sparse rows): row i's entries are
/// `columns[offsets[i]..offsets[i + 1]]` with their `values`, by increasing column.
///
/// ```
/// use ndarray::array;
/// use rks_solvers::rows::SparseRows;
///
/// let rows = SparseRows::<f32>::of(array![[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]].view())?;
/// assert_eq!((rows.n_rows(), rows.dim(), rows.non_zeros()), (2, 3, 2));
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRows<F> {
    offsets: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<F>,
    dim: usize,
}

impl<F: Element> SparseRows<F> {
    /// The non-zero entries of the rows of `x`, each rounded to `F` (finite values only).
    pub fn of(x: ArrayView2<'_, f64>) -> Result<Self> {
        let mut rows = Self::empty(x.ncols())?;
        rows.extend(x)?;
        Ok(rows)
    }

    /// The rows of `x` scaled by `scaler`, a block of `block_rows` rows at a time (no scaled
    /// copy of the whole file is made).
    pub fn scaled(scaler: &Scaler, x: ArrayView2<'_, f64>, block_rows: usize) -> Result<Self> {
        let mut rows = Self::empty(x.ncols())?;
        for block in x.axis_chunks_iter(Axis(0), block_rows.max(1)) {
            rows.extend(scaler.transform(block)?.view())?;
        }
        Ok(rows)
    }

    /// The rows of `data` scaled by `scaler`, which must map 0 to 0 ([`Scaler::keeps_zeros`]):
    /// each entry (x − 0)·scale in f64, rounded once to `F`; entries that scale to zero (a
    /// column weighed 0) are left out.
    pub fn scaled_entries(scaler: &Scaler, data: &rks_data::SparseDataset) -> Result<Self> {
        if scaler.dim() != data.n_features() {
            return Err(SolversError::DimensionMismatch {
                what: "input columns",
                expected: scaler.dim(),
                found: data.n_features(),
            });
        }
        if !scaler.keeps_zeros() {
            return Err(crate::error::invalid(
                crate::error::Param::Scaler,
                "the scaler shifts zeros, which would make sparse rows dense",
            ));
        }
        let mut rows = Self::empty(data.n_features())?;
        rows.columns.reserve_exact(data.non_zeros());
        rows.values.reserve_exact(data.non_zeros());
        rows.offsets.reserve_exact(data.n_rows());
        let scale = scaler.scale();
        for i in 0..data.n_rows() {
            let (columns, values) = data.row(i);
            for (&c, &v) in columns.iter().zip(values) {
                let scaled = F::from_f64_lossy(v * scale[c as usize]);
                if scaled != F::zero() {
                    rows.columns.push(c);
                    rows.values.push(scaled);
                }
            }
            rows.offsets.push(rows.columns.len());
        }
        Ok(rows)
    }

    fn empty(dim: usize) -> Result<Self> {
        if u32::try_from(dim).is_err() {
            return Err(SolversError::EmptyInput(format!(
                "{dim} columns are more than sparse rows index (2³²)"
            )));
        }
        Ok(Self {
            offsets: vec![0],
            columns: Vec::new(),
            values: Vec::new(),
            dim,
        })
    }

    fn extend(&mut self, x: ArrayView2<'_, f64>) -> Result<()> {
        crate::validate::check_finite("feature", x)?;
        for row in x.rows() {
            for (c, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                self.columns.push(c as u32);
                self.values.push(F::from_f64_lossy(v));
            }
            self.offsets.push(self.columns.len());
        }
        Ok(())
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Columns d.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Non-zero entries held.
    pub fn non_zeros(&self) -> usize {
        self.values.len()
    }

    /// Bytes held (columns, values and row offsets).
    pub fn bytes(&self) -> usize {
        Self::bytes_for(self.values.len(), self.n_rows())
    }

    /// Bytes that `non_zeros` entries in `rows` rows take.
    pub fn bytes_for(non_zeros: usize, rows: usize) -> usize {
        non_zeros
            .saturating_mul(4 + size_of::<F>())
            .saturating_add(rows.saturating_add(1).saturating_mul(size_of::<usize>()))
    }

    /// The rows `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Self {
        let mut out = Self {
            offsets: Vec::with_capacity(rows.len() + 1),
            columns: Vec::new(),
            values: Vec::new(),
            dim: self.dim,
        };
        out.offsets.push(0);
        for &i in rows {
            let (columns, values) = self.row(i);
            out.columns.extend_from_slice(columns);
            out.values.extend_from_slice(values);
            out.offsets.push(out.columns.len());
        }
        out
    }

    /// Row i's columns and values.
    #[inline]
    fn row(&self, i: usize) -> (&[u32], &[F]) {
        let range = self.offsets[i]..self.offsets[i + 1];
        (&self.columns[range.clone()], &self.values[range])
    }

    /// The decision values XW + 1bᵀ (rows × m) of a linear model on these rows.
    pub fn scores(&self, svm: &LinearSvm) -> Result<Array2<f64>> {
        if svm.weights.nrows() != self.dim || svm.intercept.len() != svm.weights.ncols() {
            return Err(SolversError::DimensionMismatch {
                what: "feature columns",
                expected: svm.weights.nrows(),
                found: self.dim,
            });
        }
        let m = svm.weights.ncols();
        let mut out = Array2::zeros((self.n_rows(), m));
        for (i, mut scores) in out.rows_mut().into_iter().enumerate() {
            let (columns, values) = self.row(i);
            for (k, s) in scores.iter_mut().enumerate() {
                let sum = columns.iter().zip(values).fold(0.0f64, |acc, (&c, v)| {
                    v.to_f64_exact().mul_add(svm.weights[[c as usize, k]], acc)
                });
                *s = sum + svm.intercept[k];
            }
        }
        Ok(out)
    }
}

impl<F: Kernels> Rows<F> for SparseRows<F> {
    fn n_rows(&self) -> usize {
        SparseRows::n_rows(self)
    }
    fn dim(&self) -> usize {
        self.dim
    }
    #[inline]
    fn dot(&self, i: usize, w: &[F]) -> f64 {
        let (columns, values) = self.row(i);
        columns.iter().zip(values).fold(0.0f64, |acc, (&c, v)| {
            v.to_f64_exact().mul_add(w[c as usize].to_f64_exact(), acc)
        })
    }
    #[inline]
    fn dot2(&self, i: usize, j: usize, w: &[F]) -> (f64, f64) {
        (Rows::dot(self, i, w), Rows::dot(self, j, w))
    }
    #[inline]
    fn axpy(&self, d: F, i: usize, w: &mut [F]) {
        let (columns, values) = self.row(i);
        for (&c, &v) in columns.iter().zip(values) {
            let wc = &mut w[c as usize];
            *wc = d.mul_add(v, *wc);
        }
    }
    #[inline]
    fn axpy2(&self, di: F, i: usize, dj: F, j: usize, w: &mut [F]) {
        self.axpy(di, i, w);
        self.axpy(dj, j, w);
    }
    fn cross(&self, i: usize, j: usize) -> f64 {
        let ((ci, vi), (cj, vj)) = (self.row(i), self.row(j));
        let (mut a, mut b, mut sum) = (0, 0, 0.0f64);
        while a < ci.len() && b < cj.len() {
            match ci[a].cmp(&cj[b]) {
                std::cmp::Ordering::Less => a += 1,
                std::cmp::Ordering::Greater => b += 1,
                std::cmp::Ordering::Equal => {
                    sum = vi[a].to_f64_exact().mul_add(vj[b].to_f64_exact(), sum);
                    a += 1;
                    b += 1;
                }
            }
        }
        sum
    }
    fn squared_norm(&self, i: usize) -> f64 {
        let (_, values) = self.row(i);
        values.iter().fold(0.0f64, |acc, v| {
            v.to_f64_exact().mul_add(v.to_f64_exact(), acc)
        })
    }
    fn add_to(&self, i: usize, s: f64, w: &mut [f64]) {
        let (columns, values) = self.row(i);
        for (&c, v) in columns.iter().zip(values) {
            w[c as usize] += s * v.to_f64_exact();
        }
    }
}

/// What a fit, a cross-validation and a held-out score need of an SVM's training rows, dense
/// (`Array2<f32>`, the features as the fit makes them) or sparse ([`SparseRows`]).
pub trait SvmData: Sized + Sync {
    /// Number of rows.
    fn n_rows(&self) -> usize;
    /// The rows `rows`, in that order.
    fn pick(&self, rows: &[usize]) -> Self;
    /// [`crate::svm::fit_ovr_warm`] on these rows, with row weights when given
    /// ([`crate::svm::fit_ovr_warm_weighted`]).
    fn fit_ovr_warm(
        &self,
        classes: &[usize],
        n_classes: usize,
        params: &SvmParams,
        start: Option<&DualStart>,
        weights: Option<&[f64]>,
    ) -> Result<(LinearSvm, DualStart)>;
    /// The decision values of `svm` on these rows.
    fn scores(&self, svm: &LinearSvm) -> Result<Array2<f64>>;
}

impl SvmData for Array2<f32> {
    fn n_rows(&self) -> usize {
        self.nrows()
    }
    fn pick(&self, rows: &[usize]) -> Self {
        self.select(Axis(0), rows)
    }
    fn fit_ovr_warm(
        &self,
        classes: &[usize],
        n_classes: usize,
        params: &SvmParams,
        start: Option<&DualStart>,
        weights: Option<&[f64]>,
    ) -> Result<(LinearSvm, DualStart)> {
        match weights {
            None => crate::svm::fit_ovr_warm(self.view(), classes, n_classes, params, start),
            Some(w) => {
                crate::svm::fit_ovr_warm_weighted(self.view(), classes, n_classes, params, start, w)
            }
        }
    }
    fn scores(&self, svm: &LinearSvm) -> Result<Array2<f64>> {
        svm.decision_values(self.view())
    }
}

impl SvmData for SparseRows<f32> {
    fn n_rows(&self) -> usize {
        SparseRows::n_rows(self)
    }
    fn pick(&self, rows: &[usize]) -> Self {
        self.select(rows)
    }
    fn fit_ovr_warm(
        &self,
        classes: &[usize],
        n_classes: usize,
        params: &SvmParams,
        start: Option<&DualStart>,
        weights: Option<&[f64]>,
    ) -> Result<(LinearSvm, DualStart)> {
        crate::svm::fit_ovr_warm_on(self, classes, n_classes, params, start, weights)
    }
    fn scores(&self, svm: &LinearSvm) -> Result<Array2<f64>> {
        SparseRows::scores(self, svm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Rows with about one entry in ten non-zero, and three classes.
    fn sparse_data(rows: usize, cols: usize) -> (Array2<f64>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = Array2::from_shape_fn((rows, cols), |_| {
            if rng.random::<f64>() < 0.1 {
                rng.random::<f64>() * 2.0 - 1.0
            } else {
                0.0
            }
        });
        let classes = (0..rows)
            .map(|i| {
                let s = x[[i, 0]] + x[[i, 1]] - x[[i, 2]];
                usize::from(s > 0.0) + usize::from(s > 0.3)
            })
            .collect();
        (x, classes)
    }

    #[test]
    fn sparse_rows_give_the_dense_rows_svm_to_rounding() {
        let (x, classes) = sparse_data(300, 40);
        let dense = x.mapv(|v| v as f32);
        let sparse = SparseRows::<f32>::of(x.view()).unwrap();
        assert_eq!(sparse.non_zeros(), x.iter().filter(|v| **v != 0.0).count());
        let params = SvmParams {
            c: 1.0,
            eps: 1e-8,
            max_epochs: 100_000,
            ..SvmParams::default()
        };
        let (a, _) = dense
            .fit_ovr_warm(&classes, 3, &params, None, None)
            .unwrap();
        let (b, _) = sparse
            .fit_ovr_warm(&classes, 3, &params, None, None)
            .unwrap();
        assert!(a.converged() && b.converged());
        let gap = (&a.weights - &b.weights)
            .iter()
            .fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(gap < 1e-3, "{gap}");
        let (sa, sb) = (dense.scores(&a).unwrap(), sparse.scores(&a).unwrap());
        let gap = (&sa - &sb).iter().fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(gap < 1e-5, "{gap}");
    }

    #[test]
    fn picked_rows_are_those_rows() {
        let (x, _) = sparse_data(50, 12);
        let sparse = SparseRows::<f64>::of(x.view()).unwrap();
        let rows = [7, 0, 7, 49];
        let picked = sparse.select(&rows);
        assert_eq!(
            picked,
            SparseRows::of(x.select(Axis(0), &rows).view()).unwrap()
        );
        for (k, &i) in rows.iter().enumerate() {
            let w: Vec<f64> = (0..12).map(|j| j as f64 - 5.0).collect();
            let dense: f64 = x.row(i).iter().zip(&w).map(|(a, b)| a * b).sum();
            assert!((Rows::dot(&picked, k, &w) - dense).abs() < 1e-12);
            assert!((Rows::cross(&picked, k, k) - Rows::squared_norm(&picked, k)).abs() < 1e-15);
        }
    }

    #[test]
    fn non_finite_rows_are_an_error() {
        let x = ndarray::array![[0.0, f64::NAN]];
        assert!(SparseRows::<f32>::of(x.view()).is_err());
    }
}

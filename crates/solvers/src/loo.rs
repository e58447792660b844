//! Exact leave-one-out scores of ridge for every λ of a path, from one eigendecomposition.
//!
//! Ridge with an unpenalised intercept is a linear smoother, ŷ = H y with the hat matrix
//!
//! ```text
//! H = 11ᵀ/N + Φc (ΦcᵀΦc + λI)⁻¹ Φcᵀ = 11ᵀ/N + U diag(sⱼ/(sⱼ + λ)) Uᵀ,
//! ```
//!
//! where Φc are the centred features and Φc = U diag(√s) Vᵀ their thin singular value
//! decomposition (U: N × r orthonormal, r ≤ min(N, D) nonzero singular values). Leaving row i
//! out of the fit changes its prediction to exactly
//!
//! ```text
//! ŷ₋ᵢ = yᵢ − eᵢ / (1 − Hᵢᵢ),   e = y − ŷ
//! ```
//!
//! (the leave-one-out lemma for linear smoothers: Hastie, Tibshirani & Friedman, *The Elements of
//! Statistical Learning*, 2nd ed., eq. 7.52; Golub, Heath & Wahba, Technometrics 1979). With
//! Ỹ = UᵀYc, both parts come without cancellation, also near interpolation (N ≤ D, small λ):
//!
//! ```text
//! e = (Yc − UỸ) + U diag(λ/(sⱼ + λ)) Ỹ,
//! 1 − Hᵢᵢ = Σⱼ Uᵢⱼ² λ/(sⱼ + λ) + (1 − 1/N − Σⱼ Uᵢⱼ²),
//! ```
//!
//! the second terms being the parts outside the span of U (zero when the rows are in general
//! position). So one factorisation — of the N × N Gram matrix ΦcΦcᵀ when N ≤ D, of the D × D
//! ΦcᵀΦc otherwise — gives the leave-one-out residuals of every λ at O(N·r·(m + 1)) each.
//! The eigendecomposition ([`rks::symmetric::Eigen`]) and the products here
//! ([`crate::dense`]'s) round alike on every CPU and for any thread count, so the scores,
//! and the choices made from them, do too; the model at the chosen λ ([`LooPath::fit`]) is
//! solved by [`crate::dense::Cholesky`].
//!
//! For classification the leave-one-out decision values give a leave-one-out **error rate**,
//! which is what model selection compares, with rates within their binomial standard error of
//! each other tied and the tie broken by the squared error ([`LooScore::better_than`]): the
//! squared error of ±1 one-hot targets alone prefers smooth scores over correct ones, and the
//! error rate alone picks the luckiest of many candidates.

use ndarray::{Array2, ArrayView2, Axis, ShapeBuilder, Slice};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dense::{product, row_gram, transposed_product};
use crate::error::{Result, SolversError};
use crate::labels::{argmax_rows, class_scores};
use crate::ridge::{
    Ridge, RidgeAccumulator, check_positive_row_weights, default_grid, eigen, ridge_from,
    shifted_solve,
};
use crate::validate::{check_finite, check_rows};

/// A leave-one-out score: the error rate (classification only) and the mean squared
/// leave-one-out residual over rows and outputs, on a number of rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LooScore {
    /// Fraction of rows whose leave-one-out prediction is the wrong class (`None` for
    /// regression).
    pub error: Option<f64>,
    /// Mean squared leave-one-out residual.
    pub mse: f64,
    /// Rows scored (summed over the folds of a cross-validation); 0 when unknown (a score
    /// written before it was recorded), which makes any two different error rates differ
    /// clearly in [`better_than`](Self::better_than).
    #[serde(default)]
    pub rows: usize,
}

impl LooScore {
    /// True when `self` is strictly better. Regression: the lower squared error.
    /// Classification: the lower error rate when the two differ by more than the binomial
    /// standard error of the larger, √(e(1 − e)/N) on the N rows scored
    /// ([`binomial_standard_error`](Self::binomial_standard_error)); within it they are tied, and the lower squared error
    /// wins.
    ///
    /// Why: an error rate on a few hundred rows moves in steps of a row, and among the many
    /// (σ, λ, n, map) candidates of a search, the one whose count of wrong rows is lowest by a
    /// row or two is mostly the luckiest. The squared error of the decision values varies
    /// smoothly with the model and has much less noise. Measured on twenty random splits of
    /// each of the 22 classification sets of at most 1,500 rows in docs/benchmarks.md
    /// ("Repeated splits"), breaking ties this way instead of only on equal error rates raised
    /// the default fit's mean test accuracy on 18 of them, by 0.37 points on average (tic-tac-toe,
    /// an exact rule with error rates near 1 %, lost 0.47); on the first eight, choosing by the
    /// squared error alone gained less (0.45 against 0.58 points) and lost on two.
    ///
    /// ```
    /// use rks_solvers::loo::LooScore;
    /// let score = |error, mse| LooScore { error: Some(error), mse, rows: 400 };
    /// // 6.0 % against 5.5 % on 400 rows is two rows, within the standard error (1.2 points):
    /// // the squared error decides.
    /// assert!(score(0.060, 0.30).better_than(&score(0.055, 0.32)));
    /// // 8.0 % against 5.5 % is ten rows, beyond it: the error rate decides.
    /// assert!(score(0.055, 0.32).better_than(&score(0.080, 0.30)));
    /// ```
    pub fn better_than(&self, other: &LooScore) -> bool {
        match (self.error, other.error) {
            (Some(a), Some(b))
                if (a - b).abs()
                    > Self::binomial_standard_error(a.max(b), self.rows.max(other.rows)) =>
            {
                a < b
            }
            _ => self.mse < other.mse,
        }
    }

    /// √(e(1 − e)/rows), the binomial standard error of an error rate e on `rows` rows: the
    /// difference of error rates within which [`better_than`](Self::better_than) calls two
    /// scores tied. 0 for 0 rows (unknown), so that only equal rates tie.
    pub fn binomial_standard_error(error: f64, rows: usize) -> f64 {
        if rows == 0 {
            return 0.0;
        }
        (error * (1.0 - error) / rows as f64).sqrt()
    }

    /// True when `self`'s error rate is below `incumbent`'s by more than one standard error of
    /// the incumbent's, √(e(1 − e)/rows) on `rows` rows — the one-standard-error rule, which
    /// keeps the cheaper or already chosen model unless the data clearly favour the other.
    /// Without error rates (regression), the plain comparison of [`better_than`](Self::better_than);
    /// for squared errors measured on the same rows, [`clearly_lower`] pairs them.
    ///
    /// ```
    /// use rks_solvers::loo::LooScore;
    /// let rate = |e| LooScore { error: Some(e), mse: 0.5, rows: 0 };
    /// // 17.48 % against 16.29 % is two rows of 166 (standard error 2.95 points)…
    /// assert!(!rate(0.1629).clearly_better_than(&rate(0.1748), 166));
    /// // …and 3.2 standard errors on 10,000 rows.
    /// assert!(rate(0.1629).clearly_better_than(&rate(0.1748), 10_000));
    /// ```
    pub fn clearly_better_than(&self, incumbent: &LooScore, rows: usize) -> bool {
        match (self.error, incumbent.error) {
            (Some(c), Some(i)) => i - c > incumbent.standard_error(rows),
            _ => self.better_than(incumbent),
        }
    }

    /// √(e(1 − e)/rows): the binomial standard error of the error rate e measured on `rows`
    /// rows (0 without an error rate).
    pub fn standard_error(&self, rows: usize) -> f64 {
        self.error
            .map_or(0.0, |e| Self::binomial_standard_error(e, rows.max(1)))
    }

    /// The score of predictions `predicted` (rows × m) of targets `y` (rows × m; ±1 one-hot
    /// for classification, one column for two classes): the mean squared difference, and with
    /// `classes` (each row's class index and the number of classes) the fraction of rows whose
    /// largest decision value is not their class. Non-finite predictions count as errors.
    pub fn of(
        predicted: Array2<f64>,
        y: ArrayView2<'_, f64>,
        classes: Option<(&[usize], usize)>,
    ) -> LooScore {
        let per_row = row_squared_errors(predicted.view(), y);
        let mse = per_row.iter().sum::<f64>() / per_row.len().max(1) as f64;
        let error = classes.map(|(classes, n_classes)| {
            let finite = predicted.iter().all(|v| v.is_finite());
            if !finite {
                return 1.0;
            }
            let wrong = wrong_rows(predicted, classes, n_classes);
            wrong.iter().filter(|w| **w).count() as f64 / classes.len().max(1) as f64
        });
        LooScore {
            error,
            mse: if mse.is_nan() { f64::INFINITY } else { mse },
            rows: per_row.len(),
        }
    }

    /// [`of`](Self::of) with each row weighed by `weights` (one per row, ≥ 0, some > 0; `None`:
    /// equal): the weighted error rate Σwᵢ·errᵢ/Σwᵢ (errᵢ = 1 for a wrong row, else 0) and squared
    /// error Σwᵢeᵢ²/Σwᵢ (eᵢ the row's residual), on the
    /// effective number of rows (Σw)²/Σw² — the rows of equal weight that measure a rate as
    /// precisely (Kish's effective sample size), which the standard errors count.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_solvers::loo::LooScore;
    /// // Two classes, one column: the second row is wrong, and weighs 3 of the 4.
    /// let predicted = array![[0.5], [0.5]];
    /// let y = array![[1.0], [-1.0]];
    /// let score = LooScore::of_weighted(predicted, y.view(), Some((&[1, 0], 2)), Some(&[1.0, 3.0]));
    /// assert_eq!(score.error, Some(0.75));
    /// assert_eq!(score.rows, 2); // (1 + 3)² / (1 + 9) = 1.6, rounded
    /// ```
    pub fn of_weighted(
        predicted: Array2<f64>,
        y: ArrayView2<'_, f64>,
        classes: Option<(&[usize], usize)>,
        weights: Option<&[f64]>,
    ) -> LooScore {
        let Some(w) = weights else {
            return Self::of(predicted, y, classes);
        };
        let total: f64 = w.iter().sum();
        let per_row = row_squared_errors(predicted.view(), y);
        let mse = per_row.iter().zip(w).map(|(e, w)| e * w).sum::<f64>() / total;
        let error = classes.map(|(classes, n_classes)| {
            if !predicted.iter().all(|v| v.is_finite()) {
                return 1.0;
            }
            let wrong = wrong_rows(predicted, classes, n_classes);
            wrong
                .iter()
                .zip(w)
                .filter(|(wrong, _)| **wrong)
                .map(|(_, w)| w)
                .sum::<f64>()
                / total
        });
        let squares: f64 = w.iter().map(|w| w * w).sum();
        LooScore {
            error,
            mse: if mse.is_nan() { f64::INFINITY } else { mse },
            rows: (total * total / squares).round() as usize,
        }
    }

    /// The score as one number to report: the error rate, or for regression the root mean
    /// squared leave-one-out residual.
    pub fn headline(&self) -> f64 {
        self.error.unwrap_or(self.mse.sqrt())
    }
}

/// For each row, whether its largest decision value in `predicted` (rows × m, one column for
/// two classes) is not its class in `classes` (of `n_classes`).
pub(crate) fn wrong_rows(predicted: Array2<f64>, classes: &[usize], n_classes: usize) -> Vec<bool> {
    let chosen = argmax_rows(&class_scores(predicted, n_classes));
    chosen.iter().zip(classes).map(|(a, b)| a != b).collect()
}

/// Each row's squared residual, averaged over the outputs: (1/m)·Σₖ (predictedᵢₖ − yᵢₖ)².
pub(crate) fn row_squared_errors(
    predicted: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
) -> Vec<f64> {
    let m = predicted.ncols().max(1) as f64;
    predicted
        .rows()
        .into_iter()
        .zip(y.rows())
        .map(|(p, y)| {
            p.iter()
                .zip(&y)
                .map(|(p, y)| (p - y) * (p - y))
                .sum::<f64>()
                / m
        })
        .collect()
}

/// True when the squared errors `challenger` (one per row) are lower than `incumbent`'s on the
/// **same rows** by more than one standard error of their paired difference: with dᵢ =
/// challengerᵢ − incumbentᵢ, mean(d) < −sd(d)/√rows. Pairing removes what the rows have in
/// common (a hard row is hard for both), so a real improvement shows even where the squared
/// errors themselves are heavy-tailed. Non-finite values are never clearly lower.
///
/// ```
/// use rks_solvers::loo::clearly_lower;
/// let incumbent = [10.0, 1.0, 100.0, 4.0];
/// // Lower on every row by about the same amount: clear, however spread the rows are.
/// assert!(clearly_lower(&[9.0, 0.5, 99.0, 3.2], &incumbent));
/// // Lower on average, but only through one row: within the noise.
/// assert!(!clearly_lower(&[10.5, 1.2, 90.0, 4.3], &incumbent));
/// ```
pub fn clearly_lower(challenger: &[f64], incumbent: &[f64]) -> bool {
    let rows = challenger.len().min(incumbent.len());
    if rows < 2 {
        return false;
    }
    let d: Vec<f64> = challenger
        .iter()
        .zip(incumbent)
        .map(|(c, i)| c - i)
        .collect();
    let mean = d.iter().sum::<f64>() / rows as f64;
    let variance = d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (rows - 1) as f64;
    mean.is_finite() && variance.is_finite() && mean < -(variance / rows as f64).sqrt()
}

/// The exact ridge statistics of rows `phi` with targets `y` (finite), weighted by `weights`
/// (finite, > 0) if given: the grid covering them (widened for the largest weight's square
/// root). What a path of more rows than features factorises, and what a fold's fits at fixed λ
/// solve by Cholesky without the path's eigendecomposition.
pub(crate) fn statistics_of(
    phi: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    weights: Option<&[f64]>,
) -> Result<RidgeAccumulator> {
    let grid = crate::exact::Grid::covering(phi, y)?;
    let (dim, outputs) = (phi.ncols(), y.ncols());
    match weights {
        None => {
            let mut acc = RidgeAccumulator::new(dim, outputs, grid)?;
            acc.update(phi, y)?;
            Ok(acc)
        }
        Some(w) => {
            let largest = w.iter().copied().fold(0.0, f64::max);
            let grid = grid.widened(largest.sqrt().max(1.0))?;
            let mut acc = RidgeAccumulator::new_weighted(dim, outputs, grid, largest)?;
            acc.update_weighted(phi, y, w)?;
            Ok(acc)
        }
    }
}

/// What the final weights are solved from, by Cholesky ([`crate::dense`]: the eigenvectors
/// only score λ).
#[derive(Debug, Clone)]
enum Weights {
    /// From N ≤ D rows: W = Φcᵀ (K + λI)⁻¹ Yc, keeping Φc (N × D, standard layout) and
    /// K = ΦcΦcᵀ.
    Rows { phi: Array2<f64>, gram: Array2<f64> },
    /// From the statistics: W = (C + λI)⁻¹ B with the centred C = ΦcᵀΦc (D × D) and B = ΦcᵀYc;
    /// V, the eigenvectors of C (kept columns), for the scoring fits of
    /// [`fit_for_scoring`](LooPath::fit_for_scoring).
    Features {
        v: Array2<f64>,
        c: Array2<f64>,
        b: Array2<f64>,
    },
    /// None: the path of an exact kernel matrix ([`LooPath::from_kernel`]) scores λ but has no
    /// features to weigh.
    Kernel,
}

/// The factorisation behind [`LooPath::score`] and [`LooPath::fit`].
///
/// It scores a set of rows by exact leave-one-out from a fit on N rows: all of them
/// ([`new`](Self::new)), or, for a fit from streamed statistics, any rows of the fit that are
/// held in memory ([`from_statistics`](Self::from_statistics)) — each row's leave-one-out value
/// needs only its own features, U's row i = φc(xᵢ)ᵀ V diag(1/√s).
///
/// ```
/// use ndarray::Array2;
/// use rks_solvers::loo::LooPath;
///
/// // 30 rows, 8 features, y linear in the features plus a little noise.
/// let phi = Array2::from_shape_fn((30, 8), |(i, j)| ((i * 8 + j) as f64 * 0.71).sin());
/// let y = Array2::from_shape_fn((30, 1), |(i, _)| {
///     (0..8).map(|j| phi[[i, j]] * j as f64).sum::<f64>() + 0.01 * (i as f64).cos()
/// });
/// let path = LooPath::new(phi.clone(), y.view())?;
/// let small = path.score(1e-6, None);
/// let huge = path.score(1e6, None);
/// assert!(small.mse < huge.mse); // little regularisation suits a nearly noiseless target
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LooPath {
    /// N, the rows of the fit.
    fit_rows: f64,
    /// D, the number of features (the grid's scale is tr(C)/D).
    dim: usize,
    mu: Vec<f64>,
    ybar: Vec<f64>,
    /// The scored rows' targets (S × m), uncentred.
    y: Array2<f64>,
    /// The scored rows of U (S × r); U has orthonormal columns over all N rows.
    u: Array2<f64>,
    /// The r nonzero eigenvalues s of ΦcᵀΦc (equal to those of ΦcΦcᵀ).
    s: Vec<f64>,
    /// Ỹ = UᵀYc (r × m).
    y_tilde: Array2<f64>,
    /// Yc − UỸ at the scored rows (S × m): the targets outside the span of U.
    outside: Array2<f64>,
    /// 1 − 1/N − Σⱼ Uᵢⱼ² (≥ 0) at the scored rows: the leverage outside the span of U.
    leverage_outside: Vec<f64>,
    trace: f64,
    weights: Weights,
    /// A weighted fit's rᵢ = √wᵢ of the scored rows, as its statistics hold them (empty for a
    /// plain fit, where every rᵢ is 1); see [`new_weighted`](Self::new_weighted).
    scale: Vec<f64>,
}

impl LooPath {
    /// Factorises the features `phi` (N × D, taken by value and centred in place) for the
    /// targets `y` (N × m) and scores every row: the N × N Gram matrix when N ≤ D, else the
    /// D × D one (through a [`RidgeAccumulator`]).
    pub fn new(phi: Array2<f64>, y: ArrayView2<'_, f64>) -> Result<Self> {
        Self::new_with(phi, y, None)
    }

    /// [`new`](Self::new) for **weighted** ridge, min Σᵢ wᵢ‖yᵢ − Wᵀφᵢ − b‖² + λ‖W‖², with
    /// row weights `weights` (finite, > 0). Weighted least squares is plain least squares on
    /// the rows scaled by rᵢ = √wᵢ with the intercept's column r in place of 1: with the weighted
    /// means μ and ȳ, the scaled centred rows rᵢ(φᵢ − μ) and targets rᵢ(yᵢ − ȳ) have the hat
    /// matrix H̃ = rrᵀ/Σw + Ũ diag(sⱼ/(sⱼ + λ)) Ũᵀ, whose diagonal is the weighted fit's own
    /// leverage hᵢᵢ = wᵢ x̃ᵢᵀ(X̃ᵀWX̃ + Λ)⁻¹x̃ᵢ, and leaving row i out changes its prediction to
    /// ŷ₋ᵢ = yᵢ − eᵢ/(1 − hᵢᵢ) with eᵢ its residual (the scaled residual over rᵢ). The scores
    /// weigh each row by wᵢ: the weighted error rate Σwᵢ·errᵢ/Σwᵢ (errᵢ = 1 for a wrong row)
    /// and squared error.
    /// Where N > D, the weights' square roots are rounded as the weighted statistics round
    /// them ([`crate::exact::WeightGrid`]).
    ///
    /// ```
    /// use ndarray::{Array2, s};
    /// use rks_solvers::loo::LooPath;
    ///
    /// // Integer weights score as repeated rows would, save for leaving out all copies at once.
    /// let phi = Array2::from_shape_fn((12, 20), |(i, j)| ((i * 20 + j) as f64 * 0.37).sin());
    /// let y = Array2::from_shape_fn((12, 1), |(i, _)| (i as f64 * 0.5).cos());
    /// let mut w = vec![1.0; 12];
    /// w[0] = 3.0;
    /// let weighted = LooPath::new_weighted(phi.clone(), y.view(), &w)?;
    /// let plain = LooPath::new(phi, y.view())?;
    /// // Row 0 counts three times in the weighted squared error.
    /// let (a, b) = (weighted.score(0.1, None).mse, plain.score(0.1, None).mse);
    /// assert!(a.is_finite() && a != b);
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn new_weighted(phi: Array2<f64>, y: ArrayView2<'_, f64>, weights: &[f64]) -> Result<Self> {
        check_positive_row_weights(weights, phi.nrows(), "a leave-one-out path")?;
        Self::new_with(phi, y, Some(weights))
    }

    /// [`new`](Self::new) or [`new_weighted`](Self::new_weighted).
    fn new_with(phi: Array2<f64>, y: ArrayView2<'_, f64>, weights: Option<&[f64]>) -> Result<Self> {
        check_rows(phi.nrows(), y.nrows())?;
        let (rows, dim) = phi.dim();
        if rows < 2 {
            return Err(SolversError::EmptyInput(
                "leave-one-out needs at least two rows".into(),
            ));
        }
        check_finite("feature", phi.view())?;
        check_finite("target", y)?;
        if rows > dim {
            let acc = statistics_of(phi.view(), y, weights)?;
            return match weights {
                None => Self::from_statistics(&acc, phi, y),
                Some(w) => Self::from_weighted_statistics(&acc, phi, y, w),
            };
        }
        // The N × N Gram matrix, its eigenvectors and U: checked before the first is made.
        let bytes = 3 * 8 * (rows as u128) * (rows as u128);
        rks::alloc::probe(
            bytes,
            "the dual Gram matrix and its eigenvectors",
            rks::error::Param::Rows,
        )?;
        let mut phi = if phi.is_standard_layout() {
            phi
        } else {
            phi.as_standard_layout().into_owned()
        };
        let n = rows as f64;
        let (mu, targets) = match weights {
            None => {
                let mu: Vec<f64> = phi.axis_iter(Axis(1)).map(|c| c.sum() / n).collect();
                for mut row in phi.rows_mut() {
                    row.iter_mut().zip(&mu).for_each(|(v, m)| *v -= m);
                }
                (mu, Targets::plain(y))
            }
            Some(w) => {
                let targets = Targets::weighted(y, w);
                let total = targets.total_weight;
                let mu: Vec<f64> = phi
                    .axis_iter(Axis(1))
                    .map(|c| c.iter().zip(w).map(|(v, w)| v * w).sum::<f64>() / total)
                    .collect();
                for (mut row, &r) in phi.rows_mut().into_iter().zip(&targets.scale) {
                    row.iter_mut().zip(&mu).for_each(|(v, m)| *v = r * (*v - m));
                }
                (mu, targets)
            }
        };
        let trace: f64 = phi.iter().map(|v| v * v).sum();
        let gram = row_gram(phi.view());
        Self::from_centred_gram(gram, targets, (dim, rows.max(dim)), mu, trace, |gram| {
            Weights::Rows { phi, gram }
        })
    }

    /// The path from the centred N × N Gram matrix `gram` (its lower triangle is read) of a
    /// fit on every row: its eigendecomposition gives U and s; `dim` is the λ grid's D, `size`
    /// scales the floor below which eigenvalues count as zero ([`kept`]), `mu` the features'
    /// means (empty without features) and `trace` tr(ΦcᵀΦc); `weights` keeps what the final
    /// solve needs, given the Gram matrix back.
    fn from_centred_gram(
        gram: Array2<f64>,
        targets: Targets,
        (dim, size): (usize, usize),
        mu: Vec<f64>,
        trace: f64,
        weights: impl FnOnce(Array2<f64>) -> Weights,
    ) -> Result<Self> {
        let rows = gram.nrows();
        let n = rows as f64;
        let Targets {
            y,
            ybar,
            yc,
            scale,
            total_weight,
        } = targets;
        let (vectors, values) = eigen(&gram)?;
        let keep = kept(&values, size);
        // Column-major, as `assemble` keeps it (the vectors are columns of a column-major view).
        let u = Array2::from_shape_fn((rows, keep.len()).f(), |(i, j)| vectors[(i, keep[j])]);
        let s = keep.iter().map(|&j| values[j]).collect();
        let y_tilde = product(u.t(), yc.view());
        Ok(Self::assemble(
            n,
            dim,
            (mu, ybar),
            (y, yc),
            (u, s, y_tilde),
            trace,
            weights(gram),
            (scale, total_weight),
        ))
    }

    /// The path of kernel ridge regression on the exact kernel matrix `k` (N × N, symmetric,
    /// positive semi-definite) with targets `y` (N × m), scoring every row: the same scores as
    /// [`new`](Self::new) on any features with ΦΦᵀ = K (for example a Nyström map with every
    /// row a landmark), from one N × N eigendecomposition of the centred matrix
    /// Kc = (I − 11ᵀ/N) K (I − 11ᵀ/N) = ΦcΦcᵀ. The λ grid's scale is tr(Kc)/N, as for
    /// N features. It scores λ only: [`fit`](Self::fit) has no features to weigh and returns an
    /// error.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use rks_solvers::loo::LooPath;
    ///
    /// let phi = Array2::from_shape_fn((12, 20), |(i, j)| ((i * 20 + j) as f64 * 0.37).sin());
    /// let y = Array2::from_shape_fn((12, 1), |(i, _)| (i as f64 * 0.5).cos());
    /// let by_kernel = LooPath::from_kernel(phi.dot(&phi.t()), y.view())?;
    /// let by_features = LooPath::new(phi, y.view())?;
    /// let (a, b) = (by_kernel.score(0.1, None).mse, by_features.score(0.1, None).mse);
    /// assert!((a - b).abs() < 1e-9 * b);
    /// assert!(by_kernel.fit(0.1).is_err());
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn from_kernel(k: Array2<f64>, y: ArrayView2<'_, f64>) -> Result<Self> {
        Self::from_kernel_with(k, y, None)
    }

    /// [`from_kernel`](Self::from_kernel) for weighted ridge with row weights `weights` (each
    /// finite and positive; see [`new_weighted`](Self::new_weighted)): the same scores as `new_weighted` on
    /// any features with ΦΦᵀ = K, from the scaled, weighted-centred matrix
    /// K̃cᵢⱼ = rᵢrⱼ(Kᵢⱼ − k̄ᵢ − k̄ⱼ + k̿), k̄ᵢ = Σₗwₗ Kᵢₗ/Σw, k̿ = Σₗwₗ k̄ₗ/Σw.
    pub fn from_kernel_weighted(
        k: Array2<f64>,
        y: ArrayView2<'_, f64>,
        weights: &[f64],
    ) -> Result<Self> {
        check_positive_row_weights(weights, k.nrows(), "a leave-one-out path")?;
        Self::from_kernel_with(k, y, Some(weights))
    }

    fn from_kernel_with(
        k: Array2<f64>,
        y: ArrayView2<'_, f64>,
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        let rows = k.nrows();
        if k.ncols() != rows {
            return Err(SolversError::DimensionMismatch {
                what: "columns of the kernel matrix (it is square)",
                expected: rows,
                found: k.ncols(),
            });
        }
        check_rows(rows, y.nrows())?;
        if rows < 2 {
            return Err(SolversError::EmptyInput(
                "leave-one-out needs at least two rows".into(),
            ));
        }
        check_finite("kernel value", k.view())?;
        check_finite("target", y)?;
        rks::alloc::probe(
            2 * 8 * (rows as u128) * (rows as u128),
            "the centred kernel matrix and its eigenvectors",
            rks::error::Param::Rows,
        )?;
        let n = rows as f64;
        let kc = match weights {
            None => {
                // Kc = K − 1k̄ᵀ − k̄1ᵀ + k̿, with k̄ the row means (K symmetric: also the
                // column means).
                let means: Vec<f64> = k.axis_iter(Axis(0)).map(|r| r.sum() / n).collect();
                let grand = means.iter().sum::<f64>() / n;
                Array2::from_shape_fn((rows, rows), |(i, j)| {
                    // From the entry (i, j) with i ≥ j: symmetric even when `k` is not exactly.
                    let (i, j) = if i >= j { (i, j) } else { (j, i) };
                    k[[i, j]] - means[i] - means[j] + grand
                })
            }
            Some(w) => {
                let total: f64 = w.iter().sum();
                let means: Vec<f64> = k
                    .axis_iter(Axis(0))
                    .map(|r| r.iter().zip(w).map(|(k, w)| k * w).sum::<f64>() / total)
                    .collect();
                let grand = means.iter().zip(w).map(|(m, w)| m * w).sum::<f64>() / total;
                let r: Vec<f64> = w.iter().map(|w| w.sqrt()).collect();
                Array2::from_shape_fn((rows, rows), |(i, j)| {
                    let (i, j) = if i >= j { (i, j) } else { (j, i) };
                    r[i] * r[j] * (k[[i, j]] - means[i] - means[j] + grand)
                })
            }
        };
        let trace: f64 = (0..rows).map(|i| kc[[i, i]]).sum();
        let targets = match weights {
            None => Targets::plain(y),
            Some(w) => Targets::weighted(y, w),
        };
        Self::from_centred_gram(kc, targets, (rows, rows), Vec::new(), trace, |_| {
            Weights::Kernel
        })
    }

    /// The path of the fit whose statistics are `acc` (N rows, N > D in practice), scoring the
    /// rows `phi` (S × D, uncentred features of rows that were accumulated) with targets `y`
    /// (S × m). Memory O(D² + S·D) whatever N: this is how a fit of many rows, or a streamed
    /// one, scores λ by exact leave-one-out on a sample of its rows.
    pub fn from_statistics(
        acc: &RidgeAccumulator,
        phi: Array2<f64>,
        y: ArrayView2<'_, f64>,
    ) -> Result<Self> {
        if acc.weight_grid().is_some() {
            return Err(crate::error::invalid(
                crate::error::Param::RowWeights,
                "weighted statistics score rows with their weights: from_weighted_statistics",
            ));
        }
        Self::from_statistics_with(acc, phi, y, None)
    }

    /// [`from_statistics`](Self::from_statistics) for weighted statistics
    /// ([`RidgeAccumulator::new_weighted`]), scoring rows `phi` that were accumulated with the
    /// weights `weights` (each finite and positive; see [`new_weighted`](Self::new_weighted)).
    pub fn from_weighted_statistics(
        acc: &RidgeAccumulator,
        phi: Array2<f64>,
        y: ArrayView2<'_, f64>,
        weights: &[f64],
    ) -> Result<Self> {
        if acc.weight_grid().is_none() {
            return Err(crate::error::invalid(
                crate::error::Param::RowWeights,
                "these statistics are not weighted: from_statistics",
            ));
        }
        check_positive_row_weights(weights, phi.nrows(), "a leave-one-out path")?;
        Self::from_statistics_with(acc, phi, y, Some(weights))
    }

    fn from_statistics_with(
        acc: &RidgeAccumulator,
        phi: Array2<f64>,
        y: ArrayView2<'_, f64>,
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        check_rows(phi.nrows(), y.nrows())?;
        for (what, expected, found) in [
            ("features of the scored rows", acc.dim(), phi.ncols()),
            ("outputs of the scored rows", acc.n_outputs(), y.ncols()),
        ] {
            if expected != found {
                return Err(SolversError::DimensionMismatch {
                    what,
                    expected,
                    found,
                });
            }
        }
        let (mu, ybar) = (acc.mean_phi()?, acc.mean_y()?);
        // The scored rows exactly as the statistics summed them (see Grid::round_features),
        // centred (and, weighted, scaled: rᵢ(φᵢ − μ), rᵢ(yᵢ − ȳ); see WeightGrid).
        let (phi, y, yc, scale) = match (weights, acc.weight_grid()) {
            (Some(w), Some(grid)) => {
                let r: Vec<f64> = w.iter().map(|&w| grid.root(grid.integer(w))).collect();
                if let Some(i) = r.iter().position(|&r| r == 0.0) {
                    return Err(crate::error::invalid(
                        crate::error::Param::RowWeights,
                        format!("row {i}'s weight {} rounds to 0 on the weights' grid", w[i]),
                    ));
                }
                let c = acc.grid().target_offset();
                let scaled = Array2::from_shape_fn(phi.dim(), |(i, j)| r[i] * phi[[i, j]]);
                let mut phi = acc.grid().round_features(scaled.view())?;
                let t = Array2::from_shape_fn(y.dim(), |(i, k)| r[i] * (y[[i, k]] - c));
                let t = acc.grid().round_centred_targets(t.view())?;
                for (mut row, &r) in phi.rows_mut().into_iter().zip(&r) {
                    row.iter_mut().zip(&mu).for_each(|(x, m)| *x -= r * m);
                }
                let yc = Array2::from_shape_fn(t.dim(), |(i, k)| t[[i, k]] - r[i] * (ybar[k] - c));
                let y = Array2::from_shape_fn(t.dim(), |(i, k)| c + t[[i, k]] / r[i]);
                (phi, y, yc, r)
            }
            _ => {
                let (mut phi, y) = (
                    acc.grid().round_features(phi.view())?,
                    acc.grid().round_targets(y)?,
                );
                for mut row in phi.rows_mut() {
                    row.iter_mut().zip(&mu).for_each(|(x, m)| *x -= m);
                }
                let yc =
                    Array2::from_shape_fn((y.nrows(), y.ncols()), |(i, k)| y[[i, k]] - ybar[k]);
                (phi, y, yc, Vec::new())
            }
        };
        let path = acc.path()?;
        let (q, z) = path.feature_basis().ok_or_else(|| {
            SolversError::LinearAlgebra("a statistics path has a feature basis".into())
        })?;
        let dim = acc.dim();
        let values = path.eigenvalues();
        let keep = kept(values, (acc.count() as usize).max(dim));
        let v = Array2::from_shape_fn((dim, keep.len()), |(i, j)| q[(i, keep[j])]);
        let s: Vec<f64> = keep.iter().map(|&j| values[j]).collect();
        // Ỹ = UᵀYc = diag(1/√s) Vᵀ B = diag(1/√s) Z (kept rows).
        let y_tilde = Array2::from_shape_fn((keep.len(), z.ncols()), |(j, k)| {
            z[(keep[j], k)] / s[j].sqrt()
        });
        let phi = if phi.is_standard_layout() {
            phi
        } else {
            phi.as_standard_layout().into_owned()
        };
        // U's scored rows = Φc V diag(1/√s).
        let mut u = product(phi.view(), v.view());
        for (j, &sj) in s.iter().enumerate() {
            let scale = 1.0 / sj.sqrt();
            u.column_mut(j).iter_mut().for_each(|x| *x *= scale);
        }
        let trace = path.trace();
        let fit_rows = acc.count() as f64;
        // The weights are solved from C and B, after Q is dropped.
        drop(path);
        let (c, b) = acc.centred()?;
        Ok(Self::assemble(
            fit_rows,
            dim,
            (mu, ybar),
            (y, yc),
            (u, s, y_tilde),
            trace,
            Weights::Features { v, c, b },
            (scale, acc.weight_total()),
        ))
    }

    /// The parts outside the span of U, from U's scored rows and the centred targets (a
    /// weighted fit's scaled; `scale` its rᵢ, empty for a plain fit, and `total_weight` Σwᵢ).
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        fit_rows: f64,
        dim: usize,
        (mu, ybar): (Vec<f64>, Vec<f64>),
        (y, yc): (Array2<f64>, Array2<f64>),
        (u, s, y_tilde): (Array2<f64>, Vec<f64>, Array2<f64>),
        trace: f64,
        weights: Weights,
        (scale, total_weight): (Vec<f64>, f64),
    ) -> Self {
        let u = column_major(u);
        let (spanned, inside) =
            weighted_rows(u.view(), Some(&vec![1.0; u.ncols()]), y_tilde.view());
        let outside = Array2::from_shape_fn((yc.nrows(), yc.ncols()), |(i, k)| {
            yc[(i, k)] - inside[(i, k)]
        });
        let leverage_outside = spanned
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let intercept = match scale.get(i) {
                    Some(r) => r * r / total_weight,
                    None => 1.0 / fit_rows,
                };
                (1.0 - intercept - h).max(0.0)
            })
            .collect();
        Self {
            fit_rows,
            dim,
            mu,
            ybar,
            y,
            u,
            s,
            y_tilde,
            outside,
            leverage_outside,
            trace,
            weights,
            scale,
        }
    }

    /// Rows N of the fit.
    pub fn fit_rows(&self) -> usize {
        self.fit_rows as usize
    }

    /// Rows scored.
    pub fn scored_rows(&self) -> usize {
        self.y.nrows()
    }

    /// The nonzero eigenvalues of the centred ΦᵀΦ, non-decreasing.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.s
    }

    /// tr(C)/D, the mean eigenvalue over all D features: the natural scale for λ.
    pub fn mean_eigenvalue(&self) -> f64 {
        self.trace / self.dim.max(1) as f64
    }

    /// The default λ grid of this path ([`default_grid`] at [`mean_eigenvalue`](Self::mean_eigenvalue)).
    pub fn default_grid(&self) -> Vec<f64> {
        default_grid(self.mean_eigenvalue())
    }

    /// The leave-one-out predictions ŷ₋ᵢ of the scored rows (S × m) at λ > 0. A row whose leverage is 1 (the fit
    /// interpolates it and leaving it out is undefined) gets +∞.
    pub fn predictions(&self, lambda: f64) -> Array2<f64> {
        let mut one = self.predictions_at(&[lambda]);
        one.pop()
            .unwrap_or_else(|| unreachable!("one λ gives one set of predictions"))
    }

    /// [`predictions`](Self::predictions) at every λ of `lambdas`, in order: the same values,
    /// from passes over U that serve several λ at once.
    pub fn predictions_at(&self, lambdas: &[f64]) -> Vec<Array2<f64>> {
        let shrinks: Vec<Vec<f64>> = lambdas
            .iter()
            .map(|&lambda| self.s.iter().map(|&s| lambda / (s + lambda)).collect())
            .collect();
        let scaled: Vec<Array2<f64>> = shrinks
            .iter()
            .map(|shrink| {
                Array2::from_shape_fn((self.y_tilde.nrows(), self.y_tilde.ncols()), |(j, k)| {
                    self.y_tilde[(j, k)] * shrink[j]
                })
            })
            .collect();
        // Each row's leverage inside the span at λ, Σⱼ Uᵢⱼ²·λ/(sⱼ + λ), and U·(the shrunk Ỹ).
        let terms: Vec<(Option<&[f64]>, ArrayView2<'_, f64>)> = shrinks
            .iter()
            .zip(&scaled)
            .map(|(shrink, scaled)| (Some(&shrink[..]), scaled.view()))
            .collect();
        weighted_rows_at(self.u.view(), &terms)
            .into_iter()
            .map(|(inside, residual)| self.predictions_from(&inside, &residual))
            .collect()
    }

    /// The predictions from the leverages inside the span and U·(the shrunk Ỹ) at one λ.
    fn predictions_from(&self, inside: &[f64], residual: &Array2<f64>) -> Array2<f64> {
        let m = self.y.ncols();
        let mut out = Array2::zeros((self.y.nrows(), m));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut row)| {
                let free = self.leverage_outside[i] + inside[i];
                // A weighted fit's residuals are of the scaled rows: rᵢ times the row's own.
                let r = self.scale.get(i).copied().unwrap_or(1.0);
                for k in 0..m {
                    let e = self.outside[(i, k)] + residual[(i, k)];
                    let e = if self.scale.is_empty() { e } else { e / r };
                    row[k] = if free > 0.0 {
                        self.y[[i, k]] - e / free
                    } else {
                        f64::INFINITY
                    };
                }
            });
        out
    }

    /// The leave-one-out score at λ > 0. `classes` (one class index per row, with ±1 one-hot
    /// targets of [`signed_one_hot`](crate::labels::signed_one_hot), one column for two classes)
    /// asks for the error rate too.
    ///
    /// A weighted path's scores weigh each row by its weight ([`LooScore::of_weighted`]).
    pub fn score(&self, lambda: f64, classes: Option<(&[usize], usize)>) -> LooScore {
        self.score_of(self.predictions(lambda), classes)
    }

    /// The score of leave-one-out predictions of the scored rows.
    fn score_of(&self, predicted: Array2<f64>, classes: Option<(&[usize], usize)>) -> LooScore {
        let weights = self.row_weights();
        LooScore::of_weighted(predicted, self.y.view(), classes, weights.as_deref())
    }

    /// The scored rows' weights wᵢ = rᵢ² (`None` for a plain fit).
    pub fn row_weights(&self) -> Option<Vec<f64>> {
        (!self.scale.is_empty()).then(|| self.scale.iter().map(|r| r * r).collect())
    }

    /// [`score`](Self::score) at every λ of `lambdas`, in order (the same scores, from
    /// [`predictions_at`](Self::predictions_at)).
    pub fn scores(&self, lambdas: &[f64], classes: Option<(&[usize], usize)>) -> Vec<LooScore> {
        self.predictions_at(lambdas)
            .into_iter()
            .map(|p| self.score_of(p, classes))
            .collect()
    }

    /// Each scored row's squared leave-one-out residual at λ > 0 (the mean over the outputs):
    /// the values whose mean is [`score`](Self::score)'s squared error, for paired comparisons
    /// ([`clearly_lower`]).
    ///
    /// A weighted path's residuals are each times wᵢ/w̄ (w̄ the scored rows' mean weight), so
    /// that their mean is the weighted squared error.
    pub fn squared_residuals(&self, lambda: f64) -> Vec<f64> {
        let plain = row_squared_errors(self.predictions(lambda).view(), self.y.view());
        match self.row_weights() {
            Some(w) => relative_weights(&w)
                .iter()
                .zip(plain)
                .map(|(w, e)| w * e)
                .collect(),
            None => plain,
        }
    }

    /// The ridge model at λ > 0 on all rows, solved by Cholesky: the same bits on every CPU
    /// (the eigendecomposition behind [`score`](Self::score) is not used).
    pub fn fit(&self, lambda: f64) -> Result<Ridge> {
        let w = match &self.weights {
            Weights::Rows { phi, gram } => {
                // (A weighted path's rows are scaled: rᵢ(yᵢ − ȳ).)
                let r = |i: usize| self.scale.get(i).copied().unwrap_or(1.0);
                let yc = Array2::from_shape_fn(self.y.dim(), |(i, k)| {
                    if self.scale.is_empty() {
                        self.y[[i, k]] - self.ybar[k]
                    } else {
                        r(i) * (self.y[[i, k]] - self.ybar[k])
                    }
                });
                let alpha =
                    shifted_solve(gram.clone(), lambda, yc.view(), "K + λI", "use a larger λ")?;
                transposed_product(phi.view(), alpha.view())
            }
            Weights::Features { c, b, .. } => {
                shifted_solve(c.clone(), lambda, b.view(), "C + λI", "use a larger λ")?
            }
            Weights::Kernel => {
                return Err(SolversError::LinearAlgebra(
                    "a leave-one-out path from a kernel matrix scores λ; it has no features \
                     to fit weights on"
                        .into(),
                ));
            }
        };
        ridge_from(w, &self.mu, &self.ybar, lambda, None)
    }

    /// The ridge model at λ > 0 from the eigendecomposition, O(D·r·m) instead of a
    /// factorisation per λ: the same as [`fit`](Self::fit) to rounding, for scores on held-out
    /// rows (the k-fold paths of [`crate::cv`]); a model is always solved by [`fit`](Self::fit).
    pub(crate) fn fit_for_scoring(&self, lambda: f64) -> Result<Ridge> {
        let scaled = |factor: &dyn Fn(f64) -> f64| {
            Array2::from_shape_fn((self.y_tilde.nrows(), self.y_tilde.ncols()), |(j, k)| {
                self.y_tilde[(j, k)] * factor(self.s[j])
            })
        };
        let w = match &self.weights {
            // W = Φcᵀ U diag(1/(s + λ)) Ỹ (U: every row's, the rows being the fit's).
            Weights::Rows { phi, .. } => {
                let (_, alpha) =
                    weighted_rows(self.u.view(), None, scaled(&|s| 1.0 / (s + lambda)).view());
                transposed_product(phi.view(), alpha.view())
            }
            // W = V diag(√s/(s + λ)) Ỹ.
            Weights::Features { v, .. } => {
                product(v.view(), scaled(&|s| s.sqrt() / (s + lambda)).view())
            }
            Weights::Kernel => return self.fit(lambda),
        };
        ridge_from(w, &self.mu, &self.ybar, lambda, None)
    }
}

/// The targets of a path's rows: as given, their (weighted) means, the centred targets the
/// factorisation sees (a weighted fit's scaled, rᵢ(yᵢ − ȳ)), and the weights' rᵢ and Σwᵢ.
struct Targets {
    y: Array2<f64>,
    ybar: Vec<f64>,
    yc: Array2<f64>,
    /// rᵢ = √wᵢ (empty for a plain fit).
    scale: Vec<f64>,
    total_weight: f64,
}

impl Targets {
    fn plain(y: ArrayView2<'_, f64>) -> Self {
        let n = y.nrows() as f64;
        let ybar: Vec<f64> = y.axis_iter(Axis(1)).map(|c| c.sum() / n).collect();
        let yc = Array2::from_shape_fn(y.dim(), |(i, k)| y[[i, k]] - ybar[k]);
        Self {
            y: y.to_owned(),
            ybar,
            yc,
            scale: Vec::new(),
            total_weight: n,
        }
    }

    fn weighted(y: ArrayView2<'_, f64>, w: &[f64]) -> Self {
        let total: f64 = w.iter().sum();
        let ybar: Vec<f64> = y
            .axis_iter(Axis(1))
            .map(|c| c.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / total)
            .collect();
        let scale: Vec<f64> = w.iter().map(|w| w.sqrt()).collect();
        let yc = Array2::from_shape_fn(y.dim(), |(i, k)| scale[i] * (y[[i, k]] - ybar[k]));
        Self {
            y: y.to_owned(),
            ybar,
            yc,
            scale,
            total_weight: total,
        }
    }
}

/// Each weight over their mean (1 for equal weights).
pub(crate) fn relative_weights(w: &[f64]) -> Vec<f64> {
    let mean = w.iter().sum::<f64>() / w.len().max(1) as f64;
    w.iter().map(|w| w / mean).collect()
}

/// Indices of the eigenvalues that are not zero to rounding: above ε·max(N, D)·max(s).
fn kept(values: &[f64], size: usize) -> Vec<usize> {
    let top = values.iter().copied().fold(0.0, f64::max);
    let floor = top * f64::EPSILON * size as f64;
    (0..values.len()).filter(|&j| values[j] > floor).collect()
}

/// Rows per parallel block of [`weighted_rows`].
const ROW_BLOCK: usize = 256;

/// `a` with its columns contiguous (column-major), as [`weighted_rows`] reads it.
fn column_major(a: Array2<f64>) -> Array2<f64> {
    if a.t().is_standard_layout() {
        return a;
    }
    let mut f = Array2::zeros(a.raw_dim().f());
    f.assign(&a);
    f
}

/// For every row i of U (N × r): Σⱼ Uᵢⱼ²·wⱼ (with `w`; empty without) and (U·C)ᵢₖ = Σⱼ Uᵢⱼ·Cⱼₖ,
/// each sum over j in order from 0 with separate multiplies and adds, so the same bits on every
/// CPU and for any thread count. [`weighted_rows_at`] with one term.
fn weighted_rows(
    u: ArrayView2<'_, f64>,
    w: Option<&[f64]>,
    c: ArrayView2<'_, f64>,
) -> (Vec<f64>, Array2<f64>) {
    let mut one = weighted_rows_at(u, &[(w, c)]);
    one.pop()
        .unwrap_or_else(|| unreachable!("one term gives one result"))
}

/// Doubles of the accumulators a block of rows keeps for the terms it serves in one walk over
/// U's columns (32 KiB: within the L1 cache).
const BLOCK_SUMS: usize = 4096;

/// [`weighted_rows`] for each term (wₜ, Cₜ) of `terms` (all Cₜ of the same shape), in order:
/// each result equal to the term's alone, bit for bit. Blocks of rows in parallel, each walking
/// U's columns (contiguous when U is column-major, see [`column_major`]) with its sums in L1
/// cache, so the compiler vectorises across the block's rows; each walk serves as many terms as
/// their sums fit in [`BLOCK_SUMS`]. A path scores every λ of its grid this way: one pass over U
/// per λ was memory-bound (U is N × r, up to hundreds of MB), one per group of λ reads it a few
/// times at most. (Before: a GEMM packed all of U for every λ and walked it again for the
/// leverages; the default fit of spam 38.4–39.2 → 36.2–38.5 CPU s with one pass per λ.)
fn weighted_rows_at(
    u: ArrayView2<'_, f64>,
    terms: &[(Option<&[f64]>, ArrayView2<'_, f64>)],
) -> Vec<(Vec<f64>, Array2<f64>)> {
    let (n, r) = u.dim();
    let Some(&(_, first)) = terms.first() else {
        return Vec::new();
    };
    let m = first.ncols();
    for (w, c) in terms {
        assert_eq!(
            c.dim(),
            (r, m),
            "weighted_rows: each C has a row per column of U"
        );
        assert!(
            w.is_none_or(|w| w.len() == r),
            "weighted_rows: w has an entry per column of U"
        );
    }
    let group = (BLOCK_SUMS / (ROW_BLOCK * (m + 1))).max(1);
    let starts: Vec<usize> = (0..n).step_by(ROW_BLOCK).collect();
    let mut results: Vec<(Vec<f64>, Array2<f64>)> = terms
        .iter()
        .map(|(w, _)| {
            let sums = Vec::with_capacity(if w.is_some() { n } else { 0 });
            (sums, Array2::zeros((n, m)))
        })
        .collect();
    for (terms, results) in terms.chunks(group).zip(results.chunks_mut(group)) {
        // Per block: for each term, its sums and its block of U·C (column k at k·len).
        let blocks: Vec<Vec<(Vec<f64>, Vec<f64>)>> = starts
            .par_iter()
            .map(|&start| {
                let len = ROW_BLOCK.min(n - start);
                let mut acc: Vec<(Vec<f64>, Vec<f64>)> = terms
                    .iter()
                    .map(|(w, _)| {
                        (
                            vec![0.0; if w.is_some() { len } else { 0 }],
                            vec![0.0; m * len],
                        )
                    })
                    .collect();
                let mut copy = Vec::new();
                for j in 0..r {
                    let column = u.column(j);
                    let column = column.slice_axis(Axis(0), Slice::from(start..start + len));
                    let column = match column.as_slice() {
                        Some(column) => column,
                        None => {
                            copy.clear();
                            copy.extend(column.iter().copied());
                            &copy[..]
                        }
                    };
                    for ((w, c), (sums, products)) in terms.iter().zip(acc.iter_mut()) {
                        if let Some(w) = w {
                            let wj = w[j];
                            for (s, &x) in sums.iter_mut().zip(column) {
                                *s += x * x * wj;
                            }
                        }
                        for (k, out) in products.chunks_exact_mut(len).enumerate() {
                            let cjk = c[(j, k)];
                            for (o, &x) in out.iter_mut().zip(column) {
                                *o += x * cjk;
                            }
                        }
                    }
                }
                acc
            })
            .collect();
        for (&start, block) in starts.iter().zip(&blocks) {
            let len = ROW_BLOCK.min(n - start);
            for ((sums, products), (block_sums, block_products)) in results.iter_mut().zip(block) {
                sums.extend_from_slice(block_sums);
                for (k, column) in block_products.chunks_exact(len.max(1)).enumerate() {
                    for (i, &v) in column.iter().enumerate() {
                        products[(start + i, k)] = v;
                    }
                }
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::signed_one_hot;
    use crate::ridge::RidgeAccumulator;

    /// Values on a 2⁻¹⁰ grid: the exact statistics' feature grid of values up to 1 in
    /// magnitude (10 bits) holds them without rounding, so the comparisons with refitted
    /// references keep f64 precision.
    fn on_grid(a: Array2<f64>) -> Array2<f64> {
        a.mapv(|v| (v * 1024.0).round() / 1024.0)
    }

    fn rate(error: f64) -> LooScore {
        LooScore {
            error: Some(error),
            mse: 0.5,
            rows: 0,
        }
    }

    #[test]
    fn a_difference_within_one_standard_error_is_not_clear() {
        // 166 rows at 17.48 % against 16.29 %: two rows, less than the 2.95-point standard error.
        assert!(!rate(0.1629).clearly_better_than(&rate(0.1748), 166));
        // The same rates on 10,000 rows differ by 3.2 standard errors (0.38 points each).
        assert!(rate(0.1629).clearly_better_than(&rate(0.1748), 10_000));
        // Equal errors never switch; a worse challenger never wins; both perfect: nothing to gain.
        assert!(!rate(0.1).clearly_better_than(&rate(0.1), 1_000_000));
        assert!(!rate(0.2).clearly_better_than(&rate(0.1), 1_000_000));
        assert!(!rate(0.0).clearly_better_than(&rate(0.0), 10));
    }

    #[test]
    fn error_rates_within_their_noise_tie_and_the_squared_error_decides() {
        let score = |error, mse, rows| LooScore {
            error: Some(error),
            mse,
            rows,
        };
        // 380 rows: 5.79 % against 6.05 % is one row; the standard error is 1.2 points.
        assert!(score(0.0605, 0.20, 380).better_than(&score(0.0579, 0.21, 380)));
        assert!(!score(0.0579, 0.21, 380).better_than(&score(0.0605, 0.20, 380)));
        // 12.89 % against 5.79 %: 27 rows, far beyond it; the squared error does not matter.
        assert!(!score(0.1289, 0.10, 380).better_than(&score(0.0579, 0.21, 380)));
        assert!(score(0.0579, 0.21, 380).better_than(&score(0.1289, 0.10, 380)));
        // The same one-row gap on 40,000 rows is beyond the 0.12-point standard error.
        assert!(score(0.0579, 0.21, 40_000).better_than(&score(0.0605, 0.20, 40_000)));
        // Rows unknown (0): any difference of error rates decides, as equal rates tie.
        assert!(score(0.0579, 0.21, 0).better_than(&score(0.0605, 0.20, 0)));
        assert!(score(0.06, 0.20, 0).better_than(&score(0.06, 0.21, 0)));
        // Never both ways.
        for (a, b) in [(0.05, 0.06), (0.06, 0.05), (0.05, 0.05)] {
            let (x, y) = (score(a, 0.2, 300), score(b, 0.3, 300));
            assert!(!(x.better_than(&y) && y.better_than(&x)));
        }
    }

    #[test]
    fn without_error_rates_the_squared_error_decides() {
        let mse = |mse| LooScore {
            error: None,
            mse,
            rows: 0,
        };
        assert!(mse(0.1).clearly_better_than(&mse(0.2), 10));
        assert!(!mse(0.2).clearly_better_than(&mse(0.1), 10));
    }

    #[test]
    fn weighted_rows_match_the_definition_for_any_thread_count_and_layout() {
        // 600 rows: two full blocks and a partial one; three columns of C.
        let u = Array2::from_shape_fn((600, 37), |(i, j)| ((i * 37 + j) as f64 * 0.113).sin());
        let c = Array2::from_shape_fn((37, 3), |(j, k)| ((j + 40 * k) as f64 * 0.29).cos());
        let w: Vec<f64> = (0..37).map(|j| 1.0 / (1.0 + j as f64)).collect();
        let sums: Vec<f64> = (0..600)
            .map(|i| (0..37).fold(0.0, |acc, j| acc + u[(i, j)] * u[(i, j)] * w[j]))
            .collect();
        let products = Array2::from_shape_fn((600, 3), |(i, k)| {
            (0..37).fold(0.0, |acc, j| acc + u[(i, j)] * c[(j, k)])
        });
        for threads in [1, 2, 3] {
            for u in [u.clone(), column_major(u.clone())] {
                let got = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| weighted_rows(u.view(), Some(&w), c.view()));
                // The same operations in the same order as the definitions: equal bit for bit.
                assert_eq!(got, (sums.clone(), products.clone()), "{threads} threads");
                assert_eq!(weighted_rows(u.view(), None, c.view()).0, Vec::<f64>::new());
                // Several terms in one walk (more than one group of them: 4 per group with
                // three outputs), each as it is alone.
                let cs: Vec<Array2<f64>> =
                    (0..5).map(|t| c.mapv(|v| v * (t as f64 + 0.5))).collect();
                let ws: Vec<Vec<f64>> = (0..5)
                    .map(|t| w.iter().map(|v| v / (t as f64 + 1.0)).collect())
                    .collect();
                let terms: Vec<_> = (0..5)
                    .map(|t| ((t != 2).then_some(&ws[t][..]), cs[t].view()))
                    .collect();
                let together = weighted_rows_at(u.view(), &terms);
                assert_eq!(together.len(), 5);
                for (t, (w, c)) in terms.iter().enumerate() {
                    assert_eq!(together[t], weighted_rows(u.view(), *w, *c), "term {t}");
                }
            }
        }
    }

    #[test]
    fn paired_squared_errors_are_clearly_lower_only_beyond_the_noise() {
        // The same small gain on every row: clear even on heavy-tailed rows.
        let incumbent: Vec<f64> = (0..50).map(|i| (i as f64).powi(3)).collect();
        let better: Vec<f64> = incumbent.iter().map(|v| v - 0.5).collect();
        assert!(clearly_lower(&better, &incumbent));
        assert!(!clearly_lower(&incumbent, &better));
        // Equal: never. A gain carried by one row of fifty: not clear.
        assert!(!clearly_lower(&incumbent, &incumbent));
        let mut one = incumbent.clone();
        one[49] -= 1000.0;
        assert!(!clearly_lower(&one, &incumbent));
        // Non-finite residuals (an interpolated row) and fewer than two rows: never.
        let mut inf = better.clone();
        inf[0] = f64::INFINITY;
        assert!(!clearly_lower(&inf, &incumbent));
        assert!(!clearly_lower(&[0.0], &[1.0]));
    }

    #[test]
    fn the_squared_error_is_the_mean_of_the_rows_squared_residuals() {
        let phi = Array2::from_shape_fn((12, 3), |(i, j)| ((i * 3 + j) as f64 * 0.37).sin());
        let y = Array2::from_shape_fn((12, 2), |(i, k)| ((i + 5 * k) as f64).cos());
        let path = LooPath::new(phi, y.view()).unwrap();
        let rows = path.squared_residuals(0.1);
        assert_eq!(rows.len(), 12);
        let mean = rows.iter().sum::<f64>() / 12.0;
        assert!((mean - path.score(0.1, None).mse).abs() < 1e-12 * mean.max(1.0));
    }

    /// Statistics of these rows on the grid that covers them.
    fn accumulator(phi: &Array2<f64>, y: &Array2<f64>) -> RidgeAccumulator {
        let grid = crate::exact::Grid::covering(phi.view(), y.view()).unwrap();
        RidgeAccumulator::new(phi.ncols(), y.ncols(), grid).unwrap()
    }

    fn problem(rows: usize, dim: usize, outputs: usize) -> (Array2<f64>, Array2<f64>) {
        let phi = on_grid(Array2::from_shape_fn((rows, dim), |(i, j)| {
            ((i * 131 + j * 17 + i * j) as f64 * 0.37).sin()
        }));
        let y = on_grid(Array2::from_shape_fn((rows, outputs), |(i, k)| {
            phi[[i, k % dim]] - 0.5 * phi[[i, (k + 1) % dim]] + 0.3 * ((i * 7 + k) as f64).cos()
        }));
        (phi, y)
    }

    /// Leave-one-out by refitting N times without row i: the slow, obvious reference.
    fn brute_force(phi: &Array2<f64>, y: &Array2<f64>, lambda: f64) -> Array2<f64> {
        let rows = phi.nrows();
        let mut out = Array2::zeros(y.dim());
        for i in 0..rows {
            let keep: Vec<usize> = (0..rows).filter(|&r| r != i).collect();
            let sub_phi = phi.select(Axis(0), &keep);
            let sub_y = y.select(Axis(0), &keep);
            let mut acc = accumulator(&sub_phi, &sub_y);
            acc.update(sub_phi.view(), sub_y.view()).unwrap();
            let model = acc.solve(lambda).unwrap();
            let p = model
                .predict(phi.slice_axis(Axis(0), (i..=i).into()))
                .unwrap();
            out.row_mut(i).assign(&p.row(0));
        }
        out
    }

    fn max_relative_gap(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
            .fold(0.0, f64::max)
    }

    #[test]
    fn matches_brute_force_with_more_rows_than_features() {
        let (phi, y) = problem(40, 12, 2);
        let path = LooPath::new(phi.clone(), y.view()).unwrap();
        for lambda in [1e-3, 0.1, 10.0] {
            let gap = max_relative_gap(&path.predictions(lambda), &brute_force(&phi, &y, lambda));
            assert!(gap < 1e-8, "λ = {lambda}: {gap}");
        }
    }

    #[test]
    fn matches_brute_force_near_interpolation() {
        // N ≈ D/2… N = D: the dual form, where a primal GCV cancels.
        for (rows, dim) in [(20, 40), (24, 24), (30, 31)] {
            let (phi, y) = problem(rows, dim, 1);
            let path = LooPath::new(phi.clone(), y.view()).unwrap();
            for lambda in [1e-4, 1e-2, 1.0] {
                let gap =
                    max_relative_gap(&path.predictions(lambda), &brute_force(&phi, &y, lambda));
                assert!(gap < 1e-6, "{rows}×{dim}, λ = {lambda}: {gap}");
            }
        }
    }

    #[test]
    fn the_kernel_path_matches_brute_force_on_features_of_that_kernel() {
        // K = ΦΦᵀ, with more rows than features (K singular) and fewer, three outputs.
        for (rows, dim) in [(30, 8), (18, 40)] {
            let (phi, y) = problem(rows, dim, 3);
            let path = LooPath::from_kernel(phi.dot(&phi.t()), y.view()).unwrap();
            assert_eq!(path.fit_rows(), rows);
            assert_eq!(path.scored_rows(), rows);
            for lambda in [1e-3, 0.1, 10.0] {
                let gap =
                    max_relative_gap(&path.predictions(lambda), &brute_force(&phi, &y, lambda));
                assert!(gap < 1e-7, "{rows}×{dim}, λ = {lambda}: {gap}");
            }
            assert!(path.fit(0.1).is_err());
        }
    }

    #[test]
    fn the_kernel_path_refuses_bad_input() {
        let (phi, y) = problem(6, 4, 1);
        let k = phi.dot(&phi.t());
        let first = |a: &Array2<f64>, axis: usize, n: usize| {
            a.slice_axis(Axis(axis), (..n).into()).to_owned()
        };
        assert!(LooPath::from_kernel(first(&k, 1, 5), y.view()).is_err());
        assert!(LooPath::from_kernel(k.clone(), first(&y, 0, 5).view()).is_err());
        let mut bad = k.clone();
        bad[[2, 3]] = f64::NAN;
        assert!(LooPath::from_kernel(bad, y.view()).is_err());
        let one = Array2::from_elem((1, 1), 1.0);
        assert!(LooPath::from_kernel(one, first(&y, 0, 1).view()).is_err());
    }

    #[test]
    fn chosen_lambda_is_interior_near_interpolation() {
        // y = a smooth function + noise, N = D/2: the least leave-one-out error is neither the
        // smallest λ (interpolating the noise) nor the largest (predicting the mean).
        let (rows, dim) = (60, 120);
        let phi = on_grid(Array2::from_shape_fn((rows, dim), |(i, j)| {
            let x = i as f64 / rows as f64;
            (x * (j as f64 + 1.0) * 0.9 + j as f64).cos() / (dim as f64).sqrt()
        }));
        let y = on_grid(Array2::from_shape_fn((rows, 1), |(i, _)| {
            let x = i as f64 / rows as f64;
            (6.0 * x).sin() + 0.3 * ((i * 7919) as f64).sin()
        }));
        let path = LooPath::new(phi.clone(), y.view()).unwrap();
        let grid = path.default_grid();
        let scores: Vec<f64> = grid.iter().map(|&l| path.score(l, None).mse).collect();
        let best = (0..grid.len())
            .min_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        assert!(best > 0 && best + 1 < grid.len(), "chose grid index {best}");
        // And the closed form agrees with refitting at the chosen λ.
        let gap = max_relative_gap(
            &path.predictions(grid[best]),
            &brute_force(&phi, &y, grid[best]),
        );
        assert!(gap < 1e-6, "{gap}");
    }

    #[test]
    fn scoring_a_subset_from_statistics_matches_brute_force() {
        let (phi, y) = problem(60, 10, 2);
        let mut acc = accumulator(&phi, &y);
        for start in [0, 25] {
            let end = if start == 0 { 25 } else { 60 };
            acc.update(
                phi.slice_axis(Axis(0), (start..end).into()),
                y.slice_axis(Axis(0), (start..end).into()),
            )
            .unwrap();
        }
        let rows = [3, 17, 42, 59];
        let path = LooPath::from_statistics(
            &acc,
            phi.select(Axis(0), &rows),
            y.select(Axis(0), &rows).view(),
        )
        .unwrap();
        assert_eq!((path.fit_rows(), path.scored_rows()), (60, 4));
        let all = brute_force(&phi, &y, 0.05);
        let gap = max_relative_gap(&path.predictions(0.05), &all.select(Axis(0), &rows));
        assert!(gap < 1e-8, "{gap}");
    }

    #[test]
    fn rows_off_the_grid_are_scored_as_the_statistics_hold_them() {
        // Rows off the grid, near interpolation (N = 24, D = 20), small λ: 1 − hᵢᵢ is small, so
        // each scored row must be the row that was summed, rounded to the grid, for the closed
        // form to equal refitting without it.
        let (rows, dim, lambda) = (24, 20, 1e-4);
        let phi = Array2::from_shape_fn((rows, dim), |(i, j)| {
            ((i * 131 + j * 17 + i * j) as f64 * 0.37).sin() * 0.9
        });
        let y = Array2::from_shape_fn((rows, 1), |(i, _)| (i as f64 * 0.7).cos());
        let grid = crate::exact::Grid::covering(phi.view(), y.view()).unwrap();
        let mut acc = RidgeAccumulator::new(dim, 1, grid).unwrap();
        acc.update(phi.view(), y.view()).unwrap();
        let scored = [0, 5, 11, 23];
        let path = LooPath::from_statistics(
            &acc,
            phi.select(Axis(0), &scored),
            y.select(Axis(0), &scored).view(),
        )
        .unwrap();
        let got = path.predictions(lambda);
        let rounded = grid.round_features(phi.view()).unwrap();
        for (k, &i) in scored.iter().enumerate() {
            let keep: Vec<usize> = (0..rows).filter(|&r| r != i).collect();
            let mut without = RidgeAccumulator::new(dim, 1, grid).unwrap();
            without
                .update(
                    phi.select(Axis(0), &keep).view(),
                    y.select(Axis(0), &keep).view(),
                )
                .unwrap();
            let refit = without
                .solve(lambda)
                .unwrap()
                .predict(rounded.slice_axis(Axis(0), (i..=i).into()))
                .unwrap()[[0, 0]];
            let gap = (got[[k, 0]] - refit).abs() / (1.0 + refit.abs());
            assert!(gap < 1e-6, "row {i}: {} against {refit}", got[[k, 0]]);
        }
    }

    #[test]
    fn fit_equals_the_direct_solve() {
        for (rows, dim) in [(40, 12), (12, 40)] {
            let (phi, y) = problem(rows, dim, 3);
            let path = LooPath::new(phi.clone(), y.view()).unwrap();
            let mut acc = accumulator(&phi, &y);
            acc.update(phi.view(), y.view()).unwrap();
            let direct = acc.solve(0.05).unwrap().predict(phi.view()).unwrap();
            let via_path = path.fit(0.05).unwrap().predict(phi.view()).unwrap();
            assert!(max_relative_gap(&via_path, &direct) < 1e-9);
        }
    }

    #[test]
    fn classification_error_is_the_refitted_error_rate() {
        let (phi, _) = problem(45, 10, 1);
        let classes: Vec<usize> = (0..45)
            .map(|i| usize::from(phi[[i, 0]] > 0.0) + usize::from(phi[[i, 1]] > 0.5))
            .collect();
        let targets = signed_one_hot(&classes, 3);
        let path = LooPath::new(phi.clone(), targets.view()).unwrap();
        let lambda = 0.01;
        let refitted = argmax_rows(&class_scores(brute_force(&phi, &targets, lambda), 3));
        let wrong = refitted
            .iter()
            .zip(&classes)
            .filter(|(a, b)| a != b)
            .count();
        let score = path.score(lambda, Some((&classes, 3)));
        assert_eq!(score.error, Some(wrong as f64 / 45.0));
        // Better than predicting the most frequent class.
        let most = (0..3)
            .map(|k| classes.iter().filter(|&&c| c == k).count())
            .max()
            .unwrap();
        assert!(score.error.unwrap() < 1.0 - most as f64 / 45.0, "{score:?}");
    }
}

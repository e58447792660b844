//! Linear SVMs by dual coordinate descent (Hsieh, Chang, Lin, Keerthi & Sundararajan, "A Dual
//! Coordinate Descent Method for Large-scale Linear SVM", ICML 2008; the LIBLINEAR method).
//!
//! For labels yᵢ ∈ {−1, +1} the primal is min_w ½‖w‖² + C Σᵢ ξ(w; φᵢ, yᵢ) with the hinge
//! ξ = max(0, 1 − yᵢwᵀφᵢ) (L1 loss) or its square (L2 loss). The dual is
//!
//! ```text
//! min_α f(α) = ½ αᵀQ̄α − eᵀα,   0 ≤ αᵢ ≤ U,   Q̄ = Q + D,  Qᵢⱼ = yᵢyⱼ φᵢᵀφⱼ,
//! L1: U = C, Dᵢᵢ = 0;   L2: U = ∞, Dᵢᵢ = 1/(2C),
//! ```
//!
//! and w = Σᵢ yᵢαᵢφᵢ is kept up to date, so one coordinate step costs one dot product and one
//! axpy over a feature row: G = yᵢwᵀφᵢ − 1 + Dᵢᵢαᵢ, αᵢ ← min(max(αᵢ − G/Q̄ᵢᵢ, 0), U).
//! Each epoch visits the rows in a fresh random order; rows whose α sits at a bound with a
//! gradient pushing outwards are *shrunk* (skipped): at the upper bound using the previous
//! epoch's projected-gradient extremes, as in LIBLINEAR, at zero as soon as G > 0.
//! Two consecutive rows both active for a problem are stepped together with one pass over w for
//! both dot products (the second corrected by the first step's exact effect, δ₁φ₁ᵀφ₂) and one
//! for both axpys: the weight vectors, read from cache at every step, are the solver's largest
//! memory stream. The solver stops when max PG − min PG ≤ eps over the active rows and,
//! if rows were shrunk, still holds after they are all reactivated; or at the epoch cap, which the
//! [`SvmReport`] records (`converged = false`).
//!
//! **Bias.** Like LIBLINEAR's `-B b`, the intercept is an extra constant feature of value
//! `bias` appended to every row, so it is regularised with w: the decision value is
//! wᵀφ + w_b·b. `bias = 0` fits no intercept.
//!
//! **Warm start.** [`fit_ovr_warm`] starts from the dual variables of a fit at another C
//! ([`DualStart`]) instead of α = 0, for a path of increasing C (Chu, Zhuang, Wang & Lin, "Warm
//! Start for Parameter Selection of Linear Classifiers", KDD 2015): the start is the previous
//! solution scaled by the ratio of the costs, projected on the new box, α ← min(α·C/C₀, U), and
//! w = Σᵢ yᵢαᵢφᵢ is rebuilt from it. Any start inside the box is a valid one for dual coordinate
//! descent, so the solution is the cold start's to the stopping tolerance; bound support vectors
//! (α = C₀) stay at the bound of the new box, where most of them belong.
//!
//! **Rows.** The solver reads the rows through one row-access trait ([`crate::rows`]): a dense
//! feature matrix (the functions here), or rows held as their non-zero entries
//! ([`crate::rows::SparseRows`], through [`crate::rows::SvmData`]), where a step costs the row's
//! non-zeros instead of D.
//!
//! **Multi-class** is one-vs-rest (k binary problems; two classes use one problem). The k problems
//! share every pass over Φ: each row is loaded once and updates all problems for which it is still
//! active, which divides the memory traffic by up to k. Problems are split into groups that run
//! in parallel (rayon); every problem sees the same row order (one permutation per epoch from a
//! seeded ChaCha8 generator) and its arithmetic does not depend on its group, so the result is
//! bit-identical for any number of threads.

use crate::error::Param;
use ndarray::{Array1, Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SolversError, invalid};
use crate::rows::{DenseRows, Rows};
use crate::validate::{check_finite, check_rows};
use rks::simd::Kernels;

/// The loss on the margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SvmLoss {
    /// L1 loss: max(0, 1 − y wᵀφ) (the standard SVM, box constraint 0 ≤ α ≤ C).
    Hinge,
    /// L2 loss: max(0, 1 − y wᵀφ)² (LIBLINEAR's and scikit-learn's `LinearSVC` default).
    #[default]
    SquaredHinge,
}

/// Hyper-parameters of the dual coordinate descent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmParams {
    /// Penalty C > 0 on the losses.
    pub c: f64,
    /// Hinge or squared hinge.
    pub loss: SvmLoss,
    /// Stop when max PG − min PG ≤ eps (LIBLINEAR's `-e`, default 0.1).
    pub eps: f64,
    /// Epoch cap (≥ 1); reaching it is reported as non-convergence.
    pub max_epochs: usize,
    /// Skip rows whose α is stuck at a bound (LIBLINEAR's shrinking).
    pub shrinking: bool,
    /// Value of the constant feature that carries the intercept (≥ 0; 0 = no intercept).
    pub bias: f64,
    /// Seed of the row permutations.
    pub seed: u64,
}

impl Default for SvmParams {
    fn default() -> Self {
        Self {
            c: 1.0,
            loss: SvmLoss::SquaredHinge,
            eps: 0.1,
            max_epochs: 1000,
            shrinking: true,
            bias: 1.0,
            seed: 0,
        }
    }
}

impl SvmParams {
    /// Checks the ranges: C > 0, eps > 0, max_epochs ≥ 1, bias ≥ 0, all finite.
    pub fn validate(&self) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(invalid(
                Param::C,
                format!("must be finite and > 0, got {}", self.c),
            ));
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(invalid(
                Param::Eps,
                format!("must be finite and > 0, got {}", self.eps),
            ));
        }
        if self.max_epochs == 0 {
            return Err(invalid(Param::MaxEpochs, "must be at least 1"));
        }
        if !(self.bias.is_finite() && self.bias >= 0.0) {
            return Err(invalid(
                Param::Bias,
                format!("must be finite and ≥ 0, got {}", self.bias),
            ));
        }
        Ok(())
    }

    /// (U, Dᵢᵢ) of the dual for this loss.
    fn bound_and_diagonal(&self) -> (f64, f64) {
        match self.loss {
            SvmLoss::Hinge => (self.c, 0.0),
            SvmLoss::SquaredHinge => (f64::INFINITY, 0.5 / self.c),
        }
    }
}

/// How one binary problem ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmReport {
    /// Epochs run.
    pub epochs: usize,
    /// Whether the stopping rule was met before the epoch cap.
    pub converged: bool,
    /// max PG − min PG of the last epoch.
    pub final_gap: f64,
    /// Number of rows with α > 0.
    pub n_support: usize,
    /// Coordinate steps taken (one dot product each).
    pub steps: u64,
    /// Steps that changed α (one axpy each).
    pub updates: u64,
    /// Dual objective f(α) after each epoch (non-increasing).
    pub objective: Vec<f64>,
}

/// A fitted binary SVM: decision value wᵀφ + w_b·bias.
#[derive(Debug, Clone, PartialEq)]
pub struct BinarySvm {
    /// Weights w (length D).
    pub weights: Vec<f64>,
    /// Weight of the constant bias feature.
    pub bias_weight: f64,
    /// The bias feature's value (from the params).
    pub bias: f64,
    /// Dual variables α (one per training row).
    pub alpha: Vec<f64>,
    /// Convergence report.
    pub report: SvmReport,
}

impl BinarySvm {
    /// The intercept w_b·bias.
    pub fn intercept(&self) -> f64 {
        self.bias_weight * self.bias
    }
}

/// A fitted one-vs-rest linear SVM (one problem for two classes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSvm {
    /// D × m weights (m = 1 for two classes, else k).
    pub weights: Array2<f64>,
    /// m intercepts.
    pub intercept: Array1<f64>,
    /// One report per binary problem.
    pub reports: Vec<SvmReport>,
}

impl LinearSvm {
    /// Raw decision values ΦW + 1bᵀ (rows × m).
    pub fn decision_values<F: Kernels>(&self, phi: ArrayView2<'_, F>) -> Result<Array2<f64>> {
        crate::validate::linear_scores(&self.weights, &self.intercept, phi)
    }

    /// Whether every binary problem met the stopping rule.
    pub fn converged(&self) -> bool {
        self.reports.iter().all(|r| r.converged)
    }
}

/// One binary problem's state: "class `positive` against the rest".
struct Problem<F> {
    positive: usize,
    alpha: Vec<f64>,
    w: Vec<F>,
    wb: f64,
    active: Vec<bool>,
    n_active: usize,
    pg_max_old: f64,
    pg_min_old: f64,
    pg_max_new: f64,
    pg_min_new: f64,
    done: bool,
    report: SvmReport,
}

impl<F: Kernels> Problem<F> {
    /// A problem starting at α = `alpha` (inside the box), with w = Σᵢ yᵢαᵢφᵢ and
    /// w_b = Σᵢ yᵢαᵢ·bias summed in f64, row by row.
    fn new<R: Rows<F>>(
        positive: usize,
        alpha: Vec<f64>,
        shared: &Shared<'_, R>,
        bias: f64,
    ) -> Self {
        let (n, dim) = (alpha.len(), shared.rows.dim());
        let mut w = vec![0.0f64; dim];
        let mut wb = 0.0;
        for (i, &a) in alpha.iter().enumerate().filter(|(_, a)| **a != 0.0) {
            let ya = if shared.classes[i] == positive { a } else { -a };
            shared.rows.add_to(i, ya, &mut w);
            wb += ya * bias;
        }
        Self {
            positive,
            alpha,
            w: w.into_iter().map(F::from_f64_lossy).collect(),
            wb,
            active: vec![true; n],
            n_active: n,
            pg_max_old: f64::INFINITY,
            pg_min_old: f64::NEG_INFINITY,
            pg_max_new: f64::NEG_INFINITY,
            pg_min_new: f64::INFINITY,
            done: false,
            report: SvmReport {
                epochs: 0,
                converged: false,
                final_gap: f64::INFINITY,
                n_support: 0,
                steps: 0,
                updates: 0,
                objective: Vec::new(),
            },
        }
    }

    /// f(α) = ½(‖w‖² + w_b²) + ½ Σ Dᵢᵢαᵢ² − Σα, using wᵀw = αᵀQα.
    fn objective<R>(&self, shared: &Shared<'_, R>) -> f64 {
        let ww: f64 =
            self.w.iter().map(|v| v.to_f64_exact().powi(2)).sum::<f64>() + self.wb * self.wb;
        if shared.weights.is_some() {
            let (sum, sq) = self
                .alpha
                .iter()
                .enumerate()
                .fold((0.0, 0.0), |(s, q), (i, a)| {
                    (s + a, q + shared.diag(i) * a * a)
                });
            return 0.5 * ww + 0.5 * sq - sum;
        }
        let (sum, sq) = self
            .alpha
            .iter()
            .fold((0.0, 0.0), |(s, q), a| (s + a, q + a * a));
        0.5 * ww + 0.5 * shared.diag * sq - sum
    }
}

/// Row-independent data every problem reads.
struct Shared<'a, R> {
    rows: &'a R,
    classes: &'a [usize],
    /// Q̄ᵢᵢ = ‖φᵢ‖² + bias² + Dᵢᵢ.
    qd: Vec<f64>,
    upper: f64,
    diag: f64,
    /// Row weights: row i's cost is C·wᵢ (`None`: every row's is C).
    weights: Option<&'a [f64]>,
}

impl<R> Shared<'_, R> {
    /// Row i's bound Uᵢ: U, or C·wᵢ for the hinge of a weighted fit (∞ stays ∞).
    #[inline]
    fn upper(&self, i: usize) -> f64 {
        match self.weights {
            None => self.upper,
            Some(w) => self.upper * w[i],
        }
    }

    /// Row i's Dᵢᵢ: D, or 1/(2C·wᵢ) for the squared hinge of a weighted fit (0 stays 0).
    #[inline]
    fn diag(&self, i: usize) -> f64 {
        match self.weights {
            None => self.diag,
            Some(w) => self.diag / w[i],
        }
    }
}

/// Fits a binary SVM on rows `phi` with labels `y` ∈ {−1, +1} (anything > 0 counts as +1).
///
/// ```
/// use ndarray::array;
/// use rks_solvers::svm::{fit_binary, SvmParams};
///
/// let phi = array![[1.0, 2.0], [2.0, 3.0], [-1.0, -1.5], [-2.0, -1.0]];
/// let y = [1.0, 1.0, -1.0, -1.0];
/// let params = SvmParams { c: 10.0, eps: 1e-6, ..SvmParams::default() };
/// let svm = fit_binary(phi.view(), &y, &params).unwrap();
/// assert!(svm.report.converged);
/// let f = |x: [f64; 2]| svm.weights[0] * x[0] + svm.weights[1] * x[1] + svm.intercept();
/// assert!(f([1.5, 2.5]) > 0.0 && f([-1.5, -1.2]) < 0.0);
/// ```
pub fn fit_binary<F: Kernels>(
    phi: ArrayView2<'_, F>,
    y: &[f64],
    params: &SvmParams,
) -> Result<BinarySvm> {
    check_rows(phi.nrows(), y.len())?;
    if let Some(row) = y.iter().position(|v| !v.is_finite()) {
        return Err(SolversError::NonFinite {
            what: "target",
            row,
            col: 0,
            value: y[row],
        });
    }
    let classes: Vec<usize> = y.iter().map(|&v| usize::from(v > 0.0)).collect();
    check_finite("feature", phi)?;
    let phi = phi.as_standard_layout();
    let mut problems = solve(&dense_rows(&phi)?, &classes, &[1], params, None, None)?;
    let p = problems
        .pop()
        .ok_or_else(|| SolversError::EmptyInput("no problem to solve".into()))?;
    Ok(BinarySvm {
        weights: p.w.iter().map(|v| v.to_f64_exact()).collect(),
        bias_weight: p.wb,
        bias: params.bias,
        alpha: p.alpha,
        report: p.report,
    })
}

/// Fits a one-vs-rest SVM: `classes[i]` ∈ 0..n_classes is row i's class (n_classes ≥ 2).
/// Two classes give one problem (class 1 positive), more give one problem per class.
pub fn fit_ovr<F: Kernels>(
    phi: ArrayView2<'_, F>,
    classes: &[usize],
    n_classes: usize,
    params: &SvmParams,
) -> Result<LinearSvm> {
    Ok(fit_ovr_warm(phi, classes, n_classes, params, None)?.0)
}

/// The dual variables of a one-vs-rest fit at cost `c`: where [`fit_ovr_warm`] can start a fit
/// at another C on the same rows (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct DualStart {
    /// The cost C₀ the variables solve for.
    pub c: f64,
    /// α of each binary problem, one value per row (problems in [`LinearSvm::reports`] order).
    pub alpha: Vec<Vec<f64>>,
}

impl DualStart {
    /// The start for cost `c` under `params`' loss: each α scaled by c/C₀ and clipped to the
    /// box [0, Uᵢ] (Uᵢ = c·wᵢ for the hinge, ∞ for the squared hinge; `weights` the rows').
    fn rescaled(&self, params: &SvmParams, weights: Option<&[f64]>) -> Vec<Vec<f64>> {
        let (upper, _) = params.bound_and_diagonal();
        let ratio = params.c / self.c;
        let bound = |i: usize| weights.map_or(upper, |w| upper * w[i]);
        self.alpha
            .iter()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(i, &v)| (v * ratio).clamp(0.0, bound(i)))
                    .collect()
            })
            .collect()
    }

    fn check(&self, problems: usize, rows: usize) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(invalid(
                Param::C,
                format!("a warm start's C must be finite and > 0, got {}", self.c),
            ));
        }
        if self.alpha.len() != problems || self.alpha.iter().any(|a| a.len() != rows) {
            return Err(invalid(
                Param::Classes,
                format!(
                    "a warm start must hold {problems} problem(s) of {rows} dual variables, got {} of {:?}",
                    self.alpha.len(),
                    self.alpha.iter().map(Vec::len).collect::<Vec<_>>()
                ),
            ));
        }
        if self
            .alpha
            .iter()
            .flatten()
            .any(|a| !(a.is_finite() && *a >= 0.0))
        {
            return Err(invalid(
                Param::C,
                "a warm start's dual variables must be finite and ≥ 0",
            ));
        }
        Ok(())
    }
}

/// [`fit_ovr`] starting from `start`, the dual variables of a fit at another C on the same rows
/// and classes (`None`: α = 0, the cold start), returning the fit and its dual variables.
///
/// Along a path of increasing C each fit starts from the previous one's solution; the result is
/// the cold start's to the stopping tolerance, in fewer epochs.
///
/// ```
/// use ndarray::array;
/// use rks_solvers::svm::{fit_ovr, fit_ovr_warm, SvmParams};
///
/// let phi = array![[1.0, 2.0], [2.0, 3.0], [-1.0, -1.5], [-2.0, -1.0], [0.1, -0.2]];
/// let classes = [1, 1, 0, 0, 1];
/// let tight = |c| SvmParams { c, eps: 1e-8, ..SvmParams::default() };
/// let (_, start) = fit_ovr_warm(phi.view(), &classes, 2, &tight(0.1), None)?;
/// let (warm, _) = fit_ovr_warm(phi.view(), &classes, 2, &tight(10.0), Some(&start))?;
/// let cold = fit_ovr(phi.view(), &classes, 2, &tight(10.0))?;
/// assert!((&warm.weights - &cold.weights).iter().all(|d| d.abs() < 1e-5));
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
pub fn fit_ovr_warm<F: Kernels>(
    phi: ArrayView2<'_, F>,
    classes: &[usize],
    n_classes: usize,
    params: &SvmParams,
    start: Option<&DualStart>,
) -> Result<(LinearSvm, DualStart)> {
    check_rows(phi.nrows(), classes.len())?;
    check_finite("feature", phi)?;
    let phi = phi.as_standard_layout();
    fit_ovr_warm_on(&dense_rows(&phi)?, classes, n_classes, params, start, None)
}

/// [`fit_ovr_warm`] with **row weights**: row i's loss costs C·wᵢ, min ½‖w‖² + C Σᵢ wᵢ ξᵢ —
/// LIBSVM's `-wi` and scikit-learn's `class_weight` when wᵢ is the weight of row i's class,
/// their `sample_weight` in general. In the dual, row i's box is [0, C·wᵢ] (hinge) or its
/// Dᵢᵢ = 1/(2C·wᵢ) (squared hinge). `weights`: one per row, finite and > 0. Under either loss,
/// a weight of 2 is the row counted twice.
///
/// ```
/// use ndarray::{array, concatenate, Axis};
/// use rks_solvers::svm::{fit_ovr, fit_ovr_warm_weighted, SvmLoss, SvmParams};
///
/// let phi = array![[1.0, 2.0], [2.0, 3.0], [-1.0, -1.5], [-2.0, -1.0], [0.5, -0.2]];
/// let classes = [1, 1, 0, 0, 0];
/// let params = SvmParams { c: 1.0, loss: SvmLoss::Hinge, eps: 1e-10, ..SvmParams::default() };
/// let (weighted, _) =
///     fit_ovr_warm_weighted(phi.view(), &classes, 2, &params, None, &[1.0, 1.0, 1.0, 1.0, 2.0])?;
/// // The same as the last row twice.
/// let twice = concatenate![Axis(0), phi, phi.slice(ndarray::s![4..5, ..])];
/// let plain = fit_ovr(twice.view(), &[1, 1, 0, 0, 0, 0], 2, &params)?;
/// assert!((&weighted.weights - &plain.weights).iter().all(|d| d.abs() < 1e-6));
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
pub fn fit_ovr_warm_weighted<F: Kernels>(
    phi: ArrayView2<'_, F>,
    classes: &[usize],
    n_classes: usize,
    params: &SvmParams,
    start: Option<&DualStart>,
    weights: &[f64],
) -> Result<(LinearSvm, DualStart)> {
    check_rows(phi.nrows(), classes.len())?;
    check_finite("feature", phi)?;
    let phi = phi.as_standard_layout();
    fit_ovr_warm_on(
        &dense_rows(&phi)?,
        classes,
        n_classes,
        params,
        start,
        Some(weights),
    )
}

/// The rows of a standard-layout array.
fn dense_rows<'a, F>(phi: &'a ndarray::CowArray<'_, F, ndarray::Ix2>) -> Result<DenseRows<'a, F>> {
    let flat = phi
        .as_slice()
        .ok_or_else(|| SolversError::EmptyInput("feature matrix is not contiguous".into()))?;
    Ok(DenseRows {
        flat,
        rows: phi.nrows(),
        dim: phi.ncols(),
    })
}

/// [`fit_ovr_warm`] on rows held as [`Rows`] (dense or sparse, [`crate::rows`]), with row
/// weights when given ([`fit_ovr_warm_weighted`]).
pub(crate) fn fit_ovr_warm_on<F: Kernels, R: Rows<F>>(
    rows: &R,
    classes: &[usize],
    n_classes: usize,
    params: &SvmParams,
    start: Option<&DualStart>,
    weights: Option<&[f64]>,
) -> Result<(LinearSvm, DualStart)> {
    check_rows(rows.n_rows(), classes.len())?;
    if let Some(w) = weights {
        crate::ridge::check_positive_row_weights(w, rows.n_rows(), "an SVM")?;
    }
    if n_classes < 2 {
        return Err(invalid(
            Param::NClasses,
            format!("one-vs-rest needs at least 2 classes, got {n_classes}"),
        ));
    }
    if let Some(&bad) = classes.iter().find(|&&c| c >= n_classes) {
        return Err(invalid(
            Param::Classes,
            format!("class index {bad} is not below n_classes = {n_classes}"),
        ));
    }
    let positives: Vec<usize> = if n_classes == 2 {
        vec![1]
    } else {
        (0..n_classes).collect()
    };
    let problems = solve(rows, classes, &positives, params, start, weights)?;
    let dim = rows.dim();
    let weights = Array2::from_shape_fn((dim, problems.len()), |(j, k)| {
        problems[k].w[j].to_f64_exact()
    });
    let intercept = problems.iter().map(|p| p.wb * params.bias).collect();
    let mut reports = Vec::with_capacity(problems.len());
    let mut alpha = Vec::with_capacity(problems.len());
    for p in problems {
        reports.push(p.report);
        alpha.push(p.alpha);
    }
    Ok((
        LinearSvm {
            weights,
            intercept,
            reports,
        },
        DualStart { c: params.c, alpha },
    ))
}

fn solve<F: Kernels, R: Rows<F>>(
    rows: &R,
    classes: &[usize],
    positives: &[usize],
    params: &SvmParams,
    start: Option<&DualStart>,
    weights: Option<&[f64]>,
) -> Result<Vec<Problem<F>>> {
    params.validate()?;
    let n = rows.n_rows();
    if n == 0 {
        return Err(SolversError::EmptyInput("no training rows".into()));
    }
    if let Some(start) = start {
        start.check(positives.len(), n)?;
    }
    let (upper, diag) = params.bound_and_diagonal();
    let bias2 = params.bias * params.bias;
    let mut shared = Shared {
        rows,
        classes,
        qd: Vec::new(),
        upper,
        diag,
        weights,
    };
    shared.qd = (0..n)
        .map(|i| rows.squared_norm(i) + bias2 + shared.diag(i))
        .collect();
    let alphas = match start {
        Some(start) => start.rescaled(params, weights),
        None => vec![vec![0.0; n]; positives.len()],
    };
    let mut problems: Vec<Problem<F>> = positives
        .iter()
        .zip(alphas)
        .map(|(&p, alpha)| Problem::new(p, alpha, &shared, params.bias))
        .collect();
    // Groups share each row load; any grouping gives the same bits (see the module docs).
    let group = problems.len().div_ceil(rayon::current_num_threads().max(1));
    problems
        .par_chunks_mut(group.max(1))
        .for_each(|chunk| solve_group(&shared, chunk, params));
    Ok(problems)
}

fn solve_group<F: Kernels, R: Rows<F>>(
    shared: &Shared<'_, R>,
    problems: &mut [Problem<F>],
    params: &SvmParams,
) {
    let n = shared.qd.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    for _ in 0..params.max_epochs {
        if problems.iter().all(|p| p.done) {
            break;
        }
        order.shuffle(&mut rng);
        for p in problems.iter_mut().filter(|p| !p.done) {
            p.pg_max_new = f64::NEG_INFINITY;
            p.pg_min_new = f64::INFINITY;
        }
        for pair in order.chunks(2) {
            let (i, j) = (pair[0], pair.get(1).copied());
            // φᵢᵀφⱼ, computed once for all problems that take the pair step.
            let mut cross = None;
            for p in problems.iter_mut().filter(|p| !p.done) {
                match (p.active[i], j.filter(|&j| p.active[j])) {
                    (true, Some(j)) => {
                        let c = *cross.get_or_insert_with(|| shared.rows.cross(i, j));
                        pair_step(shared, p, i, j, c, params);
                    }
                    (true, None) => step(shared, p, i, params),
                    (false, Some(j)) => step(shared, p, j, params),
                    (false, None) => {}
                }
            }
        }
        for p in problems.iter_mut().filter(|p| !p.done) {
            end_epoch(p, shared, params);
        }
    }
    for p in problems.iter_mut() {
        p.done = true;
        p.report.n_support = p.alpha.iter().filter(|&&a| a > 0.0).count();
    }
}

/// One coordinate step on row i: one dot product, and one axpy if α changed.
#[inline]
fn step<F: Kernels, R: Rows<F>>(
    shared: &Shared<'_, R>,
    p: &mut Problem<F>,
    i: usize,
    params: &SvmParams,
) {
    let margin = shared.rows.dot(i, &p.w) + p.wb * params.bias;
    if let Some(d) = coordinate(shared, p, i, margin, params) {
        shared.rows.axpy(d, i, &mut p.w);
    }
}

/// Two consecutive coordinate steps on rows i then j sharing each pass over w: both dot products
/// in one pass (w·φⱼ before step i), corrected by the exact change step i makes to the margin,
/// δᵢ φᵢᵀφⱼ (plus the bias, which `coordinate` has already moved); then both axpys in one pass.
/// w is the largest stream of the solver (read once per row, from cache), so this halves it.
#[inline]
fn pair_step<F: Kernels, R: Rows<F>>(
    shared: &Shared<'_, R>,
    p: &mut Problem<F>,
    i: usize,
    j: usize,
    cross: f64,
    params: &SvmParams,
) {
    let (wi, wj) = shared.rows.dot2(i, j, &p.w);
    let margin_i = wi + p.wb * params.bias;
    let di = coordinate(shared, p, i, margin_i, params);
    let shift = di.map_or(0.0, |d| d.to_f64_exact() * cross);
    let margin_j = wj + shift + p.wb * params.bias;
    match (di, coordinate(shared, p, j, margin_j, params)) {
        (Some(di), Some(dj)) => shared.rows.axpy2(di, i, dj, j, &mut p.w),
        (Some(d), None) => shared.rows.axpy(d, i, &mut p.w),
        (None, Some(d)) => shared.rows.axpy(d, j, &mut p.w),
        (None, None) => {}
    }
}

/// The scalar part of a coordinate step on row i given its margin wᵀφᵢ + w_b·b (LIBLINEAR's
/// `solve_l2r_l1l2_svc` inner loop): shrinks the row, or updates αᵢ and w_b and returns the
/// change yᵢΔαᵢ to add to w along φᵢ (already rounded to `F`), or `None` when α did not move.
#[inline]
fn coordinate<F: Kernels, R>(
    shared: &Shared<'_, R>,
    p: &mut Problem<F>,
    i: usize,
    margin: f64,
    params: &SvmParams,
) -> Option<F> {
    let yi = if shared.classes[i] == p.positive {
        1.0
    } else {
        -1.0
    };
    p.report.steps += 1;
    let alpha = p.alpha[i];
    let upper = shared.upper(i);
    let g = yi * margin - 1.0 + shared.diag(i) * alpha;
    let mut pg = 0.0;
    if alpha == 0.0 {
        // LIBLINEAR shrinks when G > max PG of the previous epoch; we shrink as soon as G > 0
        // (the bound is optimal for the row now), except in an epoch after a reset
        // (pg_max_old = ∞: the first one and the full re-check after unshrinking, on which the
        // stopping rule relies). Rows shrunk too early are caught by that re-check; on letter
        // this saves a quarter of the dot products for a few more epochs.
        let shrink_above = if p.pg_max_old.is_finite() {
            p.pg_max_old.min(0.0)
        } else {
            f64::INFINITY
        };
        if params.shrinking && g > shrink_above {
            p.active[i] = false;
            p.n_active -= 1;
            return None;
        } else if g < 0.0 {
            pg = g;
        }
    } else if alpha == upper {
        if params.shrinking && g < p.pg_min_old {
            p.active[i] = false;
            p.n_active -= 1;
            return None;
        } else if g > 0.0 {
            pg = g;
        }
    } else {
        pg = g;
    }
    p.pg_max_new = p.pg_max_new.max(pg);
    p.pg_min_new = p.pg_min_new.min(pg);
    if pg.abs() <= 1e-12 {
        return None;
    }
    let qd = shared.qd[i];
    let new = if qd > 0.0 {
        (alpha - g / qd).clamp(0.0, upper)
    } else if g < 0.0 {
        // A zero row under the L1 loss: the objective falls linearly in α up to the bound.
        upper
    } else {
        0.0
    };
    p.alpha[i] = new;
    p.report.updates += 1;
    let d = (new - alpha) * yi;
    p.wb += d * params.bias;
    Some(F::from_f64_lossy(d))
}

/// LIBLINEAR's end-of-epoch test, with the unshrink-and-recheck when rows were skipped.
fn end_epoch<F: Kernels, R>(p: &mut Problem<F>, shared: &Shared<'_, R>, params: &SvmParams) {
    p.report.epochs += 1;
    p.report.objective.push(p.objective(shared));
    let gap = p.pg_max_new - p.pg_min_new;
    p.report.final_gap = gap;
    if gap <= params.eps {
        if p.n_active == p.alpha.len() {
            p.done = true;
            p.report.converged = true;
            return;
        }
        p.active.iter_mut().for_each(|a| *a = true);
        p.n_active = p.alpha.len();
        p.pg_max_old = f64::INFINITY;
        p.pg_min_old = f64::NEG_INFINITY;
        return;
    }
    p.pg_max_old = if p.pg_max_new <= 0.0 {
        f64::INFINITY
    } else {
        p.pg_max_new
    };
    p.pg_min_old = if p.pg_min_new >= 0.0 {
        f64::NEG_INFINITY
    } else {
        p.pg_min_new
    };
}

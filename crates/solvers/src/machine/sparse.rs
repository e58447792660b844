//! Rows held as their non-zero entries ([`SparseDataset`]): the linear model fitted on them, and
//! any model's scores of them.
//!
//! Wide, sparse files (text as bags of words: tens of thousands to millions of columns, a few
//! dozen non-zeros a row) may not fit in memory dense at all, and on them the linear model is
//! the one to fit (Fan et al., "LIBLINEAR: A Library for Large Linear Classification", JMLR 9,
//! 2008): [`KernelMachineValidParams::fit_sparse`] fits the linear map's SVM by dual coordinate
//! descent on the rows' entries (a step costs a row's non-zeros, not d), with C chosen by the
//! same stratified cross-validation as the kernel SVM's, on a seeded sample of the rows (larger
//! than the kernel search's: [`Selection::sparse_cv_rows`](super::Selection::sparse_cv_rows));
//! a regression is ridge by conjugate gradients on the entries ([`crate::sparse_ridge`]), λ by
//! cross-validation on the same sample. The scaling must keep zeros at zero: min–max when every
//! column's minimum is 0 (non-negative columns that hold a zero, the case of counts and tf-idf:
//! the same scaler the dense fit would learn), else max |x| with a note; standard scaling is
//! refused (it centres, which would make the rows dense).
//!
//! [`KernelMachine::decision_function_sparse`] scores sparse rows with any model: a linear
//! map's model by the rows' entries directly (x·W over the non-zeros, plus the constant that
//! the scaler's offsets give), any other map's by laying out a block of rows dense at a time.

use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand::SeedableRng;
use rks::scaler::{Scaler, ScalerKind};
use rks::{AnyMap, Bandwidth, Kernel, MapKind};
use rks_data::SparseDataset;

use super::select::{Selection, SelectionReport, SolverTrial};
use super::{FitInfo, KernelMachine, KernelMachineValidParams, Solver, SolverInfo, Task};
use crate::class_weights::ClassWeights;
use crate::cv::{Targets, svm_path_scores};
use crate::error::{Param, Result, SolversError, invalid};
use crate::folds::assign_folds;
use crate::labels::{LabelMap, signed_one_hot};
use crate::loo::LooScore;
use crate::ridge::Lambda;
use crate::rows::SparseRows;
use crate::sparse_ridge::{self, Centred};
use crate::task::SolverKind;

impl KernelMachineValidParams {
    /// Fits the linear model on rows held as their non-zero entries (LIBLINEAR's model on wide,
    /// sparse rows such as text), with the linear map ([`MapKind::Linear`]; the kernel is then
    /// the linear one and σ = 1): a classifier by the SVM, a regression by ridge (λ as given,
    /// else cross-validated on the same sample and folds, not stratified). With model
    /// selection on, the classifier's C is cross-validated on [`Selection::folds`](super::Selection::folds) stratified folds
    /// of at most [`Selection::sparse_cv_rows`](super::Selection::sparse_cv_rows) rows drawn
    /// with the seed, over [`Selection::cs`](super::Selection::cs) (a given C when that grid is empty).
    ///
    /// ```
    /// use ndarray::array;
    /// use rks::{Kernel, MapKind};
    /// use rks_data::SparseDataset;
    /// use rks_solvers::machine::{KernelMachineParams, Solver, SolverKind, Task};
    ///
    /// // Eight rows of 1,000 columns: class 1 uses column 3, class 0 column 700.
    /// let mut offsets = vec![0];
    /// let (mut columns, mut values, mut y) = (vec![], vec![], vec![]);
    /// for i in 0..8 {
    ///     columns.push(if i % 2 == 1 { 3 } else { 700 });
    ///     values.push(1.0 + i as f64);
    ///     offsets.push(columns.len());
    ///     y.push((i % 2) as f64);
    /// }
    /// let data = SparseDataset::new(1000, offsets, columns, values, y.into())?;
    /// let params = KernelMachineParams::default()
    ///     .task(Task::Classification)
    ///     .map(MapKind::Linear)
    ///     .kernel(Kernel::Linear)
    ///     .solver(Solver::default_of(SolverKind::Svm))
    ///     .selection(None)
    ///     .check()?;
    /// let (model, _) = params.fit_sparse(&data)?;
    /// assert_eq!(model.predict_sparse(&data)?, data.y);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_sparse(
        &self,
        data: &SparseDataset,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        self.noted(self.fit_sparse_rows(data))
    }

    /// [`fit_sparse`](Self::fit_sparse) with a weight per row, as
    /// [`fit_weighted`](Self::fit_weighted) (rows of weight 0 left out): the classifier's SVM
    /// counts row i's cost C·wᵢ and its C is chosen by weighted errors; the regression's ridge
    /// counts row i's squared error wᵢ times ([`crate::sparse_ridge`]) and its λ is chosen by
    /// the weighted squared error of the held-out rows.
    pub fn fit_sparse_weighted(
        &self,
        data: &SparseDataset,
        sample_weights: ArrayView1<'_, f64>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        self.weighed(sample_weights, data.n_rows(), |params, kept| {
            params.noted(match kept {
                None => params.fit_sparse_rows(data),
                Some(kept) => params.fit_sparse_rows(&data.pick(kept)),
            })
        })
    }

    /// A sparse fit's outcome with the notes that its errors are weighted, when these params
    /// weigh the rows ([`note_class_weights`](Self::note_class_weights)).
    fn noted(
        &self,
        fitted: Result<(KernelMachine, Option<SelectionReport>)>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        let (model, mut report) = fitted?;
        if let Some(report) = &mut report {
            self.note_class_weights(report);
        }
        Ok((model, report))
    }

    /// [`fit_sparse`](Self::fit_sparse)'s work, under these params' sample weights (if any).
    fn fit_sparse_rows(
        &self,
        data: &SparseDataset,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        let start = Instant::now();
        if data.n_rows() == 0 {
            return Err(SolversError::EmptyInput("no training rows".into()));
        }
        if data.n_features() == 0 {
            return Err(SolversError::EmptyInput("the rows have no columns".into()));
        }
        if self.map_kind() != MapKind::Linear {
            return Err(invalid(
                Param::Map,
                format!(
                    "a fit on sparse rows takes the linear map; the {} map needs the rows dense",
                    rks::Named::name(&self.map_kind())
                ),
            ));
        }
        if self.task == Task::Regression {
            return self.fit_sparse_ridge(data, start);
        }
        if let Some(ClassWeights::Balanced) = &self.class_weights {
            // Resolved on every row once, as the dense fit does.
            let resolved = self.with_resolved_class_weights(data.y.view())?;
            return resolved.as_ref().unwrap_or(self).fit_sparse_rows(data);
        }
        let (c, loss) = match (&self.solver, &self.selection) {
            (Solver::Svm { c, loss }, _) => (*c, *loss),
            // The SVM's defaults (C = 1, the squared hinge), C then searched.
            (Solver::Ridge { .. }, Some(_)) => {
                let defaults = crate::svm::SvmParams::default();
                (defaults.c, defaults.loss)
            }
            (Solver::Ridge { .. }, None) => {
                return Err(invalid(
                    Param::Solver,
                    "a fit on sparse rows is the linear SVM: ridge needs the rows dense",
                ));
            }
        };
        let (labels, classes) = LabelMap::fit(data.y.view())?;
        let outputs = Self::n_outputs(Some(&labels));
        super::memory::check_sparse(data.n_features(), outputs, data.non_zeros())?;
        let mut notes = Vec::new();
        let scaler = self.sparse_scaler(data, &mut notes)?;
        let rows = SparseRows::<f32>::scaled_entries(&scaler, data)?;
        let linear = self.linear_svm(c, loss);
        let d = data.n_features();
        let (c, report) = match &self.selection {
            Some(selection) => {
                let (c, c_trials, note) =
                    linear.sparse_c(selection, &rows, &labels, &classes, (c, loss))?;
                notes.push(note);
                notes.push(format!(
                    "{} rows of {d} columns, {:.3} % non-zero once scaled: the linear SVM on \
                     the rows' entries",
                    data.n_rows(),
                    100.0 * rows.non_zeros() as f64 / (data.n_rows() as f64 * d as f64)
                ));
                let report = SelectionReport {
                    method: "the linear SVM on sparse rows, C by cross-validation".into(),
                    c: Some(c),
                    c_trials,
                    notes,
                    ..Self::sparse_report(d, start)
                };
                (c, Some(report))
            }
            None => (c, None),
        };
        let calibration = self
            .probabilities
            .then(|| {
                let n_classes = labels.n_classes();
                let params = linear.svm_params(c, loss);
                super::calibrate::calibrate_svm(
                    &rows,
                    data.y.view(),
                    (&classes, n_classes),
                    &params,
                    self.row_weights_of(Some(&labels), &classes)?.as_deref(),
                )
            })
            .transpose()?;
        let prepared = linear.prepare(scaler, Some(labels), 1.0, d, None)?;
        let mut model = linear.fit_svm(prepared, &rows, &classes, (c, loss), 1.0)?;
        model.calibration = calibration;
        let report = report.map(|r| SelectionReport {
            seconds: start.elapsed().as_secs_f64(),
            ..r
        });
        Ok((model, report))
    }

    /// These parameters with the linear map (the linear kernel, σ = 1) and the SVM at cost `c`
    /// and `loss`: the classifier of rows taken as they are.
    pub(super) fn linear_svm(&self, c: f64, loss: crate::svm::SvmLoss) -> Self {
        let mut linear = self.linear_map();
        linear.solver = Solver::Svm { c, loss };
        linear
    }

    /// These parameters with the linear map (the linear kernel, σ = 1).
    fn linear_map(&self) -> Self {
        let mut linear = self.clone();
        linear.map = linear
            .map
            .kind(MapKind::Linear)
            .kernel(Kernel::Linear)
            .bandwidth(Bandwidth::Sigma(1.0));
        linear
    }

    /// [`fit_sparse`](Self::fit_sparse) of a regression: ridge on the rows' entries
    /// ([`crate::sparse_ridge`]), λ as given, else by cross-validation of the mean squared error
    /// over 10⁻³ … 10³ times the mean eigenvalue tr(C)/d (or the given grid), on the same seeded
    /// sample and folds (not stratified) as the classifier's C.
    fn fit_sparse_ridge(
        &self,
        data: &SparseDataset,
        start: Instant,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        let Solver::Ridge { lambda } = &self.solver else {
            return Err(invalid(
                Param::Solver,
                "the SVM is a classifier: a regression on sparse rows is ridge",
            ));
        };
        let d = data.n_features();
        // Ridge's centring and conjugate-gradient vectors, for the whole rows and a fold's, and
        // its f64 entries take about what four outputs of the SVM take.
        super::memory::check_sparse(d, 4, data.non_zeros().saturating_mul(2))?;
        let mut notes = Vec::new();
        let scaler = self.sparse_scaler(data, &mut notes)?;
        let rows = SparseRows::<f64>::scaled_entries(&scaler, data)?;
        let y = data.y.to_vec();
        let weights = self.row_weights_of(None, &[])?;
        let whole = Centred::weighted(&rows, &y, weights.as_deref());
        let k = self.selection.as_ref().map_or(3, |s| s.folds);
        let cv_rows = self
            .selection
            .as_ref()
            .map_or(Selection::default().sparse_cv_rows, |s| s.sparse_cv_rows);
        let (lambda, trials) = match lambda {
            Lambda::Fixed(value) if value.is_finite() && *value > 0.0 => (*value, Vec::new()),
            Lambda::Fixed(value) => {
                return Err(invalid(
                    Param::Lambda,
                    format!("λ on sparse rows must be finite and > 0, got {value}"),
                ));
            }
            Lambda::GcvGrid(_) | Lambda::Gcv => {
                let grid = match lambda {
                    Lambda::GcvGrid(values) => values.clone(),
                    _ => {
                        let centre = whole.mean_eigenvalue(&rows);
                        let centre = if centre > 0.0 { centre } else { 1.0 };
                        (-3..=3).map(|e| centre * 10f64.powi(e)).collect()
                    }
                };
                let (best, trials) = self.sparse_lambda(&rows, &y, &grid, k, cv_rows)?;
                notes.push(format!(
                    "λ = {best:.3e} had the lowest {k}-fold cross-validated squared error on {} \
                     sampled rows, over {} values",
                    trials.first().map_or(0, |t: &SolverTrial| t.rows),
                    grid.len()
                ));
                (best, trials)
            }
        };
        let fit = sparse_ridge::fit(&rows, &whole, lambda, None);
        if !fit.converged {
            notes.push(format!(
                "ridge: conjugate gradients stopped at their cap of {} iterations before the \
                 tolerance",
                fit.iterations
            ));
        }
        let report = self.selection.as_ref().map(|_| SelectionReport {
            method: "ridge on sparse rows, λ by cross-validation".into(),
            lambda: Some(lambda),
            c: None,
            solver_trials: trials,
            notes,
            ..Self::sparse_report(d, start)
        });
        let linear = self.linear_map();
        let prepared = linear.prepare(scaler, None, 1.0, d, None)?;
        let info = FitInfo {
            n_train: data.n_rows() as u64,
            sigma: 1.0,
            solver: SolverInfo::Ridge { lambda, gcv: None },
        };
        let weights = Array2::from_shape_vec((d, 1), fit.weights)
            .map_err(|e| invalid(Param::Lambda, e.to_string()))?;
        let model = linear.assemble(prepared, weights, Array1::from(vec![fit.intercept]), info);
        Ok((model, report))
    }

    /// The λ of `grid` with the lowest mean squared error over `k` folds of at most `cv_rows`
    /// seeded rows (ties: the larger λ), and every λ's trial. Each fold's path runs from the
    /// largest λ down, each solve warm-started from the last.
    fn sparse_lambda(
        &self,
        rows: &SparseRows<f64>,
        y: &[f64],
        grid: &[f64],
        k: usize,
        cv_rows: usize,
    ) -> Result<(f64, Vec<SolverTrial>)> {
        if let Some(bad) = grid.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
            return Err(invalid(
                Param::Lambda,
                format!("λ values must be finite and > 0, got {bad}"),
            ));
        }
        let count = rows.n_rows().min(cv_rows);
        if grid.is_empty() || count < 2 * k {
            return Err(invalid(
                Param::Lambda,
                format!(
                    "λ is chosen by {k}-fold cross-validation, which needs a λ grid and at least \
                     {} rows ({count} here): give λ",
                    2 * k
                ),
            ));
        }
        let picked = seeded_rows(rows.n_rows(), count, self.seed());
        let targets: Vec<f64> = picked.iter().map(|&i| y[i]).collect();
        // The picked rows' sample weights (each 1 without): each fold fits and scores weighted.
        let weights = self.on_rows(&picked).row_weights_of(None, &[])?;
        let weight = |i: usize| weights.as_ref().map_or(1.0, |w| w[i]);
        let folds = assign_folds(&targets, k, false, self.seed());
        let mut order: Vec<usize> = (0..grid.len()).collect();
        order.sort_by(|&a, &b| grid[b].total_cmp(&grid[a]));
        let mut squared = vec![0.0; grid.len()];
        for fold in 0..k {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..count).partition(|&i| folds[i] == fold);
            let pick = |set: &[usize]| set.iter().map(|&i| picked[i]).collect::<Vec<usize>>();
            let (train_rows, test_rows) = (rows.select(&pick(&train)), rows.select(&pick(&test)));
            let train_y: Vec<f64> = train.iter().map(|&i| targets[i]).collect();
            let train_weights: Option<Vec<f64>> = weights
                .as_ref()
                .map(|_| train.iter().map(|&i| weight(i)).collect());
            let centred = Centred::weighted(&train_rows, &train_y, train_weights.as_deref());
            let mut previous: Option<Vec<f64>> = None;
            for &j in &order {
                let fit = sparse_ridge::fit(&train_rows, &centred, grid[j], previous.as_deref());
                let predicted = sparse_ridge::predict(&test_rows, &fit);
                squared[j] += predicted
                    .iter()
                    .zip(&test)
                    .map(|(p, &i)| weight(i) * (p - targets[i]).powi(2))
                    .sum::<f64>();
                previous = Some(fit.weights);
            }
        }
        // The weighted mean: Σωe²/Σω over the picked rows (each weighs 1 without weights).
        let total: f64 = (0..count).map(weight).sum();
        let trials: Vec<SolverTrial> = grid
            .iter()
            .zip(&squared)
            .map(|(&value, &sum)| SolverTrial {
                solver: SolverKind::Ridge,
                sigma: 1.0,
                value,
                score: LooScore {
                    error: None,
                    mse: sum / total,
                    rows: count,
                },
                rows: count,
                n_frequencies: rows.dim(),
                folds: k,
                linear: true,
            })
            .collect();
        let best = order
            .iter()
            .copied()
            .reduce(|a, b| if squared[b] < squared[a] { b } else { a })
            .unwrap_or(0);
        Ok((grid[best], trials))
    }

    /// The report of a fit on sparse rows, before its method, choice and trials.
    fn sparse_report(d: usize, start: Instant) -> SelectionReport {
        SelectionReport {
            median_sigma: f64::NAN,
            sigma_trials: Vec::new(),
            walk_trials: Vec::new(),
            final_trials: Vec::new(),
            sigma: 1.0,
            lambda: None,
            c: None,
            c_trials: Vec::new(),
            solver_trials: Vec::new(),
            svm_sigma_trials: Vec::new(),
            n_frequencies: d,
            method: String::new(),
            notes: Vec::new(),
            relevance: None,
            map_trials: Vec::new(),
            seconds: start.elapsed().as_secs_f64(),
        }
    }

    /// The scaler of sparse rows: the one asked for when it keeps zeros at zero, else (min–max
    /// of columns that would shift) max |x|, said in `notes`.
    fn sparse_scaler(&self, data: &SparseDataset, notes: &mut Vec<String>) -> Result<Scaler> {
        let fit = |kind| {
            Scaler::fit_sparse(
                data.n_features(),
                data.offsets(),
                data.columns(),
                data.values(),
                kind,
            )
        };
        let mut scaler = fit(self.scaler_kind())?;
        if !scaler.keeps_zeros() {
            let shifted = scaler.offset().iter().filter(|&&o| o != 0.0).count();
            notes.push(format!(
                "scaling: min–max would shift the zeros of {shifted} columns (negative values, \
                 or no zero) and make the rows dense: each column divided by its largest \
                 magnitude instead (maxabs)"
            ));
            scaler = fit(ScalerKind::MaxAbs)?;
        }
        match self.input_weights() {
            Some(weights) => Ok(scaler.reweighted(weights)?),
            None => Ok(scaler),
        }
    }

    /// C by `selection`'s stratified folds on at most `sparse_cv_rows` rows of `rows` drawn with
    /// the seed (the given C when the grid is empty): the C, its trials and a note.
    fn sparse_c(
        &self,
        selection: &super::Selection,
        rows: &SparseRows<f32>,
        labels: &LabelMap,
        classes: &[usize],
        (c, loss): (f64, crate::svm::SvmLoss),
    ) -> Result<(f64, Vec<SolverTrial>, String)> {
        let k = selection.folds;
        let count = rows.n_rows().min(selection.sparse_cv_rows);
        if selection.cs.is_empty() {
            return Ok((c, Vec::new(), format!("C = {c} given: not searched")));
        }
        if count < 2 * k {
            return Ok((
                c,
                Vec::new(),
                format!(
                    "C = {c}: {count} rows are too few for {k}-fold cross-validation, not searched"
                ),
            ));
        }
        let picked = seeded_rows(rows.n_rows(), count, self.seed());
        let sampled: Vec<usize> = picked.iter().map(|&i| classes[i]).collect();
        let class_of: Vec<f64> = sampled.iter().map(|&c| c as f64).collect();
        let folds = assign_folds(&class_of, k, true, self.seed());
        let y = signed_one_hot(&sampled, labels.n_classes());
        let weights = self
            .on_rows(&picked)
            .row_weights_of(Some(labels), &sampled)?;
        let targets = Targets {
            y: y.view(),
            classes: Some((&sampled, labels.n_classes())),
            weights: weights.as_deref(),
        };
        let cs = &selection.cs;
        let (scores, best) = svm_path_scores(
            &rows.select(&picked),
            targets,
            &folds,
            k,
            cs,
            &self.svm_params(c, loss),
        )?;
        let best = best.ok_or_else(|| invalid(Param::Cs, "the C grid is empty"))?;
        let trials = cs
            .iter()
            .zip(&scores)
            .map(|(&value, &score)| SolverTrial {
                solver: SolverKind::Svm,
                sigma: 1.0,
                value,
                score,
                rows: count,
                n_frequencies: rows.dim(),
                folds: k,
                linear: true,
            })
            .collect();
        let note = format!(
            "C = {} had the best {k}-fold cross-validated error ({:.2} %) on {count} sampled rows, \
             warm-started along increasing C",
            cs[best],
            100.0 * scores[best].error.unwrap_or(f64::NAN)
        );
        Ok((cs[best], trials, note))
    }
}

/// `count` of `n` row indices drawn with `seed` (ChaCha8, portable), in increasing order.
fn seeded_rows(n: usize, count: usize, seed: u64) -> Vec<usize> {
    if count >= n {
        return (0..n).collect();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut picked = rand::seq::index::sample(&mut rng, n, count).into_vec();
    picked.sort_unstable();
    picked
}

/// Rows laid out dense per block when a model's map needs them so.
const DENSE_BLOCK_BYTES: usize = 64 << 20;

impl KernelMachine {
    /// [`decision_function`](Self::decision_function) of rows held as their non-zero entries.
    /// A linear map's model sums over each row's entries (in column order, in f64: the same
    /// bits for any thread count); any other map's lays the rows out dense a block at a time
    /// (at most 64 MiB of them) and scores them as dense rows.
    pub fn decision_function_sparse(&self, data: &SparseDataset) -> Result<Array2<f64>> {
        if data.n_features() != self.input_dim() {
            return Err(SolversError::DimensionMismatch {
                what: "input columns",
                expected: self.input_dim(),
                found: data.n_features(),
            });
        }
        let AnyMap::Linear(map) = self.map() else {
            return self.decision_function_dense_blocks(data);
        };
        let m = self.weights().ncols();
        let (folded, constant) = self.folded.0.get_or_init(|| {
            // w_c·s_c/σ per column and output, and the constant −Σ_c o_c·s_c·w_c/σ + b.
            let inv_sigma = 1.0 / map.sigma();
            let (offset, scale) = (self.scaler().offset(), self.scaler().scale());
            let mut folded = self.weights().clone();
            let mut constant = self.intercept().clone();
            for (c, mut row) in folded.axis_iter_mut(Axis(0)).enumerate() {
                let factor = scale[c] * inv_sigma;
                row.mapv_inplace(|w| w * factor);
                if offset[c] != 0.0 {
                    constant.scaled_add(-offset[c], &row);
                }
            }
            (folded, constant)
        });
        let mut raw = Array2::zeros((data.n_rows(), m));
        for (i, mut out) in raw.axis_iter_mut(Axis(0)).enumerate() {
            let (columns, values) = data.row(i);
            for (k, o) in out.iter_mut().enumerate() {
                let sum = columns.iter().zip(values).fold(0.0f64, |acc, (&c, &v)| {
                    v.mul_add(folded[[c as usize, k]], acc)
                });
                *o = sum + constant[k];
            }
        }
        Ok(self.scores_of(raw))
    }

    /// [`predict_proba`](KernelMachine::predict_proba) of rows held as their non-zero entries
    /// (scored as [`decision_function_sparse`](Self::decision_function_sparse) scores them).
    pub fn predict_proba_sparse(&self, data: &SparseDataset) -> Result<Array2<f64>> {
        let calibration = self.calibration_or_error()?;
        calibration.probabilities(self.decision_function_sparse(data)?.view())
    }

    /// [`predict_log_proba`](KernelMachine::predict_log_proba) of rows held as their non-zero
    /// entries.
    pub fn predict_log_proba_sparse(&self, data: &SparseDataset) -> Result<Array2<f64>> {
        let calibration = self.calibration_or_error()?;
        calibration.log_probabilities(self.decision_function_sparse(data)?.view())
    }

    /// Predicted labels or values of rows held as their non-zero entries (see
    /// [`decision_function_sparse`](Self::decision_function_sparse)).
    pub fn predict_sparse(&self, data: &SparseDataset) -> Result<Array1<f64>> {
        let scores = self.decision_function_sparse(data)?;
        Ok(self.predict_from_decision(&scores))
    }

    /// The dense scores of sparse rows, a block of rows laid out dense at a time.
    fn decision_function_dense_blocks(&self, data: &SparseDataset) -> Result<Array2<f64>> {
        let d = data.n_features();
        let block = (DENSE_BLOCK_BYTES / (8 * d.max(1))).max(1);
        let mut out: Option<Array2<f64>> = None;
        let mut dense = Array2::<f64>::zeros((block.min(data.n_rows()), d));
        for start in (0..data.n_rows()).step_by(block) {
            let end = (start + block).min(data.n_rows());
            let mut rows = dense.slice_axis_mut(Axis(0), (..end - start).into());
            rows.fill(0.0);
            for (i, mut row) in rows.axis_iter_mut(Axis(0)).enumerate() {
                let (columns, values) = data.row(start + i);
                for (&c, &v) in columns.iter().zip(values) {
                    row[c as usize] = v;
                }
            }
            let scores = self.decision_function(rows.view())?;
            out.get_or_insert_with(|| Array2::zeros((data.n_rows(), scores.ncols())))
                .slice_axis_mut(Axis(0), (start..end).into())
                .assign(&scores);
        }
        match out {
            Some(out) => Ok(out),
            None => self.decision_function(Array2::<f64>::zeros((0, d)).view()),
        }
    }
}

//! Cross-validation of kernel machines: the one path by which the fit's model selection chooses
//! the SVM's C and compares ridge with the SVM, and by which `rks tune` scores a whole grid.
//!
//! Rows are scaled by the scaler fitted on all of them, mapped at each σ once, and split by
//! [`assign_folds`] (seeded by the params' seed; stratified for classification); [`crate::cv`]
//! scores every value of the regularisation path on every fold (ridge: every λ from one
//! factorisation per fold; the SVM: C increasing, warm-started). The median-heuristic σ at
//! the centre of a σ grid is [`median_sigma`](super::median_sigma) of the same seeded sample
//! every fit takes it from.
//!
//! A class with fewer rows than folds cannot be in every fold: the folds are still dealt (the
//! class is missing from some folds' training rows, and those folds count its rows as errors),
//! and the report says so.

use ndarray::{Array2, ArrayView1, ArrayView2};
use rks::scaler::Scaler;
use serde::{Deserialize, Serialize};

use super::fit::median_sigma;
use super::select::{Selection, SolverTrial};
use super::{KernelMachineValidParams, Solver, Task};
use crate::cv::{Path, Targets, best_index, cross_validate, mean_score, path_scores};
use crate::error::{Param, Result, SolversError, invalid};
use crate::folds::assign_folds;
use crate::labels::{LabelMap, signed_one_hot};
use crate::loo::LooScore;
use crate::task::SolverKind;
use crate::validate::{check_finite, check_rows};

/// The grid of [`KernelMachineValidParams::cross_validate`]: every σ with every value of the
/// params' solver's regularisation (C for the SVM, λ for ridge).
#[derive(Debug, Clone, PartialEq)]
pub struct CvGrid {
    /// Bandwidths σ in scaled units; `None`: `sigma_factors` × the median-heuristic σ (for the
    /// linear kernel, σ = 1 alone: its σ only rescales the regularisation).
    pub sigmas: Option<Vec<f64>>,
    /// Multiples of the median-heuristic σ, when `sigmas` is `None`.
    pub sigma_factors: Vec<f64>,
    /// C (SVM) or λ (ridge) values, each finite and > 0.
    pub values: Vec<f64>,
    /// Folds k (2 ≤ k ≤ rows).
    pub folds: usize,
}

/// One grid point's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvPoint {
    /// Bandwidth σ in scaled units.
    pub sigma: f64,
    /// C (SVM) or λ (ridge).
    pub value: f64,
    /// The held-out score of each fold.
    pub folds: Vec<LooScore>,
    /// Their mean: what the points are compared by.
    pub score: LooScore,
}

/// What [`KernelMachineValidParams::cross_validate`] scored and chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// The median-heuristic σ of the scaled rows.
    pub median_sigma: f64,
    /// Folds k.
    pub folds: usize,
    /// Every point, σ-major in the grid's order.
    pub points: Vec<CvPoint>,
    /// Index of the best point in `points`: the best mean score; ties to the smoother model
    /// (larger σ, then smaller C or larger λ).
    pub best: usize,
    /// Fallbacks, in words (e.g. classes too small to stratify).
    pub notes: Vec<String>,
}

/// The C search on the sampled rows and, when asked, ridge's score on the same folds.
pub(super) struct SampleCv {
    /// The C with the best cross-validated score.
    pub(super) c: f64,
    /// One trial per C.
    pub(super) c_trials: Vec<SolverTrial>,
    /// The SVM's trial at `c`.
    pub(super) svm: SolverTrial,
    /// Ridge at its best λ around the one asked for.
    pub(super) ridge: Option<SolverTrial>,
    /// What was searched and any fallback, in words.
    pub(super) notes: Vec<String>,
}

/// A note for the classes (labels and row counts) with fewer rows than folds, if any.
fn thin_classes_note(labels: &LabelMap, classes: &[usize], k: usize) -> Option<String> {
    let mut counts = vec![0usize; labels.n_classes()];
    for &c in classes {
        counts[c] += 1;
    }
    let thin: Vec<String> = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n < k)
        .map(|(c, n)| format!("{} ({n} rows)", labels.classes()[c]))
        .collect();
    (!thin.is_empty()).then(|| {
        format!(
            "class {} has fewer rows than the {k} folds: stratification cannot put it in every \
             fold, so some folds' fits never see it",
            thin.join(", ")
        )
    })
}

impl KernelMachineValidParams {
    /// Scores every point of `grid` by k-fold cross-validation on rows `x` (N × d) with targets
    /// `y`, for the params' solver, map, n and seed (the fold code of `machine::cv`).
    ///
    /// Classification is scored by the mean held-out error rate, ties (rates within one binomial
    /// standard error on the rows, [`LooScore::better_than`](crate::loo::LooScore::better_than))
    /// broken by the mean squared difference between the decision values and the ±1 one-hot
    /// targets; regression by the mean squared error.
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use rks_solvers::machine::CvGrid;
    /// use rks_solvers::{KernelMachine, Solver, SvmLoss};
    ///
    /// let x = Array2::from_shape_fn((120, 2), |(i, j)| ((i * 37 + j * 91) % 120) as f64 / 60.0 - 1.0);
    /// let y: Array1<f64> = x.rows().into_iter().map(|r| f64::from(r[0] + r[1] > 0.0)).collect();
    /// let params = KernelMachine::params()
    ///     .n_frequencies(64)
    ///     .solver(Solver::Svm { c: 1.0, loss: SvmLoss::SquaredHinge })
    ///     .check()?;
    /// let grid = CvGrid { sigmas: None, sigma_factors: vec![0.5, 1.0], values: vec![0.1, 10.0], folds: 3 };
    /// let report = params.cross_validate(x.view(), y.view(), &grid)?;
    /// assert_eq!(report.points.len(), 4);
    /// assert!(report.points[report.best].score.error.unwrap() < 0.1);
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn cross_validate(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        grid: &CvGrid,
    ) -> Result<CvReport> {
        self.cross_validate_rows(x, y, grid)
    }

    /// [`cross_validate`](Self::cross_validate) with a weight per row, as
    /// [`fit_weighted`](Self::fit_weighted) weighs them (rows of weight 0 left out): each
    /// fold's fit is weighted and its held-out score weighs the rows.
    pub fn cross_validate_weighted(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        sample_weights: ArrayView1<'_, f64>,
        grid: &CvGrid,
    ) -> Result<CvReport> {
        check_rows(x.nrows(), y.len())?;
        self.weighed(sample_weights, x.nrows(), |params, kept| match kept {
            None => params.cross_validate_rows(x, y, grid),
            Some(kept) => params.cross_validate_rows(
                x.select(ndarray::Axis(0), kept).view(),
                y.select(ndarray::Axis(0), kept).view(),
                grid,
            ),
        })
    }

    /// [`cross_validate`](Self::cross_validate)'s work, under these params' sample weights.
    fn cross_validate_rows(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        grid: &CvGrid,
    ) -> Result<CvReport> {
        check_rows(x.nrows(), y.len())?;
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(SolversError::EmptyInput("no rows or no columns".into()));
        }
        check_finite("input", x)?;
        check_finite("target", y.insert_axis(ndarray::Axis(1)))?;
        let k = grid.folds;
        if k < 2 || k > x.nrows() {
            return Err(invalid(
                Param::Folds,
                format!(
                    "folds must be between 2 and the number of rows ({}), got {k}",
                    x.nrows()
                ),
            ));
        }
        let scaler = self.fit_scaler(x)?;
        let median = median_sigma(&scaler, x, y, self.seed())?;
        let sigmas: Vec<f64> = match &grid.sigmas {
            Some(s) => s.clone(),
            // The linear kernel's σ only rescales the regularisation: σ = 1, nothing to search.
            None if self.kernel() == rks::Kernel::Linear => vec![1.0],
            None => grid.sigma_factors.iter().map(|f| f * median).collect(),
        };
        if sigmas.is_empty() {
            return Err(invalid(Param::SigmaFactors, "the σ grid is empty"));
        }
        if let Some(s) = sigmas.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(invalid(
                Param::SigmaFactors,
                format!("σ must be finite and > 0, got {s}"),
            ));
        }
        let (labels, classes) = match self.task {
            Task::Classification => {
                let (labels, classes) = LabelMap::fit(y)?;
                (Some(labels), classes)
            }
            Task::Regression => (None, Vec::new()),
        };
        let mut notes = Vec::new();
        let targets = match &labels {
            Some(labels) => {
                notes.extend(thin_classes_note(labels, &classes, k));
                signed_one_hot(&classes, labels.n_classes())
            }
            None => y.insert_axis(ndarray::Axis(1)).to_owned(),
        };
        let class_of: Vec<f64> = classes.iter().map(|&c| c as f64).collect();
        let folds = match &labels {
            Some(_) => assign_folds(&class_of, k, true, self.seed()),
            None => assign_folds(y.as_slice().unwrap_or(&y.to_vec()), k, false, self.seed()),
        };
        let svm_params;
        let path = match &self.solver {
            Solver::Svm { c, loss } => {
                svm_params = self.svm_params(*c, *loss);
                Path::Svm {
                    cs: &grid.values,
                    params: &svm_params,
                    warm: true,
                }
            }
            Solver::Ridge { .. } => Path::Ridge {
                lambdas: &grid.values,
            },
        };
        let weights = self.row_weights_of(labels.as_ref(), &classes)?;
        let targets = Targets {
            y: targets.view(),
            classes: labels.as_ref().map(|l| (classes.as_slice(), l.n_classes())),
            weights: weights.as_deref(),
        };
        let mut points = Vec::with_capacity(sigmas.len() * grid.values.len());
        for &sigma in &sigmas {
            let prepared = self.prepare(
                scaler.clone(),
                labels.clone(),
                sigma,
                self.n_frequencies(),
                Some(x),
            )?;
            let phi = self.features::<f64>(&prepared, x)?;
            let scores = cross_validate(phi.view(), targets, &folds, k, &path)?;
            points.extend(
                scores
                    .into_iter()
                    .zip(path.values())
                    .map(|(folds, &value)| CvPoint {
                        sigma,
                        value,
                        score: mean_score(&folds),
                        folds,
                    }),
            );
        }
        // Smoothest first: σ decreasing, then the path's order.
        let mut by_sigma: Vec<usize> = (0..sigmas.len()).collect();
        by_sigma.sort_by(|&a, &b| sigmas[b].total_cmp(&sigmas[a]));
        let per_sigma = grid.values.len();
        let order: Vec<usize> = by_sigma
            .iter()
            .flat_map(|&s| {
                path.smoothest_first()
                    .into_iter()
                    .map(move |v| s * per_sigma + v)
            })
            .collect();
        let scores: Vec<LooScore> = points.iter().map(|p| p.score).collect();
        let best = best_index(&scores, &order)
            .ok_or_else(|| invalid(Param::Folds, "the grid is empty"))?;
        Ok(CvReport {
            median_sigma: median,
            folds: k,
            points,
            best,
            notes,
        })
    }

    /// The SVM's C by [`Selection::folds`]-fold cross-validation of [`Selection::cs`] (the
    /// solver's C when empty) on the first [`Selection::search_rows`] of the sampled `rows`
    /// (unscaled, classes `classes`) at σ = `sigma` with `n` frequencies, the n the model is
    /// fitted with (a C chosen at fewer frequencies does not carry to more: with more features
    /// the same C fits the training rows more closely); with `ridge_lambda`, ridge on the same
    /// features and folds too, at the best of as many values as the C grid has:
    /// `ridge_lambda` × 10^j around j = 0.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn cv_on_sample(
        &self,
        selection: &Selection,
        scaler: &Scaler,
        labels: &LabelMap,
        rows: ArrayView2<'_, f64>,
        classes: &[usize],
        (sigma, n): (f64, usize),
        (c, loss): (f64, crate::svm::SvmLoss),
        ridge_lambda: Option<f64>,
    ) -> Result<Option<SampleCv>> {
        let k = selection.folds;
        let count = rows.nrows().min(selection.search_rows);
        if count < 2 * k {
            return Ok(None);
        }
        let rows = rows.slice_axis(ndarray::Axis(0), (..count).into());
        let classes = &classes[..count];
        let mut notes = Vec::new();
        notes.extend(thin_classes_note(labels, classes, k));
        let prepared = self.prepare(scaler.clone(), Some(labels.clone()), sigma, n, Some(rows))?;
        let phi = self.features::<f64>(&prepared, rows)?;
        let class_of: Vec<f64> = classes.iter().map(|&c| c as f64).collect();
        let folds = assign_folds(&class_of, k, true, self.seed());
        let y: Array2<f64> = signed_one_hot(classes, labels.n_classes());
        let weights = self.on_first(count).row_weights_of(Some(labels), classes)?;
        let targets = Targets {
            y: y.view(),
            classes: Some((classes, labels.n_classes())),
            weights: weights.as_deref(),
        };
        let cs = if selection.cs.is_empty() {
            vec![c]
        } else {
            selection.cs.clone()
        };
        let svm_params = self.svm_params(c, loss);
        let path = Path::Svm {
            cs: &cs,
            params: &svm_params,
            warm: true,
        };
        let (scores, best) = path_scores(phi.view(), targets, &folds, k, &path)?;
        let best = best.ok_or_else(|| invalid(Param::Cs, "the C grid is empty"))?;
        let trial = |solver, value, score| SolverTrial {
            solver,
            sigma,
            value,
            score,
            rows: count,
            n_frequencies: n,
            folds: k,
            linear: self.map_kind() == rks::MapKind::Linear,
        };
        let c_trials: Vec<SolverTrial> = cs
            .iter()
            .zip(&scores)
            .map(|(&c, &s)| trial(SolverKind::Svm, c, s))
            .collect();
        // Ridge gets as many values as the C grid has, around its λ and on the same folds, so
        // that neither solver is favoured by choosing among more.
        let ridge = match ridge_lambda {
            Some(lambda) => {
                let half = cs.len() as i32 / 2;
                let lambdas: Vec<f64> = (-half..cs.len() as i32 - half)
                    .map(|e| lambda * 10f64.powi(e))
                    .collect();
                let path = Path::Ridge { lambdas: &lambdas };
                let (scores, best) = path_scores(phi.view(), targets, &folds, k, &path)?;
                let best = best.ok_or_else(|| invalid(Param::Lambda, "the λ grid is empty"))?;
                Some(trial(SolverKind::Ridge, lambdas[best], scores[best]))
            }
            None => None,
        };
        notes.push(if selection.cs.is_empty() {
            format!("C = {c} given: not searched")
        } else {
            format!(
                "σ = {sigma:.3}: C = {} had the best {k}-fold cross-validated error ({:.2} %) on {count} sampled rows with {n} frequencies, warm-started along increasing C",
                cs[best],
                100.0 * scores[best].error.unwrap_or(f64::NAN)
            )
        });
        Ok(Some(SampleCv {
            c: cs[best],
            svm: c_trials[best].clone(),
            c_trials,
            ridge,
            notes,
        }))
    }
}

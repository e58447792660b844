//! Ridge or the SVM, chosen by the same cross-validation: the fit of [`Selection::solvers`].
//!
//! Ridge is searched first, as alone (σ, λ, n and the maps by exact leave-one-out). The SVM then
//! takes ridge's σ and map, and its C is chosen by k-fold cross-validation on the σ search's
//! sampled rows and frequencies ([`super::cv`]); on the same features and folds ridge is scored
//! at as many values of λ around its own for that σ (stage 1's, else the final one: × 10^j,
//! j = −2 … 2 for the default five C), so that neither solver gains by choosing among more
//! values. The SVM is kept only when its
//! cross-validated error is lower than ridge's by more than one standard error of ridge's
//! (the one-standard-error rule, Hastie, Tibshirani & Friedman, *The Elements of Statistical
//! Learning*, 2nd ed., §7.10: a cross-validated error rate e on N rows is uncertain by
//! √(e(1 − e)/N), so a smaller difference does not show that the SVM is better), and is then
//! fitted on every row with ridge's map and number of frequencies (ridge's search grows n under
//! the budget; the comparison, made at the search's n, says which loss fits better on the same
//! features, not that the SVM needs fewer of them). Ridge is the default because its search
//! chooses σ, n and the map by exact leave-one-out on every row, which the SVM's C path does not. The comparison costs one C path on at
//! most [`Selection::search_rows`] rows and [`Selection::search_frequencies`] frequencies, plus
//! the SVM's fit when it wins.

use ndarray::{ArrayView1, ArrayView2, Axis};
use rks::Bandwidth;
use rks::sample::sample_indices;
use rks::scaler::Scaler;

use super::select::{Selection, SelectionReport};
use super::{KernelMachine, KernelMachineValidParams, Solver};
use crate::error::{Param, Result, invalid};
use crate::labels::LabelMap;
use crate::task::SolverKind;

impl KernelMachineValidParams {
    /// Fits ridge and, when the SVM scores better on the same folds, the SVM instead; see the
    /// [module docs](self). `selection` lists both solvers; the task is classification.
    pub(super) fn fit_choosing_solver(
        &self,
        selection: &Selection,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        let alone = Selection {
            solvers: Vec::new(),
            ..selection.clone()
        };
        let (ridge_solver, (c, loss)) = match &self.solver {
            Solver::Ridge { .. } => match Solver::default_of(SolverKind::Svm) {
                Solver::Svm { c, loss } => (self.solver.clone(), (c, loss)),
                ridge => (ridge, (1.0, Default::default())),
            },
            Solver::Svm { c, loss } => (Solver::default_of(SolverKind::Ridge), (*c, *loss)),
        };
        let mut ridge = self.clone();
        ridge.solver = ridge_solver;
        ridge.selection = Some(alone.clone());
        let (ridge_model, report) = ridge.fit_with_report(x, y)?;
        let mut report =
            report.ok_or_else(|| invalid(Param::Solvers, "ridge's search made no report"))?;
        let lambda = report
            .sigma_trials
            .iter()
            .find(|t| t.sigma == report.sigma)
            .map(|t| t.lambda)
            .or(report.lambda)
            .ok_or_else(|| invalid(Param::Solvers, "ridge's search chose no λ"))?;

        let (labels, classes) = LabelMap::fit(y)?;
        let scaler = Scaler::fit(x, self.scaler)?;
        let sample = sample_indices(x, Some(y), alone.sample_rows(), self.seed());
        let sampled: Vec<usize> = sample.iter().map(|&i| classes[i]).collect();
        let mut svm = self.clone();
        svm.map = svm.map.kind(ridge_model.map().kind());
        svm.solver = Solver::Svm { c, loss };
        svm.selection = None;
        let Some(cv) = svm.cv_on_sample(
            &alone,
            &scaler,
            &labels,
            x.select(Axis(0), &sample).view(),
            &sampled,
            report.sigma,
            (c, loss),
            Some(lambda),
        )?
        else {
            report.notes.push(format!(
                "solver: ridge kept; {} sampled rows are too few to compare it with the SVM by \
                 {}-fold cross-validation",
                sample.len().min(alone.search_rows),
                alone.folds
            ));
            return Ok((ridge_model, Some(report)));
        };
        let ridge_trial = cv
            .ridge
            .ok_or_else(|| invalid(Param::Solvers, "ridge was not cross-validated"))?;
        report.notes.extend(cv.notes);
        let svm_wins = cv
            .svm
            .score
            .clearly_better_than(&ridge_trial.score, ridge_trial.rows);
        let one_se = ridge_trial.score.standard_error(ridge_trial.rows);
        let percent = |e: Option<f64>| 100.0 * e.unwrap_or(f64::NAN);
        let scores = format!(
            "{}-fold cross-validated error on {} sampled rows with {} frequencies: ridge \
             (λ = {:.3e}) {:.2} %, SVM (C = {}) {:.2} %",
            ridge_trial.folds,
            ridge_trial.rows,
            ridge_trial.n_frequencies,
            ridge_trial.value,
            percent(ridge_trial.score.error),
            cv.svm.value,
            percent(cv.svm.score.error)
        );
        report.solver_trials = vec![ridge_trial, cv.svm];
        report.c_trials = cv.c_trials;
        if !svm_wins {
            report.notes.push(format!(
                "solver: ridge kept, the SVM not better by more than one standard error \
                 ({:.2} points; {scores})",
                100.0 * one_se
            ));
            return Ok((ridge_model, Some(report)));
        }
        svm.map = svm
            .map
            .bandwidth(Bandwidth::Sigma(report.sigma))
            .n_frequencies(ridge_model.map().n_frequencies());
        svm.solver = Solver::Svm { c: cv.c, loss };
        let model = svm.fit(x, y)?;
        report.notes.push(format!(
            "solver: the SVM, better than ridge by more than one standard error ({scores}); \
             fitted with n = {}",
            model.map().n_frequencies()
        ));
        report.lambda = None;
        report.c = Some(cv.c);
        report.n_frequencies = model.map().n_frequencies();
        Ok((model, Some(report)))
    }
}

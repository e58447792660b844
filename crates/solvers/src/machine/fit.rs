//! The in-memory fit and the steps every fit shares (scaler, map, targets, assembly).

use crate::error::Param;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use rks::median::{DEFAULT_SAMPLE_ROWS, median_heuristic_sigma};
use rks::sample::sample_indices;
use rks::scaler::Scaler;
use rks::{AnyMap, Bandwidth, FeatureMap, MapKind};

use super::bounds::Ranges;
use super::relevance::ColumnWeights;
use super::select::{MapTrial, Selection, SelectionReport, estimated_step_seconds};
use super::{FitInfo, KernelMachine, KernelMachineValidParams, Solver, SolverInfo, Task};
use crate::error::{Result, SolversError, invalid};
use crate::labels::{LabelMap, signed_one_hot};
use crate::ridge::{Lambda, RidgeAccumulator};
use crate::validate::{check_finite, check_rows};

/// The median-heuristic σ of rows `x` with targets `y` after `scaler`, from the seeded
/// [`rks::sample`] of [`DEFAULT_SAMPLE_ROWS`] rows: the rows every fit (in memory, streamed,
/// with or without model selection) and `rks tune` take it from.
pub fn median_sigma(
    scaler: &Scaler,
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    seed: u64,
) -> Result<f64> {
    let rows = sample_indices(x, Some(y), DEFAULT_SAMPLE_ROWS, seed);
    let scaled = scaler.transform(x.select(Axis(0), &rows).view())?;
    Ok(median_heuristic_sigma(scaled.view(), scaled.nrows(), seed)?)
}

/// The size a block of scaled rows is kept near when the features of many rows are made
/// ([`KernelMachineValidParams::features`]): on a file of 50,000 columns 4,096 rows would take
/// 1.6 GB, so its blocks are of 41 rows. Below the C allocator's largest threshold for mapping
/// fresh pages (32 MB in glibc), a block's buffer is reused from the heap instead of faulted in
/// anew each time: a 6,000 × 47,236 fit took 113 s with blocks of 64 MB, 96 s with 16 MB.
const SCALED_BLOCK_BYTES: usize = 16 << 20;

/// Rows of a block whose features are made at once: `chunk_rows`, fewer on wide rows so that
/// their scaled copy stays near [`SCALED_BLOCK_BYTES`].
pub(super) fn scaled_block_rows(chunk_rows: usize, cols: usize) -> usize {
    chunk_rows.min((SCALED_BLOCK_BYTES / (8 * cols.max(1))).max(1))
}

/// Scaler, map and labels: everything a fit needs before the solver runs.
pub(super) struct Prepared {
    pub(super) scaler: Scaler,
    pub(super) map: AnyMap,
    pub(super) labels: Option<LabelMap>,
}

impl KernelMachineValidParams {
    /// Fits on in-memory rows `x` (N × d) and targets `y` (N): labels for classification.
    ///
    /// With [`selection`](super::KernelMachineParams::selection) on (the default), σ, λ and,
    /// within a time budget, n are chosen by exact leave-one-out first ([`super::select`]); use
    /// [`fit_with_report`](Self::fit_with_report) to see what was searched.
    ///
    /// Ridge with fewer rows than features (N < D) solves the dual form
    /// ([`ridge::fit_rows`](crate::ridge::fit_rows)): O(N²·D) time and O(N·D) memory instead of
    /// O(N·D² + D³) and O(D²); the same model up to rounding.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<KernelMachine> {
        Ok(self.fit_with_report(x, y)?.0)
    }

    /// [`fit`](Self::fit), returning the model selection's report too (`None` when selection is
    /// off).
    pub fn fit_with_report(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        // On a worker of rayon's pool, so that the fit's many parallel loops split their work
        // without waking the pool from outside each time (a no-op when called from a worker).
        rayon::scope(|_| {
            let resolved = self.with_resolved_class_weights(y)?;
            let this = resolved.as_ref().unwrap_or(self);
            let (model, mut report) = this.fit_on_worker(x, y, false)?;
            if let Some(report) = &mut report {
                self.note_class_weights(report);
            }
            let model = if this.probabilities {
                this.calibrate(model, x, y)?
            } else {
                model
            };
            Ok((model, report))
        })
    }

    /// [`fit_with_report`](Self::fit_with_report) called by a fit for one of its parts (one
    /// map's search, ridge before the solver choice) on the same rows: the checks of the rows
    /// (shapes, finite values, memory) were the outer fit's.
    pub(super) fn fit_nested(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        rayon::scope(|_| self.fit_on_worker(x, y, true))
    }

    /// [`fit_with_report`](Self::fit_with_report)'s work.
    fn fit_on_worker(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        nested: bool,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        // A nested fit is given the outer fit's rows, checked there.
        if !nested {
            check_rows(x.nrows(), y.len())?;
            if x.nrows() == 0 {
                return Err(SolversError::EmptyInput("no training rows".into()));
            }
            if x.ncols() == 0 {
                return Err(SolversError::EmptyInput("the rows have no columns".into()));
            }
            check_finite("input", x)?;
            check_finite("target", y.insert_axis(Axis(1)))?;
            super::memory::check(self, x.nrows(), x.ncols())?;
        }
        if let Some(selection) = self.learns_relevance() {
            return self.fit_weighing_columns(selection, x, y);
        }
        if let Some(selection) = &self.selection
            && self.task == Task::Classification
            && selection.solvers.contains(&crate::task::SolverKind::Ridge)
            && selection.solvers.contains(&crate::task::SolverKind::Svm)
        {
            return self.fit_choosing_solver(selection, x, y);
        }
        if let Some(selection) = &self.selection
            && selection.maps.len() > 1
            && matches!(self.solver, Solver::Ridge { .. })
        {
            return self.fit_choosing_map(selection, x, y);
        }
        let (labels, classes) = match self.task {
            Task::Classification => {
                let (labels, classes) = LabelMap::fit(y)?;
                (Some(labels), classes)
            }
            Task::Regression => (None, Vec::new()),
        };
        let scaler = self.fit_scaler(x)?;
        let capacity = self
            .selection
            .as_ref()
            .map_or(DEFAULT_SAMPLE_ROWS, Selection::sample_rows);
        let sample = self.sample_of(x, y, capacity);
        let (sigma, n, chosen_c, report) = match &self.selection {
            Some(selection) => {
                let chosen = self.search(
                    selection,
                    &scaler,
                    labels.as_ref().map(|l| (l, classes.as_slice())),
                    x,
                    y,
                    &sample,
                )?;
                if let Some((prepared, ridge)) = chosen.fitted {
                    let model =
                        self.assemble_ridge(prepared, ridge, x.nrows() as u64, chosen.sigma);
                    return Ok((model, Some(chosen.report)));
                }
                (
                    chosen.sigma,
                    chosen.n_frequencies,
                    chosen.c,
                    Some(chosen.report),
                )
            }
            None => {
                let sigma = match self.bandwidth() {
                    Some(b) => b.sigma()?,
                    None => median_sigma(&scaler, x, y, self.seed())?,
                };
                (sigma, self.n_frequencies(), None, None)
            }
        };
        let prepared = self.prepare(scaler, labels, sigma, n, Some(x))?;
        let solver = match (&self.solver, chosen_c) {
            (Solver::Svm { loss, .. }, Some(c)) => Solver::Svm { c, loss: *loss },
            (solver, _) => solver.clone(),
        };
        let model = self.fit_prepared(prepared, x, y, &classes, &solver, sigma)?;
        Ok((model, report))
    }

    /// The linear model `solver` on the features of rows `x` (targets `y`, class indices
    /// `classes` of a classifier) under `prepared`'s scaler and map: the fit's last step once
    /// σ, n and the regularisation are fixed.
    pub(super) fn fit_prepared(
        &self,
        prepared: Prepared,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        classes: &[usize],
        solver: &Solver,
        sigma: f64,
    ) -> Result<KernelMachine> {
        let weights = self.row_weights_of(prepared.labels.as_ref(), classes)?;
        match solver {
            // Weighted, fewer rows than features: the weighted dual form; λ, unless given, by
            // weighted leave-one-out (the dual form's GCV formulas are the unweighted fit's).
            Solver::Ridge { lambda }
                if x.nrows() < prepared.map.output_dim() && weights.is_some() =>
            {
                let phi = self.features::<f64>(&prepared, x)?;
                let targets = Self::targets(&prepared, y)?;
                let w = weights.as_deref().unwrap_or_default(); // Some: the guard
                let path = crate::loo::LooPath::new_weighted(phi, targets.view(), w)?;
                let ridge = match lambda {
                    Lambda::Fixed(l) => path.fit(*l)?,
                    lambda => {
                        let n = prepared.map.n_frequencies();
                        let scored = prepared.labels.as_ref().map(|l| (classes, l.n_classes()));
                        super::select::choose_lambda(&path, lambda, scored, sigma, 1.0, n)?.0
                    }
                };
                Ok(self.assemble_ridge(prepared, ridge, x.nrows() as u64, sigma))
            }
            // Fewer rows than features: the dual form, on the rows held in memory (centred in
            // place).
            Solver::Ridge { lambda } if x.nrows() < prepared.map.output_dim() => {
                let phi = self.features::<f64>(&prepared, x)?;
                let targets = Self::targets(&prepared, y)?;
                let ridge = crate::ridge::fit_rows_owned(phi, targets.view(), lambda)?;
                Ok(self.assemble_ridge(prepared, ridge, x.nrows() as u64, sigma))
            }
            Solver::Ridge { lambda } => {
                let mut acc = self.accumulator(&prepared, &Ranges::of(x, y))?;
                let chunks = x
                    .axis_chunks_iter(Axis(0), self.chunk_rows)
                    .zip(y.axis_chunks_iter(Axis(0), self.chunk_rows));
                for (i, (xb, yb)) in chunks.enumerate() {
                    let start = i * self.chunk_rows;
                    let w = weights.as_deref().map(|w| &w[start..start + xb.nrows()]);
                    Self::accumulate(&prepared, &mut acc, xb, yb, w)?;
                }
                self.finish_ridge(prepared, &acc, lambda, sigma)
            }
            Solver::Svm { c, loss } => {
                let phi = self.features::<f32>(&prepared, x)?;
                self.fit_svm(prepared, &phi, classes, (*c, *loss), sigma)
            }
        }
    }

    /// The scaler of rows `x`, times the column weights when they were learned
    /// ([`super::relevance`]).
    pub(super) fn fit_scaler(&self, x: ArrayView2<'_, f64>) -> Result<Scaler> {
        self.weighted(Scaler::fit(x, self.scaler)?)
    }

    /// The selection, when this fit is to learn the column weights ([`super::relevance`]):
    /// selection on with [`Selection::relevance`], no bandwidth given, and no weights learned
    /// by an outer fit. The in-memory fit and the partial plan both ask this, so they agree.
    pub(super) fn learns_relevance(&self) -> Option<&Selection> {
        self.selection
            .as_ref()
            .filter(|s| s.relevance && self.input_weights.is_none() && self.bandwidth().is_none())
    }

    /// `scaler` times the learned column weights, if any.
    pub(super) fn weighted(&self, scaler: Scaler) -> Result<Scaler> {
        Ok(match &self.input_weights {
            Some(w) if w.len() != scaler.dim() => {
                return Err(invalid(
                    Param::InputWeights,
                    format!(
                        "{} column weights for {} input columns",
                        w.len(),
                        scaler.dim()
                    ),
                ));
            }
            Some(w) => scaler.reweighted(w)?,
            None => scaler,
        })
    }

    /// The column-relevance step of the default fit ([`super::relevance`]) on its own: the
    /// weights are learned and checked on the seeded sample of `x` (at most
    /// [`Selection::sample_rows`] rows; the scaler fitted on every row) with `selection`'s
    /// settings, so the same data, seed and settings give the weights a fit would learn. Kept
    /// weights can be given to other fits with
    /// [`KernelMachineParams::input_weights`](super::KernelMachineParams::input_weights); `rks
    /// tune` does so. Hand-given weights of these parameters are ignored here (learned afresh).
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use rks_solvers::machine::{KernelMachine, Selection, Task};
    ///
    /// // The target depends on column 0 only; column 1 is noise.
    /// let x = Array2::from_shape_fn((300, 2), |(i, j)| ((i * (37 + 54 * j) + 11 * j) % 300) as f64 / 150.0 - 1.0);
    /// let y: Array1<f64> = x.column(0).mapv(|v| (3.0 * v).sin());
    /// let params = KernelMachine::params().task(Task::Regression).check()?;
    /// let learned = params.learn_column_weights(&Selection::default(), x.view(), y.view())?;
    /// assert!(learned.note.starts_with("relevance:"));
    /// if let Some(w) = &learned.weights {
    ///     assert!(w[1] < w[0]);
    /// }
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn learn_column_weights(
        &self,
        selection: &Selection,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<ColumnWeights> {
        check_rows(x.nrows(), y.len())?;
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(SolversError::EmptyInput("no rows or no columns".into()));
        }
        check_finite("input", x)?;
        check_finite("target", y.insert_axis(Axis(1)))?;
        selection.validate()?;
        if let Some(skipped) = super::relevance::skipped_for_columns(selection, x.ncols()) {
            return Ok(skipped);
        }
        if self.sample_weights.is_some() {
            return Ok(super::relevance::skipped_for_sample_weights());
        }
        let scaler = Scaler::fit(x, self.scaler)?;
        let labels = match self.task {
            Task::Classification => Some(LabelMap::fit(y)?.0),
            Task::Regression => None,
        };
        let sample = sample_indices(x, Some(y), selection.sample_rows(), self.seed());
        super::relevance::learn(
            selection,
            &scaler,
            labels.as_ref(),
            x.select(Axis(0), &sample).view(),
            y.select(Axis(0), &sample).view(),
            self.seed(),
        )
    }

    /// [`learn_column_weights`](Self::learn_column_weights) for a fit with a sample weight per
    /// row, as [`fit_weighted`](Self::fit_weighted) learns them: on the rows of positive weight
    /// when those all weigh 1 (that fit is the unweighted fit of those rows), else skipped, with
    /// the note saying why (the step scores its rows unweighted).
    pub fn learn_column_weights_weighted(
        &self,
        selection: &Selection,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        sample_weights: ArrayView1<'_, f64>,
    ) -> Result<ColumnWeights> {
        check_rows(x.nrows(), y.len())?;
        self.weighed(sample_weights, x.nrows(), |params, kept| match kept {
            None => params.learn_column_weights(selection, x, y),
            Some(kept) => params.learn_column_weights(
                selection,
                x.select(Axis(0), kept).view(),
                y.select(Axis(0), kept).view(),
            ),
        })
    }

    /// Learns the column weights on the seeded sample ([`super::relevance`]), then fits with
    /// them (or without, when they were not kept), adding what was learned to the report.
    fn fit_weighing_columns(
        &self,
        selection: &Selection,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        let relevance = self.learn_column_weights(selection, x, y)?;
        let mut params = self.clone();
        params.input_weights = Some(relevance.weights.unwrap_or_else(|| vec![1.0; x.ncols()]));
        let (model, report) = params.fit_nested(x, y)?;
        Ok((
            model,
            report.map(|mut r| {
                r.notes.insert(0, relevance.note);
                r.relevance = relevance.report;
                r
            }),
        ))
    }

    /// The SVM (cost `c`, `loss`) fitted on the features `phi` of every training row (classes
    /// `classes`, the labels in `prepared`), assembled into a model with `prepared`'s scaler and
    /// map at bandwidth `sigma`.
    pub(super) fn fit_svm<D: crate::rows::SvmData>(
        &self,
        prepared: Prepared,
        phi: &D,
        classes: &[usize],
        (c, loss): (f64, crate::svm::SvmLoss),
        sigma: f64,
    ) -> Result<KernelMachine> {
        let labels = prepared
            .labels
            .as_ref()
            .ok_or_else(|| invalid(Param::Solver, "the SVM is a classifier"))?;
        let weights = self.row_weights_of(Some(labels), classes)?;
        let (svm, _) = phi.fit_ovr_warm(
            classes,
            labels.n_classes(),
            &self.svm_params(c, loss),
            None,
            weights.as_deref(),
        )?;
        let info = FitInfo {
            n_train: phi.n_rows() as u64,
            sigma,
            solver: SolverInfo::Svm {
                c,
                loss,
                epochs: svm.reports.iter().map(|r| r.epochs).collect(),
                converged: svm.reports.iter().map(|r| r.converged).collect(),
                n_support: svm.reports.iter().map(|r| r.n_support).collect(),
            },
        };
        Ok(self.assemble(prepared, svm.weights, svm.intercept, info))
    }

    /// Stage 1 of the search when `selection` scores its σ grid with the exact kernel
    /// ([`Selection::exact_sigma`], judged on the whole budget): on the scaler, labels and
    /// seeded sample every fit of these rows takes, so it is the choice each map's search
    /// would make. `None` when the grid is scored with features (which depend on the map), σ
    /// is given, or an outer fit already chose it.
    fn exact_stage1(
        &self,
        selection: &Selection,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<Option<super::select::SigmaChoice>> {
        let classification = self.task == Task::Classification;
        let rows = x.nrows().min(selection.search_rows);
        if self.sigma_choice.is_some()
            || self.bandwidth().is_some()
            || !selection.exact_grid(classification, rows, x.ncols())
        {
            return Ok(None);
        }
        let labels = match self.task {
            Task::Classification => Some(LabelMap::fit(y)?.0),
            Task::Regression => None,
        };
        let scaler = self.fit_scaler(x)?;
        let sample = self.sample_of(x, y, selection.sample_rows());
        let choice = self.on_rows(&sample).choose_sigma(
            selection,
            &scaler,
            labels.as_ref(),
            x.select(Axis(0), &sample).view(),
            y.select(Axis(0), &sample).view(),
        )?;
        Ok(Some(choice))
    }

    /// Searches each map of [`Selection::maps`] that makes the kernel, with an equal share of
    /// the budget, and keeps the fit whose chosen final trial has the best leave-one-out score
    /// (ties: the earlier map in the list).
    fn fit_choosing_map(
        &self,
        selection: &Selection,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        let kinds: Vec<MapKind> = selection
            .maps
            .iter()
            .copied()
            .filter(|k| k.supports(self.kernel()))
            .collect();
        let share = Selection {
            maps: Vec::new(),
            budget_seconds: selection
                .budget_seconds
                .map(|b| b / kinds.len().max(1) as f64),
            ..selection.clone()
        };
        let stage1 = self.exact_stage1(selection, x, y)?;
        // The maps' searches are independent, so they run side by side (each one's own
        // products in parallel inside it, with block shapes that do not depend on the threads):
        // the eigendecompositions, sequential for reproducibility, overlap. The results are
        // taken in the order of `kinds`, the first error first, as a loop over them would.
        let fits: Vec<Result<(KernelMachine, Option<SelectionReport>)>> = kinds
            .par_iter()
            .map(|&kind| {
                let mut params = self.clone();
                params.map = params.map.kind(kind);
                // Where that map's step at the n given is costly and the budget lets growth
                // reach it from below, every map starts from the same number of features: n/2
                // for the maps with two (cos and sin) per frequency, which may grow back to n
                // by clear gains.
                let n = self.n_frequencies();
                let scored = x.nrows().min(share.loo_rows);
                let cost = |m: usize| {
                    estimated_step_seconds(x.nrows(), kind.output_dim(self.kernel(), m), scored)
                };
                if kind.output_dim(self.kernel(), n) > n && share.starts_below(n / 2, cost) {
                    params.map = params.map.n_frequencies(n / 2);
                }
                params.selection = Some(share.clone());
                if stage1.is_some() {
                    params.sigma_choice = stage1.clone();
                }
                params.fit_nested(x, y)
            })
            .collect();
        let mut best: Option<(KernelMachine, SelectionReport, MapKind)> = None;
        let mut map_trials = Vec::new();
        for (kind, fit) in kinds.into_iter().zip(fits) {
            let (model, report) = fit?;
            let Some(report) = report else { continue };
            let Some(trial) = report.chosen_trial().cloned() else {
                continue;
            };
            let better = best.as_ref().is_none_or(|(_, b, _)| {
                b.chosen_trial()
                    .is_none_or(|t| trial.score.better_than(&t.score))
            });
            map_trials.push(MapTrial { map: kind, trial });
            if better {
                best = Some((model, report, kind));
            }
        }
        let (model, mut report, kind) = best.ok_or_else(|| {
            invalid(
                Param::Maps,
                format!(
                    "none of the maps {:?} makes the {} kernel",
                    selection.maps,
                    self.kernel()
                ),
            )
        })?;
        // A classifier's error rates within one standard error tie and the squared error
        // decides (`LooScore::better_than`), so both are shown: the kept map may not have the
        // lower rate.
        let scores: Vec<String> = map_trials
            .iter()
            .map(|m| match m.trial.score.error {
                Some(e) => format!(
                    "{} {:.2} % (squared error {:.4})",
                    m.map,
                    100.0 * e,
                    m.trial.score.mse
                ),
                None => format!("{} {:.4}", m.map, m.trial.score.headline()),
            })
            .collect();
        let rule = if map_trials.iter().any(|m| m.trial.score.error.is_some()) {
            "; error rates within one standard error tie, and the lower squared error wins"
        } else {
            ""
        };
        report.notes.push(format!(
            "map: {kind} had the best leave-one-out score ({}{rule})",
            scores.join(", ")
        ));
        report.map_trials = map_trials;
        Ok((model, Some(report)))
    }

    /// The scaler, labels and map of a fit with n frequencies; a Nyström map picks its
    /// landmarks among the scaled `rows` (a streamed fit has none in memory, and cannot make
    /// one), at most one per row: asked for more landmarks than there are rows, it takes every
    /// row (m = N, which is the exact kernel machine), as scikit-learn's `Nystroem` does.
    pub(super) fn prepare(
        &self,
        scaler: Scaler,
        labels: Option<LabelMap>,
        sigma: f64,
        n_frequencies: usize,
        rows: Option<ArrayView2<'_, f64>>,
    ) -> Result<Prepared> {
        self.prepare_reusing(scaler, labels, sigma, n_frequencies, rows, None)
    }

    /// [`Self::prepare`], taking the map of `known` — a scaler and a map fitted by `prepare` on
    /// the same `rows` — instead of fitting it again when its spec and scaler are the ones this
    /// fit would use: [`AnyMap::fit`] is a function of the spec and the scaled rows, so the map
    /// would be the same bits (a Nyström map's eigendecomposition is the costly part).
    pub(super) fn prepare_reusing(
        &self,
        scaler: Scaler,
        labels: Option<LabelMap>,
        sigma: f64,
        n_frequencies: usize,
        rows: Option<ArrayView2<'_, f64>>,
        known: Option<(&Scaler, &AnyMap)>,
    ) -> Result<Prepared> {
        let n_frequencies = match rows {
            Some(x) if self.map_kind() == MapKind::Nystrom => n_frequencies.min(x.nrows().max(1)),
            _ => n_frequencies,
        };
        let spec = self
            .map
            .n_frequencies(n_frequencies)
            .bandwidth(Bandwidth::Sigma(sigma))
            .spec(scaler.dim(), sigma)?;
        let map = match (rows, known) {
            (_, Some((known_scaler, map))) if known_scaler == &scaler && map.spec() == &spec => {
                map.clone()
            }
            // Only the landmark rows are scaled when the map keeps no others (uniform Nyström):
            // the same map, without a scaled copy of every row.
            (Some(x), _) if !spec.kind().is_data_free() => {
                match AnyMap::landmark_rows(&spec, x.nrows()) {
                    Some(rows) => AnyMap::fit(
                        &spec,
                        scaler.transform(x.select(Axis(0), &rows).view())?.view(),
                    )?,
                    None => AnyMap::fit(&spec, scaler.transform(x)?.view())?,
                }
            }
            _ => AnyMap::from_spec(&spec)?,
        };
        Ok(Prepared {
            scaler,
            map,
            labels,
        })
    }

    pub(super) fn n_outputs(labels: Option<&LabelMap>) -> usize {
        match labels {
            Some(l) if l.n_classes() > 2 => l.n_classes(),
            _ => 1,
        }
    }

    /// Empty ridge statistics for `prepared`, on the grid its map and the training rows'
    /// `ranges` fix ([`super::bounds`]); weighted statistics under class weights
    /// ([`RidgeAccumulator::new_weighted`]).
    pub(super) fn accumulator(
        &self,
        prepared: &Prepared,
        ranges: &Ranges,
    ) -> Result<RidgeAccumulator> {
        let (dim, outputs) = (
            prepared.map.output_dim(),
            Self::n_outputs(prepared.labels.as_ref()),
        );
        match self.statistics_grid(prepared, ranges)? {
            (grid, None) => RidgeAccumulator::new(dim, outputs, grid),
            (grid, Some(largest)) => RidgeAccumulator::new_weighted(dim, outputs, grid, largest),
        }
    }

    /// The grid of the ridge statistics for `prepared` and the training rows' `ranges`, and
    /// under class weights (resolved: [`ClassWeights::Balanced`] is an error here) the largest
    /// weight, the grid widened for its square root.
    pub(super) fn statistics_grid(
        &self,
        prepared: &Prepared,
        ranges: &Ranges,
    ) -> Result<(crate::exact::Grid, Option<f64>)> {
        let largest = self.largest_row_weight(prepared.labels.as_ref())?;
        Self::widened_grid(prepared, ranges, largest)
    }

    /// The grid of the ridge statistics for `prepared` and `ranges`, widened for rows whose
    /// largest weight is `largest` (`None`: unweighted).
    pub(super) fn widened_grid(
        prepared: &Prepared,
        ranges: &Ranges,
        largest: Option<f64>,
    ) -> Result<(crate::exact::Grid, Option<f64>)> {
        let grid = super::bounds::grid(prepared, ranges)?;
        match largest {
            None => Ok((grid, None)),
            Some(largest) => Ok((grid.widened(largest.sqrt().max(1.0))?, Some(largest))),
        }
    }

    /// Φ of all rows of `x` in precision F (scaled and mapped `chunk_rows` rows at a time).
    pub(super) fn features<F: rks::Element>(
        &self,
        prepared: &Prepared,
        x: ArrayView2<'_, f64>,
    ) -> Result<Array2<F>> {
        let shape = (x.nrows(), prepared.map.output_dim());
        let mut phi: Array2<F> =
            rks::alloc::zeros(shape, "the features", rks::error::Param::NFrequencies)?;
        // Each row's features are the same bits in any block of rows, so on wide rows the
        // blocks shrink to keep their scaled copy near SCALED_BLOCK_BYTES.
        let rows = scaled_block_rows(self.chunk_rows, x.ncols());
        for (xb, mut out) in x
            .axis_chunks_iter(Axis(0), rows)
            .zip(phi.axis_chunks_iter_mut(Axis(0), rows))
        {
            let scaled: Array2<F> = prepared.scaler.transform_to(xb)?;
            prepared.map.transform_into(scaled.view(), out.view_mut())?;
        }
        Ok(phi)
    }

    /// Scales, maps and folds one block of at most `chunk_rows` rows into the ridge statistics
    /// (weighted statistics with the rows' `weights`).
    pub(super) fn accumulate(
        prepared: &Prepared,
        acc: &mut RidgeAccumulator,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        weights: Option<&[f64]>,
    ) -> Result<()> {
        let scaled = prepared.scaler.transform(x)?;
        let targets = Self::targets(prepared, y)?;
        match weights {
            None => acc.update_mapped(&prepared.map, scaled.view(), targets.view()),
            Some(w) => acc.update_mapped_weighted(&prepared.map, scaled.view(), targets.view(), w),
        }
    }

    /// The ridge targets: ±1 one-hot columns of the classes, or y as one column.
    pub(super) fn targets(prepared: &Prepared, y: ArrayView1<'_, f64>) -> Result<Array2<f64>> {
        Ok(match &prepared.labels {
            Some(labels) => signed_one_hot(&labels.indices(y)?, labels.n_classes()),
            None => y.insert_axis(Axis(1)).to_owned(),
        })
    }

    pub(super) fn finish_ridge(
        &self,
        prepared: Prepared,
        acc: &RidgeAccumulator,
        lambda: &Lambda,
        sigma: f64,
    ) -> Result<KernelMachine> {
        let ridge = acc.fit(lambda)?;
        Ok(self.assemble_ridge(prepared, ridge, acc.count(), sigma))
    }

    pub(super) fn assemble_ridge(
        &self,
        prepared: Prepared,
        ridge: crate::ridge::Ridge,
        n_train: u64,
        sigma: f64,
    ) -> KernelMachine {
        let info = FitInfo {
            n_train,
            sigma,
            solver: SolverInfo::Ridge {
                lambda: ridge.lambda,
                gcv: ridge.gcv.map(crate::ridge::GcvReport::rounded),
            },
        };
        self.assemble(prepared, ridge.weights, ridge.intercept, info)
    }

    pub(super) fn assemble(
        &self,
        prepared: Prepared,
        weights: Array2<f64>,
        intercept: Array1<f64>,
        info: FitInfo,
    ) -> KernelMachine {
        let class_weights = self.recorded_class_weights(prepared.labels.as_ref());
        KernelMachine {
            task: self.task,
            scaler: prepared.scaler,
            map: prepared.map,
            weights,
            intercept,
            labels: prepared.labels,
            chunk_rows: self.chunk_rows,
            info,
            whitened: Default::default(),
            product: Default::default(),
            folded: Default::default(),
            categories: None,
            calibration: None,
            class_weights,
        }
    }
}

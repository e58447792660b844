//! Row weights: each row's class weight ([`crate::class_weights`]) times its own sample weight
//! ([`KernelMachineValidParams::fit_weighted`]), for every fit, fold and pass of the kernel
//! machine.
//!
//! Class weights live in the params (an outer fit resolves balanced ones on all its rows).
//! Sample weights are given to a fit with its rows: [`KernelMachineValidParams::fit_weighted`]
//! leaves rows of weight 0 out and puts the others' weights in the params it fits with, aligned
//! with the rows of the fit in progress. A step that works on some of those rows (the σ
//! search's sample, a fold's refit) takes params realigned to them (`on_rows`), and every step
//! asks `row_weights_of` for its rows' weights, which refuses weights that are not aligned
//! with the rows rather than weigh the wrong ones.

use ndarray::{ArrayView1, ArrayView2, Axis};

use super::select::SelectionReport;
use super::{KernelMachine, KernelMachineValidParams, Task};
use crate::class_weights::ClassWeights;
use crate::error::{Param, Result, SolversError, invalid};
use crate::labels::LabelMap;
use crate::validate::{check_finite, check_rows};

/// The rows' weights of a [`fit_weighted`](KernelMachineValidParams::fit_weighted), shared by
/// the params of the fits it runs inside (printed as their count).
#[derive(Clone, PartialEq)]
pub(super) struct SampleWeights(pub(super) std::sync::Arc<[f64]>);

impl std::fmt::Debug for SampleWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SampleWeights({} rows)", self.0.len())
    }
}

impl KernelMachineValidParams {
    /// [`fit`](Self::fit) with a weight per row (scikit-learn's `sample_weight`, LIBLINEAR's
    /// `-W`): row i's loss counts wᵢ times — ridge minimises Σᵢ wᵢ‖yᵢ − Wᵀφᵢ − b‖² + λ‖W‖², the
    /// SVM ½‖w‖² + C Σᵢ wᵢξᵢ — and the model selection compares weighted error rates (or
    /// weighted squared errors), as with [`class_weights`](super::KernelMachineParams::class_weights),
    /// whose weights multiply these. Weights are finite and ≥ 0, not all 0; a row of weight 0
    /// is left out (the fit is the fit without it), and weights all 1 are the unweighted fit.
    /// Integer weights are the rows repeated, up to the seeded row samples of the search (which
    /// sample rows, not weights) and rounding. Not weighted: the σ heuristic's and the search's
    /// row samples and Nyström's landmarks (as with class weights); the column relevance step,
    /// which scores its rows unweighted, is skipped (on rows weighted by their reliability it
    /// chose the columns by the rows the fit trusts least: docs/benchmarks.md, "Row weights").
    /// The streamed and partial fits take sample weights too
    /// ([`fit_stream_weighted`](Self::fit_stream_weighted),
    /// [`FirstPass::update_weighted`](super::partial::FirstPass::update_weighted)) and give this
    /// fit's model where it takes their path (ridge, more rows than features).
    ///
    /// ```
    /// use ndarray::{Array1, Array2, array};
    /// use rks_solvers::{KernelMachine, Lambda, Solver, Task};
    ///
    /// let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f64 / 40.0);
    /// let y: Array1<f64> = x.column(0).mapv(|v| (6.0 * v).sin());
    /// let params = KernelMachine::params()
    ///     .task(Task::Regression)
    ///     .selection(None)
    ///     .solver(Solver::Ridge { lambda: Lambda::Fixed(1e-3) })
    ///     .n_frequencies(32)
    ///     .check()?;
    /// // The last 20 rows weigh 0: the fit of the first 20 alone.
    /// let w: Array1<f64> = (0..40).map(|i| if i < 20 { 1.0 } else { 0.0 }).collect();
    /// let weighted = params.fit_weighted(x.view(), y.view(), w.view())?;
    /// let first = params.fit(x.slice(ndarray::s![..20, ..]), y.slice(ndarray::s![..20]))?;
    /// assert_eq!(weighted.to_bytes()?, first.to_bytes()?);
    /// assert!(params.fit_weighted(x.view(), y.view(), array![1.0].view()).is_err());
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn fit_weighted(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        sample_weights: ArrayView1<'_, f64>,
    ) -> Result<KernelMachine> {
        Ok(self.fit_weighted_with_report(x, y, sample_weights)?.0)
    }

    /// [`fit_weighted`](Self::fit_weighted), returning the model selection's report too.
    pub fn fit_weighted_with_report(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        sample_weights: ArrayView1<'_, f64>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        check_rows(x.nrows(), y.len())?;
        self.weighed(sample_weights, x.nrows(), |params, kept| match kept {
            None => params.fit_with_report(x, y),
            Some(kept) => params.fit_with_report(
                x.select(Axis(0), kept).view(),
                y.select(Axis(0), kept).view(),
            ),
        })
    }

    /// `run` under the sample weights `weights` of `rows` rows, checked (one per row, finite,
    /// ≥ 0, not all 0): given these params carrying the weights of the rows it runs on, and
    /// the rows of positive weight when some weigh 0 (it then runs on those rows only; `None`:
    /// on every row). Where the rows of positive weight all weigh 1, these params as they are
    /// (the unweighted fit of those rows, bit for bit).
    pub(super) fn weighed<T>(
        &self,
        weights: ArrayView1<'_, f64>,
        rows: usize,
        run: impl FnOnce(&Self, Option<&[usize]>) -> Result<T>,
    ) -> Result<T> {
        let w = weights.to_vec();
        crate::ridge::check_row_weights(&w, rows)?;
        let kept: Vec<usize> = (0..w.len()).filter(|&i| w[i] > 0.0).collect();
        if kept.is_empty() {
            return Err(SolversError::EmptyInput(
                "every row's weight is 0: no row to fit".into(),
            ));
        }
        let some = (kept.len() < w.len()).then_some(kept.as_slice());
        if kept.iter().all(|&i| w[i] == 1.0) {
            return run(self, some);
        }
        let mut params = self.clone();
        params.sample_weights = Some(SampleWeights(kept.iter().map(|&i| w[i]).collect()));
        run(&params, some)
    }

    /// These params for the rows `rows` of the fit's rows: with their sample weights, when
    /// there are any (else these params as they are).
    pub(super) fn on_rows(&self, rows: &[usize]) -> std::borrow::Cow<'_, Self> {
        match &self.sample_weights {
            None => std::borrow::Cow::Borrowed(self),
            Some(w) => {
                let mut params = self.clone();
                params.sample_weights = Some(SampleWeights(rows.iter().map(|&i| w.0[i]).collect()));
                std::borrow::Cow::Owned(params)
            }
        }
    }

    /// The seeded row sample of at most `capacity` of the rows `x` (targets `y`) this fit works
    /// on ([`rks::sample`]), their sample weights (when any) ordering rows that are otherwise
    /// identical, as a partial fit's pass 1 orders them.
    pub(super) fn sample_of(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        capacity: usize,
    ) -> Vec<usize> {
        let weights = self
            .sample_weights
            .as_ref()
            .map(|w| ArrayView1::from(&w.0[..]));
        rks::sample::sample_indices_weighted(x, Some(y), weights, capacity, self.seed())
    }

    /// [`on_rows`](Self::on_rows) for the first `count` rows.
    pub(super) fn on_first(&self, count: usize) -> std::borrow::Cow<'_, Self> {
        match &self.sample_weights {
            Some(w) if w.0.len() > count => self.on_rows(&(0..count).collect::<Vec<_>>()),
            _ => std::borrow::Cow::Borrowed(self),
        }
    }

    /// Adds to `report` that its error rates and squared errors are weighted, when these
    /// params weigh classes.
    pub(super) fn note_class_weights(&self, report: &mut SelectionReport) {
        if let Some(weights) = &self.class_weights {
            report.notes.push(format!(
                "class weights ({}): every error rate and squared error above is weighted",
                match weights {
                    ClassWeights::Balanced => "balanced: the error rates are balanced ones",
                    ClassWeights::Given(_) => "given",
                }
            ));
        }
        if self.sample_weights.is_some() {
            report.notes.push(
                "sample weights: every error rate and squared error above is weighted by the \
                 rows' weights"
                    .into(),
            );
        }
    }

    /// These params with [`ClassWeights::Balanced`] resolved on the training labels `y` (every
    /// class named with its weight), so that every fit on a part of the rows weighs as the
    /// whole does; `None` when there are no class weights. A named class that is not among the
    /// labels is an error here, before any work.
    pub(super) fn with_resolved_class_weights(
        &self,
        y: ArrayView1<'_, f64>,
    ) -> Result<Option<Self>> {
        let Some(weights) = &self.class_weights else {
            return Ok(None);
        };
        if self.task != Task::Classification {
            return Err(invalid(
                Param::ClassWeights,
                "class weights are for classification (a regression has no classes)",
            ));
        }
        check_finite("target", y.insert_axis(Axis(1)))?;
        let (labels, classes) = LabelMap::fit(y)?;
        let mut params = self.clone();
        params.class_weights = Some(weights.resolved(&labels, &classes)?);
        Ok(Some(params))
    }

    /// Each class of `labels` with its weight under these params' class weights, for the model
    /// to record: `None` without class weights or labels, or while balanced weights are not
    /// yet resolved on the training rows (every fit resolves them before it assembles a model).
    pub(super) fn recorded_class_weights(&self, labels: Option<&LabelMap>) -> Option<Vec<f64>> {
        match (&self.class_weights, labels) {
            (Some(weights @ ClassWeights::Given(_)), Some(labels)) => {
                weights.per_class(labels, &[]).ok()
            }
            _ => None,
        }
    }

    /// The weights of rows of class indices `classes` (into `labels`; a regression's are its
    /// sample weights'): each row's class weight times its sample weight; `None` without
    /// either (every row weighs 1). Sample weights not aligned with the rows are an error.
    pub(super) fn row_weights_of(
        &self,
        labels: Option<&LabelMap>,
        classes: &[usize],
    ) -> Result<Option<Vec<f64>>> {
        let by_class =
            crate::class_weights::row_weights(self.class_weights.as_ref(), labels, classes)?;
        let Some(SampleWeights(own)) = &self.sample_weights else {
            return Ok(by_class);
        };
        // A classifier's rows are its classes'; a regression's the sample weights' own.
        let rows = if labels.is_some() {
            classes.len()
        } else {
            own.len()
        };
        if own.len() != rows {
            return Err(SolversError::DimensionMismatch {
                what: "sample weights",
                expected: rows,
                found: own.len(),
            });
        }
        Ok(Some(match by_class {
            None => own.to_vec(),
            Some(c) => c.iter().zip(own.iter()).map(|(c, w)| c * w).collect(),
        }))
    }

    /// The largest weight a row of this fit can have (class weight times sample weight), when
    /// it weighs rows: what the statistics' grid is widened for. `None` without weights.
    pub(super) fn largest_row_weight(&self, labels: Option<&LabelMap>) -> Result<Option<f64>> {
        let own = self
            .sample_weights
            .as_ref()
            .map(|w| w.0.iter().copied().fold(0.0, f64::max));
        self.largest_row_weight_with(labels, own)
    }

    /// [`largest_row_weight`](Self::largest_row_weight) with the largest sample weight `own`
    /// given (a partial plan's, of every row of pass 1; `None`: rows without sample weights).
    pub(super) fn largest_row_weight_with(
        &self,
        labels: Option<&LabelMap>,
        own: Option<f64>,
    ) -> Result<Option<f64>> {
        let by_class = match self.class_weights.as_ref().filter(|_| labels.is_some()) {
            None => None,
            Some(weights) => Some(weights.largest().ok_or_else(|| {
                invalid(
                    Param::ClassWeights,
                    "balanced class weights are resolved on the training rows first",
                )
            })?),
        };
        Ok(match (by_class, own) {
            (None, None) => None,
            (c, w) => Some(c.unwrap_or(1.0) * w.unwrap_or(1.0)),
        })
    }
}

//! The partial-fit API: a ridge fit as a map–reduce that any engine can run (threads, MPI ranks,
//! Dask workers), with the same model, bit for bit, however the rows are split.
//!
//! ```text
//! partitions ─▶ FirstPass::update ─▶ merge ─▶ params.plan(&first) ─▶ Plan (broadcast)
//!            ─▶ SecondPass::update ─▶ merge ─▶ params.finish(&plan, &second) ─▶ KernelMachine
//! ```
//!
//! 1. **Pass 1** ([`FirstPass`]): the scaler's statistics, each column's range and the targets'
//!    range, the class labels and their counts, and the seeded bottom-k row sample
//!    ([`rks::sample`]). Every part merges exactly: min, max, sums, bottom-k by a hash of each
//!    row's content.
//! 2. **Plan** ([`KernelMachineValidParams::plan`]): the scaler, the labels, the class weights
//!    (balanced ones resolved on pass 1's counts, [`crate::class_weights`]), σ (by the model
//!    selection's stage 1 on the sampled rows, or the median heuristic, or as given), the map
//!    spec, the fixed-point grid of the exact statistics ([`crate::exact`]; weighted statistics
//!    under class weights) and the rows that will score λ. Small (the sample's rows and the
//!    map's spec); broadcast to every worker.
//! 3. **Pass 2** ([`SecondPass`]): the exact ridge statistics ΦᵀΦ, ΦᵀY, Σφ, Σy, Σy², N of the
//!    partition's rows under the plan's map and grid. Integer sums: merges in any grouping give
//!    the same bits ([`SecondPass::limbs`] for an engine's integer `SUM`).
//! 4. **Finish** ([`KernelMachineValidParams::finish`]): λ by exact leave-one-out on the plan's
//!    sampled rows against the merged statistics (model selection on), or by GCV, or fixed;
//!    then the model, and with class probabilities
//!    ([`probabilities`](super::KernelMachineParams::probabilities)) one Platt sigmoid per class
//!    on those rows' exact leave-one-out decision values at the model's λ.
//!
//! **Sample weights** ([`FirstPass::update_weighted`], [`SecondPass::update_weighted`]): pass 1
//! leaves rows of weight 0 out and keeps each sampled row's weight with it and the largest
//! weight; the plan searches σ on the sampled rows with their weights, widens the grid for the
//! largest and keeps the scored rows' weights; pass 2 weighs each row by its class weight times
//! its sample weight. The model is
//! [`fit_weighted`](KernelMachineValidParams::fit_weighted)'s, bit for bit.
//!
//! [`fit_stream`](KernelMachineValidParams::fit_stream) is these four steps over one stream, so
//! a partitioned fit and a streamed one write the same model file; the in-memory fit with more
//! rows than features takes the same path too (same sample, same exact statistics).
//!
//! Every partial serialises in the project's envelope (`to_bytes`/`from_bytes`: tag, version,
//! length, checksum, bounded decode). A part carries a fingerprint of the parameters (and of the
//! plan, in pass 2): merging parts of different fits, or finishing with other parameters, is a
//! [`SolversError::PartialMismatch`].
//!
//! ```
//! use ndarray::{Array1, Array2, Axis};
//! use rks_solvers::KernelMachine;
//! use rks_solvers::partial::{FirstPass, Plan, SecondPass};
//!
//! let x = Array2::from_shape_fn((600, 2), |(i, j)| ((i * 37 + j * 91) % 600) as f64 / 300.0 - 1.0);
//! let y: Array1<f64> = x.rows().into_iter()
//!     .map(|r| if (3.0 * r[0]).sin() + r[1] > 0.0 { 1.0 } else { 0.0 }).collect();
//! let params = KernelMachine::params().n_frequencies(64).seed(7).check()?;
//! // Three partitions of uneven size, as three workers would hold them.
//! let cuts = [0, 100, 350, 600];
//! let parts: Vec<(Array2<f64>, Array1<f64>)> = cuts.windows(2).map(|w| {
//!     let r = (w[0]..w[1]).into();
//!     (x.slice_axis(Axis(0), r).to_owned(), y.slice_axis(Axis(0), r).to_owned())
//! }).collect();
//!
//! // Pass 1 on each worker, shipped as bytes and merged in any order.
//! let mut first = params.first_pass();
//! for (xp, yp) in parts.iter().rev() {
//!     let mut part = params.first_pass();
//!     part.update(xp.view(), yp.view())?;
//!     first.merge(&FirstPass::from_bytes(&part.to_bytes()?)?)?;
//! }
//! let plan = Plan::from_bytes(&params.plan(&first)?.to_bytes()?)?;
//! // Pass 2 on each worker with the broadcast plan.
//! let mut second = plan.second_pass()?;
//! for (xp, yp) in &parts {
//!     let mut part = plan.second_pass()?;
//!     part.update(&plan, xp.view(), yp.view())?;
//!     second.merge(&SecondPass::from_bytes(&part.to_bytes()?)?)?;
//! }
//! let model = params.finish(&plan, &second)?;
//! // The same model as fitting every row at once.
//! let whole = params.fit(x.view(), y.view())?;
//! assert_eq!(model.to_bytes()?, whole.to_bytes()?);
//! # Ok::<(), rks_solvers::SolversError>(())
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rks::envelope::{FileKind, fnv1a};
use rks::median::{DEFAULT_SAMPLE_ROWS, median_heuristic_sigma};
use rks::sample::RowSample;
use rks::scaler::{Scaler, ScalerStats};
use rks::{AnyMap, FeatureMap, SavedAny};
use serde::{Deserialize, Serialize};

use super::bounds::Ranges;
use super::fit::Prepared;
use super::select::{SelectionReport, SigmaChoice, Trial, choose_lambda};
use super::weights::SampleWeights;
use super::{
    KernelMachine, KernelMachineValidParams, RelevanceReport, Selection, Solver, SolverInfo, Task,
};
use crate::calibration::Calibration;
use crate::class_weights::ClassWeights;
use crate::error::{Param, Result, SolversError, invalid};
use crate::exact::Grid;
use crate::labels::{LabelMap, class_label, class_scores};
use crate::ridge::{Lambda, RidgeAccumulator};
use crate::validate::{check_finite, check_rows};

/// Partial fits in the project's envelope: tag `RKSPARTL`, version 4, payloads up to 64 GiB.
/// Version 1 held statistics on the 22-bit feature grid, which do not add to today's 12-bit
/// ones; version 2's statistics had no field for row weights; version 3's passes and plans had
/// none for sample weights: all are refused (partial fits are passed between the workers of one
/// fit, which run one build).
pub const PARTIAL_FILE: FileKind = FileKind {
    tag: *b"RKSPARTL",
    what: "partial fit",
    version: 4,
    oldest: 4,
    framed_since: 1,
    max_payload: 1 << 36,
};

/// Which step a serialised partial belongs to: a part of one step is refused as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Step {
    First,
    Plan,
    Second,
}

/// A fingerprint of the parameters that decide a fit (everything in them), so that parts of
/// different fits cannot be merged or finished together.
fn fingerprint(params: &KernelMachineValidParams) -> u64 {
    fnv1a(format!("{params:?}").as_bytes())
}

fn mismatch(what: &str) -> SolversError {
    SolversError::PartialMismatch(what.to_string())
}

/// The rows of positive weight of a chunk, with their targets and weights (rows of weight 0
/// are left out of a fit, as in memory).
struct Kept {
    rows: Vec<usize>,
    x: Array2<f64>,
    y: Array1<f64>,
    weights: Array1<f64>,
    left_out: u64,
}

impl Kept {
    /// The rows of `x`, `y` of positive weight in `weights` (checked: one per row, finite, ≥ 0);
    /// `None` when every row weighs more than 0 (the chunk is then used as it is, not copied).
    fn of(
        weights: ArrayView1<'_, f64>,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<Option<Self>> {
        let w = weights.to_vec();
        crate::ridge::check_row_weights(&w, x.nrows())?;
        if w.iter().all(|&v| v > 0.0) {
            return Ok(None);
        }
        let rows: Vec<usize> = (0..w.len()).filter(|&i| w[i] > 0.0).collect();
        Ok(Some(Self {
            x: x.select(Axis(0), &rows),
            y: y.select(Axis(0), &rows),
            weights: weights.select(Axis(0), &rows),
            left_out: (w.len() - rows.len()) as u64,
            rows,
        }))
    }
}

/// Pass 1 of a partial fit: the statistics of one partition (or of several, merged). See the
/// [module docs](self).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirstPass {
    params: u64,
    stats: Option<ScalerStats>,
    ranges: Option<Ranges>,
    /// Each class label's count of rows (classification).
    classes: BTreeMap<i64, u64>,
    sample: RowSample,
    classification: bool,
    /// Rows of positive weight (the rows of the fit).
    rows: u64,
    /// Rows of weight 0, left out of the fit.
    left_out: u64,
    /// The largest weight of a row of the fit (rows given without weights weigh 1; 0 before any
    /// row).
    largest_weight: f64,
    /// Whether a row of the fit weighs other than 1. Rows of positive weight that all weigh 1
    /// are the unweighted fit of those rows, as in memory.
    weighted: bool,
}

impl KernelMachineValidParams {
    /// An empty pass 1 for these parameters.
    pub fn first_pass(&self) -> FirstPass {
        let capacity = self
            .selection
            .as_ref()
            .map_or(DEFAULT_SAMPLE_ROWS, Selection::sample_rows);
        FirstPass {
            params: fingerprint(self),
            stats: None,
            ranges: None,
            classes: BTreeMap::new(),
            sample: RowSample::new(capacity, self.seed()),
            classification: self.task == Task::Classification,
            rows: 0,
            left_out: 0,
            largest_weight: 0.0,
            weighted: false,
        }
    }
}

impl FirstPass {
    /// Adds rows `x` (finite, the same columns in every part) and their targets `y`. Errors
    /// name the row within `x`.
    pub fn update(&mut self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<()> {
        self.add(x, y, None)
    }

    /// [`update`](Self::update) with a sample weight per row (finite, ≥ 0), as
    /// [`fit_weighted`](KernelMachineValidParams::fit_weighted) takes them: a row of weight 0 is
    /// left out, and a fit whose rows of positive weight all weigh 1 is the unweighted fit.
    /// Rows added by [`update`](Self::update) weigh 1. Pass 2 must be given the same weights
    /// ([`SecondPass::update_weighted`]).
    pub fn update_weighted(
        &mut self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        weights: ArrayView1<'_, f64>,
    ) -> Result<()> {
        self.add(x, y, Some(weights))
    }

    fn add(
        &mut self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        weights: Option<ArrayView1<'_, f64>>,
    ) -> Result<()> {
        check_rows(x.nrows(), y.len())?;
        if let Some(stats) = &self.stats
            && stats.dim() != x.ncols()
        {
            return Err(SolversError::DimensionMismatch {
                what: "columns of a chunk",
                expected: stats.dim(),
                found: x.ncols(),
            });
        }
        check_finite("input", x)?;
        check_finite("target", y.insert_axis(Axis(1)))?;
        let mut classes = Vec::new();
        if self.classification {
            for (i, &v) in y.iter().enumerate() {
                classes.push(class_label(i, v)?);
            }
        }
        let Some(w) = weights else {
            return self.add_rows(x, y, None, classes);
        };
        match Kept::of(w, x, y)? {
            None => self.add_rows(x, y, Some(w), classes),
            Some(k) => {
                let class_of = |i: &usize| classes.get(*i).copied();
                let classes = k.rows.iter().filter_map(class_of).collect();
                self.left_out += k.left_out;
                self.add_rows(k.x.view(), k.y.view(), Some(k.weights.view()), classes)
            }
        }
    }

    /// Adds checked rows of positive weight (`None`: each weighs 1) and their class labels.
    fn add_rows(
        &mut self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        w: Option<ArrayView1<'_, f64>>,
        classes: Vec<i64>,
    ) -> Result<()> {
        if x.nrows() == 0 {
            return Ok(());
        }
        let w_all = w.map_or((1.0, 1.0), |w| {
            w.iter()
                .fold((f64::INFINITY, 0.0), |(lo, hi), &v| (v.min(lo), v.max(hi)))
        });
        self.largest_weight = self.largest_weight.max(w_all.1);
        self.weighted |= w_all != (1.0, 1.0);
        self.stats
            .get_or_insert_with(|| ScalerStats::new(x.ncols()))
            .update(x)?;
        self.ranges
            .get_or_insert_with(|| Ranges::new(x.ncols()))
            .update(x, y);
        for class in classes {
            *self.classes.entry(class).or_default() += 1;
        }
        self.sample.offer_weighted(x, Some(y), w);
        self.rows += x.nrows() as u64;
        Ok(())
    }

    /// Merges another partition's pass 1 (of the same parameters) into this one.
    pub fn merge(&mut self, other: &FirstPass) -> Result<()> {
        if other.params != self.params || other.sample.setup() != self.sample.setup() {
            return Err(mismatch(
                "the first passes were made with different parameters",
            ));
        }
        match (&mut self.stats, &other.stats) {
            (Some(mine), Some(theirs)) => mine.merge(theirs)?,
            (None, Some(theirs)) => self.stats = Some(theirs.clone()),
            _ => {}
        }
        match (&mut self.ranges, &other.ranges) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, Some(theirs)) => self.ranges = Some(theirs.clone()),
            _ => {}
        }
        for (&class, &count) in &other.classes {
            *self.classes.entry(class).or_default() += count;
        }
        self.sample.merge(other.sample.clone());
        self.rows += other.rows;
        self.left_out += other.left_out;
        self.largest_weight = self.largest_weight.max(other.largest_weight);
        self.weighted |= other.weighted;
        Ok(())
    }

    /// Rows seen, but for those of weight 0: the rows of the fit.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Rows of weight 0 seen, left out of the fit.
    pub fn left_out(&self) -> u64 {
        self.left_out
    }

    /// The seeded bottom-k sample ([`rks::sample`]) of the rows seen, as given (unscaled), and
    /// their targets: the rows the plan learns the column weights and chooses σ and λ on. The
    /// same rows however the data were cut into chunks and parts.
    pub fn sample(&self) -> (Array2<f64>, Array1<f64>) {
        (self.sample.rows(), self.sample.labels())
    }

    /// The pass in the project's envelope ([`PARTIAL_FILE`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(PARTIAL_FILE.encode(&(Step::First, self))?)
    }

    /// A pass from [`to_bytes`](Self::to_bytes); another step's bytes, a foreign, newer,
    /// truncated or corrupt file are typed errors.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let pass: Self = decode(bytes, Step::First)?;
        let dims_agree = match (&pass.stats, &pass.ranges) {
            (Some(s), Some(r)) => s.dim() == r.x_min.len() && s.dim() == r.x_max.len(),
            (None, None) => true,
            _ => false,
        };
        let weights_agree = pass.largest_weight.is_finite()
            && pass.largest_weight >= 0.0
            && (pass.rows == 0) == (pass.largest_weight == 0.0);
        if !(dims_agree && weights_agree && pass.sample.is_consistent()) {
            return Err(corrupt("the parts of the first pass disagree"));
        }
        Ok(pass)
    }
}

/// What every worker needs for pass 2, decided once from the merged pass 1. See the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct Plan {
    params: u64,
    scaler: Scaler,
    labels: Option<LabelMap>,
    map: AnyMap,
    sigma: f64,
    grid: Grid,
    chunk_rows: usize,
    /// Rows (unscaled) and targets that score λ by exact leave-one-out (model selection on).
    scored: Option<(Array2<f64>, Array1<f64>)>,
    /// The scored rows' sample weights, when the fit is weighted by them.
    scored_weights: Option<Array1<f64>>,
    /// Rows of the merged pass 1.
    rows: u64,
    /// The largest sample weight of a row, when the fit is weighted by them (pass 1 saw a row of
    /// positive weight other than 1): pass 2's rows may weigh no more.
    sample_weight: Option<f64>,
    /// The largest weight of a row (class weight times sample weight) that the statistics' grid
    /// was widened for; `None`: unweighted statistics.
    largest_weight: Option<f64>,
    /// The class weights, every class named with its weight (resolved on the merged pass 1's
    /// counts of each class, as an in-memory fit resolves them on its rows).
    class_weights: Option<ClassWeights>,
    /// The column-relevance step's outcome, in words, when this plan ran it (not stored: a
    /// plan read back with [`Plan::from_bytes`] has none).
    relevance_note: Option<String>,
    /// …and in numbers, when the step got past its preconditions.
    relevance: Option<RelevanceReport>,
    /// Stage 1 of the model selection (σ) as this plan ran it, and the seconds the plan took
    /// (not stored either), for [`finish_with_report`](KernelMachineValidParams::finish_with_report).
    search: Option<(SigmaChoice, f64)>,
}

/// The stored form of a [`Plan`].
#[derive(Serialize, Deserialize)]
struct StoredPlan {
    params: u64,
    scaler: Scaler,
    labels: Option<LabelMap>,
    map: SavedAny,
    sigma: f64,
    grid: Grid,
    chunk_rows: u64,
    scored: Option<(Array2<f64>, Array1<f64>)>,
    scored_weights: Option<Array1<f64>>,
    rows: u64,
    sample_weight: Option<f64>,
    largest_weight: Option<f64>,
    class_weights: Option<ClassWeights>,
}

impl KernelMachineValidParams {
    /// The plan of a fit from its merged pass 1: scaler, labels, σ, map, grid, scored rows.
    pub fn plan(&self, first: &FirstPass) -> Result<Plan> {
        self.ridge_only()?;
        if first.params != fingerprint(self) {
            return Err(mismatch(
                "the first pass was made with other parameters than the plan's",
            ));
        }
        let (Some(stats), Some(ranges)) = (&first.stats, &first.ranges) else {
            return Err(SolversError::EmptyInput(
                "the first pass saw no rows".into(),
            ));
        };
        let labels = match self.task {
            Task::Classification => Some(LabelMap::from_classes(
                first.classes.keys().copied().collect(),
            )?),
            Task::Regression => None,
        };
        // Balanced class weights resolved on every row's class, as an in-memory fit does: the
        // plan's params weigh the sample and the grid as that fit would.
        let resolved = match (&self.class_weights, &labels) {
            (Some(weights), Some(labels)) => {
                let counts: Vec<u64> = first.classes.values().copied().collect();
                let mut params = self.clone();
                params.class_weights = Some(weights.resolved_counted(labels, &counts)?);
                Some(params)
            }
            _ => None,
        };
        let this = resolved.as_ref().unwrap_or(self);
        let start = Instant::now();
        let sample = &first.sample;
        // Sample weights: the sampled rows weigh as their own weights say, as in memory.
        let sample_weight = first.weighted.then_some(first.largest_weight);
        let weighed = sample_weight.map(|_| {
            let mut params = this.clone();
            params.sample_weights = Some(SampleWeights(sample.weights().to_vec().into()));
            params
        });
        let this = weighed.as_ref().unwrap_or(this);
        // The column weights, learned on the sampled rows as an in-memory fit learns them.
        let scaler = stats.finish(self.scaler)?;
        let (mut relevance_note, mut relevance_report) = (None, None);
        let scaler = match self.learns_relevance() {
            Some(selection) => {
                let skipped = super::relevance::skipped_for_columns(selection, scaler.dim());
                let relevance = match skipped {
                    Some(skipped) => skipped,
                    None if this.sample_weights.is_some() => {
                        super::relevance::skipped_for_sample_weights()
                    }
                    None => super::relevance::learn(
                        selection,
                        &scaler,
                        labels.as_ref(),
                        sample.rows().view(),
                        sample.labels().view(),
                        self.seed(),
                    )?,
                };
                relevance_note = Some(relevance.note);
                relevance_report = relevance.report;
                match relevance.weights {
                    Some(w) => scaler.reweighted(&w)?,
                    None => scaler,
                }
            }
            None => self.weighted(scaler)?,
        };
        let mut search = None;
        let sigma = match (self.bandwidth(), &self.selection) {
            (Some(b), _) => b.sigma()?,
            // Stage 1 of the model selection on the sampled rows: the same rows, hence the same
            // σ, as an in-memory fit.
            (None, Some(selection)) => {
                let (rows, labels_of_rows) = (sample.rows(), sample.labels());
                let choice = this.choose_sigma(
                    selection,
                    &scaler,
                    labels.as_ref(),
                    rows.view(),
                    labels_of_rows.view(),
                )?;
                let sigma = choice.sigma;
                search = Some(choice);
                sigma
            }
            (None, None) => {
                let rows = scaler.transform(sample.rows().view())?;
                median_heuristic_sigma(rows.view(), rows.nrows(), self.seed())?
            }
        };
        // The rows that score λ (model selection on), and that class probabilities are
        // calibrated on.
        let keep = match (&self.selection, self.probabilities) {
            (Some(selection), _) => Some(sample.len().min(selection.loo_rows)),
            (None, true) => Some(sample.len().min(Selection::default().loo_rows)),
            (None, false) => None,
        };
        let scored = keep.map(|keep| {
            let (rows, ys) = (sample.rows(), sample.labels());
            (
                rows.slice_axis(Axis(0), (..keep).into()).to_owned(),
                ys.slice_axis(Axis(0), (..keep).into()).to_owned(),
            )
        });
        let scored_weights = keep.filter(|_| sample_weight.is_some()).map(|keep| {
            sample
                .weights()
                .slice_axis(Axis(0), (..keep).into())
                .to_owned()
        });
        let prepared = self.prepare(scaler, labels, sigma, self.n_frequencies(), None)?;
        // The grid widened for the largest weight of every row of pass 1, not the sample's.
        let largest = this.largest_row_weight_with(prepared.labels.as_ref(), sample_weight)?;
        let (grid, largest_weight) =
            KernelMachineValidParams::widened_grid(&prepared, ranges, largest)?;
        Ok(Plan {
            params: first.params,
            scaler: prepared.scaler,
            labels: prepared.labels,
            map: prepared.map,
            sigma,
            grid,
            chunk_rows: self.chunk_rows,
            scored,
            scored_weights,
            rows: first.rows,
            sample_weight,
            largest_weight,
            class_weights: this.class_weights.clone(),
            relevance_note,
            relevance: relevance_report,
            search: search.map(|choice| (choice, start.elapsed().as_secs_f64())),
        })
    }

    /// The model from a plan and the merged pass 2 of all rows: λ by exact leave-one-out on the
    /// plan's scored rows (model selection on, λ not fixed), else by GCV or as fixed.
    pub fn finish(&self, plan: &Plan, second: &SecondPass) -> Result<KernelMachine> {
        Ok(self.finish_with_report(plan, second)?.0)
    }

    /// [`finish`](Self::finish), with what the model selection searched and chose, as an
    /// in-memory fit reports it (the σ trials on the sampled rows, the final λ trial, the
    /// column-relevance step): `Some` when the plan searched σ itself (not for a plan read back
    /// with [`Plan::from_bytes`]).
    pub fn finish_with_report(
        &self,
        plan: &Plan,
        second: &SecondPass,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        let start = Instant::now();
        if plan.params != fingerprint(self) {
            return Err(mismatch("the plan was made with other parameters"));
        }
        if second.plan != plan.fingerprint()? {
            return Err(mismatch("the second pass was made with another plan"));
        }
        let lambda = self.ridge_only()?;
        let acc = &second.acc;
        let prepared = plan.prepared();
        let sigma = plan.sigma;
        // The sampled rows weigh as the plan's resolved class weights and their own sample
        // weights say.
        let mut this = self.clone();
        if let Some(weights) = &plan.class_weights {
            this.class_weights = Some(weights.clone());
        }
        this.sample_weights = plan
            .scored_weights
            .as_ref()
            .map(|w| SampleWeights(w.to_vec().into()));
        let scored = plan.scored.as_ref().filter(|(x, _)| x.nrows() >= 2);
        let (model, report, path) = match scored {
            Some((x, y)) if self.selection.is_some() && !matches!(lambda, Lambda::Fixed(_)) => {
                let path = this.scoring_path(acc, &prepared, x.view(), y.view())?;
                let classes = match &prepared.labels {
                    Some(labels) => Some((labels.indices(y.view())?, labels.n_classes())),
                    None => None,
                };
                let classes = classes.as_ref().map(|(c, k)| (c.as_slice(), *k));
                let n = prepared.map.n_frequencies();
                let factor = plan.search.as_ref().map_or(1.0, |(c, _)| sigma / c.median);
                let (ridge, trial) = choose_lambda(&path, lambda, classes, sigma, factor, n)?;
                let model = this.assemble_ridge(prepared, ridge, acc.count(), sigma);
                let chosen = Some(trial.lambda);
                let mut report = plan.report(Some(trial), chosen, start);
                if let Some(report) = &mut report {
                    // The class weights as given (not as resolved), the sample weights as held.
                    let noted = KernelMachineValidParams {
                        sample_weights: this.sample_weights.clone(),
                        ..self.clone()
                    };
                    noted.note_class_weights(report);
                }
                (model, report, Some(path))
            }
            _ => {
                let model = this.finish_ridge(prepared, acc, lambda, sigma)?;
                let fixed = match lambda {
                    Lambda::Fixed(l) => Some(*l),
                    _ => None,
                };
                (model, plan.report(None, fixed, start), None)
            }
        };
        if !self.probabilities {
            return Ok((model, report));
        }
        let Some((x, y)) = scored else {
            return Err(SolversError::EmptyInput(
                "class probabilities are fitted on held-out decision values of the sampled rows, \
                 which need at least 2 rows"
                    .into(),
            ));
        };
        let path = match path {
            Some(path) => path,
            None => this.scoring_path(acc, &plan.prepared(), x.view(), y.view())?,
        };
        Ok((calibrated_on_scored(model, &path, y.view())?, report))
    }
}

/// `model` (a partial ridge fit) with its class probabilities: one Platt sigmoid per class
/// ([`crate::calibration`]) on the exact leave-one-out decision values, at the model's λ, of the
/// plan's scored rows with targets `y` (`path`: their leave-one-out path against the merged
/// statistics). Each row's value is that of the model fitted on every other row of every part,
/// so the values are held out, as Platt's sigmoids need, without a refit or another pass over
/// the rows (an in-memory fit refits on folds of its rows instead: [`super::CALIBRATION_FOLDS`]).
/// The sigmoids are fitted on at most [`Selection::loo_rows`] rows; the model's predictions do not
/// change.
fn calibrated_on_scored(
    mut model: KernelMachine,
    path: &crate::loo::LooPath,
    y: ArrayView1<'_, f64>,
) -> Result<KernelMachine> {
    let (Some(labels), SolverInfo::Ridge { lambda, .. }) = (&model.labels, &model.info.solver)
    else {
        return Err(invalid(
            Param::Probabilities,
            "class probabilities are for a ridge classifier here",
        ));
    };
    let classes = labels.indices(y)?;
    let held_out = class_scores(path.predictions(*lambda), labels.n_classes());
    model.calibration = Some(Calibration::fit(held_out.view(), &classes, classes.len())?);
    Ok(model)
}

impl KernelMachineValidParams {
    /// The ridge penalty setting; the SVM is refused (it needs every row in memory).
    pub(super) fn ridge_only(&self) -> Result<&Lambda> {
        match &self.solver {
            Solver::Ridge { lambda } => Ok(lambda),
            Solver::Svm { .. } => Err(invalid(
                Param::Solver,
                "a partial or streamed fit supports ridge only (the SVM needs every row in memory)",
            )),
        }
    }
}

impl Plan {
    /// The chosen bandwidth σ (scaled units).
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// The fitted scaler.
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }

    /// The map every worker transforms with.
    pub fn map(&self) -> &AnyMap {
        &self.map
    }

    /// The grid of the exact statistics.
    pub fn grid(&self) -> Grid {
        self.grid
    }

    /// The class weights every part weighs its rows by, each class named with its weight
    /// ([`ClassWeights::Balanced`] resolved on the merged pass 1's counts); `None` without.
    pub fn class_weights(&self) -> Option<&ClassWeights> {
        self.class_weights.as_ref()
    }

    /// Rows of the merged pass 1.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The column-relevance step ([`super::relevance`]) in words, when this plan ran it: what
    /// was learned and whether it was kept, or why the step was skipped. `None` when the fit
    /// does not learn weights, and for a plan read back with [`from_bytes`](Self::from_bytes).
    pub fn relevance_note(&self) -> Option<&str> {
        self.relevance_note.as_deref()
    }

    /// The column-relevance step in numbers (the weights, the held-out scores, kept or not),
    /// when this plan ran it past its preconditions.
    pub fn relevance(&self) -> Option<&RelevanceReport> {
        self.relevance.as_ref()
    }

    /// The selection report of a fit finished under this plan with the final λ `trial` (none
    /// when λ was not scored) and λ, `None` when the plan did not search σ itself.
    fn report(
        &self,
        trial: Option<Trial>,
        lambda: Option<f64>,
        finishing: Instant,
    ) -> Option<SelectionReport> {
        let (choice, planning) = self.search.as_ref()?;
        Some(SelectionReport {
            median_sigma: choice.median,
            sigma_trials: choice.trials.clone(),
            walk_trials: choice.walk.clone(),
            lambda,
            final_trials: trial.into_iter().collect(),
            sigma: self.sigma,
            c: None,
            c_trials: Vec::new(),
            solver_trials: Vec::new(),
            svm_sigma_trials: Vec::new(),
            n_frequencies: self.map.n_frequencies(),
            method: "exact leave-one-out".into(),
            notes: self
                .relevance_note
                .iter()
                .cloned()
                .chain([choice.note.clone()])
                .collect(),
            seconds: planning + finishing.elapsed().as_secs_f64(),
            map_trials: Vec::new(),
            relevance: self.relevance.clone(),
        })
    }

    /// An empty pass 2 under this plan: D² · 8 bytes of statistics.
    pub fn second_pass(&self) -> Result<SecondPass> {
        let n_outputs = KernelMachineValidParams::n_outputs(self.labels.as_ref());
        let dim = self.map.output_dim();
        let acc = match self.largest_weight {
            Some(largest) => RidgeAccumulator::new_weighted(dim, n_outputs, self.grid, largest)?,
            None => RidgeAccumulator::new(dim, n_outputs, self.grid)?,
        };
        Ok(SecondPass {
            plan: self.fingerprint()?,
            acc,
        })
    }

    /// The weights of the rows with targets `y` and sample weights `sample` under this plan:
    /// class weight times sample weight, where the plan weighs either (`None`: unweighted).
    fn row_weights(
        &self,
        y: ArrayView1<'_, f64>,
        sample: Option<ArrayView1<'_, f64>>,
    ) -> Result<Option<Vec<f64>>> {
        let by_class = match (&self.class_weights, &self.labels) {
            (Some(weights), Some(labels)) => {
                crate::class_weights::row_weights(Some(weights), Some(labels), &labels.indices(y)?)?
            }
            _ => None,
        };
        let own = sample.filter(|_| self.sample_weight.is_some());
        Ok(match (by_class, own) {
            (c, None) => c,
            (None, Some(w)) => Some(w.to_vec()),
            (Some(c), Some(w)) => Some(c.iter().zip(w).map(|(c, w)| c * w).collect()),
        })
    }

    /// The largest sample weight of a row (`None`: the fit is not weighted by rows, whose
    /// positive weights are then all 1).
    pub fn sample_weight(&self) -> Option<f64> {
        self.sample_weight
    }

    fn prepared(&self) -> Prepared {
        Prepared {
            scaler: self.scaler.clone(),
            map: self.map.clone(),
            labels: self.labels.clone(),
        }
    }

    fn stored(&self) -> StoredPlan {
        StoredPlan {
            params: self.params,
            scaler: self.scaler.clone(),
            labels: self.labels.clone(),
            map: self.map.saved(),
            sigma: self.sigma,
            grid: self.grid,
            chunk_rows: self.chunk_rows as u64,
            scored: self.scored.clone(),
            scored_weights: self.scored_weights.clone(),
            rows: self.rows,
            sample_weight: self.sample_weight,
            largest_weight: self.largest_weight,
            class_weights: self.class_weights.clone(),
        }
    }

    /// A fingerprint of everything the plan decides (its stored bytes).
    fn fingerprint(&self) -> Result<u64> {
        Ok(fnv1a(&PARTIAL_FILE.encode(&(Step::Plan, self.stored()))?))
    }

    /// The plan in the project's envelope ([`PARTIAL_FILE`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(PARTIAL_FILE.encode(&(Step::Plan, self.stored()))?)
    }

    /// A plan from [`to_bytes`](Self::to_bytes): the map is rebuilt from its spec and checked
    /// against its checksum.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let stored: StoredPlan = decode(bytes, Step::Plan)?;
        stored.grid.check()?;
        let map = AnyMap::from_saved(&stored.map)?;
        let consistent = stored.scaler.dim() == map.input_dim()
            && stored.chunk_rows > 0
            && stored.sigma.is_finite()
            && stored
                .scored
                .as_ref()
                .is_none_or(|(x, y)| x.nrows() == y.len() && x.ncols() == map.input_dim())
            && match (&stored.scored, &stored.scored_weights) {
                (_, None) => true,
                (Some((x, _)), Some(w)) => {
                    w.len() == x.nrows() && w.iter().all(|v| v.is_finite() && *v > 0.0)
                }
                (None, Some(_)) => false,
            }
            && stored
                .sample_weight
                .is_none_or(|w| w.is_finite() && w > 0.0)
            && stored
                .largest_weight
                .is_none_or(|w| w.is_finite() && w > 0.0);
        if !consistent {
            return Err(corrupt("the parts of the plan disagree"));
        }
        Ok(Self {
            params: stored.params,
            scaler: stored.scaler,
            labels: stored.labels,
            map,
            sigma: stored.sigma,
            grid: stored.grid,
            chunk_rows: usize::try_from(stored.chunk_rows)
                .map_err(|_| corrupt("chunk_rows does not fit this machine"))?,
            scored: stored.scored,
            scored_weights: stored.scored_weights,
            rows: stored.rows,
            sample_weight: stored.sample_weight,
            largest_weight: stored.largest_weight,
            class_weights: stored.class_weights,
            relevance_note: None,
            relevance: None,
            search: None,
        })
    }
}

/// Pass 2 of a partial fit: the exact ridge statistics of one partition (or of several, merged)
/// under a [`Plan`]. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondPass {
    plan: u64,
    acc: RidgeAccumulator,
}

impl SecondPass {
    /// Scales, maps and folds rows `x` with targets `y` in, `plan.chunk_rows` rows at a time.
    /// Errors name the row within `x`.
    pub fn update(
        &mut self,
        plan: &Plan,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<()> {
        self.add(plan, x, y, None)
    }

    /// [`update`](Self::update) with the rows' sample weights, as pass 1 was given them
    /// ([`FirstPass::update_weighted`]): rows of weight 0 are left out, and a weight pass 1 did
    /// not allow for (above its largest, or other than 1 where pass 1 saw only 0s and 1s) is a
    /// [`SolversError::PartialMismatch`].
    pub fn update_weighted(
        &mut self,
        plan: &Plan,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        weights: ArrayView1<'_, f64>,
    ) -> Result<()> {
        self.add(plan, x, y, Some(weights))
    }

    fn add(
        &mut self,
        plan: &Plan,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        weights: Option<ArrayView1<'_, f64>>,
    ) -> Result<()> {
        if self.plan != plan.fingerprint()? {
            return Err(mismatch("the second pass was started under another plan"));
        }
        check_rows(x.nrows(), y.len())?;
        if x.ncols() != plan.scaler.dim() {
            return Err(SolversError::DimensionMismatch {
                what: "columns of a chunk",
                expected: plan.scaler.dim(),
                found: x.ncols(),
            });
        }
        check_finite("input", x)?;
        check_finite("target", y.insert_axis(Axis(1)))?;
        match weights {
            None => self.add_rows(plan, x, y, None),
            Some(w) => {
                let kept = Kept::of(w, x, y)?;
                // The rows of positive weight: every row, or those picked.
                let (picked, positive) = match &kept {
                    None => (None, w.view()),
                    Some(k) => (Some(k.rows.as_slice()), k.weights.view()),
                };
                // Weights above pass 1's largest would leave the grid; without sample weights
                // in the plan, a weight other than 1 would be folded in as 1.
                let allowed = |v: f64| plan.sample_weight.map_or(v == 1.0, |largest| v <= largest);
                if let Some(i) = positive.iter().position(|&v| !allowed(v)) {
                    let saw = match plan.sample_weight {
                        Some(largest) => format!("weights up to {largest}"),
                        None => "weights of 0 and 1 only".into(),
                    };
                    return Err(mismatch(&format!(
                        "row {}'s weight {} is not among the weights pass 1 saw ({saw}): pass \
                         2 is given the rows and weights of pass 1",
                        picked.map_or(i, |rows| rows[i]),
                        positive[i]
                    )));
                }
                match &kept {
                    None => self.add_rows(plan, x, y, Some(w)),
                    Some(k) => self
                        .add_rows(plan, k.x.view(), k.y.view(), Some(k.weights.view()))
                        .map_err(|e| e.of_picked_rows(&k.rows)),
                }
            }
        }
    }

    /// Folds checked rows of positive weight (`None`: each weighs 1) in.
    fn add_rows(
        &mut self,
        plan: &Plan,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        sample: Option<ArrayView1<'_, f64>>,
    ) -> Result<()> {
        let prepared = plan.prepared();
        let mut start = 0;
        for (xb, yb) in x
            .axis_chunks_iter(Axis(0), plan.chunk_rows)
            .zip(y.axis_chunks_iter(Axis(0), plan.chunk_rows))
        {
            let wb = sample.map(|w| w.slice_axis_move(Axis(0), (start..start + xb.nrows()).into()));
            let weights = plan.row_weights(yb, wb).map_err(|e| e.shifted(start))?;
            KernelMachineValidParams::accumulate(
                &prepared,
                &mut self.acc,
                xb,
                yb,
                weights.as_deref(),
            )
            .map_err(|e| e.shifted(start))?;
            start += xb.nrows();
        }
        Ok(())
    }

    /// Merges another partition's pass 2 (under the same plan): exact, in any grouping.
    pub fn merge(&mut self, other: &SecondPass) -> Result<()> {
        if other.plan != self.plan {
            return Err(mismatch(
                "the second passes were made under different plans",
            ));
        }
        self.acc.merge(&other.acc)
    }

    /// Rows accumulated.
    pub fn rows(&self) -> u64 {
        self.acc.count()
    }

    /// The statistics as `u64` limbs ([`RidgeAccumulator::limbs`]): the element-wise integer
    /// sums of the limbs of passes under one plan (an MPI `Allreduce` with `MPI_SUM`) are the
    /// limbs of their merge. [`with_limbs`](Self::with_limbs) reads them back.
    pub fn limbs(&self) -> Vec<u64> {
        self.acc.limbs()
    }

    /// This pass's plan and shape with the summed `limbs`.
    pub fn with_limbs(&self, limbs: &[u64]) -> Result<Self> {
        Ok(Self {
            plan: self.plan,
            acc: self.acc.with_limbs(limbs)?,
        })
    }

    /// The pass in the project's envelope ([`PARTIAL_FILE`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(PARTIAL_FILE.encode(&(Step::Second, self))?)
    }

    /// A pass from [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        decode(bytes, Step::Second)
    }
}

fn corrupt(reason: &str) -> SolversError {
    SolversError::File(rks::envelope::FileError::Corrupt {
        what: PARTIAL_FILE.what,
        reason: reason.into(),
    })
}

/// Opens the envelope and decodes a `(Step, T)` payload, refusing another step's.
fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], step: Step) -> Result<T> {
    let (_, payload) = PARTIAL_FILE.open(bytes)?;
    // The step first, alone, so that another step's bytes are named as such.
    let found = bincode::serde::decode_from_slice::<Step, _>(payload, bincode::config::standard())
        .map(|(s, _)| s)
        .map_err(|e| corrupt(&format!("no step tag: {e}")))?;
    if found != step {
        return Err(mismatch(&format!(
            "these bytes hold the {found:?} step of a partial fit, not the {step:?} step"
        )));
    }
    let (_, value): (Step, T) = PARTIAL_FILE.decode(payload)?;
    Ok(value)
}

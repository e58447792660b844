//! Streamed ridge fits: two passes over a re-openable source of chunks.

use std::collections::BTreeSet;
use std::error::Error as StdError;

use ndarray::{ArrayView1, ArrayView2, Axis};
use rks::Bandwidth;
use rks::median::{DEFAULT_SAMPLE_ROWS, median_heuristic_sigma};
use rks::sample::RowSample;
use rks::scaler::{Scaler, ScalerStats};

use super::bounds::Ranges;
use super::select::choose_lambda;
use super::{Chunk, KernelMachine, KernelMachineValidParams, Selection, Solver, Task};
use crate::error::{Result, SolversError, invalid};
use crate::labels::{LabelMap, class_label};
use crate::ridge::Lambda;
use crate::validate::{check_finite, check_rows};

impl KernelMachineValidParams {
    /// Fits ridge from a re-openable source of `(x_chunk, y_chunk)` pairs, in two passes, so a file
    /// larger than memory can be fitted: `open()` is called twice and must yield the same rows
    /// both times (e.g. re-open a file with a chunked reader).
    ///
    /// Pass 1 gathers the scaler statistics, the class labels and, without a given bandwidth, a
    /// seeded bottom-k sample ([`rks::sample`]) of 2,000 rows; with model selection on, σ is
    /// chosen on those rows exactly as the in-memory fit chooses it (stage 1 of
    /// [`super::select`]), else by the median heuristic. Pass 2 transforms each chunk and folds
    /// it into the ridge statistics; λ comes from GCV on them (exact leave-one-out would need
    /// every row's features at once). Memory: O(D² + chunk·D). The SVM is not available here
    /// (it needs every row in memory): use [`fit`](Self::fit).
    pub fn fit_stream<S, I, E>(&self, mut open: S) -> Result<KernelMachine>
    where
        S: FnMut() -> std::result::Result<I, E>,
        I: IntoIterator<Item = std::result::Result<Chunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let source = |e: E| SolversError::Source(e.into());
        let mut stats: Option<ScalerStats> = None;
        let mut seen: BTreeSet<i64> = BTreeSet::new();
        let capacity = self
            .selection
            .as_ref()
            .map_or(DEFAULT_SAMPLE_ROWS, Selection::sample_rows);
        let mut sample = RowSample::new(capacity, self.seed);
        let mut ranges: Option<Ranges> = None;
        let mut rows = 0usize;
        for chunk in open().map_err(source)? {
            let (x, y) = chunk.map_err(source)?;
            self.check_chunk(
                x.view(),
                y.view(),
                rows,
                stats.as_ref().map(ScalerStats::dim),
            )?;
            stats
                .get_or_insert_with(|| ScalerStats::new(x.ncols()))
                .update(x.view())?;
            ranges
                .get_or_insert_with(|| Ranges::new(x.ncols()))
                .update(x.view(), y.view());
            if self.task == Task::Classification {
                for (i, &v) in y.iter().enumerate() {
                    seen.insert(class_label(rows + i, v)?);
                }
            }
            if self.bandwidth.is_none() || self.selection.is_some() {
                sample.offer(x.view(), Some(y.view()));
            }
            rows += x.nrows();
        }
        let stats =
            stats.ok_or_else(|| SolversError::EmptyInput("the source yielded no rows".into()))?;
        let scaler = stats.finish(self.scaler)?;
        let ranges = ranges.unwrap_or_else(|| Ranges::new(scaler.dim()));
        let labels = match self.task {
            Task::Classification => Some(LabelMap::from_classes(seen.into_iter().collect())?),
            Task::Regression => None,
        };
        let bandwidth = match (self.bandwidth, &self.selection) {
            (Some(b), _) => b,
            // Stage 1 of the model selection on the sampled rows: the same rows, hence the same
            // σ, as an in-memory fit. λ then comes from GCV on the streamed statistics.
            (None, Some(selection)) => {
                let (rows, labels_of_rows) = (sample.rows(), sample.labels());
                Bandwidth::Sigma(
                    self.choose_sigma(
                        selection,
                        &scaler,
                        labels.as_ref(),
                        rows.view(),
                        labels_of_rows.view(),
                    )?
                    .sigma,
                )
            }
            (None, None) => {
                let rows = scaler.transform(sample.rows().view())?;
                Bandwidth::Sigma(median_heuristic_sigma(
                    rows.view(),
                    rows.nrows(),
                    self.seed,
                )?)
            }
        };
        let scored = self.selection.as_ref().map(|selection| {
            let keep = sample.len().min(selection.loo_rows);
            let rows = sample.rows();
            let ys = sample.labels();
            (
                rows.slice_axis(Axis(0), (..keep).into()).to_owned(),
                ys.slice_axis(Axis(0), (..keep).into()).to_owned(),
            )
        });
        let prepared = (scaler, labels, bandwidth, &ranges);
        self.fit_stream_scored(prepared, open().map_err(source)?, scored)
    }

    /// One-pass streamed ridge fit with the scaler, labels (classification) and bandwidth already
    /// known, e.g. from an earlier pass or another machine, and the training rows' `ranges`
    /// (they fix the grid of the exact statistics, [`super::bounds`]). Chunks whose labels are
    /// not in `labels` are rejected.
    pub fn fit_stream_prepared<I, E>(
        &self,
        scaler: Scaler,
        labels: Option<LabelMap>,
        bandwidth: Bandwidth,
        ranges: &Ranges,
        chunks: I,
    ) -> Result<KernelMachine>
    where
        I: IntoIterator<Item = std::result::Result<Chunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        self.fit_stream_scored((scaler, labels, bandwidth, ranges), chunks, None)
    }

    /// [`fit_stream_prepared`](Self::fit_stream_prepared), with λ chosen by exact leave-one-out
    /// on the `scored` rows (rows of the stream, unscaled, with their targets) when given and λ
    /// is not fixed; by GCV otherwise.
    fn fit_stream_scored<I, E>(
        &self,
        (scaler, labels, bandwidth, ranges): (Scaler, Option<LabelMap>, Bandwidth, &Ranges),
        chunks: I,
        scored: Option<Chunk>,
    ) -> Result<KernelMachine>
    where
        I: IntoIterator<Item = std::result::Result<Chunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let Solver::Ridge { lambda } = &self.solver else {
            return Err(invalid(
                "solver",
                "a streamed fit supports ridge only (the SVM needs every row in memory)",
            ));
        };
        if labels.is_some() != (self.task == Task::Classification) {
            return Err(invalid(
                "labels",
                "give labels for classification and none for regression",
            ));
        }
        let sigma = bandwidth.sigma()?;
        let prepared = self.prepare(scaler, labels, sigma, self.n_frequencies, None)?;
        let mut acc = self.accumulator(&prepared, ranges)?;
        let mut rows = 0usize;
        for chunk in chunks {
            let (x, y) = chunk.map_err(|e| SolversError::Source(e.into()))?;
            self.check_chunk(x.view(), y.view(), rows, Some(prepared.scaler.dim()))?;
            // Re-chunk so a source with huge chunks still transforms chunk_rows rows at a time.
            for (xb, yb) in x
                .axis_chunks_iter(Axis(0), self.chunk_rows)
                .zip(y.axis_chunks_iter(Axis(0), self.chunk_rows))
            {
                self.accumulate(&prepared, &mut acc, xb, yb)
                    .map_err(|e| offset_row(e, rows))?;
            }
            rows += x.nrows();
        }
        match scored {
            Some((x, y)) if !matches!(lambda, Lambda::Fixed(_)) && x.nrows() >= 2 => {
                let path = self.scoring_path(&acc, &prepared, x.view(), y.view())?;
                let classes = match &prepared.labels {
                    Some(labels) => Some((labels.indices(y.view())?, labels.n_classes())),
                    None => None,
                };
                let classes = classes.as_ref().map(|(c, k)| (c.as_slice(), *k));
                let n = prepared.map.n_frequencies();
                let (ridge, _) = choose_lambda(&path, lambda, classes, sigma, 1.0, n)?;
                Ok(self.assemble_ridge(prepared, ridge, acc.count(), sigma))
            }
            _ => self.finish_ridge(prepared, &acc, lambda, sigma),
        }
    }

    fn check_chunk(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        rows_before: usize,
        dim: Option<usize>,
    ) -> Result<()> {
        check_rows(x.nrows(), y.len())?;
        if let Some(d) = dim
            && x.ncols() != d
        {
            return Err(SolversError::DimensionMismatch {
                what: "columns of a chunk",
                expected: d,
                found: x.ncols(),
            });
        }
        check_finite("input", x).map_err(|e| offset_row(e, rows_before))?;
        check_finite("target", y.insert_axis(Axis(1))).map_err(|e| offset_row(e, rows_before))
    }
}

/// Shifts the row index of an error from a chunk to the row index in the whole stream.
fn offset_row(e: SolversError, offset: usize) -> SolversError {
    e.shifted(offset)
}

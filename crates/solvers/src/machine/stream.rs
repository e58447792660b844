//! Streamed ridge fits: two passes over a re-openable source of chunks, through the partial-fit
//! API ([`super::partial`]), so a streamed fit and a partitioned one give the same model.

use std::error::Error as StdError;

use ndarray::{Array1, Array2};

use super::{Chunk, KernelMachine, KernelMachineValidParams, SelectionReport};
use crate::error::{Result, SolversError};

/// A streamed fit with what it learned on the way ([`KernelMachineValidParams::fit_stream_sampled`]).
#[derive(Debug, Clone)]
pub struct StreamedFit {
    /// The model.
    pub model: KernelMachine,
    /// Pass 1's seeded row sample ([`super::partial::FirstPass::sample`]): rows as read
    /// (unscaled) and their targets. Small (at most [`super::Selection::sample_rows`] rows), so
    /// a caller can score the model on it without another pass over the source.
    pub sample: (Array2<f64>, Array1<f64>),
    /// What the model selection searched and chose, as an in-memory fit reports it (the σ
    /// trials on the sample, the final λ trial, the column-relevance step first among the notes
    /// and in `relevance`); `None` with selection off or σ given
    /// ([`finish_with_report`](KernelMachineValidParams::finish_with_report)).
    pub selection: Option<SelectionReport>,
}

impl KernelMachineValidParams {
    /// Fits ridge from a re-openable source of `(x_chunk, y_chunk)` pairs, in two passes, so a file
    /// larger than memory can be fitted: `open()` is called twice and must yield the same rows
    /// both times (e.g. re-open a file with a chunked reader).
    ///
    /// The steps of the [partial-fit API](super::partial) over one stream: pass 1 gathers the
    /// scaler statistics, the ranges, the class labels and the seeded bottom-k sample
    /// ([`rks::sample`]); the plan chooses σ on the sampled rows exactly as the in-memory fit
    /// chooses it (stage 1 of [`super::select`]) when model selection is on, else by the median
    /// heuristic; pass 2 transforms each chunk and folds it into the exact ridge statistics; λ
    /// comes from exact leave-one-out on the sampled rows against them (selection on) or GCV.
    /// Memory: O(D² + chunk·D). The SVM is not available here (it needs every row in memory):
    /// use [`fit`](Self::fit).
    pub fn fit_stream<S, I, E>(&self, open: S) -> Result<KernelMachine>
    where
        S: FnMut() -> std::result::Result<I, E>,
        I: IntoIterator<Item = std::result::Result<Chunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        Ok(self.fit_stream_sampled(open)?.model)
    }

    /// [`fit_stream`](Self::fit_stream), also returning pass 1's row sample and what the model
    /// selection searched and chose ([`StreamedFit`]).
    pub fn fit_stream_sampled<S, I, E>(&self, mut open: S) -> Result<StreamedFit>
    where
        S: FnMut() -> std::result::Result<I, E>,
        I: IntoIterator<Item = std::result::Result<Chunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let source = |e: E| SolversError::Source(e.into());
        self.ridge_only()?;
        let mut first = self.first_pass();
        let mut rows = 0usize;
        for chunk in open().map_err(source)? {
            let (x, y) = chunk.map_err(source)?;
            first
                .update(x.view(), y.view())
                .map_err(|e| e.shifted(rows))?;
            rows += x.nrows();
        }
        if rows == 0 {
            return Err(SolversError::EmptyInput(
                "the source yielded no rows".into(),
            ));
        }
        let plan = self.plan(&first)?;
        let mut second = plan.second_pass()?;
        let mut rows = 0usize;
        for chunk in open().map_err(source)? {
            let (x, y) = chunk.map_err(source)?;
            second
                .update(&plan, x.view(), y.view())
                .map_err(|e| e.shifted(rows))?;
            rows += x.nrows();
        }
        let (model, selection) = self.finish_with_report(&plan, &second)?;
        Ok(StreamedFit {
            model,
            sample: first.sample(),
            selection,
        })
    }
}

//! Streamed ridge fits: two passes over a re-openable source of chunks, through the partial-fit
//! API ([`super::partial`]), so a streamed fit and a partitioned one give the same model.

use std::error::Error as StdError;

use ndarray::{Array1, Array2};

use super::{Chunk, KernelMachine, KernelMachineValidParams, SelectionReport, WeightedChunk};
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
    /// Rows of weight 0, left out of the fit ([`fit_stream_weighted`](KernelMachineValidParams::fit_stream_weighted); 0 without weights).
    pub left_out: u64,
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
        self.passes(|| {
            open().map(|chunks| {
                chunks
                    .into_iter()
                    .map(|chunk| chunk.map(|(x, y)| (x, y, None)))
            })
        })
    }

    /// [`fit_stream`](Self::fit_stream) of chunks that carry a sample weight per row (finite,
    /// ≥ 0), as [`fit_weighted`](Self::fit_weighted) takes them: rows of weight 0 are left out,
    /// and weights all 1 are the unweighted fit. The same model as `fit_weighted` on the rows
    /// in memory (where that fit takes the path of the exact statistics: ridge, more rows than
    /// features) and as the [partial-fit API](super::partial) given the weights
    /// ([`FirstPass::update_weighted`](super::partial::FirstPass::update_weighted),
    /// [`SecondPass::update_weighted`](super::partial::SecondPass::update_weighted)).
    ///
    /// ```
    /// use ndarray::{Array1, Array2, s};
    /// use rks_solvers::{KernelMachine, Task};
    ///
    /// let x = Array2::from_shape_fn((400, 2), |(i, j)| ((i * 37 + j * 91) % 400) as f64 / 200.0);
    /// let y: Array1<f64> = x.rows().into_iter().map(|r| (3.0 * r[0]).sin() + r[1]).collect();
    /// let w: Array1<f64> = (0..400).map(|i| 1.0 + (i % 3) as f64).collect();
    /// let params = KernelMachine::params().task(Task::Regression).n_frequencies(32).check()?;
    /// let open = || -> Result<Vec<Result<_, std::io::Error>>, std::io::Error> {
    ///     Ok((0..4).map(|c| {
    ///         let r = c * 100..(c + 1) * 100;
    ///         Ok((x.slice(s![r.clone(), ..]).to_owned(), y.slice(s![r.clone()]).to_owned(),
    ///             w.slice(s![r]).to_owned()))
    ///     }).collect())
    /// };
    /// let streamed = params.fit_stream_weighted(open)?;
    /// let in_memory = params.fit_weighted(x.view(), y.view(), w.view())?;
    /// assert_eq!(streamed.to_bytes()?, in_memory.to_bytes()?);
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn fit_stream_weighted<S, I, E>(&self, open: S) -> Result<KernelMachine>
    where
        S: FnMut() -> std::result::Result<I, E>,
        I: IntoIterator<Item = std::result::Result<WeightedChunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        Ok(self.fit_stream_weighted_sampled(open)?.model)
    }

    /// [`fit_stream_weighted`](Self::fit_stream_weighted), also returning pass 1's row sample,
    /// the rows left out and what the model selection searched and chose ([`StreamedFit`]).
    pub fn fit_stream_weighted_sampled<S, I, E>(&self, mut open: S) -> Result<StreamedFit>
    where
        S: FnMut() -> std::result::Result<I, E>,
        I: IntoIterator<Item = std::result::Result<WeightedChunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        self.passes(|| {
            open().map(|chunks| {
                chunks
                    .into_iter()
                    .map(|chunk| chunk.map(|(x, y, w)| (x, y, Some(w))))
            })
        })
    }

    /// The two passes of a streamed fit over chunks with optional sample weights.
    fn passes<S, I, E>(&self, mut open: S) -> Result<StreamedFit>
    where
        S: FnMut() -> std::result::Result<I, E>,
        I: IntoIterator<
            Item = std::result::Result<(Array2<f64>, Array1<f64>, Option<Array1<f64>>), E>,
        >,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let source = |e: E| SolversError::Source(e.into());
        self.ridge_only()?;
        let mut first = self.first_pass();
        let mut rows = 0usize;
        for chunk in open().map_err(source)? {
            let (x, y, w) = chunk.map_err(source)?;
            match &w {
                None => first.update(x.view(), y.view()),
                Some(w) => first.update_weighted(x.view(), y.view(), w.view()),
            }
            .map_err(|e| e.shifted(rows))?;
            rows += x.nrows();
        }
        if rows == 0 {
            return Err(SolversError::EmptyInput(
                "the source yielded no rows".into(),
            ));
        }
        if first.rows() == 0 {
            return Err(SolversError::EmptyInput(
                "every row's weight is 0: no row to fit".into(),
            ));
        }
        let plan = self.plan(&first)?;
        let mut second = plan.second_pass()?;
        let mut rows = 0usize;
        for chunk in open().map_err(source)? {
            let (x, y, w) = chunk.map_err(source)?;
            match &w {
                None => second.update(&plan, x.view(), y.view()),
                Some(w) => second.update_weighted(&plan, x.view(), y.view(), w.view()),
            }
            .map_err(|e| e.shifted(rows))?;
            rows += x.nrows();
        }
        let (model, selection) = self.finish_with_report(&plan, &second)?;
        Ok(StreamedFit {
            model,
            sample: first.sample(),
            selection,
            left_out: first.left_out(),
        })
    }
}

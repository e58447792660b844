//! `rks eval`: score a saved model on a labelled test file.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::cli::EvalArgs;
use crate::error::Result;
use crate::input::Source;
use crate::machine::{self, ModelSummary};
use crate::metrics::{Score, ScoreTally};
use crate::pipeline::stream;
use crate::report::{Report, emit, fmt_duration};

/// Rows per chunk when evaluating.
const CHUNK_ROWS: usize = 4096;

/// What `rks eval` prints.
#[derive(Debug, Serialize)]
pub struct EvalReport {
    /// The test file.
    pub test: PathBuf,
    /// Test rows.
    pub rows: usize,
    /// Accuracy, or RMSE and R².
    pub score: Score,
    /// Seconds spent predicting (scaling, features, linear model), not reading.
    pub predict_seconds: f64,
    /// The same per row, in microseconds.
    pub predict_us_per_row: f64,
    /// The model.
    pub model: ModelSummary,
}

impl Report for EvalReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "model: {}", self.model.one_line())?;
        writeln!(out, "test:  {} ({} rows)", self.test.display(), self.rows)?;
        writeln!(out, "  {}", self.score.describe())?;
        writeln!(
            out,
            "  prediction time {} ({:.2} µs per row)",
            fmt_duration(self.predict_seconds),
            self.predict_us_per_row
        )
    }
}

/// Runs `rks eval`.
pub fn run(args: &EvalArgs, json: bool) -> Result<()> {
    let model = machine::load(&args.model)?;
    let source = Source::new(&args.test, &args.read)?.for_model(&model);
    let mut tally = ScoreTally::new(model.task());
    let done = stream(&model, &source, CHUNK_ROWS, |y, p| {
        tally.add(y.view(), p.view());
        Ok(())
    })?;
    let seconds = done.predict_time.as_secs_f64();
    let report = EvalReport {
        test: args.test.clone(),
        rows: done.rows,
        score: tally.score(),
        predict_seconds: seconds,
        predict_us_per_row: 1e6 * seconds / done.rows.max(1) as f64,
        model: ModelSummary::of(&model),
    };
    emit(&report, json)
}

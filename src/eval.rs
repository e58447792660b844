//! `rks eval`: score a saved model on a labelled test file.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::cli::EvalArgs;
use crate::error::Result;
use crate::input::Source;
use crate::machine::{self, ModelSummary};
use crate::metrics::{ConfusionTally, LogLossTally, PerClass, Score, ScoreTally};
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
    /// The mean log loss (natural log) of the class probabilities, for a model fitted with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_loss: Option<f64>,
    /// A classifier's per-class figures and confusion matrix (classes in the order of
    /// `model.classes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_class: Option<PerClass>,
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
        if let Some(log_loss) = self.log_loss {
            writeln!(out, "  log loss {log_loss:.4} (of the class probabilities)")?;
        }
        if let Some(per_class) = &self.per_class {
            self.write_per_class(out, per_class)?;
        }
        writeln!(
            out,
            "  prediction time {} ({:.2} µs per row)",
            fmt_duration(self.predict_seconds),
            self.predict_us_per_row
        )
    }
}

/// Classes in the per-class table at most (the JSON report has every class).
const TABLE_CLASSES: usize = 20;

impl EvalReport {
    /// The balanced accuracy and macro F1, then (for at most [`TABLE_CLASSES`] classes) each
    /// class's precision, recall, F1 and rows.
    fn write_per_class(&self, out: &mut dyn Write, p: &PerClass) -> io::Result<()> {
        writeln!(
            out,
            "  balanced accuracy {:.2} %, macro F1 {:.4}",
            100.0 * p.balanced_accuracy,
            p.macro_f1
        )?;
        let unseen: u64 = p.unseen.iter().sum();
        if unseen > 0 {
            writeln!(out, "  {unseen} rows of classes the model does not know")?;
        }
        let Some(names) = self.model.class_labels() else {
            return Ok(());
        };
        if names.len() > TABLE_CLASSES {
            return Ok(());
        }
        let width = names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(out, "  {:width$}  precision  recall  F1      rows", "class")?;
        for (c, name) in names.iter().enumerate() {
            writeln!(
                out,
                "  {name:width$}  {:<9.4}  {:<6.4}  {:<6.4}  {}",
                p.precision[c], p.recall[c], p.f1[c], p.support[c]
            )?;
        }
        Ok(())
    }
}

/// Runs `rks eval`.
pub fn run(args: &EvalArgs, json: bool) -> Result<()> {
    let model = machine::load(&args.model)?;
    let source = Source::new(&args.test, &args.read)?.for_model(&model);
    let mut tally = ScoreTally::new(model.task());
    let mut log_loss = LogLossTally::default();
    let classes = model.classes().unwrap_or_default();
    let mut confusion = model.classes().map(ConfusionTally::new);
    let probabilities = model.calibration().is_some();
    let done = stream(&model, &source, CHUNK_ROWS, probabilities, |y, s| {
        tally.add(y.view(), s.predicted.view());
        if let Some(confusion) = &mut confusion {
            confusion.add(y.view(), s.predicted.view());
        }
        if let Some(p) = &s.probabilities {
            log_loss.add(classes, y.view(), p.view());
        }
        Ok(())
    })?;
    let seconds = done.predict_time.as_secs_f64();
    let report = EvalReport {
        test: args.test.clone(),
        rows: done.rows,
        score: tally.score(),
        log_loss: log_loss.value(),
        per_class: confusion.map(|c| c.per_class()),
        predict_seconds: seconds,
        predict_us_per_row: 1e6 * seconds / done.rows.max(1) as f64,
        model: ModelSummary::of(&model),
    };
    emit(&report, json)
}

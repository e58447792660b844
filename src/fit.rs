//! `rks fit`: read a training file, fit a kernel machine from the flags, save it.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::cli::FitArgs;
use crate::error::Result;
use crate::input::Source;
use crate::machine::{self, ModelSummary, Recipe};
use crate::metrics::Score;
use crate::progress::step;
use crate::report::{Report, emit, fmt_duration};

/// What `rks fit` prints.
#[derive(Debug, Serialize)]
pub struct FitReport {
    /// Where the model was saved.
    pub model_path: PathBuf,
    /// The fitted model.
    pub model: ModelSummary,
    /// Seconds to read the training file.
    pub read_seconds: f64,
    /// Seconds to fit (scaling, bandwidth, features, solver).
    pub fit_seconds: f64,
    /// The model's score on its own training rows.
    pub train_score: Score,
}

impl Report for FitReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "fitted {}", self.model.one_line())?;
        writeln!(out, "  training rows    {}", self.model.train_rows)?;
        writeln!(
            out,
            "  read time        {}",
            fmt_duration(self.read_seconds)
        )?;
        writeln!(out, "  fit time         {}", fmt_duration(self.fit_seconds))?;
        writeln!(out, "  training score   {}", self.train_score.describe())?;
        writeln!(out, "  saved to         {}", self.model_path.display())
    }
}

/// Runs `rks fit`.
pub fn run(args: &FitArgs, json: bool) -> Result<()> {
    let recipe = Recipe::from_flags(args.map, args.frequencies, &args.kernel, &args.solver)?;
    let source = Source::new(&args.train, &args.read)?;
    let (data, read_time) = step("reading", || source.read());
    let data = data?;
    let (model, fit_time) = step("fitting", || recipe.fit(&data, &args.train));
    let model = model?;
    machine::save(&model, &args.model)?;
    let predicted = model
        .predict(data.x.view())
        .map_err(crate::error::CliError::compute)?;
    let report = FitReport {
        model_path: args.model.clone(),
        model: ModelSummary::of(&model),
        read_seconds: read_time.as_secs_f64(),
        fit_seconds: fit_time.as_secs_f64(),
        train_score: Score::compute(model.task(), data.y.view(), predicted.view()),
    };
    emit(&report, json)
}

//! `rks predict`: stream a data file through a saved model, one prediction per line.
//!
//! The file is read, scaled, mapped and predicted `--chunk-rows` rows at a time, so memory stays
//! at one chunk whatever the file size, through the streaming pipeline of [`crate::pipeline`].

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use ndarray::Array1;
use rks_solvers::KernelMachine;
use serde::Serialize;

use crate::cli::PredictArgs;
use crate::error::{CliError, Result};
use crate::input::Source;
use crate::machine;
use crate::pipeline::stream;
use crate::report::{Report, emit, fmt_duration, ignore_broken_pipe};

/// What `rks predict --json` prints after the predictions (or instead of them with `--output`).
#[derive(Debug, Serialize)]
pub struct PredictReport {
    /// Rows predicted.
    pub rows: usize,
    /// Where the predictions went, if not stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<PathBuf>,
    /// Seconds spent predicting (not reading).
    pub predict_seconds: f64,
}

impl Report for PredictReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let target = self
            .output
            .as_ref()
            .map_or("stdout".into(), |p| p.display().to_string());
        writeln!(
            out,
            "predicted {} rows into {} in {}",
            self.rows,
            target,
            fmt_duration(self.predict_seconds)
        )
    }
}

/// Runs `rks predict`.
///
/// Without `--output` the predictions go to stdout, one per line (or, with `--json`, as the
/// `predictions` array of one JSON object, written as it streams). With `--output` they go to the
/// file and stdout gets the summary.
pub fn run(args: &PredictArgs, json: bool) -> Result<()> {
    let model = machine::load(&args.model)?;
    let source = Source::new(&args.data, &args.read)?.for_model(&model);
    let chunk_rows = args.chunk_rows as usize;
    match &args.output {
        Some(path) => {
            let file = File::create(path).map_err(|e| CliError::io(path, e))?;
            let mut out = BufWriter::new(file);
            let done = stream(&model, &source, chunk_rows, |_, p| {
                write_lines(&mut out, &model, p, path)
            })?;
            out.flush().map_err(|e| CliError::io(path, e))?;
            emit(
                &PredictReport {
                    rows: done.rows,
                    output: Some(path.clone()),
                    predict_seconds: done.predict_time.as_secs_f64(),
                },
                json,
            )
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let path = Path::new("stdout");
            let result = if json {
                write_json_stream(&mut out, &model, &source, chunk_rows)
            } else {
                stream(&model, &source, chunk_rows, |_, p| {
                    write_lines(&mut out, &model, p, path)
                })
                .map(|_| ())
            };
            let flushed = out.flush().map_err(|e| CliError::io(path, e));
            match result.and(flushed) {
                Err(CliError::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => {
                    Ok(())
                }
                other => other,
            }
        }
    }
}

/// One prediction per line: class names as they were in the training file, class labels as
/// integers ("3"), values in full precision.
fn write_lines(
    out: &mut impl Write,
    model: &KernelMachine,
    predicted: &Array1<f64>,
    path: &Path,
) -> Result<()> {
    let written = predicted
        .iter()
        .try_for_each(|&v| match model.class_name(v) {
            Some(name) => writeln!(out, "{name}"),
            None => writeln!(out, "{v}"),
        });
    written.map_err(|e| CliError::io(path, e))
}

/// `{"predictions": [...], "rows": N, "predict_seconds": t}`, streamed chunk by chunk.
fn write_json_stream(
    out: &mut impl Write,
    model: &KernelMachine,
    source: &Source,
    chunk_rows: usize,
) -> Result<()> {
    let path = Path::new("stdout");
    let io = |e: io::Error| CliError::io(path, e);
    write!(out, "{{\"predictions\": [").map_err(io)?;
    let mut first = true;
    let done = stream(model, source, chunk_rows, |_, predicted| {
        for v in predicted {
            if !first {
                out.write_all(b", ").map_err(io)?;
            }
            first = false;
            match model.class_name(*v) {
                Some(name) => serde_json::to_writer(&mut *out, name),
                None => serde_json::to_writer(&mut *out, v),
            }
            .map_err(|e| io(e.into()))?;
        }
        Ok(())
    })?;
    writeln!(
        out,
        "], \"rows\": {}, \"predict_seconds\": {}}}",
        done.rows,
        done.predict_time.as_secs_f64()
    )
    .map_err(io)?;
    ignore_broken_pipe(Ok(()), path)
}

//! `rks predict`: stream a data file through a saved model, one prediction per line.
//!
//! The file is read, scaled, mapped and predicted `--chunk-rows` rows at a time, so memory stays
//! at one chunk whatever the file size, through the streaming pipeline of [`crate::pipeline`].

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rks_solvers::KernelMachine;
use serde::Serialize;

use crate::cli::PredictArgs;
use crate::error::{CliError, Result};
use crate::input::Source;
use crate::machine;
use crate::pipeline::{Streamed, stream};
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
/// file and stdout gets the summary. With `--probabilities` each line also holds the classes'
/// probabilities, after a header line ([`Lines`]).
pub fn run(args: &PredictArgs, json: bool) -> Result<()> {
    let model = machine::load(&args.model)?;
    if args.probabilities {
        model
            .calibration_or_error()
            .map_err(|e| CliError::usage(format!("{}: {e}", args.model.display())))?;
    }
    let source = Source::new(&args.data, &args.read)?.for_model(&model);
    let chunk_rows = args.chunk_rows as usize;
    let lines = Lines {
        model: &model,
        probabilities: args.probabilities,
    };
    match &args.output {
        Some(path) => {
            let file = File::create(path).map_err(|e| CliError::io(path, e))?;
            let mut out = BufWriter::new(file);
            let done = lines.write(&mut out, &source, chunk_rows, path)?;
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
                lines.write_json(&mut out, &source, chunk_rows)
            } else {
                lines.write(&mut out, &source, chunk_rows, path).map(|_| ())
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

/// How the predictions are written: one per line, or with `probabilities` CSV lines of the
/// prediction and each class's probability under a header of the class names (or labels).
struct Lines<'m> {
    model: &'m KernelMachine,
    probabilities: bool,
}

impl Lines<'_> {
    /// Writes predicted label or value `v`: its class name as it was in the training file
    /// (quoted as a CSV field when `csv` and it needs it), a class label as an integer ("3"), a
    /// value in full precision.
    fn write_label(&self, out: &mut impl Write, v: f64, csv: bool) -> io::Result<()> {
        match self.model.class_name(v) {
            Some(name) if csv => write!(out, "{}", csv_field(name)),
            Some(name) => write!(out, "{name}"),
            None => write!(out, "{v}"),
        }
    }

    /// Every row's line, streamed from `source`.
    fn write(
        &self,
        out: &mut impl Write,
        source: &Source,
        chunk_rows: usize,
        path: &Path,
    ) -> Result<Streamed> {
        let io = |e: io::Error| CliError::io(path, e);
        if self.probabilities {
            write!(out, "label").map_err(io)?;
            for &c in self.model.classes().unwrap_or_default() {
                write!(out, ",").map_err(io)?;
                self.write_label(out, c as f64, true).map_err(io)?;
            }
            writeln!(out).map_err(io)?;
        }
        stream(
            self.model,
            source,
            chunk_rows,
            self.probabilities,
            |_, s| {
                for (i, &v) in s.predicted.iter().enumerate() {
                    self.write_label(out, v, self.probabilities).map_err(io)?;
                    if let Some(p) = &s.probabilities {
                        for q in p.row(i) {
                            write!(out, ",{q}").map_err(io)?;
                        }
                    }
                    writeln!(out).map_err(io)?;
                }
                Ok(())
            },
        )
    }

    /// `{"predictions": [...], "rows": N, "predict_seconds": t}`, streamed chunk by chunk; with
    /// probabilities, `"classes": [...]` first and each prediction `{"label": …,
    /// "probabilities": [...]}`.
    fn write_json(&self, out: &mut impl Write, source: &Source, chunk_rows: usize) -> Result<()> {
        let path = Path::new("stdout");
        let io = |e: io::Error| CliError::io(path, e);
        let json = |e: serde_json::Error| io(e.into());
        write!(out, "{{").map_err(io)?;
        if self.probabilities {
            write!(out, "\"classes\": ").map_err(io)?;
            serde_json::to_writer(&mut *out, &self.class_values()).map_err(json)?;
            write!(out, ", ").map_err(io)?;
        }
        write!(out, "\"predictions\": [").map_err(io)?;
        let mut first = true;
        let done = stream(
            self.model,
            source,
            chunk_rows,
            self.probabilities,
            |_, s| {
                for (i, v) in s.predicted.iter().enumerate() {
                    if !first {
                        out.write_all(b", ").map_err(io)?;
                    }
                    first = false;
                    let label = self.label_value(*v);
                    match &s.probabilities {
                    Some(p) => serde_json::to_writer(
                        &mut *out,
                        &serde_json::json!({"label": label, "probabilities": p.row(i).to_vec()}),
                    ),
                    None => serde_json::to_writer(&mut *out, &label),
                }
                .map_err(json)?;
                }
                Ok(())
            },
        )?;
        writeln!(
            out,
            "], \"rows\": {}, \"predict_seconds\": {}}}",
            done.rows,
            done.predict_time.as_secs_f64()
        )
        .map_err(io)?;
        ignore_broken_pipe(Ok(()), path)
    }

    /// A prediction as a JSON value: its class name, else the number.
    fn label_value(&self, v: f64) -> serde_json::Value {
        match self.model.class_name(v) {
            Some(name) => name.into(),
            None => v.into(),
        }
    }

    /// The classes as JSON values, in the probabilities' order.
    fn class_values(&self) -> Vec<serde_json::Value> {
        self.model
            .classes()
            .unwrap_or_default()
            .iter()
            .map(|&c| self.label_value(c as f64))
            .collect()
    }
}

/// A CSV field: as it is, or quoted (with `"` doubled) when it holds a comma, a quote, a line
/// break or leading or trailing spaces.
fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    let plain = !text.contains([',', '"', '\n', '\r']) && text.trim() == text;
    if plain {
        text.into()
    } else {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    }
}

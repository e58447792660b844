//! The streaming pipeline of the tool: a data file through a saved model, chunk by chunk, in file
//! order, never holding more than one chunk, with the chunk's class probabilities when asked.
//! `rks predict` and `rks eval` run on it. A linear map's model reads a LIBSVM file as chunks of
//! sparse rows and scores their entries (a chunk of a text file's rows laid out dense could
//! take gigabytes); every other model reads dense chunks.

use std::time::{Duration, Instant};

use ndarray::{Array1, Array2};
use rks::MapKind;
use rks_solvers::{KernelMachine, SolversError};

use crate::error::{CliError, Result};
use crate::input::{Source, check_columns, check_width};
use crate::progress::Progress;

/// Rows and time of a streamed prediction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Streamed {
    /// Rows predicted.
    pub rows: usize,
    /// Time spent in the model (scaling, features, linear model), not reading.
    pub predict_time: Duration,
}

/// A chunk's predictions and, when asked for, its class probabilities (rows × classes).
#[derive(Debug)]
pub struct Scored {
    /// One label or value per row.
    pub predicted: Array1<f64>,
    /// The probability of each class, in the order of the model's classes.
    pub probabilities: Option<Array2<f64>>,
}

/// Predicts every row of `source` with `model`, `chunk_rows` at a time, handing each chunk's
/// labels (or targets) and its predictions to `sink` in file order; with `probabilities`, each
/// chunk's class probabilities too (the model must have a calibration: see
/// [`KernelMachine::calibration_or_error`]), from the same pass of the model over the chunk.
pub fn stream(
    model: &KernelMachine,
    source: &Source,
    chunk_rows: usize,
    probabilities: bool,
    mut sink: impl FnMut(&Array1<f64>, &Scored) -> Result<()>,
) -> Result<Streamed> {
    let progress = Progress::spinner("predicting");
    let mut done = Streamed::default();
    let calibration = if probabilities {
        Some(model.calibration_or_error().map_err(CliError::compute)?)
    } else {
        None
    };
    let scored = |scores: Array2<f64>| -> std::result::Result<Scored, SolversError> {
        Ok(Scored {
            predicted: model.predict_from_decision(&scores),
            probabilities: calibration
                .map(|c| c.probabilities(scores.view()))
                .transpose()?,
        })
    };
    let mut predicted =
        |y: &Array1<f64>, scores: &dyn Fn() -> std::result::Result<Array2<f64>, SolversError>| {
            let start = Instant::now();
            let p = scores()
                .and_then(scored)
                .map_err(|e| CliError::data(source.path(), e))?;
            done.predict_time += start.elapsed();
            sink(y, &p)?;
            done.rows += y.len();
            progress.set_message(format!("predicted {} rows", done.rows));
            Ok::<(), CliError>(())
        };
    let sparse = match model.map().kind() {
        MapKind::Linear => source.sparse_chunks(chunk_rows)?,
        _ => None,
    };
    match sparse {
        Some(chunks) => {
            for chunk in chunks {
                let chunk = chunk?;
                check_columns(source.path(), chunk.n_features(), model.input_dim())?;
                predicted(&chunk.y, &|| model.decision_function_sparse(&chunk))?;
            }
        }
        None => {
            for chunk in source.chunks(chunk_rows)? {
                let chunk = chunk?;
                check_width(
                    source.path(),
                    &chunk,
                    model.input_dim(),
                    "the model was fitted on",
                )?;
                predicted(&chunk.y, &|| model.decision_function(chunk.x.view()))?;
            }
        }
    }
    Ok(done)
}

//! The streaming pipeline of the tool: a data file through a saved model, chunk by chunk, in file
//! order, never holding more than one chunk. `rks predict`, `rks eval` and the training score
//! of `rks fit --stream` all run on it.

use std::time::{Duration, Instant};

use ndarray::Array1;
use rks_data::Dataset;
use rks_solvers::KernelMachine;

use crate::error::{CliError, Result};
use crate::input::{Source, check_width};
use crate::progress::Progress;

/// Rows and time of a streamed prediction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Streamed {
    /// Rows predicted.
    pub rows: usize,
    /// Time spent in the model (scaling, features, linear model), not reading.
    pub predict_time: Duration,
}

/// Predicts every row of `source` with `model`, `chunk_rows` at a time, handing each chunk and
/// its predictions to `sink` in file order.
pub fn stream(
    model: &KernelMachine,
    source: &Source,
    chunk_rows: usize,
    mut sink: impl FnMut(&Dataset, &Array1<f64>) -> Result<()>,
) -> Result<Streamed> {
    let progress = Progress::spinner("predicting");
    let mut done = Streamed::default();
    for chunk in source.chunks(chunk_rows)? {
        let chunk = chunk?;
        check_width(
            source.path(),
            &chunk,
            model.input_dim(),
            "the model was fitted on",
        )?;
        let start = Instant::now();
        let predicted = model
            .predict(chunk.x.view())
            .map_err(|e| CliError::data(source.path(), e))?;
        done.predict_time += start.elapsed();
        sink(&chunk, &predicted)?;
        done.rows += chunk.n_rows();
        progress.set_message(format!("predicted {} rows", done.rows));
    }
    Ok(done)
}

//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong when building, training, saving or loading a layer or network.
#[derive(Debug, Error)]
pub enum LayerError {
    /// A hyper-parameter is out of its valid range (names the parameter and says why).
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    /// An input batch has the wrong number of columns.
    #[error("input has {found} columns, the layer expects {expected}")]
    WrongInputDim { expected: usize, found: usize },
    /// A gradient (or other companion array) does not match the shape it belongs to.
    #[error("`{what}` is {found_rows}×{found_cols}, expected {expected_rows}×{expected_cols}")]
    WrongShape {
        what: &'static str,
        expected_rows: usize,
        expected_cols: usize,
        found_rows: usize,
        found_cols: usize,
    },
    /// The input holds NaN or ±∞.
    #[error("input row {row}, column {col} is not finite ({value})")]
    NonFiniteInput { row: usize, col: usize, value: f64 },
    /// A class label is not an integer in 0..n_classes.
    #[error("label {value} of row {row} is not a class index in 0..{n_classes}")]
    BadLabel {
        row: usize,
        value: f64,
        n_classes: usize,
    },
    /// The number of labels differs from the number of rows.
    #[error("{rows} rows but {labels} labels")]
    LabelCount { rows: usize, labels: usize },
    /// Training produced a non-finite loss (learning rate too large, or bad input).
    #[error("training diverged: the loss became {loss} in epoch {epoch}")]
    Diverged { epoch: usize, loss: f64 },
    /// An error from the random-feature crate (building the Fastfood parameters, the transform).
    #[error(transparent)]
    Rks(#[from] rks::RksError),
    /// Saving or loading a network file failed: i/o, a foreign or newer file, a truncated or
    /// corrupt one (the same errors as every file of the project, see [`rks::envelope`]).
    #[error(transparent)]
    File(#[from] rks::envelope::FileError),
    /// The file holds the other kind of network.
    #[error("the file holds {found}, expected {expected}")]
    OtherNetwork {
        /// The kind asked for.
        expected: &'static str,
        /// The kind in the file.
        found: &'static str,
    },
}

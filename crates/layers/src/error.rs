//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong when building, training, saving or loading a layer or network.
#[derive(Debug, Error)]
pub enum LayerError {
    /// A hyper-parameter is out of its valid range (names the parameter and says why).
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter { name: Param, reason: String },
    /// A buffer sized by a parameter (a layer's width) is larger than can be allocated; checked
    /// before it is made.
    #[error(
        "{what} would need {bytes} bytes, more memory than can be allocated: lower `{parameter}`"
    )]
    TooLarge {
        /// What the buffer holds.
        what: &'static str,
        /// The parameter that sized it.
        parameter: Param,
        /// The bytes it would need.
        bytes: u128,
    },
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

/// The parameter an [`LayerError::InvalidParameter`] or [`LayerError::TooLarge`] is about: the
/// names a front end maps to its own (a flag, a keyword argument); `Display` gives the
/// snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Rows per training step.
    BatchSize,
    /// A layer's additive bias.
    Bias,
    /// The drop probability of a dropout layer.
    Dropout,
    /// Adam's ε.
    Epsilon,
    /// Fastfood's Gaussian diagonal G.
    Gaussian,
    /// A hidden layer of a network.
    Hidden,
    /// A layer's input dimension.
    InputDim,
    /// A convolution's or pooling's input shape (channels, height, width).
    InputShape,
    /// A convolution's kernel size.
    Kernel,
    /// The optimiser's learning rate.
    LearningRate,
    /// SGD's momentum (and Adam's β₁, β₂).
    Momentum,
    /// The number of classes.
    NClasses,
    /// A convolution's output channels.
    OutChannels,
    /// A network's output layer.
    Output,
    /// A layer's output dimension (a hidden layer's width).
    OutputDim,
    /// Fastfood's permutation Π.
    Permutation,
    /// Fastfood's scaling diagonal S.
    Scaling,
    /// The learning-rate schedule.
    Schedule,
    /// A Fastfood layer's σ.
    Sigma,
    /// Fastfood's sign diagonal B.
    Signs,
    /// The share of rows held out for validation.
    ValidationFraction,
    /// A flat parameter vector.
    Values,
    /// The L2 weight decay.
    WeightDecay,
    /// A layer's weights.
    Weights,
    /// The training rows or images.
    X,
}

impl Param {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Param::BatchSize => "batch_size",
            Param::Bias => "bias",
            Param::Dropout => "dropout",
            Param::Epsilon => "epsilon",
            Param::Gaussian => "gaussian",
            Param::Hidden => "hidden",
            Param::InputDim => "input_dim",
            Param::InputShape => "input_shape",
            Param::Kernel => "kernel",
            Param::LearningRate => "learning_rate",
            Param::Momentum => "momentum",
            Param::NClasses => "n_classes",
            Param::OutChannels => "out_channels",
            Param::Output => "output",
            Param::OutputDim => "output_dim",
            Param::Permutation => "permutation",
            Param::Scaling => "scaling",
            Param::Schedule => "schedule",
            Param::Sigma => "sigma",
            Param::Signs => "signs",
            Param::ValidationFraction => "validation_fraction",
            Param::Values => "values",
            Param::WeightDecay => "weight_decay",
            Param::Weights => "weights",
            Param::X => "x",
        }
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

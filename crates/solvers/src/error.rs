//! The one error type of this crate.

use rks::RksError;
use rks::envelope::FileError;
use thiserror::Error;

/// The parameters a [`SolversError::InvalidParameter`] can name (the map's are
/// [`rks::error::Param`], inside [`SolversError::Rks`]): typed, so that a caller maps each to its
/// own spelling in one table. `Display` gives the builders' spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Param {
    /// Rows per transformed block.
    ChunkRows,
    /// The σ multipliers of the model selection.
    SigmaFactors,
    /// Rows the σ search scores on.
    SearchRows,
    /// Rows the column weights are learned on.
    RelevanceRows,
    /// Column weights given by hand.
    InputWeights,
    /// Row weights (a weighted fit's, or the classes' weights).
    RowWeights,
    /// Class weights.
    ClassWeights,
    /// Frequencies of the σ search.
    SearchFrequencies,
    /// The time budget of the search over n.
    Budget,
    /// The map kinds the search chooses among.
    Maps,
    /// Ridge's λ (or its grid).
    Lambda,
    /// Ridge or SVM.
    Solver,
    /// The class labels given to a fit.
    Labels,
    /// The SVM's cost C.
    C,
    /// The SVM's stopping tolerance.
    Eps,
    /// The SVM's epoch cap.
    MaxEpochs,
    /// The SVM's bias feature.
    Bias,
    /// The number of classes.
    NClasses,
    /// Class indices.
    Classes,
    /// The bound on the features of exact statistics ([`crate::exact::Grid`]).
    FeatureBound,
    /// The targets' range of exact statistics.
    TargetRange,
    /// A decoded fixed-point grid.
    Grid,
    /// The cross-validation folds.
    Folds,
    /// The SVM's C grid of the model selection.
    Cs,
    /// The solvers the model selection chooses among.
    Solvers,
    /// The input scaling.
    Scaler,
    /// The feature map.
    Map,
    /// The task (classification or regression).
    Task,
    /// The names of the classes.
    ClassNames,
    /// The categories of the training file's columns.
    InputCategories,
    /// The probability calibration of a classifier.
    Probabilities,
}

impl Param {
    /// The builders' spelling.
    pub fn name(&self) -> &'static str {
        match self {
            Param::ChunkRows => "chunk_rows",
            Param::SigmaFactors => "sigma_factors",
            Param::SearchRows => "search_rows",
            Param::RelevanceRows => "relevance_rows",
            Param::InputWeights => "input_weights",
            Param::RowWeights => "row_weights",
            Param::ClassWeights => "class_weights",
            Param::SearchFrequencies => "search_frequencies",
            Param::Budget => "budget",
            Param::Maps => "maps",
            Param::Lambda => "lambda",
            Param::Solver => "solver",
            Param::Labels => "labels",
            Param::C => "c",
            Param::Scaler => "scaler",
            Param::Map => "map",
            Param::Task => "task",
            Param::ClassNames => "class_names",
            Param::InputCategories => "input_categories",
            Param::Probabilities => "probabilities",
            Param::Eps => "eps",
            Param::MaxEpochs => "max_epochs",
            Param::Bias => "bias",
            Param::NClasses => "n_classes",
            Param::Classes => "classes",
            Param::FeatureBound => "feature_bound",
            Param::TargetRange => "targets",
            Param::Grid => "grid",
            Param::Folds => "folds",
            Param::Cs => "cs",
            Param::Solvers => "solvers",
        }
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong when fitting, predicting, saving or loading a model.
#[derive(Debug, Error)]
pub enum SolversError {
    /// An error from the feature map or the scaler (wrong column count, non-finite input, ...).
    #[error(transparent)]
    Rks(#[from] RksError),
    /// A hyper-parameter is out of its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: Param,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// The inputs and the targets have different numbers of rows.
    #[error("x has {x_rows} rows but y has {y_rows} entries: they must match")]
    RowMismatch {
        /// Rows of the inputs.
        x_rows: usize,
        /// Rows (entries) of the targets.
        y_rows: usize,
    },
    /// Nothing to fit on.
    #[error("empty input: {0}")]
    EmptyInput(String),
    /// A dimension does not match the model (features, outputs, classes).
    #[error("{what}: expected {expected}, found {found}")]
    DimensionMismatch {
        /// What was being compared.
        what: &'static str,
        /// The size the model needs.
        expected: usize,
        /// The size that was given.
        found: usize,
    },
    /// An input or target value is NaN or ±∞.
    #[error("{what} at row {row}, column {col} is not finite ({value})")]
    NonFinite {
        /// "input", "feature" or "target".
        what: &'static str,
        /// Row index (within the array that was passed).
        row: usize,
        /// Column index.
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// A feature or target value outside the fixed-point grid of exact statistics
    /// ([`crate::exact::Grid`]), whose bound was fixed before the rows were seen.
    #[error(
        "{what} at row {row}, column {col} is {value}, beyond the bound {bound} of the exact \
         statistics' grid"
    )]
    OffGrid {
        /// "feature" or "target".
        what: &'static str,
        /// Row index (within the array that was passed).
        row: usize,
        /// Column index.
        col: usize,
        /// The offending value.
        value: f64,
        /// The largest magnitude the grid holds.
        bound: f64,
    },
    /// Partial statistics that cannot be combined: from another map, grid, plan or pass.
    #[error("partial fit mismatch: {0}")]
    PartialMismatch(String),
    /// A classification label that is not an integer.
    #[error("label {value} at row {row} is not an integer: classification needs integer labels")]
    NonIntegerLabel {
        /// Row index.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// Classification with a single class in the training labels.
    #[error("classification needs at least two classes, but every training label is {0}")]
    OneClass(i64),
    /// The regularised normal matrix could not be factorised.
    #[error("linear algebra failed: {0}")]
    LinearAlgebra(String),
    /// Saving or loading a model file failed: i/o, a foreign or newer file, a truncated or
    /// corrupt one (the same errors as every file of the project, see [`rks::envelope`]).
    #[error(transparent)]
    File(#[from] FileError),
    /// The parts of a decoded model disagree (shapes, labels); loading reports it as
    /// [`FileError::Corrupt`].
    #[error("corrupted model: {0}")]
    CorruptModel(String),
    /// Probabilities were asked of a model without a probability calibration: a regressor, or
    /// a classifier fitted without
    /// [`probabilities`](crate::KernelMachineParams::probabilities).
    #[error(
        "the model has no class probabilities: {0} (fit the classifier with probabilities on: \
         `rks fit --probabilities`, `KernelClassifier(probability=True)`)"
    )]
    NoProbabilities(&'static str),
    /// An in-memory fit would hold more copies of its rows than the memory the system has
    /// available ([`KernelMachineValidParams::fit`](crate::KernelMachineValidParams::fit)
    /// checks before it starts; see `machine::memory`).
    #[error(
        "a fit of {rows} rows x {cols} columns holds copies of its rows (each map search's \
         sampled and scaled rows, Nyström's landmarks) of about {:.1} GB: with half a GB for \
         the features, more than the {:.1} GB of memory available: rows are held dense, d x 8 bytes each, so fit on fewer columns \
         (or fewer rows)",
        *bytes as f64 / 1e9,
        *available as f64 / 1e9
    )]
    OutOfMemory {
        /// Training rows.
        rows: usize,
        /// Columns of the rows.
        cols: usize,
        /// Bytes of the copies, estimated.
        bytes: u64,
        /// Bytes of memory available (`MemAvailable` of `/proc/meminfo`).
        available: u64,
    },
    /// A fit on sparse rows would hold per-column statistics and weights beyond the memory the
    /// system has available (`fit_sparse` checks before it starts).
    #[error(
        "a fit on sparse rows of {cols} columns and {outputs} outputs holds about {:.1} GB of \
         per-column statistics and weights, more than the {:.1} GB of memory available: fit on \
         fewer columns",
        *bytes as f64 / 1e9,
        *available as f64 / 1e9
    )]
    SparseOutOfMemory {
        /// Columns of the rows.
        cols: usize,
        /// Outputs of the model (classes, or 1 for two).
        outputs: usize,
        /// Bytes estimated.
        bytes: u64,
        /// Bytes of memory available (`MemAvailable` of `/proc/meminfo`).
        available: u64,
    },
    /// An error from the chunk source of a streamed fit (e.g. a reader's parse error).
    #[error("reading a chunk: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An error raised by linfa (e.g. when used through its traits).
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

impl SolversError {
    /// The error with its row index shifted by `offset` (an error in a block or chunk, reported
    /// at its row in the whole input).
    pub(crate) fn shifted(self, offset: usize) -> Self {
        self.renumbered(|row| row + offset)
    }

    /// The error of a row picked from an input (its index `row` among the picked ones) with
    /// the index that row has in the input, `picked[row]`.
    pub(crate) fn of_picked_rows(self, picked: &[usize]) -> Self {
        self.renumbered(|row| picked.get(row).copied().unwrap_or(row))
    }

    /// The error with its row index `row` replaced by `to(row)`.
    fn renumbered(self, to: impl Fn(usize) -> usize) -> Self {
        match self {
            SolversError::NonFinite {
                what,
                row,
                col,
                value,
            } => SolversError::NonFinite {
                what,
                row: to(row),
                col,
                value,
            },
            SolversError::OffGrid {
                what,
                row,
                col,
                value,
                bound,
            } => SolversError::OffGrid {
                what,
                row: to(row),
                col,
                value,
                bound,
            },
            SolversError::NonIntegerLabel { row, value } => SolversError::NonIntegerLabel {
                row: to(row),
                value,
            },
            other => other,
        }
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = SolversError> = std::result::Result<T, E>;

/// Shorthand for an [`SolversError::InvalidParameter`].
pub(crate) fn invalid(name: Param, reason: impl Into<String>) -> SolversError {
    SolversError::InvalidParameter {
        name,
        reason: reason.into(),
    }
}

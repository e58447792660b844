//! The one error type of this crate.

use thiserror::Error;

/// The parameters an [`RksError`] can name: typed, so that a caller (the command line, the
/// bindings) maps each to its own spelling in one table. `Display` gives the builders' spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Param {
    /// The map kind.
    Map,
    /// The kernel.
    Kernel,
    /// The input dimension d (from the data).
    InputDim,
    /// The number of frequencies n.
    NFrequencies,
    /// The number of Nyström landmarks m.
    NLandmarks,
    /// The Nyström landmark rows.
    Landmarks,
    /// The ridge added to K_mm by Nyström.
    NystromRidge,
    /// Nyström's eigenvalue floor.
    EigenFloor,
    /// The bandwidth σ.
    Sigma,
    /// The bandwidth as γ = 1/(2σ²).
    Gamma,
    /// The input scaling.
    Scaler,
    /// The input rows (their number).
    Rows,
    /// An output buffer.
    Output,
}

impl Param {
    /// The builders' spelling.
    pub fn name(&self) -> &'static str {
        match self {
            Param::Map => "map",
            Param::Kernel => "kernel",
            Param::InputDim => "input_dim",
            Param::NFrequencies => "n_frequencies",
            Param::NLandmarks => "n_landmarks",
            Param::Landmarks => "landmarks",
            Param::NystromRidge => "ridge",
            Param::EigenFloor => "eigen_floor",
            Param::Sigma => "sigma",
            Param::Gamma => "gamma",
            Param::Scaler => "scaler",
            Param::Rows => "rows",
            Param::Output => "output",
        }
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong when building a feature map or transforming rows.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RksError {
    /// A hyper-parameter is out of its valid range (names the parameter and the value).
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter { name: Param, reason: String },
    /// The input has the wrong number of columns.
    #[error("input has {found} columns, the map expects {expected}")]
    WrongInputDim { expected: usize, found: usize },
    /// The output buffer has the wrong shape.
    #[error("output buffer is {found_rows}×{found_cols}, expected {expected_rows}×{expected_cols}")]
    WrongOutputShape {
        expected_rows: usize,
        expected_cols: usize,
        found_rows: usize,
        found_cols: usize,
    },
    /// The input holds NaN or ±∞.
    #[error("input row {row}, column {col} is not finite ({value})")]
    NonFiniteInput { row: usize, col: usize, value: f64 },
    /// A transform length that is not a power of two (or is too small).
    #[error("Walsh–Hadamard length {0} is not a power of two ≥ 1")]
    NotPowerOfTwo(usize),
    /// A stored map was rebuilt from its spec, but its parameters differ from the saved ones
    /// (the sampling code changed between the version that saved it and this one).
    #[error(
        "the map rebuilt from the stored spec has checksum {rebuilt:#018x}, the file says {stored:#018x}: it was saved by an incompatible version"
    )]
    ChecksumMismatch { stored: u64, rebuilt: u64 },
    /// A buffer sized by a parameter (or by the input) cannot be allocated.
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
    /// A stored map is of another kind than the type it is loaded into.
    #[error("expected a {expected} map, found a {found} map")]
    WrongMapKind {
        expected: &'static str,
        found: &'static str,
    },
}

//! The one error type of the tool, and how it becomes an exit code and a line on stderr.
//!
//! Exit codes: 0 success, 2 usage error (clap's own errors, and flag combinations clap cannot
//! check), 1 everything else: a file that cannot be read or parsed, a model that is corrupt,
//! a fit that fails. Each error prints exactly one line, `error: <where>: <what>`, where `<where>`
//! is `path:line:column` when the reader knows the position.

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Everything that can stop a subcommand.
#[derive(Debug, Error)]
pub enum CliError {
    /// A combination of flags that parses but makes no sense (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A data file that cannot be opened or parsed (the reader's message names
    /// `path:line:column`).
    #[error(transparent)]
    Read(#[from] rks_data::DataError),
    /// A reader's error with a hint at the flag that would likely mend it.
    #[error("{source} ({hint})")]
    ReadHint {
        /// The reader's error.
        source: rks_data::DataError,
        /// What to try.
        hint: String,
    },
    /// A data file that parses but does not fit the command (wrong width, unusable labels).
    #[error("{}: {message}", path.display())]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A model file that cannot be written, read or decoded.
    #[error("{}: {message}", path.display())]
    Model {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file other than data and models (predictions, plots, stdout).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Fitting, tuning or predicting failed on valid files (e.g. a degenerate data set).
    #[error("{0}")]
    Compute(String),
    /// An error this process has already printed, with its exit code (a rank of a distributed
    /// fit prints its own error before the other ranks learn of it: once one rank exits with an
    /// error, `mpirun` ends the job and could cut off a message not yet written).
    #[error("(reported above)")]
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))] // made only by the distributed fit
    Reported {
        /// The exit code of the error printed.
        exit_code: i32,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Reported { exit_code } => *exit_code,
            _ => 1,
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// A data error about the file `path` as a whole.
    pub fn data(path: &Path, message: impl fmt::Display) -> Self {
        CliError::Data {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    /// A model-file error.
    pub fn model(path: &Path, message: impl fmt::Display) -> Self {
        CliError::Model {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    /// A computation error.
    pub fn compute(message: impl fmt::Display) -> Self {
        CliError::Compute(message.to_string())
    }

    /// An i/o error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Shorthand for the tool's results.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_map_to_exit_codes() {
        let err = CliError::data(Path::new("datasets/x"), "12 feature columns, expected 64");
        assert_eq!(
            err.to_string(),
            "datasets/x: 12 feature columns, expected 64"
        );
        assert_eq!(err.exit_code(), 1);
        assert_eq!(CliError::usage("no").exit_code(), 2);
    }
}

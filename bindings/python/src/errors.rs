//! The library's errors as the exceptions Python users expect: `OSError` for a file that cannot
//! be read or written, `MemoryError` for a fit whose copies of its rows would not fit in the
//! memory available, `AttributeError` for probabilities asked of a model that has none (as
//! scikit-learn's `SVC(probability=False).predict_proba` raises: the model lacks the ability,
//! whatever the input), `ValueError` for everything else (bad parameters, shapes, values, files
//! that are not rks files). The message is the library's, which names the parameter, row or file.

use pyo3::PyErr;
use pyo3::exceptions::{PyAttributeError, PyMemoryError, PyOSError, PyValueError};
use rks::RksError;
use rks::envelope::FileError;
use rks::vocabulary::UnknownName;
use rks_solvers::SolversError;

/// A [`FileError`]: `OSError` for i/o, `ValueError` for a foreign, newer or corrupt file.
pub fn file(e: FileError) -> PyErr {
    match e {
        FileError::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// An error of the `rks` crate.
pub fn rks(e: RksError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// An error of the `rks-solvers` crate.
pub fn solvers(e: SolversError) -> PyErr {
    match e {
        // A Python exception raised while a chunk was fetched (a streamed fit): as raised.
        SolversError::Source(inner) => match inner.downcast::<PyErr>() {
            Ok(raised) => *raised,
            Err(other) => PyValueError::new_err(other.to_string()),
        },
        SolversError::File(e) => file(e),
        SolversError::Rks(e) => rks(e),
        e @ (SolversError::OutOfMemory { .. } | SolversError::SparseOutOfMemory { .. }) => {
            PyMemoryError::new_err(e.to_string())
        }
        e @ SolversError::NoProbabilities(_) => PyAttributeError::new_err(e.to_string()),
        e => PyValueError::new_err(e.to_string()),
    }
}

/// A name that is none of a vocabulary's values (the message lists them).
pub fn name(e: UnknownName) -> PyErr {
    PyValueError::new_err(e.to_string())
}

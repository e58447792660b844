//! Input checks shared by the solvers: shapes and finiteness, with errors that name the spot.

use ndarray::ArrayView2;
use rks::Element;

use crate::error::{Result, SolversError};

/// Inputs and targets must have the same number of rows.
pub(crate) fn check_rows(x_rows: usize, y_rows: usize) -> Result<()> {
    if x_rows == y_rows {
        Ok(())
    } else {
        Err(SolversError::RowMismatch { x_rows, y_rows })
    }
}

/// Returns an error naming the first non-finite entry (row-major order).
pub(crate) fn check_finite<F: Element>(what: &'static str, x: ArrayView2<'_, F>) -> Result<()> {
    if x.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    let ((row, col), value) = x
        .indexed_iter()
        .find(|(_, v)| !v.is_finite())
        .map(|(ix, v)| (ix, v.to_f64_exact()))
        .unwrap_or(((0, 0), f64::NAN));
    Err(SolversError::NonFinite {
        what,
        row,
        col,
        value,
    })
}

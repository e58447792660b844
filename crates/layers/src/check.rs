//! Input checks shared by the layers and the network: shapes and finiteness, as typed errors.

use ndarray::ArrayView2;

use crate::LayerError;
use crate::real::Real;

/// The batch must have `expected` columns.
pub(crate) fn check_input_dim<T>(x: ArrayView2<'_, T>, expected: usize) -> Result<(), LayerError> {
    if x.ncols() != expected {
        return Err(LayerError::WrongInputDim {
            expected,
            found: x.ncols(),
        });
    }
    Ok(())
}

/// Every entry must be finite (NaN would silently poison every parameter it reaches).
pub(crate) fn check_finite<T: Real>(x: ArrayView2<'_, T>) -> Result<(), LayerError> {
    for ((row, col), &value) in x.indexed_iter() {
        if !value.is_finite() {
            return Err(LayerError::NonFiniteInput {
                row,
                col,
                value: value.f64(),
            });
        }
    }
    Ok(())
}

/// A companion array (a gradient) must have exactly this shape.
pub(crate) fn check_shape<T>(
    what: &'static str,
    a: ArrayView2<'_, T>,
    rows: usize,
    cols: usize,
) -> Result<(), LayerError> {
    if a.dim() != (rows, cols) {
        return Err(LayerError::WrongShape {
            what,
            expected_rows: rows,
            expected_cols: cols,
            found_rows: a.nrows(),
            found_cols: a.ncols(),
        });
    }
    Ok(())
}

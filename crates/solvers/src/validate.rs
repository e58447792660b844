//! Input checks shared by the solvers (shapes and finiteness, with errors that name the spot), and
//! the scores ΦW + 1bᵀ of a fitted linear model, which ridge and the SVM share.

use ndarray::{Array1, Array2, ArrayView2};
use rayon::prelude::*;
use rks::Element;
use rks::product::FixedRight;

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
    // The common case, all finite, checked in parallel where the rows are contiguous.
    let all_finite = match x.as_slice() {
        Some(values) => values
            .par_chunks(1 << 14)
            .all(|part| part.iter().all(|v| v.is_finite())),
        None => x.iter().all(|v| v.is_finite()),
    };
    if all_finite {
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

/// Scores ΦW + 1bᵀ (rows × m) of a linear model with D × m `weights` and m `intercept`s, after
/// checking that the shapes agree (a loaded model or a caller's Φ may not).
pub(crate) fn linear_scores<F: Element>(
    weights: &Array2<f64>,
    intercept: &Array1<f64>,
    phi: ArrayView2<'_, F>,
) -> Result<Array2<f64>> {
    if intercept.len() != weights.ncols() {
        return Err(SolversError::DimensionMismatch {
            what: "intercepts against weight columns",
            expected: weights.ncols(),
            found: intercept.len(),
        });
    }
    if phi.ncols() != weights.nrows() {
        return Err(SolversError::DimensionMismatch {
            what: "feature columns",
            expected: weights.nrows(),
            found: phi.ncols(),
        });
    }
    // The product's bits are the same on every CPU (rks::product), as the model's predictions.
    let phi = phi.mapv(|v| v.to_f64_exact());
    Ok(FixedRight::new(weights.view()).multiply(phi.view())? + intercept)
}

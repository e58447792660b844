//! NumPy arrays in and out: 2-D f32 or f64 rows, read in place (any strides, read-only arrays
//! too); results returned as new NumPy arrays that own their memory.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rks_data::SparseDataset;

/// 2-D rows of either precision, borrowed from NumPy without a copy.
pub enum Rows<'py> {
    F32(PyReadonlyArray2<'py, f32>),
    F64(PyReadonlyArray2<'py, f64>),
}

impl<'py> Rows<'py> {
    /// Borrows `x`: a 2-D `float32` or `float64` NumPy array; anything else is a `TypeError`
    /// (the Python layer converts other inputs first, as scikit-learn does).
    pub fn borrow(x: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(a) = x.extract::<PyReadonlyArray2<'py, f64>>() {
            return Ok(Rows::F64(a));
        }
        if let Ok(a) = x.extract::<PyReadonlyArray2<'py, f32>>() {
            return Ok(Rows::F32(a));
        }
        Err(PyTypeError::new_err(format!(
            "expected a 2-D numpy array of float32 or float64, got {}",
            describe(x)
        )))
    }
}

/// Borrows 2-D f64 rows (a `TypeError` otherwise).
pub fn rows_f64<'py>(x: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray2<'py, f64>> {
    x.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected a 2-D numpy array of float64, got {}",
            describe(x)
        ))
    })
}

/// Borrows 1-D f64 targets (a `TypeError` otherwise).
pub fn targets<'py>(y: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray1<'py, f64>> {
    y.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected a 1-D numpy array of float64 targets, got {}",
            describe(y)
        ))
    })
}

/// Rows held as compressed sparse rows — a SciPy CSR matrix's `indptr` and `indices` (int64),
/// `data` (float64) and `n_features` columns — with targets `y` (zeros when `None`), checked by
/// [`SparseDataset::new`] (a `ValueError` for what it refuses).
pub fn sparse_rows(
    indptr: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
    n_features: usize,
    y: Option<ndarray::Array1<f64>>,
) -> PyResult<SparseDataset> {
    let int64 = |a: &Bound<'_, PyAny>, what: &str| -> PyResult<Vec<i64>> {
        let a: PyReadonlyArray1<'_, i64> = a.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "expected the {what} as a 1-D numpy array of int64, got {}",
                describe(a)
            ))
        })?;
        Ok(a.as_array().to_vec())
    };
    let bad = |what: &str| PyValueError::new_err(format!("sparse rows: {what}"));
    let offsets = int64(indptr, "row offsets (indptr)")?
        .into_iter()
        .map(|o| usize::try_from(o).map_err(|_| bad("a negative row offset")))
        .collect::<PyResult<Vec<usize>>>()?;
    let columns = int64(indices, "column indices")?
        .into_iter()
        .map(|c| u32::try_from(c).map_err(|_| bad("a column index below 0 or beyond 2^32")))
        .collect::<PyResult<Vec<u32>>>()?;
    let values: PyReadonlyArray1<'_, f64> = data.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected the values as a 1-D numpy array of float64, got {}",
            describe(data)
        ))
    })?;
    let rows = offsets.len().saturating_sub(1);
    let y = y.unwrap_or_else(|| ndarray::Array1::zeros(rows));
    SparseDataset::new(n_features, offsets, columns, values.as_array().to_vec(), y)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Checks that `out` has the shape a result of `rows` × `cols` needs.
pub fn check_out<T: numpy::Element>(
    out: &Bound<'_, PyArray2<T>>,
    rows: usize,
    cols: usize,
) -> PyResult<()> {
    if out.shape() != [rows, cols] {
        return Err(PyValueError::new_err(format!(
            "out has shape {:?}, the result needs ({rows}, {cols})",
            out.shape()
        )));
    }
    Ok(())
}

/// A 1-D result as a NumPy array.
pub fn vector(py: Python<'_>, v: ndarray::Array1<f64>) -> Bound<'_, PyArray1<f64>> {
    PyArray1::from_owned_array(py, v)
}

fn describe(x: &Bound<'_, PyAny>) -> String {
    let kind = x
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    match (x.getattr("dtype"), x.getattr("ndim")) {
        (Ok(dtype), Ok(ndim)) => format!("{kind} of dtype {dtype} with {ndim} dimensions"),
        _ => kind,
    }
}

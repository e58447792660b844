//! NumPy arrays in and out: 2-D f32 or f64 rows, read in place (any strides, read-only arrays
//! too); results returned as new NumPy arrays that own their memory.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

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

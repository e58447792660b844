//! The steps of the partial-fit API that need no parameters, as functions on bytes (the rest
//! are methods of [`crate::params::Params`]): merging passes, and pass 2 under a plan. Module
//! functions pickle by reference, so a Dask worker with the package installed runs them on its
//! own blocks; everything exchanged is the library's envelope bytes.
//!
//! Merges are exact (integer sums, min, max, set union, bottom-k): any grouping of the blocks
//! gives the same bytes.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rks_solvers::SolversError;
use rks_solvers::partial::{FirstPass, Plan, SecondPass};

use crate::arrays::{rows_f64, targets};
use crate::errors;

/// Pass 2 of a partial fit under `plan` (bytes) over one partition's rows and targets, as bytes;
/// with `sample_weight`, the weights pass 1 was given for these rows
/// (`SecondPass::update_weighted`: a weight pass 1 did not allow for is a `ValueError`).
#[pyfunction]
#[pyo3(signature = (plan, x, y, sample_weight=None))]
fn second_pass<'py>(
    py: Python<'py>,
    plan: &[u8],
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    sample_weight: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (x, y) = (rows_f64(x)?, targets(y)?);
    let (x, y) = (x.as_array(), y.as_array());
    let w = sample_weight.map(targets).transpose()?;
    let w = w.as_ref().map(|w| w.as_array());
    let bytes = py
        .detach(|| {
            let plan = Plan::from_bytes(plan)?;
            let mut pass = plan.second_pass()?;
            match w {
                None => pass.update(&plan, x, y)?,
                Some(w) => pass.update_weighted(&plan, x, y, w)?,
            }
            pass.to_bytes()
        })
        .map_err(errors::solvers)?;
    Ok(PyBytes::new(py, &bytes))
}

/// Merges passes (bytes of the same step, from [`second_pass`] or `Params.first_pass`) in the
/// given order, with `decode`, `merge` and `encode` of that step.
fn merge<P>(
    py: Python<'_>,
    parts: Vec<Vec<u8>>,
    decode: fn(&[u8]) -> Result<P, SolversError>,
    merge: fn(&mut P, &P) -> Result<(), SolversError>,
    encode: fn(&P) -> Result<Vec<u8>, SolversError>,
) -> PyResult<Vec<u8>>
where
    P: Send,
{
    if parts.is_empty() {
        return Err(PyValueError::new_err("nothing to merge: no passes given"));
    }
    py.detach(|| {
        let mut merged = decode(&parts[0])?;
        for part in &parts[1..] {
            merge(&mut merged, &decode(part)?)?;
        }
        encode(&merged)
    })
    .map_err(errors::solvers)
}

/// The merge of several pass-1 parts (bytes), as bytes.
#[pyfunction]
fn merge_first(py: Python<'_>, parts: Vec<Vec<u8>>) -> PyResult<Bound<'_, PyBytes>> {
    let bytes = merge(
        py,
        parts,
        FirstPass::from_bytes,
        FirstPass::merge,
        FirstPass::to_bytes,
    )?;
    Ok(PyBytes::new(py, &bytes))
}

/// The merge of several pass-2 parts (bytes), as bytes.
#[pyfunction]
fn merge_second(py: Python<'_>, parts: Vec<Vec<u8>>) -> PyResult<Bound<'_, PyBytes>> {
    let bytes = merge(
        py,
        parts,
        SecondPass::from_bytes,
        SecondPass::merge,
        SecondPass::to_bytes,
    )?;
    Ok(PyBytes::new(py, &bytes))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(second_pass, m)?)?;
    m.add_function(wrap_pyfunction!(merge_first, m)?)?;
    m.add_function(wrap_pyfunction!(merge_second, m)?)?;
    Ok(())
}

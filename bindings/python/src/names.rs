//! The library's vocabularies and rules, borrowed: the names of kernels, maps, scalers, solvers
//! and tasks come from [`Named`], which map makes which kernel from [`MapKind::supports`], and
//! how many outputs a frequency gives from [`MapKind::output_dim`]. Python asks here instead of
//! keeping its own lists.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rks::scaler::ScalerKind;
use rks::vocabulary::Named;
use rks::{Kernel, MapKind};
use rks_solvers::{SolverKind, Task};

use crate::errors;

/// The value of vocabulary `T` called `name`; a `ValueError` listing the accepted names otherwise.
pub fn parse<T: Named>(name: &str) -> PyResult<T> {
    T::from_name(name).map_err(errors::name)
}

fn all<T: Named>() -> Vec<&'static str> {
    T::ALL.iter().map(Named::name).collect()
}

/// `{"kernel": [...], "map": [...], "scaler": [...], "solver": [...], "task": [...]}`: every
/// accepted name, in the library's order.
#[pyfunction]
fn names(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(Kernel::WHAT, all::<Kernel>())?;
    d.set_item(MapKind::WHAT, all::<MapKind>())?;
    d.set_item(ScalerKind::WHAT, all::<ScalerKind>())?;
    d.set_item(SolverKind::WHAT, all::<SolverKind>())?;
    d.set_item(Task::WHAT, all::<Task>())?;
    Ok(d)
}

/// True when a map of kind `map` can approximate `kernel` (`MapKind::supports`).
#[pyfunction]
fn supports(map: &str, kernel: &str) -> PyResult<bool> {
    Ok(parse::<MapKind>(map)?.supports(parse(kernel)?))
}

/// The name of the default fit's choice where a map or solver name is expected: the map chosen
/// between Fastfood and Nyström, the solver between ridge and the SVM (`rks_solvers`'
/// `Selection::choosing_maps` and `choosing_solvers`, what `rks fit` does without `--map` and
/// `--solver`).
pub const AUTO: &str = "auto";

/// The library's n (frequencies; landmarks for Nyström) for `n_components` output features with
/// this map and kernel: ⌈n_components / 2⌉ for cos/sin features (an odd width keeps the first
/// n_components of the 2n features), n_components for the arc-cosine kernels and Nyström. The
/// map [`AUTO`] counts as Fastfood (as `rks fit --frequencies` does for both of its maps).
#[pyfunction]
fn n_frequencies(map: &str, kernel: &str, n_components: usize) -> PyResult<usize> {
    let kind = match map {
        AUTO => MapKind::Fastfood,
        name => parse::<MapKind>(name)?,
    };
    let kernel = parse::<Kernel>(kernel)?;
    if n_components == 0 {
        return Err(PyValueError::new_err(
            "n_components must be at least 1, got 0",
        ));
    }
    Ok(n_components.div_ceil(kind.output_dim(kernel, 1)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(names, m)?)?;
    m.add_function(wrap_pyfunction!(supports, m)?)?;
    m.add_function(wrap_pyfunction!(n_frequencies, m)?)?;
    Ok(())
}

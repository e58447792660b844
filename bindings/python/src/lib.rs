//! `rks._rks`: the native half of the Python package `rks`.
//!
//! The Python half (`python/rks`) holds the scikit-learn conventions (parameter handling, input
//! validation, `classes_`); this half holds only thin wrappers over the library, one idea per
//! module:
//!
//! - [`names`]: the library's vocabularies (kernels, maps, scalers, solvers) and their rules,
//!   borrowed so that Python keeps no table of its own.
//! - [`map`]: [`map::Map`], any feature map of `rks` (f32 and f64 transforms, GIL released).
//! - [`params`]: [`params::Params`], a kernel machine's validated hyper-parameters.
//! - [`machine`]: [`machine::Machine`], a fitted kernel machine, its bytes and files.
//! - [`partial`]: the partial-fit API as functions on bytes, for Dask workers.
//! - [`errors`]: the library's errors as Python exceptions.
//! - [`arrays`]: NumPy arrays in and out.
//!
//! Every function that computes releases the GIL; no Rust panic is expected to cross into
//! Python (errors are returned as exceptions), and PyO3 turns any that did into a
//! `PanicException` rather than an abort.

mod arrays;
mod errors;
mod machine;
mod map;
mod names;
mod params;
mod partial;

use pyo3::prelude::*;

#[pymodule]
fn _rks(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<map::Map>()?;
    m.add_class::<params::Params>()?;
    m.add_class::<machine::Machine>()?;
    m.add_function(wrap_pyfunction!(map::map_from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(machine::machine_from_bytes, m)?)?;
    names::register(m)?;
    partial::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

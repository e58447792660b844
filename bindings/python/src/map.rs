//! [`Map`]: any feature map of `rks` ([`AnyMap`]) for Python, built from a seed (or, for
//! Nyström, fitted to rows), transforming f32 or f64 rows with the GIL released.
//!
//! Pickled through its bytes: the map's stored form (spec and checksum, Nyström's landmarks) in
//! the project's envelope, rebuilt and verified on load.
//!
//! **Recycled outputs.** A fresh output array costs the operating system's page faults and
//! zeroing (about 40 ms of the ~110 ms a 2,000 × 32,768 float32 transform takes on one core,
//! docs/benchmarks.md). So a map keeps a reference to the last array it allocated; when the next
//! call needs the same shape and dtype and that reference is the array's only one (the caller
//! dropped the result, and no view, buffer or container holds it), the array is written again
//! instead of allocating a new one. An array anyone still references is never touched: its
//! reference count says so, read under the GIL. The memory held is at most one output per map,
//! released with the map or when a call needs another shape.

use std::sync::Mutex;

use numpy::{PyArray2, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use rks::envelope::FileKind;
use rks::vocabulary::Named;
use rks::{AnyMap, Bandwidth, Element, FeatureMap, Kernel, MapKind, spec::MapSpec};

use crate::arrays::{Rows, check_out};
use crate::errors;
use crate::names::parse;

/// Feature maps in the project's envelope (pickles of transformers): tag `RKSFEMAP`, version 1.
pub const MAP_FILE: FileKind = FileKind {
    tag: *b"RKSFEMAP",
    what: "feature map",
    version: 1,
    oldest: 1,
    framed_since: 1,
    max_payload: 1 << 36,
};

/// A feature map φ: Rᵈ → R^D of any kind.
#[pyclass(module = "rks._rks", frozen)]
pub struct Map {
    inner: AnyMap,
    /// The last output this map allocated (see the module docs), `None` while a call uses it.
    spare: Mutex<Option<Py<PyAny>>>,
}

#[pymethods]
impl Map {
    /// The map of `kind` for the columns of `x`, approximating `kernel` with bandwidth
    /// γ = 1/(2σ²), drawn from `seed`: n frequencies (landmarks for Nyström, picked among the
    /// rows of `x`; other kinds only read its column count).
    #[staticmethod]
    #[pyo3(signature = (*, kind, kernel, n_frequencies, gamma, seed, x))]
    fn fit(
        py: Python<'_>,
        kind: &str,
        kernel: &str,
        n_frequencies: usize,
        gamma: f64,
        seed: u64,
        x: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let (kind, kernel) = (parse::<MapKind>(kind)?, parse::<Kernel>(kernel)?);
        let rows = Rows::borrow(x)?;
        let spec = |d| {
            MapSpec::new(
                kind,
                d,
                n_frequencies,
                Bandwidth::Gamma(gamma),
                kernel,
                seed,
            )
        };
        let inner = match &rows {
            Rows::F32(a) => {
                let v = a.as_array();
                py.detach(|| AnyMap::fit(&spec(v.ncols())?, v))
            }
            Rows::F64(a) => {
                let v = a.as_array();
                py.detach(|| AnyMap::fit(&spec(v.ncols())?, v))
            }
        }
        .map_err(errors::rks)?;
        Ok(Map::new(inner))
    }

    /// The rows `fit` of `rows` rows would keep, when the map keeps only some and chooses
    /// them without reading their values (Nyström's uniform landmarks; sorted): a fit on just
    /// those rows, in that order, makes the same map (so sparse rows need be made dense only
    /// there). `None` for the data-free maps, which read only the column count.
    #[staticmethod]
    #[pyo3(signature = (*, kind, kernel, n_frequencies, gamma, seed, input_dim, rows))]
    fn landmark_rows(
        kind: &str,
        kernel: &str,
        n_frequencies: usize,
        gamma: f64,
        seed: u64,
        input_dim: usize,
        rows: usize,
    ) -> PyResult<Option<Vec<usize>>> {
        let (kind, kernel) = (parse::<MapKind>(kind)?, parse::<Kernel>(kernel)?);
        let spec = MapSpec::new(
            kind,
            input_dim,
            n_frequencies,
            Bandwidth::Gamma(gamma),
            kernel,
            seed,
        )
        .map_err(errors::rks)?;
        Ok(AnyMap::landmark_rows(&spec, rows))
    }

    /// φ(x) for rows `x` (float32 or float64, any layout; the result has x's dtype). With `out`
    /// (a writable array of x's dtype and the result's shape) the features are written there and
    /// `out` is returned, which saves allocating (and page-faulting) a fresh array per call.
    /// Without `out`, the array of an earlier call that nothing references any more is reused.
    #[pyo3(signature = (x, out=None))]
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        out: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match Rows::borrow(x)? {
            Rows::F32(a) => self.transform_as(py, a.as_array(), out),
            Rows::F64(a) => self.transform_as(py, a.as_array(), out),
        }
    }

    /// The construction: "dense", "fastfood", "orf", "sorf" or "nystrom".
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().name()
    }
    /// The kernel's name.
    #[getter]
    fn kernel(&self) -> &'static str {
        self.inner.spec().kernel().name()
    }
    /// Input columns d.
    #[getter]
    fn input_dim(&self) -> usize {
        self.inner.input_dim()
    }
    /// Output features D.
    #[getter]
    fn output_dim(&self) -> usize {
        self.inner.output_dim()
    }
    /// Frequencies n (landmarks m for Nyström).
    #[getter]
    fn n_frequencies(&self) -> usize {
        self.inner.n_frequencies()
    }
    /// The bandwidth σ.
    #[getter]
    fn sigma(&self) -> f64 {
        self.inner.spec().sigma()
    }
    /// The seed the parameters were drawn from.
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.spec().seed()
    }
    /// Memory of the parameters in bytes.
    #[getter]
    fn parameter_bytes(&self) -> usize {
        self.inner.parameter_bytes()
    }

    /// The map in the project's envelope (tag `RKSFEMAP`).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = MAP_FILE.encode(&self.inner).map_err(errors::file)?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let load = py.import("rks._rks")?.getattr("map_from_bytes")?;
        (load, (self.to_bytes(py)?,)).into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "Map(kind={:?}, kernel={:?}, input_dim={}, output_dim={}, sigma={}, seed={})",
            self.kind(),
            self.kernel(),
            self.input_dim(),
            self.output_dim(),
            self.sigma(),
            self.seed()
        )
    }
}

impl Map {
    fn new(inner: AnyMap) -> Self {
        Map {
            inner,
            spare: Mutex::new(None),
        }
    }

    /// The spare output if it has this shape and dtype and holds the only reference to it.
    fn recycled<'py, F: numpy::Element>(
        &self,
        py: Python<'py>,
        shape: (usize, usize),
    ) -> Option<Bound<'py, PyArray2<F>>> {
        let spare = self.spare.lock().ok()?.take()?.into_bound(py);
        // The count is exact under the GIL (the wheel is built for GIL-holding interpreters,
        // abi3), which is what its deprecation warns about.
        #[allow(deprecated)]
        if spare.get_refcnt() != 1 {
            return None;
        }
        let array = spare.cast::<PyArray2<F>>().ok()?;
        (array.shape() == [shape.0, shape.1] && array.is_c_contiguous()).then(|| array.clone())
    }

    /// Writes φ(x) into `out`, or into the spare output ([`Map::recycled`]) or a new NumPy
    /// array. The new array is NumPy's own (not a Rust `Vec` handed over): NumPy allocates large
    /// arrays lazily zeroed and with transparent huge pages, which took a 2,000 × 32,768 f32
    /// transform from about 250 ms to 100 ms of CPU, most of the difference page faults
    /// (docs/benchmarks.md).
    fn transform_as<'py, F: Element + numpy::Element>(
        &self,
        py: Python<'py>,
        x: ndarray::ArrayView2<'_, F>,
        out: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let map = &self.inner;
        let shape = (x.nrows(), map.output_dim());
        let fresh = out.is_none();
        let out = match out {
            Some(out) => {
                let out = out.cast::<PyArray2<F>>().map_err(|_| {
                    PyTypeError::new_err("out must be a 2-D numpy array of the input's dtype")
                })?;
                check_out(out, shape.0, shape.1)?;
                out.clone()
            }
            None => self
                .recycled(py, shape)
                .unwrap_or_else(|| PyArray2::<F>::zeros(py, [shape.0, shape.1], false)),
        };
        {
            let mut writable = out.try_readwrite().map_err(|e| {
                PyTypeError::new_err(format!("out must be writable and not shared: {e}"))
            })?;
            let view = writable.as_array_mut();
            py.detach(|| map.transform_into(x, view))
                .map_err(errors::rks)?;
        }
        if fresh && let Ok(mut spare) = self.spare.lock() {
            *spare = Some(out.clone().into_any().unbind());
        }
        Ok(out.into_any())
    }
}

/// The map stored by [`Map::to_bytes`] (the pickle protocol's constructor).
#[pyfunction]
pub fn map_from_bytes(bytes: &[u8]) -> PyResult<Map> {
    let (_, payload) = MAP_FILE.open(bytes).map_err(errors::file)?;
    let inner = MAP_FILE.decode(payload).map_err(errors::file)?;
    Ok(Map::new(inner))
}

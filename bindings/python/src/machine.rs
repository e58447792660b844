//! [`Machine`]: a fitted kernel machine ([`KernelMachine`]) for Python: decision values and
//! predictions with the GIL released, and the project's model format (`to_bytes`/`save`/`load`),
//! so a model fitted from Python loads in the `rks` tool and the other way round. Pickled through
//! the same bytes.

use std::path::PathBuf;

use ndarray::{Array2, ArrayView2};
use numpy::PyArray2;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use rks::vocabulary::Named;
use rks::{Bandwidth, FeatureMap, Kernel};
use rks_data::SparseDataset;
use rks_solvers::error::Result as SolversResult;
use rks_solvers::machine::SolverInfo;
use rks_solvers::{KernelMachine, SolverKind};

use crate::arrays::{rows_f64, sparse_rows, vector};
use crate::errors;

/// A fitted kernel machine: f(x) = Wᵀφ(scale(x)) + b.
#[pyclass(module = "rks._rks", frozen)]
pub struct Machine {
    inner: KernelMachine,
}

impl Machine {
    /// `compute` of the model and rows `x` (float64, as `rows_f64` reads them), with the GIL
    /// released.
    fn of_rows<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        compute: impl Fn(&KernelMachine, ArrayView2<'_, f64>) -> SolversResult<Array2<f64>> + Sync,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = rows_f64(x)?;
        let x = x.as_array();
        let out = py
            .detach(|| compute(&self.inner, x))
            .map_err(errors::solvers)?;
        Ok(PyArray2::from_owned_array(py, out))
    }

    /// `compute` of the model and sparse rows, with the GIL released.
    fn of_sparse_rows<'py>(
        &self,
        py: Python<'py>,
        rows: &SparseDataset,
        compute: impl Fn(&KernelMachine, &SparseDataset) -> SolversResult<Array2<f64>> + Sync,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let out = py
            .detach(|| compute(&self.inner, rows))
            .map_err(errors::solvers)?;
        Ok(PyArray2::from_owned_array(py, out))
    }
}

impl From<KernelMachine> for Machine {
    fn from(inner: KernelMachine) -> Self {
        Machine { inner }
    }
}

#[pymethods]
impl Machine {
    /// Decision values of rows `x` (float64): rows × k class scores (two classes: [−f, f]), or
    /// rows × 1 predictions of a regressor.
    fn decision_function<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.of_rows(py, x, |m, x| m.decision_function(x))
    }

    /// Decision values of rows held sparse (a SciPy CSR matrix's `indptr`, `indices` — int64 —
    /// and `data`, with `n_features` columns): a linear map's model scores the entries, any
    /// other lays the rows out dense a block at a time.
    fn decision_function_sparse<'py>(
        &self,
        py: Python<'py>,
        indptr: &Bound<'py, PyAny>,
        indices: &Bound<'py, PyAny>,
        data: &Bound<'py, PyAny>,
        n_features: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let rows = sparse_rows(indptr, indices, data, n_features, None)?;
        self.of_sparse_rows(py, &rows, KernelMachine::decision_function_sparse)
    }

    /// The probability of each class for rows `x` (float64): rows × k, columns in the order of
    /// `classes`, each row summing to 1 — Platt's sigmoids of the decision values, fitted on
    /// held-out folds when the classifier was fitted with `probabilities=True`. An
    /// `AttributeError` for a model without them (a regressor, or a classifier fitted without),
    /// checked before the rows are read, so whatever the input (in the three methods below too).
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.inner.calibration_or_error().map_err(errors::solvers)?;
        self.of_rows(py, x, |m, x| m.predict_proba(x))
    }

    /// The natural log of `predict_proba`, accurate where a probability is tiny.
    fn predict_log_proba<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.inner.calibration_or_error().map_err(errors::solvers)?;
        self.of_rows(py, x, |m, x| m.predict_log_proba(x))
    }

    /// `predict_proba` of rows held sparse (as `decision_function_sparse` takes them).
    fn predict_proba_sparse<'py>(
        &self,
        py: Python<'py>,
        indptr: &Bound<'py, PyAny>,
        indices: &Bound<'py, PyAny>,
        data: &Bound<'py, PyAny>,
        n_features: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.inner.calibration_or_error().map_err(errors::solvers)?;
        let rows = sparse_rows(indptr, indices, data, n_features, None)?;
        self.of_sparse_rows(py, &rows, KernelMachine::predict_proba_sparse)
    }

    /// `predict_log_proba` of rows held sparse (as `decision_function_sparse` takes them).
    fn predict_log_proba_sparse<'py>(
        &self,
        py: Python<'py>,
        indptr: &Bound<'py, PyAny>,
        indices: &Bound<'py, PyAny>,
        data: &Bound<'py, PyAny>,
        n_features: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        self.inner.calibration_or_error().map_err(errors::solvers)?;
        let rows = sparse_rows(indptr, indices, data, n_features, None)?;
        self.of_sparse_rows(py, &rows, KernelMachine::predict_log_proba_sparse)
    }

    /// Predicted class labels (as float64) or values of rows `x` (float64).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
        let x = rows_f64(x)?;
        let x = x.as_array();
        let predicted = py
            .detach(|| self.inner.predict(x))
            .map_err(errors::solvers)?;
        Ok(vector(py, predicted))
    }

    /// "classification" or "regression".
    #[getter]
    fn task(&self) -> &'static str {
        self.inner.task().name()
    }
    /// The class labels of a classifier (sorted integers), `None` for a regressor.
    #[getter]
    fn classes(&self) -> Option<Vec<i64>> {
        self.inner.classes().map(<[i64]>::to_vec)
    }
    /// The classes' names, class label i's at i, when the model was fitted on names (a CSV
    /// label column of text in `rks fit`, or saved from string classes); else `None`.
    #[getter]
    fn class_names(&self) -> Option<Vec<String>> {
        self.inner.class_names().map(<[String]>::to_vec)
    }
    /// Each class's weight in the fit, in the order of `classes` (balanced weights as resolved
    /// on the training labels; classes not named at 1), when fitted with class weights; else
    /// `None`. Saved with the model.
    #[getter]
    fn class_weights(&self) -> Option<Vec<f64>> {
        self.inner.class_weights().map(<[f64]>::to_vec)
    }
    /// Each column of the training file's categories (`None` for a column of numbers), when
    /// `rks fit` read some CSV columns as categories: the model's inputs are then one 0/1
    /// column per category, in this order; else `None`.
    #[getter]
    fn input_categories(&self) -> Option<Vec<Option<Vec<String>>>> {
        self.inner
            .input_categories()
            .map(<[Option<Vec<String>>]>::to_vec)
    }
    /// The same classifier with names for its classes 0..k−1 (saved with it).
    fn with_class_names(&self, names: Vec<String>) -> PyResult<Self> {
        let inner = self
            .inner
            .clone()
            .with_class_names(names)
            .map_err(errors::solvers)?;
        Ok(Machine { inner })
    }
    /// The probability calibration of a classifier fitted with `probabilities=True` (or
    /// `rks fit --probabilities`), else `None`: a dict with `folds` (the held-out folds whose
    /// decision values the sigmoids were fitted on), `log_loss` (the mean log loss, natural
    /// log, of those held-out rows' probabilities), `accuracy` (the held-out rows' accuracy:
    /// the chosen configuration's cross-validated accuracy) and `sigmoids`, a list of (a, b) with
    /// P = 1 / (1 + exp(−(a·s + b))) of a decision value s: one for two classes (on class 1's
    /// score), else one per class (normalised to sum 1).
    #[getter]
    fn calibration<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(c) = self.inner.calibration() else {
            return Ok(None);
        };
        let dict = PyDict::new(py);
        dict.set_item("folds", c.folds())?;
        dict.set_item("log_loss", c.log_loss())?;
        dict.set_item("accuracy", c.accuracy())?;
        let sigmoids: Vec<(f64, f64)> = c.sigmoids().iter().map(|s| (s.a, s.b)).collect();
        dict.set_item("sigmoids", sigmoids)?;
        Ok(Some(dict))
    }
    /// Input columns d.
    #[getter]
    fn input_dim(&self) -> usize {
        self.inner.input_dim()
    }
    /// The map's construction.
    #[getter]
    fn map_kind(&self) -> &'static str {
        self.inner.map().kind().name()
    }
    /// The kernel.
    #[getter]
    fn kernel(&self) -> &'static str {
        self.kernel_value().name()
    }
    /// Frequencies n of the map (landmarks for Nyström).
    #[getter]
    fn n_frequencies(&self) -> usize {
        self.inner.map().n_frequencies()
    }
    /// Output features D of the map.
    #[getter]
    fn output_dim(&self) -> usize {
        self.inner.map().output_dim()
    }
    /// The input scaler's name.
    #[getter]
    fn scaler(&self) -> &'static str {
        self.inner.scaler().kind().name()
    }
    /// The bandwidth σ the fit used (scaled units).
    #[getter]
    fn sigma(&self) -> f64 {
        self.inner.info().sigma
    }
    /// The same bandwidth as γ = 1/(2σ²) (`rks::Bandwidth`'s conversion).
    #[getter]
    fn gamma(&self) -> PyResult<f64> {
        Bandwidth::Sigma(self.sigma()).gamma().map_err(errors::rks)
    }
    /// The seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.map().spec().seed()
    }
    /// "ridge" or "svm".
    #[getter]
    fn solver(&self) -> &'static str {
        match self.inner.info().solver {
            SolverInfo::Ridge { .. } => SolverKind::Ridge.name(),
            SolverInfo::Svm { .. } => SolverKind::Svm.name(),
        }
    }
    /// Ridge's λ as used, `None` for the SVM.
    #[getter]
    fn alpha(&self) -> Option<f64> {
        match self.inner.info().solver {
            SolverInfo::Ridge { lambda, .. } => Some(lambda),
            SolverInfo::Svm { .. } => None,
        }
    }
    /// The SVM's C, `None` for ridge.
    #[getter]
    fn c(&self) -> Option<f64> {
        match self.inner.info().solver {
            SolverInfo::Svm { c, .. } => Some(c),
            SolverInfo::Ridge { .. } => None,
        }
    }
    /// False when an SVM problem stopped at the epoch cap.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.info().solver.converged()
    }
    /// Training rows.
    #[getter]
    fn n_train(&self) -> u64 {
        self.inner.info().n_train
    }

    /// The model in the project's format (tag `RKSMODEL`): what `rks fit` writes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.inner.to_bytes().map_err(errors::solvers)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Writes the model file at `path` (atomically), readable by `rks predict` and `rks eval`.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path))
            .map_err(errors::solvers)
    }

    /// Reads a model file written by `save` or by `rks fit`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py
            .detach(|| KernelMachine::load(&path))
            .map_err(errors::solvers)?;
        Ok(Machine { inner })
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let load = py.import("rks._rks")?.getattr("machine_from_bytes")?;
        (load, (self.to_bytes(py)?,)).into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "Machine(task={:?}, map={:?}, kernel={:?}, n_frequencies={}, input_dim={})",
            self.task(),
            self.map_kind(),
            self.kernel(),
            self.n_frequencies(),
            self.input_dim()
        )
    }
}

impl Machine {
    fn kernel_value(&self) -> Kernel {
        self.inner.map().spec().kernel()
    }
}

/// The model stored by `Machine.to_bytes` (the pickle protocol's constructor).
#[pyfunction]
pub fn machine_from_bytes(bytes: &[u8]) -> PyResult<Machine> {
    let inner = KernelMachine::from_bytes(bytes).map_err(errors::solvers)?;
    Ok(Machine { inner })
}

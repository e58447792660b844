//! [`Params`]: the hyper-parameters of a kernel machine, checked once by the library
//! ([`KernelMachineParams::check`]), and the fits that start from them (in memory, or the
//! partial fit's pass 1, plan and finish).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyIterator, PyString};
use rks::scaler::ScalerKind;
use rks::{Bandwidth, Kernel, MapKind};
use rks_solvers::class_weights::ClassWeights;
use rks_solvers::machine::{
    DEFAULT_BUDGET_SECONDS, DEFAULT_FREQUENCIES, KernelMachineValidParams, Selection,
};
use rks_solvers::partial::{FirstPass, Plan, SecondPass};
use rks_solvers::{KernelMachine, Lambda, Solver, SolverKind, Task, WeightedChunk};

use crate::arrays::{rows_f64, sparse_rows, targets};
use crate::errors;
use crate::machine::Machine;
use crate::names::{AUTO, parse};

/// A Python iterable's chunks for [`Params::fit_stream`], each converted to owned arrays while
/// the GIL is held.
struct Chunks(Py<PyIterator>);

impl Iterator for Chunks {
    type Item = PyResult<WeightedChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        Python::attach(|py| {
            let item = match self.0.bind(py).clone().next()? {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            Some(chunk_of(&item))
        })
    }
}

/// One `(x, y, sample_weight)` chunk as owned arrays (`sample_weight` None: weights of 1).
fn chunk_of(item: &Bound<'_, PyAny>) -> PyResult<WeightedChunk> {
    let (x, y, w): (Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>) = item
        .extract()
        .map_err(|_| PyValueError::new_err("each chunk is a tuple (x, y, sample_weight)"))?;
    let x = rows_f64(&x)?.as_array().to_owned();
    let y = targets(&y)?.as_array().to_owned();
    let w = if w.is_none() {
        ndarray::Array1::ones(y.len())
    } else {
        targets(&w)?.as_array().to_owned()
    };
    Ok((x, y, w))
}

/// The name of [`ClassWeights::Balanced`] (scikit-learn's `class_weight="balanced"`).
pub const BALANCED: &str = "balanced";

/// The class weights `value` names: [`BALANCED`] — w_c = N/(k·N_c) — or the given weights, a
/// dict `{label: weight}` or a sequence of `(label, weight)` pairs whose labels are the
/// library's integer class labels (the targets' values) and weights finite and > 0 (classes not
/// named weigh 1; the library checks the weights, and at fit time that each label is a class).
fn parse_class_weights(value: &Bound<'_, PyAny>) -> PyResult<ClassWeights> {
    const ACCEPTED: &str = "class_weights must be None, \"balanced\", a dict {label: weight} or \
                            a sequence of (label, weight) pairs, with integer class labels and \
                            numeric weights";
    if let Ok(name) = value.cast::<PyString>() {
        let name = name.to_cow()?;
        return if name == BALANCED {
            Ok(ClassWeights::Balanced)
        } else {
            Err(PyValueError::new_err(format!("{ACCEPTED}, got {name:?}")))
        };
    }
    let pairs = match value.cast::<PyDict>() {
        Ok(dict) => dict
            .iter()
            .map(|(label, weight)| Ok((label.extract::<i64>()?, weight.extract::<f64>()?)))
            .collect::<PyResult<Vec<_>>>(),
        Err(_) => value.extract::<Vec<(i64, f64)>>(),
    };
    let pairs = pairs.map_err(|e| PyValueError::new_err(format!("{ACCEPTED} ({e})")))?;
    Ok(ClassWeights::Given(pairs))
}

/// Validated hyper-parameters of a kernel machine (scaler → map → ridge or SVM).
#[pyclass(module = "rks._rks", frozen)]
pub struct Params {
    inner: KernelMachineValidParams,
}

#[pymethods]
impl Params {
    /// `map` and `solver` name the library's kinds, or [`AUTO`] for the default fit's choices
    /// (with `select`: the map between Fastfood and Nyström, ridge's only, and on classification
    /// the solver between ridge and the SVM; without: Fastfood and ridge); `n_frequencies` is n
    /// (`None`: the library's [`DEFAULT_FREQUENCIES`], grown with `select` within `budget`
    /// seconds, the library's [`DEFAULT_BUDGET_SECONDS`] when `None`); `gamma` = 1/(2σ²) in scaled
    /// units, `None` to choose σ from the data; `alpha` is ridge's λ, `None` to choose it from
    /// the data; `c` is the SVM's cost, `None` to choose it by k-fold cross-validation (1
    /// without selection). With the solver [`AUTO`], `alpha` alone means ridge and `c` alone
    /// the SVM. `select` turns the model selection on (σ and λ by exact leave-one-out, C by
    /// cross-validation) or off (median heuristic and GCV); `relevance` (with `select`) learns
    /// column weights ([`Selection::relevance`]); `linear` (with `select`) offers the linear SVM
    /// on sparse rows ([`Selection::linear`]); `input_weights` gives them by hand instead
    /// (`KernelMachineParams::input_weights`, `rks fit --input-weights`); `probabilities` (a
    /// classifier's) fits a calibration of class probabilities after the model
    /// (`KernelMachineParams::probabilities`, `rks fit --probabilities`); `class_weights` (a
    /// classifier's) weighs each class's rows, in memory and in the partial fit, whose plan
    /// resolves "balanced" on pass 1's counts (`KernelMachineParams::class_weights`; the forms
    /// [`parse_class_weights`] reads).
    #[new]
    #[pyo3(signature = (*, task, map, kernel, n_frequencies, gamma, scaler, solver, alpha, c, seed, select, budget=None, relevance=true, linear=true, input_weights=None, probabilities=false, class_weights=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        task: &str,
        map: &str,
        kernel: &str,
        n_frequencies: Option<usize>,
        gamma: Option<f64>,
        scaler: &str,
        solver: &str,
        alpha: Option<f64>,
        c: Option<f64>,
        seed: u64,
        select: bool,
        budget: Option<f64>,
        relevance: bool,
        linear: bool,
        input_weights: Option<Vec<f64>>,
        probabilities: bool,
        class_weights: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let task = parse::<Task>(task)?;
        let class_weights = class_weights.map(parse_class_weights).transpose()?;
        let kind = match (solver, alpha, c) {
            (AUTO, Some(_), Some(_)) => {
                return Err(PyValueError::new_err(
                    "alpha is ridge's penalty and C the SVM's: give one, or name the solver",
                ));
            }
            (AUTO, _, Some(_)) => SolverKind::Svm,
            (AUTO, _, None) => SolverKind::Ridge,
            (name, _, _) => parse::<SolverKind>(name)?,
        };
        let solver_choice =
            solver == AUTO && alpha.is_none() && c.is_none() && task == Task::Classification;
        let solver = match (kind, alpha) {
            (SolverKind::Ridge, alpha) => Solver::Ridge {
                lambda: alpha.map_or(Lambda::Gcv, Lambda::Fixed),
            },
            (SolverKind::Svm, None) => match Solver::default_of(SolverKind::Svm) {
                Solver::Svm { c: default, loss } => Solver::Svm {
                    c: c.unwrap_or(default),
                    loss,
                },
                ridge => ridge,
            },
            (SolverKind::Svm, Some(_)) => {
                return Err(PyValueError::new_err(
                    "alpha is ridge's penalty; the SVM's is C: leave alpha None",
                ));
            }
        };
        let map_choice = map == AUTO && kind == SolverKind::Ridge;
        let map = match map {
            AUTO => MapKind::Fastfood,
            name => parse::<MapKind>(name)?,
        };
        let selection = select.then(|| {
            let mut selection = Selection {
                // A given C is kept; otherwise the selection searches it.
                cs: if c.is_some() {
                    Vec::new()
                } else {
                    Selection::default().cs
                },
                relevance,
                linear,
                ..Selection::default()
            };
            if n_frequencies.is_none() {
                selection = selection.growing(budget.unwrap_or(DEFAULT_BUDGET_SECONDS));
            }
            if map_choice {
                selection = selection.choosing_maps();
            }
            if solver_choice {
                selection = selection.choosing_solvers();
            }
            selection
        });
        let inner = KernelMachine::params()
            .task(task)
            .map(map)
            .kernel(parse::<Kernel>(kernel)?)
            .n_frequencies(n_frequencies.unwrap_or(DEFAULT_FREQUENCIES))
            .bandwidth(gamma.map(Bandwidth::Gamma))
            .scaler(parse::<ScalerKind>(scaler)?)
            .solver(solver)
            .seed(seed)
            .selection(selection)
            .input_weights(input_weights)
            .probabilities(probabilities)
            .class_weights(class_weights)
            .check()
            .map_err(errors::solvers)?;
        Ok(Params { inner })
    }

    /// Whether a fit calibrates class probabilities (`probabilities`).
    #[getter]
    fn probabilities(&self) -> bool {
        self.inner.probabilities()
    }

    /// The class weights (`class_weights`): `None`, [`BALANCED`], or the given
    /// `(label, weight)` pairs.
    #[getter]
    fn class_weights<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(match self.inner.class_weights() {
            None => None,
            Some(ClassWeights::Balanced) => Some(PyString::new(py, BALANCED).into_any()),
            Some(ClassWeights::Given(pairs)) => Some(pairs.clone().into_pyobject(py)?.into_any()),
        })
    }

    /// Fits rows `x` (N × d, float64) to targets `y` (N, float64: class labels or values);
    /// with `sample_weight` (N, float64, each ≥ 0) each row's loss counts its weight
    /// (`KernelMachineValidParams::fit_weighted`).
    #[pyo3(signature = (x, y, sample_weight=None))]
    fn fit(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        sample_weight: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Machine> {
        let (x, y) = (rows_f64(x)?, targets(y)?);
        let (x, y) = (x.as_array(), y.as_array());
        let w = sample_weight.map(targets).transpose()?;
        let w = w.as_ref().map(|w| w.as_array());
        let model = py
            .detach(|| match w {
                None => self.inner.fit(x, y),
                Some(w) => self.inner.fit_weighted(x, y, w),
            })
            .map_err(errors::solvers)?;
        Ok(Machine::from(model))
    }

    /// Fits the linear SVM on rows held sparse (a SciPy CSR matrix's `indptr`, `indices` —
    /// int64 — and `data`, with `n_features` columns, canonical: sorted indices, no stored
    /// zeros) and class labels `y` (float64): the library's
    /// [`fit_sparse`](KernelMachineValidParams::fit_sparse), for parameters made with the
    /// linear map; with `sample_weight`, [`fit_sparse_weighted`](KernelMachineValidParams::fit_sparse_weighted).
    #[pyo3(signature = (indptr, indices, data, n_features, y, sample_weight=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit_sparse(
        &self,
        py: Python<'_>,
        indptr: &Bound<'_, PyAny>,
        indices: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        n_features: usize,
        y: &Bound<'_, PyAny>,
        sample_weight: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Machine> {
        let y = targets(y)?.as_array().to_owned();
        let rows = sparse_rows(indptr, indices, data, n_features, Some(y))?;
        let w = sample_weight.map(targets).transpose()?;
        let w = w.as_ref().map(|w| w.as_array());
        let (model, _) = py
            .detach(|| match w {
                None => self.inner.fit_sparse(&rows),
                Some(w) => self.inner.fit_sparse_weighted(&rows, w),
            })
            .map_err(errors::solvers)?;
        Ok(Machine::from(model))
    }

    /// The library's streamed fit
    /// ([`fit_stream_weighted`](KernelMachineValidParams::fit_stream_weighted)) over the chunks
    /// `open()` returns: a callable called once per pass (twice), each time returning an
    /// iterable of `(x, y, sample_weight)` chunks — float64 rows, targets and weights, or
    /// `sample_weight` None for weights of 1. Only one chunk is held at a time; the GIL is held
    /// only while a chunk is fetched and converted. An exception raised by `open` or the
    /// iterable propagates as raised.
    fn fit_stream(&self, py: Python<'_>, open: Py<PyAny>) -> PyResult<Machine> {
        let model = py
            .detach(|| {
                self.inner.fit_stream_weighted(|| {
                    Python::attach(|py| -> PyResult<Chunks> {
                        let chunks = open.bind(py).call0()?.try_iter()?;
                        Ok(Chunks(chunks.unbind()))
                    })
                })
            })
            .map_err(errors::solvers)?;
        Ok(Machine::from(model))
    }

    /// Pass 1 of a partial fit over the rows `x` and targets `y` of one partition, as bytes;
    /// with `sample_weight` (one float64 per row, each finite and ≥ 0) each row weighs its
    /// weight and rows of weight 0 are left out (`FirstPass::update_weighted`). Pass 2 must be
    /// given the same weights.
    #[pyo3(signature = (x, y, sample_weight=None))]
    fn first_pass<'py>(
        &self,
        py: Python<'py>,
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
                let mut pass = self.inner.first_pass();
                match w {
                    None => pass.update(x, y)?,
                    Some(w) => pass.update_weighted(x, y, w)?,
                }
                pass.to_bytes()
            })
            .map_err(errors::solvers)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The plan (bytes) from the merged pass 1 (bytes).
    fn plan<'py>(&self, py: Python<'py>, first: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py
            .detach(|| self.inner.plan(&FirstPass::from_bytes(first)?)?.to_bytes())
            .map_err(errors::solvers)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The model from the plan and the merged pass 2 (both bytes).
    fn finish(&self, py: Python<'_>, plan: &[u8], second: &[u8]) -> PyResult<Machine> {
        let model = py
            .detach(|| {
                let plan = Plan::from_bytes(plan)?;
                self.inner.finish(&plan, &SecondPass::from_bytes(second)?)
            })
            .map_err(errors::solvers)?;
        Ok(Machine::from(model))
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

//! The kernel machine: input scaler → random feature map → linear model (ridge or SVM).
//!
//! A [`KernelMachine`] approximates a kernel method: kernel ridge regression / classification
//! when the linear model is ridge, a kernel SVM when it is the linear SVM of [`crate::svm`], on
//! the features φ(x) of an [`AnyMap`] with φ(x)·φ(x') ≈ k(x, x') (Rahimi & Recht, NIPS 2007).
//!
//! Hyper-parameters go through three stages, as in linfa: [`KernelMachineParams`] (a builder)
//! → [`KernelMachineValidParams`] ([`check`](KernelMachineParams::check), done once) →
//! [`KernelMachine`] (fitted). A fitted machine holds the scaler, the map (rebuilt from its seed
//! on load), the weights, and the class labels of a classifier.
//!
//! Rows are processed in blocks of `chunk_rows` (default 4,096): predicting a large batch never
//! holds more than one block of features, and ridge can be fitted from a stream of chunks of a
//! file larger than memory ([`fit_stream`](KernelMachineValidParams::fit_stream)). The SVM needs
//! random access to all rows, so it keeps Φ in memory as f32 (N·D·4 bytes).

use std::collections::BTreeSet;
use std::error::Error as StdError;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, AsArray, Axis, Ix2, s};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::median::{DEFAULT_SAMPLE_ROWS, median_heuristic_sigma};
use rks::scaler::{Scaler, ScalerKind, ScalerStats};
use rks::{AnyMap, Bandwidth, FeatureMap, Kernel, MapKind, MapSpec};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SolversError, invalid};
use crate::labels::{LabelMap, argmax_rows, class_scores, signed_one_hot};
use crate::ridge::{GcvReport, Lambda, RidgeAccumulator};
use crate::svm::{SvmLoss, SvmParams, fit_ovr};
use crate::validate::{check_finite, check_rows};

/// One chunk of a streamed fit: rows (chunk × d) and their targets.
pub type Chunk = (Array2<f64>, Array1<f64>);

/// Classification (integer labels, argmax of per-class scores) or regression (one real target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Task {
    /// Integer class labels of any values (mapped to 0..k−1 and back).
    #[default]
    Classification,
    /// A real-valued target.
    Regression,
}

/// The linear model fitted on the features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Solver {
    /// Ridge regression (classification: ±1 one-hot targets, as scikit-learn's `RidgeClassifier`).
    Ridge {
        /// Fixed λ or λ chosen by GCV.
        lambda: Lambda,
    },
    /// Linear SVM by dual coordinate descent, one-vs-rest (classification only).
    Svm {
        /// Penalty C > 0.
        c: f64,
        /// Hinge or squared hinge.
        loss: SvmLoss,
    },
}

impl Default for Solver {
    fn default() -> Self {
        Solver::Ridge {
            lambda: Lambda::Gcv,
        }
    }
}

/// Validated hyper-parameters of a [`KernelMachine`]: only [`KernelMachineParams::check`] makes
/// one, so a machine with bad hyper-parameters cannot be fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelMachineValidParams {
    map: MapKind,
    n_frequencies: usize,
    bandwidth: Option<Bandwidth>,
    kernel: Kernel,
    solver: Solver,
    task: Task,
    scaler: ScalerKind,
    seed: u64,
    chunk_rows: usize,
    svm_eps: f64,
    svm_max_epochs: usize,
    svm_bias: f64,
}

/// The builder of a [`KernelMachine`]'s hyper-parameters.
///
/// Defaults: Fastfood map with 1,024 frequencies (2,048 features), Gaussian kernel, bandwidth by
/// the median heuristic on the scaled training rows, min–max scaling (what the LIBSVM and
/// scikit-learn reference figures use), ridge with λ by GCV, classification, seed 0, blocks of
/// 4,096 rows; SVM stopping tolerance 0.1 (LIBLINEAR's), at most 1,000 epochs, bias feature 1.
///
/// ```
/// use ndarray::{Array1, Array2};
/// use rks::{Bandwidth, MapKind};
/// use rks_solvers::machine::{KernelMachine, Solver, Task};
/// use rks_solvers::svm::SvmLoss;
///
/// // Two classes (labels 3 and 8) split by the sign of sin(3x₀) + x₁.
/// let x = Array2::from_shape_fn((200, 2), |(i, j)| ((i * 37 + j * 91) % 200) as f64 / 100.0 - 1.0);
/// let y: Array1<f64> = x.rows().into_iter()
///     .map(|r| if (3.0 * r[0]).sin() + r[1] > 0.0 { 8.0 } else { 3.0 })
///     .collect();
/// let model = KernelMachine::params()
///     .map(MapKind::Fastfood)
///     .n_frequencies(256)
///     .bandwidth(Bandwidth::Sigma(0.3))
///     .solver(Solver::Svm { c: 10.0, loss: SvmLoss::SquaredHinge })
///     .task(Task::Classification)
///     .seed(7)
///     .check()?
///     .fit(x.view(), y.view())?;
/// let predicted = model.predict(x.view())?;
/// let accuracy = predicted.iter().zip(&y).filter(|(p, t)| p == t).count() as f64 / 200.0;
/// assert!(accuracy > 0.9, "{accuracy}");
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KernelMachineParams(KernelMachineValidParams);

impl Default for KernelMachineParams {
    fn default() -> Self {
        Self(KernelMachineValidParams {
            map: MapKind::Fastfood,
            n_frequencies: 1024,
            bandwidth: None,
            kernel: Kernel::Gaussian,
            solver: Solver::default(),
            task: Task::Classification,
            scaler: ScalerKind::MinMax,
            seed: 0,
            chunk_rows: 4096,
            svm_eps: 0.1,
            svm_max_epochs: 1000,
            svm_bias: 1.0,
        })
    }
}

impl KernelMachineParams {
    /// Dense RKS or Fastfood.
    pub fn map(mut self, kind: MapKind) -> Self {
        self.0.map = kind;
        self
    }
    /// Number of frequencies n; the map outputs D = 2n features.
    pub fn n_frequencies(mut self, n: usize) -> Self {
        self.0.n_frequencies = n;
        self
    }
    /// Kernel bandwidth in scaled units; `None` = median heuristic on the scaled training rows.
    pub fn bandwidth(mut self, bandwidth: impl Into<Option<Bandwidth>>) -> Self {
        self.0.bandwidth = bandwidth.into();
        self
    }
    /// The kernel (Fastfood makes radial kernels only).
    pub fn kernel(mut self, kernel: Kernel) -> Self {
        self.0.kernel = kernel;
        self
    }
    /// Ridge or SVM.
    pub fn solver(mut self, solver: Solver) -> Self {
        self.0.solver = solver;
        self
    }
    /// Classification or regression.
    pub fn task(mut self, task: Task) -> Self {
        self.0.task = task;
        self
    }
    /// How input columns are scaled before the map.
    pub fn scaler(mut self, kind: ScalerKind) -> Self {
        self.0.scaler = kind;
        self
    }
    /// Seed of the map and of the SVM's row order.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
    /// Rows per block when transforming (memory: chunk_rows · D · 8 bytes).
    pub fn chunk_rows(mut self, rows: usize) -> Self {
        self.0.chunk_rows = rows;
        self
    }
    /// SVM stopping tolerance on max PG − min PG (> 0).
    pub fn svm_eps(mut self, eps: f64) -> Self {
        self.0.svm_eps = eps;
        self
    }
    /// SVM epoch cap (≥ 1).
    pub fn svm_max_epochs(mut self, epochs: usize) -> Self {
        self.0.svm_max_epochs = epochs;
        self
    }
    /// Value of the SVM's constant bias feature (≥ 0; 0 = no intercept).
    pub fn svm_bias(mut self, bias: f64) -> Self {
        self.0.svm_bias = bias;
        self
    }

    /// Validates the hyper-parameters (the input dimension is checked at fit time).
    pub fn check_ref(&self) -> Result<&KernelMachineValidParams> {
        let p = &self.0;
        if p.chunk_rows == 0 {
            return Err(invalid("chunk_rows", "must be at least 1"));
        }
        // Everything about the map except the input dimension, which only the data knows.
        MapSpec::new(
            p.map,
            1,
            p.n_frequencies,
            p.bandwidth.unwrap_or_default(),
            p.kernel,
            p.seed,
        )?;
        match &p.solver {
            Solver::Ridge { lambda } => lambda.validate()?,
            Solver::Svm { c, loss } => {
                if p.task == Task::Regression {
                    return Err(invalid(
                        "solver",
                        "the SVM is a classifier: use Solver::Ridge for regression",
                    ));
                }
                p.svm_params(*c, *loss).validate()?;
            }
        }
        Ok(p)
    }

    /// Validates and returns the checked hyper-parameters.
    pub fn check(self) -> Result<KernelMachineValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl linfa::ParamGuard for KernelMachineParams {
    type Checked = KernelMachineValidParams;
    type Error = SolversError;

    fn check_ref(&self) -> Result<&Self::Checked> {
        KernelMachineParams::check_ref(self)
    }

    fn check(self) -> Result<Self::Checked> {
        KernelMachineParams::check(self)
    }
}

/// What a fit found, kept with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitInfo {
    /// Training rows.
    pub n_train: u64,
    /// The bandwidth σ used (given or from the median heuristic), in scaled units.
    pub sigma: f64,
    /// Solver details.
    pub solver: SolverInfo,
}

/// Solver details of a fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SolverInfo {
    /// Ridge: the λ used and, when chosen by GCV, the scores.
    Ridge {
        /// λ.
        lambda: f64,
        /// GCV scores over the grid.
        gcv: Option<GcvReport>,
    },
    /// SVM: one entry per binary problem.
    Svm {
        /// C.
        c: f64,
        /// The loss.
        loss: SvmLoss,
        /// Epochs run.
        epochs: Vec<usize>,
        /// Whether each problem met the stopping rule.
        converged: Vec<bool>,
        /// Support vectors (α > 0) of each problem.
        n_support: Vec<usize>,
    },
}

impl SolverInfo {
    /// False when an SVM problem stopped at the epoch cap.
    pub fn converged(&self) -> bool {
        match self {
            SolverInfo::Ridge { .. } => true,
            SolverInfo::Svm { converged, .. } => converged.iter().all(|&c| c),
        }
    }
}

/// A fitted kernel machine: f(x) = Wᵀφ(scale(x)) + b.
///
/// Persist it with [`save`](Self::save) / [`to_bytes`](Self::to_bytes) (see [`crate::persist`]);
/// it deliberately does not implement serde's traits itself, so every model in memory has passed
/// the checks of [`from_bytes`](Self::from_bytes) or come from a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelMachine {
    pub(crate) task: Task,
    pub(crate) scaler: Scaler,
    pub(crate) map: AnyMap,
    /// D × m.
    pub(crate) weights: Array2<f64>,
    /// m.
    pub(crate) intercept: Array1<f64>,
    pub(crate) labels: Option<LabelMap>,
    pub(crate) chunk_rows: usize,
    pub(crate) info: FitInfo,
}

impl KernelMachine {
    /// A builder with the defaults listed at [`KernelMachineParams`].
    pub fn params() -> KernelMachineParams {
        KernelMachineParams::default()
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        self.task
    }
    /// The input scaler.
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }
    /// The feature map.
    pub fn map(&self) -> &AnyMap {
        &self.map
    }
    /// D × m weights (m = 1 for regression and two classes, else k).
    pub fn weights(&self) -> &Array2<f64> {
        &self.weights
    }
    /// m intercepts.
    pub fn intercept(&self) -> &Array1<f64> {
        &self.intercept
    }
    /// The class labels of a classifier (sorted), `None` for regression.
    pub fn classes(&self) -> Option<&[i64]> {
        self.labels.as_ref().map(LabelMap::classes)
    }
    /// Number of input columns.
    pub fn input_dim(&self) -> usize {
        self.scaler.dim()
    }
    /// Rows per block when predicting.
    pub fn chunk_rows(&self) -> usize {
        self.chunk_rows
    }
    /// Sets the rows per block when predicting (≥ 1; memory chunk_rows · D · 8 bytes).
    pub fn set_chunk_rows(&mut self, rows: usize) -> Result<()> {
        if rows == 0 {
            return Err(invalid("chunk_rows", "must be at least 1"));
        }
        self.chunk_rows = rows;
        Ok(())
    }
    /// What the fit found (λ, σ, SVM convergence).
    pub fn info(&self) -> &FitInfo {
        &self.info
    }

    /// Decision values: rows × k per-class scores for a classifier (two classes: [−f, f]), rows × 1
    /// predictions for regression. Processes `chunk_rows` rows at a time.
    pub fn decision_function<'a>(&self, x: impl AsArray<'a, f64, Ix2>) -> Result<Array2<f64>> {
        let x: ArrayView2<'a, f64> = x.into();
        if x.ncols() != self.input_dim() {
            return Err(SolversError::DimensionMismatch {
                what: "input columns",
                expected: self.input_dim(),
                found: x.ncols(),
            });
        }
        check_finite("input", x)?;
        let mut raw = Array2::zeros((x.nrows(), self.weights.ncols()));
        let mut phi = Array2::<f64>::zeros((self.chunk_rows.min(x.nrows()), self.map.output_dim()));
        for (block, start) in x
            .axis_chunks_iter(Axis(0), self.chunk_rows)
            .zip((0..).step_by(self.chunk_rows))
        {
            let rows = block.nrows();
            let scaled = self.scaler.transform(block)?;
            let mut phi_block = phi.slice_mut(s![..rows, ..]);
            self.map
                .transform_into(scaled.view(), phi_block.view_mut())?;
            let scores = phi_block.dot(&self.weights) + &self.intercept;
            raw.slice_mut(s![start..start + rows, ..]).assign(&scores);
        }
        Ok(match &self.labels {
            Some(labels) => class_scores(raw, labels.n_classes()),
            None => raw,
        })
    }

    /// Predicted labels (classification, as the original label values) or values (regression).
    pub fn predict<'a>(&self, x: impl AsArray<'a, f64, Ix2>) -> Result<Array1<f64>> {
        let scores = self.decision_function(x)?;
        Ok(match &self.labels {
            Some(labels) => argmax_rows(&scores)
                .into_iter()
                .map(|k| labels.label(k))
                .collect(),
            None => scores.column(0).to_owned(),
        })
    }

    /// Checks the parts agree with each other (used after loading untrusted bytes).
    pub(crate) fn validate(&self) -> Result<()> {
        self.scaler.validate()?;
        let corrupt = |msg: String| Err(SolversError::CorruptModel(msg));
        if self.map.input_dim() != self.scaler.dim() {
            return corrupt(format!(
                "the map expects {} inputs but the scaler has {} columns",
                self.map.input_dim(),
                self.scaler.dim()
            ));
        }
        if self.weights.nrows() != self.map.output_dim() {
            return corrupt(format!(
                "the weights have {} rows but the map outputs {} features",
                self.weights.nrows(),
                self.map.output_dim()
            ));
        }
        let outputs = match (&self.task, &self.labels) {
            (Task::Regression, None) => 1,
            (Task::Classification, Some(labels)) => {
                labels.validate()?;
                if labels.n_classes() == 2 {
                    1
                } else {
                    labels.n_classes()
                }
            }
            _ => return corrupt("a classifier needs labels and a regressor none".into()),
        };
        if self.weights.ncols() != outputs || self.intercept.len() != outputs {
            return corrupt(format!(
                "weights {}×{} and {} intercepts do not match {outputs} outputs",
                self.weights.nrows(),
                self.weights.ncols(),
                self.intercept.len()
            ));
        }
        if self.chunk_rows == 0 {
            return corrupt("chunk_rows is 0".into());
        }
        if self
            .weights
            .iter()
            .chain(&self.intercept)
            .any(|v| !v.is_finite())
        {
            return corrupt("non-finite weights".into());
        }
        Ok(())
    }
}

/// Scaler, map and labels: everything a fit needs before the solver runs.
struct Prepared {
    scaler: Scaler,
    map: AnyMap,
    labels: Option<LabelMap>,
}

impl KernelMachineValidParams {
    /// The map construction.
    pub fn map_kind(&self) -> MapKind {
        self.map
    }
    /// Frequencies n (D = 2n features).
    pub fn n_frequencies(&self) -> usize {
        self.n_frequencies
    }
    /// The bandwidth, `None` for the median heuristic.
    pub fn bandwidth(&self) -> Option<Bandwidth> {
        self.bandwidth
    }
    /// The kernel.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }
    /// The solver.
    pub fn solver(&self) -> &Solver {
        &self.solver
    }
    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }
    /// The input scaling.
    pub fn scaler_kind(&self) -> ScalerKind {
        self.scaler
    }
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Rows per block.
    pub fn chunk_rows(&self) -> usize {
        self.chunk_rows
    }

    fn svm_params(&self, c: f64, loss: SvmLoss) -> SvmParams {
        SvmParams {
            c,
            loss,
            eps: self.svm_eps,
            max_epochs: self.svm_max_epochs,
            shrinking: true,
            bias: self.svm_bias,
            seed: self.seed,
        }
    }

    /// Fits on in-memory rows `x` (N × d) and targets `y` (N): labels for classification.
    ///
    /// Ridge with fewer rows than features (N < D) solves the dual form
    /// ([`ridge::fit_rows`](crate::ridge::fit_rows)): O(N²·D) time and O(N·D) memory instead of
    /// O(N·D² + D³) and O(D²); the same model up to rounding.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<KernelMachine> {
        check_rows(x.nrows(), y.len())?;
        if x.nrows() == 0 {
            return Err(SolversError::EmptyInput("no training rows".into()));
        }
        if x.ncols() == 0 {
            return Err(SolversError::EmptyInput("the rows have no columns".into()));
        }
        check_finite("input", x)?;
        check_finite("target", y.insert_axis(Axis(1)))?;
        let (labels, classes) = match self.task {
            Task::Classification => {
                let (labels, classes) = LabelMap::fit(y)?;
                (Some(labels), classes)
            }
            Task::Regression => (None, Vec::new()),
        };
        let scaler = Scaler::fit(x, self.scaler)?;
        let sigma = match self.bandwidth {
            Some(b) => b.sigma()?,
            None => {
                let sample = sample_rows(x, DEFAULT_SAMPLE_ROWS, self.seed);
                median_heuristic_sigma(
                    scaler.transform(sample.view())?.view(),
                    DEFAULT_SAMPLE_ROWS,
                    self.seed,
                )?
            }
        };
        let prepared = self.prepare(scaler, labels, sigma, Some(x))?;
        match &self.solver {
            // Fewer rows than features: the dual form, on the rows held in memory (centred in
            // place).
            Solver::Ridge { lambda } if x.nrows() < prepared.map.output_dim() => {
                let phi = self.features::<f64>(&prepared, x)?;
                let targets = Self::targets(&prepared, y)?;
                let ridge = crate::ridge::fit_rows_owned(phi, targets.view(), lambda)?;
                Ok(self.assemble_ridge(prepared, ridge, x.nrows() as u64, sigma))
            }
            Solver::Ridge { lambda } => {
                let mut acc = self.accumulator(&prepared);
                for (xb, yb) in x
                    .axis_chunks_iter(Axis(0), self.chunk_rows)
                    .zip(y.axis_chunks_iter(Axis(0), self.chunk_rows))
                {
                    self.accumulate(&prepared, &mut acc, xb, yb)?;
                }
                self.finish_ridge(prepared, &acc, lambda, sigma)
            }
            Solver::Svm { c, loss } => {
                let labels = prepared
                    .labels
                    .as_ref()
                    .ok_or_else(|| invalid("solver", "the SVM is a classifier"))?;
                let phi = self.features::<f32>(&prepared, x)?;
                let svm = fit_ovr(
                    phi.view(),
                    &classes,
                    labels.n_classes(),
                    &self.svm_params(*c, *loss),
                )?;
                let info = FitInfo {
                    n_train: x.nrows() as u64,
                    sigma,
                    solver: SolverInfo::Svm {
                        c: *c,
                        loss: *loss,
                        epochs: svm.reports.iter().map(|r| r.epochs).collect(),
                        converged: svm.reports.iter().map(|r| r.converged).collect(),
                        n_support: svm.reports.iter().map(|r| r.n_support).collect(),
                    },
                };
                Ok(self.assemble(prepared, svm.weights, svm.intercept, info))
            }
        }
    }

    /// Fits ridge from a re-openable source of `(x_chunk, y_chunk)` pairs, in two passes, so a file
    /// larger than memory can be fitted: `open()` is called twice and must yield the same rows
    /// both times (e.g. re-open a file with a chunked reader).
    ///
    /// Pass 1 gathers the scaler statistics, the class labels and, without a given bandwidth, a
    /// seeded reservoir sample of 2,000 rows for the median heuristic; pass 2 transforms each
    /// chunk and folds it into the ridge statistics. Memory: O(D² + chunk·D). The SVM is not
    /// available here (it needs every row in memory): use [`fit`](Self::fit).
    pub fn fit_stream<S, I, E>(&self, mut open: S) -> Result<KernelMachine>
    where
        S: FnMut() -> std::result::Result<I, E>,
        I: IntoIterator<Item = std::result::Result<Chunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let source = |e: E| SolversError::Source(e.into());
        let mut stats: Option<ScalerStats> = None;
        let mut seen: BTreeSet<i64> = BTreeSet::new();
        let mut reservoir = Reservoir::new(DEFAULT_SAMPLE_ROWS, self.seed);
        let mut rows = 0usize;
        for chunk in open().map_err(source)? {
            let (x, y) = chunk.map_err(source)?;
            self.check_chunk(
                x.view(),
                y.view(),
                rows,
                stats.as_ref().map(ScalerStats::dim),
            )?;
            stats
                .get_or_insert_with(|| ScalerStats::new(x.ncols()))
                .update(x.view())?;
            if self.task == Task::Classification {
                for (i, &v) in y.iter().enumerate() {
                    if v.fract() != 0.0 {
                        return Err(SolversError::NonIntegerLabel {
                            row: rows + i,
                            value: v,
                        });
                    }
                    seen.insert(v as i64);
                }
            }
            if self.bandwidth.is_none() {
                reservoir.offer(x.view());
            }
            rows += x.nrows();
        }
        let stats =
            stats.ok_or_else(|| SolversError::EmptyInput("the source yielded no rows".into()))?;
        let scaler = stats.finish(self.scaler)?;
        let labels = match self.task {
            Task::Classification => Some(LabelMap::from_classes(seen.into_iter().collect())?),
            Task::Regression => None,
        };
        let bandwidth = match self.bandwidth {
            Some(b) => b,
            None => {
                let sample = scaler.transform(reservoir.rows(scaler.dim()).view())?;
                Bandwidth::Sigma(median_heuristic_sigma(
                    sample.view(),
                    DEFAULT_SAMPLE_ROWS,
                    self.seed,
                )?)
            }
        };
        self.fit_stream_prepared(scaler, labels, bandwidth, open().map_err(source)?)
    }

    /// One-pass streamed ridge fit with the scaler, labels (classification) and bandwidth already
    /// known, e.g. from an earlier pass or another machine. Chunks whose labels are not in
    /// `labels` are rejected.
    pub fn fit_stream_prepared<I, E>(
        &self,
        scaler: Scaler,
        labels: Option<LabelMap>,
        bandwidth: Bandwidth,
        chunks: I,
    ) -> Result<KernelMachine>
    where
        I: IntoIterator<Item = std::result::Result<Chunk, E>>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let Solver::Ridge { lambda } = &self.solver else {
            return Err(invalid(
                "solver",
                "a streamed fit supports ridge only (the SVM needs every row in memory)",
            ));
        };
        if labels.is_some() != (self.task == Task::Classification) {
            return Err(invalid(
                "labels",
                "give labels for classification and none for regression",
            ));
        }
        let sigma = bandwidth.sigma()?;
        let prepared = self.prepare(scaler, labels, sigma, None)?;
        let mut acc = self.accumulator(&prepared);
        let mut rows = 0usize;
        for chunk in chunks {
            let (x, y) = chunk.map_err(|e| SolversError::Source(e.into()))?;
            self.check_chunk(x.view(), y.view(), rows, Some(prepared.scaler.dim()))?;
            // Re-chunk so a source with huge chunks still transforms chunk_rows rows at a time.
            for (xb, yb) in x
                .axis_chunks_iter(Axis(0), self.chunk_rows)
                .zip(y.axis_chunks_iter(Axis(0), self.chunk_rows))
            {
                self.accumulate(&prepared, &mut acc, xb, yb)
                    .map_err(|e| offset_row(e, rows))?;
            }
            rows += x.nrows();
        }
        self.finish_ridge(prepared, &acc, lambda, sigma)
    }

    fn check_chunk(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        rows_before: usize,
        dim: Option<usize>,
    ) -> Result<()> {
        check_rows(x.nrows(), y.len())?;
        if let Some(d) = dim
            && x.ncols() != d
        {
            return Err(SolversError::DimensionMismatch {
                what: "columns of a chunk",
                expected: d,
                found: x.ncols(),
            });
        }
        check_finite("input", x).map_err(|e| offset_row(e, rows_before))?;
        check_finite("target", y.insert_axis(Axis(1))).map_err(|e| offset_row(e, rows_before))
    }

    /// The scaler, labels and map of a fit; a Nyström map picks its landmarks among the scaled
    /// `rows` (a streamed fit has none in memory, and cannot make one).
    fn prepare(
        &self,
        scaler: Scaler,
        labels: Option<LabelMap>,
        sigma: f64,
        rows: Option<ArrayView2<'_, f64>>,
    ) -> Result<Prepared> {
        let spec = MapSpec::new(
            self.map,
            scaler.dim(),
            self.n_frequencies,
            Bandwidth::Sigma(sigma),
            self.kernel,
            self.seed,
        )?;
        let map = match rows {
            Some(x) if !spec.kind().is_data_free() => {
                AnyMap::fit(&spec, scaler.transform(x)?.view())?
            }
            _ => AnyMap::from_spec(&spec)?,
        };
        Ok(Prepared {
            scaler,
            map,
            labels,
        })
    }

    fn n_outputs(labels: Option<&LabelMap>) -> usize {
        match labels {
            Some(l) if l.n_classes() > 2 => l.n_classes(),
            _ => 1,
        }
    }

    fn accumulator(&self, prepared: &Prepared) -> RidgeAccumulator {
        RidgeAccumulator::new(
            prepared.map.output_dim(),
            Self::n_outputs(prepared.labels.as_ref()),
        )
    }

    /// Φ of all rows of `x` in precision F (scaled and mapped `chunk_rows` rows at a time).
    fn features<F: rks::Element>(
        &self,
        prepared: &Prepared,
        x: ArrayView2<'_, f64>,
    ) -> Result<Array2<F>> {
        let mut phi = Array2::<F>::zeros((x.nrows(), prepared.map.output_dim()));
        for (xb, mut out) in x
            .axis_chunks_iter(Axis(0), self.chunk_rows)
            .zip(phi.axis_chunks_iter_mut(Axis(0), self.chunk_rows))
        {
            let scaled = prepared.scaler.transform(xb)?.mapv(F::from_f64_lossy);
            prepared.map.transform_into(scaled.view(), out.view_mut())?;
        }
        Ok(phi)
    }

    /// Scales, maps and folds one block of at most `chunk_rows` rows into the ridge statistics.
    fn accumulate(
        &self,
        prepared: &Prepared,
        acc: &mut RidgeAccumulator,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<()> {
        let scaled = prepared.scaler.transform(x)?;
        let phi = prepared.map.transform(scaled.view())?;
        acc.update(phi.view(), Self::targets(prepared, y)?.view())
    }

    /// The ridge targets: ±1 one-hot columns of the classes, or y as one column.
    fn targets(prepared: &Prepared, y: ArrayView1<'_, f64>) -> Result<Array2<f64>> {
        Ok(match &prepared.labels {
            Some(labels) => {
                let classes = y
                    .iter()
                    .enumerate()
                    .map(|(row, &v)| {
                        labels
                            .index_of(v as i64)
                            .filter(|_| v.fract() == 0.0)
                            .ok_or(SolversError::NonIntegerLabel { row, value: v })
                    })
                    .collect::<Result<Vec<usize>>>()?;
                signed_one_hot(&classes, labels.n_classes())
            }
            None => y.insert_axis(Axis(1)).to_owned(),
        })
    }

    fn finish_ridge(
        &self,
        prepared: Prepared,
        acc: &RidgeAccumulator,
        lambda: &Lambda,
        sigma: f64,
    ) -> Result<KernelMachine> {
        let ridge = acc.fit(lambda)?;
        Ok(self.assemble_ridge(prepared, ridge, acc.count(), sigma))
    }

    fn assemble_ridge(
        &self,
        prepared: Prepared,
        ridge: crate::ridge::Ridge,
        n_train: u64,
        sigma: f64,
    ) -> KernelMachine {
        let info = FitInfo {
            n_train,
            sigma,
            solver: SolverInfo::Ridge {
                lambda: ridge.lambda,
                gcv: ridge.gcv,
            },
        };
        self.assemble(prepared, ridge.weights, ridge.intercept, info)
    }

    fn assemble(
        &self,
        prepared: Prepared,
        weights: Array2<f64>,
        intercept: Array1<f64>,
        info: FitInfo,
    ) -> KernelMachine {
        KernelMachine {
            task: self.task,
            scaler: prepared.scaler,
            map: prepared.map,
            weights,
            intercept,
            labels: prepared.labels,
            chunk_rows: self.chunk_rows,
            info,
        }
    }
}

/// Shifts the row index of an error from a chunk to the row index in the whole stream.
fn offset_row(e: SolversError, offset: usize) -> SolversError {
    match e {
        SolversError::NonFinite {
            what,
            row,
            col,
            value,
        } => SolversError::NonFinite {
            what,
            row: row + offset,
            col,
            value,
        },
        SolversError::NonIntegerLabel { row, value } => SolversError::NonIntegerLabel {
            row: row + offset,
            value,
        },
        other => other,
    }
}

/// At most `max` rows of `x` chosen with a seeded generator (all of them when there are fewer).
fn sample_rows(x: ArrayView2<'_, f64>, max: usize, seed: u64) -> Array2<f64> {
    let mut reservoir = Reservoir::new(max, seed);
    reservoir.offer(x);
    reservoir.rows(x.ncols())
}

/// Uniform sample of rows from a stream (Vitter's algorithm R), seeded.
struct Reservoir {
    max: usize,
    seen: u64,
    rows: Vec<Vec<f64>>,
    rng: ChaCha8Rng,
}

impl Reservoir {
    fn new(max: usize, seed: u64) -> Self {
        Self {
            max,
            seen: 0,
            rows: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn offer(&mut self, x: ArrayView2<'_, f64>) {
        for row in x.rows() {
            self.seen += 1;
            if self.rows.len() < self.max {
                self.rows.push(row.to_vec());
            } else {
                let j = self.rng.random_range(0..self.seen);
                if let Some(slot) = self.rows.get_mut(j as usize) {
                    *slot = row.to_vec();
                }
            }
        }
    }

    fn rows(&self, dim: usize) -> Array2<f64> {
        Array2::from_shape_fn((self.rows.len(), dim), |(i, j)| self.rows[i][j])
    }
}

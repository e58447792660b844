//! Hyper-parameters: the builder [`KernelMachineParams`] and its checked form.

use crate::error::Param;
use rks::scaler::ScalerKind;
use rks::spec::AnyMapParams;
use rks::{Bandwidth, Kernel, MapKind};

use super::weights::SampleWeights;
use super::{Selection, Solver, Task};
use crate::class_weights::ClassWeights;
use crate::error::{Result, SolversError, invalid};
use crate::svm::{SvmLoss, SvmParams};

/// Validated hyper-parameters of a [`KernelMachine`](super::KernelMachine): only [`KernelMachineParams::check`] makes
/// one, so a machine with bad hyper-parameters cannot be fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelMachineValidParams {
    pub(super) map: AnyMapParams,
    pub(super) solver: Solver,
    pub(super) task: Task,
    pub(super) scaler: ScalerKind,
    pub(super) chunk_rows: usize,
    pub(super) svm_eps: f64,
    pub(super) svm_max_epochs: usize,
    pub(super) svm_bias: f64,
    pub(super) selection: Option<Selection>,
    /// Column weights applied after the scaler ([`super::relevance`]): learned once by the
    /// outermost fit and carried to the fits it runs inside, so none learns them again.
    pub(super) input_weights: Option<Vec<f64>>,
    /// Stage 1 of the search, when an outer fit scored it once with the exact kernel for the
    /// fits it runs inside (each map's search: the exact kernel does not depend on the map), so
    /// none scores the grid again.
    pub(super) sigma_choice: Option<super::select::SigmaChoice>,
    /// Fit a probability calibration ([`crate::calibration`]) after the model.
    pub(super) probabilities: bool,
    /// Class weights ([`crate::class_weights`]); an outer fit resolves
    /// [`ClassWeights::Balanced`] on all its rows for the fits it runs inside.
    pub(super) class_weights: Option<ClassWeights>,
    /// Each training row's own weight, set by [`fit_weighted`](Self::fit_weighted) for the
    /// rows of the fit in progress (a params value used on some of them holds theirs:
    /// `on_rows`); never set by the builder.
    pub(super) sample_weights: Option<SampleWeights>,
}

/// The builder of a [`KernelMachine`](super::KernelMachine)'s hyper-parameters.
///
/// Defaults: Fastfood map with 1,024 frequencies (2,048 features), Gaussian kernel, bandwidth by
/// the median heuristic on the scaled training rows, min–max scaling (what the LIBSVM and
/// scikit-learn reference figures use), ridge with λ by GCV, classification, seed 0, blocks of
/// 4,096 rows; SVM stopping tolerance 0.1 (LIBLINEAR's), at most 1,000 epochs, bias feature 1;
/// no class probabilities.
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
            map: AnyMapParams::default(),
            solver: Solver::default(),
            task: Task::Classification,
            scaler: ScalerKind::MinMax,
            chunk_rows: 4096,
            svm_eps: 0.1,
            svm_max_epochs: 1000,
            svm_bias: 1.0,
            selection: Some(Selection::default()),
            input_weights: None,
            sigma_choice: None,
            probabilities: false,
            class_weights: None,
            sample_weights: None,
        })
    }
}

impl KernelMachineParams {
    /// All of the map's parameters at once (kind, n, bandwidth, kernel, seed): the one value the
    /// setters below change a field of.
    pub fn map_params(mut self, map: AnyMapParams) -> Self {
        self.0.map = map;
        self
    }
    /// The map construction (dense, Fastfood, ORF, SORF, Nyström).
    pub fn map(mut self, kind: MapKind) -> Self {
        self.0.map = self.0.map.kind(kind);
        self
    }
    /// Number of frequencies n; the map outputs D = 2n features.
    pub fn n_frequencies(mut self, n: usize) -> Self {
        self.0.map = self.0.map.n_frequencies(n);
        self
    }
    /// Kernel bandwidth in scaled units; `None` = chosen from the data (model selection, or the
    /// median heuristic on the scaled training rows).
    pub fn bandwidth(mut self, bandwidth: impl Into<Option<Bandwidth>>) -> Self {
        self.0.map = self.0.map.bandwidth(bandwidth);
        self
    }
    /// The kernel (Fastfood, ORF and SORF make radial kernels only).
    pub fn kernel(mut self, kernel: Kernel) -> Self {
        self.0.map = self.0.map.kernel(kernel);
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
        self.0.map = self.0.map.seed(seed);
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

    /// Model selection inside the fit ([`Selection`], on by default); `None` turns it off, so σ
    /// comes from the median heuristic and λ from GCV, as given.
    pub fn selection(mut self, selection: impl Into<Option<Selection>>) -> Self {
        self.0.selection = selection.into();
        self
    }

    /// Column weights applied after the scaler (one per input column, finite, ≥ 0, not all 0):
    /// the scaled column j is multiplied by `weights[j]` before the map, as when the default fit
    /// learns them ([`relevance`](super::relevance); for example from
    /// [`learn_column_weights`](KernelMachineValidParams::learn_column_weights) or `rks tune`).
    /// Given, the fit does not learn its own; σ is in the weighted units. `None` (the default):
    /// learned by the fit when model selection is on, else none.
    pub fn input_weights(mut self, weights: impl Into<Option<Vec<f64>>>) -> Self {
        self.0.input_weights = weights.into();
        self
    }

    /// Class probabilities ([`KernelMachine::predict_proba`](super::KernelMachine::predict_proba)):
    /// after the model, the fit refits its configuration (map, σ, n, λ or C, as chosen) on
    /// [`CALIBRATION_FOLDS`](super::CALIBRATION_FOLDS) stratified folds of the rows, and fits one
    /// Platt sigmoid per class on the held-out decision values ([`crate::calibration`]), as
    /// LIBSVM's `-b 1` and scikit-learn's `SVC(probability=True)` do. The model's predictions do
    /// not change; the fit costs about as many fits at fixed parameters more. Classification
    /// only. A streamed or partial fit ([`super::partial`]) fits the sigmoids on the exact
    /// leave-one-out decision values of pass 1's scored rows instead (each the model's on every
    /// other row: held out without a refit or another pass). Default: off.
    pub fn probabilities(mut self, on: bool) -> Self {
        self.0.probabilities = on;
        self
    }

    /// Class weights ([`crate::class_weights`]): row i's loss counts wᵢ times, wᵢ the weight of
    /// its class — ridge's squared error, the SVM's hinge (its C times wᵢ, LIBSVM's `-wi`) —
    /// and the model selection compares weighted error rates (with
    /// [`ClassWeights::Balanced`], the balanced error rate). Classification only; in memory,
    /// streamed or in parts ([`super::partial`]: pass 1 counts each class, so balanced weights
    /// are resolved on every row and the model is the in-memory one). The column relevance ([`Selection::relevance`](
    /// super::Selection::relevance)), Nyström's landmarks and the calibration's sigmoids are
    /// learned without weights. Default: none (every row weighs 1).
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use rks_solvers::class_weights::ClassWeights;
    /// use rks_solvers::machine::KernelMachine;
    ///
    /// // A rare class 1 in a corner of the square.
    /// let x = Array2::from_shape_fn((200, 2), |(i, j)| ((i * (37 + 54 * j) + 13 * j) % 200) as f64 / 200.0);
    /// let y: Array1<f64> = x.rows().into_iter()
    ///     .map(|r| if r[0] > 0.7 && r[1] > 0.7 { 1.0 } else { 0.0 })
    ///     .collect();
    /// let model = KernelMachine::params()
    ///     .class_weights(Some(ClassWeights::Balanced))
    ///     .check()?
    ///     .fit(x.view(), y.view())?;
    /// let predicted = model.predict(x.view())?;
    /// let found = predicted.iter().zip(&y).filter(|(p, t)| **t == 1.0 && **p == 1.0).count();
    /// let rare = y.iter().filter(|t| **t == 1.0).count();
    /// assert!(found as f64 >= 0.8 * rare as f64, "{found} of {rare}");
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn class_weights(mut self, weights: Option<ClassWeights>) -> Self {
        self.0.class_weights = weights;
        self
    }

    /// Validates the hyper-parameters (the input dimension is checked at fit time).
    pub fn check_ref(&self) -> Result<&KernelMachineValidParams> {
        let p = &self.0;
        if p.chunk_rows == 0 {
            return Err(invalid(Param::ChunkRows, "must be at least 1"));
        }
        // Everything about the map except the input dimension, which only the data knows.
        p.map.validate()?;
        if let Some(selection) = &p.selection {
            selection.validate()?;
        }
        if let Some(weights) = &p.class_weights {
            weights.validate()?;
            if p.task == Task::Regression {
                return Err(invalid(
                    Param::ClassWeights,
                    "class weights are for classification (a regression has no classes)",
                ));
            }
        }
        if let Some(weights) = &p.input_weights {
            if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
                return Err(invalid(
                    Param::InputWeights,
                    format!("column weights must be finite and ≥ 0, got {w}"),
                ));
            }
            if !weights.iter().any(|&w| w > 0.0) {
                return Err(invalid(
                    Param::InputWeights,
                    "at least one column weight must be > 0",
                ));
            }
        }
        if !p.solver.kind().supports(p.task) {
            return Err(invalid(
                Param::Solver,
                "the SVM is a classifier: use ridge for regression",
            ));
        }
        if p.probabilities && p.task == Task::Regression {
            return Err(invalid(
                Param::Probabilities,
                "class probabilities are for classification",
            ));
        }
        match &p.solver {
            Solver::Ridge { lambda } => lambda.validate()?,
            Solver::Svm { c, loss } => p.svm_params(*c, *loss).validate()?,
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

impl KernelMachineValidParams {
    /// The map's parameters.
    pub fn map_params(&self) -> &AnyMapParams {
        &self.map
    }
    /// The map construction.
    pub fn map_kind(&self) -> MapKind {
        self.map.get_kind()
    }
    /// Frequencies n (D = 2n features).
    pub fn n_frequencies(&self) -> usize {
        self.map.get_n_frequencies()
    }
    /// The bandwidth, `None` when chosen from the data. The linear kernel's is σ = 1 unless
    /// given: its σ only rescales the regularisation (features x/σ), so there is none to search.
    pub fn bandwidth(&self) -> Option<Bandwidth> {
        self.map
            .get_bandwidth()
            .or((self.kernel() == Kernel::Linear).then_some(Bandwidth::Sigma(1.0)))
    }
    /// The kernel.
    pub fn kernel(&self) -> Kernel {
        self.map.get_kernel()
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
        self.map.get_seed()
    }
    /// Rows per block.
    pub fn chunk_rows(&self) -> usize {
        self.chunk_rows
    }
    /// The model selection, `None` when off.
    pub fn selection(&self) -> Option<&Selection> {
        self.selection.as_ref()
    }

    /// Whether the fit calibrates class probabilities
    /// ([`KernelMachineParams::probabilities`]).
    pub fn probabilities(&self) -> bool {
        self.probabilities
    }

    /// The class weights ([`KernelMachineParams::class_weights`]), if any.
    pub fn class_weights(&self) -> Option<&ClassWeights> {
        self.class_weights.as_ref()
    }

    /// The column weights given by hand ([`KernelMachineParams::input_weights`]), if any.
    pub fn input_weights(&self) -> Option<&[f64]> {
        self.input_weights.as_deref()
    }

    pub(super) fn svm_params(&self, c: f64, loss: SvmLoss) -> SvmParams {
        SvmParams {
            c,
            loss,
            eps: self.svm_eps,
            max_epochs: self.svm_max_epochs,
            shrinking: true,
            bias: self.svm_bias,
            seed: self.seed(),
        }
    }
}

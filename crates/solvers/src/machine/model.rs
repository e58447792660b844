//! The fitted model: scaler, map, weights, labels, and what the fit found.

use crate::error::Param;
use ndarray::{Array1, Array2, ArrayView2, AsArray, Axis, Ix2};
use rks::nystrom::Nystrom;
use rks::product::FixedRight;
use rks::scaler::Scaler;
use rks::{AnyMap, FeatureMap};
use serde::{Deserialize, Serialize};

use super::{KernelMachineParams, Task};

/// Rows per block of [`KernelMachine::decision_function`] at most (fewer when `chunk_rows` is).
const PREDICT_ROWS: usize = 1024;
use crate::calibration::Calibration;
use crate::error::{Result, SolversError, invalid};
use crate::labels::{LabelMap, argmax_rows, class_scores};
use crate::ridge::GcvReport;
use crate::svm::SvmLoss;
use crate::validate::check_finite;

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
        /// The scores over the λ grid (GCV or leave-one-out), kept to 7 significant digits
        /// ([`GcvReport::rounded`]).
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
    /// For a Nyström map, K_mm^{-1/2}·W, made on the first prediction.
    pub(crate) whitened: Whitened,
    /// The scores' right factor (W, or a Nyström model's K_mm^{-1/2}·W) packed for the product,
    /// made on the first prediction.
    pub(crate) product: PackedWeights,
    /// A linear map's weights with the scaler's scale and 1/σ folded in, and the constant its
    /// offsets give, made on the first scores of sparse rows (`machine::sparse`).
    pub(crate) folded: FoldedWeights,
    /// The categories of each column of the training file (`None` for numbers), when one held
    /// categories read as one 0/1 input each ([`with_input_categories`](Self::with_input_categories)).
    pub(crate) categories: Option<Vec<Option<Vec<String>>>>,
    /// A classifier's probability calibration, when fitted with
    /// [`probabilities`](super::KernelMachineParams::probabilities).
    pub(crate) calibration: Option<Calibration>,
    /// A classifier's class weights in its fit, one per class in the order of
    /// [`classes`](Self::classes), when fitted with
    /// [`class_weights`](super::KernelMachineParams::class_weights).
    pub(crate) class_weights: Option<Vec<f64>>,
}

/// A linear model's weights folded for sparse rows, kept once made so that predictions in
/// chunks fold the d × m weights once. A function of the model, so it never makes two models
/// unequal.
#[derive(Debug, Default, Clone)]
pub(crate) struct FoldedWeights(pub(crate) std::sync::OnceLock<(Array2<f64>, Array1<f64>)>);

impl PartialEq for FoldedWeights {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// K_mm^{+1/2}·W of a model with a Nyström map, kept once made (or loaded from a version-3
/// file): with it a prediction costs m multiply-adds per row and output instead of the m² of the
/// whitening ([`Nystrom::kernel_values`](rks::Nystrom::kernel_values)). A function of the map and
/// the weights, so it never makes two models unequal.
#[derive(Debug, Default, Clone)]
pub(crate) struct Whitened(std::sync::OnceLock<Array2<f64>>);

impl Whitened {
    /// Keeps `whitened` (checked against the model by the caller) unless one is kept already.
    pub(crate) fn set(&self, whitened: Array2<f64>) {
        let _ = self.0.set(whitened);
    }

    /// The product, if made or loaded.
    pub(crate) fn get(&self) -> Option<&Array2<f64>> {
        self.0.get()
    }
}

/// The packed right factor of a model's scores ([`FixedRight`]), kept once made so that a loop
/// of one-row predictions packs the D × m weights once, not once a row. A function of the
/// model, so it never makes two models unequal.
#[derive(Debug, Default, Clone)]
pub(crate) struct PackedWeights(std::sync::OnceLock<FixedRight>);

impl PartialEq for PackedWeights {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl PartialEq for Whitened {
    fn eq(&self, _: &Self) -> bool {
        true
    }
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
    /// The classes' names, class label i's at i, when the classifier was fitted on names.
    pub fn class_names(&self) -> Option<&[String]> {
        self.labels.as_ref().and_then(LabelMap::names)
    }
    /// The name of a predicted label, when the classes have names.
    pub fn class_name(&self, label: f64) -> Option<&str> {
        self.labels.as_ref().and_then(|l| l.name(label))
    }
    /// The categories of each column of the training file (`None` for a column of numbers),
    /// when one held categories: its inputs are one 0/1 column per category, in this order.
    pub fn input_categories(&self) -> Option<&[Option<Vec<String>>]> {
        self.categories.as_deref()
    }

    /// The same model with the categories of its training file's columns (a CSV file's columns
    /// of text, read as one 0/1 input per category: `rks_data::csv::Columns`); saved with the
    /// model, so that its test files are read the same way. Errors unless the columns make
    /// exactly the model's inputs (one for a number, one per category), with 1 to
    /// [`MAX_CATEGORIES`](rks_data::csv::MAX_CATEGORIES) distinct, non-empty categories each.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_solvers::{KernelMachine, Task};
    ///
    /// // Inputs: colour=red, colour=blue, size.
    /// let x = array![[1.0, 0.0, 0.2], [0.0, 1.0, 0.4], [1.0, 0.0, 0.9], [0.0, 1.0, 0.7]];
    /// let y = array![0.0, 1.0, 0.0, 1.0];
    /// let model = KernelMachine::params()
    ///     .task(Task::Classification)
    ///     .selection(None)
    ///     .n_frequencies(16)
    ///     .check()?
    ///     .fit(x.view(), y.view())?;
    /// let colours = Some(vec!["red".to_string(), "blue".to_string()]);
    /// let model = model.with_input_categories(vec![colours, None])?;
    /// assert_eq!(model.input_categories().unwrap().len(), 2);
    /// assert!(model.clone().with_input_categories(vec![None, None]).is_err());
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn with_input_categories(mut self, categories: Vec<Option<Vec<String>>>) -> Result<Self> {
        let width: usize = categories
            .iter()
            .map(|c| c.as_ref().map_or(1, Vec::len))
            .sum();
        let problem = if width != self.input_dim() {
            Some(format!(
                "{} columns making {width} inputs, for a model of {}",
                categories.len(),
                self.input_dim()
            ))
        } else {
            categories.iter().flatten().find_map(|c| {
                if c.is_empty() || c.len() > rks_data::csv::MAX_CATEGORIES {
                    Some(format!(
                        "a column of {} categories (1 to {})",
                        c.len(),
                        rks_data::csv::MAX_CATEGORIES
                    ))
                } else {
                    crate::labels::names_problem(c, "category")
                }
            })
        };
        match problem {
            Some(reason) => Err(invalid(Param::InputCategories, reason)),
            None => {
                self.categories = Some(categories);
                Ok(self)
            }
        }
    }

    /// The same classifier with names for its classes (fitted on names coded 0..k−1, as a CSV
    /// label column of text is read: [`LabelMap::with_names`]); saved with the model. Errors
    /// for a regressor.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_solvers::{KernelMachine, Task};
    ///
    /// let x = array![[0.0], [0.1], [0.9], [1.0]];
    /// let y = array![0.0, 0.0, 1.0, 1.0];
    /// let model = KernelMachine::params()
    ///     .task(Task::Classification)
    ///     .selection(None)
    ///     .n_frequencies(64)
    ///     .check()?
    ///     .fit(x.view(), y.view())?
    ///     .with_class_names(vec!["small".into(), "large".into()])?;
    /// let predicted = model.predict(array![[0.95]].view())?;
    /// assert_eq!(model.class_name(predicted[0]), Some("large"));
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn with_class_names(mut self, names: Vec<String>) -> Result<Self> {
        let labels = self.labels.take().ok_or_else(|| {
            crate::error::invalid(
                crate::error::Param::ClassNames,
                "a regressor has no classes to name",
            )
        })?;
        self.labels = Some(labels.with_names(names)?);
        Ok(self)
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
            return Err(invalid(Param::ChunkRows, "must be at least 1"));
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
        // At most PREDICT_ROWS rows a block: a buffer that size is reused from the allocator's
        // pool from call to call, where one of thousands of rows would be mapped fresh (and its
        // pages zeroed) by the system every call.
        let block_rows = self.chunk_rows.min(PREDICT_ROWS);
        // How a block of scaled rows becomes scores, chosen once: a Nyström model scores
        // wᵀK_mm^{-1/2}k(x) from the kernel values (m multiply-adds per row and output instead of
        // m²); any other map writes the block's features into one reused buffer.
        let product = self.packed_weights()?;
        let mut scorer = match &self.map {
            AnyMap::Nystrom(map) => Scorer::Kernel {
                map,
                whitened: product,
            },
            map => Scorer::Features {
                map,
                weights: product,
                phi: rks::alloc::zeros(
                    (block_rows.min(x.nrows()), map.output_dim()),
                    "the features",
                    rks::error::Param::NFrequencies,
                )?,
            },
        };
        for (block, start) in x
            .axis_chunks_iter(Axis(0), block_rows)
            .zip((0..).step_by(block_rows))
        {
            let rows = block.nrows();
            let scaled = self.scaler.transform(block)?;
            let scores = match &mut scorer {
                Scorer::Kernel { map, whitened } => {
                    whitened.multiply(map.kernel_values(scaled.view())?.view())? + &self.intercept
                }
                Scorer::Features { map, weights, phi } => {
                    let mut phi_block = phi.slice_axis_mut(Axis(0), (..rows).into());
                    map.transform_into(scaled.view(), phi_block.view_mut())?;
                    weights.multiply(phi_block.view())? + &self.intercept
                }
            };
            raw.slice_axis_mut(Axis(0), (start..start + rows).into())
                .assign(&scores);
        }
        Ok(self.scores_of(raw))
    }

    /// The decision values of raw scores XW + b: per-class scores for a classifier.
    pub(super) fn scores_of(&self, raw: Array2<f64>) -> Array2<f64> {
        match &self.labels {
            Some(labels) => class_scores(raw, labels.n_classes()),
            None => raw,
        }
    }

    /// The labels (classification: the class of each row's largest score, as the original label
    /// value) or values (regression) of decision values `scores` from
    /// [`decision_function`](Self::decision_function): what [`predict`](Self::predict) returns,
    /// for a caller that also needs the scores (e.g. for [`Calibration::probabilities`]).
    pub fn predict_from_decision(&self, scores: &Array2<f64>) -> Array1<f64> {
        match &self.labels {
            Some(labels) => argmax_rows(scores)
                .into_iter()
                .map(|k| labels.label(k))
                .collect(),
            None => scores.column(0).to_owned(),
        }
    }

    /// The right factor of the scores, packed (made on the first call): K_mm^{+1/2}·W for a
    /// Nyström map, W for the others.
    fn packed_weights(&self) -> Result<&FixedRight> {
        if let Some(packed) = self.product.0.get() {
            return Ok(packed);
        }
        let packed = match self.whitened_weights()? {
            Some(whitened) => FixedRight::new(whitened.view()),
            None => FixedRight::new(self.weights.view()),
        };
        Ok(self.product.0.get_or_init(|| packed))
    }

    /// K_mm^{+1/2}·W for a Nyström map (made on the first call, or loaded), `None` for the
    /// other maps.
    pub(crate) fn whitened_weights(&self) -> Result<Option<&Array2<f64>>> {
        let AnyMap::Nystrom(map) = &self.map else {
            return Ok(None);
        };
        if let Some(w) = self.whitened.get() {
            return Ok(Some(w));
        }
        let w = map.whiten(self.weights.view())?;
        Ok(Some(self.whitened.0.get_or_init(|| w)))
    }

    /// Each class's weight in the fit of a classifier fitted with
    /// [`class_weights`](super::KernelMachineParams::class_weights), in the order of
    /// [`classes`](Self::classes) (balanced weights as resolved on the training rows; classes
    /// not named at 1); `None` otherwise. Saved with the model.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_solvers::class_weights::ClassWeights;
    /// use rks_solvers::{KernelMachine, Task};
    ///
    /// let x = array![[0.0], [0.1], [0.2], [0.9]];
    /// let y = array![0.0, 0.0, 0.0, 1.0];
    /// let model = KernelMachine::params()
    ///     .task(Task::Classification)
    ///     .selection(None)
    ///     .n_frequencies(16)
    ///     .class_weights(Some(ClassWeights::Balanced))
    ///     .check()?
    ///     .fit(x.view(), y.view())?;
    /// // 4 rows, 2 classes: 4 / (2 · 3) and 4 / (2 · 1).
    /// assert_eq!(model.class_weights(), Some(&[4.0 / 6.0, 2.0][..]));
    /// let loaded = KernelMachine::from_bytes(&model.to_bytes()?)?;
    /// assert_eq!(loaded.class_weights(), model.class_weights());
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn class_weights(&self) -> Option<&[f64]> {
        self.class_weights.as_deref()
    }

    /// The probability calibration of a classifier fitted with
    /// [`probabilities`](super::KernelMachineParams::probabilities), `None` otherwise.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// The probability of each class (rows × k, columns in the order of
    /// [`classes`](Self::classes), each row summing to 1) for rows `x`: Platt's sigmoids of the
    /// decision values ([`crate::calibration`]). An error for a model without a calibration.
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use rks_solvers::{KernelMachine, Task};
    ///
    /// // Two overlapping classes along x₀.
    /// let x = Array2::from_shape_fn((200, 1), |(i, _)| ((i * 37) % 200) as f64 / 100.0 - 1.0);
    /// let y: Array1<f64> = (0..200).map(|i| f64::from(x[[i, 0]] + 0.3 * ((i % 7) as f64 - 3.0) / 3.0 > 0.0)).collect();
    /// let model = KernelMachine::params()
    ///     .task(Task::Classification)
    ///     .selection(None)
    ///     .n_frequencies(32)
    ///     .probabilities(true)
    ///     .check()?
    ///     .fit(x.view(), y.view())?;
    /// let p = model.predict_proba(&ndarray::array![[-0.9], [0.0], [0.9]])?;
    /// assert!(p[[0, 0]] > 0.9 && p[[2, 1]] > 0.9);
    /// assert!((p[[1, 0]] + p[[1, 1]] - 1.0).abs() < 1e-12);
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn predict_proba<'a>(&self, x: impl AsArray<'a, f64, Ix2>) -> Result<Array2<f64>> {
        let calibration = self.calibration_or_error()?;
        calibration.probabilities(self.decision_function(x)?.view())
    }

    /// The natural log of [`predict_proba`](Self::predict_proba), accurate where a probability
    /// is tiny.
    pub fn predict_log_proba<'a>(&self, x: impl AsArray<'a, f64, Ix2>) -> Result<Array2<f64>> {
        let calibration = self.calibration_or_error()?;
        calibration.log_probabilities(self.decision_function(x)?.view())
    }

    /// The calibration, or the error that says why there is none
    /// ([`SolversError::NoProbabilities`]).
    pub fn calibration_or_error(&self) -> Result<&Calibration> {
        match (&self.calibration, self.task) {
            (Some(c), _) => Ok(c),
            (None, Task::Regression) => Err(SolversError::NoProbabilities("it is a regressor")),
            (None, Task::Classification) => {
                Err(SolversError::NoProbabilities("it was fitted without them"))
            }
        }
    }

    /// Predicted labels (classification, as the original label values) or values (regression).
    pub fn predict<'a>(&self, x: impl AsArray<'a, f64, Ix2>) -> Result<Array1<f64>> {
        let scores = self.decision_function(x)?;
        Ok(self.predict_from_decision(&scores))
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
        if let Some(calibration) = &self.calibration {
            let Some(labels) = &self.labels else {
                return corrupt("a probability calibration of a regressor".into());
            };
            calibration.validate(labels.n_classes()).or_else(&corrupt)?;
        }
        if let Some(weights) = &self.class_weights {
            let Some(labels) = &self.labels else {
                return corrupt("class weights of a regressor".into());
            };
            if weights.len() != labels.n_classes() {
                return corrupt(format!(
                    "{} class weights for {} classes",
                    weights.len(),
                    labels.n_classes()
                ));
            }
            if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
                return corrupt(format!("a class weight of {w} (finite and > 0 expected)"));
            }
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

/// How [`KernelMachine::decision_function`] turns a block of scaled rows into scores.
/// The products are [`FixedRight`]'s, whose bits are the same on every CPU (ndarray's `dot`
/// rounds by the CPU's `matrixmultiply` kernel), so a model predicts the same scores everywhere.
enum Scorer<'m> {
    /// A Nyström map: kernel values times the model's K_mm^{-1/2}·W.
    Kernel {
        map: &'m Nystrom,
        whitened: &'m FixedRight,
    },
    /// Any other map: the features, into a buffer reused from block to block, times W.
    Features {
        map: &'m AnyMap,
        weights: &'m FixedRight,
        phi: Array2<f64>,
    },
}

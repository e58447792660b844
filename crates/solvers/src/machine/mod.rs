//! The kernel machine: input scaler → random feature map → linear model (ridge or SVM).
//!
//! A [`KernelMachine`] approximates a kernel method: kernel ridge regression / classification
//! when the linear model is ridge, a kernel SVM when it is the linear SVM of [`crate::svm`], on
//! the features φ(x) of an [`AnyMap`](rks::AnyMap) with φ(x)·φ(x') ≈ k(x, x') (Rahimi & Recht, NIPS 2007).
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

mod bounds;
mod calibrate;
mod cv;
mod fit;
mod memory;
mod model;
mod params;
pub mod partial;
pub mod relevance;
pub mod select;
mod solver_choice;
mod sparse;
mod stream;
mod weights;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::ridge::Lambda;
use crate::svm::SvmLoss;

pub use bounds::Ranges;
pub use calibrate::CALIBRATION_FOLDS;
pub use cv::{CvGrid, CvPoint, CvReport};
pub use fit::median_sigma;
pub use model::{FitInfo, KernelMachine, SolverInfo};
pub use params::{KernelMachineParams, KernelMachineValidParams};
pub use relevance::{ColumnWeights, RelevanceReport};
pub use select::{
    DEFAULT_BUDGET_SECONDS, DEFAULT_FREQUENCIES, MapTrial, REFERENCE_FLOPS, Selection,
    SelectionReport, SolverTrial, Trial, estimated_exact_trial_seconds, estimated_step_seconds,
};
pub use stream::StreamedFit;

pub use crate::task::{SolverKind, Task};

/// One chunk of a streamed fit: rows (chunk × d) and their targets.
pub type Chunk = (Array2<f64>, Array1<f64>);

/// One chunk of a streamed fit with sample weights
/// ([`KernelMachineValidParams::fit_stream_weighted`]): rows, their targets and their weights.
pub type WeightedChunk = (Array2<f64>, Array1<f64>, Array1<f64>);

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

impl Solver {
    /// Ridge or SVM.
    pub fn kind(&self) -> SolverKind {
        match self {
            Solver::Ridge { .. } => SolverKind::Ridge,
            Solver::Svm { .. } => SolverKind::Svm,
        }
    }

    /// The default solver of a kind: ridge with λ chosen from the data, or the SVM with C = 1
    /// and the squared hinge (LIBLINEAR's default).
    pub fn default_of(kind: SolverKind) -> Self {
        match kind {
            SolverKind::Ridge => Solver::Ridge {
                lambda: Lambda::Gcv,
            },
            SolverKind::Svm => Solver::Svm {
                c: 1.0,
                loss: SvmLoss::SquaredHinge,
            },
        }
    }
}

impl Default for Solver {
    fn default() -> Self {
        Solver::Ridge {
            lambda: Lambda::Gcv,
        }
    }
}

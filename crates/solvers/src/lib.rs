//! Linear models on random features: streaming ridge regression with a GCV regularisation path,
//! linear SVMs by dual coordinate descent, the kernel machine that ties a feature map, a scaler
//! and a linear model together, and its persistence.
//!
//! - [`ridge`]: [`RidgeAccumulator`] (ΦᵀΦ, ΦᵀY over chunks, mergeable),
//!   Cholesky solve, eigendecomposition path, λ by generalised cross-validation; the dual form
//!   [`ridge::fit_rows`] for rows in memory with fewer rows than features.
//! - [`dense`]: the dense linear algebra whose results reach a model — the Cholesky
//!   factorisation, solves and inverse behind every ridge model's weights, the Gram matrix of
//!   rows — in a fixed order: the same bits on every CPU.
//! - [`exact`]: the fixed-point grid and integer sums that make the ridge statistics exact, hence
//!   the same for any chunking and merge order (and as `u64` limbs for an engine's integer sum).
//! - [`partial`]: the partial-fit API, pass 1 → plan → pass 2 → finish, for any engine.
//! - [`calibration`]: class probabilities from decision values (Platt's sigmoids on held-out
//!   scores).
//! - [`cv`]: k-fold cross-validation of ridge (λ path) and the SVM (C path, warm-started) on
//!   fixed features, on the stratified folds of [`folds`].
//! - [`svm`]: L1/L2-loss linear SVM, dual coordinate descent (Hsieh et al., ICML 2008), one-vs-rest.
//! - [`machine`]: [`KernelMachine`] = scaler + feature map + linear model; params → validated →
//!   fitted; chunked prediction; streamed ridge fits of files larger than memory.
//! - [`persist`]: `save`/`load`, `to_bytes`/`from_bytes` (magic tag, version, bounded decode).
//! - linfa: `Fit` for the params on a `DatasetBase`, `PredictInplace` for the fitted machine.
//! - [`task`]: [`Task`], its inference from the labels, and the names of tasks and solvers.
//! - [`SolversError`]: the one error type.
//!
//! No unsafe code: the vector kernels come from `rks`'s SIMD layer ([`rks::simd`]).

#![forbid(unsafe_code)]

pub mod calibration;
pub mod class_weights;
pub mod cv;
pub mod dense;
pub mod error;
pub mod exact;
pub mod folds;
pub mod labels;
mod linfa_impl;
pub mod loo;
pub mod machine;
pub mod persist;
pub mod ridge;
pub mod rows;
pub mod sparse_ridge;
pub mod svm;
pub mod task;
mod validate;

pub use error::SolversError;
pub use labels::LabelMap;
/// The partial-fit API: pass 1 → plan → pass 2 → finish, for any engine.
pub use machine::partial;
pub use machine::{
    Chunk, FitInfo, KernelMachine, KernelMachineParams, KernelMachineValidParams, Solver,
    SolverInfo, SolverKind, StreamedFit, Task, WeightedChunk,
};
pub use ridge::{Lambda, Ridge, RidgeAccumulator};
/// The dot/axpy kernels of the SVM, from rks's SIMD layer.
pub use rks::simd::Kernels;
pub use svm::{LinearSvm, SvmLoss, SvmParams};

//! Linear models on random features: streaming ridge regression with a GCV regularisation path,
//! linear SVMs by dual coordinate descent, the kernel machine that ties a feature map, a scaler
//! and a linear model together, and its persistence.
//!
//! - [`ridge`]: [`RidgeAccumulator`](ridge::RidgeAccumulator) (ΦᵀΦ, ΦᵀY over chunks, mergeable),
//!   Cholesky solve, eigendecomposition path, λ by generalised cross-validation.
//! - [`svm`]: L1/L2-loss linear SVM, dual coordinate descent (Hsieh et al., ICML 2008), one-vs-rest.
//! - [`SolversError`]: the one error type.

pub mod error;
mod kernels;
pub mod labels;
pub mod ridge;
pub mod svm;
mod validate;

pub use error::SolversError;
pub use kernels::Kernels;

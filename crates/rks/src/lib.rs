//! Random features for kernel machines.
//!
//! A feature map φ: Rᵈ → R²ⁿ is built so that φ(x)·φ(y) ≈ k(x, y) for a shift-invariant kernel k
//! (Rahimi & Recht, "Random Features for Large-Scale Kernel Machines", NIPS 2007). A linear model on
//! φ(x) then approximates the kernel machine at a cost that does not grow with the training set.
//!
//! - [`hadamard`]: the fast Walsh–Hadamard transform, in place, f32 and f64.
//! - [`FeatureMap`]: the trait every map implements.

pub mod element;
pub mod error;
pub mod hadamard;
pub mod map;

pub use element::Element;
pub use error::RksError;
pub use map::FeatureMap;

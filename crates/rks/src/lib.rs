//! Random features for kernel machines.
//!
//! A feature map φ: Rᵈ → R²ⁿ is built so that φ(x)·φ(y) ≈ k(x, y) for a shift-invariant kernel k
//! (Rahimi & Recht, "Random Features for Large-Scale Kernel Machines", NIPS 2007). A linear model on
//! φ(x) then approximates the kernel machine at a cost that does not grow with the training set.
//!
//! The projection maps compute φ(x) = n^{-1/2}·[cos(Wx), sin(Wx)] (first the n cosines, then the n sines);
//! they differ in W:
//!
//! - [`DenseRks`]: W ∈ R^{n×d} stored explicitly, rows drawn from the kernel's spectral
//!   distribution (N(0, σ⁻² I) for the Gaussian kernel). O(n·d) time and memory per row.
//! - [`Fastfood`]: W replaced by stacked blocks (1/(σ√D))·S H G Π H B (Le, Sarlós & Smola, ICML
//!   2013). O(n log d) time and O(n) memory.
//! - [`Orf`]: orthogonal random features (Yu et al., NeurIPS 2016): W in blocks of a random
//!   orthogonal matrix with χ_d row lengths; O(n·d), lower variance than the dense map.
//! - [`Sorf`]: structured orthogonal random features (same paper): blocks (√D/σ)·H D₁ H D₂ H D₃;
//!   O(n log d) time, O(n) memory.
//! - [`Nystrom`]: features K_mm^{+1/2}·k(landmarks, x) from m landmark rows, uniform or by ridge
//!   leverage scores (fitted to data, not drawn from a seed alone).
//! - [`AnyMap`]: any of them, chosen at run time; [`MapKind`] names the choice.
//!
//! Every projection map also makes the arc-cosine kernels of order 0 and 1 (Cho & Saul, NIPS
//! 2009), with features √(2/n)·Θ(Wx) and √(2/n)·max(0, Wx) ([`Kernel::ArcCos0`],
//! [`Kernel::ArcCos1`]).
//!
//! Maps are built from validated parameters (`params() → build(d)`), are a pure function of
//! (kind, d, n, bandwidth, kernel, seed) drawn with a ChaCha8 generator, transform f32 or f64 rows
//! in parallel with output independent of the thread count, and serialise as that spec
//! (the parameters are rebuilt and checked on load).
//!
//! ```
//! use ndarray::array;
//! use rks::{Bandwidth, Fastfood, FeatureMap, Kernel};
//!
//! let map = Fastfood::params().n_frequencies(8192).sigma(1.0).seed(42).build(3)?;
//! let x = array![[0.1, 0.2, 0.3], [0.5, -0.4, 0.0]];
//! let phi = map.transform(x.view())?;
//! assert_eq!(phi.dim(), (2, 16384));
//!
//! let approx = phi.row(0).dot(&phi.row(1));
//! let exact = Kernel::Gaussian.exact(&[0.1, 0.2, 0.3], &[0.5, -0.4, 0.0], Bandwidth::Sigma(1.0))?;
//! assert!((approx - exact).abs() < 0.03, "{approx} vs {exact}");
//! # Ok::<(), rks::RksError>(())
//! ```
//!
//! Modules:
//! - [`hadamard`]: the fast Walsh–Hadamard transform, in place, f32 and f64.
//! - [`trig`]: the vectorised cos/sin step both maps share.
//! - [`gram`]: exact Gram matrices of 16-bit integer rows (the exact ridge statistics' kernel).
//! - [`simd`]: the CPU's vector capabilities, decided once, and the dot/axpy kernels.
//! - [`kernel`]: the kernels (shift-invariant and arc-cosine, exact values in closed form), their
//!   bandwidth and frequency distributions, and the step applied after the projection.
//! - [`orf`], [`sorf`], [`nystrom`]: the orthogonal, structured orthogonal and Nyström maps.
//! - [`spec`]: map specs, builders and limits.
//! - [`product`]: X·B for a fixed B (a model's weights), the same bits on every CPU.
//! - [`scaler`], [`median`]: input standardisation and the median-heuristic bandwidth.
//! - [`exp`]: e^x with the same bits on every CPU and with every C library.
//! - [`log`]: ln x and ln(1 + x), likewise.
//! - [`variates`]: the normal, Cauchy and χ² draws of the maps' parameters, the same bits on
//!   every platform.
//! - [`envelope`]: the file envelope every saved model and network uses (tag, version, length,
//!   checksum, bounded decode, atomic save).

pub mod alloc;
pub mod any;
pub mod dense;
mod dot;
pub mod element;
pub mod envelope;
pub mod error;
pub mod exp;
pub mod fastfood;
mod features;
mod gemm;
pub mod gram;
pub mod hadamard;
pub mod kernel;
pub mod linear;
mod linfa_impl;
pub mod log;
pub mod map;
pub mod median;
pub mod nystrom;
pub mod orf;
pub mod product;
mod radial;
pub mod sample;
pub mod scaler;
pub mod simd;
pub mod sorf;
mod sparse;
pub mod spec;
pub mod symmetric;
pub mod trig;
pub mod variates;
pub mod vocabulary;

pub use any::AnyMap;
pub use dense::DenseRks;
pub use element::Element;
pub use error::RksError;
pub use fastfood::{Fastfood, FastfoodBlock};
pub use kernel::{Activation, Bandwidth, Kernel};
pub use linear::Linear;
pub use map::FeatureMap;
pub use nystrom::{Nystrom, NystromParams, Sampling};
pub use orf::Orf;
pub use sorf::{Sorf, SorfBlock};
pub use sparse::is_sparse;
pub use spec::{MapKind, MapParams, MapSpec, SavedAny, SavedMap};
pub use vocabulary::Named;

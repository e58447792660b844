//! Deep Fried layers: trainable (adaptive) Fastfood layers with backpropagation, and a small
//! classification network around them.
//!
//! Yang et al., "Deep Fried Convnets" (ICCV 2015) replace the fully connected layers of a network
//! by the Fastfood product V = S H G Π H B of Le, Sarlós & Smola (ICML 2013) and learn the
//! diagonals S, G, B by backpropagation: a d → n layer then has O(n) parameters and costs
//! O(n log d) instead of O(n d).
//!
//! - [`AdaptiveFastfood`]: the layer, forward and backward, any subset of S, G, B, β trainable.
//! - [`Dense`]: the fully connected layer it replaces (and the softmax output layer).
//! - [`Network`], [`NetworkParams`]: scaling → [hidden → ReLU]* → dense → softmax.
//! - [`train()`], [`TrainParams`], [`Optimizer`]: mini-batch Adam or SGD with momentum, early
//!   stopping on a validation split.
//! - [`Network::save`], [`Network::load`]: versioned, checked persistence.
//! - [`ConvNet`], [`ConvNetParams`], [`train_convnet`]: Caffe's LeNet with a dense or (adaptive)
//!   Fastfood head, trained by SGD with momentum, in f32.
//!
//! Every layer is generic over the floating-point type ([`Real`]: f32 or f64): the [`Network`]
//! runs in f64 (the default type of [`Dense`], [`AdaptiveFastfood`] and [`Hidden`]), the
//! [`ConvNet`] in f32, and the f64 instantiation of the same code is what the gradient checks
//! compare with central finite differences.
//!
//! ```
//! use ndarray::Array2;
//! use rks_layers::{train, NetworkParams, TrainParams, Trainable};
//!
//! // Two classes separated by the sign of the first column.
//! let x = Array2::from_shape_fn((200, 4), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
//! let y: Vec<usize> = x.column(0).iter().map(|&v| usize::from(v > 0.0)).collect();
//! let mut net = NetworkParams::new().fastfood(16, Trainable::ALL).seed(1).build(x.view(), 2).unwrap();
//! let params = TrainParams { epochs: 20, validation_fraction: 0.0, ..TrainParams::default() };
//! let history = train(&mut net, x.view(), &y, &params, |_| {}).unwrap();
//! assert!(history.epochs.last().unwrap().train_loss < history.epochs[0].train_loss);
//! ```

#![forbid(unsafe_code)]

mod check;
pub mod conv;
pub mod convnet;
pub mod convtrain;
pub mod dense;
pub mod dropout;
pub mod error;
pub mod fastfood;
mod init;
pub mod loss;
pub mod network;
pub mod optim;
pub mod persist;
pub mod pool;
mod real;
#[cfg(test)]
mod test_util;
pub mod train;

pub use conv::{Conv2d, ConvGrads, IMAGE_BLOCK, Shape3};
pub use convnet::{ConvNet, ConvNetGrads, ConvNetParams, Head};
pub use convtrain::{ConvTrainParams, LrSchedule, train_convnet};
pub use dense::{Dense, DenseCache, DenseGrads, DenseInit};
pub use dropout::{Dropout, DropoutMask};
pub use error::LayerError;
pub use fastfood::{AdaptiveFastfood, FastfoodCache, FastfoodGrads, FastfoodParts, Trainable};
pub use network::{
    Hidden, HiddenGrads, HiddenSpec, Network, NetworkGrads, NetworkParams, class_labels,
};
pub use optim::Optimizer;
pub use pool::{MaxPool2, PoolCache};
pub use real::Real;
pub use train::{EpochStats, History, TrainParams, train};

/// Rows per parallel task in the Fastfood backward pass. Fixed (not derived from the number of
/// threads) so the partial gradient sums, and therefore the results, are the same on any machine.
pub const ROW_CHUNK: usize = 16;

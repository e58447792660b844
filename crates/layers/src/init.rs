//! Construction of Fastfood layers from the rks crate's random Fastfood map.
//!
//! The layer takes its B, Π, G, S from an `rks::Fastfood`, so for the same (d, n, σ, seed) a
//! frozen layer and the feature map's linear part are the same function, bit for bit.

use crate::error::Param;
use rks::{Fastfood, FeatureMap};

use crate::real::Real;
use crate::{AdaptiveFastfood, FastfoodParts, LayerError, Trainable};

impl<T: Real> AdaptiveFastfood<T> {
    /// A layer d → n initialised with the parameters of `map` (d = `map.input_dim()`,
    /// n = `map.n_frequencies()`, σ = `map.sigma()`), β = 0. With [`Trainable::NONE`] its
    /// [`forward`](AdaptiveFastfood::forward) equals `map.project(x)` exactly in f64; an f32
    /// layer holds the parameters rounded to nearest.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_layers::{AdaptiveFastfood, Trainable};
    ///
    /// let map = rks::Fastfood::params().n_frequencies(12).sigma(1.5).seed(4).build(3).unwrap();
    /// let layer = AdaptiveFastfood::from_fastfood(&map, Trainable::NONE).unwrap();
    /// let x = array![[0.3, -1.0, 2.0]];
    /// assert_eq!(layer.forward(x.view()).unwrap(), map.project(x.view()).unwrap());
    /// ```
    pub fn from_fastfood(map: &Fastfood, trainable: Trainable) -> Result<Self, LayerError> {
        let mut parts = FastfoodParts {
            scaling: Vec::new(),
            gaussian: Vec::new(),
            signs: Vec::new(),
            permutation: Vec::new(),
        };
        for block in map.blocks() {
            parts
                .scaling
                .extend(block.scaling().iter().map(|&v| T::of(v)));
            parts
                .gaussian
                .extend(block.gaussian().iter().map(|&v| T::of(v)));
            parts.signs.extend(block.signs().iter().map(|&v| T::of(v)));
            parts.permutation.extend_from_slice(block.permutation());
        }
        Self::from_parts(
            map.input_dim(),
            map.n_frequencies(),
            map.sigma(),
            parts,
            trainable,
        )
    }
}

/// The layer of [`AdaptiveFastfood::new`]: the Gaussian-kernel Fastfood map of the same
/// (d, n, σ, seed), converted.
pub(crate) fn fastfood_layer<T: Real>(
    input_dim: usize,
    output_dim: usize,
    sigma: f64,
    seed: u64,
    trainable: Trainable,
) -> Result<AdaptiveFastfood<T>, LayerError> {
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(LayerError::InvalidParameter {
            name: Param::Sigma,
            reason: format!("must be finite and > 0, got {sigma}"),
        });
    }
    let map = Fastfood::params()
        .n_frequencies(output_dim)
        .sigma(sigma)
        .seed(seed)
        .build(input_dim)?;
    AdaptiveFastfood::from_fastfood(&map, trainable)
}

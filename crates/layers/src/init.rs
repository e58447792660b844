//! Seeded construction of Fastfood layers.
//!
//! TEMPORARY: draws the Fastfood parameters itself until `rks::Fastfood` exposes its blocks; then
//! this module builds an `rks::Fastfood` and converts it, so both agree draw for draw.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::{AdaptiveFastfood, FastfoodParts, LayerError, Trainable};

pub(crate) fn fastfood_layer(
    input_dim: usize,
    output_dim: usize,
    sigma: f64,
    seed: u64,
    trainable: Trainable,
) -> Result<AdaptiveFastfood, LayerError> {
    let dd = input_dim.max(1).next_power_of_two();
    let blocks = output_dim.div_ceil(dd);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut parts = FastfoodParts {
        scaling: Vec::new(),
        gaussian: Vec::new(),
        signs: Vec::new(),
        permutation: Vec::new(),
    };
    for _ in 0..blocks {
        let signs: Vec<f64> = (0..dd)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let mut perm: Vec<usize> = (0..dd).collect();
        perm.shuffle(&mut rng);
        let g: Vec<f64> = (0..dd).map(|_| rng.sample(StandardNormal)).collect();
        let frob = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        let s: Vec<f64> = (0..dd)
            .map(|_| {
                let chi = (0..dd)
                    .map(|_| {
                        let z: f64 = rng.sample(StandardNormal);
                        z * z
                    })
                    .sum::<f64>()
                    .sqrt();
                chi / frob
            })
            .collect();
        parts.scaling.extend(s);
        parts.gaussian.extend(g);
        parts.signs.extend(signs);
        parts.permutation.extend(perm);
    }
    AdaptiveFastfood::from_parts(input_dim, output_dim, sigma, parts, trainable)
}

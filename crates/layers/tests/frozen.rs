//! A Fastfood layer with S, G, B frozen is the rks Fastfood projection, bit for bit.

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::Fastfood;
use rks_layers::{AdaptiveFastfood, Trainable};

#[test]
fn frozen_layer_equals_rks_projection_exactly() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (d, n, sigma, seed) in [
        (8, 16, 1.0, 0),
        (5, 20, 0.7, 1),
        (64, 1000, 3.0, 2),
        (16, 3, 2.5, 3),
        (1, 4, 1.0, 4),
        (100, 300, 9.0, 5),
    ] {
        let map = Fastfood::params()
            .n_frequencies(n)
            .sigma(sigma)
            .seed(seed)
            .build(d)
            .unwrap();
        let x =
            Array2::from_shape_simple_fn((37, d), || -> f64 { StandardNormal.sample(&mut rng) });
        let want = map.project(x.view()).unwrap();
        let layer = AdaptiveFastfood::from_fastfood(&map, Trainable::NONE).unwrap();
        assert_eq!(layer.forward(x.view()).unwrap(), want, "d={d} n={n}");
        assert_eq!(layer.forward_train(x.view()).unwrap().0, want);
        // The seeded constructor draws the same parameters.
        let seeded = AdaptiveFastfood::new(d, n, sigma, seed, Trainable::NONE).unwrap();
        assert_eq!(seeded, layer);
        assert_eq!(layer.padded_dim(), map.padded_dim());
        assert_eq!(layer.n_blocks(), map.blocks().len());
        assert_eq!(
            layer.parts().scaling[..d.min(n)],
            map.blocks()[0].scaling()[..d.min(n)]
        );
    }
}

#[test]
fn the_layer_differs_once_trained_parameters_move() {
    // Guard against a test that passes because both sides ignore the parameters.
    let map = Fastfood::params()
        .n_frequencies(8)
        .sigma(1.0)
        .seed(9)
        .build(8)
        .unwrap();
    let layer = AdaptiveFastfood::from_fastfood(&map, Trainable::ALL).unwrap();
    let mut parts = layer.parts();
    parts.gaussian[3] += 0.5;
    let moved = AdaptiveFastfood::from_parts(8, 8, 1.0, parts, Trainable::ALL).unwrap();
    let x = Array2::from_elem((1, 8), 1.0);
    assert_ne!(
        moved.forward(x.view()).unwrap(),
        map.project(x.view()).unwrap()
    );
}

//! A model's scores Φ·W (rows × D features times D × m weights, f64): `rks::product::FixedRight`
//! (the same bits on every CPU) against ndarray's `dot` (matrixmultiply), for m = 1 (regression
//! and two classes), 10 and 26 classes, best of the repeats, one thread and all threads.
//!
//! Run: `cargo run --release -p rks --example product_cpu [repeats]`.

mod support;

use std::time::Instant;

use ndarray::Array2;
use rks::product::FixedRight;

fn best(repeats: usize, mut f: impl FnMut()) -> f64 {
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let repeats = support::repeats(5);
    let (rows, features) = (20_000, 4_096);
    let phi = Array2::from_shape_fn((rows, features), |(i, j)| {
        ((i * 7 + j * 13) % 101) as f64 / 101.0 - 0.5
    });
    println!("| m | threads | ndarray dot, s | FixedRight, s | ratio |");
    println!("|---|---|---|---|---|");
    for m in [1, 10, 26] {
        let w = Array2::from_shape_fn((features, m), |(k, j)| {
            ((k * 3 + j * 5) % 17) as f64 / 17.0 - 0.5
        });
        for threads in [1, 2] {
            let pool = support::pool(threads);
            let (dot, ours) = pool.install(|| {
                let dot = best(repeats, || {
                    std::hint::black_box(phi.dot(&w));
                });
                let ours = best(repeats, || {
                    let product = FixedRight::new(w.view());
                    std::hint::black_box(product.multiply(phi.view()).unwrap());
                });
                (dot, ours)
            });
            println!(
                "| {m} | {threads} | {dot:.4} | {ours:.4} | {:.2} |",
                ours / dot
            );
        }
    }
}

//! Time of drawing the maps' parameters with each sampler (`rks::variates`): the dense W of
//! the benchmark shape (n = 16,384 × d = 1,024 standard normals; the Laplacian's Cauchy
//! variates), Fastfood's and SORF's factors at that shape (Matérn: χ² draws), and ORF at
//! n = 4,096 (its Gram–Schmidt dominates). One thread, best of `repeats`, wall time (the
//! structured maps' draws take milliseconds, below the resolution of the CPU clock the other
//! examples read).
//!
//! Run: `cargo run --release -p rks --example draw_cpu [repeats]`.

mod support;

use rks::variates::Sampler;
use rks::{AnyMap, Bandwidth, FeatureMap, Kernel, MapKind, MapSpec};
use std::time::Instant;

use support::{DIM, FREQUENCIES};

/// Best seconds of drawing the map of (kind, n, kernel) with `sampler` and packing its
/// f64 parameters (a one-row transform: the dense map draws W on first use).
fn best(kind: MapKind, n: usize, kernel: Kernel, sampler: Sampler, repeats: usize) -> f64 {
    let spec = MapSpec::new(kind, DIM, n, Bandwidth::Sigma(32.0), kernel, 1)
        .unwrap()
        .with_sampler(sampler);
    let x = ndarray::Array2::<f64>::zeros((1, DIM));
    (0..repeats)
        .map(|_| {
            let t0 = Instant::now();
            let map = AnyMap::from_spec(&spec).unwrap();
            std::hint::black_box(map.transform(x.view()).unwrap());
            t0.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let repeats = support::repeats(3);
    support::one_thread().install(|| {
        println!("| map | kernel | n | portable, s | rand_distr, s | ratio |");
        println!("|---|---|---|---|---|---|");
        let cases = [
            (MapKind::Dense, FREQUENCIES, Kernel::Gaussian),
            (MapKind::Dense, FREQUENCIES, Kernel::Laplacian),
            (MapKind::Fastfood, FREQUENCIES, Kernel::Gaussian),
            (MapKind::Fastfood, FREQUENCIES, Kernel::Matern32),
            (MapKind::Sorf, FREQUENCIES, Kernel::Matern32),
            (MapKind::Orf, 4096, Kernel::Gaussian),
        ];
        for (kind, n, kernel) in cases {
            let portable = best(kind, n, kernel, Sampler::Portable, repeats);
            let old = best(kind, n, kernel, Sampler::RandDistr, repeats);
            println!(
                "| {kind} | {kernel:?} | {n} | {portable:.5} | {old:.5} | {:.2} |",
                portable / old
            );
        }
    });
}

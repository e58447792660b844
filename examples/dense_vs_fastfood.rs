//! Dense Random Kitchen Sinks against Fastfood where Fastfood is meant to shine: wide inputs.
//!
//! For 2,000 rows of d = 1,024 standard-normal columns (the shape of the peer figures in
//! docs/peer-baselines.md) and a growing number of frequencies n, both maps approximate the same
//! Gaussian kernel; the table shows the time to map all rows (f32, all cores), the memory of the
//! parameters, and the kernel error |φ(x)·φ(y) − k(x,y)| on 300 pairs of rows. Dense costs
//! O(n·d) time and memory per row, Fastfood O(n log d) time and O(n) memory; both errors shrink
//! like 1/√n.
//!
//! ```text
//! cargo run --release --example dense_vs_fastfood [-- ROWS D]
//! ```

use std::time::Instant;

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::{AnyMap, Bandwidth, FeatureMap, Kernel, MapKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let rows = args.next().transpose()?.unwrap_or(2000);
    let d = args.next().transpose()?.unwrap_or(1024);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = Array2::from_shape_simple_fn((rows, d), || StandardNormal.sample(&mut rng));
    let x32 = x.mapv(|v: f64| v as f32);
    // σ = √d puts typical pairs (‖x − y‖² ≈ 2d) at k ≈ e⁻¹, where the kernel is informative.
    let bandwidth = Bandwidth::Sigma((d as f64).sqrt());
    let pairs: Vec<(usize, usize)> = (0..300)
        .map(|i| (i % rows, (i * 7 + 1) % rows))
        .filter(|(a, b)| a != b)
        .collect();

    println!("{rows} rows × d = {d}, Gaussian kernel, σ = √d; times are the best of 3 runs\n");
    println!(
        "{:>6} | {:>10} {:>10} {:>8} | {:>10} {:>10} | {:>9} {:>9}",
        "n", "dense", "fastfood", "speedup", "dense mem", "ff mem", "dense err", "ff err"
    );
    for n in [1024, 4096, 8192] {
        let mut cells = Vec::new();
        for kind in [MapKind::Dense, MapKind::Fastfood] {
            let map = AnyMap::build(kind, d, n, bandwidth, Kernel::Gaussian, 7)?;
            let mut out = Array2::<f32>::zeros((rows, map.output_dim()));
            let mut best = f64::INFINITY;
            for _ in 0..3 {
                let start = Instant::now();
                map.transform_into(x32.view(), out.view_mut())?;
                best = best.min(start.elapsed().as_secs_f64());
            }
            let phi = map.transform(x.view())?;
            let mut error = 0.0;
            for &(a, b) in &pairs {
                let exact =
                    Kernel::Gaussian.exact(&x.row(a).to_vec(), &x.row(b).to_vec(), bandwidth)?;
                error += (phi.row(a).dot(&phi.row(b)) - exact).abs() / pairs.len() as f64;
            }
            cells.push((best, map.parameter_bytes(), error));
        }
        let ((td, md, ed), (tf, mf, ef)) = (cells[0], cells[1]);
        println!(
            "{n:>6} | {:>8.1}ms {:>8.1}ms {:>7.1}× | {:>7.1}MiB {:>7.1}KiB | {ed:>9.4} {ef:>9.4}",
            1e3 * td,
            1e3 * tf,
            td / tf,
            md as f64 / (1 << 20) as f64,
            mf as f64 / 1024.0,
        );
    }
    Ok(())
}

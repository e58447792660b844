//! CPU time of the benchmark transform (2,000 rows × d = 1,024 → n = 16,384 frequencies, 32,768
//! outputs), dense RKS against Fastfood, f32 and f64, on one thread: the figures of
//! docs/benchmarks.md. CPU time (not wall time) because the machine is shared; it is read from
//! /proc/self/task/*/schedstat (nanoseconds on CPU per thread, Linux only).
//!
//! Run: `cargo run --release -p rks --example transform_cpu [repeats] [fastfood]` (with
//! `fastfood`, the dense map is skipped: quick checks of Fastfood alone).

use std::time::Instant;

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::{DenseRks, Element, Fastfood, FeatureMap};

const ROWS: usize = 2000;
const DIM: usize = 1024;
const FREQUENCIES: usize = 16384;

/// CPU nanoseconds used so far by all live threads of this process.
fn process_cpu_ns() -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux /proc");
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Best (CPU seconds, wall seconds) over `repeats` transforms.
fn time<F: Element, M: FeatureMap>(
    map: &M,
    x: &Array2<F>,
    out: &mut Array2<F>,
    repeats: usize,
) -> (f64, f64) {
    (0..repeats)
        .map(|_| {
            let (c0, w0) = (process_cpu_ns(), Instant::now());
            map.transform_into(x.view(), out.view_mut()).unwrap();
            (
                (process_cpu_ns() - c0) as f64 * 1e-9,
                w0.elapsed().as_secs_f64(),
            )
        })
        .fold((f64::INFINITY, f64::INFINITY), |(c, w), (c1, w1)| {
            (c.min(c1), w.min(w1))
        })
}

fn run<F: Element>(name: &str, dense: Option<&DenseRks>, fastfood: &Fastfood, repeats: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x = Array2::from_shape_simple_fn((ROWS, DIM), || {
        F::from_f64_lossy(StandardNormal.sample(&mut rng))
    });
    let mut out = Array2::<F>::zeros((ROWS, 2 * FREQUENCIES));
    let (ff_cpu, ff_wall) = time(fastfood, &x, &mut out, repeats);
    let (de_cpu, de_wall) = dense.map_or((f64::NAN, f64::NAN), |dense| {
        time(dense, &x, &mut out, repeats.min(2))
    });
    println!(
        "| {name} | {de_cpu:.3} ({de_wall:.3}) | {ff_cpu:.4} ({ff_wall:.4}) | {:.1} | {:.1} | {:.1} |",
        de_cpu / ff_cpu,
        de_cpu / (ROWS * 2 * FREQUENCIES) as f64 * 1e9,
        ff_cpu / (ROWS * 2 * FREQUENCIES) as f64 * 1e9,
    );
}

fn main() {
    let repeats = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let dense_too = std::env::args().nth(2).as_deref() != Some("fastfood");
    let gamma = 1.0 / DIM as f64;
    let dense = DenseRks::params()
        .n_frequencies(FREQUENCIES)
        .gamma(gamma)
        .seed(1)
        .build(DIM)
        .unwrap();
    let fastfood = Fastfood::params()
        .n_frequencies(FREQUENCIES)
        .gamma(gamma)
        .seed(1)
        .build(DIM)
        .unwrap();
    println!(
        "parameter memory: dense {} bytes, Fastfood {} bytes ({:.0}x less)",
        dense.parameter_bytes(),
        fastfood.parameter_bytes(),
        dense.parameter_bytes() as f64 / fastfood.parameter_bytes() as f64
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    println!(
        "| dtype | dense CPU s (wall) | Fastfood CPU s (wall) | speed-up | dense ns/output | Fastfood ns/output |"
    );
    println!("|---|---|---|---|---|---|");
    pool.install(|| {
        let dense = dense_too.then_some(&dense);
        run::<f32>("f32", dense, &fastfood, repeats);
        run::<f64>("f64", dense, &fastfood, repeats);
    });
}

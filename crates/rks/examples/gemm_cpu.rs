//! CPU time and GFLOP/s of the dense map's projection X·Wᵀ alone (no cos/sin) at the benchmark
//! shape, 2,000 rows × d = 1,024 → n = 16,384, on one thread: the figure to hold against a BLAS
//! GEMM of the same shape (2·rows·d·n flops), into a preallocated output. CPU time as in
//! `transform_cpu`.
//!
//! Run: `cargo run --release -p rks --example gemm_cpu [repeats]`.

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::{DenseRks, Element};

const ROWS: usize = 2000;
const DIM: usize = 1024;
const FREQUENCIES: usize = 16384;

/// CPU nanoseconds used so far by all live threads of this process (Linux).
fn process_cpu_ns() -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux /proc");
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn run<F: Element>(name: &str, map: &DenseRks, repeats: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x = Array2::from_shape_simple_fn((ROWS, DIM), || {
        F::from_f64_lossy(StandardNormal.sample(&mut rng))
    });
    // The first call of a precision may pack W for it: not timed.
    let mut z = map.project(x.view()).unwrap();
    let best = (0..repeats)
        .map(|_| {
            let c0 = process_cpu_ns();
            map.project_into(x.view(), z.view_mut()).unwrap();
            std::hint::black_box(&mut z);
            (process_cpu_ns() - c0) as f64 * 1e-9
        })
        .fold(f64::INFINITY, f64::min);
    let flops = 2.0 * (ROWS * DIM * FREQUENCIES) as f64;
    println!("| {name} | {best:.3} | {:.1} |", flops / best * 1e-9);
}

fn main() {
    let repeats = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    let map = DenseRks::params()
        .n_frequencies(FREQUENCIES)
        .gamma(1.0 / DIM as f64)
        .seed(1)
        .build(DIM)
        .unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    println!("| dtype | X·Wᵀ CPU s | GFLOP/s |");
    println!("|---|---|---|");
    pool.install(|| {
        run::<f32>("f32", &map, repeats);
        run::<f64>("f64", &map, repeats);
    });
}

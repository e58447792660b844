//! What the CPU-time examples share: the benchmark shape of docs/benchmarks.md, its input, the
//! maps at that shape and a CPU clock (the machine is shared, so wall time misleads). Also
//! included by `benches/transform.rs`.

// Each user takes only the pieces it needs.
#![allow(dead_code)]

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::{DenseRks, Element, Fastfood, MapParams, Sorf};

/// Rows of the benchmark input.
pub const ROWS: usize = 2000;
/// Input dimension d.
pub const DIM: usize = 1024;
/// Frequencies n (output 2n).
pub const FREQUENCIES: usize = 16384;

/// The benchmark input: ROWS × DIM standard normals from a fixed seed.
pub fn input<F: Element>() -> Array2<F> {
    input_of(ROWS, DIM)
}

/// `rows` × `dim` standard normals from the benchmark input's seed.
pub fn input_of<F: Element>(rows: usize, dim: usize) -> Array2<F> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    Array2::from_shape_simple_fn((rows, dim), || {
        F::from_f64_lossy(StandardNormal.sample(&mut rng))
    })
}

/// The parameters of the benchmark maps: n frequencies, γ = 1/d, seed 1.
fn params<M>(params: MapParams<M>) -> MapParams<M> {
    params
        .n_frequencies(FREQUENCIES)
        .gamma(1.0 / DIM as f64)
        .seed(1)
}

/// The dense map at the benchmark shape.
pub fn dense() -> DenseRks {
    params(DenseRks::params()).build(DIM).unwrap()
}

/// The Fastfood map at the benchmark shape.
pub fn fastfood() -> Fastfood {
    params(Fastfood::params()).build(DIM).unwrap()
}

/// The SORF map at the benchmark shape.
pub fn sorf() -> Sorf {
    params(Sorf::params()).build(DIM).unwrap()
}

/// A rayon pool of `threads` threads.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// The first command-line argument as the number of repetitions, else `default`.
pub fn repeats(default: usize) -> usize {
    std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// A rayon pool of one thread: the tables are per core.
pub fn one_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
}

/// CPU nanoseconds used so far by all live threads of this process, from
/// /proc/self/task/*/schedstat (Linux only).
pub fn process_cpu_ns() -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("Linux /proc");
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

//! The structured maps at the benchmark shape (2,000 rows × d = 1,024 → n = 16,384 frequencies,
//! 32,768 outputs): Fastfood and SORF, f32 and f64. For each, one and two threads alternated:
//! the best CPU time (summed over the threads), the bound 2·CPU₁/CPU₂ it puts on the two-thread
//! speed-up, and the best wall times and their ratio (the machine may be shared: compare the
//! CPU times across libraries, the wall times only with each other). The figures of docs/benchmarks.md; the SIMD level is the CPU's (AVX-512
//! where it has it).
//!
//! Run: `cargo run --release -p rks --example structured_cpu [repeats]`.

mod support;

use std::time::Instant;

use ndarray::Array2;
use rks::{Element, FeatureMap};
use support::{FREQUENCIES, ROWS, process_cpu_ns};

/// Best (CPU seconds, wall seconds) of one transform over `repeats`.
fn best<F: Element, M: FeatureMap + Sync>(
    map: &M,
    x: &Array2<F>,
    out: &mut Array2<F>,
    pool: &rayon::ThreadPool,
    repeats: usize,
) -> (f64, f64) {
    pool.install(|| {
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
    })
}

fn run<F: Element, M: FeatureMap + Sync>(name: &str, dtype: &str, map: &M, repeats: usize) {
    let x = support::input::<F>();
    let mut out = Array2::<F>::zeros((ROWS, 2 * FREQUENCIES));
    let (one, two) = (support::pool(1), support::pool(2));
    let (mut cpu1, mut wall1) = (f64::INFINITY, f64::INFINITY);
    let (mut cpu2, mut wall2) = (f64::INFINITY, f64::INFINITY);
    // Alternate one and two threads, so a busy spell of the machine hits both.
    for _ in 0..3 {
        let (c, w) = best(map, &x, &mut out, &one, repeats);
        (cpu1, wall1) = (cpu1.min(c), wall1.min(w));
        let (c, w) = best(map, &x, &mut out, &two, repeats);
        (cpu2, wall2) = (cpu2.min(c), wall2.min(w));
    }
    // With two idle cores, the two-thread speed-up is at most 2·cpu1/cpu2: the total work
    // over both threads (CPU time summed) against one thread's.
    println!(
        "| {name} | {dtype} | {cpu1:.4} | {cpu2:.4} | {:.2} | {wall1:.4} | {wall2:.4} | {:.2} | {:.2} |",
        2.0 * cpu1 / cpu2,
        wall1 / wall2,
        cpu1 / (ROWS * 2 * FREQUENCIES) as f64 * 1e9,
    );
}

fn main() {
    let repeats = support::repeats(5);
    let (fastfood, sorf) = (support::fastfood(), support::sorf());
    println!(
        "| map | dtype | CPU s, 1 thread | CPU s, 2 threads (sum) | 2·ratio | wall s, 1 thread | wall s, 2 threads | wall speed-up | ns/output |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    run::<f32, _>("Fastfood", "f32", &fastfood, repeats);
    run::<f32, _>("SORF", "f32", &sorf, repeats);
    run::<f64, _>("Fastfood", "f64", &fastfood, repeats);
    run::<f64, _>("SORF", "f64", &sorf, repeats);
}

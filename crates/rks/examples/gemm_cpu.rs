//! CPU time and GFLOP/s of the dense map's projection X·Wᵀ alone (no cos/sin) at the benchmark
//! shape, 2,000 rows × d = 1,024 → n = 16,384, on one thread: the figure to hold against a BLAS
//! GEMM of the same shape (2·rows·d·n flops), into a preallocated output. CPU time as in
//! `transform_cpu`.
//!
//! Run: `cargo run --release -p rks --example gemm_cpu [repeats]`.

mod support;

use rks::{DenseRks, Element};
use support::{DIM, FREQUENCIES, ROWS, process_cpu_ns};

fn run<F: Element>(name: &str, map: &DenseRks, repeats: usize) {
    let x = support::input::<F>();
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
    let repeats = support::repeats(3);
    let map = support::dense();
    println!("| dtype | X·Wᵀ CPU s | GFLOP/s |");
    println!("|---|---|---|");
    support::one_thread().install(|| {
        run::<f32>("f32", &map, repeats);
        run::<f64>("f64", &map, repeats);
    });
}

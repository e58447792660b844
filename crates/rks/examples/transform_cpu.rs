//! CPU time of the benchmark transform (2,000 rows × d = 1,024 → n = 16,384 frequencies, 32,768
//! outputs), dense RKS against Fastfood, f32 and f64, on one thread: the figures of
//! docs/benchmarks.md. CPU time (not wall time) because the machine is shared; it is read from
//! /proc/self/task/*/schedstat (nanoseconds on CPU per thread, Linux only).
//!
//! Run: `cargo run --release -p rks --example transform_cpu [repeats] [fastfood]` (with
//! `fastfood`, the dense map is skipped: quick checks of Fastfood alone).

mod support;

use std::time::Instant;

use ndarray::Array2;
use rks::{DenseRks, Element, Fastfood, FeatureMap};
use support::{FREQUENCIES, ROWS, process_cpu_ns};

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
    let x = support::input::<F>();
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
    let repeats = support::repeats(5);
    let dense_too = std::env::args().nth(2).as_deref() != Some("fastfood");
    let (dense, fastfood) = (support::dense(), support::fastfood());
    println!(
        "parameter memory: dense {} bytes, Fastfood {} bytes ({:.0}x less)",
        dense.parameter_bytes(),
        fastfood.parameter_bytes(),
        dense.parameter_bytes() as f64 / fastfood.parameter_bytes() as f64
    );
    println!(
        "| dtype | dense CPU s (wall) | Fastfood CPU s (wall) | speed-up | dense ns/output | Fastfood ns/output |"
    );
    println!("|---|---|---|---|---|---|");
    support::one_thread().install(|| {
        let dense = dense_too.then_some(&dense);
        run::<f32>("f32", dense, &fastfood, repeats);
        run::<f64>("f64", dense, &fastfood, repeats);
    });
}

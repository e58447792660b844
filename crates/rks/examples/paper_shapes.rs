//! Dense RKS against Fastfood at the three shapes of the Fastfood paper's Table 2 (Le, Sarlós &
//! Smola 2013: d = 1,024, n = 16,384; d = 4,096, n = 32,768; d = 8,192, n = 65,536), f32, one
//! thread, CPU time per input row. The dense map is built in f32 only (W held as n·d·4 bytes:
//! 2 GiB at the largest shape), and its draw is kept out of the timing by a first one-row
//! transform.
//!
//! Run: `cargo run --release -p rks --example paper_shapes [repeats]` (about a minute).

mod support;

use ndarray::{Array2, s};
use rks::{DenseRks, Fastfood, FeatureMap, MapParams};
use support::process_cpu_ns;

/// (d, n, rows timed): rows chosen so the dense transform takes about a second here.
const SHAPES: [(usize, usize, usize); 3] =
    [(1024, 16384, 400), (4096, 32768, 200), (8192, 65536, 60)];
/// The paper's Table 2 speed-ups, for the same shapes.
const PAPER: [f64; 3] = [24.0, 89.0, 199.0];

/// Best CPU seconds per transform of `x` over `repeats` measurements of `batch` transforms each
/// (the CPU clock of this machine advances in steps of a few milliseconds).
fn best<M: FeatureMap>(
    map: &M,
    x: &Array2<f32>,
    out: &mut Array2<f32>,
    repeats: usize,
    batch: usize,
) -> f64 {
    (0..repeats)
        .map(|_| {
            let start = process_cpu_ns();
            for _ in 0..batch {
                map.transform_into(x.view(), out.view_mut()).unwrap();
            }
            (process_cpu_ns() - start) as f64 * 1e-9 / batch as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// n frequencies, γ = 1/d, seed 1 (as the benchmark maps).
fn params<M>(p: MapParams<M>, d: usize, n: usize) -> MapParams<M> {
    p.n_frequencies(n).gamma(1.0 / d as f64).seed(1)
}

fn main() {
    let repeats = support::repeats(3);
    println!(
        "| d | n | dense µs/row | Fastfood µs/row | speed-up | paper | parameter memory ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    support::one_thread().install(|| {
        for ((d, n, rows), paper) in SHAPES.into_iter().zip(PAPER) {
            let x = support::input_of::<f32>(rows, d);
            let mut out = Array2::<f32>::zeros((rows, 2 * n));
            let dense: DenseRks = params(DenseRks::params(), d, n).build(d).unwrap();
            let fastfood: Fastfood = params(Fastfood::params(), d, n).build(d).unwrap();
            // The first transform draws W; keep that out of the timing.
            dense.transform(x.slice(s![..1, ..])).unwrap();
            let dense_s = best(&dense, &x, &mut out, repeats.min(2), 1);
            let fastfood_s = best(&fastfood, &x, &mut out, 3 * repeats, 10);
            println!(
                "| {d} | {n} | {:.0} | {:.1} | {:.0}× | {paper:.0}× | {:.0}× |",
                dense_s / rows as f64 * 1e6,
                fastfood_s / rows as f64 * 1e6,
                dense_s / fastfood_s,
                dense.parameter_bytes() as f64 / fastfood.parameter_bytes() as f64,
            );
        }
    });
}

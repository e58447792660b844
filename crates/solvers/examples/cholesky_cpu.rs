//! The Cholesky factorisation and solve behind a ridge model's weights ([`rks_solvers::dense`])
//! against faer's `llt` on the same matrix: A = GGᵀ/n + 10⁻³·I for a uniform random G (n × n),
//! one right-hand side and 26 (letter's classes). Prints the best of `R` repetitions (first
//! argument, default 3) in seconds of wall time, for n = 1,024, 2,048 and 4,096, and the largest
//! difference between the two solutions relative to the largest entry; then the Gram matrix
//! XXᵀ of rows (the dual form's K) against faer's lower-triangular product on both threads.
//!
//! `cargo run --release -p rks-solvers --example cholesky_cpu [R]`
//! (`RAYON_NUM_THREADS=1` for one thread; faer's factorisation runs on one thread here either way)
use std::time::Instant;

use faer::Side;
use faer::prelude::Solve;
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks_solvers::dense::Cholesky;

fn best<T>(repetitions: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = None;
    let mut best = f64::INFINITY;
    for _ in 0..repetitions {
        let start = Instant::now();
        let v = f();
        best = best.min(start.elapsed().as_secs_f64());
        out = Some(v);
    }
    (
        best,
        out.unwrap_or_else(|| unreachable!("at least one repetition")),
    )
}

fn main() {
    let repetitions: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    println!(
        "| n | right-hand sides | rks factor + solve, s | faer llt + solve, s | ratio | largest relative difference |"
    );
    println!("|---|---|---|---|---|---|");
    for n in [1024, 2048, 4096] {
        let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
        let g = Array2::from_shape_simple_fn((n, n), || rng.random_range(-1.0..1.0));
        let a = rks::product::FixedRight::new(g.t())
            .multiply(g.view())
            .expect("product")
            / n as f64;
        for m in [1, 26] {
            let b = Array2::from_shape_simple_fn((n, m), || rng.random_range(-1.0..1.0));
            let (ours_s, ours) = best(repetitions, || {
                Cholesky::factor(a.clone(), 1e-3)
                    .expect("positive definite")
                    .solve(b.view())
                    .expect("shapes agree")
            });
            let (faer_s, theirs) = best(repetitions, || {
                let mut fa = faer::Mat::from_fn(n, n, |i, j| a[[i, j]]);
                for i in 0..n {
                    fa[(i, i)] += 1e-3;
                }
                let fb = faer::Mat::from_fn(n, m, |i, j| b[[i, j]]);
                fa.llt(Side::Lower).expect("positive definite").solve(fb)
            });
            let scale = ours.iter().fold(0.0f64, |s, v| s.max(v.abs()));
            let gap = ours
                .indexed_iter()
                .fold(0.0f64, |s, ((i, j), v)| s.max((v - theirs[(i, j)]).abs()));
            println!(
                "| {n} | {m} | {ours_s:.3} | {faer_s:.3} | {:.2} | {:.1e} |",
                ours_s / faer_s,
                gap / scale
            );
        }
    }
    println!();
    println!(
        "| rows N | features D | rks `row_gram` XXᵀ, s | faer lower-triangular XXᵀ, s | ratio |"
    );
    println!("|---|---|---|---|---|");
    for (rows, dim) in [(1437, 1437), (2000, 4096), (4000, 4096)] {
        let mut rng = ChaCha8Rng::seed_from_u64(rows as u64);
        let x = Array2::from_shape_simple_fn((rows, dim), || rng.random_range(-1.0..1.0));
        let (ours_s, _) = best(repetitions, || rks_solvers::dense::row_gram(x.view()));
        let (faer_s, _) = best(repetitions, || {
            let xt = faer::MatRef::from_column_major_slice(
                x.as_slice().expect("standard layout"),
                dim,
                rows,
            );
            let mut g = faer::Mat::<f64>::zeros(rows, rows);
            faer::linalg::matmul::triangular::matmul(
                g.as_mut(),
                faer::linalg::matmul::triangular::BlockStructure::TriangularLower,
                faer::Accum::Replace,
                xt.transpose(),
                faer::linalg::matmul::triangular::BlockStructure::Rectangular,
                xt,
                faer::linalg::matmul::triangular::BlockStructure::Rectangular,
                1.0,
                faer::Par::rayon(0),
            );
            g
        });
        println!(
            "| {rows} | {dim} | {ours_s:.3} | {faer_s:.3} | {:.2} |",
            ours_s / faer_s
        );
    }
}

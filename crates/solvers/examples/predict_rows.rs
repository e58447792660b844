//! One-row predictions against one call for all rows: a model fitted on the bundled digits
//! (Fastfood or Nyström, ridge at a fixed λ, no search), then `decision_function` on the 360
//! test rows one row a call and in one call. Prints the best of `R` repetitions (first
//! argument, default 5) of the time per row, in µs.
//!
//! `cargo run --release -p rks-solvers --example predict_rows [R]`
use std::time::Instant;

use rks::{MapKind, Named};
use rks_solvers::{KernelMachine, Lambda, Solver};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repetitions: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/");
    let train = rks_data::libsvm::read_path(format!("{dir}digits.train"), Some(64))?;
    let test = rks_data::libsvm::read_path(format!("{dir}digits.test"), Some(64))?;
    println!("| map | n | one row a call, µs per row | all rows in one call, µs per row |");
    println!("|---|---|---|---|");
    for (kind, n) in [
        (MapKind::Fastfood, 1024),
        (MapKind::Fastfood, 4096),
        (MapKind::Nystrom, 1024),
    ] {
        let model = KernelMachine::params()
            .map(kind)
            .n_frequencies(n)
            .solver(Solver::Ridge {
                lambda: Lambda::Fixed(1e-3),
            })
            .selection(None)
            .check()?
            .fit(train.x.view(), train.y.view())?;
        let rows = test.x.nrows();
        let (mut single, mut batch) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..repetitions {
            let start = Instant::now();
            for i in 0..rows {
                std::hint::black_box(
                    model.decision_function(test.x.slice(ndarray::s![i..i + 1, ..]))?,
                );
            }
            single = single.min(start.elapsed().as_secs_f64());
            let start = Instant::now();
            std::hint::black_box(model.decision_function(test.x.view())?);
            batch = batch.min(start.elapsed().as_secs_f64());
        }
        let us = |s: f64| 1e6 * s / rows as f64;
        println!(
            "| {} | {n} | {:.1} | {:.1} |",
            kind.name(),
            us(single),
            us(batch)
        );
    }
    Ok(())
}

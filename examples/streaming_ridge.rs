//! Streaming ridge regression: fit a kernel machine on a LIBSVM file chunk by chunk, so memory
//! stays at O(D² + chunk·D) however many rows the file has.
//!
//! The example writes a synthetic regression problem (y = sin(3x₀)·cos(2x₁) + x₂² + noise, four
//! columns) of ROWS rows into a temporary directory, then fits it with
//! `KernelMachineValidParams::fit_stream`: pass 1 streams the file for the scaler statistics
//! and a reservoir sample for the median-heuristic bandwidth, pass 2 streams it again through
//! the feature map into the ridge sufficient statistics (ΦᵀΦ, Φᵀy), and λ is chosen by GCV at
//! the end. The held-out file is then predicted chunk by chunk too.
//!
//! ```text
//! cargo run --release --example streaming_ridge [-- ROWS CHUNK_ROWS]
//! ```

use std::time::Instant;

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};
use rks_data::Dataset;
use rks_data::libsvm::{self, LibsvmChunks};
use rks_solvers::{KernelMachine, SolverInfo, Task};

/// Columns; the target depends on the first three, the fourth is noise.
const D: usize = 4;

/// `rows` rows of the synthetic problem, drawn from a generator seeded with `seed`.
fn synthetic(rows: usize, seed: u64) -> Result<Dataset, Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let uniform = Uniform::new(-1.0f64, 1.0)?;
    let noise = Normal::new(0.0, 0.1)?;
    let x: Array2<f64> = Array2::from_shape_simple_fn((rows, D), || uniform.sample(&mut rng));
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| (3.0 * r[0]).sin() * (2.0 * r[1]).cos() + r[2] * r[2] + noise.sample(&mut rng))
        .collect();
    Ok(Dataset::new(x, y)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let rows = args.next().transpose()?.unwrap_or(200_000);
    let chunk_rows = args.next().transpose()?.unwrap_or(10_000);

    let dir = tempfile::tempdir()?;
    let (train_path, test_path) = (dir.path().join("big.train"), dir.path().join("big.test"));
    libsvm::write_path(&train_path, &synthetic(rows, 1)?)?;
    libsvm::write_path(&test_path, &synthetic(10_000, 2)?)?;
    let megabytes = std::fs::metadata(&train_path)?.len() as f64 / 1e6;
    println!(
        "wrote {rows} training rows ({megabytes:.1} MB) to {}",
        train_path.display()
    );

    let params = KernelMachine::params()
        .n_frequencies(256)
        .task(Task::Regression)
        .check()?;
    let start = Instant::now();
    // Called once per pass: each call re-opens the file, and chunks come as (x, y) pairs.
    let open = || {
        LibsvmChunks::open(&train_path, D, chunk_rows)
            .map(|chunks| chunks.map(|chunk| chunk.map(|data| (data.x, data.y))))
    };
    let model = params.fit_stream(open)?;
    let lambda = match model.info().solver {
        SolverInfo::Ridge { lambda, .. } => lambda,
        SolverInfo::Svm { .. } => f64::NAN,
    };
    println!(
        "fitted in {:.2} s, {chunk_rows} rows per chunk: σ = {:.3} (median heuristic), λ = {lambda:.2e} (GCV), {} features",
        start.elapsed().as_secs_f64(),
        model.info().sigma,
        model.weights().nrows()
    );
    println!(
        "the ridge statistics take {:.1} MB whatever the number of rows",
        (model.weights().nrows().pow(2) * 8) as f64 / 1e6
    );

    let (mut sse, mut truth) = (0.0, Vec::new());
    for chunk in LibsvmChunks::open(&test_path, D, chunk_rows)? {
        let chunk = chunk?;
        let predicted = model.predict(chunk.x.view())?;
        sse += (&predicted - &chunk.y).mapv(|e| e * e).sum();
        truth.extend(chunk.y.iter().copied());
    }
    let count = truth.len();
    let mean = truth.iter().sum::<f64>() / count as f64;
    let sst = truth.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>();
    println!(
        "held-out: RMSE {:.4} (noise σ = 0.1), R² {:.4} on {count} rows",
        (sse / count as f64).sqrt(),
        1.0 - sse / sst
    );
    Ok(())
}

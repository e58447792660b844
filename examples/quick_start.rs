//! Fit a Fastfood kernel machine, predict, save and load it back: the whole API in one screen.
//!
//! ```text
//! cargo run --release --example quick_start
//! ```

use rks_solvers::{KernelMachine, SolverInfo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // LIBSVM files omit zero features: read with the dimension datasets/README.md gives (64).
    let train = rks_data::libsvm::read_path("datasets/digits.train", Some(64))?;
    let test = rks_data::libsvm::read_path("datasets/digits.test", Some(64))?;

    // Fastfood map with 1,024 frequencies, σ by the median heuristic, min-max scaling, ridge
    // with λ chosen by generalised cross-validation.
    let model = KernelMachine::params()
        .n_frequencies(1024)
        .check()?
        .fit(train.x.view(), train.y.view())?;
    let predicted = model.predict(test.x.view())?;
    let correct = predicted
        .iter()
        .zip(&test.y)
        .filter(|(p, y)| p == y)
        .count();
    println!(
        "digits: {correct}/{} test rows right ({:.2} %)",
        test.y.len(),
        100.0 * correct as f64 / test.y.len() as f64
    );
    if let SolverInfo::Ridge { lambda, .. } = model.info().solver {
        println!(
            "σ = {:.3} (median heuristic), λ = {lambda:.2e} (GCV)",
            model.info().sigma
        );
    }

    // Save, load, and check the loaded model predicts the same.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("digits.rks");
    model.save(&path)?;
    let loaded = KernelMachine::load(&path)?;
    assert_eq!(loaded.predict(test.x.view())?, predicted);
    println!(
        "saved to and loaded from {} ({} bytes)",
        path.display(),
        std::fs::metadata(&path)?.len()
    );
    Ok(())
}

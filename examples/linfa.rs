//! rks through linfa's traits: `Fit` on a linfa `Dataset`, `Predict`, linfa's confusion matrix
//! and k-fold splits, and a feature map as a linfa `Transformer`.
//!
//! ```text
//! cargo run --release --example linfa
//! ```

use linfa::prelude::*;
use linfa::traits::{Predict, Transformer};
use ndarray::{Array1, Array2, Ix1};
use rks::{AnyMap, Bandwidth, Kernel, MapKind};
use rks_solvers::svm::SvmLoss;
use rks_solvers::{KernelMachine, Solver, SolversError};

/// A bundled LIBSVM file as a linfa dataset with `usize` class targets.
fn load(path: &str) -> Result<Dataset<f64, usize, Ix1>, Box<dyn std::error::Error>> {
    let data = rks_data::libsvm::read_path(path, Some(64))?;
    let targets: Array1<usize> = data.y.mapv(|v| v as usize);
    Ok(Dataset::new(data.x, targets))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let train = load("datasets/digits.train")?;
    let test = load("datasets/digits.test")?;
    let params = |c: f64| {
        KernelMachine::params()
            .map(MapKind::Fastfood)
            .n_frequencies(512)
            .solver(Solver::Svm {
                c,
                loss: SvmLoss::SquaredHinge,
            })
    };

    // linfa k-fold cross-validation picks C (the params are checked by linfa's ParamGuard).
    let mut best = (0.0, f64::NAN);
    for c in [0.1, 1.0, 10.0] {
        let mut accuracies = Vec::new();
        for (fit_part, held_out) in train.fold(3) {
            let model = Fit::<_, _, SolversError>::fit(&params(c), &fit_part)?;
            let predicted: Array1<f64> = Predict::predict(&model, held_out.records());
            let predicted = predicted.mapv(|v| v as usize);
            accuracies.push(predicted.confusion_matrix(&held_out)?.accuracy());
        }
        let mean = accuracies.iter().sum::<f32>() / accuracies.len() as f32;
        println!("C = {c:>4}: 3-fold accuracy {:.2} %", 100.0 * mean);
        if mean > best.0 {
            best = (mean, c);
        }
    }

    let model = Fit::<_, _, SolversError>::fit(&params(best.1), &train)?;
    let predicted: Array1<f64> = Predict::predict(&model, test.records());
    let matrix = predicted.mapv(|v| v as usize).confusion_matrix(&test)?;
    println!(
        "C = {}: test accuracy {:.2} %, MCC {:.3}",
        best.1,
        100.0 * matrix.accuracy(),
        matrix.mcc()
    );

    // Any rks map is a linfa Transformer: features for another linfa model (σ in raw pixel
    // units here, since no scaler is applied).
    let map = AnyMap::build(
        MapKind::Fastfood,
        64,
        256,
        Bandwidth::Sigma(40.0),
        Kernel::Gaussian,
        0,
    )?;
    let features: Array2<f64> = Transformer::transform(&map, test.records());
    println!(
        "Transformer: {:?} test rows -> {:?} random features",
        test.records().dim(),
        features.dim()
    );
    Ok(())
}

//! A linfa user fits and predicts with the kernel machine through linfa's traits.

use linfa::prelude::*;
use ndarray::{Array1, Array2};
use rks::Bandwidth;
use rks_solvers::error::Param;
use rks_solvers::{KernelMachine, Solver, SolversError, SvmLoss, Task};

fn rings(n: usize) -> (Array2<f64>, Array1<usize>) {
    // Two concentric rings: not linearly separable, easy for a Gaussian kernel.
    let x = Array2::from_shape_fn((n, 2), |(i, j)| {
        let r = if i % 2 == 0 { 1.0 } else { 2.0 };
        let t = i as f64 * 0.7;
        if j == 0 { r * t.cos() } else { r * t.sin() }
    });
    (x, (0..n).map(|i| i % 2).collect())
}

#[test]
fn fit_and_predict_through_linfa_traits() -> Result<(), SolversError> {
    let (x, y) = rings(200);
    let train = Dataset::new(x.clone(), y.clone());
    let params = KernelMachine::params()
        .n_frequencies(128)
        .bandwidth(Bandwidth::Sigma(0.5))
        .solver(Solver::Svm {
            c: 10.0,
            loss: SvmLoss::SquaredHinge,
        });
    // linfa's blanket `Fit` for `ParamGuard` types checks the params, then fits.
    let model = params.fit(&train)?;
    let predicted: Array1<f64> = Predict::predict(&model, &x);
    let truth = y.mapv(|v| v as f64);
    let correct = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count();
    assert!(correct >= 196, "{correct} of 200");

    // Regression targets as f64.
    let yr: Array1<f64> = x.rows().into_iter().map(|r| r[0] * r[0] - r[1]).collect();
    let reg = KernelMachine::params()
        .n_frequencies(128)
        .task(Task::Regression)
        .fit(&Dataset::new(x.clone(), yr.clone()))?;
    let pred: Array1<f64> = Predict::predict(&reg, &x);
    let rmse = ((&pred - &yr).mapv(|e| e * e).mean().unwrap()).sqrt();
    assert!(rmse < 0.1, "rmse {rmse}");

    // Bad hyper-parameters surface as the crate's error through linfa's Fit.
    let bad = KernelMachine::params().solver(Solver::Svm {
        c: -1.0,
        loss: SvmLoss::Hinge,
    });
    assert!(matches!(
        bad.fit(&train),
        Err(SolversError::InvalidParameter { name: Param::C, .. })
    ));

    // PredictInplace cannot fail: wrong columns give NaN targets.
    let wrong: Array1<f64> = Predict::predict(&model, &Array2::<f64>::zeros((3, 5)));
    assert!(wrong.iter().all(|v| v.is_nan()));
    Ok(())
}

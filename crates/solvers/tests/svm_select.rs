//! The SVM's C by stratified k-fold cross-validation with warm starts, ridge or the SVM chosen by
//! the same score, the shared cross-validation of a grid, and bad input.

mod common;

use common::uniform;
use ndarray::{Array1, Array2};
use rks::Bandwidth;
use rks_solvers::cv::{Path, Targets, cross_validate};
use rks_solvers::folds::assign_folds;
use rks_solvers::labels::signed_one_hot;
use rks_solvers::machine::{CvGrid, Selection};
use rks_solvers::svm::{SvmLoss, SvmParams};
use rks_solvers::{KernelMachine, Solver, SolverInfo, SolverKind, SolversError};

/// Two noisy classes in 4-D: the class is the sign of a curved function plus noise.
fn noisy(rows: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let x = uniform(rows, 4, seed);
    let noise = uniform(rows, 1, seed + 100);
    let y = (0..rows)
        .map(|i| {
            f64::from((2.0 * x[[i, 0]]).sin() + x[[i, 1]] * x[[i, 2]] + 0.3 * noise[[i, 0]] > 0.0)
        })
        .collect();
    (x, y)
}

fn svm(c: f64) -> Solver {
    Solver::Svm {
        c,
        loss: SvmLoss::SquaredHinge,
    }
}

#[test]
fn warm_starts_give_the_cold_starts_fold_scores() {
    let (x, y) = noisy(300, 1);
    let classes: Vec<usize> = y.iter().map(|&v| v as usize).collect();
    let folds = assign_folds(y.as_slice().unwrap(), 3, true, 4);
    let targets = signed_one_hot(&classes, 2);
    let targets = Targets {
        y: targets.view(),
        classes: Some((&classes, 2)),
    };
    let params = SvmParams {
        eps: 1e-6,
        max_epochs: 100_000,
        ..SvmParams::default()
    };
    let cs = [0.01, 0.1, 1.0, 10.0, 100.0];
    let run = |warm| {
        cross_validate(
            x.view(),
            targets,
            &folds,
            3,
            &Path::Svm {
                cs: &cs,
                params: &params,
                warm,
            },
        )
        .unwrap()
    };
    let (warm, cold) = (run(true), run(false));
    for (c, (w, k)) in cs.iter().zip(warm.iter().zip(&cold)) {
        for (a, b) in w.iter().zip(k) {
            assert_eq!(a.error, b.error, "C = {c}");
            assert!(
                (a.mse - b.mse).abs() <= 1e-4 * b.mse,
                "C = {c}: {a:?} vs {b:?}"
            );
        }
    }
}

#[test]
fn explore() {
    for seed in 0..3 {
        let (x, y) = noisy(600, seed);
        let (m, r) = KernelMachine::params()
            .n_frequencies(128)
            .selection(Selection {
                solvers: vec![SolverKind::Ridge, SolverKind::Svm],
                ..Selection::default()
            })
            .check()
            .unwrap()
            .fit_with_report(x.view(), y.view())
            .unwrap();
        let r = r.unwrap();
        eprintln!(
            "{seed}: {:?} {:?} {:?}",
            matches!(m.info().solver, SolverInfo::Svm { .. }),
            r.solver_trials,
            r.notes
        );
    }
}

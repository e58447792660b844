//! The linear map in a fit: given by hand, and offered by the solver choice on sparse rows
//! (`Selection::linear`), kept unless the kernel model is better by more than one standard error.

mod common;

use common::{fit_selecting, model_bytes_on_one_two_three_threads, uniform};
use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::{FeatureMap, Kernel, MapKind};
use rks_solvers::machine::Selection;
use rks_solvers::{KernelMachine, SolverKind};

/// Bags of words: `rows` rows over `cols` columns, each with 6 words of weight in (0, 1]; the
/// class is which of three random linear scores is largest (a linear truth, no noise).
fn bags(rows: usize, cols: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let w = uniform(3, cols, 7);
    let mut x = Array2::zeros((rows, cols));
    for i in 0..rows {
        for _ in 0..6 {
            x[[i, rng.random_range(0..cols)]] = rng.random::<f64>().max(0.05);
        }
    }
    let scores = x.dot(&w.t());
    let y = scores
        .rows()
        .into_iter()
        .map(|s| (0..3).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap() as f64)
        .collect();
    (x, y)
}

fn both(linear: bool) -> Selection {
    Selection {
        solvers: vec![SolverKind::Ridge, SolverKind::Svm],
        linear,
        ..Selection::default()
    }
}

fn accuracy(model: &KernelMachine, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let p = model.predict(x.view()).unwrap();
    p.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
}

/// On sparse rows with a linear truth, the solver choice offers the linear SVM and keeps it; the
/// model's map is the linear one (d features, σ = 1) and it predicts the held-out rows better
/// than the kernel model the same search keeps without the offer.
#[test]
fn the_linear_svm_is_kept_on_sparse_rows_with_a_linear_truth() {
    let (x, y) = bags(900, 300, 1);
    let (xt, yt) = bags(600, 300, 2);
    let params = || KernelMachine::params().n_frequencies(128).seed(3);
    let (model, report) = fit_selecting(params(), both(true), &x, &y);
    eprintln!("{:?}\n{:?}", report.solver_trials, report.notes);
    let [_, _, linear] = &report.solver_trials[..] else {
        panic!("{:?}", report.solver_trials)
    };
    assert!(linear.linear && linear.solver == SolverKind::Svm);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("linear: the rows"))
    );
    assert_eq!(model.map().kind(), MapKind::Linear);
    assert_eq!(model.map().output_dim(), 300);
    assert_eq!(report.n_frequencies, 300);
    let (kernel, report) = fit_selecting(params(), both(false), &x, &y);
    assert_eq!(report.solver_trials.len(), 2);
    assert_ne!(kernel.map().kind(), MapKind::Linear);
    let (a_linear, a_kernel) = (accuracy(&model, &xt, &yt), accuracy(&kernel, &xt, &yt));
    eprintln!("test accuracy: linear {a_linear}, kernel {a_kernel}");
    // Stated margin: three points of test accuracy.
    assert!(a_linear > a_kernel + 0.03, "{a_linear} {a_kernel}");
    // Saved and loaded, the same predictions.
    let back = KernelMachine::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!(
        back.predict(xt.view()).unwrap(),
        model.predict(xt.view()).unwrap()
    );
}

/// Dense rows are not offered the linear model: the comparison is ridge against the SVM only.
#[test]
fn dense_rows_are_not_offered_the_linear_model() {
    let x = uniform(300, 5, 4);
    let y = x.column(0).mapv(|v| f64::from((3.0 * v).sin() > 0.0));
    let (_, report) = fit_selecting(
        KernelMachine::params().n_frequencies(64),
        both(true),
        &x,
        &y,
    );
    assert_eq!(report.solver_trials.len(), 2, "{:?}", report.solver_trials);
    assert!(report.solver_trials.iter().all(|t| !t.linear));
}

/// The solver choice with the linear offer writes the same model bytes on 1, 2 and 3 threads.
#[test]
fn the_linear_offer_is_the_same_on_any_thread_count() {
    let (x, y) = bags(500, 200, 5);
    let params = KernelMachine::params()
        .n_frequencies(64)
        .selection(both(true))
        .check()
        .unwrap();
    let bytes = model_bytes_on_one_two_three_threads(&params, x.view(), y.view());
    assert!(bytes.iter().all(|b| *b == bytes[0]));
}

/// The linear map given by hand: with selection on, σ is 1 (not searched) and n is d (not
/// grown); with selection off, the same σ; the kernel must be the linear one.
#[test]
fn the_linear_map_given_by_hand() {
    let (x, y) = bags(400, 120, 6);
    let params = || {
        KernelMachine::params()
            .map(MapKind::Linear)
            .kernel(Kernel::Linear)
    };
    let selection = Selection {
        budget_seconds: Some(10.0),
        ..Selection::default()
    };
    let (model, report) = fit_selecting(params(), selection, &x, &y);
    assert_eq!(model.map().kind(), MapKind::Linear);
    assert_eq!(model.map().output_dim(), 120);
    assert_eq!((report.sigma, report.n_frequencies), (1.0, 120));
    assert!(report.sigma_trials.is_empty(), "{:?}", report.sigma_trials);
    assert_eq!(report.final_trials.len(), 1, "{:?}", report.final_trials);
    let plain = params()
        .selection(None)
        .check()
        .unwrap()
        .fit(x.view(), y.view());
    assert_eq!(plain.unwrap().map().spec().sigma(), 1.0);
    let wrong = KernelMachine::params()
        .map(MapKind::Linear)
        .check()
        .unwrap_err();
    assert!(wrong.to_string().contains("linear"), "{wrong}");
    let wrong = KernelMachine::params()
        .kernel(Kernel::Linear)
        .check()
        .unwrap_err();
    assert!(wrong.to_string().contains("linear"), "{wrong}");
}

//! Rows held as their non-zero entries: the linear SVM fitted on them (`fit_sparse`) against
//! the same model fitted on the rows laid out dense, any model's scores of them against its
//! dense scores, the same bytes for any thread count, and the errors.

mod common;

use common::{on_one_two_three_threads, uniform};
use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::scaler::ScalerKind;
use rks::{FeatureMap, MapKind};
use rks_data::{Dataset, SparseDataset};
use rks_solvers::machine::{Selection, Task};
use rks_solvers::svm::SvmLoss;
use rks_solvers::{KernelMachine, KernelMachineParams, Lambda, Solver};

/// Bags of words: `rows` rows over `cols` columns, each with 6 words of weight in (0, 1]
/// (`signed`: of either sign); the class is which of three random linear scores is largest.
fn bags(rows: usize, cols: usize, seed: u64, signed: bool) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let w = uniform(3, cols, 7);
    let mut x = Array2::zeros((rows, cols));
    for i in 0..rows {
        for _ in 0..6 {
            let v = rng.random::<f64>().max(0.05);
            let sign = if signed && rng.random::<bool>() {
                -1.0
            } else {
                1.0
            };
            x[[i, rng.random_range(0..cols)]] = sign * v;
        }
    }
    let scores = x.dot(&w.t());
    let y: Array1<f64> = scores
        .rows()
        .into_iter()
        .map(|s| (0..3).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap() as f64)
        .collect();
    Dataset::new(x, y).unwrap()
}

fn linear() -> KernelMachineParams {
    KernelMachine::params()
        .task(Task::Classification)
        .map(MapKind::Linear)
        .kernel(rks::Kernel::Linear)
        .seed(5)
}

fn svm(c: f64) -> Solver {
    Solver::Svm {
        c,
        loss: SvmLoss::SquaredHinge,
    }
}

fn accuracy(p: &Array1<f64>, y: &Array1<f64>) -> f64 {
    p.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
}

/// With C given, the sparse fit is the dense fit of the same rows to the solver's tolerance: the
/// same predictions on held-out rows, weights within 10⁻³ of their largest.
#[test]
fn the_sparse_fit_is_the_dense_fit_of_the_same_rows() {
    let (train, test) = (bags(600, 400, 1, false), bags(300, 400, 2, false));
    let params = linear().solver(svm(1.0)).selection(None).check().unwrap();
    let (sparse, report) = params
        .fit_sparse(&SparseDataset::from_dense(&train).unwrap())
        .unwrap();
    assert!(report.is_none());
    let dense = params.fit(train.x.view(), train.y.view()).unwrap();
    assert_eq!(sparse.scaler(), dense.scaler());
    assert_eq!(sparse.scaler().kind(), ScalerKind::MinMax);
    assert_eq!(sparse.map().kind(), MapKind::Linear);
    assert_eq!(sparse.map().output_dim(), 400);
    let largest = dense.weights().iter().fold(0.0f64, |m, w| m.max(w.abs()));
    let gap = (sparse.weights() - dense.weights())
        .iter()
        .fold(0.0f64, |m, w| m.max(w.abs()));
    assert!(gap <= 1e-3 * largest, "{gap} of {largest}");
    let p_sparse = sparse.predict(test.x.view()).unwrap();
    let p_dense = dense.predict(test.x.view()).unwrap();
    let agree = accuracy(&p_sparse, &p_dense);
    assert!(agree >= 0.99, "{agree}");
    assert!(accuracy(&p_sparse, &test.y) > 0.6);
}

/// A model's scores of sparse rows are its scores of the same rows dense: a linear model whose
/// min–max scaler shifts columns (signed values) through its entries, to rounding; a Fastfood
/// model through dense blocks, bit for bit.
#[test]
fn sparse_rows_score_as_the_dense_rows() {
    let (train, test) = (bags(300, 200, 3, true), bags(150, 200, 4, true));
    let sparse_test = SparseDataset::from_dense(&test).unwrap();
    let model = linear()
        .solver(svm(1.0))
        .selection(None)
        .check()
        .unwrap()
        .fit(train.x.view(), train.y.view())
        .unwrap();
    assert!(!model.scaler().keeps_zeros());
    let dense = model.decision_function(test.x.view()).unwrap();
    let sparse = model.decision_function_sparse(&sparse_test).unwrap();
    let gap = (&dense - &sparse)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(gap < 1e-10, "{gap}");
    assert_eq!(
        model.predict_sparse(&sparse_test).unwrap(),
        model.predict(test.x.view()).unwrap()
    );
    let fastfood = KernelMachine::params()
        .task(Task::Classification)
        .n_frequencies(64)
        .selection(None)
        .check()
        .unwrap()
        .fit(train.x.view(), train.y.view())
        .unwrap();
    assert_eq!(
        fastfood.decision_function_sparse(&sparse_test).unwrap(),
        fastfood.decision_function(test.x.view()).unwrap()
    );
    let narrow = SparseDataset::from_dense(&bags(5, 199, 4, true)).unwrap();
    assert!(fastfood.decision_function_sparse(&narrow).is_err());
}

/// The default search on sparse rows: C from the grid by 3-fold CV on the sample, reported, and
/// a model that predicts held-out rows well; the same bytes on one, two and three threads.
#[test]
fn the_search_chooses_c_and_the_bytes_do_not_depend_on_threads() {
    let (train, test) = (bags(1500, 500, 5, false), bags(500, 500, 6, false));
    let data = SparseDataset::from_dense(&train).unwrap();
    let params = linear()
        .selection(Selection {
            sparse_cv_rows: 900,
            ..Selection::default()
        })
        .check()
        .unwrap();
    let (model, report) = params.fit_sparse(&data).unwrap();
    let report = report.unwrap();
    eprintln!("{:?}", report.notes);
    assert_eq!(report.c_trials.len(), Selection::default().cs.len());
    assert!(report.c_trials.iter().all(|t| t.linear && t.rows == 900));
    let c = report.c.unwrap();
    assert!(Selection::default().cs.contains(&c));
    assert!(report.sigma_trials.is_empty() && report.n_frequencies == 500);
    let a = accuracy(
        &model
            .predict_sparse(&SparseDataset::from_dense(&test).unwrap())
            .unwrap(),
        &test.y,
    );
    // Stated margin: about twice chance (three classes), on a problem of ~18 words per column.
    assert!(a > 0.65, "{a}");
    let bytes =
        on_one_two_three_threads(|| params.fit_sparse(&data).unwrap().0.to_bytes().unwrap());
    assert_eq!(bytes[0], bytes[1]);
    assert_eq!(bytes[0], bytes[2]);
    let back = KernelMachine::from_bytes(&bytes[0]).unwrap();
    assert_eq!(
        back.predict(test.x.view()).unwrap(),
        model.predict(test.x.view()).unwrap()
    );
}

/// Signed columns: min–max would shift zeros, so the fit scales by max |x| and says so.
#[test]
fn columns_that_min_max_would_shift_are_scaled_by_their_largest_magnitude() {
    let data = SparseDataset::from_dense(&bags(400, 100, 7, true)).unwrap();
    let (model, report) = linear().check().unwrap().fit_sparse(&data).unwrap();
    assert_eq!(model.scaler().kind(), ScalerKind::MaxAbs);
    assert!(model.scaler().keeps_zeros());
    let notes = report.unwrap().notes;
    assert!(notes.iter().any(|n| n.contains("maxabs")), "{notes:?}");
}

#[test]
fn what_a_sparse_fit_cannot_do_is_an_error() {
    let data = SparseDataset::from_dense(&bags(50, 20, 8, false)).unwrap();
    let message = |params: KernelMachineParams| {
        params
            .check()
            .unwrap()
            .fit_sparse(&data)
            .unwrap_err()
            .to_string()
    };
    let e = message(KernelMachine::params().task(Task::Classification));
    assert!(e.contains("the fastfood map needs the rows dense"), "{e}");
    let e = message(linear().selection(None));
    assert!(e.contains("ridge needs the rows dense"), "{e}");
    let e = message(linear().task(Task::Regression).solver(Solver::Ridge {
        lambda: Lambda::Fixed(0.0),
    }));
    assert!(e.contains("λ on sparse rows must be finite and > 0"), "{e}");
    let e = message(linear().scaler(ScalerKind::Standard));
    assert!(e.contains("makes sparse rows dense"), "{e}");
    let empty = SparseDataset::new(3, vec![0], vec![], vec![], Array1::zeros(0)).unwrap();
    let e = linear().check().unwrap().fit_sparse(&empty).unwrap_err();
    assert!(e.to_string().contains("no training rows"), "{e}");
}

/// Targets of a linear truth on sparse rows: bags of words whose value is the sum of their
/// words' weights, plus a little noise.
fn sparse_regression(rows: usize, cols: usize, seed: u64) -> Dataset {
    let bags = bags(rows, cols, seed, false);
    let truth = uniform(1, cols, 11).row(0).to_owned();
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    let y = bags.x.dot(&truth) + Array1::from_shape_fn(rows, |_| 0.05 * rng.random::<f64>());
    Dataset::new(bags.x, y.mapv(|v| 10.0 + v)).unwrap()
}

/// A regression on sparse rows is ridge on their entries: at a given λ the dense fit's model (to
/// 10⁻³ of the largest weight: the dense statistics are summed on a fixed-point grid, the sparse
/// solve's are plain f64); with λ chosen, a held-out RMSE near the noise, the same bytes on any thread count.
#[test]
fn a_regression_on_sparse_rows_is_ridge_on_their_entries() {
    let (train, test) = (
        sparse_regression(800, 150, 12),
        sparse_regression(300, 150, 13),
    );
    let data = SparseDataset::from_dense(&train).unwrap();
    let fixed = linear()
        .task(Task::Regression)
        .solver(Solver::Ridge {
            lambda: Lambda::Fixed(0.5),
        })
        .selection(None)
        .check()
        .unwrap();
    let (sparse, _) = fixed.fit_sparse(&data).unwrap();
    let dense = fixed.fit(train.x.view(), train.y.view()).unwrap();
    let largest = dense.weights().iter().fold(0.0f64, |m, w| m.max(w.abs()));
    let gap = (sparse.weights() - dense.weights())
        .iter()
        .fold(0.0f64, |m, w| m.max(w.abs()));
    assert!(gap < 1e-3 * largest, "{gap} of {largest}");
    assert!((sparse.intercept()[0] - dense.intercept()[0]).abs() < 1e-3 * largest);
    let params = linear().task(Task::Regression).check().unwrap();
    let (model, report) = params.fit_sparse(&data).unwrap();
    let report = report.unwrap();
    assert_eq!(report.solver_trials.len(), 7, "{report:?}");
    let rks_solvers::SolverInfo::Ridge { lambda, .. } = model.info().solver else {
        panic!("{:?}", model.info())
    };
    assert_eq!(report.lambda, Some(lambda));
    let p = model
        .predict_sparse(&SparseDataset::from_dense(&test).unwrap())
        .unwrap();
    let rmse = ((&p - &test.y).mapv(|v| v * v).sum() / 300.0).sqrt();
    // Stated margin: the noise is uniform on [0, 0.05] (standard deviation 0.014).
    assert!(rmse < 0.05, "{rmse}");
    let bytes =
        on_one_two_three_threads(|| params.fit_sparse(&data).unwrap().0.to_bytes().unwrap());
    assert_eq!(bytes[0], bytes[1]);
    assert_eq!(bytes[0], bytes[2]);
}

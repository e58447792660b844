//! Sample weights (`fit_weighted`): a weight per row. Weight k is the row k times, weight 0 is
//! the row left out and weights all 1 are no weights; class weights multiply them; down-weighing
//! noisy rows pays on held-out rows; the same bits for any thread count; and clear errors.

mod common;

use ndarray::{Array1, Array2, Axis, concatenate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::{Bandwidth, MapKind};
use rks_solvers::class_weights::ClassWeights;
use rks_solvers::machine::Selection;
use rks_solvers::{
    KernelMachine, KernelMachineParams, Lambda, Solver, SolversError, SvmLoss, Task,
};

/// `n` rows uniform on [−1, 1]² and a class: sin(2x₀) + x₁ plus noise above 0.3.
fn classes(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Array2<f64> = Array2::from_shape_fn((n, 2), |_| rng.random_range(-1.0..1.0));
    let y = x
        .rows()
        .into_iter()
        .map(|r| f64::from((2.0 * r[0]).sin() + r[1] + 0.5 * (rng.random::<f64>() - 0.5) > 0.3))
        .collect();
    (x, y)
}

/// Fixed parameters (no search): two fits differ only by their rows and weights.
fn fixed(solver: Solver) -> KernelMachineParams {
    KernelMachine::params()
        .map(MapKind::Fastfood)
        .n_frequencies(64)
        .bandwidth(Bandwidth::Sigma(0.5))
        .selection(None)
        .svm_eps(1e-5)
        .solver(solver)
}

fn largest_difference(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    (a - b).iter().fold(0.0f64, |m, d| m.max(d.abs()))
}

#[test]
fn a_weight_of_three_is_the_row_three_times() {
    let (x, y) = classes(500, 1);
    let heavy: Vec<usize> = (0..500).filter(|i| i % 7 == 0).collect();
    let w: Array1<f64> = (0..500)
        .map(|i| if i % 7 == 0 { 3.0 } else { 1.0 })
        .collect();
    let (xh, yh) = (x.select(Axis(0), &heavy), y.select(Axis(0), &heavy));
    let x3 = concatenate(Axis(0), &[x.view(), xh.view(), xh.view()]).unwrap();
    let y3 = concatenate(Axis(0), &[y.view(), yh.view(), yh.view()]).unwrap();
    let test = classes(200, 2).0;
    for (solver, tolerance) in [
        // Ridge's weighted statistics hold the rows scaled by √w on a grid widened for √3: a
        // bit coarser for the rows of weight 1.
        (
            Solver::Ridge {
                lambda: Lambda::Fixed(1e-2),
            },
            2e-3,
        ),
        (
            Solver::Svm {
                c: 1.0,
                loss: SvmLoss::SquaredHinge,
            },
            1e-4,
        ),
    ] {
        let params = fixed(solver.clone()).check().unwrap();
        let weighted = params.fit_weighted(x.view(), y.view(), w.view()).unwrap();
        let repeated = params.fit(x3.view(), y3.view()).unwrap();
        let worst = largest_difference(
            &weighted.decision_function(&test).unwrap(),
            &repeated.decision_function(&test).unwrap(),
        );
        assert!(worst < tolerance, "{solver:?}: {worst:e}");
    }
}

#[test]
fn weight_zero_leaves_the_row_out_and_weights_of_one_are_no_weights() {
    let (x, y) = classes(400, 3);
    let params = KernelMachine::params().n_frequencies(64).check().unwrap();
    // With the search on: the fit of the rows of positive weight, bit for bit.
    let kept: Vec<usize> = (0..400).filter(|i| i % 5 != 0).collect();
    let w: Array1<f64> = (0..400)
        .map(|i| if i % 5 == 0 { 0.0 } else { 1.0 })
        .collect();
    let without = params
        .fit(
            x.select(Axis(0), &kept).view(),
            y.select(Axis(0), &kept).view(),
        )
        .unwrap();
    let zeroed = params.fit_weighted(x.view(), y.view(), w.view()).unwrap();
    assert_eq!(zeroed.to_bytes().unwrap(), without.to_bytes().unwrap());
    let ones = Array1::ones(400);
    assert_eq!(
        params
            .fit_weighted(x.view(), y.view(), ones.view())
            .unwrap()
            .to_bytes()
            .unwrap(),
        params.fit(x.view(), y.view()).unwrap().to_bytes().unwrap()
    );
}

#[test]
fn class_weights_multiply_the_sample_weights() {
    // Class 1 weighed 3 by its class, or each of its rows by its own weight: the same rows'
    // weights, so the same scores, bit for bit (with the search on; the column relevance off,
    // which sample weights skip and class weights do not).
    let (x, y) = classes(400, 4);
    let base = KernelMachine::params()
        .n_frequencies(64)
        .selection(Some(Selection {
            relevance: false,
            ..Selection::default()
        }));
    let by_class = base
        .clone()
        .class_weights(Some(ClassWeights::Given(vec![(1, 3.0)])))
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap();
    let w = y.mapv(|c| if c == 1.0 { 3.0 } else { 1.0 });
    let by_row = base
        .clone()
        .check()
        .unwrap()
        .fit_weighted(x.view(), y.view(), w.view())
        .unwrap();
    let test = classes(100, 5).0;
    assert_eq!(
        by_class.decision_function(&test).unwrap(),
        by_row.decision_function(&test).unwrap()
    );
    // Both at once: the products.
    let both = base
        .clone()
        .class_weights(Some(ClassWeights::Given(vec![(1, 1.5)])))
        .check()
        .unwrap()
        .fit_weighted(
            x.view(),
            y.view(),
            y.mapv(|c| if c == 1.0 { 2.0 } else { 1.0 }).view(),
        )
        .unwrap();
    assert_eq!(
        both.decision_function(&test).unwrap(),
        by_row.decision_function(&test).unwrap()
    );
}

/// y = sin(3x) on [−1, 1], with noise of standard deviation 0.05 on even rows and 1.0 on odd
/// ones: weights 1/σ² (the inverse variances) are the efficient weighting.
fn noisy(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Array2<f64> = Array2::from_shape_fn((n, 1), |_| rng.random_range(-1.0..1.0));
    let sd: Array1<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 0.05 } else { 1.0 })
        .collect();
    let y = (0..n)
        .map(|i| {
            let u: f64 = rng.random_range(-1.0..1.0);
            (3.0 * x[[i, 0]]).sin() + sd[i] * 3f64.sqrt() * u
        })
        .collect();
    (x, y, sd.mapv(|s| 1.0 / (s * s)))
}

#[test]
fn down_weighing_noisy_rows_pays_on_held_out_rows() {
    let (x, y, w) = noisy(600, 6);
    let test = Array2::from_shape_fn((400, 1), |(i, _)| -1.0 + 2.0 * i as f64 / 399.0);
    let truth = test.column(0).mapv(|v| (3.0 * v).sin());
    let params = KernelMachine::params()
        .task(Task::Regression)
        .n_frequencies(64)
        .check()
        .unwrap();
    let rmse = |model: &KernelMachine| {
        let p = model.predict(&test).unwrap();
        ((&p - &truth).mapv(|d| d * d).mean().unwrap()).sqrt()
    };
    let plain = rmse(&params.fit(x.view(), y.view()).unwrap());
    let (weighted, report) = params
        .fit_weighted_with_report(x.view(), y.view(), w.view())
        .unwrap();
    let weighted = rmse(&weighted);
    // Measured (seed 6): RMSE against the noiseless curve 0.0793 → 0.0039.
    assert!(weighted < 0.5 * plain, "{plain} → {weighted}");
    let notes = report.unwrap().notes.join("\n");
    assert!(notes.contains("sample weights"), "{notes}");
}

#[test]
fn weighted_fits_are_the_same_bits_for_any_thread_count() {
    let (x, y) = classes(500, 7);
    let w: Array1<f64> = (0..500).map(|i| 0.25 + (i % 4) as f64).collect();
    for solver in [
        Solver::default(),
        Solver::default_of(rks_solvers::SolverKind::Svm),
    ] {
        let params = KernelMachine::params()
            .n_frequencies(64)
            .solver(solver)
            .check()
            .unwrap();
        let bytes = common::on_one_two_three_threads(|| {
            let model = params.fit_weighted(x.view(), y.view(), w.view());
            model.unwrap().to_bytes().unwrap()
        });
        assert!(bytes.windows(2).all(|b| b[0] == b[1]));
    }
}

#[test]
fn bad_sample_weights_are_clear_errors() {
    let (x, y) = classes(50, 8);
    let params = KernelMachine::params().n_frequencies(16).check().unwrap();
    let fit = |w: Vec<f64>| params.fit_weighted(x.view(), y.view(), Array1::from(w).view());
    assert!(matches!(
        fit(vec![1.0; 49]),
        Err(SolversError::DimensionMismatch { .. })
    ));
    for bad in [f64::NAN, f64::INFINITY, -1.0] {
        let mut w = vec![1.0; 50];
        w[7] = bad;
        let err = fit(w).unwrap_err().to_string();
        assert!(err.contains("row 7"), "{err}");
    }
    assert!(matches!(
        fit(vec![0.0; 50]),
        Err(SolversError::EmptyInput(_))
    ));
}

#[test]
fn the_sparse_fit_weighs_rows_too() {
    use rks_data::{Dataset, SparseDataset};
    let (x, y) = classes(400, 9);
    let linear = KernelMachine::params()
        .map(MapKind::Linear)
        .kernel(rks::Kernel::Linear)
        .scaler(rks::scaler::ScalerKind::MaxAbs)
        .solver(Solver::Svm {
            c: 1.0,
            loss: SvmLoss::SquaredHinge,
        })
        .svm_eps(1e-5);
    let params = linear.clone().check().unwrap();
    let sparse = |x: &Array2<f64>, y: &Array1<f64>| {
        SparseDataset::from_dense(&Dataset {
            x: x.clone(),
            y: y.clone(),
        })
        .unwrap()
    };
    // Weight 0 leaves the row out (with the C search on), bit for bit.
    let kept: Vec<usize> = (0..400).filter(|i| i % 3 != 0).collect();
    let w: Array1<f64> = (0..400)
        .map(|i| if i % 3 == 0 { 0.0 } else { 2.0 })
        .collect();
    let (xk, yk) = (x.select(Axis(0), &kept), y.select(Axis(0), &kept));
    let twos = Array1::from_elem(kept.len(), 2.0);
    let weighted = params
        .fit_sparse_weighted(&sparse(&x, &y), w.view())
        .unwrap()
        .0;
    let alone = params
        .fit_sparse_weighted(&sparse(&xk, &yk), twos.view())
        .unwrap()
        .0;
    assert_eq!(weighted.to_bytes().unwrap(), alone.to_bytes().unwrap());
    // At a fixed C the sparse fit is the dense fit of the same weighted rows, to the solver's
    // tolerance; and not the unweighted fit.
    let fixed = linear.clone().selection(None).check().unwrap();
    let test = classes(100, 10).0;
    let scores = |model: &KernelMachine| model.decision_function(&test).unwrap();
    let heavy = w.mapv(|v| 1.0 + 4.0 * v);
    let on_sparse = fixed
        .fit_sparse_weighted(&sparse(&x, &y), heavy.view())
        .unwrap()
        .0;
    let dense = fixed
        .fit_weighted(x.view(), y.view(), heavy.view())
        .unwrap();
    let unweighted = fixed.fit_sparse(&sparse(&x, &y)).unwrap().0;
    let worst = largest_difference(&scores(&on_sparse), &scores(&dense));
    assert!(worst < 1e-3, "{worst:e}");
    assert!(largest_difference(&scores(&on_sparse), &scores(&unweighted)) > 1e-2);
    // A regression on sparse rows (ridge by conjugate gradients): weight 0 leaves the row out
    // (λ searched), bit for bit; weights 1, 2, 3 are the rows repeated (λ fixed; the solver's
    // tolerance); at a fixed λ the dense fit of the same weighted rows, to its grid's
    // resolution; the report says the errors are weighted.
    let values: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| (2.0 * r[0]).sin() + r[1] * r[0])
        .collect();
    let regression = linear
        .task(Task::Regression)
        .solver(Solver::default())
        .check()
        .unwrap();
    let (weighted, report) = regression
        .fit_sparse_weighted(&sparse(&x, &values), w.view())
        .unwrap();
    let vk = values.select(Axis(0), &kept);
    let alone = regression
        .fit_sparse_weighted(&sparse(&xk, &vk), twos.view())
        .unwrap()
        .0;
    assert_eq!(weighted.to_bytes().unwrap(), alone.to_bytes().unwrap());
    let notes = report.unwrap().notes.join("\n");
    assert!(notes.contains("sample weights"), "{notes}");
    let fixed = KernelMachine::params()
        .task(Task::Regression)
        .map(MapKind::Linear)
        .kernel(rks::Kernel::Linear)
        .scaler(rks::scaler::ScalerKind::MaxAbs)
        .solver(Solver::Ridge {
            lambda: Lambda::Fixed(0.5),
        })
        .selection(None)
        .check()
        .unwrap();
    let counts: Array1<f64> = (0..400).map(|i| (1 + i % 3) as f64).collect();
    let repeat: Vec<usize> = (0..400)
        .flat_map(|i| std::iter::repeat_n(i, 1 + i % 3))
        .collect();
    let (xr, vr) = (x.select(Axis(0), &repeat), values.select(Axis(0), &repeat));
    let by_weight = fixed
        .fit_sparse_weighted(&sparse(&x, &values), counts.view())
        .unwrap()
        .0;
    let by_repeat = fixed.fit_sparse(&sparse(&xr, &vr)).unwrap().0;
    let worst = largest_difference(&scores(&by_weight), &scores(&by_repeat));
    assert!(worst < 1e-6, "{worst:e}");
    let dense = fixed
        .fit_weighted(x.view(), values.view(), counts.view())
        .unwrap();
    let worst = largest_difference(&scores(&by_weight), &scores(&dense));
    assert!(worst < 1e-3, "{worst:e}");
    let unweighted = fixed.fit_sparse(&sparse(&x, &values)).unwrap().0;
    assert!(largest_difference(&scores(&by_weight), &scores(&unweighted)) > 1e-3);
}

#[test]
fn cross_validation_weighs_rows_as_the_class_weights_do() {
    use rks_solvers::machine::CvGrid;
    let (x, y) = classes(300, 11);
    let grid = CvGrid {
        sigmas: Some(vec![0.4, 0.8]),
        sigma_factors: Vec::new(),
        values: vec![0.1, 1.0, 10.0],
        folds: 3,
    };
    let base = KernelMachine::params()
        .n_frequencies(32)
        .solver(Solver::Svm {
            c: 1.0,
            loss: SvmLoss::SquaredHinge,
        });
    let by_class = base
        .clone()
        .class_weights(Some(ClassWeights::Given(vec![(1, 3.0)])))
        .check()
        .unwrap()
        .cross_validate(x.view(), y.view(), &grid)
        .unwrap();
    let w = y.mapv(|c| if c == 1.0 { 3.0 } else { 1.0 });
    let params = base.check().unwrap();
    let by_row = params
        .cross_validate_weighted(x.view(), y.view(), w.view(), &grid)
        .unwrap();
    let scores = |r: &rks_solvers::machine::CvReport| -> Vec<_> {
        r.points.iter().map(|p| p.score).collect()
    };
    assert_eq!(scores(&by_class), scores(&by_row));
    let plain = params.cross_validate(x.view(), y.view(), &grid).unwrap();
    assert_ne!(scores(&plain), scores(&by_row));
}

#[test]
fn the_column_relevance_is_not_learned_on_weighted_rows() {
    // Two columns, the second noise: unweighted, the step learns (and reports) its weights;
    // with sample weights it is skipped, and says why.
    let x = classes(300, 12).0;
    let y = x.column(0).mapv(|v| (3.0 * v).sin());
    let params = KernelMachine::params()
        .task(Task::Regression)
        .n_frequencies(32)
        .check()
        .unwrap();
    let (_, plain) = params.fit_with_report(x.view(), y.view()).unwrap();
    assert!(plain.unwrap().relevance.is_some());
    let w: Array1<f64> = (0..300).map(|i| 1.0 + (i % 3) as f64).collect();
    let (_, weighted) = params
        .fit_weighted_with_report(x.view(), y.view(), w.view())
        .unwrap();
    let weighted = weighted.unwrap();
    assert!(weighted.relevance.is_none());
    assert!(
        weighted.notes[0].contains("relevance: not learned: the rows carry sample weights"),
        "{:?}",
        weighted.notes
    );
}

//! Class probabilities (`probabilities(true)`, `predict_proba`): calibrated against known
//! probabilities, the same model otherwise, saved and loaded, the same bits for any thread
//! count, and clear errors.

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::MapKind;
use rks_data::SparseDataset;
use rks_solvers::machine::{Selection, SolverKind};
use rks_solvers::{KernelMachine, KernelMachineParams, Solver, SolversError, SvmLoss, Task};

/// P(class 1 | x) of the generated rows: a smooth, nonlinear boundary with noise around it.
fn true_probability(x: &[f64]) -> f64 {
    let z = 2.5 * ((2.0 * x[0]).sin() + x[1]);
    1.0 / (1.0 + (-z).exp())
}

/// `n` rows uniform on [−1.5, 1.5]², labels drawn with [`true_probability`].
fn noisy_rows(n: usize, seed: u64) -> (Array2<f64>, Array1<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, 2), |_| rng.random_range(-1.5..1.5));
    let p: Vec<f64> = x
        .rows()
        .into_iter()
        .map(|r| true_probability(r.as_slice().unwrap()))
        .collect();
    let y = p
        .iter()
        .map(|&p| f64::from(rng.random::<f64>() < p))
        .collect();
    (x, y, p)
}

fn params() -> KernelMachineParams {
    KernelMachine::params()
        .task(Task::Classification)
        .n_frequencies(128)
}

#[test]
fn probabilities_follow_the_true_ones_and_the_predictions_do_not_change() {
    let (x, y, _) = noisy_rows(1500, 1);
    let (test, test_y, truth) = noisy_rows(2000, 2);
    for solver in [SolverKind::Ridge, SolverKind::Svm] {
        let selection = Selection {
            solvers: vec![solver],
            ..Selection::default()
        };
        let base = params()
            .selection(selection)
            .solver(Solver::default_of(solver));
        let plain = base
            .clone()
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        let model = base
            .probabilities(true)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        assert!(plain.calibration().is_none());
        let calibration = model.calibration().unwrap();
        assert_eq!((calibration.folds(), calibration.sigmoids().len()), (5, 1));
        // The model is the one fitted without probabilities.
        assert_eq!(
            model.decision_function(&test).unwrap(),
            plain.decision_function(&test).unwrap()
        );
        let p = model.predict_proba(&test).unwrap();
        let logs = model.predict_log_proba(&test).unwrap();
        assert_eq!(p.dim(), (2000, 2));
        for (row, log_row) in p.rows().into_iter().zip(logs.rows()) {
            assert!((row.sum() - 1.0).abs() < 1e-12);
            assert!((row[1].ln() - log_row[1]).abs() < 1e-12);
        }
        // Within 0.06 of the true probability on average (the noise-free boundary alone is
        // learned to a few points; uncalibrated ±1 scores clipped to [0, 1] are 0.2 off).
        let error: f64 = p
            .column(1)
            .iter()
            .zip(&truth)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / truth.len() as f64;
        assert!(error < 0.06, "{solver:?}: mean |p − p_true| = {error}");
        // Reliability: in each fifth of the predicted probability, the true mean is close.
        for bin in 0..5 {
            let (lo, hi) = (bin as f64 / 5.0, (bin + 1) as f64 / 5.0);
            let members: Vec<(f64, f64)> = p
                .column(1)
                .iter()
                .zip(&truth)
                .filter(|(q, _)| **q >= lo && **q < hi)
                .map(|(q, t)| (*q, *t))
                .collect();
            if members.len() < 100 {
                continue;
            }
            let n = members.len() as f64;
            let predicted = members.iter().map(|m| m.0).sum::<f64>() / n;
            let actual = members.iter().map(|m| m.1).sum::<f64>() / n;
            assert!(
                (predicted - actual).abs() < 0.06,
                "{solver:?}: bin {bin}: predicted {predicted}, true {actual}"
            );
        }
        // The held-out accuracy estimates the accuracy on new rows.
        let predicted = model.predict(&test).unwrap();
        let accuracy = predicted
            .iter()
            .zip(&test_y)
            .filter(|(p, t)| p == t)
            .count() as f64
            / 2000.0;
        assert!(
            (calibration.accuracy() - accuracy).abs() < 0.04,
            "{solver:?}: held out {}, test {accuracy}",
            calibration.accuracy()
        );
        // The held-out log loss is near the best possible one (the true probabilities' on the
        // training rows' labels would be ≈ 0.36 here) and well below the prior's (≈ 0.69).
        assert!(
            calibration.log_loss() < 0.5,
            "{solver:?}: {}",
            calibration.log_loss()
        );
    }
}

#[test]
fn several_classes_nystrom_and_a_given_c() {
    // Three classes by angle, with a noisy band between them.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x: Array2<f64> = Array2::from_shape_fn((600, 2), |_| rng.random_range(-1.0..1.0));
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| {
            let angle = r[1].atan2(r[0]) + rng.random_range(-0.4..0.4);
            (((angle + std::f64::consts::PI) / (2.0 * std::f64::consts::PI) * 3.0).floor() as i64)
                .clamp(0, 2) as f64
                + 10.0
        })
        .collect();
    for (map, solver) in [
        (
            MapKind::Nystrom,
            Solver::Ridge {
                lambda: rks_solvers::Lambda::Gcv,
            },
        ),
        (
            MapKind::Fastfood,
            Solver::Svm {
                c: 1.0,
                loss: SvmLoss::SquaredHinge,
            },
        ),
    ] {
        let model = params()
            .map(map)
            .n_frequencies(64)
            .solver(solver)
            .selection(None)
            .probabilities(true)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        assert_eq!(model.calibration().unwrap().sigmoids().len(), 3);
        let p = model.predict_proba(&x).unwrap();
        let predicted = model.predict(&x).unwrap();
        let mut agree = 0;
        for (row, label) in p.rows().into_iter().zip(&predicted) {
            assert!((row.sum() - 1.0).abs() < 1e-12);
            let top = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            agree += usize::from(top as f64 + 10.0 == *label);
        }
        // Per-class sigmoids may reorder close scores, rarely.
        assert!(agree >= 580, "{map:?}: {agree} of 600");
        let log_loss = -(0..600)
            .map(|i| p[[i, (y[i] - 10.0) as usize]].ln())
            .sum::<f64>()
            / 600.0;
        assert!(log_loss < 0.25, "{map:?}: {log_loss}");
    }
}

#[test]
fn saved_probabilities_load_as_the_same_bits_for_any_thread_count() {
    let (x, y, _) = noisy_rows(400, 4);
    let fit = || {
        params()
            .probabilities(true)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap()
    };
    let model = fit();
    let bytes = model.to_bytes().unwrap();
    // A model with a calibration is a version-5 file; one without stays version 4.
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 5);
    let plain = params().check().unwrap().fit(x.view(), y.view()).unwrap();
    let plain_bytes = plain.to_bytes().unwrap();
    assert_eq!(
        u32::from_le_bytes(plain_bytes[8..12].try_into().unwrap()),
        4
    );
    let loaded = KernelMachine::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, model);
    let expected = model.predict_proba(&x).unwrap();
    assert_eq!(loaded.predict_proba(&x).unwrap(), expected);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        assert_eq!(
            pool.install(fit).to_bytes().unwrap(),
            bytes,
            "{threads} threads"
        );
    }
}

#[test]
fn sparse_rows_get_probabilities_too() {
    // Class 1 uses columns 0..10, class 0 columns 10..20, with a few rows crossed over.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut offsets, mut columns, mut values, mut y) = (vec![0], vec![], vec![], vec![]);
    for i in 0..300 {
        let class = i % 2;
        let crossed = rng.random::<f64>() < 0.1;
        let base = if (class == 1) != crossed { 0 } else { 10 };
        let mut cols: Vec<u32> = (0..3).map(|_| base + rng.random_range(0..10u32)).collect();
        cols.sort_unstable();
        cols.dedup();
        for c in cols {
            columns.push(c);
            values.push(1.0);
        }
        offsets.push(columns.len());
        y.push(class as f64);
    }
    let data = SparseDataset::new(1000, offsets, columns, values, y.into()).unwrap();
    let (model, _) = params()
        .map(MapKind::Linear)
        .kernel(rks::Kernel::Linear)
        .solver(Solver::default_of(SolverKind::Svm))
        .probabilities(true)
        .check()
        .unwrap()
        .fit_sparse(&data)
        .unwrap();
    let calibration = model.calibration().unwrap();
    // About one row in ten is crossed over: the probabilities say so.
    assert!(calibration.log_loss() < 0.45, "{}", calibration.log_loss());
    let dense = data.to_dense().unwrap();
    let p = model.predict_proba(&dense.x).unwrap();
    let confident = p
        .column(1)
        .iter()
        .filter(|&&q| !(0.02..=0.98).contains(&q))
        .count();
    assert_eq!(
        confident, 0,
        "probabilities near 0 or 1 despite 10 % crossed rows"
    );
}

#[test]
fn probabilities_are_refused_where_they_cannot_be_made() {
    let (x, y, _) = noisy_rows(100, 6);
    // A regression.
    let err = KernelMachine::params()
        .task(Task::Regression)
        .probabilities(true)
        .check();
    assert!(
        matches!(err, Err(SolversError::InvalidParameter { .. })),
        "{err:?}"
    );
    // A classifier fitted without them, and a regressor.
    let plain = params()
        .selection(None)
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap();
    let err = plain.predict_proba(&x);
    assert!(
        matches!(err, Err(SolversError::NoProbabilities(_))),
        "{err:?}"
    );
    assert!(err.unwrap_err().to_string().contains("--probabilities"));
    let regressor = KernelMachine::params()
        .task(Task::Regression)
        .selection(None)
        .n_frequencies(8)
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap();
    assert!(matches!(
        regressor.predict_log_proba(&x),
        Err(SolversError::NoProbabilities(_))
    ));
    // A streamed fit makes them, on the sampled rows' leave-one-out scores (one fold a row).
    let streamed = params()
        .probabilities(true)
        .check()
        .unwrap()
        .fit_stream(|| Ok::<_, std::io::Error>(vec![Ok((x.clone(), y.clone()))]))
        .unwrap();
    assert_eq!(streamed.calibration().map(|c| c.folds()), Some(x.nrows()));
    // Two rows, one of each class: two folds, each fitted on a row of the other class.
    let tiny = params()
        .selection(None)
        .n_frequencies(4)
        .probabilities(true)
        .check()
        .unwrap()
        .fit(
            x.slice_axis(ndarray::Axis(0), (0..2).into()),
            ndarray::array![0.0, 1.0].view(),
        )
        .unwrap();
    let p = tiny.predict_proba(&x).unwrap();
    assert!(p.iter().all(|v| v.is_finite()));
}

#[test]
fn a_class_with_fewer_rows_than_folds_still_gets_its_probability() {
    // Class 2 has two rows: three of the five folds' fits never see it.
    let (x, mut y, _) = noisy_rows(200, 7);
    y[10] = 2.0;
    y[20] = 2.0;
    for solver in [SolverKind::Ridge, SolverKind::Svm] {
        let model = params()
            .n_frequencies(32)
            .selection(None)
            .solver(Solver::default_of(solver))
            .probabilities(true)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        let p = model.predict_proba(&x).unwrap();
        assert_eq!(p.ncols(), 3);
        assert!(p.iter().all(|v| v.is_finite() && *v >= 0.0), "{solver:?}");
        // Rarely seen, rarely predicted: its mean probability stays small.
        assert!(p.column(2).mean().unwrap() < 0.1, "{solver:?}");
    }
}

//! Kernel machines on the ORF, SORF and Nyström maps and the arc-cosine kernels: they fit, learn,
//! and save and load to the same predictions (a Nyström model carries its landmarks).

mod common;

use common::uniform;
use ndarray::Array1;
use rks::{Bandwidth, FeatureMap, Kernel, MapKind};
use rks_solvers::{KernelMachine, Lambda, Solver, Task};

#[test]
fn new_maps_fit_learn_and_round_trip() {
    let x = uniform(120, 3, 91);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| if r[0] * r[1] > 0.0 { 1.0 } else { 0.0 })
        .collect();
    let test = uniform(60, 3, 92);
    let truth: Array1<f64> = test
        .rows()
        .into_iter()
        .map(|r| if r[0] * r[1] > 0.0 { 1.0 } else { 0.0 })
        .collect();
    for (map, kernel, n) in [
        (MapKind::Orf, Kernel::Gaussian, 64),
        (MapKind::Sorf, Kernel::Gaussian, 64),
        (MapKind::Nystrom, Kernel::Gaussian, 60),
        (MapKind::Nystrom, Kernel::Laplacian, 60),
        (MapKind::Dense, Kernel::ArcCos1, 128),
        (MapKind::Orf, Kernel::ArcCos0, 128),
        (MapKind::Fastfood, Kernel::ArcCos1, 128),
    ] {
        let model = KernelMachine::params()
            .map(map)
            .n_frequencies(n)
            .kernel(kernel)
            .bandwidth(Bandwidth::Sigma(0.5))
            .solver(Solver::Ridge {
                lambda: Lambda::Fixed(1e-3),
            })
            .seed(3)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        assert_eq!(model.map().kind(), map);
        assert_eq!(
            model.map().output_dim(),
            map.output_dim(kernel, n),
            "{map} {kernel:?}"
        );
        let predicted = model.predict(&test).unwrap();
        let accuracy = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count() as f64
            / truth.len() as f64;
        // The XOR of two signs: no linear model on x gets much above 1/2. (The order-0
        // arc-cosine kernel sees only the angles between scaled rows: it is held to the round
        // trip below.)
        if kernel != Kernel::ArcCos0 {
            assert!(accuracy > 0.75, "{map} {kernel:?}: accuracy {accuracy}");
        }
        let back = KernelMachine::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(back, model);
        assert_eq!(
            back.decision_function(&test).unwrap(),
            model.decision_function(&test).unwrap()
        );
    }
}

/// More landmarks than rows: every row is a landmark (m = N, the exact kernel machine), as
/// scikit-learn's `Nystroem` does, rather than an error.
#[test]
fn more_landmarks_than_rows_takes_every_row() {
    let params = KernelMachine::params()
        .map(MapKind::Nystrom)
        .n_frequencies(10)
        .check()
        .unwrap();
    let x = uniform(5, 2, 1);
    let y = Array1::from(vec![0.0, 1.0, 0.0, 1.0, 0.0]);
    let model = params.fit(x.view(), y.view()).unwrap();
    assert_eq!(model.map().n_frequencies(), 5);
    assert_eq!(model.predict(&x).unwrap(), y);
}

/// A Nyström model predicts through K_mm^{-1/2}·W and the kernel values (m multiply-adds per
/// row and output, not m²): the same decision values as the features times the weights, to
/// rounding, and the same bits for any thread count and any block of rows.
#[test]
fn nystrom_predictions_fold_the_whitening_into_the_weights() {
    let x = uniform(300, 4, 93);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| (r[0] * 3.0).sin() + r[1])
        .collect();
    let test = uniform(150, 4, 94);
    for labels in [false, true] {
        let y = if labels {
            y.mapv(|v| (v > 0.0) as u8 as f64 + (v > 0.5) as u8 as f64)
        } else {
            y.clone()
        };
        let task = if labels {
            Task::Classification
        } else {
            Task::Regression
        };
        let model = KernelMachine::params()
            .task(task)
            .map(MapKind::Nystrom)
            .n_frequencies(80)
            .bandwidth(Bandwidth::Sigma(0.7))
            .solver(Solver::Ridge {
                lambda: Lambda::Fixed(1e-4),
            })
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        let scaled = model.scaler().transform(test.view()).unwrap();
        // Regression, or three classes: the decision values are the scores themselves.
        let expected = model
            .map()
            .transform(scaled.view())
            .unwrap()
            .dot(model.weights())
            + model.intercept();
        let got = model.decision_function(&test).unwrap();
        assert_eq!(got.dim(), expected.dim());
        let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() <= 1e-11 * scale, "{g} against {e}");
        }
        let on = |threads: usize, chunk: usize| {
            let mut m = model.clone();
            m.set_chunk_rows(chunk).unwrap();
            common::on_threads(threads, || m.decision_function(&test).unwrap())
        };
        let one = on(1, 1000);
        for (threads, chunk) in [(2, 1000), (3, 7), (1, 1)] {
            let other = on(threads, chunk);
            assert!(
                one.iter()
                    .zip(&other)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{threads} threads, chunks of {chunk}"
            );
        }
    }
}

//! Row weights: weighted ridge statistics and weighted leave-one-out against brute force.

mod common;

use common::gauss_solve;
use ndarray::{Array1, Array2, Axis, s};
use rks_solvers::SolversError;
use rks_solvers::exact::Grid;
use rks_solvers::loo::LooPath;
use rks_solvers::ridge::RidgeAccumulator;

/// The weighted ridge solution (W, b) of min Σᵢ wᵢ‖yᵢ − Wᵀφᵢ − b‖² + λ‖W‖², straight from the
/// formula: weighted means, then the normal equations of the weighted centred rows.
fn weighted_closed_form(
    phi: &Array2<f64>,
    y: &Array2<f64>,
    w: &[f64],
    lambda: f64,
) -> (Array2<f64>, Array1<f64>) {
    let total: f64 = w.iter().sum();
    let wv = Array1::from(w.to_vec());
    let mu = phi.t().dot(&wv) / total;
    let ybar = y.t().dot(&wv) / total;
    let pc = phi - &mu;
    let yc = y - &ybar;
    let weighted = &pc * &wv.view().insert_axis(Axis(1));
    let mut a = weighted.t().dot(&pc);
    for i in 0..a.nrows() {
        a[[i, i]] += lambda;
    }
    let coef = gauss_solve(&a, &weighted.t().dot(&yc));
    let b = &ybar - &mu.dot(&coef);
    (coef, b)
}

/// Row i's prediction by the weighted fit on every other row.
fn left_out(phi: &Array2<f64>, y: &Array2<f64>, w: &[f64], lambda: f64, i: usize) -> Array1<f64> {
    let keep: Vec<usize> = (0..phi.nrows()).filter(|&r| r != i).collect();
    let kw: Vec<f64> = keep.iter().map(|&r| w[r]).collect();
    let (coef, b) = weighted_closed_form(
        &phi.select(Axis(0), &keep),
        &y.select(Axis(0), &keep),
        &kw,
        lambda,
    );
    phi.row(i).dot(&coef) + &b
}

/// Features on a 2⁻⁵ grid and weights (k/16)², k = 8…48: the scaled rows rᵢφᵢ lie on a 2⁻⁹
/// grid, which the weighted statistics' feature grid (12 bits below the features' bound of at
/// most 2, widened by 4 for √w ≤ 3) holds without rounding, and each √w on the weights' grid: the statistics are exact and the
/// comparisons keep f64 precision.
fn problem(rows: usize, cols: usize, seed: u64) -> (Array2<f64>, Array2<f64>, Vec<f64>) {
    let phi = (common::uniform(rows, cols, seed) + 0.2).mapv(|v| (v * 32.0).round() / 32.0);
    let noise = common::uniform(rows, 2, seed + 1) * 0.2;
    let y = Array2::from_shape_fn((rows, 2), |(i, k)| {
        let row = phi.row(i);
        let signal = if k == 0 {
            row[0] - 0.5 * row[1 % cols]
        } else {
            row.sum() * 0.3
        };
        ((signal + noise[[i, k]]) * 16.0).round() / 16.0
    });
    let w: Vec<f64> = (0..rows)
        .map(|i| {
            let k = 8 + (i * 17 + seed as usize) % 41;
            (k as f64 / 16.0).powi(2)
        })
        .collect();
    (phi, y, w)
}

fn assert_close(a: &Array2<f64>, b: &Array2<f64>, tolerance: f64, what: &str) {
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let worst = (a - b).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        worst <= tolerance * scale,
        "{what}: largest difference {worst:e} (scale {scale})"
    );
}

#[test]
fn weighted_leave_one_out_equals_refitting_without_the_row() {
    // N ≤ D (the dual path) and N > D (from the weighted statistics).
    for (rows, cols) in [(14, 20), (40, 6)] {
        let (phi, y, w) = problem(rows, cols, 3);
        let path = LooPath::new_weighted(phi.clone(), y.view(), &w).unwrap();
        for lambda in [1e-3, 0.1, 5.0] {
            let fast = path.predictions(lambda);
            let slow =
                Array2::from_shape_fn(y.dim(), |(i, k)| left_out(&phi, &y, &w, lambda, i)[k]);
            assert_close(
                &fast,
                &slow,
                1e-8,
                &format!("{rows} × {cols}, λ = {lambda}"),
            );
            // The model at λ is the weighted closed form.
            let model = path.fit(lambda).unwrap();
            let (coef, b) = weighted_closed_form(&phi, &y, &w, lambda);
            assert_close(&model.weights, &coef, 1e-8, "weights");
            assert_close(
                &model.intercept.clone().insert_axis(Axis(0)),
                &b.insert_axis(Axis(0)),
                1e-8,
                "intercept",
            );
        }
    }
}

#[test]
fn the_weighted_kernel_path_scores_as_the_weighted_features_do() {
    let (phi, y, w) = problem(16, 24, 5);
    let by_kernel = LooPath::from_kernel_weighted(phi.dot(&phi.t()), y.view(), &w).unwrap();
    let by_features = LooPath::new_weighted(phi, y.view(), &w).unwrap();
    for lambda in [1e-2, 1.0] {
        assert_close(
            &by_kernel.predictions(lambda),
            &by_features.predictions(lambda),
            1e-8,
            "kernel against features",
        );
    }
}

#[test]
fn weighted_scores_weigh_each_row() {
    let (phi, y, w) = problem(40, 6, 7);
    let classes: Vec<usize> = (0..40).map(|i| usize::from(y[[i, 0]] > 0.0)).collect();
    let targets = Array2::from_shape_fn((40, 1), |(i, _)| if classes[i] == 1 { 1.0 } else { -1.0 });
    let path = LooPath::new_weighted(phi.clone(), targets.view(), &w).unwrap();
    let lambda = 0.1;
    let predicted = path.predictions(lambda);
    let score = path.score(lambda, Some((&classes, 2)));
    let total: f64 = w.iter().sum();
    let wrong: f64 = (0..40)
        .filter(|&i| (predicted[[i, 0]] > 0.0) != (classes[i] == 1))
        .map(|i| w[i])
        .sum();
    let mse: f64 = (0..40)
        .map(|i| w[i] * (predicted[[i, 0]] - targets[[i, 0]]).powi(2))
        .sum::<f64>()
        / total;
    assert!((score.error.unwrap() - wrong / total).abs() < 1e-12);
    assert!((score.mse - mse).abs() < 1e-12 * mse.max(1.0));
    let squares: f64 = w.iter().map(|w| w * w).sum();
    assert_eq!(score.rows, (total * total / squares).round() as usize);
    // The squared residuals, each times wᵢ/w̄, average to the weighted squared error.
    let residuals = path.squared_residuals(lambda);
    let mean = residuals.iter().sum::<f64>() / 40.0;
    assert!((mean - score.mse).abs() < 1e-12 * mse.max(1.0));
}

#[test]
fn equal_weights_score_as_no_weights_and_scaling_them_scales_lambda() {
    let (phi, y, _) = problem(40, 6, 9);
    let plain = LooPath::new(phi.clone(), y.view()).unwrap();
    let ones = LooPath::new_weighted(phi.clone(), y.view(), &[1.0; 40]).unwrap();
    let fours = LooPath::new_weighted(phi.clone(), y.view(), &[4.0; 40]).unwrap();
    for lambda in [1e-2, 0.5] {
        let reference = plain.predictions(lambda);
        assert_close(&ones.predictions(lambda), &reference, 1e-10, "weights of 1");
        // min Σ 4‖·‖² + 4λ‖W‖² is the plain problem at λ.
        assert_close(
            &fours.predictions(4.0 * lambda),
            &reference,
            1e-10,
            "weights of 4",
        );
        assert_eq!(ones.score(lambda, None).rows, 40);
    }
}

#[test]
fn integer_weights_sum_as_repeated_rows() {
    let (phi, y, _) = problem(30, 5, 11);
    let w: Vec<f64> = (0..30).map(|i| [1.0, 4.0, 9.0][i % 3]).collect();
    let widest = 3.0; // √9
    let grid = Grid::covering(phi.view(), y.view()).unwrap();
    let mut weighted =
        RidgeAccumulator::new_weighted(5, 2, grid.widened(widest).unwrap(), 9.0).unwrap();
    // In two chunks, to fold weights across calls.
    weighted
        .update_weighted(phi.slice(s![..13, ..]), y.slice(s![..13, ..]), &w[..13])
        .unwrap();
    weighted
        .update_weighted(phi.slice(s![13.., ..]), y.slice(s![13.., ..]), &w[13..])
        .unwrap();
    let mut repeated = RidgeAccumulator::new(5, 2, grid).unwrap();
    for (i, &wi) in w.iter().enumerate() {
        for _ in 0..wi as usize {
            repeated
                .update(phi.slice(s![i..i + 1, ..]), y.slice(s![i..i + 1, ..]))
                .unwrap();
        }
    }
    assert_eq!(weighted.count(), 30);
    assert_eq!(weighted.weight_total(), w.iter().sum::<f64>());
    for lambda in [1e-3, 1.0] {
        let (a, b) = (
            weighted.solve(lambda).unwrap(),
            repeated.solve(lambda).unwrap(),
        );
        assert_close(&a.weights, &b.weights, 1e-12, "weights");
        assert_close(
            &a.intercept.insert_axis(Axis(0)),
            &b.intercept.insert_axis(Axis(0)),
            1e-12,
            "intercept",
        );
    }
    // Merging and the limbs carry the weights' total.
    let mut halves =
        RidgeAccumulator::new_weighted(5, 2, grid.widened(widest).unwrap(), 9.0).unwrap();
    halves
        .update_weighted(phi.slice(s![..13, ..]), y.slice(s![..13, ..]), &w[..13])
        .unwrap();
    let mut other =
        RidgeAccumulator::new_weighted(5, 2, grid.widened(widest).unwrap(), 9.0).unwrap();
    other
        .update_weighted(phi.slice(s![13.., ..]), y.slice(s![13.., ..]), &w[13..])
        .unwrap();
    let limbs: Vec<u64> = halves
        .limbs()
        .iter()
        .zip(other.limbs())
        .map(|(a, b)| a + b)
        .collect();
    halves.merge(&other).unwrap();
    assert_eq!(halves, weighted);
    assert_eq!(weighted.with_limbs(&limbs).unwrap(), weighted);
}

#[test]
fn bad_weights_are_clear_errors() {
    let (phi, y, w) = problem(20, 4, 13);
    let grid = Grid::covering(phi.view(), y.view()).unwrap();
    let mut plain = RidgeAccumulator::new(4, 2, grid).unwrap();
    let mut weighted =
        RidgeAccumulator::new_weighted(4, 2, grid.widened(3.0).unwrap(), 9.0).unwrap();
    let invalid =
        |r: Result<(), SolversError>| matches!(r, Err(SolversError::InvalidParameter { .. }));
    assert!(invalid(plain.update_weighted(phi.view(), y.view(), &w)));
    assert!(invalid(weighted.update(phi.view(), y.view())));
    let mut bad = w.clone();
    for value in [f64::NAN, -1.0, f64::INFINITY, 20.0] {
        bad[3] = value;
        assert!(
            invalid(weighted.update_weighted(phi.view(), y.view(), &bad)),
            "weight {value}"
        );
    }
    assert!(matches!(
        weighted.update_weighted(phi.view(), y.view(), &w[..5]),
        Err(SolversError::DimensionMismatch { .. })
    ));
    // Nothing was added by the refused calls; zero weights alone leave nothing to fit.
    assert_eq!(weighted.count(), 0);
    weighted
        .update_weighted(phi.view(), y.view(), &[0.0; 20])
        .unwrap();
    assert!(matches!(
        weighted.solve(1.0),
        Err(SolversError::EmptyInput(_))
    ));
    // A leave-one-out path scores rows of positive weight only.
    let mut zero = w.clone();
    zero[0] = 0.0;
    assert!(invalid(
        LooPath::new_weighted(phi.clone(), y.view(), &zero).map(|_| ())
    ));
    assert!(invalid(
        LooPath::from_statistics(&weighted, phi.clone(), y.view()).map(|_| ())
    ));
}

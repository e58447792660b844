//! Linear SVM by dual coordinate descent: monotone dual, KKT, duality gap, references.

mod common;

use common::uniform;
use ndarray::{Array2, array};
use rks_solvers::SolversError;
use rks_solvers::error::Param;
use rks_solvers::svm::{SvmLoss, SvmParams, fit_binary, fit_ovr};

/// Two overlapping clouds in 5-D (not separable), labels ±1.
fn noisy_problem() -> (Array2<f64>, Vec<f64>) {
    let x = uniform(120, 5, 11);
    let noise = uniform(120, 1, 12);
    let y = (0..120)
        .map(|i| {
            if x[[i, 0]] + 0.5 * x[[i, 1]] - 0.2 + 0.6 * noise[[i, 0]] > 0.0 {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    (x, y)
}

fn params(loss: SvmLoss, c: f64, eps: f64) -> SvmParams {
    SvmParams {
        c,
        loss,
        eps,
        max_epochs: 10_000,
        seed: 3,
        ..SvmParams::default()
    }
}

/// Primal objective ½‖w̃‖² + C Σ loss, with w̃ = (w, w_b) and the bias feature appended.
fn primal(x: &Array2<f64>, y: &[f64], w: &[f64], wb: f64, p: &SvmParams) -> f64 {
    let reg = 0.5 * (w.iter().map(|v| v * v).sum::<f64>() + wb * wb);
    let loss: f64 = (0..x.nrows())
        .map(|i| {
            let f: f64 = x.row(i).iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + wb * p.bias;
            let h = (1.0 - y[i] * f).max(0.0);
            match p.loss {
                SvmLoss::Hinge => h,
                SvmLoss::SquaredHinge => h * h,
            }
        })
        .sum();
    reg + p.c * loss
}

#[test]
fn dual_objective_never_increases() {
    let (x, y) = noisy_problem();
    for loss in [SvmLoss::Hinge, SvmLoss::SquaredHinge] {
        for shrinking in [true, false] {
            let p = SvmParams {
                shrinking,
                ..params(loss, 2.0, 1e-6)
            };
            let svm = fit_binary(x.view(), &y, &p).unwrap();
            let obj = &svm.report.objective;
            assert!(
                obj.len() >= 3,
                "{loss:?}: too few epochs to test ({})",
                obj.len()
            );
            for pair in obj.windows(2) {
                assert!(
                    pair[1] <= pair[0] + 1e-12 * pair[0].abs(),
                    "{loss:?}: {} then {}",
                    pair[0],
                    pair[1]
                );
            }
            assert!(obj[0] < 0.0, "the first epoch must improve on f(0) = 0");
        }
    }
}

#[test]
#[allow(clippy::needless_range_loop)]
fn kkt_conditions_and_zero_duality_gap_at_convergence() {
    let (x, y) = noisy_problem();
    for loss in [SvmLoss::Hinge, SvmLoss::SquaredHinge] {
        let p = params(loss, 2.0, 1e-8);
        let svm = fit_binary(x.view(), &y, &p).unwrap();
        assert!(svm.report.converged, "{loss:?} did not converge");
        let (upper, diag) = match loss {
            SvmLoss::Hinge => (p.c, 0.0),
            SvmLoss::SquaredHinge => (f64::INFINITY, 0.5 / p.c),
        };
        // w must equal Σ yᵢαᵢxᵢ.
        for j in 0..5 {
            let w: f64 = (0..120).map(|i| y[i] * svm.alpha[i] * x[[i, j]]).sum();
            assert!((w - svm.weights[j]).abs() < 1e-9);
        }
        let tol = 1e-6;
        for i in 0..120 {
            let f: f64 = x
                .row(i)
                .iter()
                .zip(&svm.weights)
                .map(|(a, b)| a * b)
                .sum::<f64>()
                + svm.intercept();
            let g = y[i] * f - 1.0 + diag * svm.alpha[i];
            let a = svm.alpha[i];
            assert!((0.0..=upper).contains(&a));
            if a == 0.0 {
                assert!(g >= -tol, "{loss:?} row {i}: α = 0 but G = {g}");
            } else if a == upper {
                assert!(g <= tol, "{loss:?} row {i}: α = C but G = {g}");
            } else {
                assert!(g.abs() <= tol, "{loss:?} row {i}: free α but G = {g}");
            }
        }
        // Strong duality: P(w) = −f(α) at the optimum.
        let dual = *svm.report.objective.last().unwrap();
        let primal = primal(&x, &y, &svm.weights, svm.bias_weight, &p);
        assert!(
            (primal + dual).abs() <= 1e-6 * primal.abs(),
            "{loss:?}: primal {primal}, dual {dual}"
        );
    }
}

#[test]
fn separable_2d_data_gives_the_maximum_margin_line() {
    // Class +1 on x = 1, 2, class −1 on x = −1, −2, spread along y: the widest margin is x = 0
    // with w = (1, 0) and, by symmetry, no intercept even though the bias is regularised.
    let x: Array2<f64> = array![
        [1.0, 0.0],
        [1.0, 2.0],
        [1.0, -3.0],
        [2.0, 1.0],
        [-1.0, 0.0],
        [-1.0, 2.0],
        [-1.0, -3.0],
        [-2.0, -1.0]
    ];
    let y = [1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0];
    let svm = fit_binary(x.view(), &y, &params(SvmLoss::Hinge, 1e4, 1e-10)).unwrap();
    assert!((svm.weights[0] - 1.0).abs() < 1e-6, "{:?}", svm.weights);
    assert!(svm.weights[1].abs() < 1e-6);
    assert!(svm.intercept().abs() < 1e-6);
    // Support vectors are exactly the four points on the margin x = ±1.
    let sv: Vec<usize> = (0..8).filter(|&i| svm.alpha[i] > 1e-9).collect();
    assert!(
        sv.iter().all(|&i| x[[i, 0]].abs() == 1.0),
        "support vectors {sv:?}"
    );
}

/// Three well separated blobs in 2-D.
fn blobs() -> (Array2<f64>, Vec<usize>) {
    let centres = [[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]];
    let noise = uniform(90, 2, 21);
    let x = Array2::from_shape_fn((90, 2), |(i, j)| centres[i % 3][j] + noise[[i, j]]);
    (x, (0..90).map(|i| i % 3).collect())
}

#[test]
fn one_vs_rest_separates_blobs_and_is_thread_count_independent() {
    let (x, classes) = blobs();
    let p = params(SvmLoss::SquaredHinge, 1.0, 1e-3);
    let fit = |threads: usize| {
        common::on_threads(threads, || fit_ovr(x.view(), &classes, 3, &p).unwrap())
    };
    let one = fit(1);
    assert_eq!(one, fit(2));
    assert_eq!(one, fit(3));
    assert!(one.converged());
    let scores = one.decision_values(x.view()).unwrap();
    let predicted = rks_solvers::labels::argmax_rows(&scores);
    assert_eq!(predicted, classes);
    // f32 storage agrees with f64 up to rounding.
    let x32 = x.mapv(|v| v as f32);
    let single = fit_ovr(x32.view(), &classes, 3, &p).unwrap();
    let diff = (&single.weights - &one.weights)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(diff < 1e-3, "f32 and f64 weights differ by {diff}");
}

#[test]
fn epoch_cap_is_reported_as_non_convergence() {
    let (x, y) = noisy_problem();
    let p = SvmParams {
        max_epochs: 2,
        ..params(SvmLoss::Hinge, 100.0, 1e-12)
    };
    let svm = fit_binary(x.view(), &y, &p).unwrap();
    assert!(!svm.report.converged);
    assert_eq!(svm.report.epochs, 2);
    assert_eq!(svm.report.objective.len(), 2);
}

#[test]
fn bad_parameters_and_input_are_typed_errors() {
    let (x, y) = noisy_problem();
    for c in [0.0, -1.0, f64::NAN] {
        let p = SvmParams {
            c,
            ..SvmParams::default()
        };
        assert!(matches!(
            fit_binary(x.view(), &y, &p),
            Err(SolversError::InvalidParameter { name: Param::C, .. })
        ));
    }
    let p = SvmParams::default();
    assert!(matches!(
        fit_binary(x.view(), &y[..10], &p),
        Err(SolversError::RowMismatch { .. })
    ));
    let empty = Array2::<f64>::zeros((0, 5));
    assert!(matches!(
        fit_binary(empty.view(), &[], &p),
        Err(SolversError::EmptyInput(_))
    ));
    let mut bad = x.clone();
    bad[[4, 2]] = f64::NAN;
    assert!(matches!(
        fit_binary(bad.view(), &y, &p),
        Err(SolversError::NonFinite { row: 4, col: 2, .. })
    ));
    assert!(matches!(
        fit_ovr(x.view(), &vec![0; 120], 1, &p),
        Err(SolversError::InvalidParameter { .. })
    ));
    assert!(matches!(
        fit_ovr(x.view(), &vec![5; 120], 3, &p),
        Err(SolversError::InvalidParameter { .. })
    ));
}

#[test]
fn svm_models_have_the_same_bits_on_every_platform() {
    // docs/architecture.md, "Determinism": Fastfood features (pinned in rks' `portable_bits`
    // test) and the SVM's own dot/axpy kernels, so the weights are the same bits on every
    // platform and SIMD level. Pinned on x86-64; passed on aarch64 under qemu-user too.
    let x = uniform(150, 10, 31);
    let classes: Vec<usize> = x
        .rows()
        .into_iter()
        .map(|r| usize::from(r[0] + r[1] * r[2] > 0.0) + usize::from(r[3] > 0.5))
        .collect();
    let map = common::pinned_fastfood(64);
    let phi = rks::FeatureMap::transform(&map, x.view()).unwrap();
    let phi32 = rks::FeatureMap::transform(&map, x.mapv(|v| v as f32).view()).unwrap();
    let hashes: Vec<u64> = [SvmLoss::Hinge, SvmLoss::SquaredHinge]
        .into_iter()
        .flat_map(|loss| {
            let p = params(loss, 2.0, 1e-4);
            [
                fit_ovr(phi.view(), &classes, 3, &p).unwrap(),
                fit_ovr(phi32.view(), &classes, 3, &p).unwrap(),
            ]
        })
        .map(|svm| common::hash_bits(svm.weights.iter().chain(&svm.intercept)))
        .collect();
    assert_eq!(
        hashes,
        [
            0xad84_0921_e197_4d67,
            0xf610_82ec_7d73_3268,
            0xcfbd_219f_e31b_874e,
            0x2fc1_81a8_1dd9_ee19
        ],
        "SVM weights differ from the pinned bits: {hashes:#018x?}"
    );
}

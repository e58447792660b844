//! The network end to end through the public API: gradients, training, early stopping.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::scaler::ScalerKind;
use rks_layers::{
    HiddenSpec, LayerError, Network, NetworkParams, Optimizer, TrainParams, Trainable, train,
};

fn normal(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
}

/// Three classes decided by which of three fixed directions a point projects on most: a problem a
/// linear model on the raw inputs solves only partly and a ReLU layer solves well.
fn problem(rows: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let x = normal(rows, 6, seed) * 3.0 + 1.0;
    let labels = x
        .rows()
        .into_iter()
        .map(|r| {
            let a = (r[0] * r[1]).abs();
            let b = (r[2] - r[3]).abs();
            let c = (r[4] + r[5]).abs();
            if a >= b && a >= c {
                0
            } else if b >= c {
                1
            } else {
                2
            }
        })
        .collect();
    (x, labels)
}

fn loss(net: &Network, x: ArrayView2<'_, f64>, y: &[usize]) -> f64 {
    net.evaluate(x, y).unwrap().0
}

#[test]
fn network_gradients_match_central_differences() {
    let (x, y) = problem(9, 1);
    for params in [
        NetworkParams::new()
            .fastfood(16, Trainable::ALL)
            .dense(5)
            .seed(3),
        NetworkParams::new()
            .dense(7)
            .hidden(HiddenSpec::Fastfood {
                width: 12,
                sigma: Some(0.7),
                trainable: Trainable::ALL,
            })
            .seed(4),
    ] {
        let mut net = params.build(x.view(), 3).unwrap();
        // Random biases, so no pre-activation sits at a ReLU kink by construction.
        let mut theta = net.parameter_vector();
        let noise = normal(1, theta.len(), 9);
        theta
            .iter_mut()
            .zip(noise.iter())
            .for_each(|(t, n)| *t += 0.1 * n);
        net.set_parameter_vector(&theta).unwrap();
        let (_, grads) = net.loss_and_gradients(x.view(), &y).unwrap();
        let analytic = grads.to_vector();
        assert_eq!(analytic.len(), theta.len());
        let eps = 1e-6;
        let scale = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..theta.len() {
            let mut t = theta.clone();
            t[i] += eps;
            net.set_parameter_vector(&t).unwrap();
            let lp = loss(&net, x.view(), &y);
            t[i] -= 2.0 * eps;
            net.set_parameter_vector(&t).unwrap();
            let lm = loss(&net, x.view(), &y);
            let fd = (lp - lm) / (2.0 * eps);
            let tol = 1e-6 * analytic[i].abs().max(1e-3 * scale);
            assert!(
                (fd - analytic[i]).abs() <= tol,
                "parameter {i}: analytic {}, finite difference {fd}",
                analytic[i]
            );
        }
    }
}

#[test]
fn frozen_fastfood_trains_only_the_output_layer() {
    let (x, y) = problem(50, 2);
    let mut net = NetworkParams::new()
        .fastfood(32, Trainable::NONE)
        .seed(5)
        .build(x.view(), 3)
        .unwrap();
    let before = net.hidden()[0].clone();
    assert_eq!(net.n_trainable(), 32 * 3 + 3);
    let params = TrainParams {
        epochs: 3,
        validation_fraction: 0.0,
        ..TrainParams::default()
    };
    train(&mut net, x.view(), &y, &params, |_| {}).unwrap();
    assert_eq!(net.hidden()[0], before);
}

#[test]
fn training_lowers_the_loss_with_adam_and_sgd() {
    let (x, y) = problem(300, 3);
    for (spec, optimizer) in [
        (
            NetworkParams::new().fastfood(64, Trainable::ALL),
            Optimizer::adam(0.01),
        ),
        (
            NetworkParams::new().fastfood(64, Trainable::ALL),
            Optimizer::sgd(0.05, 0.9),
        ),
        (NetworkParams::new().dense(64), Optimizer::adam(0.01)),
        (NetworkParams::new().dense(64), Optimizer::sgd(0.05, 0.9)),
    ] {
        let mut net = spec
            .scaler(ScalerKind::Standard)
            .seed(1)
            .build(x.view(), 3)
            .unwrap();
        let initial = loss(&net, x.view(), &y);
        let params = TrainParams {
            epochs: 30,
            batch_size: 32,
            optimizer,
            weight_decay: 1e-4,
            validation_fraction: 0.0,
            patience: None,
            seed: 2,
        };
        let mut seen = 0;
        let history = train(&mut net, x.view(), &y, &params, |_| seen += 1).unwrap();
        assert_eq!(seen, 30);
        let last = history.epochs.last().unwrap();
        let fin = loss(&net, x.view(), &y);
        assert!(
            fin < 0.5 * initial && last.train_accuracy > 0.85,
            "{optimizer:?}: loss {initial} → {fin}, accuracy {}",
            last.train_accuracy
        );
    }
}

#[test]
fn training_is_deterministic_for_any_thread_count() {
    let (x, y) = problem(120, 4);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut net = NetworkParams::new()
                .fastfood(20, Trainable::ALL)
                .dense(8)
                .seed(6)
                .build(x.view(), 3)
                .unwrap();
            let h = train(
                &mut net,
                x.view(),
                &y,
                &TrainParams {
                    epochs: 3,
                    batch_size: 40,
                    ..TrainParams::default()
                },
                |_| {},
            )
            .unwrap();
            (net, h)
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    // Few rows, a wide layer and a large step: the validation loss soon rises.
    let (x, y) = problem(60, 5);
    let mut net = NetworkParams::new()
        .dense(128)
        .seed(7)
        .build(x.view(), 3)
        .unwrap();
    let params = TrainParams {
        epochs: 200,
        batch_size: 8,
        optimizer: Optimizer::adam(0.02),
        validation_fraction: 0.3,
        patience: Some(5),
        ..TrainParams::default()
    };
    let mut snapshots = Vec::new();
    let history = train(&mut net, x.view(), &y, &params, |e| snapshots.push(*e)).unwrap();
    assert!(history.stopped_early, "expected an early stop");
    let best = history.best_epoch.unwrap();
    let val: Vec<f64> = history.epochs.iter().map(|e| e.val_loss.unwrap()).collect();
    let min = val.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(val[best - 1], min);
    assert_eq!(history.epochs.len(), best + 5);
    assert_eq!(snapshots, history.epochs);
}

#[test]
fn bad_training_input_is_a_typed_error() {
    let (x, y) = problem(20, 6);
    let mut net = NetworkParams::new()
        .fastfood(8, Trainable::ALL)
        .build(x.view(), 3)
        .unwrap();
    let p = TrainParams::default();
    assert!(matches!(
        train(&mut net, x.view(), &y[..19], &p, |_| {}),
        Err(LayerError::LabelCount { .. })
    ));
    let mut bad = y.clone();
    bad[4] = 3;
    assert!(matches!(
        train(&mut net, x.view(), &bad, &p, |_| {}),
        Err(LayerError::BadLabel { row: 4, .. })
    ));
    let mut xn = x.clone();
    xn[[2, 2]] = f64::INFINITY;
    assert!(train(&mut net, xn.view(), &y, &p, |_| {}).is_err());
    for bad in [
        TrainParams {
            batch_size: 0,
            ..p.clone()
        },
        TrainParams {
            validation_fraction: 1.0,
            ..p.clone()
        },
        TrainParams {
            optimizer: Optimizer::sgd(-1.0, 0.9),
            ..p.clone()
        },
        TrainParams {
            optimizer: Optimizer::sgd(0.1, 1.0),
            ..p.clone()
        },
    ] {
        assert!(matches!(
            train(&mut net, x.view(), &y, &bad, |_| {}),
            Err(LayerError::InvalidParameter { .. })
        ));
    }
    assert!(NetworkParams::new().build(x.view(), 1).is_err());
    // A step so large the parameters overflow: a typed error, and the network is left with the
    // finite parameters of the epoch before.
    let huge = TrainParams {
        optimizer: Optimizer::sgd(f64::MAX, 0.0),
        validation_fraction: 0.0,
        ..p
    };
    let r = train(&mut net, x.view(), &y, &huge, |_| {});
    assert!(matches!(r, Err(LayerError::Diverged { .. })), "{r:?}");
    assert!(net.parameter_vector().iter().all(|v| v.is_finite()));
}

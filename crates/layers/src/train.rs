//! Mini-batch training with early stopping on a validation split.

use crate::error::Param;
use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::optim::OptimizerState;
use crate::{LayerError, Network, Optimizer};

/// How a [`Network`] is trained. Validated by [`train`].
///
/// ```
/// use rks_layers::{Optimizer, TrainParams};
/// let params = TrainParams {
///     epochs: 30,
///     optimizer: Optimizer::sgd(0.05, 0.9),
///     ..TrainParams::default()
/// };
/// assert_eq!(params.batch_size, 64);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams {
    /// Maximum number of passes over the training rows.
    pub epochs: usize,
    /// Rows per gradient step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// The update rule.
    pub optimizer: Optimizer,
    /// L2 weight decay λ on dense weights (0 for none).
    pub weight_decay: f64,
    /// Fraction of the training rows held out for validation, in [0, 1). With 0 there is no
    /// validation and no early stopping.
    pub validation_fraction: f64,
    /// Stop after this many epochs without a lower validation loss, then restore the parameters
    /// of the best epoch. `None`: run all epochs (and still restore the best one if validating).
    pub patience: Option<usize>,
    /// Seed of the validation split and of the per-epoch shuffles (ChaCha8).
    pub seed: u64,
}

impl Default for TrainParams {
    /// 50 epochs of Adam (η = 10⁻³) on batches of 64, 10 % validation, patience 10, seed 0.
    fn default() -> Self {
        Self {
            epochs: 50,
            batch_size: 64,
            optimizer: Optimizer::adam(1e-3),
            weight_decay: 0.0,
            validation_fraction: 0.1,
            patience: Some(10),
            seed: 0,
        }
    }
}

/// Loss and accuracy after one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean cross-entropy over the training batches of the epoch (as they were seen).
    pub train_loss: f64,
    /// Accuracy over the training batches of the epoch (as they were seen).
    pub train_accuracy: f64,
    /// Mean cross-entropy on the validation rows after the epoch.
    pub val_loss: Option<f64>,
    /// Accuracy on the validation rows after the epoch.
    pub val_accuracy: Option<f64>,
}

/// What happened during training.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// One entry per epoch run.
    pub epochs: Vec<EpochStats>,
    /// The epoch whose parameters the network holds at the end (the best validation loss), if
    /// there was a validation split.
    pub best_epoch: Option<usize>,
    /// True if training stopped before `epochs` because the validation loss stopped improving.
    pub stopped_early: bool,
}

/// Trains `net` on rows `x` (raw, unscaled: the network's scaler is applied) with class indices
/// `labels`, calling `on_epoch` after every epoch. Deterministic: same inputs and seed give the
/// same network bit for bit, whatever the number of threads.
///
/// If the loss or a parameter becomes non-finite, the network is reset to its state before that
/// epoch (whose parameters were finite) and [`LayerError::Diverged`] is returned.
pub fn train(
    net: &mut Network,
    x: ArrayView2<'_, f64>,
    labels: &[usize],
    params: &TrainParams,
    mut on_epoch: impl FnMut(&EpochStats),
) -> Result<History, LayerError> {
    validate(params)?;
    net.check_labels(x.nrows(), labels)?;
    let xs = net.scale_inputs(x)?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut order: Vec<usize> = (0..xs.nrows()).collect();
    let n_val = (params.validation_fraction * xs.nrows() as f64).floor() as usize;
    let mut val = None;
    if n_val > 0 {
        order.shuffle(&mut rng);
        let (v, t) = order.split_at(n_val);
        val = Some((
            select(&xs, v),
            v.iter().map(|&i| labels[i]).collect::<Vec<_>>(),
        ));
        order = t.to_vec();
    }
    if order.is_empty() {
        return Err(LayerError::InvalidParameter {
            name: Param::X,
            reason: "no training rows left after the validation split".into(),
        });
    }

    let mut state = OptimizerState::new(params.optimizer, params.weight_decay);
    let mut history = History::default();
    let mut best: Option<(f64, Network)> = None;
    let mut since_best = 0;
    for epoch in 1..=params.epochs {
        let start = net.clone();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        for batch in order.chunks(params.batch_size) {
            let xb = select(&xs, batch);
            let yb: Vec<usize> = batch.iter().map(|&i| labels[i]).collect();
            let r = net.gradients_scaled(xb.view(), &yb);
            let loss = r.as_ref().map_or(f64::NAN, |r| r.0);
            if overflowed(&r) || !loss.is_finite() {
                *net = start;
                return Err(LayerError::Diverged { epoch, loss });
            }
            let (loss, right, grads) = r?;
            loss_sum += loss * batch.len() as f64;
            correct += right;
            state.step(net, &grads);
        }
        if !net.params_finite() {
            *net = start;
            return Err(LayerError::Diverged {
                epoch,
                loss: f64::INFINITY,
            });
        }
        let mut stats = EpochStats {
            epoch,
            train_loss: loss_sum / order.len() as f64,
            train_accuracy: correct as f64 / order.len() as f64,
            val_loss: None,
            val_accuracy: None,
        };
        if let Some((xv, yv)) = &val {
            let r = net.evaluate_scaled(xv.view(), yv);
            let loss = r.as_ref().map_or(f64::NAN, |r| r.0);
            if overflowed(&r) || !loss.is_finite() {
                *net = start;
                return Err(LayerError::Diverged { epoch, loss });
            }
            let (loss, acc) = r?;
            (stats.val_loss, stats.val_accuracy) = (Some(loss), Some(acc));
            if best.as_ref().is_none_or(|(b, _)| loss < *b) {
                best = Some((loss, net.clone()));
                history.best_epoch = Some(epoch);
                since_best = 0;
            } else {
                since_best += 1;
            }
        }
        on_epoch(&stats);
        history.epochs.push(stats);
        if params.patience.is_some_and(|p| since_best >= p) {
            history.stopped_early = epoch < params.epochs;
            break;
        }
    }
    if let Some((_, b)) = best {
        *net = b;
    }
    Ok(history)
}

/// The inputs were checked when scaled, so a non-finite value met inside the network is an
/// activation that overflowed: the training diverged.
fn overflowed<T>(r: &Result<T, LayerError>) -> bool {
    matches!(r, Err(LayerError::NonFiniteInput { .. }))
}

fn validate(p: &TrainParams) -> Result<(), LayerError> {
    let bad = |name, reason: String| Err(LayerError::InvalidParameter { name, reason });
    if p.batch_size == 0 {
        return bad(Param::BatchSize, "must be at least 1".into());
    }
    if !(0.0..1.0).contains(&p.validation_fraction) {
        return bad(
            Param::ValidationFraction,
            format!("must lie in [0, 1), got {}", p.validation_fraction),
        );
    }
    if !(p.weight_decay.is_finite() && p.weight_decay >= 0.0) {
        return bad(
            Param::WeightDecay,
            format!("must be finite and ≥ 0, got {}", p.weight_decay),
        );
    }
    p.optimizer.validate()
}

/// The rows `idx` of `x`, in that order.
fn select(x: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    x.select(Axis(0), idx)
}

//! Training a [`ConvNet`]: mini-batch SGD with momentum, a learning-rate schedule and weight
//! decay, as Caffe's LeNet solver does it.
//!
//! Per step t (from 0) with gradient g of the mean batch loss: η_t from the [`LrSchedule`],
//! v ← μ v + η_t (g + λ θ), θ ← θ − v, with λ applied to weights only (not to biases or to the
//! Fastfood diagonals). Parameters, gradients and velocities are all in the network's type `T`
//! (f32 for a [`ConvNet`] as built by [`ConvNetParams::build`](crate::ConvNetParams::build));
//! η_t, μ and λ are rounded to `T` once per step.

use crate::error::Param;
use ndarray::{ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::real::Real;
use crate::{ConvNet, EpochStats, History, LayerError};

/// How the learning rate η_t evolves over the steps t = 0, 1, 2, …
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LrSchedule {
    /// η_t = η₀.
    Constant,
    /// Caffe's "inv" policy: η_t = η₀ (1 + γ t)^(−power).
    Inv { gamma: f64, power: f64 },
    /// η_t = η₀ · factor^⌊t / every⌋.
    Step { every: usize, factor: f64 },
}

impl LrSchedule {
    /// The learning rate of step `t` for the base rate `base`.
    ///
    /// ```
    /// use rks_layers::LrSchedule;
    /// let inv = LrSchedule::Inv { gamma: 1e-4, power: 0.75 };
    /// assert_eq!(inv.rate(0.01, 0), 0.01);
    /// assert!((inv.rate(0.01, 10_000) - 0.01 * 2f64.powf(-0.75)).abs() < 1e-15);
    /// ```
    pub fn rate(&self, base: f64, t: usize) -> f64 {
        match *self {
            LrSchedule::Constant => base,
            LrSchedule::Inv { gamma, power } => base * (1.0 + gamma * t as f64).powf(-power),
            LrSchedule::Step { every, factor } => base * factor.powi((t / every.max(1)) as i32),
        }
    }
}

/// How a [`ConvNet`] is trained. The default is Caffe's LeNet solver (η₀ = 0.01, μ = 0.9,
/// λ = 5·10⁻⁴, "inv" with γ = 10⁻⁴ and power 0.75, batches of 64) for 10 epochs.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvTrainParams {
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// The base learning rate η₀.
    pub learning_rate: f64,
    /// The momentum μ in [0, 1).
    pub momentum: f64,
    /// L2 weight decay λ ≥ 0 on weights.
    pub weight_decay: f64,
    /// The learning-rate schedule.
    pub schedule: LrSchedule,
    /// Seed of the per-epoch shuffles and of the dropout masks (ChaCha8).
    pub seed: u64,
}

impl Default for ConvTrainParams {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 64,
            learning_rate: 0.01,
            momentum: 0.9,
            weight_decay: 5e-4,
            schedule: LrSchedule::Inv {
                gamma: 1e-4,
                power: 0.75,
            },
            seed: 0,
        }
    }
}

impl ConvTrainParams {
    fn validate(&self) -> Result<(), LayerError> {
        let bad = |name, reason: String| Err(LayerError::InvalidParameter { name, reason });
        if self.batch_size == 0 {
            return bad(Param::BatchSize, "must be at least 1".into());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                Param::LearningRate,
                format!("must be finite and > 0, got {}", self.learning_rate),
            );
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad(
                Param::Momentum,
                format!("must lie in [0, 1), got {}", self.momentum),
            );
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                Param::WeightDecay,
                format!("must be finite and ≥ 0, got {}", self.weight_decay),
            );
        }
        let schedule_ok = match self.schedule {
            LrSchedule::Constant => true,
            LrSchedule::Inv { gamma, power } => {
                gamma >= 0.0 && power >= 0.0 && gamma.is_finite() && power.is_finite()
            }
            LrSchedule::Step { every, factor } => every > 0 && factor > 0.0 && factor.is_finite(),
        };
        if !schedule_ok {
            return bad(
                Param::Schedule,
                format!(
                    "{:?} has a negative, zero or non-finite value",
                    self.schedule
                ),
            );
        }
        Ok(())
    }
}

/// One SGD-with-momentum update of a parameter vector (Caffe's form).
fn sgd<T: Real>(p: &mut [T], g: &[T], v: &mut [T], lr: T, mu: T, wd: T) {
    for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
        *v = mu * *v + lr * (g + wd * *p);
        *p -= *v;
    }
}

/// Trains `net` on images `x` (one per row, scaled as for inference) with class indices
/// `labels`, calling `on_epoch` after every epoch. Deterministic: the same inputs and seed give
/// the same network bit for bit, whatever the number of threads.
///
/// If the loss or a parameter becomes non-finite, the network is reset to its state before that
/// epoch and [`LayerError::Diverged`] is returned.
///
/// ```
/// use ndarray::Array2;
/// use rks_layers::{ConvNetParams, ConvTrainParams, Head, train_convnet};
///
/// // Bright left half: class 1; bright right half: class 0. 8×8 images, tiny convolutions.
/// let x = Array2::from_shape_fn((64, 64), |(i, j)| if (j % 8 < 4) == (i % 2 == 1) { 1.0f32 } else { 0.0 });
/// let y: Vec<usize> = (0..64).map(|i| i % 2).collect();
/// let mut net = ConvNetParams::lenet(Head::Fastfood { width: 8, adaptive: true })
///     .input_shape([1, 8, 8]).convolutions([(2, 1), (2, 1)]).seed(1).build(2).unwrap();
/// let params = ConvTrainParams { epochs: 20, batch_size: 8, learning_rate: 0.1, ..ConvTrainParams::default() };
/// train_convnet(&mut net, x.view(), &y, &params, |_| {}).unwrap();
/// assert_eq!(net.evaluate(x.view(), &y).unwrap().1, 1.0);
/// ```
pub fn train_convnet<T: Real>(
    net: &mut ConvNet<T>,
    x: ArrayView2<'_, T>,
    labels: &[usize],
    params: &ConvTrainParams,
    mut on_epoch: impl FnMut(&EpochStats),
) -> Result<History, LayerError> {
    params.validate()?;
    net.check_labels(x.nrows(), labels)?;
    if x.nrows() == 0 {
        return Err(LayerError::InvalidParameter {
            name: Param::X,
            reason: "no training images".into(),
        });
    }
    let mut shuffle = ChaCha8Rng::seed_from_u64(params.seed);
    let mut dropout_seeds = ChaCha8Rng::seed_from_u64(params.seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    let mut velocity: Vec<Vec<T>> = Vec::new();
    net.visit_params(&mut |p, _| velocity.push(vec![T::zero(); p.len()]));
    let (mu, wd) = (T::of(params.momentum), T::of(params.weight_decay));
    let mut step = 0usize;
    let mut history = History::default();
    for epoch in 1..=params.epochs {
        let start = net.clone();
        order.shuffle(&mut shuffle);
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        for batch in order.chunks(params.batch_size) {
            let xb = x.select(Axis(0), batch);
            let yb: Vec<usize> = batch.iter().map(|&i| labels[i]).collect();
            let (loss, right, grads) =
                net.loss_and_gradients(xb.view(), &yb, dropout_seeds.random())?;
            if !loss.is_finite() {
                *net = start;
                return Err(LayerError::Diverged { epoch, loss });
            }
            loss_sum += loss * batch.len() as f64;
            correct += right;
            let lr = T::of(params.schedule.rate(params.learning_rate, step));
            let g = grads.slices();
            let mut i = 0;
            net.visit_params(&mut |p, decay| {
                let wd = if decay { wd } else { T::zero() };
                sgd(p, g[i], &mut velocity[i], lr, mu, wd);
                i += 1;
            });
            step += 1;
        }
        if !net.params_finite() {
            *net = start;
            return Err(LayerError::Diverged {
                epoch,
                loss: f64::INFINITY,
            });
        }
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / x.nrows() as f64,
            train_accuracy: correct as f64 / x.nrows() as f64,
            val_loss: None,
            val_accuracy: None,
        };
        on_epoch(&stats);
        history.epochs.push(stats);
    }
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{HEADS, on_threads, random_matrix};
    use crate::{ConvNetParams, Head};
    use ndarray::Array2;

    fn params(head: Head) -> ConvNetParams {
        ConvNetParams::lenet(head)
            .input_shape([1, 10, 10])
            .convolutions([(3, 3), (4, 2)])
            .dropout(0.2)
            .seed(7)
    }

    /// 40 images: a bright left half is class 1, a bright right half class 0, plus noise.
    fn data() -> (Array2<f64>, Vec<usize>) {
        let noise = random_matrix(40, 100, 8);
        let x = Array2::from_shape_fn((40, 100), |(i, j)| {
            let bright = (j % 10 < 5) == (i % 2 == 1);
            f64::from(u8::from(bright)) + 0.1 * noise[[i, j]]
        });
        (x, (0..40).map(|i| i % 2).collect())
    }

    fn train_params() -> ConvTrainParams {
        ConvTrainParams {
            epochs: 3,
            batch_size: 8,
            learning_rate: 0.05,
            seed: 3,
            ..ConvTrainParams::default()
        }
    }

    /// The trained f32 network (every layer, the head included) is the same bit for bit with 1, 2
    /// or 3 threads, for every head, with dropout.
    #[test]
    fn training_is_the_same_for_any_thread_count() {
        let (x, y) = data();
        let x = x.mapv(|v| v as f32);
        for head in HEADS {
            let run = |threads| {
                on_threads(threads, || {
                    let mut net = params(head).build(2).unwrap();
                    let history =
                        train_convnet(&mut net, x.view(), &y, &train_params(), |_| {}).unwrap();
                    (net, history)
                })
            };
            let one = run(1);
            assert_ne!(
                one.0,
                params(head).build(2).unwrap(),
                "{head:?}: nothing moved"
            );
            assert_eq!(one, run(2), "{head:?}");
            assert_eq!(one, run(3), "{head:?}");
        }
    }

    /// The same training in f32 and in f64 lowers the loss alike (the f64 instantiation trains
    /// too; it is what the gradient checks use).
    #[test]
    fn f32_and_f64_training_lower_the_loss_alike() {
        let (x, y) = data();
        for head in HEADS {
            let mut n32 = params(head).build(2).unwrap();
            let mut n64 = params(head).build_as::<f64>(2).unwrap();
            let x32 = x.mapv(|v| v as f32);
            let h32 = train_convnet(&mut n32, x32.view(), &y, &train_params(), |_| {}).unwrap();
            let h64 = train_convnet(&mut n64, x.view(), &y, &train_params(), |_| {}).unwrap();
            let (first, last) = (&h32.epochs[0], &h32.epochs[2]);
            assert!(last.train_loss < first.train_loss, "{head:?}: {h32:?}");
            for (a, b) in h32.epochs.iter().zip(&h64.epochs) {
                assert!(
                    (a.train_loss - b.train_loss).abs() <= 1e-3 * b.train_loss,
                    "{head:?}: {} vs {}",
                    a.train_loss,
                    b.train_loss
                );
            }
        }
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        let (x, y) = data();
        let x = x.mapv(|v| v as f32);
        let mut net = params(HEADS[1]).build(2).unwrap();
        for bad in [
            ConvTrainParams {
                batch_size: 0,
                ..train_params()
            },
            ConvTrainParams {
                learning_rate: f64::NAN,
                ..train_params()
            },
            ConvTrainParams {
                momentum: 1.0,
                ..train_params()
            },
        ] {
            assert!(matches!(
                train_convnet(&mut net, x.view(), &y, &bad, |_| {}),
                Err(LayerError::InvalidParameter { .. })
            ));
        }
        assert!(matches!(
            train_convnet(&mut net, x.view(), &y[1..], &train_params(), |_| {}),
            Err(LayerError::LabelCount { .. })
        ));
    }
}

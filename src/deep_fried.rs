//! `rks deep-fried` (alias `rks net`): train and evaluate a network whose hidden layer is
//! adaptive Fastfood (Yang et al., "Deep Fried Convnets", ICCV 2015), fixed Fastfood, or dense,
//! with rks-layers: on the inputs directly (`--arch mlp`), or on the features of Caffe's LeNet
//! convolutions for MNIST-format images (`--arch lenet --idx DIR`).

use std::io::{self, Write};
use std::path::PathBuf;

use rks_layers::{
    HiddenSpec, LayerError, NetworkParams, Optimizer, TrainParams, Trainable, class_labels, train,
};
use serde::Serialize;

use crate::cli::{ArchChoice, DeepFriedArgs, LayerChoice};
use crate::error::{CliError, Result};
use crate::input::{Pair, read_pair};
use crate::progress::Progress;
use crate::report::{Report, emit, fmt_duration, timed};

/// One epoch of training.
#[derive(Debug, Clone, Serialize)]
pub struct Epoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training cross-entropy.
    pub train_loss: f64,
    /// Validation cross-entropy, if validating.
    pub val_loss: Option<f64>,
    /// Validation accuracy, if validating.
    pub val_accuracy: Option<f64>,
}

/// What `rks deep-fried` prints.
#[derive(Debug, Serialize)]
pub struct DeepFriedReport {
    /// Training file.
    pub train: PathBuf,
    /// Test file.
    pub test: PathBuf,
    /// "adaptive", "fastfood" or "dense".
    pub layer: &'static str,
    /// Hidden width.
    pub width: usize,
    /// All parameters of the network.
    pub parameters: usize,
    /// The parameters training changes.
    pub trainable_parameters: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// Epoch whose parameters were kept (best validation loss).
    pub best_epoch: Option<usize>,
    /// Seconds of training.
    pub train_seconds: f64,
    /// Accuracy on the training rows.
    pub train_accuracy: f64,
    /// Accuracy on the test rows.
    pub test_accuracy: f64,
    /// Mean cross-entropy on the test rows.
    pub test_loss: f64,
    /// Per-epoch figures.
    pub history: Vec<Epoch>,
}

impl Report for DeepFriedReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{} hidden layer of width {}: {} parameters ({} trained)",
            self.layer, self.width, self.parameters, self.trainable_parameters
        )?;
        writeln!(
            out,
            "  trained {} epochs in {}{}",
            self.epochs_run,
            fmt_duration(self.train_seconds),
            self.best_epoch.map_or(String::new(), |e| format!(
                ", kept epoch {e} (best validation loss)"
            ))
        )?;
        writeln!(
            out,
            "  training accuracy {:.2} %",
            100.0 * self.train_accuracy
        )?;
        writeln!(
            out,
            "  test accuracy     {:.2} % (cross-entropy {:.4}) on {}",
            100.0 * self.test_accuracy,
            self.test_loss,
            self.test.display()
        )
    }
}

pub(crate) fn layer_error(e: LayerError) -> CliError {
    match e {
        LayerError::InvalidParameter { .. }
        | LayerError::TooLarge { .. }
        | LayerError::Rks(rks::RksError::InvalidParameter { .. })
        | LayerError::Rks(rks::RksError::TooLarge { .. }) => {
            CliError::usage(crate::flags::layer_message(&e))
        }
        other => CliError::compute(other),
    }
}

/// Runs `rks deep-fried`.
pub fn run(args: &DeepFriedArgs, json: bool) -> Result<()> {
    match (args.arch, &args.idx) {
        (ArchChoice::Lenet, Some(dir)) => crate::deep_fried_conv::run(args, dir, json),
        (ArchChoice::Lenet, None) => Err(CliError::usage(
            "--arch lenet needs --idx DIR (the four MNIST-format IDX files)",
        )),
        (ArchChoice::Mlp, _) => run_mlp(args, json),
    }
}

fn run_mlp(args: &DeepFriedArgs, json: bool) -> Result<()> {
    let (train_path, test_path) = match (&args.train, &args.test, &args.idx) {
        (Some(train), Some(test), _) => (train.clone(), test.clone()),
        (_, _, Some(_)) => {
            return Err(CliError::usage(
                "--idx is read by --arch lenet; --arch mlp takes --train and --test",
            ));
        }
        _ => return Err(CliError::usage("--train and --test are required")),
    };
    let lenet_only = [
        ("--momentum", args.momentum.is_some()),
        ("--weight-decay", args.weight_decay.is_some()),
        ("--dropout", args.dropout.is_some()),
        ("--train-limit", args.train_limit.is_some()),
        ("--save", args.save.is_some()),
    ];
    if let Some((flag, _)) = lenet_only.iter().find(|(_, given)| *given) {
        return Err(CliError::usage(format!(
            "{flag} is read by --arch lenet only; --arch mlp trains with Adam and does not save"
        )));
    }
    let epochs = args.epochs.unwrap_or(50);
    // Class names (a CSV label column of text) are read as their classes 0..k−1.
    let Pair {
        train: train_data,
        test: test_data,
        ..
    } = read_pair(&train_path, &test_path, &args.read)?;
    let labels = |path: &std::path::Path, y: &ndarray::Array1<f64>| {
        class_labels(&y.to_vec()).map_err(|e| {
            CliError::data(path, format!("{e} (deep-fried needs class labels 0..k-1)"))
        })
    };
    let (train_labels, train_k) = labels(&train_path, &train_data.y)?;
    let (test_labels, test_k) = labels(&test_path, &test_data.y)?;
    let n_classes = train_k.max(test_k);
    let hidden = match args.layer {
        LayerChoice::Adaptive => HiddenSpec::Fastfood {
            width: args.width,
            sigma: None,
            trainable: Trainable::ALL,
        },
        LayerChoice::Fastfood => HiddenSpec::Fastfood {
            width: args.width,
            sigma: None,
            trainable: Trainable::NONE,
        },
        LayerChoice::Dense => HiddenSpec::Dense { width: args.width },
    };
    let mut net = NetworkParams::new()
        .hidden(hidden)
        .scaler(args.scaler.unwrap_or(rks::scaler::ScalerKind::Standard))
        .seed(args.seed)
        .build(train_data.x.view(), n_classes)
        .map_err(layer_error)?;
    let params = TrainParams {
        epochs,
        batch_size: args.batch_size,
        optimizer: Optimizer::adam(args.learning_rate.unwrap_or(1e-3)),
        validation_fraction: args.validation.unwrap_or(0.1),
        seed: args.seed,
        ..TrainParams::default()
    };
    let progress = Progress::bar(epochs as u64, "training");
    let (history, elapsed) = timed(|| {
        train(
            &mut net,
            train_data.x.view(),
            &train_labels,
            &params,
            |stats| {
                progress.inc(1);
                if let Some(acc) = stats.val_accuracy {
                    progress.set_message(format!("val {:.1} %", 100.0 * acc));
                }
            },
        )
    });
    drop(progress);
    let history = history.map_err(layer_error)?;
    let (_, train_accuracy) = net
        .evaluate(train_data.x.view(), &train_labels)
        .map_err(layer_error)?;
    let (test_loss, test_accuracy) = net
        .evaluate(test_data.x.view(), &test_labels)
        .map_err(layer_error)?;
    let report = DeepFriedReport {
        train: train_path,
        test: test_path,
        layer: match args.layer {
            LayerChoice::Adaptive => "adaptive",
            LayerChoice::Fastfood => "fastfood",
            LayerChoice::Dense => "dense",
        },
        width: args.width,
        parameters: net.n_parameters(),
        trainable_parameters: net.n_trainable(),
        epochs_run: history.epochs.len(),
        best_epoch: history.best_epoch,
        train_seconds: elapsed.as_secs_f64(),
        train_accuracy,
        test_accuracy,
        test_loss,
        history: history
            .epochs
            .iter()
            .map(|e| Epoch {
                epoch: e.epoch,
                train_loss: e.train_loss,
                val_loss: e.val_loss,
                val_accuracy: e.val_accuracy,
            })
            .collect(),
    };
    emit(&report, json)
}

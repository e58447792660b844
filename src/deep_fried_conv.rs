//! `rks deep-fried --arch lenet --idx DIR`: Caffe's LeNet base with a dense, Fastfood or adaptive
//! Fastfood head on MNIST-format images (Yang et al., "Deep Fried Convnets", ICCV 2015, Table 1).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ndarray::Array2;
use rks_data::idx::{LabelledImages, read_mnist_dir};
use rks_layers::{ConvNetParams, ConvTrainParams, Head, train_convnet};
use serde::Serialize;

use crate::cli::{DeepFriedArgs, LayerChoice};
use crate::deep_fried::{Epoch, layer_error};
use crate::error::{CliError, Result};
use crate::progress::Progress;
use crate::report::{Report, emit, fmt_duration, timed};

/// Pixels are scaled by 1/256 as Caffe's LeNet does (`scale: 0.00390625`).
const PIXEL_SCALE: f32 = 1.0 / 256.0;

/// What `rks deep-fried --arch lenet` prints.
#[derive(Debug, Serialize)]
pub struct ConvReport {
    /// The IDX directory.
    pub idx: PathBuf,
    /// "lenet".
    pub arch: &'static str,
    /// "adaptive", "fastfood" or "dense".
    pub layer: &'static str,
    /// Width of the head's hidden layer.
    pub width: usize,
    /// Every parameter, biases included.
    pub parameters: usize,
    /// Parameters as Yang et al. count them (weights without biases; S, G, B of Fastfood).
    pub paper_parameters: usize,
    /// Training images used.
    pub train_images: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// Seconds of training.
    pub seconds: f64,
    /// Seconds per epoch.
    pub seconds_per_epoch: f64,
    /// Threads of the pool that trained.
    pub threads: usize,
    /// Accuracy on the test images.
    pub test_accuracy: f64,
    /// Mean cross-entropy on the test images.
    pub test_loss: f64,
    /// Per-epoch training figures (loss and accuracy over the batches as they were seen).
    pub history: Vec<Epoch>,
}

impl Report for ConvReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "LeNet + {} {}: {} parameters ({} as Yang et al. count them)",
            self.layer, self.width, self.parameters, self.paper_parameters
        )?;
        writeln!(
            out,
            "  trained {} epochs on {} images in {} ({:.1} s per epoch, {} threads)",
            self.epochs_run,
            self.train_images,
            fmt_duration(self.seconds),
            self.seconds_per_epoch,
            self.threads
        )?;
        writeln!(
            out,
            "  test accuracy {:.2} % (error {:.2} %, cross-entropy {:.4})",
            100.0 * self.test_accuracy,
            100.0 * (1.0 - self.test_accuracy),
            self.test_loss
        )
    }
}

/// Images as rows of f32 pixels scaled by [`PIXEL_SCALE`], and the labels as class indices.
fn images(set: &LabelledImages) -> (Array2<f32>, Vec<usize>) {
    let x = Array2::from_shape_fn((set.len(), set.rows * set.cols), |(i, j)| {
        f32::from(set.pixels[i * set.rows * set.cols + j]) * PIXEL_SCALE
    });
    (x, set.labels.iter().map(|&l| usize::from(l)).collect())
}

/// Asks the C library's allocator to keep the memory a training step frees for the next step.
///
/// Every step allocates its layers' outputs and gradients afresh (about 12 MB for a batch of 64)
/// and frees them. glibc's allocator serves blocks above its mmap threshold (128 KiB at first)
/// with fresh mappings and returns free memory at the top of its heaps once it exceeds its trim
/// threshold, so each step faulted its buffers in again from the kernel: 1.5 of 9 CPU-seconds
/// of a 12,000-image epoch were system time. Freeing one mapped block raises both thresholds to
/// its size (the threshold, up to 32 MiB) and twice that (the trim threshold): after one 30 MiB
/// block is freed, the steps' buffers stay in the heap. Measured (two threads, 12,000 images,
/// adaptive Fastfood 1024, Zen 3): system time 1.47–1.48 → 0.24–0.30 s, wall 4.97–5.22 →
/// 4.33–4.38 s. The block is allocated zeroed and never touched (no page is faulted in); with
/// another allocator this does nothing.
fn keep_freed_memory() {
    drop(std::hint::black_box(vec![0u8; 30 << 20]));
}

/// Runs `rks deep-fried --arch lenet --idx DIR`.
pub fn run(args: &DeepFriedArgs, dir: &Path, json: bool) -> Result<()> {
    let mlp_only = [
        ("--validation", args.validation.is_some()),
        ("--scaler", args.scaler.is_some()),
    ];
    if let Some((flag, _)) = mlp_only.iter().find(|(_, given)| *given) {
        return Err(CliError::usage(format!(
            "{flag} is read by --arch mlp only; --arch lenet trains on every training image \
             (--train-limit N for fewer) and scales pixels by 1/256"
        )));
    }
    keep_freed_memory();
    let mnist = read_mnist_dir(dir).map_err(|e| CliError::data(dir, e))?;
    let train_set = match args.train_limit {
        Some(n) => mnist.train.head(n),
        None => mnist.train,
    };
    let (x_train, y_train) = images(&train_set);
    let (x_test, y_test) = images(&mnist.test);
    let n_classes = y_train.iter().chain(&y_test).max().map_or(0, |m| m + 1);
    let head = match args.layer {
        LayerChoice::Dense => Head::Dense { width: args.width },
        LayerChoice::Fastfood => Head::Fastfood {
            width: args.width,
            adaptive: false,
        },
        LayerChoice::Adaptive => Head::Fastfood {
            width: args.width,
            adaptive: true,
        },
    };
    let mut net = ConvNetParams::lenet(head)
        .input_shape([1, train_set.rows, train_set.cols])
        .dropout(args.dropout.unwrap_or(0.0))
        .seed(args.seed)
        .build(n_classes.max(2))
        .map_err(layer_error)?;
    let params = ConvTrainParams {
        epochs: args.epochs.unwrap_or(10),
        batch_size: args.batch_size,
        learning_rate: args.learning_rate.unwrap_or(0.01),
        momentum: args.momentum.unwrap_or(0.9),
        weight_decay: args.weight_decay.unwrap_or(5e-4),
        seed: args.seed,
        ..ConvTrainParams::default()
    };
    let progress = Progress::bar(params.epochs as u64, "training");
    let (history, elapsed) = timed(|| {
        train_convnet(&mut net, x_train.view(), &y_train, &params, |stats| {
            progress.inc(1);
            progress.set_message(format!("train {:.2} %", 100.0 * stats.train_accuracy));
        })
    });
    drop(progress);
    let history = history.map_err(layer_error)?;
    let (test_loss, test_accuracy) = net.evaluate(x_test.view(), &y_test).map_err(layer_error)?;
    if let Some(path) = &args.save {
        net.save(path).map_err(layer_error)?;
    }
    let epochs_run = history.epochs.len();
    let report = ConvReport {
        idx: dir.to_path_buf(),
        arch: "lenet",
        layer: match args.layer {
            LayerChoice::Adaptive => "adaptive",
            LayerChoice::Fastfood => "fastfood",
            LayerChoice::Dense => "dense",
        },
        width: args.width,
        parameters: net.n_parameters(),
        paper_parameters: net.n_paper_parameters(),
        train_images: x_train.nrows(),
        epochs_run,
        seconds: elapsed.as_secs_f64(),
        seconds_per_epoch: elapsed.as_secs_f64() / epochs_run.max(1) as f64,
        threads: rayon::current_num_threads(),
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

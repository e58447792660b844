//! Deep Fried network on a LIBSVM file: train, evaluate on a test file, optionally save.
//!
//! ```text
//! cargo run --release --example deep_fried -- [TRAIN] [TEST] [D] [WIDTH] [EPOCHS] [options]
//! ```
//!
//! Defaults: `datasets/digits.train datasets/digits.test 64 1024 100`, one adaptive Fastfood
//! layer. `--model dense|fastfood|adaptive` picks the hidden layers, `--layers k` stacks k of
//! them, `--compare` trains the table of docs/deep-fried.md (dense, fixed Fastfood and adaptive
//! Fastfood at WIDTH and 2·WIDTH) and prints it as Markdown. `--help` lists everything.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use rks::scaler::ScalerKind;
use rks_layers::{
    HiddenSpec, History, Network, NetworkParams, Optimizer, TrainParams, Trainable, class_labels,
    train,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Model {
    /// Dense hidden layers (the reference).
    Dense,
    /// Fastfood hidden layers with S, G, B fixed at their random values (only the output layer and
    /// any dense layer learn).
    Fastfood,
    /// Adaptive Fastfood: S, G, B and the bias learned.
    Adaptive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Opt {
    Adam,
    Sgd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scale {
    Standard,
    Minmax,
}

/// Train and evaluate a Deep Fried (adaptive Fastfood) network on LIBSVM files.
#[derive(Debug, Clone, Parser)]
struct Args {
    /// Training file (LIBSVM format, labels 0..k-1).
    train: Option<PathBuf>,
    /// Test file.
    test: Option<PathBuf>,
    /// Number of features d.
    #[arg(default_value_t = 64)]
    d: usize,
    /// Width n of each hidden layer.
    #[arg(default_value_t = 1024)]
    width: usize,
    /// Maximum number of epochs.
    #[arg(default_value_t = 100)]
    epochs: usize,
    /// Kind of hidden layer.
    #[arg(long, value_enum, default_value_t = Model::Adaptive)]
    model: Model,
    /// Train the whole comparison table instead of one model.
    #[arg(long)]
    compare: bool,
    /// Number of hidden layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Optimiser.
    #[arg(long, value_enum, default_value_t = Opt::Adam)]
    optimizer: Opt,
    /// Learning rate (default 1e-3 for Adam, 0.01 for SGD).
    #[arg(long)]
    lr: Option<f64>,
    /// Momentum for SGD.
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// L2 weight decay on dense weights.
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Fraction of the training rows held out for early stopping.
    #[arg(long, default_value_t = 0.1)]
    validation: f64,
    /// Epochs without a better validation loss before stopping.
    #[arg(long, default_value_t = 10)]
    patience: usize,
    /// Input scaling.
    #[arg(long, value_enum, default_value_t = Scale::Standard)]
    scaler: Scale,
    /// σ of the Fastfood layers (default √(d_in/2)).
    #[arg(long)]
    sigma: Option<f64>,
    /// Seed of the initialisation, the validation split and the shuffles.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Learning rates tried per model and seed in --compare; the one with the lowest validation
    /// loss is kept (the test file is never used for the choice).
    #[arg(long, value_delimiter = ',', default_value = "0.001,0.0003")]
    lrs: Vec<f64>,
    /// Number of seeds per model in --compare (mean and spread reported).
    #[arg(long, default_value_t = 1)]
    repeats: u64,
    /// Save the trained network here (single-model mode).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Print only the summary, not every epoch.
    #[arg(long)]
    quiet: bool,
}

struct Data {
    x: ndarray::Array2<f64>,
    y: Vec<usize>,
}

fn read(path: &PathBuf, d: usize) -> Result<(Data, usize), Box<dyn std::error::Error>> {
    let ds = rks_data::libsvm::read_path(path, Some(d))?;
    let (y, k) = class_labels(ds.y.as_slice().unwrap_or(&ds.y.to_vec()))?;
    Ok((Data { x: ds.x, y }, k))
}

struct Sets {
    train: Data,
    test: Data,
    classes: usize,
}

struct Outcome {
    error: f64,
    parameters: usize,
    trainable: usize,
    history: History,
    seconds: f64,
    net: Network,
}

fn run(
    args: &Args,
    model: Model,
    width: usize,
    seed: u64,
    sets: &Sets,
    verbose: bool,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let (train_set, test_set, k) = (&sets.train, &sets.test, sets.classes);
    let mut params = NetworkParams::new()
        .scaler(match args.scaler {
            Scale::Standard => ScalerKind::Standard,
            Scale::Minmax => ScalerKind::MinMax,
        })
        .seed(seed);
    for _ in 0..args.layers {
        params = params.hidden(match model {
            Model::Dense => HiddenSpec::Dense { width },
            Model::Fastfood | Model::Adaptive => HiddenSpec::Fastfood {
                width,
                sigma: args.sigma,
                trainable: if model == Model::Adaptive {
                    Trainable::ALL
                } else {
                    Trainable::NONE
                },
            },
        });
    }
    let mut net = params.build(train_set.x.view(), k)?;
    let optimizer = match args.optimizer {
        Opt::Adam => Optimizer::adam(args.lr.unwrap_or(1e-3)),
        Opt::Sgd => Optimizer::sgd(args.lr.unwrap_or(0.01), args.momentum),
    };
    let tp = TrainParams {
        epochs: args.epochs,
        batch_size: args.batch,
        optimizer,
        weight_decay: args.weight_decay,
        validation_fraction: args.validation,
        patience: Some(args.patience),
        seed,
    };
    let start = Instant::now();
    let history = train(&mut net, train_set.x.view(), &train_set.y, &tp, |e| {
        if verbose {
            println!(
                "epoch {:3}  train loss {:.4}  acc {:.2}%  val loss {:.4}  acc {:.2}%",
                e.epoch,
                e.train_loss,
                100.0 * e.train_accuracy,
                e.val_loss.unwrap_or(f64::NAN),
                100.0 * e.val_accuracy.unwrap_or(f64::NAN)
            );
        }
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let (_, accuracy) = net.evaluate(test_set.x.view(), &test_set.y)?;
    Ok(Outcome {
        error: 100.0 * (1.0 - accuracy),
        parameters: net.n_parameters(),
        trainable: net.n_trainable(),
        history,
        seconds,
        net,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let train_path = args
        .train
        .clone()
        .unwrap_or_else(|| root.join("datasets/digits.train"));
    let test_path = args
        .test
        .clone()
        .unwrap_or_else(|| root.join("datasets/digits.test"));
    let (train_set, k_train) = read(&train_path, args.d)?;
    let (test_set, k_test) = read(&test_path, args.d)?;
    let k = k_train.max(k_test);
    let sets = Sets {
        train: train_set,
        test: test_set,
        classes: k,
    };
    let (train_set, test_set) = (&sets.train, &sets.test);
    println!(
        "{}: {} rows, {} test rows, d = {}, {} classes",
        train_path.display(),
        train_set.x.nrows(),
        test_set.x.nrows(),
        args.d,
        k
    );

    if !args.compare {
        let o = run(&args, args.model, args.width, args.seed, &sets, !args.quiet)?;
        println!(
            "{:?} x{} width {}: test error {:.2}%, {} parameters ({} trained), best epoch {:?} of {}, {:.1} s",
            args.model,
            args.layers,
            args.width,
            o.error,
            o.parameters,
            o.trainable,
            o.history.best_epoch,
            o.history.epochs.len(),
            o.seconds
        );
        if let Some(path) = &args.save {
            o.net.save(path)?;
            let back = Network::load(path)?;
            let same = back.predict(test_set.x.view())? == o.net.predict(test_set.x.view())?;
            println!(
                "saved to {} (reloaded: identical predictions = {same})",
                path.display()
            );
        }
        return Ok(());
    }

    println!(
        "\n| hidden layers ({} × ReLU) | parameters | trained | test error % (mean ± sd, {} seeds) | chosen η | epochs per run | seconds per run |",
        args.layers, args.repeats
    );
    println!("|---|---|---|---|---|---|---|");
    let w = args.width;
    for (model, width, name) in [
        (Model::Dense, w, format!("dense {w}")),
        (Model::Fastfood, w, format!("Fastfood {w} (fixed S, G, B)")),
        (
            Model::Fastfood,
            2 * w,
            format!("Fastfood {} (fixed S, G, B)", 2 * w),
        ),
        (Model::Adaptive, w, format!("adaptive Fastfood {w}")),
        (
            Model::Adaptive,
            2 * w,
            format!("adaptive Fastfood {}", 2 * w),
        ),
    ] {
        let mut errors = Vec::new();
        let (mut params, mut trained, mut epochs, mut secs) = (0, 0, 0, 0.0);
        let mut lrs = Vec::new();
        for r in 0..args.repeats {
            // Model selection on the validation split only: keep the learning rate whose best
            // epoch has the lowest validation loss.
            let mut best: Option<(f64, f64, Outcome)> = None;
            for &lr in &args.lrs {
                let mut a = args.clone();
                a.lr = Some(lr);
                let o = run(&a, model, width, args.seed + r, &sets, false)?;
                let val = o
                    .history
                    .best_epoch
                    .and_then(|e| o.history.epochs[e - 1].val_loss)
                    .unwrap_or(f64::INFINITY);
                epochs += o.history.epochs.len();
                secs += o.seconds;
                if best.as_ref().is_none_or(|b| val < b.0) {
                    best = Some((val, lr, o));
                }
            }
            let Some((_, lr, o)) = best else {
                return Err("--lrs is empty".into());
            };
            errors.push(o.error);
            lrs.push(lr);
            (params, trained) = (o.parameters, o.trainable);
        }
        let n = errors.len() as f64;
        let mean = errors.iter().sum::<f64>() / n;
        let sd =
            (errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let runs = n * args.lrs.len() as f64;
        println!(
            "| {name} | {params} | {trained} | {mean:.2} ± {sd:.2} | {lrs:?} | {:.0} | {:.1} |",
            epochs as f64 / runs,
            secs / runs
        );
    }
    Ok(())
}

//! The command line: every subcommand, flag and default, declared once with clap's derive API.
//!
//! Flags shared by several subcommands live in small `Args` groups that are flattened into each
//! command, so `--sigma` means the same thing (and is documented once) wherever it appears.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rks::scaler::ScalerKind;
use rks::{Kernel, MapKind};
use rks_solvers::{SolverKind, Task};

/// Kernel machines from random features: dense Random Kitchen Sinks and Fastfood.
///
/// Without a subcommand, `rks` runs `compare` on the bundled digits data set
/// (datasets/digits.train and datasets/digits.test, relative to the working directory).
#[derive(Debug, Parser)]
#[command(name = "rks", version, propagate_version = true)]
pub struct Cli {
    /// Print one JSON object with the results on stdout instead of tables (for scripts).
    #[arg(long, global = true)]
    pub json: bool,

    /// Number of worker threads (default: one per core).
    #[arg(long, global = true, value_name = "T", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit a kernel machine on a training file and save it.
    Fit(FitArgs),
    /// Predict one value per row of a data file (streams the file in chunks).
    Predict(PredictArgs),
    /// Evaluate a saved model on a labelled test file.
    Eval(EvalArgs),
    /// Compare dense RKS with Fastfood at several numbers of frequencies.
    Compare(CompareArgs),
    /// Choose the bandwidth and C/λ by k-fold cross-validation.
    Tune(TuneArgs),
    /// Train and evaluate the adaptive Fastfood ("Deep Fried") network.
    #[command(name = "deep-fried", visible_alias = "net")]
    DeepFried(DeepFriedArgs),
    /// Describe a saved model: what it is, what the fit found, its file.
    Info(InfoArgs),
}

impl Command {
    /// The subcommand's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Fit(_) => "fit",
            Command::Predict(_) => "predict",
            Command::Eval(_) => "eval",
            Command::Compare(_) => "compare",
            Command::Tune(_) => "tune",
            Command::DeepFried(_) => "deep-fried",
            Command::Info(_) => "info",
        }
    }
}

/// Input file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `label index:value ...`, 1-based indices, zeros omitted.
    Libsvm,
    /// Comma-separated values with a header row; one column is the label.
    Csv,
}

/// How a data file is read.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// File format [default: csv for *.csv files, libsvm otherwise].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// CSV only: the label column, by header name or 0-based index [default: the first column,
    /// as in LIBSVM files].
    #[arg(long, value_name = "NAME|IDX")]
    pub label_column: Option<String>,

    /// LIBSVM only: the number of input features d [default: the largest index in the file; a
    /// saved model's d when reading with a model].
    #[arg(long, value_name = "D")]
    pub features: Option<usize>,
}

/// The kernel, its bandwidth and the input scaling.
#[derive(Debug, Clone, Args)]
pub struct KernelArgs {
    /// The kernel the random features approximate [default: linear with --map linear, gaussian
    /// otherwise].
    #[arg(long, value_enum)]
    pub kernel: Option<Kernel>,

    /// Kernel width σ in scaled units, e.g. Gaussian k(x,y) = exp(−‖x−y‖²/(2σ²)) [default: the
    /// median heuristic on the scaled training rows].
    #[arg(long, value_name = "S", conflicts_with = "gamma")]
    pub sigma: Option<f64>,

    /// The same width as γ = 1/(2σ²), k(x,y) = exp(−γ‖x−y‖²).
    #[arg(long, value_name = "G")]
    pub gamma: Option<f64>,

    /// Column scaling learned from the training rows and stored with the model (min-max beats
    /// z-scoring on digits by 1.5 points and ties elsewhere: see docs/guide.md).
    #[arg(long, value_enum, default_value_t = ScalerKind::MinMax)]
    pub scaler: ScalerKind,

    /// Seed of every random choice (frequencies, sampled pairs, folds).
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Turn model selection off: σ from the median heuristic (unless given), λ by GCV, n as
    /// given. By default σ is searched around the median heuristic and λ chosen by exact
    /// leave-one-out (classification: by the leave-one-out error rate).
    #[arg(long)]
    pub no_select: bool,

    /// Keep every input column as scaled: with model selection on, the fit otherwise learns a
    /// weight per column (by exact leave-one-out on sampled rows) and keeps the weights when
    /// other sampled rows clearly favour them (docs/guide.md, "Column relevance").
    #[arg(long)]
    pub no_relevance: bool,

    /// Never offer the linear model: with model selection on and the scaled rows sparse (at most
    /// one entry in sixteen non-zero: text, one-hot columns), the fit otherwise also scores the
    /// linear SVM on the rows themselves and keeps it unless the kernel model is better by more
    /// than one standard error (docs/guide.md, "File formats": sparse rows).
    #[arg(long)]
    pub no_linear: bool,

    /// Column weights after the scaler, one per input column (finite, ≥ 0, not all 0), as `rks
    /// tune` prints them: the fit uses them instead of learning its own (σ is in the weighted
    /// units).
    #[arg(long, value_name = "W,...", value_delimiter = ',')]
    pub input_weights: Option<Vec<f64>>,
}

/// The linear model on the features.
#[derive(Debug, Clone, Args)]
pub struct SolverArgs {
    /// Linear model on the features [default: svm when --c is given, ridge when --lambda is;
    /// otherwise for `fit` ridge, or on classification in memory with model selection on, ridge
    /// or svm (with its own σ and C) by the lower cross-validated error at ridge's n; for
    /// `compare` svm on classification (faster at large n)].
    #[arg(long, value_enum)]
    pub solver: Option<SolverKind>,

    /// SVM only: the cost C of margin violations [default: chosen by 3-fold cross-validation
    /// among 0.01, 0.1, 1, 10, 100; 1 with --no-select].
    #[arg(long = "c", value_name = "C")]
    pub c: Option<f64>,

    /// Ridge only: the penalty λ [default: chosen by generalised cross-validation].
    #[arg(long, value_name = "L")]
    pub lambda: Option<f64>,

    /// Classification or regression [default: classification when every label is a whole number,
    /// there are at most 100 distinct labels and at most half as many as rows].
    #[arg(long, value_enum)]
    pub task: Option<Task>,

    #[command(flatten)]
    pub weights: ClassWeightArgs,
}

/// How much each class's rows count.
#[derive(Debug, Clone, Args)]
pub struct ClassWeightArgs {
    /// Classification: weigh each class's rows — `balanced` (each class weighs as much in
    /// total: N/(k·N_c) a row, scikit-learn's "balanced") or LABEL=W,… with the labels as the
    /// file writes them (classes not named weigh 1; LIBSVM's -wi). Ridge's squared errors and
    /// the SVM's cost C count each row times its weight, and the model selection compares
    /// weighted error rates (with `balanced`, the balanced error rate); streamed and
    /// distributed fits too (the first pass counts the classes).
    #[arg(long = "class-weight", value_name = "balanced|LABEL=W,…")]
    pub class_weight: Option<String>,
}

/// `rks fit`.
#[derive(Debug, Clone, Args)]
pub struct FitArgs {
    /// Training file.
    #[arg(long, value_name = "FILE")]
    pub train: PathBuf,

    /// Where to write the fitted model.
    #[arg(long, value_name = "OUT")]
    pub model: PathBuf,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Feature map [default: with model selection on, ridge and the rows in memory, fastfood or
    /// nystrom, whichever has the better leave-one-out score (each searched with half the
    /// budget); otherwise fastfood].
    #[arg(long, value_enum)]
    pub map: Option<MapKind>,

    /// Number of random frequencies n (the model has 2n features: cos and sin) [default: 1024,
    /// doubled while the leave-one-out score improves and --budget allows; a doubling that
    /// would cost over a fifth of the budget only after one that was clearly better].
    #[arg(long, value_name = "N")]
    pub frequencies: Option<usize>,

    /// Seconds the fit may spend doubling n (without --frequencies, with model selection on,
    /// ridge, in memory), estimated from operation counts at a reference speed, not measured:
    /// the same model on every machine and under any load. A doubling estimated at over a fifth
    /// of it is taken only after one that made clearly fewer leave-one-out errors (the report
    /// says when n stopped for that).
    #[arg(long, value_name = "SECONDS", default_value_t = rks_solvers::machine::DEFAULT_BUDGET_SECONDS)]
    pub budget: f64,

    #[command(flatten)]
    pub kernel: KernelArgs,

    #[command(flatten)]
    pub solver: SolverArgs,

    /// Fit ridge from a file larger than memory: read it in chunks, in several passes (the width
    /// and the task when not given, the scaler and bandwidth sample, then the ridge statistics),
    /// never holding more than one chunk of rows. Ridge only; give --task (and --features for
    /// LIBSVM) to save the preliminary passes.
    #[arg(long)]
    pub stream: bool,

    /// Class probabilities (`rks predict --probabilities`): after the model, refit its
    /// configuration on 5 stratified folds of the rows and fit one Platt sigmoid per class on the
    /// held-out decision values (as LIBSVM's -b 1). The predictions do not change; the fit costs
    /// about five fits at the chosen parameters more. Classification only. With --stream and
    /// --distributed the sigmoids are fitted on the exact leave-one-out decision values of the
    /// first pass's sampled rows (at most 4,000): no refit, no further pass.
    #[arg(long)]
    pub probabilities: bool,

    /// A weight per training row (scikit-learn's sample_weight, LIBLINEAR's -W): a file of one
    /// number ≥ 0 a line, in the training rows' order. Row i's loss counts wᵢ times (times its
    /// class's weight with --class-weight) and the model selection compares weighted errors; a
    /// row of weight 0 is left out. Dense or sparse rows (a LIBSVM file fitted on its entries);
    /// with --stream the file is read in step with the chunks; with --distributed each rank reads its rows' weights (after counting its
    /// rows), or its own file when the path holds `{rank}`.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,

    /// Fit ridge over MPI ranks (run under `mpirun -n P`; needs a build with `--features mpi`):
    /// each rank reads its byte range of --train (or its own file when the path holds `{rank}`),
    /// the exact statistics are summed over the ranks, rank 0 writes the model: the same bytes as
    /// --stream. Ridge only; needs --task.
    #[arg(long, conflicts_with = "stream")]
    pub distributed: bool,

    /// With --stream or --distributed: rows read and transformed at a time [default: 4096].
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_rows: Option<u32>,
}

/// `rks predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// A model written by `rks fit`.
    #[arg(long, value_name = "M")]
    pub model: PathBuf,

    /// Rows to predict (labels in the file are ignored).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,

    /// Write the predictions here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Rows read, transformed and predicted at a time.
    #[arg(long, value_name = "ROWS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_rows: u32,

    /// Each class's probability beside each prediction (a model fitted with `rks fit
    /// --probabilities`): CSV with a header `label,<class>,…` and one row `<predicted>,<p>,…` per
    /// row (`--json`: each prediction an object with its label and probabilities, and the
    /// classes in order).
    #[arg(long)]
    pub probabilities: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// `rks info`.
#[derive(Debug, Clone, Args)]
pub struct InfoArgs {
    /// A model written by `rks fit` (or by the Python package's `save`).
    #[arg(long, value_name = "M")]
    pub model: PathBuf,
}

/// `rks eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// A model written by `rks fit`.
    #[arg(long, value_name = "M")]
    pub model: PathBuf,

    /// Labelled test file.
    #[arg(long, value_name = "FILE")]
    pub test: PathBuf,

    #[command(flatten)]
    pub read: ReadArgs,
}

/// `rks compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Training file.
    #[arg(long, value_name = "FILE")]
    pub train: PathBuf,

    /// Test file (accuracy or RMSE, and the rows whose pairs measure the kernel error).
    #[arg(long, value_name = "FILE")]
    pub test: PathBuf,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Numbers of frequencies to compare, comma-separated.
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_values_t = [256, 1024, 4096])]
    pub frequencies: Vec<usize>,

    /// Pairs of scaled test rows on which |φ(x)·φ(y) − k(x,y)| is measured.
    #[arg(long, value_name = "P", default_value_t = 500)]
    pub pairs: usize,

    /// Maps to set side by side, comma-separated (for nystrom, n is the number of landmarks).
    #[arg(long, value_enum, value_name = "MAP,...", value_delimiter = ',',
          default_values_t = [MapKind::Dense, MapKind::Fastfood])]
    pub maps: Vec<MapKind>,

    /// Also draw kernel error and transform time against n into this SVG file.
    #[arg(long, value_name = "OUT.svg")]
    pub plot: Option<PathBuf>,

    #[command(flatten)]
    pub kernel: KernelArgs,

    #[command(flatten)]
    pub solver: SolverArgs,
}

/// `rks tune`.
#[derive(Debug, Clone, Args)]
pub struct TuneArgs {
    /// Training file.
    #[arg(long, value_name = "FILE")]
    pub train: PathBuf,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Number of cross-validation folds (stratified by class for classification).
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub folds: usize,

    /// Bandwidths σ to try [default: the median heuristic × 0.25, 0.5, 1, 2, 4].
    #[arg(
        long,
        value_name = "S,...",
        value_delimiter = ',',
        conflicts_with = "gammas"
    )]
    pub sigmas: Option<Vec<f64>>,

    /// Bandwidths to try as γ = 1/(2σ²).
    #[arg(long, value_name = "G,...", value_delimiter = ',')]
    pub gammas: Option<Vec<f64>>,

    /// SVM costs C to try [default: 0.1, 1, 10, 100].
    #[arg(
        long,
        value_name = "C,...",
        value_delimiter = ',',
        conflicts_with = "lambdas"
    )]
    pub cs: Option<Vec<f64>>,

    /// Ridge penalties λ to try [default: 0.001, 0.01, 0.1, 1, 10].
    #[arg(long, value_name = "L,...", value_delimiter = ',')]
    pub lambdas: Option<Vec<f64>>,

    /// Linear model on the features [default: svm when --cs is given, ridge otherwise].
    #[arg(long, value_enum)]
    pub solver: Option<SolverKind>,

    /// Feature map.
    #[arg(long, value_enum, default_value_t = MapKind::Fastfood)]
    pub map: MapKind,

    /// The kernel the random features approximate [default: linear with --map linear, gaussian
    /// otherwise].
    #[arg(long, value_enum)]
    pub kernel: Option<Kernel>,

    /// Number of random frequencies n.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub frequencies: usize,

    /// Column scaling learned from the training rows of each fold.
    #[arg(long, value_enum, default_value_t = ScalerKind::MinMax)]
    pub scaler: ScalerKind,

    /// Classification or regression [default: inferred from the labels, as in `fit`].
    #[arg(long, value_enum)]
    pub task: Option<Task>,

    #[command(flatten)]
    pub weights: ClassWeightArgs,

    /// A weight per training row, as `rks fit --weights` takes it: each fold's fit weighs the
    /// rows and its score is the weighted one (rows of weight 0 left out).
    #[arg(long = "weights", value_name = "FILE")]
    pub row_weights: Option<PathBuf>,

    /// Seed of the frequencies and of the fold assignment.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Search the columns as scaled: by default the column weights are first learned and
    /// checked as `rks fit` does (docs/guide.md, "Column relevance"), and the grid is searched
    /// on the weighted columns when they are kept. Also off when `--sigmas` or `--gammas` are
    /// given (those widths are in the scaled units).
    #[arg(long)]
    pub no_relevance: bool,
}

/// Which hidden layer `rks deep-fried` trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayerChoice {
    /// Adaptive Fastfood: S, G, B learned by backpropagation (Yang et al., ICCV 2015).
    Adaptive,
    /// Fastfood with S, G, B fixed at their random values (only the output layer learns).
    Fastfood,
    /// A dense fully connected layer (the reference it replaces).
    Dense,
}

/// The network `rks deep-fried` trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchChoice {
    /// Scaled inputs → hidden layer → ReLU → softmax (rows of any file).
    Mlp,
    /// Caffe's LeNet base (conv 20@5×5, max-pool, conv 50@5×5, max-pool → 800) → hidden layer →
    /// ReLU → softmax, on 28×28 IDX images (--idx); SGD with momentum.
    Lenet,
}

/// `rks deep-fried`.
#[derive(Debug, Clone, Args)]
pub struct DeepFriedArgs {
    /// Training file (class labels 0..k-1).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "idx",
        conflicts_with = "idx"
    )]
    pub train: Option<PathBuf>,

    /// Test file.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "idx",
        conflicts_with = "idx"
    )]
    pub test: Option<PathBuf>,

    /// Directory holding the four MNIST-format IDX files (train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each possibly .gz).
    #[arg(long, value_name = "DIR")]
    pub idx: Option<PathBuf>,

    #[command(flatten)]
    pub read: ReadArgs,

    /// The network: a hidden layer on the inputs, or LeNet's convolutions first (needs --idx).
    #[arg(long, value_enum, default_value_t = ArchChoice::Mlp)]
    pub arch: ArchChoice,

    /// The hidden layer (followed by ReLU and a softmax output layer).
    #[arg(long, value_enum, default_value_t = LayerChoice::Adaptive)]
    pub layer: LayerChoice,

    /// Width of the hidden layer (LeNet's dense reference: 500).
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub width: usize,

    /// Maximum number of epochs [default: 50 (mlp, stops early when the validation loss
    /// stalls), 10 (lenet)].
    #[arg(long, value_name = "E")]
    pub epochs: Option<usize>,

    /// Learning rate [default: 0.001 (mlp, Adam), 0.01 (lenet, SGD with the "inv" schedule
    /// η₀(1 + 10⁻⁴t)^−0.75 of Caffe's LeNet)].
    #[arg(long, value_name = "R")]
    pub learning_rate: Option<f64>,

    /// lenet: SGD momentum [default: 0.9].
    #[arg(long, value_name = "M")]
    pub momentum: Option<f64>,

    /// lenet: L2 weight decay on weights [default: 0.0005].
    #[arg(long, value_name = "L")]
    pub weight_decay: Option<f64>,

    /// lenet: dropout probability on the hidden layer's activations [default: 0].
    #[arg(long, value_name = "P")]
    pub dropout: Option<f64>,

    /// lenet: train on the first N training images only.
    #[arg(long, value_name = "N")]
    pub train_limit: Option<usize>,

    /// lenet: save the trained network to this file.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Rows per mini-batch.
    #[arg(long, value_name = "B", default_value_t = 64)]
    pub batch_size: usize,

    /// mlp: fraction of the training rows held out for early stopping (0 = none) [default: 0.1].
    #[arg(long, value_name = "F")]
    pub validation: Option<f64>,

    /// mlp: column scaling learned from the training rows [default: standard].
    #[arg(long, value_enum)]
    pub scaler: Option<ScalerKind>,

    /// Seed of the initial weights, the validation split and the batch order.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
}

/// The kernel `--kernel` names, else the one the maps make by default: the linear kernel when
/// `--map linear` is among them (no other kernel has that map), the Gaussian otherwise.
pub fn kernel_or_default(kernel: Option<Kernel>, maps: &[MapKind]) -> Kernel {
    kernel.unwrap_or(if maps.contains(&MapKind::Linear) {
        Kernel::Linear
    } else {
        Kernel::Gaussian
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sigma_and_gamma_conflict() {
        let err = Cli::try_parse_from([
            "rks", "fit", "--train", "a", "--model", "b", "--sigma", "1", "--gamma", "2",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn frequency_lists_split_on_commas() {
        let cli = Cli::try_parse_from([
            "rks",
            "compare",
            "--train",
            "a",
            "--test",
            "b",
            "--frequencies",
            "8,16",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Compare(args)) => assert_eq!(args.frequencies, vec![8, 16]),
            other => panic!("parsed {other:?}"),
        }
    }
}

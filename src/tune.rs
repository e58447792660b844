//! `rks tune`: k-fold cross-validation over a grid of bandwidths σ and C (SVM) or λ (ridge), the
//! exhaustive form of the fit's model selection.
//!
//! The search is the library's ([`KernelMachineValidParams::cross_validate`]), the one that
//! chooses the SVM's C inside `rks fit`: the rows are scaled once, mapped once per σ, and split
//! into folds drawn once ([`rks_solvers::folds`]: seeded, stratified for classification) and
//! shared by every grid point, so scores are compared on the same splits; a fold's C path is
//! warm-started and its λ path comes from one factorisation. The default σ grid is centred on the
//! median-heuristic σ of the same seeded rows `rks fit` takes it from. The best point has the
//! best mean fold score by the fit's comparison ([`LooScore::better_than`]: for classification
//! the error rate, error rates within one binomial standard error of each other tied and broken
//! by the squared error of the decision values), ties going to the smoother model (larger σ,
//! smaller C, larger λ). Each point's squared error is reported beside its accuracy.
//!
//! Before the grid, the column weights are learned and checked as the default fit learns them
//! ([`learn_column_weights`], the same sample and settings); when kept, the grid is searched on
//! the weighted columns and the printed fit command gives them (`--input-weights`).
//!
//! [`KernelMachineValidParams::cross_validate`]: rks_solvers::KernelMachineValidParams::cross_validate
//! [`learn_column_weights`]: rks_solvers::KernelMachineValidParams::learn_column_weights
//! [`LooScore::better_than`]: rks_solvers::loo::LooScore::better_than

use std::io::{self, Write};
use std::path::PathBuf;

use rks::spec::AnyMapParams;
use rks::{Bandwidth, MapKind, Named};
use rks_solvers::machine::{CvGrid, RelevanceReport, Selection};
use rks_solvers::task::infer_task;
use rks_solvers::{Solver, SolverKind, Task};
use serde::Serialize;

use crate::cli::{Format, TuneArgs, kernel_or_default};
use crate::error::{CliError, Result};
use crate::flags;
use crate::input::Source;
use crate::machine::{self, Recipe, check_kernel_map, fit_error};
use crate::progress::step;
use crate::report::{Report, Table, emit, fmt_duration};

/// Multiples of the median-heuristic σ tried when no `--sigmas` are given.
pub const SIGMA_FACTORS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];
/// SVM costs tried when no `--cs` are given.
pub const DEFAULT_CS: [f64; 4] = [0.1, 1.0, 10.0, 100.0];
/// Ridge penalties tried when no `--lambdas` are given.
pub const DEFAULT_LAMBDAS: [f64; 5] = [1e-3, 1e-2, 1e-1, 1.0, 10.0];

/// One grid point's cross-validated score.
#[derive(Debug, Clone, Serialize)]
pub struct GridPoint {
    /// Bandwidth σ in scaled units.
    pub sigma: f64,
    /// The same as γ = 1/(2σ²).
    pub gamma: f64,
    /// SVM cost C (SVM only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// Ridge penalty λ (ridge only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    /// Mean of the fold scores: accuracy, or RMSE.
    pub mean: f64,
    /// Standard deviation of the fold scores.
    pub std: f64,
    /// The fold scores.
    pub folds: Vec<f64>,
    /// Mean of the folds' squared errors of the decision values against the ±1 targets
    /// (classification; for regression the square of an RMSE): what decides between points
    /// whose accuracies are within their standard error of each other.
    pub mse: f64,
}

/// What `rks tune` prints.
#[derive(Debug, Serialize)]
pub struct TuneReport {
    /// Training file.
    pub train: PathBuf,
    /// Rows.
    pub rows: usize,
    /// "classification" or "regression".
    pub task: &'static str,
    /// "accuracy" (higher is better) or "RMSE" (lower is better).
    pub metric: &'static str,
    /// "ridge" or "svm".
    pub solver: &'static str,
    /// The feature map: "fastfood" or "dense".
    pub map: &'static str,
    /// The kernel the features approximate ("gaussian", "laplacian", "matern32", …).
    pub kernel: &'static str,
    /// Folds.
    pub folds: usize,
    /// Frequencies n of every fit.
    pub frequencies: usize,
    /// The median-heuristic σ of the scaled rows (the centre of the default σ grid).
    pub median_sigma: f64,
    /// Every grid point, σ-major.
    pub grid: Vec<GridPoint>,
    /// The best grid point.
    pub best: GridPoint,
    /// A `rks fit` command line with the best values.
    pub fit_command: String,
    /// Fallbacks, in words (e.g. a class with fewer rows than folds).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Seconds for the whole search.
    pub seconds: f64,
    /// The column weights the grid was searched with, when learned and kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_weights: Option<Vec<f64>>,
    /// The column-relevance step in words (absent with `--no-relevance`, `--sigmas`, `--gammas`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance_note: Option<String>,
    /// …and in numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance: Option<RelevanceReport>,
}

impl Report for TuneReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{}: {} rows, {}, {} by {}-fold cross-validation, {} on {} features ({} kernel) with {} frequencies; median-heuristic σ = {:.4}",
            self.train.display(),
            self.rows,
            self.task,
            self.metric,
            self.folds,
            self.solver,
            self.map,
            self.kernel,
            self.frequencies,
            self.median_sigma
        )?;
        writeln!(out)?;
        let reg = if self.solver == "svm" { "C" } else { "λ" };
        let mut table = Table::new(["σ", "γ", reg, self.metric, "± std", "squared error", ""]);
        let is_best = |p: &GridPoint| {
            p.sigma == self.best.sigma && p.c == self.best.c && p.lambda == self.best.lambda
        };
        for p in &self.grid {
            table.row([
                format!("{:.4}", p.sigma),
                format!("{:.4}", p.gamma),
                format!("{}", p.c.or(p.lambda).unwrap_or(f64::NAN)),
                self.show(p.mean),
                self.show(p.std),
                format!("{:.4}", p.mse),
                if is_best(p) {
                    "<- best".into()
                } else {
                    String::new()
                },
            ]);
        }
        table.write(out)?;
        writeln!(out)?;
        writeln!(
            out,
            "best: σ = {:.4} (γ = {:.4}), {reg} = {}: {} {} (searched in {})",
            self.best.sigma,
            self.best.gamma,
            self.best.c.or(self.best.lambda).unwrap_or(f64::NAN),
            self.metric,
            self.show(self.best.mean),
            fmt_duration(self.seconds)
        )?;
        if let Some(note) = &self.relevance_note {
            writeln!(out, "{note}")?;
        }
        for note in &self.notes {
            writeln!(out, "note: {note}")?;
        }
        writeln!(out, "fit it with: {}", self.fit_command)
    }
}

impl TuneReport {
    fn show(&self, v: f64) -> String {
        if self.metric == "accuracy" {
            format!("{:.2} %", 100.0 * v)
        } else {
            format!("{v:.4}")
        }
    }
}

/// Runs `rks tune`.
pub fn run(args: &TuneArgs, json: bool) -> Result<()> {
    let solver = match (args.solver, &args.cs, &args.lambdas) {
        (Some(SolverKind::Ridge), Some(_), _) => {
            return Err(CliError::usage("--cs applies to --solver svm"));
        }
        (Some(SolverKind::Svm), _, Some(_)) => {
            return Err(CliError::usage("--lambdas applies to --solver ridge"));
        }
        (Some(choice), _, _) => choice,
        (None, Some(_), _) => SolverKind::Svm,
        (None, _, _) => SolverKind::Ridge,
    };
    let regularisation: Vec<f64> = match solver {
        SolverKind::Svm => args.cs.clone().unwrap_or(DEFAULT_CS.to_vec()),
        SolverKind::Ridge => args.lambdas.clone().unwrap_or(DEFAULT_LAMBDAS.to_vec()),
    };
    let kernel = kernel_or_default(args.kernel, &[args.map]);
    check_kernel_map(kernel, args.map)?;
    let (data, vocabulary) = Source::new(&args.train, &args.read)?.read_labelled()?;
    if args.folds < 2 || args.folds > data.n_rows() {
        return Err(CliError::usage(format!(
            "--folds must be between 2 and the number of rows ({}), got {}",
            data.n_rows(),
            args.folds
        )));
    }
    let task = machine::task_of_names(args.task, vocabulary.class_names.as_deref(), &args.train)?
        .unwrap_or_else(|| infer_task(data.y.view()));
    if !solver.supports(task) {
        return Err(CliError::usage(
            "the SVM is a classifier: tune regression with --solver ridge",
        ));
    }
    if regularisation.is_empty() {
        return Err(CliError::usage(format!(
            "the grid is empty: give at least one {}",
            if solver == SolverKind::Svm {
                "C (--cs)"
            } else {
                "λ (--lambdas)"
            }
        )));
    }
    let sigmas: Option<Vec<f64>> = match (&args.sigmas, &args.gammas) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(g)) => Some(
            g.iter()
                .map(|&g| Bandwidth::Gamma(g).sigma())
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| CliError::usage(flags::map_message(&e)))?,
        ),
        (None, None) => None,
    };
    if sigmas.as_ref().is_some_and(Vec::is_empty) {
        return Err(CliError::usage(
            "the grid is empty: give at least one σ (--sigmas) or γ (--gammas)",
        ));
    }
    // The library's cross-validation, as the fit's model selection runs it: the same folds
    // (seeded, stratified), the same median-heuristic rows, every C of a fold warm-started from
    // the previous one and every λ of a fold from one factorisation.
    let recipe = Recipe {
        map: AnyMapParams::default()
            .kind(args.map)
            .n_frequencies(args.frequencies)
            .kernel(kernel)
            .seed(args.seed),
        scaler: args.scaler,
        solver: Some(Solver::default_of(solver)),
        svm_by_default: false,
        task: Some(task),
        selection: None,
        input_weights: None,
        probabilities: false,
        class_weights: machine::class_weight_flag(&args.weights)?,
        class_names: vocabulary.class_names.clone(),
    };
    let params = recipe.params_for(task)?;
    let row_weights = match &args.row_weights {
        Some(path) => Some(crate::sample_weights::read(path, data.y.len())?),
        None => None,
    };
    // The column weights, learned and checked as the default fit learns them (the same
    // sample and settings, hence the same weights); kept, the grid is searched on the
    // weighted columns and the fit command carries them.
    // As the fit: not with σ given, nor for the linear kernel (σ = 1, not searched); with row
    // weights as the weighted fit learns them (skipped where rows weigh other than 0 or 1).
    let learned = if args.no_relevance || sigmas.is_some() || kernel == rks::Kernel::Linear {
        None
    } else {
        let (learned, _) = step("weighing columns", || {
            let (x, y, selection) = (data.x.view(), data.y.view(), &Selection::default());
            match &row_weights {
                None => params.learn_column_weights(selection, x, y),
                Some(w) => params.learn_column_weights_weighted(selection, x, y, w.view()),
            }
            .map_err(|e| fit_error(&args.train, e))
        });
        Some(learned?)
    };
    let input_weights = learned.as_ref().and_then(|l| l.weights.clone());
    let params = match &input_weights {
        Some(w) => Recipe {
            input_weights: Some(w.clone()),
            ..recipe
        }
        .params_for(task)?,
        None => params,
    };
    let grid = CvGrid {
        sigmas,
        sigma_factors: SIGMA_FACTORS.to_vec(),
        values: regularisation,
        folds: args.folds,
    };
    let (searched, elapsed) = step("tuning", || {
        match &row_weights {
            None => params.cross_validate(data.x.view(), data.y.view(), &grid),
            Some(w) => {
                params.cross_validate_weighted(data.x.view(), data.y.view(), w.view(), &grid)
            }
        }
        .map_err(|e| fit_error(&args.train, e))
    });
    let searched = searched?;
    let higher_is_better = task == Task::Classification;
    let grid: Vec<GridPoint> = searched
        .points
        .iter()
        .map(|p| {
            let scores: Vec<f64> = p
                .folds
                .iter()
                .map(|s| match s.error {
                    Some(error) => 1.0 - error,
                    None => s.mse.sqrt(),
                })
                .collect();
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            let mse = p.folds.iter().map(|s| s.mse).sum::<f64>() / p.folds.len() as f64;
            let var =
                scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / scores.len() as f64;
            let (c, lambda) = match solver {
                SolverKind::Svm => (Some(p.value), None),
                SolverKind::Ridge => (None, Some(p.value)),
            };
            GridPoint {
                sigma: p.sigma,
                gamma: 1.0 / (2.0 * p.sigma * p.sigma),
                c,
                lambda,
                mean,
                std: var.sqrt(),
                folds: scores,
                mse,
            }
        })
        .collect();
    let best = grid
        .get(searched.best)
        .cloned()
        .ok_or_else(|| CliError::usage("the grid is empty: give at least one σ and one C or λ"))?;
    let median_sigma = searched.median_sigma;
    let mut fit_command = format!(
        "rks fit --train {} --model model.rks --map {} --kernel {} --solver {} --sigma {} {} {} --frequencies {} --scaler {} --task {}",
        args.train.display(),
        args.map.name(),
        kernel.name(),
        if solver == SolverKind::Svm {
            "svm"
        } else {
            "ridge"
        },
        best.sigma,
        if solver == SolverKind::Svm {
            "--c"
        } else {
            "--lambda"
        },
        best.c.or(best.lambda).unwrap_or(f64::NAN),
        args.frequencies,
        args.scaler.name(),
        task.name(),
    );
    // How the file was read, and the seed, so the command fits what was tuned.
    if let Some(format) = args.read.format {
        fit_command.push_str(match format {
            Format::Libsvm => " --format libsvm",
            Format::Csv => " --format csv",
        });
    }
    if let Some(column) = &args.read.label_column {
        fit_command.push_str(&format!(" --label-column {column}"));
    }
    if let Some(d) = args.read.features {
        fit_command.push_str(&format!(" --features {d}"));
    }
    if args.seed != 0 {
        fit_command.push_str(&format!(" --seed {}", args.seed));
    }
    if let Some(w) = &input_weights {
        let shown: Vec<String> = w.iter().map(f64::to_string).collect();
        fit_command.push_str(&format!(" --input-weights {}", shown.join(",")));
    }
    let mut notes = searched.notes;
    if let Some(path) = &args.row_weights {
        fit_command.push_str(&format!(" --weights {}", path.display()));
        notes.push(format!(
            "--weights {}: each fold's fit weighs the rows, and its score is the weighted one",
            path.display()
        ));
    }
    if let Some(flag) = &args.weights.class_weight {
        fit_command.push_str(&format!(" --class-weight {flag}"));
        notes.push(format!(
            "--class-weight {flag}: each fold's fit weighs the classes, and its accuracy is \
             the weighted one (with balanced, the balanced accuracy)"
        ));
    }
    let (relevance_note, relevance) = match learned {
        Some(l) => (Some(l.note), l.report),
        None => (None, None),
    };
    let report = TuneReport {
        train: args.train.clone(),
        rows: data.n_rows(),
        task: task.name(),
        metric: if higher_is_better { "accuracy" } else { "RMSE" },
        solver: if solver == SolverKind::Svm {
            "svm"
        } else {
            "ridge"
        },
        map: args.map.name(),
        kernel: kernel.name(),
        folds: args.folds,
        // The linear map's features are the columns, whatever --frequencies says.
        frequencies: if args.map == MapKind::Linear {
            data.x.ncols()
        } else {
            args.frequencies
        },
        median_sigma,
        grid,
        best,
        fit_command,
        notes,
        seconds: elapsed.as_secs_f64(),
        input_weights,
        relevance_note,
        relevance,
    };
    emit(&report, json)
}

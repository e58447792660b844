//! `rks tune`: k-fold cross-validation over a grid of bandwidths σ and C (SVM) or λ (ridge).
//!
//! Folds are drawn once ([`rks_solvers::folds`]: seeded, stratified for classification) and
//! shared by every grid point, so scores are compared on the same splits.

use std::io::{self, Write};
use std::path::PathBuf;

use ndarray::Axis;
use rks::scaler::Scaler;
use rks::spec::AnyMapParams;
use rks::{Bandwidth, Named};
use rks_data::Dataset;
use rks_solvers::folds::assign_folds;
use rks_solvers::machine::median_sigma;
use rks_solvers::task::infer_task;
use rks_solvers::{Lambda, Solver, SolverKind, SvmLoss, Task};
use serde::Serialize;

use crate::cli::TuneArgs;
use crate::error::{CliError, Result};
use crate::flags;
use crate::input::Source;
use crate::machine::{Recipe, check_kernel_map};
use crate::metrics::Score;
use crate::progress::Progress;
use crate::report::{Report, Table, emit, fmt_duration, timed};

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
    /// Seconds for the whole search.
    pub seconds: f64,
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
        let mut table = Table::new(["σ", "γ", reg, self.metric, "± std", ""]);
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
    check_kernel_map(args.kernel, args.map)?;
    let data = Source::new(&args.train, &args.read)?.read()?;
    if args.folds < 2 || args.folds > data.n_rows() {
        return Err(CliError::usage(format!(
            "--folds must be between 2 and the number of rows ({}), got {}",
            data.n_rows(),
            args.folds
        )));
    }
    let task = args.task.unwrap_or_else(|| infer_task(data.y.view()));
    if solver == SolverKind::Svm && task == Task::Regression {
        return Err(CliError::usage(
            "the SVM is a classifier: tune regression with --solver ridge",
        ));
    }
    let scaler =
        Scaler::fit(data.x.view(), args.scaler).map_err(|e| CliError::data(&args.train, e))?;
    // The same sampled rows as `rks fit` (rks::sample), so both start from the same σ.
    let median_sigma = median_sigma(&scaler, data.x.view(), data.y.view(), args.seed)
        .map_err(|e| CliError::data(&args.train, e))?;
    let sigmas: Vec<f64> = match (&args.sigmas, &args.gammas) {
        (Some(s), _) => s.clone(),
        (None, Some(g)) => g
            .iter()
            .map(|&g| Bandwidth::Gamma(g).sigma())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| CliError::usage(flags::map_message(&e)))?,
        (None, None) => SIGMA_FACTORS.iter().map(|f| f * median_sigma).collect(),
    };
    let folds = assign_folds(
        data.y.as_slice().unwrap_or(&data.y.to_vec()),
        args.folds,
        task == Task::Classification,
        args.seed,
    );
    let splits: Vec<(Dataset, Dataset)> =
        (0..args.folds).map(|k| split(&data, &folds, k)).collect();

    let total = (sigmas.len() * regularisation.len() * args.folds) as u64;
    let progress = Progress::bar(total, "tuning");
    let (grid, elapsed) = timed(|| -> Result<Vec<GridPoint>> {
        let mut grid = Vec::new();
        for &sigma in &sigmas {
            for &reg in &regularisation {
                let recipe = Recipe {
                    map: AnyMapParams::default()
                        .kind(args.map)
                        .n_frequencies(args.frequencies)
                        .kernel(args.kernel)
                        .bandwidth(Bandwidth::Sigma(sigma))
                        .seed(args.seed),
                    scaler: args.scaler,
                    solver: Some(match solver {
                        SolverKind::Svm => Solver::Svm {
                            c: reg,
                            loss: SvmLoss::SquaredHinge,
                        },
                        SolverKind::Ridge => Solver::Ridge {
                            lambda: Lambda::Fixed(reg),
                        },
                    }),
                    svm_by_default: false,
                    task: Some(task),
                    // Every grid point fixes σ and λ or C: the search is this grid.
                    selection: None,
                };
                let mut scores = Vec::with_capacity(args.folds);
                for (fit_rows, held_out) in &splits {
                    let model = recipe.fit(fit_rows, &args.train)?;
                    let predicted = model
                        .predict(held_out.x.view())
                        .map_err(CliError::compute)?;
                    let score = Score::compute(task, held_out.y.view(), predicted.view());
                    scores.push(match score {
                        Score::Classification { accuracy } => accuracy,
                        Score::Regression { rmse, .. } => rmse,
                    });
                    progress.inc(1);
                }
                let mean = scores.iter().sum::<f64>() / scores.len() as f64;
                let var = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>()
                    / scores.len() as f64;
                let (c, lambda) = match solver {
                    SolverKind::Svm => (Some(reg), None),
                    SolverKind::Ridge => (None, Some(reg)),
                };
                grid.push(GridPoint {
                    sigma,
                    gamma: 1.0 / (2.0 * sigma * sigma),
                    c,
                    lambda,
                    mean,
                    std: var.sqrt(),
                    folds: scores,
                });
            }
        }
        Ok(grid)
    });
    drop(progress);
    let grid = grid?;
    let higher_is_better = task == Task::Classification;
    let best = grid
        .iter()
        .max_by(|a, b| {
            let order = a.mean.total_cmp(&b.mean);
            // Ties go to the earlier point (max_by keeps the last maximum, so reverse them).
            let order = if higher_is_better {
                order
            } else {
                order.reverse()
            };
            order.then(std::cmp::Ordering::Greater)
        })
        .cloned()
        .ok_or_else(|| CliError::usage("the grid is empty: give at least one σ and one C or λ"))?;
    let fit_command = format!(
        "rks fit --train {} --model model.rks --map {} --kernel {} --solver {} --sigma {} {} {} --frequencies {} --scaler {} --task {}",
        args.train.display(),
        args.map.name(),
        args.kernel.name(),
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
        kernel: args.kernel.name(),
        folds: args.folds,
        frequencies: args.frequencies,
        median_sigma,
        grid,
        best,
        fit_command,
        seconds: elapsed.as_secs_f64(),
    };
    emit(&report, json)
}

/// The rows outside fold `k` (to fit) and inside it (to score).
fn split(data: &Dataset, folds: &[usize], k: usize) -> (Dataset, Dataset) {
    let (inside, outside): (Vec<usize>, Vec<usize>) =
        (0..folds.len()).partition(|&i| folds[i] == k);
    let take = |rows: &[usize]| Dataset {
        x: data.x.select(Axis(0), rows),
        y: data.y.select(Axis(0), rows),
    };
    (take(&outside), take(&inside))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_partitions_the_rows() {
        let data = Dataset {
            x: ndarray::Array2::from_shape_fn((5, 2), |(i, j)| (i * 2 + j) as f64),
            y: ndarray::Array1::from(vec![0.0, 1.0, 2.0, 3.0, 4.0]),
        };
        let (fit_rows, held_out) = split(&data, &[0, 1, 0, 1, 1], 1);
        assert_eq!(fit_rows.y.to_vec(), vec![0.0, 2.0]);
        assert_eq!(held_out.y.to_vec(), vec![1.0, 3.0, 4.0]);
        assert_eq!(held_out.x.row(0).to_vec(), vec![2.0, 3.0]);
    }
}

//! `rks compare`: the feature maps of `--maps` (dense Random Kitchen Sinks and Fastfood by
//! default; ORF, SORF, Nyström), side by side at each size.
//!
//! For every number of frequencies n and every map, with the same scaler, bandwidth, solver and
//! seed: the kernel approximation error on sampled pairs of scaled test rows, the time to map the
//! training rows, the memory of the map's parameters, the fit time and the test score. The first
//! fit's model selection chooses σ (and the SVM's C), every later fit reuses them, and the
//! report shows that search.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use rks::{Bandwidth, FeatureMap, MapKind, Named};
use rks_solvers::machine::SelectionReport;
use rks_solvers::{Solver, SolverInfo};
use serde::Serialize;

use crate::approx::{KernelError, kernel_error, sample_pairs};
use crate::cli::CompareArgs;
use crate::error::{CliError, Result};
use crate::fit::write_selection;
use crate::input::{Pair, read_pair};
use crate::machine::{ModelSummary, Recipe, solver_name};
use crate::metrics::Score;
use crate::plot::{Panel, Series, draw_panels};
use crate::progress::Progress;
use crate::report::{Report, Table, emit, fmt_bytes, fmt_duration, timed};

/// Times each map is run over the training rows; the fastest run is reported.
const TRANSFORM_RUNS: usize = 3;

/// One map at one size.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    /// "dense", "fastfood", "orf", "sorf" or "nystrom".
    pub map: &'static str,
    /// Frequencies n.
    pub frequencies: usize,
    /// Output features (2n for the cos/sin maps).
    pub features: usize,
    /// Mean |φ(x)·φ(y) − k(x, y)| over the sampled pairs.
    pub kernel_error_mean: f64,
    /// Largest |φ(x)·φ(y) − k(x, y)| over the sampled pairs.
    pub kernel_error_max: f64,
    /// Seconds to map every scaled training row (the best of three runs).
    pub transform_seconds: f64,
    /// Bytes of the map's parameters.
    pub parameter_bytes: usize,
    /// Seconds to fit the whole machine (scaling, features, solver).
    pub fit_seconds: f64,
    /// Seconds to predict the test rows.
    pub predict_seconds: f64,
    /// The ridge penalty λ used (chosen by GCV unless given); absent for the SVM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    /// The SVM's cost C used (chosen by the first fit's model selection unless given); absent
    /// for ridge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// Test accuracy, or RMSE and R².
    #[serde(flatten)]
    pub score: Score,
}

/// What `rks compare` prints.
#[derive(Debug, Serialize)]
pub struct CompareReport {
    /// Training file.
    pub train: PathBuf,
    /// Test file.
    pub test: PathBuf,
    /// Training rows.
    pub train_rows: usize,
    /// Test rows.
    pub test_rows: usize,
    /// Input columns d.
    pub input_dim: usize,
    /// "classification" or "regression".
    pub task: &'static str,
    /// The kernel, as spelt by `--kernel`.
    pub kernel: &'static str,
    /// The bandwidth σ both maps use, in scaled units.
    pub sigma: f64,
    /// Whether σ came from the median heuristic (no bandwidth given, model selection off).
    pub sigma_from_median_heuristic: bool,
    /// Whether σ was chosen by the first fit's model selection (no bandwidth given).
    pub sigma_from_selection: bool,
    /// The scaling.
    pub scaler: &'static str,
    /// The solver and its regularisation, e.g. "svm (C = 1)" or "ridge (λ by GCV)".
    pub solver: String,
    /// Pairs of test rows the kernel error is measured on.
    pub pairs: usize,
    /// The maps in `--maps` order at each size.
    pub rows: Vec<CompareRow>,
    /// What the first fit's model selection searched and chose (σ, C or λ, n, the map): every
    /// later fit reuses its σ and C (absent with `--no-select`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionReport>,
    /// The SVG written, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plot: Option<PathBuf>,
}

impl Report for CompareReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{} ({} rows) -> {} ({} rows), d = {}, {} by {}, {} kernel, σ = {:.4}{}, {} scaling",
            self.train.display(),
            self.train_rows,
            self.test.display(),
            self.test_rows,
            self.input_dim,
            self.task,
            self.solver,
            self.kernel,
            self.sigma,
            if self.sigma_from_median_heuristic {
                " (median heuristic)"
            } else if self.sigma_from_selection {
                " (model selection)"
            } else {
                ""
            },
            self.scaler
        )?;
        writeln!(
            out,
            "kernel error = |φ(x)·φ(y) − k(x,y)| over {} pairs of scaled test rows",
            self.pairs
        )?;
        writeln!(out)?;
        let score_heading = self.rows.first().map_or("score", |r| r.score.heading());
        let mut table = Table::new([
            "map",
            "n",
            "mean error",
            "max error",
            "transform",
            "parameters",
            "fit",
            "predict",
            score_heading,
        ]);
        for row in &self.rows {
            table.row([
                row.map.to_string(),
                row.frequencies.to_string(),
                format!("{:.5}", row.kernel_error_mean),
                format!("{:.5}", row.kernel_error_max),
                fmt_duration(row.transform_seconds),
                fmt_bytes(row.parameter_bytes as u64),
                fmt_duration(row.fit_seconds),
                fmt_duration(row.predict_seconds),
                row.score.headline(),
            ]);
        }
        table.write(out)?;
        // Every other map against the dense one at the same n.
        for dense in self.rows.iter().filter(|r| r.map == "dense") {
            for other in self
                .rows
                .iter()
                .filter(|r| r.map != "dense" && r.frequencies == dense.frequencies)
            {
                writeln!(
                    out,
                    "n = {:>6}: {} maps {} dense, with {}",
                    dense.frequencies,
                    display_name(other.map),
                    relative_speed(dense.transform_seconds, other.transform_seconds),
                    relative_memory(dense.parameter_bytes, other.parameter_bytes),
                )?;
            }
        }
        if let Some(selection) = &self.selection {
            writeln!(
                out,
                "model selection of the first fit ({} n = {}), its σ, C and column weights reused \
                 by the others:",
                self.rows.first().map_or("", |r| r.map),
                selection.n_frequencies
            )?;
            write_selection(out, selection)?;
        }
        if let Some(plot) = &self.plot {
            writeln!(out, "plot written to {}", plot.display())?;
        }
        Ok(())
    }
}

/// A map's name in a sentence: "Fastfood", "ORF", "SORF", "Nyström".
fn display_name(map: &str) -> &str {
    match map {
        "fastfood" => "Fastfood",
        "orf" => "ORF",
        "sorf" => "SORF",
        "nystrom" => "Nyström",
        other => other,
    }
}

/// "16× less parameter memory", "5.0× more parameter memory" or, within 5 %, "the same
/// parameter memory".
fn relative_memory(dense: usize, other: usize) -> String {
    let ratio = dense as f64 / other.max(1) as f64;
    if (1.0 / 1.05..=1.05).contains(&ratio) {
        "the same parameter memory".into()
    } else if ratio > 1.0 {
        format!("{ratio:.0}× less parameter memory")
    } else {
        format!("{:.1}× more parameter memory", 1.0 / ratio)
    }
}

/// "3.2× faster than", "1.4× slower than" or, within 5 %, "as fast as".
fn relative_speed(dense: f64, fastfood: f64) -> String {
    let ratio = dense / fastfood.max(1e-12);
    if (1.0 / 1.05..=1.05).contains(&ratio) {
        "as fast as".into()
    } else if ratio > 1.0 {
        format!("{ratio:.1}× faster than")
    } else {
        format!("{:.1}× slower than", 1.0 / ratio)
    }
}

/// Runs `rks compare`.
pub fn run(args: &CompareArgs, json: bool) -> Result<()> {
    if args.frequencies.is_empty() || args.frequencies.contains(&0) {
        return Err(CliError::usage(
            "--frequencies needs one or more sizes ≥ 1, e.g. 256,1024,4096",
        ));
    }
    if args.maps.is_empty() {
        return Err(CliError::usage(
            "--maps needs one or more maps, e.g. dense,orf",
        ));
    }
    let kinds: Vec<MapKind> = args.maps.clone();
    // The map kind in the recipe is replaced for each row below.
    let mut recipe = Recipe::from_flags(&kinds, 1, &args.kernel, &args.solver)?;
    // Ridge solves a 2n × 2n system: at n = 4,096 that takes minutes where the SVM takes a second.
    recipe.svm_by_default = true;
    let Pair {
        train,
        test,
        vocabulary,
    } = read_pair(&args.train, &args.test, &args.read)?;
    recipe.classifying_names(vocabulary.class_names.as_deref(), &args.train)?;
    let given_bandwidth = recipe.map.get_bandwidth();
    let pairs = sample_pairs(test.n_rows(), args.pairs, args.kernel.seed)?;
    let progress = Progress::bar((kinds.len() * args.frequencies.len()) as u64, "comparing");

    let mut rows = Vec::new();
    let mut first: Option<(ModelSummary, String)> = None;
    let mut selection: Option<SelectionReport> = None;
    let mut scaled_train = None;
    let mut scaled_test = None;
    for &n in &args.frequencies {
        for &kind in &kinds {
            progress.set_message(format!("{kind} {n}"));
            recipe.map = recipe.map.kind(kind).n_frequencies(n);
            let (fitted, fit_time) = timed(|| recipe.fit_with_report(&train, &args.train));
            let (model, report) = fitted?;
            if first.is_none() {
                // Every later fit reuses the first one's bandwidth, C and column weights, so the
                // maps differ only in how they draw their frequencies (and every model scales
                // its inputs alike: the kernel error below uses the first one's scaling).
                recipe.map = recipe.map.bandwidth(Bandwidth::Sigma(model.info().sigma));
                if let Some(relevance) = report.as_ref().and_then(|r| r.relevance.as_ref())
                    && relevance.kept
                {
                    recipe.input_weights = Some(relevance.weights.clone());
                }
                if let SolverInfo::Svm { c, loss, .. } = &model.info().solver {
                    recipe.solver = Some(Solver::Svm { c: *c, loss: *loss });
                    if let Some(selection) = recipe.selection.as_mut() {
                        selection.cs = Vec::new();
                    }
                }
                selection = report;
                let solver = solver_name(&recipe.solver_for(model.task()));
                first = Some((ModelSummary::of(&model), solver));
            }
            let scaler = model.scaler();
            let x_train = match &scaled_train {
                Some(x) => x,
                None => scaled_train.insert(
                    scaler
                        .transform(train.x.view())
                        .map_err(CliError::compute)?,
                ),
            };
            let x_test = match &scaled_test {
                Some(x) => x,
                None => {
                    scaled_test.insert(scaler.transform(test.x.view()).map_err(CliError::compute)?)
                }
            };
            // The best of a few runs: the first one also pays for page faults and waking threads.
            let mut transform_time = Duration::MAX;
            for _ in 0..TRANSFORM_RUNS {
                let (phi, time) = timed(|| model.map().transform(x_train.view()));
                drop(phi.map_err(CliError::compute)?);
                transform_time = transform_time.min(time);
            }
            let KernelError { mean, max, .. } = kernel_error(model.map(), x_test.view(), &pairs)?;
            let (predicted, predict_time) = timed(|| model.predict(test.x.view()));
            let predicted = predicted.map_err(|e| CliError::data(&args.test, e))?;
            rows.push(CompareRow {
                map: kind.name(),
                frequencies: model.map().n_frequencies(),
                features: model.map().output_dim(),
                kernel_error_mean: mean,
                kernel_error_max: max,
                transform_seconds: transform_time.as_secs_f64(),
                parameter_bytes: model.map().parameter_bytes(),
                fit_seconds: fit_time.as_secs_f64(),
                predict_seconds: predict_time.as_secs_f64(),
                lambda: ModelSummary::of(&model).lambda,
                c: ModelSummary::of(&model).c,
                score: Score::compute(model.task(), test.y.view(), predicted.view()),
            });
            progress.inc(1);
        }
    }
    drop(progress);
    let (summary, solver) = first.ok_or_else(|| CliError::compute("nothing was compared"))?;
    if let Some(path) = &args.plot {
        draw_panels(path, &panels(&rows))?;
    }
    let report = CompareReport {
        train: args.train.clone(),
        test: args.test.clone(),
        train_rows: train.n_rows(),
        test_rows: test.n_rows(),
        input_dim: train.n_features(),
        task: summary.task,
        kernel: summary.kernel,
        sigma: summary.sigma,
        sigma_from_median_heuristic: given_bandwidth.is_none() && selection.is_none(),
        sigma_from_selection: given_bandwidth.is_none() && selection.is_some(),
        scaler: summary.scaler,
        solver,
        pairs: pairs.len(),
        rows,
        selection,
        plot: args.plot.clone(),
    };
    emit(&report, json)
}

/// Kernel error and transform time against n, one series per map.
fn panels(rows: &[CompareRow]) -> Vec<Panel> {
    let mut names: Vec<&str> = Vec::new();
    for row in rows {
        if !names.contains(&row.map) {
            names.push(row.map);
        }
    }
    let series = |value: fn(&CompareRow) -> f64| -> Vec<Series> {
        names
            .iter()
            .map(|&name| Series {
                name: name.into(),
                points: rows
                    .iter()
                    .filter(|r| r.map == name)
                    .map(|r| (r.frequencies as f64, value(r)))
                    .collect(),
            })
            .collect()
    };
    vec![
        Panel {
            title: "kernel approximation error".into(),
            x_label: "frequencies n".into(),
            y_label: "mean |φ(x)·φ(y) − k(x,y)|".into(),
            series: series(|r| r.kernel_error_mean),
        },
        Panel {
            title: "transform time (training rows)".into(),
            x_label: "frequencies n".into(),
            y_label: "seconds".into(),
            series: series(|r| r.transform_seconds),
        },
    ]
}

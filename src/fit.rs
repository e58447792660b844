//! `rks fit`: read a training file (whole, or streamed in chunks with `--stream`), fit a kernel
//! machine from the flags, save it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rks::Named;
use rks::{Kernel, MapKind};
use rks_data::{DataError, SparseDataset};
use rks_solvers::machine::{DEFAULT_FREQUENCIES, Selection, SelectionReport, SolverTrial, Trial};
use rks_solvers::{KernelMachine, SolverKind, SolversError, StreamedFit};
use serde::Serialize;

use crate::cli::FitArgs;
use crate::error::{CliError, Result};
use crate::input::Source;
use crate::machine::{self, ModelSummary, Recipe};
use crate::metrics::Score;
use crate::progress::step;
use crate::report::{Report, emit, fmt_duration};
use crate::sample_weights::StreamError;
use rks_solvers::Task;
use rks_solvers::task::{TaskInference, infer_task};

/// What `rks fit` prints.
#[derive(Debug, Serialize)]
pub struct FitReport {
    /// Where the model was saved.
    pub model_path: PathBuf,
    /// The fitted model.
    pub model: ModelSummary,
    /// Seconds to read the training file (with `--stream`: the preliminary scans for the width
    /// and the task, since reading is otherwise part of the fit).
    pub read_seconds: f64,
    /// Seconds to fit (scaling, bandwidth, features, solver).
    pub fit_seconds: f64,
    /// The model's score on its own training rows…
    pub train_score: Score,
    /// …on this many of them when not all: a streamed fit scores pass 1's seeded sample rather
    /// than read the file a third time (`rks eval`, which streams, scores every row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_score_rows: Option<usize>,
    /// Rows per chunk when the file was streamed (`--stream`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_rows: Option<usize>,
    /// How the rows were held when not dense, and why: a LIBSVM file fitted by the linear SVM
    /// on its rows' non-zero entries (`--map linear`, or rows too large to hold dense).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sparse: Option<String>,
    /// What the reading of the file suggests checking: a label column left at its default
    /// (the first column) while columns of text were read as categories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The rows' weights (`--weights`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightsSummary>,
    /// What model selection searched and chose (absent with `--no-select`; with `--stream`
    /// absent when σ is given, and without the map's and the solver's choice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionReport>,
}

/// The rows' weights of a fit (`--weights`).
#[derive(Debug, Serialize)]
pub struct WeightsSummary {
    /// The weights file.
    pub file: PathBuf,
    /// Their sum.
    pub total: f64,
    /// Rows of weight 0, left out.
    pub rows_left_out: usize,
}

impl WeightsSummary {
    fn of(file: &Path, weights: &ndarray::Array1<f64>) -> Self {
        WeightsSummary {
            file: file.to_path_buf(),
            total: weights.sum(),
            rows_left_out: weights.iter().filter(|&&w| w == 0.0).count(),
        }
    }

    /// The summary's line of a fit's text report.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "  row weights      {} (sum {}; {} rows of weight 0 left out)",
            self.file.display(),
            self.total,
            self.rows_left_out
        )
    }
}

impl FitReport {
    /// The report of `model` fitted by `args` in (reading, fitting) time, with its training
    /// score on every row, held dense.
    fn of(
        args: &FitArgs,
        model: &KernelMachine,
        (read, fit): (std::time::Duration, std::time::Duration),
        train_score: Score,
        selection: Option<SelectionReport>,
    ) -> Self {
        FitReport {
            model_path: args.model.clone(),
            model: ModelSummary::of(model),
            read_seconds: read.as_secs_f64(),
            fit_seconds: fit.as_secs_f64(),
            train_score,
            train_score_rows: None,
            chunk_rows: None,
            sparse: None,
            note: None,
            selection,
            weights: None,
        }
    }
}

impl Report for FitReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "fitted {}", self.model.one_line())?;
        writeln!(out, "  training rows    {}", self.model.train_rows)?;
        if let Some(rows) = self.chunk_rows {
            writeln!(out, "  streamed         in chunks of {rows} rows")?;
        }
        if let Some(sparse) = &self.sparse {
            writeln!(out, "  rows held        {sparse}")?;
        }
        writeln!(
            out,
            "  {}        {}",
            if self.chunk_rows.is_some() {
                "scan time"
            } else {
                "read time"
            },
            fmt_duration(self.read_seconds)
        )?;
        writeln!(out, "  fit time         {}", fmt_duration(self.fit_seconds))?;
        match self.train_score_rows {
            Some(rows) => writeln!(
                out,
                "  training score   {} (on {rows} sampled rows)",
                self.train_score.describe()
            )?,
            None => writeln!(out, "  training score   {}", self.train_score.describe())?,
        }
        if let Some(p) = &self.model.probabilities {
            writeln!(out, "  probabilities    {}", p.describe())?;
        }
        if let Some(weights) = &self.model.class_weights {
            writeln!(
                out,
                "  class weights    {}",
                ModelSummary::describe_class_weights(weights)
            )?;
        }
        if let Some(w) = &self.weights {
            w.write_text(out)?;
        }
        if let Some(note) = &self.note {
            writeln!(out, "  note             {note}")?;
        }
        if let Some(selection) = &self.selection {
            write_selection(out, selection)?;
        }
        writeln!(out, "  saved to         {}", self.model_path.display())
    }
}

/// The search in a few lines: the σ trials, the n trials, the C and solver trials, and why.
pub fn write_selection(out: &mut dyn Write, s: &SelectionReport) -> io::Result<()> {
    let metric = |t: &Trial| match t.score.error {
        Some(e) => format!("leave-one-out error {:.2} %", 100.0 * e),
        None => format!("leave-one-out RMSE {:.4}", t.score.mse.sqrt()),
    };
    if s.median_sigma.is_nan() {
        writeln!(
            out,
            "  model selection  {} in {}",
            s.method,
            fmt_duration(s.seconds)
        )?;
    } else {
        writeln!(
            out,
            "  model selection  {} in {} (median-heuristic σ = {:.4})",
            s.method,
            fmt_duration(s.seconds),
            s.median_sigma
        )?;
    }
    // The grid's trials, then the walk's (marked), one line each.
    let grid = s.sigma_trials.iter().map(|t| ("", t));
    for (mark, t) in grid.chain(s.walk_trials.iter().map(|t| ("walk: ", t))) {
        writeln!(
            out,
            "    {mark}σ = {:<8.4} (×{:<5.3}) {:<9} {} rows  λ = {:<9.3e} {}",
            t.sigma,
            t.factor,
            if t.exact {
                "exact".to_string()
            } else {
                format!("n = {}", t.n_frequencies)
            },
            t.rows,
            t.lambda,
            metric(t)
        )?;
    }
    for t in &s.final_trials {
        writeln!(
            out,
            "    final: n = {:<5} {} rows scored  λ = {:<9.3e} {}",
            t.n_frequencies,
            t.rows,
            t.lambda,
            metric(t)
        )?;
    }
    let cv = |t: &SolverTrial| match t.score.error {
        Some(error) => format!(
            "{}-fold CV error {:.2} % (squared error {:.4}) on {} rows, n = {}",
            t.folds,
            100.0 * error,
            t.score.mse,
            t.rows,
            t.n_frequencies
        ),
        None => format!(
            "{}-fold CV RMSE {:.4} on {} rows, n = {}",
            t.folds,
            t.score.mse.sqrt(),
            t.rows,
            t.n_frequencies
        ),
    };
    for t in &s.c_trials {
        writeln!(out, "    svm: C = {:<9} {}", t.value, cv(t))?;
    }
    for t in &s.svm_sigma_trials {
        writeln!(
            out,
            "    svm σ: {:<8.4} C = {:<6} {}",
            t.sigma,
            t.value,
            cv(t)
        )?;
    }
    for t in &s.solver_trials {
        let value = match t.solver {
            SolverKind::Ridge => format!("λ = {:.3e}", t.value),
            SolverKind::Svm => format!("C = {}", t.value),
        };
        // The linear SVM (on sparse rows) is named for its map.
        let name = if t.linear { "linear" } else { t.solver.name() };
        writeln!(
            out,
            "    {name:<6} at σ = {:<8.4} {value:<12} {}",
            t.sigma,
            cv(t)
        )?;
    }
    for note in &s.notes {
        writeln!(out, "    {note}")?;
    }
    Ok(())
}

/// Rows per chunk of `fit --stream` when `--chunk-rows` is not given.
pub const STREAM_CHUNK_ROWS: usize = 4096;

/// Runs `rks fit`.
pub fn run(args: &FitArgs, json: bool) -> Result<()> {
    let mut recipe = Recipe::from_flags(
        &[args.map.unwrap_or(MapKind::Fastfood)],
        // Without --frequencies, n starts from the library's default and may grow within --budget.
        args.frequencies.unwrap_or(DEFAULT_FREQUENCIES),
        &args.kernel,
        &args.solver,
    )?;
    if args.frequencies.is_none() {
        recipe.selection = recipe.selection.take().map(|s| s.growing(args.budget));
    }
    recipe.probabilities = args.probabilities;
    // Without --map, the in-memory ridge fit chooses between the two maps by their scores.
    if args.map.is_none()
        && !args.stream
        && recipe
            .solver
            .as_ref()
            .is_none_or(|s| s.kind() == SolverKind::Ridge)
    {
        recipe.selection = recipe.selection.take().map(Selection::choosing_maps);
    }
    let source = Source::new(&args.train, &args.read)?;
    if args.chunk_rows.is_some() && !(args.stream || args.distributed) {
        return Err(CliError::usage(
            "--chunk-rows applies to --stream and --distributed fits",
        ));
    }
    if args.distributed {
        return run_distributed(args, &recipe, source, json);
    }
    if args.stream {
        return run_streamed(args, &recipe, source, json);
    }
    // A LIBSVM file may be fitted on its rows' entries by the linear model (see `run_sparse`):
    // with --map linear when its rows are sparse, or whenever its rows dense do not fit in
    // memory.
    let sparse_ok = source.is_libsvm() && args.map.is_none_or(|m| m == MapKind::Linear);
    let ((data, vocabulary), read_time) = if sparse_ok && args.map == Some(MapKind::Linear) {
        let (data, read_time) = step("reading", || source.read_sparse());
        match data? {
            Some(data) if sparse_fit(&recipe, &data.y).is_ok() && rows_are_sparse(&data) => {
                let why = "--map linear on sparse rows".to_string();
                return run_sparse(args, recipe, data, read_time, why, json);
            }
            // Dense rows, or ridge on classes: the in-memory fit, as a CSV file's.
            Some(data) => ((data.to_dense()?, Default::default()), read_time),
            None => return Err(CliError::usage("only LIBSVM files are read sparse")),
        }
    } else {
        let (data, read_time) = step("reading", || source.read_labelled());
        match data {
            Err(CliError::Read(DataError::OutOfMemory {
                bytes, available, ..
            })) if sparse_ok => {
                let why = format!(
                    "the rows dense would take {:.1} GB, more than half of the {:.1} GB of \
                     memory available",
                    bytes as f64 / 1e9,
                    available as f64 / 1e9
                );
                return sparse_instead(args, recipe, &source, why, json);
            }
            data => (data?, read_time),
        }
    };
    // Without a solver flag, an in-memory classification fit chooses between ridge and the SVM
    // by the same cross-validation on the σ search's sampled rows at ridge's grown n.
    if recipe.solver.is_none() {
        recipe.selection = recipe.selection.take().map(Selection::choosing_solvers);
    }
    recipe.classifying_names(vocabulary.class_names.as_deref(), &args.train)?;
    let params = recipe.params(data.y.view())?;
    let weights = match &args.weights {
        Some(path) => Some(crate::sample_weights::read(path, data.y.len())?),
        None => None,
    };
    let (fitted, fit_time) = step("fitting", || match &weights {
        None => params.fit_with_report(data.x.view(), data.y.view()),
        Some(w) => params.fit_weighted_with_report(data.x.view(), data.y.view(), w.view()),
    });
    let (model, selection) = match fitted {
        Err(SolversError::OutOfMemory {
            bytes, available, ..
        }) if sparse_ok && solver_fits_sparse(recipe.solver.as_ref(), params.task()) => {
            drop(data);
            let why = format!(
                "the fit's copies of the rows dense would take {:.1} GB of the {:.1} GB of \
                 memory available",
                bytes as f64 / 1e9,
                available as f64 / 1e9
            );
            return sparse_instead(args, recipe, &source, why, json);
        }
        fitted => fitted.map_err(|e| machine::fit_error(&args.train, e))?,
    };
    let note = source.label_note(&vocabulary);
    let model = machine::with_vocabulary(model, vocabulary)?;
    machine::save(&model, &args.model)?;
    let predicted = model.predict(data.x.view()).map_err(CliError::compute)?;
    let train_score = Score::compute(model.task(), data.y.view(), predicted.view());
    let report = FitReport::of(args, &model, (read_time, fit_time), train_score, selection);
    let weights = args
        .weights
        .as_deref()
        .zip(weights.as_ref())
        .map(|(file, w)| WeightsSummary::of(file, w));
    let report = FitReport {
        note,
        weights,
        ..report
    };
    emit(&report, json)
}

/// Whether at most one entry in sixteen is non-zero ([`rks::is_sparse`]).
fn rows_are_sparse(data: &SparseDataset) -> bool {
    rks::is_sparse(
        data.non_zeros(),
        data.n_rows().saturating_mul(data.n_features()),
    )
}

/// The task of the recipe's fit of labels `y` when the sparse path can fit it — classes by the
/// SVM, values by ridge — else what needs the rows dense.
fn sparse_fit(
    recipe: &Recipe,
    y: &ndarray::Array1<f64>,
) -> std::result::Result<Task, &'static str> {
    let task = recipe.task.unwrap_or_else(|| infer_task(y.view()));
    if solver_fits_sparse(recipe.solver.as_ref(), task) {
        Ok(task)
    } else {
        Err("ridge on classes needs the rows dense (drop --solver ridge, or give --c)")
    }
}

/// Whether the solver asked for (if any) is the sparse path's for `task`: the SVM for classes,
/// ridge for values.
fn solver_fits_sparse(solver: Option<&rks_solvers::Solver>, task: Task) -> bool {
    matches!(
        (solver.map(|s| s.kind()), task),
        (None, _)
            | (Some(SolverKind::Svm), Task::Classification)
            | (Some(SolverKind::Ridge), Task::Regression)
    )
}

/// The file read again as its rows' entries and fitted by [`run_sparse`] (`why`: what the
/// dense rows would have taken), or an error naming why when the sparse path cannot fit it.
fn sparse_instead(
    args: &FitArgs,
    recipe: Recipe,
    source: &Source,
    why: String,
    json: bool,
) -> Result<()> {
    let (data, read_time) = step("reading the rows sparse", || source.read_sparse());
    let Some(data) = data? else {
        return Err(CliError::usage("only LIBSVM files are read sparse"));
    };
    if let Err(dense_only) = sparse_fit(&recipe, &data.y) {
        return Err(CliError::data(
            &args.train,
            format!("{why}, and {dense_only}: read fewer columns (--features) or fewer rows"),
        ));
    }
    run_sparse(args, recipe, data, read_time, why, json)
}

/// `rks fit` on a LIBSVM file's rows held as their non-zero entries: the linear map's SVM (C by
/// cross-validation on a seeded sample) or ridge (λ likewise)
/// ([`fit_sparse`](rks_solvers::KernelMachineValidParams::fit_sparse)); `why` the rows were
/// held sparse is reported.
fn run_sparse(
    args: &FitArgs,
    mut recipe: Recipe,
    data: SparseDataset,
    read_time: std::time::Duration,
    why: String,
    json: bool,
) -> Result<()> {
    recipe.map = recipe.map.kind(MapKind::Linear).kernel(Kernel::Linear);
    let task = sparse_fit(&recipe, &data.y).map_err(CliError::usage)?;
    if recipe.solver.is_none() && task == Task::Classification {
        recipe.solver = machine::solver_from_flags(Some(SolverKind::Svm), None, None)?;
    }
    let params = recipe.params_for(task)?;
    let weights = match &args.weights {
        Some(path) => Some(crate::sample_weights::read(path, data.n_rows())?),
        None => None,
    };
    let (fitted, fit_time) = step("fitting", || match &weights {
        None => params.fit_sparse(&data),
        Some(w) => params.fit_sparse_weighted(&data, w.view()),
    });
    let (model, selection) = fitted.map_err(|e| machine::fit_error(&args.train, e))?;
    machine::save(&model, &args.model)?;
    let predicted = model.predict_sparse(&data).map_err(CliError::compute)?;
    let cells = data.n_rows() as f64 * data.n_features() as f64;
    let train_score = Score::compute(model.task(), data.y.view(), predicted.view());
    let report = FitReport::of(args, &model, (read_time, fit_time), train_score, selection);
    let report = FitReport {
        sparse: Some(format!(
            "as their {} non-zero entries ({:.3} % of {} × {}): {why}",
            data.non_zeros(),
            100.0 * data.non_zeros() as f64 / cells.max(1.0),
            data.n_rows(),
            data.n_features()
        )),
        weights: args
            .weights
            .as_deref()
            .zip(weights.as_ref())
            .map(|(file, w)| WeightsSummary::of(file, w)),
        ..report
    };
    emit(&report, json)
}

/// `rks fit --stream`: ridge from chunks, never holding the whole file. Passes over the file:
/// the LIBSVM width (without `--features`), the task (without `--task`; stops early once the
/// labels are clearly regression targets), the two passes of
/// [`fit_stream_sampled`](rks_solvers::KernelMachineValidParams::fit_stream_sampled). The
/// training score is on pass 1's seeded sample (in memory), not a third pass over the file.
fn run_streamed(args: &FitArgs, recipe: &Recipe, source: Source, json: bool) -> Result<()> {
    if recipe.solver.as_ref().is_some_and(|s| !s.kind().streams()) {
        return Err(CliError::usage(
            "--stream fits ridge only: the SVM needs every row in memory \
             (drop --stream, or use --solver ridge / --lambda)",
        ));
    }
    let chunk_rows = args
        .chunk_rows
        .map_or(STREAM_CHUNK_ROWS, |rows| rows as usize);
    let (prepared, scan_time) = step("scanning", || -> Result<_> {
        let source = source.with_known_width()?;
        // Class names and categories are learned in a pass of their own, so that every pass
        // codes them alike.
        let vocabulary = source.vocabulary()?;
        let source = source.with_vocabulary(&vocabulary);
        let names = vocabulary.class_names.as_deref();
        let task = match machine::task_of_names(recipe.task, names, &args.train)? {
            Some(task) => task,
            None => {
                let mut inference = TaskInference::default();
                for chunk in source.chunks(chunk_rows)? {
                    inference.add(chunk?.y.view());
                    if inference.settled() {
                        break;
                    }
                }
                inference.task()
            }
        };
        Ok((source, task, vocabulary))
    });
    let (source, task, vocabulary) = prepared?;
    let params = recipe
        .named(vocabulary.class_names.as_deref())
        .params_for(task)?;
    let total = std::cell::Cell::new(None);
    let (fitted, fit_time) = step("fitting", || {
        match &args.weights {
            None => params.fit_stream_sampled(|| {
                source
                    .chunks(chunk_rows)
                    .map(|chunks| chunks.map(|chunk| chunk.map(|d| (d.x, d.y))))
            }),
            Some(path) => params.fit_stream_weighted_sampled(|| {
                let chunks = source.chunks(chunk_rows)?;
                crate::sample_weights::in_step(chunks, path, &total).map_err(StreamError::from)
            }),
        }
        .map_err(|e| stream_error(&args.train, e))
    });
    let StreamedFit {
        model,
        sample: (x, y),
        selection,
        left_out,
    } = fitted?;
    let weights = args.weights.as_ref().map(|file| WeightsSummary {
        file: file.clone(),
        total: total.get().unwrap_or_default(),
        rows_left_out: left_out as usize,
    });
    let note = source.label_note(&vocabulary);
    let model = machine::with_vocabulary(model, vocabulary)?;
    machine::save(&model, &args.model)?;
    let predicted = model.predict(x.view()).map_err(CliError::compute)?;
    let train_score = Score::compute(model.task(), y.view(), predicted.view());
    let report = FitReport::of(args, &model, (scan_time, fit_time), train_score, selection);
    let report = FitReport {
        note,
        train_score_rows: Some(y.len()),
        chunk_rows: Some(chunk_rows),
        weights,
        ..report
    };
    emit(&report, json)
}

/// `rks fit --distributed`: [`crate::distributed`] (built with the `mpi` feature).
fn run_distributed(args: &FitArgs, recipe: &Recipe, source: Source, json: bool) -> Result<()> {
    if recipe.solver.as_ref().is_some_and(|s| !s.kind().streams()) {
        return Err(CliError::usage(
            "--distributed fits ridge only: the SVM needs every row in memory",
        ));
    }
    let chunk_rows = args
        .chunk_rows
        .map_or(STREAM_CHUNK_ROWS, |rows| rows as usize);
    #[cfg(feature = "mpi")]
    return crate::distributed::run(args, recipe, source, chunk_rows, json);
    #[cfg(not(feature = "mpi"))]
    {
        let _ = (source, chunk_rows, json);
        Err(CliError::usage(
            "--distributed needs rks built with MPI: cargo build --release --features mpi \
             (with an MPI library installed, e.g. Debian's libopenmpi-dev and libclang-dev)",
        ))
    }
}

/// A streamed fit failure: a reader error keeps its `path:line:column`; the rest is as for an
/// in-memory fit.
fn stream_error(train: &Path, e: SolversError) -> CliError {
    match e {
        SolversError::Source(inner) => match inner.downcast::<DataError>() {
            Ok(read) => CliError::Read(*read),
            Err(other) => match other.downcast::<CliError>() {
                Ok(own) => *own,
                Err(other) => CliError::data(train, other),
            },
        },
        other => machine::fit_error(train, other),
    }
}

//! From flags to a kernel machine: the one place that turns `--map`, `--sigma`, `--solver`, ...
//! into rks-solvers hyper-parameters, infers the task, fits, saves and loads.

use std::path::Path;

use ndarray::ArrayView1;
use rks::envelope::FileError;
use rks::spec::AnyMapParams;
use rks::{Bandwidth, FeatureMap, Kernel, MapKind, Named};
use rks_data::Dataset;
use rks_solvers::machine::{Selection, SelectionReport};
use rks_solvers::task::infer_task;
use rks_solvers::{
    KernelMachine, KernelMachineValidParams, Lambda, Solver, SolverInfo, SolverKind, SolversError,
    Task,
};
use serde::Serialize;

use crate::class_weight::ClassWeightFlag;
use crate::cli::{ClassWeightArgs, KernelArgs, SolverArgs, kernel_or_default};
use crate::error::{CliError, Result};
use crate::flags;

/// The task of a fit given `task` when its labels may be class names (a CSV label column of
/// text, `names` in the order they appeared): with names, classification whatever their codes
/// would suggest, and a usage error naming the file when regression was asked for; without,
/// `task` as given.
pub fn task_of_names(
    task: Option<Task>,
    names: Option<&[String]>,
    train: &Path,
) -> Result<Option<Task>> {
    let Some(names) = names else { return Ok(task) };
    if task == Some(Task::Regression) {
        let shown: Vec<String> = names.iter().take(3).map(|n| format!("'{n}'")).collect();
        return Err(CliError::usage(format!(
            "{}: the label column holds class names ({}{}), which cannot be regressed \
             (drop --task regression, or give the targets as numbers)",
            train.display(),
            shown.join(", "),
            if names.len() > 3 { ", …" } else { "" }
        )));
    }
    Ok(Some(Task::Classification))
}

/// `model` with the vocabulary of its training file's text (saved with it): its classes' names
/// when its labels were names, its columns' categories when some held categories.
pub fn with_vocabulary(
    mut model: KernelMachine,
    vocabulary: rks_data::csv::Vocabulary,
) -> Result<KernelMachine> {
    if let Some(names) = vocabulary.class_names {
        model = model.with_class_names(names).map_err(CliError::compute)?;
    }
    if let Some(categories) = vocabulary.categories {
        model = model
            .with_input_categories(categories)
            .map_err(CliError::compute)?;
    }
    Ok(model)
}

/// Everything that defines a fit except the data: what `fit`, `compare` and `tune` share.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// The map's parameters: kind, frequencies, kernel, bandwidth (open for the median
    /// heuristic or model selection), seed.
    pub map: AnyMapParams,
    /// Input scaling.
    pub scaler: rks::scaler::ScalerKind,
    /// Ridge or SVM with its regularisation; `None` when no solver flag was given (see
    /// [`Recipe::svm_by_default`]).
    pub solver: Option<Solver>,
    /// Without solver flags, classify with the SVM (C = 1) instead of ridge with λ chosen from
    /// the data. Regression always defaults to ridge.
    pub svm_by_default: bool,
    /// Given task, or `None` to infer it from the labels.
    pub task: Option<Task>,
    /// Model selection (σ, λ or C, n; the solver), `None` with `--no-select`.
    pub selection: Option<Selection>,
    /// Column weights after the scaler (`--input-weights`), instead of learned ones.
    pub input_weights: Option<Vec<f64>>,
    /// Calibrate class probabilities after the fit (`fit --probabilities`).
    pub probabilities: bool,
    /// `--class-weight`, its labels read once the class names are known.
    pub class_weights: Option<ClassWeightFlag>,
    /// The training file's class names, when its labels are names
    /// ([`classifying_names`](Self::classifying_names)).
    pub class_names: Option<Vec<String>>,
}

impl Recipe {
    /// The recipe the flags describe. Flags that do not apply to the chosen solver are usage
    /// errors rather than silently ignored.
    /// `maps` are the maps the command fits (the first is the recipe's; `compare` replaces it
    /// for each): the default kernel is the one they make ([`kernel_or_default`]).
    pub fn from_flags(
        maps: &[MapKind],
        frequencies: usize,
        kernel_args: &KernelArgs,
        solver: &SolverArgs,
    ) -> Result<Self> {
        let kernel = kernel_or_default(kernel_args.kernel, maps);
        let map = maps.first().copied().unwrap_or_default();
        for &kind in maps {
            check_kernel_map(kernel, kind)?;
        }
        Ok(Self {
            map: AnyMapParams::default()
                .kind(map)
                .n_frequencies(frequencies)
                .kernel(kernel)
                .bandwidth(bandwidth(kernel_args.sigma, kernel_args.gamma))
                .seed(kernel_args.seed),
            scaler: kernel_args.scaler,
            solver: solver_from_flags(solver.solver, solver.c, solver.lambda)?,
            svm_by_default: false,
            task: solver.task,
            // A given C is not searched.
            selection: (!kernel_args.no_select).then(|| Selection {
                cs: if solver.c.is_some() {
                    Vec::new()
                } else {
                    Selection::default().cs
                },
                relevance: !kernel_args.no_relevance,
                linear: !kernel_args.no_linear,
                ..Selection::default()
            }),
            input_weights: kernel_args.input_weights.clone(),
            probabilities: false,
            class_weights: class_weight_flag(&solver.weights)?,
            class_names: None,
        })
    }

    /// The recipe for labels that are class names, when `names` is some
    /// ([`task_of_names`]).
    /// This recipe for a training file whose class names are `names` (the labels
    /// `--class-weight` names are read against them), its task left as it is.
    pub fn named(&self, names: Option<&[String]>) -> Recipe {
        Recipe {
            class_names: names.map(<[String]>::to_vec),
            ..self.clone()
        }
    }

    pub fn classifying_names(&mut self, names: Option<&[String]>, train: &Path) -> Result<()> {
        self.task = task_of_names(self.task, names, train)?;
        self.class_names = names.map(<[String]>::to_vec);
        Ok(())
    }

    /// Validated hyper-parameters for data whose labels are `y` (which fix the task when the
    /// recipe leaves it open). Invalid values are usage errors.
    pub fn params(&self, y: ArrayView1<'_, f64>) -> Result<KernelMachineValidParams> {
        self.params_for(self.task.unwrap_or_else(|| infer_task(y)))
    }

    /// Validated hyper-parameters for `task` (whatever the recipe says about it).
    pub fn params_for(&self, task: Task) -> Result<KernelMachineValidParams> {
        let solver = self.solver_for(task);
        if !solver.kind().supports(task) {
            return Err(CliError::usage(
                "the SVM is a classifier: use --solver ridge for regression targets \
                 (or --task classification if the labels are classes)",
            ));
        }
        KernelMachine::params()
            .map_params(self.map)
            .scaler(self.scaler)
            .solver(solver)
            .task(task)
            .selection(self.selection.clone())
            .input_weights(self.input_weights.clone())
            .probabilities(self.probabilities)
            .class_weights(
                self.class_weights
                    .as_ref()
                    .map(|w| w.resolve(self.class_names.as_deref()))
                    .transpose()?,
            )
            .check()
            .map_err(|e| match e {
                SolversError::InvalidParameter { .. } | SolversError::Rks(_) => {
                    CliError::usage(flags::message(&e))
                }
                other => CliError::compute(other),
            })
    }

    /// The solver used for `task`: the one the flags named, else the default.
    pub fn solver_for(&self, task: Task) -> Solver {
        match &self.solver {
            Some(solver) => solver.clone(),
            None if self.svm_by_default && task == Task::Classification => {
                Solver::default_of(SolverKind::Svm)
            }
            None => Solver::default_of(SolverKind::Ridge),
        }
    }

    /// Fits on `data`, with the model selection's report (`None` when selection is off); errors
    /// name the training file.
    pub fn fit_with_report(
        &self,
        data: &Dataset,
        train: &Path,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        self.params(data.y.view())?
            .fit_with_report(data.x.view(), data.y.view())
            .map_err(|e| fit_error(train, e))
    }
}

/// `--class-weight` read (not yet resolved to class codes), `None` without it.
pub fn class_weight_flag(args: &ClassWeightArgs) -> Result<Option<ClassWeightFlag>> {
    args.class_weight
        .as_deref()
        .map(ClassWeightFlag::parse)
        .transpose()
}

/// The solver the flags ask for, `None` when they leave it open. `--c` alone means the SVM and
/// `--lambda` alone ridge; `--c` with ridge or `--lambda` with the SVM is a usage error.
pub fn solver_from_flags(
    choice: Option<SolverKind>,
    c: Option<f64>,
    lambda: Option<f64>,
) -> Result<Option<Solver>> {
    let svm = |c: Option<f64>| match Solver::default_of(SolverKind::Svm) {
        Solver::Svm { loss, .. } => Solver::Svm {
            c: c.unwrap_or(1.0),
            loss,
        },
        ridge => ridge,
    };
    let ridge = |lambda: Option<f64>| Solver::Ridge {
        lambda: lambda.map_or(Lambda::Gcv, Lambda::Fixed),
    };
    match (choice, c, lambda) {
        (_, Some(_), Some(_)) => Err(CliError::usage(
            "--c is the SVM's and --lambda ridge's: give one",
        )),
        (Some(SolverKind::Ridge), Some(_), None) => Err(CliError::usage(
            "--c applies to --solver svm; ridge takes --lambda",
        )),
        (Some(SolverKind::Svm), None, Some(_)) => Err(CliError::usage(
            "--lambda applies to --solver ridge; the SVM takes --c",
        )),
        (Some(SolverKind::Svm), c, None) | (None, c @ Some(_), None) => Ok(Some(svm(c))),
        (Some(SolverKind::Ridge), None, lambda) | (None, None, lambda @ Some(_)) => {
            Ok(Some(ridge(lambda)))
        }
        (None, None, None) => Ok(None),
    }
}

/// A short description of a solver: "svm (C = 1)", "ridge (λ by GCV)", "ridge (λ = 0.01)".
pub fn solver_name(solver: &Solver) -> String {
    match solver {
        Solver::Svm { c, .. } => format!("svm (C = {c})"),
        Solver::Ridge {
            lambda: Lambda::Fixed(l),
        } => format!("ridge (λ = {l})"),
        Solver::Ridge { .. } => "ridge (λ by GCV)".into(),
    }
}

/// The bandwidth from `--sigma` or `--gamma` (clap makes them exclusive).
pub fn bandwidth(sigma: Option<f64>, gamma: Option<f64>) -> Option<Bandwidth> {
    sigma.map(Bandwidth::Sigma).or(gamma.map(Bandwidth::Gamma))
}

/// The library's rule of which maps make which kernels ([`MapKind::supports`]), checked here,
/// before any file is read, with the flags' names in the message.
pub fn check_kernel_map(kernel: Kernel, map: MapKind) -> Result<()> {
    if map.supports(kernel) {
        return Ok(());
    }
    let names = |items: Vec<&'static str>| items.join(" or ");
    let maps = names(
        MapKind::ALL
            .iter()
            .filter(|m| m.supports(kernel))
            .map(|m| m.name())
            .collect(),
    );
    let kernels: Vec<&str> = Kernel::ALL
        .iter()
        .filter(|k| map.supports(**k))
        .map(|k| k.name())
        .collect();
    Err(CliError::usage(format!(
        "--kernel {kernel} needs --map {maps}: --map {map} makes {} only",
        kernels.join(", ")
    )))
}

/// A fit failure on the rows of `train`: a bad hyper-parameter is a usage error; anything else
/// (one class, identical rows, a singular system) comes from the data and names the file.
pub fn fit_error(train: &Path, e: SolversError) -> CliError {
    match e {
        SolversError::InvalidParameter { .. } => CliError::usage(flags::message(&e)),
        other => CliError::data(train, flags::message(&other)),
    }
}

/// Loads a model, with one clear message for a missing, truncated or foreign file.
pub fn load(path: &Path) -> Result<KernelMachine> {
    load_file(path).map(|(model, _, _)| model)
}

/// A model file's bytes, read with the checks of [`load`]: the model, the file's format
/// version and its size in bytes.
pub fn load_file(path: &Path) -> Result<(KernelMachine, u32, usize)> {
    let bytes = rks_solvers::persist::MODEL_FILE
        .read(path)
        .map_err(|e| load_error(path, e.into()))?;
    let (version, _) = rks_solvers::persist::MODEL_FILE
        .open(&bytes)
        .map_err(|e| load_error(path, e.into()))?;
    let model = KernelMachine::from_bytes(&bytes).map_err(|e| load_error(path, e))?;
    Ok((model, version, bytes.len()))
}

/// A failure to load the model at `path`, in words.
fn load_error(path: &Path, e: SolversError) -> CliError {
    match e {
        SolversError::File(FileError::Io { source, .. }) => {
            CliError::model(path, format!("cannot read the model: {source}"))
        }
        SolversError::File(why @ (FileError::Truncated { .. } | FileError::Corrupt { .. })) => {
            CliError::model(
                path,
                format!("the model file is truncated or corrupted ({why})"),
            )
        }
        other => CliError::model(path, other),
    }
}

/// Saves a model.
pub fn save(model: &KernelMachine, path: &Path) -> Result<()> {
    model.save(path).map_err(|e| match e {
        SolversError::File(FileError::Io { source, .. }) => {
            CliError::model(path, format!("cannot write the model: {source}"))
        }
        other => CliError::model(path, other),
    })
}

/// A classifier's probability calibration, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct ProbabilitySummary {
    /// The folds whose held-out decision values the sigmoids were fitted on.
    pub folds: usize,
    /// The mean log loss of the held-out rows' calibrated probabilities.
    pub held_out_log_loss: f64,
    /// The accuracy of the held-out rows' scores: the chosen configuration's k-fold
    /// cross-validated accuracy.
    pub held_out_accuracy: f64,
}

impl ProbabilitySummary {
    /// "Platt sigmoids on 5-fold held-out scores (accuracy 97.80 %, log loss 0.0609)"; a
    /// streamed fit's, on more folds than an in-memory fit deals (one a row), "… on the
    /// leave-one-out scores of 4000 sampled rows …".
    pub fn describe(&self) -> String {
        let scores = if self.folds > rks_solvers::machine::CALIBRATION_FOLDS {
            format!("the leave-one-out scores of {} sampled rows", self.folds)
        } else {
            format!("{}-fold held-out scores", self.folds)
        };
        format!(
            "Platt sigmoids on {scores} (accuracy {:.2} %, log loss {:.4})",
            100.0 * self.held_out_accuracy,
            self.held_out_log_loss
        )
    }
}

/// What a model is, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    /// "classification" or "regression".
    pub task: &'static str,
    /// "fastfood" or "dense".
    pub map: &'static str,
    /// The kernel, as spelt by `--kernel`.
    pub kernel: &'static str,
    /// Input columns d.
    pub input_dim: usize,
    /// Frequencies n.
    pub frequencies: usize,
    /// Features 2n.
    pub features: usize,
    /// Bandwidth σ in scaled units.
    pub sigma: f64,
    /// The same as γ = 1/(2σ²).
    pub gamma: f64,
    /// "standard", "minmax" or "none".
    pub scaler: &'static str,
    /// "ridge" or "svm".
    pub solver: &'static str,
    /// Ridge penalty λ (ridge only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    /// SVM cost C (SVM only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// False when an SVM problem stopped at its epoch cap.
    pub converged: bool,
    /// Class labels (classification only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<i64>>,
    /// The classes' names, class label i's at i, when the training file gave names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_names: Option<Vec<String>>,
    /// Each column of the training file's categories (`null` for numbers), when one held
    /// categories: the inputs are one 0/1 column per category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_categories: Option<Vec<Option<Vec<String>>>>,
    /// The class probabilities' calibration, when the classifier was fitted with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<ProbabilitySummary>,
    /// Each class's weight in the fit (`--class-weight`), in the order of `classes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_weights: Option<Vec<ClassWeight>>,
    /// Training rows.
    pub train_rows: u64,
    /// Bytes of the map's parameters in memory.
    pub map_parameter_bytes: usize,
}

/// One class's weight in a fit.
#[derive(Debug, Clone, Serialize)]
pub struct ClassWeight {
    /// The class as the model names it.
    pub class: String,
    /// Its rows' weight.
    pub weight: f64,
}

impl ModelSummary {
    /// Summarises a fitted model.
    pub fn of(model: &KernelMachine) -> Self {
        let info = model.info();
        let (solver, lambda, c) = match &info.solver {
            SolverInfo::Ridge { lambda, .. } => ("ridge", Some(*lambda), None),
            SolverInfo::Svm { c, .. } => ("svm", None, Some(*c)),
        };
        let map = model.map();
        Self {
            task: model.task().name(),
            map: map.kind().name(),
            kernel: map.spec().kernel().name(),
            input_dim: model.input_dim(),
            frequencies: map.n_frequencies(),
            features: map.output_dim(),
            sigma: info.sigma,
            gamma: Bandwidth::Sigma(info.sigma).gamma().unwrap_or(f64::NAN),
            scaler: model.scaler().kind().name(),
            solver,
            lambda,
            c,
            converged: info.solver.converged(),
            classes: model.classes().map(<[i64]>::to_vec),
            class_names: model.class_names().map(<[String]>::to_vec),
            input_categories: model
                .input_categories()
                .map(<[Option<Vec<String>>]>::to_vec),
            probabilities: model.calibration().map(|c| ProbabilitySummary {
                folds: c.folds(),
                held_out_log_loss: c.log_loss(),
                held_out_accuracy: c.accuracy(),
            }),
            class_weights: None,
            train_rows: info.n_train,
            map_parameter_bytes: map.parameter_bytes(),
        }
        .with_class_weights(model.class_weights())
    }

    /// "0 0.5435, 1 6.2500": each class with its weight.
    pub fn describe_class_weights(weights: &[ClassWeight]) -> String {
        let each: Vec<String> = weights
            .iter()
            .map(|w| format!("{} {:.4}", w.class, w.weight))
            .collect();
        each.join(", ")
    }

    /// This summary with the model's class weights beside its classes' labels.
    fn with_class_weights(self, weights: Option<&[f64]>) -> Self {
        let class_weights = weights.zip(self.class_labels()).map(|(weights, labels)| {
            labels
                .into_iter()
                .zip(weights)
                .map(|(class, &weight)| ClassWeight { class, weight })
                .collect()
        });
        Self {
            class_weights,
            ..self
        }
    }

    /// One line, e.g. "classification by ridge (λ = 1.2e-3) on a fastfood map of 1024
    /// frequencies (gaussian kernel, σ = 3.2100), standard scaling, 64 inputs".
    pub fn one_line(&self) -> String {
        let regularisation = match (self.lambda, self.c) {
            (Some(l), _) => format!(" (λ = {l:.3e})"),
            (_, Some(c)) => format!(" (C = {c})"),
            _ => String::new(),
        };
        // The linear map has no frequencies: its features are the inputs.
        let size = if self.map == MapKind::Linear.name() {
            String::new()
        } else {
            format!(" of {} frequencies", self.frequencies)
        };
        format!(
            "{} by {}{} on a {} map{size} ({} kernel, σ = {:.4}), {} scaling, {} inputs",
            self.task,
            self.solver,
            regularisation,
            self.map,
            self.kernel,
            self.sigma,
            self.scaler,
            self.input_dim
        ) + &self.categories_clause()
            + &self.names_clause()
            + if self.probabilities.is_some() {
                ", with class probabilities"
            } else {
                ""
            }
    }

    /// A classifier's classes as text, in the model's order: their names as given, else their
    /// labels; `None` for a regressor.
    pub fn class_labels(&self) -> Option<Vec<String>> {
        match (&self.class_names, &self.classes) {
            (Some(names), _) => Some(names.clone()),
            (None, Some(classes)) => Some(classes.iter().map(i64::to_string).collect()),
            _ => None,
        }
    }

    /// " (k columns of categories)" for a model whose inputs include categories.
    fn categories_clause(&self) -> String {
        let Some(columns) = &self.input_categories else {
            return String::new();
        };
        let of_categories = columns.iter().flatten().count();
        format!(
            " ({of_categories} of {} columns as categories)",
            columns.len()
        )
    }

    /// ", classes 'a', 'b', 'c'" (at most eight names) for a classifier of named classes.
    fn names_clause(&self) -> String {
        const SHOWN: usize = 8;
        let Some(names) = &self.class_names else {
            return String::new();
        };
        let mut shown: Vec<String> = names.iter().take(SHOWN).map(|n| format!("'{n}'")).collect();
        if names.len() > SHOWN {
            shown.push(format!("… {} more", names.len() - SHOWN));
        }
        format!(", classes {}", shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solver_flags_must_match_the_solver() {
        let solver = |choice, c, lambda| solver_from_flags(choice, c, lambda);
        assert_eq!(solver(None, None, None).unwrap(), None);
        assert!(matches!(
            solver(Some(SolverKind::Ridge), None, None).unwrap(),
            Some(Solver::Ridge {
                lambda: Lambda::Gcv
            })
        ));
        assert!(matches!(
            solver(None, Some(10.0), None).unwrap(),
            Some(Solver::Svm { c: 10.0, .. })
        ));
        assert!(matches!(
            solver(None, None, Some(0.5)).unwrap(),
            Some(Solver::Ridge {
                lambda: Lambda::Fixed(0.5)
            })
        ));
        assert!(matches!(
            solver(Some(SolverKind::Svm), None, None).unwrap(),
            Some(Solver::Svm { c: 1.0, .. })
        ));
        for (choice, c, lambda) in [
            (Some(SolverKind::Ridge), Some(1.0), None),
            (Some(SolverKind::Svm), None, Some(1.0)),
            (None, Some(1.0), Some(1.0)),
        ] {
            assert_eq!(solver(choice, c, lambda).unwrap_err().exit_code(), 2);
        }
    }

    #[test]
    fn default_solver_follows_the_task_and_the_command() {
        let mut recipe = Recipe {
            map: AnyMapParams::default().n_frequencies(8),
            scaler: rks::scaler::ScalerKind::MinMax,
            solver: None,
            svm_by_default: false,
            task: None,
            selection: None,
            input_weights: None,
            probabilities: false,
            class_weights: None,
            class_names: None,
        };
        let name = |r: &Recipe, task| solver_name(&r.solver_for(task));
        assert_eq!(name(&recipe, Task::Classification), "ridge (λ by GCV)");
        recipe.svm_by_default = true;
        assert_eq!(name(&recipe, Task::Classification), "svm (C = 1)");
        assert_eq!(name(&recipe, Task::Regression), "ridge (λ by GCV)");
    }
}

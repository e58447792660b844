//! Ridge or the SVM, chosen by the same cross-validation: the fit of [`Selection::solvers`].
//!
//! Ridge is searched first, as alone (σ, λ, n and the maps by exact leave-one-out). The SVM then
//! takes ridge's map and n — at most the training rows N rounded up to a power of two, but not
//! below 1,024 (the default n) — and is
//! cross-validated ([`super::cv`]) on the σ search's sampled rows **at that n**, the n it would
//! be fitted with: its C path at ridge's σ, then at σ narrowed by ×2^{−1/2} up to
//! [`Selection::svm_sigma_steps`] times, each narrowing kept only when its error rate is lower
//! by more than one standard error, √(e(1 − e)/N), the steps stopping at the first that is not.
//!
//! The two are then compared on the same rows:
//! - **every scored row in the sample** (small files): on the same folds, ridge on the features
//!   at its σ at as many values of λ around its own for that σ (stage 1's, else the final one:
//!   × 10^j, j = −2 … 2 for the default five C), so that the regularisation paths are of equal
//!   length;
//! - **rows beyond the scored ones**: ridge by its exact leave-one-out on the scored rows (stage
//!   2's, every other row of the file fitted), the SVM by [`Selection::folds`] folds of the same
//!   rows, each fold's SVM fitted on every row of the file outside the fold (each fold after the
//!   first warm-started from the previous fold's dual variables). On a sample the two can tie
//!   where the whole file separates them: the SVM gains more from the extra rows.
//!
//! The SVM is kept only when its error is lower than ridge's by more than one standard error of
//! ridge's (the one-standard-error rule, Hastie, Tibshirani & Friedman, *The Elements of
//! Statistical Learning*, 2nd ed., §7.10: a difference smaller than the error's own uncertainty
//! does not show that the SVM is better), and is then fitted on every row with ridge's map and
//! its own σ, C and n: the same model as the SVM's fit with those values and selection off. When
//! its σ and n are ridge's, ridge's fitted map is that map and is taken as it is (a Nyström
//! map's landmarks and eigendecomposition are not made twice).
//!
//! Why the SVM's own σ, and why at the fitted n (measured in docs/benchmarks.md): a hinge loss
//! wants a narrower kernel than least squares on one-hot targets (letter: ridge's leave-one-out
//! error rises when its σ is halved, while the SVM at σ × 0.7 gains a point of test accuracy),
//! and a C chosen at the σ search's few frequencies does not carry to a fit with many more
//! (spam: C = 100 chosen at 256 frequencies overfits at 2,048). The SVM's n stops at about N
//! because its weights lie in the span of the N training rows' features: further frequencies
//! only refine the kernel's approximation, while every epoch of coordinate descent costs N·D and
//! the nearly separable problems of D ≫ N converge slowly at large C (vehicle, 676 rows at
//! ridge's n = 8,192: the comparison took 35 CPU s against 3.8 for the whole fit before it; at
//! n = 1,024, 5 s). It does not go below 1,024 (or ridge's n, if smaller): the kernel's
//! approximation error falls like 1/√n whatever N is, and below 512 rows an epoch at 1,024
//! frequencies costs little (khan, 63 rows: at 64 frequencies the SVM won the comparison on 5
//! of 20 random splits and lost up to 15 points of test accuracy; docs/benchmarks.md, "The
//! SVM's frequencies on small files"). Ridge is the default because
//! its search chooses σ, n and the map by exact leave-one-out on every row, which the SVM's
//! cross-validation on a sample does not. The comparison costs one C path per σ tried on at
//! most [`Selection::search_rows`] rows, one ridge path (small files) or k SVM fits on the file
//! (larger ones), and the SVM's fit when it wins.
//!
//! **The linear model, on sparse rows.** When the scaled sampled rows have at most one entry in
//! sixteen non-zero ([`rks::is_sparse`]: text, one-hot columns) and
//! [`Selection::linear`] is on, the kept model then meets the SVM on the scaled rows
//! themselves ([`rks::Linear`], σ = 1: LIBLINEAR's model), its C path cross-validated on the
//! same sample and folds and scored on the same rows the same way as the kernel SVM was. It is
//! solved on the rows held as their non-zero entries ([`crate::rows::SparseRows`], f32), so a
//! step costs a row's non-zeros rather than d (the model is the dense features' to the
//! solver's tolerance, not to the bit). The kernel model
//! is kept only when its error is lower by more than one standard error: the one-standard-error
//! rule again, with the linear model as the simpler one. Why (docs/benchmarks.md, "A linear
//! model on sparse rows"): on 12,454 passages of text over 8,578 words the kernel search's
//! best, Nyström at 2,048 landmarks and σ at the grid's widest, erred 19.35 % by leave-one-out
//! where the linear SVM erred 18.68 % on the same rows, and 80.9 % against 81.95 % on the test
//! rows (LIBLINEAR's 81.95 %). Its side holds the rows' non-zero entries twice, bounded by
//! [`Selection::svm_memory_bytes`].

use ndarray::{ArrayView1, ArrayView2, Axis};
use rks::scaler::Scaler;
use rks::{Bandwidth, MapKind};

use super::select::{Selection, SelectionReport, SolverTrial};
use super::{KernelMachine, KernelMachineValidParams, Solver};
use crate::cv::{Targets, mean_score, svm_path_scores};
use crate::error::{Param, Result, invalid};
use crate::folds::assign_folds;
use crate::labels::{LabelMap, signed_one_hot};
use crate::loo::LooScore;
use crate::rows::{SparseRows, SvmData};
use crate::svm::DualStart;
use crate::task::SolverKind;

/// What the kernel solvers were compared on, for the linear model's turn
/// ([`KernelMachineValidParams::offer_linear`]).
struct Contest<'a> {
    selection: &'a Selection,
    scaler: &'a Scaler,
    labels: &'a LabelMap,
    /// The search's sampled rows (unscaled), their indices among the training rows and their
    /// classes.
    sample: ArrayView2<'a, f64>,
    indices: &'a [usize],
    sampled: &'a [usize],
    /// Every training row's class.
    classes: &'a [usize],
    /// The rows scored with every other row fitted, on a file larger than them; `None`: the
    /// sample's folds.
    scored: Option<&'a [usize]>,
}

impl KernelMachineValidParams {
    /// Fits ridge and, when the SVM scores better on the same folds, the SVM instead; see the
    /// [module docs](self). `selection` lists both solvers; the task is classification.
    pub(super) fn fit_choosing_solver(
        &self,
        selection: &Selection,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        let alone = Selection {
            solvers: Vec::new(),
            ..selection.clone()
        };
        let (ridge_solver, (c, loss)) = match &self.solver {
            Solver::Ridge { .. } => match Solver::default_of(SolverKind::Svm) {
                Solver::Svm { c, loss } => (self.solver.clone(), (c, loss)),
                ridge => (ridge, (1.0, Default::default())),
            },
            Solver::Svm { c, loss } => (Solver::default_of(SolverKind::Ridge), (*c, *loss)),
        };
        let mut ridge = self.clone();
        ridge.solver = ridge_solver;
        ridge.selection = Some(alone.clone());
        let (ridge_model, report) = ridge.fit_nested(x, y)?;
        let mut report =
            report.ok_or_else(|| invalid(Param::Solvers, "ridge's search made no report"))?;
        let lambda = report
            .sigma_trials
            .iter()
            .find(|t| t.sigma == report.sigma)
            .map(|t| t.lambda)
            .or(report.lambda)
            .ok_or_else(|| invalid(Param::Solvers, "ridge's search chose no λ"))?;

        let (labels, classes) = LabelMap::fit(y)?;
        let scaler = self.fit_scaler(x)?;
        let sample = self.sample_of(x, y, alone.sample_rows());
        let sampled: Vec<usize> = sample.iter().map(|&i| classes[i]).collect();
        let rows = x.select(Axis(0), &sample);
        // Ridge's map and n, at most the rows rounded up to a power of two but not below 1,024
        // (see the module docs).
        let kind = ridge_model.map().kind();
        let n = ridge_model
            .map()
            .n_frequencies()
            .min(x.nrows().next_power_of_two().max(1024));
        // The SVM holds every row's features (f32) and, on a large file, one fold's copy.
        let dim = kind.output_dim(self.kernel(), n);
        let bytes = 2 * (x.nrows() as u64) * (dim as u64) * 4;
        if bytes > alone.svm_memory_bytes {
            report.notes.push(format!(
                "solver: ridge kept; the SVM's comparison would hold the features of {} rows \
                 twice ({:.1} GB, beyond the {:.1} GB of Selection::svm_memory_bytes)",
                x.nrows(),
                bytes as f64 / 1e9,
                alone.svm_memory_bytes as f64 / 1e9
            ));
            return Ok((ridge_model, Some(report)));
        }
        let mut svm = self.clone();
        svm.map = svm.map.kind(kind).n_frequencies(n);
        svm.solver = Solver::Svm { c, loss };
        svm.selection = None;
        // With rows beyond the scored sample, the sample's folds train on a fraction of the
        // file: the two are compared as fitted on (almost) every row (see the module docs), with
        // ridge's exact leave-one-out from its search; else on the sample's folds.
        let scored = &sample[..sample.len().min(alone.loo_rows)];
        let ridge_loo = report
            .chosen_trial()
            .filter(|t| x.nrows() > scored.len() && t.rows == scored.len())
            .map(|t| SolverTrial {
                solver: SolverKind::Ridge,
                sigma: t.sigma,
                value: t.lambda,
                score: t.score,
                rows: t.rows,
                n_frequencies: t.n_frequencies,
                folds: t.rows,
                linear: false,
            });
        let cv_at = |sigma, ridge_lambda| {
            svm.on_rows(&sample).cv_on_sample(
                &alone,
                &scaler,
                &labels,
                rows.view(),
                &sampled,
                (sigma, n),
                (c, loss),
                ridge_lambda,
            )
        };
        let on_sample = ridge_loo.is_none().then_some(lambda);
        let ridge_loo_rows = ridge_loo.is_some();
        let Some(mut cv) = cv_at(report.sigma, on_sample)? else {
            report.notes.push(format!(
                "solver: ridge kept; {} sampled rows are too few to compare it with the SVM by \
                 {}-fold cross-validation",
                sample.len().min(alone.search_rows),
                alone.folds
            ));
            return Ok((ridge_model, Some(report)));
        };
        let ridge_on_sample = cv.ridge.take();
        // The SVM's σ: narrowed while each step is clearly better (not when σ was given).
        let steps = match self.bandwidth() {
            Some(_) => 0,
            None => alone.svm_sigma_steps,
        };
        let mut sigma_trials = vec![cv.svm.clone()];
        for _ in 0..steps {
            let narrower = cv.svm.sigma * std::f64::consts::FRAC_1_SQRT_2;
            let Some(next) = cv_at(narrower, None)? else {
                break;
            };
            sigma_trials.push(next.svm.clone());
            if !next
                .svm
                .score
                .clearly_better_than(&cv.svm.score, next.svm.rows)
            {
                break;
            }
            cv = next;
        }
        report.notes.extend(cv.notes);
        let (svm_sigma, svm_c) = (cv.svm.sigma, cv.c);
        svm.map = svm.map.bandwidth(Bandwidth::Sigma(svm_sigma));
        svm.solver = Solver::Svm { c: svm_c, loss };
        // The SVM's map and features on every row, as its fit makes them: made once, for the
        // held-out folds and for the fit; ridge's map when it is the same (its σ and n kept).
        let features = || -> Result<_> {
            let prepared = svm.prepare_reusing(
                scaler.clone(),
                Some(labels.clone()),
                svm_sigma,
                n,
                Some(x),
                Some((ridge_model.scaler(), ridge_model.map())),
            )?;
            let phi = svm.features::<f32>(&prepared, x)?;
            Ok((prepared, phi))
        };
        let mut made = None;
        let (ridge_trial, svm_trial) = match (ridge_loo, ridge_on_sample) {
            (Some(ridge_trial), _) => {
                let (prepared, phi) = features()?;
                let score = svm.held_out_score(&alone, &phi, &labels, &classes, scored)?;
                made = Some((prepared, phi));
                report.notes.push(format!(
                    "solver: ridge scored by exact leave-one-out on {} sampled rows (every \
                     other row fitted), the SVM by {} folds of the same rows, each fitted on \
                     every row outside the fold",
                    scored.len(),
                    alone.folds
                ));
                let svm_trial = SolverTrial {
                    score,
                    folds: alone.folds,
                    rows: scored.len(),
                    ..cv.svm.clone()
                };
                (ridge_trial, svm_trial)
            }
            (None, Some(ridge_trial)) => (ridge_trial, cv.svm.clone()),
            (None, None) => {
                return Err(invalid(Param::Solvers, "ridge was not cross-validated"));
            }
        };
        let svm_wins = svm_trial
            .score
            .clearly_better_than(&ridge_trial.score, ridge_trial.rows);
        let one_se = ridge_trial.score.standard_error(ridge_trial.rows);
        let percent = |e: Option<f64>| 100.0 * e.unwrap_or(f64::NAN);
        let scores = format!(
            "error on {} sampled rows with {} frequencies: ridge (σ = {:.3}, λ = {:.3e}) \
             {:.2} %, SVM (σ = {:.3}, C = {}) {:.2} %",
            ridge_trial.rows,
            ridge_trial.n_frequencies,
            ridge_trial.sigma,
            ridge_trial.value,
            percent(ridge_trial.score.error),
            svm_trial.sigma,
            svm_trial.value,
            percent(svm_trial.score.error)
        );
        let kernel_trial = if svm_wins {
            svm_trial.clone()
        } else {
            ridge_trial.clone()
        };
        report.solver_trials = vec![ridge_trial, svm_trial];
        report.svm_sigma_trials = sigma_trials;
        report.c_trials = cv.c_trials;
        let kernel_model = if !svm_wins {
            report.notes.push(format!(
                "solver: ridge kept, the SVM not better by more than one standard error \
                 ({:.2} points; {scores})",
                100.0 * one_se
            ));
            ridge_model
        } else {
            let (prepared, phi) = match made {
                Some(made) => made,
                None => features()?,
            };
            let model = svm.fit_svm(prepared, &phi, &classes, (svm_c, loss), svm_sigma)?;
            report.notes.push(format!(
                "solver: the SVM, better than ridge by more than one standard error ({scores}); \
                 fitted with n = {n}"
            ));
            report.sigma = svm_sigma;
            report.lambda = None;
            report.c = Some(svm_c);
            report.n_frequencies = n;
            model
        };
        let contest = Contest {
            selection: &alone,
            scaler: &scaler,
            labels: &labels,
            sample: rows.view(),
            indices: &sample,
            sampled: &sampled,
            classes: &classes,
            scored: ridge_loo_rows.then_some(scored),
        };
        self.offer_linear(&contest, x, (c, loss), &kernel_trial, kernel_model, report)
    }

    /// The linear model's turn, on sparse rows (see the [module docs](self)): the SVM on the
    /// scaled rows themselves ([`rks::Linear`], σ = 1), its C by the same cross-validation as
    /// the kernel SVM's and scored on the same rows as the kernel model `kernel` was. It
    /// replaces the kernel model unless that one is better by more than one standard error:
    /// the simpler model within one standard error of the best.
    fn offer_linear(
        &self,
        contest: &Contest<'_>,
        x: ArrayView2<'_, f64>,
        (c, loss): (f64, crate::svm::SvmLoss),
        kernel: &SolverTrial,
        kernel_model: KernelMachine,
        mut report: SelectionReport,
    ) -> Result<(KernelMachine, Option<SelectionReport>)> {
        if self.map_kind() == MapKind::Linear || !contest.selection.linear {
            return Ok((kernel_model, Some(report)));
        }
        let d = x.ncols();
        // The sampled rows' non-zero entries once scaled, a block of rows at a time.
        let block = super::fit::scaled_block_rows(self.chunk_rows, d);
        let mut non_zeros = 0;
        for rows in contest.sample.axis_chunks_iter(Axis(0), block) {
            let scaled = contest.scaler.transform(rows)?;
            non_zeros += scaled.iter().filter(|v| **v != 0.0).count();
        }
        let entries = contest.sample.len();
        if !rks::is_sparse(non_zeros, entries) {
            return Ok((kernel_model, Some(report)));
        }
        let percent = 100.0 * non_zeros as f64 / entries.max(1) as f64;
        let selection = contest.selection;
        let mut linear = self.linear_svm(c, loss);
        linear.selection = None;
        // Its two copies of the rows' non-zero entries, estimated from the sample's density
        // before any is made.
        let rows = contest.sample.nrows().max(1);
        let expected = non_zeros.div_ceil(rows).saturating_mul(x.nrows());
        let bytes = 2 * SparseRows::<f32>::bytes_for(expected, x.nrows()) as u64;
        if bytes > selection.svm_memory_bytes {
            report.notes.push(format!(
                "linear: not tried; its SVM would hold about {expected} non-zero entries of {} \
                 rows twice ({:.1} GB, beyond the {:.1} GB of Selection::svm_memory_bytes)",
                x.nrows(),
                bytes as f64 / 1e9,
                selection.svm_memory_bytes as f64 / 1e9
            ));
            return Ok((kernel_model, Some(report)));
        }
        // The scaled rows as their non-zero entries, in the SVM's precision (f32, as the fit's
        // features): a row's steps cost its non-zeros, not d.
        let all = SparseRows::<f32>::scaled(contest.scaler, x, block)?;
        // C by the kernel SVM's cross-validation: the same sampled rows and folds.
        let k = selection.folds;
        let count = contest.indices.len().min(selection.search_rows);
        if count < 2 * k {
            return Ok((kernel_model, Some(report)));
        }
        let sampled = &contest.sampled[..count];
        let n_classes = contest.labels.n_classes();
        let class_of: Vec<f64> = sampled.iter().map(|&c| c as f64).collect();
        let folds = assign_folds(&class_of, k, true, self.seed());
        let y = signed_one_hot(sampled, n_classes);
        let weights = self
            .on_rows(&contest.indices[..count])
            .row_weights_of(Some(contest.labels), sampled)?;
        let targets = Targets {
            y: y.view(),
            classes: Some((sampled, n_classes)),
            weights: weights.as_deref(),
        };
        let cs = if selection.cs.is_empty() {
            vec![c]
        } else {
            selection.cs.clone()
        };
        let (c_scores, best) = svm_path_scores(
            &all.pick(&contest.indices[..count]),
            targets,
            &folds,
            k,
            &cs,
            &linear.svm_params(c, loss),
        )?;
        let best = best.ok_or_else(|| invalid(Param::Cs, "the C grid is empty"))?;
        let linear_c = cs[best];
        linear.solver = Solver::Svm { c: linear_c, loss };
        let on_sample = SolverTrial {
            solver: SolverKind::Svm,
            sigma: 1.0,
            value: linear_c,
            score: c_scores[best],
            rows: count,
            n_frequencies: d,
            folds: k,
            linear: true,
        };
        let trial = match contest.scored {
            Some(scored) => SolverTrial {
                score: linear.held_out_score(
                    selection,
                    &all,
                    contest.labels,
                    contest.classes,
                    scored,
                )?,
                rows: scored.len(),
                ..on_sample
            },
            None => on_sample,
        };
        let scores = format!(
            "error on {} sampled rows: the kernel model {:.2} %, the linear SVM (C = {}) {:.2} %",
            kernel.rows,
            100.0 * kernel.score.error.unwrap_or(f64::NAN),
            linear_c,
            100.0 * trial.score.error.unwrap_or(f64::NAN)
        );
        report.solver_trials.push(trial);
        if kernel
            .score
            .clearly_better_than(&report.solver_trials.last().unwrap().score, kernel.rows)
        {
            report.notes.push(format!(
                "linear: the rows are sparse ({percent:.1} % non-zero); the kernel model kept, \
                 better than the linear SVM by more than one standard error ({scores})"
            ));
            return Ok((kernel_model, Some(report)));
        }
        drop(kernel_model);
        let prepared = linear.prepare(
            contest.scaler.clone(),
            Some(contest.labels.clone()),
            1.0,
            d,
            Some(x),
        )?;
        let model = linear.fit_svm(prepared, &all, contest.classes, (linear_c, loss), 1.0)?;
        report.notes.push(format!(
            "linear: the rows are sparse ({percent:.1} % non-zero); the linear SVM on the rows \
             themselves, the kernel model not better by more than one standard error ({scores})"
        ));
        report.sigma = 1.0;
        report.lambda = None;
        report.c = Some(linear_c);
        report.n_frequencies = d;
        Ok((model, Some(report)))
    }

    /// The error of the SVM of these params on the `scored` rows of the features `phi` (every
    /// training row; classes `classes`), by [`Selection::folds`] stratified folds of those rows,
    /// each fold's SVM fitted on every row outside the fold: the mean of the folds'
    /// [`LooScore`]s.
    fn held_out_score<D: SvmData>(
        &self,
        selection: &Selection,
        phi: &D,
        labels: &LabelMap,
        classes: &[usize],
        scored: &[usize],
    ) -> Result<LooScore> {
        let Solver::Svm { c, loss } = self.solver else {
            return Err(invalid(Param::Solver, "the held-out check is the SVM's"));
        };
        let k = selection.folds;
        let n_classes = labels.n_classes();
        let class_of: Vec<f64> = scored.iter().map(|&i| classes[i] as f64).collect();
        let folds = assign_folds(&class_of, k, true, self.seed());
        let mut in_fold = vec![usize::MAX; phi.n_rows()];
        for (&row, &fold) in scored.iter().zip(&folds) {
            in_fold[row] = fold;
        }
        let weights = self.row_weights_of(Some(labels), classes)?;
        let pick = |rows: &[usize]| -> Option<Vec<f64>> {
            weights
                .as_ref()
                .map(|w| rows.iter().map(|&i| w[i]).collect())
        };
        let mut scores = Vec::with_capacity(k);
        // Each fold after the first starts from the previous fold's dual variables (the rows
        // they share, which are all but 2/k of the scored ones; α = 0 for the others).
        let mut previous: Option<(Vec<usize>, DualStart)> = None;
        let mut position = vec![usize::MAX; phi.n_rows()];
        for fold in 0..k {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..phi.n_rows()).partition(|&i| in_fold[i] == fold);
            let train_classes: Vec<usize> = train.iter().map(|&i| classes[i]).collect();
            let start = previous.as_ref().map(|(rows, dual)| {
                position.fill(usize::MAX);
                for (p, &row) in rows.iter().enumerate() {
                    position[row] = p;
                }
                DualStart {
                    c: dual.c,
                    alpha: dual
                        .alpha
                        .iter()
                        .map(|a| {
                            train
                                .iter()
                                .map(|&row| a.get(position[row]).copied().unwrap_or(0.0))
                                .collect()
                        })
                        .collect(),
                }
            });
            let (svm, dual) = phi.pick(&train).fit_ovr_warm(
                &train_classes,
                n_classes,
                &self.svm_params(c, loss),
                start.as_ref(),
                pick(&train).as_deref(),
            )?;
            let test_classes: Vec<usize> = test.iter().map(|&i| classes[i]).collect();
            scores.push(LooScore::of_weighted(
                phi.pick(&test).scores(&svm)?,
                signed_one_hot(&test_classes, n_classes).view(),
                Some((&test_classes, n_classes)),
                pick(&test).as_deref(),
            ));
            previous = Some((train, dual));
        }
        Ok(mean_score(&scores))
    }
}

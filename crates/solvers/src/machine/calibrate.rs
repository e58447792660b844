//! Class probabilities for a fitted classifier: held-out decision values of its own
//! configuration on k folds, then one Platt sigmoid per class ([`crate::calibration`]).
//!
//! The decision values a model gives its own training rows are overconfident (an SVM puts most
//! of them beyond the margin), so the sigmoids are fitted on scores of rows the scoring model
//! was not fitted on, as LIBSVM's `-b 1` does (Platt 1999; Lin, Lin & Weng 2007): the rows are
//! dealt into [`CALIBRATION_FOLDS`] stratified, seeded folds, and each fold is scored by the
//! model's configuration — its map (a Nyström map's landmarks drawn from the other folds' rows),
//! σ, n, and λ or C — fitted on the other folds with the model's scaler. Ridge's λ, a sum over
//! rows, is scaled by the share of the rows a fold's fit sees, so each fold's model is as
//! regularised per row as the model; the SVM's C is per row already. The model itself is not
//! refitted: its predictions stay as they were.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rks::spec::AnyMapParams;

use super::{KernelMachine, KernelMachineValidParams, Solver, SolverInfo};
use crate::calibration::Calibration;
use crate::error::{Param, Result, invalid};
use crate::folds::assign_folds;
use crate::labels::{LabelMap, class_scores};
use crate::ridge::Lambda;
use crate::rows::SvmData;
use crate::svm::SvmParams;

/// The folds whose held-out decision values the sigmoids are fitted on (LIBSVM's choice), or
/// one per row when there are fewer rows.
pub const CALIBRATION_FOLDS: usize = 5;

/// The folds of `y`'s rows for a calibration: [`CALIBRATION_FOLDS`] of them (fewer for fewer
/// rows), stratified and seeded.
fn calibration_folds(y: ArrayView1<'_, f64>, seed: u64) -> Result<(Vec<usize>, usize)> {
    let k = CALIBRATION_FOLDS.min(y.len());
    if k < 2 {
        return Err(invalid(
            Param::Probabilities,
            format!(
                "class probabilities are fitted on held-out decision values, which need at least \
                 2 training rows, got {}",
                y.len()
            ),
        ));
    }
    Ok((assign_folds(&y.to_vec(), k, true, seed), k))
}

/// The calibration of rows labelled `y` (class indices `classes` of `n_classes`): the rows are
/// dealt into [`calibration_folds`] seeded by `seed`, and `score(train, test)` gives the class
/// scores of rows `test` by a model fitted on rows `train`.
fn calibrate_folds(
    y: ArrayView1<'_, f64>,
    (classes, n_classes): (&[usize], usize),
    seed: u64,
    mut score: impl FnMut(&[usize], &[usize]) -> Result<Array2<f64>>,
) -> Result<Calibration> {
    let (folds, k) = calibration_folds(y, seed)?;
    let mut held_out = Array2::zeros((y.len(), n_classes));
    for fold in 0..k {
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..folds.len()).partition(|&i| folds[i] == fold);
        let scores = score(&train, &test)?;
        for (row, scores) in test.iter().zip(scores.rows()) {
            held_out.row_mut(*row).assign(&scores);
        }
    }
    Calibration::fit(held_out.view(), classes, k)
}

impl KernelMachineValidParams {
    /// `model` (fitted by these parameters on rows `x`, targets `y`) with its probability
    /// calibration (see the [module documentation](self)).
    pub(super) fn calibrate(
        &self,
        mut model: KernelMachine,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<KernelMachine> {
        let labels = model.labels.clone().ok_or_else(|| {
            invalid(
                Param::Probabilities,
                "class probabilities are for classification",
            )
        })?;
        let classes = labels.indices(y)?;
        let calibration = calibrate_folds(
            y,
            (&classes, labels.n_classes()),
            self.seed(),
            |train, test| {
                let fold_model = self.refit(&model, &labels, &classes, x, y, train)?;
                fold_model.decision_function(&x.select(Axis(0), test))
            },
        )?;
        model.calibration = Some(calibration);
        Ok(model)
    }

    /// `model`'s configuration fitted on rows `train` of `x` with `model`'s scaler and every
    /// class of `labels` (a class missing from `train` keeps its output).
    fn refit(
        &self,
        model: &KernelMachine,
        labels: &LabelMap,
        classes: &[usize],
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        train: &[usize],
    ) -> Result<KernelMachine> {
        let spec = model.map.spec();
        let mut fixed = self.clone();
        fixed.selection = None;
        fixed.sigma_choice = None;
        fixed.probabilities = false;
        fixed.map = AnyMapParams::default()
            .kind(spec.kind())
            .n_frequencies(spec.n_frequencies())
            .bandwidth(spec.bandwidth())
            .kernel(spec.kernel())
            .seed(spec.seed());
        let share = train.len() as f64 / x.nrows() as f64;
        let solver = match &model.info.solver {
            SolverInfo::Ridge { lambda, .. } => Solver::Ridge {
                lambda: Lambda::Fixed(lambda * share),
            },
            SolverInfo::Svm { c, loss, .. } => Solver::Svm { c: *c, loss: *loss },
        };
        let (x_train, y_train) = (x.select(Axis(0), train), y.select(Axis(0), train));
        let train_classes: Vec<usize> = train.iter().map(|&i| classes[i]).collect();
        let prepared = fixed.prepare_reusing(
            model.scaler.clone(),
            Some(labels.clone()),
            spec.sigma(),
            spec.n_frequencies(),
            Some(x_train.view()),
            Some((&model.scaler, &model.map)).filter(|_| spec.kind().is_data_free()),
        )?;
        fixed.on_rows(train).fit_prepared(
            prepared,
            x_train.view(),
            y_train.view(),
            &train_classes,
            &solver,
            spec.sigma(),
        )
    }
}

/// The calibration of a linear SVM fitted with `params` on `rows` (of either form,
/// [`SvmData`]) of labels `y` (class indices `classes` of `n_classes`; row weights `weights`,
/// if any): each of the folds of [`CALIBRATION_FOLDS`] scored by the SVM fitted on the others
/// (the sparse fit's calibration).
pub(super) fn calibrate_svm<D: SvmData>(
    rows: &D,
    y: ArrayView1<'_, f64>,
    (classes, n_classes): (&[usize], usize),
    params: &SvmParams,
    weights: Option<&[f64]>,
) -> Result<Calibration> {
    calibrate_folds(y, (classes, n_classes), params.seed, |train, test| {
        let train_classes: Vec<usize> = train.iter().map(|&i| classes[i]).collect();
        let train_weights = crate::class_weights::picked(weights, train);
        let (svm, _) = rows.pick(train).fit_ovr_warm(
            &train_classes,
            n_classes,
            params,
            None,
            train_weights.as_deref(),
        )?;
        Ok(class_scores(rows.pick(test).scores(&svm)?, n_classes))
    })
}

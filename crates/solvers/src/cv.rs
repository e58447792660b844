//! k-fold cross-validation of the linear models on fixed features, along a regularisation path.
//!
//! The rows are split by a fold assignment ([`crate::folds::assign_folds`]: seeded, stratified
//! for classification); for each fold the model is fitted on the other folds and scored on it,
//! for every value of the path:
//!
//! - **ridge**, every λ from one factorisation of the fold's training rows
//!   ([`LooPath::fit`](crate::loo::LooPath::fit));
//! - **SVM**, C in increasing order, each fit warm-started from the previous C's dual variables
//!   ([`fit_ovr_warm`](crate::svm::fit_ovr_warm): α scaled by the ratio of the costs and clipped to the new box).
//!
//! A fold's score is a [`LooScore`] of its held-out rows: the error rate (classification) and the
//! mean squared difference between the decision values and the ±1 one-hot targets (regression:
//! the targets), so ridge and the SVM are compared by the same numbers on the same folds. The
//! path's score is the mean over the folds ([`mean_score`]); [`best_index`] compares them, ties
//! going to the smoother model. Folds are independent and run in parallel; each fold's
//! arithmetic does not depend on the thread count, so neither do the scores.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Param, Result, invalid};
use crate::loo::{LooPath, LooScore};
use crate::rows::SvmData;
use crate::svm::{DualStart, SvmParams};

/// The regularisation path to cross-validate.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    /// Ridge at each λ > 0.
    Ridge {
        /// The penalties.
        lambdas: &'a [f64],
    },
    /// The one-vs-rest SVM of `params` (whose C is replaced) at each C > 0, warm-started along
    /// increasing C unless `warm` is false.
    Svm {
        /// The costs.
        cs: &'a [f64],
        /// Everything but C.
        params: &'a SvmParams,
        /// Start each C from the previous one's solution.
        warm: bool,
    },
}

impl Path<'_> {
    /// The path's values (λ or C).
    pub fn values(&self) -> &[f64] {
        match self {
            Path::Ridge { lambdas } => lambdas,
            Path::Svm { cs, .. } => cs,
        }
    }

    /// The indices of the values from the smoothest model to the least smooth: λ decreasing,
    /// C increasing (ties between equal values: the earlier one first).
    pub fn smoothest_first(&self) -> Vec<usize> {
        let values = self.values();
        let mut order: Vec<usize> = (0..values.len()).collect();
        match self {
            Path::Ridge { .. } => order.sort_by(|&a, &b| values[b].total_cmp(&values[a])),
            Path::Svm { .. } => order.sort_by(|&a, &b| values[a].total_cmp(&values[b])),
        }
        order
    }

    fn check(&self) -> Result<()> {
        let (param, name) = match self {
            Path::Ridge { .. } => (Param::Lambda, "λ"),
            Path::Svm { .. } => (Param::C, "C"),
        };
        if self.values().is_empty() {
            return Err(invalid(param, format!("the {name} grid is empty")));
        }
        if let Some(v) = self.values().iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(invalid(
                param,
                format!("{name} values must be finite and > 0, got {v}"),
            ));
        }
        Ok(())
    }
}

/// The targets of the rows: ±1 one-hot columns with each row's class (classification; the SVM
/// needs these), or one column of values (regression).
#[derive(Debug, Clone, Copy)]
pub struct Targets<'a> {
    /// Rows × m targets (one column for two classes or for regression).
    pub y: ArrayView2<'a, f64>,
    /// Each row's class index and the number of classes, for classification.
    pub classes: Option<(&'a [usize], usize)>,
    /// Row weights ([`crate::class_weights`]): each fold's fit is weighted and its held-out
    /// score weighs the rows ([`LooScore::of_weighted`]); `None`: every row weighs 1.
    pub weights: Option<&'a [f64]>,
}

impl Targets<'_> {
    /// The weights of rows `rows` (`None` without weights).
    fn weights_of(&self, rows: &[usize]) -> Option<Vec<f64>> {
        crate::class_weights::picked(self.weights, rows)
    }
}

/// The scores of each value of `path` (outer, in the path's order) on each of the `k` folds of
/// `folds` (inner), for features `phi` (rows × D) and `targets`.
///
/// ```
/// use ndarray::Array2;
/// use rks_solvers::cv::{Path, Targets, cross_validate, mean_score};
/// use rks_solvers::folds::assign_folds;
/// use rks_solvers::labels::signed_one_hot;
/// use rks_solvers::svm::SvmParams;
///
/// // Two classes split by the sign of the first feature.
/// let phi = Array2::from_shape_fn((60, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
/// let classes: Vec<usize> = phi.column(0).iter().map(|&v| usize::from(v > 0.0)).collect();
/// let labels: Vec<f64> = classes.iter().map(|&c| c as f64).collect();
/// let folds = assign_folds(&labels, 3, true, 0);
/// let y = signed_one_hot(&classes, 2);
/// let targets = Targets { y: y.view(), classes: Some((&classes, 2)), weights: None };
/// let params = SvmParams::default();
/// let path = Path::Svm { cs: &[0.01, 1.0], params: &params, warm: true };
/// let scores = cross_validate(phi.view(), targets, &folds, 3, &path)?;
/// assert_eq!((scores.len(), scores[0].len()), (2, 3));
/// assert_eq!(mean_score(&scores[1]).error, Some(0.0));
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
pub fn cross_validate(
    phi: ArrayView2<'_, f64>,
    targets: Targets<'_>,
    folds: &[usize],
    k: usize,
    path: &Path<'_>,
) -> Result<Vec<Vec<LooScore>>> {
    path.check()?;
    check_folds(phi.nrows(), targets, folds, k)?;
    let per_fold: Vec<Vec<LooScore>> = (0..k)
        .into_par_iter()
        .map(|fold| score_fold(phi, targets, folds, fold, path))
        .collect::<Result<_>>()?;
    Ok(transposed(per_fold, path.values().len()))
}

/// One row per value of per-fold scores (one row per fold).
fn transposed(per_fold: Vec<Vec<LooScore>>, values: usize) -> Vec<Vec<LooScore>> {
    (0..values)
        .map(|v| per_fold.iter().map(|f| f[v]).collect())
        .collect()
}

/// The fold assignment fits `rows` rows and their targets, and every one of `k ≥ 2` folds holds
/// a row.
fn check_folds(rows: usize, targets: Targets<'_>, folds: &[usize], k: usize) -> Result<()> {
    if folds.len() != rows || targets.y.nrows() != rows {
        return Err(invalid(
            Param::Folds,
            format!(
                "{rows} rows of features, {} fold assignments and {} targets",
                folds.len(),
                targets.y.nrows()
            ),
        ));
    }
    if let Some(w) = targets.weights {
        crate::ridge::check_row_weights(w, rows)?;
    }
    if k < 2 {
        return Err(invalid(
            Param::Folds,
            format!("cross-validation needs at least 2 folds, got {k}"),
        ));
    }
    if let Some(empty) = (0..k).find(|&f| !folds.contains(&f)) {
        return Err(invalid(
            Param::Folds,
            format!("fold {empty} of {k} holds no row: {rows} rows are too few for {k} folds"),
        ));
    }
    Ok(())
}

/// [`path_scores`] of the SVM's path `cs` on rows of either form ([`SvmData`]: the features
/// as the fit makes them, or sparse rows), for classification targets: the mean fold score of
/// every C and the index of the best (ties to the smaller C).
pub fn svm_path_scores<D: SvmData>(
    rows: &D,
    targets: Targets<'_>,
    folds: &[usize],
    k: usize,
    cs: &[f64],
    params: &SvmParams,
) -> Result<(Vec<LooScore>, Option<usize>)> {
    let path = Path::Svm {
        cs,
        params,
        warm: true,
    };
    path.check()?;
    check_folds(rows.n_rows(), targets, folds, k)?;
    let Some((classes, n_classes)) = targets.classes else {
        return Err(invalid(Param::Solver, "the SVM is a classifier"));
    };
    let per_fold: Vec<Vec<LooScore>> = (0..k)
        .into_par_iter()
        .map(|fold| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..folds.len()).partition(|&i| folds[i] == fold);
            let train_classes: Vec<usize> = train.iter().map(|&i| classes[i]).collect();
            let test_classes: Vec<usize> = test.iter().map(|&i| classes[i]).collect();
            let test_weights = targets.weights_of(&test);
            let held_out = |predicted: Array2<f64>| {
                LooScore::of_weighted(
                    predicted,
                    targets.y.select(Axis(0), &test).view(),
                    Some((&test_classes, n_classes)),
                    test_weights.as_deref(),
                )
            };
            svm_fold_path(
                &rows.pick(&train),
                &rows.pick(&test),
                (&train_classes, n_classes),
                targets.weights_of(&train).as_deref(),
                cs,
                (params, true),
                held_out,
            )
        })
        .collect::<Result<_>>()?;
    let scores: Vec<LooScore> = transposed(per_fold, cs.len())
        .iter()
        .map(|f| mean_score(f))
        .collect();
    let best = best_index(&scores, &path.smoothest_first());
    Ok((scores, best))
}

/// The held-out scores of the SVM at every C of `cs` (in `cs`' order) fitted on `train` (with
/// row weights `weights`, if any) and scored on `test` by `held_out`, the costs taken in
/// increasing order, each fit warm-started from the previous one's dual variables when `warm`.
fn svm_fold_path<D: SvmData>(
    train: &D,
    test: &D,
    (classes, n_classes): (&[usize], usize),
    weights: Option<&[f64]>,
    cs: &[f64],
    (params, warm): (&SvmParams, bool),
    held_out: impl Fn(Array2<f64>) -> LooScore,
) -> Result<Vec<LooScore>> {
    let mut order: Vec<usize> = (0..cs.len()).collect();
    order.sort_by(|&a, &b| cs[a].total_cmp(&cs[b]));
    let mut scores = vec![None; cs.len()];
    let mut start: Option<DualStart> = None;
    for i in order {
        let params = SvmParams {
            c: cs[i],
            ..params.clone()
        };
        let from = if warm { start.as_ref() } else { None };
        let (svm, dual) = train.fit_ovr_warm(classes, n_classes, &params, from, weights)?;
        scores[i] = Some(held_out(test.scores(&svm)?));
        start = Some(dual);
    }
    Ok(scores.into_iter().flatten().collect())
}

/// The scores of every value of `path` on held-out fold `fold`, fitted on the other folds.
fn score_fold(
    phi: ArrayView2<'_, f64>,
    targets: Targets<'_>,
    folds: &[usize],
    fold: usize,
    path: &Path<'_>,
) -> Result<Vec<LooScore>> {
    let (test, train): (Vec<usize>, Vec<usize>) = (0..folds.len()).partition(|&i| folds[i] == fold);
    let pick = |rows: &[usize]| {
        targets
            .classes
            .map(|(c, _)| rows.iter().map(|&i| c[i]).collect())
    };
    let (test_classes, train_classes): (Option<Vec<usize>>, Option<Vec<usize>>) =
        (pick(&test), pick(&train));
    let n_classes = targets.classes.map(|(_, k)| k);
    let (test_weights, train_weights) = (targets.weights_of(&test), targets.weights_of(&train));
    let held_out = |predicted: Array2<f64>| {
        LooScore::of_weighted(
            predicted,
            targets.y.select(Axis(0), &test).view(),
            test_classes.as_deref().zip(n_classes),
            test_weights.as_deref(),
        )
    };
    let phi_test = phi.select(Axis(0), &test);
    match path {
        Path::Ridge { lambdas } => {
            let (train_phi, train_y) = (
                phi.select(Axis(0), &train),
                targets.y.select(Axis(0), &train),
            );
            // More rows than features: each λ's fit solved by Cholesky from the fold's exact
            // statistics (held-out scores need no eigendecomposition); else the dual path's.
            if train_phi.nrows() > train_phi.ncols() {
                let weights = train_weights.as_deref();
                if let Some(w) = weights {
                    crate::ridge::check_positive_row_weights(w, w.len(), "a fold's ridge")?;
                }
                let acc = crate::loo::statistics_of(train_phi.view(), train_y.view(), weights)?;
                return lambdas
                    .iter()
                    .map(|&l| {
                        let fit = acc.fit(&crate::ridge::Lambda::Fixed(l))?;
                        Ok(held_out(fit.predict(phi_test.view())?))
                    })
                    .collect();
            }
            let factored = match &train_weights {
                None => LooPath::new(train_phi, train_y.view())?,
                Some(w) => LooPath::new_weighted(train_phi, train_y.view(), w)?,
            };
            lambdas
                .iter()
                .map(|&l| {
                    Ok(held_out(
                        factored.fit_for_scoring(l)?.predict(phi_test.view())?,
                    ))
                })
                .collect()
        }
        Path::Svm { cs, params, warm } => {
            let (Some(classes), Some(n_classes)) = (train_classes, n_classes) else {
                return Err(invalid(Param::Solver, "the SVM is a classifier"));
            };
            // The SVM's precision, as in the fit.
            let train_phi = phi.select(Axis(0), &train).mapv(|v| v as f32);
            let test_phi = phi_test.mapv(|v| v as f32);
            svm_fold_path(
                &train_phi,
                &test_phi,
                (&classes, n_classes),
                train_weights.as_deref(),
                cs,
                (params, *warm),
                held_out,
            )
        }
    }
}

/// The mean fold score of every point of `path` ([`cross_validate`], [`mean_score`]) and the
/// index of the best ([`best_index`] over [`Path::smoothest_first`]; `None` for an empty path).
pub fn path_scores(
    phi: ArrayView2<'_, f64>,
    targets: Targets<'_>,
    folds: &[usize],
    k: usize,
    path: &Path<'_>,
) -> Result<(Vec<LooScore>, Option<usize>)> {
    let scores: Vec<LooScore> = cross_validate(phi, targets, folds, k, path)?
        .iter()
        .map(|f| mean_score(f))
        .collect();
    let best = best_index(&scores, &path.smoothest_first());
    Ok((scores, best))
}

/// The mean of fold scores: of the error rates (when there are) and of the squared errors.
pub fn mean_score(folds: &[LooScore]) -> LooScore {
    let n = folds.len().max(1) as f64;
    let error = folds
        .iter()
        .map(|s| s.error)
        .sum::<Option<f64>>()
        .map(|e| e / n);
    LooScore {
        error,
        mse: folds.iter().map(|s| s.mse).sum::<f64>() / n,
        rows: folds.iter().map(|s| s.rows).sum(),
    }
}

/// The index of the best of `scores` ([`LooScore::better_than`]), scanning `order` (smoothest
/// model first) and replacing the best only by a strictly better one, so ties go to the
/// smoother model. `None` when `order` is empty.
pub fn best_index(scores: &[LooScore], order: &[usize]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for &i in order {
        if best.is_none_or(|b| scores[i].better_than(&scores[b])) {
            best = Some(i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// With more rows than features, a fold's ridge fits are solved by Cholesky from its exact
    /// statistics: the same held-out scores, to rounding, as the leave-one-out path's fits of
    /// the same rows (the form that factorises), weighted or not.
    #[test]
    fn fold_fits_by_cholesky_score_as_the_path_fits() {
        let phi = Array2::from_shape_fn((90, 12), |(i, j)| ((i * 13 + j * 7) as f64 * 0.29).sin());
        let y = Array2::from_shape_fn((90, 1), |(i, _)| (i as f64 * 0.41).cos());
        let folds: Vec<usize> = (0..90).map(|i| i % 3).collect();
        let lambdas = [1e-3, 1e-1, 10.0];
        let weights: Vec<f64> = (0..90).map(|i| 0.5 + (i % 4) as f64).collect();
        for w in [None, Some(weights.as_slice())] {
            let targets = Targets {
                y: y.view(),
                classes: None,
                weights: w,
            };
            let fast = cross_validate(
                phi.view(),
                targets,
                &folds,
                3,
                &Path::Ridge { lambdas: &lambdas },
            )
            .unwrap();
            let parts: Vec<(Vec<usize>, Vec<usize>)> = (0..3)
                .map(|fold| (0..90).partition(|&i| folds[i] == fold))
                .collect();
            for (fold, (test, train)) in parts.iter().enumerate() {
                let (tp, ty) = (phi.select(Axis(0), train), y.select(Axis(0), train));
                let path = match w {
                    None => LooPath::new(tp, ty.view()).unwrap(),
                    Some(w) => {
                        let tw: Vec<f64> = train.iter().map(|&i| w[i]).collect();
                        LooPath::new_weighted(tp, ty.view(), &tw).unwrap()
                    }
                };
                for (k, &l) in lambdas.iter().enumerate() {
                    let predicted = path
                        .fit_for_scoring(l)
                        .unwrap()
                        .predict(phi.select(Axis(0), test).view())
                        .unwrap();
                    let tw: Option<Vec<f64>> = w.map(|w| test.iter().map(|&i| w[i]).collect());
                    let slow = LooScore::of_weighted(
                        predicted,
                        y.select(Axis(0), test).view(),
                        None,
                        tw.as_deref(),
                    );
                    let got = fast[k][fold].mse;
                    assert!(
                        (got - slow.mse).abs() <= 1e-9 * slow.mse.max(1.0),
                        "{got} {}",
                        slow.mse
                    );
                }
            }
        }
    }
}

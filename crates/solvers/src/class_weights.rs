//! Class weights: how much each class's rows count in a classifier's fit (LIBSVM's `-wi`,
//! scikit-learn's `class_weight`).
//!
//! A weight wᵢ on row i turns the fit's losses into Σᵢ wᵢ·loss(i): ridge minimises
//! Σᵢ wᵢ‖yᵢ − Wᵀφᵢ − b‖² + λ‖W‖² ([`crate::ridge::RidgeAccumulator::new_weighted`],
//! [`crate::loo::LooPath::new_weighted`]), the SVM ½‖w‖² + C Σᵢ wᵢξᵢ
//! ([`crate::svm::fit_ovr_warm_weighted`]), and model selection compares weighted error
//! rates, Σᵢ wᵢ·errᵢ/Σᵢ wᵢ with errᵢ = 1 for a wrong row ([`crate::loo::LooScore::of_weighted`]).
//! With class weights, wᵢ is the weight of row i's class. On imbalanced data, [`ClassWeights::Balanced`] makes every
//! class count as much in total — w_c = N/(k·N_c), scikit-learn's `"balanced"` — so that the
//! fit and the search stop trading the rare class's rows for the common one's: the weighted
//! error rate is then the balanced error rate, one minus the mean of the classes' recalls.

use serde::{Deserialize, Serialize};

use crate::error::{Param, Result, invalid};
use crate::labels::LabelMap;

/// Each class's weight in a fit; see the [module docs](self).
///
/// ```
/// use ndarray::array;
/// use rks_solvers::LabelMap;
/// use rks_solvers::class_weights::ClassWeights;
///
/// // 6 rows of class 0 and 2 of class 1.
/// let y = array![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
/// let (labels, classes) = LabelMap::fit(y.view())?;
/// // Balanced: 8 / (2 · 6) and 8 / (2 · 2).
/// let balanced = ClassWeights::Balanced.per_class(&labels, &classes)?;
/// assert_eq!(balanced, vec![8.0 / 12.0, 2.0]);
/// // Given: classes not named weigh 1.
/// let given = ClassWeights::Given(vec![(1, 5.0)]).per_class(&labels, &classes)?;
/// assert_eq!(given, vec![1.0, 5.0]);
/// assert_eq!(ClassWeights::rows(&given, &classes[4..]), vec![1.0, 1.0, 5.0, 5.0]);
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClassWeights {
    /// w_c = N/(k·N_c) for k classes, N rows and N_c rows of class c: every class weighs N/k in
    /// total.
    Balanced,
    /// (class label, weight) pairs, each weight finite and > 0; classes not named weigh 1. A
    /// label that is not a class of the training rows is an error at fit time.
    Given(Vec<(i64, f64)>),
}

impl ClassWeights {
    /// Checks the given weights: each finite and > 0, no label twice.
    pub fn validate(&self) -> Result<()> {
        let Self::Given(pairs) = self else {
            return Ok(());
        };
        if let Some((label, w)) = pairs.iter().find(|(_, w)| !(w.is_finite() && *w > 0.0)) {
            return Err(invalid(
                Param::ClassWeights,
                format!("class {label}'s weight must be finite and > 0, got {w}"),
            ));
        }
        let mut labels: Vec<i64> = pairs.iter().map(|(l, _)| *l).collect();
        labels.sort_unstable();
        if let Some(w) = labels.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(
                Param::ClassWeights,
                format!("class {} is given a weight twice", w[0]),
            ));
        }
        Ok(())
    }

    /// The weight of each class of `labels` (in its order), for training rows of class indices
    /// `classes` (into `labels`). A given label that is not one of `labels`' classes is an
    /// error naming the classes.
    pub fn per_class(&self, labels: &LabelMap, classes: &[usize]) -> Result<Vec<f64>> {
        let mut counts = vec![0u64; labels.n_classes()];
        for &c in classes {
            if let Some(count) = counts.get_mut(c) {
                *count += 1;
            }
        }
        self.per_class_counted(labels, &counts)
    }

    /// [`per_class`](Self::per_class) from each class's count of rows (in `labels`' order):
    /// what a fit in parts knows of its rows' classes.
    pub fn per_class_counted(&self, labels: &LabelMap, counts: &[u64]) -> Result<Vec<f64>> {
        self.validate()?;
        match self {
            Self::Balanced => {
                let n = counts.iter().sum::<u64>() as f64;
                let k = labels.n_classes() as f64;
                Ok(counts
                    .iter()
                    .map(|&count| {
                        if count == 0 {
                            1.0
                        } else {
                            n / (k * count as f64)
                        }
                    })
                    .collect())
            }
            Self::Given(pairs) => {
                let mut weights = vec![1.0; labels.n_classes()];
                for &(label, w) in pairs {
                    let Some(i) = labels.index_of(label) else {
                        return Err(invalid(
                            Param::ClassWeights,
                            format!(
                                "class {label} is given a weight but is not a class of the \
                                 training rows ({:?})",
                                labels.classes()
                            ),
                        ));
                    };
                    weights[i] = w;
                }
                Ok(weights)
            }
        }
    }

    /// These weights with [`Balanced`](Self::Balanced) resolved for the training rows' classes
    /// `classes`: the same weights as named classes, for fits on parts of the rows (folds,
    /// samples) to weigh as the whole fit does.
    pub fn resolved(&self, labels: &LabelMap, classes: &[usize]) -> Result<Self> {
        Ok(Self::named(labels, self.per_class(labels, classes)?))
    }

    /// [`resolved`](Self::resolved) from each class's count of rows (in `labels`' order).
    pub fn resolved_counted(&self, labels: &LabelMap, counts: &[u64]) -> Result<Self> {
        Ok(Self::named(labels, self.per_class_counted(labels, counts)?))
    }

    /// Every class of `labels` named with its weight of `per_class`.
    fn named(labels: &LabelMap, per_class: Vec<f64>) -> Self {
        Self::Given(labels.classes().iter().copied().zip(per_class).collect())
    }

    /// The largest weight a row can have under given weights (at least 1, the weight of the
    /// classes not named); `None` for [`Balanced`](Self::Balanced), which depends on the rows.
    pub fn largest(&self) -> Option<f64> {
        match self {
            Self::Balanced => None,
            Self::Given(pairs) => Some(pairs.iter().map(|(_, w)| *w).fold(1.0, f64::max)),
        }
    }

    /// Each row's weight, from its class index `classes[i]` and the classes' `per_class`
    /// weights.
    pub fn rows(per_class: &[f64], classes: &[usize]) -> Vec<f64> {
        classes.iter().map(|&c| per_class[c]).collect()
    }
}

/// The weight of each row of class indices `classes` (into `labels`) under `weights`; `None`
/// without weights or labels (every row weighs 1): what every fit, fold and pass weighs by.
pub(crate) fn row_weights(
    weights: Option<&ClassWeights>,
    labels: Option<&LabelMap>,
    classes: &[usize],
) -> Result<Option<Vec<f64>>> {
    match (weights, labels) {
        (Some(weights), Some(labels)) => Ok(Some(ClassWeights::rows(
            &weights.per_class(labels, classes)?,
            classes,
        ))),
        _ => Ok(None),
    }
}

/// The weights of rows `rows` of `weights` (`None` without weights): a fold's or a sample's.
pub(crate) fn picked(weights: Option<&[f64]>, rows: &[usize]) -> Option<Vec<f64>> {
    weights.map(|w| rows.iter().map(|&i| w[i]).collect())
}

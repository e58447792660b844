//! Scores of predictions: accuracy for classification, RMSE and R² for regression; the log
//! loss of class probabilities.

use ndarray::{ArrayView1, ArrayView2};
use rks_solvers::Task;
use serde::Serialize;

/// How good predictions are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Score {
    /// Fraction of rows whose predicted class is the label.
    Classification {
        /// In [0, 1].
        accuracy: f64,
    },
    /// Root mean squared error and coefficient of determination.
    Regression {
        /// √(mean (ŷ − y)²).
        rmse: f64,
        /// 1 − Σ(ŷ − y)² / Σ(y − ȳ)² (can be negative; NaN when y is constant).
        r2: f64,
    },
}

impl Score {
    /// Scores `predicted` against `truth` (equal lengths, at least one row).
    pub fn compute(task: Task, truth: ArrayView1<'_, f64>, predicted: ArrayView1<'_, f64>) -> Self {
        let mut tally = ScoreTally::new(task);
        tally.add(truth, predicted);
        tally.score()
    }

    /// Column heading for the headline figure.
    pub fn heading(&self) -> &'static str {
        match self {
            Score::Classification { .. } => "accuracy",
            Score::Regression { .. } => "RMSE",
        }
    }

    /// The headline figure as text: "97.50 %" or "55.71".
    pub fn headline(&self) -> String {
        match *self {
            Score::Classification { accuracy } => format!("{:.2} %", 100.0 * accuracy),
            Score::Regression { rmse, .. } => format!("{rmse:.4}"),
        }
    }

    /// Every figure as text: "accuracy 97.50 %" or "RMSE 55.71, R² 0.4945".
    pub fn describe(&self) -> String {
        match *self {
            Score::Classification { accuracy } => format!("accuracy {:.2} %", 100.0 * accuracy),
            Score::Regression { rmse, r2 } => format!("RMSE {rmse:.4}, R² {r2:.4}"),
        }
    }
}

/// A [`Score`] accumulated chunk by chunk, in memory that does not grow with the rows: hits for
/// accuracy; for regression the squared errors and, by Welford's update, the mean of y and the
/// sum of squares about it (one pass, no cancellation between two large sums).
#[derive(Debug, Clone)]
pub struct ScoreTally {
    task: Task,
    rows: u64,
    hits: u64,
    sse: f64,
    mean: f64,
    sst: f64,
}

impl ScoreTally {
    /// An empty tally for `task`.
    pub fn new(task: Task) -> Self {
        Self {
            task,
            rows: 0,
            hits: 0,
            sse: 0.0,
            mean: 0.0,
            sst: 0.0,
        }
    }

    /// Adds rows: `truth[i]` against `predicted[i]` (equal lengths).
    pub fn add(&mut self, truth: ArrayView1<'_, f64>, predicted: ArrayView1<'_, f64>) {
        for (&t, &p) in truth.iter().zip(predicted) {
            self.rows += 1;
            match self.task {
                Task::Classification => self.hits += u64::from(t == p),
                Task::Regression => {
                    self.sse += (t - p) * (t - p);
                    let delta = t - self.mean;
                    self.mean += delta / self.rows as f64;
                    self.sst += delta * (t - self.mean);
                }
            }
        }
    }

    /// The score of the rows added so far (of one row when none were).
    pub fn score(&self) -> Score {
        let n = self.rows.max(1) as f64;
        match self.task {
            Task::Classification => Score::Classification {
                accuracy: self.hits as f64 / n,
            },
            Task::Regression => Score::Regression {
                rmse: (self.sse / n).sqrt(),
                r2: 1.0 - self.sse / self.sst,
            },
        }
    }
}

/// The index of label `v` among a model's `classes` (sorted), if it has it.
fn class_index(classes: &[i64], v: f64) -> Option<usize> {
    classes.binary_search_by(|c| (*c as f64).total_cmp(&v)).ok()
}

/// A classifier's confusion matrix over the model's classes, accumulated chunk by chunk: rows
/// are the true classes, columns the predicted ones. Test rows of a class the model does not
/// know are counted apart (`unseen`), by predicted class.
#[derive(Debug, Clone)]
pub struct ConfusionTally {
    classes: Vec<i64>,
    counts: Vec<Vec<u64>>,
    unseen: Vec<u64>,
}

/// Per-class figures of a classifier on a test file (scikit-learn's `classification_report`).
#[derive(Debug, Clone, Serialize)]
pub struct PerClass {
    /// The confusion matrix: `confusion[t][p]` rows of class t predicted as class p (classes in
    /// the model's order).
    pub confusion: Vec<Vec<u64>>,
    /// Rows of a class the model does not know, by predicted class.
    pub unseen: Vec<u64>,
    /// Per class: of the rows predicted as it, the share that is it (0 when none is predicted).
    pub precision: Vec<f64>,
    /// Per class: of its rows, the share predicted as it (0 for a class with no rows).
    pub recall: Vec<f64>,
    /// Per class: the harmonic mean of precision and recall (0 when both are 0).
    pub f1: Vec<f64>,
    /// Per class: its rows in the test file.
    pub support: Vec<u64>,
    /// The mean recall over the classes with rows (scikit-learn's `balanced_accuracy_score`).
    pub balanced_accuracy: f64,
    /// The mean F1 over the classes with rows.
    pub macro_f1: f64,
}

impl ConfusionTally {
    /// An empty tally over `classes` (sorted, as a model's).
    pub fn new(classes: &[i64]) -> Self {
        let k = classes.len();
        Self {
            classes: classes.to_vec(),
            counts: vec![vec![0; k]; k],
            unseen: vec![0; k],
        }
    }

    /// Adds rows: `truth[i]` against `predicted[i]` (each prediction one of the classes).
    pub fn add(&mut self, truth: ArrayView1<'_, f64>, predicted: ArrayView1<'_, f64>) {
        for (&t, &p) in truth.iter().zip(predicted) {
            let Some(p) = class_index(&self.classes, p) else {
                continue;
            };
            match class_index(&self.classes, t) {
                Some(t) => self.counts[t][p] += 1,
                None => self.unseen[p] += 1,
            }
        }
    }

    /// The per-class figures of the rows added.
    pub fn per_class(&self) -> PerClass {
        let k = self.classes.len();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let support: Vec<u64> = self.counts.iter().map(|row| row.iter().sum()).collect();
        let predicted: Vec<u64> = (0..k)
            .map(|p| self.counts.iter().map(|row| row[p]).sum::<u64>() + self.unseen[p])
            .collect();
        let precision: Vec<f64> = (0..k)
            .map(|c| ratio(self.counts[c][c], predicted[c]))
            .collect();
        let recall: Vec<f64> = (0..k)
            .map(|c| ratio(self.counts[c][c], support[c]))
            .collect();
        let f1: Vec<f64> = (0..k)
            .map(|c| {
                let sum = precision[c] + recall[c];
                if sum == 0.0 {
                    0.0
                } else {
                    2.0 * precision[c] * recall[c] / sum
                }
            })
            .collect();
        let present: Vec<usize> = (0..k).filter(|&c| support[c] > 0).collect();
        let mean =
            |v: &[f64]| present.iter().map(|&c| v[c]).sum::<f64>() / present.len().max(1) as f64;
        PerClass {
            balanced_accuracy: mean(&recall),
            macro_f1: mean(&f1),
            confusion: self.counts.clone(),
            unseen: self.unseen.clone(),
            precision,
            recall,
            f1,
            support,
        }
    }
}

/// The mean log loss (natural log) of class probabilities, accumulated chunk by chunk:
/// −log p of each row's true class, a probability below `f64::EPSILON` (or a class the model
/// does not know) counted as `f64::EPSILON`, as scikit-learn's `log_loss` clips.
#[derive(Debug, Clone, Default)]
pub struct LogLossTally {
    rows: u64,
    sum: f64,
}

impl LogLossTally {
    /// Adds rows: labels `truth` against `probabilities` (rows × classes, the columns in the
    /// order of `classes`, sorted).
    pub fn add(
        &mut self,
        classes: &[i64],
        truth: ArrayView1<'_, f64>,
        probabilities: ArrayView2<'_, f64>,
    ) {
        for (&t, row) in truth.iter().zip(probabilities.rows()) {
            let p = class_index(classes, t).map_or(0.0, |k| row[k]);
            self.sum -= p.max(f64::EPSILON).ln();
            self.rows += 1;
        }
    }

    /// The mean over the rows added (`None` before any).
    pub fn value(&self) -> Option<f64> {
        (self.rows > 0).then(|| self.sum / self.rows as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Axis, array};

    #[test]
    fn per_class_figures_follow_the_confusion_matrix() {
        let mut tally = ConfusionTally::new(&[1, 2, 3]);
        // Class 1: 3 rows, 2 right; class 2: 1 row, right; class 3: no rows, predicted once;
        // one row of an unseen class 9 predicted as 2.
        tally.add(array![1.0, 1.0, 1.0].view(), array![1.0, 1.0, 3.0].view());
        tally.add(array![2.0, 9.0].view(), array![2.0, 2.0].view());
        let r = tally.per_class();
        assert_eq!(
            r.confusion,
            vec![vec![2, 0, 1], vec![0, 1, 0], vec![0, 0, 0]]
        );
        assert_eq!(
            (r.unseen, r.support.clone()),
            (vec![0, 1, 0], vec![3, 1, 0])
        );
        assert_eq!(r.precision, vec![1.0, 0.5, 0.0]);
        assert_eq!(r.recall, vec![2.0 / 3.0, 1.0, 0.0]);
        assert!((r.f1[0] - 0.8).abs() < 1e-12 && (r.f1[1] - 2.0 / 3.0).abs() < 1e-12);
        // Means over the classes with rows (1 and 2).
        assert!((r.balanced_accuracy - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
        assert!((r.macro_f1 - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn log_loss_is_the_mean_negative_log_of_the_true_class() {
        let mut tally = LogLossTally::default();
        assert_eq!(tally.value(), None);
        let classes = [2, 5, 9];
        let p = array![[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.0, 0.5, 0.5]];
        tally.add(
            &classes,
            array![2.0, 5.0].view(),
            p.slice_axis(Axis(0), (..2).into()),
        );
        tally.add(
            &classes,
            array![2.0].view(),
            p.slice_axis(Axis(0), (2..).into()),
        );
        // A class the model does not know counts as a probability of ε.
        tally.add(
            &classes,
            array![7.0].view(),
            p.slice_axis(Axis(0), (..1).into()),
        );
        let expected = (-(0.5f64.ln()) - 0.8f64.ln() - 2.0 * f64::EPSILON.ln()) / 4.0;
        assert!((tally.value().unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn accuracy_counts_exact_matches() {
        let s = Score::compute(
            Task::Classification,
            array![1.0, 2.0, 3.0, 4.0].view(),
            array![1.0, 2.0, 0.0, 4.0].view(),
        );
        assert_eq!(s, Score::Classification { accuracy: 0.75 });
        assert_eq!(s.headline(), "75.00 %");
    }

    /// Chunk by chunk gives the score of the whole, and the one-pass R² matches the two-pass one.
    #[test]
    fn tally_in_chunks_matches_the_whole() {
        let truth: Vec<f64> = (0..1000).map(|i| 1e6 + (i as f64 * 0.37).sin()).collect();
        let predicted: Vec<f64> = truth
            .iter()
            .enumerate()
            .map(|(i, t)| t + 0.1 * (i as f64).cos())
            .collect();
        let (truth, predicted) = (Array1::from(truth), Array1::from(predicted));
        let mut tally = ScoreTally::new(Task::Regression);
        for start in (0..1000).step_by(300) {
            let end = (start + 300).min(1000);
            let part = (start..end).into();
            tally.add(
                truth.slice_axis(Axis(0), part),
                predicted.slice_axis(Axis(0), part),
            );
        }
        let (
            Score::Regression { rmse, r2 },
            Score::Regression {
                rmse: rmse1,
                r2: r2_1,
            },
        ) = (
            tally.score(),
            Score::compute(Task::Regression, truth.view(), predicted.view()),
        )
        else {
            unreachable!()
        };
        assert_eq!(rmse, rmse1);
        assert_eq!(r2, r2_1);
        // Two-pass reference for R² (y is 1e6 plus noise: a naive Σy² − nȳ² would cancel badly).
        let mean = truth.sum() / 1000.0;
        let sst: f64 = truth.iter().map(|t| (t - mean) * (t - mean)).sum();
        let sse: f64 = truth
            .iter()
            .zip(&predicted)
            .map(|(t, p)| (t - p) * (t - p))
            .sum();
        assert!(
            (r2 - (1.0 - sse / sst)).abs() < 1e-9,
            "{r2} against {}",
            1.0 - sse / sst
        );
        let mut hits = ScoreTally::new(Task::Classification);
        hits.add(array![1.0, 2.0].view(), array![1.0, 0.0].view());
        hits.add(array![3.0, 3.0].view(), array![3.0, 3.0].view());
        assert_eq!(hits.score(), Score::Classification { accuracy: 0.75 });
    }

    #[test]
    fn rmse_and_r2_by_hand() {
        let truth = array![1.0, 2.0, 3.0];
        let s = Score::compute(Task::Regression, truth.view(), array![1.0, 2.0, 4.0].view());
        // SSE = 1, SST = 2: RMSE = √(1/3), R² = 0.5.
        assert_eq!(
            s,
            Score::Regression {
                rmse: (1.0f64 / 3.0).sqrt(),
                r2: 0.5
            }
        );
    }
}

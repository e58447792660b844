//! Scores of predictions: accuracy for classification, RMSE and R² for regression.

use ndarray::ArrayView1;
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
        let n = truth.len().max(1) as f64;
        match task {
            Task::Classification => {
                let hits = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
                Score::Classification {
                    accuracy: hits as f64 / n,
                }
            }
            Task::Regression => {
                let sse: f64 = truth
                    .iter()
                    .zip(predicted)
                    .map(|(t, p)| (t - p) * (t - p))
                    .sum();
                let mean = truth.sum() / n;
                let sst: f64 = truth.iter().map(|t| (t - mean) * (t - mean)).sum();
                Score::Regression {
                    rmse: (sse / n).sqrt(),
                    r2: 1.0 - sse / sst,
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

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

//! What the labels mean: the [`Task`], the rule that infers it from the labels when the user does
//! not say, and the names of the tasks and solvers.

use ndarray::ArrayView1;
use rks::vocabulary::Named;
use serde::{Deserialize, Serialize};

/// At most this many distinct whole-number labels are read as classes by [`infer_task`].
pub const MAX_INFERRED_CLASSES: usize = 100;

/// Classification (integer labels, argmax of per-class scores) or regression (one real target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Task {
    /// Integer class labels of any values (mapped to 0..k−1 and back).
    #[default]
    Classification,
    /// A real-valued target.
    Regression,
}

impl Named for Task {
    const WHAT: &'static str = "task";
    const ALL: &'static [Self] = &[Task::Classification, Task::Regression];

    fn name(&self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }

    fn help(&self) -> &'static str {
        match self {
            Task::Classification => "Integer class labels",
            Task::Regression => "Real-valued targets",
        }
    }
}

rks::named_choice!(Task);

/// The kind of linear model, without its regularisation ([`crate::Solver`] has the values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SolverKind {
    /// Ridge regression.
    Ridge,
    /// Linear SVM.
    Svm,
}

impl Named for SolverKind {
    const WHAT: &'static str = "solver";
    const ALL: &'static [Self] = &[SolverKind::Ridge, SolverKind::Svm];

    fn name(&self) -> &'static str {
        match self {
            SolverKind::Ridge => "ridge",
            SolverKind::Svm => "svm",
        }
    }

    fn help(&self) -> &'static str {
        match self {
            SolverKind::Ridge => {
                "Ridge regression (one-vs-rest ±1 targets for classification); λ chosen from the data unless given"
            }
            SolverKind::Svm => {
                "Linear SVM (L2-loss, dual coordinate descent, one-vs-rest for several classes)"
            }
        }
    }
}

rks::named_choice!(SolverKind);

/// The task of labels `y` when the user does not give it: classification when every label is a
/// class label ([`crate::labels::class_label`]'s rule), there are at most
/// [`MAX_INFERRED_CLASSES`] distinct labels and at most half as many as rows (so each class has
/// two rows on average); regression otherwise. Integer-valued regression targets with many
/// distinct values (diabetes: 191 values in 353 rows) are thus read as regression.
///
/// ```
/// use ndarray::array;
/// use rks_solvers::task::{Task, infer_task};
///
/// assert_eq!(infer_task(array![3.0, 8.0, 3.0, 8.0].view()), Task::Classification);
/// assert_eq!(infer_task(array![0.5, 1.0, 0.0, 1.0].view()), Task::Regression);
/// ```
pub fn infer_task(y: ArrayView1<'_, f64>) -> Task {
    let mut inference = TaskInference::default();
    inference.add(y);
    inference.task()
}

/// [`infer_task`] over labels that arrive in chunks (a streamed file): the same rule, in memory
/// bounded by [`MAX_INFERRED_CLASSES`] whatever the number of rows.
#[derive(Debug, Clone, Default)]
pub struct TaskInference {
    rows: usize,
    /// Settled: a fractional or non-finite label, or too many distinct values.
    regression: bool,
    /// The distinct labels so far, sorted (at most `MAX_INFERRED_CLASSES`).
    values: Vec<f64>,
}

impl TaskInference {
    /// Takes the labels of the next chunk.
    pub fn add(&mut self, y: ArrayView1<'_, f64>) {
        self.rows += y.len();
        if self.regression {
            return;
        }
        for &v in y {
            if rks_data::class_label(v).is_none() {
                self.regression = true;
                return;
            }
            // + 0.0 turns −0 into +0, which `total_cmp` would otherwise keep apart.
            let v = v + 0.0;
            if let Err(at) = self.values.binary_search_by(|p| p.total_cmp(&v)) {
                self.values.insert(at, v);
                if self.values.len() > MAX_INFERRED_CLASSES {
                    self.regression = true;
                    return;
                }
            }
        }
    }

    /// True when more labels cannot change the answer (it is regression).
    pub fn settled(&self) -> bool {
        self.regression
    }

    /// The task of the labels seen so far.
    pub fn task(&self) -> Task {
        if !self.regression && 2 * self.values.len() <= self.rows {
            Task::Classification
        } else {
            Task::Regression
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    #[test]
    fn task_inference_rule() {
        let classes = Array1::from_iter((0..300).map(|i| (i % 26) as f64));
        assert_eq!(infer_task(classes.view()), Task::Classification);
        let fractional = Array1::from(vec![0.0, 1.5, 1.0, 0.0]);
        assert_eq!(infer_task(fractional.view()), Task::Regression);
        // Whole numbers, but nearly one value per row: regression targets.
        let counts = Array1::from_iter((0..353).map(|i| (25 + i % 191) as f64));
        assert_eq!(infer_task(counts.view()), Task::Regression);
        let many = Array1::from_iter((0..10_000).map(|i| (i % 101) as f64));
        assert_eq!(infer_task(many.view()), Task::Regression);
        let signed_zeros = Array1::from(vec![0.0, -0.0, 1.0, 1.0]);
        assert_eq!(infer_task(signed_zeros.view()), Task::Classification);
        // Whole numbers beyond the class-label rule (2^53) are not classes.
        let huge = Array1::from(vec![1e17, 0.0, 1e17, 0.0]);
        assert_eq!(infer_task(huge.view()), Task::Regression);
    }

    #[test]
    fn task_inference_in_chunks_matches_the_whole() {
        let labels = [
            Array1::from_iter((0..300).map(|i| (i % 26) as f64)),
            Array1::from_iter((0..353).map(|i| (25 + i % 191) as f64)),
            Array1::from_iter((0..1000).map(|i| (i % 101) as f64)),
            Array1::from_iter((0..40).map(|i| if i == 37 { 0.5 } else { 1.0 })),
        ];
        for y in &labels {
            let mut chunked = TaskInference::default();
            for chunk in y.as_slice().unwrap().chunks(7) {
                chunked.add(ndarray::ArrayView1::from(chunk));
            }
            assert_eq!(chunked.task(), infer_task(y.view()), "{y}");
        }
        let mut early = TaskInference::default();
        early.add(Array1::from(vec![1.0, 2.5]).view());
        assert!(early.settled());
    }

    #[test]
    fn names() {
        assert_eq!("regression".parse::<Task>().unwrap(), Task::Regression);
        assert_eq!(SolverKind::Svm.to_string(), "svm");
        assert!("lasso".parse::<SolverKind>().is_err());
    }
}

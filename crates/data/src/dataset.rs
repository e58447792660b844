//! The in-memory result of every reader: a dense feature matrix and a label vector.

use ndarray::{Array1, Array2};

use crate::error::DataError;

/// Rows of features `x` (one row per example, `n_rows x n_features`) and their labels `y`.
///
/// Readers only produce finite values. Class labels are stored as `f64` like regression targets;
/// [`is_integer_labels`](Dataset::is_integer_labels) and [`classes`](Dataset::classes) tell a
/// classifier what it is dealing with.
///
/// ```
/// use ndarray::array;
/// use rks_data::Dataset;
///
/// let d = Dataset::new(array![[1.0, 0.0], [0.5, 2.0], [0.0, 1.0]], array![1.0, 0.0, 1.0])?;
/// assert_eq!((d.n_rows(), d.n_features()), (3, 2));
/// assert!(d.is_integer_labels());
/// assert_eq!(d.classes()?, vec![0, 1]);
/// assert_eq!(d.class_counts()?, vec![(0, 1), (1, 2)]);
/// # Ok::<(), rks_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Features, one row per example.
    pub x: Array2<f64>,
    /// Labels or regression targets, one per row of `x`.
    pub y: Array1<f64>,
}

/// The largest magnitude of a class label: 2⁵³. Up to it every integer is an f64 of its own;
/// beyond it neighbouring integers share one f64, so two classes could not be told apart.
pub const MAX_CLASS_LABEL: f64 = 9_007_199_254_740_992.0;

/// The one rule for class labels, used by every crate: a finite whole number no larger in
/// magnitude than [`MAX_CLASS_LABEL`]. Returns it as an integer, `None` for anything else.
///
/// ```
/// assert_eq!(rks_data::class_label(7.0), Some(7));
/// assert_eq!(rks_data::class_label(-3.0), Some(-3));
/// assert_eq!(rks_data::class_label(0.5), None);
/// assert_eq!(rks_data::class_label(1e17), None);
/// assert_eq!(rks_data::class_label(f64::NAN), None);
/// ```
pub fn class_label(y: f64) -> Option<i64> {
    if y.fract() == 0.0 && y.abs() <= MAX_CLASS_LABEL {
        // Exact: y is an integer within ±2⁵³.
        Some(y as i64)
    } else {
        None
    }
}

fn as_class(y: f64) -> Option<i64> {
    class_label(y)
}

impl Dataset {
    /// A dataset from its parts; `x` must have one row per label.
    pub fn new(x: Array2<f64>, y: Array1<f64>) -> Result<Self, DataError> {
        if x.nrows() != y.len() {
            return Err(DataError::ShapeMismatch {
                x_rows: x.nrows(),
                y_len: y.len(),
            });
        }
        Ok(Dataset { x, y })
    }

    /// Number of examples (rows of `x`).
    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// Number of features (columns of `x`).
    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }

    /// True when every label is an integer that fits in `i64` (true for an empty dataset), so
    /// the labels can be read as classes.
    pub fn is_integer_labels(&self) -> bool {
        self.y.iter().all(|&v| as_class(v).is_some())
    }

    /// The distinct labels as integers, sorted ascending.
    ///
    /// Errors with [`DataError::NonIntegerLabel`] naming the first label that is not an integer
    /// (regression targets, say), rather than silently rounding it.
    pub fn classes(&self) -> Result<Vec<i64>, DataError> {
        Ok(self.class_counts()?.into_iter().map(|(c, _)| c).collect())
    }

    /// The distinct integer labels, sorted ascending, each with how many rows have it.
    pub fn class_counts(&self) -> Result<Vec<(i64, usize)>, DataError> {
        class_counts(&self.y)
    }
}

/// The distinct integer labels of `y`, sorted ascending, each with how many rows have it.
pub(crate) fn class_counts(y: &Array1<f64>) -> Result<Vec<(i64, usize)>, DataError> {
    let mut labels = y
        .iter()
        .enumerate()
        .map(|(row, &value)| as_class(value).ok_or(DataError::NonIntegerLabel { row, value }))
        .collect::<Result<Vec<i64>, _>>()?;
    labels.sort_unstable();
    let mut counts: Vec<(i64, usize)> = Vec::new();
    for c in labels {
        match counts.last_mut() {
            Some((last, n)) if *last == c => *n += 1,
            _ => counts.push((c, 1)),
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn with_labels(y: Array1<f64>) -> Dataset {
        let x = Array2::zeros((y.len(), 1));
        Dataset::new(x, y).unwrap()
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let e = Dataset::new(Array2::zeros((3, 2)), array![1.0, 2.0]).unwrap_err();
        assert_eq!(e.to_string(), "x has 3 rows but y has 2 labels");
    }

    #[test]
    fn classes_are_sorted_and_distinct() {
        let d = with_labels(array![3.0, -1.0, 3.0, 0.0, -1.0, 3.0]);
        assert!(d.is_integer_labels());
        assert_eq!(d.classes().unwrap(), vec![-1, 0, 3]);
        assert_eq!(d.class_counts().unwrap(), vec![(-1, 2), (0, 1), (3, 3)]);
    }

    #[test]
    fn negative_zero_is_class_zero() {
        let d = with_labels(array![-0.0, 0.0]);
        assert_eq!(d.class_counts().unwrap(), vec![(0, 2)]);
    }

    #[test]
    fn non_integer_labels_are_refused() {
        let d = with_labels(array![1.0, 2.5]);
        assert!(!d.is_integer_labels());
        let e = d.classes().unwrap_err();
        assert_eq!(
            e.to_string(),
            "label 2.5 of row 1 (0-based) is not an integer"
        );
    }

    #[test]
    fn labels_beyond_two_to_the_53_are_not_classes() {
        // ±2^53 are the largest integers with an f64 of their own; beyond, the one rule refuses
        // them (1e17 was accepted here once and refused by the solvers).
        assert_eq!(
            with_labels(array![-MAX_CLASS_LABEL, MAX_CLASS_LABEL])
                .classes()
                .unwrap(),
            vec![-(1i64 << 53), 1i64 << 53]
        );
        assert!(!with_labels(array![MAX_CLASS_LABEL + 2.0]).is_integer_labels());
        assert!(!with_labels(array![1e17]).is_integer_labels());
        assert!(!with_labels(array![f64::NAN]).is_integer_labels());
        assert!(!with_labels(array![f64::INFINITY]).is_integer_labels());
    }

    #[test]
    fn empty_dataset_has_no_classes() {
        let d = with_labels(Array1::zeros(0));
        assert!(d.is_integer_labels());
        assert!(d.classes().unwrap().is_empty());
    }
}

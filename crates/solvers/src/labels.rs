//! Class labels: any integer values in the training targets, mapped to 0..k−1 and back, and
//! their names when the training file gave names (a CSV label column of text).

use ndarray::{Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SolversError};

/// The sorted distinct class labels seen in training; class index i ↔ `classes()[i]`.
///
/// ```
/// use ndarray::array;
/// use rks_solvers::labels::LabelMap;
///
/// let (map, idx) = LabelMap::fit(array![7.0, -1.0, 7.0, 3.0].view()).unwrap();
/// assert_eq!(map.classes(), &[-1, 3, 7]);
/// assert_eq!(idx, vec![2, 0, 2, 1]);
/// assert_eq!(map.label(1), 3.0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelMap {
    classes: Vec<i64>,
    /// The name of each class when the labels were names coded 0..k−1 ([`with_names`](
    /// Self::with_names)); a model file stores them after its other parts.
    #[serde(skip)]
    names: Option<Vec<String>>,
}

/// The longest class name (or category) a model keeps, in bytes.
pub const MAX_CLASS_NAME_BYTES: usize = 4096;

impl LabelMap {
    /// Learns the classes from the training labels and returns each row's class index.
    ///
    /// Errors on an empty vector, non-finite or non-integer labels, and a single class.
    pub fn fit(y: ArrayView1<'_, f64>) -> Result<(Self, Vec<usize>)> {
        if y.is_empty() {
            return Err(SolversError::EmptyInput("no training labels".into()));
        }
        let ints = y
            .iter()
            .enumerate()
            .map(|(row, &v)| class_label(row, v))
            .collect::<Result<Vec<i64>>>()?;
        let mut classes = ints.clone();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            return Err(SolversError::OneClass(classes[0]));
        }
        let map = Self {
            classes,
            names: None,
        };
        let idx = ints.iter().map(|v| map.index_of(*v).unwrap_or(0)).collect();
        Ok((map, idx))
    }

    /// Builds a map from explicit classes (sorted and deduplicated here); needs at least two.
    pub fn from_classes(mut classes: Vec<i64>) -> Result<Self> {
        classes.sort_unstable();
        classes.dedup();
        match classes.len() {
            0 => Err(SolversError::EmptyInput("no classes".into())),
            1 => Err(SolversError::OneClass(classes[0])),
            _ => Ok(Self {
                classes,
                names: None,
            }),
        }
    }

    /// The same classes with names: the labels are names coded 0, 1, …, k−1 (as a CSV label
    /// column of text is read), and `names[i]` is class i's. Errors unless the classes are
    /// exactly 0..k−1 with k names, distinct, not empty and at most
    /// [`MAX_CLASS_NAME_BYTES`] long.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_solvers::labels::LabelMap;
    ///
    /// let (map, _) = LabelMap::fit(array![1.0, 0.0, 1.0].view()).unwrap();
    /// let named = map.with_names(vec!["yes".into(), "no".into()]).unwrap();
    /// assert_eq!(named.name(1.0), Some("no"));
    /// assert!(named.clone().with_names(vec!["yes".into()]).is_err());
    /// ```
    pub fn with_names(mut self, names: Vec<String>) -> Result<Self> {
        let problem = if names.len() != self.classes.len()
            || self.classes.iter().enumerate().any(|(i, &c)| c != i as i64)
        {
            Some(format!(
                "{} names for the classes {:?}: the labels must be the names' codes 0..k−1",
                names.len(),
                &self.classes[..self.classes.len().min(8)]
            ))
        } else {
            names_problem(&names, "class name")
        };
        match problem {
            Some(reason) => Err(crate::error::invalid(
                crate::error::Param::ClassNames,
                reason,
            )),
            None => {
                self.names = Some(names);
                Ok(self)
            }
        }
    }

    /// The class names, class i's at i, when the labels were names.
    pub fn names(&self) -> Option<&[String]> {
        self.names.as_deref()
    }

    /// The name of the class whose label is `label` (a prediction), when the classes have
    /// names and `label` is one of them.
    pub fn name(&self, label: f64) -> Option<&str> {
        let names = self.names.as_ref()?;
        let code = rks_data::class_label(label)?;
        names.get(usize::try_from(code).ok()?).map(String::as_str)
    }

    /// The class labels, sorted.
    pub fn classes(&self) -> &[i64] {
        &self.classes
    }

    /// Number of classes k.
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }

    /// The index of a label, if it is one of the training classes.
    pub fn index_of(&self, label: i64) -> Option<usize> {
        self.classes.binary_search(&label).ok()
    }

    /// The label of class index `i` as f64 (NaN for an index out of range).
    pub fn label(&self, i: usize) -> f64 {
        self.classes.get(i).map_or(f64::NAN, |&c| c as f64)
    }

    /// The class index of each label of `y`; row numbers in errors are positions in `y`.
    /// Errors on a label that is not a class integer ([`class_label`]) or not one of the classes.
    pub fn indices(&self, y: ArrayView1<'_, f64>) -> Result<Vec<usize>> {
        y.iter()
            .enumerate()
            .map(|(row, &v)| {
                self.index_of(class_label(row, v)?)
                    .ok_or(SolversError::NonIntegerLabel { row, value: v })
            })
            .collect()
    }

    /// Checks that the classes are sorted, distinct and at least two (for loaded models).
    pub fn validate(&self) -> Result<()> {
        let ok = self.classes.len() >= 2 && self.classes.windows(2).all(|w| w[0] < w[1]);
        if ok {
            Ok(())
        } else {
            Err(SolversError::CorruptModel(
                "class labels must be at least two distinct sorted values".into(),
            ))
        }
    }
}

/// What is wrong with a list of names (class names, a column's categories), if anything: an
/// empty name, one longer than [`MAX_CLASS_NAME_BYTES`], or one twice.
pub(crate) fn names_problem(names: &[String], what: &str) -> Option<String> {
    if let Some(n) = names
        .iter()
        .find(|n| n.is_empty() || n.len() > MAX_CLASS_NAME_BYTES)
    {
        return Some(format!(
            "a {what} of {} bytes (1 to {MAX_CLASS_NAME_BYTES})",
            n.len()
        ));
    }
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort_unstable();
    sorted
        .windows(2)
        .find(|w| w[0] == w[1])
        .map(|w| format!("the {what} '{}' twice", w[0]))
}

/// The one rule for class labels ([`rks_data::class_label`]: a finite integer no larger in
/// magnitude than 2⁵³), with an error that names the row: non-finite values as such, anything
/// else as a non-integer label.
pub fn class_label(row: usize, v: f64) -> Result<i64> {
    if !v.is_finite() {
        return Err(SolversError::NonFinite {
            what: "target",
            row,
            col: 0,
            value: v,
        });
    }
    rks_data::class_label(v).ok_or(SolversError::NonIntegerLabel { row, value: v })
}

/// Ridge-classification targets: +1 for the row's class and −1 elsewhere (scikit-learn's
/// `RidgeClassifier` coding). Two classes use a single column (+1 for class 1, −1 for class 0).
pub fn signed_one_hot(classes: &[usize], n_classes: usize) -> Array2<f64> {
    let columns = if n_classes == 2 { 1 } else { n_classes };
    Array2::from_shape_fn((classes.len(), columns), |(i, k)| {
        let positive = if n_classes == 2 {
            classes[i] == 1
        } else {
            classes[i] == k
        };
        if positive { 1.0 } else { -1.0 }
    })
}

/// Per-class decision values (rows × k) from a model's raw outputs: binary models have one
/// output f, which becomes the columns [−f, f] so argmax works the same for every k.
pub fn class_scores(raw: Array2<f64>, n_classes: usize) -> Array2<f64> {
    if n_classes == 2 && raw.ncols() == 1 {
        Array2::from_shape_fn((raw.nrows(), 2), |(i, k)| {
            if k == 1 { raw[[i, 0]] } else { -raw[[i, 0]] }
        })
    } else {
        raw
    }
}

/// Index of the largest value of each row (first one on ties).
pub fn argmax_rows(scores: &Array2<f64>) -> Vec<usize> {
    scores
        .rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (k, v) in row.iter().enumerate() {
                if *v > row[best] {
                    best = k;
                }
            }
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn bad_labels_are_typed_errors() {
        assert!(matches!(
            LabelMap::fit(array![1.0, 2.5].view()),
            Err(SolversError::NonIntegerLabel { row: 1, .. })
        ));
        assert!(matches!(
            LabelMap::fit(array![4.0, 4.0].view()),
            Err(SolversError::OneClass(4))
        ));
        assert!(matches!(
            LabelMap::fit(array![0.0, f64::NAN].view()),
            Err(SolversError::NonFinite { row: 1, .. })
        ));
        assert!(matches!(
            LabelMap::fit(ndarray::Array1::<f64>::zeros(0).view()),
            Err(SolversError::EmptyInput(_))
        ));
    }

    #[test]
    fn one_hot_and_scores() {
        assert_eq!(signed_one_hot(&[1, 0], 2), array![[1.0], [-1.0]]);
        assert_eq!(
            signed_one_hot(&[2, 0], 3),
            array![[-1.0, -1.0, 1.0], [1.0, -1.0, -1.0]]
        );
        let scores = class_scores(array![[0.5], [-2.0]], 2);
        assert_eq!(argmax_rows(&scores), vec![1, 0]);
    }
}

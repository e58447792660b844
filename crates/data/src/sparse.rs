//! Rows held as their non-zero entries: the form of wide, sparse files (text as bags of words,
//! LIBSVM's own format), whose dense matrix may not fit in memory at all.
//!
//! A [`SparseDataset`] is compressed sparse rows (CSR): row i's entries are
//! `columns()[offsets()[i]..offsets()[i + 1]]` with their `values()`, by strictly increasing
//! column, every value finite and non-zero. [`libsvm::read_sparse_path`](crate::libsvm::read_sparse_path)
//! reads one; [`SparseDataset::to_dense`] lays it out dense when that fits.
//!
//! ```
//! use ndarray::array;
//! use rks_data::SparseDataset;
//!
//! // Two rows of four columns: [0, 2, 0, 1] and [3, 0, 0, 0].
//! let data = SparseDataset::new(4, vec![0, 2, 3], vec![1, 3, 0], vec![2.0, 1.0, 3.0], array![1.0, 0.0])?;
//! assert_eq!((data.n_rows(), data.n_features(), data.non_zeros()), (2, 4, 3));
//! assert_eq!(data.row(0), (&[1u32, 3][..], &[2.0, 1.0][..]));
//! assert_eq!(data.to_dense()?.x, array![[0.0, 2.0, 0.0, 1.0], [3.0, 0.0, 0.0, 0.0]]);
//! # Ok::<(), rks_data::DataError>(())
//! ```

use ndarray::Array1;

use crate::dataset::{Dataset, class_counts};
use crate::error::{ColumnRef, DataError};

/// Labelled rows held as their non-zero entries (compressed sparse rows); see the
/// [module documentation](self).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseDataset {
    n_features: usize,
    offsets: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<f64>,
    /// Labels or regression targets, one per row.
    pub y: Array1<f64>,
}

/// The name used for a sparse dataset in the errors of [`SparseDataset::to_dense`].
const NAME: &str = "sparse rows";

impl SparseDataset {
    /// A dataset from its parts: `offsets` has one more entry than `y` (starting at 0, never
    /// decreasing, ending at the number of entries); each row's `columns` strictly increase and
    /// are below `n_features`; every value is finite and non-zero, every label finite.
    pub fn new(
        n_features: usize,
        offsets: Vec<usize>,
        columns: Vec<u32>,
        values: Vec<f64>,
        y: Array1<f64>,
    ) -> Result<Self, DataError> {
        let bad = |what: String| Err(DataError::InvalidArgument(format!("sparse rows: {what}")));
        if offsets.len() != y.len() + 1 {
            return Err(DataError::ShapeMismatch {
                x_rows: offsets.len().saturating_sub(1),
                y_len: y.len(),
            });
        }
        if columns.len() != values.len() {
            return bad(format!(
                "{} columns for {} values",
                columns.len(),
                values.len()
            ));
        }
        if offsets[0] != 0 || offsets[offsets.len() - 1] != values.len() {
            return bad(format!(
                "the offsets run from {} to {}, not from 0 to the {} entries",
                offsets[0],
                offsets[offsets.len() - 1],
                values.len()
            ));
        }
        if let Some(row) = offsets.windows(2).position(|pair| pair[0] > pair[1]) {
            return bad(format!("the offsets decrease at row {row}"));
        }
        for (row, pair) in offsets.windows(2).enumerate() {
            let mut previous: Option<u32> = None;
            for (&c, &v) in columns[pair[0]..pair[1]]
                .iter()
                .zip(&values[pair[0]..pair[1]])
            {
                if c as usize >= n_features {
                    return bad(format!(
                        "row {row} has column {c} (0-based) of {n_features}"
                    ));
                }
                if previous.is_some_and(|p| p >= c) {
                    return bad(format!("row {row}'s columns do not increase at {c}"));
                }
                if !v.is_finite() {
                    return Err(DataError::NonFinite {
                        row,
                        column: ColumnRef::Feature(c as usize),
                        value: v,
                    });
                }
                if v == 0.0 {
                    return bad(format!("row {row} stores a zero at column {c}"));
                }
                previous = Some(c);
            }
        }
        if let Some((row, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DataError::NonFinite {
                row,
                column: ColumnRef::Label,
                value,
            });
        }
        Ok(Self {
            n_features,
            offsets,
            columns,
            values,
            y,
        })
    }

    /// The non-zero entries of a dense dataset's rows.
    pub fn from_dense(data: &Dataset) -> Result<Self, DataError> {
        let mut offsets = vec![0];
        let (mut columns, mut values) = (Vec::new(), Vec::new());
        let too_wide = || DataError::TooLarge {
            file: NAME.to_owned(),
            rows: data.n_rows(),
            cols: data.n_features(),
        };
        u32::try_from(data.n_features()).map_err(|_| too_wide())?;
        for row in data.x.rows() {
            for (c, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                columns.push(c as u32);
                values.push(v);
            }
            offsets.push(values.len());
        }
        Self::new(data.n_features(), offsets, columns, values, data.y.clone())
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.y.len()
    }

    /// The rows `rows` (indices below [`n_rows`](Self::n_rows), in that order) as a dataset of
    /// their own.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_data::SparseDataset;
    /// let data = SparseDataset::new(4, vec![0, 1, 3, 4], vec![0, 1, 3, 2], vec![1.0, 2.0, 3.0, 4.0], array![0.0, 1.0, 2.0])?;
    /// let picked = data.pick(&[2, 0]);
    /// assert_eq!(picked.row(0), (&[2][..], &[4.0][..]));
    /// assert_eq!(picked.y, array![2.0, 0.0]);
    /// # Ok::<(), rks_data::DataError>(())
    /// ```
    pub fn pick(&self, rows: &[usize]) -> Self {
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        offsets.push(0);
        let (mut columns, mut values) = (Vec::new(), Vec::new());
        for &i in rows {
            let (c, v) = self.row(i);
            columns.extend_from_slice(c);
            values.extend_from_slice(v);
            offsets.push(columns.len());
        }
        SparseDataset {
            n_features: self.n_features,
            offsets,
            columns,
            values,
            y: rows.iter().map(|&i| self.y[i]).collect(),
        }
    }

    /// Number of columns (features), zero ones included.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of entries held (the non-zero values).
    pub fn non_zeros(&self) -> usize {
        self.values.len()
    }

    /// Where each row's entries start, and (last) where the entries end.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The 0-based column of every entry.
    pub fn columns(&self) -> &[u32] {
        &self.columns
    }

    /// The value of every entry.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Row i's columns and values.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let range = self.offsets[i]..self.offsets[i + 1];
        (&self.columns[range.clone()], &self.values[range])
    }

    /// The distinct integer labels, sorted ascending, each with how many rows have it (as
    /// [`Dataset::class_counts`]).
    pub fn class_counts(&self) -> Result<Vec<(i64, usize)>, DataError> {
        class_counts(&self.y)
    }

    /// The rows laid out dense, or [`DataError::OutOfMemory`] / [`DataError::TooLarge`] before
    /// any allocation when that matrix would take more than half the memory available.
    pub fn to_dense(&self) -> Result<Dataset, DataError> {
        let (rows, cols) = (self.n_rows(), self.n_features);
        crate::text::check_dense(NAME, rows, cols, crate::text::available_bytes())?;
        let mut x = crate::text::zeros(NAME, rows, cols)?;
        for (i, dense) in x.chunks_exact_mut(cols.max(1)).enumerate().take(rows) {
            let (columns, values) = self.row(i);
            for (&c, &v) in columns.iter().zip(values) {
                dense[c as usize] = v;
            }
        }
        let x =
            ndarray::Array2::from_shape_vec((rows, cols), x).map_err(|_| DataError::TooLarge {
                file: NAME.to_owned(),
                rows,
                cols,
            })?;
        Dataset::new(x, self.y.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn small() -> Dataset {
        Dataset::new(
            array![[0.0, 1.5, 0.0], [0.0, 0.0, 0.0], [-2.0, 0.0, 4.0]],
            array![1.0, 0.0, 1.0],
        )
        .unwrap()
    }

    #[test]
    fn dense_rows_go_there_and_back() {
        let dense = small();
        let sparse = SparseDataset::from_dense(&dense).unwrap();
        assert_eq!(sparse.offsets(), &[0, 1, 1, 3]);
        assert_eq!(sparse.columns(), &[1, 0, 2]);
        assert_eq!(sparse.values(), &[1.5, -2.0, 4.0]);
        assert_eq!(sparse.row(1), (&[][..], &[][..]));
        assert_eq!(sparse.to_dense().unwrap(), dense);
        assert_eq!(sparse.class_counts().unwrap(), vec![(0, 1), (1, 2)]);
    }

    #[test]
    fn malformed_parts_are_errors() {
        let y = || array![1.0, 0.0];
        let cases = [
            (
                vec![0, 1],
                vec![0],
                vec![1.0],
                "x has 1 rows but y has 2 labels",
            ),
            (
                vec![0, 1, 2],
                vec![0],
                vec![1.0, 2.0],
                "1 columns for 2 values",
            ),
            (vec![1, 1, 1], vec![0], vec![1.0], "the offsets run from 1"),
            (
                vec![0, 2, 1],
                vec![0],
                vec![1.0],
                "the offsets decrease at row 1",
            ),
            (vec![0, 1, 1], vec![3], vec![1.0], "column 3 (0-based) of 3"),
            (vec![0, 2, 2], vec![1, 1], vec![1.0, 2.0], "do not increase"),
            (vec![0, 1, 1], vec![0], vec![0.0], "stores a zero"),
            (vec![0, 1, 1], vec![0], vec![f64::NAN], "not finite"),
        ];
        for (offsets, columns, values, want) in cases {
            let columns: Vec<u32> = columns;
            let e = SparseDataset::new(3, offsets.clone(), columns, values, y()).unwrap_err();
            assert!(
                e.to_string().contains(want),
                "{offsets:?}: {e} (wanted {want})"
            );
        }
        let e = SparseDataset::new(3, vec![0, 0, 0], vec![], vec![], array![1.0, f64::INFINITY])
            .unwrap_err();
        assert!(matches!(e, DataError::NonFinite { row: 1, .. }), "{e}");
    }

    #[test]
    fn decreasing_offsets_are_an_error() {
        let e = SparseDataset::new(
            3,
            vec![0, 2, 1, 2],
            vec![0, 1],
            vec![1.0, 1.0],
            array![1.0, 0.0, 1.0],
        )
        .unwrap_err();
        assert!(e.to_string().contains("decrease at row 1"), "{e}");
    }
}

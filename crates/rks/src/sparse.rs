//! Rows as their non-zero entries, for the sums over pairs of rows that the median heuristic
//! and Nyström's kernel values make: on sparse data (text, one-hot columns) a pair costs
//! O(non-zeros) instead of O(d).
//!
//! Two forms:
//! - **a pair at a time, merged** ([`SparseRows`], [`differences`]; the median heuristic's
//!   pairs): the sum keeps the bits of its dense form. The dense loops add one term per column,
//!   in column order, from Rust's float sum's start −0.0; the merge adds the same terms in the
//!   same order except where both rows are zero. Those terms are exact zeros ((0 − 0)² and
//!   |0 − 0| are +0), and adding +0 leaves any sum of non-negative terms unchanged but for the
//!   sign of an all-zero sum (−0.0 + 0 = +0): so a sum of squares or of absolute values is bit for
//!   bit the same, and an all-zero one is a zero of either sign.
//! - **one row against many, by column** ([`ByColumn`]; Nyström's kernel values against its
//!   landmarks): ‖x − y‖² = ‖x‖² + ‖y‖² − 2·xᵀy, and ‖x − y‖₁ = ‖x‖₁ + ‖y‖₁ + Σ (|x_c − y_c| −
//!   |x_c| − |y_c|) over the columns where both are non-zero. The many rows are held by column
//!   (each column's non-zero entries, as an inverted index holds documents by word), so x's
//!   non-zero entries visit only the rows that share their columns: a row against m rows costs
//!   the shared entries and m additions, where a merge costs m·(both rows' non-zeros) steps
//!   whose branches follow the random interleaving of two rows' columns (on 12,454 passages of
//!   text, 38 non-zeros among 8,560 columns a row, the merges were 42 % of a default fit's CPU
//!   time). Its bits are not the dense sum's: the cancellation in the difference leaves an error
//!   of a few roundings of ‖x‖² + ‖y‖² (a sum below zero is taken as zero; a pair whose norms
//!   overflow, entries near the largest float, is merged as above). Each sum is a
//!   function of the two rows alone, added in a fixed order (x's entries by increasing column),
//!   so it is the same for any thread count, symmetric (the sum for (x, y) has the bits of the
//!   one for (y, x)) and exactly zero for y = x.

/// A row's non-zero entries, as `(column, value)` by increasing column.
pub(crate) fn non_zeros(row: impl IntoIterator<Item = f64>) -> Vec<(usize, f64)> {
    row.into_iter()
        .enumerate()
        .filter(|&(_, v)| v != 0.0)
        .collect()
}

/// True when at most one in sixteen of the `total` entries is non-zero: where the sparse forms
/// are taken. Measured for the merge, whose branches cost more per entry than the dense loop's
/// sum: on MNIST digits (19 % non-zero) merging made the default fit 31 % slower (104 → 137 CPU
/// s), while at 0.1 % non-zero it is about 13 times faster. The by-column form, cheaper per
/// entry, kept the same threshold: moving it would change the kernel values' bits, and so the
/// models, of denser sets.
pub fn is_sparse(non_zeros: usize, total: usize) -> bool {
    non_zeros.saturating_mul(16) <= total
}

/// Rows held as their non-zero entries, made only when the rows are sparse ([`is_sparse`]).
#[derive(Debug, Clone)]
pub(crate) struct SparseRows(Vec<Vec<(usize, f64)>>);

impl SparseRows {
    /// The `count` rows `row(0)`, …, `row(count − 1)`, each of `width` values, as entries when
    /// they are sparse (the non-zeros are counted first, so dense rows cost no copy); else `None`.
    pub(crate) fn of<I: Iterator<Item = f64>>(
        count: usize,
        width: usize,
        row: impl Fn(usize) -> I,
    ) -> Option<Self> {
        let counted: usize = (0..count)
            .map(|r| row(r).filter(|&v| v != 0.0).count())
            .sum();
        is_sparse(counted, count.saturating_mul(width))
            .then(|| Self((0..count).map(|r| non_zeros(row(r))).collect()))
    }

    /// Row r's entries.
    pub(crate) fn row(&self, r: usize) -> &[(usize, f64)] {
        &self.0[r]
    }

    /// The rows' entries, in order.
    pub(crate) fn rows(&self) -> impl Iterator<Item = &[(usize, f64)]> {
        self.0.iter().map(Vec::as_slice)
    }
}

/// Rows held by column ([module docs](self)): for each column, the rows with a non-zero entry
/// there and their values, by increasing row; and each row's norm, ‖y‖₁ or ‖y‖² (the kernel
/// decides which distance the sums are).
#[derive(Debug, Clone)]
pub(crate) struct ByColumn {
    /// Column c's entries are `entries[starts[c]..starts[c + 1]]`.
    starts: Vec<usize>,
    /// (row, value).
    entries: Vec<(usize, f64)>,
    /// L1 distances (Σ |x_c − y_c|) when true, else squared Euclidean ones.
    absolute: bool,
    /// Σ term(y_c) per row (|y_c| or y_c²), over its entries by increasing column from −0.0.
    norms: Vec<f64>,
    /// The rows themselves, for the pairs whose sum by column overflows.
    rows: SparseRows,
}

impl ByColumn {
    /// The rows of `rows`, each of `width` columns, held by column for L1 distances when
    /// `absolute`, else for squared Euclidean ones.
    pub(crate) fn of(rows: SparseRows, width: usize, absolute: bool) -> Self {
        let mut starts = vec![0; width + 1];
        for row in rows.rows() {
            for &(c, _) in row {
                starts[c + 1] += 1;
            }
        }
        for c in 0..width {
            starts[c + 1] += starts[c];
        }
        let mut next = starts.clone();
        let mut entries = vec![(0, 0.0); starts[width]];
        for (r, row) in rows.rows().enumerate() {
            for &(c, v) in row {
                entries[next[c]] = (r, v);
                next[c] += 1;
            }
        }
        let term = Self::term(absolute);
        let norms = rows
            .rows()
            .map(|row| row.iter().map(|&(_, v)| term(v)).sum::<f64>())
            .collect();
        Self {
            starts,
            entries,
            absolute,
            norms,
            rows,
        }
    }

    /// A column's term of the distance: |t| or t².
    fn term(absolute: bool) -> fn(f64) -> f64 {
        if absolute { f64::abs } else { |t| t * t }
    }

    /// The number of rows held.
    pub(crate) fn len(&self) -> usize {
        self.norms.len()
    }

    /// Into `out` (one per row held): ‖x − y‖₁ or ‖x − y‖² of the row x given by its non-zero
    /// entries (by increasing column, every column below the width).
    ///
    /// Where the sum by column is not finite (entries near the largest float, whose norms or
    /// products overflow: ∞ − ∞), the pair is merged instead ([`differences`]): the dense
    /// sum's value, ∞ where the distance itself overflows.
    pub(crate) fn distances(&self, x: &[(usize, f64)], out: &mut [f64]) {
        debug_assert_eq!(out.len(), self.len());
        out.fill(0.0);
        // Σ over the shared columns, added into each row's sum in x's column order: of
        // |u − v| − (|u| + |v|), or of u·v, then scaled by −2 (exactly).
        let shared = |out: &mut [f64], pair: fn(f64, f64) -> f64| {
            for &(c, u) in x {
                for &(r, v) in &self.entries[self.starts[c]..self.starts[c + 1]] {
                    out[r] += pair(u, v);
                }
            }
        };
        let scale = if self.absolute {
            shared(out, |u, v| (u - v).abs() - (u.abs() + v.abs()));
            1.0
        } else {
            shared(out, |u, v| u * v);
            -2.0
        };
        let term = Self::term(self.absolute);
        let norm_x = x.iter().map(|&(_, u)| term(u)).sum::<f64>();
        for (r, (o, &norm_y)) in out.iter_mut().zip(&self.norms).enumerate() {
            let sum = (norm_x + norm_y) + scale * *o;
            *o = if sum.is_finite() {
                sum.max(0.0)
            } else {
                differences(x, self.rows.row(r)).map(term).sum()
            };
        }
    }
}

/// The differences x_c − y_c of two rows given by their non-zero entries, over the columns
/// where either is non-zero, by increasing column: what the dense difference `x[c] - y[c]`
/// gives there (x_c − 0 = x_c and 0 − y_c = −y_c exactly).
pub(crate) fn differences<'a>(
    x: &'a [(usize, f64)],
    y: &'a [(usize, f64)],
) -> impl Iterator<Item = f64> + 'a {
    let (mut p, mut q) = (x.iter().peekable(), y.iter().peekable());
    std::iter::from_fn(move || match (p.peek(), q.peek()) {
        (Some(&&(i, u)), Some(&&(j, v))) if i == j => {
            p.next();
            q.next();
            Some(u - v)
        }
        (Some(&&(i, u)), Some(&&(j, _))) if i < j => {
            p.next();
            Some(u)
        }
        (_, Some(&&(_, v))) => {
            q.next();
            Some(-v)
        }
        (Some(&&(_, u)), None) => {
            p.next();
            Some(u)
        }
        (None, None) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mostly zero rows, with negative values, −0.0 and a shared column: the merged sums of
    /// squares and of absolute values have the dense sums' bits (or are zeros of either sign).
    #[test]
    fn merged_sums_have_the_dense_bits() {
        let rows: Vec<Vec<f64>> = (0..40)
            .map(|i| {
                (0..50)
                    .map(|j| {
                        let h = ((i * 50 + j) as u64 + 7).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
                        match (i % 7 == 0, h % 10) {
                            (true, _) => [0.0, 1.5][j % 2], // rows 0, 7, 14, …: identical
                            (_, 0) => (h % 1000) as f64 / 7.0 - 70.0,
                            (_, 1) => -0.0,
                            _ => 0.0,
                        }
                    })
                    .collect()
            })
            .collect();
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0);
        for x in &rows {
            for y in &rows {
                let dense = || x.iter().zip(y).map(|(u, v)| u - v);
                let (ex, ey) = (non_zeros(x.iter().copied()), non_zeros(y.iter().copied()));
                let merged = || differences(&ex, &ey);
                let squares = |d: &mut dyn Iterator<Item = f64>| d.map(|t| t * t).sum::<f64>();
                let absolute = |d: &mut dyn Iterator<Item = f64>| d.map(f64::abs).sum::<f64>();
                assert!(same(squares(&mut dense()), squares(&mut merged())));
                assert!(same(absolute(&mut dense()), absolute(&mut merged())));
            }
        }
        assert!(is_sparse(6, 100) && !is_sparse(7, 100));
        let rows = |r: usize| rows[r].iter().copied();
        assert!(SparseRows::of(40, 50, rows).is_none()); // about 16 % non-zero
        let sparse = SparseRows::of(40, 50, |r| {
            rows(r).map(move |v| if r % 10 == 0 { v } else { 0.0 })
        });
        let sparse = sparse.expect("four rows kept: 5 % non-zero or less");
        assert_eq!(sparse.row(10), non_zeros(rows(10)).as_slice());
        assert!(sparse.row(1).is_empty() && sparse.rows().count() == 40);
    }
}

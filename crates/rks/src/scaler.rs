//! The input standardiser: per-column statistics learned from training rows, applied to any rows.
//!
//! Random-feature maps assume the columns are on comparable scales (one bandwidth σ for all of
//! them), so every model in this project scales its inputs with a [`Scaler`] learned on the
//! training rows and stored with the model.
//!
//! Statistics can be gathered in one call ([`Scaler::fit`]) or streamed chunk by chunk
//! ([`ScalerStats::update`], [`ScalerStats::merge`]) so a file larger than memory can be scaled.
//! Means and variances are combined with the pairwise formula of Chan, Golub & LeVeque (1979),
//! which stays accurate where the naive Σx² − (Σx)²/n does not.
//!
//! Every finite input is scaled to a finite output. A column whose values reach 2⁴⁰⁰ in
//! magnitude would overflow its sum, its squared deviations or its range (values near ±1e308
//! overflow all three), so its statistics are kept in units of a power of two u ≥ 1 chosen from
//! its largest magnitude: the sum of squared deviations stored is Σ((x − mean)/u)², and its
//! mean and merges are computed on x/u. Dividing by a power of two is exact, and u = 1 for every
//! column below 2⁴⁰⁰, whose statistics are computed exactly as the plain formulas say.

use crate::error::Param;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use crate::vocabulary::Named;
use crate::{Element, RksError};

/// How columns are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ScalerKind {
    /// z-score: (x − mean) / std, with the population standard deviation.
    #[default]
    Standard,
    /// Min–max to [0, 1] on the training rows: (x − min) / (max − min); later rows are not clipped.
    MinMax,
    /// Each column divided by its largest magnitude on the training rows, x / max |x|, to
    /// [−1, 1]; nothing is shifted, so zeros stay zero (the scaling for sparse rows, as
    /// scikit-learn's `MaxAbsScaler`). On non-negative columns with a zero it equals min–max.
    MaxAbs,
    /// Leave the columns as they are.
    Identity,
}

impl ScalerKind {
    /// Every scaling.
    pub const ALL: [ScalerKind; 4] = [
        ScalerKind::Standard,
        ScalerKind::MinMax,
        ScalerKind::MaxAbs,
        ScalerKind::Identity,
    ];
}

impl Named for ScalerKind {
    const WHAT: &'static str = "scaler";
    const ALL: &'static [Self] = &ScalerKind::ALL;

    fn name(&self) -> &'static str {
        match self {
            ScalerKind::Standard => "standard",
            ScalerKind::MinMax => "minmax",
            ScalerKind::MaxAbs => "maxabs",
            ScalerKind::Identity => "none",
        }
    }

    fn help(&self) -> &'static str {
        match self {
            ScalerKind::Standard => "z-score: (x − mean) / std of the training rows",
            ScalerKind::MinMax => "Min–max to [0, 1] on the training rows",
            ScalerKind::MaxAbs => {
                "x / max |x| of the training rows: zeros stay zero (sparse rows stay sparse)"
            }
            ScalerKind::Identity => "No scaling",
        }
    }
}

crate::named_choice!(ScalerKind);

/// Running per-column statistics (count, mean, sum of squared deviations, min, max). The sum of
/// squared deviations is in units of `unit(min, max)` squared (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalerStats {
    count: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
}

impl ScalerStats {
    /// Empty statistics for rows of `dim` columns.
    pub fn new(dim: usize) -> Self {
        Self {
            count: 0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim],
            min: vec![f64::INFINITY; dim],
            max: vec![f64::NEG_INFINITY; dim],
        }
    }

    /// Number of columns.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Number of rows seen so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds the rows of `x` (which must be finite and have [`dim`](Self::dim) columns).
    pub fn update<F: Element>(&mut self, x: ArrayView2<'_, F>) -> Result<(), RksError> {
        check_columns(self.dim(), x.ncols())?;
        check_finite(x)?;
        if x.nrows() == 0 {
            return Ok(());
        }
        let mut chunk = Self::new(self.dim());
        chunk.count = x.nrows() as u64;
        let n = x.nrows() as f64;
        // Three passes row by row (rows are contiguous; a column's stride is d values), each
        // column's values taken in row order: its minimum and maximum, then the sum of x/u, then
        // of the squared deviations. Sums start from −0.0, as Rust's float `sum` does.
        for row in x.rows() {
            for ((v, lo), hi) in row.iter().zip(&mut chunk.min).zip(&mut chunk.max) {
                let v = v.to_f64_exact();
                (*lo, *hi) = (lo.min(v), hi.max(v));
            }
        }
        let units: Vec<f64> = chunk
            .min
            .iter()
            .zip(&chunk.max)
            .map(|(&lo, &hi)| unit(lo, hi))
            .collect();
        let mut sums = vec![-0.0; self.dim()];
        for row in x.rows() {
            for ((v, sum), &u) in row.iter().zip(&mut sums).zip(&units) {
                *sum += v.to_f64_exact() / u;
            }
        }
        for (j, &u) in units.iter().enumerate() {
            // The mean of x/u lies within [min, max]/u, so scaling it back cannot overflow.
            let mut mean = sums[j] / n * u;
            if u != 1.0 {
                mean = mean.clamp(chunk.min[j], chunk.max[j]);
            }
            chunk.mean[j] = mean;
        }
        chunk.m2.fill(-0.0);
        for row in x.rows() {
            for (((v, m2), &u), &mean) in row.iter().zip(&mut chunk.m2).zip(&units).zip(&chunk.mean)
            {
                let deviation = v.to_f64_exact() / u - mean / u;
                *m2 += deviation * deviation;
            }
        }
        self.merge(&chunk)
    }

    /// Combines the statistics of another set of rows into these.
    pub fn merge(&mut self, other: &ScalerStats) -> Result<(), RksError> {
        check_columns(self.dim(), other.dim())?;
        if other.count == 0 {
            return Ok(());
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        for j in 0..self.dim() {
            let (min, max) = (self.min[j].min(other.min[j]), self.max[j].max(other.max[j]));
            let u = unit(min, max);
            // Both sums of squares in units of u (exact rescaling by powers of two).
            let rescale =
                |m2: f64, lo: f64, hi: f64| m2 * ((unit(lo, hi) / u) * (unit(lo, hi) / u));
            let m2a = rescale(self.m2[j], self.min[j], self.max[j]);
            let m2b = rescale(other.m2[j], other.min[j], other.max[j]);
            let delta = other.mean[j] / u - self.mean[j] / u;
            self.mean[j] = if u == 1.0 {
                self.mean[j] + delta * nb / n
            } else {
                // A weighted average cannot overflow where mean + delta·nb/n can.
                (((self.mean[j] / u) * (na / n) + (other.mean[j] / u) * (nb / n)) * u)
                    .clamp(min, max)
            };
            self.m2[j] = m2a + (m2b + delta * delta * na * nb / n);
            (self.min[j], self.max[j]) = (min, max);
        }
        self.count += other.count;
        Ok(())
    }

    /// The scaler these statistics define. Constant columns are shifted but not stretched; a
    /// column is constant when its spread (range or standard deviation) is within rounding of
    /// its largest magnitude, whatever its units (a column of values around 10⁻²⁰ that varies is
    /// stretched like any other), or too small for its inverse to be finite.
    pub fn finish(&self, kind: ScalerKind) -> Result<Scaler, RksError> {
        if self.count == 0 {
            return Err(RksError::InvalidParameter {
                name: Param::Rows,
                reason: "cannot learn scaling statistics from zero rows".into(),
            });
        }
        let dim = self.dim();
        let (offset, scale) = match kind {
            ScalerKind::Identity => (vec![0.0; dim], vec![1.0; dim]),
            ScalerKind::Standard => {
                let scale = (0..dim).map(|j| {
                    // std = u·√(m2/n): its inverse without forming a product that could overflow.
                    let u = unit(self.min[j], self.max[j]);
                    let std_in_units = (self.m2[j] / self.count as f64).sqrt();
                    let largest = self.min[j].abs().max(self.max[j].abs());
                    // u ≥ 1: with 1/std_in_units finite, so is 1/std.
                    if varies(std_in_units, largest / u) {
                        1.0 / std_in_units / u
                    } else {
                        1.0
                    }
                });
                (self.mean.clone(), scale.collect())
            }
            ScalerKind::MinMax => {
                let scale = self.min.iter().zip(&self.max).map(|(&lo, &hi)| {
                    let range = hi - lo;
                    if !range.is_finite() {
                        // The range overflows: 1/(hi − lo) = ½/(hi/2 − lo/2), halving exactly.
                        0.5 / (hi * 0.5 - lo * 0.5)
                    } else if varies(range, lo.abs().max(hi.abs())) {
                        1.0 / range
                    } else {
                        1.0
                    }
                });
                (self.min.clone(), scale.collect())
            }
            ScalerKind::MaxAbs => {
                let scale = self.min.iter().zip(&self.max).map(|(&lo, &hi)| {
                    let largest = lo.abs().max(hi.abs());
                    if varies(largest, largest) {
                        1.0 / largest
                    } else {
                        1.0
                    }
                });
                (vec![0.0; dim], scale.collect())
            }
        };
        Ok(Scaler {
            kind,
            offset,
            scale,
        })
    }
}

/// True when a column varies: its spread (range, or standard deviation) is beyond the rounding
/// of its largest magnitude `largest` (in the same units) and has a finite inverse. A column
/// that does not vary is shifted but not stretched (scale 1), so it maps to 0 instead of
/// dividing by zero.
fn varies(spread: f64, largest: f64) -> bool {
    spread > f64::EPSILON * largest && spread.recip().is_finite()
}

/// Columns whose largest magnitude is below this keep their statistics in plain units: n ≤ 2⁶⁴
/// squared deviations of at most (2·2⁴⁰⁰)² sum to at most 2⁸⁶⁶, far from overflow.
const PLAIN_BELOW: f64 = 2.582_249_878_086_908_6e120; // 2^400

/// The unit of a column's statistics: 1 below [`PLAIN_BELOW`], else the power of two 2^(e − 400)
/// for the largest magnitude 2^e·m (1 ≤ m < 2), so every value divided by it is below 2⁴⁰¹.
fn unit(min: f64, max: f64) -> f64 {
    let largest = min.abs().max(max.abs());
    if !(PLAIN_BELOW..f64::INFINITY).contains(&largest) {
        return 1.0;
    }
    let exponent = ((largest.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    f64::from_bits(((exponent - 400 + 1023) as u64) << 52)
}

/// (v − offset)·scale, or v·scale − offset·scale where v − offset overflows (both are finite).
#[inline]
fn affine(v: f64, offset: f64, scale: f64) -> f64 {
    let y = (v - offset) * scale;
    if y.is_finite() {
        y
    } else {
        v * scale - offset * scale
    }
}

/// A fitted per-column affine scaling x ↦ (x − offset) · scale.
///
/// ```
/// use ndarray::array;
/// use rks::scaler::{Scaler, ScalerKind};
///
/// let train = array![[0.0, 10.0], [2.0, 30.0]];
/// let scaler = Scaler::fit(train.view(), ScalerKind::MinMax).unwrap();
/// let scaled = scaler.transform(array![[1.0, 50.0]].view()).unwrap();
/// assert_eq!(scaled, array![[0.5, 2.0]]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    kind: ScalerKind,
    offset: Vec<f64>,
    scale: Vec<f64>,
}

impl Scaler {
    /// Learns the scaling from the rows of `x`.
    pub fn fit<F: Element>(x: ArrayView2<'_, F>, kind: ScalerKind) -> Result<Self, RksError> {
        let mut stats = ScalerStats::new(x.ncols());
        stats.update(x)?;
        stats.finish(kind)
    }

    /// Learns the scaling from rows of `dim` columns held as their non-zero entries (compressed
    /// sparse rows: row i's entries are `columns[offsets[i]..offsets[i + 1]]`, 0-based, with
    /// their `values`; every other entry is zero): the
    /// [`ScalerKind::MinMax`], [`ScalerKind::MaxAbs`] or [`ScalerKind::Identity`] scaler that
    /// [`fit`](Self::fit) would learn from the same rows laid out dense. Standard scaling
    /// centres the columns, which would make the rows dense: an error. A min–max scaler of
    /// columns that take negative values, or have no zero, shifts zeros (see
    /// [`keeps_zeros`](Self::keeps_zeros)).
    ///
    /// ```
    /// use ndarray::array;
    /// use rks::scaler::{Scaler, ScalerKind};
    ///
    /// // Rows [0, 2, 0] and [4, 0, 0] as their entries.
    /// let sparse = Scaler::fit_sparse(3, &[0, 1, 2], &[1, 0], &[2.0, 4.0], ScalerKind::MinMax)?;
    /// let dense = Scaler::fit(array![[0.0, 2.0, 0.0], [4.0, 0.0, 0.0]].view(), ScalerKind::MinMax)?;
    /// assert_eq!(sparse, dense);
    /// assert!(sparse.keeps_zeros());
    /// # Ok::<(), rks::RksError>(())
    /// ```
    pub fn fit_sparse(
        dim: usize,
        offsets: &[usize],
        columns: &[u32],
        values: &[f64],
        kind: ScalerKind,
    ) -> Result<Self, RksError> {
        if kind == ScalerKind::Standard {
            return Err(RksError::InvalidParameter {
                name: Param::Scaler,
                reason: "standard scaling centres the columns, which makes sparse rows dense: \
                         use minmax, maxabs or none"
                    .into(),
            });
        }
        let well_formed = columns.len() == values.len()
            && offsets.first() == Some(&0)
            && offsets.last() == Some(&values.len())
            && offsets.windows(2).all(|pair| pair[0] <= pair[1]);
        if !well_formed {
            return Err(RksError::InvalidParameter {
                name: Param::Rows,
                reason: format!(
                    "sparse rows need offsets rising from 0 to the number of entries, one column \
                     per value ({} offsets, {} columns, {} values)",
                    offsets.len(),
                    columns.len(),
                    values.len()
                ),
            });
        }
        let rows = offsets.len() - 1;
        let mut stats = ScalerStats::new(dim);
        stats.count = rows as u64;
        let mut entries = vec![0usize; dim];
        for (k, (&c, &v)) in columns.iter().zip(values).enumerate() {
            let c = c as usize;
            let row = || offsets.partition_point(|&o| o <= k) - 1;
            if c >= dim {
                return Err(RksError::WrongInputDim {
                    expected: dim,
                    found: c + 1,
                });
            }
            if !v.is_finite() {
                return Err(RksError::NonFiniteInput {
                    row: row(),
                    col: c,
                    value: v,
                });
            }
            stats.min[c] = stats.min[c].min(v);
            stats.max[c] = stats.max[c].max(v);
            entries[c] += 1;
        }
        // A column with fewer entries than rows holds a zero.
        for ((lo, hi), &n) in stats.min.iter_mut().zip(&mut stats.max).zip(&entries) {
            if n < rows {
                (*lo, *hi) = (lo.min(0.0), hi.max(0.0));
            }
        }
        stats.finish(kind)
    }

    /// True when the scaling maps 0 to 0 in every column (no offset), so that sparse rows stay
    /// sparse once scaled.
    pub fn keeps_zeros(&self) -> bool {
        self.offset.iter().all(|&o| o == 0.0)
    }

    /// The scaler that leaves `dim` columns unchanged.
    pub fn identity(dim: usize) -> Self {
        Self {
            kind: ScalerKind::Identity,
            offset: vec![0.0; dim],
            scale: vec![1.0; dim],
        }
    }

    /// How this scaler was defined.
    pub fn kind(&self) -> ScalerKind {
        self.kind
    }

    /// Number of columns it expects.
    pub fn dim(&self) -> usize {
        self.offset.len()
    }

    /// The value subtracted from each column.
    pub fn offset(&self) -> &[f64] {
        &self.offset
    }

    /// The factor each centred column is multiplied by.
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// This scaling followed by a weight per column: x ↦ (x − offset)·scale·wⱼ. A weight of 0
    /// removes a column from every distance; weights must be finite and ≥ 0, one per column.
    /// The result is still one affine map per column, so a model stores it as any scaler.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks::scaler::{Scaler, ScalerKind};
    ///
    /// let scaler = Scaler::fit(array![[0.0, 10.0], [2.0, 30.0]].view(), ScalerKind::MinMax)?;
    /// let weighted = scaler.reweighted(&[1.0, 0.5])?;
    /// assert_eq!(weighted.transform(array![[1.0, 30.0]].view())?, array![[0.5, 0.5]]);
    /// # Ok::<(), rks::RksError>(())
    /// ```
    pub fn reweighted(&self, weights: &[f64]) -> Result<Scaler, RksError> {
        check_columns(self.dim(), weights.len())?;
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(RksError::InvalidParameter {
                name: Param::Scaler,
                reason: format!("column weights must be finite and ≥ 0, got {w}"),
            });
        }
        Ok(Scaler {
            kind: self.kind,
            offset: self.offset.clone(),
            scale: self.scale.iter().zip(weights).map(|(s, w)| s * w).collect(),
        })
    }

    /// Scales the rows of `x` in place. Rejects wrong column counts and non-finite values.
    pub fn transform_inplace<F: Element>(
        &self,
        mut x: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        check_columns(self.dim(), x.ncols())?;
        check_finite(x.view())?;
        for mut row in x.rows_mut() {
            for ((v, &offset), &scale) in row.iter_mut().zip(&self.offset).zip(&self.scale) {
                *v = F::from_f64_lossy(affine(v.to_f64_exact(), offset, scale));
            }
        }
        Ok(())
    }

    /// Returns the scaled copy of f64 rows `x` in precision F: the values [`transform`]
    /// followed by a conversion would give, in one buffer instead of two (rows are rounded to F
    /// after scaling, never before).
    ///
    /// [`transform`]: Self::transform
    ///
    /// ```
    /// use ndarray::array;
    /// use rks::scaler::{Scaler, ScalerKind};
    ///
    /// let x = array![[0.0, 10.0], [2.0, 30.0], [1.0, 20.1]];
    /// let scaler = Scaler::fit(x.view(), ScalerKind::MinMax)?;
    /// let narrow: ndarray::Array2<f32> = scaler.transform_to(x.view())?;
    /// assert_eq!(narrow, scaler.transform(x.view())?.mapv(|v| v as f32));
    /// # Ok::<(), rks::RksError>(())
    /// ```
    pub fn transform_to<F: Element>(&self, x: ArrayView2<'_, f64>) -> Result<Array2<F>, RksError> {
        self.scaled(x)
    }

    /// Returns the scaled copy of `x`.
    pub fn transform<F: Element>(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>, RksError> {
        self.scaled(x)
    }

    /// The scaled copy of rows `x` of one precision in another, written in one pass (each value
    /// scaled in f64 and rounded once): what [`transform_inplace`](Self::transform_inplace)
    /// does to a copy, without the copy.
    fn scaled<In: Element, Out: Element>(
        &self,
        x: ArrayView2<'_, In>,
    ) -> Result<Array2<Out>, RksError> {
        check_columns(self.dim(), x.ncols())?;
        check_finite(x)?;
        let mut out = Vec::new();
        out.try_reserve_exact(x.len())
            .map_err(|_| RksError::TooLarge {
                what: "the scaled rows",
                parameter: Param::Rows,
                bytes: x.len() as u128 * size_of::<Out>() as u128,
            })?;
        for row in x.rows() {
            for ((&v, &offset), &scale) in row.iter().zip(&self.offset).zip(&self.scale) {
                out.push(Out::from_f64_lossy(affine(v.to_f64_exact(), offset, scale)));
            }
        }
        Array2::from_shape_vec(x.dim(), out).map_err(|e| RksError::InvalidParameter {
            name: Param::Scaler,
            reason: e.to_string(),
        })
    }

    /// Checks that the stored vectors agree with each other and are finite (for loaded models).
    pub fn validate(&self) -> Result<(), RksError> {
        let consistent = self.offset.len() == self.scale.len()
            && self.offset.iter().chain(&self.scale).all(|v| v.is_finite());
        if consistent {
            Ok(())
        } else {
            Err(RksError::InvalidParameter {
                name: Param::Scaler,
                reason: "offset and scale must be finite vectors of equal length".into(),
            })
        }
    }
}

fn check_columns(expected: usize, found: usize) -> Result<(), RksError> {
    if expected == found {
        Ok(())
    } else {
        Err(RksError::WrongInputDim { expected, found })
    }
}

/// Returns an error naming the first non-finite entry of `x`.
pub(crate) fn check_finite<F: Element>(x: ArrayView2<'_, F>) -> Result<(), RksError> {
    if all_finite_fast(&x) {
        return Ok(());
    }
    // Something is not finite (or x is not contiguous): find it and name it.
    for ((row, col), v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(RksError::NonFiniteInput {
                row,
                col,
                value: v.to_f64_exact(),
            });
        }
    }
    Ok(())
}

/// True when x is in standard layout and every entry is finite, in a loop the compiler
/// vectorises: v·0 is 0 for a finite v and NaN for ±∞ or NaN, and 16 independent lane sums
/// need no reassociation. (The entry-by-entry check with an early exit stays scalar: 4 % of the
/// f32 Fastfood transform at the benchmark shape.) False means "not known": check entry by entry.
fn all_finite_fast<F: Element>(x: &ArrayView2<'_, F>) -> bool {
    const LANES: usize = 16;
    let Some(v) = x.as_slice() else {
        return false;
    };
    let mut acc = [F::zero(); LANES];
    let chunks = v.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x * F::zero();
        }
    }
    for (a, &x) in acc.iter_mut().zip(tail) {
        *a += x * F::zero();
    }
    acc.iter().all(|a| *a == F::zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The non-zero entries of the rows of `x` (offsets, columns, values).
    fn entries(x: &Array2<f64>) -> (Vec<usize>, Vec<u32>, Vec<f64>) {
        let (mut offsets, mut columns, mut values) = (vec![0], Vec::new(), Vec::new());
        for row in x.rows() {
            for (c, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                columns.push(c as u32);
                values.push(v);
            }
            offsets.push(values.len());
        }
        (offsets, columns, values)
    }

    #[test]
    fn max_abs_divides_by_the_largest_magnitude_and_keeps_zeros() {
        let x = ndarray::array![[0.0, -4.0, 0.0, 3.0], [2.0, 1.0, 0.0, 3.0]];
        let scaler = Scaler::fit(x.view(), ScalerKind::MaxAbs).unwrap();
        assert_eq!(scaler.offset(), &[0.0; 4]);
        assert_eq!(scaler.scale(), &[0.5, 0.25, 1.0, 1.0 / 3.0]);
        assert!(scaler.keeps_zeros());
        let scaled = scaler.transform(x.view()).unwrap();
        assert_eq!(scaled.row(0).to_vec(), vec![0.0, -1.0, 0.0, 1.0]);
        assert!(
            !Scaler::fit(x.view(), ScalerKind::MinMax)
                .unwrap()
                .keeps_zeros()
        );
    }

    #[test]
    fn sparse_statistics_give_the_dense_scaler() {
        // Columns: non-negative with zeros, negative values, no zero at all, never set, one
        // entry; and an empty row.
        let x = ndarray::array![
            [0.0, -3.0, 5.0, 0.0, 0.0],
            [2.0, 0.0, 7.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [1.0, 4.0, 6.0, 0.0, 1e-300],
        ];
        let (offsets, columns, values) = entries(&x);
        for kind in [ScalerKind::MinMax, ScalerKind::MaxAbs, ScalerKind::Identity] {
            let sparse = Scaler::fit_sparse(5, &offsets, &columns, &values, kind).unwrap();
            assert_eq!(sparse, Scaler::fit(x.view(), kind).unwrap(), "{kind:?}");
        }
        // Without the empty row, column 2 has no zero: its min–max offset is 5.
        let top = x.slice(ndarray::s![..2, ..]).to_owned();
        let (offsets, columns, values) = entries(&top);
        let minmax =
            Scaler::fit_sparse(5, &offsets, &columns, &values, ScalerKind::MinMax).unwrap();
        assert_eq!(minmax, Scaler::fit(top.view(), ScalerKind::MinMax).unwrap());
        assert_eq!(minmax.offset()[2], 5.0);
        assert!(!minmax.keeps_zeros());
    }

    #[test]
    fn sparse_statistics_refuse_bad_entries() {
        let standard = Scaler::fit_sparse(2, &[0, 1], &[0], &[1.0], ScalerKind::Standard);
        assert!(
            standard
                .unwrap_err()
                .to_string()
                .contains("makes sparse rows dense")
        );
        let cases: [(&[usize], &[u32], &[f64]); 4] = [
            (&[0, 2], &[0], &[1.0]),
            (&[1, 1], &[0], &[1.0]),
            (&[0, 1, 0], &[0], &[1.0]),
            (&[], &[], &[]),
        ];
        for (offsets, columns, values) in cases {
            let e =
                Scaler::fit_sparse(2, offsets, columns, values, ScalerKind::MaxAbs).unwrap_err();
            assert!(
                e.to_string().contains("offsets rising from 0"),
                "{offsets:?}: {e}"
            );
        }
        let e = Scaler::fit_sparse(2, &[0, 1], &[2], &[1.0], ScalerKind::MaxAbs).unwrap_err();
        assert!(
            matches!(
                e,
                RksError::WrongInputDim {
                    expected: 2,
                    found: 3
                }
            ),
            "{e}"
        );
        let e = Scaler::fit_sparse(2, &[0, 1, 2], &[0, 1], &[1.0, f64::NAN], ScalerKind::MaxAbs)
            .unwrap_err();
        assert!(
            matches!(e, RksError::NonFiniteInput { row: 1, col: 1, .. }),
            "{e}"
        );
        // No rows: the dense fit's error.
        let e = Scaler::fit_sparse(2, &[0], &[], &[], ScalerKind::MaxAbs).unwrap_err();
        assert!(e.to_string().contains("zero rows"), "{e}");
    }
    use ndarray::{Array2, array, s};

    fn sample() -> Array2<f64> {
        Array2::from_shape_fn((37, 3), |(i, j)| {
            ((i * 7 + j * 13) % 11) as f64 * (j as f64 + 0.5) + 1e6 * j as f64
        })
    }

    #[test]
    fn standard_scaling_gives_zero_mean_unit_variance() {
        let x = sample();
        let scaled = Scaler::fit(x.view(), ScalerKind::Standard)
            .unwrap()
            .transform(x.view())
            .unwrap();
        for column in scaled.columns() {
            let mean = column.mean().unwrap();
            let var = column.mapv(|v| (v - mean) * (v - mean)).mean().unwrap();
            assert!(mean.abs() < 1e-9, "mean {mean}");
            assert!((var - 1.0).abs() < 1e-9, "variance {var}");
        }
    }

    #[test]
    fn min_max_maps_training_range_to_unit_interval() {
        let x = sample();
        let scaled = Scaler::fit(x.view(), ScalerKind::MinMax)
            .unwrap()
            .transform(x.view())
            .unwrap();
        for column in scaled.columns() {
            let lo = column.fold(f64::INFINITY, |a, &b| a.min(b));
            let hi = column.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            assert_eq!((lo, hi), (0.0, 1.0));
        }
    }

    #[test]
    fn streamed_chunks_match_one_pass() {
        let x = sample();
        let whole = Scaler::fit(x.view(), ScalerKind::Standard).unwrap();
        let mut left = ScalerStats::new(3);
        left.update(x.slice(s![..10, ..])).unwrap();
        let mut right = ScalerStats::new(3);
        right.update(x.slice(s![10..25, ..])).unwrap();
        right.update(x.slice(s![25.., ..])).unwrap();
        left.merge(&right).unwrap();
        let streamed = left.finish(ScalerKind::Standard).unwrap();
        for (a, b) in whole.offset().iter().zip(streamed.offset()) {
            assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0));
        }
        for (a, b) in whole.scale().iter().zip(streamed.scale()) {
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0));
        }
    }

    #[test]
    fn small_units_are_scaled_like_any_other() {
        // The same data in units 10²⁰ times larger, and shifted far from zero with its
        // variation at the rounding level: the first is scaled alike, the second is constant.
        let x = array![[0.0, 1.0], [0.5, 3.0], [1.0, 2.0]];
        for kind in [ScalerKind::Standard, ScalerKind::MinMax] {
            let scaled = |x: &Array2<f64>| {
                Scaler::fit(x.view(), kind)
                    .unwrap()
                    .transform(x.view())
                    .unwrap()
            };
            let small = scaled(&x.mapv(|v| v * 1e-20));
            let plain = scaled(&x);
            for (a, b) in small.iter().zip(&plain) {
                assert!((a - b).abs() < 1e-12, "{kind:?}: {small} against {plain}");
            }
            let big = array![[1e10], [1e10 + 1e-6], [1e10]];
            // Not stretched: what is left is the rounding of v − offset (a few ulps of 10¹⁰).
            assert!(scaled(&big).iter().all(|v| v.abs() < 1e-5), "{kind:?}");
            // Subnormal spreads cannot be inverted: constant.
            let tiny = array![[0.0], [1e-310]];
            assert!(scaled(&tiny).iter().all(|v| v.is_finite()), "{kind:?}");
        }
    }

    #[test]
    fn constant_column_maps_to_zero() {
        let x = array![[5.0f32, 1.0], [5.0, 2.0]];
        for kind in [ScalerKind::Standard, ScalerKind::MinMax] {
            let scaled = Scaler::fit(x.view(), kind)
                .unwrap()
                .transform(x.view())
                .unwrap();
            assert_eq!(scaled.column(0).to_vec(), vec![0.0, 0.0]);
        }
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let x = array![[1.0, f64::NAN]];
        assert!(matches!(
            Scaler::fit(x.view(), ScalerKind::Standard),
            Err(RksError::NonFiniteInput { row: 0, col: 1, .. })
        ));
        let empty = Array2::<f64>::zeros((0, 2));
        assert!(matches!(
            Scaler::fit(empty.view(), ScalerKind::MinMax),
            Err(RksError::InvalidParameter { .. })
        ));
        let scaler = Scaler::identity(2);
        assert_eq!(
            scaler.transform(array![[1.0, 2.0, 3.0]].view()),
            Err(RksError::WrongInputDim {
                expected: 2,
                found: 3
            })
        );
    }

    /// Values near ±f64::MAX overflow the plain sums, squares and range; the scaled statistics
    /// do not, in one pass or streamed.
    #[test]
    fn huge_finite_values_scale_to_finite_values() {
        let x: Array2<f64> = array![
            [1.7e308, 1e308],
            [-1.7e308, -1.2e308],
            [-1.6e308, 5.0],
            [1e308, 0.0]
        ];
        for kind in [ScalerKind::Standard, ScalerKind::MinMax] {
            let whole = Scaler::fit(x.view(), kind).unwrap();
            let mut stats = ScalerStats::new(2);
            stats.update(x.slice(s![..1, ..])).unwrap();
            let mut rest = ScalerStats::new(2);
            rest.update(x.slice(s![1.., ..])).unwrap();
            stats.merge(&rest).unwrap();
            let streamed = stats.finish(kind).unwrap();
            for scaler in [&whole, &streamed] {
                scaler.validate().unwrap();
                let scaled = scaler.transform(x.view()).unwrap();
                assert!(
                    scaled.iter().all(|v: &f64| v.is_finite()),
                    "{kind:?}: {scaled}"
                );
                for column in scaled.columns() {
                    if kind == ScalerKind::MinMax {
                        let lo = column.fold(f64::INFINITY, |a, &b| a.min(b));
                        let hi = column.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                        assert!(lo.abs() < 1e-12 && (hi - 1.0).abs() < 1e-12, "{column}");
                    } else {
                        let mean = column.mean().unwrap();
                        let var = column.mapv(|v| (v - mean) * (v - mean)).mean().unwrap();
                        assert!(mean.abs() < 1e-12, "mean {mean}");
                        assert!((var - 1.0).abs() < 1e-12, "variance {var}");
                    }
                }
            }
            // The same columns divided by 2⁸⁰⁰ (plain units) give the same scaled values.
            let small = x.mapv(|v| v / 2f64.powi(800));
            let reference = Scaler::fit(small.view(), kind).unwrap();
            let expected = reference.transform(small.view()).unwrap();
            let got = whole.transform(x.view()).unwrap();
            for (a, b) in got.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn units_are_one_below_the_threshold_and_exact_powers_of_two_above() {
        assert_eq!(unit(-1e120, 2e120), 1.0);
        assert_eq!(unit(f64::INFINITY, f64::NEG_INFINITY), 1.0);
        assert_eq!(unit(0.0, PLAIN_BELOW), 1.0);
        assert_eq!(unit(-PLAIN_BELOW * 2.0, 0.0), 2.0);
        let u = unit(-f64::MAX, 1.0);
        assert_eq!(u, 2f64.powi(623));
        assert!(f64::MAX / u < 2f64.powi(401));
    }

    /// The fast finiteness check agrees with the entry-by-entry one, wherever the bad value sits
    /// (in a full 16-lane chunk or in the tail), and declines strided views.
    #[test]
    fn fast_finite_check_agrees_with_the_slow_one() {
        for (rows, cols) in [(1, 1), (3, 7), (5, 16), (4, 37)] {
            let x = Array2::from_shape_fn((rows, cols), |(i, j)| (i * cols + j) as f32 - 9.5);
            assert!(all_finite_fast(&x.view()));
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                for at in [0, rows * cols / 2, rows * cols - 1] {
                    let mut y = x.clone();
                    y[(at / cols, at % cols)] = bad;
                    assert!(!all_finite_fast(&y.view()));
                    assert!(check_finite(y.view()).is_err());
                }
            }
            let big = x.mapv(|v| f64::from(v) * 1e300);
            assert!(all_finite_fast(&big.view()));
        }
        let x = Array2::<f64>::zeros((4, 6));
        assert!(!all_finite_fast(&x.t()));
    }
}

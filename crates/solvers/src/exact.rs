//! Exact, order-independent sums of products: the fixed-point arithmetic behind
//! [`RidgeAccumulator`](crate::RidgeAccumulator).
//!
//! Floating-point addition is not associative, so sums of ΦᵀΦ folded chunk by chunk and merged
//! in another grouping (a tree reduction over workers) differ in their last bits. Here every value
//! is first rounded once to a fixed-point [`Grid`], q = round(v / 2ᵉ) with |q| ≤ [`LIMIT`], and
//! every sum is an integer sum, which is exact, hence the same in any order and for any cut of the
//! rows into chunks or partitions:
//!
//! - Products of two grid values over a block of at most [`BLOCK_ROWS`] rows sum to at most
//!   `BLOCK_ROWS · LIMIT² ≤ 2⁵³` in magnitude, so an f64 GEMM (any order, with or without fused
//!   multiply-adds) computes every partial sum exactly. The GEMM keeps its speed.
//! - The block sums are carried in `i128`, which holds up to 2¹²⁷: about 2⁸² blocks.
//! - For transport through an engine that only adds plain integers (MPI's `MPI_SUM`), each `i128`
//!   is split into four 32-bit digits held in `u64` limbs ([`to_limbs`]); limbs add
//!   independently without carries for up to 2³² parties and recombine exactly ([`from_limbs`]).
//!   (An operation over whole `(lo, hi)` pairs is not safe: an engine may split a buffer at any
//!   element.)
//!
//! The grid's steps are powers of two, so v/2ᵉ and q·2ᵉ are exact and only the one rounding to
//! the grid happens. A feature grid has [`BITS`] = 22 bits below the power of two at or above the
//! features' bound B (a relative resolution of about 2.4·10⁻⁷ of B, like an f32 feature); a
//! target grid centres the targets' range [lo, hi] at c = (lo + hi)/2 and has 22 bits below the
//! half-range, so y − c is quantised (ridge's intercept absorbs c exactly). Values up to √2 times
//! the bound are accepted, so rounding in the bound's own computation can never reject a value
//! that is mathematically within it.

use ndarray::{ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{Param, Result, SolversError, invalid};

/// Bits of resolution below the power of two at or above a grid's bound.
pub const BITS: i32 = 22;

/// The largest |q| accepted on a grid: ⌊√2 · 2²²⌋, so that a value up to √2 times its bound fits.
pub const LIMIT: f64 = 5_931_641.0;

/// Rows per exact GEMM block: `BLOCK_ROWS · LIMIT²` ≤ 2⁵³.
pub const BLOCK_ROWS: usize = 256;

const _: () = assert!(BLOCK_ROWS as f64 * LIMIT * LIMIT <= 9_007_199_254_740_992.0);

/// The fixed-point grids of a ridge fit's features and targets; see the [module docs](self).
///
/// Two sets of statistics can only be merged when their grids are equal, so every worker of a
/// distributed fit must use the same grid: it is fixed from the map (its features' bound) and
/// from the targets' range (a classifier's ±1 targets, or a regression target's range from a
/// first pass), never from the rows of one chunk.
///
/// ```
/// use rks_solvers::exact::Grid;
/// // Features bounded by 1/32 (cos/sin features of 1,024 frequencies), targets in [−1, 1].
/// let grid = Grid::new(1.0 / 32.0, -1.0, 1.0)?;
/// assert_eq!(grid.feature_step(), 2f64.powi(-5 - 22));
/// assert_eq!(grid.target_offset(), 0.0);
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// The feature step is 2^feature_exp.
    feature_exp: i32,
    /// c: targets are quantised as y − c.
    target_offset: f64,
    /// The target step is 2^target_exp.
    target_exp: i32,
}

/// Bounds outside [2⁻⁹⁰⁰, 2⁹⁰⁰] are refused: the steps and the squared sums stay normal floats.
const EXP_RANGE: std::ops::RangeInclusive<i32> = -900..=900;

impl Grid {
    /// The grid for features with |φ| ≤ `feature_bound` and targets in [`target_low`,
    /// `target_high`] (every output).
    pub fn new(feature_bound: f64, target_low: f64, target_high: f64) -> Result<Self> {
        if !(feature_bound.is_finite() && feature_bound > 0.0) {
            return Err(invalid(
                Param::FeatureBound,
                format!("must be finite and > 0, got {feature_bound}"),
            ));
        }
        if !(target_low.is_finite() && target_high.is_finite() && target_low <= target_high) {
            return Err(invalid(
                Param::TargetRange,
                format!(
                    "the target range [{target_low}, {target_high}] must be finite and ordered"
                ),
            ));
        }
        let target_offset = target_low / 2.0 + target_high / 2.0;
        let half = (target_high - target_offset).max(target_offset - target_low);
        // A constant target: any positive step represents it (every q is 0).
        let half = if half > 0.0 { half } else { 1.0 };
        let feature_exp = ceil_log2(feature_bound) - BITS;
        let target_exp = ceil_log2(half) - BITS;
        for (name, e) in [
            (Param::FeatureBound, feature_exp),
            (Param::TargetRange, target_exp),
        ] {
            if !EXP_RANGE.contains(&(e + BITS)) {
                return Err(invalid(
                    name,
                    format!("its magnitude 2^{} is outside 2^-900 … 2^900", e + BITS),
                ));
            }
        }
        Ok(Self {
            feature_exp,
            target_offset,
            target_exp,
        })
    }

    /// The grid for these rows: features bounded by their largest magnitude, targets by their
    /// range. For rows in memory only (a grid from one partition's rows would differ from
    /// another's, and their statistics could not be merged).
    pub fn covering(phi: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<Self> {
        let bound = phi.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let (lo, hi) = y
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 0.0) };
        Self::new(if bound > 0.0 { bound } else { 1.0 }, lo, hi)
    }

    /// The feature step 2^e.
    pub fn feature_step(&self) -> f64 {
        pow2(self.feature_exp)
    }

    /// The target step 2^e.
    pub fn target_step(&self) -> f64 {
        pow2(self.target_exp)
    }

    /// The centre c of the target range: targets are held as y − c.
    pub fn target_offset(&self) -> f64 {
        self.target_offset
    }

    /// The features of a block as grid integers (f64 values), column-major rows × D; `what` and
    /// the first offending entry name an error.
    pub(crate) fn quantise_features(&self, phi: ArrayView2<'_, f64>) -> Result<faer::Mat<f64>> {
        quantise(phi, 0.0, self.feature_exp, "feature")
    }

    /// The targets of a block as grid integers, column-major rows × m.
    pub(crate) fn quantise_targets(&self, y: ArrayView2<'_, f64>) -> Result<faer::Mat<f64>> {
        quantise(y, self.target_offset, self.target_exp, "target")
    }

    /// Checks the fields of a decoded grid.
    pub(crate) fn check(&self) -> Result<()> {
        let ok = EXP_RANGE.contains(&(self.feature_exp + BITS))
            && EXP_RANGE.contains(&(self.target_exp + BITS))
            && self.target_offset.is_finite();
        if ok {
            Ok(())
        } else {
            Err(invalid(Param::Grid, format!("inconsistent grid {self:?}")))
        }
    }
}

/// round((v − offset) / 2^exp) for every entry, column-major; an entry beyond [`LIMIT`] is an
/// [`SolversError::OffGrid`].
fn quantise(
    v: ArrayView2<'_, f64>,
    offset: f64,
    exp: i32,
    what: &'static str,
) -> Result<faer::Mat<f64>> {
    let inverse = pow2(-exp);
    let (rows, cols) = v.dim();
    let mut q = faer::Mat::<f64>::zeros(rows, cols);
    for (j, column) in v.axis_iter(Axis(1)).enumerate() {
        let out = q
            .col_mut(j)
            .try_as_col_major_mut()
            .map(|c| c.as_slice_mut());
        let out = out.unwrap_or_else(|| unreachable!("a faer Mat's columns are contiguous"));
        for (i, (o, &x)) in out.iter_mut().zip(column.iter()).enumerate() {
            let r = ((x - offset) * inverse).round_ties_even();
            if r.abs() > LIMIT || r.is_nan() {
                return Err(SolversError::OffGrid {
                    what,
                    row: i,
                    col: j,
                    value: x,
                    bound: (LIMIT * pow2(exp)).abs(),
                });
            }
            *o = r;
        }
    }
    Ok(q)
}

/// 2^e for e in the normal range, exactly.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// ⌈log₂ v⌉ for a positive finite v, from its bits (no libm: the same on every platform).
fn ceil_log2(v: f64) -> i32 {
    let bits = v.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let mantissa = bits & ((1 << 52) - 1);
    if exponent == 0 {
        // Subnormal: far below the accepted range, reported by the caller.
        return -1074;
    }
    let e = exponent - 1023;
    if mantissa == 0 { e } else { e + 1 }
}

/// Adds the lower triangle of QᵀQ (Q: rows × D grid integers, rows ≤ [`BLOCK_ROWS`]) to `gram`,
/// a packed lower triangle (column-major), using `scratch` (D × D) for the exact f64 product.
pub(crate) fn add_gram(q: faer::MatRef<'_, f64>, scratch: &mut faer::Mat<f64>, gram: &mut [i128]) {
    use faer::linalg::matmul::triangular::{BlockStructure, matmul};
    use rayon::prelude::*;
    debug_assert!(q.nrows() <= BLOCK_ROWS);
    let d = q.ncols();
    matmul(
        scratch.as_mut(),
        BlockStructure::TriangularLower,
        faer::Accum::Replace,
        q.transpose(),
        BlockStructure::Rectangular,
        q,
        BlockStructure::Rectangular,
        1.0,
        faer::Par::rayon(0),
    );
    let scratch = scratch.as_ref();
    packed_columns_mut(gram, d)
        .into_par_iter()
        .for_each(|(j, column)| {
            for (i, g) in (j..d).zip(column.iter_mut()) {
                // An integer of magnitude ≤ 2⁵³: exact as i64.
                *g += scratch[(i, j)] as i64 as i128;
            }
        });
}

/// Adds QᵀT (Q: rows × D, T: rows × m grid integers, rows ≤ [`BLOCK_ROWS`]) to `cross`
/// (column-major D × m).
pub(crate) fn add_cross(q: faer::MatRef<'_, f64>, t: faer::MatRef<'_, f64>, cross: &mut [i128]) {
    let mut product = faer::Mat::<f64>::zeros(q.ncols(), t.ncols());
    faer::linalg::matmul::matmul(
        product.as_mut(),
        faer::Accum::Replace,
        q.transpose(),
        t,
        1.0,
        faer::Par::Seq,
    );
    for k in 0..t.ncols() {
        for i in 0..q.ncols() {
            cross[k * q.ncols() + i] += product[(i, k)] as i64 as i128;
        }
    }
}

/// Adds each column's sum of Q and of its squares (exact in integers) to `sums` and `squares`
/// (`squares` may be empty).
pub(crate) fn add_column_sums(q: faer::MatRef<'_, f64>, sums: &mut [i128], squares: &mut [i128]) {
    for j in 0..q.ncols() {
        let (mut s, mut ss) = (0i128, 0i128);
        for i in 0..q.nrows() {
            let v = q[(i, j)] as i64 as i128;
            s += v;
            ss += v * v;
        }
        sums[j] += s;
        if let Some(t) = squares.get_mut(j) {
            *t += ss;
        }
    }
}

/// The columns of a packed lower triangle of order d, each with its index: column j holds rows
/// j..d.
fn packed_columns_mut(packed: &mut [i128], d: usize) -> Vec<(usize, &mut [i128])> {
    let mut out = Vec::with_capacity(d);
    let mut rest = packed;
    for j in 0..d {
        let (column, tail) = rest.split_at_mut(d - j);
        out.push((j, column));
        rest = tail;
    }
    out
}

/// Length of a packed lower triangle of order d.
pub(crate) fn packed_len(d: usize) -> Option<usize> {
    d.checked_mul(d.checked_add(1)?).map(|v| v / 2)
}

/// Index of (i, j), i ≥ j, in a packed lower triangle of order d (column-major).
pub(crate) fn packed_index(d: usize, i: usize, j: usize) -> usize {
    j * d - j * j.saturating_sub(1) / 2 + (i - j)
}

/// Limbs per `i128`: four 32-bit digits.
pub const LIMBS: usize = 4;

/// Each value as [`LIMBS`] 32-bit digits (least significant first) in `u64` limbs: the form that
/// an engine adding plain unsigned integers (MPI's `MPI_SUM` on `MPI_UINT64_T`) reduces exactly,
/// for up to 2³² parties, whatever the grouping.
///
/// ```
/// use rks_solvers::exact::{from_limbs, to_limbs};
/// let (a, b) = ([-5i128, 1 << 100], [7i128, -(1 << 99)]);
/// let sum: Vec<u64> = to_limbs(&a).iter().zip(to_limbs(&b)).map(|(x, y)| x + y).collect();
/// assert_eq!(from_limbs(&sum), vec![2, (1 << 100) - (1 << 99)]);
/// ```
pub fn to_limbs(values: &[i128]) -> Vec<u64> {
    values
        .iter()
        .flat_map(|&v| {
            let u = v as u128;
            (0..LIMBS).map(move |k| ((u >> (32 * k)) & 0xffff_ffff) as u64)
        })
        .collect()
}

/// The values whose limbs were summed into `limbs` (see [`to_limbs`]): the sum modulo 2¹²⁸, which
/// is the exact sum whenever it fits in an `i128`. `limbs.len()` must be a multiple of [`LIMBS`].
pub fn from_limbs(limbs: &[u64]) -> Vec<i128> {
    limbs
        .chunks_exact(LIMBS)
        .map(|digits| {
            digits.iter().enumerate().fold(0u128, |acc, (k, &d)| {
                acc.wrapping_add((d as u128).wrapping_shl(32 * k as u32))
            }) as i128
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn ceil_log2_is_exact() {
        assert_eq!(ceil_log2(1.0), 0);
        assert_eq!(ceil_log2(1.5), 1);
        assert_eq!(ceil_log2(0.25), -2);
        assert_eq!(ceil_log2(0.26), -1);
        assert_eq!(ceil_log2(1.0 / 1024f64.sqrt()), -5);
        assert_eq!(ceil_log2(1.0 / 2048f64.sqrt()), -5);
    }

    #[test]
    fn packed_layout_matches_columns() {
        let d = 5;
        let mut packed = vec![0i128; packed_len(d).unwrap()];
        for (j, column) in packed_columns_mut(&mut packed, d) {
            for (i, v) in (j..d).zip(column.iter_mut()) {
                *v = (10 * i + j) as i128;
            }
        }
        for j in 0..d {
            for i in j..d {
                assert_eq!(packed[packed_index(d, i, j)], (10 * i + j) as i128);
            }
        }
    }

    #[test]
    fn off_grid_values_are_refused_with_their_place() {
        let grid = Grid::new(1.0, -1.0, 1.0).unwrap();
        let phi = Array2::from_shape_fn((3, 2), |(i, j)| if (i, j) == (2, 1) { 1.5 } else { 0.5 });
        match grid.quantise_features(phi.view()) {
            Err(SolversError::OffGrid { row, col, .. }) => assert_eq!((row, col), (2, 1)),
            other => panic!("{other:?}"),
        }
        // √2 times the bound is still accepted (slack for rounding in the bound).
        let phi = Array2::from_elem((1, 1), 1.41);
        assert!(grid.quantise_features(phi.view()).is_ok());
    }

    #[test]
    fn limbs_add_without_carries() {
        let values = [i128::MAX / 4, -1, 0, -(1 << 90), 12345];
        let parts: Vec<Vec<u64>> = (0..3).map(|_| to_limbs(&values)).collect();
        let summed: Vec<u64> = (0..parts[0].len())
            .map(|i| parts.iter().map(|p| p[i]).sum())
            .collect();
        let expected: Vec<i128> = values.iter().map(|v| v * 3).collect();
        assert_eq!(from_limbs(&summed), expected);
    }
}

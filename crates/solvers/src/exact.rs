//! Exact, order-independent sums of products: the fixed-point arithmetic behind
//! [`RidgeAccumulator`](crate::RidgeAccumulator).
//!
//! Floating-point addition is not associative, so sums of ΦᵀΦ folded chunk by chunk and merged
//! in another grouping (a tree reduction over workers) differ in their last bits. Here every value
//! is first rounded once to a fixed-point [`Grid`], q = round(v / 2ᵉ) with |q| ≤ [`FEATURE_LIMIT`]
//! (features) or [`TARGET_LIMIT`] (targets), and every sum is an integer sum, which is exact,
//! hence the same in any order and for any cut of the rows into chunks or partitions:
//!
//! - ΦᵀΦ, the fit's bulk (D(D+1)/2 multiply-adds a row), is summed from 16-bit integers: the
//!   lower triangle of each block's QᵀQ by [`rks::gram`] (AVX-512 VNNI `vpdpwssd` or AVX2
//!   `vpmaddwd`, several times the multiply-adds per second of an f64 GEMM; 32-bit lanes,
//!   widened into `i64` every 32 row pairs, before they can overflow); on CPUs without those
//!   instructions by an f64 GEMM, exact all the same because every partial sum, at most
//!   `BLOCK_ROWS · FEATURE_LIMIT² < 2³⁶`, is an integer below 2⁵³.
//! - ΦᵀY by an f64 GEMM over the same blocks: its sums, at most
//!   `BLOCK_ROWS · FEATURE_LIMIT · TARGET_LIMIT ≤ 2⁵³`, are exact too.
//! - The block sums are added into `i64` partial sums, which hold [`I64_BLOCKS`] = 256 blocks,
//!   and those into `i128`, which holds up to 2¹²⁷: about 2⁷⁰ blocks (the `fold` submodule).
//! - For transport through an engine that only adds plain integers (MPI's `MPI_SUM`), each `i128`
//!   is split into four 32-bit digits held in `u64` limbs ([`to_limbs`]); limbs add
//!   independently without carries for up to 2³² parties and recombine exactly ([`from_limbs`]).
//!   (An operation over whole `(lo, hi)` pairs is not safe: an engine may split a buffer at any
//!   element.)
//!
//! The grid's steps are powers of two, so v/2ᵉ and q·2ᵉ are exact and only the one rounding to
//! the grid happens. A feature grid has [`FEATURE_BITS`] = 12 bits below the power of two at or
//! above the features' bound B (a step of 2⁻¹² to 2⁻¹¹ of B): the rounding adds to each feature
//! an error of at most half a step, whose effect on ridge is about that of a ridge term of
//! step²/12 per row, below 10⁻⁷ of the features' mean square (`tests/exact.rs` holds the fit to
//! the f64 closed form on fresh rows; `docs/benchmarks.md` compares accuracies with the earlier
//! 22-bit grid). A target grid centres the targets' range [lo, hi] at
//! c = (lo + hi)/2 and has [`TARGET_BITS`] = 22 bits below the half-range, so y − c is quantised
//! (ridge's intercept absorbs c exactly). Values up to √2 times the bound are accepted, so
//! rounding in the bound's own computation can never reject a value that is mathematically
//! within it.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use rks::Element;

mod fold;
pub use fold::I64_BLOCKS;
pub(crate) use fold::Scratch;
use serde::{Deserialize, Serialize};

use crate::error::{Param, Result, SolversError, invalid};

/// Bits of resolution of a feature grid below the power of two at or above its bound.
pub const FEATURE_BITS: i32 = 12;

/// The largest |q| accepted on a feature grid: ⌊√2 · 2¹²⌋, so that a value up to √2 times its
/// bound fits; a 16-bit integer.
pub const FEATURE_LIMIT: f64 = 5_792.0;

/// Bits of resolution of a target grid below the power of two at or above its half-range.
pub const TARGET_BITS: i32 = 22;

/// The largest |q| accepted on a target grid: ⌊√2 · 2²²⌋.
pub const TARGET_LIMIT: f64 = 5_931_641.0;

/// Bits of resolution of a row weight's square root below the power of two at or above the
/// largest one's ([`WeightGrid`]).
pub const WEIGHT_BITS: i32 = 12;

/// The largest integer sᵢ of a row weight on a [`WeightGrid`]: 2¹².
pub const WEIGHT_LIMIT: f64 = 4_096.0;

/// Rows per exact block: the f64 routes' sums, at most `BLOCK_ROWS · FEATURE_LIMIT²` (ΦᵀΦ) and
/// `BLOCK_ROWS · FEATURE_LIMIT · TARGET_LIMIT` (ΦᵀY), are exact.
pub const BLOCK_ROWS: usize = 1024;

const _: () = assert!(BLOCK_ROWS as f64 * FEATURE_LIMIT * FEATURE_LIMIT <= 9_007_199_254_740_992.0);
const _: () = assert!(BLOCK_ROWS as f64 * FEATURE_LIMIT * TARGET_LIMIT <= 9_007_199_254_740_992.0);
const _: () = assert!(FEATURE_LIMIT <= i16::MAX as f64);

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
/// assert_eq!(grid.feature_step(), 2f64.powi(-5 - 12));
/// assert_eq!(grid.target_step(), 2f64.powi(-22));
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
        let feature_exp = ceil_log2(feature_bound) - FEATURE_BITS;
        let target_exp = ceil_log2(half) - TARGET_BITS;
        for (name, e, bits) in [
            (Param::FeatureBound, feature_exp, FEATURE_BITS),
            (Param::TargetRange, target_exp, TARGET_BITS),
        ] {
            if !EXP_RANGE.contains(&(e + bits)) {
                return Err(invalid(
                    name,
                    format!("its magnitude 2^{} is outside 2^-900 … 2^900", e + bits),
                ));
            }
        }
        Ok(Self {
            feature_exp,
            target_offset,
            target_exp,
        })
    }

    /// This grid widened for rows scaled by up to `factor` (≥ 1: a weighted fit's largest
    /// √w, [`WeightGrid`]): each step times the power of two at or above `factor`, the target
    /// offset kept.
    pub fn widened(&self, factor: f64) -> Result<Self> {
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(invalid(
                Param::RowWeights,
                format!("a grid widens by a finite factor ≥ 1, got {factor}"),
            ));
        }
        let up = ceil_log2(factor);
        let grid = Self {
            feature_exp: self.feature_exp + up,
            target_exp: self.target_exp + up,
            ..*self
        };
        grid.check()?;
        Ok(grid)
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

    /// The rows `phi` as statistics on this grid hold them: each value rounded to the feature
    /// grid (q·2ᵉ; exact in f64). Leave-one-out from the statistics needs a row exactly as it
    /// was summed: near interpolation 1 − hᵢᵢ is small, and a row off by the grid's rounding
    /// would change it by far more than its own size.
    pub fn round_features(&self, phi: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        Self::rounded(self.features(), self.feature_step(), 0.0, phi)
    }

    /// The targets `y` as statistics on this grid hold them: c + q·2ᵉ.
    pub fn round_targets(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        Self::rounded(self.targets(), self.target_step(), self.target_offset, y)
    }

    /// Values `v` from which the target offset c was already taken (a weighted fit's scaled
    /// targets rᵢ(yᵢ − c), [`WeightGrid`]) as statistics on this grid hold them: q·2ᵉ.
    pub(crate) fn round_centred_targets(&self, v: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        Self::rounded(self.targets().centred(), self.target_step(), 0.0, v)
    }

    fn rounded(
        quantiser: Quantiser,
        step: f64,
        offset: f64,
        v: ArrayView2<'_, f64>,
    ) -> Result<Array2<f64>> {
        let mut q = Vec::new();
        quantiser.quantise_into(v, &mut q)?;
        let values = q.into_iter().map(|q| offset + q * step).collect();
        Ok(Array2::from_shape_vec(v.dim(), values)
            .unwrap_or_else(|_| unreachable!("one value per entry, row-major")))
    }

    /// How features go onto this grid.
    pub(crate) fn features(&self) -> Quantiser {
        Quantiser {
            offset: 0.0,
            exp: self.feature_exp,
            limit: FEATURE_LIMIT,
            what: "feature",
        }
    }

    /// How targets go onto this grid (as y − c).
    pub(crate) fn targets(&self) -> Quantiser {
        Quantiser {
            offset: self.target_offset,
            exp: self.target_exp,
            limit: TARGET_LIMIT,
            what: "target",
        }
    }

    /// Checks the fields of a decoded grid.
    pub(crate) fn check(&self) -> Result<()> {
        let ok = EXP_RANGE.contains(&(self.feature_exp + FEATURE_BITS))
            && EXP_RANGE.contains(&(self.target_exp + TARGET_BITS))
            && self.target_offset.is_finite();
        if ok {
            Ok(())
        } else {
            Err(invalid(Param::Grid, format!("inconsistent grid {self:?}")))
        }
    }
}

/// The fixed-point grid of a weighted fit's row weights: the square root of each weight wᵢ is
/// rounded once to rᵢ = sᵢ·2ᵉ, sᵢ = round(√wᵢ / 2ᵉ) an integer of at most [`WEIGHT_LIMIT`]
/// (2ᵉ⁺¹² the power of two at or above the square root of the largest weight allowed), and the
/// row enters the statistics scaled, as rᵢφᵢ and rᵢ(yᵢ − c), with its weight counted as sᵢ²:
/// weighted least squares Σwᵢ(yᵢ − ŷᵢ)² is ordinary least squares on the scaled rows with the
/// intercept's column r in place of 1, and the weighted sums Σsᵢqᵢ, Σsᵢtᵢ and Σsᵢ² are integer
/// sums like the others, so a weighted fit is as exact and order-independent as a plain one.
/// A weight below 2⁻²⁶ of the largest rounds to 0 (the row is left out).
///
/// ```
/// use rks_solvers::exact::WeightGrid;
/// let grid = WeightGrid::new(9.0)?; // √9 = 3 ≤ 4 = 2², so e = 2 − 12
/// assert_eq!(grid.integer(9.0), 3 * 1024);
/// assert_eq!(grid.root(grid.integer(1.0)), 1.0);
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightGrid {
    /// The step of √w is 2^exp.
    exp: i32,
}

impl WeightGrid {
    /// The grid for weights in [0, `max_weight`] (finite and > 0).
    pub fn new(max_weight: f64) -> Result<Self> {
        if !(max_weight.is_finite() && max_weight > 0.0) {
            return Err(invalid(
                Param::RowWeights,
                format!("the largest weight must be finite and > 0, got {max_weight}"),
            ));
        }
        let exp = ceil_log2(max_weight.sqrt()) - WEIGHT_BITS;
        if !EXP_RANGE.contains(&(exp + WEIGHT_BITS)) {
            return Err(invalid(
                Param::RowWeights,
                format!("the largest weight {max_weight} is outside 2^-1800 … 2^1800"),
            ));
        }
        Ok(Self { exp })
    }

    /// sᵢ = round(√w / 2ᵉ) of a weight w in [0, the grid's largest]; anything else is not
    /// checked here ([`RidgeAccumulator::update_weighted`](crate::RidgeAccumulator::update_weighted) checks).
    pub fn integer(&self, w: f64) -> i64 {
        round_ties_even(w.sqrt() * pow2(-self.exp)) as i64
    }

    /// rᵢ = sᵢ·2ᵉ: the square root of the weight a row with integer `s` carries.
    pub fn root(&self, s: i64) -> f64 {
        s as f64 * pow2(self.exp)
    }

    /// 2ᵉ, the step of √w.
    pub fn step(&self) -> f64 {
        pow2(self.exp)
    }

    /// Checks the field of a decoded grid.
    pub(crate) fn check(&self) -> Result<()> {
        if EXP_RANGE.contains(&(self.exp + WEIGHT_BITS)) {
            Ok(())
        } else {
            Err(invalid(
                Param::Grid,
                format!("inconsistent weight grid {self:?}"),
            ))
        }
    }
}

/// One kind of value (features or targets) on its grid: q = round((v − offset) / 2^exp), with
/// |q| ≤ `limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quantiser {
    offset: f64,
    exp: i32,
    /// [`FEATURE_LIMIT`] or [`TARGET_LIMIT`].
    limit: f64,
    /// Names the values in an [`SolversError::OffGrid`].
    what: &'static str,
}

impl Quantiser {
    /// The same grid for values from which the offset was already taken (a weighted fit's
    /// scaled targets rᵢ(yᵢ − c), [`WeightGrid`]).
    pub(crate) fn centred(self) -> Self {
        Self {
            offset: 0.0,
            ..self
        }
    }

    /// The grid integers of `v` (rows × cols, any layout) into `out`, row-major (`out` is resized
    /// to rows·cols). An entry beyond the limit is an [`SolversError::OffGrid`] naming the first
    /// such entry in column-major order.
    pub(crate) fn quantise_into<F: Element>(
        &self,
        v: ArrayView2<'_, F>,
        out: &mut Vec<f64>,
    ) -> Result<()> {
        self.quantise_with(v, out, |q, _| q)
    }

    /// The same integers as [`quantise_into`](Self::quantise_into), as `i16` (only for a grid
    /// whose limit is below 2¹⁵: the feature grid): read from the low bits of the rounding sum
    /// ([`round_bits`]) rather than converted, so the loop has no saturating conversion and the
    /// compiler vectorises it (this step, a conversion pass and the column sums over the f64
    /// integers took about 15 % of a streamed fit).
    pub(crate) fn quantise_i16_into<F: Element>(
        &self,
        v: ArrayView2<'_, F>,
        out: &mut Vec<i16>,
    ) -> Result<()> {
        debug_assert!(self.limit <= f64::from(i16::MAX));
        // The low 16 bits of the sum are q in two's complement (|q| < 2¹⁵).
        self.quantise_with(v, out, |_, bits| bits as u16 as i16)
    }

    /// Rounds every entry of `v` onto the grid and writes `store(q, bits)` of its integer q (and
    /// the bits of its rounding sum, [`round_bits`]) into `out`, row-major. One pass without
    /// branches, rows in parallel (each row's integers depend on that row alone); the entries
    /// off the grid are counted (not and-ed, so that the loop vectorises; a NaN counts as off),
    /// and only when there are some does a second pass look for the first one.
    fn quantise_with<F: Element, T: Copy + Default + Send>(
        &self,
        v: ArrayView2<'_, F>,
        out: &mut Vec<T>,
        store: impl Fn(f64, u64) -> T + Sync,
    ) -> Result<()> {
        let inverse = pow2(-self.exp);
        out.resize(v.len(), T::default());
        let cols = v.ncols();
        if cols == 0 {
            return Ok(());
        }
        let all_on_grid = out
            .par_chunks_mut(cols)
            .enumerate()
            .map(|(i, row)| {
                let source = v.row(i);
                let mut off = 0u32;
                let mut one = |o: &mut T, x: F| {
                    let (q, bits) = round_bits((x.to_f64_exact() - self.offset) * inverse);
                    *o = store(q, bits);
                    off += u32::from(q.abs() > self.limit || q.is_nan());
                };
                match source.as_slice() {
                    Some(xs) => row.iter_mut().zip(xs).for_each(|(o, &x)| one(o, x)),
                    None => row.iter_mut().zip(source).for_each(|(o, &x)| one(o, x)),
                }
                off == 0
            })
            .reduce(|| true, |a, b| a && b);
        if all_on_grid {
            Ok(())
        } else {
            Err(self.first_off_grid(v))
        }
    }

    /// The error for the first entry of `v` off the grid, in column-major order.
    fn first_off_grid<F: Element>(&self, v: ArrayView2<'_, F>) -> SolversError {
        let inverse = pow2(-self.exp);
        let off = v.indexed_iter().filter_map(|((row, col), &x)| {
            let x = x.to_f64_exact();
            let q = round_ties_even((x - self.offset) * inverse);
            (q.abs() > self.limit || q.is_nan()).then_some((col, row, x))
        });
        let (col, row, value) = off
            .min_by_key(|&(col, row, _)| (col, row))
            .unwrap_or_else(|| unreachable!("called when some entry is off the grid"));
        SolversError::OffGrid {
            what: self.what,
            row,
            col,
            value,
            bound: (self.limit * pow2(self.exp)).abs(),
        }
    }
}

/// Rounds to the nearest integer, ties to even, exactly as [`f64::round_ties_even`] wherever
/// the result can be on a grid, and without a libm call: for |s| ≤ 2⁵¹, s + 1.5·2⁵² lies in
/// [2⁵², 2⁵³], where the float spacing is 1, so the addition itself rounds s to an integer (to
/// even on ties: 1.5·2⁵² is even) and the subtraction is exact. Larger |s| are clamped to ±2⁵¹,
/// far off any grid (|q| ≤ [`TARGET_LIMIT`] < 2²³); NaN stays NaN.
pub(crate) fn round_ties_even(s: f64) -> f64 {
    round_bits(s).0
}

/// [`round_ties_even`] of `s`, and the bits of the sum it is read from: s (clamped) + 1.5·2⁵²
/// lies in [2⁵², 2⁵³] with the exponent fixed, so its mantissa is the integer plus 2⁵¹, and its
/// low bits are the integer in two's complement (2⁵¹ is a multiple of 2¹⁶).
#[inline(always)]
pub(crate) fn round_bits(s: f64) -> (f64, u64) {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 · 2⁵²
    const EDGE: f64 = 2_251_799_813_685_248.0; // 2⁵¹
    let c = s.clamp(-EDGE, EDGE);
    let sum = c + MAGIC;
    (sum - MAGIC, sum.to_bits())
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

/// The columns of a packed lower triangle of order d, each with its index: column j holds rows
/// j..d.
fn packed_columns_mut<T>(packed: &mut [T], d: usize) -> Vec<(usize, &mut [T])> {
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
        let mut q = Vec::new();
        // Two entries off the grid: the first in column-major order is named.
        let phi = Array2::from_shape_fn((3, 2), |(i, j)| match (i, j) {
            (0, 1) => f64::NAN,
            (2, 0) => -1.5,
            _ => 0.5,
        });
        match grid.features().quantise_into(phi.view(), &mut q) {
            Err(SolversError::OffGrid { what, row, col, .. }) => {
                assert_eq!((what, row, col), ("feature", 2, 0))
            }
            other => panic!("{other:?}"),
        }
        let y = Array2::from_shape_fn((2, 1), |(i, _)| if i == 1 { 3.0 } else { 0.0 });
        match grid.targets().quantise_into(y.view(), &mut q) {
            Err(SolversError::OffGrid { what, row, col, .. }) => {
                assert_eq!((what, row, col), ("target", 1, 0))
            }
            other => panic!("{other:?}"),
        }
        // √2 times the bound is still accepted (slack for rounding in the bound).
        let phi = Array2::from_elem((1, 1), 1.41);
        assert!(grid.features().quantise_into(phi.view(), &mut q).is_ok());
    }

    /// The 16-bit route gives the integers of the f64 one, in every layout, at and beyond the
    /// limit, and the same error for the same first entry off the grid.
    #[test]
    fn sixteen_bit_quantisation_is_the_f64_one() {
        let grid = Grid::new(1.0, -1.0, 1.0).unwrap();
        let step = grid.feature_step();
        let phi = Array2::from_shape_fn((37, 29), |(i, j)| {
            let k = (i * 29 + j) as f64;
            // Values over the whole grid, ties (k/2 steps) included, and the edges.
            match (i * 29 + j) % 11 {
                0 => FEATURE_LIMIT * step,
                1 => -FEATURE_LIMIT * step,
                _ => ((k * 0.618_034).fract() * 2.0 - 1.0) * 1.4 + (k % 2.0) * step / 2.0,
            }
        });
        let (mut wide, mut narrow) = (Vec::new(), Vec::new());
        let every_other = phi.slice_axis(ndarray::Axis(0), ndarray::Slice::new(0, None, 2));
        for view in [phi.view(), phi.t(), every_other] {
            grid.features().quantise_into(view, &mut wide).unwrap();
            grid.features()
                .quantise_i16_into(view, &mut narrow)
                .unwrap();
            let narrow: Vec<f64> = narrow.iter().map(|&v| f64::from(v)).collect();
            assert_eq!(narrow, wide);
            assert!(wide.contains(&FEATURE_LIMIT) && wide.iter().any(|&v| v < 0.0));
        }
        let mut bad = phi.clone();
        bad[[3, 4]] = (FEATURE_LIMIT + 1.0) * step;
        bad[[5, 2]] = f64::NAN;
        let first = |r: Result<()>| match r {
            Err(SolversError::OffGrid { row, col, .. }) => (row, col),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            first(grid.features().quantise_i16_into(bad.view(), &mut narrow)),
            first(grid.features().quantise_into(bad.view(), &mut wide))
        );
        assert_eq!(
            first(grid.features().quantise_i16_into(bad.view(), &mut narrow)),
            (5, 2)
        );
    }

    #[test]
    fn quantised_rows_are_row_major_grid_integers() {
        // Steps 2⁻²: the features are multiples of 1/4 away from the grid's integers.
        let grid = Grid::new(2f64.powi(10), 0.0, 1.0).unwrap();
        let phi = ndarray::array![[0.375f32, -0.125], [1.0, 300.0]];
        let mut q = Vec::new();
        grid.features().quantise_into(phi.view(), &mut q).unwrap();
        // 1.5 → 2 and −0.5 → −0 (ties to even), 4, 1,200.
        assert_eq!(q, [2.0, -0.0, 4.0, 1200.0]);
        let t = ndarray::array![[0.0], [1.0], [0.5]];
        grid.targets().quantise_into(t.view(), &mut q).unwrap();
        assert_eq!(q, [-4_194_304.0, 4_194_304.0, 0.0]);
    }

    #[test]
    fn rounding_matches_the_standard_library_wherever_it_matters() {
        let mut values = vec![0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994];
        for k in [
            1.0,
            FEATURE_LIMIT,
            TARGET_LIMIT - 1.0,
            TARGET_LIMIT,
            TARGET_LIMIT + 1.0,
            2f64.powi(51),
            2f64.powi(52),
        ] {
            for s in [k - 0.5, k, k + 0.5, k.next_up(), k.next_down()] {
                values.extend([s, -s]);
            }
        }
        // A spread of magnitudes from a simple congruential generator.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
            let exponent = (state % 64) as i32 - 10;
            values.push((mantissa - 0.5) * 2f64.powi(exponent));
        }
        for s in values {
            let (fast, exact) = (round_ties_even(s), s.round_ties_even());
            if exact.abs() <= 2f64.powi(51) {
                // Equal as numbers (a zero's sign may differ: it is the integer 0 either way).
                assert_eq!(fast, exact, "{s}");
            } else {
                assert!(
                    fast.abs() > TARGET_LIMIT && exact.abs() > TARGET_LIMIT,
                    "{s}"
                );
            }
        }
        for s in [f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300] {
            assert!(round_ties_even(s).abs() > TARGET_LIMIT);
        }
        assert!(round_ties_even(f64::NAN).is_nan());
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

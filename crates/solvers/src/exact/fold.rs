//! Folding blocks of rows into the exact statistics of a ridge fit, with buffers reused from
//! block to block and call to call.
//!
//! A block of at most [`BLOCK_ROWS`] rows is rounded to the grid (Q: rows × D, T: rows × m, grid
//! integers), and its sums ΣQ, ΣT, ΣT², QᵀQ (lower triangle) and QᵀT are computed exactly: QᵀQ
//! by [`rks::gram`]'s 16-bit kernels (AVX2 or AVX-512 VNNI), or where the CPU has neither by an
//! f64 product, and QᵀT by f64 multiply-adds, whose every entry is an integer of magnitude at most
//! `BLOCK_ROWS · FEATURE_LIMIT · TARGET_LIMIT ≤ 2⁵³`. Those block sums are added into `i64`
//! partial sums, which hold [`I64_BLOCKS`] blocks without overflow, and the partial sums are
//! added into the `i128` statistics (and cleared) by [`Folder::flush`], at the latest every
//! [`I64_BLOCKS`] blocks. Integer sums are exact, so the statistics are the same as adding each
//! block into `i128` directly, whatever the kernel or the order.

use ndarray::ArrayView2;
use rayon::prelude::*;
use rks::Element;
use rks::gram::{PackedRows, add_lower_gram};
use rks::simd::Simd;

use super::{
    BLOCK_ROWS, FEATURE_LIMIT, Grid, TARGET_LIMIT, WEIGHT_LIMIT, packed_columns_mut, packed_len,
};
use crate::error::Result;

/// |q| ≤ [`TARGET_LIMIT`] as an integer: the larger of the two limits.
const TARGET_INT: i64 = TARGET_LIMIT as i64;
const _: () = assert!(TARGET_INT as f64 == TARGET_LIMIT && FEATURE_LIMIT <= TARGET_LIMIT);

/// Blocks whose sums add in an `i64` without overflow: each entry of a block's sums has magnitude
/// at most `BLOCK_ROWS · TARGET_LIMIT²` (ΣT², the largest; QᵀQ's are at most
/// `BLOCK_ROWS · FEATURE_LIMIT²`), so ⌊(2⁶³ − 1) / (BLOCK_ROWS · TARGET_LIMIT²)⌋ = 256 blocks fit.
pub const I64_BLOCKS: usize = (i64::MAX / (BLOCK_ROWS as i64 * TARGET_INT * TARGET_INT)) as usize;
const _: () = assert!(I64_BLOCKS >= 1);
// A weighted block's sums Σsq and Σst stay below a block's ΣT² bound, so the same count holds.
const _: () = assert!(WEIGHT_LIMIT <= TARGET_LIMIT);

/// Columns of the packed QᵀQ per parallel task, at least.
const PANEL: usize = 64;

/// The statistics' sums in their fixed order: Σq (features), Σt and Σt² (targets), QᵀQ (packed
/// lower triangle, column-major) and QᵀT (column-major D × m).
pub(crate) type Sums<'a> = [&'a mut Vec<i128>; 5];

/// Buffers and `i64` partial sums for folding blocks into a [`Sums`]; see the
/// [module docs](self).
#[derive(Debug)]
pub(crate) struct Folder {
    dim: usize,
    outputs: usize,
    /// The block's features on the grid as f64, row-major rows × D: only where the CPU has no
    /// 16-bit kernel (for the f64 GEMM).
    q: Vec<f64>,
    /// The block's targets on the grid, row-major rows × m.
    t: Vec<f64>,
    /// The block's features on the grid as 16-bit integers (row-major rows × D), and packed
    /// for [`rks::gram`].
    q16: Vec<i16>,
    packed: PackedRows,
    /// The exact f64 products of a block's QᵀT.
    cross: Vec<f64>,
    /// Partial sums in the order of [`Sums`].
    partial: [Vec<i64>; 5],
    /// Blocks added since the last flush.
    blocks: usize,
}

impl Folder {
    /// Buffers for D = `dim` features and m = `outputs` targets.
    pub(crate) fn new(dim: usize, outputs: usize) -> Self {
        let gram_len = packed_len(dim).unwrap_or_else(|| unreachable!("the statistics exist"));
        Self {
            dim,
            outputs,
            q: Vec::new(),
            t: Vec::with_capacity(BLOCK_ROWS * outputs),
            q16: Vec::new(),
            packed: PackedRows::new(),
            cross: Vec::new(),
            partial: [
                vec![0; dim],
                vec![0; outputs],
                vec![0; outputs],
                vec![0; gram_len],
                vec![0; dim * outputs],
            ],
            blocks: 0,
        }
    }

    /// Whether these buffers fit D = `dim` features and m = `outputs` targets.
    pub(crate) fn fits(&self, dim: usize, outputs: usize) -> bool {
        (self.dim, self.outputs) == (dim, outputs)
    }

    /// Rounds a block (at most [`BLOCK_ROWS`] rows of features `phi` and targets `y`) to `grid`
    /// and adds its sums to the partial sums, flushing them into `sums` first when they are full.
    /// On an [`OffGrid`](crate::SolversError::OffGrid) entry nothing is added.
    ///
    /// With `weights` (one integer sᵢ ≤ [`WEIGHT_LIMIT`] per row, [`crate::exact::WeightGrid`])
    /// the rows are a weighted fit's, already scaled: `phi` holds rᵢφᵢ and `y` holds rᵢ(yᵢ − c)
    /// (rᵢ = sᵢ·2^e, c the grid's target offset, which is then not subtracted again), and the
    /// column sums are weighted, Σsᵢqᵢ and Σsᵢtᵢ (Σt² and the products are the scaled rows'
    /// own).
    pub(crate) fn add_block<F: Element>(
        &mut self,
        grid: &Grid,
        phi: ArrayView2<'_, F>,
        y: ArrayView2<'_, f64>,
        weights: Option<&[i64]>,
        sums: Sums<'_>,
    ) -> Result<()> {
        debug_assert!(phi.nrows() <= BLOCK_ROWS && phi.nrows() == y.nrows());
        debug_assert!(self.fits(phi.ncols(), y.ncols()));
        debug_assert!(weights.is_none_or(|s| s.len() == phi.nrows()));
        // Grid integers of magnitude ≤ FEATURE_LIMIT < 2¹⁵: exact as i16.
        grid.features().quantise_i16_into(phi, &mut self.q16)?;
        let targets = match weights {
            Some(_) => grid.targets().centred(),
            None => grid.targets(),
        };
        targets.quantise_into(y, &mut self.t)?;
        if self.blocks == I64_BLOCKS {
            self.flush(sums);
        }
        let rows = phi.nrows();
        let [sum_q, sum_t, sum_tt, gram, cross] = &mut self.partial;
        match weights {
            None => {
                add_feature_sums(&self.q16, sum_q);
                add_column_sums(&self.t, sum_t, Some(sum_tt));
            }
            Some(s) => {
                add_weighted_sums(&self.q16, s, sum_q, i64::from);
                add_weighted_sums(&self.t, s, sum_t, |v| v as i64);
                add_column_squares(&self.t, sum_tt);
            }
        }
        let simd = Simd::detect();
        if has_16_bit_kernel(simd) {
            self.packed
                .pack(&self.q16, self.dim)
                .unwrap_or_else(|e| unreachable!("grid integers are whole rows above -2^15: {e}"));
            add_lower_gram(simd, &self.packed, gram);
        } else {
            self.q.clear();
            self.q.extend(self.q16.iter().map(|&v| f64::from(v)));
            let q = ArrayView2::from_shape((rows, self.dim), &self.q)
                .unwrap_or_else(|_| unreachable!("the block holds rows × D features"));
            add_gram(q, gram);
        }
        add_cross(
            &self.q16,
            &self.t,
            (self.dim, self.outputs),
            &mut self.cross,
            cross,
        );
        self.blocks += 1;
        Ok(())
    }

    /// Adds the partial sums into `sums` and clears them.
    pub(crate) fn flush(&mut self, sums: Sums<'_>) {
        for (total, partial) in sums.into_iter().zip(&mut self.partial) {
            total
                .par_iter_mut()
                .zip(partial.par_iter_mut())
                .with_min_len(1 << 14)
                .for_each(|(s, p)| *s += i128::from(std::mem::take(p)));
        }
        self.blocks = 0;
    }
}

/// Adds each column's sum of the row-major `values` (and, given `squares`, of their squares) to
/// `sums`. Every value is a grid integer, so the conversions are exact.
fn add_column_sums(values: &[f64], sums: &mut [i64], squares: Option<&mut Vec<i64>>) {
    let cols = sums.len();
    if cols == 0 {
        return;
    }
    // Columns in parallel, in runs of COLUMN_RUN (each run's sums over every row).
    let add = |sums: &mut [i64], first: usize, square: bool| {
        for row in values.chunks_exact(cols) {
            let row = &row[first..first + sums.len()];
            for (s, &v) in sums.iter_mut().zip(row) {
                *s += if square {
                    v as i64 * v as i64
                } else {
                    v as i64
                };
            }
        }
    };
    sums.par_chunks_mut(COLUMN_RUN)
        .enumerate()
        .for_each(|(k, run)| add(run, k * COLUMN_RUN, false));
    if let Some(squares) = squares {
        squares
            .par_chunks_mut(COLUMN_RUN)
            .enumerate()
            .for_each(|(k, run)| add(run, k * COLUMN_RUN, true));
    }
}

/// Adds each column's sum of squares of the row-major grid integers `values` to `squares`
/// (a target's at most `TARGET_LIMIT²` a row: exact in `i64` over a block).
fn add_column_squares(values: &[f64], squares: &mut [i64]) {
    let cols = squares.len();
    if cols == 0 {
        return;
    }
    for row in values.chunks_exact(cols) {
        for (s, &v) in squares.iter_mut().zip(row) {
            *s += v as i64 * v as i64;
        }
    }
}

/// Adds each column's weighted sum Σᵢ sᵢ·vᵢⱼ of the row-major grid integers `values` (one
/// weight sᵢ ≤ [`WEIGHT_LIMIT`] per row; a block of at most [`BLOCK_ROWS`] rows, so each sum is
/// below `BLOCK_ROWS · WEIGHT_LIMIT · TARGET_LIMIT` < 2⁴⁶) to `sums`, exactly.
fn add_weighted_sums<T: Copy + Sync>(
    values: &[T],
    s: &[i64],
    sums: &mut [i64],
    int: impl Fn(T) -> i64 + Sync,
) {
    let cols = sums.len();
    if cols == 0 {
        return;
    }
    sums.par_chunks_mut(COLUMN_RUN)
        .enumerate()
        .for_each(|(k, run)| {
            let (first, len) = (k * COLUMN_RUN, run.len());
            for (row, &si) in values.chunks_exact(cols).zip(s) {
                for (total, &v) in run.iter_mut().zip(&row[first..first + len]) {
                    *total += si * int(v);
                }
            }
        });
}

/// Adds each column's sum of the row-major 16-bit grid integers `q` (a block: at most
/// [`BLOCK_ROWS`] rows, so the sums fit an `i32`) to `sums`.
fn add_feature_sums(q: &[i16], sums: &mut [i64]) {
    const _: () = assert!(BLOCK_ROWS as f64 * FEATURE_LIMIT <= i32::MAX as f64);
    let cols = sums.len();
    if cols == 0 {
        return;
    }
    sums.par_chunks_mut(COLUMN_RUN)
        .enumerate()
        .for_each(|(k, run)| {
            let first = k * COLUMN_RUN;
            let mut block = [0i32; COLUMN_RUN];
            let block = &mut block[..run.len()];
            for row in q.chunks_exact(cols) {
                for (b, &v) in block.iter_mut().zip(&row[first..first + run.len()]) {
                    *b += i32::from(v);
                }
            }
            for (s, &b) in run.iter_mut().zip(block.iter()) {
                *s += i64::from(b);
            }
        });
}

/// Columns per parallel task of the column sums and of QᵀT.
const COLUMN_RUN: usize = 256;

/// Whether `simd` runs one of [`rks::gram`]'s vector kernels (AVX2 or AVX-512 VNNI); elsewhere
/// the f64 GEMM ([`add_gram`]) is the faster exact route.
fn has_16_bit_kernel(simd: Simd) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        simd.avx2_fma().is_some()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = simd;
        false
    }
}

/// Adds the lower triangle of QᵀQ to `packed` (packed lower triangle, column-major) from the
/// exact f64 product ([`crate::dense::product`]: every partial sum an integer below 2⁵³): the
/// route where the CPU has no 16-bit kernel, and the reference the tests hold the kernels to.
fn add_gram(q: ArrayView2<'_, f64>, packed: &mut [i64]) {
    let d = q.ncols();
    let gram = crate::dense::product(q.t(), q);
    packed_columns_mut(packed, d)
        .into_par_iter()
        .with_min_len(PANEL)
        .for_each(|(j, column)| {
            // Column j from its diagonal down: row j from its diagonal on (QᵀQ is symmetric).
            let products = gram.row(j);
            for (g, &p) in column.iter_mut().zip(products.iter().skip(j)) {
                // An integer of magnitude ≤ 2⁵³: exact as i64.
                *g += p as i64;
            }
        });
}

/// Adds QᵀT (D × m) to `cross` (column-major), with `scratch` (D × m) for the exact products:
/// row by row, each target times the row's features added into its column (an axpy the
/// compiler vectorises; with m a handful of outputs, a GEMM spends its time packing), runs of
/// columns in parallel. Every partial sum is an integer below
/// `BLOCK_ROWS · FEATURE_LIMIT · TARGET_LIMIT ≤ 2⁵³`: exact.
fn add_cross(
    q: &[i16],
    t: &[f64],
    (d, m): (usize, usize),
    scratch: &mut Vec<f64>,
    cross: &mut [i64],
) {
    if d == 0 || m == 0 {
        return;
    }
    scratch.clear();
    scratch.resize(d * m, 0.0);
    for (k, column) in scratch.chunks_exact_mut(d).enumerate() {
        column
            .par_chunks_mut(COLUMN_RUN)
            .enumerate()
            .for_each(|(c, run)| {
                let first = c * COLUMN_RUN;
                for (row, targets) in q.chunks_exact(d).zip(t.chunks_exact(m)) {
                    let target = targets[k];
                    let row = &row[first..first + run.len()];
                    for (s, &v) in run.iter_mut().zip(row) {
                        *s += target * f64::from(v);
                    }
                }
            });
    }
    for (c, &s) in cross.iter_mut().zip(scratch.iter()) {
        *c += s as i64;
    }
}

/// A [`Folder`], and a buffer for a chunk's features, kept by their owner between calls: scratch
/// space, not state (the owner flushes the folder before every call returns), so it is not
/// serialised, a clone starts without one, and it never makes two owners unequal.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    folder: Option<Box<Folder>>,
    features: Vec<f64>,
}

impl Scratch {
    /// The folder, made (or remade) for D = `dim` features and m = `outputs` targets.
    pub(crate) fn folder(&mut self, dim: usize, outputs: usize) -> &mut Folder {
        if !self.folder.as_ref().is_some_and(|f| f.fits(dim, outputs)) {
            self.folder = Some(Box::new(Folder::new(dim, outputs)));
        }
        self.folder
            .as_mut()
            .unwrap_or_else(|| unreachable!("made just above"))
    }

    /// The features buffer, taken out (give it back with [`put_features`](Self::put_features)):
    /// a chunk's features are written into the same memory chunk after chunk, instead of a
    /// fresh allocation whose pages the system zeroes and maps each time.
    pub(crate) fn take_features(&mut self) -> Vec<f64> {
        std::mem::take(&mut self.features)
    }

    /// Gives the features buffer back.
    pub(crate) fn put_features(&mut self, features: Vec<f64>) {
        self.features = features;
    }
}

impl Clone for Scratch {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for Scratch {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// A grid with feature and target steps of 1 (and targets centred at 0), so that grid
    /// integers go through unchanged.
    fn unit_grid() -> Grid {
        let (bound, half) = (
            2f64.powi(super::super::FEATURE_BITS),
            2f64.powi(super::super::TARGET_BITS),
        );
        let grid = Grid::new(bound, -half, half).unwrap();
        assert_eq!((grid.feature_step(), grid.target_step()), (1.0, 1.0));
        grid
    }

    /// The sums in [`Sums`] order, straight from the definitions in `i128`.
    fn reference(q: &Array2<f64>, t: &Array2<f64>) -> [Vec<i128>; 5] {
        let (d, m) = (q.ncols(), t.ncols());
        let int = |v: f64| v as i128;
        let column_sums = |a: &Array2<f64>, f: &dyn Fn(f64) -> i128| -> Vec<i128> {
            a.columns()
                .into_iter()
                .map(|c| c.iter().map(|&v| f(v)).sum())
                .collect()
        };
        let dot = |a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>| -> i128 {
            a.iter().zip(b).map(|(&x, &y)| int(x) * int(y)).sum()
        };
        let mut gram = vec![0; packed_len(d).unwrap()];
        for j in 0..d {
            for i in j..d {
                gram[super::super::packed_index(d, i, j)] = dot(q.column(i), q.column(j));
            }
        }
        let cross = (0..m)
            .flat_map(|k| (0..d).map(move |i| (i, k)))
            .map(|(i, k)| dot(q.column(i), t.column(k)))
            .collect();
        [
            column_sums(q, &|v| int(v)),
            column_sums(t, &|v| int(v)),
            column_sums(t, &|v| int(v) * int(v)),
            gram,
            cross,
        ]
    }

    /// Folds the rows in blocks of at most `block` rows and flushes once at the end.
    fn folded(q: &Array2<f64>, t: &Array2<f64>, block: usize) -> [Vec<i128>; 5] {
        let (d, m) = (q.ncols(), t.ncols());
        let mut sums = [
            vec![0; d],
            vec![0; m],
            vec![0; m],
            vec![0; packed_len(d).unwrap()],
            vec![0; d * m],
        ];
        let mut folder = Folder::new(d, m);
        let grid = unit_grid();
        for start in (0..q.nrows()).step_by(block) {
            let rows: ndarray::Slice = (start..q.nrows().min(start + block)).into();
            let [a, b, c, e, f] = &mut sums;
            folder
                .add_block(
                    &grid,
                    q.slice_axis(ndarray::Axis(0), rows),
                    t.slice_axis(ndarray::Axis(0), rows),
                    None,
                    [a, b, c, e, f],
                )
                .unwrap();
        }
        let [a, b, c, e, f] = &mut sums;
        folder.flush([a, b, c, e, f]);
        sums
    }

    #[test]
    fn i64_blocks_is_the_largest_safe_count() {
        let block_max = BLOCK_ROWS as i128 * i128::from(TARGET_INT).pow(2);
        assert!(I64_BLOCKS as i128 * block_max <= i128::from(i64::MAX));
        assert!((I64_BLOCKS as i128 + 1) * block_max > i128::from(i64::MAX));
    }

    #[test]
    fn folded_sums_equal_the_definitions() {
        // Random grid integers (a congruential generator), a third of them at ±limit; D spans
        // two panels of the GEMM's split and several of the 16-bit kernel's, and the blocks are
        // full, partial and single rows.
        let (n, d, m) = (2 * BLOCK_ROWS + 17, PANEL + 9, 2);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut draw = |limit: f64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1442695040888963407);
            let r = (state >> 33) as i64;
            let l = limit as i64;
            match r % 3 {
                0 => limit * if r & 8 == 0 { 1.0 } else { -1.0 },
                _ => (r % (2 * l + 1) - l) as f64,
            }
        };
        let q = Array2::from_shape_simple_fn((n, d), || draw(FEATURE_LIMIT));
        let t = Array2::from_shape_simple_fn((n, m), || draw(TARGET_LIMIT));
        let expected = reference(&q, &t);
        for block in [BLOCK_ROWS, 100, 1] {
            assert_eq!(folded(&q, &t, block), expected, "blocks of {block}");
        }
        // The f64 route gives the same sums as the 16-bit kernels.
        let block = q
            .slice_axis(ndarray::Axis(0), (..BLOCK_ROWS).into())
            .to_owned();
        let flat: Vec<f64> = block.iter().copied().collect();
        let mut exact = vec![0; packed_len(d).unwrap()];
        let rows = ArrayView2::from_shape((BLOCK_ROWS, d), &flat).unwrap();
        add_gram(rows, &mut exact);
        let t_block = t
            .slice_axis(ndarray::Axis(0), (..BLOCK_ROWS).into())
            .to_owned();
        let gram: Vec<i64> = reference(&block, &t_block)[3]
            .iter()
            .map(|&v| v as i64)
            .collect();
        assert_eq!(exact, gram);
    }

    #[test]
    fn full_blocks_at_the_limit_flush_before_overflowing() {
        // Every entry at its limit: each block's sums are at the bound, and more than I64_BLOCKS
        // blocks would overflow an i64 without a flush.
        let n = (I64_BLOCKS + 2) * BLOCK_ROWS;
        let (f, t_limit) = (FEATURE_LIMIT, TARGET_LIMIT);
        let q = Array2::from_shape_fn((n, 2), |(i, j)| if j == 1 && i % 2 == 0 { -f } else { f });
        let t = Array2::from_elem((n, 1), -t_limit);
        let (f, tl, n128) = (f as i128, i128::from(TARGET_INT), n as i128);
        let expected = [
            vec![n128 * f, 0],
            vec![-n128 * tl],
            vec![n128 * tl * tl],
            vec![n128 * f * f, 0, n128 * f * f],
            vec![-n128 * f * tl, 0],
        ];
        assert_eq!(folded(&q, &t, BLOCK_ROWS), expected);
    }
}

//! Exact Gram matrices of 16-bit integers: the lower triangle of QᵀQ for a block of rows Q,
//! summed in 32-bit lanes and added into 64-bit totals.
//!
//! A ridge fit's exact statistics (`rks-solvers`, module `exact`) put every feature on a
//! fixed-point grid of a few bits and sum the products of the grid integers, so that the sums
//! are the same in any order. Integer sums are exact whatever the kernel, the order or the
//! thread count, so the SIMD kernels here agree with the plain loop [`add_lower_gram_reference`]
//! exactly, by construction, and the fastest one available is simply taken. They do four times
//! the multiply-adds of an f64 GEMM per instruction:
//!
//! | level | instruction | multiply-adds per instruction |
//! |---|---|---|
//! | portable | scalar `i32` (what the compiler vectorises) | — |
//! | AVX2 (`gram/avx2.rs`) | `vpmaddwd` + `vpaddd` (8 lanes) | 16 per two |
//! | AVX-512 VNNI (`gram/avx512.rs`) | `vpdpwssd` (16 lanes) | 32 |
//!
//! **Layout** ([`PackedRows`]): rows are taken in pairs (2p, 2p + 1), and the two values of one
//! column in a pair form one `i32` (row 2p in the low half): `vpdpwssd` and `vpmaddwd` multiply
//! such pairs lane by lane and add both products. The pairs are stored in panels of
//! [`PANEL`] = 32 columns, pair after pair (128 bytes each), the last panel zero-padded, so a
//! kernel reads 32 consecutive rows of the output's column from one panel and broadcasts the
//! values of 8 columns ([`GROUP`]) from another.
//!
//! **Overflow**: each 32-bit lane adds two products per pair. [`PackedRows::pack`] records the
//! largest |q|, and the kernels add their lanes into 64-bit sums every `span` pairs, with
//! `span = ⌊(2³¹ − 1) / (2·max|q|²)⌋`, at least 1 because |q| ≤ 2¹⁵ − 1 (−2¹⁵ is refused: two
//! of its squares make 2³¹, one more than a lane holds).
//!
//! ```
//! use rks::gram::{PackedRows, add_lower_gram, add_lower_gram_reference, packed_len};
//! use rks::simd::Simd;
//!
//! // Three rows of four columns.
//! let q: Vec<i16> = vec![1, 2, 3, 4, -1, 0, 5, 2, 7, -3, 0, 1];
//! let mut packed = PackedRows::new();
//! packed.pack(&q, 4)?;
//! let mut fast = vec![0i64; packed_len(4)];
//! add_lower_gram(Simd::detect(), &packed, &mut fast);
//! let mut slow = vec![0i64; packed_len(4)];
//! add_lower_gram_reference(&q, 4, &mut slow);
//! assert_eq!(fast, slow);
//! assert_eq!(fast[0], 1 + 1 + 49); // (QᵀQ)₀₀, the first entry of column 0
//! # Ok::<(), rks::RksError>(())
//! ```

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use rayon::prelude::*;

use crate::RksError;
use crate::error::Param;
use crate::simd::Simd;

/// Columns per panel: the rows of the output a kernel computes at once.
pub const PANEL: usize = 32;
/// Columns of the output a kernel computes at once (and per parallel task).
pub const GROUP: usize = 8;
/// One tile of sums: column r of the group at `[r * PANEL..(r + 1) * PANEL]`.
type Tile = [i64; GROUP * PANEL];

/// Rows of 16-bit integers packed for the kernels; see the [module docs](self). The buffer is
/// kept and reused by every [`pack`](Self::pack).
#[derive(Debug, Clone, Default)]
pub struct PackedRows {
    dim: usize,
    pairs: usize,
    /// Pairs per 32-bit accumulation: no lane can overflow within it.
    span: usize,
    data: Vec<i32>,
}

impl PackedRows {
    /// An empty packing (no rows, no columns).
    pub fn new() -> Self {
        Self::default()
    }

    /// Packs the rows of `q` (row-major, `dim` values a row). Refuses −2¹⁵ (whose squares
    /// would overflow a lane's pair sum) and a length that is not a multiple of `dim`.
    pub fn pack(&mut self, q: &[i16], dim: usize) -> Result<(), RksError> {
        if dim == 0 || !q.len().is_multiple_of(dim) {
            return Err(RksError::InvalidParameter {
                name: Param::Rows,
                reason: format!("{} values do not make rows of {dim}", q.len()),
            });
        }
        let max = q.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
        if max > i16::MAX as u16 {
            return Err(RksError::InvalidParameter {
                name: Param::Rows,
                reason: "the value -32768 has no exact 32-bit pair sum".into(),
            });
        }
        let rows = q.len() / dim;
        let pairs = rows.div_ceil(2);
        let panels = dim.div_ceil(PANEL);
        self.dim = dim;
        self.pairs = pairs;
        let max = i64::from(max);
        self.span = if max == 0 {
            pairs.max(1)
        } else {
            (i64::from(i32::MAX) / (2 * max * max)) as usize
        };
        // Every entry is written below (padding included), so a buffer of the same size is
        // reused as it is; panels in parallel.
        self.data.resize(panels * pairs * PANEL, 0);
        self.data
            .par_chunks_mut(pairs * PANEL)
            .enumerate()
            .for_each(|(b, panel)| {
                let columns = b * PANEL..dim.min((b + 1) * PANEL);
                for (p, out) in panel.chunks_exact_mut(PANEL).enumerate() {
                    let row = |r: usize| q.get(r * dim..(r + 1) * dim);
                    let (low, high) = (row(2 * p), row(2 * p + 1));
                    let low = low.map_or(&[][..], |l| &l[columns.clone()]);
                    let high = high.map_or(&[][..], |h| &h[columns.clone()]);
                    for (c, o) in out.iter_mut().enumerate() {
                        let lo = low.get(c).copied().unwrap_or(0);
                        let hi = high.get(c).copied().unwrap_or(0);
                        *o = i32::from(lo as u16) | (i32::from(hi) << 16);
                    }
                }
            });
        Ok(())
    }

    /// Columns of the packed rows.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Panel `b`'s pairs `range` (32 values a pair).
    fn panel(&self, b: usize, range: std::ops::Range<usize>) -> &[i32] {
        let base = b * self.pairs * PANEL;
        &self.data[base + range.start * PANEL..base + range.end * PANEL]
    }
}

/// Length of a packed lower triangle of order d (column j holds rows j..d, column after column).
pub const fn packed_len(d: usize) -> usize {
    d * (d + 1) / 2
}

/// Adds the lower triangle of QᵀQ into `lower` (packed column-major: column j holds rows j..d,
/// [`packed_len`] entries), with the fastest kernel `simd` allows, column groups in parallel.
///
/// # Panics
/// If `lower` does not have [`packed_len`]`(rows.dim())` entries.
pub fn add_lower_gram(simd: Simd, rows: &PackedRows, lower: &mut [i64]) {
    let d = rows.dim;
    assert_eq!(lower.len(), packed_len(d), "the packed triangle's length");
    let mut groups = Vec::with_capacity(d.div_ceil(GROUP));
    let mut rest = lower;
    for j0 in (0..d).step_by(GROUP) {
        let len: usize = (j0..d.min(j0 + GROUP)).map(|j| d - j).sum();
        let (group, tail) = rest.split_at_mut(len);
        groups.push((j0, group));
        rest = tail;
    }
    groups
        .into_par_iter()
        .for_each(|(j0, columns)| add_group(simd, rows, j0, columns));
}

/// Columns j0..j0 + [`GROUP`] (those below d) of the triangle: every tile from the panel of the
/// diagonal down.
fn add_group(simd: Simd, rows: &PackedRows, j0: usize, columns: &mut [i64]) {
    let mut tile: Tile = [0; GROUP * PANEL];
    let jb = j0 / PANEL;
    let all = 0..rows.pairs;
    for ib in jb..rows.dim.div_ceil(PANEL) {
        let (a, b) = (rows.panel(ib, all.clone()), rows.panel(jb, all.clone()));
        tile_with(simd, a, b, j0 % PANEL, rows.span, &mut tile);
        add_tile(&tile, rows.dim, ib * PANEL, j0, columns);
    }
}

/// The tile's sums with the kernel `simd` allows: `tile[r·32 + i] = Σ_p a[p][i]·b[p][offset + r]`
/// (each a pair product), summed in 32-bit lanes `span` pairs at a time and those sums in `i64`.
///
/// # Panics
/// If `a` and `b` do not hold the same whole number of pairs, `offset + GROUP > PANEL` or
/// `span` is 0.
fn tile_with(simd: Simd, a: &[i32], b: &[i32], offset: usize, span: usize, tile: &mut Tile) {
    assert!(a.len() == b.len() && a.len().is_multiple_of(PANEL) && offset + GROUP <= PANEL);
    assert!(span > 0);
    tile.fill(0);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = simd;
    let pairs = a.len() / PANEL;
    for start in (0..pairs).step_by(span) {
        let range = start * PANEL..pairs.min(start + span) * PANEL;
        let (a, b) = (&a[range.clone()], &b[range]);
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(cpu) = simd.avx512_vnni() {
                avx512::add_span(cpu, a, b, offset, tile);
                continue;
            }
            if let Some(cpu) = simd.avx2_fma() {
                avx2::add_span(cpu, a, b, offset, tile);
                continue;
            }
        }
        add_span_portable(a, b, offset, tile);
    }
}

/// The portable span: each pair product in `i32`, added into the `i64` tile.
#[inline(always)]
fn add_span_portable(a: &[i32], b: &[i32], offset: usize, tile: &mut Tile) {
    for (pa, pb) in a.chunks_exact(PANEL).zip(b.chunks_exact(PANEL)) {
        for (r, column) in tile.chunks_exact_mut(PANEL).enumerate() {
            let w = pb[offset + r];
            for (t, &v) in column.iter_mut().zip(pa) {
                *t += i64::from(pair_product(v, w));
            }
        }
    }
}

/// The sum of the two 16-bit products of two pairs (what `vpmaddwd` and `vpdpwssd` compute per
/// lane): exact in `i32` for values above −2¹⁵.
#[inline(always)]
fn pair_product(a: i32, b: i32) -> i32 {
    let (alo, ahi) = (i32::from(a as i16), a >> 16);
    let (blo, bhi) = (i32::from(b as i16), b >> 16);
    alo * blo + ahi * bhi
}

/// Adds a tile (rows i0..i0 + 32 of columns j0..j0 + 8) into the group's columns: the entries
/// with i ≥ j and i, j < d.
fn add_tile(tile: &Tile, d: usize, i0: usize, j0: usize, columns: &mut [i64]) {
    let mut offset = 0;
    for (r, sums) in tile.chunks_exact(PANEL).enumerate() {
        let j = j0 + r;
        if j >= d {
            break;
        }
        let column = &mut columns[offset..offset + (d - j)];
        offset += d - j;
        // Rows max(i0, j)..min(i0 + 32, d) of column j, which starts at row j.
        let first = i0.max(j);
        let last = d.min(i0 + PANEL);
        if first >= last {
            continue;
        }
        let out = &mut column[first - j..last - j];
        for (o, &s) in out.iter_mut().zip(&sums[first - i0..last - i0]) {
            *o += s;
        }
    }
}

/// The obvious reference: adds `Σ_rows q[row][i]·q[row][j]` for every i ≥ j into `lower` (packed
/// as in [`add_lower_gram`]), in `i64`, from row-major `q` with `dim` values a row.
///
/// # Panics
/// If `lower` does not have [`packed_len`]`(dim)` entries or `q` does not make whole rows.
pub fn add_lower_gram_reference(q: &[i16], dim: usize, lower: &mut [i64]) {
    assert_eq!(lower.len(), packed_len(dim), "the packed triangle's length");
    assert!(q.len().is_multiple_of(dim.max(1)), "whole rows");
    let mut at = 0;
    for j in 0..dim {
        for i in j..dim {
            lower[at] += q
                .chunks_exact(dim)
                .map(|row| i64::from(row[i]) * i64::from(row[j]))
                .sum::<i64>();
            at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random 16-bit rows from a congruential generator, a third at ±`max`.
    fn rows(n: usize, d: usize, max: i16, seed: u64) -> Vec<i16> {
        let mut s = seed;
        (0..n * d)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = (s >> 33) as i64;
                match r % 3 {
                    0 => {
                        if r & 8 == 0 {
                            max
                        } else {
                            -max
                        }
                    }
                    _ => (r % (2 * i64::from(max) + 1) - i64::from(max)) as i16,
                }
            })
            .collect()
    }

    /// Every level equals the reference for odd and even row counts, widths around the panel
    /// and group sizes, and values at the 16-bit extreme (spans of one pair), starting from
    /// non-zero totals.
    #[test]
    fn every_level_equals_the_reference() {
        let cases = [
            (1, 1, 7),
            (2, 3, 1000),
            (5, 8, 1448),
            (7, 33, 1448),
            (64, 40, 5792),
            (1024, 70, 5792),
            (9, 64, i16::MAX),
            (300, 100, 20_000),
        ];
        for (n, d, max) in cases {
            let q = rows(n, d, max, (n * 1000 + d) as u64);
            let start: Vec<i64> = (0..packed_len(d) as i64).map(|v| v * 3 - 7).collect();
            let mut want = start.clone();
            add_lower_gram_reference(&q, d, &mut want);
            let mut packed = PackedRows::new();
            packed.pack(&q, d).unwrap();
            for simd in Simd::levels() {
                let mut got = start.clone();
                add_lower_gram(simd, &packed, &mut got);
                assert_eq!(got, want, "{n} × {d}, max {max}, {simd:?}");
            }
        }
    }

    /// Spans: a lane's 32-bit sum never overflows, whatever the values.
    #[test]
    fn spans_keep_lanes_in_range() {
        let mut packed = PackedRows::new();
        packed.pack(&[i16::MAX; 6], 3).unwrap();
        assert_eq!(packed.span, 1);
        packed.pack(&[1448; 2048], 2).unwrap();
        assert_eq!(packed.span, 512);
        packed.pack(&[-5792; 2048], 2).unwrap();
        assert_eq!(packed.span, 32);
        packed.pack(&[0; 4], 2).unwrap();
        assert_eq!(packed.span, 1);
    }

    /// Malformed input is refused, and a packing is reused.
    #[test]
    fn refuses_malformed_rows() {
        let mut packed = PackedRows::new();
        assert!(packed.pack(&[1, 2, 3], 2).is_err());
        assert!(packed.pack(&[1, 2], 0).is_err());
        assert!(packed.pack(&[i16::MIN, 2], 2).is_err());
        packed.pack(&[1, 2, 3, 4], 2).unwrap();
        let mut lower = vec![0; 3];
        add_lower_gram(Simd::detect(), &packed, &mut lower);
        assert_eq!(lower, [10, 14, 20]);
    }
}

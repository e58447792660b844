//! The tile of [`super`] with AVX2: `vpmaddwd` multiplies the 16-bit pairs of 8 lanes and adds
//! both products, `vpaddd` adds them to the lanes' 32-bit sums. Integer sums are exact, so the
//! tile equals the portable one (tested in [`super`]).

use std::arch::x86_64::*;

use super::{GROUP, PANEL, Tile};
use crate::simd::Avx2Fma;

/// Adds one span's `Σ_p a[p][i]·b[p][offset + r]` (pair products, at most `span` pairs of
/// [`super::tile_with`]: no lane overflows) into the `i64` tile; see [`super::add_span_portable`].
///
/// # Panics
/// If `offset + GROUP > PANEL` or `b` holds fewer pairs than `a`.
pub(super) fn add_span(cpu: Avx2Fma, a: &[i32], b: &[i32], offset: usize, tile: &mut Tile) {
    assert!(offset + GROUP <= PANEL && b.len() >= a.len());
    // The 32 rows in four quarters of 8 (one register each) by the 8 columns: 8 accumulators,
    // within AVX2's 16 registers.
    for quarter in 0..PANEL / 8 {
        // SAFETY: the token proves the CPU has AVX2; the assertion bounds every load.
        unsafe { build_quarter(cpu, a, b, offset, quarter, tile) }
    }
}

#[target_feature(enable = "avx2")]
unsafe fn build_quarter(
    _cpu: Avx2Fma,
    a: &[i32],
    b: &[i32],
    offset: usize,
    quarter: usize,
    tile: &mut Tile,
) {
    let mut acc = [_mm256_setzero_si256(); GROUP];
    let (ap, bp) = (
        a.as_ptr().wrapping_add(8 * quarter),
        b.as_ptr().wrapping_add(offset),
    );
    for p in 0..a.len() / PANEL {
        // SAFETY: pair p's values 8·quarter..8·quarter + 8 of `a` and offset..offset + 8 of `b`
        // are in bounds (the caller's assertion).
        unsafe {
            let rows = _mm256_loadu_si256(ap.add(p * PANEL).cast());
            let column = bp.add(p * PANEL);
            for (r, sum) in acc.iter_mut().enumerate() {
                let w = _mm256_set1_epi32(*column.add(r));
                *sum = _mm256_add_epi32(*sum, _mm256_madd_epi16(rows, w));
            }
        }
    }
    // Each register's 8 lanes widened to 64 bits (two registers of 4) and added to the tile.
    for (r, sum) in acc.iter().enumerate() {
        let parts = [
            _mm256_cvtepi32_epi64(_mm256_castsi256_si128(*sum)),
            _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(*sum)),
        ];
        for (k, part) in parts.into_iter().enumerate() {
            let at = r * PANEL + 8 * quarter + 4 * k;
            // SAFETY: entries at..at + 4 of the tile (256 entries) are in bounds.
            unsafe {
                let t = tile.as_mut_ptr().add(at).cast();
                _mm256_storeu_si256(t, _mm256_add_epi64(_mm256_loadu_si256(t), part));
            }
        }
    }
}

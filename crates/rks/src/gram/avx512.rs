//! The tile of [`super`] with AVX-512 VNNI: `vpdpwssd` multiplies the 16-bit pairs of 16 lanes
//! and adds both products to each lane's 32-bit sum, 32 multiply-adds an instruction. Integer
//! sums are exact, so the tile equals the portable one (tested in [`super`]).

use std::arch::x86_64::*;

use super::{GROUP, PANEL, Tile};
use crate::simd::Avx512Vnni;

/// Adds one span's `Σ_p a[p][i]·b[p][offset + r]` (pair products, at most `span` pairs of
/// [`super::tile_with`]: no lane overflows) into the `i64` tile; see [`super::add_span_portable`].
///
/// # Panics
/// If `offset + GROUP > PANEL` or `b` holds fewer pairs than `a`.
pub(super) fn add_span(cpu: Avx512Vnni, a: &[i32], b: &[i32], offset: usize, tile: &mut Tile) {
    assert!(offset + GROUP <= PANEL && b.len() >= a.len());
    // SAFETY: the token proves the CPU has AVX-512 (F, BW, VL) and VNNI; the assertion bounds
    // every load below.
    unsafe { build_span(cpu, a, b, offset, tile) }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn build_span(_cpu: Avx512Vnni, a: &[i32], b: &[i32], offset: usize, tile: &mut Tile) {
    // Two registers of rows (32 lanes) by eight columns: 16 accumulators.
    let mut acc = [[_mm512_setzero_si512(); GROUP]; 2];
    let (ap, bp) = (a.as_ptr(), b.as_ptr().wrapping_add(offset));
    for p in 0..a.len() / PANEL {
        // SAFETY: pair p's 32 values of `a` and its values offset..offset + 8 of `b` are in
        // bounds (the caller's assertion).
        unsafe {
            let row = ap.add(p * PANEL);
            let (lo, hi) = (
                _mm512_loadu_si512(row.cast()),
                _mm512_loadu_si512(row.add(16).cast()),
            );
            let column = bp.add(p * PANEL);
            let [low, high] = &mut acc;
            for (r, (l, h)) in low.iter_mut().zip(high.iter_mut()).enumerate() {
                let w = _mm512_set1_epi32(*column.add(r));
                *l = _mm512_dpwssd_epi32(*l, lo, w);
                *h = _mm512_dpwssd_epi32(*h, hi, w);
            }
        }
    }
    // Each register's 16 lanes widened to 64 bits (two registers of 8) and added to the tile.
    for r in 0..GROUP {
        for (half, sums) in acc.iter().enumerate() {
            let s = sums[r];
            let parts = [
                _mm512_cvtepi32_epi64(_mm512_castsi512_si256(s)),
                _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(s)),
            ];
            for (k, part) in parts.into_iter().enumerate() {
                let at = r * PANEL + 16 * half + 8 * k;
                // SAFETY: entries at..at + 8 of the tile (256 entries) are in bounds.
                unsafe {
                    let t = tile.as_mut_ptr().add(at).cast();
                    _mm512_storeu_si512(t, _mm512_add_epi64(_mm512_loadu_si512(t), part));
                }
            }
        }
    }
}

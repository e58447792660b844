//! The AVX-512 micro-kernels of [`super`]: the raw tile loop of [`super::tile`] in 512-bit
//! registers. A panel's step (NR values, 64 bytes) is one register, so a tile takes two
//! consecutive panels: 6 rows × 2 registers = 12 accumulators, 2 loads of B and 6 broadcasts of
//! A per k, like the AVX2 tile but 16 f32 or 8 f64 lanes wide: on a CPU whose 512-bit units are
//! whole (Intel) that is twice the multiply-adds per cycle. The last panel of a chunk may be
//! alone (one register per row).
//!
//! The safe entry points check every bound the raw-pointer kernel relies on
//! ([`super::tile::checked`]), and can only be called with an [`Avx512`] token, which exists
//! only when the CPU has AVX-512.

use std::arch::x86_64::{
    __m512, __m512d, _MM_HINT_T0, _mm_prefetch, _mm512_fmadd_pd, _mm512_fmadd_ps, _mm512_loadu_pd,
    _mm512_loadu_ps, _mm512_set1_pd, _mm512_set1_ps, _mm512_setzero_pd, _mm512_setzero_ps,
    _mm512_storeu_pd, _mm512_storeu_ps,
};

use ndarray::ArrayViewMut2;

use super::MR;
use super::tile::checked;

use crate::simd::Avx512;

/// Generates the raw kernel for one float type and its safe, bound-checking entry point.
macro_rules! tile_kernel {
    (
        $safe:ident, $raw:ident, $t:ty, $vec:ty, lanes = $lanes:expr,
        $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident
    ) => {
        raw_tile!(
            $raw,
            "avx512f",
            $t,
            $vec,
            lanes = $lanes,
            $zero,
            $load,
            $store,
            $splat,
            $fma
        );

        /// Rows 0..tiles·MR, columns `j0..j0 + bs.len()·NR` of `c` (column stride 1), tile by
        /// tile, from one packed k-block: `a` is `tiles` MR-row panels of kc steps of MR values,
        /// `bs` one or two panels of kc steps of NR values. `next` (the group used next, or
        /// empty) is only prefetched.
        ///
        /// # Panics
        /// If `bs` holds no panel or more than two, or the shapes and bounds are not those
        /// [`checked`] requires (all internal invariants of the GEMM).
        pub(super) fn $safe(
            _cpu: Avx512,
            (a, bs, next): (&[$t], &[&[$t]], &[&[$t]]),
            c: &mut ArrayViewMut2<'_, $t>,
            j0: usize,
            accumulate: bool,
        ) {
            assert!(matches!(bs.len(), 1 | 2), "one or two panels");
            let Some(call) = checked(a, bs, c, j0) else {
                return;
            };
            // The next group's panels, or this group's own (whole, cached) when there is none.
            let ahead = |p: usize| match next.get(p) {
                Some(n) if n.len() >= bs[p].len() => n.as_ptr(),
                _ => bs[p].as_ptr(),
            };
            // SAFETY: the token proves AVX-512F. `checked` bounds the tiles' A steps and C rows
            // (row r < tiles·MR, its bs.len()·NR columns from j0, inside the view, whose
            // elements a mutable view guarantees distinct; `c` is borrowed mutably for the call
            // so neither `a`, `bs` nor anything else aliases them), and each panel of `bs` holds
            // kc steps.
            unsafe {
                if let [b0, b1] = bs {
                    $raw::<2, 2>(
                        &call,
                        a.as_ptr(),
                        [b0.as_ptr(), b1.as_ptr()],
                        [ahead(0), ahead(1)],
                        accumulate,
                    )
                } else {
                    $raw::<1, 1>(&call, a.as_ptr(), [bs[0].as_ptr()], [ahead(0)], accumulate)
                }
            }
        }
    };
}

tile_kernel!(
    panel_f32,
    kernel_f32,
    f32,
    __m512,
    lanes = 16,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps
);
tile_kernel!(
    panel_f64,
    kernel_f64,
    f64,
    __m512d,
    lanes = 8,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd
);

//! The AVX2 + FMA micro-kernels of [`super`]: the raw tile loop of [`super::tile`] in 256-bit
//! registers, each row's panel step (64 bytes) as two of them: 6 rows × 2 registers = 12
//! accumulators, 2 loads of B and 6 broadcasts of A per k, which keeps both FMA pipes of a Zen 3
//! or Skylake core busy.
//!
//! The safe entry points check every bound the raw-pointer kernel relies on
//! ([`super::tile::checked`]), and can only be called with an [`Avx2Fma`] token, which exists
//! only when the CPU has both features.

use std::arch::x86_64::{
    __m256, __m256d, _MM_HINT_T0, _mm_prefetch, _mm256_fmadd_pd, _mm256_fmadd_ps, _mm256_loadu_pd,
    _mm256_loadu_ps, _mm256_set1_pd, _mm256_set1_ps, _mm256_setzero_pd, _mm256_setzero_ps,
    _mm256_storeu_pd, _mm256_storeu_ps,
};

use ndarray::ArrayViewMut2;

use super::MR;
use super::tile::checked;

use crate::simd::Avx2Fma;

/// Generates the raw kernel for one float type and its safe, bound-checking entry point.
macro_rules! tile_kernel {
    (
        $safe:ident, $raw:ident, $t:ty, $vec:ty, lanes = $lanes:expr,
        $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident
    ) => {
        raw_tile!(
            $raw,
            "avx2,fma",
            $t,
            $vec,
            lanes = $lanes,
            $zero,
            $load,
            $store,
            $splat,
            $fma
        );

        /// Rows 0..tiles·MR, columns `j0..j0+NR` of `c` (column stride 1), tile by tile,
        /// from one packed k-block: `a` is `tiles` MR-row panels of kc steps of MR values,
        /// `bs` one panel's kc steps of NR values. The first panel of `next` (the group used
        /// next, or empty) is only prefetched.
        ///
        /// # Panics
        /// If `bs` is not one panel, or the shapes and bounds are not those
        /// [`checked`] requires (all internal invariants of the GEMM).
        pub(super) fn $safe(
            _cpu: Avx2Fma,
            (a, bs, next): (&[$t], &[&[$t]], &[&[$t]]),
            c: &mut ArrayViewMut2<'_, $t>,
            j0: usize,
            accumulate: bool,
        ) {
            let [b] = bs else {
                panic!("one panel at a time")
            };
            let Some(call) = checked(a, bs, c, j0) else {
                return;
            };
            let next = match next.first() {
                Some(n) if n.len() >= b.len() => n.as_ptr(),
                _ => b.as_ptr(),
            };
            // SAFETY: the token proves AVX2 + FMA. `checked` bounds the tiles' A steps and C
            // rows (row r < tiles·MR, its NR = 2·lanes columns from j0, inside the view, whose
            // elements a mutable view guarantees distinct; `c` is borrowed mutably for the call
            // so neither `a`, `bs` nor anything else aliases them), and the panel holds kc
            // steps, so both halves (at b and b + lanes) are in bounds at every step.
            unsafe {
                $raw::<2, 1>(
                    &call,
                    a.as_ptr(),
                    [b.as_ptr(), b.as_ptr().add($lanes)],
                    [next],
                    accumulate,
                )
            }
        }
    };
}

tile_kernel!(
    panel_f32,
    kernel_f32,
    f32,
    __m256,
    lanes = 8,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps
);
tile_kernel!(
    panel_f64,
    kernel_f64,
    f64,
    __m256d,
    lanes = 4,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_set1_pd,
    _mm256_fmadd_pd
);

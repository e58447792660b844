//! The AVX2 + FMA micro-kernels of [`super`]: the crate's only unsafe GEMM code.
//!
//! One tile is C[i0..i0+MR, j0..j0+NR] ← (C if accumulating, else 0) + A·B over one k-block, as
//! MR·NR independent FMA chains `acc = fma(a[k], b[k], acc)` in increasing k: the same operations
//! in the same order as the portable tile, so the result is the same to the bit. Each chain sits
//! in one lane of a 256-bit register: 6 rows × 2 registers = 12 accumulators, 2 loads of B and 6
//! broadcasts of A per k, which keeps both FMA pipes of a Zen 3 or Skylake core busy.
//!
//! The safe entry points check every bound the raw-pointer kernel relies on, and can only be
//! called with an [`Avx2Fma`] token, which exists only when the CPU has both features.

use std::arch::x86_64::{
    __m256, __m256d, _MM_HINT_T0, _mm_prefetch, _mm256_fmadd_pd, _mm256_fmadd_ps, _mm256_loadu_pd,
    _mm256_loadu_ps, _mm256_set1_pd, _mm256_set1_ps, _mm256_setzero_pd, _mm256_setzero_ps,
    _mm256_storeu_pd, _mm256_storeu_ps,
};

use ndarray::ArrayViewMut2;

use super::MR;

use crate::simd::Avx2Fma;

/// Generates the raw kernel for one float type and its safe, bound-checking entry point.
macro_rules! tile_kernel {
    (
        $safe:ident, $raw:ident, $t:ty, $vec:ty, lanes = $lanes:expr,
        $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident
    ) => {
        /// For each tile t < `tiles`: reads `kc·MR` values at `a + t·kc·MR`, `kc·2·lanes` at
        /// `b`; reads (if `accumulate`) and writes `2·lanes` values at `c + (t·MR + i)·rs` for
        /// each row i < MR. Prefetches the cache line at `next + k·2·lanes` at step k of the
        /// first tile (the next panel; prefetching never faults).
        ///
        /// # Safety
        /// The CPU supports AVX2 and FMA; those ranges are in bounds of live allocations, the
        /// C ranges are not aliased by A or B and nothing else accesses them during the call.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $raw(
            (tiles, kc): (usize, usize),
            a: *const $t,
            b: *const $t,
            next: *const $t,
            c: *mut $t,
            rs: isize,
            accumulate: bool,
        ) {
            const NR: usize = 2 * $lanes;
            for t in 0..tiles {
                // SAFETY: t < tiles: tile t's A steps and C rows are in bounds (caller's contract).
                let (a, c) = unsafe { (a.add(t * kc * MR), c.offset((t * MR) as isize * rs)) };
                // Later tiles prefetch their own (cached) B: cheaper than a branch per step.
                let next = if t == 0 { next } else { b };
                let mut acc: [[$vec; 2]; MR] = [[$zero(); 2]; MR];
                if accumulate {
                    for (i, row) in acc.iter_mut().enumerate() {
                        // SAFETY: row i of the C tile is in bounds (caller's contract).
                        unsafe {
                            let ci = c.offset(i as isize * rs);
                            *row = [$load(ci), $load(ci.add($lanes))];
                        }
                    }
                }
                let mut step = |k: usize| {
                    // SAFETY: k < kc, so the NR values of B and MR values of A at step k are in
                    // bounds (caller's contract); unaligned loads have no alignment requirement.
                    let (b0, b1, ak) = unsafe {
                        let bk = b.add(k * NR);
                        ($load(bk), $load(bk.add($lanes)), a.add(k * MR))
                    };
                    _mm_prefetch::<_MM_HINT_T0>(next.wrapping_add(k * NR).cast());
                    for (i, row) in acc.iter_mut().enumerate() {
                        // SAFETY: i < MR, in bounds as above.
                        let ai = $splat(unsafe { *ak.add(i) });
                        row[0] = $fma(ai, b0, row[0]);
                        row[1] = $fma(ai, b1, row[1]);
                    }
                };
                // Four steps per iteration: less loop overhead between the FMAs.
                let mut k = 0;
                while k + 4 <= kc {
                    step(k);
                    step(k + 1);
                    step(k + 2);
                    step(k + 3);
                    k += 4;
                }
                while k < kc {
                    step(k);
                    k += 1;
                }
                for (i, row) in acc.iter().enumerate() {
                    // SAFETY: row i of the C tile is in bounds and not aliased (caller's contract).
                    unsafe {
                        let ci = c.offset(i as isize * rs);
                        $store(ci, row[0]);
                        $store(ci.add($lanes), row[1]);
                    }
                }
            }
        }

        /// Rows 0..tiles·MR, columns `j0..j0+NR` of `c` (column stride 1), tile by tile,
        /// from one packed k-block: `a` is `tiles` MR-row panels of kc steps of MR values,
        /// `bs` one panel's kc steps of NR values. The first panel of `next` (the group used
        /// next, or empty) is only prefetched.
        ///
        /// # Panics
        /// If `bs` is not one panel, the tiles are out of `c`'s bounds, `c`'s columns are not
        /// contiguous, or `a` and `b` do not hold whole panels of the same number of k steps
        /// (all internal invariants of the GEMM).
        pub(super) fn $safe(
            _cpu: Avx2Fma,
            (a, bs, next): (&[$t], &[&[$t]], &[&[$t]]),
            c: &mut ArrayViewMut2<'_, $t>,
            j0: usize,
            accumulate: bool,
        ) {
            const NR: usize = 2 * $lanes;
            let [b] = bs else {
                panic!("one panel at a time")
            };
            let next = next.first().copied().unwrap_or_default();
            let kc = b.len() / NR;
            let tiles = if kc == 0 { 0 } else { a.len() / (kc * MR) };
            assert!(
                b.len() == kc * NR && a.len() == tiles * kc * MR,
                "packed block sizes"
            );
            assert!(
                tiles * MR <= c.nrows() && j0 + NR <= c.ncols(),
                "tile bounds"
            );
            assert!(c.strides()[1] == 1, "contiguous columns");
            if tiles == 0 {
                return;
            }
            let rs = c.strides()[0];
            // SAFETY: (0, j0) is an element of the view (checked above), so the offset stays
            // inside the view's allocation.
            let c0 = unsafe { c.as_mut_ptr().offset(j0 as isize) };
            let next = if next.len() >= b.len() { next } else { b };
            // SAFETY: the token proves AVX2 + FMA. Row r < tiles·MR ≤ nrows starts at
            // c0 + r·rs, element (r, j0) of the view, and its NR elements are columns
            // j0..j0+NR ≤ ncols with column stride 1: all inside the view, whose elements a
            // mutable view guarantees distinct, and `c` is borrowed mutably for the call so
            // neither `a`, `b` nor anything else aliases them. `a` holds `tiles` panels of
            // kc steps and `b` kc steps (checked above).
            unsafe {
                $raw(
                    (tiles, kc),
                    a.as_ptr(),
                    b.as_ptr(),
                    next.as_ptr(),
                    c0,
                    rs,
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

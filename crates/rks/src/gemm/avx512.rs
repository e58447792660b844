//! The AVX-512 micro-kernels of [`super`]: twice the AVX2 tile's columns in as many registers.
//!
//! One tile is C[i0..i0+MR, j0..j0+P·NR] ← (C if accumulating, else 0) + A·B over one k-block,
//! for P = 1 or 2 consecutive panels of B, as MR·P·NR independent FMA chains
//! `acc = fma(a[k], b[k], acc)` in increasing k: the same operations in the same order as the
//! portable tile, so the result is the same to the bit. A panel's step (NR values, 64 bytes) is
//! one 512-bit register, so with two panels a tile keeps 6 rows × 2 registers = 12 accumulators,
//! 2 loads of B and 6 broadcasts of A per k, like the AVX2 tile but 16 f32 or 8 f64 lanes wide:
//! on a CPU whose 512-bit units are whole (Intel) that is twice the multiply-adds per cycle.
//!
//! The safe entry points check every bound the raw-pointer kernel relies on, and can only be
//! called with an [`Avx512`] token, which exists only when the CPU has AVX-512.

use std::arch::x86_64::{
    __m512, __m512d, _MM_HINT_T0, _mm_prefetch, _mm512_fmadd_pd, _mm512_fmadd_ps, _mm512_loadu_pd,
    _mm512_loadu_ps, _mm512_set1_pd, _mm512_set1_ps, _mm512_setzero_pd, _mm512_setzero_ps,
    _mm512_storeu_pd, _mm512_storeu_ps,
};

use ndarray::ArrayViewMut2;

use super::MR;

use crate::simd::Avx512;

/// Generates the raw kernel for one float type and its safe, bound-checking entry point.
macro_rules! tile_kernel {
    (
        $safe:ident, $raw:ident, $t:ty, $vec:ty, lanes = $lanes:expr,
        $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident
    ) => {
        /// For each tile t < `tiles`: reads `kc·MR` values at `a + t·kc·MR`, `kc·lanes` at
        /// `b[p]` for each panel p < P; reads (if `accumulate`) and writes `P·lanes` values at
        /// `c + (t·MR + i)·rs` for each row i < MR. Prefetches the cache lines at
        /// `next[p] + k·lanes` at step k of the first tile (the next group; prefetching never
        /// faults).
        ///
        /// # Safety
        /// The CPU supports AVX-512F; those ranges are in bounds of live allocations, the C
        /// ranges are not aliased by A or B and nothing else accesses them during the call.
        #[target_feature(enable = "avx512f")]
        unsafe fn $raw<const P: usize>(
            (tiles, kc): (usize, usize),
            a: *const $t,
            b: [*const $t; P],
            next: [*const $t; P],
            c: *mut $t,
            rs: isize,
            accumulate: bool,
        ) {
            const NR: usize = $lanes;
            for t in 0..tiles {
                // SAFETY: t < tiles: tile t's A steps and C rows are in bounds (caller's contract).
                let (a, c) = unsafe { (a.add(t * kc * MR), c.offset((t * MR) as isize * rs)) };
                // Later tiles prefetch their own (cached) B: cheaper than a branch per step.
                let next = if t == 0 { next } else { b };
                let mut acc: [[$vec; P]; MR] = [[$zero(); P]; MR];
                if accumulate {
                    for (i, row) in acc.iter_mut().enumerate() {
                        for (p, v) in row.iter_mut().enumerate() {
                            // SAFETY: row i of the C tile is in bounds (caller's contract).
                            *v = unsafe { $load(c.offset(i as isize * rs).add(p * NR)) };
                        }
                    }
                }
                let mut step = |k: usize| {
                    // SAFETY: k < kc, so the NR values of each panel at step k are in bounds
                    // (caller's contract); unaligned loads have no alignment requirement.
                    let bk: [$vec; P] = std::array::from_fn(|p| unsafe { $load(b[p].add(k * NR)) });
                    // SAFETY: k < kc, so the MR values of A at step k are in bounds.
                    let ak = unsafe { a.add(k * MR) };
                    for n in next {
                        _mm_prefetch::<_MM_HINT_T0>(n.wrapping_add(k * NR).cast());
                    }
                    for (i, row) in acc.iter_mut().enumerate() {
                        // SAFETY: i < MR, in bounds as above.
                        let ai = $splat(unsafe { *ak.add(i) });
                        for (v, &bp) in row.iter_mut().zip(&bk) {
                            *v = $fma(ai, bp, *v);
                        }
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
                    for (p, &v) in row.iter().enumerate() {
                        // SAFETY: row i of the C tile is in bounds and not aliased (caller's
                        // contract).
                        unsafe { $store(c.offset(i as isize * rs).add(p * NR), v) };
                    }
                }
            }
        }

        /// Rows 0..tiles·MR, columns `j0..j0 + bs.len()·NR` of `c` (column stride 1), tile by
        /// tile, from one packed k-block: `a` is `tiles` MR-row panels of kc steps of MR values,
        /// `bs` one or two panels of kc steps of NR values. `next` (the group used next, or
        /// empty) is only prefetched.
        ///
        /// # Panics
        /// If `bs` holds no panel or more than two, the tiles are out of `c`'s bounds, `c`'s
        /// columns are not contiguous, or `a` and the panels do not hold whole panels of the
        /// same number of k steps (all internal invariants of the GEMM).
        pub(super) fn $safe(
            _cpu: Avx512,
            (a, bs, next): (&[$t], &[&[$t]], &[&[$t]]),
            c: &mut ArrayViewMut2<'_, $t>,
            j0: usize,
            accumulate: bool,
        ) {
            const NR: usize = $lanes;
            assert!(matches!(bs.len(), 1 | 2), "one or two panels");
            let kc = bs[0].len() / NR;
            let tiles = if kc == 0 { 0 } else { a.len() / (kc * MR) };
            assert!(
                bs.iter().all(|b| b.len() == kc * NR) && a.len() == tiles * kc * MR,
                "packed block sizes"
            );
            assert!(
                tiles * MR <= c.nrows() && j0 + bs.len() * NR <= c.ncols(),
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
            // The next group's panels, or this group's own (whole, cached) when there is none.
            let ahead = |p: usize| match next.get(p) {
                Some(n) if n.len() >= kc * NR => n.as_ptr(),
                _ => bs[p].as_ptr(),
            };
            // SAFETY: the token proves AVX-512F. Row r < tiles·MR ≤ nrows starts at
            // c0 + r·rs, element (r, j0) of the view, and its bs.len()·NR elements are columns
            // j0..j0 + bs.len()·NR ≤ ncols with column stride 1: all inside the view, whose
            // elements a mutable view guarantees distinct, and `c` is borrowed mutably for the
            // call so neither `a`, `bs` nor anything else aliases them. `a` holds `tiles`
            // panels of kc steps and each panel of `bs` kc steps (checked above).
            unsafe {
                if let [b0, b1] = bs {
                    $raw::<2>(
                        (tiles, kc),
                        a.as_ptr(),
                        [b0.as_ptr(), b1.as_ptr()],
                        [ahead(0), ahead(1)],
                        c0,
                        rs,
                        accumulate,
                    )
                } else {
                    $raw::<1>(
                        (tiles, kc),
                        a.as_ptr(),
                        [bs[0].as_ptr()],
                        [ahead(0)],
                        c0,
                        rs,
                        accumulate,
                    )
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

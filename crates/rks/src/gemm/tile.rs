//! What the SIMD micro-kernels of [`super`] share: the bound checks of a call, and the raw tile
//! loop, a macro that [`super::avx2`] and [`super::avx512`] instantiate with their register type
//! and intrinsics.
//!
//! One tile is C[i0..i0+MR, j0..j0+P·lanes] ← (C if accumulating, else 0) + A·B over one
//! k-block, as independent FMA chains `acc = fma(a[k], b[k], acc)` in increasing k: the same
//! operations in the same order as the portable tile, so the result is the same to the bit. Each
//! row holds P registers; register p of step k is loaded from `b[p] + k·NR` (NR values = one
//! 64-byte panel step), so the P registers may be the two halves of one panel (AVX2) or two
//! consecutive panels (AVX-512).

use ndarray::ArrayViewMut2;

use super::{MR, nr};

/// A checked call of a panel kernel: `tiles` MR-row tiles of `kc` steps, C's row stride and the
/// pointer to C's element (0, j0).
pub(super) struct Call<F> {
    pub(super) tiles: usize,
    pub(super) kc: usize,
    pub(super) rs: isize,
    pub(super) c0: *mut F,
}

/// Checks what the raw kernels rely on for `a` (tiles of MR-row panels), `bs` (whole panels of
/// the same number of k steps), and `c` (columns j0..j0 + bs.len()·NR in bounds and contiguous,
/// rows 0..tiles·MR in bounds); `None` when there is no tile to compute.
///
/// # Panics
/// If any of those does not hold (all internal invariants of the GEMM).
pub(super) fn checked<F>(
    a: &[F],
    bs: &[&[F]],
    c: &mut ArrayViewMut2<'_, F>,
    j0: usize,
) -> Option<Call<F>> {
    let nr = nr::<F>();
    let kc = bs.first().map_or(0, |b| b.len() / nr);
    let tiles = if kc == 0 { 0 } else { a.len() / (kc * MR) };
    assert!(
        bs.iter().all(|b| b.len() == kc * nr) && a.len() == tiles * kc * MR,
        "packed block sizes"
    );
    assert!(
        tiles * MR <= c.nrows() && j0 + bs.len() * nr <= c.ncols(),
        "tile bounds"
    );
    assert!(c.strides()[1] == 1, "contiguous columns");
    if tiles == 0 {
        return None;
    }
    // SAFETY: (0, j0) is an element of the view (checked above), so the offset stays inside the
    // view's allocation.
    let c0 = unsafe { c.as_mut_ptr().add(j0) };
    Some(Call {
        tiles,
        kc,
        rs: c.strides()[0],
        c0,
    })
}

/// Generates the raw tile loop `$raw::<P, Q>` for one float type and register type.
macro_rules! raw_tile {
    (
        $raw:ident, $features:literal, $t:ty, $vec:ty, lanes = $lanes:expr,
        $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident
    ) => {
        /// For each tile t < `tiles`: reads `kc·MR` values at `a + t·kc·MR`, and `lanes` values
        /// at `b[p] + k·NR` for each register p < P and step k < kc; reads (if `accumulate`)
        /// and writes `P·lanes` values at `c + (t·MR + i)·rs` for each row i < MR. Prefetches
        /// the cache lines at `next[q] + k·NR` at step k of the first tile (later tiles their
        /// own B; prefetching never faults).
        ///
        /// # Safety
        /// The CPU supports the enabled features; those ranges are in bounds of live
        /// allocations, the C ranges are not aliased by A or B and nothing else accesses them
        /// during the call.
        #[target_feature(enable = $features)]
        unsafe fn $raw<const P: usize, const Q: usize>(
            call: &super::tile::Call<$t>,
            a: *const $t,
            b: [*const $t; P],
            next: [*const $t; Q],
            accumulate: bool,
        ) {
            const NR: usize = super::nr::<$t>();
            let (tiles, kc, rs) = (call.tiles, call.kc, call.rs);
            for t in 0..tiles {
                let row0 = (t * MR) as isize * rs;
                // SAFETY: t < tiles: tile t's A steps and C rows are in bounds (caller's contract).
                let (a, c) = unsafe { (a.add(t * kc * MR), call.c0.offset(row0)) };
                // Later tiles prefetch their own (cached) B: cheaper than a branch per step.
                let next: [*const $t; Q] = if t == 0 {
                    next
                } else {
                    std::array::from_fn(|q| b[q.min(P - 1)])
                };
                let mut acc: [[$vec; P]; MR] = [[$zero(); P]; MR];
                if accumulate {
                    for (i, row) in acc.iter_mut().enumerate() {
                        for (p, v) in row.iter_mut().enumerate() {
                            // SAFETY: row i of the C tile is in bounds (caller's contract).
                            *v = unsafe { $load(c.offset(i as isize * rs).add(p * $lanes)) };
                        }
                    }
                }
                let mut step = |k: usize| {
                    // SAFETY: k < kc, so the values of each register of B at step k are in
                    // bounds (caller's contract); unaligned loads have no alignment requirement.
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
                        unsafe { $store(c.offset(i as isize * rs).add(p * $lanes), v) };
                    }
                }
            }
        }
    };
}

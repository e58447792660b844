//! The memory-bound steps of the Fastfood projection, portable versions: the permutation Π as a
//! gather and the sign flip B before the first transform. These are the
//! references the fused AVX2 steps (`avx2.rs`) are tested against, bit for bit.

use super::factors::Permutation;
use crate::Element;
use crate::simd::Simd;

/// `q[i] = g[i] · a[p[i]]`: the permutation Π (as a gather) times G, for i below the shortest
/// of `q`, `p` and `g`.
///
/// # Panics
/// If `a` is shorter than D = `p.dim()` (an internal invariant: both are the padded dimension).
#[inline(always)]
pub(super) fn gather_mul<F: Element>(q: &mut [F], a: &[F], p: &Permutation, g: &[F]) {
    // Every index is < D (the type's invariant), so this one check bounds every load below.
    let a = &a[..p.dim()];
    for ((q, &i), &g) in q.iter_mut().zip(p.indices()).zip(g) {
        // SAFETY: i < p.dim() = a.len() (Permutation's invariant and the slice just above).
        *q = g * unsafe { *a.get_unchecked(i as usize) };
    }
}

/// `a ← H(B x̃)`: the signs times x, padded with zeros, then the Walsh–Hadamard transform with
/// the kernels `simd` allows.
#[inline(always)]
pub(super) fn signed_fwht<F: Element>(simd: Simd, a: &mut [F], x: &[F], signs: &[F]) {
    let (head, padding) = a.split_at_mut(x.len());
    head.iter_mut()
        .zip(x)
        .zip(signs)
        .for_each(|((a, &x), &s)| *a = s * x);
    padding.fill(F::zero());
    F::fwht_unchecked(simd, a);
}

/// `q ← H(G Π a)` with the kernels `simd` allows for the transform.
///
/// # Panics
/// As [`gather_mul`].
#[inline(always)]
pub(super) fn gather_fwht<F: Element>(simd: Simd, q: &mut [F], a: &[F], p: &Permutation, g: &[F]) {
    gather_mul(q, a, p, g);
    F::fwht_unchecked(simd, q);
}

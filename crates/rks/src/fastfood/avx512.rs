//! Fastfood's steps with AVX-512: as `avx2.rs`, with 16 (f32) or 8 (f64) lanes: the sign flip B
//! fused into the first transform's first pass, the gather Π (the 16- or 8-lane gather
//! instruction) and the product with G fused into the second's, and the row loop (with the
//! cos/sin step) compiled with AVX-512. Every entry point takes an [`Avx512`] token; each gives
//! the bits of the portable steps in `memory.rs` (tested below).

use std::arch::x86_64::*;

use ndarray::{ArrayView2, ArrayViewMut2};

use super::factors::{Factors, Permutation};
use super::memory::{gather_mul, signed_fwht};
use crate::Element;
use crate::hadamard::{fwht_f32_from_avx512, fwht_f64_from_avx512};
use crate::simd::{Avx512, Simd};

/// [`super::project_rows`] compiled with AVX-512: B, Π and G run inside the transforms
/// ([`Element`] picks the steps of the type).
pub(super) fn project_rows<F: Element>(
    cpu: Avx512,
    blocks: (&[Factors<F>], &[Permutation]),
    dim: usize,
    xb: ArrayView2<'_, F>,
    out: ArrayViewMut2<'_, F>,
    features: bool,
) {
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { build_project_rows(cpu, blocks, dim, xb, out, features) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn build_project_rows<F: Element>(
    cpu: Avx512,
    blocks: (&[Factors<F>], &[Permutation]),
    dim: usize,
    xb: ArrayView2<'_, F>,
    out: ArrayViewMut2<'_, F>,
    features: bool,
) {
    super::project_rows(
        Simd::from(cpu),
        blocks,
        dim,
        xb,
        out,
        features,
        |a, x, s| F::fastfood_signed_fwht_avx512(cpu, a, x, s),
        |q, a, p, g| F::fastfood_gather_fwht_avx512(cpu, q, a, p, g),
    );
}

/// `a ← H(B x̃)` in f32 with, when x needs no padding, the sign flip done inside the
/// transform's first pass. Same bits as [`signed_fwht`].
pub(crate) fn signed_fwht_f32(cpu: Avx512, a: &mut [f32], x: &[f32], signs: &[f32]) {
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { build_signed_fwht_f32(cpu, a, x, signs) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn build_signed_fwht_f32(cpu: Avx512, a: &mut [f32], x: &[f32], signs: &[f32]) {
    let n = a.len();
    if x.len() == n && signs.len() >= n {
        let (xp, sp) = (x.as_ptr(), signs.as_ptr());
        // SAFETY: `x` and `signs` hold at least n
        // entries, and `fwht_f32_from_avx512` loads k..k+16 for multiples k of 16 below n only.
        let done = unsafe {
            fwht_f32_from_avx512(cpu, a, |k| {
                _mm512_mul_ps(_mm512_loadu_ps(sp.add(k)), _mm512_loadu_ps(xp.add(k)))
            })
        };
        if done {
            return;
        }
    }
    signed_fwht(Simd::from(cpu), a, x, signs);
}

/// [`signed_fwht_f32`] in f64 (8 lanes).
pub(crate) fn signed_fwht_f64(cpu: Avx512, a: &mut [f64], x: &[f64], signs: &[f64]) {
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { build_signed_fwht_f64(cpu, a, x, signs) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn build_signed_fwht_f64(cpu: Avx512, a: &mut [f64], x: &[f64], signs: &[f64]) {
    let n = a.len();
    if x.len() == n && signs.len() >= n {
        let (xp, sp) = (x.as_ptr(), signs.as_ptr());
        // SAFETY: `x` and `signs` hold at least n
        // entries, and `fwht_f64_from_avx512` loads k..k+8 for multiples k of 8 below n only.
        let done = unsafe {
            fwht_f64_from_avx512(cpu, a, |k| {
                _mm512_mul_pd(_mm512_loadu_pd(sp.add(k)), _mm512_loadu_pd(xp.add(k)))
            })
        };
        if done {
            return;
        }
    }
    signed_fwht(Simd::from(cpu), a, x, signs);
}

/// `q ← H(G Π a)` in f32 with the gather (16 lanes) and the product with G inside the
/// transform's first pass. Same bits as [`super::memory::gather_fwht`].
///
/// # Panics
/// If `a` is shorter than D = `p.dim()` (an internal invariant).
pub(crate) fn gather_fwht_f32(cpu: Avx512, q: &mut [f32], a: &[f32], p: &Permutation, g: &[f32]) {
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { build_gather_fwht_f32(cpu, q, a, p, g) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn build_gather_fwht_f32(cpu: Avx512, q: &mut [f32], a: &[f32], p: &Permutation, g: &[f32]) {
    // Every index is < D (Permutation's invariant): this one check bounds every gathered load.
    let a = &a[..p.dim()];
    let n = q.len();
    if p.dim() == n && g.len() == n {
        let (ap, gp, pp) = (a.as_ptr(), g.as_ptr(), p.indices().as_ptr());
        // SAFETY: the loads of indices and of G read
        // k..k+16 for multiples k of 16 below n = p.dim() = g.len() only; every gathered
        // index is < p.dim() = a.len() and ≤ i32::MAX (Permutation's invariant).
        let done = unsafe {
            fwht_f32_from_avx512(cpu, q, |k| {
                let idx = _mm512_loadu_si512(pp.add(k).cast());
                let v = _mm512_i32gather_ps::<4>(idx, ap);
                _mm512_mul_ps(_mm512_loadu_ps(gp.add(k)), v)
            })
        };
        if done {
            return;
        }
    }
    super::avx2::gather_mul_f32(cpu.avx2_fma(), q, a, p, g);
    crate::hadamard::fwht_fast(Simd::from(cpu), q);
}

/// [`gather_fwht_f32`] in f64 (8 lanes, the 8-lane gather with 32-bit indices).
///
/// # Panics
/// If `a` is shorter than D = `p.dim()` (an internal invariant).
pub(crate) fn gather_fwht_f64(cpu: Avx512, q: &mut [f64], a: &[f64], p: &Permutation, g: &[f64]) {
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { build_gather_fwht_f64(cpu, q, a, p, g) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn build_gather_fwht_f64(cpu: Avx512, q: &mut [f64], a: &[f64], p: &Permutation, g: &[f64]) {
    // Every index is < D (Permutation's invariant): this one check bounds every gathered load.
    let a = &a[..p.dim()];
    let n = q.len();
    if p.dim() == n && g.len() == n {
        let (ap, gp, pp) = (a.as_ptr(), g.as_ptr(), p.indices().as_ptr());
        // SAFETY: the loads of indices and of G read
        // k..k+8 for multiples k of 8 below n = p.dim() = g.len() only; every gathered index
        // is < p.dim() = a.len() and ≤ i32::MAX (Permutation's invariant).
        let done = unsafe {
            fwht_f64_from_avx512(cpu, q, |k| {
                let idx = _mm256_loadu_si256(pp.add(k).cast());
                let v = _mm512_i32gather_pd::<8>(idx, ap);
                _mm512_mul_pd(_mm512_loadu_pd(gp.add(k)), v)
            })
        };
        if done {
            return;
        }
    }
    gather_mul(q, a, p, g);
    crate::hadamard::fwht_fast(Simd::from(cpu), q);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fastfood::avx2::tests::check_fused;

    /// The AVX-512 fused steps give the bits of the portable steps (and so of the AVX2 ones),
    /// for the fused lengths and for the fallbacks (padding, short and long vectors).
    #[test]
    fn fused_steps_agree_bitwise() {
        let Some(cpu) = Avx512::detect() else {
            return;
        };
        check_fused(
            |a, x, s| signed_fwht_f32(cpu, a, x, s),
            |q, a, p, g| gather_fwht_f32(cpu, q, a, p, g),
            |a, x, s| signed_fwht_f64(cpu, a, x, s),
            |q, a, p, g| gather_fwht_f64(cpu, q, a, p, g),
        );
    }
}

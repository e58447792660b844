//! The memory-bound steps of the Fastfood projection, where unsafe code lives: the permutation Π
//! as a gather (with the AVX2 gather instruction for f32) and cache prefetch hints. The portable
//! [`gather_mul`] is the reference the AVX2 path is tested against, bit for bit.

use crate::Element;

/// [`gather_mul`] with the AVX2 gather instruction for f32 (8 lanes at a time): 5 % of the f32
/// transform saved at D = 1,024. Not for f64: the 4-lane gather measured no faster than the
/// scalar loop.
///
/// # Safety
/// Every `p[i]` must be `< a.len()`, and `q`, `p`, `g` must have the same length.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn gather_mul_avx2<F: Element>(q: &mut [F], a: &[F], p: &[u32], g: &[F]) {
    use std::any::TypeId;
    use std::arch::x86_64::*;
    let n = q.len();
    let (qp, ap, gp, pp) = (q.as_mut_ptr(), a.as_ptr(), g.as_ptr(), p.as_ptr());
    let mut i = 0;
    // SAFETY: F is f32 (checked by TypeId) before the casts; indices i..i+8 stay below n;
    // gathered indices are < a.len() (the caller's contract), which fits the gather's i32.
    if TypeId::of::<F>() == TypeId::of::<f32>() && a.len() <= i32::MAX as usize {
        let (qp, ap, gp) = (qp.cast::<f32>(), ap.cast::<f32>(), gp.cast::<f32>());
        while i + 8 <= n {
            unsafe {
                let idx = _mm256_loadu_si256(pp.add(i).cast());
                let v = _mm256_i32gather_ps::<4>(ap, idx);
                _mm256_storeu_ps(qp.add(i), _mm256_mul_ps(_mm256_loadu_ps(gp.add(i)), v));
            }
            i += 8;
        }
    }
    // SAFETY: the caller's contract.
    unsafe { gather_mul(&mut q[i..], a, &p[i..], &g[i..]) };
}

/// `q[i] = g[i] · a[p[i]]`: the permutation Π (as a gather) times G.
///
/// # Safety
/// Every `p[i]` must be `< a.len()`.
#[inline(always)]
pub(super) unsafe fn gather_mul<F: Element>(q: &mut [F], a: &[F], p: &[u32], g: &[F]) {
    for ((q, &p), &g) in q.iter_mut().zip(p).zip(g) {
        // SAFETY: the caller's contract.
        *q = g * unsafe { *a.get_unchecked(p as usize) };
    }
}

/// `a ← H(B x̃)`: the signs times x, padded with zeros, then the Walsh–Hadamard transform
/// (portable version, the reference of [`signed_fwht_avx2`]).
#[inline(always)]
pub(super) fn signed_fwht<F: Element>(a: &mut [F], x: &[F], signs: &[F]) {
    let (head, padding) = a.split_at_mut(x.len());
    head.iter_mut()
        .zip(x)
        .zip(signs)
        .for_each(|((a, &x), &s)| *a = s * x);
    padding.fill(F::zero());
    F::fwht_unchecked(a);
}

/// [`signed_fwht`] with, when x needs no padding, the sign flip done inside the transform's first
/// in-register stages (one pass over `a` less per block). Same bits.
///
/// # Safety
/// The CPU must support AVX2; `signs` at least as long as `x`, `x` no longer than `a`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn signed_fwht_avx2<F: Element>(a: &mut [F], x: &[F], signs: &[F]) {
    use std::any::TypeId;
    use std::arch::x86_64::*;
    if TypeId::of::<F>() == TypeId::of::<f32>() && x.len() == a.len() && signs.len() >= a.len() {
        let n = a.len();
        let (xp, sp) = (x.as_ptr().cast::<f32>(), signs.as_ptr().cast::<f32>());
        // SAFETY: F is f32 (TypeId); `a`, `x` and `signs` hold at least n entries and the loads
        // read k..k+8 for k + 8 ≤ n.
        let done = unsafe {
            let a = std::slice::from_raw_parts_mut(a.as_mut_ptr().cast::<f32>(), n);
            crate::hadamard::fwht_f32_from_avx2(a, |k| {
                _mm256_mul_ps(_mm256_loadu_ps(sp.add(k)), _mm256_loadu_ps(xp.add(k)))
            })
        };
        if done {
            return;
        }
    }
    if TypeId::of::<F>() == TypeId::of::<f64>() && x.len() == a.len() && signs.len() >= a.len() {
        let n = a.len();
        let (xp, sp) = (x.as_ptr().cast::<f64>(), signs.as_ptr().cast::<f64>());
        // SAFETY: F is f64 (TypeId); `a`, `x` and `signs` hold at least n entries and the loads
        // read k..k+4 for k + 4 ≤ n.
        let done = unsafe {
            let a = std::slice::from_raw_parts_mut(a.as_mut_ptr().cast::<f64>(), n);
            crate::hadamard::fwht_f64_from_avx2(a, |k| {
                _mm256_mul_pd(_mm256_loadu_pd(sp.add(k)), _mm256_loadu_pd(xp.add(k)))
            })
        };
        if done {
            return;
        }
    }
    signed_fwht(a, x, signs);
}

/// `q ← H(G Π a)` (portable version, the reference of [`gather_fwht_avx2`]).
///
/// # Safety
/// Every `p[i]` must be `< a.len()`.
#[inline(always)]
pub(super) unsafe fn gather_fwht<F: Element>(q: &mut [F], a: &[F], p: &[u32], g: &[F]) {
    // SAFETY: the caller's contract.
    unsafe { gather_mul(q, a, p, g) };
    F::fwht_unchecked(q);
}

/// [`gather_fwht`] with the gather and the product with G done inside the transform's first
/// in-register stages (one pass over `q` less per block). Same bits. f32 gathers 8 lanes with the
/// gather instruction; f64 builds each 4-lane vector from scalar loads (with the 4-lane gather
/// instruction the f64 transform took 0.138 s instead of 0.128 s). Fusing both steps in f64 took
/// its benchmark transform from 0.145 to 0.128 s (f32: 0.079 to 0.072 s).
///
/// # Safety
/// The CPU must support AVX2; every `p[i]` must be `< a.len()`; `q`, `p`, `g` of equal length.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn gather_fwht_avx2<F: Element>(q: &mut [F], a: &[F], p: &[u32], g: &[F]) {
    use std::any::TypeId;
    use std::arch::x86_64::*;
    let n = q.len();
    if TypeId::of::<F>() == TypeId::of::<f32>()
        && a.len() <= i32::MAX as usize
        && p.len() == n
        && g.len() == n
    {
        let (ap, gp, pp) = (
            a.as_ptr().cast::<f32>(),
            g.as_ptr().cast::<f32>(),
            p.as_ptr(),
        );
        // SAFETY: F is f32 (TypeId); the loads read k..k+8 for k + 8 ≤ n = p.len() = g.len();
        // gathered indices are < a.len() (the caller's contract) and fit the gather's i32.
        let done = unsafe {
            let q = std::slice::from_raw_parts_mut(q.as_mut_ptr().cast::<f32>(), n);
            crate::hadamard::fwht_f32_from_avx2(q, |k| {
                let idx = _mm256_loadu_si256(pp.add(k).cast());
                let v = _mm256_i32gather_ps::<4>(ap, idx);
                _mm256_mul_ps(_mm256_loadu_ps(gp.add(k)), v)
            })
        };
        if done {
            return;
        }
    }
    if TypeId::of::<F>() == TypeId::of::<f64>() && p.len() == n && g.len() == n {
        let (ap, gp, pp) = (
            a.as_ptr().cast::<f64>(),
            g.as_ptr().cast::<f64>(),
            p.as_ptr(),
        );
        // SAFETY: F is f64 (TypeId); the loads read k..k+4 for k + 4 ≤ n = p.len() = g.len();
        // gathered indices are < a.len() (the caller's contract). Four scalar loads: the 4-lane
        // gather instruction is no faster on the CPUs measured.
        let done = unsafe {
            let q = std::slice::from_raw_parts_mut(q.as_mut_ptr().cast::<f64>(), n);
            crate::hadamard::fwht_f64_from_avx2(q, |k| {
                let at = |j: usize| *ap.add(*pp.add(k + j) as usize);
                let v = _mm256_setr_pd(at(0), at(1), at(2), at(3));
                _mm256_mul_pd(_mm256_loadu_pd(gp.add(k)), v)
            })
        };
        if done {
            return;
        }
    }
    // SAFETY: the caller's contract.
    unsafe { gather_mul_avx2(q, a, p, g) };
    F::fwht_unchecked(q);
}

/// Most bytes of one output piece to prefetch. Measured at D = 1,024: 4 KiB (the whole piece in
/// f32, half in f64) saves 3–6 % (f32) and 1–2 % (f64); the whole 8 KiB f64 piece cost 2 %.
const PREFETCH_BYTES: usize = 4096;

/// Hints the cache (L2) to fetch the 64-byte lines of the first [`PREFETCH_BYTES`] of `v` (no
/// effect on the values).
#[inline(always)]
pub(super) fn prefetch_lines<F>(v: &[F]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        let bytes = std::mem::size_of_val(v).min(PREFETCH_BYTES);
        let p = v.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch never faults and `offset` stays inside `v`.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(p.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    /// The fused AVX2 steps (sign flip and gather inside the first transform stages) give the
    /// bits of the portable steps, for the fused lengths and for the fallbacks (padding, f64).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn fused_steps_agree_bitwise() {
        if !std::arch::is_x86_feature_detected!("avx2")
            || !std::arch::is_x86_feature_detected!("fma")
        {
            return;
        }
        fn check<F: Element>(d: usize, dim: usize, seed: u64) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut normal = || F::from_f64_lossy(StandardNormal.sample(&mut rng));
            let x: Vec<F> = (0..d).map(|_| normal()).collect();
            let g: Vec<F> = (0..dim).map(|_| normal()).collect();
            let signs: Vec<F> = (0..dim)
                .map(|i| F::from_f64_lossy(if (i * 7 + 3) % 5 < 2 { -1.0 } else { 1.0 }))
                .collect();
            let mut p: Vec<u32> = (0..dim as u32).collect();
            for i in (1..dim).rev() {
                let j = ChaCha8Rng::seed_from_u64(seed + i as u64).random_range(0..=i);
                p.swap(i, j);
            }
            let (mut a_fast, mut a_slow) = (vec![F::zero(); dim], vec![F::zero(); dim]);
            let (mut q_fast, mut q_slow) = (vec![F::zero(); dim], vec![F::zero(); dim]);
            // SAFETY: AVX2 checked above; p is a permutation of 0..dim; equal lengths.
            unsafe {
                signed_fwht_avx2(&mut a_fast, &x, &signs);
                gather_fwht_avx2(&mut q_fast, &a_fast, &p, &g);
            }
            // The slow path: sign loop, gather loop and the radix-2 reference transform.
            for i in 0..dim {
                a_slow[i] = if i < d { signs[i] * x[i] } else { F::zero() };
            }
            crate::hadamard::fwht_reference(&mut a_slow);
            for i in 0..dim {
                q_slow[i] = g[i] * a_slow[p[i] as usize];
            }
            crate::hadamard::fwht_reference(&mut q_slow);
            let bits = |v: &[F]| {
                v.iter()
                    .map(|x| x.to_f64_exact().to_bits())
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&a_fast), bits(&a_slow), "d {d}, D {dim}");
            assert_eq!(bits(&q_fast), bits(&q_slow), "d {d}, D {dim}");
        }
        for (d, dim) in [
            (8, 8),
            (32, 32),
            (64, 64),
            (512, 512),
            (2048, 2048),
            (1024, 1024),
            (1000, 1024),
            (4096, 4096),
            (8192, 8192),
        ] {
            check::<f32>(d, dim, d as u64);
            check::<f64>(d, dim, d as u64);
        }
    }

    /// The AVX2 gather (f32) and the portable loop give the same bits, tail included.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn gather_paths_agree_bitwise() {
        if !std::arch::is_x86_feature_detected!("avx2")
            || !std::arch::is_x86_feature_detected!("fma")
        {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let n = 1027;
        let a: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let g: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let p: Vec<u32> = (0..n).map(|_| rng.random_range(0..n as u32)).collect();
        let (mut fast, mut slow) = (vec![0.0f32; n], vec![0.0f32; n]);
        // SAFETY: AVX2 checked above; every p[i] < n = a.len(); equal lengths.
        unsafe {
            gather_mul_avx2(&mut fast, &a, &p, &g);
            gather_mul(&mut slow, &a, &p, &g);
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast), bits(&slow));
        assert!(
            slow.iter()
                .zip(&p)
                .zip(&g)
                .all(|((q, &p), &g)| *q == g * a[p as usize])
        );
    }
}

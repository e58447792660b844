//! Fastfood's steps with AVX2 + FMA: the sign flip B fused into the first transform's
//! in-register stages, the gather Π and the product with G fused into the second's (with the
//! AVX2 gather instruction for f32), and the row loop compiled with both features. Every entry
//! point takes an [`Avx2Fma`] token; each gives the bits of the portable steps in `memory.rs`
//! (tested below).

use std::arch::x86_64::*;

use ndarray::{ArrayView2, ArrayViewMut2};

use super::factors::{Factors, Permutation};
use super::memory::{gather_mul, signed_fwht};
use crate::Element;
use crate::hadamard::{fwht_f32_from, fwht_f64_from};
use crate::simd::{Avx2Fma, Simd};

/// [`super::project_rows`] compiled with AVX2 + FMA: the element-wise loops get 8 lanes, and B,
/// Π and G run inside the transforms ([`Element`] picks the steps of the type).
pub(super) fn project_rows<F: Element>(
    cpu: Avx2Fma,
    blocks: (&[Factors<F>], &[Permutation]),
    dim: usize,
    xb: ArrayView2<'_, F>,
    out: ArrayViewMut2<'_, F>,
    features: bool,
) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build_project_rows(cpu, blocks, dim, xb, out, features) }
}

#[target_feature(enable = "avx2,fma")]
fn build_project_rows<F: Element>(
    cpu: Avx2Fma,
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
        |a, x, s| F::fastfood_signed_fwht(cpu, a, x, s),
        |q, a, p, g| F::fastfood_gather_fwht(cpu, q, a, p, g),
    );
}

/// [`signed_fwht`] in f32 with, when x needs no padding, the sign flip done inside the
/// transform's first in-register stages (one pass over `a` less per block). Same bits.
pub(crate) fn signed_fwht_f32(cpu: Avx2Fma, a: &mut [f32], x: &[f32], signs: &[f32]) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build_signed_fwht_f32(cpu, a, x, signs) }
}

#[target_feature(enable = "avx2,fma")]
fn build_signed_fwht_f32(cpu: Avx2Fma, a: &mut [f32], x: &[f32], signs: &[f32]) {
    let n = a.len();
    if x.len() == n && signs.len() >= n {
        let (xp, sp) = (x.as_ptr(), signs.as_ptr());
        // SAFETY: `x` and `signs` hold at least n entries, and `fwht_f32_from` loads k..k+8 for
        // multiples k of 8 below n only (n a multiple of 64 when it loads at all).
        let done = unsafe {
            fwht_f32_from(cpu, a, |k| {
                _mm256_mul_ps(_mm256_loadu_ps(sp.add(k)), _mm256_loadu_ps(xp.add(k)))
            })
        };
        if done {
            return;
        }
    }
    signed_fwht(Simd::from(cpu), a, x, signs);
}

/// [`signed_fwht_f32`] in f64 (4 lanes).
pub(crate) fn signed_fwht_f64(cpu: Avx2Fma, a: &mut [f64], x: &[f64], signs: &[f64]) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build_signed_fwht_f64(cpu, a, x, signs) }
}

#[target_feature(enable = "avx2,fma")]
fn build_signed_fwht_f64(cpu: Avx2Fma, a: &mut [f64], x: &[f64], signs: &[f64]) {
    let n = a.len();
    if x.len() == n && signs.len() >= n {
        let (xp, sp) = (x.as_ptr(), signs.as_ptr());
        // SAFETY: `x` and `signs` hold at least n entries, and `fwht_f64_from` loads k..k+4 for
        // multiples k of 4 below n only (n a multiple of 32 when it loads at all).
        let done = unsafe {
            fwht_f64_from(cpu, a, |k| {
                _mm256_mul_pd(_mm256_loadu_pd(sp.add(k)), _mm256_loadu_pd(xp.add(k)))
            })
        };
        if done {
            return;
        }
    }
    signed_fwht(Simd::from(cpu), a, x, signs);
}

/// `q ← H(G Π a)` in f32 with the gather (8 lanes, the gather instruction) and the product with
/// G done inside the transform's first in-register stages (one pass over `q` less per block).
/// Same bits as [`super::memory::gather_fwht`]. Fusing took the benchmark f32 transform from
/// 0.079 to 0.072 s.
///
/// # Panics
/// If `a` is shorter than D = `p.dim()` (an internal invariant).
pub(crate) fn gather_fwht_f32(cpu: Avx2Fma, q: &mut [f32], a: &[f32], p: &Permutation, g: &[f32]) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build_gather_fwht_f32(cpu, q, a, p, g) }
}

#[target_feature(enable = "avx2,fma")]
fn build_gather_fwht_f32(cpu: Avx2Fma, q: &mut [f32], a: &[f32], p: &Permutation, g: &[f32]) {
    // Every index is < D (Permutation's invariant): this one check bounds every gathered load.
    let a = &a[..p.dim()];
    let n = q.len();
    if p.dim() == n && g.len() == n {
        let (ap, gp, pp) = (a.as_ptr(), g.as_ptr(), p.indices().as_ptr());
        // SAFETY: the loads of indices and of G read k..k+8 for multiples k of 8 below
        // n = p.dim() = g.len() only (`fwht_f32_from`'s contract); every gathered index is
        // < p.dim() = a.len() and ≤ i32::MAX (Permutation's invariant and the slice above).
        let done = unsafe {
            fwht_f32_from(cpu, q, |k| {
                let idx = _mm256_loadu_si256(pp.add(k).cast());
                let v = _mm256_i32gather_ps::<4>(ap, idx);
                _mm256_mul_ps(_mm256_loadu_ps(gp.add(k)), v)
            })
        };
        if done {
            return;
        }
    }
    gather_mul_f32(cpu, q, a, p, g);
    crate::hadamard::fwht_fast(Simd::from(cpu), q);
}

/// `q ← H(G Π a)` in f64 with the gather and the product with G inside the first in-register
/// stages, each 4-lane vector built from scalar loads (with the 4-lane gather instruction the
/// f64 transform took 0.138 s instead of 0.128 s; fusing took it from 0.145 to 0.128 s).
///
/// # Panics
/// If `a` is shorter than D = `p.dim()` (an internal invariant).
pub(crate) fn gather_fwht_f64(cpu: Avx2Fma, q: &mut [f64], a: &[f64], p: &Permutation, g: &[f64]) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build_gather_fwht_f64(cpu, q, a, p, g) }
}

#[target_feature(enable = "avx2,fma")]
fn build_gather_fwht_f64(cpu: Avx2Fma, q: &mut [f64], a: &[f64], p: &Permutation, g: &[f64]) {
    // Every index is < D (Permutation's invariant): this one check bounds every gathered load.
    let a = &a[..p.dim()];
    let n = q.len();
    if p.dim() == n && g.len() == n {
        let (ap, gp, pp) = (a.as_ptr(), g.as_ptr(), p.indices().as_ptr());
        // SAFETY: the loads of indices and of G read k..k+4 for multiples k of 4 below
        // n = p.dim() = g.len() only (`fwht_f64_from`'s contract); every gathered index is
        // < p.dim() = a.len() (Permutation's invariant and the slice above).
        let done = unsafe {
            fwht_f64_from(cpu, q, |k| {
                let at = |j: usize| *ap.add(*pp.add(k + j) as usize);
                let v = _mm256_setr_pd(at(0), at(1), at(2), at(3));
                _mm256_mul_pd(_mm256_loadu_pd(gp.add(k)), v)
            })
        };
        if done {
            return;
        }
    }
    gather_mul(q, a, p, g);
    crate::hadamard::fwht_fast(Simd::from(cpu), q);
}

/// [`gather_mul`] in f32 with the AVX2 gather instruction (8 lanes at a time): 5 % of the f32
/// transform saved at D = 1,024. Not for f64: the 4-lane gather measured no faster than the
/// scalar loop.
///
/// # Panics
/// If `a` is shorter than D = `p.dim()` (an internal invariant).
pub(super) fn gather_mul_f32(_cpu: Avx2Fma, q: &mut [f32], a: &[f32], p: &Permutation, g: &[f32]) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build_gather_mul_f32(q, a, p, g) }
}

#[target_feature(enable = "avx2,fma")]
fn build_gather_mul_f32(q: &mut [f32], a: &[f32], p: &Permutation, g: &[f32]) {
    // Every index is < D (Permutation's invariant): this one check bounds every gathered load.
    let a = &a[..p.dim()];
    let idx = p.indices();
    let n = q.len().min(idx.len()).min(g.len());
    let (qp, ap, gp, pp) = (q.as_mut_ptr(), a.as_ptr(), g.as_ptr(), idx.as_ptr());
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 ≤ n, within `q`, the indices and `g`; every gathered index is
        // < p.dim() = a.len() and ≤ i32::MAX (Permutation's invariant and the slice above).
        unsafe {
            let v = _mm256_i32gather_ps::<4>(ap, _mm256_loadu_si256(pp.add(i).cast()));
            _mm256_storeu_ps(qp.add(i), _mm256_mul_ps(_mm256_loadu_ps(gp.add(i)), v));
        }
        i += 8;
    }
    for j in i..n {
        q[j] = g[j] * a[idx[j] as usize];
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    fn shuffled(dim: usize, seed: u64) -> Permutation {
        let mut p: Vec<usize> = (0..dim).collect();
        for i in (1..dim).rev() {
            let j = ChaCha8Rng::seed_from_u64(seed + i as u64).random_range(0..=i);
            p.swap(i, j);
        }
        Permutation::new(&p).unwrap()
    }

    /// One Fastfood step of type F: `a ← H(B x̃)` or `q ← H(G Π a)`.
    type Signed<'a, F> = &'a dyn Fn(&mut [F], &[F], &[F]);
    type Gather<'a, F> = &'a dyn Fn(&mut [F], &[F], &Permutation, &[F]);

    /// The fused steps given (f32 and f64) give the bits of the portable steps, for the fused
    /// lengths and for the fallbacks (padding, short and long vectors).
    pub(crate) fn check_fused(
        signed32: impl Fn(&mut [f32], &[f32], &[f32]),
        gather32: impl Fn(&mut [f32], &[f32], &Permutation, &[f32]),
        signed64: impl Fn(&mut [f64], &[f64], &[f64]),
        gather64: impl Fn(&mut [f64], &[f64], &Permutation, &[f64]),
    ) {
        fn check<F: Element>(
            (signed, gather): (Signed<'_, F>, Gather<'_, F>),
            d: usize,
            dim: usize,
            seed: u64,
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut normal = || F::from_f64_lossy(StandardNormal.sample(&mut rng));
            let x: Vec<F> = (0..d).map(|_| normal()).collect();
            let g: Vec<F> = (0..dim).map(|_| normal()).collect();
            let signs: Vec<F> = (0..dim)
                .map(|i| F::from_f64_lossy(if (i * 7 + 3) % 5 < 2 { -1.0 } else { 1.0 }))
                .collect();
            let p = shuffled(dim, seed);
            let (mut a_fast, mut a_slow) = (vec![F::zero(); dim], vec![F::zero(); dim]);
            let (mut q_fast, mut q_slow) = (vec![F::zero(); dim], vec![F::zero(); dim]);
            signed(&mut a_fast, &x, &signs);
            gather(&mut q_fast, &a_fast, &p, &g);
            // The slow path: sign loop, gather loop and the radix-2 reference transform.
            for i in 0..dim {
                a_slow[i] = if i < d { signs[i] * x[i] } else { F::zero() };
            }
            crate::hadamard::fwht_reference(&mut a_slow);
            for i in 0..dim {
                q_slow[i] = g[i] * a_slow[p.indices()[i] as usize];
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
            (128, 128),
            (256, 256),
            (512, 512),
            (2048, 2048),
            (1024, 1024),
            (1000, 1024),
            (4096, 4096),
            (8192, 8192),
        ] {
            check::<f32>((&signed32, &gather32), d, dim, d as u64);
            check::<f64>((&signed64, &gather64), d, dim, d as u64);
        }
    }

    /// The fused AVX2 steps (sign flip and gather inside the first transform stages) give the
    /// bits of the portable steps.
    #[test]
    fn fused_steps_agree_bitwise() {
        let Some(cpu) = Avx2Fma::detect() else {
            return;
        };
        check_fused(
            |a, x, s| signed_fwht_f32(cpu, a, x, s),
            |q, a, p, g| gather_fwht_f32(cpu, q, a, p, g),
            |a, x, s| signed_fwht_f64(cpu, a, x, s),
            |q, a, p, g| gather_fwht_f64(cpu, q, a, p, g),
        );
    }

    /// The AVX2 gather (f32) and the portable loop give the same bits, tail included.
    #[test]
    fn gather_paths_agree_bitwise() {
        let Some(cpu) = Avx2Fma::detect() else {
            return;
        };
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let n = 1027;
        let a: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let g: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let p = shuffled(n, 4);
        let (mut fast, mut slow) = (vec![0.0f32; n], vec![0.0f32; n]);
        gather_mul_f32(cpu, &mut fast, &a, &p, &g);
        gather_mul(&mut slow, &a, &p, &g);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast), bits(&slow));
        assert!(
            slow.iter()
                .zip(p.indices())
                .zip(&g)
                .all(|((q, &p), &g)| *q == g * a[p as usize])
        );
    }
}

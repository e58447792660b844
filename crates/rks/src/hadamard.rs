//! The fast Walsh–Hadamard transform (unnormalised): x ← H x, H the ±1 Sylvester–Hadamard matrix.
//!
//! H_{ij} = (−1)^{popcount(i & j)}, H² = d·I. Cost d·log₂d additions/subtractions.
//!
//! The fast path ([`fwht`]) does the same additions in the same order per element as the obvious
//! radix-2 loop ([`fwht_reference`]), so the two agree bit for bit; it only changes the order in
//! which *independent* butterflies run, for speed:
//!
//! - the three smallest stages (h = 1, 2, 4) run fused on each group of 8 entries, in registers
//!   (with AVX2 intrinsics when the CPU has them, `hadamard/avx2.rs`: lane permutes, sign flips
//!   and adds);
//! - the remaining stages run three at a time (radix 8: one load and one store per entry for
//!   three stages) with contiguous inner loops the compiler vectorises; the fused f32 entry point
//!   Fastfood uses (`avx2::fwht_f32_from`) runs them four at a time instead (radix 16, 16 AVX2
//!   registers: at length 1,024 one pass after the in-register stages instead of two);
//! - a long vector is first transformed in blocks that fit the L1 cache, then the stages that
//!   cross blocks run strip by strip: a strip of `STRIP` columns of every block is copied to a
//!   small scratch buffer (L2-resident), transformed there, and copied back, so no pass streams the
//!   whole vector through memory more than twice;
//! - on x86-64 CPUs with AVX2 and FMA, the register-blocked passes of `hadamard/passes.rs` with
//!   8 f32 or 4 f64 lanes: from 512 entries up, the in-register stages of 16 consecutive
//!   registers and the four stages across them in one pass, then radix-16 passes (16 registers
//!   h apart, four stages, one load and one store per entry), long vectors recursively (parts
//!   in cache first, then one radix-8 pass across them); shorter slices in one pass of 4 or 8
//!   registers, or the blocked order above compiled with AVX2 (against the blocked order with
//!   radix-8 passes, on a Zen 3 core, from 2¹³ up: 1.04–1.79× → 0.84–1.10× FFHT's time). The
//!   kernel is chosen at run time ([`crate::simd`]: [`fwht`] detects, [`fwht_with`] takes the
//!   caller's choice). The arithmetic is
//!   identical (additions and subtractions; where the f64 in-register stages use a fused
//!   multiply-add v·(±1) + w, the product is exact, so it rounds exactly like w ± v), so results
//!   do not depend on the CPU; the tests compare both paths with the reference bit for bit.
//!   (The fused form moves those additions from the two adder pipes of a Zen 3 core to its two
//!   multiply pipes: f64 transforms of 2¹⁰–2¹⁴ entries 3–4 % faster; in f32, where it also
//!   lengthens each register's dependency chain, no gain was measured, so f32 keeps the adds.)
//! - on CPUs with AVX-512 (`hadamard/avx512.rs`), the same passes with 16 f32 or 8 f64 lanes,
//!   half of every butterfly on the multiply pipes as an exact fused multiply-add (with AVX2's
//!   16 registers the extra −1 register made a radix-16 pass spill: 5–20 % slower on Zen 3, so
//!   the AVX2 passes subtract).
//!   The same additions per entry in the same order, so the same bits (tested at every level).

#[cfg(target_arch = "x86_64")]
#[macro_use]
mod passes;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
pub(crate) use avx2::{fwht_f32_from, fwht_f64_from};
#[cfg(target_arch = "x86_64")]
pub(crate) use avx512::{
    fwht_f32_from as fwht_f32_from_avx512, fwht_f64_from as fwht_f64_from_avx512,
    signed_in_place_f32 as signed_in_place_f32_avx512,
    signed_in_place_f64 as signed_in_place_f64_avx512,
};

use crate::simd::Simd;
use crate::{Element, RksError};

/// Applies the unnormalised Walsh–Hadamard transform to `data` in place.
///
/// `data.len()` must be a power of two (1 is allowed and is the identity).
///
/// ```
/// let mut v = [1.0f32, 0.0, 0.0, 0.0];
/// rks::hadamard::fwht(&mut v).unwrap();
/// assert_eq!(v, [1.0, 1.0, 1.0, 1.0]);
/// ```
pub fn fwht<F: Element>(data: &mut [F]) -> Result<(), RksError> {
    fwht_with(Simd::detect(), data)
}

/// [`fwht`] with the kernels `simd` allows (detected once by the caller, or
/// [`Simd::portable`]); the same bits either way.
///
/// ```
/// use rks::simd::Simd;
///
/// let mut v = [1.0f64, 2.0, 3.0, 4.0];
/// rks::hadamard::fwht_with(Simd::portable(), &mut v)?;
/// assert_eq!(v, [10.0, -2.0, -4.0, 0.0]);
/// # Ok::<(), rks::RksError>(())
/// ```
pub fn fwht_with<F: Element>(simd: Simd, data: &mut [F]) -> Result<(), RksError> {
    let n = data.len();
    if n == 0 || !n.is_power_of_two() {
        return Err(RksError::NotPowerOfTwo(n));
    }
    F::fwht_unchecked(simd, data);
    Ok(())
}

/// `a ← H(s ⊙ a)`: the sign flip (or any diagonal), then the transform with the kernels `simd`
/// allows (the portable form of the fused AVX-512 step).
pub(crate) fn signed_in_place<F: Element>(simd: Simd, a: &mut [F], signs: &[F]) {
    a.iter_mut().zip(signs).for_each(|(a, &s)| *a = s * *a);
    F::fwht_unchecked(simd, a);
}

/// The plain radix-2 butterfly loop: the slow, obvious reference the fast paths are tested against.
///
/// `data.len()` must be a power of two; other lengths leave the tail untransformed.
pub fn fwht_reference<F: Element>(data: &mut [F]) {
    let n = data.len();
    let mut h = 1;
    while h < n {
        for block in data.chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                let (u, v) = (*x, *y);
                *x = u + v;
                *y = u - v;
            }
        }
        h *= 2;
    }
}

/// Entries per cache block: 16 KiB, half of a 32 KiB L1 data cache.
const BLOCK_BYTES: usize = 16 * 1024;
/// Columns per strip in the cross-block stages: 64 entries = 4 (f32) or 8 (f64) cache lines.
const STRIP: usize = 64;

/// The fast transform of a power-of-two length with the kernels `simd` allows. Called through
/// [`Element`] so f32 and f64 each get their own compiled copy.
pub(crate) fn fwht_fast<F: Butterfly>(simd: Simd, data: &mut [F]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx512() {
        return F::fwht_avx512(cpu, data);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx2_fma() {
        return F::fwht_avx2(cpu, data);
    }
    let _ = simd;
    fwht_blocked(data, base8_scalar);
}

/// The arithmetic the transform needs, and its AVX2 kernel; implemented for f32 and f64.
pub(crate) trait Butterfly:
    Copy + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self>
{
    /// The whole transform with the AVX2 kernels (`avx2.rs`).
    #[cfg(target_arch = "x86_64")]
    fn fwht_avx2(cpu: crate::simd::Avx2Fma, data: &mut [Self]);
    /// The whole transform with the AVX-512 kernels (`avx512.rs`).
    #[cfg(target_arch = "x86_64")]
    fn fwht_avx512(cpu: crate::simd::Avx512, data: &mut [Self]);
}

impl Butterfly for f32 {
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn fwht_avx2(cpu: crate::simd::Avx2Fma, data: &mut [f32]) {
        avx2::fwht_f32(cpu, data);
    }
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn fwht_avx512(cpu: crate::simd::Avx512, data: &mut [f32]) {
        avx512::fwht_f32(cpu, data);
    }
}

impl Butterfly for f64 {
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn fwht_avx2(cpu: crate::simd::Avx2Fma, data: &mut [f64]) {
        avx2::fwht_f64(cpu, data);
    }
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn fwht_avx512(cpu: crate::simd::Avx512, data: &mut [f64]) {
        avx512::fwht_f64(cpu, data);
    }
}

#[inline(always)]
fn fwht_blocked<F: Butterfly>(data: &mut [F], base: impl Fn(&mut [F]) -> usize + Copy) {
    let n = data.len();
    let block = (BLOCK_BYTES / size_of::<F>()).max(STRIP);
    if n <= block {
        fwht_in_cache(data, base);
        return;
    }
    data.chunks_exact_mut(block)
        .for_each(|b| fwht_in_cache(b, base));
    // Stages h = block, 2·block, …: block index k pairs with k + h/block. Viewing the vector as a
    // (n/block) × block matrix, these stages transform every column; do them STRIP columns at a
    // time in a contiguous copy, where they are the ordinary stages h = STRIP, 2·STRIP, ….
    let rows = n / block;
    let mut scratch = vec![data[0]; rows * STRIP];
    for col in (0..block).step_by(STRIP) {
        for (k, dst) in scratch.chunks_exact_mut(STRIP).enumerate() {
            dst.copy_from_slice(&data[k * block + col..k * block + col + STRIP]);
        }
        stages_from(&mut scratch, STRIP);
        for (k, src) in scratch.chunks_exact(STRIP).enumerate() {
            data[k * block + col..k * block + col + STRIP].copy_from_slice(src);
        }
    }
}

/// The whole transform of a vector that fits in cache.
#[inline(always)]
fn fwht_in_cache<F: Butterfly>(data: &mut [F], base: impl Fn(&mut [F]) -> usize) {
    if data.len() < 8 {
        stages_from(data, 1);
        return;
    }
    let h = base(data);
    stages_from(data, h);
}

/// Stages 1, 2, 4 of one group of 8 values, in the reference's order of operations.
#[inline(always)]
fn butterfly8<F: Butterfly>(mut v: [F; 8]) -> [F; 8] {
    for h in [1, 2, 4] {
        let mut w = v;
        for i in 0..8 {
            w[i] = if i & h == 0 {
                v[i] + v[i + h]
            } else {
                v[i - h] - v[i]
            };
        }
        v = w;
    }
    v
}

/// Stages 1, 2, 4 of every group of 8 entries (portable version); returns 8.
#[inline(always)]
fn base8_scalar<F: Butterfly>(data: &mut [F]) -> usize {
    for c in data.chunks_exact_mut(8) {
        let v = butterfly8([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        c.copy_from_slice(&v);
    }
    8
}

/// Stages h, 2h, 4h, … < len: three at a time (radix 8: one load and one store per entry for
/// three stages), then radix 4 or 2 for what is left.
#[inline(always)]
fn stages_from<F: Butterfly>(data: &mut [F], mut h: usize) {
    let n = data.len();
    while 8 * h <= n {
        for block in data.chunks_exact_mut(8 * h) {
            let (p0, rest) = block.split_at_mut(h);
            let (p1, rest) = rest.split_at_mut(h);
            let (p2, rest) = rest.split_at_mut(h);
            let (p3, rest) = rest.split_at_mut(h);
            let (p4, rest) = rest.split_at_mut(h);
            let (p5, rest) = rest.split_at_mut(h);
            let (p6, p7) = rest.split_at_mut(h);
            // Zipped slice iterators (not indices): no bounds checks, so the loop vectorises.
            let rows = p0
                .iter_mut()
                .zip(p1.iter_mut())
                .zip(p2.iter_mut())
                .zip(p3.iter_mut());
            let rows = rows
                .zip(p4.iter_mut())
                .zip(p5.iter_mut())
                .zip(p6.iter_mut())
                .zip(p7.iter_mut());
            for (((((((a0, a1), a2), a3), a4), a5), a6), a7) in rows {
                let v = butterfly8([*a0, *a1, *a2, *a3, *a4, *a5, *a6, *a7]);
                (*a0, *a1, *a2, *a3, *a4, *a5, *a6, *a7) =
                    (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
            }
        }
        h *= 8;
    }
    if 4 * h <= n {
        for block in data.chunks_exact_mut(4 * h) {
            let (a, rest) = block.split_at_mut(h);
            let (b, rest) = rest.split_at_mut(h);
            let (c, d) = rest.split_at_mut(h);
            for (((a, b), c), d) in a
                .iter_mut()
                .zip(b.iter_mut())
                .zip(c.iter_mut())
                .zip(d.iter_mut())
            {
                // Stage h on (a, b) and (c, d), then stage 2h on (a, c) and (b, d).
                let (s0, d0) = (*a + *b, *a - *b);
                let (s1, d1) = (*c + *d, *c - *d);
                *a = s0 + s1;
                *b = d0 + d1;
                *c = s0 - s1;
                *d = d0 - d1;
            }
        }
        h *= 4;
    }
    if 2 * h <= n {
        for block in data.chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (a, b) in a.iter_mut().zip(b.iter_mut()) {
                let (u, v) = (*a, *b);
                *a = u + v;
                *b = u - v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// y = H x with H built entry by entry from its definition.
    fn hadamard_matrix_times<F: Element>(x: &[F]) -> Vec<F> {
        let n = x.len();
        (0..n)
            .map(|i| {
                let mut acc = 0.0f64;
                for (j, v) in x.iter().enumerate() {
                    let sign = if (i & j).count_ones() % 2 == 0 {
                        1.0
                    } else {
                        -1.0
                    };
                    acc += sign * v.to_f64_exact();
                }
                F::from_f64_lossy(acc)
            })
            .collect()
    }

    fn random_vec<F: Element>(n: usize, seed: u64) -> Vec<F> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Small integers: every partial sum is exact in f32 up to 2^12 terms, so the fast transform
        // and the matrix product must agree exactly.
        (0..n)
            .map(|_| F::from_f64_lossy(rng.random_range(-8i32..=8) as f64))
            .collect()
    }

    fn check_matrix<F: Element>() {
        for k in 0..=12 {
            let n = 1usize << k;
            let x = random_vec::<F>(n, k as u64);
            let mut fast = x.clone();
            fwht(&mut fast).unwrap();
            assert_eq!(fast, hadamard_matrix_times(&x), "length {n}");
        }
    }

    #[test]
    fn equals_hadamard_matrix_f32() {
        check_matrix::<f32>();
    }

    #[test]
    fn equals_hadamard_matrix_f64() {
        check_matrix::<f64>();
    }

    fn check_reference<F: Element>(lengths: impl Iterator<Item = usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for n in lengths {
            let x: Vec<F> = (0..n)
                .map(|_| F::from_f64_lossy(rng.random::<f64>() - 0.5))
                .collect();
            let (mut fast, mut slow) = (x.clone(), x);
            fwht(&mut fast).unwrap();
            fwht_reference(&mut slow);
            // Same operations in the same order per entry: bit-identical, not just close.
            let bits = |v: &F| v.to_f64_exact().to_bits();
            assert!(
                fast.iter().zip(&slow).all(|(a, b)| bits(a) == bits(b)),
                "length {n}"
            );
        }
    }

    #[test]
    fn fast_path_is_bitwise_the_reference() {
        check_reference::<f32>((0..=21).map(|k| 1 << k));
        check_reference::<f64>((0..=21).map(|k| 1 << k));
    }

    #[test]
    fn every_simd_level_agrees_bitwise() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for k in 0..=18 {
            let x: Vec<f64> = (0..1 << k).map(|_| rng.random::<f64>() - 0.5).collect();
            let mut portable = x.clone();
            fwht_with(Simd::portable(), &mut portable).unwrap();
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let mut portable32 = x32.clone();
            fwht_with(Simd::portable(), &mut portable32).unwrap();
            for simd in Simd::levels() {
                let mut fast = x.clone();
                fwht_with(simd, &mut fast).unwrap();
                assert_eq!(fast, portable, "f64, length 2^{k}, {simd:?}");
                let mut fast = x32.clone();
                fwht_with(simd, &mut fast).unwrap();
                assert_eq!(fast, portable32, "f32, length 2^{k}, {simd:?}");
            }
        }
    }

    /// Every level on slices at every offset from a 64-byte boundary (the AVX-512 kernels take
    /// other paths for aligned and unaligned short slices).
    #[test]
    fn every_offset_agrees_bitwise() {
        fn check<F: Element>() {
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            for k in 3..=11 {
                let n = 1usize << k;
                let lanes = 64 / size_of::<F>();
                let x: Vec<F> = (0..n + lanes)
                    .map(|_| F::from_f64_lossy(rng.random::<f64>() - 0.5))
                    .collect();
                for offset in 0..lanes {
                    let mut slow = x[offset..offset + n].to_vec();
                    fwht_reference(&mut slow);
                    for simd in Simd::levels() {
                        let mut buf = x.clone();
                        fwht_with(simd, &mut buf[offset..offset + n]).unwrap();
                        assert_eq!(
                            &buf[offset..offset + n],
                            &slow[..],
                            "2^{k}, +{offset}, {simd:?}"
                        );
                    }
                }
            }
        }
        check::<f32>();
        check::<f64>();
    }

    /// The sign flip fused into the transform (SORF's step) is the product, then the transform.
    #[test]
    fn signed_step_agrees_bitwise() {
        fn check<F: Element>() {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            for k in 0..=14 {
                let n = 1usize << k;
                let x: Vec<F> = (0..n)
                    .map(|_| F::from_f64_lossy(rng.random::<f64>() - 0.5))
                    .collect();
                let s: Vec<F> = (0..n)
                    .map(|_| F::from_f64_lossy(if rng.random::<bool>() { 1.0 } else { -1.0 }))
                    .collect();
                let mut slow: Vec<F> = x.iter().zip(&s).map(|(&x, &s)| s * x).collect();
                fwht_reference(&mut slow);
                for simd in Simd::levels() {
                    let mut fast = x.clone();
                    F::signed_fwht(simd, &mut fast, &s);
                    assert_eq!(fast, slow, "length 2^{k}, {simd:?}");
                }
            }
        }
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn scalar_path_is_bitwise_the_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for k in [0, 3, 5, 12, 13, 17] {
            let x: Vec<f32> = (0..1 << k).map(|_| rng.random::<f32>() - 0.5).collect();
            let (mut fast, mut slow) = (x.clone(), x);
            fwht_blocked(&mut fast, base8_scalar);
            fwht_reference(&mut slow);
            assert_eq!(fast, slow);
        }
    }

    #[test]
    fn involution_up_to_scale() {
        let x = random_vec::<f64>(1 << 10, 9);
        let mut y = x.clone();
        fwht(&mut y).unwrap();
        fwht(&mut y).unwrap();
        assert!(y.iter().zip(&x).all(|(a, b)| *a == b * 1024.0));
    }

    #[test]
    fn rejects_bad_lengths() {
        for n in [0, 3, 6, 1000] {
            let mut v = vec![0.0f32; n];
            assert_eq!(fwht(&mut v), Err(RksError::NotPowerOfTwo(n)));
        }
    }
}

//! The fast Walsh–Hadamard transform (unnormalised): x ← H x, H the ±1 Sylvester–Hadamard matrix.
//!
//! H_{ij} = (−1)^{popcount(i & j)}, H² = d·I. Cost d·log₂d additions/subtractions.
//!
//! The fast path ([`fwht`]) does the same additions in the same order per element as the obvious
//! radix-2 loop ([`fwht_reference`]), so the two agree bit for bit; it only changes the order in
//! which *independent* butterflies run, for speed:
//!
//! - the three smallest stages (h = 1, 2, 4) run fused on each group of 8 entries, in registers
//!   (with AVX2 intrinsics when the CPU has them: lane permutes, sign flips and adds);
//! - the remaining stages run three at a time (radix 8: one load and one store per entry for
//!   three stages) with contiguous inner loops the compiler vectorises; the fused f32 entry point
//!   Fastfood uses (`fwht_f32_from_avx2`) runs them four at a time instead (radix 16, 16 AVX2
//!   registers: at length 1,024 one pass after the in-register stages instead of two);
//! - a long vector is first transformed in blocks that fit the L1 cache, then the stages that
//!   cross blocks run strip by strip: a strip of `STRIP` columns of every block is copied to a
//!   small scratch buffer (L2-resident), transformed there, and copied back, so no pass streams the
//!   whole vector through memory more than twice;
//! - on x86-64 CPUs with AVX2 and FMA the same code is compiled a second time with both enabled
//!   (8 f32 or 4 f64 lanes instead of SSE2's 4 or 2) and chosen at run time. The arithmetic is
//!   identical (additions and subtractions; where the f64 in-register stages use a fused
//!   multiply-add v·(±1) + w, the product is exact, so it rounds exactly like w ± v), so results
//!   do not depend on the CPU; the tests compare both paths with the reference bit for bit.
//!   (The fused form moves those additions from the two adder pipes of a Zen 3 core to its two
//!   multiply pipes: f64 transforms of 2¹⁰–2¹⁴ entries 3–4 % faster; in f32, where it also
//!   lengthens each register's dependency chain, no gain was measured, so f32 keeps the adds.)

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
    let n = data.len();
    if n == 0 || !n.is_power_of_two() {
        return Err(RksError::NotPowerOfTwo(n));
    }
    F::fwht_unchecked(data);
    Ok(())
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

/// The fast transform for a power-of-two length, dispatched on the CPU. Called through
/// [`Element`] so f32 and f64 each get their own compiled copy.
pub(crate) fn fwht_fast<F: Butterfly>(data: &mut [F]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { fwht_avx2(data) };
        return;
    }
    fwht_blocked(data, base8_scalar);
}

/// [`fwht_blocked`] compiled with AVX2 enabled, with the in-register first stages.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn fwht_avx2<F: Butterfly>(data: &mut [F]) {
    fwht_blocked(data, F::base_avx2);
}

/// `dst ← H v` with `v[k] = load(k)` (8 lanes at a time, k a multiple of 8): the element-wise
/// step that produces v runs inside the first in-register stages, not as a pass of its own.
/// The result is bit for bit [`fwht_reference`] of v. For 64 ≤ `dst.len()` ≤ one cache block
/// (4,096 f32); returns false (and does nothing) for other lengths.
///
/// # Safety
/// The CPU must support AVX2, and `load(k)` must be sound for every multiple k of 8 below
/// `dst.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn fwht_f32_from_avx2(
    dst: &mut [f32],
    load: impl Fn(usize) -> std::arch::x86_64::__m256,
) -> bool {
    let n = dst.len();
    if !n.is_power_of_two() || n < 64 || n > BLOCK_BYTES / size_of::<f32>() {
        return false;
    }
    // SAFETY: the caller's contract; n is a multiple of 64.
    unsafe { simd::base64_f32_from(dst, load) };
    let mut h = 64;
    while 16 * h <= n {
        // n is a multiple of 16h and h of 8 (AVX2 and FMA are enabled here).
        simd::radix16_f32(dst, h);
        h *= 16;
    }
    stages_from(dst, h);
    true
}

/// [`fwht_f32_from_avx2`] for f64: `dst ← H v` with `v[k] = load(k)` (4 lanes at a time, k a
/// multiple of 4), fused into the first five in-register stages. For 32 ≤ `dst.len()` ≤ one
/// cache block (2,048 f64); returns false (and does nothing) for other lengths.
///
/// # Safety
/// The CPU must support AVX2, and `load(k)` must be sound for every multiple k of 4 below
/// `dst.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn fwht_f64_from_avx2(
    dst: &mut [f64],
    load: impl Fn(usize) -> std::arch::x86_64::__m256d,
) -> bool {
    let n = dst.len();
    if !n.is_power_of_two() || n < 32 || n > BLOCK_BYTES / size_of::<f64>() {
        return false;
    }
    // SAFETY: the caller's contract; n is a multiple of 32.
    unsafe { simd::base32_f64_from(dst, load) };
    stages_from(dst, 32);
    true
}

/// The arithmetic the transform needs; implemented for f32 and f64.
pub(crate) trait Butterfly:
    Copy + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self>
{
    /// The first stages of every group of `g` entries with AVX2 intrinsics (x86-64 only), for a
    /// length ≥ 8; returns g (the next stage to run).
    #[cfg(target_arch = "x86_64")]
    fn base_avx2(data: &mut [Self]) -> usize;
}

impl Butterfly for f32 {
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn base_avx2(data: &mut [f32]) -> usize {
        // SAFETY: only reached from `fwht_avx2`, which runs on CPUs with AVX2.
        unsafe {
            if data.len() >= 64 {
                simd::base64_f32(data);
                64
            } else {
                simd::base8_f32(data);
                8
            }
        }
    }
}

impl Butterfly for f64 {
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn base_avx2(data: &mut [f64]) -> usize {
        // SAFETY: only reached from `fwht_avx2`, which runs on CPUs with AVX2.
        unsafe {
            if data.len() >= 32 {
                simd::base32_f64(data);
                32
            } else {
                simd::base8_f64(data);
                8
            }
        }
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

/// The first three stages inside AVX2 registers: the only explicit SIMD of the transform.
///
/// Stage h of a vector v is t + (±v) with t = v with lanes i and i ^ h swapped and the sign
/// negative on lanes with i & h ≠ 0: lane i gets `v[i+h] + v[i]` or `v[i−h] − v[i]`, the same
/// IEEE operations as the reference (addition commutes exactly; x + (−y) = x − y).
#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// Stages 1, 2, 4 of each group of 8 f32 (one register each); `data.len()` a multiple of 8.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn base8_f32(data: &mut [f32]) {
        let sign1 = _mm256_setr_ps(0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0);
        let sign2 = _mm256_setr_ps(0.0, 0.0, -0.0, -0.0, 0.0, 0.0, -0.0, -0.0);
        let sign4 = _mm256_setr_ps(0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0);
        for c in data.chunks_exact_mut(8) {
            let p = c.as_mut_ptr();
            // SAFETY: `c` holds exactly 8 f32; unaligned loads and stores.
            unsafe {
                let mut v = _mm256_loadu_ps(p);
                v = _mm256_add_ps(_mm256_permute_ps::<0xB1>(v), _mm256_xor_ps(v, sign1));
                v = _mm256_add_ps(_mm256_permute_ps::<0x4E>(v), _mm256_xor_ps(v, sign2));
                v = _mm256_add_ps(
                    _mm256_permute2f128_ps::<0x01>(v, v),
                    _mm256_xor_ps(v, sign4),
                );
                _mm256_storeu_ps(p, v);
            }
        }
    }

    /// Stages 1 to 32 of each group of 64 f32: stages 1, 2, 4 inside each of 8 registers, then
    /// 8, 16, 32 across them, all before storing; `data.len()` a multiple of 64.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn base64_f32(data: &mut [f32]) {
        let p = data.as_ptr();
        // SAFETY: `base64_f32_from` loads offsets below data.len() only.
        unsafe { base64_f32_from(data, |k| _mm256_loadu_ps(p.add(k))) };
    }

    /// [`base64_f32`] on the values `load(k)` gives for entries k..k+8 (k a multiple of 8 below
    /// `data.len()`), written to `data`: lets a caller fuse an element-wise step (a sign flip, a
    /// gather) into the first stages instead of a pass of its own.
    ///
    /// # Safety
    /// `load(k)` must be sound for every such k; `data.len()` a multiple of 64.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn base64_f32_from(data: &mut [f32], load: impl Fn(usize) -> __m256) {
        let sign1 = _mm256_setr_ps(0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0);
        let sign2 = _mm256_setr_ps(0.0, 0.0, -0.0, -0.0, 0.0, 0.0, -0.0, -0.0);
        let sign4 = _mm256_setr_ps(0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0);
        let inner = |mut v: __m256| {
            v = _mm256_add_ps(_mm256_permute_ps::<0xB1>(v), _mm256_xor_ps(v, sign1));
            v = _mm256_add_ps(_mm256_permute_ps::<0x4E>(v), _mm256_xor_ps(v, sign2));
            _mm256_add_ps(
                _mm256_permute2f128_ps::<0x01>(v, v),
                _mm256_xor_ps(v, sign4),
            )
        };
        for (c, chunk) in data.chunks_exact_mut(64).enumerate() {
            let p = chunk.as_mut_ptr();
            // SAFETY: `chunk` holds exactly 64 f32: registers k write p[8k..8k+8]; `load` is
            // sound for these offsets (the caller's contract).
            unsafe {
                let mut v = [_mm256_setzero_ps(); 8];
                for (k, v) in v.iter_mut().enumerate() {
                    *v = inner(load(64 * c + 8 * k));
                }
                for h in [1, 2, 4] {
                    let mut w = v;
                    for i in 0..8 {
                        w[i] = if i & h == 0 {
                            _mm256_add_ps(v[i], v[i + h])
                        } else {
                            _mm256_sub_ps(v[i - h], v[i])
                        };
                    }
                    v = w;
                }
                for (k, v) in v.iter().enumerate() {
                    _mm256_storeu_ps(p.add(8 * k), *v);
                }
            }
        }
    }

    /// Stages h, 2h, 4h and 8h in one pass (radix 16): for each 8-lane column of each block of
    /// 16h entries, the 16 registers h apart are loaded once, go through the four stages and are
    /// stored once (the generic passes need two: radix 8, then radix 2 for the fourth stage).
    /// `data.len()` a multiple of 16h, h a multiple of 8.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn radix16_f32(data: &mut [f32], h: usize) {
        for block in data.chunks_exact_mut(16 * h) {
            let p = block.as_mut_ptr();
            for col in (0..h).step_by(8) {
                // SAFETY: j·h + col + 8 ≤ 16h = block.len() for j < 16, col + 8 ≤ h.
                unsafe {
                    // Written out (a macro, not loops over arrays): with loops the compiler kept
                    // the 16 registers in memory and copied them between stages.
                    macro_rules! stage {
                        ($v:ident, $s:expr, $($i:expr),*) => {
                            [$(if $i & $s == 0 {
                                _mm256_add_ps($v[$i], $v[($i + $s) & 15])
                            } else {
                                _mm256_sub_ps($v[($i + 16 - $s) & 15], $v[$i])
                            }),*]
                        };
                    }
                    macro_rules! all {
                        ($m:ident, $($a:tt)*) => {
                            $m!($($a)* 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
                        };
                    }
                    macro_rules! loads {
                        ($($j:expr),*) => { [$(_mm256_loadu_ps(p.add($j * h + col))),*] };
                    }
                    let v = all!(loads,);
                    let v = all!(stage, v, 1,);
                    let v = all!(stage, v, 2,);
                    let v = all!(stage, v, 4,);
                    let v = all!(stage, v, 8,);
                    for (j, v) in v.iter().enumerate() {
                        _mm256_storeu_ps(p.add(j * h + col), *v);
                    }
                }
            }
        }
    }

    /// Stages 1 to 16 of each group of 32 f64: stages 1, 2 inside each of 8 registers, then
    /// 4, 8, 16 across them; `data.len()` a multiple of 32.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn base32_f64(data: &mut [f64]) {
        let p = data.as_ptr();
        // SAFETY: `base32_f64_from` loads offsets below data.len() only.
        unsafe { base32_f64_from(data, |k| _mm256_loadu_pd(p.add(k))) };
    }

    /// [`base32_f64`] on the values `load(k)` gives for entries k..k+4 (k a multiple of 4 below
    /// `data.len()`), written to `data` (as [`base64_f32_from`]).
    ///
    /// # Safety
    /// `load(k)` must be sound for every such k; `data.len()` a multiple of 32.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn base32_f64_from(data: &mut [f64], load: impl Fn(usize) -> __m256d) {
        let sign1 = _mm256_setr_pd(1.0, -1.0, 1.0, -1.0);
        let sign2 = _mm256_setr_pd(1.0, 1.0, -1.0, -1.0);
        // v·(±1) + swapped in one fused multiply-add: the product is exact, so it rounds like the
        // addition, and it runs on the multiply pipes instead of the adders (module notes).
        let inner = |mut v: __m256d| {
            v = _mm256_fmadd_pd(v, sign1, _mm256_permute_pd::<0b0101>(v));
            _mm256_fmadd_pd(v, sign2, _mm256_permute2f128_pd::<0x01>(v, v))
        };
        for (c, chunk) in data.chunks_exact_mut(32).enumerate() {
            let p = chunk.as_mut_ptr();
            // SAFETY: `chunk` holds exactly 32 f64: registers k write p[4k..4k+4]; `load` is
            // sound for these offsets (the caller's contract).
            unsafe {
                let mut v = [_mm256_setzero_pd(); 8];
                for (k, v) in v.iter_mut().enumerate() {
                    *v = inner(load(32 * c + 4 * k));
                }
                for h in [1, 2, 4] {
                    let mut w = v;
                    for i in 0..8 {
                        w[i] = if i & h == 0 {
                            _mm256_add_pd(v[i], v[i + h])
                        } else {
                            _mm256_sub_pd(v[i - h], v[i])
                        };
                    }
                    v = w;
                }
                for (k, v) in v.iter().enumerate() {
                    _mm256_storeu_pd(p.add(4 * k), *v);
                }
            }
        }
    }

    /// Stages 1, 2, 4 of each group of 8 f64 (two registers); `data.len()` a multiple of 8.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn base8_f64(data: &mut [f64]) {
        let sign1 = _mm256_setr_pd(0.0, -0.0, 0.0, -0.0);
        let sign2 = _mm256_setr_pd(0.0, 0.0, -0.0, -0.0);
        for c in data.chunks_exact_mut(8) {
            let p = c.as_mut_ptr();
            // SAFETY: `c` holds exactly 8 f64; unaligned loads and stores.
            unsafe {
                let mut lo = _mm256_loadu_pd(p);
                let mut hi = _mm256_loadu_pd(p.add(4));
                lo = _mm256_add_pd(_mm256_permute_pd::<0b0101>(lo), _mm256_xor_pd(lo, sign1));
                hi = _mm256_add_pd(_mm256_permute_pd::<0b0101>(hi), _mm256_xor_pd(hi, sign1));
                lo = _mm256_add_pd(
                    _mm256_permute2f128_pd::<0x01>(lo, lo),
                    _mm256_xor_pd(lo, sign2),
                );
                hi = _mm256_add_pd(
                    _mm256_permute2f128_pd::<0x01>(hi, hi),
                    _mm256_xor_pd(hi, sign2),
                );
                _mm256_storeu_pd(p, _mm256_add_pd(lo, hi));
                _mm256_storeu_pd(p.add(4), _mm256_sub_pd(lo, hi));
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

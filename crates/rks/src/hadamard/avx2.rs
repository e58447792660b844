//! The Walsh–Hadamard transform's AVX2 + FMA kernels: from 512 entries up, the
//! register-blocked passes of `passes.rs` with 8 or 4 lanes (the first pass does the
//! in-register stages of 16 consecutive registers and the four stages across them, later
//! passes four stages each, long vectors recursively); 32 or 64 f32 (16 or 32 f64) entries in
//! one pass of 4 or 8 registers; other short slices through the blocked order of [`super`]
//! with the first six (f32) or five (f64) stages in registers; and the entry points Fastfood
//! fuses its element-wise steps into. Every function here needs an
//! [`Avx2Fma`] token or is only called from one that has it; each result is bit for bit
//! [`super::fwht_reference`] (tested in [`super`] and in Fastfood's fused steps).
//!
//! Stage h of a vector v is t + (±v) with t = v with lanes i and i ^ h swapped and the sign
//! negative on lanes with i & h ≠ 0: lane i gets `v[i+h] + v[i]` or `v[i−h] − v[i]`, the same
//! IEEE operations as the reference (addition commutes exactly; x + (−y) = x − y).

use std::arch::x86_64::*;

use super::{BLOCK_BYTES, fwht_blocked, stages_from};
use crate::simd::Avx2Fma;

/// Entries from which the register passes and the recursive order run (both types). Below it
/// the blocked order with the in-register base (64 f32 or 32 f64 entries) and one radix-2, -4
/// or -8 pass was not slower on Zen 3 (against FFHT in the same run, f32 2⁸ 0.86–0.95 of its
/// time against 0.98 with the register passes, f64 2⁷ 0.87–0.99 against 1.13–1.16; at these
/// lengths the same code moved by ±15 % between builds).
const RECURSIVE_FROM: usize = 512;

/// The transform of a power-of-two-length f32 slice (see the module notes for which kernel
/// takes which length).
pub(super) fn fwht_f32(_cpu: Avx2Fma, data: &mut [f32]) {
    if data.len() >= RECURSIVE_FROM {
        // SAFETY: the token proves the CPU has AVX2 and FMA.
        unsafe { f32x8::recursive(data) }
    // SAFETY: as above.
    } else if !unsafe { f32x8::short(data) } {
        // SAFETY: as above.
        unsafe { blocked_f32(data) }
    }
}

/// [`fwht_f32`] for f64 (4 lanes).
pub(super) fn fwht_f64(_cpu: Avx2Fma, data: &mut [f64]) {
    if data.len() >= RECURSIVE_FROM {
        // SAFETY: the token proves the CPU has AVX2 and FMA.
        unsafe { f64x4::recursive(data) }
    // SAFETY: as above.
    } else if !unsafe { f64x4::short(data) } {
        // SAFETY: as above.
        unsafe { blocked_f64(data) }
    }
}

#[target_feature(enable = "avx2,fma")]
fn blocked_f32(data: &mut [f32]) {
    fwht_blocked(data, |d: &mut [f32]| {
        if d.len() >= 64 {
            let p = d.as_ptr();
            // SAFETY: `base64_f32_from` loads offsets below d.len() only.
            unsafe { base64_f32_from(d, |k| _mm256_loadu_ps(p.add(k))) };
            64
        } else {
            base8_f32(d);
            8
        }
    });
}

#[target_feature(enable = "avx2,fma")]
fn blocked_f64(data: &mut [f64]) {
    fwht_blocked(data, |d: &mut [f64]| {
        if d.len() >= 32 {
            let p = d.as_ptr();
            // SAFETY: `base32_f64_from` loads offsets below d.len() only.
            unsafe { base32_f64_from(d, |k| _mm256_loadu_pd(p.add(k))) };
            32
        } else {
            base8_f64(d);
            8
        }
    });
}

/// `dst ← H v` with `v[k] = load(k)` (8 lanes at a time, k a multiple of 8): the element-wise
/// step that produces v runs inside the first in-register stages, not as a pass of its own.
/// The result is bit for bit [`super::fwht_reference`] of v. For 64 ≤ `dst.len()` ≤ one cache
/// block (4,096 f32); returns false (and does nothing) for other lengths.
///
/// # Safety
/// `load(k)` must be sound for every multiple k of 8 below `dst.len()`.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn fwht_f32_from(
    _cpu: Avx2Fma,
    dst: &mut [f32],
    load: impl Fn(usize) -> __m256,
) -> bool {
    let n = dst.len();
    if !n.is_power_of_two() || n < 64 || n > BLOCK_BYTES / size_of::<f32>() {
        return false;
    }
    // SAFETY: the caller's contract; n is a multiple of 64.
    unsafe { base64_f32_from(dst, load) };
    let mut h = 64;
    while 16 * h <= n {
        // n is a multiple of 16h and h of 8.
        radix16_f32(dst, h);
        h *= 16;
    }
    stages_from(dst, h);
    true
}

/// [`fwht_f32_from`] for f64: `dst ← H v` with `v[k] = load(k)` (4 lanes at a time, k a
/// multiple of 4), fused into the first five in-register stages. For 32 ≤ `dst.len()` ≤ one
/// cache block (2,048 f64); returns false (and does nothing) for other lengths.
///
/// # Safety
/// `load(k)` must be sound for every multiple k of 4 below `dst.len()`.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn fwht_f64_from(
    _cpu: Avx2Fma,
    dst: &mut [f64],
    load: impl Fn(usize) -> __m256d,
) -> bool {
    let n = dst.len();
    if !n.is_power_of_two() || n < 32 || n > BLOCK_BYTES / size_of::<f64>() {
        return false;
    }
    // SAFETY: the caller's contract; n is a multiple of 32.
    unsafe { base32_f64_from(dst, load) };
    stages_from(dst, 32);
    true
}

/// Stages 1, 2, 4 of each group of 8 f32 (one register each); `data.len()` a multiple of 8.
#[target_feature(enable = "avx2,fma")]
fn base8_f32(data: &mut [f32]) {
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

/// Stages 1 to 32 of each group of 64 f32 on the values `load(k)` gives for entries k..k+8 (k a
/// multiple of 8 below `data.len()`), written to `data`: stages 1, 2, 4 inside each of 8
/// registers, then 8, 16, 32 across them, all before storing. Lets a caller fuse an
/// element-wise step (a sign flip, a gather) into the first stages instead of a pass of its own.
///
/// # Safety
/// `load(k)` must be sound for every such k; `data.len()` a multiple of 64.
#[target_feature(enable = "avx2,fma")]
unsafe fn base64_f32_from(data: &mut [f32], load: impl Fn(usize) -> __m256) {
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
fn radix16_f32(data: &mut [f32], h: usize) {
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

/// Stages 1 to 16 of each group of 32 f64 on the values `load(k)` gives for entries k..k+4 (k a
/// multiple of 4 below `data.len()`), written to `data` (as [`base64_f32_from`]): stages 1, 2
/// inside each of 8 registers, then 4, 8, 16 across them.
///
/// # Safety
/// `load(k)` must be sound for every such k; `data.len()` a multiple of 32.
#[target_feature(enable = "avx2,fma")]
unsafe fn base32_f64_from(data: &mut [f64], load: impl Fn(usize) -> __m256d) {
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
fn base8_f64(data: &mut [f64]) {
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

/// Stages 1, 2, 4 of the 8 f32 lanes of `v` (as in [`base8_f32`]).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn inner_f32(v: __m256) -> __m256 {
    let sign1 = _mm256_setr_ps(0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0);
    let sign2 = _mm256_setr_ps(0.0, 0.0, -0.0, -0.0, 0.0, 0.0, -0.0, -0.0);
    let sign4 = _mm256_setr_ps(0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0);
    let v = _mm256_add_ps(_mm256_permute_ps::<0xB1>(v), _mm256_xor_ps(v, sign1));
    let v = _mm256_add_ps(_mm256_permute_ps::<0x4E>(v), _mm256_xor_ps(v, sign2));
    _mm256_add_ps(
        _mm256_permute2f128_ps::<0x01>(v, v),
        _mm256_xor_ps(v, sign4),
    )
}

/// Stages 1, 2 of the 4 f64 lanes of `v` (as in [`base32_f64_from`]: exact fused
/// multiply-adds by ±1).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn inner_f64(v: __m256d) -> __m256d {
    let sign1 = _mm256_setr_pd(1.0, -1.0, 1.0, -1.0);
    let sign2 = _mm256_setr_pd(1.0, 1.0, -1.0, -1.0);
    let v = _mm256_fmadd_pd(v, sign1, _mm256_permute_pd::<0b0101>(v));
    _mm256_fmadd_pd(v, sign2, _mm256_permute2f128_pd::<0x01>(v, v))
}

/// `b − a` (the `n` of the AVX-512 form a·n + b is not needed: 16 registers are all a radix-16
/// pass has, so the differences stay on the adders).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn rsub_ps(a: __m256, _n: __m256, b: __m256) -> __m256 {
    _mm256_sub_ps(b, a)
}

/// [`rsub_ps`] for f64.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn rsub_pd(a: __m256d, _n: __m256d, b: __m256d) -> __m256d {
    _mm256_sub_pd(b, a)
}

kernels!(
    "avx2,fma",
    f32x8,
    f32,
    __m256,
    8,
    inner_f32,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_add_ps,
    rsub_ps,
    _mm256_set1_ps
);
kernels!(
    "avx2,fma",
    f64x4,
    f64,
    __m256d,
    4,
    inner_f64,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_add_pd,
    rsub_pd,
    _mm256_set1_pd
);

//! The Walsh–Hadamard transform's AVX-512 kernels: 16 f32 or 8 f64 lanes, 32 registers. Every
//! entry point takes an [`Avx512`] token; each result is bit for bit
//! [`super::fwht_reference`] (tested in [`super`] and in Fastfood's fused steps).
//!
//! - Butterflies: of each pair (a, b) the sum a + b runs on the adders and the difference as the
//!   fused multiply-add b·(−1) + a on the multiply pipes. The product is exact, so it rounds
//!   exactly like a − b; a Zen 4 core has two pipes of each kind, so the transform's additions
//!   use all four instead of two.
//! - The first stages run inside each register: lane i gets v·(±1) + v[i ^ h] (a lane permute
//!   and one fused multiply-add; the sign is negative on lanes with i & h ≠ 0), which is
//!   `v[i] + v[i+h]` or `v[i−h] − v[i]` as in the reference.
//! - The passes are those of `passes.rs` (instantiated here with 16 or 8 lanes): each pass over
//!   memory loads 16 registers h apart, runs four stages on them (radix 16) and stores them; the
//!   first pass does the in-register stages of 16 consecutive registers and the four stages
//!   across them (8 stages in f32, 7 in f64), later passes four stages each.
//! - A long vector is transformed recursively (cache-oblivious in spirit): its parts first, each
//!   in cache, then one radix-8 pass over the whole vector for the stages that cross the parts.
//!   Every entry is loaded and stored once per three or four stages above the L1 block, and the
//!   passes over a part run while it is in the L2 cache.

use std::arch::x86_64::*;

use super::BLOCK_BYTES;
use crate::simd::Avx512;

/// The transform of a power-of-two-length f32 slice: 4, 8 or 32 registers' worth (64, 128, 512
/// entries) in one pass of registers, other lengths from 256 up recursively; below 64 entries,
/// the AVX2 kernel.
pub(super) fn fwht_f32(cpu: Avx512, data: &mut [f32]) {
    if data.len() < 16 * f32x16::LANES {
        // The shortest from a buffer off a 64-byte boundary, where 512-bit operations run as
        // two halves (Zen 4): the AVX2 kernel's 32-byte registers (whole 64-byte ones straddle
        // two cache lines each; 2^6 entries from a buffer 16 bytes off: 1.09–1.13 of FFHT's
        // time, with the AVX2 kernel 0.91). With whole 512-bit units (Emerald Rapids) the
        // 64-byte registers stay faster: 0.55 of FFHT's time against the AVX2 kernel's 0.93–1.02.
        let to_avx2 = data.len() == 4 * f32x16::LANES
            && !(data.as_ptr() as usize).is_multiple_of(64)
            && cpu.splits_512_bit_operations();
        // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
        if data.len() < 4 * f32x16::LANES || to_avx2 || !unsafe { f32x16::short(data) } {
            super::avx2::fwht_f32(cpu.avx2_fma(), data);
        }
        return;
    }
    // 32 registers' worth in one pass instead of two (2^9 entries: 0.67 → 0.61 of FFHT's time).
    // SAFETY: as below.
    if data.len() == 32 * f32x16::LANES && unsafe { f32x16::short(data) } {
        return;
    }
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { f32x16::recursive(data) }
}

/// [`fwht_f32`] for f64 (8 lanes: 32, 64 and 256 entries in one pass); below 32 entries, the
/// AVX2 kernel.
pub(super) fn fwht_f64(cpu: Avx512, data: &mut [f64]) {
    if data.len() < 16 * f64x8::LANES {
        // As for f32, up to 2^6 entries (Zen 4: 1.0–1.05 of FFHT's time, with the AVX2 kernel
        // 0.86–0.88; Emerald Rapids: 0.37–0.41, with the AVX2 kernel 0.90–0.95).
        let to_avx2 = data.len() <= 8 * f64x8::LANES
            && !(data.as_ptr() as usize).is_multiple_of(64)
            && cpu.splits_512_bit_operations();
        // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
        if data.len() < 4 * f64x8::LANES || to_avx2 || !unsafe { f64x8::short(data) } {
            super::avx2::fwht_f64(cpu.avx2_fma(), data);
        }
        return;
    }
    // 32 registers' worth in one pass instead of two (2^8 entries: 0.81 → 0.72 of FFHT's time).
    // SAFETY: as below.
    if data.len() == 32 * f64x8::LANES && unsafe { f64x8::short(data) } {
        return;
    }
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { f64x8::recursive(data) }
}

/// `dst ← H v` with `v[k] = load(k)` (16 lanes at a time, k a multiple of 16): the element-wise
/// step that produces v runs inside the first pass, not as a pass of its own. Bit for bit
/// [`super::fwht_reference`] of v. For 256 ≤ `dst.len()` ≤ one cache block (4,096 f32);
/// returns false (and does nothing) for other lengths.
///
/// # Safety
/// `load(k)` must be sound for every multiple k of 16 below `dst.len()`.
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
pub(crate) unsafe fn fwht_f32_from(
    _cpu: Avx512,
    dst: &mut [f32],
    load: impl Fn(usize) -> __m512,
) -> bool {
    let n = dst.len();
    if !n.is_power_of_two() || n < 16 * f32x16::LANES || n > BLOCK_BYTES / size_of::<f32>() {
        return false;
    }
    // SAFETY: the caller's contract; n is a multiple of 256.
    unsafe { f32x16::in_cache_from(dst, load) };
    true
}

/// [`fwht_f32_from`] for f64: 8 lanes (k a multiple of 8), for 128 ≤ `dst.len()` ≤ one cache
/// block (2,048 f64).
///
/// # Safety
/// `load(k)` must be sound for every multiple k of 8 below `dst.len()`.
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
pub(crate) unsafe fn fwht_f64_from(
    _cpu: Avx512,
    dst: &mut [f64],
    load: impl Fn(usize) -> __m512d,
) -> bool {
    let n = dst.len();
    if !n.is_power_of_two() || n < 16 * f64x8::LANES || n > BLOCK_BYTES / size_of::<f64>() {
        return false;
    }
    // SAFETY: the caller's contract; n is a multiple of 128.
    unsafe { f64x8::in_cache_from(dst, load) };
    true
}

/// `a ← H(s ⊙ a)` (f32) with the product inside the transform's first pass; false (nothing
/// done) where [`fwht_f32_from`] does not apply, or `signs` is shorter than `a`.
pub(crate) fn signed_in_place_f32(cpu: Avx512, a: &mut [f32], signs: &[f32]) -> bool {
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { build_signed_in_place_f32(cpu, a, signs) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn build_signed_in_place_f32(cpu: Avx512, a: &mut [f32], signs: &[f32]) -> bool {
    if signs.len() < a.len() {
        return false;
    }
    let (ap, sp) = (a.as_ptr(), signs.as_ptr());
    // SAFETY: the loads read k..k+16 for multiples k of
    // 16 below a.len() ≤ signs.len() only, and the first pass loads each group of entries
    // before it stores that group.
    unsafe {
        fwht_f32_from(cpu, a, |k| {
            _mm512_mul_ps(_mm512_loadu_ps(sp.add(k)), _mm512_loadu_ps(ap.add(k)))
        })
    }
}

/// [`signed_in_place_f32`] for f64.
pub(crate) fn signed_in_place_f64(cpu: Avx512, a: &mut [f64], signs: &[f64]) -> bool {
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { build_signed_in_place_f64(cpu, a, signs) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn build_signed_in_place_f64(cpu: Avx512, a: &mut [f64], signs: &[f64]) -> bool {
    if signs.len() < a.len() {
        return false;
    }
    let (ap, sp) = (a.as_ptr(), signs.as_ptr());
    // SAFETY: as in `signed_in_place_f32`, 8 lanes.
    unsafe {
        fwht_f64_from(cpu, a, |k| {
            _mm512_mul_pd(_mm512_loadu_pd(sp.add(k)), _mm512_loadu_pd(ap.add(k)))
        })
    }
}

/// Stages 1, 2, 4, 8 of the 16 f32 lanes of `v`: each is `v·(±1) + (v with lanes i, i ^ h
/// swapped)`, the sign negative on lanes with i & h ≠ 0.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn inner_f32(v: __m512) -> __m512 {
    // Written as constants (built by a loop, the signs were computed at run time).
    let (p, m) = (1.0, -1.0);
    let s1 = _mm512_setr_ps(p, m, p, m, p, m, p, m, p, m, p, m, p, m, p, m);
    let s2 = _mm512_setr_ps(p, p, m, m, p, p, m, m, p, p, m, m, p, p, m, m);
    let s4 = _mm512_setr_ps(p, p, p, p, m, m, m, m, p, p, p, p, m, m, m, m);
    let s8 = _mm512_setr_ps(p, p, p, p, p, p, p, p, m, m, m, m, m, m, m, m);
    let v = _mm512_fmadd_ps(v, s1, _mm512_permute_ps::<0xB1>(v));
    let v = _mm512_fmadd_ps(v, s2, _mm512_permute_ps::<0x4E>(v));
    let v = _mm512_fmadd_ps(v, s4, _mm512_shuffle_f32x4::<0xB1>(v, v));
    _mm512_fmadd_ps(v, s8, _mm512_shuffle_f32x4::<0x4E>(v, v))
}

/// Stages 1, 2, 4 of the 8 f64 lanes of `v` (as [`inner_f32`]).
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn inner_f64(v: __m512d) -> __m512d {
    let (p, m) = (1.0, -1.0);
    let s1 = _mm512_setr_pd(p, m, p, m, p, m, p, m);
    let s2 = _mm512_setr_pd(p, p, m, m, p, p, m, m);
    let s4 = _mm512_setr_pd(p, p, p, p, m, m, m, m);
    let v = _mm512_fmadd_pd(v, s1, _mm512_permute_pd::<0x55>(v));
    let v = _mm512_fmadd_pd(v, s2, _mm512_permutex_pd::<0x4E>(v));
    _mm512_fmadd_pd(v, s4, _mm512_shuffle_f64x2::<0x4E>(v, v))
}

kernels!(
    "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma",
    f32x16,
    f32,
    __m512,
    16,
    inner_f32,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_add_ps,
    _mm512_fmadd_ps,
    _mm512_set1_ps
);
kernels!(
    "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma",
    f64x8,
    f64,
    __m512d,
    8,
    inner_f64,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_add_pd,
    _mm512_fmadd_pd,
    _mm512_set1_pd
);

//! The cos/sin step shared by every feature map: φ = scale · [cos z, sin z], vectorised.
//!
//! std's `sin_cos` is a scalar libm call (about 12 ns per element), which would cost more than all
//! the Walsh–Hadamard transforms of Fastfood. Here each element is evaluated branch-free, so the
//! compiler vectorises the loop:
//!
//! 1. range reduction: k = round(x·2/π) by a fused multiply-add of 1.5·2⁵² (1.5·2²³ in f32) and
//!    its subtraction, r = x − k·π/2 with π/2 split in two parts (Cody & Waite), π/2 rounded and
//!    the rest: with fused multiply-adds the first step x − k·(π/2)_hi is exact (both terms are
//!    multiples of the last bit of (π/2)_hi and the difference is below 2), the second rounds
//!    once. In f64 for |x| ≤ 10⁶; for f32 input in f32 when every |x| of a 256-element chunk is
//!    ≤ 8192 (|k| < 2¹³), else in f64; |r| ≲ π/4. (fdlibm and Cephes split π/2 in three parts
//!    so that the products are exact without fused operations: one step and its latency more.)
//! 2. minimax polynomials for sin r and cos r on [−π/4, π/4]: fdlibm's `k_sin.c`/`k_cos.c`
//!    coefficients in f64 (error ≈ 1e-16), evaluated by Estrin's scheme (three independent
//!    pairs, then two steps: a shorter dependency chain than Horner's, so more elements are in
//!    flight), Cephes' `sinf.c`/`cosf.c` in f32 (error ≈ 6e-8, Horner: degree 2 in r²);
//! 3. the quadrant k mod 4 swaps sin and cos and flips signs.
//!
//! The loop is bound by the latency of each element's chain more than by the count of operations
//! (only a few elements fit in the CPU's floating-point scheduler at once), so shortening the
//! chain pays: the fused k, the two-part reduction and Estrin took one cos+sin pair from 0.73 to
//! 0.65 ns (f32) and from 2.16 to 1.92 ns (f64) on a Zen 3 core.
//!
//! Arguments with |x| > 10⁶ (or not finite) fall back to the `libm` crate's `sincos` (pure Rust,
//! with a full range reduction: the same bits with every C library) for their chunk of 256
//! elements, so the result is accurate for every input: absolute error ≤ 2e-7 (f32) and ≤ 1e-15 (f64) against
//! the exact cos and sin of the input value. The polynomials are evaluated with fused multiply-adds
//! (`mul_add`, one rounding each): one instruction on CPUs with FMA (the x86-64 fast path is
//! compiled for AVX2 + FMA, `trig/avx2.rs`, and chosen at run time; aarch64 always has it). Every path rounds the
//! same way, so results are bit-identical on every CPU; the price is that the portable x86-64 path,
//! used only on CPUs without AVX2/FMA (before 2013), computes `mul_add` in software and is several
//! times slower there.

// The constants are the published fdlibm and Cephes digits, kept verbatim so they can be checked.
#![allow(clippy::excessive_precision)]

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use crate::error::Param;
use crate::simd::Simd;
use crate::{Element, RksError};

/// Computes `z_cos[i] ← scale·cos(z_cos[i])` and `sin[i] ← scale·sin(z_cos[i])` (z read first).
///
/// ```
/// let mut z = [0.0f64, std::f64::consts::FRAC_PI_2];
/// let mut s = [0.0; 2];
/// rks::trig::cos_sin_scaled(&mut z, &mut s, 2.0).unwrap();
/// assert!((z[0] - 2.0).abs() < 1e-15 && z[1].abs() < 1e-15);
/// assert!(s[0].abs() < 1e-15 && (s[1] - 2.0).abs() < 1e-15);
/// ```
pub fn cos_sin_scaled<F: Element>(
    z_cos: &mut [F],
    sin: &mut [F],
    scale: F,
) -> Result<(), RksError> {
    if z_cos.len() != sin.len() {
        return Err(RksError::InvalidParameter {
            name: Param::Output,
            reason: format!(
                "output has {} entries, the input {}",
                sin.len(),
                z_cos.len()
            ),
        });
    }
    F::cos_sin_scaled(Simd::detect(), z_cos, sin, scale);
    Ok(())
}

/// The obvious reference: std's `sin_cos` on each element.
pub fn cos_sin_reference<F: Element>(z_cos: &mut [F], sin: &mut [F], scale: F) {
    for (z, s) in z_cos.iter_mut().zip(sin.iter_mut()) {
        let (sv, cv) = z.sin_cos();
        *z = scale * cv;
        *s = scale * sv;
    }
}

/// Elements per range check: large arguments send their chunk to `libm`. 256 rather than 64: less
/// per-chunk work (the horizontal maximum, the loop bookkeeping); cos+sin 0.60 → 0.575 ns (f32)
/// and the f32 Fastfood transform 2–3 % faster; 1,024 was slower again.
const CHUNK: usize = 256;
/// Largest |x| the three-part reduction handles exactly (|k| < 2²⁰).
const LIMIT: f64 = 1.0e6;
/// 1.5·2⁵²: adding it rounds to an integer held in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;
/// π/2 rounded to f64, and the f64 nearest to the rest π/2 − PIO2_HI.
const PIO2_HI: f64 = std::f64::consts::FRAC_PI_2;
const PIO2_LO: f64 = 6.123_233_995_736_766e-17;

/// (k mod 4 in the low bits, r) with x = k·π/2 + r, |r| ≲ π/4.
#[inline(always)]
fn reduce(x: f64) -> (u64, f64) {
    let t = x.mul_add(std::f64::consts::FRAC_2_PI, ROUND_MAGIC);
    let k = t - ROUND_MAGIC;
    // The fused step is exact: k·PIO2_HI and x are multiples of 2⁻⁵², and so is their
    // difference, below 2 in magnitude. The second rounds once; the error left is
    // |k|·|π/2 − PIO2_HI − PIO2_LO| ≤ 10⁶·2⁻¹⁰⁷ plus half an ulp of r.
    let r = (-k).mul_add(PIO2_LO, (-k).mul_add(PIO2_HI, x));
    (t.to_bits(), r)
}

/// sin x and cos x from the quadrant q and sin r, cos r, as raw bits.
///
/// Written for few vector operations: `odd` (bit 0 of q in the sign bit) both selects the swap
/// (a blend reads only the sign bit of its mask) and, XORed with the sine's sign (bit 1 of q),
/// gives the cosine's: cos changes sign in quadrants 1 and 2, where the two bits differ. (Two
/// vector operations fewer than `q & 1 == 1` and `(q + 1) & 2`: a cos+sin pair 0.64 → 0.60 ns in
/// f32, 1.90 → 1.83 ns in f64; same bits.)
macro_rules! by_quadrant {
    ($name:ident, $bits:ty, $signed:ty) => {
        #[inline(always)]
        fn $name(q: $bits, sin_r: $bits, cos_r: $bits) -> ($bits, $bits) {
            const TOP: u32 = <$bits>::BITS - 1;
            let odd = q << TOP;
            let (s, c) = if (odd as $signed) < 0 {
                (cos_r, sin_r)
            } else {
                (sin_r, cos_r)
            };
            let sin_sign = (q << (TOP - 1)) & (1 << TOP);
            (s ^ sin_sign, c ^ (sin_sign ^ odd))
        }
    };
}
by_quadrant!(by_quadrant, u64, i64);
// The same for f32 bits.
by_quadrant!(by_quadrant32, u32, i32);

#[inline(always)]
fn sin_cos_f64(x: f64) -> (f64, f64) {
    const S: [f64; 6] = [
        -1.666_666_666_666_663_243_48e-01,
        8.333_333_333_322_489_461_24e-03,
        -1.984_126_982_985_794_931_34e-04,
        2.755_731_370_707_006_767_89e-06,
        -2.505_076_025_340_686_341_95e-08,
        1.589_690_995_211_550_102_21e-10,
    ];
    const C: [f64; 6] = [
        4.166_666_666_666_660_190_37e-02,
        -1.388_888_888_887_410_957_49e-03,
        2.480_158_728_947_672_941_78e-05,
        -2.755_731_435_139_066_330_35e-07,
        2.087_572_321_298_174_827_90e-09,
        -1.135_964_755_778_819_482_65e-11,
    ];
    let (q, r) = reduce(x);
    let z = r * r;
    let (z2, z4) = (z * z, (z * z) * (z * z));
    // Estrin's scheme: three independent pairs, then two steps (a shorter dependency chain
    // than Horner's five, so more elements are in flight).
    let estrin = |c: &[f64; 6]| {
        z4.mul_add(
            c[5].mul_add(z, c[4]),
            z2.mul_add(c[3].mul_add(z, c[2]), c[1].mul_add(z, c[0])),
        )
    };
    let (ps, pc) = (estrin(&S), estrin(&C));
    let sin_r = (r * z).mul_add(ps, r);
    let cos_r = z2.mul_add(pc, 0.5f64.mul_add(-z, 1.0));
    let (s, c) = by_quadrant(q, sin_r.to_bits(), cos_r.to_bits());
    (f64::from_bits(s), f64::from_bits(c))
}

/// The Cephes polynomials for sin r and cos r, |r| ≤ π/4, in f32.
#[inline(always)]
fn sin_cos_poly_f32(r: f32) -> (f32, f32) {
    let z = r * r;
    let ps = (-1.951_529_589_1e-4f32)
        .mul_add(z, 8.332_160_873_6e-3)
        .mul_add(z, -1.666_665_461_1e-1);
    let pc = 2.443_315_711_809_948e-5f32
        .mul_add(z, -1.388_731_625_493_765e-3)
        .mul_add(z, 4.166_664_568_298_827e-2);
    (
        (r * z).mul_add(ps, r),
        (z * z).mul_add(pc, 0.5f32.mul_add(-z, 1.0)),
    )
}

/// f32 for |x| ≤ [`LIMIT_F32`]: the reduction in f32, π/2 in two parts (see [`reduce`]).
#[inline(always)]
fn sin_cos_f32(x: f32) -> (f32, f32) {
    const MAGIC: f32 = 12_582_912.0; // 1.5·2²³
    const P_HI: f32 = std::f32::consts::FRAC_PI_2;
    const P_LO: f32 = -4.371_139_000_186_243e-8;
    let t = x.mul_add(std::f32::consts::FRAC_2_PI, MAGIC);
    let k = t - MAGIC;
    // Exact first step, one rounding in the second (as in `reduce`): the error left is
    // |k|·|π/2 − P_HI − P_LO| ≤ 2¹³·2⁻⁴⁹ plus half an ulp of r.
    let r = (-k).mul_add(P_LO, (-k).mul_add(P_HI, x));
    let (sin_r, cos_r) = sin_cos_poly_f32(r);
    let (s, c) = by_quadrant32(t.to_bits(), sin_r.to_bits(), cos_r.to_bits());
    (f32::from_bits(s), f32::from_bits(c))
}

/// f32 for |x| ≤ [`LIMIT`]: the reduction in f64, the polynomials in f32.
#[inline(always)]
fn sin_cos_f32_wide(x: f32) -> (f32, f32) {
    let (q, r) = reduce(x as f64);
    let (sin_r, cos_r) = sin_cos_poly_f32(r as f32);
    let (s, c) = by_quadrant32(q as u32, sin_r.to_bits(), cos_r.to_bits());
    (f32::from_bits(s), f32::from_bits(c))
}

/// Largest |x| for the all-f32 reduction (|k| < 2¹³).
const LIMIT_F32: f64 = 8192.0;

// The largest |x| of a chunk, NaN if any x is NaN: the bits of |x| order like the values (NaN
// above ∞), and an integer max reduction vectorises where a float one does not.
#[inline(always)]
fn largest_f32(v: &[f32]) -> f64 {
    f32::from_bits(v.iter().fold(0, |m, x| m.max(x.to_bits() & 0x7FFF_FFFF))) as f64
}
#[inline(always)]
fn largest_f64(v: &[f64]) -> f64 {
    f64::from_bits(
        v.iter()
            .fold(0, |m, x| m.max(x.to_bits() & 0x7FFF_FFFF_FFFF_FFFF)),
    )
}

/// The element-wise loop, generic over the per-element kernels so both precisions share it:
/// `narrow` for chunks with every |x| ≤ `narrow_limit`, `wide` up to [`LIMIT`], `libm` beyond.
#[inline(always)]
fn cos_sin_loop<F: Element>(
    z_cos: &mut [F],
    sin: &mut [F],
    scale: F,
    narrow_limit: f64,
    largest: impl Fn(&[F]) -> f64,
    narrow: impl Fn(F) -> (F, F),
    wide: impl Fn(F) -> (F, F),
) {
    for (zc, sn) in z_cos.chunks_mut(CHUNK).zip(sin.chunks_mut(CHUNK)) {
        let largest = largest(zc);
        if largest <= narrow_limit {
            apply(zc, sn, scale, &narrow);
        } else if largest <= LIMIT {
            apply(zc, sn, scale, &wide);
        } else {
            apply(zc, sn, scale, |x: F| {
                let (s, c) = libm::sincos(x.to_f64_exact());
                (F::from_f64_lossy(s), F::from_f64_lossy(c))
            });
        }
    }
}

/// [`cos_sin_loop`] reading the arguments `pre[i]·src[i]` from separate slices and writing cos
/// and sin to two outputs: each output is written once and never read (Fastfood passes the
/// scaling S and its transform scratch; the output rows are in memory, not in cache).
///
/// One pass per chunk in the common case: the narrow kernel runs at once while the largest
/// `magnitude` (|x| as ordered bits) is tracked, and only a chunk that turns out to exceed the
/// narrow range is computed again, with the wider kernel or `libm` (same results as choosing
/// first). Against a separate pass for the products and the range check, the benchmark
/// Fastfood transform took 0.0635 instead of 0.0674 s (f32) and 0.117 instead of 0.121 s (f64).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cos_sin_from_loop<F: Element, B: Copy + Ord + Default>(
    src: &[F],
    pre: &[F],
    cos: &mut [F],
    sin: &mut [F],
    scale: F,
    narrow_limit: f64,
    (magnitude, narrow_limit_bits): (impl Fn(F) -> B, B),
    largest: impl Fn(&[F]) -> f64,
    narrow: impl Fn(F) -> (F, F),
    wide: impl Fn(F) -> (F, F),
) {
    let chunks = src.chunks(CHUNK).zip(pre.chunks(CHUNK));
    for ((s, p), (c, sn)) in chunks.zip(cos.chunks_mut(CHUNK).zip(sin.chunks_mut(CHUNK))) {
        let mut m = B::default();
        let outputs = c.iter_mut().zip(sn.iter_mut());
        for ((c, sn), (&s, &p)) in outputs.zip(s.iter().zip(p)) {
            let x = p * s;
            m = m.max(magnitude(x));
            let (sv, cv) = narrow(x);
            *c = scale * cv;
            *sn = scale * sv;
        }
        if m <= narrow_limit_bits {
            continue;
        }
        // Made here, in the rare case only: zeroing it on every call cost more than the cos/sin
        // of a short block (Fastfood with d = 8 calls this for 8 values at a time).
        let mut buf = [F::zero(); CHUNK];
        let b = &mut buf[..c.len().min(s.len()).min(p.len())];
        b.iter_mut()
            .zip(s)
            .zip(p)
            .for_each(|((b, &s), &p)| *b = p * s);
        let largest = largest(b);
        if largest <= narrow_limit {
            apply_from(b, c, sn, scale, &narrow);
        } else if largest <= LIMIT {
            apply_from(b, c, sn, scale, &wide);
        } else {
            apply_from(b, c, sn, scale, |x: F| {
                let (s, c) = libm::sincos(x.to_f64_exact());
                (F::from_f64_lossy(s), F::from_f64_lossy(c))
            });
        }
    }
}

#[inline(always)]
fn apply_from<F: Element>(
    z: &[F],
    cos: &mut [F],
    sin: &mut [F],
    scale: F,
    kernel: impl Fn(F) -> (F, F),
) {
    for ((z, c), s) in z.iter().zip(cos.iter_mut()).zip(sin.iter_mut()) {
        let (sv, cv) = kernel(*z);
        *c = scale * cv;
        *s = scale * sv;
    }
}

#[inline(always)]
fn apply<F: Element>(z_cos: &mut [F], sin: &mut [F], scale: F, kernel: impl Fn(F) -> (F, F)) {
    for (z, s) in z_cos.iter_mut().zip(sin.iter_mut()) {
        let (sv, cv) = kernel(*z);
        *z = scale * cv;
        *s = scale * sv;
    }
}

/// The portable instantiations of the loops for one type (each `#[inline(always)]`, so that
/// `avx2.rs` compiles the same code again with AVX2 + FMA), and the entry points that choose
/// between the two.
macro_rules! instantiate {
    ($t:ty, $loop:ident, $from_loop:ident, $name:ident, $from:ident,
     $narrow_limit:expr, $magnitude:expr, $largest:ident, $narrow:ident, $wide:ident) => {
        #[inline(always)]
        fn $loop(z_cos: &mut [$t], sin: &mut [$t], scale: $t) {
            cos_sin_loop(z_cos, sin, scale, $narrow_limit, $largest, $narrow, $wide);
        }

        #[inline(always)]
        fn $from_loop(src: &[$t], pre: &[$t], cos: &mut [$t], sin: &mut [$t], scale: $t) {
            cos_sin_from_loop(
                src,
                pre,
                cos,
                sin,
                scale,
                $narrow_limit,
                ($magnitude, (($narrow_limit) as $t).to_bits()),
                $largest,
                $narrow,
                $wide,
            );
        }

        /// `z_cos ← scale·cos(z_cos)`, `sin ← scale·sin(z_cos)` with the kernels `simd` allows.
        pub(crate) fn $name(simd: Simd, z_cos: &mut [$t], sin: &mut [$t], scale: $t) {
            #[cfg(target_arch = "x86_64")]
            if let Some(cpu) = simd.avx512() {
                return avx512::$loop(cpu, z_cos, sin, scale);
            }
            #[cfg(target_arch = "x86_64")]
            if let Some(cpu) = simd.avx2_fma() {
                return avx2::$loop(cpu, z_cos, sin, scale);
            }
            let _ = simd;
            $loop(z_cos, sin, scale);
        }

        /// `cos ← scale·cos(pre·src)`, `sin ← scale·sin(pre·src)` with the kernels `simd` allows.
        pub(crate) fn $from(
            simd: Simd,
            src: &[$t],
            pre: &[$t],
            cos: &mut [$t],
            sin: &mut [$t],
            scale: $t,
        ) {
            #[cfg(target_arch = "x86_64")]
            if let Some(cpu) = simd.avx512() {
                return avx512::$from_loop(cpu, src, pre, cos, sin, scale);
            }
            #[cfg(target_arch = "x86_64")]
            if let Some(cpu) = simd.avx2_fma() {
                return avx2::$from_loop(cpu, src, pre, cos, sin, scale);
            }
            let _ = simd;
            $from_loop(src, pre, cos, sin, scale);
        }
    };
}

instantiate!(
    f32,
    loop_f32,
    from_loop_f32,
    cos_sin_f32,
    cos_sin_from_f32,
    LIMIT_F32,
    |x: f32| x.to_bits() & 0x7FFF_FFFF,
    largest_f32,
    sin_cos_f32,
    sin_cos_f32_wide
);
instantiate!(
    f64,
    loop_f64,
    from_loop_f64,
    cos_sin_f64,
    cos_sin_from_f64,
    LIMIT,
    |x: f64| x.to_bits() & 0x7FFF_FFFF_FFFF_FFFF,
    largest_f64,
    sin_cos_f64,
    sin_cos_f64
);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Test points: a dense grid near 0, random values up to 5,000, quadrant edges, huge values.
    fn points() -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut v: Vec<f64> = (-2000..=2000).map(|i| i as f64 * 0.005).collect();
        v.extend((0..20_000).map(|_| (rng.random::<f64>() - 0.5) * 10_000.0));
        v.extend((0..2000).map(|_| (rng.random::<f64>() - 0.5) * 2.0e6));
        v.extend((-400..400).map(|k| k as f64 * std::f64::consts::FRAC_PI_4));
        v.extend([
            0.0,
            -0.0,
            1e-300,
            999_999.9,
            1.0e6,
            1.0e6 + 1.0,
            3.0e7,
            -1e12,
            1e300,
        ]);
        v
    }

    #[test]
    fn f64_matches_std() {
        let x = points();
        let mut c = x.clone();
        let mut s = vec![0.0; x.len()];
        cos_sin_scaled(&mut c, &mut s, 1.0).unwrap();
        for ((x, c), s) in x.iter().zip(&c).zip(&s) {
            let (se, ce) = x.sin_cos();
            assert!(
                (c - ce).abs() <= 1e-15 && (s - se).abs() <= 1e-15,
                "x = {x}: {c} vs {ce}, {s} vs {se}"
            );
        }
    }

    #[test]
    fn f32_matches_std() {
        let x: Vec<f32> = points()
            .iter()
            .map(|&v| v as f32)
            .filter(|v| v.is_finite())
            .collect();
        let mut c = x.clone();
        let mut s = vec![0.0; x.len()];
        cos_sin_scaled(&mut c, &mut s, 1.0).unwrap();
        let mut worst = 0.0f64;
        for ((x, c), s) in x.iter().zip(&c).zip(&s) {
            // Against the exact values (f64) of the f32 argument, and against std's f32.
            let (se, ce) = (*x as f64).sin_cos();
            worst = worst
                .max((*c as f64 - ce).abs())
                .max((*s as f64 - se).abs());
            let (s32, c32) = x.sin_cos();
            assert!(
                (c - c32).abs() <= 1e-6 && (s - s32).abs() <= 1e-6,
                "x = {x}"
            );
        }
        assert!(worst <= 2e-7, "worst error {worst}");
    }

    #[test]
    fn scale_and_reference_agree() {
        let x: Vec<f64> = points().into_iter().take(3000).collect();
        let (mut c, mut s) = (x.clone(), vec![0.0; x.len()]);
        let (mut cr, mut sr) = (x.clone(), vec![0.0; x.len()]);
        cos_sin_scaled(&mut c, &mut s, 0.25).unwrap();
        cos_sin_reference(&mut cr, &mut sr, 0.25);
        for i in 0..x.len() {
            assert!((c[i] - cr[i]).abs() <= 3e-16 && (s[i] - sr[i]).abs() <= 3e-16);
        }
    }

    #[test]
    fn every_simd_level_agrees_bitwise() {
        let bits32 = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        let bits64 = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        let x: Vec<f32> = points().iter().map(|&v| v as f32).collect();
        let (mut b, mut sb) = (x.clone(), vec![0.0; x.len()]);
        cos_sin_loop(
            &mut b,
            &mut sb,
            0.5,
            LIMIT_F32,
            largest_f32,
            sin_cos_f32,
            sin_cos_f32_wide,
        );
        let portable32 = (bits32(b), bits32(sb));
        // f64 too: the fused multiply-adds round the same way in every path.
        let x64 = points();
        let (mut b, mut sb) = (x64.clone(), vec![0.0; x64.len()]);
        cos_sin_loop(
            &mut b,
            &mut sb,
            0.5,
            LIMIT,
            largest_f64,
            sin_cos_f64,
            sin_cos_f64,
        );
        let portable64 = (bits64(b), bits64(sb));
        for simd in Simd::levels() {
            let (mut a, mut sa) = (x.clone(), vec![0.0; x.len()]);
            cos_sin_f32(simd, &mut a, &mut sa, 0.5);
            assert_eq!((bits32(a), bits32(sa)), portable32, "{simd:?}");
            let (mut a, mut sa) = (x64.clone(), vec![0.0; x64.len()]);
            cos_sin_f64(simd, &mut a, &mut sa, 0.5);
            assert_eq!((bits64(a), bits64(sa)), portable64, "{simd:?}");
            // The out-of-place form at this level against the in-place one at the same level.
            let pre: Vec<f64> = (0..x64.len())
                .map(|i| 0.5 + (i % 7) as f64 * 0.25)
                .collect();
            let mut z: Vec<f64> = x64.iter().zip(&pre).map(|(x, p)| p * x).collect();
            let mut s = vec![0.0; x64.len()];
            cos_sin_f64(Simd::portable(), &mut z, &mut s, 0.75);
            let (mut c2, mut s2) = (vec![0.0; x64.len()], vec![0.0; x64.len()]);
            cos_sin_from_f64(simd, &x64, &pre, &mut c2, &mut s2, 0.75);
            assert_eq!((bits64(z), bits64(s)), (bits64(c2), bits64(s2)), "{simd:?}");
            let pre32: Vec<f32> = pre.iter().map(|&v| v as f32).collect();
            let mut z: Vec<f32> = x.iter().zip(&pre32).map(|(x, p)| p * x).collect();
            let mut s = vec![0.0; x.len()];
            cos_sin_f32(Simd::portable(), &mut z, &mut s, 0.75);
            let (mut c2, mut s2) = (vec![0.0; x.len()], vec![0.0; x.len()]);
            cos_sin_from_f32(simd, &x, &pre32, &mut c2, &mut s2, 0.75);
            assert_eq!((bits32(z), bits32(s)), (bits32(c2), bits32(s2)), "{simd:?}");
        }
    }

    /// The out-of-place form with a pre-scale gives the bits of "multiply, then in place".
    #[test]
    fn from_form_is_bitwise_the_in_place_form() {
        let x = points();
        let pre: Vec<f64> = (0..x.len()).map(|i| 0.5 + (i % 7) as f64 * 0.25).collect();
        let mut z: Vec<f64> = x.iter().zip(&pre).map(|(x, p)| p * x).collect();
        let mut s = vec![0.0; x.len()];
        cos_sin_f64(Simd::detect(), &mut z, &mut s, 0.75);
        let (mut c2, mut s2) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        cos_sin_from_f64(Simd::detect(), &x, &pre, &mut c2, &mut s2, 0.75);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!((bits(&z), bits(&s)), (bits(&c2), bits(&s2)));

        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let pre32: Vec<f32> = pre.iter().map(|&v| v as f32).collect();
        let mut z: Vec<f32> = x32.iter().zip(&pre32).map(|(x, p)| p * x).collect();
        let mut s = vec![0.0; x.len()];
        cos_sin_f32(Simd::detect(), &mut z, &mut s, 0.75);
        let (mut c2, mut s2) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        cos_sin_from_f32(Simd::detect(), &x32, &pre32, &mut c2, &mut s2, 0.75);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!((bits(&z), bits(&s)), (bits(&c2), bits(&s2)));
    }

    #[test]
    fn non_finite_and_length_mismatch() {
        let mut c = [f64::NAN, f64::INFINITY, 1.0];
        let mut s = [0.0; 3];
        cos_sin_scaled(&mut c, &mut s, 1.0).unwrap();
        assert!(c[0].is_nan() && c[1].is_nan() && (c[2] - 1f64.cos()).abs() < 1e-16);
        assert!(cos_sin_scaled(&mut [0.0f32; 2], &mut [0.0; 3], 1.0).is_err());
    }
}

//! The two inner loops of the coordinate-descent SVM: dot product and axpy over one feature row.
//!
//! Two versions that compute the same bits: an AVX2 + FMA one with explicit intrinsics, chosen at
//! run time when the CPU has those features, and a portable one that spells out the same
//! arithmetic element by element (the reference). The dot product keeps 4 vector accumulators of
//! `W` lanes (`W` = 8 for f32, 4 for f64, one 256-bit register), each a chain of fused
//! multiply-adds over the entries `i ≡ lane (mod 4W)`; then adds the 4 accumulators lane by lane,
//! the lanes in a fixed tree, and last the tail (plain multiply and add). The axpy is one fused
//! multiply-add per entry of its `W`-aligned body and a plain multiply and add on the tail. So a
//! model trained on any CPU has the same bits, for any number of threads. The price: on x86-64
//! CPUs without FMA (before 2013) the portable path computes `mul_add` in software and is several
//! times slower; aarch64 always has FMA.

use rks::Element;

/// Floats with fast dot/axpy kernels.
pub trait Kernels: Element {
    /// Lanes of one 256-bit vector: the width of the kernels' arithmetic.
    const WIDTH: usize;
    /// Σ aᵢ bᵢ over equal-length slices.
    fn dot(a: &[Self], b: &[Self]) -> Self;
    /// y ← y + alpha · x over equal-length slices.
    fn axpy(alpha: Self, x: &[Self], y: &mut [Self]);
    /// (w·a, w·b) in one pass over w; each is bit-identical to [`Kernels::dot`].
    fn dot2(w: &[Self], a: &[Self], b: &[Self]) -> (Self, Self);
    /// w ← w + alpha · a + beta · b in one pass over w, bit-identical to two [`Kernels::axpy`].
    fn axpy2(alpha: Self, a: &[Self], beta: Self, b: &[Self], w: &mut [Self]);
}

/// The portable dot product: the arithmetic of the AVX2 kernel, one lane at a time.
#[inline(always)]
fn dot_lanes<F: Kernels>(a: &[F], b: &[F]) -> F {
    debug_assert_eq!(a.len(), b.len());
    let width = F::WIDTH;
    let step = 4 * width;
    // acc[k·W + l]: accumulator k, lane l.
    let mut acc = [F::zero(); 32];
    let body = a.len() - a.len() % step;
    for (x, y) in a[..body]
        .chunks_exact(step)
        .zip(b[..body].chunks_exact(step))
    {
        for j in 0..step {
            acc[j] = x[j].mul_add(y[j], acc[j]);
        }
    }
    let mut total = [F::zero(); 8];
    for (l, t) in total.iter_mut().enumerate().take(width) {
        *t = (acc[l] + acc[width + l]) + (acc[2 * width + l] + acc[3 * width + l]);
    }
    let mut tail = F::zero();
    for (&x, &y) in a[body..].iter().zip(&b[body..]) {
        tail += x * y;
    }
    horizontal_sum(&total[..width]) + tail
}

/// The lanes of one vector summed in the kernels' fixed order: first lane l with lane l + W/2,
/// then the halves pairwise ((t₀ + t₁) + (t₂ + t₃) for 8 lanes, t₀ + t₁ for 4).
#[inline(always)]
fn horizontal_sum<F: Element>(lanes: &[F]) -> F {
    let half = lanes.len() / 2;
    let mut t = [F::zero(); 4];
    for (l, t) in t.iter_mut().enumerate().take(half) {
        *t = lanes[l] + lanes[l + half];
    }
    match half {
        4 => (t[0] + t[1]) + (t[2] + t[3]),
        2 => t[0] + t[1],
        _ => unreachable!("vectors have 4 or 8 lanes"),
    }
}

/// The portable axpy: a fused multiply-add per entry of the `W`-aligned body, then the tail.
#[inline(always)]
fn axpy_lanes<F: Kernels>(alpha: F, x: &[F], y: &mut [F]) {
    debug_assert_eq!(x.len(), y.len());
    let body = x.len() - x.len() % F::WIDTH;
    let (x_body, x_tail) = x.split_at(body);
    let (y_body, y_tail) = y.split_at_mut(body);
    for (&xv, yv) in x_body.iter().zip(y_body) {
        *yv = alpha.mul_add(xv, *yv);
    }
    for (&xv, yv) in x_tail.iter().zip(y_tail) {
        *yv += alpha * xv;
    }
}

#[inline(always)]
fn dot2_lanes<F: Kernels>(w: &[F], a: &[F], b: &[F]) -> (F, F) {
    // Two calls keep each result bit-identical to `dot_lanes`; the pair path matters for speed
    // only on the AVX2 kernels.
    (dot_lanes(w, a), dot_lanes(w, b))
}

#[inline(always)]
fn axpy2_lanes<F: Kernels>(alpha: F, a: &[F], beta: F, b: &[F], w: &mut [F]) {
    axpy_lanes(alpha, a, w);
    axpy_lanes(beta, b, w);
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    // The std macro caches the CPUID answer in an atomic, so this is a load and a test.
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// AVX2 + FMA kernels with explicit intrinsics: four independent 256-bit accumulators hide the
/// FMA latency, which the auto-vectorised portable loop does not reliably achieve.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Sums the 8 lanes of an f32 vector in a fixed order.
    #[target_feature(enable = "avx2,fma")]
    fn hsum_ps(v: __m256) -> f32 {
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds exactly 8 f32 (unaligned store allowed).
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
        ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
            + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
    }

    #[target_feature(enable = "avx2,fma")]
    fn hsum_pd(v: __m256d) -> f64 {
        let mut lanes = [0f64; 4];
        // SAFETY: `lanes` holds exactly 4 f64.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), v) };
        (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let body = n - n % 32;
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i < body {
            for (k, acc) in acc.iter_mut().enumerate() {
                // SAFETY: i + 8k + 8 ≤ body ≤ n, within both slices.
                unsafe {
                    let x = _mm256_loadu_ps(pa.add(i + 8 * k));
                    let y = _mm256_loadu_ps(pb.add(i + 8 * k));
                    *acc = _mm256_fmadd_ps(x, y, *acc);
                }
            }
            i += 32;
        }
        let total = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut tail = 0f32;
        for j in body..n {
            tail += a[j] * b[j];
        }
        hsum_ps(total) + tail
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dot_f64(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len().min(b.len());
        let body = n - n % 16;
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_pd(); 4];
        let mut i = 0;
        while i < body {
            for (k, acc) in acc.iter_mut().enumerate() {
                // SAFETY: i + 4k + 4 ≤ body ≤ n, within both slices.
                unsafe {
                    let x = _mm256_loadu_pd(pa.add(i + 4 * k));
                    let y = _mm256_loadu_pd(pb.add(i + 4 * k));
                    *acc = _mm256_fmadd_pd(x, y, *acc);
                }
            }
            i += 16;
        }
        let total = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
        let mut tail = 0f64;
        for j in body..n {
            tail += a[j] * b[j];
        }
        hsum_pd(total) + tail
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let body = n - n % 8;
        let va = _mm256_set1_ps(alpha);
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        let mut i = 0;
        while i < body {
            // SAFETY: i + 8 ≤ body ≤ n, within both slices; x and y do not overlap (& and &mut).
            unsafe {
                let v = _mm256_fmadd_ps(va, _mm256_loadu_ps(px.add(i)), _mm256_loadu_ps(py.add(i)));
                _mm256_storeu_ps(py.add(i), v);
            }
            i += 8;
        }
        for j in body..n {
            y[j] += alpha * x[j];
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn axpy_f64(alpha: f64, x: &[f64], y: &mut [f64]) {
        let n = x.len().min(y.len());
        let body = n - n % 4;
        let va = _mm256_set1_pd(alpha);
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        let mut i = 0;
        while i < body {
            // SAFETY: i + 4 ≤ body ≤ n, within both slices; x and y do not overlap.
            unsafe {
                let v = _mm256_fmadd_pd(va, _mm256_loadu_pd(px.add(i)), _mm256_loadu_pd(py.add(i)));
                _mm256_storeu_pd(py.add(i), v);
            }
            i += 4;
        }
        for j in body..n {
            y[j] += alpha * x[j];
        }
    }

    /// The pair kernels for one element type: per row exactly the arithmetic of `dot_*` and
    /// `axpy_*` above (same accumulators, order and tail), with each load of w shared by both.
    macro_rules! pair_kernels {
        ($t:ty, $dot2:ident, $axpy2:ident, $w:literal, $zero:ident, $load:ident, $store:ident,
         $fma:ident, $add:ident, $set1:ident, $hsum:ident) => {
            #[target_feature(enable = "avx2,fma")]
            pub(super) fn $dot2(w: &[$t], a: &[$t], b: &[$t]) -> ($t, $t) {
                let n = w.len().min(a.len()).min(b.len());
                let body = n - n % (4 * $w);
                let (pw, pa, pb) = (w.as_ptr(), a.as_ptr(), b.as_ptr());
                let mut acc_a = [$zero(); 4];
                let mut acc_b = [$zero(); 4];
                let mut i = 0;
                while i < body {
                    for k in 0..4 {
                        // SAFETY: i + $w·(k + 1) ≤ body ≤ n, within all three slices.
                        unsafe {
                            let x = $load(pw.add(i + $w * k));
                            acc_a[k] = $fma(x, $load(pa.add(i + $w * k)), acc_a[k]);
                            acc_b[k] = $fma(x, $load(pb.add(i + $w * k)), acc_b[k]);
                        }
                    }
                    i += 4 * $w;
                }
                let total = |acc: [_; 4]| $add($add(acc[0], acc[1]), $add(acc[2], acc[3]));
                let (ta, tb) = (total(acc_a), total(acc_b));
                let (mut tail_a, mut tail_b): ($t, $t) = (0.0, 0.0);
                for j in body..n {
                    tail_a += w[j] * a[j];
                    tail_b += w[j] * b[j];
                }
                ($hsum(ta) + tail_a, $hsum(tb) + tail_b)
            }

            #[target_feature(enable = "avx2,fma")]
            pub(super) fn $axpy2(alpha: $t, a: &[$t], beta: $t, b: &[$t], w: &mut [$t]) {
                let n = w.len().min(a.len()).min(b.len());
                let body = n - n % $w;
                let (va, vb) = ($set1(alpha), $set1(beta));
                let (pa, pb, pw) = (a.as_ptr(), b.as_ptr(), w.as_mut_ptr());
                let mut i = 0;
                while i < body {
                    // SAFETY: i + $w ≤ body ≤ n, within all slices; w does not overlap a or b.
                    unsafe {
                        let v = $fma(va, $load(pa.add(i)), $load(pw.add(i)));
                        $store(pw.add(i), $fma(vb, $load(pb.add(i)), v));
                    }
                    i += $w;
                }
                for j in body..n {
                    w[j] += alpha * a[j];
                    w[j] += beta * b[j];
                }
            }
        };
    }

    pair_kernels!(
        f32,
        dot2_f32,
        axpy2_f32,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        _mm256_set1_ps,
        hsum_ps
    );
    pair_kernels!(
        f64,
        dot2_f64,
        axpy2_f64,
        4,
        _mm256_setzero_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_fmadd_pd,
        _mm256_add_pd,
        _mm256_set1_pd,
        hsum_pd
    );
}

macro_rules! impl_kernels {
    ($t:ty, $width:literal, $dot_fast:path, $axpy_fast:path, $dot2_fast:path, $axpy2_fast:path) => {
        impl Kernels for $t {
            const WIDTH: usize = $width;

            #[inline]
            fn dot(a: &[$t], b: &[$t]) -> $t {
                assert_eq!(a.len(), b.len(), "dot of slices of different lengths");
                #[cfg(target_arch = "x86_64")]
                if has_avx2_fma() {
                    // SAFETY: the CPU was just checked to support AVX2 and FMA.
                    return unsafe { $dot_fast(a, b) };
                }
                dot_lanes(a, b)
            }

            #[inline]
            fn axpy(alpha: $t, x: &[$t], y: &mut [$t]) {
                assert_eq!(x.len(), y.len(), "axpy of slices of different lengths");
                #[cfg(target_arch = "x86_64")]
                if has_avx2_fma() {
                    // SAFETY: the CPU was just checked to support AVX2 and FMA.
                    return unsafe { $axpy_fast(alpha, x, y) };
                }
                axpy_lanes(alpha, x, y)
            }

            #[inline]
            fn dot2(w: &[$t], a: &[$t], b: &[$t]) -> ($t, $t) {
                assert!(
                    w.len() == a.len() && w.len() == b.len(),
                    "dot2 of slices of different lengths"
                );
                #[cfg(target_arch = "x86_64")]
                if has_avx2_fma() {
                    // SAFETY: the CPU was just checked to support AVX2 and FMA.
                    return unsafe { $dot2_fast(w, a, b) };
                }
                dot2_lanes(w, a, b)
            }

            #[inline]
            fn axpy2(alpha: $t, a: &[$t], beta: $t, b: &[$t], w: &mut [$t]) {
                assert!(
                    w.len() == a.len() && w.len() == b.len(),
                    "axpy2 of slices of different lengths"
                );
                #[cfg(target_arch = "x86_64")]
                if has_avx2_fma() {
                    // SAFETY: the CPU was just checked to support AVX2 and FMA.
                    return unsafe { $axpy2_fast(alpha, a, beta, b, w) };
                }
                axpy2_lanes(alpha, a, beta, b, w)
            }
        }
    };
}

impl_kernels!(
    f32,
    8,
    avx2::dot_f32,
    avx2::axpy_f32,
    avx2::dot2_f32,
    avx2::axpy2_f32
);
impl_kernels!(
    f64,
    4,
    avx2::dot_f64,
    avx2::axpy_f64,
    avx2::dot2_f64,
    avx2::axpy2_f64
);

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// The pair kernels must give exactly the bits of the single ones (the SVM mixes them).
    fn check_pair_kernels<F: Kernels>(n: usize) {
        let v = |m: usize, s: usize| -> Vec<F> {
            (0..n)
                .map(|i| F::from_f64_lossy(((i * m % s) as f64 - 3.0) / 7.0))
                .collect()
        };
        let (w, a, b) = (v(37, 11), v(13, 7), v(5, 9));
        let (da, db) = F::dot2(&w, &a, &b);
        assert_eq!((da, db), (F::dot(&w, &a), F::dot(&w, &b)), "n = {n}");
        assert_eq!(
            dot2_lanes(&w, &a, &b),
            (dot_lanes(&w, &a), dot_lanes(&w, &b))
        );
        let (alpha, beta) = (F::from_f64_lossy(0.3), F::from_f64_lossy(-1.7));
        let mut fused = w.clone();
        F::axpy2(alpha, &a, beta, &b, &mut fused);
        let mut twice = w.clone();
        F::axpy(alpha, &a, &mut twice);
        F::axpy(beta, &b, &mut twice);
        assert_eq!(fused, twice, "n = {n}");
    }

    /// The dispatched kernels (AVX2 + FMA where the CPU has it) against the portable reference:
    /// same bits, so models do not depend on the CPU.
    fn check_fast_equals_portable<F: Kernels>(n: usize) {
        let v = |m: usize, s: usize| -> Vec<F> {
            (0..n)
                .map(|i| F::from_f64_lossy(((i * m % s) as f64 - 4.5) / 3.7 + 1e-3 * i as f64))
                .collect()
        };
        let (w, a, b) = (v(37, 11), v(13, 7), v(5, 9));
        assert_eq!(
            F::dot(&w, &a).to_f64_exact().to_bits(),
            dot_lanes(&w, &a).to_f64_exact().to_bits(),
            "dot, n = {n}"
        );
        assert_eq!(F::dot2(&w, &a, &b), dot2_lanes(&w, &a, &b), "dot2, n = {n}");
        let alpha = F::from_f64_lossy(-0.37);
        let (mut fast, mut portable) = (w.clone(), w.clone());
        F::axpy(alpha, &a, &mut fast);
        axpy_lanes(alpha, &a, &mut portable);
        assert_eq!(fast, portable, "axpy, n = {n}");
        let beta = F::from_f64_lossy(1.3);
        F::axpy2(alpha, &a, beta, &b, &mut fast);
        axpy2_lanes(alpha, &a, beta, &b, &mut portable);
        assert_eq!(fast, portable, "axpy2, n = {n}");
    }

    #[test]
    fn fast_kernels_are_bit_identical_to_portable_ones() {
        for n in [
            0usize, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 100, 1000, 4099,
        ] {
            check_fast_equals_portable::<f32>(n);
            check_fast_equals_portable::<f64>(n);
        }
    }

    #[test]
    fn pair_kernels_are_bit_identical_to_single_ones() {
        for n in [0usize, 1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 1000] {
            check_pair_kernels::<f32>(n);
            check_pair_kernels::<f64>(n);
        }
    }

    #[test]
    fn dot_and_axpy_match_naive_loops_for_all_lengths() {
        for n in [0usize, 1, 7, 15, 16, 17, 33, 100, 1000] {
            let a: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64 - 5.0) / 3.0).collect();
            let b: Vec<f64> = (0..n).map(|i| ((i * 13 % 7) as f64 - 3.0) / 2.0).collect();
            let want = naive_dot(&a, &b);
            assert!((f64::dot(&a, &b) - want).abs() <= 1e-12 * (1.0 + want.abs()));
            assert!((dot_lanes(&a, &b) - want).abs() <= 1e-12 * (1.0 + want.abs()));
            let mut y_portable = b.clone();
            axpy_lanes(0.25, &a, &mut y_portable);
            for i in 0..n {
                assert!((y_portable[i] - (b[i] + 0.25 * a[i])).abs() <= 1e-15);
            }
            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
            assert!((f32::dot(&a32, &b32) as f64 - want).abs() <= 1e-4 * (1.0 + want.abs()));

            let mut y = b.clone();
            f64::axpy(0.5, &a, &mut y);
            for i in 0..n {
                assert!((y[i] - (b[i] + 0.5 * a[i])).abs() <= 1e-15);
            }
            let mut y32 = b32.clone();
            f32::axpy(0.5, &a32, &mut y32);
            for i in 0..n {
                assert!((y32[i] - (b32[i] + 0.5 * a32[i])).abs() <= 1e-6);
            }
        }
    }
}

//! The two inner loops of the coordinate-descent SVM: dot product and axpy over one feature row.
//!
//! Two versions: a portable one over a fixed number of independent lanes (which the compiler
//! vectorises for the default target), the reference; and an AVX2 + FMA one with explicit
//! intrinsics, chosen at run time when the CPU has those features. They differ in the last bits
//! (FMA rounds once, other summation order); a given machine always takes the same path, so
//! results are reproducible there, for any number of threads.

use rks::Element;

/// Independent accumulators: enough to keep two 8-wide FMA units busy across their latency.
const LANES: usize = 16;

/// Floats with fast dot/axpy kernels.
pub trait Kernels: Element {
    /// Σ aᵢ bᵢ over equal-length slices.
    fn dot(a: &[Self], b: &[Self]) -> Self;
    /// y ← y + alpha · x over equal-length slices.
    fn axpy(alpha: Self, x: &[Self], y: &mut [Self]);
}

#[inline(always)]
fn dot_lanes<F: Element>(a: &[F], b: &[F]) -> F {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [F::zero(); LANES];
    let (a_body, a_tail) = a.split_at(a.len() - a.len() % LANES);
    let (b_body, b_tail) = b.split_at(a_body.len());
    for (x, y) in a_body.chunks_exact(LANES).zip(b_body.chunks_exact(LANES)) {
        for j in 0..LANES {
            acc[j] += x[j] * y[j];
        }
    }
    let mut tail = F::zero();
    for (&x, &y) in a_tail.iter().zip(b_tail) {
        tail += x * y;
    }
    // Fixed pairwise reduction of the lanes: the same order on every call.
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for j in 0..width {
            acc[j] += acc[j + width];
        }
    }
    acc[0] + tail
}

#[inline(always)]
fn axpy_lanes<F: Element>(alpha: F, x: &[F], y: &mut [F]) {
    debug_assert_eq!(x.len(), y.len());
    let body = x.len() - x.len() % LANES;
    let (x_body, x_tail) = x.split_at(body);
    let (y_body, y_tail) = y.split_at_mut(body);
    for (xs, ys) in x_body
        .chunks_exact(LANES)
        .zip(y_body.chunks_exact_mut(LANES))
    {
        for j in 0..LANES {
            ys[j] += alpha * xs[j];
        }
    }
    for (&xv, yv) in x_tail.iter().zip(y_tail) {
        *yv += alpha * xv;
    }
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
}

macro_rules! impl_kernels {
    ($t:ty, $dot_fast:path, $axpy_fast:path) => {
        impl Kernels for $t {
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
        }
    };
}

impl_kernels!(f32, avx2::dot_f32, avx2::axpy_f32);
impl_kernels!(f64, avx2::dot_f64, avx2::axpy_f64);

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
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

//! The dot/axpy kernels of [`super`] with AVX2 + FMA intrinsics: four independent 256-bit
//! accumulators hide the FMA latency, which the auto-vectorised portable loop does not reliably
//! achieve. Every entry point takes an [`Avx2Fma`] token; each gives the bits of the portable
//! kernel (tested in [`super`]).

use std::arch::x86_64::*;

use crate::simd::Avx2Fma;

/// The token-taking entry point of each kernel below.
macro_rules! entries {
    ($(fn $entry:ident => $build:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {$(
        pub(super) fn $entry(_cpu: Avx2Fma, $($arg: $ty),*) $(-> $ret)? {
            // SAFETY: the token proves the CPU has AVX2 and FMA.
            unsafe { $build($($arg),*) }
        }
    )*};
}

entries! {
    fn dot_f32 => build_dot_f32(a: &[f32], b: &[f32]) -> f32;
    fn dot_f64 => build_dot_f64(a: &[f64], b: &[f64]) -> f64;
    fn axpy_f32 => build_axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]);
    fn axpy_f64 => build_axpy_f64(alpha: f64, x: &[f64], y: &mut [f64]);
    fn dot2_f32 => build_dot2_f32(w: &[f32], a: &[f32], b: &[f32]) -> (f32, f32);
    fn dot2_f64 => build_dot2_f64(w: &[f64], a: &[f64], b: &[f64]) -> (f64, f64);
    fn axpy2_f32 => build_axpy2_f32(alpha: f32, a: &[f32], beta: f32, b: &[f32], w: &mut [f32]);
    fn axpy2_f64 => build_axpy2_f64(alpha: f64, a: &[f64], beta: f64, b: &[f64], w: &mut [f64]);
}

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
fn build_dot_f32(a: &[f32], b: &[f32]) -> f32 {
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
fn build_dot_f64(a: &[f64], b: &[f64]) -> f64 {
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
fn build_axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]) {
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
fn build_axpy_f64(alpha: f64, x: &[f64], y: &mut [f64]) {
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
        fn $dot2(w: &[$t], a: &[$t], b: &[$t]) -> ($t, $t) {
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
        fn $axpy2(alpha: $t, a: &[$t], beta: $t, b: &[$t], w: &mut [$t]) {
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
    build_dot2_f32,
    build_axpy2_f32,
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
    build_dot2_f64,
    build_axpy2_f64,
    4,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_fmadd_pd,
    _mm256_add_pd,
    _mm256_set1_pd,
    hsum_pd
);

//! The two inner loops of the coordinate-descent SVM: dot product and axpy over one feature row.
//!
//! Written once over a fixed number of independent lanes (so the compiler vectorises them
//! without reassociating anything itself), and compiled twice: a portable version for the default
//! target and an AVX2 + FMA version chosen at run time when the CPU has those features. The two
//! may differ in the last bits (FMA rounds once), never in anything a test can see beyond 1e-6
//! relative; a given machine always takes the same path, so results are reproducible there.

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
fn dot_lanes<F: Element>(a: &[F], b: &[F], fused: bool) -> F {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [F::zero(); LANES];
    let (a_body, a_tail) = a.split_at(a.len() - a.len() % LANES);
    let (b_body, b_tail) = b.split_at(a_body.len());
    for (x, y) in a_body.chunks_exact(LANES).zip(b_body.chunks_exact(LANES)) {
        for j in 0..LANES {
            acc[j] = if fused {
                x[j].mul_add(y[j], acc[j])
            } else {
                acc[j] + x[j] * y[j]
            };
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
fn axpy_lanes<F: Element>(alpha: F, x: &[F], y: &mut [F], fused: bool) {
    debug_assert_eq!(x.len(), y.len());
    let body = x.len() - x.len() % LANES;
    let (x_body, x_tail) = x.split_at(body);
    let (y_body, y_tail) = y.split_at_mut(body);
    for (xs, ys) in x_body
        .chunks_exact(LANES)
        .zip(y_body.chunks_exact_mut(LANES))
    {
        for j in 0..LANES {
            ys[j] = if fused {
                alpha.mul_add(xs[j], ys[j])
            } else {
                ys[j] + alpha * xs[j]
            };
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

macro_rules! impl_kernels {
    ($t:ty, $dot_fast:ident, $axpy_fast:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $dot_fast(a: &[$t], b: &[$t]) -> $t {
            dot_lanes(a, b, true)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $axpy_fast(alpha: $t, x: &[$t], y: &mut [$t]) {
            axpy_lanes(alpha, x, y, true)
        }

        impl Kernels for $t {
            #[inline]
            fn dot(a: &[$t], b: &[$t]) -> $t {
                #[cfg(target_arch = "x86_64")]
                if has_avx2_fma() {
                    // SAFETY: the CPU was just checked to support AVX2 and FMA.
                    return unsafe { $dot_fast(a, b) };
                }
                dot_lanes(a, b, false)
            }

            #[inline]
            fn axpy(alpha: $t, x: &[$t], y: &mut [$t]) {
                #[cfg(target_arch = "x86_64")]
                if has_avx2_fma() {
                    // SAFETY: the CPU was just checked to support AVX2 and FMA.
                    return unsafe { $axpy_fast(alpha, x, y) };
                }
                axpy_lanes(alpha, x, y, false)
            }
        }
    };
}

impl_kernels!(f32, dot_f32_avx2, axpy_f32_avx2);
impl_kernels!(f64, dot_f64_avx2, axpy_f64_avx2);

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
            assert!((dot_lanes(&a, &b, false) - want).abs() <= 1e-12 * (1.0 + want.abs()));
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

//! Dot product and axpy (the inner loops of the coordinate-descent SVM in `rks-solvers`), public
//! as [`crate::simd::Kernels`].
//!
//! Two versions that compute the same bits: an AVX2 + FMA one with explicit intrinsics
//! (`dot/avx2.rs`), chosen at run time when the CPU has those features, and a portable one here
//! that spells out the same arithmetic element by element (the reference). The dot product keeps 4 vector accumulators of
//! `W` lanes (`W` = 8 for f32, 4 for f64, one 256-bit register), each a chain of fused
//! multiply-adds over the entries `i ≡ lane (mod 4W)`; then adds the 4 accumulators lane by lane,
//! the lanes in a fixed tree, and last the tail (plain multiply and add). The axpy is one fused
//! multiply-add per entry of its `W`-aligned body and a plain multiply and add on the tail. So a
//! model trained on any CPU has the same bits, for any number of threads. The price: on x86-64
//! CPUs without FMA (before 2013) the portable path computes `mul_add` in software and is several
//! times slower; aarch64 always has FMA.

use crate::Element;
#[cfg(target_arch = "x86_64")]
use crate::simd::Avx2Fma;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// Floats with fast dot/axpy kernels: f32 and f64 (the trait extends the sealed [`Element`]).
///
/// ```
/// use rks::simd::Kernels;
///
/// let (x, mut y) = ([1.0f64, 2.0], [10.0, 20.0]);
/// f64::axpy(0.5, &x, &mut y);
/// assert_eq!(y, [10.5, 21.0]);
/// assert_eq!(f64::dot(&x, &y), 52.5);
/// ```
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

macro_rules! impl_kernels {
    ($t:ty, $width:literal, $dot_fast:path, $axpy_fast:path, $dot2_fast:path, $axpy2_fast:path) => {
        impl Kernels for $t {
            const WIDTH: usize = $width;

            #[inline]
            fn dot(a: &[$t], b: &[$t]) -> $t {
                assert_eq!(a.len(), b.len(), "dot of slices of different lengths");
                #[cfg(target_arch = "x86_64")]
                if let Some(cpu) = Avx2Fma::detect() {
                    return $dot_fast(cpu, a, b);
                }
                dot_lanes(a, b)
            }

            #[inline]
            fn axpy(alpha: $t, x: &[$t], y: &mut [$t]) {
                assert_eq!(x.len(), y.len(), "axpy of slices of different lengths");
                #[cfg(target_arch = "x86_64")]
                if let Some(cpu) = Avx2Fma::detect() {
                    return $axpy_fast(cpu, alpha, x, y);
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
                if let Some(cpu) = Avx2Fma::detect() {
                    return $dot2_fast(cpu, w, a, b);
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
                if let Some(cpu) = Avx2Fma::detect() {
                    return $axpy2_fast(cpu, alpha, a, beta, b, w);
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

//! The floating-point types the maps work in: f32 and f64.

use num_traits::{Float, FromPrimitive, ToPrimitive};

/// A float the feature maps accept and produce: implemented for `f32` and `f64` only (sealed).
///
/// Map parameters are stored once (in f64 where it matters) and converted on use, so one map
/// serves both precisions.
pub trait Element:
    Float
    + FromPrimitive
    + ToPrimitive
    + std::fmt::Debug
    + std::fmt::Display
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + Send
    + Sync
    + Default
    + 'static
    + sealed::Sealed
{
    /// Converts from f64 (rounding to nearest for f32).
    fn from_f64_lossy(v: f64) -> Self;
    /// Widens to f64 (exact).
    fn to_f64_exact(self) -> f64;
}

/// Per-type entry points to the hot kernels, kept out of the public API: the trait is sealed and
/// its module private, so these methods cannot be named outside the crate. Generic code reaches
/// each type's kernels (and its caches) through them, never by comparing type ids.
pub(crate) mod sealed {
    use std::sync::OnceLock;

    use ndarray::{ArrayView2, ArrayViewMut2, CowArray, Ix2};

    use crate::fastfood::Factors;
    #[cfg(target_arch = "x86_64")]
    use crate::fastfood::Permutation;
    use crate::gemm::Packed;
    use crate::simd::Simd;
    #[cfg(target_arch = "x86_64")]
    use crate::simd::{Avx2Fma, Avx512};

    pub trait Sealed: Sized {
        /// The Walsh–Hadamard transform of a power-of-two-length slice (see [`crate::hadamard`]).
        fn fwht_unchecked(simd: Simd, data: &mut [Self]);
        /// `a ← H(signs ⊙ a)`, the product fused into the transform where the kernels allow
        /// (SORF's step; see [`crate::hadamard`]).
        fn signed_fwht(simd: Simd, a: &mut [Self], signs: &[Self]);
        /// `z_cos ← scale·cos(z_cos)`, `sin ← scale·sin(z_cos)` (see [`crate::trig`]).
        fn cos_sin_scaled(simd: Simd, z_cos: &mut [Self], sin: &mut [Self], scale: Self);
        /// `cos ← scale·cos(pre·src)`, `sin ← scale·sin(pre·src)` element-wise (equal lengths).
        fn cos_sin_scaled_from(
            simd: Simd,
            src: &[Self],
            pre: &[Self],
            cos: &mut [Self],
            sin: &mut [Self],
            scale: Self,
        );
        /// The packed parameter matrix in this precision, made on first use: f64 drawn; f32
        /// rounded from the f64 copy if there is one, else drawn.
        fn stored<'a>(
            wide: &'a OnceLock<Packed<f64>>,
            narrow: &'a OnceLock<Packed<f32>>,
            draw_wide: impl FnOnce() -> Packed<f64>,
            draw_narrow: impl FnOnce() -> Packed<f32>,
        ) -> &'a Packed<Self>;
        /// `z ← x·b` (see [`crate::gemm`]).
        fn gemm(simd: Simd, x: ArrayView2<'_, Self>, b: &Packed<Self>, z: ArrayViewMut2<'_, Self>);
        /// `x` in f64: a widened copy for f32, `x` itself (no copy) for f64.
        fn widened(x: ArrayView2<'_, Self>) -> CowArray<'_, f64, Ix2>;
        /// Fastfood's cache of its factors in this precision.
        fn fastfood_factors<'a>(
            narrow: &'a OnceLock<Vec<Factors<f32>>>,
            wide: &'a OnceLock<Vec<Factors<f64>>>,
        ) -> &'a OnceLock<Vec<Factors<Self>>>;
        /// Fastfood's `a ← H(B x̃)` with AVX2 (see `fastfood/avx2.rs`).
        #[cfg(target_arch = "x86_64")]
        fn fastfood_signed_fwht(cpu: Avx2Fma, a: &mut [Self], x: &[Self], signs: &[Self]);
        /// Fastfood's `q ← H(G Π a)` with AVX2 (see `fastfood/avx2.rs`).
        #[cfg(target_arch = "x86_64")]
        fn fastfood_gather_fwht(
            cpu: Avx2Fma,
            q: &mut [Self],
            a: &[Self],
            p: &Permutation,
            g: &[Self],
        );
        /// Fastfood's `a ← H(B x̃)` with AVX-512 (see `fastfood/avx512.rs`).
        #[cfg(target_arch = "x86_64")]
        fn fastfood_signed_fwht_avx512(cpu: Avx512, a: &mut [Self], x: &[Self], signs: &[Self]);
        /// Fastfood's `q ← H(G Π a)` with AVX-512 (see `fastfood/avx512.rs`).
        #[cfg(target_arch = "x86_64")]
        fn fastfood_gather_fwht_avx512(
            cpu: Avx512,
            q: &mut [Self],
            a: &[Self],
            p: &Permutation,
            g: &[Self],
        );
    }

    impl Sealed for f32 {
        fn fwht_unchecked(simd: Simd, data: &mut [f32]) {
            crate::hadamard::fwht_fast(simd, data);
        }
        fn signed_fwht(simd: Simd, a: &mut [f32], signs: &[f32]) {
            #[cfg(target_arch = "x86_64")]
            if let Some(cpu) = simd.avx512()
                && crate::hadamard::signed_in_place_f32_avx512(cpu, a, signs)
            {
                return;
            }
            crate::hadamard::signed_in_place(simd, a, signs);
        }
        fn cos_sin_scaled(simd: Simd, z_cos: &mut [f32], sin: &mut [f32], scale: f32) {
            crate::trig::cos_sin_f32(simd, z_cos, sin, scale);
        }
        fn cos_sin_scaled_from(
            simd: Simd,
            src: &[f32],
            pre: &[f32],
            cos: &mut [f32],
            sin: &mut [f32],
            scale: f32,
        ) {
            crate::trig::cos_sin_from_f32(simd, src, pre, cos, sin, scale);
        }
        fn stored<'a>(
            wide: &'a OnceLock<Packed<f64>>,
            narrow: &'a OnceLock<Packed<f32>>,
            _draw_wide: impl FnOnce() -> Packed<f64>,
            draw_narrow: impl FnOnce() -> Packed<f32>,
        ) -> &'a Packed<f32> {
            narrow.get_or_init(|| match wide.get() {
                Some(wide) => Packed::from_columns(wide.depth(), wide.cols(), |j, col| {
                    col.iter_mut()
                        .zip(wide.column(j))
                        .for_each(|(c, v)| *c = v as f32)
                }),
                None => draw_narrow(),
            })
        }
        fn widened(x: ArrayView2<'_, f32>) -> CowArray<'_, f64, Ix2> {
            x.mapv(f64::from).into()
        }
        fn gemm(simd: Simd, x: ArrayView2<'_, f32>, b: &Packed<f32>, z: ArrayViewMut2<'_, f32>) {
            crate::gemm::gemm_f32(simd, x, b, z);
        }
        fn fastfood_factors<'a>(
            narrow: &'a OnceLock<Vec<Factors<f32>>>,
            _wide: &'a OnceLock<Vec<Factors<f64>>>,
        ) -> &'a OnceLock<Vec<Factors<f32>>> {
            narrow
        }
        #[cfg(target_arch = "x86_64")]
        #[inline]
        fn fastfood_signed_fwht(cpu: Avx2Fma, a: &mut [f32], x: &[f32], signs: &[f32]) {
            crate::fastfood::avx2::signed_fwht_f32(cpu, a, x, signs);
        }
        #[cfg(target_arch = "x86_64")]
        #[inline]
        fn fastfood_gather_fwht(
            cpu: Avx2Fma,
            q: &mut [f32],
            a: &[f32],
            p: &Permutation,
            g: &[f32],
        ) {
            crate::fastfood::avx2::gather_fwht_f32(cpu, q, a, p, g);
        }
        #[cfg(target_arch = "x86_64")]
        #[inline]
        fn fastfood_signed_fwht_avx512(cpu: Avx512, a: &mut [f32], x: &[f32], signs: &[f32]) {
            crate::fastfood::avx512::signed_fwht_f32(cpu, a, x, signs);
        }
        #[cfg(target_arch = "x86_64")]
        #[inline]
        fn fastfood_gather_fwht_avx512(
            cpu: Avx512,
            q: &mut [f32],
            a: &[f32],
            p: &Permutation,
            g: &[f32],
        ) {
            crate::fastfood::avx512::gather_fwht_f32(cpu, q, a, p, g);
        }
    }

    impl Sealed for f64 {
        fn fwht_unchecked(simd: Simd, data: &mut [f64]) {
            crate::hadamard::fwht_fast(simd, data);
        }
        fn signed_fwht(simd: Simd, a: &mut [f64], signs: &[f64]) {
            #[cfg(target_arch = "x86_64")]
            if let Some(cpu) = simd.avx512()
                && crate::hadamard::signed_in_place_f64_avx512(cpu, a, signs)
            {
                return;
            }
            crate::hadamard::signed_in_place(simd, a, signs);
        }
        fn cos_sin_scaled(simd: Simd, z_cos: &mut [f64], sin: &mut [f64], scale: f64) {
            crate::trig::cos_sin_f64(simd, z_cos, sin, scale);
        }
        fn cos_sin_scaled_from(
            simd: Simd,
            src: &[f64],
            pre: &[f64],
            cos: &mut [f64],
            sin: &mut [f64],
            scale: f64,
        ) {
            crate::trig::cos_sin_from_f64(simd, src, pre, cos, sin, scale);
        }
        fn stored<'a>(
            wide: &'a OnceLock<Packed<f64>>,
            _narrow: &'a OnceLock<Packed<f32>>,
            draw_wide: impl FnOnce() -> Packed<f64>,
            _draw_narrow: impl FnOnce() -> Packed<f32>,
        ) -> &'a Packed<f64> {
            wide.get_or_init(draw_wide)
        }
        fn widened(x: ArrayView2<'_, f64>) -> CowArray<'_, f64, Ix2> {
            x.into()
        }
        fn gemm(simd: Simd, x: ArrayView2<'_, f64>, b: &Packed<f64>, z: ArrayViewMut2<'_, f64>) {
            crate::gemm::gemm_f64(simd, x, b, z);
        }
        fn fastfood_factors<'a>(
            _narrow: &'a OnceLock<Vec<Factors<f32>>>,
            wide: &'a OnceLock<Vec<Factors<f64>>>,
        ) -> &'a OnceLock<Vec<Factors<f64>>> {
            wide
        }
        #[cfg(target_arch = "x86_64")]
        #[inline]
        fn fastfood_signed_fwht(cpu: Avx2Fma, a: &mut [f64], x: &[f64], signs: &[f64]) {
            crate::fastfood::avx2::signed_fwht_f64(cpu, a, x, signs);
        }
        #[cfg(target_arch = "x86_64")]
        #[inline]
        fn fastfood_gather_fwht(
            cpu: Avx2Fma,
            q: &mut [f64],
            a: &[f64],
            p: &Permutation,
            g: &[f64],
        ) {
            crate::fastfood::avx2::gather_fwht_f64(cpu, q, a, p, g);
        }
        #[cfg(target_arch = "x86_64")]
        #[inline]
        fn fastfood_signed_fwht_avx512(cpu: Avx512, a: &mut [f64], x: &[f64], signs: &[f64]) {
            crate::fastfood::avx512::signed_fwht_f64(cpu, a, x, signs);
        }
        #[cfg(target_arch = "x86_64")]
        #[inline]
        fn fastfood_gather_fwht_avx512(
            cpu: Avx512,
            q: &mut [f64],
            a: &[f64],
            p: &Permutation,
            g: &[f64],
        ) {
            crate::fastfood::avx512::gather_fwht_f64(cpu, q, a, p, g);
        }
    }
}

impl Element for f32 {
    #[inline]
    fn from_f64_lossy(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn to_f64_exact(self) -> f64 {
        self as f64
    }
}

impl Element for f64 {
    #[inline]
    fn from_f64_lossy(v: f64) -> Self {
        v
    }
    #[inline]
    fn to_f64_exact(self) -> f64 {
        self
    }
}

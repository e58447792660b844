//! The cos/sin loops of [`super`] compiled a third time, with AVX-512 enabled: 16 (f32) or 8
//! (f64) lanes. The same source, so the same arithmetic: the results are bit for bit those of
//! the portable loops (tested in [`super`]). Each entry point takes an [`Avx512`] token.

use crate::simd::Avx512;

/// For each portable loop of [`super`], its AVX-512 build and the token-taking entry point.
macro_rules! recompile {
    ($(($entry:ident, $build:ident, ($($arg:ident: $ty:ty),*))),* $(,)?) => {$(
        pub(super) fn $entry(_cpu: Avx512, $($arg: $ty),*) {
            // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
            unsafe { $build($($arg),*) }
        }

        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn $build($($arg: $ty),*) {
            super::$entry($($arg),*);
        }
    )*};
}

recompile!(
    (loop_f32, build_loop_f32, (z_cos: &mut [f32], sin: &mut [f32], scale: f32)),
    (loop_f64, build_loop_f64, (z_cos: &mut [f64], sin: &mut [f64], scale: f64)),
    (
        from_loop_f32,
        build_from_loop_f32,
        (src: &[f32], pre: &[f32], cos: &mut [f32], sin: &mut [f32], scale: f32)
    ),
    (
        from_loop_f64,
        build_from_loop_f64,
        (src: &[f64], pre: &[f64], cos: &mut [f64], sin: &mut [f64], scale: f64)
    ),
);

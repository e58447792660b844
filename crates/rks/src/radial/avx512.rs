//! The sums loop of [`super`] compiled again with AVX-512 enabled: 8 lanes. The same source, so the same
//! arithmetic: the sums are bit for bit those of the portable loop (tested in [`super`]).

use crate::simd::Avx512;

pub(super) fn sums_loop(_cpu: Avx512, x: &[f64], block: &[f64], sums: &mut [f64], squares: bool) {
    // SAFETY: the token proves the CPU has AVX-512 (F, DQ, VL, BW), AVX2 and FMA.
    unsafe { build(x, block, sums, squares) }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
fn build(x: &[f64], block: &[f64], sums: &mut [f64], squares: bool) {
    super::sums_loop(x, block, sums, squares);
}

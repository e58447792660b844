//! The sums loop of [`super`] compiled again with AVX2 + FMA enabled: 4 lanes. The same source, so the same
//! arithmetic: the sums are bit for bit those of the portable loop (tested in [`super`]).

use crate::simd::Avx2Fma;

pub(super) fn sums_loop(_cpu: Avx2Fma, x: &[f64], block: &[f64], sums: &mut [f64], squares: bool) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build(x, block, sums, squares) }
}

#[target_feature(enable = "avx2,fma")]
fn build(x: &[f64], block: &[f64], sums: &mut [f64], squares: bool) {
    super::sums_loop(x, block, sums, squares);
}

//! The sums and values loops of [`super`] compiled again with AVX2 + FMA enabled: 4 lanes. The same source, so the same
//! arithmetic: the results are bit for bit those of the portable loops (tested in [`super`]).

use crate::kernel::Kernel;
use crate::simd::Avx2Fma;

pub(super) fn sums_loop(_cpu: Avx2Fma, x: &[f64], block: &[f64], sums: &mut [f64], squares: bool) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build(x, block, sums, squares) }
}

#[target_feature(enable = "avx2,fma")]
fn build(x: &[f64], block: &[f64], sums: &mut [f64], squares: bool) {
    super::sums_loop(x, block, sums, squares);
}

pub(super) fn values_loop(_cpu: Avx2Fma, kernel: Kernel, sigma: f64, sums: &mut [f64]) {
    // SAFETY: the token proves the CPU has AVX2 and FMA.
    unsafe { build_values(kernel, sigma, sums) }
}

#[target_feature(enable = "avx2,fma")]
fn build_values(kernel: Kernel, sigma: f64, sums: &mut [f64]) {
    super::values_loop(kernel, sigma, sums);
}

//! Radial kernel values of many rows against one fixed set of points (the Nyström landmarks),
//! vectorised across the points.
//!
//! A shift-invariant kernel is a function of one sum over the columns of the difference
//! t = x − l: Σⱼ tⱼ² for the Gaussian and Matérn kernels, Σⱼ |tⱼ| for the Laplacian
//! ([`Kernel::of_sum`]). [`Kernel::exact`] adds the columns of one pair in order; here the
//! points are stored transposed, a block of them at a time ([`Points`]: for each column j, the
//! block's values of column j side by side), so that adding column j to the sums of a whole
//! block is one vector operation per 4, 8 or 16 points. Each pair's sum still takes its columns
//! in the same order, with the same roundings (a subtraction, then a square or absolute value,
//! then an addition: no fused multiply-add). The kernel of each sum is then taken for a whole
//! block in a second vectorised loop, with the same formula ([`Kernel::of_sum`]) and the
//! crate's own branch-free e^x ([`crate::exp`]), so every value has the bits of the
//! pair-at-a-time evaluation (tested, at every SIMD level the CPU has). A block is sized to stay
//! in L2 while the rows of a batch pass over it.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Element;
use crate::kernel::Kernel;
use crate::simd::Simd;

/// Bytes of one block of transposed points: 128 KiB, a quarter of the smallest L2 here.
const BLOCK_BYTES: usize = 128 * 1024;

/// A fixed set of points (rows), transposed a block of points at a time.
#[derive(Debug, Clone)]
pub(crate) struct Points {
    dim: usize,
    count: usize,
    /// Points per block (a multiple of 16, or all of them when fewer).
    block: usize,
    /// Block b: `dim` runs of its (at most `block`) points' values of one column each.
    data: Vec<f64>,
}

impl Points {
    /// The rows of `points` (count × dim), transposed block by block.
    pub(crate) fn new(points: ArrayView2<'_, f64>) -> Self {
        let (count, dim) = points.dim();
        let per_block = (BLOCK_BYTES / 8 / dim.max(1)).max(16) / 16 * 16;
        let block = per_block.min(count).max(1);
        let mut data = Vec::with_capacity(count * dim);
        for start in (0..count).step_by(block) {
            let end = (start + block).min(count);
            for j in 0..dim {
                data.extend((start..end).map(|k| points[[k, j]]));
            }
        }
        Self {
            dim,
            count,
            block,
            data,
        }
    }
}

/// The per-pair sums of [`Kernel::of_sum`] are squares or absolute values.
#[derive(Clone, Copy)]
enum Terms {
    Squares,
    Absolutes,
}

/// `sums[k] ← Σⱼ term(x[j] − block[j·width + k])` over the columns j in order, for the
/// `width = sums.len()` points of one transposed block. Inlined into the AVX2 and AVX-512
/// builds of `avx2.rs` and `avx512.rs`, which compile this same loop with wider vectors.
#[inline(always)]
fn sums_loop(x: &[f64], block: &[f64], sums: &mut [f64], squares: bool) {
    let width = sums.len();
    sums.fill(0.0);
    for (&xj, column) in x.iter().zip(block.chunks_exact(width)) {
        if squares {
            for (s, &l) in sums.iter_mut().zip(column) {
                let t = xj - l;
                *s += t * t;
            }
        } else {
            for (s, &l) in sums.iter_mut().zip(column) {
                *s += (xj - l).abs();
            }
        }
    }
}

/// `sums[k] ← kernel.of_sum(sums[k], σ)`, one loop per kernel so that each vectorises (the
/// crate's own exp is branch-free). Inlined into the AVX2 and AVX-512 builds as [`sums_loop`].
#[inline(always)]
fn values_loop(kernel: Kernel, sigma: f64, sums: &mut [f64]) {
    let apply = |k: Kernel, sums: &mut [f64]| {
        for s in sums.iter_mut() {
            *s = k.of_sum(*s, sigma);
        }
    };
    match kernel {
        Kernel::Gaussian => apply(Kernel::Gaussian, sums),
        Kernel::Laplacian => apply(Kernel::Laplacian, sums),
        Kernel::Matern12 => apply(Kernel::Matern12, sums),
        Kernel::Matern32 => apply(Kernel::Matern32, sums),
        other => apply(other, sums),
    }
}

/// [`values_loop`] with the widest kernels `simd` allows.
fn values(simd: Simd, kernel: Kernel, sigma: f64, sums: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx512() {
        return avx512::values_loop(cpu, kernel, sigma, sums);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx2_fma() {
        return avx2::values_loop(cpu, kernel, sigma, sums);
    }
    let _ = simd;
    values_loop(kernel, sigma, sums);
}

/// [`sums_loop`] with the widest kernels `simd` allows.
fn sums(simd: Simd, x: &[f64], block: &[f64], out: &mut [f64], terms: Terms) {
    let squares = matches!(terms, Terms::Squares);
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx512() {
        return avx512::sums_loop(cpu, x, block, out, squares);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx2_fma() {
        return avx2::sums_loop(cpu, x, block, out, squares);
    }
    let _ = simd;
    sums_loop(x, block, out, squares);
}

impl Kernel {
    /// k(x, p) of every row x of `rows` against every point p of `points`, into `out`
    /// (rows × points), for a [shift-invariant](Kernel::is_shift_invariant) kernel and a valid
    /// σ: the bits of [`Kernel::exact`] for each pair, the sums vectorised across the points
    /// (see the [module docs](self)).
    pub(crate) fn values_against<F: Element>(
        &self,
        simd: Simd,
        rows: ArrayView2<'_, F>,
        points: &Points,
        sigma: f64,
        mut out: ArrayViewMut2<'_, F>,
    ) {
        debug_assert!(self.is_shift_invariant());
        debug_assert_eq!(rows.ncols(), points.dim);
        debug_assert_eq!(out.dim(), (rows.nrows(), points.count));
        let terms = match self {
            Kernel::Laplacian => Terms::Absolutes,
            _ => Terms::Squares,
        };
        let dim = points.dim;
        let wide: Vec<f64> = rows.iter().map(|v| v.to_f64_exact()).collect();
        let mut s = vec![0.0; points.block];
        for (b, start) in (0..points.count).step_by(points.block).enumerate() {
            let width = points.block.min(points.count - start);
            let offset = b * points.block * dim;
            let block = &points.data[offset..offset + width * dim];
            let s = &mut s[..width];
            for i in 0..rows.nrows() {
                sums(simd, &wide[i * dim..(i + 1) * dim], block, s, terms);
                values(simd, *self, sigma, s);
                for (o, &v) in out.row_mut(i).iter_mut().skip(start).zip(s.iter()) {
                    *o = F::from_f64_lossy(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn hashed(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            let h = ((i * cols + j) as u64 + seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
            // Some exact zeros and repeats, so that equal rows and zero differences occur.
            if h.is_multiple_of(7) {
                0.0
            } else {
                (h as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
            }
        })
    }

    /// Every kernel value has the bits of the pair-at-a-time evaluation, at every SIMD level,
    /// for blocks that are whole, partial, one point, and dimensions from 1 to past a block.
    #[test]
    fn values_have_the_bits_of_one_pair_at_a_time() {
        for (n_rows, n_points, dim) in [(5, 1, 1), (9, 37, 3), (7, 300, 16), (3, 70, 2100)] {
            let x = hashed(n_rows, dim, 1);
            let mut l = hashed(n_points, dim, 2);
            l.row_mut(0).assign(&x.row(0));
            let points = Points::new(l.view());
            assert!(dim < 1000 || points.block < n_points, "several blocks");
            for kernel in [
                Kernel::Gaussian,
                Kernel::Laplacian,
                Kernel::Matern12,
                Kernel::Matern32,
                Kernel::Matern52,
            ] {
                let sigma = 0.7;
                let expected = Array2::from_shape_fn((n_rows, n_points), |(i, k)| {
                    kernel.eval(
                        x.row(i).as_slice().unwrap(),
                        l.row(k).as_slice().unwrap(),
                        sigma,
                    )
                });
                for simd in Simd::levels() {
                    let mut out = Array2::<f64>::zeros((n_rows, n_points));
                    kernel.values_against(simd, x.view(), &points, sigma, out.view_mut());
                    let same = out
                        .iter()
                        .zip(&expected)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{kernel:?} {simd:?} {n_rows}×{n_points}×{dim}");
                    let mut narrow = Array2::<f32>::zeros((n_rows, n_points));
                    let x32 = x.mapv(|v| v as f32);
                    kernel.values_against(simd, x32.view(), &points, sigma, narrow.view_mut());
                    let expected32 = Array2::from_shape_fn((n_rows, n_points), |(i, k)| {
                        let xi: Vec<f64> = x32.row(i).iter().map(|&v| v as f64).collect();
                        kernel.eval(&xi, l.row(k).as_slice().unwrap(), sigma) as f32
                    });
                    assert_eq!(narrow, expected32, "{kernel:?} {simd:?} f32");
                }
            }
        }
    }
}

//! The tridiagonalisation's reflectors applied to the eigenvectors of T by blocks, in the
//! compact WY form (Schreiber & Van Loan, "A storage-efficient WY representation for products
//! of Householder transformations", SIAM J. Sci. Stat. Comput. 10, 1989; Golub & Van Loan,
//! §5.1.7), so that nearly all the work is matrix products.
//!
//! The eigenvectors of A are U = QZ (Z those of T, Q = H₀H₁⋯H_{m−3}); stored as rows,
//! Uᵀ = ZᵀQᵀ = Zᵀ·H_{m−3}⋯H₁H₀. A block of reflectors H_k⋯H_{k+b−1} is I − VTVᵀ, V's columns
//! their vectors and T upper triangular (T_ii = βᵢ, T_{:i,i} = −βᵢ·T_{:i,:i}·(V_{:,:i}ᵀvᵢ)), so
//! its transpose H_{k+b−1}⋯H_k is I − VTᵀVᵀ, and the rows R of Zᵀ it acts on (columns k+1…)
//! become R − ((R·V)·Tᵀ)·Vᵀ: three products by [`FixedRight`], the blocks from the last to the
//! first. The bits depend on the block's width, which is fixed ([`WIDTH`]).

use ndarray::{Array2, ArrayViewMut2, Axis, s};
use rayon::prelude::*;

use crate::product::FixedRight;
use crate::simd::Simd;

/// Reflectors per block.
const WIDTH: usize = 64;

/// `zt` (m × m, row j an eigenvector of T) times Qᵀ, in place: reflector k's vector is row k of
/// `w` (m × m, row-major) at columns k+1…m−1, its β is `betas[k]` (0: no reflector).
pub(super) fn apply_q_transpose(
    simd: Simd,
    w: &[f64],
    betas: &[f64],
    mut zt: ArrayViewMut2<'_, f64>,
) {
    let m = zt.nrows();
    let starts: Vec<usize> = (0..betas.len()).step_by(WIDTH).collect();
    // The update's buffer, for the widest block (the first) and reused: every product
    // overwrites the part it uses.
    let mut buffer = vec![0.0; m * m.saturating_sub(1)];
    for &k in starts.iter().rev() {
        let b = WIDTH.min(betas.len() - k);
        let len = m - k - 1;
        // Vᵀ: row i is reflector k+i's vector on coordinates k+1…, zero above its start.
        let mut vt = Array2::<f64>::zeros((b, len));
        for (i, mut row) in vt.rows_mut().into_iter().enumerate() {
            if betas[k + i] != 0.0 {
                let v = &w[(k + i) * m + k + i + 1..(k + i + 1) * m];
                row.slice_mut(s![i..])
                    .iter_mut()
                    .zip(v)
                    .for_each(|(r, &x)| *r = x);
            }
        }
        let v = FixedRight::new(vt.t());
        let mut gram = Array2::zeros((b, b));
        v.product_with(simd, vt.view(), gram.view_mut());
        // T, column by column: T_{:i,i} = −βᵢ·T_{:i,:i}·(VᵀV)_{:i,i}.
        let mut t = Array2::<f64>::zeros((b, b));
        for i in 0..b {
            let beta = betas[k + i];
            t[(i, i)] = beta;
            for r in 0..i {
                let sum = (r..i).fold(0.0, |acc, c| acc + t[(r, c)] * gram[(c, i)]);
                t[(r, i)] = -beta * sum;
            }
        }
        let mut rows = zt.slice_mut(s![.., k + 1..]);
        let mut y = Array2::zeros((m, b));
        v.product_with(simd, rows.view(), y.view_mut());
        let mut yt = Array2::zeros((m, b));
        FixedRight::new(t.t()).product_with(simd, y.view(), yt.view_mut());
        let mut update = ArrayViewMut2::from_shape((m, len), &mut buffer[..m * len])
            .unwrap_or_else(|_| unreachable!("the buffer holds m·(m − 1) ≥ m·len entries"));
        FixedRight::new(vt.view()).product_with(simd, yt.view(), update.view_mut());
        rows.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(update.axis_iter(Axis(0)))
            .for_each(|(mut row, change)| row -= &change);
    }
}

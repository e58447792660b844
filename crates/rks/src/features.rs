//! The part every map of a projection z = Wx shares: input checks, the row-block parallel loop,
//! and the step φ(x) = n^{-1/2}·[cos z, sin z] (or, for the arc-cosine kernels,
//! √(2/n)·Θ(z) and √(2/n)·max(0, z), see [`crate::kernel::Activation`]).
//!
//! A map only supplies its projection of a block of rows into the first n output columns; this
//! module calls it on blocks of rows in parallel (rayon), then overwrites each row's [z | ·] with
//! [cos z | sin z]/√n in place. (Fastfood calls the same cos/sin step itself, on each D-long
//! piece of z while it is in L1 cache, with the same [`cos_sin_scale`].) Each row is computed
//! from that row alone, by the same operations whichever block it falls in, so the output is
//! bit-identical for any block size and any number of threads.

use ndarray::{ArrayView2, ArrayViewMut2, Axis, s};
use rayon::prelude::*;

use crate::kernel::Activation;
use crate::simd::Simd;
use crate::{Element, MapSpec, RksError};

/// Checks the input columns, the output shape, and that the input is finite.
pub(crate) fn check_io<F: Element>(
    x: &ArrayView2<'_, F>,
    out: &ArrayViewMut2<'_, F>,
    input_dim: usize,
    output_dim: usize,
) -> Result<(), RksError> {
    if x.ncols() != input_dim {
        return Err(RksError::WrongInputDim {
            expected: input_dim,
            found: x.ncols(),
        });
    }
    if out.dim() != (x.nrows(), output_dim) {
        return Err(RksError::WrongOutputShape {
            expected_rows: x.nrows(),
            expected_cols: output_dim,
            found_rows: out.nrows(),
            found_cols: out.ncols(),
        });
    }
    crate::scaler::check_finite(x.view())
}

/// Runs `project(rows of x, out block)` over blocks of `block_rows` rows in parallel.
pub(crate) fn for_row_blocks<F, P>(
    x: ArrayView2<'_, F>,
    mut out: ArrayViewMut2<'_, F>,
    block_rows: usize,
    project: P,
) where
    F: Element,
    P: Fn(ArrayView2<'_, F>, ArrayViewMut2<'_, F>) + Sync,
{
    x.axis_chunks_iter(Axis(0), block_rows)
        .into_par_iter()
        .zip(
            out.axis_chunks_iter_mut(Axis(0), block_rows)
                .into_par_iter(),
        )
        .for_each(|(xb, ob)| project(xb, ob));
}

/// Runs `project(x, z)` on every row of `xb` with the matching row of `zb`, as slices: a row that
/// is not contiguous goes through a buffer (copied in for x, copied out for z). The structured
/// maps (Fastfood, SORF) work on one row at a time; inlined into their callers, so that a caller
/// compiled for AVX2 or AVX-512 compiles the loop for it too.
#[inline(always)]
pub(crate) fn for_each_row<F: Element>(
    xb: ArrayView2<'_, F>,
    mut zb: ArrayViewMut2<'_, F>,
    mut project: impl FnMut(&[F], &mut [F]),
) {
    let (mut x_copy, mut z_copy) = (Vec::new(), Vec::new());
    for (x, mut z) in xb.rows().into_iter().zip(zb.rows_mut()) {
        let x = match x.to_slice() {
            Some(x) => x,
            None => {
                x_copy.clear();
                x_copy.extend(x.iter().copied());
                &x_copy
            }
        };
        match z.as_slice_mut() {
            Some(z) => project(x, z),
            None => {
                z_copy.resize(z.len(), F::zero());
                project(x, &mut z_copy);
                z.iter_mut().zip(&z_copy).for_each(|(o, v)| *o = *v);
            }
        }
    }
}

/// One output row of a structured map cut into its blocks of `dim` frequencies: with `features`
/// the row is [z | sin] (2n entries) and each item is a block's part of both halves, without it
/// the row is z (n entries) and the sin part is `None`. The last block may be cut short.
#[inline(always)]
pub(crate) fn row_blocks<F: Element>(
    row: &mut [F],
    dim: usize,
    features: bool,
) -> impl Iterator<Item = (&mut [F], Option<&mut [F]>)> {
    let (z, sin) = if features {
        row.split_at_mut(row.len() / 2)
    } else {
        (row, &mut [][..])
    };
    let mut sin_chunks = sin.chunks_mut(dim);
    z.chunks_mut(dim).map(move |z| (z, sin_chunks.next()))
}

/// Most bytes of one output piece to prefetch. Measured at D = 1,024 (Fastfood, Zen 3): 4 KiB
/// (the whole piece in f32, half in f64) saves 3–6 % (f32) and 1–2 % (f64); the whole 8 KiB f64
/// piece cost 2 %.
#[cfg(target_arch = "x86_64")]
const PREFETCH_BYTES: usize = 4096;

/// Hints the cache (L2) to fetch the 64-byte lines of the first [`PREFETCH_BYTES`] of `v` (no
/// effect on the values). A structured map asks for a block's output lines before its
/// transforms, so their trip from memory overlaps the arithmetic instead of stalling the
/// cos/sin step's stores: the output is only written, but each line is read first
/// (write-allocate). On Emerald Rapids this took the benchmark SORF transform (f32) from
/// 0.064 to 0.036 s (docs/benchmarks.md).
#[inline(always)]
pub(crate) fn prefetch_lines<F>(v: &[F]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        let bytes = std::mem::size_of_val(v).min(PREFETCH_BYTES);
        let p = v.as_ptr().cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch never faults (SSE, part of every x86-64 CPU) and `offset` stays
            // inside `v`.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(p.add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// Writes one block of a structured map from its projection `y` before the scaling S (`scaling`,
/// as long as `y`): with `scale` and a sin part, [cos(S·y) | sin(S·y)]·scale through the shared
/// cos/sin step, else S·y into `z`. Only `z`'s length (and the sin part's) is written.
#[inline(always)]
pub(crate) fn write_block<F: Element>(
    simd: Simd,
    y: &[F],
    scaling: &[F],
    (z, sin): (&mut [F], Option<&mut [F]>),
    scale: Option<F>,
) {
    let (y, scaling) = (&y[..z.len()], &scaling[..z.len()]);
    match (scale, sin) {
        (Some(scale), Some(sin)) => F::cos_sin_scaled_from(simd, y, scaling, z, sin, scale),
        _ => z
            .iter_mut()
            .zip(y)
            .zip(scaling)
            .for_each(|((o, &y), &s)| *o = s * y),
    }
}

/// The feature scale n^{-1/2} for n frequencies.
pub(crate) fn cos_sin_scale<F: Element>(n: usize) -> F {
    F::from_f64_lossy(1.0 / (n as f64).sqrt())
}

/// Replaces each row [z | ·] (z the first n columns, n = half the width) by [cos z | sin z]/√n,
/// with the kernels `simd` allows.
pub(crate) fn cos_sin_rows<F: Element>(simd: Simd, mut out: ArrayViewMut2<'_, F>) {
    let n = out.ncols() / 2;
    let scale = cos_sin_scale::<F>(n);
    let mut scratch = Vec::new();
    for mut row in out.rows_mut() {
        if let Some(row) = row.as_slice_mut() {
            let (z_cos, sin) = row.split_at_mut(n);
            F::cos_sin_scaled(simd, z_cos, sin, scale);
        } else {
            // A caller's buffer with strided rows: go through a contiguous copy.
            scratch.clear();
            scratch.extend(row.iter().copied());
            let (z_cos, sin) = scratch.split_at_mut(n);
            F::cos_sin_scaled(simd, z_cos, sin, scale);
            row.iter_mut().zip(&scratch).for_each(|(o, v)| *o = *v);
        }
    }
}

/// Replaces each row's projection z (its first n columns) by its features: [cos z | sin z]/√n
/// over 2n columns, or √(2/n)·Θ(z), √(2/n)·max(0, z) over n columns for the arc-cosine kernels.
pub(crate) fn activate_rows<F: Element>(
    simd: Simd,
    mut out: ArrayViewMut2<'_, F>,
    activation: Activation,
) {
    let n = out.ncols();
    let scale = F::from_f64_lossy((2.0 / n as f64).sqrt());
    match activation {
        Activation::CosSin => cos_sin_rows(simd, out),
        Activation::Step => out.mapv_inplace(|z| if z > F::zero() { scale } else { F::zero() }),
        Activation::Relu => out.mapv_inplace(|z| if z > F::zero() { z * scale } else { F::zero() }),
        // The linear map's (which projects nothing and never comes here).
        Activation::Identity => {}
    }
}

/// The full transform of the map `spec` describes: checks, then for every block of rows
/// `project` into the first n columns followed by the kernel's step ([`activate_rows`]). The
/// CPU's kernels are detected once and passed to both.
pub(crate) fn transform_with<F, P>(
    x: ArrayView2<'_, F>,
    mut out: ArrayViewMut2<'_, F>,
    spec: &MapSpec,
    block_rows: usize,
    project: P,
) -> Result<(), RksError>
where
    F: Element,
    P: Fn(Simd, ArrayView2<'_, F>, ArrayViewMut2<'_, F>) + Sync,
{
    let n = spec.n_frequencies();
    check_io(&x, &out, spec.input_dim(), spec.output_dim())?;
    let activation = spec.kernel().activation();
    let simd = Simd::detect();
    for_row_blocks(x, out.view_mut(), block_rows, |xb, mut ob| {
        project(simd, xb, ob.slice_mut(s![.., ..n]));
        activate_rows(simd, ob, activation);
    });
    Ok(())
}

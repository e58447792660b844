//! The dense map's matrix product Z = X·Wᵀ: a packed GEMM specialised for a fixed right-hand side.
//!
//! Why our own kernel rather than a BLAS or `matrixmultiply`:
//! - **Bit-identical on every CPU and for any thread count.** Every output is one FMA chain
//!   `acc = fma(x[k], wᵀ[k], acc)` for k = 0, 1, …, d−1 in that order, starting from 0. Blocking
//!   over k stores the partial value and resumes from it, which is the same chain. The AVX2 + FMA
//!   kernel and the AVX-512 one (x86-64, chosen at run time, [`avx2`], [`avx512`]) and the
//!   portable kernel (`mul_add`: NEON
//!   `fmla` on aarch64, hardware or libm's correctly rounded `fma` elsewhere) perform exactly
//!   these operations, so they agree to the bit; rows never interact, so the row blocks that
//!   threads take do not matter either. A BLAS picks its kernel, its k-splitting and its
//!   summation order per CPU and per thread count.
//! - **Wᵀ packed once.** W is fixed by the map's spec, so Wᵀ is stored packed in the kernel's
//!   layout ([`Packed`]) the first time a precision needs it, and a transform packs only its
//!   block of rows of X; a general
//!   GEMM repacks the large operand on every call (ndarray's did, per block of 128 rows).
//!
//! Layout and blocking (one block of rows at a time, single-threaded inside the product; rayon
//! runs the row blocks in parallel):
//! - Micro-tile MR × NR = 6 × 16 (f32) or 6 × 8 (f64): two 256-bit registers per row, 12
//!   accumulators; 4 steps of k per loop iteration. With AVX-512 (where the 512-bit units are
//!   whole, not on Zen 4) a tile takes two consecutive panels, one 512-bit register each: 6 × 32
//!   (f32) or 6 × 16 (f64), 12 accumulators, twice the multiply-adds per instruction.
//! - [`Packed`] Wᵀ: column panels of NR columns, each panel `d` steps of NR values (k-major, one
//!   64-byte cache line per step), 64-byte aligned, the last panel zero-padded.
//! - Loops, outer to inner: rows in chunks of [`MC`] = 264 (their X packed for all k, k-block
//!   by k-block, in MR-row panels, zero-padded); columns in chunks of NC (128 in f32, 64 in
//!   f64: whole groups of panels) whose MC × NC part of Z (≈ [`Z_CHUNK_BYTES`] = 128 KiB) is
//!   accumulated in a contiguous
//!   buffer that stays in L2 cache while k advances (Z's own rows, 2n values apart, would all
//!   map to the same cache sets), then copied out; k in blocks of [`KC`] = 256, so a panel's
//!   k-block (16 KiB) stays in L1 cache while every MR-row panel of X passes over it (the next
//!   panel is prefetched meanwhile); then the 44 micro-tiles down the panel, in one call of the
//!   kernel, every one full in the padded buffer (no edge cases).
//! - Measured at the benchmark shape (2,000 × 1,024 · 1,024 × 16,384, one Zen 3 core): about
//!   88 GFLOP/s in f32 and 44 in f64, against 90–92 and 41–42 for numpy with OpenBLAS; the kernel
//!   alone on cached data reaches 100 and 50. On an Emerald Rapids core the AVX2 kernel gives
//!   100–105 and 47–52, the AVX-512 one 184 and 88 (docs/benchmarks.md).

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, s};

use crate::Element;
use crate::simd::Simd;

#[cfg(target_arch = "x86_64")]
#[macro_use]
mod tile;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// Rows of a micro-tile.
pub(crate) const MR: usize = 6;
/// Steps of k per block: a panel's block (KC · NR values, 16 KiB) fits in half the L1 cache.
const KC: usize = 256;
/// Rows of X packed at a time (a multiple of MR): each panel of W fetched from memory serves all
/// of them. Their block of KC steps (264 KiB in f32, 528 in f64) is read tile by tile, streamed
/// from L2 or L3 cache; 132 rows, a block that fits L2 even in f64, measured 3 % slower in f32.
pub(crate) const MC: usize = 264;
/// Size of the part of Z (MC rows × NC columns) updated while k runs through its blocks.
const Z_CHUNK_BYTES: usize = 128 * 1024;
/// Alignment of the packed panels: one f32 or f64 step of a panel is one 64-byte cache line.
const ALIGN: usize = 64;

/// Columns of a micro-tile (and of a panel) for the float type: 64 bytes.
pub(crate) const fn nr<F>() -> usize {
    64 / size_of::<F>()
}

/// A d × n matrix (here Wᵀ) in the kernels' layout: panel p holds columns p·NR .. p·NR + NR,
/// k-major (value (k, j) at p·d·NR + k·NR + j − p·NR); columns past n are zero.
pub struct Packed<F> {
    buf: Vec<F>,
    /// Start of the 64-byte aligned data in `buf`.
    start: usize,
    depth: usize,
    cols: usize,
}

impl<F: Element> Packed<F> {
    /// A `depth` × `cols` matrix whose column j is written by `column(j, buffer)`, called for
    /// j = 0, 1, … in order (the order the dense map draws W's rows in).
    pub(crate) fn from_columns(
        depth: usize,
        cols: usize,
        mut column: impl FnMut(usize, &mut [F]),
    ) -> Self {
        let nr = nr::<F>();
        let len = depth * cols.div_ceil(nr) * nr;
        let slack = ALIGN / size_of::<F>();
        let buf = vec![F::zero(); len + slack];
        // align_offset may decline (usize::MAX); then the data is merely unaligned.
        let start = Some(buf.as_ptr().align_offset(ALIGN))
            .filter(|&s| s <= slack)
            .unwrap_or(0);
        let mut packed = Self {
            buf,
            start,
            depth,
            cols,
        };
        let mut values = vec![F::zero(); depth];
        for j in 0..cols {
            column(j, &mut values);
            let (first, _) = packed.index(0, j);
            for (dst, &v) in packed.buf[first..].iter_mut().step_by(nr).zip(&values) {
                *dst = v;
            }
        }
        packed
    }

    /// Rows (d).
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    /// Columns (n).
    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    /// Bytes of the panels, zero padding included (not the < 64 bytes skipped to align them).
    pub(crate) fn bytes(&self) -> usize {
        self.depth * self.cols.div_ceil(nr::<F>()) * nr::<F>() * size_of::<F>()
    }

    /// Position of entry (k, j) in `buf`, and the panel's step (NR).
    fn index(&self, k: usize, j: usize) -> (usize, usize) {
        let nr = nr::<F>();
        (
            self.start + (j / nr) * self.depth * nr + k * nr + j % nr,
            nr,
        )
    }

    /// Column j (k = 0 first).
    pub(crate) fn column(&self, j: usize) -> impl Iterator<Item = F> + '_ {
        let (first, nr) = self.index(0, j);
        self.buf[first..]
            .iter()
            .step_by(nr)
            .take(self.depth)
            .copied()
    }

    /// Steps k0 .. k0 + kc of panel p (kc · NR values).
    fn panel(&self, p: usize, k0: usize, kc: usize) -> &[F] {
        let (first, nr) = self.index(k0, p * nr::<F>());
        &self.buf[first..first + kc * nr]
    }
}

impl<F: Element> Clone for Packed<F> {
    /// Re-aligns the copy (a cloned `Vec` may sit at another alignment).
    fn clone(&self) -> Self {
        Self::from_columns(self.depth, self.cols, |j, col| {
            col.iter_mut().zip(self.column(j)).for_each(|(c, v)| *c = v)
        })
    }
}

/// The tiles of one group of panels: `((a, bs, next), c, j0, accumulate)` updates rows
/// 0..tiles·MR, columns j0..j0 + bs.len()·NR of `c` (in bounds) from `a`, `tiles` MR-row panels
/// of X of kc steps each, and `bs`, kc steps of each of one or more consecutive panels of W (at
/// most the kernel's [`group`](Kernel::group)); `next` is the group wanted next (a prefetch hint,
/// maybe empty). The FMA chains start from `c`'s values if `accumulate`, from 0 otherwise.
type Panel<'t, F> = &'t dyn Fn((&[F], &[&[F]], &[&[F]]), &mut ArrayViewMut2<'_, F>, usize, bool);

/// A panel kernel and the number of consecutive panels it takes at once.
struct Kernel<'t, F> {
    panel: Panel<'t, F>,
    group: usize,
}

/// The portable panel: the same FMA chains as the SIMD kernels, in plain Rust, one panel.
fn portable_panel<F: Element, const NR: usize>(
    (a, bs, _next): (&[F], &[&[F]], &[&[F]]),
    c: &mut ArrayViewMut2<'_, F>,
    j0: usize,
    accumulate: bool,
) {
    let [b] = bs else {
        panic!("one panel at a time")
    };
    let kc = b.len() / NR;
    for (t, a) in a.chunks_exact(kc * MR).enumerate() {
        let mut acc = [[F::zero(); NR]; MR];
        if accumulate {
            for (i, row) in acc.iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = c[[t * MR + i, j0 + j]];
                }
            }
        }
        for (ak, bk) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
            for (row, &ai) in acc.iter_mut().zip(ak) {
                for (v, &bj) in row.iter_mut().zip(bk) {
                    *v = ai.mul_add(bj, *v);
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                c[[t * MR + i, j0 + j]] = *v;
            }
        }
    }
}

/// The portable kernel, one panel at a time.
fn portable<'t, F: Element, const NR: usize>() -> Kernel<'t, F> {
    Kernel {
        panel: &portable_panel::<F, NR>,
        group: 1,
    }
}

/// Packs rows of `x` into MR-row panels, k-block by k-block: block pc (steps pc..pc + kc) starts
/// at pc·m' (m' = rows rounded up to MR) and holds panel q (rows q·MR .. q·MR + MR) at q·kc·MR,
/// k-major; missing rows are zero.
fn pack_rows<F: Element>(x: ArrayView2<'_, F>, out: &mut Vec<F>) {
    let (m, d) = x.dim();
    let padded = m.div_ceil(MR) * MR;
    out.clear();
    out.resize(padded * d, F::zero());
    // Panel by panel and block by block, so that each block written (kc · MR values, 12 KiB in
    // f64) stays in L1 cache while its MR rows are read in.
    for (q, rows) in x.axis_chunks_iter(Axis(0), MR).enumerate() {
        let whole = panel_rows(&rows);
        for pc in (0..d).step_by(KC) {
            let kc = KC.min(d - pc);
            let block = &mut out[pc * padded + q * kc * MR..][..kc * MR];
            // A whole panel of contiguous rows: step by step, MR values written in a row.
            if let Some(src) = whole {
                for (k, dst) in block.chunks_exact_mut(MR).enumerate() {
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d = s[pc + k];
                    }
                }
                continue;
            }
            for (lane, row) in rows.rows().into_iter().enumerate() {
                for (dst, &v) in block[lane..]
                    .iter_mut()
                    .step_by(MR)
                    .zip(row.slice(s![pc..pc + kc]))
                {
                    *dst = v;
                }
            }
        }
    }
}

/// The MR rows of a panel as slices, when there are MR of them and each is contiguous.
fn panel_rows<'r, F>(rows: &'r ArrayView2<'_, F>) -> Option<[&'r [F]; MR]> {
    if rows.nrows() != MR {
        return None;
    }
    let mut out: [&[F]; MR] = [&[]; MR];
    for (slot, row) in out.iter_mut().zip(rows.rows()) {
        *slot = row.to_slice()?;
    }
    Some(out)
}

/// Z = X·B with the given panel kernel (NR columns a panel), overwriting `z`.
fn multiply<F: Element, const NR: usize>(
    x: ArrayView2<'_, F>,
    b: &Packed<F>,
    mut z: ArrayViewMut2<'_, F>,
    kernel: Kernel<'_, F>,
) {
    let (m, d) = x.dim();
    let n = b.cols();
    assert!(
        NR == nr::<F>() && b.depth() == d && z.dim() == (m, n),
        "GEMM shapes"
    );
    if d == 0 {
        z.fill(F::zero());
        return;
    }
    let width = NR * kernel.group;
    let nc = (Z_CHUNK_BYTES / (MC * size_of::<F>())).div_ceil(width) * width;
    let mut a = Vec::new();
    // The chunk of Z being accumulated, contiguous (row stride nc) and padded to whole tiles:
    // Z's own rows may be a power-of-two apart and would then all fall in the same cache sets.
    let mut chunk = Array2::zeros((MC, nc));
    for ic in (0..m).step_by(MC) {
        let mc = MC.min(m - ic);
        pack_rows(x.slice(s![ic..ic + mc, ..]), &mut a);
        for jc in (0..n).step_by(nc) {
            let end = n.min(jc + nc);
            for pc in (0..d).step_by(KC) {
                let kc = KC.min(d - pc);
                // The group of panels from column j on (up to `end`), steps k0..k0 + kc.
                let group = |j: usize, k0: usize, kc: usize| -> Vec<&[F]> {
                    (j..end)
                        .step_by(NR)
                        .take(kernel.group)
                        .map(|j| b.panel(j / NR, k0, kc))
                        .collect()
                };
                for j0 in (jc..end).step_by(width) {
                    let bs = group(j0, pc, kc);
                    // The group after this one, prefetched while the first tile runs.
                    let next = if j0 + width < end {
                        group(j0 + width, pc, kc)
                    } else if pc + KC < d {
                        group(jc, pc + KC, KC.min(d - pc - KC))
                    } else {
                        Vec::new()
                    };
                    let padded = mc.div_ceil(MR) * MR;
                    let ap = &a[pc * padded..(pc + kc) * padded];
                    (kernel.panel)((ap, &bs, &next), &mut chunk.view_mut(), j0 - jc, pc > 0);
                }
            }
            z.slice_mut(s![ic..ic + mc, jc..end])
                .assign(&chunk.slice(s![..mc, ..end - jc]));
        }
    }
}

/// Z = X·B in f32 with the kernels `simd` allows, overwriting `z` (shapes m × d, d × n, m × n;
/// panics otherwise).
pub(crate) fn gemm_f32(
    simd: Simd,
    x: ArrayView2<'_, f32>,
    b: &Packed<f32>,
    z: ArrayViewMut2<'_, f32>,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx512().filter(|cpu| !cpu.splits_512_bit_operations()) {
        let panel: Panel<'_, f32> = &|abn, c, j0, acc| avx512::panel_f32(cpu, abn, c, j0, acc);
        return multiply::<f32, 16>(x, b, z, Kernel { panel, group: 2 });
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx2_fma() {
        let panel: Panel<'_, f32> = &|abn, c, j0, acc| avx2::panel_f32(cpu, abn, c, j0, acc);
        return multiply::<f32, 16>(x, b, z, Kernel { panel, group: 1 });
    }
    let _ = simd;
    multiply::<f32, 16>(x, b, z, portable::<f32, 16>());
}

/// Z = X·B in f64 with the kernels `simd` allows, overwriting `z` (shapes m × d, d × n, m × n;
/// panics otherwise).
pub(crate) fn gemm_f64(
    simd: Simd,
    x: ArrayView2<'_, f64>,
    b: &Packed<f64>,
    z: ArrayViewMut2<'_, f64>,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx512().filter(|cpu| !cpu.splits_512_bit_operations()) {
        let panel: Panel<'_, f64> = &|abn, c, j0, acc| avx512::panel_f64(cpu, abn, c, j0, acc);
        return multiply::<f64, 8>(x, b, z, Kernel { panel, group: 2 });
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd.avx2_fma() {
        let panel: Panel<'_, f64> = &|abn, c, j0, acc| avx2::panel_f64(cpu, abn, c, j0, acc);
        return multiply::<f64, 8>(x, b, z, Kernel { panel, group: 1 });
    }
    let _ = simd;
    multiply::<f64, 8>(x, b, z, portable::<f64, 8>());
}

/// X·Xᵀ (m × m for X of m rows) in f64 with the kernels `simd` allows: entry (i, j) is the
/// FMA chain over k = 0, 1, … of x[i, k]·x[j, k], the same chain as entry (j, i) because a fused
/// multiply-add does not depend on the order of its two factors, so the result is exactly
/// symmetric. Blocks of [`MC`] rows run in parallel; every entry is its own chain, so the bits do
/// not depend on the thread count (or on the CPU, as for [`gemm_f64`]).
pub(crate) fn outer_f64(simd: Simd, x: ArrayView2<'_, f64>) -> Array2<f64> {
    let (m, d) = x.dim();
    let xt = Packed::from_columns(d, m, |j, col| {
        col.iter_mut().zip(x.row(j)).for_each(|(c, &v)| *c = v)
    });
    let mut z = Array2::zeros((m, m));
    crate::features::for_row_blocks(x, z.view_mut(), MC, |xb, zb| gemm_f64(simd, xb, &xt, zb));
    z
}

#[cfg(test)]
mod tests {
    use ndarray::ShapeBuilder;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    /// The definition: z[i, j] = fma chain over k = 0..d of x[i, k]·w[k, j], starting from 0.
    fn reference<F: Element>(x: ArrayView2<'_, F>, w: ArrayView2<'_, F>) -> Array2<F> {
        Array2::from_shape_fn((x.nrows(), w.ncols()), |(i, j)| {
            x.row(i)
                .iter()
                .zip(w.column(j))
                .fold(F::zero(), |acc, (&a, &b)| a.mul_add(b, acc))
        })
    }

    fn random<F: Element>(rows: usize, cols: usize, seed: u64) -> Array2<F> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || {
            F::from_f64_lossy(StandardNormal.sample(&mut rng))
        })
    }

    fn pack<F: Element>(w: &Array2<F>) -> Packed<F> {
        Packed::from_columns(w.nrows(), w.ncols(), |j, col| {
            col.iter_mut().zip(w.column(j)).for_each(|(c, &v)| *c = v)
        })
    }

    /// Shapes covering edges in every dimension, several k blocks, column chunks and row chunks.
    const SHAPES: [(usize, usize, usize); 10] = [
        (1, 1, 1),
        (5, 3, 7),
        (6, 17, 16),
        (7, 1, 33),
        (13, 256, 8),
        (20, 257, 40),
        (9, 1000, 300),
        (140, 17, 19),
        (133, 600, 130),
        (2 * MC + 1, 5, 20),
    ];

    fn check<F: Element, const NR: usize>(
        gemm: fn(Simd, ArrayView2<'_, F>, &Packed<F>, ArrayViewMut2<'_, F>),
    ) {
        for simd in Simd::levels() {
            check_level::<F, NR>(|x, b, z| gemm(simd, x, b, z));
        }
    }

    fn check_level<F: Element, const NR: usize>(
        gemm: impl Fn(ArrayView2<'_, F>, &Packed<F>, ArrayViewMut2<'_, F>),
    ) {
        for (seed, &(m, d, n)) in SHAPES.iter().enumerate() {
            let x = random::<F>(m, d, seed as u64);
            let w = random::<F>(d, n, 100 + seed as u64);
            let want = reference(x.view(), w.view());
            let packed = pack(&w);
            let same = |z: &Array2<F>, what: &str| {
                for (g, e) in z.iter().zip(&want) {
                    assert_eq!(
                        g.to_f64_exact().to_bits(),
                        e.to_f64_exact().to_bits(),
                        "{what} {m}×{d}×{n}"
                    );
                }
            };
            let mut z = Array2::from_elem((m, n), F::nan());
            gemm(x.view(), &packed, z.view_mut());
            same(&z, "dispatched");
            let mut z = Array2::from_elem((m, n), F::nan());
            multiply::<F, NR>(x.view(), &packed, z.view_mut(), portable::<F, NR>());
            same(&z, "portable");
            // Z columns not contiguous, X in column-major order.
            let mut zf = Array2::from_elem((m, n).f(), F::nan());
            let xf = Array2::from_shape_fn((m, d).f(), |ij| x[ij]);
            gemm(xf.view(), &packed, zf.view_mut());
            same(&zf.as_standard_layout().to_owned(), "column-major");
            // Z a slice of a wider buffer, rows in reverse order.
            let mut wide = Array2::from_elem((m, n + 5), F::nan());
            gemm(
                x.slice(s![..;-1, ..]),
                &packed,
                wide.slice_mut(s![..;-1, 2..n + 2]),
            );
            same(&wide.slice(s![.., 2..n + 2]).to_owned(), "strided");
        }
    }

    #[test]
    fn f32_matches_fma_chain_bit_for_bit() {
        check::<f32, 16>(gemm_f32);
    }

    #[test]
    fn f64_matches_fma_chain_bit_for_bit() {
        check::<f64, 8>(gemm_f64);
    }

    #[test]
    fn outer_product_is_the_fma_chains_exactly_symmetric_for_any_thread_count() {
        // More rows than one parallel block, depth across several k blocks.
        let x = random::<f64>(MC + 37, KC + 45, 3);
        let expected = reference(x.view(), x.t());
        let pools = [1, 2, 3].map(|t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        });
        for simd in Simd::levels() {
            for pool in &pools {
                let z = pool.install(|| outer_f64(simd, x.view()));
                assert_eq!(z.dim(), expected.dim());
                for ((i, j), v) in z.indexed_iter() {
                    assert_eq!(v.to_bits(), expected[[i, j]].to_bits(), "({i}, {j})");
                    assert_eq!(v.to_bits(), z[[j, i]].to_bits(), "symmetric ({i}, {j})");
                }
            }
        }
    }

    #[test]
    fn packed_layout_round_trips_and_clones_aligned() {
        let w = random::<f64>(5, 19, 1);
        let packed = pack(&w);
        assert_eq!(packed.bytes(), 5 * 24 * 8);
        let copy = packed.clone();
        for j in 0..19 {
            let col: Vec<f64> = copy.column(j).collect();
            assert_eq!(col, w.column(j).to_vec());
        }
        assert_eq!(copy.panel(0, 0, 1).as_ptr().align_offset(ALIGN), 0);
    }
}

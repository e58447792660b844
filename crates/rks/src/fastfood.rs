//! Fastfood: a structured stand-in for the dense Gaussian frequency matrix.
//!
//! Le, Sarlós & Smola, "Fastfood — Approximating Kernel Expansions in Loglinear Time" (ICML
//! 2013, arXiv 1408.3060). With x̃ the input padded with zeros to D = 2^⌈log₂ d⌉, one D × D block
//! is
//!
//! ```text
//! V = (1/(σ√D)) · S H G Π H B
//! ```
//!
//! B diagonal ±1, H the unnormalised Walsh–Hadamard matrix (H² = D·I), Π a random permutation, G
//! diagonal N(0, 1), S diagonal with S_ii = s_i/‖G‖_F and s_i the row length drawn for the kernel
//! (χ_D for the Gaussian: the norm of a D-dimensional standard normal vector). Every row of
//! H G Π H B has norm √D·‖G‖_F, so row i of V has norm s_i/σ, the length distribution of a row of
//! the dense W, with a nearly uniform direction. ⌈n/D⌉ independent blocks are stacked and the
//! first n rows kept; φ(x) = n^{-1/2}[cos(Vx), sin(Vx)] as for the dense map. Cost per row:
//! 2⌈n/D⌉ transforms of length D, O(n log D), and O(n) parameters.

use crate::error::Param;
use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::features::{
    activate_rows, check_io, cos_sin_scale, for_each_row, for_row_blocks, prefetch_lines,
    row_blocks, write_block,
};
use crate::kernel::Activation;
use crate::simd::Simd;
use crate::spec::{Checksum, MapParams, MapSpec, SavedMap, serde_via_saved};
use crate::variates::Sampler;
use crate::{Bandwidth, Element, FeatureMap, Kernel, MapKind, RksError};

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
mod factors;
mod memory;
pub(crate) use factors::{Factors, Permutation};
use memory::{gather_fwht, signed_fwht};

/// Rows per parallel block.
const BLOCK_ROWS: usize = 16;

/// The random diagonals and the permutation of one D × D Fastfood block.
///
/// With these accessors, block b of [`Fastfood::project`] computes, for the padded input x̃:
///
/// ```text
/// a = B x̃                      a[j] = signs[j] · x̃[j]
/// h = H a                      (unnormalised Walsh–Hadamard transform, crate::hadamard::fwht)
/// p = Π h                      p[i] = h[permutation[i]]        (gather convention)
/// q = G p                      q[i] = gaussian[i] · p[i]
/// y = H q
/// (Vx̃)[b·D + i] = scaling[i] · y[i] / (σ·√D)
/// ```
///
/// Draw order of one block from the map's generator: D signs (`random::<bool>()`, true ↦ +1);
/// the permutation by Fisher–Yates (start from 0..D, for i = D−1 down to 1 swap entries i and
/// `random_range(0..=i as u64)`); D standard normals for G; then D row lengths s_i (Gaussian
/// kernel: √χ²_D; Matérn: that, then √(2ν/χ²₂ᵥ)), each divided by ‖G‖_F. The normal and χ²
/// draws are the spec's [`Sampler`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct FastfoodBlock {
    signs: Vec<f64>,
    permutation: Vec<usize>,
    gaussian: Vec<f64>,
    scaling: Vec<f64>,
}

impl FastfoodBlock {
    /// B: the ±1 diagonal (D entries).
    pub fn signs(&self) -> &[f64] {
        &self.signs
    }
    /// Π as a gather: `(Πv)[i] = v[permutation[i]]` (a permutation of 0..D).
    pub fn permutation(&self) -> &[usize] {
        &self.permutation
    }
    /// G: the N(0, 1) diagonal (D entries).
    pub fn gaussian(&self) -> &[f64] {
        &self.gaussian
    }
    /// S: the diagonal s_i/‖G‖_F, *including* 1/‖G‖_F and *excluding* the constant 1/(σ√D).
    pub fn scaling(&self) -> &[f64] {
        &self.scaling
    }

    /// Draws one block. Order: D signs (`random::<bool>()`, true ↦ +1), the permutation by
    /// Fisher–Yates (for i = D−1 down to 1, swap i with `random_range(0..=i)` drawn as u64), D
    /// standard normals for G, then D row lengths s_i ([`Kernel`]'s radius draw).
    fn draw(
        rng: &mut ChaCha8Rng,
        dim: usize,
        kernel: Kernel,
        sampler: Sampler,
    ) -> Result<Self, RksError> {
        let signs = (0..dim)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let mut permutation: Vec<usize> = (0..dim).collect();
        for i in (1..dim).rev() {
            let j = rng.random_range(0..=i as u64) as usize;
            permutation.swap(i, j);
        }
        let mut gaussian = vec![0.0; dim];
        sampler.fill_normal(rng, &mut gaussian);
        let norm_g = gaussian.iter().map(|g| g * g).sum::<f64>().sqrt();
        let scaling = (0..dim)
            .map(|_| Ok(kernel.sample_radius(sampler, rng, dim)? / norm_g))
            .collect::<Result<_, RksError>>()?;
        Ok(Self {
            signs,
            permutation,
            gaussian,
            scaling,
        })
    }
}

/// The Fastfood feature map x ↦ n^{-1/2}[cos(Vx), sin(Vx)], V = stacked (1/(σ√D))·S H G Π H B.
///
/// Parameters: ⌈n/D⌉ blocks drawn in order from one ChaCha8 generator seeded with `seed`
/// (`ChaCha8Rng::seed_from_u64`), each as [`FastfoodBlock`] describes. Rows of V are
/// (b·D + i) for block b, entry i; rows beyond n are dropped. Parameters take O(n) memory
/// ([`Fastfood::parameter_bytes`]), never n × d.
///
/// Kernels: Gaussian and Matérn (radial); see [`crate::kernel`].
///
/// ```
/// use ndarray::array;
/// use rks::{Fastfood, FeatureMap};
///
/// let map = Fastfood::params().n_frequencies(4096).sigma(2.0).seed(7).build(3)?;
/// assert_eq!((map.padded_dim(), map.blocks().len()), (4, 1024));
/// let z = map.project(array![[1.0, 0.0, 2.0]].view())?; // Vx, before cos/sin
/// assert_eq!(z.dim(), (1, 4096));
/// let phi = map.transform(array![[1.0f32, 0.0, 2.0]].view())?;
/// assert_eq!(phi.dim(), (1, 8192));
/// # Ok::<(), rks::RksError>(())
/// ```
#[derive(Clone)]
pub struct Fastfood {
    spec: MapSpec,
    padded_dim: usize,
    blocks: Vec<FastfoodBlock>,
    /// Each block's Π as gather indices, checked when the map is built (the gathers' unchecked
    /// loads rely on it).
    permutations: Vec<Permutation>,
    /// B, G and S/(σ√D) per block in f32 and in f64, each made by the first transform in that
    /// precision.
    narrow: OnceLock<Vec<Factors<f32>>>,
    wide: OnceLock<Vec<Factors<f64>>>,
}

impl Fastfood {
    /// The builder: `Fastfood::params().n_frequencies(n).sigma(σ).seed(s).build(d)`.
    pub fn params() -> MapParams<Fastfood> {
        MapParams::default()
    }

    /// Draws the map described by a validated spec (which must be of kind [`MapKind::Fastfood`]).
    pub fn from_spec(spec: &MapSpec) -> Result<Self, RksError> {
        spec.expect_kind(MapKind::Fastfood)?;
        spec.check_memory()?;
        let padded_dim = spec.input_dim().next_power_of_two();
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed());
        let blocks: Vec<FastfoodBlock> = (0..spec.n_frequencies().div_ceil(padded_dim))
            .map(|_| FastfoodBlock::draw(&mut rng, padded_dim, spec.kernel(), spec.sampler()))
            .collect::<Result<_, _>>()?;
        let permutations = blocks
            .iter()
            .map(|b| {
                Permutation::new(&b.permutation).ok_or_else(|| RksError::InvalidParameter {
                    name: Param::InputDim,
                    reason: format!(
                        "padded dimension {padded_dim} is above the largest Fastfood supports, 2^31 - 1"
                    ),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            spec: *spec,
            padded_dim,
            blocks,
            permutations,
            narrow: OnceLock::new(),
            wide: OnceLock::new(),
        })
    }

    /// The spec this map was drawn from.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }
    /// D: the input dimension rounded up to a power of two.
    pub fn padded_dim(&self) -> usize {
        self.padded_dim
    }
    /// Number of frequencies n (output 2n).
    pub fn n_frequencies(&self) -> usize {
        self.spec.n_frequencies()
    }
    /// σ.
    pub fn sigma(&self) -> f64 {
        self.spec.sigma()
    }
    /// The bandwidth as given.
    pub fn bandwidth(&self) -> Bandwidth {
        self.spec.bandwidth()
    }
    /// The kernel approximated.
    pub fn kernel(&self) -> Kernel {
        self.spec.kernel()
    }
    /// The ⌈n/D⌉ blocks, in row order.
    pub fn blocks(&self) -> &[FastfoodBlock] {
        &self.blocks
    }

    /// Memory of the parameters: per block, D entries each of B, G, S (f64) and Π (stored as
    /// usize, counted as 8 bytes): 32·D·⌈n/D⌉ bytes.
    /// The transforms also hold Π as 32-bit gather indices (4·D·⌈n/D⌉ bytes, made when the map
    /// is built) and B, G and S in each precision transformed (12·D·⌈n/D⌉ bytes in f32,
    /// 24·D·⌈n/D⌉ in f64, made by the first transform in that precision).
    pub fn parameter_bytes(&self) -> usize {
        self.blocks.len() * self.padded_dim * (3 * size_of::<f64>() + size_of::<u64>())
    }

    /// The linear part Vx (n columns, before cos/sin) of each row of `x`.
    pub fn project<F: Element>(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>, RksError> {
        let mut out = Array2::zeros((x.nrows(), self.n_frequencies()));
        self.project_into(x, out.view_mut())?;
        Ok(out)
    }

    /// [`project`](Self::project) into a caller's buffer (rows × n).
    pub fn project_into<F: Element>(
        &self,
        x: ArrayView2<'_, F>,
        mut out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        check_io(&x, &out, self.input_dim(), self.n_frequencies())?;
        let simd = Simd::detect();
        self.factors::<F>();
        for_row_blocks(x, out.view_mut(), BLOCK_ROWS, |xb, zb| {
            self.project_block(simd, xb, zb, false)
        });
        Ok(())
    }

    /// The blocks' factors in precision F, made by the first transform in F.
    fn factors<F: Element>(&self) -> &[Factors<F>] {
        F::fastfood_factors(&self.narrow, &self.wide).get_or_init(|| {
            let c = 1.0 / (self.sigma() * (self.padded_dim as f64).sqrt());
            let cast = |v: &[f64], k: f64| v.iter().map(|&a| F::from_f64_lossy(a * k)).collect();
            self.blocks
                .iter()
                .map(|b| Factors {
                    signs: cast(&b.signs, 1.0),
                    gaussian: cast(&b.gaussian, 1.0),
                    scaling: cast(&b.scaling, c),
                })
                .collect()
        })
    }

    /// Vx for a block of rows into `out` with the kernels `simd` allows; with `features`, `out`
    /// has 2n columns and receives φ(x): the cos/sin step runs block by block while Vx is still
    /// in L1 cache.
    fn project_block<F: Element>(
        &self,
        simd: Simd,
        xb: ArrayView2<'_, F>,
        out: ArrayViewMut2<'_, F>,
        features: bool,
    ) {
        let blocks = (self.factors::<F>(), &self.permutations[..]);
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = simd.avx512() {
            return avx512::project_rows(cpu, blocks, self.padded_dim, xb, out, features);
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = simd.avx2_fma() {
            return avx2::project_rows(cpu, blocks, self.padded_dim, xb, out, features);
        }
        project_rows(
            simd,
            blocks,
            self.padded_dim,
            xb,
            out,
            features,
            |a, x, s| signed_fwht(simd, a, x, s),
            |q, a, p, g| gather_fwht(simd, q, a, p, g),
        );
    }

    /// [`FeatureMap::transform_into`] with the kernels `simd` allows (the tests compare them).
    fn transform_with<F: Element>(
        &self,
        simd: Simd,
        x: ArrayView2<'_, F>,
        mut out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        check_io(&x, &out, self.input_dim(), self.output_dim())?;
        self.factors::<F>();
        // cos/sin is fused into the projection; the arc-cosine steps run after it.
        let activation = self.kernel().activation();
        let fused = activation == Activation::CosSin;
        for_row_blocks(x, out.view_mut(), BLOCK_ROWS, |xb, mut ob| {
            self.project_block(simd, xb, ob.view_mut(), fused);
            if !fused {
                activate_rows(simd, ob, activation);
            }
        });
        Ok(())
    }

    fn checksum(&self) -> u64 {
        let mut c = Checksum::new();
        for b in &self.blocks {
            c.floats(b.signs.iter().copied());
            b.permutation.iter().for_each(|&p| c.word(p as u64));
            c.floats(b.gaussian.iter().copied());
            c.floats(b.scaling.iter().copied());
        }
        c.finish()
    }

    pub(crate) fn saved(&self) -> SavedMap {
        SavedMap::new(&self.spec, self.checksum())
    }

    pub(crate) fn from_saved(saved: &SavedMap) -> Result<Self, RksError> {
        saved.rebuild(Self::from_spec, Self::checksum)
    }
}

/// Vx for each row of a block, through contiguous copies when the caller's rows are strided.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn project_rows<F: Element>(
    simd: Simd,
    blocks: (&[Factors<F>], &[Permutation]),
    dim: usize,
    xb: ArrayView2<'_, F>,
    zb: ArrayViewMut2<'_, F>,
    features: bool,
    signed: impl Fn(&mut [F], &[F], &[F]) + Copy,
    gather: impl Fn(&mut [F], &[F], &Permutation, &[F]) + Copy,
) {
    // q holds a group of blocks' transforms (see project_row), s their scalings.
    let group = dim.max(GROUP_OUTPUTS);
    let (mut a, mut q) = (vec![F::zero(); dim], vec![F::zero(); group]);
    let mut s = vec![F::zero(); if dim < GROUP_OUTPUTS { group } else { 0 }];
    let scale = features.then(|| cos_sin_scale::<F>(zb.ncols() / 2));
    for_each_row(xb, zb, |x, z| {
        project_row(
            simd,
            blocks,
            x,
            z,
            scale,
            (&mut a, &mut q, &mut s),
            (signed, gather),
        )
    });
}

/// Outputs per call of the cos/sin step at least, when blocks are shorter (D < 256): their
/// transforms are gathered and the step runs once for the group. Called for 8 values at a time
/// (d = 8), its vector loop hardly ran: its share of a streamed fit at d = 8, n = 1,024 fell from
/// 8.5 % to 4.3 % of the samples grouped (docs/benchmarks.md).
const GROUP_OUTPUTS: usize = 256;

/// Vx for one row: per block, a = H B x̃ (`signed`), q = H G Π a (`gather`), times the scaling.
/// With `scale` (features), `z` is [z | sin] of 2n entries and each block's part of Vx goes
/// through the shared cos/sin step at once, or, for blocks shorter than [`GROUP_OUTPUTS`], each
/// group of 256/D blocks together (`s` then holds the group's scalings). The step computes each
/// value alone, by the kernel its chunk of 256 values needs ([`crate::trig`]): grouped, an f32
/// value shares its chunk with other blocks', so beside an argument beyond 8,192 it takes the
/// f64 reduction too (as every block of D ≥ 256 always did); otherwise the same bits.
#[inline(always)]
fn project_row<F: Element>(
    simd: Simd,
    (factors, permutations): (&[Factors<F>], &[Permutation]),
    x: &[F],
    z: &mut [F],
    scale: Option<F>,
    (a, q, s): (&mut [F], &mut [F], &mut [F]),
    (signed, gather): (
        impl Fn(&mut [F], &[F], &[F]),
        impl Fn(&mut [F], &[F], &Permutation, &[F]),
    ),
) {
    let dim = a.len();
    if scale.is_some() && dim < GROUP_OUTPUTS {
        let per_group = GROUP_OUTPUTS / dim;
        let outputs = row_blocks(z, per_group * dim, true);
        let groups = factors
            .chunks(per_group)
            .zip(permutations.chunks(per_group));
        for ((blocks, permutations), (z, sin)) in groups.zip(outputs) {
            let parts = q.chunks_exact_mut(dim).zip(s.chunks_exact_mut(dim));
            for ((block, permutation), (q, s)) in blocks.iter().zip(permutations).zip(parts) {
                signed(a, x, &block.signs);
                gather(q, a, permutation, &block.gaussian);
                s.copy_from_slice(&block.scaling);
            }
            write_block(simd, q, s, (z, sin), scale);
        }
        return;
    }
    let q = &mut q[..dim];
    let outputs = row_blocks(z, dim, scale.is_some());
    for ((block, permutation), (z, sin)) in factors.iter().zip(permutations).zip(outputs) {
        // The output lines are written only at the end of the block: ask for them now, so
        // their trip from memory overlaps the transforms instead of stalling the stores. The
        // sin half is asked for after the first transform: the requests are spread out instead
        // of one burst (f32 transform 0.063 → 0.061 s; asking for both later, or the sin half
        // after the second transform, measured slower).
        prefetch_lines(z);
        signed(a, x, &block.signs);
        if let Some(sin) = &sin {
            prefetch_lines(sin);
        }
        gather(q, a, permutation, &block.gaussian);
        // Vx = S·y goes straight into the cos/sin arguments: the output is only written.
        write_block(simd, q, &block.scaling, (z, sin), scale);
    }
}

crate::spec::drawn_from_spec!(Fastfood, MapKind::Fastfood);

impl std::fmt::Debug for Fastfood {
    /// The spec and the block layout, not the O(n) parameters (see [`Fastfood::blocks`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fastfood")
            .field("spec", &self.spec)
            .field("padded_dim", &self.padded_dim)
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl FeatureMap for Fastfood {
    fn input_dim(&self) -> usize {
        self.spec.input_dim()
    }

    fn output_dim(&self) -> usize {
        self.spec.output_dim()
    }

    fn transform_into<F: Element>(
        &self,
        x: ArrayView2<'_, F>,
        out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        self.transform_with(Simd::detect(), x, out)
    }
}

serde_via_saved!(Fastfood);
crate::linfa_impl::transformer_via_feature_map!(Fastfood);

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    /// The whole transform at every SIMD level the CPU has (portable, AVX2, AVX-512) gives the
    /// same bits: with the fused steps (d = D = 1,024, 256, 4,096, 64), with padding
    /// (d = 1,000) and at a length past the fused range (8,192), in both precisions.
    #[test]
    fn detected_and_portable_transforms_agree_bitwise() {
        fn check<F: Element>(d: usize, n: usize) {
            let map = Fastfood::params()
                .n_frequencies(n)
                .sigma(3.0)
                .seed(d as u64)
                .build(d)
                .unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let x = Array2::from_shape_simple_fn((5, d), || {
                F::from_f64_lossy(StandardNormal.sample(&mut rng))
            });
            let transform = |simd| {
                let mut out = Array2::from_elem((5, 2 * n), F::nan());
                map.transform_with(simd, x.view(), out.view_mut()).unwrap();
                out.iter()
                    .map(|v| v.to_f64_exact().to_bits())
                    .collect::<Vec<_>>()
            };
            let portable = transform(Simd::portable());
            for simd in Simd::levels() {
                assert_eq!(transform(simd), portable, "d {d}, {simd:?}");
            }
        }
        for (d, n) in [
            (1024, 2048),
            (8, 1001),
            (100, 300),
            (64, 200),
            (256, 300),
            (1000, 1500),
            (4096, 4096),
            (8192, 8192),
        ] {
            check::<f32>(d, n);
            check::<f64>(d, n);
        }
    }

    /// Blocks shorter than 256 go through the cos/sin step in groups: the features are the
    /// step applied to the projection row, bit for bit (the groups start at multiples of 256,
    /// as the step's chunks do), with the last group and the last block cut short.
    #[test]
    fn grouped_short_blocks_equal_the_projection_then_cos_sin() {
        fn check<F: Element>(d: usize, n: usize) {
            let map = Fastfood::params()
                .n_frequencies(n)
                .sigma(2.0)
                .seed(3)
                .build(d)
                .unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let x = Array2::from_shape_simple_fn((3, d), || {
                F::from_f64_lossy(StandardNormal.sample(&mut rng))
            });
            for simd in Simd::levels() {
                let mut phi = Array2::from_elem((3, 2 * n), F::nan());
                map.transform_with(simd, x.view(), phi.view_mut()).unwrap();
                let z = map.project(x.view()).unwrap();
                let scale = cos_sin_scale::<F>(n);
                for (row, features) in z.rows().into_iter().zip(phi.rows()) {
                    let mut cos = row.to_vec();
                    let mut sin = vec![F::zero(); n];
                    crate::trig::cos_sin_scaled(&mut cos, &mut sin, scale).unwrap();
                    let expected: Vec<u64> = cos
                        .iter()
                        .chain(&sin)
                        .map(|v| v.to_f64_exact().to_bits())
                        .collect();
                    let got: Vec<u64> = features
                        .iter()
                        .map(|v| v.to_f64_exact().to_bits())
                        .collect();
                    assert_eq!(got, expected, "d {d}, n {n}, {simd:?}");
                }
            }
        }
        for (d, n) in [(3, 50), (8, 1001), (8, 1024), (100, 300), (128, 777)] {
            check::<f32>(d, n);
            check::<f64>(d, n);
        }
    }
}

//! Structured orthogonal random features: ORF's orthogonal blocks replaced by three rounds of
//! Walsh–Hadamard transforms and random signs.
//!
//! Yu, Suresh, Choromanski, Holtmann-Rice & Kumar, "Orthogonal Random Features" (NeurIPS 2016),
//! section 4. With x̃ the input padded with zeros to D = 2^⌈log₂ d⌉, one D × D block is
//!
//! ```text
//! W_b = (√D/σ) · H D₁ H D₂ H D₃,      H = H_D/√D the normalised Walsh–Hadamard matrix,
//! ```
//!
//! D₁, D₂, D₃ diagonal with independent ±1 entries. W_b/(√D/σ) is orthogonal, so its rows are
//! orthogonal with length √D/σ (E χ²_D = D: the squared length of a Gaussian row, but without its
//! spread), and three H D rounds make each row's direction close to uniform. The estimate of the
//! Gaussian kernel is biased, with a bias that vanishes as D grows (Yu et al., Theorem 5: O(1/√D)
//! per entry): at small d it can cost more than the orthogonality saves (see
//! `docs/benchmarks.md`). ⌈n/D⌉ independent blocks are stacked, the last one truncated.
//!
//! For the Matérn kernels each row is multiplied by its own Student-t mixing factor √(2ν/χ²₂ᵥ)
//! (the length of a multivariate t row is that of a Gaussian one times this factor); the
//! arc-cosine kernels use the Gaussian rows as they are.
//!
//! With the unnormalised transform of [`crate::hadamard::fwht`] (H_D = √D·H), a block computes
//!
//! ```text
//! W_b x̃ = (m_i/(σ·D)) · H_D D₁ H_D D₂ H_D D₃ x̃        (m_i = 1, or the Matérn factor)
//! ```
//!
//! three transforms of length D per block: O(n log d) time per row, O(n) parameters, no gather.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::features::{
    check_io, cos_sin_scale, for_each_row, for_row_blocks, prefetch_lines, row_blocks,
    transform_with, write_block,
};
use crate::kernel::Activation;
use crate::simd::Simd;
use crate::spec::{Checksum, MapParams, MapSpec, SavedMap, serde_via_saved};
use crate::variates::Sampler;
use crate::{Bandwidth, Element, FeatureMap, Kernel, MapKind, RksError};

/// Rows per parallel block.
const BLOCK_ROWS: usize = 16;

/// The three ±1 diagonals and the row scaling of one D × D SORF block.
///
/// Block b of [`Sorf::project`] computes, for the padded input x̃ (H_D the unnormalised
/// transform):
///
/// ```text
/// a = H_D D₁ H_D D₂ H_D D₃ x̃        (D₃ applied first)
/// (Wx̃)[b·D + i] = scaling[i] · a[i] / (σ·D)
/// ```
///
/// Draw order of one block: D signs of D₁, D of D₂, D of D₃ (`random::<bool>()`, true ↦ +1); then,
/// for a Matérn kernel only, D mixing factors √(2ν/χ²₂ᵥ).
#[derive(Debug, Clone, PartialEq)]
pub struct SorfBlock {
    signs: [Vec<f64>; 3],
    scaling: Vec<f64>,
}

impl SorfBlock {
    /// D₁, D₂, D₃ (D entries each, ±1); the transform applies D₃ first.
    pub fn signs(&self) -> [&[f64]; 3] {
        [&self.signs[0], &self.signs[1], &self.signs[2]]
    }
    /// Each row's factor m_i: 1, or the Matérn mixing factor (excludes 1/(σ·D)).
    pub fn scaling(&self) -> &[f64] {
        &self.scaling
    }

    fn draw(rng: &mut ChaCha8Rng, dim: usize, kernel: Kernel, sampler: Sampler) -> Self {
        let mut signs = || -> Vec<f64> {
            (0..dim)
                .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
                .collect()
        };
        let signs = [signs(), signs(), signs()];
        let scaling = (0..dim).map(|_| kernel.sample_mix(sampler, rng)).collect();
        Self { signs, scaling }
    }
}

/// One block's factors in the working precision, with 1/(σ·D) folded into the scaling.
struct Prepared<F> {
    signs: [Vec<F>; 3],
    scaling: Vec<F>,
}

/// The SORF map x ↦ φ(Wx), W stacked blocks (√D/σ)·H D₁ H D₂ H D₃.
///
/// Parameters: ⌈n/D⌉ blocks drawn in order from one ChaCha8 generator seeded with `seed`, each
/// as [`SorfBlock`] describes; rows past n are dropped. Kernels: Gaussian, Matérn and
/// arc-cosine.
///
/// ```
/// use ndarray::array;
/// use rks::{Bandwidth, FeatureMap, Kernel, Sorf};
///
/// let map = Sorf::params().n_frequencies(4096).sigma(2.0).seed(7).build(3)?;
/// assert_eq!((map.padded_dim(), map.blocks().len()), (4, 1024));
/// let phi = map.transform(array![[1.0, 0.0, 2.0], [0.5, 0.5, 1.0]].view())?;
/// let exact = Kernel::Gaussian.exact(&[1.0, 0.0, 2.0], &[0.5, 0.5, 1.0], Bandwidth::Sigma(2.0))?;
/// assert!((phi.row(0).dot(&phi.row(1)) - exact).abs() < 0.05);
/// # Ok::<(), rks::RksError>(())
/// ```
#[derive(Clone)]
pub struct Sorf {
    spec: MapSpec,
    padded_dim: usize,
    blocks: Vec<SorfBlock>,
}

impl Sorf {
    /// The builder: `Sorf::params().n_frequencies(n).sigma(σ).seed(s).build(d)`.
    pub fn params() -> MapParams<Sorf> {
        MapParams::default()
    }

    /// Draws the map described by a validated spec (which must be of kind [`MapKind::Sorf`]).
    pub fn from_spec(spec: &MapSpec) -> Result<Self, RksError> {
        spec.expect_kind(MapKind::Sorf)?;
        spec.check_memory()?;
        let padded_dim = spec.input_dim().next_power_of_two();
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed());
        let blocks = (0..spec.n_frequencies().div_ceil(padded_dim))
            .map(|_| SorfBlock::draw(&mut rng, padded_dim, spec.kernel(), spec.sampler()))
            .collect();
        Ok(Self {
            spec: *spec,
            padded_dim,
            blocks,
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
    /// Number of frequencies n.
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
    pub fn blocks(&self) -> &[SorfBlock] {
        &self.blocks
    }

    /// Memory of the parameters: per block, D entries each of D₁, D₂, D₃ and the scaling (f64):
    /// 32·D·⌈n/D⌉ bytes.
    pub fn parameter_bytes(&self) -> usize {
        self.blocks.len() * self.padded_dim * 4 * size_of::<f64>()
    }

    /// The linear part Wx (n columns, before the kernel's step) of each row of `x`.
    pub fn project<F: Element>(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>, RksError> {
        let mut out = Array2::zeros((x.nrows(), self.n_frequencies()));
        check_io(&x, &out.view_mut(), self.input_dim(), self.n_frequencies())?;
        let prepared = self.prepare::<F>();
        let simd = Simd::detect();
        for_row_blocks(x, out.view_mut(), BLOCK_ROWS, |xb, zb| {
            project_rows(simd, &prepared, self.padded_dim, xb, zb, false)
        });
        Ok(out)
    }

    fn prepare<F: Element>(&self) -> Vec<Prepared<F>> {
        let c = 1.0 / (self.sigma() * self.padded_dim as f64);
        let cast = |v: &[f64], k: f64| v.iter().map(|&a| F::from_f64_lossy(a * k)).collect();
        self.blocks
            .iter()
            .map(|b| Prepared {
                signs: [
                    cast(&b.signs[0], 1.0),
                    cast(&b.signs[1], 1.0),
                    cast(&b.signs[2], 1.0),
                ],
                scaling: cast(&b.scaling, c),
            })
            .collect()
    }

    /// [`FeatureMap::transform_into`] with the kernels `simd` allows (the tests compare them).
    fn transform_simd<F: Element>(
        &self,
        simd: Simd,
        x: ArrayView2<'_, F>,
        mut out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        let prepared = self.prepare::<F>();
        if self.kernel().activation() != Activation::CosSin {
            return transform_with(x, out, &self.spec, BLOCK_ROWS, |simd, xb, zb| {
                project_rows(simd, &prepared, self.padded_dim, xb, zb, false)
            });
        }
        // cos/sin fused into the projection, block by block.
        check_io(&x, &out, self.input_dim(), self.output_dim())?;
        for_row_blocks(x, out.view_mut(), BLOCK_ROWS, |xb, ob| {
            project_rows(simd, &prepared, self.padded_dim, xb, ob, true)
        });
        Ok(())
    }

    fn checksum(&self) -> u64 {
        let mut c = Checksum::new();
        for b in &self.blocks {
            b.signs.iter().for_each(|s| c.floats(s.iter().copied()));
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

/// Wx for each row of a block into `zb` with the kernels `simd` allows; with `features`, `zb`
/// has 2n columns and receives [cos Wx, sin Wx]/√n instead: the cos/sin step runs block by
/// block while the block's part of Wx is still in L1 cache (as Fastfood's does).
fn project_rows<F: Element>(
    simd: Simd,
    prepared: &[Prepared<F>],
    dim: usize,
    xb: ArrayView2<'_, F>,
    zb: ArrayViewMut2<'_, F>,
    features: bool,
) {
    let mut a = vec![F::zero(); dim];
    let scale = features.then(|| cos_sin_scale::<F>(zb.ncols() / 2));
    for_each_row(xb, zb, |x, z| {
        project_row(simd, prepared, x, z, scale, &mut a)
    });
}

/// Wx for one row: per block, a = H D₁ H D₂ H D₃ x̃ (each sign flip fused into the transform
/// that follows it where the CPU allows, [`Element`]'s `signed_fwht`), times the scaling. With
/// `scale` (features), `z` is [z | sin] of 2n entries and each block's part goes through the
/// shared cos/sin step at once.
fn project_row<F: Element>(
    simd: Simd,
    prepared: &[Prepared<F>],
    x: &[F],
    z: &mut [F],
    scale: Option<F>,
    a: &mut [F],
) {
    let dim = a.len();
    // The last block may be cut short at the end of the row: zip with the output's blocks.
    for (block, out) in prepared.iter().zip(row_blocks(z, dim, scale.is_some())) {
        let [d1, d2, d3] = &block.signs;
        // Ask for the output lines now, the sin half after the first transform (as Fastfood
        // does, [`prefetch_lines`]).
        prefetch_lines(out.0);
        signed_fwht_from(simd, a, x, d3);
        if let Some(sin) = &out.1 {
            prefetch_lines(sin);
        }
        F::signed_fwht(simd, a, d2);
        F::signed_fwht(simd, a, d1);
        write_block(simd, a, &block.scaling, out, scale);
    }
}

/// `a ← H(D x̃)` for the row x (padded with zeros to D = `a.len()`): with AVX2 or AVX-512, x is
/// read straight into the transform's first pass (Fastfood's fused step `H B x̃`, the same
/// operation), instead of being copied into `a` for every block (the copy was 7 % of the
/// benchmark transform's time); otherwise copied, then [`Element`]'s `signed_fwht`. The same
/// bits either way (tested in `every_simd_level_agrees_bitwise`).
#[inline(always)]
fn signed_fwht_from<F: Element>(simd: Simd, a: &mut [F], x: &[F], signs: &[F]) {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(cpu) = simd.avx512() {
            return F::fastfood_signed_fwht_avx512(cpu, a, x, signs);
        }
        if let Some(cpu) = simd.avx2_fma() {
            return F::fastfood_signed_fwht(cpu, a, x, signs);
        }
    }
    let (head, padding) = a.split_at_mut(x.len());
    head.copy_from_slice(x);
    padding.fill(F::zero());
    F::signed_fwht(simd, a, signs);
}

crate::spec::drawn_from_spec!(Sorf, MapKind::Sorf);

impl std::fmt::Debug for Sorf {
    /// The spec and the block layout, not the O(n) parameters (see [`Sorf::blocks`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sorf")
            .field("spec", &self.spec)
            .field("padded_dim", &self.padded_dim)
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl FeatureMap for Sorf {
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
        self.transform_simd(Simd::detect(), x, out)
    }
}

serde_via_saved!(Sorf);
crate::linfa_impl::transformer_via_feature_map!(Sorf);

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    fn input<F: Element>(rows: usize, d: usize) -> Array2<F> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        Array2::from_shape_simple_fn((rows, d), || {
            F::from_f64_lossy(StandardNormal.sample(&mut rng))
        })
    }

    /// The whole transform at every SIMD level the CPU has (portable, AVX2, AVX-512) gives the
    /// same bits: the fused lengths (D = 256 to 4,096), padding, short and long blocks, a cut
    /// last block, with the fused cos/sin step and with the arc-cosine step after it.
    #[test]
    fn every_simd_level_agrees_bitwise() {
        fn check<F: Element>(d: usize, n: usize, kernel: Kernel) {
            let map = Sorf::params()
                .n_frequencies(n)
                .sigma(3.0)
                .kernel(kernel)
                .seed(d as u64)
                .build(d)
                .unwrap();
            let x = input::<F>(5, d);
            let transform = |simd| {
                let mut out = Array2::from_elem((5, map.output_dim()), F::nan());
                map.transform_simd(simd, x.view(), out.view_mut()).unwrap();
                out.iter()
                    .map(|v| v.to_f64_exact().to_bits())
                    .collect::<Vec<_>>()
            };
            let portable = transform(Simd::portable());
            for simd in Simd::levels() {
                assert_eq!(transform(simd), portable, "d {d}, {kernel:?}, {simd:?}");
            }
        }
        for (d, n) in [
            (1024, 2048),
            (256, 300),
            (1000, 1500),
            (64, 200),
            (5, 40),
            (4096, 4096),
            (8192, 8192),
        ] {
            for kernel in [Kernel::Gaussian, Kernel::ArcCos1] {
                check::<f32>(d, n, kernel);
                check::<f64>(d, n, kernel);
            }
        }
    }

    /// The fused cos/sin step gives [cos Wx, sin Wx]/√n of the projection Wx.
    #[test]
    fn fused_features_are_cos_sin_of_the_projection() {
        let (d, n) = (100, 300);
        let map = Sorf::params().n_frequencies(n).sigma(2.0).build(d).unwrap();
        let x = input::<f64>(4, d);
        let z = map.project(x.view()).unwrap();
        let phi = map.transform(x.view()).unwrap();
        let scale = 1.0 / (n as f64).sqrt();
        for (z, phi) in z.rows().into_iter().zip(phi.rows()) {
            for (j, &v) in z.iter().enumerate() {
                assert!((phi[j] - scale * v.cos()).abs() < 1e-15, "cos {j}");
                assert!((phi[n + j] - scale * v.sin()).abs() < 1e-15, "sin {j}");
            }
        }
    }
}

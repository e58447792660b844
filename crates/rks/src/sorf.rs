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

use crate::features::{for_row_blocks, transform_with};
use crate::spec::{Checksum, MapParams, MapSpec, SavedMap, serde_via_saved};
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

    fn draw(rng: &mut ChaCha8Rng, dim: usize, kernel: Kernel) -> Self {
        let mut signs = || -> Vec<f64> {
            (0..dim)
                .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
                .collect()
        };
        let signs = [signs(), signs(), signs()];
        let scaling = (0..dim).map(|_| kernel.sample_mix(rng)).collect();
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
        let padded_dim = spec.input_dim().next_power_of_two();
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed());
        let blocks = (0..spec.n_frequencies().div_ceil(padded_dim))
            .map(|_| SorfBlock::draw(&mut rng, padded_dim, spec.kernel()))
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
        crate::features::check_io(&x, &out.view_mut(), self.input_dim(), self.n_frequencies())?;
        let prepared = self.prepare::<F>();
        for_row_blocks(x, out.view_mut(), BLOCK_ROWS, |xb, zb| {
            project_rows(&prepared, self.padded_dim, xb, zb)
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
        let map = Self::from_spec(&saved.spec()?)?;
        saved.verify(map.checksum())?;
        Ok(map)
    }
}

/// Wx for each row of a block into `zb` (n columns).
fn project_rows<F: Element>(
    prepared: &[Prepared<F>],
    dim: usize,
    xb: ArrayView2<'_, F>,
    mut zb: ArrayViewMut2<'_, F>,
) {
    let mut a = vec![F::zero(); dim];
    let transform = |a: &mut [F]| {
        crate::hadamard::fwht(a).unwrap_or_else(|_| unreachable!("D is a power of two"))
    };
    for (x, mut z) in xb.rows().into_iter().zip(zb.rows_mut()) {
        let mut z_blocks = z.iter_mut();
        for block in prepared {
            let [d1, d2, d3] = &block.signs;
            a.fill(F::zero());
            a.iter_mut()
                .zip(x.iter())
                .zip(d3)
                .for_each(|((a, &x), &s)| *a = s * x);
            transform(&mut a);
            a.iter_mut().zip(d2).for_each(|(a, &s)| *a *= s);
            transform(&mut a);
            a.iter_mut().zip(d1).for_each(|(a, &s)| *a *= s);
            transform(&mut a);
            // The last block may be cut short at the end of the row (`z_blocks` is zipped last so
            // that it yields only the entries written).
            for ((&v, &m), o) in a.iter().zip(&block.scaling).zip(z_blocks.by_ref()) {
                *o = m * v;
            }
        }
    }
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
        let prepared = self.prepare::<F>();
        transform_with(x, out, &self.spec, BLOCK_ROWS, |_simd, xb, zb| {
            project_rows(&prepared, self.padded_dim, xb, zb)
        })
    }
}

serde_via_saved!(Sorf);
crate::linfa_impl::transformer_via_feature_map!(Sorf);

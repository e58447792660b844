//! Orthogonal random features: the rows of W drawn in orthogonal blocks.
//!
//! Yu, Suresh, Choromanski, Holtmann-Rice & Kumar, "Orthogonal Random Features" (NeurIPS 2016).
//! The dense map draws W with i.i.d. N(0, σ⁻²) entries; ORF replaces each d × d block of it by
//!
//! ```text
//! W_b = (1/σ) · S Q,   Q Haar-distributed orthogonal,   S = diag(s₁, …, s_d),  s_i ~ χ_d i.i.d.
//! ```
//!
//! Every row of W_b has the distribution of a row of the dense W (a uniform direction times a
//! χ_d length), so the kernel estimate stays unbiased, but the rows of a block are exactly
//! orthogonal, which lowers its variance (Yu et al., Theorem 1: for the Gaussian kernel the
//! variance of ORF's estimate is below that of random Fourier features). ⌈n/d⌉ independent
//! blocks are stacked, the last one truncated to n rows.
//!
//! Q is the Gram–Schmidt orthonormalisation of the rows of a d × d standard normal matrix G: that
//! is the QR factorisation Gᵀ = QᵀR with a positive diagonal of R, the sign convention that makes
//! Q Haar-distributed (Mezzadri, "How to generate random matrices from the classical compact
//! groups", Notices AMS 2007: a Householder QR needs Q·diag(sign(diag R)) to get there). Each
//! row is orthogonalised twice against the rows before it ("twice is enough", Giraud et al.,
//! Numer. Math. 2005), so QQᵀ = I to rounding. The arithmetic is plain scalar f64 in a fixed
//! order, so W is bit-identical on every platform (the Gaussian and χ² draws are
//! [`crate::variates`]', portable like the dense map's).
//!
//! The transform is the dense map's: one packed GEMM X·Wᵀ per block of rows, then the kernel's
//! step. Cost O(n·d) per row, O(n·d) memory, O(n·d²) to draw.

use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dense::block_rows;
use crate::features::transform_with;
use crate::gemm::Packed;
use crate::simd::Simd;
use crate::spec::{Checksum, MapParams, MapSpec, SavedMap, serde_via_saved};
use crate::{Bandwidth, Element, FeatureMap, Kernel, MapKind, RksError};

/// The orthogonal random feature map x ↦ φ(Wx), W stacked blocks (1/σ)·S Q.
///
/// Parameters: ⌈n/d⌉ blocks drawn in order from one ChaCha8 generator seeded with `seed`; per
/// block d² standard normals (G row by row), then d row lengths s_i ([`Kernel`]'s radius draw in
/// d dimensions: χ_d for the Gaussian and arc-cosine kernels, χ_d·√(2ν/χ²₂ᵥ) for Matérn). Row
/// b·d + i of W is s_i·q_i/σ; rows past n are dropped. Kernels: Gaussian, Matérn and
/// arc-cosine (the rotation-invariant ones).
///
/// ```
/// use ndarray::array;
/// use rks::{Bandwidth, FeatureMap, Kernel, Orf};
///
/// let map = Orf::params().n_frequencies(2048).sigma(1.5).seed(7).build(2)?;
/// let x = array![[0.0, 0.0], [1.0, 0.5]];
/// let phi = map.transform(x.view())?;
/// assert_eq!(phi.dim(), (2, 4096));
/// let approx = phi.row(0).dot(&phi.row(1));
/// let exact = Kernel::Gaussian.exact(&[0.0, 0.0], &[1.0, 0.5], Bandwidth::Sigma(1.5))?;
/// assert!((approx - exact).abs() < 0.05);
/// # Ok::<(), rks::RksError>(())
/// ```
#[derive(Clone)]
pub struct Orf {
    spec: MapSpec,
    /// Wᵀ (d × n) packed in f64, drawn when the map is built.
    wide: OnceLock<Packed<f64>>,
    /// Wᵀ rounded to f32, made on the first f32 transform.
    narrow: OnceLock<Packed<f32>>,
    checksum: u64,
}

/// Dot product with eight accumulators in a fixed order (vectorisable, the same on every CPU).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Orthonormalises the rows of the `dim` × `dim` row-major matrix `g` in place (Gram–Schmidt,
/// each row twice against the rows before it).
fn orthonormalise_rows(g: &mut [f64], dim: usize) {
    for i in 0..dim {
        let (done, rest) = g.split_at_mut(i * dim);
        let row = &mut rest[..dim];
        for _ in 0..2 {
            for q in done.chunks_exact(dim) {
                let c = dot(q, row);
                row.iter_mut().zip(q).for_each(|(r, &v)| *r -= c * v);
            }
        }
        let norm = dot(row, row).sqrt();
        row.iter_mut().for_each(|r| *r /= norm);
    }
}

/// W (n × d, row-major) for a validated ORF spec, drawn as [`Orf`] documents.
fn draw(spec: &MapSpec) -> Result<Vec<f64>, RksError> {
    let (d, n) = (spec.input_dim(), spec.n_frequencies());
    let inv_sigma = 1.0 / spec.sigma();
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed());
    let mut w = Vec::with_capacity(n * d);
    let mut block = vec![0.0; d * d];
    while w.len() < n * d {
        spec.sampler().fill_normal(&mut rng, &mut block);
        orthonormalise_rows(&mut block, d);
        for q in block.chunks_exact(d) {
            let s = spec.kernel().sample_radius(spec.sampler(), &mut rng, d)? * inv_sigma;
            if w.len() < n * d {
                w.extend(q.iter().map(|&v| s * v));
            }
        }
    }
    Ok(w)
}

impl Orf {
    /// The builder: `Orf::params().n_frequencies(n).sigma(σ).seed(s).build(d)`.
    pub fn params() -> MapParams<Orf> {
        MapParams::default()
    }

    /// Draws the map described by a validated spec (which must be of kind [`MapKind::Orf`]).
    pub fn from_spec(spec: &MapSpec) -> Result<Self, RksError> {
        spec.expect_kind(MapKind::Orf)?;
        spec.check_memory()?;
        let (d, n) = (spec.input_dim(), spec.n_frequencies());
        let w = draw(spec)?;
        let mut checksum = Checksum::new();
        checksum.floats(w.iter().copied());
        let packed = Packed::from_columns(d, n, |j, column| {
            column.copy_from_slice(&w[j * d..(j + 1) * d]);
        });
        Ok(Self {
            spec: *spec,
            wide: OnceLock::from(packed),
            narrow: OnceLock::new(),
            checksum: checksum.finish(),
        })
    }

    /// The spec this map was drawn from.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
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

    fn packed_wide(&self) -> &Packed<f64> {
        self.wide
            .get()
            .unwrap_or_else(|| unreachable!("ORF draws W when it is built"))
    }

    /// W (n × d) in f64.
    pub fn weights(&self) -> Array2<f64> {
        let wide = self.packed_wide();
        let mut w = Array2::zeros((self.n_frequencies(), self.input_dim()));
        for (j, mut row) in w.rows_mut().into_iter().enumerate() {
            row.iter_mut().zip(wide.column(j)).for_each(|(o, v)| *o = v);
        }
        w
    }

    /// Size of the parameters: W in f64, n·d·8 bytes.
    pub fn parameter_bytes(&self) -> usize {
        self.n_frequencies() * self.input_dim() * size_of::<f64>()
    }

    /// The linear part Wx (n columns, before the kernel's step), for rows of `x`.
    pub fn project<F: Element>(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>, RksError> {
        let mut out = Array2::zeros((x.nrows(), self.n_frequencies()));
        crate::features::check_io(&x, &out.view_mut(), self.input_dim(), self.n_frequencies())?;
        let block = block_rows(x.nrows(), rayon::current_num_threads());
        let simd = Simd::detect();
        crate::features::for_row_blocks(x, out.view_mut(), block, |xb, zb| {
            self.project_block(simd, xb, zb)
        });
        Ok(out)
    }

    fn project_block<F: Element>(
        &self,
        simd: Simd,
        xb: ArrayView2<'_, F>,
        zb: ArrayViewMut2<'_, F>,
    ) {
        // W is always held in f64 (set when built), so f32 is rounded from it.
        let stored = F::stored(
            &self.wide,
            &self.narrow,
            || -> Packed<f64> { unreachable!("ORF draws W when it is built") },
            || -> Packed<f32> { unreachable!("ORF rounds f32 W from the f64 one") },
        );
        F::gemm(simd, xb, stored, zb);
    }

    pub(crate) fn saved(&self) -> SavedMap {
        SavedMap::new(&self.spec, self.checksum)
    }

    pub(crate) fn from_saved(saved: &SavedMap) -> Result<Self, RksError> {
        saved.rebuild(Self::from_spec, |map| map.checksum)
    }
}

crate::spec::drawn_from_spec!(Orf, MapKind::Orf);

impl std::fmt::Debug for Orf {
    /// The spec and the size of W, not its n·d entries.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orf")
            .field("spec", &self.spec)
            .field(
                "weights",
                &format_args!("{} × {} f64", self.n_frequencies(), self.input_dim()),
            )
            .finish()
    }
}

impl FeatureMap for Orf {
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
        let block = block_rows(x.nrows(), rayon::current_num_threads());
        transform_with(x, out, &self.spec, block, |simd, xb, zb| {
            self.project_block(simd, xb, zb)
        })
    }
}

serde_via_saved!(Orf);
crate::linfa_impl::transformer_via_feature_map!(Orf);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_lane_dot_is_the_sum() {
        let a: Vec<f64> = (0..19).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..19).map(|i| (i % 3) as f64).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot(&a, &b), want);
    }

    #[test]
    fn gram_schmidt_of_a_triangular_matrix_is_the_identity() {
        // Rows of a lower-triangular matrix with a positive diagonal orthonormalise to I: the
        // positive-diagonal QR convention.
        let mut g = vec![2.0, 0.0, 0.0, 1.0, 3.0, 0.0, -1.0, 4.0, 0.5];
        orthonormalise_rows(&mut g, 3);
        let eye = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        assert!(
            g.iter().zip(eye).all(|(a, b)| (a - b).abs() < 1e-15),
            "{g:?}"
        );
    }
}

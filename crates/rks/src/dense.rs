//! Dense Random Kitchen Sinks: an explicit frequency matrix W ∈ R^{n×d}.
//!
//! Rahimi & Recht, "Random Features for Large-Scale Kernel Machines" (NIPS 2007): with the rows
//! of W drawn from the kernel's spectral distribution (N(0, σ⁻² I) for the Gaussian kernel),
//!
//! ```text
//! φ(x) = n^{-1/2} · [cos(Wx), sin(Wx)] ∈ R^{2n},   φ(x)·φ(y) = (1/n) Σⱼ cos(wⱼᵀ(x − y)) ≈ k(x, y).
//! ```
//!
//! A batch is one matrix product X Wᵀ per block of rows (the crate's own packed GEMM in
//! its private `gemm` module, single-threaded inside a block; rayon runs the blocks in parallel), then the
//! shared cos/sin step. Every entry of X Wᵀ is the FMA chain over k = 0, …, d−1 in order, so the
//! features are bit-identical on every CPU and for any thread count. Cost O(n·d) time and
//! memory per row, against O(n log d) and O(n) for [`crate::Fastfood`].

use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::features::transform_with;
use crate::gemm::Packed;
use crate::simd::Simd;
use crate::spec::{Checksum, MapParams, MapSpec, SavedMap, serde_via_saved};
use crate::variates::Sampler;
use crate::{Bandwidth, Element, FeatureMap, Kernel, MapKind, RksError};

/// Most rows per parallel block: the rows the GEMM packs at once.
const BLOCK_ROWS: usize = crate::gemm::MC;

/// Rows per parallel block for a batch of `rows` on `threads` threads: at most [`BLOCK_ROWS`]
/// (each W panel read from memory serves the whole block), in a number of blocks that is a
/// multiple of the thread count, so that a small batch still uses every core and the blocks
/// end evenly (600 rows on 2 threads: 4 blocks of 150, not 264 + 264 + 72). The split does not
/// change any value: each output is computed from its own row by the same operations whichever
/// block the row falls in.
pub(crate) fn block_rows(rows: usize, threads: usize) -> usize {
    let threads = threads.max(1);
    let blocks = rows.div_ceil(BLOCK_ROWS).div_ceil(threads) * threads;
    let per_block = rows.div_ceil(blocks.max(1));
    // Whole micro-kernel row tiles, and never above the packing size.
    per_block
        .div_ceil(crate::gemm::MR)
        .saturating_mul(crate::gemm::MR)
        .clamp(1, BLOCK_ROWS)
}

/// The dense random Fourier feature map x ↦ n^{-1/2}[cos(Wx), sin(Wx)].
///
/// Parameters: W is drawn row by row from a ChaCha8 generator seeded with `seed`
/// (`ChaCha8Rng::seed_from_u64`): row 0 first, each row as described by the kernel (Gaussian: d
/// standard normals; Laplacian: d standard Cauchy variates; Matérn: d standard normals then one
/// χ² variate), divided by σ. The same seed gives the same W on every platform: ChaCha8's
/// stream is portable and the samplers ([`crate::variates`], the spec's
/// [`Sampler`]) are functions of it computed without the C library; a
/// saved map's checksum catches any change of the samplers between versions (see below), and
/// maps drawn by rand_distr's samplers before the portable ones existed load with those.
///
/// Serialisation stores the spec (kind, d, n, bandwidth, kernel, seed) and a checksum of W, not W;
/// loading rebuilds W and checks the checksum ([`RksError::ChecksumMismatch`] otherwise).
///
/// ```
/// use ndarray::array;
/// use rks::{DenseRks, FeatureMap, Kernel};
///
/// let map = DenseRks::params().n_frequencies(2048).sigma(1.5).kernel(Kernel::Gaussian).seed(7).build(2)?;
/// let x = array![[0.0, 0.0], [1.0, 0.5]];
/// let phi = map.transform(x.view())?;
/// assert_eq!(phi.dim(), (2, 4096));
/// let approx = phi.row(0).dot(&phi.row(1));
/// let exact = Kernel::Gaussian.exact(&[0.0, 0.0], &[1.0, 0.5], rks::Bandwidth::Sigma(1.5))?;
/// assert!((approx - exact).abs() < 0.05);
/// # Ok::<(), rks::RksError>(())
/// ```
///
/// W is drawn when a precision first needs it, and held packed for the GEMM only in the
/// precisions used: an f32-only user holds n·d·4 bytes, not the f64 W as well
/// ([`DenseRks::resident_bytes`]).
#[derive(Clone)]
pub struct DenseRks {
    spec: MapSpec,
    /// Wᵀ (d × n) packed for the GEMM kernels in f64, drawn on the first f64 transform.
    wide: OnceLock<Packed<f64>>,
    /// Wᵀ rounded to f32 and packed, drawn (or rounded from `wide`) on the first f32 transform.
    narrow: OnceLock<Packed<f32>>,
    checksum: OnceLock<u64>,
}

/// The rows of W in draw order, one at a time (row i of W is column i of Wᵀ).
struct RowDraws {
    rng: ChaCha8Rng,
    sampler: Sampler,
    kernel: Kernel,
    inv_sigma: f64,
    row: Vec<f64>,
}

impl RowDraws {
    fn new(spec: &MapSpec) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(spec.seed()),
            sampler: spec.sampler(),
            kernel: spec.kernel(),
            inv_sigma: 1.0 / spec.sigma(),
            row: vec![0.0; spec.input_dim()],
        }
    }

    fn next_row(&mut self) -> &[f64] {
        self.kernel
            .sample_row(self.sampler, &mut self.rng, &mut self.row);
        self.row.iter_mut().for_each(|w| *w *= self.inv_sigma);
        &self.row
    }
}

impl DenseRks {
    /// The builder: `DenseRks::params().n_frequencies(n).sigma(σ).seed(s).build(d)`.
    pub fn params() -> MapParams<DenseRks> {
        MapParams::default()
    }

    /// Draws the map described by a validated spec (which must be of kind [`MapKind::Dense`]).
    pub fn from_spec(spec: &MapSpec) -> Result<Self, RksError> {
        spec.expect_kind(MapKind::Dense)?;
        spec.check_memory()?;
        Ok(Self {
            spec: *spec,
            wide: OnceLock::new(),
            narrow: OnceLock::new(),
            checksum: OnceLock::new(),
        })
    }

    /// Wᵀ drawn and packed in precision F (each f64 entry of W rounded once).
    fn draw<F: Element>(&self) -> Packed<F> {
        let mut rows = RowDraws::new(&self.spec);
        // Column i of Wᵀ is row i of W: drawn in order i = 0, 1, ….
        Packed::from_columns(self.input_dim(), self.n_frequencies(), |_, column| {
            column
                .iter_mut()
                .zip(rows.next_row())
                .for_each(|(c, &w)| *c = F::from_f64_lossy(w));
        })
    }

    /// The spec this map was drawn from.
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }

    /// Number of frequencies n (output 2n).
    pub fn n_frequencies(&self) -> usize {
        self.spec.n_frequencies()
    }

    /// σ.
    pub fn sigma(&self) -> f64 {
        self.spec.sigma()
    }

    /// The kernel approximated.
    pub fn kernel(&self) -> Kernel {
        self.spec.kernel()
    }

    /// The bandwidth as given.
    pub fn bandwidth(&self) -> Bandwidth {
        self.spec.bandwidth()
    }

    /// W (n × d) in f64, drawn again from the seed (the map holds only the packed Wᵀ it
    /// transforms with).
    pub fn weights(&self) -> Array2<f64> {
        let mut w = Array2::zeros((self.n_frequencies(), self.input_dim()));
        let mut draws = RowDraws::new(&self.spec);
        for mut row in w.rows_mut() {
            row.iter_mut()
                .zip(draws.next_row())
                .for_each(|(dst, &v)| *dst = v);
        }
        w
    }

    /// Size of the parameters: W in f64, n·d·8 bytes (the figure to compare with
    /// [`crate::Fastfood::parameter_bytes`]).
    pub fn parameter_bytes(&self) -> usize {
        self.n_frequencies() * self.input_dim() * size_of::<f64>()
    }

    /// Memory W takes now: the packed Wᵀ of each precision transformed so far (f64: n·d·8 bytes,
    /// n rounded up to a multiple of 8; f32: n·d·4 bytes, n rounded up to a multiple of 16); 0
    /// before the first transform.
    pub fn resident_bytes(&self) -> usize {
        self.wide.get().map_or(0, Packed::bytes) + self.narrow.get().map_or(0, Packed::bytes)
    }

    /// The linear part Wx of the map (n columns, before cos/sin), for rows of `x`.
    pub fn project<F: Element>(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>, RksError> {
        let mut out = Array2::zeros((x.nrows(), self.n_frequencies()));
        self.project_into(x, out.view_mut())?;
        Ok(out)
    }

    /// [`DenseRks::project`] into a caller's buffer of x.nrows() × n.
    pub fn project_into<F: Element>(
        &self,
        x: ArrayView2<'_, F>,
        out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        crate::features::check_io(&x, &out, self.input_dim(), self.n_frequencies())?;
        let block = block_rows(x.nrows(), rayon::current_num_threads());
        let simd = Simd::detect();
        crate::features::for_row_blocks(x, out, block, |xb, zb| self.project_block(simd, xb, zb));
        Ok(())
    }

    fn project_block<F: Element>(
        &self,
        simd: Simd,
        xb: ArrayView2<'_, F>,
        zb: ArrayViewMut2<'_, F>,
    ) {
        let stored = F::stored(&self.wide, &self.narrow, || self.draw(), || self.draw());
        F::gemm(simd, xb, stored, zb);
    }

    fn checksum(&self) -> u64 {
        *self.checksum.get_or_init(|| {
            let mut c = Checksum::new();
            // W in row order, drawn again from the seed.
            let mut draws = RowDraws::new(&self.spec);
            (0..self.n_frequencies()).for_each(|_| c.floats(draws.next_row().iter().copied()));
            c.finish()
        })
    }

    pub(crate) fn saved(&self) -> SavedMap {
        SavedMap::new(&self.spec, self.checksum())
    }

    pub(crate) fn from_saved(saved: &SavedMap) -> Result<Self, RksError> {
        saved.rebuild(Self::from_spec, Self::checksum)
    }
}

crate::spec::drawn_from_spec!(DenseRks, MapKind::Dense);

impl std::fmt::Debug for DenseRks {
    /// The spec and the size of W, not its n·d entries.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DenseRks")
            .field("spec", &self.spec)
            .field(
                "weights",
                &format_args!("{} × {} f64", self.n_frequencies(), self.spec.input_dim()),
            )
            .finish()
    }
}

impl FeatureMap for DenseRks {
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

serde_via_saved!(DenseRks);
crate::linfa_impl::transformer_via_feature_map!(DenseRks);

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    /// z = x·Wᵀ as the documented FMA chain (k = 0 first, from 0), W rounded to F first.
    fn reference<F: Element>(x: &Array2<F>, w: &Array2<f64>) -> Array2<F> {
        Array2::from_shape_fn((x.nrows(), w.nrows()), |(i, j)| {
            x.row(i)
                .iter()
                .zip(w.row(j))
                .fold(F::zero(), |acc, (&a, &b)| {
                    a.mul_add(F::from_f64_lossy(b), acc)
                })
        })
    }

    fn check<F: Element>() {
        // Several row blocks with a partial last one, n and d not multiples of the tile sizes.
        let map = DenseRks::params()
            .n_frequencies(45)
            .sigma(1.3)
            .seed(5)
            .build(37)
            .unwrap();
        let x = Array2::from_shape_fn((2 * BLOCK_ROWS + 7, 37), |(i, k)| {
            F::from_f64_lossy(((i * 37 + k) as f64 * 0.618).sin())
        });
        let z = map.project(x.view()).unwrap();
        let want = reference(&x, &map.weights());
        for (g, e) in z.iter().zip(&want) {
            assert_eq!(g.to_f64_exact().to_bits(), e.to_f64_exact().to_bits());
        }
    }

    #[test]
    fn blocks_use_every_thread_and_end_evenly() {
        assert_eq!(block_rows(2000, 1), 252);
        assert_eq!(block_rows(2000, 2), 252); // 8 blocks, the last of 236
        assert_eq!(block_rows(264, 2), 132);
        assert_eq!(block_rows(600, 2), 150);
        assert_eq!(block_rows(10, 4), 6);
        assert_eq!(block_rows(1, 8), 6);
        assert_eq!(block_rows(0, 2), 1);
        assert_eq!(block_rows(100_000, 64), 264);
    }

    #[test]
    fn projection_is_the_fma_chain_bit_for_bit() {
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn w_is_held_only_in_the_precisions_transformed() {
        let map = DenseRks::params().n_frequencies(20).build(3).unwrap();
        assert_eq!(map.parameter_bytes(), 3 * 20 * 8);
        assert_eq!(map.resident_bytes(), 0);
        let (checksum, weights) = (map.checksum(), map.weights());
        assert_eq!(map.resident_bytes(), 0);
        map.project(Array2::<f32>::zeros((2, 3)).view()).unwrap();
        assert_eq!(map.resident_bytes(), 3 * 32 * 4);
        map.project(Array2::<f64>::zeros((2, 3)).view()).unwrap();
        assert_eq!(map.resident_bytes(), 3 * 32 * 4 + 3 * 24 * 8);
        // The packed f64 Wᵀ holds the drawn W, and a map rebuilt from the spec has the checksum.
        let wide = map.wide.get().unwrap();
        for (i, row) in weights.rows().into_iter().enumerate() {
            assert!(
                wide.column(i)
                    .zip(row)
                    .all(|(a, &b)| a.to_bits() == b.to_bits())
            );
        }
        assert_eq!(
            DenseRks::from_spec(map.spec()).unwrap().checksum(),
            checksum
        );
    }

    /// f32 features are the same whether f32 Wᵀ is drawn directly or rounded from the f64 copy.
    #[test]
    fn f32_parameters_do_not_depend_on_the_order_of_use() {
        let spec = *DenseRks::params()
            .n_frequencies(37)
            .seed(3)
            .build(11)
            .unwrap()
            .spec();
        let x = Array2::from_shape_fn((5, 11), |(i, k)| ((i * 11 + k) as f32 * 0.37).cos());
        let direct = DenseRks::from_spec(&spec).unwrap();
        let via_f64 = DenseRks::from_spec(&spec).unwrap();
        via_f64.project(x.mapv(f64::from).view()).unwrap();
        let (a, b) = (
            direct.transform(x.view()).unwrap(),
            via_f64.transform(x.view()).unwrap(),
        );
        assert!(a.iter().zip(&b).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn maps_saved_before_the_packed_layout_still_load() {
        // bincode (standard config) of maps saved by the version that stored Wᵀ unpacked: the
        // spec and the checksum of W in row order, which the packed storage must reproduce.
        let saved: [(&[u8], Kernel, usize, usize, u64); 3] = [
            (
                &[
                    0, 5, 33, 0, 102, 102, 102, 102, 102, 102, 230, 63, 0, 2, 253, 0, 75, 132, 252,
                    5, 2, 165, 106,
                ],
                Kernel::Gaussian,
                5,
                33,
                2,
            ),
            (
                &[
                    0, 17, 100, 0, 102, 102, 102, 102, 102, 102, 230, 63, 1, 9, 253, 15, 61, 12,
                    150, 7, 154, 114, 194,
                ],
                Kernel::Laplacian,
                17,
                100,
                9,
            ),
            (
                &[
                    0, 3, 7, 0, 102, 102, 102, 102, 102, 102, 230, 63, 3, 1, 253, 221, 135, 156,
                    51, 231, 152, 166, 27,
                ],
                Kernel::Matern32,
                3,
                7,
                1,
            ),
        ];
        for (bytes, kernel, d, n, seed) in saved {
            let (map, _): (DenseRks, _) =
                bincode::serde::decode_from_slice(bytes, bincode::config::standard()).unwrap();
            // Drawn before the portable sampler: they load with rand_distr's, and keep it.
            let spec = DenseRks::params()
                .n_frequencies(n)
                .sigma(0.7)
                .kernel(kernel)
                .seed(seed)
                .check(MapKind::Dense, d)
                .unwrap();
            let want = DenseRks::from_spec(&spec.with_sampler(Sampler::RandDistr)).unwrap();
            assert_eq!(map, want);
            assert_eq!(map.weights(), want.weights());
            assert_ne!(map.weights(), DenseRks::from_spec(&spec).unwrap().weights());
            let again = bincode::serde::encode_to_vec(&map, bincode::config::standard()).unwrap();
            assert_eq!(again, bytes.to_vec());
        }
    }
}

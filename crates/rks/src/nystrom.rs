//! Nyström features: kernel values against m landmark rows, whitened by K_mm^{-1/2}.
//!
//! Williams & Seeger, "Using the Nyström Method to Speed Up Kernel Machines" (NIPS 2000). With
//! landmarks l₁, …, l_m chosen from the training rows and K_mm = [k(l_i, l_j)],
//!
//! ```text
//! φ(x) = K_mm^{+1/2} · [k(l₁, x), …, k(l_m, x)]ᵀ ∈ Rᵐ,     φ(x)·φ(y) = k_xᵀ K_mm⁺ k_y,
//! ```
//!
//! the kernel of the projection onto the span of the landmarks' feature vectors. K_mm^{+1/2} =
//! U diag(g(λ)) Uᵀ from the eigendecomposition K_mm = U diag(λ) Uᵀ, with g(λ) = λ^{-1/2} for
//! λ > floor·λ_max and 0 below (the pseudo-inverse square root: near-duplicate landmarks make
//! K_mm singular). With every training row a landmark (m = N), ΦΦᵀ = K K⁺ K = K: the exact
//! kernel matrix. Any [`Kernel`] works, the Laplacian and the arc-cosine kernels included.
//!
//! Landmarks ([`Sampling`]):
//! - uniformly, m distinct rows (a partial Fisher–Yates shuffle);
//! - by approximate ridge leverage scores, the one-level form of recursive RLS sampling (Musco &
//!   Musco, "Recursive Sampling for the Nyström Method", NeurIPS 2017, Algorithm 2 with one
//!   recursion step; Alaoui & Mahoney, NIPS 2015): a uniform pilot set S of min(N, 2m) rows
//!   estimates every row's score ℓ_i = (k_ii − k_iSᵀ(K_SS + λI)⁻¹k_iS)/λ, and m distinct rows are
//!   drawn with probabilities ∝ ℓ_i (Efraimidis & Spirakis' weighted sampling without
//!   replacement: the m largest ln(u_i)/ℓ_i). λ = ridge × the mean of diag K_SS.
//!
//! The m × m eigendecompositions run in faer sequentially (`Par::Seq`), so the map is the same for
//! any number of threads. The map stores its landmarks; a saved map holds them (m·d f64, bounded
//! by [`crate::spec::MAX_LANDMARKS`] and [`crate::spec::MAX_DENSE_PARAMETERS`], checked on load)
//! and recomputes K_mm^{+1/2} when loaded. Cost per row O(m·d + m²).

use crate::error::Param;
use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::dense::block_rows;
use crate::features::{check_io, for_row_blocks};
use crate::gemm::Packed;
use crate::simd::Simd;
use crate::spec::{Checksum, MapSpec, NystromPayload, SavedAny, SavedMap};
use crate::{Bandwidth, Element, FeatureMap, Kernel, MapKind, RksError};

/// How the landmarks are chosen from the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    /// m distinct rows, uniformly.
    #[default]
    Uniform,
    /// m distinct rows with probabilities ∝ their approximate ridge leverage scores.
    RidgeLeverage,
}

/// Hyper-parameters of a Nyström map, set fluently and checked by [`NystromParams::fit`].
///
/// Defaults: 256 landmarks, σ = 1, Gaussian kernel, seed 0, uniform sampling, ridge 10⁻³,
/// eigenvalue floor 10⁻¹⁰.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NystromParams {
    n_landmarks: usize,
    bandwidth: Bandwidth,
    kernel: Kernel,
    seed: u64,
    sampling: Sampling,
    ridge: f64,
    eigen_floor: f64,
}

impl Default for NystromParams {
    fn default() -> Self {
        Self {
            n_landmarks: 256,
            bandwidth: Bandwidth::Sigma(1.0),
            kernel: Kernel::Gaussian,
            seed: 0,
            sampling: Sampling::Uniform,
            ridge: 1e-3,
            eigen_floor: 1e-10,
        }
    }
}

impl NystromParams {
    /// Number of landmarks m (the output width), 1 ≤ m ≤ the number of rows fitted.
    pub fn n_landmarks(mut self, m: usize) -> Self {
        self.n_landmarks = m;
        self
    }
    /// The kernel bandwidth.
    pub fn bandwidth(mut self, bandwidth: Bandwidth) -> Self {
        self.bandwidth = bandwidth;
        self
    }
    /// Shortcut for `bandwidth(Bandwidth::Sigma(sigma))`.
    pub fn sigma(self, sigma: f64) -> Self {
        self.bandwidth(Bandwidth::Sigma(sigma))
    }
    /// Shortcut for `bandwidth(Bandwidth::Gamma(gamma))`.
    pub fn gamma(self, gamma: f64) -> Self {
        self.bandwidth(Bandwidth::Gamma(gamma))
    }
    /// The kernel (any of them).
    pub fn kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }
    /// Seed of the ChaCha8 generator that picks the landmarks.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Uniform or ridge-leverage landmarks.
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }
    /// λ of the leverage scores, relative to the mean of diag K (finite, > 0).
    pub fn ridge(mut self, ridge: f64) -> Self {
        self.ridge = ridge;
        self
    }
    /// Eigenvalues of K_mm at most `floor`·λ_max are dropped (finite, in [0, 1)).
    pub fn eigen_floor(mut self, floor: f64) -> Self {
        self.eigen_floor = floor;
        self
    }

    /// Checks the parameters for rows of `input_dim` columns; the spec of the map to fit.
    pub fn check(&self, input_dim: usize) -> Result<MapSpec, RksError> {
        if self.n_landmarks == 0 {
            return Err(invalid(
                Param::NLandmarks,
                "must be at least 1, got 0".into(),
            ));
        }
        if !(self.ridge.is_finite() && self.ridge > 0.0) {
            return Err(invalid(
                Param::NystromRidge,
                format!("must be finite and > 0, got {}", self.ridge),
            ));
        }
        check_floor(self.eigen_floor)?;
        MapSpec::new(
            MapKind::Nystrom,
            input_dim,
            self.n_landmarks,
            self.bandwidth,
            self.kernel,
            self.seed,
        )
    }

    /// Chooses the landmarks among the rows of `x` and builds the map.
    ///
    /// Errors: [`RksError::InvalidParameter`] for m = 0, m > rows, or a bad ridge or floor;
    /// [`RksError::NonFiniteInput`] for NaN or ±∞ in `x`.
    pub fn fit<F: Element>(&self, x: ArrayView2<'_, F>) -> Result<Nystrom, RksError> {
        let spec = self.check(x.ncols())?;
        crate::scaler::check_finite(x)?;
        let (rows, m) = (x.nrows(), self.n_landmarks);
        if m > rows {
            return Err(invalid(
                Param::NLandmarks,
                format!("{m} landmarks from {rows} rows: at most one landmark per row"),
            ));
        }
        spec.check_memory()?;
        let x = x.mapv(F::to_f64_exact);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let chosen = match self.sampling {
            Sampling::Uniform => uniform(&mut rng, rows, m),
            Sampling::RidgeLeverage => {
                let pilot = uniform(&mut rng, rows, (2 * m).min(rows));
                let scores = leverage_scores(&x, &spec, &pilot, self.ridge)?;
                weighted(&mut rng, &scores, m)
            }
        };
        Nystrom::from_landmarks(&spec, x.select(Axis(0), &chosen), self.eigen_floor)
    }
}

fn invalid(name: Param, reason: String) -> RksError {
    RksError::InvalidParameter { name, reason }
}

fn check_floor(floor: f64) -> Result<(), RksError> {
    if floor.is_finite() && (0.0..1.0).contains(&floor) {
        Ok(())
    } else {
        Err(invalid(
            Param::EigenFloor,
            format!("must be finite and in [0, 1), got {floor}"),
        ))
    }
}

/// m distinct indices of 0..rows, uniformly (partial Fisher–Yates: for i = 0, …, m−1 swap i with
/// i + `random_range(0..rows − i)` drawn as u64), sorted.
fn uniform(rng: &mut ChaCha8Rng, rows: usize, m: usize) -> Vec<usize> {
    let mut index: Vec<usize> = (0..rows).collect();
    for i in 0..m {
        let j = i + rng.random_range(0..(rows - i) as u64) as usize;
        index.swap(i, j);
    }
    index.truncate(m);
    index.sort_unstable();
    index
}

/// m distinct indices drawn with probabilities ∝ `weights` (Efraimidis & Spirakis: one uniform u_i
/// per row in order, keep the m largest ln(1 − u_i)/w_i; rows of weight 0 last, ties by index),
/// sorted.
fn weighted(rng: &mut ChaCha8Rng, weights: &[f64], m: usize) -> Vec<usize> {
    let keys: Vec<f64> = weights
        .iter()
        .map(|&w| {
            let u: f64 = rng.random();
            if w > 0.0 {
                (1.0 - u).ln() / w
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]).then(a.cmp(&b)));
    order.truncate(m);
    order.sort_unstable();
    order
}

/// The kernel matrix [k(a_i, b_j)] of the rows of `a` and `b` (rows of `a` in parallel).
fn kernel_matrix(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, spec: &MapSpec) -> Array2<f64> {
    let (kernel, sigma) = (spec.kernel(), spec.sigma());
    let (b, d) = (b.as_standard_layout(), b.ncols());
    let b = b
        .as_slice()
        .unwrap_or_else(|| unreachable!("a standard-layout array is contiguous"));
    let mut k = Array2::zeros((a.nrows(), b.len() / d.max(1)));
    k.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(a.axis_iter(Axis(0)))
        .for_each(|(mut out, x)| {
            let x = x.to_vec();
            for (o, y) in out.iter_mut().zip(b.chunks_exact(d.max(1))) {
                *o = kernel.eval(&x, y, sigma);
            }
        });
    k
}

/// Eigenvalues (non-decreasing) and eigenvectors (columns of U) of a symmetric matrix, by faer
/// on one thread.
fn eigen(a: &Array2<f64>) -> Result<(Vec<f64>, faer::Mat<f64>), RksError> {
    use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
    let m = a.nrows();
    let standard = a.as_standard_layout();
    let data = standard
        .as_slice()
        .unwrap_or_else(|| unreachable!("a standard-layout array is contiguous"));
    let view = faer::MatRef::from_row_major_slice(data, m, m);
    let (mut u, mut s) = (
        faer::Mat::<f64>::zeros(m, m),
        faer::diag::Diag::<f64>::zeros(m),
    );
    let par = faer::Par::Seq;
    let scratch = self_adjoint_evd_scratch::<f64>(m, ComputeEigenvectors::Yes, par, default());
    let mut buffer = faer::dyn_stack::MemBuffer::new(scratch);
    self_adjoint_evd(
        view,
        s.as_mut(),
        Some(u.as_mut()),
        par,
        faer::dyn_stack::MemStack::new(&mut buffer),
        default(),
    )
    .map_err(|e| {
        invalid(
            Param::Landmarks,
            format!("the eigendecomposition of the {m} × {m} kernel matrix failed: {e:?}"),
        )
    })?;
    let values = (0..m).map(|i| s.as_ref()[i]).collect();
    Ok((values, u))
}

fn default<T: Default>() -> T {
    T::default()
}

/// Approximate ridge leverage scores of every row of `x` from the pilot rows (see the module
/// documentation).
fn leverage_scores(
    x: &Array2<f64>,
    spec: &MapSpec,
    pilot: &[usize],
    ridge: f64,
) -> Result<Vec<f64>, RksError> {
    let pilot_rows = x.select(Axis(0), pilot);
    let k_ss = kernel_matrix(pilot_rows.view(), pilot_rows.view(), spec);
    let mean_diag = k_ss.diag().mean().unwrap_or(1.0);
    let lambda = ridge * if mean_diag > 0.0 { mean_diag } else { 1.0 };
    let (values, u) = eigen(&k_ss)?;
    let (kernel, sigma) = (spec.kernel(), spec.sigma());
    let k_xs = kernel_matrix(x.view(), pilot_rows.view(), spec);
    // The eigenvectors as contiguous columns: c_j = u_jᵀ k below is one dot product.
    let s = values.len();
    let columns: Vec<f64> = (0..s)
        .flat_map(|j| (0..s).map(move |i| (i, j)))
        .map(|(i, j)| u[(i, j)])
        .collect();
    Ok(k_xs
        .axis_iter(Axis(0))
        .into_par_iter()
        .zip(x.axis_iter(Axis(0)))
        .map(|(k, row)| {
            let row = row.to_vec();
            let k = k.to_vec();
            let explained: f64 = columns
                .chunks_exact(s)
                .zip(&values)
                .map(|(u_j, &value)| {
                    let c: f64 = u_j.iter().zip(&k).map(|(a, b)| a * b).sum();
                    c * c / (value.max(0.0) + lambda)
                })
                .sum();
            ((kernel.eval(&row, &row, sigma) - explained) / lambda).max(0.0)
        })
        .collect())
}

/// The Nyström map x ↦ K_mm^{+1/2}·k(landmarks, x).
///
/// Built by fitting ([`Nystrom::params`] … [`NystromParams::fit`]) or from given landmarks
/// ([`Nystrom::from_landmarks`]). Its spec is (kind Nyström, d, m, bandwidth, kernel, seed).
///
/// ```
/// use ndarray::array;
/// use rks::{Bandwidth, FeatureMap, Kernel, Nystrom};
///
/// let x = array![[0.0, 0.0], [1.0, 0.5], [0.3, -0.2], [2.0, 1.0]];
/// // Every row a landmark: the features reproduce the kernel matrix.
/// let map = Nystrom::params().n_landmarks(4).sigma(1.5).fit(x.view())?;
/// let phi = map.transform(x.view())?;
/// let exact = Kernel::Gaussian.exact(&[1.0, 0.5], &[2.0, 1.0], Bandwidth::Sigma(1.5))?;
/// assert!((phi.row(1).dot(&phi.row(3)) - exact).abs() < 1e-9);
/// # Ok::<(), rks::RksError>(())
/// ```
#[derive(Clone)]
pub struct Nystrom {
    spec: MapSpec,
    eigen_floor: f64,
    landmarks: Array2<f64>,
    /// Eigenvalues of K_mm above the floor.
    rank: usize,
    /// K_mm^{+1/2} (symmetric, m × m) packed for the GEMM in f64.
    wide: OnceLock<Packed<f64>>,
    /// The same rounded to f32, made on the first f32 transform.
    narrow: OnceLock<Packed<f32>>,
}

impl Nystrom {
    /// The builder: `Nystrom::params().n_landmarks(m).sigma(σ).fit(x)`.
    pub fn params() -> NystromParams {
        NystromParams::default()
    }

    /// The map with the given landmarks (m × d, the spec's m and d) and eigenvalue floor.
    pub fn from_landmarks(
        spec: &MapSpec,
        landmarks: Array2<f64>,
        eigen_floor: f64,
    ) -> Result<Self, RksError> {
        spec.expect_kind(MapKind::Nystrom)?;
        check_floor(eigen_floor)?;
        spec.check_memory()?;
        let (m, d) = (spec.n_frequencies(), spec.input_dim());
        if landmarks.dim() != (m, d) {
            return Err(invalid(
                Param::Landmarks,
                format!(
                    "{} × {} landmarks for a map of {m} landmarks of {d} columns",
                    landmarks.nrows(),
                    landmarks.ncols()
                ),
            ));
        }
        crate::scaler::check_finite(landmarks.view())?;
        let k = kernel_matrix(landmarks.view(), landmarks.view(), spec);
        let (values, u) = eigen(&k)?;
        let top = values.iter().copied().fold(0.0, f64::max);
        let g: Vec<f64> = values
            .iter()
            .map(|&v| {
                if v > eigen_floor * top && v > 0.0 {
                    v.sqrt().recip()
                } else {
                    0.0
                }
            })
            .collect();
        let rank = g.iter().filter(|&&g| g > 0.0).count();
        // V = U·diag(√g) row-major, then P_ij = Σ_k V_ik V_jk in order k = 0, 1, …: the same
        // products for (i, j) and (j, i), so P is exactly symmetric (column j is row j).
        let root: Vec<f64> = g.iter().map(|g| g.sqrt()).collect();
        let v: Vec<f64> = (0..m)
            .flat_map(|i| (0..m).map(move |k| (i, k)))
            .map(|(i, k)| u[(i, k)] * root[k])
            .collect();
        let packed = Packed::from_columns(m, m, |j, column| {
            let vj = &v[j * m..(j + 1) * m];
            for (p, vi) in column.iter_mut().zip(v.chunks_exact(m)) {
                *p = vi.iter().zip(vj).map(|(a, b)| a * b).sum();
            }
        });
        Ok(Self {
            spec: *spec,
            eigen_floor,
            landmarks,
            rank,
            wide: OnceLock::from(packed),
            narrow: OnceLock::new(),
        })
    }

    /// The spec (its `n_frequencies` is the number of landmarks m).
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }
    /// The landmarks (m × d).
    pub fn landmarks(&self) -> ArrayView2<'_, f64> {
        self.landmarks.view()
    }
    /// Number of landmarks m (the output width).
    pub fn n_landmarks(&self) -> usize {
        self.spec.n_frequencies()
    }
    /// Eigenvalues of K_mm kept above the floor (≤ m).
    pub fn rank(&self) -> usize {
        self.rank
    }
    /// The relative eigenvalue floor.
    pub fn eigen_floor(&self) -> f64 {
        self.eigen_floor
    }
    /// The kernel.
    pub fn kernel(&self) -> Kernel {
        self.spec.kernel()
    }
    /// σ.
    pub fn sigma(&self) -> f64 {
        self.spec.sigma()
    }

    /// Memory of the parameters: the landmarks and K_mm^{+1/2} in f64, (m·d + m²)·8 bytes.
    pub fn parameter_bytes(&self) -> usize {
        let m = self.n_landmarks();
        (m * self.input_dim() + m * m) * size_of::<f64>()
    }

    fn project_block<F: Element>(&self, xb: ArrayView2<'_, F>, zb: ArrayViewMut2<'_, F>) {
        let (kernel, sigma) = (self.kernel(), self.sigma());
        let mut k = Array2::<F>::zeros((xb.nrows(), self.n_landmarks()));
        let mut row = vec![0.0; self.input_dim()];
        for (mut out, x) in k.rows_mut().into_iter().zip(xb.rows()) {
            row.iter_mut()
                .zip(x.iter())
                .for_each(|(r, &v)| *r = v.to_f64_exact());
            for (o, l) in out.iter_mut().zip(self.landmarks.rows()) {
                let l = l
                    .as_slice()
                    .unwrap_or_else(|| unreachable!("owned, standard"));
                *o = F::from_f64_lossy(kernel.eval(&row, l, sigma));
            }
        }
        let stored = F::stored(
            &self.wide,
            &self.narrow,
            || -> Packed<f64> { unreachable!("K_mm^(-1/2) is made when the map is built") },
            || -> Packed<f32> { unreachable!("f32 is rounded from the f64 matrix") },
        );
        F::gemm(Simd::detect(), k.view(), stored, zb);
    }

    fn checksum(&self) -> u64 {
        let mut c = Checksum::new();
        c.floats([self.eigen_floor]);
        c.floats(self.landmarks.iter().copied());
        c.finish()
    }

    pub(crate) fn saved(&self) -> SavedAny {
        SavedAny {
            map: SavedMap::new(&self.spec, self.checksum()),
            nystrom: Some(NystromPayload {
                eigen_floor: self.eigen_floor,
                landmarks: self.landmarks.iter().copied().collect(),
            }),
        }
    }

    pub(crate) fn from_saved(saved: &SavedAny) -> Result<Self, RksError> {
        let spec = saved.map.spec()?;
        spec.expect_kind(MapKind::Nystrom)?;
        let payload = saved
            .nystrom
            .as_ref()
            .ok_or_else(|| invalid(Param::Landmarks, "a Nyström map without landmarks".into()))?;
        let (m, d) = (spec.n_frequencies(), spec.input_dim());
        if payload.landmarks.len() != m * d {
            return Err(invalid(
                Param::Landmarks,
                format!(
                    "{} stored values for {m} landmarks of {d} columns",
                    payload.landmarks.len()
                ),
            ));
        }
        let landmarks = Array2::from_shape_vec((m, d), payload.landmarks.clone())
            .unwrap_or_else(|_| unreachable!("the length was checked"));
        let map = Self::from_landmarks(&spec, landmarks, payload.eigen_floor)?;
        saved.map.verify(map.checksum())?;
        Ok(map)
    }
}

impl std::fmt::Debug for Nystrom {
    /// The spec, the rank and the size of the landmarks, not their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nystrom")
            .field("spec", &self.spec)
            .field("rank", &self.rank)
            .field(
                "landmarks",
                &format_args!("{} × {} f64", self.n_landmarks(), self.input_dim()),
            )
            .finish()
    }
}

impl PartialEq for Nystrom {
    /// Equal specs, floors and landmarks (the rest is a function of them).
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
            && self.eigen_floor.to_bits() == other.eigen_floor.to_bits()
            && self.landmarks == other.landmarks
    }
}

impl FeatureMap for Nystrom {
    fn input_dim(&self) -> usize {
        self.spec.input_dim()
    }

    fn output_dim(&self) -> usize {
        self.n_landmarks()
    }

    fn transform_into<F: Element>(
        &self,
        x: ArrayView2<'_, F>,
        mut out: ArrayViewMut2<'_, F>,
    ) -> Result<(), RksError> {
        check_io(&x, &out, self.input_dim(), self.output_dim())?;
        let block = block_rows(x.nrows(), rayon::current_num_threads());
        for_row_blocks(x, out.view_mut(), block, |xb, zb| {
            self.project_block(xb, zb)
        });
        Ok(())
    }
}

impl serde::Serialize for Nystrom {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.saved().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Nystrom {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let saved = SavedAny::deserialize(deserializer)?;
        Self::from_saved(&saved).map_err(serde::de::Error::custom)
    }
}

crate::linfa_impl::transformer_via_feature_map!(Nystrom);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_picks_distinct_sorted_rows() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let picked = uniform(&mut rng, 10, 10);
        assert_eq!(picked, (0..10).collect::<Vec<_>>());
        let picked = uniform(&mut rng, 1000, 50);
        assert_eq!(picked.len(), 50);
        assert!(picked.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn weighted_sampling_prefers_heavy_rows_and_skips_zero_weights() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        // Rows 0..10 weigh 10⁴, rows 10..1000 weigh 1, rows 1000.. weigh 0: each heavy row is
        // drawn with probability above 0.99 (expected count 9.9).
        let mut w = vec![1.0; 1010];
        w[..10].iter_mut().for_each(|v| *v = 1e4);
        w[1000..].iter_mut().for_each(|v| *v = 0.0);
        let picked = weighted(&mut rng, &w, 20);
        assert_eq!(picked.len(), 20);
        let heavy = picked.iter().filter(|&&i| i < 10).count();
        assert!(heavy >= 9, "{heavy} heavy rows of 10 in {picked:?}");
        assert!(picked.iter().all(|&i| i < 1000));
        // With more rows asked than have weight, the zero-weight rows come last.
        let all = weighted(&mut rng, &w, 1005);
        assert_eq!(all.len(), 1005);
    }

    #[test]
    fn leverage_scores_are_high_for_isolated_rows() {
        // 40 rows near the origin, one far away: the lone row is not explained by the others.
        let mut x = Array2::from_shape_fn((41, 2), |(i, k)| 0.01 * ((i * 2 + k) as f64).sin());
        x[(40, 0)] = 10.0;
        let spec = MapSpec::new(
            MapKind::Nystrom,
            2,
            5,
            Bandwidth::Sigma(1.0),
            Kernel::Gaussian,
            0,
        )
        .unwrap();
        let pilot: Vec<usize> = (0..41).collect();
        let scores = leverage_scores(&x, &spec, &pilot, 1e-3).unwrap();
        let max_cluster = scores[..40].iter().copied().fold(0.0, f64::max);
        assert!(
            scores[40] > 0.9 && scores[40] > 10.0 * max_cluster,
            "{scores:?}"
        );
    }
}

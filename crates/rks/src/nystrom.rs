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
//! - by recursive ridge-leverage sampling (Musco & Musco, "Recursive Sampling for the Nyström
//!   Method", NeurIPS 2017, Algorithm 2; Alaoui & Mahoney, NIPS 2015). The λ-ridge leverage
//!   score of row i is
//!
//!   ```text
//!   ℓ_i = (K (K + λI)⁻¹)_ii = (k_ii − k_iᵀ (K + λI)⁻¹ k_i) / λ,
//!   ```
//!
//!   how much of the kernel's "effective dimension" Σℓ_i only row i carries (≈ 1 for a row far
//!   from all others, small inside a dense cluster). Exact scores cost O(N³); from a weighted
//!   set S of landmarks (weights w_j = 1/√p_j, p_j the probability that landmark j was kept),
//!   the estimate
//!
//!   ```text
//!   ℓ̃_i = (k_ii − k_iSᵀ (K_SS + λW⁻²)⁻¹ k_iS) / λ
//!   ```
//!
//!   is within a constant factor of ℓ_i once S holds a leverage-proportional sample of the rows
//!   (the paper's Lemma 6), and costs O(N·|S|·d + |S|³). The recursion gets such an S
//!   without exact scores: a uniform random order of the rows makes nested sets X₀ = all N
//!   rows ⊃ X₁ ⊃ … ⊃ X_L (prefixes of the order, each half the one before; X_L the first of at
//!   most 2m rows). X_L's landmarks are all its rows (weight 1). Then for X_{L−1}, …, X₁ in
//!   turn: estimate the scores of the set's rows from the landmarks of the set below, and keep
//!   each row j independently with probability p_j = min(1, 2m·ℓ̃_j/Σℓ̃) (at most 2m rows
//!   expected; weight 1/√p_j) as the landmarks for the set above. Last, the scores of all N rows from X₁'s
//!   landmarks, and m distinct rows drawn ∝ ℓ̃ (Efraimidis & Spirakis' weighted sampling
//!   without replacement: the m largest ln(u_i)/ℓ̃_i). The sets halve, so the whole costs about
//!   twice the last level: O(N·m·d + m³·log(N/m)). With N ≤ 2m the scores are exact.
//!   λ = ridge × the mean of diag K over the landmarks.
//!
//! The m × m eigendecompositions are the crate's own ([`crate::symmetric`]), so the map — its
//! K_mm^{+1/2}, its ridge-leverage landmarks and its features — is the same bits on every CPU
//! and for any number of threads. The map stores its landmarks; a saved map holds them (m·d f64, bounded
//! by [`crate::spec::MAX_LANDMARKS`] and [`crate::spec::MAX_DENSE_PARAMETERS`], checked on load)
//! and recomputes K_mm^{+1/2} when loaded. Cost per row O(m·d + m²).

use crate::error::Param;
use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, CowArray, Ix2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::dense::block_rows;
use crate::features::{check_io, for_row_blocks};
use crate::gemm::Packed;
use crate::radial::Points;
use crate::simd::Simd;
use crate::sparse::{ByColumn, SparseRows};
use crate::spec::{Checksum, MapSpec, NystromPayload, SavedAny, SavedMap};
use crate::{Bandwidth, Element, FeatureMap, Kernel, MapKind, RksError};

/// How the landmarks are chosen from the rows.
///
/// ```
/// use ndarray::Array2;
/// use rks::{Nystrom, Sampling};
///
/// // 95 rows packed near the origin and 5 far from it and from each other: each far row
/// // carries a ridge leverage score near 1, so the leverage-drawn landmarks hold all of them.
/// let x = Array2::from_shape_fn((100, 2), |(i, k)| match i {
///     0..95 => 0.001 * (i + k) as f64,
///     _ => 10.0 * (i - 94) as f64 * if k == 0 { 1.0 } else { -1.0 },
/// });
/// let map = Nystrom::params()
///     .n_landmarks(10)
///     .sigma(1.0)
///     .ridge(0.1)
///     .sampling(Sampling::RidgeLeverage)
///     .fit(x.view())?;
/// let far = map.landmarks().rows().into_iter().filter(|r| r[0].abs() > 5.0).count();
/// assert_eq!(far, 5);
/// # Ok::<(), rks::RksError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    /// m distinct rows, uniformly.
    #[default]
    Uniform,
    /// m distinct rows with probabilities ∝ their approximate ridge leverage scores, estimated
    /// by recursive sampling (see the module documentation).
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
    ///
    /// λ is the accuracy asked of the landmarks (Musco & Musco: about d_eff(λ)·log d_eff(λ)
    /// leverage-drawn landmarks give ‖K − K̃‖₂ ≤ λ, d_eff(λ) = Σℓ_i the effective dimension).
    /// The recursive estimates are good while 2m is at least about d_eff(λ); a λ far smaller
    /// than m landmarks can reach spreads the draws over many rows of similar score.
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
    /// The rows a fit on `rows` rows takes as its landmarks (sorted), when the choice does not
    /// depend on the rows' values: uniform sampling. Then [`fit`](Self::fit) on just those rows,
    /// in that order, makes the same map bit for bit (of m rows it takes every one, in order), so
    /// a caller need not prepare (scale, say) the rows it would not take. `None` for
    /// ridge-leverage sampling, and when m exceeds the rows (the fit's error).
    ///
    /// ```
    /// use ndarray::Array2;
    /// use rks::{FeatureMap, Nystrom};
    ///
    /// let x = Array2::from_shape_fn((50, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 11.0);
    /// let params = Nystrom::params().n_landmarks(8).seed(4);
    /// let rows = params.landmark_rows(50).unwrap();
    /// let all = params.fit(x.view())?;
    /// let some = params.fit(x.select(ndarray::Axis(0), &rows).view())?;
    /// assert_eq!(all.transform(x.view())?, some.transform(x.view())?);
    /// # Ok::<(), rks::RksError>(())
    /// ```
    pub fn landmark_rows(&self, rows: usize) -> Option<Vec<usize>> {
        let m = self.n_landmarks;
        match self.sampling {
            Sampling::Uniform if m <= rows => {
                Some(uniform(&mut ChaCha8Rng::seed_from_u64(self.seed), rows, m))
            }
            _ => None,
        }
    }

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
        // The rows in f64, not copied when they are f64 already (a wide file's rows are large).
        let x = F::widened(x);
        let x = x.view();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let chosen = match self.sampling {
            Sampling::Uniform => uniform(&mut rng, rows, m),
            Sampling::RidgeLeverage => {
                let scores = recursive_leverage_scores(&mut rng, x, &spec, m, self.ridge)?;
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
                // libm's log: the same keys with every C library.
                libm::log(1.0 - u) / w
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

/// The exact kernel matrix [k(aᵢ, bⱼ)] (`a.nrows()` × `b.nrows()`) of the rows of `a` and `b`
/// at bandwidth σ: what the Nyström map reproduces with every row a landmark, for scoring a
/// bandwidth with the exact kernel instead of features (`rks-solvers`' model selection). Rows
/// of `a` in parallel; each value is computed alone, with the bits of the map's kernel values,
/// so they do not depend on the thread count.
///
/// ```
/// use ndarray::array;
/// use rks::Kernel;
/// use rks::nystrom::kernel_matrix;
///
/// let x = array![[0.0, 0.0], [3.0, 4.0]];
/// let k = kernel_matrix(Kernel::Gaussian, 5.0, x.view(), x.view())?;
/// assert_eq!(k[[0, 0]], 1.0);
/// assert!((k[[0, 1]] - (-0.5f64).exp()).abs() < 1e-15); // exp(−‖x − y‖²/2σ²), ‖x − y‖ = σ
/// # Ok::<(), rks::RksError>(())
/// ```
pub fn kernel_matrix(
    kernel: Kernel,
    sigma: f64,
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
) -> Result<Array2<f64>, RksError> {
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(invalid(
            Param::Sigma,
            format!("σ must be finite and > 0, got {sigma}"),
        ));
    }
    if a.ncols() != b.ncols() {
        return Err(RksError::WrongInputDim {
            expected: a.ncols(),
            found: b.ncols(),
        });
    }
    crate::scaler::check_finite(a)?;
    crate::scaler::check_finite(b)?;
    crate::alloc::probe(
        8 * a.nrows() as u128 * b.nrows() as u128,
        "the kernel matrix",
        Param::Rows,
    )?;
    Ok(kernel_values_of(a, b, (kernel, sigma)))
}

/// The kernel matrix [k(a_i, b_j)] of the rows of `a` and `b` (rows of `a` in parallel), the
/// inputs already checked.
fn kernel_values_of(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    (kernel, sigma): (Kernel, f64),
) -> Array2<f64> {
    let (rows_b, d) = (b.as_standard_layout(), b.ncols());
    let b = rows_b
        .as_slice()
        .unwrap_or_else(|| unreachable!("a standard-layout array is contiguous"));
    let mut k = Array2::zeros((a.nrows(), b.len() / d.max(1)));
    let sparse_b = sparse_rows(kernel, b.chunks_exact(d.max(1)), d);
    // Dense rows and a shift-invariant kernel: the vectorised values (the same bits), a block
    // of rows at a time as a transform does, so each block of points serves many rows.
    if sparse_b.is_none() && kernel.is_shift_invariant() {
        let points = Points::new(rows_b.view());
        let (simd, block) = (
            Simd::detect(),
            block_rows(a.nrows(), rayon::current_num_threads()),
        );
        for_row_blocks(a, k.view_mut(), block, |xb, kb| {
            kernel.values_against(simd, xb, &points, sigma, kb)
        });
        return k;
    }
    k.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(a.axis_iter(Axis(0)))
        .for_each(|(mut out, x)| match &sparse_b {
            Some(sparse_b) => {
                sparse_kernel_row((kernel, sigma), sparse_b, x.iter().copied(), out.iter_mut())
            }
            None => {
                let x = x.to_vec();
                for (o, y) in out.iter_mut().zip(b.chunks_exact(d.max(1))) {
                    *o = kernel.eval(&x, y, sigma);
                }
            }
        });
    k
}

/// Rows (landmarks) held by column ([`ByColumn`]), when they are sparse and the kernel is a
/// shift-invariant one (the arc-cosine kernels keep the dense loop).
fn sparse_rows<'a>(
    kernel: Kernel,
    rows: impl Iterator<Item = &'a [f64]>,
    width: usize,
) -> Option<ByColumn> {
    if !kernel.is_shift_invariant() {
        return None;
    }
    let rows: Vec<&[f64]> = rows.collect();
    SparseRows::of(rows.len(), width, |r| rows[r].iter().copied())
        .map(|sparse| ByColumn::of(sparse, width, kernel == Kernel::Laplacian))
}

/// k(x, row) for every row of `rows` (from [`sparse_rows`]), into `out`.
fn sparse_kernel_row<'a, F: Element + 'a>(
    (kernel, sigma): (Kernel, f64),
    rows: &ByColumn,
    x: impl Iterator<Item = F>,
    out: impl Iterator<Item = &'a mut F>,
) {
    let x = crate::sparse::non_zeros(x.map(|v| v.to_f64_exact()));
    let mut sums = vec![0.0; rows.len()];
    rows.distances(&x, &mut sums);
    for (o, sum) in out.zip(sums) {
        *o = F::from_f64_lossy(kernel.of_sum(sum, sigma));
    }
}

/// Eigenvalues (non-decreasing) and eigenvectors (rows) of a symmetric kernel matrix, by
/// [`crate::symmetric`]: the same bits on every CPU and for any thread count.
fn eigen(a: &Array2<f64>) -> Result<crate::symmetric::Eigen, RksError> {
    crate::symmetric::Eigen::of(a.view()).map_err(|e| {
        invalid(
            Param::Landmarks,
            format!("the eigendecomposition of the kernel matrix failed: {e}"),
        )
    })
}

/// A uniformly random order of 0..rows (Fisher–Yates: for i = 0, …, rows−2 swap i with
/// i + `random_range(0..rows − i)` drawn as u64).
fn shuffled(rng: &mut ChaCha8Rng, rows: usize) -> Vec<usize> {
    let mut index: Vec<usize> = (0..rows).collect();
    for i in 0..rows.saturating_sub(1) {
        let j = i + rng.random_range(0..(rows - i) as u64) as usize;
        index.swap(i, j);
    }
    index
}

/// The approximate ridge leverage score of every row of `x` (in row order), by the recursion of
/// the module documentation for m landmarks: nested halves of a random order, each scored from
/// the landmarks kept in the half below.
fn recursive_leverage_scores(
    rng: &mut ChaCha8Rng,
    x: ArrayView2<'_, f64>,
    spec: &MapSpec,
    m: usize,
    ridge: f64,
) -> Result<Vec<f64>, RksError> {
    let rows = x.nrows();
    let order = shuffled(rng, rows);
    // |X₀| = rows, |X_{l+1}| = ⌈|X_l|/2⌉ down to at most 2m rows.
    let mut sizes = vec![rows];
    while let Some(&last) = sizes.last()
        && last > 2 * m
    {
        sizes.push(last.div_ceil(2));
    }
    // The smallest set (rows itself when rows ≤ 2m: then the scores are exact).
    let base = if sizes.len() > 1 {
        sizes.pop().unwrap_or(rows)
    } else {
        rows
    };
    let mut landmarks: Vec<usize> = order[..base].to_vec();
    let mut weights = vec![1.0; base];
    // Every set above the base, the smallest first; sizes[0] = rows is the last.
    for &size in sizes[1..].iter().rev() {
        let level = &order[..size];
        let scores = leverage_scores(x, spec, level, &landmarks, &weights, ridge)?;
        // Each row kept independently with p_i = min(1, s·ℓ̃_i/Σℓ̃), s = 2m: at most s rows
        // expected, and 1/√p_i the exact weight of what was kept.
        let s = (2 * m) as f64;
        let total: f64 = scores.iter().sum();
        let p: Vec<f64> = scores
            .iter()
            .map(|&l| {
                if total > 0.0 {
                    (s * l / total).min(1.0)
                } else {
                    (s / size as f64).min(1.0)
                }
            })
            .collect();
        let mut kept: Vec<usize> = (0..size).filter(|&i| rng.random::<f64>() < p[i]).collect();
        if kept.is_empty() {
            // Improbable (about s rows are expected): the row of the highest score, weight 1.
            let top = (0..size).max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)));
            kept.extend(top);
        }
        weights = kept
            .iter()
            .map(|&i| {
                if kept.len() == 1 && p[i] == 0.0 {
                    1.0
                } else {
                    p[i].sqrt().recip()
                }
            })
            .collect();
        landmarks = kept.iter().map(|&i| level[i]).collect();
    }
    let all: Vec<usize> = (0..rows).collect();
    leverage_scores(x, spec, &all, &landmarks, &weights, ridge)
}

/// The estimates ℓ̃ (module documentation) of the rows `rows` of `x`, in that order, from the
/// landmark rows `landmarks` with weights `weights`. With W = diag(w),
/// k_iSᵀ(K_SS + λW⁻²)⁻¹k_iS = k̂ᵀ(K̂ + λI)⁻¹k̂ with k̂ = W k_iS and K̂ = W K_SS W, computed from
/// the eigendecomposition K̂ = U diag(μ) Uᵀ as Σ_j (u_jᵀk̂)²/(μ_j + λ).
fn leverage_scores(
    x: ArrayView2<'_, f64>,
    spec: &MapSpec,
    rows: &[usize],
    landmarks: &[usize],
    weights: &[f64],
    ridge: f64,
) -> Result<Vec<f64>, RksError> {
    let landmark_rows = x.select(Axis(0), landmarks);
    let k_ss = kernel_values_of(
        landmark_rows.view(),
        landmark_rows.view(),
        (spec.kernel(), spec.sigma()),
    );
    let mean_diag = k_ss.diag().mean().unwrap_or(1.0);
    let lambda = ridge * if mean_diag > 0.0 { mean_diag } else { 1.0 };
    let weighted_k =
        Array2::from_shape_fn(k_ss.dim(), |(i, j)| weights[i] * k_ss[(i, j)] * weights[j]);
    let crate::symmetric::Eigen { values, vectors } = eigen(&weighted_k)?;
    let (kernel, sigma) = (spec.kernel(), spec.sigma());
    // Every row in order (the recursion's last level) is x itself, not a copy.
    let in_order = rows.len() == x.nrows() && rows.iter().enumerate().all(|(i, &r)| i == r);
    let scored: CowArray<'_, f64, Ix2> = if in_order {
        x.into()
    } else {
        x.select(Axis(0), rows).into()
    };
    let k_xs = kernel_values_of(
        scored.view(),
        landmark_rows.view(),
        (spec.kernel(), spec.sigma()),
    );
    // The eigenvectors (rows), each entry times its landmark's weight: c_j = u_jᵀ (W k) below
    // is one dot product.
    let s = values.len();
    let columns: Vec<f64> = (0..s)
        .flat_map(|j| (0..s).map(move |i| (i, j)))
        .map(|(i, j)| vectors[(j, i)] * weights[i])
        .collect();
    Ok(k_xs
        .axis_iter(Axis(0))
        .into_par_iter()
        .zip(scored.axis_iter(Axis(0)))
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
            ((kernel.eval(&row, &row, sigma) - explained) / lambda).clamp(0.0, 1.0)
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
    /// The eigenvalues of K_mm kept above the floor (their count), made with `wide`.
    rank: OnceLock<usize>,
    /// K_mm^{+1/2} (symmetric, m × m) packed for the GEMM in f64: made when the map is fitted,
    /// and for a loaded map on its first use ([`Nystrom::root`]), since a model that predicts
    /// through K_mm^{+1/2}·W it stored needs only the kernel values.
    wide: OnceLock<Packed<f64>>,
    /// The same rounded to f32, made on the first f32 transform.
    narrow: OnceLock<Packed<f32>>,
    /// The landmarks held by column when they are sparse, made on the first transform.
    sparse: OnceLock<Option<Box<ByColumn>>>,
    /// The landmarks transposed block by block, for the vectorised kernel values of a
    /// shift-invariant kernel on dense landmarks ([`crate::radial`]), made on the first
    /// transform that needs them (as many values as the landmarks).
    points: OnceLock<Points>,
}

impl Nystrom {
    /// The builder: `Nystrom::params().n_landmarks(m).sigma(σ).fit(x)`.
    pub fn params() -> NystromParams {
        NystromParams::default()
    }

    /// The map with the given landmarks (m × d, the spec's m and d) and eigenvalue floor,
    /// K_mm^{+1/2} made now: a fit reports a failed eigendecomposition at once.
    pub fn from_landmarks(
        spec: &MapSpec,
        landmarks: Array2<f64>,
        eigen_floor: f64,
    ) -> Result<Self, RksError> {
        let map = Self::deferred(spec, landmarks, eigen_floor)?;
        map.root()?;
        Ok(map)
    }

    /// The map with the given landmarks and floor, checked, K_mm^{+1/2} not made yet.
    fn deferred(
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
        Ok(Self {
            spec: *spec,
            eigen_floor,
            landmarks,
            rank: OnceLock::new(),
            wide: OnceLock::new(),
            narrow: OnceLock::new(),
            sparse: OnceLock::new(),
            points: OnceLock::new(),
        })
    }

    /// K_mm^{+1/2}, made on the first call (the eigendecomposition of K_mm and V·Vᵀ, O(m³)).
    fn root(&self) -> Result<&Packed<f64>, RksError> {
        if let Some(root) = self.wide.get() {
            return Ok(root);
        }
        let m = self.n_landmarks();
        let k = kernel_values_of(
            self.landmarks.view(),
            self.landmarks.view(),
            (self.spec.kernel(), self.spec.sigma()),
        );
        let crate::symmetric::Eigen { values, vectors } = eigen(&k)?;
        let top = values.iter().copied().fold(0.0, f64::max);
        let g: Vec<f64> = values
            .iter()
            .map(|&v| {
                if v > self.eigen_floor * top && v > 0.0 {
                    v.sqrt().recip()
                } else {
                    0.0
                }
            })
            .collect();
        let rank = g.iter().filter(|&&g| g > 0.0).count();
        // P = V·Vᵀ with V = U·diag(√g): entry (i, j) is the FMA chain over k of V_ik·V_jk, the
        // same chain as (j, i), so P is exactly symmetric (column j is row j).
        let root: Vec<f64> = g.iter().map(|g| g.sqrt()).collect();
        let v = Array2::from_shape_fn((m, m), |(i, k)| vectors[(k, i)] * root[k]);
        let p = crate::gemm::outer_f64(Simd::detect(), v.view());
        let packed = Packed::from_columns(m, m, |j, column| {
            column.iter_mut().zip(p.row(j)).for_each(|(c, &v)| *c = v)
        });
        // Two threads may both get here: they compute the same bits, and the first one is kept.
        let _ = self.rank.set(rank);
        Ok(self.wide.get_or_init(|| packed))
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
    /// Eigenvalues of K_mm kept above the floor (≤ m). For a loaded map this makes K_mm^{+1/2}
    /// first (the eigendecomposition can fail only on a corrupt file).
    pub fn rank(&self) -> Result<usize, RksError> {
        self.root()?;
        Ok(*self
            .rank
            .get()
            .unwrap_or_else(|| unreachable!("set with the root")))
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

    /// The kernel values k(x, l) of every row against every landmark (rows × m): the features
    /// before whitening, φ(x) = K_mm^{-1/2}·k(x). With [`whiten`](Self::whiten) a linear function
    /// of the features costs m multiply-adds per row instead of m²: wᵀφ(x) = (K_mm^{-1/2}w)ᵀk(x),
    /// as K_mm^{-1/2} is symmetric. Rows in parallel; each value is computed alone, so the bits do
    /// not depend on the thread count.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks::{Bandwidth, FeatureMap, Nystrom};
    ///
    /// let x = array![[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.2]];
    /// let map = Nystrom::params().n_landmarks(3).bandwidth(Bandwidth::Sigma(1.0)).fit(x.view())?;
    /// let w = array![[0.5], [-1.0], [2.0]];
    /// let direct = map.transform(x.view())?.dot(&w);
    /// let folded = map.kernel_values(x.view())?.dot(&map.whiten(w.view())?);
    /// assert!((&direct - &folded).iter().all(|d| d.abs() < 1e-12));
    /// # Ok::<(), rks::RksError>(())
    /// ```
    pub fn kernel_values(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, RksError> {
        let shape = (x.nrows(), self.n_landmarks());
        let mut out = crate::alloc::zeros(shape, "the kernel values", Param::NLandmarks)?;
        check_io(&x, &out.view_mut(), self.input_dim(), self.output_dim())?;
        let block = block_rows(x.nrows(), rayon::current_num_threads());
        for_row_blocks(x, out.view_mut(), block, |xb, kb| self.kernel_block(xb, kb));
        Ok(out)
    }

    /// K_mm^{-1/2}·W for W of m rows (any number of columns), in f64: each entry one FMA chain
    /// over the landmarks in order, so the same bits on every CPU and for any thread count.
    pub fn whiten(&self, w: ArrayView2<'_, f64>) -> Result<Array2<f64>, RksError> {
        if w.nrows() != self.n_landmarks() {
            return Err(invalid(
                Param::Landmarks,
                format!(
                    "{} weight rows for a map of {} landmarks",
                    w.nrows(),
                    self.n_landmarks()
                ),
            ));
        }
        let root = self.root()?;
        // K_mm^{-1/2} is symmetric: K_mm^{-1/2}·W = (Wᵀ·K_mm^{-1/2})ᵀ.
        let mut z = Array2::zeros((w.ncols(), w.nrows()));
        crate::gemm::gemm_f64(Simd::detect(), w.t(), root, z.view_mut());
        Ok(z.reversed_axes().as_standard_layout().into_owned())
    }

    /// k(x, l) of the rows of `xb` against every landmark, into `kb` (rows × m).
    fn kernel_block<F: Element>(&self, xb: ArrayView2<'_, F>, mut kb: ArrayViewMut2<'_, F>) {
        let (kernel, sigma) = (self.kernel(), self.sigma());
        let sparse = self.sparse.get_or_init(|| {
            let landmarks = self.landmarks.rows().into_iter();
            let slices = landmarks.map(|l| l.to_slice().unwrap_or_else(|| unreachable!("owned")));
            sparse_rows(kernel, slices, self.input_dim()).map(Box::new)
        });
        if let Some(sparse) = sparse {
            for (out, x) in kb.rows_mut().into_iter().zip(xb.rows()) {
                sparse_kernel_row((kernel, sigma), sparse, x.iter().copied(), out.into_iter());
            }
            return;
        }
        if kernel.is_shift_invariant() {
            let points = self
                .points
                .get_or_init(|| Points::new(self.landmarks.view()));
            kernel.values_against(Simd::detect(), xb, points, sigma, kb);
            return;
        }
        let mut row = vec![0.0; self.input_dim()];
        for (mut out, x) in kb.rows_mut().into_iter().zip(xb.rows()) {
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
    }

    /// Needs K_mm^{+1/2} made ([`Nystrom::root`]).
    fn project_block<F: Element>(&self, xb: ArrayView2<'_, F>, zb: ArrayViewMut2<'_, F>) {
        let mut k = Array2::<F>::zeros((xb.nrows(), self.n_landmarks()));
        self.kernel_block(xb, k.view_mut());
        let stored = F::stored(
            &self.wide,
            &self.narrow,
            || -> Packed<f64> { unreachable!("K_mm^(-1/2) is made before the transform") },
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
        // K_mm^{+1/2} waits for its first use: a model that stored K_mm^{+1/2}·W never needs it.
        let map = Self::deferred(&spec, landmarks, payload.eigen_floor)?;
        saved.map.verify(map.checksum())?;
        Ok(map)
    }
}

impl std::fmt::Debug for Nystrom {
    /// The spec, the rank and the size of the landmarks, not their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nystrom")
            .field("spec", &self.spec)
            .field("rank", &self.rank.get())
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
        self.root()?;
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

    /// Sparse rows are held by column for every shift-invariant kernel: their values agree with
    /// `eval`'s to a few roundings, are symmetric bit for bit and exactly k(0) on the diagonal;
    /// the arc-cosine kernels keep the dense loop.
    #[test]
    fn sparse_kernel_rows_agree_with_the_dense_values() {
        let x = Array2::from_shape_fn((30, 64), |(i, j)| {
            let h = ((i * 64 + j) as u64 + 5).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
            match (i, j, h % 40) {
                // Two rows whose norms overflow though their distance does not (√5): their
                // pair is merged.
                (7 | 8, 3, _) => 1e308,
                (7, 10, _) => 1.0,
                (8, 11, _) => 2.0,
                (7..=10, _, _) => 0.0, // and two empty rows
                (_, _, 0) => (h % 100) as f64 / 7.0 - 7.0,
                (_, _, 1) if i % 2 == 0 => 1e3, // a large shared value: cancellation
                (_, _, 2) if i % 5 == 0 => 1e200, // distances that overflow
                _ => 0.0,
            }
        });
        let x = x.as_standard_layout().into_owned();
        let slices = || x.rows().into_iter().map(|r| r.to_slice().unwrap());
        for kernel in [Kernel::Gaussian, Kernel::Laplacian, Kernel::Matern32] {
            let rows = sparse_rows(kernel, slices(), 64).expect("about 3 % non-zero");
            let sigma = if kernel == Kernel::Laplacian {
                50.0
            } else {
                30.0
            };
            let mut k = Array2::zeros((30, 30));
            for (a, mut out) in x.rows().into_iter().zip(k.rows_mut()) {
                sparse_kernel_row((kernel, sigma), &rows, a.iter().copied(), out.iter_mut());
            }
            for (i, a) in slices().enumerate() {
                assert_eq!(k[[i, i]], 1.0, "{kernel:?} k(x, x)");
                for (j, b) in slices().enumerate() {
                    let dense = kernel.eval(a, b, sigma);
                    assert!((k[[i, j]] - dense).abs() <= 1e-12, "{kernel:?} ({i}, {j})");
                    assert_eq!(
                        k[[i, j]].to_bits(),
                        k[[j, i]].to_bits(),
                        "{kernel:?} symmetric"
                    );
                }
            }
            assert!(k[[7, 8]] > 0.9, "{kernel:?}: the overflowing pair is close");
            // Not vacuous: some pairs are far apart, some close.
            assert!(k.iter().any(|&v| v < 0.5) && k.iter().any(|&v| v > 0.5 && v < 1.0));
        }
        assert!(sparse_rows(Kernel::ArcCos1, slices(), 64).is_none());
    }

    #[test]
    fn a_fit_on_its_landmark_rows_alone_is_the_same_map() {
        let x = Array2::from_shape_fn((300, 5), |(i, j)| ((i * 31 + j * 17) % 29) as f64 / 7.0);
        for kernel in [Kernel::Gaussian, Kernel::Laplacian] {
            let params = Nystrom::params().n_landmarks(40).kernel(kernel).seed(9);
            let rows = params.landmark_rows(300).unwrap();
            assert_eq!(rows.len(), 40);
            assert!(rows.windows(2).all(|w| w[0] < w[1]));
            let all = params.fit(x.view()).unwrap();
            let some = params.fit(x.select(Axis(0), &rows).view()).unwrap();
            assert_eq!(all.landmarks(), some.landmarks());
            let bits = |m: &Nystrom| m.transform(x.view()).unwrap().mapv(f64::to_bits);
            assert_eq!(bits(&all), bits(&some));
        }
        let leverage = Nystrom::params()
            .n_landmarks(40)
            .sampling(Sampling::RidgeLeverage);
        assert_eq!(leverage.landmark_rows(300), None);
        assert_eq!(Nystrom::params().n_landmarks(40).landmark_rows(39), None);
    }

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
        let all: Vec<usize> = (0..41).collect();
        let scores = leverage_scores(x.view(), &spec, &all, &all, &[1.0; 41], 1e-3).unwrap();
        let max_cluster = scores[..40].iter().copied().fold(0.0, f64::max);
        assert!(
            scores[40] > 0.9 && scores[40] > 10.0 * max_cluster,
            "{scores:?}"
        );
    }

    fn spec(d: usize, sigma: f64) -> MapSpec {
        MapSpec::new(
            MapKind::Nystrom,
            d,
            1,
            Bandwidth::Sigma(sigma),
            Kernel::Gaussian,
            0,
        )
        .unwrap()
    }

    /// ℓ_i = (k_ii − k_iᵀ(K + λI)⁻¹k_i)/λ by brute force: K + λI = LLᵀ (Cholesky), then
    /// k_iᵀ(K + λI)⁻¹k_i = ‖L⁻¹k_i‖².
    fn exact_scores(x: &Array2<f64>, spec: &MapSpec, lambda: f64) -> Vec<f64> {
        let n = x.nrows();
        let k = kernel_values_of(x.view(), x.view(), (spec.kernel(), spec.sigma()));
        let mut l = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..=i {
                let mut v = k[(i, j)] + if i == j { lambda } else { 0.0 };
                for t in 0..j {
                    v -= l[(i, t)] * l[(j, t)];
                }
                l[(i, j)] = if i == j { v.sqrt() } else { v / l[(j, j)] };
            }
        }
        (0..n)
            .map(|i| {
                let mut y = vec![0.0; n];
                for r in 0..n {
                    let dot: f64 = (0..r).map(|t| l[(r, t)] * y[t]).sum();
                    y[r] = (k[(r, i)] - dot) / l[(r, r)];
                }
                (k[(i, i)] - y.iter().map(|v| v * v).sum::<f64>()) / lambda
            })
            .collect()
    }

    /// Rows: a dense cluster of `dense` rows and a sparse spread of `sparse` rows around it.
    fn cluster_and_spread(dense: usize, sparse: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((dense + sparse, 3), |(i, _)| {
            let scale = if i < dense { 0.2 } else { 6.0 };
            scale * (rng.random::<f64>() - 0.5)
        })
    }

    #[test]
    fn recursive_scores_are_within_a_factor_of_the_exact_ones() {
        // 1,000 rows (five nested sets for m = 50), λ = 10⁻² (diag K = 1).
        let x = cluster_and_spread(900, 100, 7);
        let spec = spec(3, 1.0);
        let exact = exact_scores(&x, &spec, 1e-2);
        let effective: f64 = exact.iter().sum();
        for seed in 0..6 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let approx = recursive_leverage_scores(&mut rng, x.view(), &spec, 50, 1e-2).unwrap();
            // The paper's guarantee is a constant factor once the samples hold about
            // d_eff·log d_eff rows; here 2m = 100 ≈ d_eff = Σℓ ≈ 96, and every estimate is
            // within a factor 2 below and 10 above the exact score.
            let ratios = approx.iter().zip(&exact).map(|(a, e)| a / e);
            let (low, high) =
                ratios.fold((f64::INFINITY, 0.0f64), |(l, h), r| (l.min(r), h.max(r)));
            assert!(
                low >= 0.5 && high <= 10.0,
                "seed {seed}: ℓ̃/ℓ from {low} to {high} (Σℓ = {effective})"
            );
        }
    }

    #[test]
    fn recursive_scores_are_exact_when_every_row_is_a_landmark() {
        // rows ≤ 2m: one set, every row a landmark.
        let x = cluster_and_spread(60, 20, 8);
        let spec = spec(3, 1.0);
        let exact = exact_scores(&x, &spec, 1e-3);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let approx = recursive_leverage_scores(&mut rng, x.view(), &spec, 40, 1e-3).unwrap();
        for (a, e) in approx.iter().zip(&exact) {
            assert!((a - e).abs() <= 1e-6 * (1.0 + e), "{a} against {e}");
        }
    }

    #[test]
    fn recursive_scores_do_not_depend_on_the_thread_count() {
        let x = cluster_and_spread(700, 100, 9);
        let spec = spec(3, 1.0);
        let scores = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut rng = ChaCha8Rng::seed_from_u64(3);
                recursive_leverage_scores(&mut rng, x.view(), &spec, 30, 1e-3).unwrap()
            })
        };
        let one = scores(1);
        assert_eq!(one, scores(2));
        assert_eq!(one, scores(3));
    }
}

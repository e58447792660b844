//! Ridge regression from streamed sufficient statistics, with a regularisation path.
//!
//! The model is ŷ = Wᵀφ + b with an unpenalised intercept b, fitted by minimising
//! ‖Y − ΦW − 1bᵀ‖²_F + λ‖W‖²_F (the scaling of scikit-learn's `Ridge(alpha=λ)`). With the running
//! means μ = Σφ/N and ȳ = Σy/N, the centred normal equations are
//!
//! ```text
//! (C + λI) W = B,   C = ΦᵀΦ − N μμᵀ,   B = ΦᵀY − N μȳᵀ,   b = ȳ − Wᵀμ,
//! ```
//!
//! so only ΦᵀΦ, ΦᵀY, Σφ, Σy, Σy² and N are needed: a [`RidgeAccumulator`] folds chunks of rows
//! into them (memory O(D² + chunk·D) whatever N) and two accumulators [`merge`](RidgeAccumulator::merge),
//! which is all a map-reduce over partitions of a file needs.
//!
//! A fixed λ is solved by Cholesky ([`crate::dense::Cholesky`], the same bits on every CPU).
//! For a path of λ values the centred C is diagonalised once, C = QΛQᵀ; with Z = QᵀB every λ
//! then costs O(D·m):
//!
//! ```text
//! W(λ) = Q (Λ + λI)⁻¹ Z,   RSS(λ) = Σ_outputs [ yᵀy_c − Σᵢ zᵢ² (λᵢ + 2λ)/(λᵢ + λ)² ],
//! df(λ) = 1 + Σᵢ λᵢ/(λᵢ + λ)   (the 1 is the intercept),
//! GCV(λ) = N · RSS(λ) / (N − df(λ))²
//! ```
//!
//! (generalised cross-validation: Golub, Heath & Wahba, "Generalized cross-validation as a method
//! for choosing a good ridge parameter", Technometrics 1979). One λ is shared by all outputs.
//!
//! With the rows in memory and fewer rows than features (N < D), [`fit_rows`] solves the same
//! problem in its dual (kernel) form, at O(N²·D) time and O(N·D) memory instead of O(N·D² + D³)
//! and O(D²): with the centred rows Φc = Φ − 1μᵀ, K = ΦcΦcᵀ (N × N) and Yc = Y − 1ȳᵀ,
//!
//! ```text
//! W = Φcᵀ (K + λI)⁻¹ Yc      (since (ΦcᵀΦc + λI)⁻¹ Φcᵀ = Φcᵀ (ΦcΦcᵀ + λI)⁻¹),
//! ```
//!
//! and K = UΣUᵀ has the nonzero eigenvalues of C, so the path carries over with
//! W(λ) = Φcᵀ U (Σ + λI)⁻¹ Ỹ, Ỹ = UᵀYc. Yc lies wholly in the span of U, so the residual is known
//! exactly, RSS(λ) = Σᵢ (λ/(σᵢ + λ))² ‖Ỹᵢ‖², and N − df(λ) = Σᵢ λ/(σᵢ + λ) − 1: neither
//! cancels near interpolation (df → N), where the primal form's yᵀy − (explained) does. The two
//! forms choose the same λ wherever the primal GCV is accurate.
//!
//! The path only **chooses** λ: the model at the chosen λ is then solved by Cholesky like a fixed
//! one ([`crate::dense`]), which costs less than forming the weights from the eigenvectors at
//! the same precision. Both the eigendecomposition ([`rks::symmetric::Eigen`]) and the solve
//! round alike on every CPU and for any thread count, so the choice and the model do too.

use crate::error::Param;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};
use rks::symmetric::Eigen;
use rks::{Element, FeatureMap};
use serde::{Deserialize, Serialize};

use crate::dense::{Cholesky, product, row_gram, transposed_product};
use crate::error::{Result, SolversError, invalid};
use crate::exact::{
    BLOCK_ROWS, Grid, LIMBS, Scratch, WEIGHT_LIMIT, WeightGrid, from_limbs, packed_index,
    packed_len, to_limbs,
};
use crate::validate::{check_finite, check_rows};

/// How the ridge penalty λ is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Lambda {
    /// Use this λ (≥ 0; 0 only works when the centred ΦᵀΦ is non-singular).
    Fixed(f64),
    /// Choose λ by generalised cross-validation over [`default_grid`] (46 values from 10⁻⁶ to 10³
    /// times the mean eigenvalue tr(C)/D).
    Gcv,
    /// Choose λ by generalised cross-validation over these values (each > 0).
    GcvGrid(Vec<f64>),
}

impl Lambda {
    /// Checks the values: finite, λ ≥ 0 for `Fixed`, λ > 0 and a non-empty grid for `GcvGrid`.
    pub fn validate(&self) -> Result<()> {
        match self {
            Lambda::Fixed(l) if !(l.is_finite() && *l >= 0.0) => Err(invalid(
                Param::Lambda,
                format!("must be finite and ≥ 0, got {l}"),
            )),
            Lambda::GcvGrid(grid) if grid.is_empty() => {
                Err(invalid(Param::Lambda, "the GCV grid is empty"))
            }
            Lambda::GcvGrid(grid) => match grid.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
                Some(l) => Err(invalid(
                    Param::Lambda,
                    format!("grid values must be finite and > 0, got {l}"),
                )),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// The default GCV grid for a centred ΦᵀΦ whose mean eigenvalue is `scale`: 46 values,
/// log-spaced, from 10⁻⁶·scale to 10³·scale (5 per decade): `scale` times [`GRID_POWERS`].
pub fn default_grid(scale: f64) -> Vec<f64> {
    let scale = if scale > 0.0 && scale.is_finite() {
        scale
    } else {
        1.0
    };
    GRID_POWERS.iter().map(|p| scale * p).collect()
}

/// 10^e for e = −6 + i/5 (i = 0 … 45, e computed in f64), correctly rounded (checked at 200 bits
/// with mpmath). A table rather than `powf`: the C library's `pow` need not round alike on every
/// platform (the `libm` crate's differs from glibc's on three of these), and the grid decides λ,
/// hence the model's bits.
#[rustfmt::skip]
pub const GRID_POWERS: [f64; 46] = [
    1e-6, 1.584893192461114e-6, 2.5118864315095823e-6, 3.981071705534969e-6,
    6.30957344480193e-6, 1e-5, 1.584893192461114e-5, 2.5118864315095822e-5,
    3.9810717055349695e-5, 6.309573444801929e-5, 0.0001, 0.00015848931924611142,
    0.00025118864315095795, 0.00039810717055349735, 0.000630957344480193, 0.001,
    0.001584893192461114, 0.0025118864315095794, 0.003981071705534973, 0.00630957344480193,
    0.01, 0.01584893192461114, 0.025118864315095822, 0.03981071705534969, 0.0630957344480193,
    0.1, 0.15848931924611143, 0.25118864315095824, 0.3981071705534969, 0.630957344480193, 1.0,
    1.584893192461114, 2.5118864315095824, 3.981071705534969, 6.30957344480193, 10.0,
    15.848931924611142, 25.11886431509582, 39.81071705534969, 63.0957344480193, 100.0,
    158.48931924611108, 251.18864315095823, 398.1071705534969, 630.9573444801943, 1000.0,
];

/// Running sufficient statistics of a ridge fit: ΦᵀΦ (lower triangle), ΦᵀY, Σφ, Σy, Σy², N,
/// **exact** on a fixed-point [`Grid`] ([`crate::exact`]).
///
/// Each feature and target is rounded once to the grid, and every sum is an integer sum: the
/// statistics do not depend on the order of [`merge`](Self::merge)s, nor on where the rows were
/// cut into chunks or partitions, nor on the thread count. Two accumulators merge only when
/// their grids are equal. Serialisable, so partial accumulators can be shipped between workers;
/// [`limbs`](Self::limbs) gives them as plain integers for an engine's integer sum.
///
/// ```
/// use ndarray::array;
/// use rks_solvers::exact::Grid;
/// use rks_solvers::ridge::{Lambda, RidgeAccumulator};
///
/// let phi = array![[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]];
/// let y = array![[1.0], [2.0], [3.0], [5.0]];
/// // Features within ±2, targets within [0, 8].
/// let mut acc = RidgeAccumulator::new(2, 1, Grid::new(2.0, 0.0, 8.0)?)?;
/// acc.update(phi.slice(ndarray::s![..2, ..]), y.slice(ndarray::s![..2, ..]))?;
/// acc.update(phi.slice(ndarray::s![2.., ..]), y.slice(ndarray::s![2.., ..]))?;
/// let model = acc.fit(&Lambda::Fixed(1e-9))?;
/// // y = 2·φ₀ + 1·φ₁ exactly, with zero intercept.
/// let pred = model.predict(array![[3.0, 2.0]].view())?;
/// assert!((pred[[0, 0]] - 8.0).abs() < 1e-6);
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeAccumulator {
    dim: usize,
    n_outputs: usize,
    grid: Grid,
    count: u64,
    /// Σq over rows, per feature (grid integers).
    sum_phi: Vec<i128>,
    /// Σq and Σq² of the targets, per output.
    sum_y: Vec<i128>,
    sum_yy: Vec<i128>,
    /// QᵀQ, the packed lower triangle (column-major) of order D.
    gram: Vec<i128>,
    /// QᵀT, column-major D × m.
    cross: Vec<i128>,
    /// A weighted fit's weight grid and Σsᵢ² ([`update_weighted`](Self::update_weighted));
    /// `None` for plain statistics, whose every row counts 1.
    weighting: Option<Weighting>,
    /// Buffers reused by [`update`](Self::update): no state, not serialised, not compared.
    #[serde(skip)]
    scratch: Scratch,
}

/// The weights of weighted statistics: their grid, and Σsᵢ² over the rows so far (the weight
/// total Σwᵢ is Σsᵢ²·4ᵉ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Weighting {
    grid: WeightGrid,
    total: i128,
}

impl RidgeAccumulator {
    /// Empty statistics for `dim` features and `n_outputs` targets on `grid`. Allocates
    /// 8·dim² bytes (16 per entry of the lower triangle; the first [`update`](Self::update) adds
    /// scratch kept for later calls: 4·dim² bytes for the `i64` partial sums of
    /// [`crate::exact`], 8·dim² more for the D × D products on CPUs without its 16-bit kernels,
    /// and 12 KiB per feature for one block's rows), or returns
    /// [`RksError::TooLarge`](rks::RksError::TooLarge) (naming `n_frequencies`, which sets
    /// dim = 2n) when they cannot be had.
    pub fn new(dim: usize, n_outputs: usize, grid: Grid) -> Result<Self> {
        grid.check()?;
        let gram_len = packed_len(dim).unwrap_or(usize::MAX);
        let gram = rks::alloc::filled(
            gram_len,
            0i128,
            "the Gram matrix ΦᵀΦ",
            rks::error::Param::NFrequencies,
        )?;
        let cross_len = dim.saturating_mul(n_outputs);
        let cross = rks::alloc::filled(
            cross_len,
            0i128,
            "the products ΦᵀY",
            rks::error::Param::NFrequencies,
        )?;
        Ok(Self {
            dim,
            n_outputs,
            grid,
            count: 0,
            sum_phi: vec![0; dim],
            sum_y: vec![0; n_outputs],
            sum_yy: vec![0; n_outputs],
            gram,
            cross,
            weighting: None,
            scratch: Scratch::default(),
        })
    }

    /// Empty statistics of a **weighted** fit, min Σᵢ wᵢ‖yᵢ − Wᵀφᵢ − b‖² + λ‖W‖², for row weights
    /// in [0, `max_weight`] ([`update_weighted`](Self::update_weighted)). `grid` must hold the
    /// scaled rows: features up to √max_weight times their bound, targets within √max_weight
    /// times their half-range of its offset c ([`Grid::new`] with the bounds so scaled). The
    /// statistics are exact as the plain ones are ([`WeightGrid`]); every λ, path and
    /// leave-one-out score of these statistics is the weighted problem's.
    ///
    /// ```
    /// use ndarray::array;
    /// use rks_solvers::exact::Grid;
    /// use rks_solvers::ridge::RidgeAccumulator;
    ///
    /// // A weight of 4 counts a row four times (values in sixteenths: no rounding here).
    /// let phi = array![[0.5, -0.25], [0.25, 0.5], [-0.5, 0.125]];
    /// let y = array![[1.0], [-1.0], [1.0]];
    /// let mut weighted = RidgeAccumulator::new_weighted(2, 1, Grid::new(2.0, -2.0, 2.0)?, 4.0)?;
    /// weighted.update_weighted(phi.view(), y.view(), &[4.0, 1.0, 1.0])?;
    /// let mut repeated = RidgeAccumulator::new(2, 1, Grid::new(1.0, -1.0, 1.0)?)?;
    /// repeated.update(phi.view(), y.view())?;
    /// for _ in 0..3 {
    ///     repeated.update(phi.slice(ndarray::s![..1, ..]), y.slice(ndarray::s![..1, ..]))?;
    /// }
    /// let (a, b) = (weighted.solve(0.1)?, repeated.solve(0.1)?);
    /// assert!((&a.weights - &b.weights).iter().all(|d| d.abs() < 1e-12));
    /// assert!((a.intercept[0] - b.intercept[0]).abs() < 1e-12);
    /// # Ok::<(), rks_solvers::SolversError>(())
    /// ```
    pub fn new_weighted(dim: usize, n_outputs: usize, grid: Grid, max_weight: f64) -> Result<Self> {
        let weights = WeightGrid::new(max_weight)?;
        let mut acc = Self::new(dim, n_outputs, grid)?;
        acc.weighting = Some(Weighting {
            grid: weights,
            total: 0,
        });
        Ok(acc)
    }

    /// The weight grid of weighted statistics (`None` for plain ones).
    pub fn weight_grid(&self) -> Option<WeightGrid> {
        self.weighting.map(|w| w.grid)
    }

    /// Σwᵢ over the rows so far (as the weights were rounded, [`WeightGrid`]); the row count for
    /// plain statistics.
    pub fn weight_total(&self) -> f64 {
        match self.weighting {
            Some(w) => w.total as f64 * w.grid.step() * w.grid.step(),
            None => self.count as f64,
        }
    }

    /// Number of features D.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of targets m.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// Number of rows accumulated so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The fixed-point grid of the statistics.
    pub fn grid(&self) -> Grid {
        self.grid
    }

    /// Folds a chunk of rows in: `phi` is rows × D, `y` is rows × m (both finite, and within the
    /// grid: else [`SolversError::OffGrid`]).
    ///
    /// The rows are rounded to the grid and ΦᵀΦ (lower triangle only) and ΦᵀY are updated
    /// exactly, over blocks of [`BLOCK_ROWS`] rows, whose integer results
    /// are added in `i64` partial sums and those, before the call returns, in `i128`
    /// ([`crate::exact`]).
    pub fn update<F: Element>(
        &mut self,
        phi: ArrayView2<'_, F>,
        y: ArrayView2<'_, f64>,
    ) -> Result<()> {
        if self.weighting.is_some() {
            return Err(invalid(
                Param::RowWeights,
                "these statistics are weighted: fold rows in with update_weighted",
            ));
        }
        self.check_chunk(phi, y)?;
        self.fold(phi, y, None)
    }

    /// [`update`](Self::update) for statistics made by [`new_weighted`](Self::new_weighted):
    /// row i counts with weight `weights[i]` (finite, ≥ 0, and at most the weights' grid holds:
    /// the largest weight the statistics were made for, rounded up to a power of four).
    pub fn update_weighted<F: Element>(
        &mut self,
        phi: ArrayView2<'_, F>,
        y: ArrayView2<'_, f64>,
        weights: &[f64],
    ) -> Result<()> {
        let Some(weighting) = self.weighting else {
            return Err(invalid(
                Param::RowWeights,
                "these statistics are not weighted: make them with new_weighted",
            ));
        };
        self.check_chunk(phi, y)?;
        check_row_weights(weights, phi.nrows())?;
        let grid = weighting.grid;
        let s: Vec<i64> = weights.iter().map(|&w| grid.integer(w)).collect();
        if let Some(i) = s.iter().position(|&s| s as f64 > WEIGHT_LIMIT) {
            return Err(invalid(
                Param::RowWeights,
                format!(
                    "row {i}'s weight {} is above the largest these statistics were made for",
                    weights[i]
                ),
            ));
        }
        // The scaled rows rᵢφᵢ and rᵢ(yᵢ − c), block by block.
        let offset = self.grid.target_offset();
        let mut folded = Ok(());
        for start in (0..phi.nrows()).step_by(BLOCK_ROWS) {
            let end = phi.nrows().min(start + BLOCK_ROWS);
            let r: Vec<f64> = s[start..end].iter().map(|&s| grid.root(s)).collect();
            let scaled_phi = Array2::from_shape_fn((end - start, self.dim), |(i, j)| {
                r[i] * phi[[start + i, j]].to_f64_exact()
            });
            let scaled_y = Array2::from_shape_fn((end - start, self.n_outputs), |(i, k)| {
                r[i] * (y[[start + i, k]] - offset)
            });
            folded = self
                .fold(scaled_phi.view(), scaled_y.view(), Some(&s[start..end]))
                .map_err(|e| e.shifted(start));
            if folded.is_err() {
                break;
            }
            let total: i128 = s[start..end].iter().map(|&s| i128::from(s * s)).sum();
            if let Some(w) = &mut self.weighting {
                w.total += total;
            }
        }
        folded
    }

    /// The shapes and values of a chunk of rows.
    fn check_chunk<F: Element>(
        &self,
        phi: ArrayView2<'_, F>,
        y: ArrayView2<'_, f64>,
    ) -> Result<()> {
        self.check_consistent()?;
        check_rows(phi.nrows(), y.nrows())?;
        if phi.ncols() != self.dim {
            return Err(SolversError::DimensionMismatch {
                what: "feature columns",
                expected: self.dim,
                found: phi.ncols(),
            });
        }
        if y.ncols() != self.n_outputs {
            return Err(SolversError::DimensionMismatch {
                what: "target columns",
                expected: self.n_outputs,
                found: y.ncols(),
            });
        }
        check_finite("feature", phi)?;
        check_finite("target", y)
    }

    /// Folds checked rows in, over blocks of [`BLOCK_ROWS`] rows (`weights`: each row's integer
    /// sᵢ, the rows already scaled; see [`crate::exact::WeightGrid`]).
    fn fold<F: Element>(
        &mut self,
        phi: ArrayView2<'_, F>,
        y: ArrayView2<'_, f64>,
        weights: Option<&[i64]>,
    ) -> Result<()> {
        let rows = phi.nrows();
        if rows == 0 {
            return Ok(());
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let folder = scratch.folder(self.dim, self.n_outputs);
        let grid = self.grid;
        let mut folded = Ok(());
        for start in (0..rows).step_by(BLOCK_ROWS) {
            let block = (start..rows.min(start + BLOCK_ROWS)).into();
            folded = folder
                .add_block(
                    &grid,
                    phi.slice_axis(Axis(0), block),
                    y.slice_axis(Axis(0), block),
                    weights.map(|s| &s[start..rows.min(start + BLOCK_ROWS)]),
                    self.sums_mut(),
                )
                .map_err(|e| e.shifted(start));
            if folded.is_err() {
                break;
            }
        }
        // The blocks before an off-grid one stay added, as their rows were.
        folder.flush(self.sums_mut());
        self.scratch = scratch;
        folded?;
        self.count += rows as u64;
        Ok(())
    }

    /// [`update`](Self::update) with the features φ(x) of the rows `x` made by `map` (which
    /// must give D features), written into a buffer kept between calls (not serialised).
    pub fn update_mapped<M: FeatureMap>(
        &mut self,
        map: &M,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
    ) -> Result<()> {
        self.update_mapped_with(map, x, y, None)
    }

    /// [`update_weighted`](Self::update_weighted) with the features made by `map`, as
    /// [`update_mapped`](Self::update_mapped).
    pub fn update_mapped_weighted<M: FeatureMap>(
        &mut self,
        map: &M,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
        weights: &[f64],
    ) -> Result<()> {
        self.update_mapped_with(map, x, y, Some(weights))
    }

    fn update_mapped_with<M: FeatureMap>(
        &mut self,
        map: &M,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
        weights: Option<&[f64]>,
    ) -> Result<()> {
        if map.output_dim() != self.dim {
            return Err(SolversError::DimensionMismatch {
                what: "feature columns",
                expected: self.dim,
                found: map.output_dim(),
            });
        }
        let len = x.nrows().saturating_mul(self.dim);
        let mut buffer = self.scratch.take_features();
        if buffer.len() < len {
            buffer
                .try_reserve_exact(len - buffer.len())
                .map_err(|_| rks::RksError::TooLarge {
                    what: "the features of a chunk",
                    parameter: rks::error::Param::NFrequencies,
                    bytes: len as u128 * 8,
                })?;
            buffer.resize(len, 0.0);
        }
        let folded = (|| {
            let mut phi = ArrayViewMut2::from_shape((x.nrows(), self.dim), &mut buffer[..len])
                .unwrap_or_else(|_| unreachable!("rows × D entries"));
            map.transform_into(x, phi.view_mut())?;
            match weights {
                None => self.update(phi.view(), y),
                Some(w) => self.update_weighted(phi.view(), y, w),
            }
        })();
        self.scratch.put_features(buffer);
        folded
    }

    /// Adds the statistics of another accumulator (same D, m and grid) into these: exact, so
    /// merges in any grouping give the same statistics.
    pub fn merge(&mut self, other: &RidgeAccumulator) -> Result<()> {
        self.check_consistent()?;
        other.check_consistent()?;
        if (other.dim, other.n_outputs) != (self.dim, self.n_outputs) {
            return Err(SolversError::DimensionMismatch {
                what: "accumulator features × outputs (as D·m + m)",
                expected: self.dim * self.n_outputs + self.n_outputs,
                found: other.dim * other.n_outputs + other.n_outputs,
            });
        }
        if other.grid != self.grid || other.weight_grid() != self.weight_grid() {
            return Err(SolversError::PartialMismatch(format!(
                "the statistics were summed on different grids ({:?}, weights {:?}, and {:?}, \
                 weights {:?}): every part must use the grid of the same plan",
                self.grid,
                self.weight_grid(),
                other.grid,
                other.weight_grid()
            )));
        }
        if let (Some(mine), Some(theirs)) = (&mut self.weighting, other.weighting) {
            mine.total += theirs.total;
        }
        for (mine, theirs) in self.sums_mut().into_iter().zip(other.sums()) {
            mine.iter_mut()
                .zip(theirs)
                .for_each(|(a, b)| *a = a.wrapping_add(*b));
        }
        self.count += other.count;
        Ok(())
    }

    /// Every sum, in a fixed order (Σφ, Σy, Σy², ΦᵀΦ, ΦᵀY).
    fn sums(&self) -> [&Vec<i128>; 5] {
        [
            &self.sum_phi,
            &self.sum_y,
            &self.sum_yy,
            &self.gram,
            &self.cross,
        ]
    }

    fn sums_mut(&mut self) -> [&mut Vec<i128>; 5] {
        [
            &mut self.sum_phi,
            &mut self.sum_y,
            &mut self.sum_yy,
            &mut self.gram,
            &mut self.cross,
        ]
    }

    /// The row count and every sum as `u64` limbs ([`to_limbs`]):
    /// element-wise integer sums of the limbs of accumulators with the same D, m and grid, in
    /// any grouping (an MPI `Allreduce` with `MPI_SUM`), are the limbs of their
    /// [`merge`](Self::merge). [`with_limbs`](Self::with_limbs) reads them back.
    /// Weighted statistics add their Σsᵢ² after the sums.
    pub fn limbs(&self) -> Vec<u64> {
        let mut values = vec![i128::from(self.count)];
        for sum in self.sums() {
            values.extend_from_slice(sum);
        }
        values.extend(self.weighting.map(|w| w.total));
        to_limbs(&values)
    }

    /// These statistics' shape and grid with the summed `limbs` of [`limbs`](Self::limbs).
    pub fn with_limbs(&self, limbs: &[u64]) -> Result<Self> {
        let values = from_limbs(limbs);
        let weighted = usize::from(self.weighting.is_some());
        let expected = 1 + self.sums().iter().map(|s| s.len()).sum::<usize>() + weighted;
        if values.len() != expected || !limbs.len().is_multiple_of(LIMBS) {
            return Err(SolversError::DimensionMismatch {
                what: "limbs of the statistics (as values)",
                expected,
                found: limbs.len() / LIMBS,
            });
        }
        let count = u64::try_from(values[0]).map_err(|_| {
            SolversError::PartialMismatch(format!("a row count of {} is impossible", values[0]))
        })?;
        let mut out = self.clone();
        out.count = count;
        let mut rest = &values[1..];
        for sum in out.sums_mut() {
            let (head, tail) = rest.split_at(sum.len());
            sum.copy_from_slice(head);
            rest = tail;
        }
        if let (Some(w), [total]) = (&mut out.weighting, rest) {
            w.total = *total;
        }
        Ok(out)
    }

    /// The vectors have the lengths D and m imply (a deserialised accumulator may not).
    fn check_consistent(&self) -> Result<()> {
        let (d, m) = (self.dim, self.n_outputs);
        let ok = packed_len(d) == Some(self.gram.len())
            && d.checked_mul(m) == Some(self.cross.len())
            && self.sum_phi.len() == d
            && self.sum_y.len() == m
            && self.sum_yy.len() == m
            && self.grid.check().is_ok()
            && self
                .weighting
                .is_none_or(|w| w.grid.check().is_ok() && w.total >= 0);
        if ok {
            Ok(())
        } else {
            Err(SolversError::DimensionMismatch {
                what: "accumulator statistics (inconsistent lengths for D and m)",
                expected: d,
                found: self.sum_phi.len(),
            })
        }
    }

    /// The count the centring divides by, exactly and as f64: N, or Σsᵢ² for weighted
    /// statistics (whose column sums are Σsᵢqᵢ: the weighted means are their ratio over 2ᵉ).
    fn n(&self) -> Result<(i128, f64)> {
        self.check_consistent()?;
        let total = match self.weighting {
            Some(w) => w.total,
            None => i128::from(self.count),
        };
        if total == 0 {
            Err(SolversError::EmptyInput(
                "no rows (of positive weight) were accumulated".into(),
            ))
        } else {
            Ok((total, total as f64))
        }
    }

    /// The step of √w (1 for plain statistics): a mean is Σsᵢqᵢ·step/(Σsᵢ²·this).
    fn root_step(&self) -> f64 {
        self.weighting.map_or(1.0, |w| w.grid.step())
    }

    pub(crate) fn mean_phi(&self) -> Result<Vec<f64>> {
        let (_, n) = self.n()?;
        let step = self.grid.feature_step() / self.root_step();
        Ok(self.sum_phi.iter().map(|&s| s as f64 / n * step).collect())
    }

    pub(crate) fn mean_y(&self) -> Result<Vec<f64>> {
        let (_, n) = self.n()?;
        let step = self.grid.target_step() / self.root_step();
        let offset = self.grid.target_offset();
        Ok(self
            .sum_y
            .iter()
            .map(|&s| offset + s as f64 / n * step)
            .collect())
    }

    /// The centred C = ΦᵀΦ − N μμᵀ (its lower triangle, which is all that the eigendecomposition
    /// and the Cholesky factorisation read) and B = ΦᵀY − N μȳᵀ, from the
    /// exact N·(QᵀQ)ᵢⱼ − (Σq)ᵢ(Σq)ⱼ where it fits in an `i128` (always, below about 2⁴⁰ rows):
    /// no cancellation, one rounding per entry.
    /// Weighted statistics give the weighted C = Σwᵢ(φᵢ − μ)(φᵢ − μ)ᵀ and B from the same
    /// expression with Σsᵢ² for N ([`crate::exact::WeightGrid`]).
    pub(crate) fn centred(&self) -> Result<(Array2<f64>, Array2<f64>)> {
        let (count, n) = self.n()?;
        let centre = |product: i128, a: i128, b: i128, scale: f64| {
            let exact = count
                .checked_mul(product)
                .and_then(|p| a.checked_mul(b).and_then(|ab| p.checked_sub(ab)));
            match exact {
                Some(v) => v as f64 / n * scale,
                None => (product as f64 - a as f64 * (b as f64 / n)) * scale,
            }
        };
        let fs = self.grid.feature_step();
        let ts = self.grid.target_step();
        let d = self.dim;
        let c = Array2::from_shape_fn((d, d), |(i, j)| {
            if i >= j {
                let g = self.gram[packed_index(d, i, j)];
                centre(g, self.sum_phi[i], self.sum_phi[j], fs * fs)
            } else {
                0.0
            }
        });
        let b = Array2::from_shape_fn((d, self.n_outputs), |(i, k)| {
            centre(
                self.cross[k * d + i],
                self.sum_phi[i],
                self.sum_y[k],
                fs * ts,
            )
        });
        Ok((c, b))
    }

    /// The centred Σy² per output, exact before its one rounding (as [`centred`](Self::centred)).
    fn yy_centred(&self) -> Result<Vec<f64>> {
        let (count, n) = self.n()?;
        let ts = self.grid.target_step();
        Ok(self
            .sum_yy
            .iter()
            .zip(&self.sum_y)
            .map(|(&yy, &s)| {
                let exact = count
                    .checked_mul(yy)
                    .and_then(|p| s.checked_mul(s).and_then(|ss| p.checked_sub(ss)));
                let v = match exact {
                    Some(v) => v as f64 / n,
                    None => yy as f64 - s as f64 * (s as f64 / n),
                };
                (v * ts * ts).max(0.0)
            })
            .collect())
    }

    /// Solves for a fixed λ ≥ 0 by Cholesky factorisation of C + λI.
    pub fn solve(&self, lambda: f64) -> Result<Ridge> {
        Lambda::Fixed(lambda).validate()?;
        let (c, b) = self.centred()?;
        let w = shifted_solve(
            c,
            lambda,
            b.view(),
            "C + λI",
            "use a larger λ or λ chosen by GCV",
        )?;
        self.finish(w, lambda, None)
    }

    /// Diagonalises the centred ΦᵀΦ once, for evaluating many λ cheaply.
    ///
    /// For weighted statistics GCV counts the rows, not their weights: N·RSS_w/(N − df)², so
    /// that weights all equal to c choose the model of no weights (at λ·c, which the grid,
    /// relative to tr(C), follows).
    pub fn path(&self) -> Result<RidgePath> {
        self.n()?;
        let n = self.count as f64;
        let (c, b) = self.centred()?;
        let (q, eigenvalues) = eigen(&c)?;
        let z = product(q.t(), b.view());
        let yy_centred = self.yy_centred()?;
        Ok(RidgePath {
            n,
            dim: self.dim,
            trace: diagonal_sum(&c),
            eigenvalues,
            basis: Basis::Features { q, z, yy_centred },
        })
    }

    /// Fits with λ fixed or chosen by GCV (the path chooses, Cholesky solves).
    pub fn fit(&self, lambda: &Lambda) -> Result<Ridge> {
        lambda.validate()?;
        let grid = match lambda {
            Lambda::Fixed(l) => return self.solve(*l),
            Lambda::Gcv => None,
            Lambda::GcvGrid(grid) => Some(grid.clone()),
        };
        let report = self.path()?.choose(grid)?;
        let mut ridge = self.solve(report.grid[report.chosen])?;
        ridge.gcv = Some(report);
        Ok(ridge)
    }

    fn finish(&self, w: Array2<f64>, lambda: f64, gcv: Option<GcvReport>) -> Result<Ridge> {
        ridge_from(w, &self.mean_phi()?, &self.mean_y()?, lambda, gcv)
    }
}

/// Checks row weights: one per row, each finite and ≥ 0, some > 0.
pub(crate) fn check_row_weights(weights: &[f64], rows: usize) -> Result<()> {
    if weights.len() != rows {
        return Err(SolversError::DimensionMismatch {
            what: "row weights",
            expected: rows,
            found: weights.len(),
        });
    }
    if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(invalid(
            Param::RowWeights,
            format!(
                "row {i}'s weight must be finite and ≥ 0, got {}",
                weights[i]
            ),
        ));
    }
    Ok(())
}

/// Checks row weights that must all be positive (a leave-one-out path scores, and an SVM
/// bounds, every row): [`check_row_weights`] and none 0; `what` names the user.
pub(crate) fn check_positive_row_weights(weights: &[f64], rows: usize, what: &str) -> Result<()> {
    check_row_weights(weights, rows)?;
    match weights.iter().position(|&w| w == 0.0) {
        Some(i) => Err(invalid(
            Param::RowWeights,
            format!(
                "row {i}'s weight is 0: {what} takes rows of positive weight (leave the row out)"
            ),
        )),
        None => Ok(()),
    }
}

/// Fits ridge on rows held in memory: `phi` is N × D, `y` is N × m (both finite). With fewer rows
/// than features it solves the dual form (module docs) in O(N²·D) time and O(N·D) memory; else
/// it folds the rows into a [`RidgeAccumulator`]. Both give the same model up to rounding.
///
/// ```
/// use ndarray::Array2;
/// use rks_solvers::ridge::{Lambda, RidgeAccumulator, fit_rows};
///
/// // 5 rows, 50 features: the dual form, with the primal form's answer.
/// // Values in sixteenths: the exact statistics of the primal form hold them without rounding.
/// let phi = Array2::from_shape_fn((5, 50), |(i, j)| ((i * j * j + 3 * j) % 29) as f64 / 16.0);
/// let y = Array2::from_shape_fn((5, 1), |(i, _)| i as f64);
/// let dual = fit_rows(phi.view(), y.view(), &Lambda::Fixed(0.1))?;
/// let grid = rks_solvers::exact::Grid::covering(phi.view(), y.view())?;
/// let mut primal = RidgeAccumulator::new(50, 1, grid)?;
/// primal.update(phi.view(), y.view())?;
/// let primal = primal.solve(0.1)?;
/// let (a, b) = (dual.predict(phi.view())?, primal.predict(phi.view())?);
/// assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-9));
/// // A small λ nearly interpolates the 5 rows.
/// assert!((a[[4, 0]] - 4.0).abs() < 0.1);
/// # Ok::<(), rks_solvers::SolversError>(())
/// ```
pub fn fit_rows<F: Element>(
    phi: ArrayView2<'_, F>,
    y: ArrayView2<'_, f64>,
    lambda: &Lambda,
) -> Result<Ridge> {
    if phi.nrows() >= phi.ncols() {
        return fit_primal(phi, y, lambda);
    }
    fit_dual(phi.mapv(|v| v.to_f64_exact()), y, lambda)
}

/// [`fit_rows`] taking the features by value: the dual form then centres them in place instead
/// of copying them.
pub fn fit_rows_owned(phi: Array2<f64>, y: ArrayView2<'_, f64>, lambda: &Lambda) -> Result<Ridge> {
    if phi.nrows() >= phi.ncols() {
        return fit_primal(phi.view(), y, lambda);
    }
    fit_dual(phi, y, lambda)
}

fn fit_primal<F: Element>(
    phi: ArrayView2<'_, F>,
    y: ArrayView2<'_, f64>,
    lambda: &Lambda,
) -> Result<Ridge> {
    lambda.validate()?;
    let phi = phi.mapv(|v| v.to_f64_exact());
    let mut acc = RidgeAccumulator::new(phi.ncols(), y.ncols(), Grid::covering(phi.view(), y)?)?;
    acc.update(phi.view(), y)?;
    acc.fit(lambda)
}

fn fit_dual(phi: Array2<f64>, y: ArrayView2<'_, f64>, lambda: &Lambda) -> Result<Ridge> {
    lambda.validate()?;
    check_rows(phi.nrows(), y.nrows())?;
    check_finite("feature", phi.view())?;
    check_finite("target", y)?;
    let dual = Dual::new(phi, y)?;
    match lambda {
        Lambda::Fixed(l) => dual.solve(*l),
        Lambda::Gcv => dual.fit_gcv(None),
        Lambda::GcvGrid(grid) => dual.fit_gcv(Some(grid.clone())),
    }
}

/// The centred rows and targets of a dual fit, and K = ΦcΦcᵀ.
struct Dual {
    mu: Vec<f64>,
    ybar: Vec<f64>,
    /// Φc, N × D in standard (row-major) layout.
    phi: Array2<f64>,
    /// Yc, N × m.
    yc: Array2<f64>,
    /// K = ΦcΦcᵀ ([`row_gram`]: exactly symmetric, the same bits on every CPU).
    k: Array2<f64>,
}

impl Dual {
    fn new(phi: Array2<f64>, y: ArrayView2<'_, f64>) -> Result<Self> {
        let rows = phi.nrows();
        if rows == 0 {
            return Err(SolversError::EmptyInput("no rows to fit".into()));
        }
        let n = rows as f64;
        let column_mean = |sum: f64| sum / n;
        // Standard layout first, so the sums below run in one order whatever the caller's layout.
        let mut phi = if phi.is_standard_layout() {
            phi
        } else {
            phi.as_standard_layout().into_owned()
        };
        let mu: Vec<f64> = phi
            .axis_iter(Axis(1))
            .map(|c| column_mean(c.sum()))
            .collect();
        let ybar: Vec<f64> = y.axis_iter(Axis(1)).map(|c| column_mean(c.sum())).collect();
        for mut row in phi.rows_mut() {
            row.iter_mut().zip(&mu).for_each(|(v, m)| *v -= m);
        }
        let yc = Array2::from_shape_fn((rows, y.ncols()), |(i, k)| y[[i, k]] - ybar[k]);
        let k = row_gram(phi.view());
        Ok(Self {
            mu,
            ybar,
            phi,
            yc,
            k,
        })
    }

    /// W = Φcᵀ (K + λI)⁻¹ Yc by Cholesky.
    fn solve(&self, lambda: f64) -> Result<Ridge> {
        if lambda == 0.0 {
            // Centred rows sum to zero, so K·1 = 0: K is singular, whatever rounding says.
            return Err(SolversError::LinearAlgebra(
                "λ = 0 needs more rows than features (with fewer, ΦcΦcᵀ is singular); use λ > 0"
                    .into(),
            ));
        }
        let alpha = shifted_solve(
            self.k.clone(),
            lambda,
            self.yc.view(),
            "K + λI",
            "use a larger λ",
        )?;
        let w = transposed_product(self.phi.view(), alpha.view());
        ridge_from(w, &self.mu, &self.ybar, lambda, None)
    }

    /// λ chosen by GCV on the eigendecomposition of K, the model solved at it by Cholesky.
    fn fit_gcv(self, grid: Option<Vec<f64>>) -> Result<Ridge> {
        let (u, eigenvalues) = eigen(&self.k)?;
        let rows = self.k.nrows();
        let y_tilde = product(u.t(), self.yc.view());
        let path = RidgePath {
            n: rows as f64,
            dim: self.phi.ncols(),
            trace: diagonal_sum(&self.k),
            eigenvalues,
            basis: Basis::Rows { y_tilde },
        };
        let report = path.choose(grid)?;
        let mut ridge = self.solve(report.grid[report.chosen])?;
        ridge.gcv = Some(report);
        Ok(ridge)
    }
}

/// Σᵢ aᵢᵢ in order.
fn diagonal_sum(a: &Array2<f64>) -> f64 {
    a.diag().iter().sum()
}

/// (A + λI)⁻¹ B by [`Cholesky`], for a symmetric A given by its lower triangle; `name` and
/// `advice` word the error when A + λI is not positive definite.
pub(crate) fn shifted_solve(
    a: Array2<f64>,
    lambda: f64,
    b: ArrayView2<'_, f64>,
    name: &str,
    advice: &str,
) -> Result<Array2<f64>> {
    let chol = Cholesky::factor(a, lambda).map_err(|e| {
        SolversError::LinearAlgebra(format!(
            "{name} is not positive definite at λ = {lambda} ({e}); {advice}"
        ))
    })?;
    chol.solve(b)
        .map_err(|e| SolversError::LinearAlgebra(format!("{name} solved for B: {e}")))
}

/// The eigenvectors (as columns) and eigenvalues (non-decreasing, clamped at 0) of a positive
/// semi-definite matrix given by its lower triangle (the upper one is not read), by
/// [`rks::symmetric::Eigen`]: the same bits on every CPU and for any thread count, so that the
/// λ, σ and n these eigenvalues score are chosen alike everywhere.
pub(crate) fn eigen(a: &Array2<f64>) -> Result<(Array2<f64>, Vec<f64>)> {
    let e = Eigen::of(a.view())
        .map_err(|e| SolversError::LinearAlgebra(format!("eigendecomposition failed: {e}")))?;
    // Rounding can leave tiny negative eigenvalues of a positive semi-definite matrix.
    let values = e.values.iter().map(|v| v.max(0.0)).collect();
    // Row j of `vectors` is eigenvector j: the transposed view has them as columns.
    Ok((e.vectors.reversed_axes(), values))
}

/// The model from centred weights W and the means: b = ȳ − Wᵀμ; non-finite values are an error.
pub(crate) fn ridge_from(
    weights: Array2<f64>,
    mu: &[f64],
    ybar: &[f64],
    lambda: f64,
    gcv: Option<GcvReport>,
) -> Result<Ridge> {
    let intercept = Array1::from_shape_fn(weights.ncols(), |k| {
        ybar[k]
            - (0..weights.nrows())
                .map(|i| weights[[i, k]] * mu[i])
                .sum::<f64>()
    });
    if weights
        .iter()
        .chain(intercept.iter())
        .any(|v| !v.is_finite())
    {
        return Err(SolversError::LinearAlgebra(format!(
            "the ridge solution at λ = {lambda} is not finite; use a larger λ"
        )));
    }
    Ok(Ridge {
        weights,
        intercept,
        lambda,
        gcv,
    })
}

/// The eigendecomposition of the centred ΦᵀΦ (or, from rows, of ΦcΦcᵀ), for evaluating many λ
/// at O(D·m) each.
#[derive(Debug, Clone)]
pub struct RidgePath {
    n: f64,
    /// D, the number of features (the mean eigenvalue is over all D).
    dim: usize,
    /// tr(C) = tr(K), summed from the matrix's diagonal in order, not from the eigenvalues:
    /// the λ grid's scale, and so λ itself, must not take the eigendecomposition's per-CPU
    /// rounding.
    trace: f64,
    eigenvalues: Vec<f64>,
    basis: Basis,
}

/// The eigenvectors and the targets in their basis.
#[derive(Debug, Clone)]
enum Basis {
    /// Q, the eigenvectors of C (D × D), Z = QᵀB and the centred yᵀy per output
    /// (W(λ) = Q (Λ + λI)⁻¹ Z).
    Features {
        q: Array2<f64>,
        z: Array2<f64>,
        yy_centred: Vec<f64>,
    },
    /// Ỹ = UᵀYc for U, the eigenvectors of K = ΦcΦcᵀ (N × N) (W(λ) = Φcᵀ U (Σ + λI)⁻¹ Ỹ).
    /// Yc lies wholly in this basis, so the residual is known exactly:
    /// Yc − ΦcW = U λ(Σ + λI)⁻¹ Ỹ.
    Rows { y_tilde: Array2<f64> },
}

impl RidgePath {
    /// Eigenvalues of the centred ΦᵀΦ (clamped at 0), in non-decreasing order: all D of them, or,
    /// for a path built from N < D rows, the N eigenvalues of ΦcΦcᵀ (the others are 0).
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// Rows N behind the path.
    pub fn rows(&self) -> f64 {
        self.n
    }

    /// Q (D × D, the eigenvectors of C) and Z = QᵀB, for a path built from statistics; `None`
    /// for a path built from rows.
    pub(crate) fn feature_basis(&self) -> Option<(&Array2<f64>, &Array2<f64>)> {
        match &self.basis {
            Basis::Features { q, z, .. } => Some((q, z)),
            Basis::Rows { .. } => None,
        }
    }

    /// tr(C)/D: the natural scale for λ (the trace from C's diagonal).
    pub fn mean_eigenvalue(&self) -> f64 {
        self.trace / self.dim.max(1) as f64
    }

    /// tr(C), from C's diagonal (the same bits on every CPU).
    pub(crate) fn trace(&self) -> f64 {
        self.trace
    }

    /// Effective degrees of freedom 1 + Σ λᵢ/(λᵢ + λ), counting the intercept.
    pub fn degrees_of_freedom(&self, lambda: f64) -> f64 {
        1.0 + self
            .eigenvalues
            .iter()
            .map(|&e| if e > 0.0 { e / (e + lambda) } else { 0.0 })
            .sum::<f64>()
    }

    /// N − df(λ). From rows, as Σᵢ λ/(σᵢ + λ) − 1 over the N eigenvalues of K (σ = 0 counts 1,
    /// the −1 is the intercept's): no cancellation near interpolation, where df → N.
    fn residual_df(&self, lambda: f64) -> f64 {
        match self.basis {
            Basis::Features { .. } => self.n - self.degrees_of_freedom(lambda),
            Basis::Rows { .. } => {
                self.eigenvalues
                    .iter()
                    .map(|&e| if e > 0.0 { lambda / (e + lambda) } else { 1.0 })
                    .sum::<f64>()
                    - 1.0
            }
        }
    }

    /// Residual sum of squares on the training rows, summed over outputs.
    pub fn rss(&self, lambda: f64) -> f64 {
        match &self.basis {
            Basis::Features { z, yy_centred, .. } => {
                let mut rss = 0.0;
                for (k, yy) in yy_centred.iter().enumerate() {
                    let explained: f64 = self
                        .eigenvalues
                        .iter()
                        .enumerate()
                        .map(|(i, &e)| {
                            let d = e + lambda;
                            if d > 0.0 {
                                z[(i, k)].powi(2) * (e + 2.0 * lambda) / (d * d)
                            } else {
                                0.0
                            }
                        })
                        .sum();
                    rss += (yy - explained).max(0.0);
                }
                rss
            }
            Basis::Rows { y_tilde, .. } => (0..y_tilde.ncols())
                .map(|k| {
                    self.eigenvalues
                        .iter()
                        .enumerate()
                        .map(|(i, &e)| {
                            let d = e + lambda;
                            let kept = if d > 0.0 { lambda / d } else { 1.0 };
                            (kept * y_tilde[(i, k)]).powi(2)
                        })
                        .sum::<f64>()
                })
                .sum(),
        }
    }

    /// GCV(λ) = N · RSS(λ) / (N − df(λ))², +∞ where df(λ) ≥ N (the fit interpolates).
    pub fn gcv(&self, lambda: f64) -> f64 {
        let denom = self.residual_df(lambda);
        if denom <= 0.0 {
            f64::INFINITY
        } else {
            self.n * self.rss(lambda) / (denom * denom)
        }
    }

    /// The λ of `grid` (or of [`default_grid`]) with the least GCV (the first on ties, so the
    /// choice is deterministic), and the scores.
    fn choose(&self, grid: Option<Vec<f64>>) -> Result<GcvReport> {
        let grid = grid.unwrap_or_else(|| default_grid(self.mean_eigenvalue()));
        let scores: Vec<f64> = grid.iter().map(|&l| self.gcv(l)).collect();
        let best = (0..grid.len())
            .min_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .ok_or_else(|| invalid(Param::Lambda, "the GCV grid is empty"))?;
        Ok(GcvReport {
            grid,
            scores,
            chosen: best,
        })
    }
}

/// The GCV scores of the grid that chose λ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GcvReport {
    /// The λ values tried.
    pub grid: Vec<f64>,
    /// GCV(λ) for each.
    pub scores: Vec<f64>,
    /// Index of the chosen λ (the first minimum).
    pub chosen: usize,
}

impl GcvReport {
    /// The report with each score rounded to the nearest f32 (7 significant digits), as a
    /// [`KernelMachine`](crate::KernelMachine) keeps it (enough for a report). The rounding
    /// dates from when the scores came from faer's eigendecomposition, whose last bits differed
    /// between CPUs; since `rks::symmetric` makes them (2026-12-06) they are the same bits
    /// everywhere, and the files keep the format they had. Scores beyond f32's range are kept as
    /// they are, as are the grid and the choice.
    ///
    /// ```
    /// use rks_solvers::ridge::GcvReport;
    /// let r = GcvReport { grid: vec![0.1, 1.0], scores: vec![0.123456789, f64::INFINITY], chosen: 0 };
    /// let kept = r.rounded();
    /// assert_eq!(kept.scores, vec![0.123456789f32 as f64, f64::INFINITY]);
    /// ```
    pub fn rounded(self) -> Self {
        Self {
            scores: self
                .scores
                .iter()
                .map(|&v| {
                    if v.abs() <= f64::from(f32::MAX) {
                        f64::from(v as f32)
                    } else {
                        v
                    }
                })
                .collect(),
            ..self
        }
    }
}

/// A fitted ridge model ŷ = Wᵀφ + b.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ridge {
    /// D × m weights.
    pub weights: Array2<f64>,
    /// m intercepts.
    pub intercept: Array1<f64>,
    /// The λ used.
    pub lambda: f64,
    /// How λ was chosen, when by GCV.
    pub gcv: Option<GcvReport>,
}

impl Ridge {
    /// Predictions ΦW + 1bᵀ (rows × m).
    pub fn predict<F: Element>(&self, phi: ArrayView2<'_, F>) -> Result<Array2<f64>> {
        crate::validate::linear_scores(&self.weights, &self.intercept, phi)
    }
}

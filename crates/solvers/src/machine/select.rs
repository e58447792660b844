//! Model selection inside the fit: the bandwidth σ, the ridge penalty λ and the number of
//! frequencies n, chosen from the data by exact leave-one-out ([`crate::loo`]).
//!
//! Random features make the search cheap: for one σ, a single eigendecomposition scores every λ
//! by exact leave-one-out. The search runs in two stages:
//!
//! 1. **σ**, on a seeded sample of at most [`Selection::search_rows`] rows (the same
//!    [`rks::sample`] rows the median heuristic uses) with at most
//!    [`Selection::search_frequencies`] frequencies: every multiple of the median-heuristic σ in
//!    [`Selection::sigma_factors`] (default ×1/8 … ×4), each with its best λ, then the two
//!    neighbours ×2^{±1/2} of the best. Then, for a regression, σ **walks** down on the same
//!    rows at the fit's n: halved while each halving lowers the leave-one-out squared error by
//!    more than one standard error of the row-by-row difference ([`Selection::sigma_walk`]).
//!    The few frequencies of the grid approximate a narrow kernel poorly, so the grid's choice
//!    leans wide; the walk corrects that where the sampled rows show it clearly, and leaves σ
//!    alone where the difference is within their noise. A classifier's grid on a sample small
//!    enough ([`Selection::exact_sigma`]: its trials within the costly share of the budget) is
//!    scored with the **exact kernel** instead — the centred N × N kernel matrix's
//!    eigendecomposition gives every λ's leave-one-out scores ([`LooPath::from_kernel`]), as a
//!    Nyström map with every row a landmark would — so no frequency count biases it.
//! 2. **λ**, on every training row at the full n and the chosen σ: the whole λ grid by exact
//!    leave-one-out from one factorisation. With a time [`budget`](Selection::budget_seconds),
//!    n then grows by doubling while each step improves the score and the steps so far and the
//!    next one fit in the budget; a **costly** step — one estimated above
//!    [`costly_step`](Selection::costly_step) of the budget (a fifth by default) — is taken
//!    **only after a clear gain**: the last doubling lowered the rows' leave-one-out losses
//!    (for classification whether each row is wrong, 0 or 1; for regression its squared
//!    residual) by more than one standard error of their row-by-row difference on the rows
//!    both steps scored ([`clearly_lower`]; for classification a McNemar-style count: the
//!    rows the doubling put right against those it put wrong). When the doubling past the n
//!    given would be costly, the search starts one step below it (n/2, then n) to have that
//!    first comparison, unless the budget could not pay for the doubling anyway. A step is
//!    kept only when it improves on every earlier one, so the model may end at n/2; a budget
//!    below the first step's cost fits the n given, and the report says so. Why: where the
//!    score has flattened, a doubling costs four to eight times the step before it and wins
//!    nothing the rows can show (on 5,920 rows of twonorm, 1,024 → 2,048 Nyström landmarks
//!    took 5.6 s of a 6.2 s search, for an error rate 2.20 → 2.33 %), while on a small file
//!    the cheap steps also lower the random features' own noise (see
//!    [`costly_step`](Selection::costly_step)). When the maps are compared and a map's step at
//!    the n given is costly, each map starts from the same number of features: n/2
//!    frequencies for the maps with two (cos and sin) per frequency, which clear gains may
//!    take back to n.
//!    The steps' seconds are **estimated from operation counts** at
//!    [`REFERENCE_FLOPS`] ([`estimated_step_seconds`]), not measured, so the n a budget allows
//!    depends on the data's shape and the budget alone: the same model on every machine, under
//!    any load and for any thread count.
//!
//! Classification compares leave-one-out **error rates**, ties broken by the squared error,
//! where rates within one binomial standard error of each other count as tied
//! ([`LooScore::better_than`](crate::loo::LooScore::better_than));
//! regression the squared error. A choice only replaces another when strictly better, and the
//! grids are scanned from the smoothest end (large σ, large λ), so ties go to the smoother model.
//!
//! Threads: the grid's trials (and the refinement's two) are independent and run side by side,
//! as do the maps' searches when several are compared; each is compared with the others in the
//! grid's order afterwards, and every operation inside a trial has block shapes that do not
//! depend on the thread count, so the choice and the model are the same for any number of
//! threads. The eigendecompositions, sequential for that reason, overlap instead.
//!
//! Memory: with fewer rows than features, stage 2 holds every row's features (N·D·8 bytes) and
//! the N × N factorisation; otherwise the D × D statistics, one chunk's features and those of
//! the scored rows (at most [`Selection::loo_rows`]), whatever N. When the maps are compared,
//! their searches run at the same time, so the fit's peak is the sum of theirs.

use crate::error::Param;
use crate::task::SolverKind;
use std::time::Instant;

use rayon::prelude::*;

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rks::median::{DEFAULT_SAMPLE_ROWS, median_heuristic_sigma};
use rks::scaler::Scaler;
use rks::{FeatureMap, MapKind};
use serde::{Deserialize, Serialize};

use super::KernelMachineValidParams;
use super::bounds::Ranges;
use super::fit::Prepared;
use crate::error::{Result, invalid};
use crate::labels::{LabelMap, signed_one_hot};
use crate::loo::{LooPath, LooScore, clearly_lower, relative_weights, wrong_rows};
use crate::ridge::{GcvReport, Lambda, Ridge, RidgeAccumulator};

/// What model selection searches; see the [module docs](self).
///
/// ```
/// use rks_solvers::machine::Selection;
/// let s = Selection::default();
/// assert_eq!(s.sigma_factors, vec![0.125, 0.25, 0.5, 1.0, 2.0, 4.0]);
/// assert_eq!(s.cs, vec![0.01, 0.1, 1.0, 10.0, 100.0]); // the SVM's C, by 3-fold CV
/// assert!(s.solvers.is_empty()); // the params' solver only
/// assert!(s.budget_seconds.is_none()); // n as given unless a budget is set
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Multiples of the median-heuristic σ tried (each > 0), when no bandwidth is given.
    pub sigma_factors: Vec<f64>,
    /// Also try the neighbours ×2^{±1/2} of the best factor.
    pub refine: bool,
    /// Halvings of σ tried after the grid, on the same sampled rows at the fit's n (at most;
    /// 0: none; for classification only with
    /// [`walk_classification`](Self::walk_classification)). Each is kept only when it lowers
    /// the leave-one-out score by more than one standard error — the error rate by its
    /// binomial standard error
    /// ([`LooScore::clearly_better_than`]), the squared error by the standard error of its
    /// row-by-row difference ([`crate::loo::clearly_lower`]) — and the walk stops at the first
    /// that is not. Each costs one factorisation of the sampled rows.
    #[serde(default = "default_sigma_walk")]
    pub sigma_walk: usize,
    /// Walk for classification too. Off by default: on the twenty-two classification sets of
    /// docs/benchmarks.md no halving lowered the error rate by more than its binomial standard
    /// error, so the walk only added its factorisations (about 40 % of the fit's time on sets of
    /// a few thousand rows); on regression it is on.
    #[serde(default)]
    pub walk_classification: bool,
    /// Score a classifier's σ grid with the **exact kernel** instead of
    /// [`search_frequencies`](Self::search_frequencies) features when a budget is set and the
    /// grid's trials on the sampled rows are estimated to cost at most its
    /// [`costly_step`](Self::costly_step) share ([`estimated_exact_trial_seconds`]: an N × N
    /// kernel matrix and its eigendecomposition per σ, [`LooPath::from_kernel`]). Why: a few
    /// hundred frequencies cannot resolve a narrow kernel, so the features' leave-one-out
    /// leans to wide σ (on tic-tac-toe's 766 rows × 27 columns, 256 Fastfood frequencies
    /// scored ×0.5 the median at 16 % error and chose ×5.66 at 2 %, a near-linear model; the
    /// exact kernel errs 0.8 % at ×1). At the default budget this covers samples of up to about
    /// 1,000 rows. When the maps are compared the grid is scored once, on the whole budget,
    /// before they share it: the exact kernel does not depend on the map.
    #[serde(default = "default_exact_sigma")]
    pub exact_sigma: bool,
    /// Score a regression's σ grid with the exact kernel too (under the same budget rule); the
    /// σ walk is then not needed and not taken. Off by default: over 20 random splits of six
    /// regression sets of 106–404 rows (docs/benchmarks.md) it raised the test RMSE by 0.1 to
    /// 4.7 %, where the features' grid and the walk had done better.
    #[serde(default)]
    pub exact_sigma_regression: bool,
    /// Rows of the σ search (a seeded sample; ≥ 2).
    pub search_rows: usize,
    /// Frequencies of the σ search (at most the fit's n; ≥ 1).
    pub search_frequencies: usize,
    /// Seconds the growth of n may take, counted by [`estimated_step_seconds`] (operation
    /// counts at [`REFERENCE_FLOPS`], not a clock); `None` keeps n as given. A costly doubling
    /// (see [`costly_step`](Self::costly_step)) is taken only after one that was clearly
    /// better (the [module docs](self), stage 2).
    pub budget_seconds: Option<f64>,
    /// The share of the budget above which a step of n's growth is costly, in [0, 1]: taken
    /// only after a doubling that was clearly better. Cheaper steps are taken whenever the last
    /// one improved the score: more frequencies also lower the random features' own noise,
    /// which the leave-one-out rows of a small file cannot show (on one of mcycle's splits, 106
    /// rows, Fastfood at 256 frequencies tested at RMSE 44.8 against 25.2 at 1,024), and there
    /// they cost little. 0: every step needs a clear gain; 1: none does.
    #[serde(default = "default_costly_step")]
    pub costly_step: f64,
    /// The largest n growth may reach.
    pub max_frequencies: usize,
    /// Rows whose exact leave-one-out values score λ in stage 2 when there are more rows than
    /// features (a prefix of the same seeded sample; ≥ 2). With fewer rows than features every
    /// row is scored.
    pub loo_rows: usize,
    /// Map kinds to choose among (ridge, in memory): each is searched as above, with an equal
    /// share of the budget (and, with a budget, from the same number of features: n/2
    /// frequencies for the maps with cos and sin features), and the one with the best final
    /// leave-one-out score is kept. Empty
    /// (the default): the params' map only. The streamed fit keeps the params' map (Nyström
    /// picks its landmarks among rows in memory).
    pub maps: Vec<MapKind>,
    /// Folds of the cross-validation that chooses the SVM's C and compares the solvers (≥ 2;
    /// stratified by class, seeded: [`crate::folds::assign_folds`]).
    #[serde(default = "default_folds")]
    pub folds: usize,
    /// The SVM's costs C searched (each finite and > 0), when the solver is the SVM: scored by
    /// [`folds`](Self::folds)-fold cross-validation on the σ search's rows at the chosen σ and
    /// the n the model is fitted with, along increasing C with warm starts ([`crate::cv`]).
    /// Empty: the solver's C as given.
    #[serde(default = "default_cs")]
    pub cs: Vec<f64>,
    /// Solvers to choose among for classification. With ridge and the SVM both listed, both
    /// are searched (ridge: σ, λ, n and the maps as above; the SVM: C, and σ downwards from
    /// ridge's by [`svm_sigma_steps`](Self::svm_sigma_steps), with ridge's map and n) and
    /// scored by the same cross-validation on the same folds of the σ search's rows at ridge's
    /// n; the SVM is fitted only when its error rate is lower by more than one standard error
    /// (else ridge, the cheaper). Empty (the default), one solver, or regression: the params'
    /// solver only.
    #[serde(default)]
    pub solvers: Vec<SolverKind>,
    /// When the solvers are compared: narrowings of σ by ×2^{−1/2} tried for the SVM after
    /// ridge's σ (at most; 0: the SVM takes ridge's σ). Each is scored by the same
    /// cross-validation, its C path included, and kept only when its error rate is lower than
    /// the wider σ's by more than one standard error; the steps stop at the first that is not.
    /// Not taken when the params give the bandwidth.
    #[serde(default = "default_svm_sigma_steps")]
    pub svm_sigma_steps: usize,
    /// When the solvers are compared: the most memory the SVM's side may take, in bytes,
    /// counted as two copies of every row's f32 features (the features and one fold's
    /// training rows). A larger file keeps ridge, whose memory does not grow with the rows, and
    /// the report says so. Default 4 GiB (200,000 rows at 2,048 features take 3.3 GB).
    #[serde(default = "default_svm_memory_bytes")]
    pub svm_memory_bytes: u64,
    /// When the solvers are compared and the scaled rows are sparse (at most one entry in
    /// sixteen non-zero, [`rks::is_sparse`]: text, one-hot columns): also offer the
    /// linear SVM on the rows themselves ([`rks::Linear`]), its C by the same
    /// cross-validation, scored on the same rows as the kernel model, and keep it unless the
    /// kernel model is better by more than one standard error (the simpler model within one
    /// standard error of the best). It is solved on the rows' non-zero entries
    /// ([`crate::rows::SparseRows`]), whose two copies are bounded by
    /// [`svm_memory_bytes`](Self::svm_memory_bytes) like the SVM's features. Why: on text a linear model
    /// over every word is as accurate as a kernel machine on a few thousand random directions
    /// (docs/benchmarks.md, the text set).
    #[serde(default = "default_linear")]
    pub linear: bool,
    /// Rows (a seeded sample; ≥ 2) on which a fit on sparse rows
    /// ([`fit_sparse`](super::KernelMachineValidParams::fit_sparse)) cross-validates the
    /// linear SVM's C: more than [`search_rows`](Self::search_rows), since its fits cost a
    /// row's non-zeros (the whole C path on 20,000 rows of 74 non-zeros: about 3 CPU s) and the
    /// C that suits a text file depends on how many rows it has (docs/benchmarks.md, "Sparse
    /// rows from the file on").
    #[serde(default = "default_sparse_cv_rows")]
    pub sparse_cv_rows: usize,
    /// Learn a weight per input column before σ is searched, and keep the weights when other
    /// sampled rows clearly favour them ([`relevance`](super::relevance); not when the
    /// bandwidth is given).
    #[serde(default = "default_relevance")]
    pub relevance: bool,
    /// Rows the column weights are learned on, and as many other rows they are checked on (a
    /// prefix of the seeded sample; at most half of it). Each step of the learning costs about
    /// 3m³ operations for m rows.
    #[serde(default = "default_relevance_rows")]
    pub relevance_rows: usize,
    /// The most input columns whose weights are learned; wider data keeps its scaling (each
    /// step costs m²·d more, and many weights on few rows overfit).
    #[serde(default = "default_relevance_max_inputs")]
    pub relevance_max_inputs: usize,
}

/// The most rows [`Selection::relevance_rows`] may name: at 4,000 rows each step of the
/// learning is about 2·10¹¹ operations and its m × m matrices take 128 MB each.
pub const MAX_RELEVANCE_ROWS: usize = 4000;

fn default_relevance() -> bool {
    true
}

fn default_exact_sigma() -> bool {
    true
}

fn default_relevance_rows() -> usize {
    800
}

fn default_relevance_max_inputs() -> usize {
    256
}

fn default_svm_sigma_steps() -> usize {
    2
}

fn default_linear() -> bool {
    true
}

fn default_sparse_cv_rows() -> usize {
    20_000
}

fn default_svm_memory_bytes() -> u64 {
    4 << 30
}

fn default_sigma_walk() -> usize {
    3
}

fn default_costly_step() -> f64 {
    0.2
}

fn default_folds() -> usize {
    3
}

fn default_cs() -> Vec<f64> {
    vec![0.01, 0.1, 1.0, 10.0, 100.0]
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            sigma_factors: vec![0.125, 0.25, 0.5, 1.0, 2.0, 4.0],
            refine: true,
            sigma_walk: default_sigma_walk(),
            walk_classification: false,
            exact_sigma: default_exact_sigma(),
            exact_sigma_regression: false,
            search_rows: 4000,
            search_frequencies: 256,
            budget_seconds: None,
            costly_step: default_costly_step(),
            max_frequencies: 8192,
            loo_rows: 4000,
            maps: Vec::new(),
            folds: default_folds(),
            cs: default_cs(),
            solvers: Vec::new(),
            svm_sigma_steps: default_svm_sigma_steps(),
            svm_memory_bytes: default_svm_memory_bytes(),
            linear: default_linear(),
            sparse_cv_rows: default_sparse_cv_rows(),
            relevance: default_relevance(),
            relevance_rows: default_relevance_rows(),
            relevance_max_inputs: default_relevance_max_inputs(),
        }
    }
}

/// The budget of the default fit, in seconds counted at [`REFERENCE_FLOPS`]: what `rks fit`
/// (`--budget`) and the Python estimators (`budget`) give [`Selection::growing`] unless told
/// otherwise.
pub const DEFAULT_BUDGET_SECONDS: f64 = 10.0;

/// The n the default fit starts from, before growth within the budget.
pub const DEFAULT_FREQUENCIES: usize = 1024;

impl Selection {
    /// The default fit's choice of map when none is named: Fastfood or Nyström, by their final
    /// leave-one-out scores ([`maps`](Self::maps); ridge, in memory).
    ///
    /// ```
    /// use rks::MapKind;
    /// use rks_solvers::machine::Selection;
    /// let s = Selection::default().choosing_maps();
    /// assert_eq!(s.maps, vec![MapKind::Fastfood, MapKind::Nystrom]);
    /// ```
    pub fn choosing_maps(self) -> Self {
        Self {
            maps: vec![MapKind::Fastfood, MapKind::Nystrom],
            ..self
        }
    }

    /// The default fit's choice of solver when none is named (classification, in memory): ridge
    /// or the SVM, by the comparison of [`solvers`](Self::solvers).
    pub fn choosing_solvers(self) -> Self {
        Self {
            solvers: vec![SolverKind::Ridge, SolverKind::Svm],
            ..self
        }
    }

    /// The default fit's growth of n when none is given: doubling within `budget_seconds`
    /// ([`budget_seconds`](Self::budget_seconds)).
    pub fn growing(self, budget_seconds: f64) -> Self {
        Self {
            budget_seconds: Some(budget_seconds),
            ..self
        }
    }

    /// True when a step of n's growth estimated at `seconds` is costly: over
    /// [`costly_step`](Self::costly_step) of the budget (never without a budget).
    pub(super) fn is_costly(&self, seconds: f64) -> bool {
        self.budget_seconds
            .is_some_and(|budget| seconds > budget * self.costly_step)
    }

    /// True when `seconds` are within the [`costly_step`](Self::costly_step) share of the
    /// budget (never without a budget): what [`exact_sigma`](Self::exact_sigma) may spend.
    pub(super) fn within_costly_share(&self, seconds: f64) -> bool {
        self.budget_seconds
            .is_some_and(|budget| seconds <= budget * self.costly_step)
    }

    /// The σ grid's factors, each once, largest first: scanned in that order, ties go to the
    /// smoother kernel.
    pub(super) fn grid_factors(&self) -> Vec<f64> {
        let mut factors = self.sigma_factors.clone();
        factors.sort_by(|a, b| b.total_cmp(a));
        factors.dedup();
        factors
    }

    /// True when the σ grid is scored with the exact kernel ([`exact_sigma`](Self::exact_sigma),
    /// [`exact_sigma_regression`](Self::exact_sigma_regression)) on `rows` sampled rows of
    /// `dim` columns: asked for this task, and the grid's trials within the costly share of the
    /// budget.
    pub(super) fn exact_grid(&self, classification: bool, rows: usize, dim: usize) -> bool {
        let asked = if classification {
            self.exact_sigma
        } else {
            self.exact_sigma_regression
        };
        let trials = self.grid_factors().len() + if self.refine { 2 } else { 0 };
        asked
            && rows >= 3
            && self.within_costly_share(trials as f64 * estimated_exact_trial_seconds(rows, dim))
    }

    /// True when growth from `start` begins one step below it, at start/2: the doubling past
    /// `start` is costly and the budget could pay for the steps at start/2, start and 2·start
    /// (`estimate` gives a step's seconds at n).
    pub(super) fn starts_below(&self, start: usize, estimate: impl Fn(usize) -> f64) -> bool {
        self.budget_seconds.is_some_and(|budget| {
            start >= 2
                && self.is_costly(estimate(2 * start))
                && estimate(start / 2) + estimate(start) + estimate(2 * start) <= budget
        })
    }

    /// Rows the seeded sample must hold: the median heuristic's, the σ search's and the
    /// leave-one-out scoring's (each takes a prefix of the same sample).
    pub fn sample_rows(&self) -> usize {
        DEFAULT_SAMPLE_ROWS.max(self.search_rows).max(self.loo_rows)
    }

    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if self.sigma_factors.is_empty() {
            return Err(invalid(
                Param::SigmaFactors,
                "the σ grid is empty: give at least one factor, or a bandwidth",
            ));
        }
        if let Some(f) = self
            .sigma_factors
            .iter()
            .find(|f| !(f.is_finite() && **f > 0.0))
        {
            return Err(invalid(
                Param::SigmaFactors,
                format!("factors must be finite and > 0, got {f}"),
            ));
        }
        if self.search_rows < 2 || self.loo_rows < 2 || self.sparse_cv_rows < 2 {
            return Err(invalid(
                Param::SearchRows,
                "the σ search, the leave-one-out scoring and the sparse rows' cross-validation \
                 need at least 2 rows each",
            ));
        }
        if self.relevance_rows > MAX_RELEVANCE_ROWS {
            return Err(invalid(
                Param::RelevanceRows,
                format!(
                    "at most {MAX_RELEVANCE_ROWS} (each step of the learning costs about 3m³ \
                     operations and holds several m × m matrices), got {}",
                    self.relevance_rows
                ),
            ));
        }
        if self.search_frequencies == 0 || self.max_frequencies == 0 {
            return Err(invalid(
                Param::SearchFrequencies,
                "frequencies must be at least 1",
            ));
        }
        if self.folds < 2 {
            return Err(invalid(
                Param::Folds,
                format!(
                    "cross-validation needs at least 2 folds, got {}",
                    self.folds
                ),
            ));
        }
        if let Some(c) = self.cs.iter().find(|c| !(c.is_finite() && **c > 0.0)) {
            return Err(invalid(
                Param::Cs,
                format!("costs C must be finite and > 0, got {c}"),
            ));
        }
        if let Some(b) = self.budget_seconds
            && !(b.is_finite() && b > 0.0)
        {
            return Err(invalid(
                Param::Budget,
                format!("must be finite and > 0 seconds, got {b}"),
            ));
        }
        if !(0.0..=1.0).contains(&self.costly_step) {
            return Err(invalid(
                Param::Budget,
                format!(
                    "the costly step's share of the budget must be in [0, 1], got {}",
                    self.costly_step
                ),
            ));
        }
        Ok(())
    }
}

/// The speed a [budget](Selection::budget_seconds) is counted at, in floating-point operations
/// per second: about what two cores of a current x86 server reach on the fit's GEMMs (two Zen 3
/// cores: 37·10⁹ on the exact Gram products, docs/benchmarks.md). A reference, never a
/// measurement, so that a budget gives the same n on every machine.
pub const REFERENCE_FLOPS: f64 = 4e10;

/// Estimated seconds, at [`REFERENCE_FLOPS`], of one stage-2 step: the features of `rows` rows
/// (`dim` columns; ~50 operations per feature for the projection and cos/sin), then for fewer
/// rows than features the dual N × N Gram matrix (N²·D) and its eigendecomposition (≈ 9N³),
/// else the D × D Gram matrix (N·D²), its eigendecomposition (≈ 9D³) and the leave-one-out
/// values of `scored` rows (S·D²).
///
/// ```
/// use rks_solvers::machine::estimated_step_seconds;
/// let small = estimated_step_seconds(16_000, 2_048, 4_000);
/// let twice = estimated_step_seconds(16_000, 4_096, 4_000);
/// assert!(twice > 4.0 * small && twice < 8.0 * small);
/// ```
pub fn estimated_step_seconds(rows: usize, dim: usize, scored: usize) -> f64 {
    let (n, d, s) = (rows as f64, dim as f64, scored as f64);
    let features = 50.0 * n * d;
    let factorisation = if rows <= dim {
        n * n * d + 9.0 * n.powi(3)
    } else {
        n * d * d + 9.0 * d.powi(3) + s * d * d
    };
    (features + factorisation) / REFERENCE_FLOPS
}

/// Estimated seconds, at [`REFERENCE_FLOPS`], of one σ trial scored with the exact kernel on
/// `rows` sampled rows of `input_dim` columns ([`Selection::exact_sigma`]): the kernel matrix
/// (N²·(d + 50): the distances and ~50 operations per exponential) and the eigendecomposition
/// of its centred form (≈ 9N³).
///
/// ```
/// use rks_solvers::machine::estimated_exact_trial_seconds;
/// // About 1,000 rows fit eight trials in a fifth of the default 10 s budget.
/// assert!(8.0 * estimated_exact_trial_seconds(1_000, 30) < 2.0);
/// assert!(8.0 * estimated_exact_trial_seconds(1_400, 30) > 2.0);
/// ```
pub fn estimated_exact_trial_seconds(rows: usize, input_dim: usize) -> f64 {
    let (n, d) = (rows as f64, input_dim as f64);
    (n * n * (d + 50.0) + 9.0 * n.powi(3)) / REFERENCE_FLOPS
}

/// One scored candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Bandwidth σ in scaled units.
    pub sigma: f64,
    /// σ over the median-heuristic σ.
    pub factor: f64,
    /// Frequencies n.
    pub n_frequencies: usize,
    /// Rows scored.
    pub rows: usize,
    /// The best λ for this σ and n (ridge).
    pub lambda: f64,
    /// Its leave-one-out score.
    pub score: LooScore,
    /// Scored with the exact kernel ([`Selection::exact_sigma`]): `n_frequencies` is then the
    /// rows.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
}

/// A map kind's best final trial, when the search chose among maps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapTrial {
    /// The map kind.
    pub map: MapKind,
    /// Its chosen σ, n, λ and final leave-one-out score.
    pub trial: Trial,
}

/// One solver at one value of its regularisation, scored by k-fold cross-validation on the σ
/// search's sampled rows at the n the model is fitted with: each C of the SVM's search, and each
/// solver when the search compares them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverTrial {
    /// Ridge or SVM.
    pub solver: SolverKind,
    /// Bandwidth σ of the features it was scored on.
    #[serde(default)]
    pub sigma: f64,
    /// λ (ridge) or C (SVM).
    pub value: f64,
    /// The mean held-out score over the folds.
    pub score: LooScore,
    /// Rows cross-validated.
    pub rows: usize,
    /// Frequencies n.
    pub n_frequencies: usize,
    /// Folds k.
    pub folds: usize,
    /// Scored on the rows themselves (the linear map, [`Selection::linear`]) instead of the
    /// kernel's features.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub linear: bool,
}

impl SelectionReport {
    /// The final trial that was kept: the best-scoring one at the chosen n.
    pub fn chosen_trial(&self) -> Option<&Trial> {
        self.final_trials
            .iter()
            .filter(|t| t.n_frequencies == self.n_frequencies)
            .reduce(|a, b| if b.score.better_than(&a.score) { b } else { a })
    }
}

/// What the search tried, what it chose and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionReport {
    /// The median-heuristic σ of the sampled rows (the centre of the σ grid).
    pub median_sigma: f64,
    /// Stage 1: one trial per σ of the grid, on the sampled rows.
    pub sigma_trials: Vec<Trial>,
    /// Stage 1's walk (not taken when the grid was scored with the exact kernel): the trial at
    /// the grid's σ and the fit's n, then one per halving
    /// tried, on the same rows (the last one tried was not kept unless the walk ran its
    /// full length).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub walk_trials: Vec<Trial>,
    /// Stage 2: one trial per n, on every row.
    pub final_trials: Vec<Trial>,
    /// The chosen σ.
    pub sigma: f64,
    /// The chosen λ (ridge).
    pub lambda: Option<f64>,
    /// The chosen C (SVM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// The SVM's C search: one cross-validated trial per C.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub c_trials: Vec<SolverTrial>,
    /// When the search compared the solvers ([`Selection::solvers`]): each one's trial at its
    /// chosen regularisation, on the same folds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub solver_trials: Vec<SolverTrial>,
    /// When the solvers were compared: the SVM's best trial at ridge's σ, then one per
    /// narrowing tried ([`Selection::svm_sigma_steps`]; the last one tried was not kept unless
    /// the steps ran their full length).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub svm_sigma_trials: Vec<SolverTrial>,
    /// The chosen n.
    pub n_frequencies: usize,
    /// "exact leave-one-out" or the fallback used.
    pub method: String,
    /// Why the choice and any fallback, in words.
    pub notes: Vec<String>,
    /// The column weights learned before the search ([`Selection::relevance`]), kept or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevance: Option<super::RelevanceReport>,
    /// When several maps were searched ([`Selection::maps`]): each map's best final trial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub map_trials: Vec<MapTrial>,
    /// Seconds spent.
    pub seconds: f64,
}

/// The outcome of the search: a fitted ridge model (when ridge is the solver) with its map.
pub(super) struct Chosen {
    pub(super) sigma: f64,
    pub(super) n_frequencies: usize,
    /// The SVM's C, when it was cross-validated.
    pub(super) c: Option<f64>,
    /// The ridge model and its prepared parts, when stage 2 fitted it.
    pub(super) fitted: Option<(Prepared, Ridge)>,
    pub(super) report: SelectionReport,
}

/// The λ values to score: the path's default grid, the user's grid, or the user's fixed λ.
fn lambda_grid(lambda: Option<&Lambda>, path: &LooPath, coarse: bool) -> Vec<f64> {
    match lambda {
        Some(Lambda::Fixed(l)) => vec![*l],
        Some(Lambda::GcvGrid(grid)) => grid.clone(),
        _ => {
            let grid = path.default_grid();
            if coarse {
                grid.into_iter().step_by(2).collect()
            } else {
                grid
            }
        }
    }
}

/// The scores of every λ of `grid` by leave-one-out, and the index of the best, scanning from
/// the largest λ so that ties go to the smoother model.
fn best_lambda(
    path: &LooPath,
    grid: &[f64],
    classes: Option<(&[usize], usize)>,
) -> Result<(usize, Vec<LooScore>)> {
    if let Some(l) = grid.iter().find(|l| !(l.is_finite() && **l > 0.0)) {
        return Err(invalid(
            Param::Lambda,
            format!("leave-one-out needs finite λ > 0, got {l}"),
        ));
    }
    let scores = path.scores(grid, classes);
    let mut order: Vec<usize> = (0..grid.len()).collect();
    order.sort_by(|&a, &b| grid[b].total_cmp(&grid[a]));
    let best = crate::cv::best_index(&scores, &order);
    let best = best.ok_or_else(|| invalid(Param::Lambda, "the λ grid is empty"))?;
    Ok((best, scores))
}

/// Stage 1's outcome: the median-heuristic σ, the chosen σ, the trials and a note.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SigmaChoice {
    pub(super) median: f64,
    pub(super) sigma: f64,
    pub(super) trials: Vec<Trial>,
    pub(super) walk: Vec<Trial>,
    pub(super) note: String,
}

impl KernelMachineValidParams {
    /// The λ setting of a ridge solver, `None` for the SVM.
    fn ridge_lambda(&self) -> Option<&Lambda> {
        match &self.solver {
            super::Solver::Ridge { lambda } => Some(lambda),
            super::Solver::Svm { .. } => None,
        }
    }

    /// Stage 1: σ from the sampled rows `rows` (unscaled, in sample key order) with targets
    /// `y` (labels for classification, mapped by `labels`). The in-memory and the streamed fit
    /// both call this on the same [`rks::sample`] rows, so they choose the same σ.
    pub(super) fn choose_sigma(
        &self,
        selection: &Selection,
        scaler: &Scaler,
        labels: Option<&LabelMap>,
        rows: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<SigmaChoice> {
        let head = rows.slice_axis(Axis(0), (..rows.nrows().min(DEFAULT_SAMPLE_ROWS)).into());
        let scaled = scaler.transform(head)?;
        let median = median_heuristic_sigma(scaled.view(), head.nrows(), self.seed())?;
        let given = |sigma: f64, note: String| SigmaChoice {
            median,
            sigma,
            trials: Vec::new(),
            walk: Vec::new(),
            note,
        };
        if let Some(b) = self.bandwidth() {
            return Ok(given(b.sigma()?, "σ given: not searched".into()));
        }
        if let Some(choice) = &self.sigma_choice {
            return Ok(choice.clone());
        }
        let count = rows.nrows().min(selection.search_rows);
        if count < 3 {
            return Ok(given(
                median,
                format!("{count} rows are too few to search σ: the median heuristic is used"),
            ));
        }
        let rows = rows.slice_axis(Axis(0), (..count).into());
        let y = y.slice_axis(Axis(0), (..count).into());
        let classes = match labels {
            Some(labels) => Some((labels.indices(y)?, labels.n_classes())),
            None => None,
        };
        let classes = classes.as_ref().map(|(c, k)| (c.as_slice(), *k));
        let targets = targets_of(y, classes);
        let weights = self
            .on_first(count)
            .row_weights_of(labels, classes.map_or(&[], |(c, _)| c))?;
        let search_n = selection.search_frequencies.min(self.n_frequencies());
        let lambda = self.ridge_lambda();
        let factors = selection.grid_factors();
        let exact = selection.exact_grid(labels.is_some(), count, scaler.dim());
        let kernel_rows = if exact {
            Some(scaler.transform(rows)?)
        } else {
            None
        };
        // The sampled rows' leave-one-out path at σ and n frequencies: their features', or
        // the exact kernel's when `kernel_rows` (the rows scaled) are given.
        let path_at = |sigma: f64, n: usize, kernel_rows: Option<&Array2<f64>>| match kernel_rows {
            Some(z) => {
                let k = rks::nystrom::kernel_matrix(self.kernel(), sigma, z.view(), z.view())?;
                match &weights {
                    None => LooPath::from_kernel(k, targets.view()),
                    Some(w) => LooPath::from_kernel_weighted(k, targets.view(), w),
                }
            }
            None => {
                let prepared =
                    self.prepare(scaler.clone(), labels.cloned(), sigma, n, Some(rows))?;
                let phi = self.features::<f64>(&prepared, rows)?;
                match &weights {
                    None => LooPath::new(phi, targets.view()),
                    Some(w) => LooPath::new_weighted(phi, targets.view(), w),
                }
            }
        };
        // The trial at σ = factor × median, and its path (for the rows' residuals when the
        // walk compares squared errors).
        let fit_at = |factor: f64, n: usize, kernel_rows| -> Result<(Trial, LooPath)> {
            let sigma = factor * median;
            let path = path_at(sigma, n, kernel_rows)?;
            let grid = lambda_grid(lambda, &path, true);
            let (best, scores) = best_lambda(&path, &grid, classes)?;
            let trial = Trial {
                sigma,
                factor,
                n_frequencies: if kernel_rows.is_some() { count } else { n },
                rows: count,
                lambda: grid[best],
                score: scores[best],
                exact: kernel_rows.is_some(),
            };
            Ok((trial, path))
        };
        let try_factor =
            |factor: f64| fit_at(factor, search_n, kernel_rows.as_ref()).map(|(trial, _)| trial);
        // Each factor's trial is independent of the others: they run side by side and are
        // compared in the grid's order, as a loop over them would.
        let grid: Vec<Result<Trial>> = factors.par_iter().map(|&f| try_factor(f)).collect();
        let mut trials = Vec::new();
        let mut best: Option<Trial> = None;
        for trial in grid {
            let trial = trial?;
            if best
                .as_ref()
                .is_none_or(|b| trial.score.better_than(&b.score))
            {
                best = Some(trial.clone());
            }
            trials.push(trial);
        }
        let mut best = best.ok_or_else(|| invalid(Param::SigmaFactors, "the σ grid is empty"))?;
        if selection.refine {
            let centre = best.factor;
            let (wider, narrower) = rayon::join(
                || try_factor(centre * std::f64::consts::SQRT_2),
                || try_factor(centre / std::f64::consts::SQRT_2),
            );
            for trial in [wider, narrower] {
                let trial = trial?;
                if trial.score.better_than(&best.score) {
                    best = trial.clone();
                }
                trials.push(trial);
            }
        }
        let mut note = format!(
            "σ = {:.4} (×{:.3} the median heuristic) had the best leave-one-out {} on {} sampled rows with {}",
            best.sigma,
            best.factor,
            if classes.is_some() {
                "error"
            } else {
                "squared error"
            },
            best.rows,
            if exact {
                "the exact kernel (the grid's trials within the costly share of the budget)"
                    .to_string()
            } else {
                format!("{} frequencies", best.n_frequencies)
            }
        );
        // The walk: halve σ at the fit's n while each halving is clearly better.
        let mut walk = Vec::new();
        let mut factor = best.factor;
        if !exact
            && selection.sigma_walk > 0
            && (classes.is_none() || selection.walk_classification)
        {
            let n = self.n_frequencies();
            // Error rates compare by their binomial standard error; squared errors pair row by
            // row (the same rows at every σ), so only a regression needs the rows' residuals.
            let residuals = |trial: &Trial, path: &LooPath| match classes {
                Some(_) => Vec::new(),
                None => path.squared_residuals(trial.lambda),
            };
            let (mut kept, path) = fit_at(factor, n, None)?;
            let mut kept_residuals = residuals(&kept, &path);
            walk.push(kept.clone());
            for _ in 0..selection.sigma_walk {
                let (trial, path) = fit_at(kept.factor / 2.0, n, None)?;
                let trial_residuals = residuals(&trial, &path);
                walk.push(trial.clone());
                let clearly = match classes {
                    Some(_) => trial.score.clearly_better_than(&kept.score, kept.rows),
                    None => clearly_lower(&trial_residuals, &kept_residuals),
                };
                if !clearly {
                    break;
                }
                (kept, kept_residuals) = (trial, trial_residuals);
            }
            factor = kept.factor;
            note.push_str(&if factor == best.factor {
                format!(
                    "; at n = {n} on the same rows no halving of σ was better by more than one \
                     standard error"
                )
            } else {
                format!(
                    "; at n = {n} on the same rows σ was halved to {:.4} (×{factor:.3}), each \
                     halving better by more than one standard error",
                    kept.sigma
                )
            });
        }
        Ok(SigmaChoice {
            median,
            sigma: factor * median,
            trials,
            walk,
            note,
        })
    }

    /// The leave-one-out path of a fit from statistics `acc`, scoring the rows `x` (unscaled,
    /// rows that were accumulated) with targets `y`.
    pub(super) fn scoring_path(
        &self,
        acc: &RidgeAccumulator,
        prepared: &Prepared,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<LooPath> {
        let phi = self.features::<f64>(prepared, x)?;
        let targets = Self::targets(prepared, y)?;
        if acc.weight_grid().is_none() {
            return LooPath::from_statistics(acc, phi, targets.view());
        }
        let labels = prepared.labels.as_ref();
        let classes = labels
            .map(|l| l.indices(y))
            .transpose()?
            .unwrap_or_default();
        let weights = self.row_weights_of(labels, &classes)?.ok_or_else(|| {
            invalid(
                Param::ClassWeights,
                "weighted statistics are a classifier's with class weights",
            )
        })?;
        LooPath::from_weighted_statistics(acc, phi, targets.view(), &weights)
    }

    /// Runs the search of the [module docs](self) on rows `x` with targets `y`, the scaler
    /// already fitted, `labels` the class labels and each row's class index (classification),
    /// and `sample` the indices of the sampled rows (key order).
    pub(super) fn search(
        &self,
        selection: &Selection,
        scaler: &Scaler,
        labels: Option<(&LabelMap, &[usize])>,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        sample: &[usize],
    ) -> Result<Chosen> {
        let start = Instant::now();
        let classes = labels.map(|(map, classes)| (classes, map.n_classes()));
        let labels = labels.map(|(map, _)| map);
        let lambda = self.ridge_lambda();
        let stage1 = self.on_rows(sample).choose_sigma(
            selection,
            scaler,
            labels,
            x.select(Axis(0), sample).view(),
            y.select(Axis(0), sample).view(),
        )?;
        let (median, sigma, sigma_trials, walk_trials) =
            (stage1.median, stage1.sigma, stage1.trials, stage1.walk);
        let mut notes = vec![stage1.note];

        // Stage 2: λ (ridge) on every row at the full n, n growing within the budget.
        let mut final_trials: Vec<Trial> = Vec::new();
        let mut fitted = None;
        // The linear map's n is d, which no budget grows.
        let linear = self.map_kind() == MapKind::Linear;
        let mut n = if linear {
            x.ncols()
        } else {
            self.n_frequencies()
        };
        let method = "exact leave-one-out".to_string();
        let mut c_chosen = None;
        let mut c_trials = Vec::new();
        if let Some(lambda) = lambda {
            let scored = &sample[..sample.len().min(selection.loo_rows)];
            let weights = self.row_weights_of(labels, classes.map_or(&[], |(c, _)| c))?;
            // One step's features, factorisation and λ: the ridge, its trial and the scored
            // rows' losses at the chosen λ, by training-row index.
            let step = |n: usize| -> Result<(Prepared, Ridge, Trial, RowResiduals)> {
                let prepared = self.prepare(scaler.clone(), labels.cloned(), sigma, n, Some(x))?;
                // Fewer rows than features: every row, in order; else the sampled rows.
                let dual = x.nrows() <= prepared.map.output_dim();
                let path = if dual {
                    let phi = self.features::<f64>(&prepared, x)?;
                    let targets = targets_of(y, classes);
                    match &weights {
                        None => LooPath::new(phi, targets.view())?,
                        Some(w) => LooPath::new_weighted(phi, targets.view(), w)?,
                    }
                } else {
                    let mut acc = self.accumulator(&prepared, &Ranges::of(x, y))?;
                    let chunks = x
                        .axis_chunks_iter(Axis(0), self.chunk_rows)
                        .zip(y.axis_chunks_iter(Axis(0), self.chunk_rows));
                    for (i, (xb, yb)) in chunks.enumerate() {
                        let start = i * self.chunk_rows;
                        let w = weights.as_deref().map(|w| &w[start..start + xb.nrows()]);
                        Self::accumulate(&prepared, &mut acc, xb, yb, w)?;
                    }
                    self.on_rows(scored).scoring_path(
                        &acc,
                        &prepared,
                        x.select(Axis(0), scored).view(),
                        y.select(Axis(0), scored).view(),
                    )?
                };
                let rows: Vec<usize> = if dual {
                    (0..x.nrows()).collect()
                } else {
                    scored.to_vec()
                };
                let scored_classes =
                    classes.map(|(c, k)| (rows.iter().map(|&i| c[i]).collect::<Vec<_>>(), k));
                let scored_classes = scored_classes.as_ref().map(|(c, k)| (c.as_slice(), *k));
                let (ridge, trial) =
                    choose_lambda(&path, lambda, scored_classes, sigma, sigma / median, n)?;
                // (Weighted: each wrong row counts wᵢ/w̄, as the weighted error rate does.)
                let values = match scored_classes {
                    Some((c, k)) => {
                        let wrong = wrong_rows(path.predictions(trial.lambda), c, k);
                        let relative = path.row_weights().map(|w| relative_weights(&w));
                        wrong
                            .into_iter()
                            .enumerate()
                            .map(|(i, w)| match (w, &relative) {
                                (false, _) => 0.0,
                                (true, None) => 1.0,
                                (true, Some(r)) => r[i],
                            })
                            .collect()
                    }
                    None => path.squared_residuals(trial.lambda),
                };
                let residuals = RowResiduals { values, rows };
                Ok((prepared, ridge, trial, residuals))
            };
            let estimate = |n: usize| {
                let dim = match self.map_kind() {
                    MapKind::Nystrom => n.min(x.nrows().max(1)),
                    MapKind::Linear => x.ncols(),
                    kind => kind.output_dim(self.kernel(), n),
                };
                estimated_step_seconds(x.nrows(), dim, scored.len())
            };
            let start = n;
            // A costly doubling is taken only after one that was clearly better, so when the
            // one past the n given would be costly and the budget allows it at all, the search
            // starts one step below.
            if !linear
                && 2 * start <= selection.max_frequencies
                && selection.starts_below(start, estimate)
            {
                n = start / 2;
            }
            let mut spent = 0.0;
            let mut last: Option<RowResiduals> = None;
            loop {
                let (prepared, ridge, trial, residuals) = step(n)?;
                let improves = final_trials
                    .iter()
                    .all(|t| trial.score.better_than(&t.score));
                let clear_gain = last.as_ref().map(|before| {
                    let (now, then) = residuals.paired(before, x.nrows());
                    clearly_lower(&now, &then)
                });
                final_trials.push(trial);
                if !improves {
                    notes.push(format!(
                        "n = {n} did not improve the leave-one-out score: n = {} kept",
                        n / 2
                    ));
                    n /= 2;
                    break;
                }
                fitted = Some((prepared, ridge));
                last = Some(residuals);
                let Some(budget) = selection.budget_seconds else {
                    break;
                };
                spent += estimate(n);
                if linear {
                    notes.push(format!(
                        "n = {n}: the linear map's features are the {n} columns, none to add"
                    ));
                    break;
                }
                if self.map_kind() == MapKind::Nystrom && n >= x.nrows() {
                    // Every row is a landmark already: a doubling would fit the same map again.
                    notes.push(format!(
                        "n = {n}: Nyström takes every one of the {} rows as a landmark already",
                        x.nrows()
                    ));
                    break;
                }
                if n < start {
                    // The step below the n given, for the first comparison: the n given next.
                    n *= 2;
                    continue;
                }
                let next = estimate(2 * n);
                if spent > budget {
                    // The budget bounds the growth of n: the fit at the n given is never refused.
                    notes.push(format!(
                        "n = {n}: the {budget} s budget is below this first fit's estimated \
                         {spent:.3} s (operation counts), too small for any growth: n as given"
                    ));
                    break;
                }
                if 2 * n > selection.max_frequencies {
                    notes.push(format!("n = {n}: the largest allowed"));
                    break;
                }
                if spent + next > budget {
                    notes.push(format!(
                        "n = {n}: doubling it would take about {next:.1} s more (estimated \
                         from operation counts), past the {budget} s budget"
                    ));
                    break;
                }
                if selection.is_costly(next) && clear_gain != Some(true) {
                    notes.push(format!(
                        "n = {n}: not doubled, the last doubling ({} → {n}) was not better by \
                         more than one standard error, and the next would take about {next:.1} s \
                         (over {:.0} % of the budget)",
                        n / 2,
                        selection.costly_step * 100.0
                    ));
                    break;
                }
                n *= 2;
            }
        } else if let (super::Solver::Svm { c, loss }, Some((map, classes))) =
            (&self.solver, labels.zip(classes.map(|(c, _)| c)))
        {
            notes.push("SVM: σ chosen by the ridge leave-one-out search".into());
            if selection.cs.is_empty() {
                notes.push(format!("C = {c} given: not searched"));
            }
            let sampled: Vec<usize> = sample.iter().map(|&i| classes[i]).collect();
            match (!selection.cs.is_empty())
                .then(|| {
                    self.on_rows(sample).cv_on_sample(
                        selection,
                        scaler,
                        map,
                        x.select(Axis(0), sample).view(),
                        &sampled,
                        (sigma, n),
                        (*c, *loss),
                        None,
                    )
                })
                .transpose()?
            {
                Some(Some(cv)) => {
                    c_chosen = Some(cv.c);
                    c_trials = cv.c_trials;
                    notes.extend(cv.notes);
                }
                Some(None) => notes.push(format!(
                    "{} sampled rows are too few for {}-fold cross-validation: C = {c} as given",
                    sample.len().min(selection.search_rows),
                    selection.folds
                )),
                None => {}
            }
        }
        let lambda_chosen = fitted.as_ref().map(|(_, r): &(Prepared, Ridge)| r.lambda);
        Ok(Chosen {
            sigma,
            n_frequencies: n,
            c: c_chosen,
            fitted,
            report: SelectionReport {
                median_sigma: median,
                sigma_trials,
                walk_trials,
                final_trials,
                sigma,
                lambda: lambda_chosen,
                c: c_chosen,
                c_trials,
                solver_trials: Vec::new(),
                svm_sigma_trials: Vec::new(),
                n_frequencies: n,
                method,
                notes,
                seconds: start.elapsed().as_secs_f64(),
                map_trials: Vec::new(),
                relevance: None,
            },
        })
    }
}

/// The leave-one-out losses of a stage-2 step's scored rows — 1 for a wrong class and 0 for a
/// right one (classification), the squared residual (regression) — with the training-row index
/// of each (every row in order when the step was fitted in the dual form, else the sampled
/// rows), so that two steps' losses pair row by row.
struct RowResiduals {
    rows: Vec<usize>,
    values: Vec<f64>,
}

impl RowResiduals {
    /// This step's and `before`'s residuals on the rows both scored, in this step's order;
    /// `total` is the number of training rows.
    fn paired(&self, before: &RowResiduals, total: usize) -> (Vec<f64>, Vec<f64>) {
        let mut by_row = vec![None; total];
        for (&i, &v) in before.rows.iter().zip(&before.values) {
            by_row[i] = Some(v);
        }
        self.rows
            .iter()
            .zip(&self.values)
            .filter_map(|(&i, &v)| by_row[i].map(|b| (v, b)))
            .unzip()
    }
}

/// The ridge model at the best λ of `lambda`'s grid by leave-one-out on `path`, with the scores
/// in its report, and the trial that records it.
pub(super) fn choose_lambda(
    path: &LooPath,
    lambda: &Lambda,
    classes: Option<(&[usize], usize)>,
    sigma: f64,
    factor: f64,
    n_frequencies: usize,
) -> Result<(Ridge, Trial)> {
    let grid = lambda_grid(Some(lambda), path, false);
    let (best, scores) = best_lambda(path, &grid, classes)?;
    let trial = Trial {
        sigma,
        factor,
        n_frequencies,
        rows: path.scored_rows(),
        lambda: grid[best],
        score: scores[best],
        exact: false,
    };
    let mut ridge = path.fit(grid[best])?;
    ridge.gcv = Some(GcvReport {
        scores: scores.iter().map(LooScore::headline).collect(),
        grid,
        chosen: best,
    });
    Ok((ridge, trial))
}

/// The ridge targets: ±1 one-hot columns of the rows' classes, or y as one column.
fn targets_of(y: ArrayView1<'_, f64>, classes: Option<(&[usize], usize)>) -> Array2<f64> {
    match classes {
        Some((classes, k)) => signed_one_hot(classes, k),
        None => y.insert_axis(Axis(1)).to_owned(),
    }
}

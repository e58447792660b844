//! Input relevance: one weight per input column, learned from the sampled rows before σ is
//! searched, and kept only when held-out rows show that it helps.
//!
//! A Gaussian kernel on scaled inputs treats every column alike: columns that carry no
//! information about the target still add to every distance, and with many of them the
//! neighbourhoods the kernel sees are mostly noise. Automatic relevance determination (MacKay
//! 1994; Rasmussen & Williams, *Gaussian Processes for Machine Learning*, 2006, §5.1) gives the
//! kernel a length scale per column,
//!
//! k(x, z) = exp(−Σⱼ wⱼ² (xⱼ − zⱼ)² / (2σ₀²)),
//!
//! and chooses the weights wⱼ = e^{θⱼ} from the data. Here they are chosen by minimising the
//! **exact leave-one-out squared error of kernel ridge regression** on `A`, the first
//! [`Selection::relevance_rows`] sampled rows, with the penalty λ = e^ρ learned alongside.
//! With A = K + λI and α = A⁻¹Y, the leave-one-out residuals are eᵢ = αᵢ / (A⁻¹)ᵢᵢ (Allen 1974),
//! so L = Σᵢₖ eᵢₖ² / m is a smooth function of (θ, ρ) whose gradient comes from one inverse:
//! with cᵢ = (A⁻¹)ᵢᵢ, uᵢₖ = 2eᵢₖ/(m cᵢ) and vᵢ = Σₖ 2eᵢₖαᵢₖ/(m cᵢ²),
//!
//! ∂L = ⟨G, ∂K⟩,  G = A⁻¹ diag(v) A⁻¹ − sym(A⁻¹ U αᵀ),
//!
//! ∂K/∂θⱼ = −2 (wⱼ²/2σ₀²) K ∘ Dⱼ with Dⱼ = ((xᵢⱼ − xₖⱼ)²)ᵢₖ, and ∂L/∂ρ = λ tr G. The
//! weights are found by L-BFGS (Nocedal 1980) from θ = 0 (the isotropic kernel).
//!
//! Many weights fitted on a few hundred rows overfit the leave-one-out score they minimise, so
//! the weights are **kept only when they win on other rows**: on the next
//! [`Selection::relevance_rows`] sampled rows (disjoint from A), exact kernel ridge with and
//! without the weights, each at its best σ (a grid around its own median heuristic) and λ, is
//! scored by leave-one-out, and the weighted kernel must be better by more than one standard
//! error of the row-by-row difference ([`crate::loo::clearly_lower`]: the error indicators for
//! classification, the squared residuals for regression). Kept, the weights multiply the
//! scaler's factors ([`Scaler::reweighted`]), so everything after — the σ search, the maps, the
//! solvers, the saved model — sees the weighted columns; the weights are scaled so that the
//! largest is 1.
//!
//! Every step is sequential or split into blocks whose shapes do not depend on the thread
//! count, on the seeded sample that every fit (in memory, streamed, distributed) draws: the same
//! weights everywhere.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

use rks::exp::exp;
use rks::median::median_heuristic_sigma;
use rks::scaler::Scaler;

use super::select::Selection;
use crate::dense::{Cholesky, product as fixed_product};
use crate::error::Result;
use crate::labels::{LabelMap, signed_one_hot};
use crate::loo::{LooScore, clearly_lower, row_squared_errors, wrong_rows};
use crate::ridge::eigen;

/// What the relevance step learned and how its weights fared on the held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelevanceReport {
    /// The learned weight of each input column (the largest is 1).
    pub weights: Vec<f64>,
    /// Rows the weights were learned on.
    pub rows: usize,
    /// L-BFGS iterations taken.
    pub iterations: usize,
    /// Other sampled rows the weights were checked on.
    pub held_out_rows: usize,
    /// Exact kernel ridge's leave-one-out score on the held-out rows without the weights…
    pub isotropic: LooScore,
    /// …and with them (each at its best σ and λ).
    pub weighted: LooScore,
    /// Whether the weights were kept.
    pub kept: bool,
    /// Seconds spent.
    pub seconds: f64,
}

/// What the column-relevance step decided
/// ([`KernelMachineValidParams::learn_column_weights`](super::KernelMachineValidParams::learn_column_weights)).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnWeights {
    /// The weights to apply, when kept (`None`: the columns as scaled).
    pub weights: Option<Vec<f64>>,
    /// What was learned and checked, when the step got past its preconditions.
    pub report: Option<RelevanceReport>,
    /// The outcome in words: kept or not and why, or why the step was skipped.
    pub note: String,
}

impl ColumnWeights {
    pub(super) fn skipped(note: String) -> Self {
        Self {
            weights: None,
            report: None,
            note,
        }
    }
}

/// The fewest rows each half (learning, checking) needs; below, the step is skipped.
const MIN_ROWS: usize = 20;
/// L-BFGS iterations at most.
const MAX_ITERATIONS: usize = 50;
/// L-BFGS stops once an accepted step lowers the leave-one-out loss by at most this fraction of
/// it. The loss is itself an estimate from a few hundred rows, and the weights must win on
/// other rows to be kept: a 10⁻⁴ stop (rather than 10⁻⁶) cut the iterations from 36 to 27 on
/// average over the accuracy table's 70 fits with the step, and those at the cap from 24 to 11.
const RELATIVE_DECREASE: f64 = 1e-4;
/// Bounds of θ (weights e^θ) and of ρ (λ = e^ρ, on a kernel whose diagonal is 1).
const THETA_RANGE: (f64, f64) = (-8.0, 8.0);
const RHO_RANGE: (f64, f64) = (-18.0, 5.0);
/// The starting λ.
const RHO_START: f64 = -4.605_170_185_988_091; // ln 0.01
/// σ factors (of each kernel's own median heuristic) and λ values of the held-out comparison.
const CHECK_FACTORS: [f64; 5] = [
    0.5,
    std::f64::consts::FRAC_1_SQRT_2,
    1.0,
    std::f64::consts::SQRT_2,
    2.0,
];
const CHECK_LAMBDAS: [f64; 8] = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0];

/// The weights are not learned on rows of `d` columns: one column, or more than
/// [`Selection::relevance_max_inputs`]. Known before any row is read, so a fit of wide rows
/// copies none for this step.
pub(super) fn skipped_for_columns(selection: &Selection, d: usize) -> Option<ColumnWeights> {
    if d < 2 {
        return Some(ColumnWeights::skipped(
            "relevance: one input column, nothing to weigh".into(),
        ));
    }
    (d > selection.relevance_max_inputs).then(|| {
        ColumnWeights::skipped(format!(
            "relevance: {d} input columns, more than Selection::relevance_max_inputs ({}): not \
             learned",
            selection.relevance_max_inputs
        ))
    })
}

/// Learns the weights on the sampled `rows` (unscaled, key order; targets `y`, class labels
/// mapped by `labels`) after `scaler`, and checks them on the rows that follow; see the
/// [module docs](self).
/// The step skipped because the rows carry sample weights: it scores its rows unweighted, and
/// where the rows carry their own weights (often their reliability) it would choose the columns
/// by the rows the fit trusts least (docs/benchmarks.md, "Row weights"). The in-memory fit and
/// the partial plan both skip it so.
pub(super) fn skipped_for_sample_weights() -> ColumnWeights {
    ColumnWeights::skipped(
        "relevance: not learned: the rows carry sample weights, which the step does not weigh"
            .into(),
    )
}

pub(super) fn learn(
    selection: &Selection,
    scaler: &Scaler,
    labels: Option<&LabelMap>,
    rows: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    seed: u64,
) -> Result<ColumnWeights> {
    let start = Instant::now();
    let d = rows.ncols();
    if let Some(skipped) = skipped_for_columns(selection, d) {
        return Ok(skipped);
    }
    let half = selection.relevance_rows.min(rows.nrows() / 2);
    if half < MIN_ROWS {
        return Ok(ColumnWeights::skipped(format!(
            "relevance: {} sampled rows are too few to learn and check column weights (at \
             least {} needed)",
            rows.nrows(),
            2 * MIN_ROWS
        )));
    }
    let scaled = scaler.transform(rows.slice_axis(Axis(0), (..2 * half).into()))?;
    let classes = match labels {
        Some(l) => Some((
            l.indices(y.slice_axis(Axis(0), (..2 * half).into()))?,
            l.n_classes(),
        )),
        None => None,
    };
    let targets = match &classes {
        Some((c, k)) => signed_one_hot(c, *k),
        None => standardised(y.slice_axis(Axis(0), (..2 * half).into())),
    };
    let (learn_x, check_x) = scaled.view().split_at(Axis(0), half);
    let (learn_t, check_t) = targets.view().split_at(Axis(0), half);
    // Rows of few distinct values (categorical columns) can fill a half with one row repeated:
    // no distance to learn a scale from, and nothing to check weights on.
    if [learn_x, check_x].iter().any(|h| all_rows_equal(*h)) {
        return Ok(ColumnWeights::skipped(format!(
            "relevance: not learned: the {half} sampled rows it would learn on, or the {half} it              would check on, are one row repeated"
        )));
    }

    // Learn θ and ρ on the first half.
    let s0 = median_heuristic_sigma(learn_x, half, seed)?;
    let objective = Objective::new(learn_x, learn_t, s0);
    let mut start_point = vec![0.0; d + 1];
    start_point[d] = RHO_START;
    let (best, iterations) = minimise(|p| objective.value_and_gradient(p), start_point);
    let largest = best[..d].iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = best[..d].iter().map(|t| exp(t - largest)).collect();

    // Check them on the second half.
    let check_classes = classes.as_ref().map(|(c, k)| (&c[half..], *k));
    let ones = vec![1.0; d];
    let (isotropic, weighted) = rayon::join(
        || held_out(check_x, &ones, check_t, check_classes, seed),
        || held_out(check_x, &weights, check_t, check_classes, seed),
    );
    let (isotropic, iso_rows) = isotropic?;
    let (weighted, weighted_rows) = weighted?;
    let kept = clearly_lower(&weighted_rows, &iso_rows);
    let shown: Vec<String> = weights.iter().map(|w| format!("{w:.2}")).collect();
    let note = format!(
        "relevance: column weights learned by leave-one-out on {half} sampled rows ({iterations} \
         iterations) {} on {half} other rows (exact kernel ridge, leave-one-out {}: {:.4} \
         weighted, {:.4} not): [{}]",
        if kept {
            "kept: better by more than one standard error"
        } else {
            "not kept: not better by more than one standard error"
        },
        if classes.is_some() { "error" } else { "RMSE" },
        weighted.headline(),
        isotropic.headline(),
        shown.join(", ")
    );
    Ok(ColumnWeights {
        weights: kept.then(|| weights.clone()),
        report: Some(RelevanceReport {
            weights,
            rows: half,
            iterations,
            held_out_rows: half,
            isotropic,
            weighted,
            kept,
            seconds: start.elapsed().as_secs_f64(),
        }),
        note,
    })
}

/// y centred and divided by its standard deviation (one column).
fn standardised(y: ArrayView1<'_, f64>) -> Array2<f64> {
    let n = y.len() as f64;
    let mean = y.sum() / n;
    let sd = (y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
    let sd = if sd > 0.0 { sd } else { 1.0 };
    y.mapv(|v| (v - mean) / sd).insert_axis(Axis(1))
}

/// K with Kᵢₖ = exp(−Σⱼ cⱼ (xᵢⱼ − xₖⱼ)²): each entry one sum over the columns in order, rows
/// in parallel (the same bits for any thread count), e^x by [`rks::exp`] (the same bits with
/// every C library).
fn weighted_gram(x: ArrayView2<'_, f64>, c: &[f64]) -> Array2<f64> {
    let m = x.nrows();
    let rows: Vec<Vec<f64>> = (0..m)
        .into_par_iter()
        .map(|i| {
            let xi = x.row(i);
            let mut row: Vec<f64> = (0..=i)
                .map(|k| {
                    let xk = x.row(k);
                    let s: f64 = (0..c.len())
                        .map(|j| {
                            let t = xi[j] - xk[j];
                            c[j] * t * t
                        })
                        .sum();
                    -s
                })
                .collect();
            // The exponentials in a loop of their own, which vectorises.
            row.iter_mut().for_each(|v| *v = exp(*v));
            row
        })
        .collect();
    Array2::from_shape_fn(
        (m, m),
        |(i, k)| if k <= i { rows[i][k] } else { rows[k][i] },
    )
}

/// The leave-one-out objective of the [module docs](self) on rows `x` (m × d, scaled) with
/// targets `t` (m × outputs).
///
/// Its inverse and products are [`crate::dense`]'s, so the weights it leads to, which the
/// model keeps, are the same bits on every CPU.
struct Objective<'a> {
    x: ArrayView2<'a, f64>,
    t: ArrayView2<'a, f64>,
    /// 1/(2σ₀²).
    inv_two_s0_sq: f64,
}

impl<'a> Objective<'a> {
    fn new(x: ArrayView2<'a, f64>, t: ArrayView2<'a, f64>, s0: f64) -> Self {
        Self {
            x,
            t,
            inv_two_s0_sq: 1.0 / (2.0 * s0 * s0),
        }
    }

    /// L and ∂L/∂(θ, ρ) at `p` = (θ₁ … θ_d, ρ); `None` where K + λI is not positive definite
    /// to rounding or a value is not finite.
    fn value_and_gradient(&self, p: &[f64]) -> Option<(f64, Vec<f64>)> {
        let (m, d) = self.x.dim();
        let outputs = self.t.ncols();
        let c: Vec<f64> = p[..d]
            .iter()
            .map(|t| exp(2.0 * t) * self.inv_two_s0_sq)
            .collect();
        let lambda = exp(p[d]);
        let k = weighted_gram(self.x, &c);
        let ai = Cholesky::factor(k.clone(), lambda).ok()?.inverse();
        let alpha = fixed_product(ai.view(), self.t);
        let diag: Vec<f64> = (0..m).map(|i| ai[[i, i]]).collect();
        let mf = m as f64;
        let mut value = 0.0;
        let mut u = Array2::<f64>::zeros((m, outputs));
        let mut v = vec![0.0; m];
        for i in 0..m {
            for o in 0..outputs {
                let e = alpha[[i, o]] / diag[i];
                value += e * e;
                u[[i, o]] = 2.0 * e / (mf * diag[i]);
                v[i] += 2.0 * e * alpha[[i, o]] / (mf * diag[i] * diag[i]);
            }
        }
        value /= mf;
        // G = A⁻¹ diag(v) A⁻¹ − sym(A⁻¹ U αᵀ).
        let scaled = Array2::from_shape_fn((m, m), |(i, j)| ai[[i, j]] * v[j]);
        let g1 = fixed_product(scaled.view(), ai.view());
        let p_mat = fixed_product(ai.view(), u.view());
        let g2 = fixed_product(p_mat.view(), alpha.t());
        let g = Array2::from_shape_fn((m, m), |(i, j)| {
            g1[[i, j]] - 0.5 * (g2[[i, j]] + g2[[j, i]])
        });
        // M = G ∘ K; Σᵢₖ Mᵢₖ (xᵢⱼ − xₖⱼ)² = 2 Σᵢ rᵢ xᵢⱼ² − 2 Σᵢ xᵢⱼ (M x)ᵢⱼ.
        let mk = &g * &k;
        let r: Vec<f64> = mk.rows().into_iter().map(|row| row.iter().sum()).collect();
        let x = self.x;
        let mx = fixed_product(mk.view(), x);
        let mut gradient = vec![0.0; d + 1];
        for j in 0..d {
            let mut s = 0.0;
            for i in 0..m {
                let xij = x[[i, j]];
                s += 2.0 * r[i] * xij * xij - 2.0 * xij * mx[[i, j]];
            }
            gradient[j] = -2.0 * c[j] * s;
        }
        gradient[d] = lambda * (0..m).map(|i| g[[i, i]]).sum::<f64>();
        let finite = value.is_finite() && gradient.iter().all(|g| g.is_finite());
        finite.then_some((value, gradient))
    }
}

/// Clamps θ and ρ to their ranges.
fn clamp(p: &mut [f64]) {
    let d = p.len() - 1;
    for t in &mut p[..d] {
        *t = t.clamp(THETA_RANGE.0, THETA_RANGE.1);
    }
    p[d] = p[d].clamp(RHO_RANGE.0, RHO_RANGE.1);
}

/// Minimises `f` from `x0` by L-BFGS (the last 6 pairs) with a backtracking Armijo line
/// search, the point clamped to the bounds, until a step lowers `f` by at most
/// [`RELATIVE_DECREASE`] of it or [`MAX_ITERATIONS`]; returns the point and the iterations taken.
fn minimise(f: impl Fn(&[f64]) -> Option<(f64, Vec<f64>)>, x0: Vec<f64>) -> (Vec<f64>, usize) {
    const MEMORY: usize = 6;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut x = x0;
    let Some((mut fx, mut g)) = f(&x) else {
        return (x, 0);
    };
    let mut pairs: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS {
        // The two-loop recursion: direction = −H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(pairs.len());
        for (s, y, rho) in pairs.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = pairs
            .last()
            .map_or(1.0 / dot(&g, &g).sqrt().max(1e-12), |(s, y, _)| {
                dot(s, y) / dot(y, y)
            });
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in pairs.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut direction: Vec<f64> = q.iter().map(|v| -v).collect();
        if dot(&direction, &g) >= 0.0 {
            // Not a descent direction: restart from the gradient.
            pairs.clear();
            let scale = 1.0 / dot(&g, &g).sqrt().max(1e-12);
            direction = g.iter().map(|v| -v * scale).collect();
        }
        let slope = dot(&direction, &g);
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let mut candidate: Vec<f64> = x
                .iter()
                .zip(&direction)
                .map(|(a, b)| a + step * b)
                .collect();
            clamp(&mut candidate);
            if let Some((fc, gc)) = f(&candidate)
                && fc <= fx + 1e-4 * step * slope
            {
                accepted = Some((candidate, fc, gc));
                break;
            }
            step *= 0.5;
        }
        let Some((next, f_next, g_next)) = accepted else {
            break;
        };
        iterations += 1;
        let s: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_next.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if pairs.len() == MEMORY {
                pairs.remove(0);
            }
            pairs.push((s, y, 1.0 / sy));
        }
        let decrease = fx - f_next;
        (x, fx, g) = (next, f_next, g_next);
        if decrease <= RELATIVE_DECREASE * fx.abs().max(1e-12) {
            break;
        }
    }
    (x, iterations)
}

/// True when every row of `x` equals the first.
fn all_rows_equal(x: ArrayView2<'_, f64>) -> bool {
    let mut rows = x.rows().into_iter();
    let first = rows.next();
    rows.all(|r| Some(r) == first)
}

/// Exact kernel ridge on rows `x` (scaled) times `weights`, at its best σ (of
/// [`CHECK_FACTORS`] × its median heuristic) and λ (of [`CHECK_LAMBDAS`]) by leave-one-out:
/// the score and each row's loss (classification: 1 for a wrong class, else 0; regression:
/// the squared residual).
fn held_out(
    x: ArrayView2<'_, f64>,
    weights: &[f64],
    t: ArrayView2<'_, f64>,
    classes: Option<(&[usize], usize)>,
    seed: u64,
) -> Result<(LooScore, Vec<f64>)> {
    let weighted = Array2::from_shape_fn(x.dim(), |(i, j)| x[[i, j]] * weights[j]);
    let m = x.nrows();
    let worst = || {
        (
            LooScore {
                error: classes.map(|_| 1.0),
                mse: f64::INFINITY,
                rows: m,
            },
            vec![f64::INFINITY; m],
        )
    };
    // Weights that shrink every varying column to nothing leave no scale: the worst score.
    let Ok(median) = median_heuristic_sigma(weighted.view(), m, seed) else {
        return Ok(worst());
    };
    let mut best: Option<(LooScore, Vec<f64>)> = None;
    for factor in CHECK_FACTORS {
        let sigma = factor * median.max(f64::MIN_POSITIVE);
        let c = vec![1.0 / (2.0 * sigma * sigma); weights.len()];
        let k = weighted_gram(weighted.view(), &c);
        let (vectors, values) = eigen(&k)?;
        let vt_t = fixed_product(vectors.t(), t);
        for lambda in CHECK_LAMBDAS {
            let (score, losses) = loo_of_eigen(vectors.view(), &values, &vt_t, t, classes, lambda);
            if best.as_ref().is_none_or(|(b, _)| score.better_than(b)) {
                best = Some((score, losses));
            }
        }
    }
    Ok(best.unwrap_or_else(worst))
}

/// Leave-one-out of kernel ridge with K = V diag(s) Vᵀ at λ: α = V diag(1/(s + λ)) VᵀT,
/// (K + λI)⁻¹ᵢᵢ = Σₖ Vᵢₖ²/(sₖ + λ), eᵢ = αᵢ/(K + λI)⁻¹ᵢᵢ; the score of the predictions T − e
/// and each row's loss.
fn loo_of_eigen(
    v: ArrayView2<'_, f64>,
    s: &[f64],
    vt_t: &Array2<f64>,
    t: ArrayView2<'_, f64>,
    classes: Option<(&[usize], usize)>,
    lambda: f64,
) -> (LooScore, Vec<f64>) {
    let (m, r) = (v.nrows(), v.ncols());
    let outputs = t.ncols();
    let scaled = Array2::from_shape_fn((r, outputs), |(k, o)| vt_t[(k, o)] / (s[k] + lambda));
    let alpha = fixed_product(v, scaled.view());
    // (K + λI)⁻¹ᵢᵢ once per row (not per output), each summed over k in order, a column of V
    // at a time (V is column-major).
    let mut diag = vec![0.0; m];
    for (k, &sk) in s.iter().enumerate().take(r) {
        let (column, denominator) = (v.column(k), sk + lambda);
        for (d, &vik) in diag.iter_mut().zip(column.iter()) {
            *d += vik * vik / denominator;
        }
    }
    let predicted =
        Array2::from_shape_fn((m, outputs), |(i, o)| t[[i, o]] - alpha[(i, o)] / diag[i]);
    let losses: Vec<f64> = match classes {
        Some((c, n_classes)) => wrong_rows(predicted.clone(), c, n_classes)
            .into_iter()
            .map(|wrong| if wrong { 1.0 } else { 0.0 })
            .collect(),
        // One output (the standardised target): the squared residual itself.
        None => row_squared_errors(predicted.view(), t),
    };
    (LooScore::of(predicted, t, classes), losses)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows whose target depends on the first two of `d` columns only.
    fn problem(m: usize, d: usize) -> (Array2<f64>, Array2<f64>) {
        let x = Array2::from_shape_fn((m, d), |(i, j)| {
            ((i * 7 + j * 13) as f64 * 0.618_033_988_7).fract()
        });
        let t = Array2::from_shape_fn((m, 1), |(i, _)| {
            (6.0 * x[[i, 0]]).sin() + (5.0 * x[[i, 1]]).cos()
        });
        (x, t)
    }

    /// The objective by its definition: K + λI solved for every left-out row.
    fn brute_force(x: ArrayView2<'_, f64>, t: ArrayView2<'_, f64>, s0: f64, p: &[f64]) -> f64 {
        let (m, d) = x.dim();
        let c: Vec<f64> = p[..d]
            .iter()
            .map(|t| (2.0 * t).exp() / (2.0 * s0 * s0))
            .collect();
        let k = weighted_gram(x, &c);
        let lambda = p[d].exp();
        let mut total = 0.0;
        for left in 0..m {
            let keep: Vec<usize> = (0..m).filter(|&i| i != left).collect();
            let a = faer::Mat::from_fn(m - 1, m - 1, |i, j| {
                k[[keep[i], keep[j]]] + if i == j { lambda } else { 0.0 }
            });
            let tk = faer::Mat::from_fn(m - 1, t.ncols(), |i, o| t[[keep[i], o]]);
            // faer's Cholesky: a reference independent of the objective's own.
            let alpha = faer::prelude::Solve::solve(&a.llt(faer::Side::Lower).unwrap(), &tk);
            for o in 0..t.ncols() {
                let prediction: f64 = (0..m - 1).map(|i| k[[left, keep[i]]] * alpha[(i, o)]).sum();
                total += (t[[left, o]] - prediction).powi(2);
            }
        }
        total / m as f64
    }

    #[test]
    fn the_objective_is_the_leave_one_out_error_and_its_gradient_matches_differences() {
        let (x, t) = problem(40, 4);
        let objective = Objective::new(x.view(), t.view(), 0.5);
        let p = vec![0.3, -0.2, 0.1, -0.5, -3.0];
        let (value, gradient) = objective.value_and_gradient(&p).unwrap();
        let reference = brute_force(x.view(), t.view(), 0.5, &p);
        assert!(
            (value - reference).abs() < 1e-9 * reference,
            "{value} vs {reference}"
        );
        for (j, g) in gradient.iter().enumerate() {
            let h = 1e-5;
            let (mut up, mut down) = (p.clone(), p.clone());
            up[j] += h;
            down[j] -= h;
            let numeric = (objective.value_and_gradient(&up).unwrap().0
                - objective.value_and_gradient(&down).unwrap().0)
                / (2.0 * h);
            assert!(
                (g - numeric).abs() < 1e-5 * (1.0 + numeric.abs()),
                "∂L/∂p{j}: {g} vs {numeric}"
            );
        }
    }

    #[test]
    fn the_weights_find_the_columns_that_matter() {
        let (x, t) = problem(120, 5);
        let objective = Objective::new(x.view(), t.view(), 0.6);
        let mut p = vec![0.0; 6];
        p[5] = RHO_START;
        let before = objective.value_and_gradient(&p).unwrap().0;
        let (best, iterations) = minimise(|q| objective.value_and_gradient(q), p);
        let after = objective.value_and_gradient(&best).unwrap().0;
        assert!(iterations > 0 && after < 0.5 * before, "{before} → {after}");
        let w: Vec<f64> = best[..5].iter().map(|t| t.exp()).collect();
        let weakest_relevant = w[0].min(w[1]);
        assert!(
            w[2..].iter().all(|&v| v < 0.5 * weakest_relevant),
            "weights {w:?}"
        );
    }

    #[test]
    fn leave_one_out_from_the_eigenvectors_matches_the_inverse() {
        let (x, t) = problem(30, 3);
        let k = weighted_gram(x.view(), &[2.0, 2.0, 2.0]);
        let (vectors, values) = eigen(&k).unwrap();
        let vt_t = fixed_product(vectors.t(), t.view());
        let (score, losses) = loo_of_eigen(vectors.view(), &values, &vt_t, t.view(), None, 0.01);
        let objective = Objective::new(x.view(), t.view(), 0.5);
        // c = 2 = e^{2θ}/(2·0.25) at θ = 0, and λ = 0.01.
        let (value, _) = objective
            .value_and_gradient(&[0.0, 0.0, 0.0, 0.01f64.ln()])
            .unwrap();
        assert!(
            (score.mse - value).abs() < 1e-8 * value,
            "{} vs {value}",
            score.mse
        );
        assert!((losses.iter().sum::<f64>() / 30.0 - value).abs() < 1e-8 * value);
    }

    #[test]
    fn the_same_weights_for_any_thread_count() {
        let (x, t) = problem(60, 4);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let objective = Objective::new(x.view(), t.view(), 0.5);
                    let mut p = vec![0.0; 5];
                    p[4] = RHO_START;
                    minimise(|q| objective.value_and_gradient(q), p).0
                })
        };
        let one = run(1);
        for threads in [2, 3] {
            let other = run(threads);
            assert!(
                one.iter()
                    .zip(&other)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }
}

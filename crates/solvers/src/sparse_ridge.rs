//! Ridge regression on rows held as their non-zero entries, by conjugate gradients.
//!
//! The model and its scaling are [`crate::ridge`]'s: ŷ = wᵀx + b with an unpenalised intercept,
//! minimising ‖y − Xw − 1b‖² + λ‖w‖², whose centred normal equations are
//!
//! ```text
//! (C + λI) w = Xcᵀ yc,   Xc = X − 1μᵀ,  C = XcᵀXc,  yc = y − ȳ1,   b = ȳ − μᵀw.
//! ```
//!
//! With row weights ωᵢ (Σᵢ ωᵢ(yᵢ − wᵀxᵢ − b)² + λ‖w‖², as [`crate::ridge`] weighs them) the
//! means are weighted, μ = Σωᵢxᵢ/Σωᵢ and ȳ = Σωᵢyᵢ/Σωᵢ, and C = XcᵀΩXc, Xcᵀ Ω yc: each row's
//! terms below count ωᵢ times.
//!
//! Forming C (d × d) is what wide sparse rows cannot afford, and centring X would make it dense,
//! so the system is solved by conjugate gradients (Hestenes & Stiefel, "Methods of conjugate
//! gradients for solving linear systems", J. Res. NBS 49, 1952) with C applied implicitly:
//! Cv = Xᵀ(Xv − (μᵀv)1) − μ·1ᵀ(Xv − (μᵀv)1), two passes over the non-zero entries. Every sum is in
//! f64 in row order (the rows' entries in column order), on one thread: the same bits on every
//! CPU and for any thread count.

use crate::rows::{Rows, SparseRows};

/// Stop when ‖r‖ ≤ this × ‖Xcᵀyc‖.
const TOLERANCE: f64 = 1e-10;

/// The iteration cap.
const MAX_ITERATIONS: usize = 2000;

/// A ridge fit on sparse rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRidge {
    /// w, one per column.
    pub weights: Vec<f64>,
    /// b.
    pub intercept: f64,
    /// Conjugate-gradient iterations run.
    pub iterations: usize,
    /// Whether the residual met the tolerance before the cap.
    pub converged: bool,
}

/// The centring of rows: μ (column means), ȳ and Xcᵀyc, and the rows' weights ω.
pub struct Centred {
    means: Vec<f64>,
    y_mean: f64,
    rhs: Vec<f64>,
    /// ω, one per row (positive); `None`: every row weighs 1.
    weights: Option<Vec<f64>>,
}

impl Centred {
    /// μ, ȳ and Xcᵀyc of `rows` and targets `y`.
    pub fn of(rows: &SparseRows<f64>, y: &[f64]) -> Self {
        Self::weighted(rows, y, None)
    }

    /// [`of`](Self::of) with row weights `weights` (one per row, positive; `None`: all 1):
    /// weighted means, and the rows' terms counted ωᵢ times (see the [module docs](self)).
    pub fn weighted(rows: &SparseRows<f64>, y: &[f64], weights: Option<&[f64]>) -> Self {
        let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
        let total: f64 = match weights {
            Some(w) => w.iter().sum(),
            None => rows.n_rows() as f64,
        };
        let total = if total > 0.0 { total } else { 1.0 };
        let mut means = vec![0.0; rows.dim()];
        for i in 0..rows.n_rows() {
            rows.add_to(i, weight(i), &mut means);
        }
        means.iter_mut().for_each(|m| *m /= total);
        let y_mean = match weights {
            Some(w) => y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / total,
            None => y.iter().sum::<f64>() / total,
        };
        // Xcᵀ Ω yc = Xᵀ Ω yc, since 1ᵀ Ω yc = 0.
        let mut rhs = vec![0.0; rows.dim()];
        for (i, &yi) in y.iter().enumerate() {
            rows.add_to(i, weight(i) * (yi - y_mean), &mut rhs);
        }
        Self {
            means,
            y_mean,
            rhs,
            weights: weights.map(<[f64]>::to_vec),
        }
    }

    /// tr(C)/d, the mean eigenvalue of C: the centre of λ grids (as [`crate::ridge`]'s).
    pub fn mean_eigenvalue(&self, rows: &SparseRows<f64>) -> f64 {
        let weight = |i: usize| self.weights.as_ref().map_or(1.0, |w| w[i]);
        let squares: f64 = (0..rows.n_rows())
            .map(|i| weight(i) * rows.squared_norm(i))
            .sum();
        let total: f64 = (0..rows.n_rows()).map(weight).sum();
        let centring: f64 = self.means.iter().map(|m| m * m).sum::<f64>() * total;
        ((squares - centring) / rows.dim().max(1) as f64).max(0.0)
    }
}

/// (C + λI)v, through the rows (see the [module docs](self)); `scratch` holds N values.
fn apply(
    rows: &SparseRows<f64>,
    centred: &Centred,
    lambda: f64,
    v: &[f64],
    scratch: &mut [f64],
    out: &mut [f64],
) {
    let shift: f64 = centred.means.iter().zip(v).map(|(m, x)| m * x).sum();
    let mut total = 0.0;
    for (i, u) in scratch.iter_mut().enumerate() {
        // ωᵢ·(xᵢ − μ)ᵀv: the row's term counted ωᵢ times.
        let weight = centred.weights.as_ref().map_or(1.0, |w| w[i]);
        *u = weight * (rows.dot(i, v) - shift);
        total += *u;
    }
    for ((o, &x), &m) in out.iter_mut().zip(v).zip(&centred.means) {
        *o = lambda * x - m * total;
    }
    for (i, &u) in scratch.iter().enumerate() {
        rows.add_to(i, u, out);
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Ridge at `lambda` (> 0) on `rows` centred as `centred`, by conjugate gradients from `start`
/// (a previous λ's weights, or zeros).
pub fn fit(
    rows: &SparseRows<f64>,
    centred: &Centred,
    lambda: f64,
    start: Option<&[f64]>,
) -> SparseRidge {
    let d = rows.dim();
    let mut w = start.map_or_else(|| vec![0.0; d], <[f64]>::to_vec);
    let mut scratch = vec![0.0; rows.n_rows()];
    let mut applied = vec![0.0; d];
    apply(rows, centred, lambda, &w, &mut scratch, &mut applied);
    let mut r: Vec<f64> = centred
        .rhs
        .iter()
        .zip(&applied)
        .map(|(b, a)| b - a)
        .collect();
    let mut p = r.clone();
    let mut rr = dot(&r, &r);
    let target = TOLERANCE * dot(&centred.rhs, &centred.rhs).sqrt();
    let mut iterations = 0;
    while rr.sqrt() > target && iterations < MAX_ITERATIONS {
        apply(rows, centred, lambda, &p, &mut scratch, &mut applied);
        let curvature = dot(&p, &applied);
        if curvature <= 0.0 || !curvature.is_finite() {
            break;
        }
        let alpha = rr / curvature;
        for ((wi, pi), (ri, ai)) in w.iter_mut().zip(&p).zip(r.iter_mut().zip(&applied)) {
            *wi += alpha * pi;
            *ri -= alpha * ai;
        }
        let next = dot(&r, &r);
        let beta = next / rr;
        rr = next;
        for (pi, ri) in p.iter_mut().zip(&r) {
            *pi = ri + beta * *pi;
        }
        iterations += 1;
    }
    let intercept = centred.y_mean - dot(&centred.means, &w);
    SparseRidge {
        weights: w,
        intercept,
        iterations,
        converged: rr.sqrt() <= target,
    }
}

/// The predictions wᵀxᵢ + b of a fit on the rows of `rows`.
pub fn predict(rows: &SparseRows<f64>, ridge: &SparseRidge) -> Vec<f64> {
    (0..rows.n_rows())
        .map(|i| rows.dot(i, &ridge.weights) + ridge.intercept)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Sparse-ish rows and targets with a linear truth plus noise.
    fn data(rows: usize, cols: usize) -> (Array2<f64>, Array1<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let x = Array2::from_shape_fn((rows, cols), |_| {
            if rng.random::<f64>() < 0.2 {
                rng.random::<f64>()
            } else {
                0.0
            }
        });
        let truth = Array1::from_shape_fn(cols, |j| (j as f64 * 0.7).sin());
        let y = x.dot(&truth).mapv(|v| 3.0 + v)
            + Array1::from_shape_fn(rows, |_| rng.random::<f64>() * 0.1);
        (x, y)
    }

    /// Against the centred normal equations solved densely (a Cholesky of C + λI).
    #[test]
    fn conjugate_gradients_solve_the_centred_normal_equations() {
        let (x, y) = data(120, 30);
        let rows = SparseRows::<f64>::of(x.view()).unwrap();
        let centred = Centred::of(&rows, y.as_slice().unwrap());
        for lambda in [1e-3, 0.1, 10.0] {
            let fit = fit(&rows, &centred, lambda, None);
            assert!(fit.converged && fit.iterations <= 60, "{lambda}: {fit:?}");
            let mu = x.mean_axis(ndarray::Axis(0)).unwrap();
            let xc = &x - &mu;
            let yc = &y - y.mean().unwrap();
            let c = xc.t().dot(&xc) + Array2::<f64>::eye(30) * lambda;
            let rhs = xc.t().dot(&yc);
            let solved = faer_solve(&c, &rhs);
            let gap = solved
                .iter()
                .zip(&fit.weights)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(gap < 1e-8, "{lambda}: {gap}");
            let b = y.mean().unwrap() - mu.dot(&Array1::from(solved.clone()));
            assert!((b - fit.intercept).abs() < 1e-8);
            // A warm start from another λ reaches the same weights.
            let warm = super::fit(&rows, &centred, lambda, Some(&vec![1.0; 30]));
            let gap = warm
                .weights
                .iter()
                .zip(&fit.weights)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(gap < 1e-8, "{lambda}: {gap}");
        }
        let p = predict(&rows, &fit(&rows, &centred, 1e-3, None));
        let rmse = (p.iter().zip(&y).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / 120.0).sqrt();
        assert!(rmse < 0.05, "{rmse}");
    }

    /// Weighted: against the weighted centred normal equations solved densely, and integer
    /// weights as repeated rows.
    #[test]
    fn weighted_rows_solve_the_weighted_normal_equations() {
        let (x, y) = data(120, 30);
        let w: Vec<f64> = (0..120).map(|i| 1.0 + (i % 3) as f64).collect();
        let rows = SparseRows::<f64>::of(x.view()).unwrap();
        let centred = Centred::weighted(&rows, y.as_slice().unwrap(), Some(&w));
        let lambda = 0.05;
        let fit = fit(&rows, &centred, lambda, None);
        assert!(fit.converged, "{fit:?}");
        let wa = Array1::from(w.clone());
        let mu = x.t().dot(&wa) / wa.sum();
        let y_mean = y.dot(&wa) / wa.sum();
        let xc = &x - &mu;
        let xw = &xc * &wa.view().insert_axis(ndarray::Axis(1));
        let c = xw.t().dot(&xc) + Array2::<f64>::eye(30) * lambda;
        let rhs = xw.t().dot(&(&y - y_mean));
        let solved = faer_solve(&c, &rhs);
        let gap = solved
            .iter()
            .zip(&fit.weights)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(gap < 1e-8, "{gap}");
        let b = y_mean - mu.dot(&Array1::from(solved));
        assert!((b - fit.intercept).abs() < 1e-8);
        // Weights 1, 2, 3 = the rows once, twice, three times.
        let repeat: Vec<usize> = (0..120)
            .flat_map(|i| std::iter::repeat_n(i, 1 + i % 3))
            .collect();
        let (xr, yr) = (
            x.select(ndarray::Axis(0), &repeat),
            y.select(ndarray::Axis(0), &repeat),
        );
        let repeated = SparseRows::<f64>::of(xr.view()).unwrap();
        let plain = Centred::of(&repeated, yr.as_slice().unwrap());
        let again = super::fit(&repeated, &plain, lambda, None);
        let gap = again
            .weights
            .iter()
            .zip(&fit.weights)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(gap < 1e-8, "{gap}");
        assert!((plain.mean_eigenvalue(&repeated) - centred.mean_eigenvalue(&rows)).abs() < 1e-9);
    }

    fn faer_solve(a: &Array2<f64>, b: &Array1<f64>) -> Vec<f64> {
        let n = b.len();
        let m = faer::Mat::from_fn(n, n, |i, j| a[[i, j]]);
        let rhs = faer::Mat::from_fn(n, 1, |i, _| b[i]);
        let solved = faer::linalg::solvers::Solve::solve(&m.llt(faer::Side::Lower).unwrap(), &rhs);
        (0..n).map(|i| solved[(i, 0)]).collect()
    }
}

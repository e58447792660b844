//! The eigendecomposition of a symmetric tridiagonal matrix by divide and conquer (Cuppen,
//! "A divide and conquer method for the symmetric tridiagonal eigenproblem", Numer. Math. 36,
//! 1981), with the eigenvectors of each merge computed as Gu and Eisenstat do ("A
//! divide-and-conquer algorithm for the symmetric tridiagonal eigenproblem", SIAM J. Matrix
//! Anal. Appl. 16, 1995), so that they are orthogonal to working precision.
//!
//! **Divide.** With ρ = T[k][k−1] and v = e_{k−1} + sign(ρ)·e_k, T = diag(T₁, T₂) + |ρ|·vvᵀ where
//! T₁ and T₂ are T's leading k × k and trailing blocks with |ρ| taken off their touching
//! diagonal entries. Each half is solved the same way (the two in parallel), down to blocks of
//! [`LEAF`] rows, which implicit QL solves.
//!
//! **Merge.** With T₁ = Z₁Λ₁Z₁ᵀ and T₂ = Z₂Λ₂Z₂ᵀ, T = W(D + ρzzᵀ)Wᵀ for W = diag(Z₁, Z₂),
//! D = diag(Λ₁, Λ₂), z = Wᵀv/√2 (a unit vector) and ρ = 2|T[k][k−1]|. The rank-one problem:
//! - **Deflation.** An entry with ρ|zᵢ| ≤ tol leaves (dᵢ, eᵢ) an eigenpair as it is; two
//!   neighbouring dᵢ ≤ dⱼ closer than tol/|cs| are rotated (c = zⱼ/τ, s = −zᵢ/τ, τ = ‖(zᵢ, zⱼ)‖)
//!   so that zᵢ becomes 0 and (c²dᵢ + s²dⱼ, W's rotated column) an eigenpair; tol =
//!   8ε·max(max|dᵢ|, ρ), the error the rounding of D and z already carries.
//! - **The secular equation** f(λ) = 1 + ρ Σᵢ zᵢ²/(dᵢ − λ) = 0 of the K entries left has one
//!   root in each (dⱼ, dⱼ₊₁) and one in (d_K, d_K + ρ). Each root is found relative to its
//!   nearer pole d_o (λ = d_o + τ, so that dᵢ − λ = (dᵢ − d_o) − τ keeps its relative accuracy
//!   however close the root is to the pole), by the rational model of f through its two
//!   neighbouring poles (the "middle way" of Li, "Solving secular equations stably and
//!   efficiently", LAPACK Working Note 89, 1994), safeguarded by bisection of a bracket that
//!   f's sign keeps.
//! - **Eigenvectors** (Gu & Eisenstat): the z for which the computed roots are exact,
//!   ẑᵢ² = (λ_K − dᵢ)/ρ · Πⱼ<ᵢ (λⱼ − dᵢ)/(dⱼ − dᵢ) · Π_{i≤j<K} (λⱼ − dᵢ)/(dⱼ₊₁ − dᵢ) with zᵢ's
//!   sign, gives the vectors uⱼ ∝ (ẑᵢ/(dᵢ − λⱼ))ᵢ, orthonormal to rounding; the merged vectors
//!   are W·U, two matrix products (W's columns from Z₁ are zero below row k, those from Z₂
//!   above it) with [`crate::product::FixedRight`]'s fused multiply-add chains.
//!
//! Every step is IEEE arithmetic in an order fixed by the matrix, the products included, so the
//! bits do not depend on the CPU or the thread count.

use ndarray::{Array2, Axis, s};
use rayon::prelude::*;

use super::loops::Loops;
use super::{NoConvergence, Transposed, pythag, ql};
use crate::product::FixedRight;
use crate::simd::Simd;

/// Orders up to which implicit QL solves a block directly.
const LEAF: usize = 32;
/// Steps of the secular equation's iteration for one root. Each step moves one end of the
/// bracket to τ (by f's sign), and a model step that would leave the bracket bisects it instead;
/// 5–10 steps are usual, at most 44 in the tests (graded and rescaled matrices). At the cap the
/// root is the last step's τ.
const MAX_STEPS: usize = 200;

/// Eigenvalues ascending, and the eigenvectors as columns.
pub(super) type Part = (Vec<f64>, Array2<f64>);

/// The eigendecomposition of the symmetric tridiagonal matrix of diagonal `d` and subdiagonal
/// `e` (e[i] = T[i+1][i]; e has d's length, its last entry unused): values ascending, column j
/// of the matrix the unit eigenvector of value j. `batch` is QL's rotation batch per row in the
/// leaves (no effect on the bits).
pub(super) fn solve(
    loops: Loops,
    simd: Simd,
    d: &[f64],
    e: &[f64],
    batch: usize,
) -> Result<Part, NoConvergence> {
    let m = d.len();
    if m <= LEAF {
        return leaf(loops, d, e, batch);
    }
    let k = m / 2;
    let coupling = e[k - 1];
    let (mut d1, mut d2) = (d[..k].to_vec(), d[k..].to_vec());
    d1[k - 1] -= coupling.abs();
    d2[0] -= coupling.abs();
    let mut e1 = e[..k].to_vec();
    e1[k - 1] = 0.0;
    let (top, bottom) = rayon::join(
        || solve(loops, simd, &d1, &e1, batch),
        || solve(loops, simd, &d2, &e[k..], batch),
    );
    Ok(merge(simd, top?, bottom?, coupling))
}

/// A block of at most [`LEAF`] rows by implicit QL on the identity.
fn leaf(loops: Loops, d: &[f64], e: &[f64], batch: usize) -> Result<Part, NoConvergence> {
    let m = d.len();
    if m == 0 {
        return Ok((Vec::new(), Array2::zeros((0, 0))));
    }
    let (mut values, mut sub) = (d.to_vec(), e.to_vec());
    sub[m - 1] = 0.0;
    let mut vectors = Transposed::identity(m);
    ql(loops, &mut values, &mut sub, &mut vectors, batch * m)?;
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let z = Array2::from_shape_fn((m, m), |(r, j)| vectors.get(order[j], r));
    Ok((order.iter().map(|&j| values[j]).collect(), z))
}

/// Which halves' rows a column of W may be non-zero in.
const TOP: u8 = 1;
const BOTTOM: u8 = 2;

/// The eigendecomposition of diag(T₁, T₂) + |ρ|vvᵀ from those of T₁ and T₂ (`top`, `bottom`),
/// ρ = `coupling` (see the module docs).
fn merge(simd: Simd, (l1, z1): Part, (l2, z2): Part, coupling: f64) -> Part {
    let (k, m) = (l1.len(), l1.len() + l2.len());
    let rho = 2.0 * coupling.abs();
    let sign = if coupling < 0.0 { -1.0 } else { 1.0 };
    let half = std::f64::consts::FRAC_1_SQRT_2;
    let mut z: Vec<f64> = z1
        .row(k - 1)
        .iter()
        .map(|&v| v * half)
        .chain(z2.row(0).iter().map(|&v| sign * v * half))
        .collect();
    let mut d: Vec<f64> = l1.iter().chain(&l2).copied().collect();
    let mut w = Array2::zeros((m, m));
    w.slice_mut(s![..k, ..k]).assign(&z1);
    w.slice_mut(s![k.., k..]).assign(&z2);
    let mut support: Vec<u8> = (0..m).map(|i| if i < k { TOP } else { BOTTOM }).collect();

    // Deflation, in ascending order of d.
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| d[a].total_cmp(&d[b]).then(a.cmp(&b)));
    let top = d.iter().fold(0.0f64, |t, v| t.max(v.abs()));
    let tol = 8.0 * f64::EPSILON * top.max(rho);
    let (mut kept, mut deflated) = (Vec::with_capacity(m), Vec::with_capacity(m));
    let mut previous: Option<usize> = None;
    for &j in &order {
        if rho * z[j].abs() <= tol {
            deflated.push(j);
            continue;
        }
        if let Some(p) = previous {
            let t = pythag(z[p], z[j]);
            let (c, s) = (z[j] / t, -z[p] / t);
            if (c * s * (d[j] - d[p])).abs() <= tol {
                let (dp, dj) = (d[p], d[j]);
                d[p] = c * c * dp + s * s * dj;
                d[j] = s * s * dp + c * c * dj;
                z[p] = 0.0;
                z[j] = t;
                for mut row in w.rows_mut() {
                    let (a, b) = (row[p], row[j]);
                    row[p] = c * a + s * b;
                    row[j] = c * b - s * a;
                }
                support[p] |= support[j];
                support[j] = support[p];
                deflated.push(p);
                previous = Some(j);
                continue;
            }
            kept.push(p);
        }
        previous = Some(j);
    }
    kept.extend(previous);

    // The secular equation's roots and the eigenvectors of D + ρzzᵀ on the kept entries.
    let n = kept.len();
    let dk: Vec<f64> = kept.iter().map(|&i| d[i]).collect();
    let zk: Vec<f64> = kept.iter().map(|&i| z[i]).collect();
    let roots: Vec<(usize, f64)> = (0..n)
        .into_par_iter()
        .map(|j| root(&dk, &zk, rho, j))
        .collect();
    // λⱼ − dᵢ, from λⱼ's pole: (d_o − dᵢ) + τ.
    let gap = |i: usize, j: usize| (dk[roots[j].0] - dk[i]) + roots[j].1;
    let zhat: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut p = gap(i, n - 1) / rho;
            for j in 0..i {
                p *= gap(i, j) / (dk[j] - dk[i]);
            }
            for j in i..n - 1 {
                p *= gap(i, j) / (dk[j + 1] - dk[i]);
            }
            p.abs().sqrt().copysign(zk[i])
        })
        .collect();
    let columns: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map(|j| {
            let mut u: Vec<f64> = (0..n).map(|i| -zhat[i] / gap(i, j)).collect();
            let big = u.iter().fold(0.0f64, |t, v| t.max(v.abs()));
            let norm = big * u.iter().fold(0.0, |t, v| t + (v / big) * (v / big)).sqrt();
            u.iter_mut().for_each(|v| *v /= norm);
            u
        })
        .collect();
    let u = Array2::from_shape_fn((n, n), |(i, j)| columns[j][i]);

    // W·U by halves: the top rows from the columns that reach them, the bottom rows likewise.
    let mut merged = Array2::zeros((m, n));
    for (rows, part) in [(0..k, TOP), (k..m, BOTTOM)] {
        let reach: Vec<usize> = (0..n).filter(|&p| support[kept[p]] & part != 0).collect();
        if reach.is_empty() {
            continue;
        }
        let columns: Vec<usize> = reach.iter().map(|&p| kept[p]).collect();
        let x = w
            .slice(s![rows.clone(), ..])
            .select(Axis(1), &columns)
            .as_standard_layout()
            .to_owned();
        let b = u.select(Axis(0), &reach);
        FixedRight::new(b.view()).product_with(simd, x.view(), merged.slice_mut(s![rows, ..]));
    }

    // Every eigenpair, ascending (ties by the entry's index).
    let mut pairs: Vec<(f64, usize, Option<usize>)> = (0..n)
        .map(|j| (dk[roots[j].0] + roots[j].1, kept[j], Some(j)))
        .chain(deflated.iter().map(|&i| (d[i], i, None)))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut vectors = Array2::zeros((m, m));
    for (mut column, &(_, i, j)) in vectors.columns_mut().into_iter().zip(&pairs) {
        match j {
            Some(j) => column.assign(&merged.column(j)),
            None => column.assign(&w.column(i)),
        }
    }
    (pairs.iter().map(|p| p.0).collect(), vectors)
}

/// Root j of 1 + ρ Σᵢ zᵢ²/(dᵢ − λ) (d strictly ascending, every zᵢ ≠ 0, ρ > 0) as (o, τ):
/// λ = d_o + τ with d_o its nearer pole.
fn root(d: &[f64], z: &[f64], rho: f64, j: usize) -> (usize, f64) {
    let n = d.len();
    let last = j + 1 == n;
    // The pole nearer the root, and a bracket of τ: f < 0 at its lower end, > 0 at its upper.
    let (origin, mut lo, mut hi) = if last {
        let norm = z.iter().fold(0.0, |t, v| t + v * v);
        (j, 0.0, rho * norm * (1.0 + 8.0 * f64::EPSILON))
    } else {
        let mid = 0.5 * (d[j + 1] - d[j]);
        let f = 1.0
            + rho
                * d.iter()
                    .zip(z)
                    .fold(0.0, |t, (&di, &zi)| t + zi * zi / ((di - d[j]) - mid));
        if f >= 0.0 {
            (j, 0.0, mid)
        } else {
            (j + 1, (d[j] - d[j + 1]) + mid, 0.0)
        }
    };
    let delta: Vec<f64> = d.iter().map(|&di| di - d[origin]).collect();
    let mut tau = 0.5 * (lo + hi);
    for _ in 0..MAX_STEPS {
        // ψ over the poles at or left of the root's interval, φ over those right of it.
        let (mut psi, mut dpsi, mut phi, mut dphi) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..=j {
            let t = z[i] / (delta[i] - tau);
            psi += z[i] * t;
            dpsi += t * t;
        }
        for i in (j + 1..n).rev() {
            let t = z[i] / (delta[i] - tau);
            phi += z[i] * t;
            dphi += t * t;
        }
        let (psi, dpsi, phi, dphi) = (rho * psi, rho * dpsi, rho * phi, rho * dphi);
        let f = 1.0 + psi + phi;
        // f's rounding error: its terms', and τ's times f′.
        let error =
            f64::EPSILON * (8.0 * (1.0 + psi.abs() + phi.abs()) + tau.abs() * (dpsi + dphi));
        if f.abs() <= error {
            break;
        }
        if f < 0.0 {
            lo = tau;
        } else {
            hi = tau;
        }
        // The model c + s/(δ_j − x) + S/(δ_{j+1} − x), equal to f with its derivative at τ, and
        // its root in the interval as τ + η.
        let left = delta[j] - tau;
        let s = dpsi * left * left;
        let step = if last {
            let c = f - dpsi * left;
            (c != 0.0).then(|| left + s / c)
        } else {
            let right = delta[j + 1] - tau;
            let big_s = dphi * right * right;
            let c = f - dpsi * left - dphi * right;
            let a = c * (left + right) + s + big_s;
            let b = c * left * right + s * right + big_s * left;
            if c == 0.0 {
                (a != 0.0).then(|| b / a)
            } else {
                let root = (a * a - 4.0 * b * c).max(0.0).sqrt();
                let q = 0.5 * if a >= 0.0 { a + root } else { a - root };
                let candidates = [q / c, if q != 0.0 { b / q } else { f64::NAN }];
                candidates
                    .into_iter()
                    .filter(|eta| tau + eta > lo && tau + eta < hi)
                    .min_by(|x, y| x.abs().total_cmp(&y.abs()))
            }
        };
        let next = match step.map(|eta| tau + eta) {
            Some(next) if next > lo && next < hi => next,
            _ => 0.5 * (lo + hi),
        };
        if next == tau {
            break;
        }
        tau = next;
    }
    (origin, tau)
}

//! The eigendecomposition of a real symmetric matrix, with the same bits on every CPU.
//!
//! A = U diag(λ) Uᵀ in two steps (Golub & Van Loan, "Matrix Computations", 4th ed., §8.3.1 and
//! §8.3.5; the implicit QL algorithm of Bowdler, Martin, Reinsch & Wilkinson, "The QR and QL
//! algorithms for symmetric matrices", Numer. Math. 11, 1968):
//!
//! 1. **Householder tridiagonalisation.** For k = 0, …, m−3 a reflector H_k = I − β vvᵀ on the
//!    coordinates k+1, …, m−1 maps column k below the diagonal, x, onto αe₁ (α = −sign(x₀)‖x‖,
//!    v = x − αe₁, β = 2/vᵀv = 1/(‖x‖(‖x‖ + |x₀|))). The trailing block B becomes H B H =
//!    B − vqᵀ − qvᵀ with p = βBv and q = p − (βvᵀp/2)v. Then A = Q T Qᵀ with T tridiagonal and
//!    Q = H₀H₁⋯H_{m−3}, never formed.
//! 2. **Divide and conquer** on T (`symmetric/divide.rs`): T is split in halves by a rank-one
//!    correction, each half solved the same way down to blocks of 32 rows, which implicit QL
//!    with Wilkinson's shift solves (each sweep deflates the top of the unreduced part by a
//!    chain of plane rotations from the bottom up, recorded and applied to the block's vectors
//!    in batches); each merge solves the secular equation of the rank-one update and forms its
//!    vectors as Gu and Eisenstat do, then multiplies them into the halves' vectors (two matrix
//!    products). T = Z diag(λ) Zᵀ.
//! 3. **U = QZ**, by blocks of 64 reflectors in the compact WY form, three matrix products per
//!    block (`symmetric/wy.rs`).
//!
//! **Same bits everywhere.** Every operation is an IEEE multiply, add, divide or square root
//! (no library `hypot`) in an order fixed by m alone; the matrix products are
//! [`crate::product::FixedRight`]'s chains of fused multiply-adds, whose AVX-512, AVX2 and
//! portable kernels agree to the bit. The other loops the compiler vectorises
//! (`symmetric/loops.rs`, one source compiled portable, for AVX2 and for AVX-512) are
//! elementwise — a scaled row added to another, a rotation of two rows — except one dot product
//! per row of the reduction, which keeps 8 lanes at every vector width, without fused
//! multiply-adds. The reduction's pass over the trailing block runs by fixed groups of rows,
//! whose partial sums are added in group order, in parallel; the two halves of each divide run
//! in parallel, and so do the roots and vectors of a merge, each computed alone; the products
//! split their rows among threads, each entry one chain. Every entry receives the same
//! operations in the same order whatever the SIMD level, the QL batch or the thread count
//! ([`Eigen::of_with`] takes the first two; the tests compare all three).
//!
//! Cost: (4/3)m³ flops for the reduction (half of them in the pass over the upper triangle,
//! memory-bound beyond the L2 cache), at most (4/3)m³ for the merges' products (less where
//! eigenvalues deflate, as most of a kernel matrix's do) and 2m³ for U = QZ, the last two at the
//! speed of the matrix product (`examples/eigen_cpu.rs` against faer; docs/benchmarks.md).

mod divide;
mod loops;
mod wy;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, s};
use rayon::prelude::*;

use crate::simd::Simd;
use loops::Loops;

/// Rotations recorded before they are applied, per row of a QL block.
const BATCH_PER_ROW: usize = 16;
/// QL sweeps allowed for one eigenvalue before the decomposition gives up (2–3 are usual).
const MAX_SWEEPS: usize = 60;

/// The eigenvalues of a symmetric matrix in ascending order and their unit eigenvectors.
///
/// ```
/// use ndarray::array;
/// use rks::symmetric::Eigen;
///
/// let a = array![[2.0, 1.0], [1.0, 2.0]];
/// let eigen = Eigen::of(a.view())?;
/// assert!((eigen.values[0] - 1.0).abs() < 1e-15 && (eigen.values[1] - 3.0).abs() < 1e-15);
/// // Row j of `vectors` is the eigenvector of values[j]: A u = λ u.
/// let u = eigen.vectors.row(1);
/// assert!((&a.dot(&u) - &(&u * 3.0)).iter().all(|d| d.abs() < 1e-15));
/// # Ok::<(), rks::symmetric::NoConvergence>(())
/// ```
#[derive(Debug, Clone)]
pub struct Eigen {
    /// λ₀ ≤ λ₁ ≤ … ≤ λ_{m−1}.
    pub values: Vec<f64>,
    /// m × m: row j is the unit eigenvector of `values[j]` (the rows are orthonormal).
    pub vectors: Array2<f64>,
}

/// The QL iteration did not converge for one eigenvalue within its sweeps (it needs two or three;
/// a matrix of finite entries has not been seen to exhaust them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the QL iteration did not converge for eigenvalue {index} of a {size} × {size} matrix")]
pub struct NoConvergence {
    /// Which eigenvalue (counted from the top of the tridiagonal matrix).
    pub index: usize,
    /// The matrix's order m.
    pub size: usize,
}

impl Eigen {
    /// The eigendecomposition of the symmetric matrix `a`, read from its lower triangle (the
    /// upper one is taken to mirror it). Its entries must be finite.
    ///
    /// # Panics
    /// If `a` is not square (a caller's bug: every caller builds the matrix).
    pub fn of(a: ArrayView2<'_, f64>) -> Result<Self, NoConvergence> {
        Self::of_with(a, Simd::detect(), BATCH_PER_ROW)
    }

    /// [`Eigen::of`] with the vector instructions `simd` allows and `batch`·m rotations per
    /// batch in the QL blocks of m rows (at least 1): the bits depend on neither.
    pub fn of_with(
        a: ArrayView2<'_, f64>,
        simd: Simd,
        batch: usize,
    ) -> Result<Self, NoConvergence> {
        // On a worker of rayon's pool: the thousands of parallel passes (one per reduction
        // step) then split their work without each waking the pool from outside and putting
        // the calling thread to sleep (m = 512: 0.061 → 0.035 s on one thread).
        rayon::scope(|_| Self::solve(a, simd, batch))
    }

    /// [`Eigen::of_with`]'s work.
    fn solve(a: ArrayView2<'_, f64>, simd: Simd, batch: usize) -> Result<Self, NoConvergence> {
        let loops = Loops::of(simd);
        let m = a.nrows();
        assert_eq!(a.ncols(), m, "the eigendecomposition needs a square matrix");
        let batch = batch.max(1);
        // The lower triangle, mirrored.
        let mut w = vec![0.0; m * m];
        for (i, row) in a.outer_iter().enumerate() {
            for (j, &x) in row.iter().take(i + 1).enumerate() {
                w[i * m + j] = x;
                w[j * m + i] = x;
            }
        }
        // Scaled by a power of two (exactly) so that the largest entry is in [1, 2): the
        // convergence tests and the rotations stay clear of subnormal numbers, and the bits of
        // the vectors do not depend on the matrix's scale.
        let top = w.iter().fold(0.0f64, |t, x| t.max(x.abs()));
        let [s1, s2] = power_of_two(top);
        w.iter_mut().for_each(|x| *x = *x * s1 * s2);
        let (d, e, betas) = tridiagonalize(loops, &mut w, m);
        let (values, z) = divide::solve(loops, simd, &d, &e, batch)
            .map_err(|e| NoConvergence { size: m, ..e })?;
        // U = QZ, stored transposed: Zᵀ·Qᵀ.
        let mut vectors = z.t().as_standard_layout().to_owned();
        wy::apply_q_transpose(simd, &w, &betas, vectors.view_mut());
        let values = values.iter().map(|v| v / s2 / s1).collect();
        Ok(Self { values, vectors })
    }
}

/// Two powers of two whose product s puts s·x in [1, 2) for a finite x > 0 (1 and 1 for x = 0),
/// each finite where s itself would not be (x subnormal needs s up to 2¹⁰⁷⁴); multiplying by
/// one and then the other is exact.
fn power_of_two(x: f64) -> [f64; 2] {
    if x == 0.0 {
        return [1.0; 2];
    }
    let first = if x < 2f64.powi(-511) {
        2f64.powi(600)
    } else if x > 2f64.powi(511) {
        2f64.powi(-600)
    } else {
        1.0
    };
    let y = x * first;
    let mut second = 1.0;
    while y * second < 1.0 {
        second *= 2.0;
    }
    while y * second >= 2.0 {
        second *= 0.5;
    }
    [first, second]
}

/// √(a² + b²) without overflow, from IEEE operations only (a library `hypot` may round
/// differently on another platform).
fn pythag(a: f64, b: f64) -> f64 {
    let (a, b) = (a.abs(), b.abs());
    let (big, small) = if a >= b { (a, b) } else { (b, a) };
    if big == 0.0 {
        return 0.0;
    }
    let r = small / big;
    big * (1.0 + r * r).sqrt()
}

/// The sum of a·b over the pairs, in index order.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
}

/// Turns x into a Householder vector v in place and returns (α, β) with H = I − βvvᵀ mapping x
/// onto αe₁, or returns None (x untouched) when x is already a multiple of e₁ (H = I).
///
/// v is x − αe₁ divided by s = max|x_i|, and β = 1/(ν(ν + |x₀|/s)) with ν = ‖x‖/s ∈ [1, √n]
/// (H does not change when v is scaled and β scaled back): no square or product of v and β
/// underflows or overflows, however small or large x is — with x near the smallest normal
/// numbers (kernel values of far-apart points), ‖x‖² underflows to 0 and 2/vᵀv would be
/// infinite.
fn reflect(x: &mut [f64]) -> Option<(f64, f64)> {
    if x[1..].iter().all(|&v| v == 0.0) {
        return None;
    }
    let scale = x.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    x.iter_mut().for_each(|v| *v /= scale);
    let nu = x.iter().fold(0.0, |s, &v| s + v * v).sqrt();
    let x0 = x[0];
    let alpha = if x0 > 0.0 { -nu } else { nu };
    x[0] = x0 - alpha;
    Some((alpha * scale, 1.0 / (nu * (nu + x0.abs()))))
}

/// Rows per group in the tridiagonalisation's passes (the bits depend on it: the partial sums
/// of each group are added in group order).
const GROUP: usize = 128;

/// Reduces the symmetric `w` (m × m, row-major, read and updated in its upper triangle only) to
/// tridiagonal form: returns the diagonal d, the subdiagonal e (e[k] = T[k+1][k], e[m−1] = 0)
/// and each reflector's β (0 for none); reflector k's v is left in row k of `w`, columns
/// k+1…m−1.
///
/// One pass over the trailing block per step (its upper triangle: half the memory traffic of
/// the whole block): step k updates B's first row (row k+1 of A) first, makes reflector k+1
/// from it, and then updates the rest of B row by row, adding each updated row's share of the
/// next step's p′ = β′B′v′ while the row is in cache ([`symmetric_pass`]).
fn tridiagonalize(loops: Loops, w: &mut [f64], m: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let steps = m.saturating_sub(2);
    let (mut d, mut e) = (vec![0.0; m], vec![0.0; m]);
    let mut betas = vec![0.0; steps];
    let (mut p, mut q) = (vec![0.0; m], vec![0.0; m]);
    let mut partials = vec![0.0; m.div_ceil(GROUP) * m];
    // Step k's reflection when step k−1 made it (with p = βBv), None to make it at step k.
    let mut prepared: Option<Option<(f64, f64)>> = None;
    for k in 0..steps {
        d[k] = w[k * m + k];
        let n = m - k - 1;
        let made_p = prepared.is_some();
        let reflection = match prepared.take() {
            Some(r) => r,
            None => reflect(&mut w[k * m + k + 1..(k + 1) * m]),
        };
        let Some((alpha, beta)) = reflection else {
            e[k] = w[k * m + k + 1];
            continue;
        };
        e[k] = alpha;
        betas[k] = beta;
        let (head, tail) = w.split_at_mut((k + 1) * m);
        let v = &head[k * m + k + 1..(k + 1) * m];
        let whole = ArrayViewMut2::from_shape((n, m), tail)
            .unwrap_or_else(|_| unreachable!("the tail holds the n rows below row k"));
        let mut b = whole.slice_move(s![.., k + 1..]);
        let p = &mut p[..n];
        if !made_p {
            symmetric_pass(loops, b.view_mut(), None, Some(v), p, &mut partials);
            p.iter_mut().for_each(|pi| *pi *= beta);
        }
        let half = 0.5 * beta * dot(v, p);
        let q = &mut q[..n];
        for ((qi, &pi), &vi) in q.iter_mut().zip(p.iter()).zip(v) {
            *qi = pi - half * vi;
        }
        let (mut first, rest) = b.split_at(Axis(0), 1);
        let first = first
            .as_slice_mut()
            .unwrap_or_else(|| unreachable!("a row of a standard-layout block"));
        loops.rank2(v[0], q, q[0], v, first);
        // Reflector k+1 from the updated row k+1 (the last step, m−3, has no successor).
        let next = if k + 1 < steps {
            let r = reflect(&mut first[1..]);
            prepared = Some(r);
            r
        } else {
            None
        };
        let v_next = next.map(|_| &first[1..]);
        let p_next = &mut p[..n - 1];
        let rest = rest.slice_move(s![.., 1..]);
        symmetric_pass(
            loops,
            rest,
            Some((&v[1..], &q[1..])),
            v_next,
            p_next,
            &mut partials,
        );
        if let Some((_, beta_next)) = next {
            p_next.iter_mut().for_each(|pi| *pi *= beta_next);
        }
    }
    if m >= 2 {
        d[m - 2] = w[(m - 2) * m + m - 2];
        e[m - 2] = w[(m - 2) * m + m - 1];
    }
    if m >= 1 {
        d[m - 1] = w[m * m - 1];
    }
    (d, e, betas)
}

/// One pass over the upper triangle of the symmetric n × n block `b`: first, with `update` =
/// (v, q), each row's B_ij −= v_i·q_j + q_i·v_j (j ≥ i); then, with `u`, `out` = B·u (the
/// updated B). Stored row i holds B_ij for j ≥ i only, so (Bu)_i is the dot product of the row
/// with u_{i…} plus the entries B_ji·u_j (j < i) of the rows above: each row adds its dot
/// product to out_i and u_i times its entries right of the diagonal to out_{i+1…}.
///
/// By groups of [`GROUP`] rows, in parallel when the block is large: each group keeps its own
/// partial sums, and out_j adds the groups' partials in group order (rows are long and
/// contiguous, which the memory system streams well). The same bits serially or in parallel,
/// for any thread count.
fn symmetric_pass(
    loops: Loops,
    mut b: ArrayViewMut2<'_, f64>,
    update: Option<(&[f64], &[f64])>,
    u: Option<&[f64]>,
    out: &mut [f64],
    partials: &mut [f64],
) {
    let n = b.nrows();
    if n == 0 {
        return;
    }
    let count = n.div_ceil(GROUP);
    let partials = &mut partials[..count * n];
    let group = |(g, (rows, part)): (usize, (ArrayViewMut2<'_, f64>, &mut [f64]))| {
        loops.rows(g * GROUP, rows, part, update, u);
    };
    let groups = b.axis_chunks_iter_mut(Axis(0), GROUP);
    if n >= 2 * GROUP {
        groups
            .into_par_iter()
            .zip(partials.par_chunks_mut(n))
            .enumerate()
            .for_each(group);
    } else {
        groups
            .into_iter()
            .zip(partials.chunks_mut(n))
            .enumerate()
            .for_each(group);
    }
    if u.is_some() {
        // Index j has partials from the groups at or above it: g ≤ j / GROUP.
        for (j, o) in out.iter_mut().enumerate() {
            *o = (0..=j / GROUP).fold(0.0, |sum, g| sum + partials[g * n + j]);
        }
    }
}

/// The transposed eigenvectors Zᵀ of a block that QL solves (m × m, row-major: row i holds the
/// entries of vector i), so that a rotation of rows i and i+1 is an elementwise update of two
/// contiguous rows.
struct Transposed {
    m: usize,
    z: Vec<f64>,
}

impl Transposed {
    fn identity(m: usize) -> Self {
        Self {
            m,
            z: Array2::<f64>::eye(m).into_raw_vec_and_offset().0,
        }
    }

    /// Z[r][i]: entry r of vector i.
    fn get(&self, i: usize, r: usize) -> f64 {
        self.z[i * self.m + r]
    }

    /// Applies the rotations in order: each (i, c, s) takes rows i and i+1 to
    /// (c·z_i − s·z_{i+1}, s·z_i + c·z_{i+1}). A sweep's rotations come with i falling by one,
    /// and each such run is one [`Loops::chain`].
    fn rotate(&mut self, loops: Loops, rotations: &[(usize, f64, f64)]) {
        let m = self.m;
        let mut carry = vec![0.0; m];
        let mut rest = rotations;
        while let Some(&(top, _, _)) = rest.first() {
            let run = 1 + rest.windows(2).take_while(|w| w[1].0 + 1 == w[0].0).count();
            let bottom = top + 1 - run;
            let rows = &mut self.z[bottom * m..(top + 2) * m];
            loops.chain(&rest[..run], rows, m, &mut carry);
            rest = &rest[run..];
        }
    }
}

/// Implicit QL with Wilkinson's shift on the tridiagonal (d, e): d becomes the eigenvalues (in
/// no particular order), and the rotations, applied to `vectors` in batches of `batch`, turn the
/// identity into the transposed eigenvectors.
fn ql(
    loops: Loops,
    d: &mut [f64],
    e: &mut [f64],
    vectors: &mut Transposed,
    batch: usize,
) -> Result<(), NoConvergence> {
    let m = d.len();
    let mut pending: Vec<(usize, f64, f64)> = Vec::with_capacity(batch + m);
    // ‖T‖ (the largest row sum of |entries|, to a factor of 2): entries below ε‖T‖ are
    // rounding noise of the reduction, and no sweep makes them smaller relative to their
    // neighbours.
    let norm = (0..m).fold(0.0f64, |n, i| {
        let above = if i > 0 { e[i - 1].abs() } else { 0.0 };
        n.max(d[i].abs() + e[i].abs() + above)
    });
    for l in 0..m {
        let mut sweeps = 0;
        loop {
            // The first negligible subdiagonal entry at or below l splits T there: negligible
            // against its neighbours on the diagonal (what keeps small eigenvalues accurate to
            // their own size when they are) or against ‖T‖.
            let mut end = l;
            while end + 1 < m {
                let scale = d[end].abs() + d[end + 1].abs();
                let e_end = e[end].abs();
                if e_end <= f64::EPSILON * scale || e_end <= f64::EPSILON * norm {
                    break;
                }
                end += 1;
            }
            if end == l {
                break;
            }
            if sweeps == MAX_SWEEPS {
                return Err(NoConvergence { index: l, size: m });
            }
            sweeps += 1;
            // Wilkinson's shift: the eigenvalue of the leading 2 × 2 block nearer d[l].
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let r = pythag(g, 1.0);
            g = d[end] - d[l] + e[l] / (g + if g >= 0.0 { r } else { -r });
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut split = false;
            for i in (l..end).rev() {
                let f = s * e[i];
                let b = c * e[i];
                let r = pythag(f, g);
                e[i + 1] = r;
                if r == 0.0 {
                    // An exact zero: T splits at i+1; start again above it.
                    d[i + 1] -= p;
                    e[end] = 0.0;
                    split = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                let r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                pending.push((i, c, s));
            }
            if split {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[end] = 0.0;
            if pending.len() >= batch {
                vectors.rotate(loops, &pending);
                pending.clear();
            }
        }
    }
    vectors.rotate(loops, &pending);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A symmetric m × m matrix with entries uniform in [−1, 1).
    fn random(m: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let a = Array2::from_shape_simple_fn((m, m), || rng.random::<f64>() * 2.0 - 1.0);
        (&a + &a.t()) * 0.5
    }

    /// A Gaussian kernel matrix of m points in 3 dimensions, each point twice (rank ≤ m/2 + 1).
    fn kernel(m: usize) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let points: Vec<[f64; 3]> = (0..m.div_ceil(2))
            .map(|_| [rng.random(), rng.random(), rng.random()])
            .collect();
        Array2::from_shape_fn((m, m), |(i, j)| {
            let (a, b) = (points[i / 2], points[j / 2]);
            let d2: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            (-d2).exp()
        })
    }

    /// The largest |entry| of A − UᵀΛU and of UUᵀ − I, relative to max|A| and to 1.
    fn residuals(a: &Array2<f64>, eigen: &Eigen) -> (f64, f64) {
        let m = a.nrows();
        let u = &eigen.vectors;
        let lambda = Array2::from_diag(&ndarray::Array1::from(eigen.values.clone()));
        let back = u.t().dot(&lambda).dot(u);
        let scale = a.iter().fold(f64::MIN_POSITIVE, |s, v| s.max(v.abs()));
        let fit = (&back - a).iter().fold(0.0f64, |s, v| s.max(v.abs())) / scale;
        let orth = (u.dot(&u.t()) - Array2::<f64>::eye(m))
            .iter()
            .fold(0.0f64, |s, v| s.max(v.abs()));
        (fit, orth)
    }

    fn check(a: &Array2<f64>, what: &str) -> Eigen {
        let m = a.nrows();
        let eigen = Eigen::of(a.view()).unwrap();
        let (fit, orth) = residuals(a, &eigen);
        let tolerance = 1e-14 * (m as f64 + 10.0);
        assert!(
            fit < tolerance && orth < tolerance,
            "{what}, m = {m}: |A − UᵀΛU| = {fit:e}, |UUᵀ − I| = {orth:e}"
        );
        assert!(
            eigen.values.windows(2).all(|w| w[0] <= w[1]),
            "{what}: not ascending"
        );
        eigen
    }

    #[test]
    fn reconstructs_random_and_kernel_matrices() {
        for m in [1, 2, 3, 4, 5, 17, 63, 64, 65, 130, 200] {
            check(&random(m, m as u64), "random");
            check(&kernel(m), "kernel of repeated points");
        }
    }

    #[test]
    fn agrees_with_faer_on_the_eigenvalues() {
        for m in [3, 40, 129] {
            for a in [random(m, 1), kernel(m)] {
                let ours = Eigen::of(a.view()).unwrap();
                let data = a.as_standard_layout().to_owned();
                let view = faer::MatRef::from_row_major_slice(data.as_slice().unwrap(), m, m);
                let theirs = view.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
                let top = theirs.iter().fold(0.0f64, |s, v| s.max(v.abs()));
                for (x, y) in ours.values.iter().zip(&theirs) {
                    assert!((x - y).abs() <= 1e-13 * top, "m = {m}: {x} against {y}");
                }
            }
        }
    }

    /// Gaussian kernel matrices of m points in 2 dimensions at widths σ: at wide σ all but a
    /// few eigenvalues are rounding noise (|λ| ~ 10⁻¹⁷·λ_max), where a test of the subdiagonal
    /// relative to its neighbours on the diagonal alone never splits T.
    fn wide_kernel(m: usize, sigma: f64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let points: Vec<[f64; 2]> = (0..m).map(|_| [rng.random(), rng.random()]).collect();
        Array2::from_shape_fn((m, m), |(i, j)| {
            let (a, b) = (points[i], points[j]);
            let d2 = (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
            (-d2 / (2.0 * sigma * sigma)).exp()
        })
    }

    #[test]
    fn converges_where_most_eigenvalues_are_rounding_noise() {
        for m in [128, 400] {
            for sigma in [0.3, 1.0, 3.0, 10.0, 100.0] {
                check(&wide_kernel(m, sigma), &format!("wide kernel, σ = {sigma}"));
            }
        }
    }

    #[test]
    fn subnormal_and_tiny_entries() {
        // A narrow kernel's matrix: the identity and off-diagonal values down to subnormal
        // numbers (the reflector's ‖x‖² underflows to 0 unless x is scaled first).
        let mut a = Array2::<f64>::eye(50);
        for (k, value) in [5e-316, 1e-312, 1e-300, 1e-150, 1e-19, 8e-14, 2e-12]
            .iter()
            .enumerate()
        {
            for i in 0..50 - k - 1 {
                if (i + k) % 3 == 0 {
                    a[(i + k + 1, i)] = *value;
                    a[(i, i + k + 1)] = *value;
                }
            }
        }
        check(&a, "subnormal");
        // Scaled by powers of two (short of the subnormal numbers): the same vectors, bit for
        // bit, and the values scaled exactly.
        let k = kernel(40);
        let reference = Eigen::of(k.view()).unwrap();
        for factor in [2f64.powi(-1000), 2f64.powi(-100), 8.0, 2f64.powi(1000)] {
            let e = Eigen::of((&k * factor).view()).unwrap();
            assert_eq!(e.vectors, reference.vectors, "× {factor:e}");
            let scaled: Vec<f64> = reference.values.iter().map(|v| v * factor).collect();
            assert_eq!(e.values, scaled, "× {factor:e}");
        }
        // Only subnormal values below the diagonal.
        let b = Array2::from_shape_fn((20, 20), |(i, j)| if i == j { 1e-310 } else { 3e-318 });
        let e = Eigen::of(b.view()).unwrap();
        assert!(e.values.iter().chain(&e.vectors).all(|v| v.is_finite()));
    }

    #[test]
    fn special_matrices() {
        // Already diagonal: no reflector, no rotation.
        let d = Array2::from_diag(&ndarray::array![3.0, -1.0, 2.0, 0.0, 2.0]);
        let e = check(&d, "diagonal");
        assert_eq!(e.values, vec![-1.0, 0.0, 2.0, 2.0, 3.0]);
        check(&Array2::zeros((6, 6)), "zero");
        let i = check(&Array2::eye(70), "identity");
        assert!(i.values.iter().all(|&v| v == 1.0));
        // A zero row and column in the middle splits the tridiagonal matrix.
        let mut a = random(9, 3);
        a.row_mut(4).fill(0.0);
        a.column_mut(4).fill(0.0);
        check(&a, "split");
        // Entries far from 1 in both directions.
        check(&(random(20, 4) * 1e150), "huge");
        check(&(random(20, 4) * 1e-150), "tiny");
        let empty = Eigen::of(Array2::zeros((0, 0)).view()).unwrap();
        assert!(empty.values.is_empty() && empty.vectors.is_empty());
    }

    /// Tridiagonal matrices that divide and conquer finds hard (close and repeated
    /// eigenvalues, so deflation by rotation at every level): Wilkinson's W⁺₂₁ glued end to
    /// end by small couplings, and a few distinct eigenvalues in a random basis.
    #[test]
    fn close_and_repeated_eigenvalues() {
        for glue in [0.0, 1e-14, 1e-10, 1e-6] {
            let m = 21 * 24;
            let a = Array2::from_shape_fn((m, m), |(i, j)| {
                if i == j {
                    (10.0 - (i % 21) as f64).abs()
                } else if i.abs_diff(j) == 1 {
                    if i.max(j) % 21 == 0 { glue } else { 1.0 }
                } else {
                    0.0
                }
            });
            check(&a, &format!("glued Wilkinson matrices, glue {glue:e}"));
        }
        for distinct in [1, 2, 3] {
            let m = 300;
            let q = Eigen::of(random(m, 11).view()).unwrap().vectors;
            let lambda = Array2::from_diag(&ndarray::Array1::from_shape_fn(m, |i| {
                (i % distinct) as f64 - 1.0
            }));
            let a = q.t().dot(&lambda).dot(&q);
            let a = (&a + &a.t()) * 0.5;
            check(&a, &format!("{distinct} distinct eigenvalues"));
        }
    }

    #[test]
    fn reads_the_lower_triangle_only() {
        let a = random(30, 9);
        let mut b = a.clone();
        for i in 0..30 {
            for j in i + 1..30 {
                b[(i, j)] = 7.0;
            }
        }
        let (x, y) = (Eigen::of(a.view()).unwrap(), Eigen::of(b.view()).unwrap());
        assert_eq!(x.values, y.values);
        assert_eq!(x.vectors, y.vectors);
    }

    #[test]
    fn bits_do_not_depend_on_simd_batches_or_threads() {
        let bits = |e: &Eigen| -> Vec<u64> {
            e.values
                .iter()
                .chain(e.vectors.iter())
                .map(|v| v.to_bits())
                .collect()
        };
        // 300: the tridiagonalisation's row groups in parallel.
        for a in [random(150, 2), kernel(150), kernel(300)] {
            let reference = bits(&Eigen::of(a.view()).unwrap());
            for batch in [1, 3, 1000] {
                for simd in Simd::levels() {
                    let e = Eigen::of_with(a.view(), simd, batch).unwrap();
                    assert!(bits(&e) == reference, "batch {batch}, {simd:?}");
                }
            }
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let e = pool.install(|| Eigen::of(a.view()).unwrap());
                assert!(bits(&e) == reference, "{threads} threads");
            }
        }
    }
}

//! Seeded property test of [`rks::symmetric::Eigen::of`], the eigendecomposition behind the
//! Nyström maps: a few hundred random symmetric matrices of orders 1 … 150 from families that
//! stress it (random scales down to subnormal entries and up to 2¹⁰⁰⁰, sparse, diagonal and
//! block-diagonal matrices whose tridiagonal form splits, Gaussian kernel matrices with
//! repeated points and most eigenvalues at rounding noise, repeated and clustered eigenvalues,
//! low rank plus tiny noise, graded matrices), each checked for
//!
//! 1. `Ok`, with m values and an m × m matrix of vectors;
//! 2. values ascending, values and vectors finite;
//! 3. orthonormal rows: ‖VVᵀ − I‖_max ≤ C·m·ε;
//! 4. a small residual: ‖A Vᵀ − Vᵀ diag(λ)‖_max ≤ C·m·ε·‖A‖_F;
//! 5. the eigenvalues of faer (an independent divide-and-conquer solver) to C·m·ε·‖A‖_F;
//! 6. the same bits for the same matrix given twice (the second time in column-major layout),
//!    and trace(A) = Σλ to C·m·ε·‖A‖_F;
//!
//! with C = 50, ε = 2⁻⁵² and ‖A‖_F the Frobenius norm (‖A‖₂ ≤ ‖A‖_F: a backward-stable
//! method has residuals and eigenvalue errors of a modest multiple of ε‖A‖₂, and the measured
//! ratios are printed with `--nocapture`). Every matrix is exactly symmetric (built from its
//! lower triangle); that `Eigen::of` reads the lower triangle only is tested in the module.
//!
//! The checks run on A·2ᵖ, p chosen so that max|A·2ᵖ| ∈ [1, 2) (an exact scaling), and on the
//! values times 2ᵖ: for tiny and huge matrices, ‖A‖_F and the residual would otherwise
//! underflow or overflow in the test's own arithmetic. Eigenvalues below the smallest normal
//! number cannot be returned to better than η = 2⁻¹⁰⁷⁴ (absolute), so the bounds on values
//! (4–6) add C·η (in the scaled units, C·η·2ᵖ); for matrices of normal size this is nothing.
//!
//! Every matrix comes from its own seed (`ChaCha8Rng::seed_from_u64(seed)` draws its order and
//! its entries), and every failure names the family, the seed, the order and the figures.

use ndarray::{Array2, ShapeBuilder};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rks::symmetric::Eigen;

/// The factor of m·ε (and of m·ε·‖A‖_F) every bound allows.
const C: f64 = 50.0;
/// The smallest positive subnormal number, 2⁻¹⁰⁷⁴.
const ETA: f64 = f64::from_bits(1);
/// The largest order drawn.
const MAX_ORDER: usize = 150;

// ---------------------------------------------------------------------------------------------
// Powers of two

/// 2ᵉ for a normal exponent e ∈ [−1022, 1023], exactly.
fn pow2(e: i32) -> f64 {
    assert!((-1022..=1023).contains(&e), "2^{e} is not a normal number");
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// x·2ᵉ for any e: exact when the result is a normal number (or x·2ᵉ is a scaling up that does
/// not overflow); at most one rounding when it is subnormal.
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    while e > 1023 {
        x *= pow2(1023);
        e -= 1023;
    }
    while e < -1022 {
        // The part beyond 2⁻¹⁰²² first (exact while the result stays normal), 2⁻¹⁰²² last.
        let step = (e + 1022).max(-1022);
        x *= pow2(step);
        e -= step;
    }
    x * pow2(e)
}

/// ⌊log₂|x|⌋ for a finite x ≠ 0, subnormal numbers included.
fn exponent(x: f64) -> i32 {
    let bits = x.abs().to_bits();
    match (bits >> 52) as i32 {
        0 => 63 - bits.leading_zeros() as i32 - 1074,
        biased => biased - 1023,
    }
}

// ---------------------------------------------------------------------------------------------
// The checks

/// The worst ratio measured/bound of each graded property in one family, and where.
struct Report {
    family: &'static str,
    matrices: usize,
    worst: [(f64, String); 4],
}

const PROPERTIES: [&str; 4] = [
    "‖VVᵀ − I‖_max",
    "‖AVᵀ − Vᵀ diag(λ)‖_max",
    "max|λ − λ_faer|",
    "|trace A − Σλ|",
];

impl Report {
    fn new(family: &'static str) -> Self {
        Self {
            family,
            matrices: 0,
            worst: std::array::from_fn(|_| (0.0, String::new())),
        }
    }

    /// Asserts measured ≤ bound for property k and keeps the worst ratio.
    fn bound(&mut self, k: usize, at: &str, measured: f64, bound: f64) {
        assert!(
            measured <= bound,
            "{at}: {} = {measured:e} exceeds its bound {bound:e} ({:.3} times)",
            PROPERTIES[k],
            measured / bound
        );
        let ratio = measured / bound;
        if ratio >= self.worst[k].0 {
            self.worst[k] = (ratio, at.to_string());
        }
    }

    fn print(&self) {
        eprintln!("{}: {} matrices", self.family, self.matrices);
        for (name, (ratio, at)) in PROPERTIES.iter().zip(&self.worst) {
            eprintln!("  {name}: worst measured/bound {ratio:.2e} ({at})");
        }
    }
}

/// The properties of the module's documentation, 1–6, for the matrix `a` drawn from `seed`.
fn check(report: &mut Report, seed: u64, a: &Array2<f64>) -> Eigen {
    let m = a.nrows();
    let at = format!("{}, seed {seed}, m = {m}", report.family);
    report.matrices += 1;

    // (1) Ok, and the shapes.
    let eigen = Eigen::of(a.view()).unwrap_or_else(|e| panic!("{at}: {e}"));
    assert_eq!(eigen.values.len(), m, "{at}: number of values");
    assert_eq!(eigen.vectors.dim(), (m, m), "{at}: shape of the vectors");

    // (2) Finite and ascending.
    if let Some(j) = eigen.values.iter().position(|v| !v.is_finite()) {
        panic!("{at}: value {j} is {}", eigen.values[j]);
    }
    if let Some(((j, r), v)) = eigen.vectors.indexed_iter().find(|(_, v)| !v.is_finite()) {
        panic!("{at}: entry {r} of vector {j} is {v}");
    }
    // The values are finite (checked above): `>` is a total order on them.
    if let Some(j) = eigen.values.windows(2).position(|w| w[0] > w[1]) {
        panic!(
            "{at}: values not ascending at {j}: {:e} then {:e}",
            eigen.values[j],
            eigen.values[j + 1]
        );
    }

    // The scaled problem: max|A·2ᵖ| ∈ [1, 2), values·2ᵖ, and η·2ᵖ the values' floor.
    let top = a.iter().fold(0.0f64, |t, v| t.max(v.abs()));
    let p = if top == 0.0 { 0 } else { -exponent(top) };
    let input = a;
    let a = input.mapv(|v| ldexp(v, p));
    let lambda: Vec<f64> = eigen.values.iter().map(|&v| ldexp(v, p)).collect();
    let eta = ldexp(ETA, p);
    let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
    let unit = m as f64 * f64::EPSILON;
    let v = &eigen.vectors;

    // (3) ‖VVᵀ − I‖_max ≤ C·m·ε: the rows are unit vectors, orthogonal to rounding.
    let gram = v.dot(&v.t());
    let orth = gram
        .indexed_iter()
        .map(|((i, j), g)| (g - if i == j { 1.0 } else { 0.0 }).abs())
        .fold(0.0, f64::max);
    report.bound(0, &at, orth, C * unit);

    // (4) ‖AVᵀ − Vᵀ diag(λ)‖_max ≤ C·m·ε·‖A‖_F + C·η: column j of AVᵀ is A v_j.
    let av = a.dot(&v.t());
    let residual = av
        .indexed_iter()
        .map(|((i, j), x)| (x - lambda[j] * v[(j, i)]).abs())
        .fold(0.0, f64::max);
    report.bound(1, &at, residual, C * unit * norm + C * eta);

    // (5) The eigenvalues of faer (ascending), each to C·m·ε·‖A‖_F + C·η.
    let data = a.as_standard_layout().to_owned();
    let reference =
        faer::MatRef::from_row_major_slice(data.as_slice().expect("a standard-layout copy"), m, m)
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .unwrap_or_else(|e| panic!("{at}: faer failed: {e:?}"));
    let mut reference = reference;
    reference.sort_by(f64::total_cmp);
    let (gap, j) = lambda
        .iter()
        .zip(&reference)
        .enumerate()
        .map(|(j, (x, y))| ((x - y).abs(), j))
        .fold((0.0, 0), |w, d| if d.0 > w.0 { d } else { w });
    report.bound(
        2,
        &format!(
            "{at}, value {j}: {:e} against faer's {:e}",
            lambda[j], reference[j]
        ),
        gap,
        C * unit * norm + C * eta,
    );

    // (6) trace(A) = Σλ to C·m·ε·‖A‖_F + C·m·η (an invariant of every orthogonal similarity).
    let trace: f64 = a.diag().sum();
    let sum: f64 = lambda.iter().sum();
    report.bound(
        3,
        &format!("{at}: trace {trace:e}, Σλ {sum:e}"),
        (trace - sum).abs(),
        C * unit * norm + C * m as f64 * eta,
    );

    // (6) The same matrix again, stored column-major this time: the same bits.
    let mut columns = Array2::zeros((m, m).f());
    columns.assign(input);
    let again = Eigen::of(columns.view()).unwrap_or_else(|e| panic!("{at}, again: {e}"));
    let bits = |e: &Eigen| -> Vec<u64> {
        e.values
            .iter()
            .chain(e.vectors.iter())
            .map(|x| x.to_bits())
            .collect()
    };
    let (first, second) = (bits(&eigen), bits(&again));
    if let Some(k) = (0..first.len()).find(|&k| first[k] != second[k]) {
        panic!(
            "{at}: not the same bits the second time, at output {k} (the values first, then \
             the vectors row by row): {:e} then {:e}",
            f64::from_bits(first[k]),
            f64::from_bits(second[k])
        );
    }
    eigen
}

// ---------------------------------------------------------------------------------------------
// Matrix families

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// The symmetric m × m matrix with entries f(i, j) for j ≤ i, mirrored above the diagonal.
fn symmetric(m: usize, mut f: impl FnMut(usize, usize) -> f64) -> Array2<f64> {
    let mut a = Array2::zeros((m, m));
    for i in 0..m {
        for j in 0..=i {
            let x = f(i, j);
            a[(i, j)] = x;
            a[(j, i)] = x;
        }
    }
    a
}

/// Entries N(0, 1), independent on and below the diagonal.
fn gaussian(rng: &mut ChaCha8Rng, m: usize) -> Array2<f64> {
    symmetric(m, |_, _| normal(rng))
}

/// A Gaussian kernel matrix exp(−|xᵢ − xⱼ|²/(2σ²)) of m points uniform in [0, 1)ᵈ, d ≤ 5,
/// drawn from a pool of `distinct` points (so rows repeat: identical points), σ = 10ᵘ with
/// u uniform in [−3, 4): near the identity at narrow σ (off-diagonal entries down to subnormal
/// numbers and 0), nearly all ones at wide σ (all but a few eigenvalues at rounding noise).
fn kernel(rng: &mut ChaCha8Rng, m: usize, distinct: usize) -> Array2<f64> {
    let dim = rng.random_range(1..=5);
    let pool: Vec<Vec<f64>> = (0..distinct)
        .map(|_| (0..dim).map(|_| rng.random::<f64>()).collect())
        .collect();
    let rows: Vec<usize> = (0..m).map(|_| rng.random_range(0..distinct)).collect();
    let sigma = 10f64.powf(rng.random_range(-3.0..4.0));
    symmetric(m, |i, j| {
        let (x, y) = (&pool[rows[i]], &pool[rows[j]]);
        let d2: f64 = x.iter().zip(y).map(|(s, t)| (s - t) * (s - t)).sum();
        (-d2 / (2.0 * sigma * sigma)).exp()
    })
}

/// An m × m orthogonal matrix: a Gaussian matrix's columns orthonormalised by classical
/// Gram–Schmidt, applied twice ("twice is enough": orthonormal to a few ε).
fn orthogonal(rng: &mut ChaCha8Rng, m: usize) -> Array2<f64> {
    let mut q = Array2::from_shape_simple_fn((m, m), || normal(rng));
    for k in 0..m {
        for _ in 0..2 {
            for j in 0..k {
                let r = q.column(j).dot(&q.column(k));
                let qj = q.column(j).to_owned();
                q.column_mut(k).scaled_add(-r, &qj);
            }
        }
        let n = q.column(k).dot(&q.column(k)).sqrt();
        q.column_mut(k).mapv_inplace(|x| x / n);
    }
    q
}

/// The lower triangle of `a`, mirrored (exactly symmetric).
fn lower(a: &Array2<f64>) -> Array2<f64> {
    symmetric(a.nrows(), |i, j| a[(i, j)])
}

/// Runs `make` for `count` seeds from `first` and checks each matrix.
fn family(
    name: &'static str,
    first: u64,
    count: u64,
    mut make: impl FnMut(&mut ChaCha8Rng, u64) -> Array2<f64>,
) -> Report {
    let mut report = Report::new(name);
    for seed in first..first + count {
        let a = make(&mut rng(seed), seed);
        check(&mut report, seed, &a);
    }
    report.print();
    report
}

#[test]
fn dense_gaussian() {
    // Orders 1 … 40 one by one, the block edges (64 columns per block, groups of 128 rows), and
    // 33 drawn from 41 … 150.
    let fixed: Vec<usize> = (1..=40).chain([63, 64, 65, 127, 128, 129, 150]).collect();
    family("dense Gaussian", 1_000, 80, |rng, seed| {
        let k = (seed - 1_000) as usize;
        let m = fixed
            .get(k)
            .copied()
            .unwrap_or_else(|| rng.random_range(41..=MAX_ORDER));
        gaussian(rng, m)
    });
}

#[test]
fn random_scales() {
    // Dense Gaussian matrices times 2ᵏ, k uniform in [−1000, 1000], and the ends: k = ±1000,
    // and k = −1030 … −1070 (most entries subnormal, the values below the normal range). Where
    // A·2ᵏ is exact, the vectors must be those of A, bit for bit, and the values those of A
    // times 2ᵏ (`Eigen::of` scales by a power of two first).
    let mut report = Report::new("random scales");
    let mut exact = 0;
    for seed in 2_000..2_060 {
        let mut rng = rng(seed);
        let m = rng.random_range(1..=80);
        let k = match seed - 2_000 {
            0 => -1000,
            1 => 1000,
            2 => -1030,
            3 => -1050,
            4 => -1070,
            _ => rng.random_range(-1000..=1000),
        };
        let base = gaussian(&mut rng, m);
        let a = base.mapv(|x| ldexp(x, k));
        let at = format!("random scales, seed {seed}, m = {m}, k = {k}");
        let scaled = check(&mut report, seed, &a);
        if a.iter().zip(&base).all(|(x, y)| ldexp(*x, -k) == *y) {
            exact += 1;
            let reference = Eigen::of(base.view()).unwrap();
            assert!(
                scaled
                    .vectors
                    .iter()
                    .map(|x| x.to_bits())
                    .eq(reference.vectors.iter().map(|x| x.to_bits())),
                "{at}: the vectors depend on the scale"
            );
            for (j, (x, y)) in scaled.values.iter().zip(&reference.values).enumerate() {
                let y = ldexp(*y, k);
                // Exact unless the value is subnormal (then to its last place).
                let slack = if y.abs() < f64::MIN_POSITIVE {
                    ETA
                } else {
                    0.0
                };
                assert!(
                    (x - y).abs() <= slack,
                    "{at}: value {j} is {x:e}, 2^k times the unscaled one {y:e}"
                );
            }
        }
    }
    report.print();
    eprintln!("  the same vectors and scaled values as at scale 1: {exact} matrices (A·2ᵏ exact)");
    assert!(
        exact >= 50,
        "random scales: only {exact} matrices scaled exactly"
    );
}

#[test]
fn zero_and_tiny_orders() {
    // All-zero matrices (every value 0, every residual exactly 0), 1 × 1 matrices at the ends
    // of the number line (the value must be the entry, the vector ±1), and 2 × 2 matrices at
    // random scales.
    let mut report = Report::new("zero, 1 × 1 and 2 × 2");
    for (k, m) in [1, 2, 3, 5, 16, 63, 64, 65, 129, 150]
        .into_iter()
        .enumerate()
    {
        let e = check(&mut report, 3_000 + k as u64, &Array2::zeros((m, m)));
        assert!(
            e.values.iter().all(|&v| v == 0.0),
            "zero, m = {m}: {:?}",
            e.values
        );
    }
    let ones = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        ETA,
        -3.0 * ETA,
        -1e-310,
        f64::MIN_POSITIVE,
        1e-200,
        7e300,
        f64::MAX,
        f64::MIN,
    ];
    for (k, x) in ones.into_iter().enumerate() {
        let seed = 3_100 + k as u64;
        let e = check(&mut report, seed, &Array2::from_elem((1, 1), x));
        assert!(
            e.values[0] == x && e.vectors[(0, 0)].abs() == 1.0,
            "1 × 1, seed {seed}: [{x:e}] gave {:e} and {:e}",
            e.values[0],
            e.vectors[(0, 0)]
        );
    }
    for seed in 3_200..3_230 {
        let mut rng = rng(seed);
        let k = rng.random_range(-1070..=1000);
        let a = gaussian(&mut rng, 2).mapv(|x| ldexp(x, k));
        check(&mut report, seed, &a);
    }
    report.print();
}

#[test]
fn sparse() {
    // Each entry nonzero (N(0, 1)) with probability 10ᵘ, u uniform in [−2.5, −0.5]; the
    // diagonal either the same or dense. Many columns below the diagonal are already zero (no
    // reflector) and the tridiagonal matrix splits.
    family("sparse", 4_000, 50, |rng, _| {
        let m = rng.random_range(2..=MAX_ORDER);
        let density = 10f64.powf(rng.random_range(-2.5..-0.5));
        let dense_diagonal = rng.random_bool(0.5);
        symmetric(m, |i, j| {
            if (i == j && dense_diagonal) || rng.random::<f64>() < density {
                normal(rng)
            } else {
                0.0
            }
        })
    });
}

#[test]
fn diagonal() {
    // Diagonal entries from a pool of 1 … 6 values (so repeated) or all distinct, zeros among
    // them, times 10ᵘ, u uniform in [−100, 100].
    family("diagonal", 5_000, 20, |rng, _| {
        let m = rng.random_range(1..=MAX_ORDER);
        let scale = 10f64.powf(rng.random_range(-100.0..100.0));
        let pool: Vec<f64> = (0..rng.random_range(1..=6))
            .map(|_| {
                if rng.random_bool(0.2) {
                    0.0
                } else {
                    normal(rng)
                }
            })
            .collect();
        let distinct = rng.random_bool(0.3);
        let d: Vec<f64> = (0..m)
            .map(|_| {
                let x = if distinct {
                    normal(rng)
                } else {
                    pool[rng.random_range(0..pool.len())]
                };
                x * scale
            })
            .collect();
        symmetric(m, |i, j| if i == j { d[i] } else { 0.0 })
    });
}

#[test]
fn block_diagonal() {
    // Blocks of 1 … 24 rows (Gaussian, zero, kernel or rank one), each scaled by 10⁻ᵏ with k
    // uniform in 0 … 12, up to 150 rows: the tridiagonal matrix splits between the blocks.
    family("block diagonal", 6_000, 30, |rng, _| {
        let m = rng.random_range(2..=MAX_ORDER);
        let mut a = Array2::zeros((m, m));
        let mut start = 0;
        while start < m {
            let n = rng.random_range(1..=24).min(m - start);
            let block = match rng.random_range(0..4) {
                0 => gaussian(rng, n),
                1 => Array2::zeros((n, n)),
                2 => {
                    let distinct = rng.random_range(1..=n);
                    kernel(rng, n, distinct)
                }
                _ => {
                    let x: Vec<f64> = (0..n).map(|_| normal(rng)).collect();
                    symmetric(n, |i, j| x[i] * x[j])
                }
            };
            let scale = 10f64.powi(-rng.random_range(0..=12));
            a.slice_mut(ndarray::s![start..start + n, start..start + n])
                .assign(&(block * scale));
            start += n;
        }
        a
    });
}

#[test]
fn gaussian_kernels() {
    // Kernel matrices of m points with repeated rows: all distinct, a few distinct points
    // (rank ≤ the pool's size), or about half; σ from near-identity to nearly all ones.
    family("Gaussian kernel", 7_000, 60, |rng, _| {
        let m = rng.random_range(1..=MAX_ORDER);
        let distinct = match rng.random_range(0..3) {
            0 => m,
            1 => rng.random_range(1..=m.min(5)),
            _ => m.div_ceil(2),
        };
        kernel(rng, m, distinct)
    });
}

#[test]
fn repeated_and_clustered_eigenvalues() {
    // Q diag(λ) Qᵀ (lower triangle mirrored) with 1 … 4 distinct λ ~ N(0, 1) and random
    // multiplicities, half of the time spread into clusters of width 10⁻¹⁴, 10⁻¹⁰ or 10⁻⁶.
    family("clustered eigenvalues", 8_000, 40, |rng, _| {
        let m = rng.random_range(2..=MAX_ORDER);
        let distinct: Vec<f64> = (0..rng.random_range(1..=4)).map(|_| normal(rng)).collect();
        let spread = match rng.random_range(0..6) {
            0 => 1e-14,
            1 => 1e-10,
            2 => 1e-6,
            _ => 0.0,
        };
        let lambda: Vec<f64> = (0..m)
            .map(|_| distinct[rng.random_range(0..distinct.len())] + spread * normal(rng))
            .collect();
        let q = orthogonal(rng, m);
        let ql = &q * &ndarray::Array1::from(lambda);
        lower(&ql.dot(&q.t()))
    });
}

#[test]
fn low_rank_plus_noise() {
    // B D Bᵀ with B m × r Gaussian, r ≤ 6, D = diag(±1), plus δ·max|BDBᵀ| times a symmetric
    // Gaussian matrix, δ ∈ {0, 10⁻¹⁶, 10⁻¹³, 10⁻¹⁰, 10⁻⁷}: m − r eigenvalues at noise level.
    family("low rank plus noise", 9_000, 30, |rng, _| {
        let m = rng.random_range(2..=MAX_ORDER);
        let r = rng.random_range(1..=6.min(m));
        let b = Array2::from_shape_simple_fn((m, r), || normal(rng));
        let signs =
            ndarray::Array1::from_shape_fn(r, |_| if rng.random_bool(0.7) { 1.0 } else { -1.0 });
        let low = (&b * &signs).dot(&b.t());
        let delta = [0.0, 1e-16, 1e-13, 1e-10, 1e-7][rng.random_range(0..5)];
        let top = low.iter().fold(0.0f64, |t, v| t.max(v.abs()));
        let noise = gaussian(rng, m);
        lower(&(low + noise * (delta * top)))
    });
}

#[test]
fn graded() {
    // a_ij = g_i g_j r_ij with r symmetric N(0, 1) and g_i = 10^(−K·t_i/2), t_i ∈ [0, 1] rising,
    // falling or in random order, K uniform in 1 … 330: entries from about 1 down to 10⁻³³⁰
    // (subnormal numbers at the far end).
    family("graded", 10_000, 40, |rng, _| {
        let m = rng.random_range(2..=MAX_ORDER);
        let decades = rng.random_range(1..=330) as f64;
        let order = rng.random_range(0..3);
        let t: Vec<f64> = (0..m)
            .map(|i| match order {
                0 => i as f64 / (m - 1) as f64,
                1 => 1.0 - i as f64 / (m - 1) as f64,
                _ => rng.random::<f64>(),
            })
            .collect();
        let g: Vec<f64> = t.iter().map(|t| 10f64.powf(-decades * t / 2.0)).collect();
        symmetric(m, |i, j| g[i] * g[j] * normal(rng))
    });
}

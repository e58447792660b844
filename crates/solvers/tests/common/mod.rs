//! Slow, obvious references shared by the integration tests.
#![allow(dead_code)]

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Solves A X = B by Gauss–Jordan elimination with partial pivoting (A square, well conditioned).
pub fn gauss_solve(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let n = a.nrows();
    let m = b.ncols();
    let mut aug = Array2::zeros((n, n + m));
    aug.slice_mut(ndarray::s![.., ..n]).assign(a);
    aug.slice_mut(ndarray::s![.., n..]).assign(b);
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| aug[[i, col]].abs().total_cmp(&aug[[j, col]].abs()))
            .unwrap();
        for k in 0..n + m {
            aug.swap([col, k], [pivot, k]);
        }
        let p = aug[[col, col]];
        for k in 0..n + m {
            aug[[col, k]] /= p;
        }
        for i in 0..n {
            if i != col {
                let f = aug[[i, col]];
                for k in 0..n + m {
                    aug[[i, k]] -= f * aug[[col, k]];
                }
            }
        }
    }
    aug.slice(ndarray::s![.., n..]).to_owned()
}

/// The centred ridge solution (W, b) of min ‖Y − ΦW − 1bᵀ‖² + λ‖W‖², straight from the formula.
pub fn ridge_closed_form(
    phi: ArrayView2<f64>,
    y: ArrayView2<f64>,
    lambda: f64,
) -> (Array2<f64>, Array1<f64>) {
    let mu = phi.mean_axis(Axis(0)).unwrap();
    let ybar = y.mean_axis(Axis(0)).unwrap();
    let pc = &phi - &mu;
    let yc = &y - &ybar;
    let mut a = pc.t().dot(&pc);
    for i in 0..a.nrows() {
        a[[i, i]] += lambda;
    }
    let w = gauss_solve(&a, &pc.t().dot(&yc));
    let b = &ybar - &mu.dot(&w);
    (w, b)
}

/// A rows × cols matrix of uniform values in [−1, 1) from a seed.
pub fn uniform(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, cols), |_| rng.random::<f64>() * 2.0 - 1.0)
}

/// `f` run on a pool of `threads` worker threads (for the tests that compare thread counts).
pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// `f`'s results on pools of 1, 2 and 3 worker threads, in that order.
pub fn on_one_two_three_threads<T: Send>(f: impl Fn() -> T + Sync) -> Vec<T> {
    [1, 2, 3].iter().map(|&t| on_threads(t, &f)).collect()
}

/// The bytes of the model `params` fits on rows `x` with targets `y`, on pools of 1, 2 and 3
/// worker threads, in that order.
pub fn model_bytes_on_one_two_three_threads(
    params: &rks_solvers::KernelMachineValidParams,
    x: ArrayView2<f64>,
    y: ndarray::ArrayView1<f64>,
) -> Vec<Vec<u8>> {
    on_one_two_three_threads(|| params.fit(x, y).unwrap().to_bytes().unwrap())
}

/// The model `params` fits on rows `x` with targets `y` under `selection`, and its selection
/// report.
pub fn fit_selecting(
    params: rks_solvers::KernelMachineParams,
    selection: rks_solvers::machine::Selection,
    x: &Array2<f64>,
    y: &Array1<f64>,
) -> (
    rks_solvers::KernelMachine,
    rks_solvers::machine::SelectionReport,
) {
    let (model, report) = params
        .selection(selection)
        .check()
        .unwrap()
        .fit_with_report(x.view(), y.view())
        .unwrap();
    (model, report.unwrap())
}

/// The model files' checksum (FNV-1a) over the bits of f64 values: for the pinned-bits tests.
pub fn hash_bits<'a>(values: impl IntoIterator<Item = &'a f64>) -> u64 {
    let bytes: Vec<u8> = values
        .into_iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .collect();
    rks::envelope::fnv1a(&bytes)
}

/// The pinned-bits tests' map: Fastfood from 10 inputs, σ = 1.5, seed 4.
pub fn pinned_fastfood(n_frequencies: usize) -> rks::AnyMap {
    rks::AnyMap::build(
        rks::MapKind::Fastfood,
        10,
        n_frequencies,
        rks::Bandwidth::Sigma(1.5),
        rks::Kernel::Gaussian,
        4,
    )
    .unwrap()
}

//! The eigendecomposition behind a Nyström map's K_mm^{+1/2} ([`rks::symmetric::Eigen`])
//! against faer's `self_adjoint_evd` (one thread, as the map called it before) on a Gaussian
//! kernel matrix of m landmarks: m uniform points in 16 dimensions, σ = 1. Prints the best of
//! `R` repetitions (first argument, default 3) in seconds of wall time per m, and the largest
//! difference of the two K_mm^{+1/2} (eigenvalues below 10⁻¹⁰·λ_max cut) relative to the largest
//! entry.
//!
//! `cargo run --release -p rks --example eigen_cpu [R] [m …]`
//! (`RAYON_NUM_THREADS=1` for one thread; faer runs on one thread here either way)
use std::time::Instant;

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::Kernel;
use rks::symmetric::Eigen;

fn best<T>(repetitions: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = None;
    let mut best = f64::INFINITY;
    for _ in 0..repetitions {
        let start = Instant::now();
        let v = f();
        best = best.min(start.elapsed().as_secs_f64());
        out = Some(v);
    }
    (
        best,
        out.unwrap_or_else(|| unreachable!("at least one repetition")),
    )
}

/// U·diag(g(λ))·Uᵀ with g(λ) = λ^{-1/2} above the floor, 0 below; u(i, k) = entry i of vector k.
fn root(values: &[f64], u: impl Fn(usize, usize) -> f64) -> Array2<f64> {
    let m = values.len();
    let top = values.iter().fold(0.0f64, |s, v| s.max(*v));
    let g: Vec<f64> = values
        .iter()
        .map(|&v| {
            if v > 1e-10 * top {
                v.sqrt().recip()
            } else {
                0.0
            }
        })
        .collect();
    let v = Array2::from_shape_fn((m, m), |(i, k)| u(i, k) * g[k].sqrt());
    v.dot(&v.t())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let repetitions: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let mut sizes: Vec<usize> = args.filter_map(|v| v.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![256, 512, 1024, 2048];
    }
    println!("| m | rks, s | faer, s | ratio | largest relative difference of K^(+1/2) |");
    println!("|---|---|---|---|---|");
    for m in sizes {
        let mut rng = ChaCha8Rng::seed_from_u64(m as u64);
        let x = Array2::from_shape_simple_fn((m, 16), || rng.random::<f64>());
        let k = rks::nystrom::kernel_matrix(Kernel::Gaussian, 1.0, x.view(), x.view())
            .expect("a valid σ");
        let (ours_s, ours) = best(repetitions, || Eigen::of(k.view()).expect("converges"));
        let (faer_s, (values, u)) = best(repetitions, || {
            use faer::linalg::evd::{
                ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch,
            };
            let mut u = faer::Mat::<f64>::zeros(m, m);
            let mut s = faer::diag::Diag::<f64>::zeros(m);
            let view = faer::MatRef::from_row_major_slice(k.as_slice().expect("standard"), m, m);
            let par = faer::Par::Seq;
            let scratch = self_adjoint_evd_scratch::<f64>(
                m,
                ComputeEigenvectors::Yes,
                par,
                Default::default(),
            );
            let mut buffer = faer::dyn_stack::MemBuffer::new(scratch);
            self_adjoint_evd(
                view,
                s.as_mut(),
                Some(u.as_mut()),
                par,
                faer::dyn_stack::MemStack::new(&mut buffer),
                Default::default(),
            )
            .expect("converges");
            ((0..m).map(|i| s.as_ref()[i]).collect::<Vec<f64>>(), u)
        });
        let a = root(&ours.values, |i, k| ours.vectors[(k, i)]);
        let b = root(&values, |i, k| u[(i, k)]);
        let scale = b.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        let diff = (&a - &b).iter().fold(0.0f64, |s, v| s.max(v.abs())) / scale;
        println!(
            "| {m} | {ours_s:.4} | {faer_s:.4} | {:.2} | {diff:.1e} |",
            ours_s / faer_s
        );
    }
}

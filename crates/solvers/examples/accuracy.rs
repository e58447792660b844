//! Accuracy and cost of Fastfood + linear SVM / ridge on the bundled data sets, next to the
//! peers' figures (docs/peers-measured.md), and diabetes RMSE next to exact kernel ridge.
//!
//! ```text
//! cargo run --release -p rks-solvers --example accuracy
//! cargo run --release -p rks-solvers --example accuracy -- --datasets letter --sizes 4096 --solvers svm
//! ```
//!
//! Preprocessing and hyper-parameters follow the peers: min–max scaling with the training file's
//! range, the C and γ chosen there by LIBSVM cross-validation (σ = 1/√(2γ)), D output features =
//! D/2 Fastfood frequencies. Ridge classification uses λ = 1 (scikit-learn's `RidgeClassifier`
//! default, as in the peers' figures) and λ by GCV. `svm` stops at LIBLINEAR's default tolerance
//! (max PG − min PG ≤ 0.1); `svm-eps1` at 1.0, `svm-l1` uses the hinge loss. Times are CPU seconds of the whole process
//! (all threads; /proc/self/stat) and wall seconds.

use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};
use rks::{Bandwidth, FeatureMap};
use rks_solvers::{KernelMachine, Lambda, Solver, SolverInfo, SvmLoss, Task};

/// (name, d, C*, γ*) from docs/peers-measured.md (the same as shared/docs/peer-baselines.md).
const CLASSIFICATION: [(&str, usize, f64, f64); 4] = [
    ("letter", 16, 10.0, 6.703),
    ("spam", 57, 10.0, 2.366),
    ("digits", 64, 1.0, 0.4405),
    ("breast_cancer", 30, 10.0, 0.5240),
];

/// Process CPU seconds (user + system, all threads), from /proc/self/stat (Linux; 100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

/// Runs `f`, returning its result, CPU seconds and wall seconds.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    let out = f();
    (out, cpu_seconds() - cpu, wall.elapsed().as_secs_f64())
}

fn read(name: &str, part: &str, d: usize) -> rks_data::Dataset {
    let path = format!(
        "{}/../../datasets/{name}.{part}",
        env!("CARGO_MANIFEST_DIR")
    );
    rks_data::libsvm::read_path(&path, Some(d)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn accuracy(pred: &Array1<f64>, truth: &Array1<f64>) -> f64 {
    100.0 * pred.iter().zip(truth).filter(|(p, t)| p == t).count() as f64 / truth.len() as f64
}

struct Args {
    datasets: Vec<String>,
    sizes: Vec<usize>,
    solvers: Vec<String>,
    regression: bool,
}

fn args() -> Args {
    let mut a = Args {
        datasets: CLASSIFICATION.iter().map(|c| c.0.to_string()).collect(),
        sizes: vec![1024, 4096, 16384],
        solvers: vec!["svm".into(), "ridge".into(), "ridge-gcv".into()],
        regression: true,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let list = |v: &str| v.split(',').map(str::to_string).collect::<Vec<_>>();
    for pair in argv.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--datasets", Some(v)) => {
                a.datasets = list(v);
                a.regression = a.datasets.iter().any(|d| d == "diabetes");
            }
            ("--sizes", Some(v)) => {
                a.sizes = list(v).iter().filter_map(|s| s.parse().ok()).collect()
            }
            ("--solvers", Some(v)) => a.solvers = list(v),
            _ => {
                eprintln!(
                    "usage: accuracy [--datasets letter,spam,digits,breast_cancer,diabetes] [--sizes 1024,4096,16384] [--solvers svm,svm-l1,svm-eps1,ridge,ridge-gcv]"
                );
                std::process::exit(2);
            }
        }
    }
    a
}

/// Largest D at which ridge is run: the D × D normal matrix (8·D² bytes) and its O(D³)
/// factorisation (eigendecomposition for GCV) are what limit it.
const RIDGE_MAX_D: usize = 4096;

fn main() {
    let args = args();
    println!("threads: {}", rayon::current_num_threads());
    println!(
        "| dataset | D | model | accuracy % | fit CPU s | fit wall s | of which map CPU s | predict CPU s | notes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &(name, d, c, gamma) in &CLASSIFICATION {
        if !args.datasets.iter().any(|n| n == name) {
            continue;
        }
        let train = read(name, "train", d);
        let test = read(name, "test", d);
        for &big_d in &args.sizes {
            for solver_name in &args.solvers {
                let solver = match solver_name.as_str() {
                    "svm" => Solver::Svm {
                        c,
                        loss: SvmLoss::SquaredHinge,
                    },
                    "svm-l1" => Solver::Svm {
                        c,
                        loss: SvmLoss::Hinge,
                    },
                    "svm-eps1" => Solver::Svm {
                        c,
                        loss: SvmLoss::SquaredHinge,
                    },
                    "ridge" => Solver::Ridge {
                        lambda: Lambda::Fixed(1.0),
                    },
                    "ridge-gcv" => Solver::Ridge {
                        lambda: Lambda::Gcv,
                    },
                    other => panic!("unknown solver {other}"),
                };
                if matches!(solver, Solver::Ridge { .. }) && big_d > RIDGE_MAX_D {
                    println!(
                        "| {name} | {big_d} | Fastfood + {solver_name} | - | - | - | - | - | skipped: D×D normal matrix |"
                    );
                    continue;
                }
                let params = KernelMachine::params()
                    .n_frequencies(big_d / 2)
                    .bandwidth(Bandwidth::Gamma(gamma))
                    .solver(solver)
                    .svm_eps(if solver_name == "svm-eps1" { 1.0 } else { 0.1 })
                    .seed(0)
                    .check()
                    .expect("valid parameters");
                let (model, fit_cpu, fit_wall) =
                    timed(|| params.fit(train.x.view(), train.y.view()).expect("fit"));
                let (pred, pred_cpu, _) = timed(|| model.predict(&test.x).expect("predict"));
                // The feature map's share of the fit: scale and transform the training rows again.
                let (_, map_cpu, _) = timed(|| {
                    let scaled = model
                        .scaler()
                        .transform(train.x.view())
                        .expect("scale")
                        .mapv(|v| v as f32);
                    model.map().transform(scaled.view()).expect("transform")
                });
                let acc = accuracy(&pred, &test.y);
                let notes = match &model.info().solver {
                    SolverInfo::Svm {
                        epochs, converged, ..
                    } => format!(
                        "epochs ≤ {}{}",
                        epochs.iter().max().unwrap_or(&0),
                        if converged.iter().all(|&c| c) {
                            ""
                        } else {
                            ", NOT converged"
                        }
                    ),
                    SolverInfo::Ridge { lambda, .. } => format!("λ = {lambda:.3e}"),
                };
                println!(
                    "| {name} | {big_d} | Fastfood + {solver_name} | {acc:.2} | {fit_cpu:.2} | {fit_wall:.2} | {map_cpu:.2} | {pred_cpu:.2} | {notes} |"
                );
            }
        }
    }
    if args.regression {
        diabetes(&args.sizes);
    }
}

fn gaussian_gram(a: ArrayView2<f64>, b: ArrayView2<f64>, gamma: f64) -> Array2<f64> {
    Array2::from_shape_fn((a.nrows(), b.nrows()), |(i, j)| {
        let d2: f64 = a
            .row(i)
            .iter()
            .zip(b.row(j))
            .map(|(x, y)| (x - y).powi(2))
            .sum();
        (-gamma * d2).exp()
    })
}

/// Exact kernel ridge with an unpenalised intercept, [K + λI, 1; 1ᵀ, 0][α; b] = [y; 0] (the
/// limit of feature ridge with an intercept), solved with faer's LU.
fn exact_kernel_ridge(
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    test: ArrayView2<f64>,
    lambda: f64,
    gamma: f64,
) -> Array1<f64> {
    use faer::prelude::Solve;
    let n = x.nrows();
    let k = gaussian_gram(x, x, gamma);
    let a = faer::Mat::<f64>::from_fn(n + 1, n + 1, |i, j| match (i < n, j < n) {
        (true, true) => k[[i, j]] + if i == j { lambda } else { 0.0 },
        (true, false) | (false, true) => 1.0,
        (false, false) => 0.0,
    });
    let rhs = faer::Mat::<f64>::from_fn(n + 1, 1, |i, _| if i < n { y[i] } else { 0.0 });
    let sol = a.partial_piv_lu().solve(&rhs);
    let alpha = Array1::from_shape_fn(n, |i| sol[(i, 0)]);
    gaussian_gram(test, x, gamma).dot(&alpha) + sol[(n, 0)]
}

fn rmse(pred: &Array1<f64>, truth: &Array1<f64>) -> f64 {
    (pred - truth)
        .mapv(|e| e * e)
        .mean()
        .unwrap_or(f64::NAN)
        .sqrt()
}

fn diabetes(sizes: &[usize]) {
    let (lambda, gamma) = (0.001, 0.006457);
    let train = read("diabetes", "train", 10);
    let test = read("diabetes", "test", 10);
    let scaler =
        rks::scaler::Scaler::fit(train.x.view(), rks::scaler::ScalerKind::MinMax).expect("scaler");
    let (xs, ts) = (
        scaler.transform(train.x.view()).unwrap(),
        scaler.transform(test.x.view()).unwrap(),
    );
    let (exact, cpu, _) =
        timed(|| exact_kernel_ridge(xs.view(), train.y.view(), ts.view(), lambda, gamma));
    println!();
    println!("diabetes (λ = {lambda}, γ = {gamma}, min-max scaled)");
    println!("| model | test RMSE | fit+predict CPU s |");
    println!("|---|---|---|");
    println!(
        "| exact kernel ridge with intercept (ours, faer LU) | {:.3} | {cpu:.3} |",
        rmse(&exact, &test.y)
    );
    for &big_d in sizes.iter().filter(|&&d| d <= RIDGE_MAX_D) {
        for (label, lam) in [
            ("λ = 0.001", Lambda::Fixed(lambda)),
            ("λ by GCV", Lambda::Gcv),
        ] {
            let params = KernelMachine::params()
                .n_frequencies(big_d / 2)
                .bandwidth(Bandwidth::Gamma(gamma))
                .task(Task::Regression)
                .solver(Solver::Ridge { lambda: lam })
                .seed(0)
                .check()
                .expect("valid parameters");
            let ((model, pred), cpu, _) = timed(|| {
                let model = params.fit(train.x.view(), train.y.view()).expect("fit");
                let pred = model.predict(&test.x).expect("predict");
                (model, pred)
            });
            let chosen = match &model.info().solver {
                SolverInfo::Ridge { lambda, .. } => *lambda,
                _ => f64::NAN,
            };
            println!(
                "| Fastfood {big_d} + ridge {label} (λ = {chosen:.3e}) | {:.3} | {cpu:.3} |",
                rmse(&pred, &test.y)
            );
        }
    }
    let _ = (Axis(0), s![..]);
}

//! Where the SVM's time goes on letter (steps, updates, epochs per class).
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    (f[11] + f[12]) / 100.0
}

use rks::scaler::{Scaler, ScalerKind};
use rks::{AnyMap, Bandwidth, FeatureMap, Kernel, MapKind};
use rks_solvers::svm::{SvmParams, fit_ovr};

fn main() {
    let d = 16;
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048);
    let path = format!("{}/../../datasets/letter.train", env!("CARGO_MANIFEST_DIR"));
    let train = rks_data::libsvm::read_path(&path, Some(d)).unwrap();
    let scaler = Scaler::fit(train.x.view(), ScalerKind::MinMax).unwrap();
    let x = scaler.transform(train.x.view()).unwrap().mapv(|v| v as f32);
    let map = AnyMap::build(
        MapKind::Fastfood,
        d,
        n,
        Bandwidth::Gamma(6.703),
        Kernel::Gaussian,
        0,
    )
    .unwrap();
    let phi = map.transform(x.view()).unwrap();
    let classes: Vec<usize> = train.y.iter().map(|&v| v as usize).collect();
    let eps: f64 = std::env::args()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.1);
    let loss = if std::env::args().nth(3).as_deref() == Some("l1") {
        rks_solvers::SvmLoss::Hinge
    } else {
        rks_solvers::SvmLoss::SquaredHinge
    };
    let t = cpu();
    let svm = fit_ovr(
        phi.view(),
        &classes,
        26,
        &SvmParams {
            c: 10.0,
            eps,
            loss,
            ..SvmParams::default()
        },
    )
    .unwrap();
    println!("fit {:.2} s cpu", cpu() - t);
    let test = rks_data::libsvm::read_path(path.replace("train", "test"), Some(d)).unwrap();
    let xt = scaler.transform(test.x.view()).unwrap().mapv(|v| v as f32);
    let scores = svm
        .decision_values(map.transform(xt.view()).unwrap().view())
        .unwrap();
    let pred = rks_solvers::labels::argmax_rows(&scores);
    let acc = pred
        .iter()
        .zip(&test.y)
        .filter(|(p, t)| **p as f64 == **t)
        .count() as f64
        / 40.0;
    println!("accuracy {acc:.2}");
    let (steps, updates): (u64, u64) = svm
        .reports
        .iter()
        .fold((0, 0), |(s, u), r| (s + r.steps, u + r.updates));
    println!(
        "steps {steps} ({:.1} per row per class), updates {updates}",
        steps as f64 / 16000.0 / 26.0
    );
    for (k, r) in svm.reports.iter().enumerate().take(3) {
        println!(
            "class {k}: epochs {} steps {} updates {} sv {}",
            r.epochs, r.steps, r.updates, r.n_support
        );
    }
}

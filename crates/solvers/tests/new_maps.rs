//! Kernel machines on the ORF, SORF and Nyström maps and the arc-cosine kernels: they fit, learn,
//! and save and load to the same predictions (a Nyström model carries its landmarks).

mod common;

use common::uniform;
use ndarray::Array1;
use rks::{Bandwidth, FeatureMap, Kernel, MapKind};
use rks_solvers::{KernelMachine, Lambda, Solver};

#[test]
fn new_maps_fit_learn_and_round_trip() {
    let x = uniform(120, 3, 91);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| if r[0] * r[1] > 0.0 { 1.0 } else { 0.0 })
        .collect();
    let test = uniform(60, 3, 92);
    let truth: Array1<f64> = test
        .rows()
        .into_iter()
        .map(|r| if r[0] * r[1] > 0.0 { 1.0 } else { 0.0 })
        .collect();
    for (map, kernel, n) in [
        (MapKind::Orf, Kernel::Gaussian, 64),
        (MapKind::Sorf, Kernel::Gaussian, 64),
        (MapKind::Nystrom, Kernel::Gaussian, 60),
        (MapKind::Nystrom, Kernel::Laplacian, 60),
        (MapKind::Dense, Kernel::ArcCos1, 128),
        (MapKind::Orf, Kernel::ArcCos0, 128),
        (MapKind::Fastfood, Kernel::ArcCos1, 128),
    ] {
        let model = KernelMachine::params()
            .map(map)
            .n_frequencies(n)
            .kernel(kernel)
            .bandwidth(Bandwidth::Sigma(0.5))
            .solver(Solver::Ridge {
                lambda: Lambda::Fixed(1e-3),
            })
            .seed(3)
            .check()
            .unwrap()
            .fit(x.view(), y.view())
            .unwrap();
        assert_eq!(model.map().kind(), map);
        assert_eq!(
            model.map().output_dim(),
            map.output_dim(kernel, n),
            "{map} {kernel:?}"
        );
        let predicted = model.predict(&test).unwrap();
        let accuracy = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count() as f64
            / truth.len() as f64;
        // The XOR of two signs: no linear model on x gets much above 1/2. (The order-0
        // arc-cosine kernel sees only the angles between scaled rows: it is held to the round
        // trip below.)
        if kernel != Kernel::ArcCos0 {
            assert!(accuracy > 0.75, "{map} {kernel:?}: accuracy {accuracy}");
        }
        let back = KernelMachine::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(back, model);
        assert_eq!(
            back.decision_function(&test).unwrap(),
            model.decision_function(&test).unwrap()
        );
    }
}

/// More landmarks than rows: every row is a landmark (m = N, the exact kernel machine), as
/// scikit-learn's `Nystroem` does, rather than an error.
#[test]
fn more_landmarks_than_rows_takes_every_row() {
    let params = KernelMachine::params()
        .map(MapKind::Nystrom)
        .n_frequencies(10)
        .check()
        .unwrap();
    let x = uniform(5, 2, 1);
    let y = Array1::from(vec![0.0, 1.0, 0.0, 1.0, 0.0]);
    let model = params.fit(x.view(), y.view()).unwrap();
    assert_eq!(model.map().n_frequencies(), 5);
    assert_eq!(model.predict(&x).unwrap(), y);
}

//! Persistence: round trips are exact; damaged or hostile bytes give typed errors, never panics.

mod common;

use common::uniform;
use ndarray::Array1;
use proptest::prelude::*;
use rks::{Bandwidth, MapKind};
use rks_solvers::persist::{FORMAT_VERSION, MAGIC};
use rks_solvers::{KernelMachine, Lambda, Solver, SolversError, SvmLoss, Task};

fn classifier(solver: Solver, map: MapKind, n: usize) -> KernelMachine {
    let x = uniform(80, 3, 81);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| {
            if r[0] > 0.2 {
                2.0
            } else if r[1] > 0.0 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    KernelMachine::params()
        .map(map)
        .n_frequencies(n)
        .bandwidth(Bandwidth::Sigma(0.7))
        .solver(solver)
        .seed(5)
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap()
}

fn regressor() -> KernelMachine {
    let x = uniform(50, 2, 82);
    let y: Array1<f64> = x.rows().into_iter().map(|r| r[0] * r[1]).collect();
    KernelMachine::params()
        .n_frequencies(8)
        .task(Task::Regression)
        .solver(Solver::Ridge {
            lambda: Lambda::Gcv,
        })
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap()
}

#[test]
fn save_load_predict_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let test = uniform(30, 3, 83);
    let models = [
        classifier(
            Solver::Svm {
                c: 5.0,
                loss: SvmLoss::Hinge,
            },
            MapKind::Fastfood,
            32,
        ),
        classifier(
            Solver::Ridge {
                lambda: Lambda::Fixed(0.1),
            },
            MapKind::Dense,
            32,
        ),
    ];
    for (i, model) in models.iter().enumerate() {
        let path = dir.path().join(format!("model-{i}.rks"));
        model.save(&path).unwrap();
        let back = KernelMachine::load(&path).unwrap();
        assert_eq!(&back, model);
        assert_eq!(
            back.decision_function(&test).unwrap(),
            model.decision_function(&test).unwrap()
        );
        assert_eq!(back.predict(&test).unwrap(), model.predict(&test).unwrap());
        // Saving over an existing file replaces it and leaves no temporary file behind.
        model.save(&path).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), i + 1, "{names:?}");
    }
    let reg = regressor();
    let back = KernelMachine::from_bytes(&reg.to_bytes().unwrap()).unwrap();
    let x = uniform(10, 2, 84);
    assert_eq!(back.predict(&x).unwrap(), reg.predict(&x).unwrap());
}

#[test]
fn header_defects_are_named() {
    let bytes = regressor().to_bytes().unwrap();
    assert_eq!(&bytes[..8], &MAGIC);
    assert!(matches!(
        KernelMachine::from_bytes(b""),
        Err(SolversError::NotAModel)
    ));
    assert!(matches!(
        KernelMachine::from_bytes(b"PK\x03\x04 a zip file"),
        Err(SolversError::NotAModel)
    ));
    assert!(matches!(
        KernelMachine::from_bytes(&bytes[..10]),
        Err(SolversError::CorruptModel(_))
    ));
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(
        KernelMachine::from_bytes(&newer),
        Err(SolversError::UnsupportedVersion { found, supported: FORMAT_VERSION }) if found == FORMAT_VERSION + 1
    ));
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        KernelMachine::from_bytes(&trailing),
        Err(SolversError::CorruptModel(_))
    ));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        KernelMachine::load(dir.path().join("missing.rks")),
        Err(SolversError::Io { .. })
    ));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = regressor().to_bytes().unwrap();
    for len in 0..bytes.len() {
        assert!(
            KernelMachine::from_bytes(&bytes[..len]).is_err(),
            "prefix of {len} bytes loaded"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = KernelMachine::from_bytes(&bytes);
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        framed.extend_from_slice(&bytes);
        prop_assert!(KernelMachine::from_bytes(&framed).is_err());
    }

    #[test]
    fn corrupted_models_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = regressor().to_bytes().unwrap();
        for (index, value) in flips {
            let i = index.index(bytes.len());
            bytes[i] ^= value.max(1);
        }
        // Either a typed error or (rarely, e.g. a flipped weight) a valid model: never a panic.
        if let Ok(model) = KernelMachine::from_bytes(&bytes) {
            let _ = model.predict(&uniform(3, 2, 1));
        }
    }
}

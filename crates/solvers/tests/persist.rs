//! Persistence: round trips are exact; damaged or hostile bytes give typed errors, never panics.

mod common;

use common::uniform;
use ndarray::Array1;
use proptest::prelude::*;
use rks::envelope::FileError;
use rks::{Bandwidth, MapKind};
use rks_solvers::class_weights::ClassWeights;
use rks_solvers::persist::{
    CALIBRATED_VERSION, FORMAT_VERSION, MAGIC, MODEL_FILE, UNCALIBRATED_VERSION,
};
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
        Err(SolversError::File(FileError::Truncated { .. }))
    ));
    assert!(matches!(
        KernelMachine::from_bytes(b"PK\x03\x04 a zip file"),
        Err(SolversError::File(FileError::ForeignFile { .. }))
    ));
    assert!(matches!(
        KernelMachine::from_bytes(&bytes[..10]),
        Err(SolversError::File(FileError::Truncated { .. }))
    ));
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(
        KernelMachine::from_bytes(&newer),
        Err(SolversError::File(FileError::NewerVersion { found, newest: FORMAT_VERSION, .. })) if found == FORMAT_VERSION + 1
    ));
    let mut zero = bytes.clone();
    zero[8..12].copy_from_slice(&0u32.to_le_bytes());
    assert!(matches!(
        KernelMachine::from_bytes(&zero),
        Err(SolversError::File(FileError::UnsupportedVersion {
            found: 0,
            ..
        }))
    ));
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        KernelMachine::from_bytes(&trailing),
        Err(SolversError::File(FileError::Corrupt { .. }))
    ));
    let mut flipped = bytes.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert!(matches!(
        KernelMachine::from_bytes(&flipped),
        Err(SolversError::File(FileError::Corrupt { .. }))
    ));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        KernelMachine::load(dir.path().join("missing.rks")),
        Err(SolversError::File(FileError::Io { .. }))
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
        // Random payloads with a valid header (so the decoder and the checks after it are
        // tested), in the current envelope and in version 1's.
        prop_assert!(KernelMachine::from_bytes(&MODEL_FILE.seal(&bytes)).is_err());
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&1u32.to_le_bytes());
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

/// The rows the fixtures' decision values were recorded on.
fn fixture_rows() -> ndarray::Array2<f64> {
    ndarray::Array2::from_shape_fn((5, 3), |(i, j)| {
        (((i as u64 * 37 + j as u64 * 11 + 5) % 23) as f64 - 11.0) / 7.0
    })
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Model files of format version 1 (written before the common envelope: a 12-byte header, the
/// map as a nested byte string) still load, and predict exactly what they predicted when saved.
/// Re-saved, they are the current version and load to the same model.
#[test]
fn version_1_model_files_still_load_and_predict_the_same() {
    let cases: [(&str, &[u64]); 2] = [
        (
            "classifier-v1.rks",
            &[
                0xbfef6bfe9240520c,
                0x3ff3b9f2ca441946,
                0xc002acc6b2df00fc,
                0xbffad445c79194be,
                0xbff3caa5a5bbde6f,
                0x3ff79db060044b14,
                0xbff514e3ad085887,
                0x3ff101aab3ba294b,
                0xbff524bb29e07624,
                0xbff3c126fd690d06,
                0x3fefffffd37c947c,
                0xbffcbf9285a2ef02,
                0xbfe815469418e953,
                0xbff34cb3bb2d6827,
                0x3fd39b05181e1b60,
            ],
        ),
        (
            "regressor-v1.rks",
            &[
                0x3fe3b7df05e6aa0a,
                0xbff8df43de99ace1,
                0xbfb79327948789d3,
                0x3fefa7af2f95feea,
                0xbff044f2d1bf9ea1,
            ],
        ),
    ];
    for (name, expected) in cases {
        let bytes = fixture(name);
        assert_eq!(
            bytes[8..12],
            1u32.to_le_bytes(),
            "{name} is a version 1 file"
        );
        let model = KernelMachine::from_bytes(&bytes).unwrap();
        let got: Vec<u64> = model
            .decision_function(&fixture_rows())
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(got, expected, "{name}");
        let again = model.to_bytes().unwrap();
        assert_eq!(again[8..12], UNCALIBRATED_VERSION.to_le_bytes());
        assert_eq!(KernelMachine::from_bytes(&again).unwrap(), model);
        // Every truncation of the old layout is an error too.
        for len in 0..bytes.len() {
            assert!(
                KernelMachine::from_bytes(&bytes[..len]).is_err(),
                "{name}[..{len}]"
            );
        }
    }
}

/// The bytes of the current format (version 4) are pinned: a change of layout must come with a
/// new version. Version 2 and 3 files, pinned when they were current, load to the same model.
#[test]
fn version_4_bytes_are_pinned_and_versions_2_and_3_load() {
    for name in ["classifier", "regressor"] {
        let model = KernelMachine::from_bytes(&fixture(&format!("{name}-v1.rks"))).unwrap();
        let bytes = model.to_bytes().unwrap();
        let pinned = fixture(&format!("{name}-v4.rks"));
        assert_eq!(bytes, pinned, "{name}");
        assert_eq!(KernelMachine::from_bytes(&pinned).unwrap(), model);
        for old in [2u32, 3] {
            let file = fixture(&format!("{name}-v{old}.rks"));
            assert_eq!(file[8..12], old.to_le_bytes());
            assert_eq!(KernelMachine::from_bytes(&file).unwrap(), model);
        }
    }
}

/// Version 5, a classifier with class probabilities: a calibrated fit's bytes are pinned, and
/// so are its probabilities' bits (the sigmoids are fitted, and the probabilities computed, with
/// rks's own e^x and ln, in row order: the same bits on every platform; `.ci/cross` runs this
/// test on aarch64). Without a calibration the same model is version 4.
#[test]
fn version_5_bytes_and_probabilities_are_pinned() {
    let x = uniform(150, 3, 23);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| f64::from(u8::from(r[0] > 0.0) + u8::from(r[1] + 0.3 * r[2] > 0.2)))
        .collect();
    let params = || {
        KernelMachine::params()
            .n_frequencies(16)
            .bandwidth(Bandwidth::Sigma(0.8))
            .selection(None)
            .seed(5)
    };
    let model = params()
        .probabilities(true)
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap();
    let bytes = model.to_bytes().unwrap();
    assert_eq!(bytes[8..12], CALIBRATED_VERSION.to_le_bytes());
    assert_eq!(bytes, fixture("classifier-v5.rks"));
    let loaded = KernelMachine::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, model);
    let p = loaded.predict_proba(&fixture_rows()).unwrap();
    let log_p = loaded.predict_log_proba(&fixture_rows()).unwrap();
    assert_eq!(
        [common::hash_bits(&p), common::hash_bits(&log_p)],
        [0x4ba1_c63e_6009_5b20, 0x3433_ea66_8244_0fd6],
        "the probabilities differ from the pinned bits"
    );
    // The same model without probabilities: version 4, equal but for the calibration.
    let plain = params().check().unwrap().fit(x.view(), y.view()).unwrap();
    let plain_bytes = plain.to_bytes().unwrap();
    assert_eq!(plain_bytes[8..12], UNCALIBRATED_VERSION.to_le_bytes());
    assert!(plain.calibration().is_none());
    assert_eq!(
        plain.decision_function(&fixture_rows()).unwrap(),
        model.decision_function(&fixture_rows()).unwrap()
    );
}

/// Version 6, a classifier fitted with class weights: its bytes are pinned (with a
/// calibration, which version 6 carries when there is one), it loads to the same model with
/// the same weights, and a version-5 fixture still loads without any.
#[test]
fn version_6_bytes_are_pinned_and_keep_the_class_weights() {
    let x = uniform(150, 3, 29);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| f64::from(u8::from(r[0] > 0.3) + u8::from(r[1] + 0.3 * r[2] > 0.6)))
        .collect();
    let model = KernelMachine::params()
        .n_frequencies(16)
        .bandwidth(Bandwidth::Sigma(0.8))
        .selection(None)
        .seed(5)
        .class_weights(Some(ClassWeights::Given(vec![(2, 3.0)])))
        .probabilities(true)
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap();
    assert_eq!(model.class_weights(), Some(&[1.0, 1.0, 3.0][..]));
    let bytes = model.to_bytes().unwrap();
    assert_eq!(bytes[8..12], FORMAT_VERSION.to_le_bytes());
    assert_eq!(FORMAT_VERSION, 6);
    assert_eq!(bytes, fixture("classifier-v6.rks"));
    let loaded = KernelMachine::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.class_weights(), model.class_weights());
    let older = KernelMachine::from_bytes(&fixture("classifier-v5.rks")).unwrap();
    assert_eq!(older.class_weights(), None);
}

/// A classifier fitted on class names keeps them through a save and a load; names that do not
/// fit the model's classes are refused (and in a file make it corrupt: the unit tests of
/// `persist`).
#[test]
fn class_names_are_saved_and_checked_on_load() {
    let classifier = KernelMachine::from_bytes(&fixture("classifier-v1.rks")).unwrap();
    let k = classifier.classes().unwrap().len();
    // The fixture's labels are not 0..k−1: names cannot be given to them.
    assert!(
        classifier
            .clone()
            .with_class_names(vec!["a".into(); k])
            .is_err()
    );
    let x = uniform(60, 3, 7);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| f64::from(r[0] > 0.0))
        .collect();
    let model = KernelMachine::params()
        .n_frequencies(16)
        .selection(None)
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap();
    let names = vec!["small, or \"none\"".to_string(), "large".to_string()];
    for bad in [
        vec!["only one".to_string()],
        vec!["same".to_string(), "same".to_string()],
        vec![String::new(), "b".to_string()],
        vec!["a".repeat(4097), "b".to_string()],
    ] {
        assert!(model.clone().with_class_names(bad).is_err());
    }
    let named = model.clone().with_class_names(names.clone()).unwrap();
    let bytes = named.to_bytes().unwrap();
    assert_eq!(bytes[8..12], 4u32.to_le_bytes());
    let loaded = KernelMachine::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, named);
    assert_eq!(loaded.class_names().unwrap(), names.as_slice());
    assert_eq!(loaded.class_name(1.0), Some("large"));
    assert_eq!(loaded.class_name(2.0), None);
    let regressor = KernelMachine::from_bytes(&fixture("regressor-v1.rks")).unwrap();
    assert!(regressor.with_class_names(names).is_err());
}

/// A Nyström model's file (version 3 and on) carries K_mm^{+1/2}·W: loaded, it predicts the same bits
/// as the model that was saved. (A version-2 file of it, without the product: the unit tests of
/// `persist`.)
#[test]
fn nystrom_models_keep_their_whitened_weights() {
    let x = uniform(120, 3, 95);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| f64::from(r[0] + r[1] > 0.0))
        .collect();
    let model = KernelMachine::params()
        .map(MapKind::Nystrom)
        .n_frequencies(40)
        .check()
        .unwrap()
        .fit(x.view(), y.view())
        .unwrap();
    let expected = model.decision_function(&x).unwrap();
    let bytes = model.to_bytes().unwrap();
    assert_eq!(bytes[8..12], UNCALIBRATED_VERSION.to_le_bytes());
    let loaded = KernelMachine::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, model);
    let bits = |a: &ndarray::Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&loaded.decision_function(&x).unwrap()),
        bits(&expected)
    );
    assert_eq!(loaded.to_bytes().unwrap(), bytes);
}

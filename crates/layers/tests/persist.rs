//! Save → load round trips and hostile bytes.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rks::envelope::FileError;
use rks_layers::persist::{FORMAT_VERSION, MAGIC};
use rks_layers::{LayerError, Network, NetworkParams, TrainParams, Trainable, train};

fn trained() -> (Network, Array2<f64>) {
    let x = Array2::from_shape_fn((80, 5), |(i, j)| ((i * 13 + j * 7) % 17) as f64 - 8.0);
    let y: Vec<usize> = (0..80).map(|i| (i * 13 % 17) % 3).collect();
    let mut net = NetworkParams::new()
        .fastfood(24, Trainable::ALL)
        .dense(6)
        .hidden(rks_layers::HiddenSpec::Fastfood {
            width: 9,
            sigma: None,
            trainable: Trainable::NONE,
        })
        .seed(11)
        .build(x.view(), 3)
        .unwrap();
    let params = TrainParams {
        epochs: 2,
        ..TrainParams::default()
    };
    train(&mut net, x.view(), &y, &params, |_| {}).unwrap();
    (net, x)
}

#[test]
fn save_then_load_gives_identical_outputs() {
    let (net, x) = trained();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.rksnet");
    net.save(&path).unwrap();
    let back = Network::load(&path).unwrap();
    assert_eq!(back, net);
    assert_eq!(
        back.logits(x.view()).unwrap(),
        net.logits(x.view()).unwrap()
    );
    // Only the final file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // Saving again over the file works (rename replaces it).
    back.save(&path).unwrap();
    assert_eq!(Network::load(&path).unwrap(), net);
}

#[test]
fn every_truncation_is_an_error() {
    let (net, _) = trained();
    let bytes = net.to_bytes().unwrap();
    for len in 0..bytes.len() {
        let r = Network::from_bytes(&bytes[..len]);
        assert!(
            matches!(r, Err(LayerError::File(FileError::Truncated { .. }))),
            "prefix of {len}: {r:?}"
        );
    }
}

#[test]
fn corrupt_foreign_and_newer_files_are_errors() {
    let (net, _) = trained();
    let bytes = net.to_bytes().unwrap();
    // Every single flipped byte after the magic tag is caught.
    for i in 8..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        assert!(Network::from_bytes(&b).is_err(), "flip at {i} accepted");
    }
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(
        Network::from_bytes(&newer),
        Err(LayerError::File(FileError::NewerVersion { .. }))
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        Network::from_bytes(&longer),
        Err(LayerError::File(FileError::Corrupt { .. }))
    ));
    let mut huge = bytes.clone();
    huge[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        Network::from_bytes(&huge),
        Err(LayerError::File(FileError::TooLarge { .. }))
    ));
    assert!(matches!(
        Network::from_bytes(b"\x89PNG\r\n\x1a\n...."),
        Err(LayerError::File(FileError::ForeignFile { .. }))
    ));
}

#[test]
fn random_bytes_are_errors_not_panics() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for round in 0..2000 {
        let len = rng.random_range(0..400usize);
        let mut b: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        // Half of the blobs carry a valid header, so the payload decoder sees random bytes too
        // (with a correct checksum, so it is the decoder and the checks after it being tested).
        if round % 2 == 0 && len >= 28 {
            b[..8].copy_from_slice(&MAGIC);
            b[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
            let payload_len = (len - 28) as u64;
            b[12..20].copy_from_slice(&payload_len.to_le_bytes());
            let sum = b[28..].iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
                (h ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3)
            });
            b[20..28].copy_from_slice(&sum.to_le_bytes());
        }
        assert!(Network::from_bytes(&b).is_err());
    }
}

#[test]
fn decoder_rejects_a_valid_payload_with_inconsistent_shapes() {
    // A well-formed payload of the wrong network is caught by the consistency check: re-encode a
    // network whose output layer expects a different input width by splicing two networks.
    let (net, x) = trained();
    let other = NetworkParams::new()
        .dense(4)
        .seed(1)
        .build(x.view(), 3)
        .unwrap();
    let spliced = Network::from_layers(
        net.scaler().clone(),
        net.hidden().to_vec(),
        other.output().clone(),
    );
    assert!(spliced.is_err());
    let missing = Network::load("/nonexistent/dir/net.rksnet");
    assert!(matches!(
        missing,
        Err(LayerError::File(FileError::Io { .. }))
    ));
}

/// A network saved by format version 1 loads, with the logits it had when saved, and its bytes
/// are what this build writes (pinned: a change of layout must come with a new version).
#[test]
fn version_1_network_files_load_with_their_logits() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/network-v1.rksnet");
    let bytes = std::fs::read(&path).unwrap();
    let net = Network::from_bytes(&bytes).unwrap();
    let x = Array2::from_shape_fn((3, 4), |(i, j)| ((i * 5 + j * 3) % 7) as f64 - 3.0);
    let got: Vec<u64> = net
        .logits(x.view())
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let expected: [u64; 9] = [
        0xbfdec5d37410ae5d,
        0x3fca5e7c1052a9b3,
        0x3fdfdd912cfd15b2,
        0x3fcf030924a5b596,
        0x3fd32b53bcfeb4e2,
        0x3fcfa5fd2faf5d1e,
        0xbfd3dae05946f8f8,
        0x3fc11412b8e2c4fc,
        0x3fd48f9330ee6aa5,
    ];
    assert_eq!(got, expected);
    if FORMAT_VERSION == 1 {
        assert_eq!(net.to_bytes().unwrap(), bytes);
    }
}

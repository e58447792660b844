//! The bundled datasets read with the counts of datasets/README.md, and chunked reads equal
//! whole-file reads.

use ndarray::{Axis, concatenate};
use rks_data::csv::{self, CsvChunks, CsvOptions};
use rks_data::libsvm::{self, LibsvmChunks};
use rks_data::{DataError, Dataset};

const LETTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/letter.train");

fn dataset_path(name: &str) -> String {
    format!("{}/../../datasets/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Stacks chunks back into one dataset.
fn stack(chunks: impl Iterator<Item = Result<Dataset, DataError>>) -> (Dataset, Vec<usize>) {
    let chunks: Vec<Dataset> = chunks.collect::<Result<_, _>>().unwrap();
    let sizes = chunks.iter().map(Dataset::n_rows).collect();
    let xs: Vec<_> = chunks.iter().map(|c| c.x.view()).collect();
    let ys: Vec<_> = chunks.iter().map(|c| c.y.view()).collect();
    let data = Dataset::new(
        concatenate(Axis(0), &xs).unwrap(),
        concatenate(Axis(0), &ys).unwrap(),
    )
    .unwrap();
    (data, sizes)
}

#[test]
fn letter_train_has_the_published_shape_and_classes() {
    let d = libsvm::read_path(LETTER, Some(16)).unwrap();
    assert_eq!((d.n_rows(), d.n_features()), (16000, 16));
    assert_eq!(d.classes().unwrap(), (0..26).collect::<Vec<i64>>());
    let counts: Vec<usize> = d.class_counts().unwrap().iter().map(|c| c.1).collect();
    assert_eq!(counts.iter().min(), Some(&576));
    assert_eq!(counts.iter().max(), Some(&648));
    // First line of the file: "19 1:2 2:8 3:3 4:5 5:1 6:8 7:13 9:6 ..." (feature 8 omitted = 0).
    assert_eq!(d.y[0], 19.0);
    assert_eq!(
        d.x.row(0).to_vec()[..9],
        [2.0, 8.0, 3.0, 5.0, 1.0, 8.0, 13.0, 0.0, 6.0]
    );
    assert_eq!(libsvm::scan_dims(LETTER).unwrap(), (16000, 16));
    assert_eq!(libsvm::read_path(LETTER, None).unwrap(), d);
}

#[test]
fn letter_chunked_equals_whole() {
    let whole = libsvm::read_path(LETTER, Some(16)).unwrap();
    let chunks = LibsvmChunks::open(LETTER, 16, 1000).unwrap();
    let (stacked, sizes) = stack(chunks);
    assert_eq!(sizes, vec![1000; 16]);
    assert_eq!(stacked, whole);

    // A chunk size that does not divide the row count leaves a short last chunk.
    let (stacked, sizes) = stack(LibsvmChunks::open(LETTER, 16, 4096).unwrap());
    assert_eq!(sizes, vec![4096, 4096, 4096, 3712]);
    assert_eq!(stacked, whole);
}

#[test]
fn letter_as_csv_reads_back_whole_and_in_chunks() {
    let whole = libsvm::read_path(LETTER, Some(16)).unwrap();
    let names: Vec<String> = (1..=16).map(|j| format!("f{j}")).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    csv::write(&mut file, &whole, "letter", &names).unwrap();
    drop(file);

    let opts = CsvOptions::label_name("letter");
    let (d, got_names) = csv::read_path_with_names(&path, &opts).unwrap();
    assert_eq!(got_names, names);
    assert_eq!(d, whole);

    let chunks = CsvChunks::open(&path, &opts, 1000).unwrap();
    assert_eq!(chunks.feature_names(), names.as_slice());
    let (stacked, sizes) = stack(chunks);
    assert_eq!(sizes, vec![1000; 16]);
    assert_eq!(stacked, whole);
}

/// Number of classes and the smallest and largest class count in a training file (from
/// datasets/README.md); `None` for regression.
type Classes = Option<(usize, usize, usize)>;

#[test]
fn every_bundled_file_has_the_published_counts() {
    let table: &[(&str, usize, usize, usize, Classes)] = &[
        ("digits", 1437, 360, 64, Some((10, 139, 146))),
        ("breast_cancer", 455, 114, 30, Some((2, 170, 285))),
        ("letter", 16000, 4000, 16, Some((26, 576, 648))),
        ("spam", 3680, 921, 57, Some((2, 1450, 2230))),
        ("diabetes", 353, 89, 10, None),
    ];
    for &(name, n_train, n_test, d, classes) in table {
        let train = libsvm::read_path(dataset_path(&format!("{name}.train")), Some(d)).unwrap();
        let test = libsvm::read_path(dataset_path(&format!("{name}.test")), Some(d)).unwrap();
        assert_eq!((train.n_rows(), train.n_features()), (n_train, d), "{name}");
        assert_eq!((test.n_rows(), test.n_features()), (n_test, d), "{name}");
        match classes {
            Some((k, min, max)) => {
                let counts = train.class_counts().unwrap();
                assert_eq!(counts.len(), k, "{name}");
                // Class labels are 0..k-1.
                assert!(
                    counts.iter().enumerate().all(|(i, c)| c.0 == i as i64),
                    "{name}"
                );
                let n: Vec<usize> = counts.iter().map(|c| c.1).collect();
                assert_eq!(
                    (n.iter().min(), n.iter().max()),
                    (Some(&min), Some(&max)),
                    "{name}"
                );
            }
            None => {
                let lo = train.y.iter().cloned().fold(f64::INFINITY, f64::min);
                let hi = train.y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                assert!(lo >= 25.0 && hi <= 346.0, "{name}: {lo}..{hi}");
            }
        }
    }
}

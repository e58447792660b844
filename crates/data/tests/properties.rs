//! Property tests: random finite datasets survive write -> read exactly, chunked reads equal
//! whole-file reads, and no input makes a reader panic.

use ndarray::{Array1, Array2, Axis, concatenate};
use proptest::prelude::*;
use rks_data::csv::{self, CsvChunks, CsvOptions};
use rks_data::libsvm::{self, LibsvmChunks};
use rks_data::{DataError, Dataset};

/// Finite values of every kind `{}` has to print: zeros, integers, short decimals, and arbitrary
/// bit patterns (subnormals, huge and tiny magnitudes).
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => Just(0.0),
        1 => Just(-0.0),
        1 => (-1000i32..1000).prop_map(f64::from),
        1 => -1e6f64..1e6,
        2 => any::<f64>().prop_filter("finite", |v| v.is_finite()),
    ]
}

fn dataset(max_rows: usize, max_features: usize) -> impl Strategy<Value = Dataset> {
    (1..=max_rows, 0..=max_features).prop_flat_map(|(n, d)| {
        (
            proptest::collection::vec(value(), n * d),
            proptest::collection::vec(value(), n),
        )
            .prop_map(move |(x, y)| {
                Dataset::new(Array2::from_shape_vec((n, d), x).unwrap(), Array1::from(y)).unwrap()
            })
    })
}

/// Equal values, and equal bits except that a zero may come back with the other sign
/// (LIBSVM omits zeros, so `-0` is read back as `0`).
fn assert_same(got: &Dataset, want: &Dataset) {
    assert_eq!(got.x.dim(), want.x.dim());
    let pairs = got
        .x
        .iter()
        .zip(want.x.iter())
        .chain(got.y.iter().zip(want.y.iter()));
    for (a, b) in pairs {
        assert!(
            a.to_bits() == b.to_bits() || (*a == 0.0 && *b == 0.0),
            "{a} != {b}"
        );
    }
}

fn stack(chunks: Vec<Dataset>) -> Dataset {
    let xs: Vec<_> = chunks.iter().map(|c| c.x.view()).collect();
    let ys: Vec<_> = chunks.iter().map(|c| c.y.view()).collect();
    Dataset::new(
        concatenate(Axis(0), &xs).unwrap(),
        concatenate(Axis(0), &ys).unwrap(),
    )
    .unwrap()
}

/// What every successful read must satisfy.
fn check_ok(d: &Dataset) {
    assert_eq!(d.x.nrows(), d.y.len());
    assert!(d.n_rows() > 0);
    assert!(d.x.iter().chain(d.y.iter()).all(|v| v.is_finite()));
}

/// Runs every reader over `bytes`; they may fail but must not panic, and what they return must
/// be consistent.
fn run_all_readers(bytes: &[u8]) {
    for n_features in [None, Some(3)] {
        if let Ok(d) = libsvm::read(bytes, "fuzz", n_features) {
            check_ok(&d);
            if let Some(n) = n_features {
                assert_eq!(d.n_features(), n);
            }
        }
    }
    if let Ok((rows, _)) = libsvm::scan(bytes, "fuzz") {
        assert!(rows > 0);
    }
    for d in LibsvmChunks::new(bytes, "fuzz", 3, 2).unwrap().flatten() {
        check_ok(&d);
        assert!(d.n_rows() <= 2);
    }
    for options in [
        CsvOptions::label_index(0),
        CsvOptions::label_name("a").delimiter(';'),
    ] {
        if let Ok(d) = csv::read(bytes, "fuzz", &options) {
            check_ok(&d);
        }
        if let Ok(chunks) = CsvChunks::new(bytes, "fuzz", &options, 2) {
            for d in chunks.flatten() {
                check_ok(&d);
            }
        }
    }
}

/// Lines assembled from pieces that are each meaningful to one of the parsers, so the fuzzing
/// reaches deep into both instead of stopping at the first character.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "1",
        "0",
        "-1",
        "+2.5",
        "1e3",
        "1:1",
        "2:0.5",
        "3:-7",
        "0:1",
        "4:x",
        "qid:2",
        "qid:",
        "#",
        "nan",
        "inf",
        "1e999",
        ":",
        ":1",
        "5:",
        "999999:1",
        "99999999999999999999999:1",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        ",",
        ";",
        "\"",
        "\"1.5\"",
        "\"a,b\"",
        "a",
        "é",
        "\u{feff}",
        "\"\"",
        "1,2,3",
        "a,b",
        "-",
        ".",
        "e",
    ]);
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn libsvm_write_read_round_trip(data in dataset(12, 8)) {
        let mut text = Vec::new();
        libsvm::write(&mut text, &data).unwrap();
        let back = libsvm::read(&text[..], "rt", Some(data.n_features())).unwrap();
        assert_same(&back, &data);
    }

    #[test]
    fn width_from_the_file_matches_the_given_width(data in dataset(12, 8)) {
        // Without n_features the width is the last column holding a non-zero value; the
        // columns after it are all zero in the data.
        let mut text = Vec::new();
        libsvm::write(&mut text, &data).unwrap();
        let given = libsvm::read(&text[..], "w", Some(data.n_features())).unwrap();
        let found = libsvm::read(&text[..], "w", None).unwrap();
        let width = found.n_features();
        prop_assert_eq!(&found.x, &given.x.slice(ndarray::s![.., ..width]));
        prop_assert!(given.x.slice(ndarray::s![.., width..]).iter().all(|v| *v == 0.0));
        prop_assert!(width == 0 || given.x.column(width - 1).iter().any(|v| *v != 0.0));
        prop_assert_eq!(&found.y, &given.y);
        prop_assert_eq!(libsvm::scan(&text[..], "w").unwrap(), (data.n_rows(), width));
    }

    #[test]
    fn csv_write_read_round_trip(data in dataset(12, 8)) {
        let names: Vec<String> = (0..data.n_features()).map(|j| format!("x{j}")).collect();
        let mut text = Vec::new();
        csv::write(&mut text, &data, "y", &names).unwrap();
        let (back, back_names) =
            csv::read_with_names(&text[..], "rt", &CsvOptions::label_name("y")).unwrap();
        prop_assert_eq!(back_names, names);
        // CSV keeps every value as written, the sign of zero included.
        assert_eq!(back.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                   data.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_eq!(back.y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                   data.y.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn chunked_reads_equal_whole_reads(data in dataset(30, 5), chunk_rows in 1usize..12) {
        let d = data.n_features();
        let mut text = Vec::new();
        libsvm::write(&mut text, &data).unwrap();
        let whole = libsvm::read(&text[..], "c", Some(d)).unwrap();
        let chunks: Vec<Dataset> = LibsvmChunks::new(&text[..], "c", d, chunk_rows)
            .unwrap()
            .collect::<Result<_, DataError>>()
            .unwrap();
        prop_assert!(chunks.iter().all(|c| c.n_rows() <= chunk_rows && c.n_features() == d));
        prop_assert_eq!(chunks.len(), data.n_rows().div_ceil(chunk_rows));
        prop_assert_eq!(stack(chunks), whole);

        let names: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
        let mut text = Vec::new();
        csv::write(&mut text, &data, "y", &names).unwrap();
        let opts = CsvOptions::label_index(0);
        let whole = csv::read(&text[..], "c", &opts).unwrap();
        let chunks: Vec<Dataset> = CsvChunks::new(&text[..], "c", &opts, chunk_rows)
            .unwrap()
            .collect::<Result<_, DataError>>()
            .unwrap();
        prop_assert_eq!(chunks.len(), data.n_rows().div_ceil(chunk_rows));
        prop_assert_eq!(stack(chunks), whole);
    }

    #[test]
    fn arbitrary_strings_do_not_panic(s in "\\PC*") {
        run_all_readers(s.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        run_all_readers(&bytes);
    }

    #[test]
    fn token_soup_does_not_panic(s in token_soup()) {
        run_all_readers(s.as_bytes());
    }
}

//! Every LIBSVM error, with the exact message: file, 1-based line, 1-based column, what is wrong.

use rks_data::libsvm::{self, LibsvmChunks};
use rks_data::{DataError, Location, ParseErrorKind};

fn message(text: &str, n_features: Option<usize>) -> String {
    match libsvm::read(text.as_bytes(), "t", n_features) {
        Ok(d) => panic!("{text:?} parsed to {d:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn each_broken_line_gives_its_message() {
    let cases: &[(&str, Option<usize>, &str)] = &[
        ("x 1:1", None, "t:1:1: bad label 'x': not a number"),
        ("1,2 1:1", None, "t:1:1: bad label '1,2': not a number"),
        (
            "nan 1:1",
            None,
            "t:1:1: label 'nan' is not finite (the data must be finite)",
        ),
        (
            "-inf",
            None,
            "t:1:1: label '-inf' is not finite (the data must be finite)",
        ),
        (
            "1:1 2:1",
            None,
            "t:1:1: missing label: the line starts with '1:1'",
        ),
        (
            "qid:3 1:1",
            None,
            "t:1:1: missing label: the line starts with 'qid:3'",
        ),
        ("1 3", None, "t:1:3: expected 'index:value', found '3'"),
        (
            "1 1:1 a:1",
            None,
            "t:1:7: bad feature index 'a': expected a positive integer",
        ),
        (
            "1 -1:2",
            None,
            "t:1:3: bad feature index '-1': expected a positive integer",
        ),
        (
            "1 :2",
            None,
            "t:1:3: bad feature index '': expected a positive integer",
        ),
        (
            "1 99999999999999999999999:2",
            None,
            "t:1:3: bad feature index '99999999999999999999999': expected a positive integer",
        ),
        (
            "1 0:1",
            None,
            "t:1:3: feature index 0 (indices are 1-based)",
        ),
        (
            "1 2:1 1:1",
            None,
            "t:1:7: feature index 1 after 2: indices must be increasing",
        ),
        ("1 2:1 2:1", None, "t:1:7: duplicate feature index 2"),
        ("1 2:0 2:0", None, "t:1:7: duplicate feature index 2"),
        (
            "1 1:1 2:2 3:3",
            Some(2),
            "t:1:11: feature index 3 exceeds n_features = 2",
        ),
        (
            "1 1:abc",
            None,
            "t:1:5: bad value 'abc' for feature 1: not a number",
        ),
        (
            "1 1:",
            None,
            "t:1:5: bad value '' for feature 1: not a number",
        ),
        (
            "1 1:2:3",
            None,
            "t:1:5: bad value '2:3' for feature 1: not a number",
        ),
        (
            "1 4:0x10",
            None,
            "t:1:5: bad value '0x10' for feature 4: not a number",
        ),
        (
            "1 1:nan",
            None,
            "t:1:5: value 'nan' for feature 1 is not finite (the data must be finite)",
        ),
        (
            "1 7:-inf",
            None,
            "t:1:5: value '-inf' for feature 7 is not finite (the data must be finite)",
        ),
        (
            "1 1:1e999",
            None,
            "t:1:5: value '1e999' for feature 1 is not finite (the data must be finite)",
        ),
        // Tabs and runs of blanks are separators; columns count each tab as one character.
        (
            "1\t\t1:1\t2:x",
            None,
            "t:1:10: bad value 'x' for feature 2: not a number",
        ),
        // Columns count characters, not bytes: 'é' is one character (two bytes).
        (
            "1 qid:é 2:x",
            None,
            "t:1:11: bad value 'x' for feature 2: not a number",
        ),
        // CRLF line ends; the error is on line 2.
        (
            "1 1:1\r\n2 0:1\r\n",
            None,
            "t:2:3: feature index 0 (indices are 1-based)",
        ),
        // Blank and comment lines are counted.
        (
            "\n# c\n1 1:1\n   \n0 1:x",
            None,
            "t:5:5: bad value 'x' for feature 1: not a number",
        ),
        // Long tokens are cut in messages.
        (
            "1 1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            None,
            "t:1:5: bad value 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' for feature 1: not a number",
        ),
        (
            "",
            None,
            "t: no data rows (the input is empty or holds only a header, blank lines or comments)",
        ),
        (
            "# only a comment\n\n",
            Some(3),
            "t: no data rows (the input is empty or holds only a header, blank lines or comments)",
        ),
    ];
    for &(text, n_features, want) in cases {
        assert_eq!(message(text, n_features), want, "input {text:?}");
    }
}

#[test]
fn errors_carry_a_typed_location_and_kind() {
    let e = libsvm::read("1 1:1\n0 2:1 1:1\n".as_bytes(), "", None).unwrap_err();
    assert_eq!(
        e.location(),
        Some(&Location {
            file: "<input>".into(),
            line: 2,
            column: 7
        })
    );
    assert_eq!(
        e.parse_kind(),
        Some(&ParseErrorKind::DecreasingIndex {
            index: 1,
            previous: 2
        })
    );
}

#[test]
fn invalid_utf8_is_reported_at_its_column() {
    let bytes: &[u8] = b"1 1:1\n1 2:\xFF\n";
    let e = libsvm::read(bytes, "t", None).unwrap_err();
    assert_eq!(e.to_string(), "t:2:5: invalid UTF-8");
}

#[test]
fn what_is_accepted() {
    let text = "\u{feff}+1 1:1e-3\t 3:-2.5E2 # trailing comment 0:bad\r\n\
                -1 qid:9 2:.5 4:0\n\
                \n\
                # comment\n\
                0\n";
    let d = libsvm::read(text.as_bytes(), "t", None).unwrap();
    assert_eq!(d.n_rows(), 3);
    assert_eq!(d.n_features(), 4);
    assert_eq!(d.y.to_vec(), vec![1.0, -1.0, 0.0]);
    assert_eq!(d.x.row(0).to_vec(), vec![1e-3, 0.0, -250.0, 0.0]);
    assert_eq!(d.x.row(1).to_vec(), vec![0.0, 0.5, 0.0, 0.0]);
    assert_eq!(d.x.row(2).to_vec(), vec![0.0; 4]);
}

#[test]
fn bundled_broken_file_names_path_line_and_column() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/broken_index0.libsvm"
    );
    let want = format!("{path}:17:12: feature index 0 (indices are 1-based)");
    assert_eq!(libsvm::read_path(path, None).unwrap_err().to_string(), want);
    assert_eq!(
        libsvm::read_path(path, Some(3)).unwrap_err().to_string(),
        want
    );
    assert_eq!(libsvm::scan_dims(path).unwrap_err().to_string(), want);
    // The chunked reader returns the full chunks before the bad line, then the error with the
    // same line number (the rows of the failing chunk are not returned).
    let mut chunks = LibsvmChunks::open(path, 3, 5).unwrap();
    let mut good = 0;
    let err = loop {
        match chunks.next() {
            Some(Ok(d)) => good += d.n_rows(),
            Some(Err(e)) => break e,
            None => panic!("no error"),
        }
    };
    assert_eq!(good, 10);
    assert_eq!(err.to_string(), want);
    assert!(chunks.next().is_none(), "the iterator ends after an error");
}

#[test]
fn line_numbers_continue_across_chunks() {
    let mut text = String::new();
    for i in 0..10 {
        text.push_str(&format!("{i} 1:{i}\n"));
    }
    text.push_str("5 1:1 1:2\n");
    let results: Vec<_> = LibsvmChunks::new(text.as_bytes(), "t", 1, 3)
        .unwrap()
        .collect();
    assert_eq!(results.len(), 4);
    assert!(
        results[..3]
            .iter()
            .all(|r| r.as_ref().unwrap().n_rows() == 3)
    );
    // The fourth chunk would hold the tenth row, but the eleventh line fails.
    let last = results[3].as_ref().unwrap_err().to_string();
    assert_eq!(last, "t:11:7: duplicate feature index 1");
}

#[test]
fn chunked_reader_checks_the_width_it_was_given() {
    let text = "1 1:1\n0 5:1\n";
    let errs: Vec<String> = LibsvmChunks::new(text.as_bytes(), "t", 4, 10)
        .unwrap()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect();
    assert_eq!(errs, ["t:2:3: feature index 5 exceeds n_features = 4"]);
}

#[test]
fn chunked_reader_on_empty_input_gives_one_no_rows_error() {
    let results: Vec<_> = LibsvmChunks::new("# nothing\n".as_bytes(), "t", 2, 10)
        .unwrap()
        .collect();
    assert_eq!(results.len(), 1);
    assert!(matches!(results[0], Err(DataError::NoRows { .. })));
}

#[test]
fn missing_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.libsvm");
    let e = libsvm::read_path(&path, None).unwrap_err();
    assert!(matches!(e, DataError::Io { .. }));
    assert!(
        e.to_string().starts_with(&format!("{}: ", path.display())),
        "{e}"
    );
    assert!(LibsvmChunks::open(&path, 2, 10).is_err());
    assert!(libsvm::scan_dims(&path).is_err());
}

#[test]
fn scan_counts_rows_and_largest_index() {
    let text = "# header\n1 2:1 9:0\n\n0\n1 4:2\n";
    assert_eq!(libsvm::scan(text.as_bytes(), "t").unwrap(), (3, 9));
    assert!(matches!(
        libsvm::scan("\n".as_bytes(), "t"),
        Err(DataError::NoRows { .. })
    ));
}

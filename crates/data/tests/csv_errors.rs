//! Every CSV error, with the exact message, and what the CSV reader accepts.

use rks_data::DataError;
use rks_data::csv::{self, CsvChunks, CsvOptions, LabelColumn};

fn message(text: &str, options: &CsvOptions) -> String {
    match csv::read(text.as_bytes(), "t.csv", options) {
        Ok(d) => panic!("{text:?} parsed to {d:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn each_broken_input_gives_its_message() {
    let y = CsvOptions::label_name("y");
    let cases: &[(&str, &CsvOptions, &str)] = &[
        (
            "a,b,y\n1,2\n",
            &y,
            "t.csv:2:4: row has 2 fields, the header has 3",
        ),
        (
            "a,b,y\n1,2,3,4\n",
            &y,
            "t.csv:2:7: row has 4 fields, the header has 3",
        ),
        (
            "a,b,y\n1,2,3,\n",
            &y,
            "t.csv:2:7: row has 4 fields, the header has 3",
        ),
        // A feature column whose first row is a number holds numbers (one of text,
        // categories).
        (
            "a,b,y\n1,2,3\n1,x,3\n",
            &y,
            "t.csv:3:3: bad number 'x' in column 'b'",
        ),
        // No header line: the first row would be lost as names.
        (
            "5.1,3.5,1.4,0.2,2\n4.9,3,1.4,0.2,0\n",
            &CsvOptions::label_index(4),
            "t.csv:1:1: the first line holds only numbers ('5.1', '3.5', '1.4'): expected a \
             header line of column names (add one, e.g. 'label,x1,x2,…')",
        ),
        // A label column whose first row is a number holds numbers; one of class names, names.
        (
            "a,b,y\n1,2,0\n1,2,z\n",
            &y,
            "t.csv:3:5: bad number 'z' in column 'y'",
        ),
        (
            "a,b,y\n1,2,z\n1,2,\"\"\n",
            &y,
            "t.csv:3:5: missing class name in column 'y'",
        ),
        (
            "a,b,y\n1, ,3\n",
            &y,
            "t.csv:2:4: missing value '' in column 'b' (every value must be given: drop or fill \
             in the rows with missing values)",
        ),
        (
            "a,b,y\n1,2,3\nNA,2,3\n",
            &y,
            "t.csv:3:1: missing value 'NA' in column 'a' (every value must be given: drop or fill \
             in the rows with missing values)",
        ),
        (
            "a,b,y\n1,?,3\n",
            &y,
            "t.csv:2:3: missing value '?' in column 'b' (every value must be given: drop or fill \
             in the rows with missing values)",
        ),
        (
            "a,b,y\n1,2,3\n1,\"abc\",3\n",
            &y,
            "t.csv:3:3: bad number 'abc' in column 'b'",
        ),
        (
            "a,b,y\n1,NaN,3\n",
            &y,
            "t.csv:2:3: missing value 'NaN' in column 'b' (every value must be given: drop or \
             fill in the rows with missing values)",
        ),
        (
            "a,b,y\n1,2,1e999\n",
            &y,
            "t.csv:2:5: number '1e999' in column 'y' is not finite (the data must be finite)",
        ),
        (
            "a,b,y\n1,\"2,3\n",
            &y,
            "t.csv:2:3: unterminated quoted field (quoted line breaks are not supported)",
        ),
        (
            "a,b,y\n1,\"2\"x,3\n",
            &y,
            "t.csv:2:6: unexpected text after a closing quote",
        ),
        (
            "a,b,y\n1,2,3\n",
            &CsvOptions::label_name("label"),
            "t.csv:1:1: label column 'label' not found in the header (columns: 'a', 'b', 'y')",
        ),
        (
            "y,a,y\n1,2,3\n",
            &y,
            "t.csv:1:5: label column 'y' appears twice in the header (columns 0 and 2, 0-based)",
        ),
        (
            "a,b,y\n1,2,3\n",
            &CsvOptions::label_index(3),
            "t.csv:1:1: label column index 3 (0-based) is out of range: the header has 3 columns",
        ),
        ("", &y, "t.csv: empty file, expected a header line"),
        ("\n  \n", &y, "t.csv: empty file, expected a header line"),
        (
            "a,b,y\n\n",
            &y,
            "t.csv: no data rows (the input is empty or holds only a header, blank lines or comments)",
        ),
        // Line numbers count blank lines; columns count characters, not bytes.
        (
            "é,y\n\n1,2\nü1,3\n",
            &y,
            "t.csv:4:1: bad number 'ü1' in column 'é'",
        ),
        (
            "é,ü,y\r\n1,2,3\r\n1,ü,3\r\n",
            &y,
            "t.csv:3:3: bad number 'ü' in column 'ü'",
        ),
        // Tab-separated.
        (
            "a\tb\ty\n1\t2\t3\n1\t\t3\n",
            &CsvOptions::label_name("y").delimiter('\t'),
            "t.csv:3:3: missing value '' in column 'b' (every value must be given: drop or fill \
             in the rows with missing values)",
        ),
    ];
    for &(text, options, want) in cases {
        assert_eq!(message(text, options), want, "input {text:?}");
    }
}

#[test]
fn long_header_lists_are_cut() {
    let header: Vec<String> = (0..12).map(|j| format!("c{j}")).collect();
    let text = format!("{}\n", header.join(","));
    let msg = message(&text, &CsvOptions::label_name("y"));
    assert_eq!(
        msg,
        "t.csv:1:1: label column 'y' not found in the header (columns: 'c0', 'c1', 'c2', 'c3', \
         'c4', 'c5', 'c6', 'c7', 'c8', 'c9', ... 2 more)"
    );
}

#[test]
fn bad_options_are_refused() {
    for d in ['"', '\n', '\r'] {
        let e = csv::read(
            "a,y\n1,2\n".as_bytes(),
            "t",
            &CsvOptions::label_index(1).delimiter(d),
        );
        assert!(matches!(e, Err(DataError::InvalidArgument(_))), "{d:?}");
    }
    let e = CsvChunks::new("a,y\n1,2\n".as_bytes(), "t", &CsvOptions::label_index(1), 0);
    assert!(matches!(e, Err(DataError::InvalidArgument(_))));
}

#[test]
fn what_is_accepted() {
    let text = "\u{feff} x1 ,\"label\", \"x, 2\" ,x3\r\n\
                1.5, 0 ,\"-2e3\",+4\r\n\
                \r\n\
                \"0.25\",1,2,3";
    let opts = CsvOptions::new(LabelColumn::Name("label".into()));
    let (d, names) = csv::read_with_names(text.as_bytes(), "t.csv", &opts).unwrap();
    assert_eq!(names, ["x1", "x, 2", "x3"]);
    assert_eq!(d.y.to_vec(), vec![0.0, 1.0]);
    assert_eq!(d.x.row(0).to_vec(), vec![1.5, -2000.0, 4.0]);
    assert_eq!(d.x.row(1).to_vec(), vec![0.25, 2.0, 3.0]);

    // The same data, label chosen by position, semicolon-separated.
    let semi = text.replace(',', ";").replace("x; 2", "x, 2");
    let opts = CsvOptions::label_index(1).delimiter(';');
    assert_eq!(csv::read(semi.as_bytes(), "t.csv", &opts).unwrap(), d);
}

#[test]
fn quoted_header_names_unescape_doubled_quotes() {
    let text = "\"say \"\"hi\"\"\",y\n1,2\n";
    let (_, names) =
        csv::read_with_names(text.as_bytes(), "t", &CsvOptions::label_name("y")).unwrap();
    assert_eq!(names, ["say \"hi\""]);
}

#[test]
fn label_only_file_has_zero_features() {
    let d = csv::read("y\n1\n2\n".as_bytes(), "t", &CsvOptions::label_index(0)).unwrap();
    assert_eq!((d.n_rows(), d.n_features()), (2, 0));
}

#[test]
fn chunks_know_the_header_before_reading_rows() {
    let text = "a,y,b\n1,0,2\n3,1,4\n5,0,6\n";
    let chunks = CsvChunks::new(text.as_bytes(), "t", &CsvOptions::label_name("y"), 2).unwrap();
    assert_eq!(chunks.feature_names(), ["a", "b"]);
    assert_eq!(
        (
            chunks.label_name(),
            chunks.label_index(),
            chunks.n_features()
        ),
        ("y", 1, 2)
    );
    let sizes: Vec<usize> = chunks.map(|c| c.unwrap().n_rows()).collect();
    assert_eq!(sizes, [2, 1]);
}

#[test]
fn chunk_errors_keep_global_line_numbers_and_end_iteration() {
    let text = "a,y\n1,0\n2,1\n\n3,1\n4,x\n5,0\n";
    let results: Vec<_> = CsvChunks::new(text.as_bytes(), "t", &CsvOptions::label_name("y"), 2)
        .unwrap()
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap().n_rows(), 2);
    assert_eq!(
        results[1].as_ref().unwrap_err().to_string(),
        "t:6:3: bad number 'x' in column 'y'"
    );
}

#[test]
fn header_only_gives_one_no_rows_error_in_chunks() {
    let mut chunks =
        CsvChunks::new("a,y\n".as_bytes(), "t", &CsvOptions::label_name("y"), 5).unwrap();
    assert!(matches!(chunks.next(), Some(Err(DataError::NoRows { .. }))));
    assert!(chunks.next().is_none());
}

#[test]
fn file_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "a,y\n1,2\n3\n").unwrap();
    let e = csv::read_path(&path, &CsvOptions::label_name("y")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}:3:2: row has 1 field, the header has 2", path.display())
    );
    let missing = dir.path().join("missing.csv");
    let e = csv::read_path(&missing, &CsvOptions::label_name("y")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}: ", missing.display())),
        "{e}"
    );
    assert!(CsvChunks::open(&missing, &CsvOptions::label_name("y"), 10).is_err());
}

#[test]
fn writer_checks_names_and_values() {
    use ndarray::array;
    let d = rks_data::Dataset::new(array![[1.0, 2.0]], array![f64::INFINITY]).unwrap();
    let names = ["a".to_string(), "b".to_string()];
    let e = csv::write(Vec::new(), &d, "y", &names).unwrap_err();
    assert_eq!(e.to_string(), "row 0 (0-based), label: inf is not finite");
    let e = csv::write(Vec::new(), &d, "y", &names[..1]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid argument: 1 feature names for 2 features"
    );
}

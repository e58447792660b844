//! Reading data files: the one place that turns `--format`, `--label-column` and `--features`
//! into calls to the rks-data readers, whole-file or in chunks.

use std::path::{Path, PathBuf};

use rks_data::csv::{Columns, CsvChunks, CsvOptions, LabelColumn, Labels, Vocabulary};
use rks_data::libsvm::{self, LibsvmChunks, LibsvmSparseChunks};
use rks_data::{DataError, Dataset, ParseErrorKind, SparseDataset};
use rks_solvers::KernelMachine;

use crate::cli::{Format, ReadArgs};
use crate::error::{CliError, Result};

/// A data file and how to read it.
#[derive(Debug, Clone)]
pub struct Source {
    path: PathBuf,
    kind: SourceKind,
}

#[derive(Debug, Clone)]
enum SourceKind {
    Libsvm {
        n_features: Option<usize>,
    },
    /// `default_label`: no `--label-column` was given (the first column is the label).
    Csv {
        options: CsvOptions,
        default_label: bool,
    },
}

/// A stream of chunks of at most a given number of rows.
pub type Chunks = Box<dyn Iterator<Item = std::result::Result<Dataset, DataError>>>;

/// A stream of chunks of rows held as their non-zero entries.
pub type SparseChunks = Box<dyn Iterator<Item = std::result::Result<SparseDataset, DataError>>>;

impl Source {
    /// Resolves the reading flags for `path`: the format defaults to CSV for `*.csv` files and
    /// LIBSVM otherwise; the CSV label column defaults to the first column (as in LIBSVM files).
    pub fn new(path: &Path, read: &ReadArgs) -> Result<Self> {
        let format = read.format.unwrap_or_else(|| {
            let csv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if csv { Format::Csv } else { Format::Libsvm }
        });
        let kind = match format {
            Format::Libsvm => {
                if read.label_column.is_some() {
                    return Err(CliError::usage(format!(
                        "--label-column applies to CSV files, but {} is read as LIBSVM (use --format csv)",
                        path.display()
                    )));
                }
                if read.features == Some(0) {
                    return Err(CliError::usage("--features must be at least 1"));
                }
                SourceKind::Libsvm {
                    n_features: read.features,
                }
            }
            Format::Csv => {
                if read.features.is_some() {
                    return Err(CliError::usage(format!(
                        "--features applies to LIBSVM files; a CSV file ({}) has one column per feature",
                        path.display()
                    )));
                }
                let label = match read.label_column.as_deref() {
                    None => LabelColumn::Index(0),
                    Some(text) => match text.parse::<usize>() {
                        Ok(index) => LabelColumn::Index(index),
                        Err(_) => LabelColumn::Name(text.to_owned()),
                    },
                };
                SourceKind::Csv {
                    options: CsvOptions::new(label),
                    default_label: read.label_column.is_none(),
                }
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            kind,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same source read with `n_features` columns unless `--features` said otherwise (LIBSVM
    /// files do not mention trailing zero features, so a test file must borrow the training
    /// file's width, or the model's).
    pub fn or_features(mut self, n_features: usize) -> Self {
        if let SourceKind::Libsvm {
            n_features: width @ None,
        } = &mut self.kind
        {
            *width = Some(n_features);
        }
        self
    }

    /// The same source with its width settled: a LIBSVM file without `--features` is scanned
    /// once for its largest index, so that repeated [`chunks`](Self::chunks) passes need not.
    pub fn with_known_width(self) -> Result<Self> {
        Ok(match &self.kind {
            SourceKind::Libsvm { n_features: None } => {
                let width = libsvm::scan_dims(&self.path)?.1;
                self.or_features(width)
            }
            _ => self,
        })
    }

    /// The same source read for `model`: a LIBSVM file with the model's width (unless
    /// `--features` said otherwise); a CSV file's label column as the model's class names (a
    /// name the model never saw is a class of its own, which no prediction matches) or, for a
    /// model fitted on numbers, as numbers, and its feature columns as the model's categories
    /// (a category the model never saw has every indicator 0) or numbers.
    pub fn for_model(self, model: &KernelMachine) -> Self {
        let vocabulary = Vocabulary {
            class_names: model.class_names().map(<[String]>::to_vec),
            categories: model
                .input_categories()
                .map(<[Option<Vec<String>>]>::to_vec),
        };
        self.with_vocabulary(&vocabulary)
            .or_features(model.input_dim())
    }

    /// The same source with a CSV file's text read as `vocabulary` says: class names as these
    /// (numbers without), feature columns as these categories (numbers without). A LIBSVM
    /// file holds numbers only.
    pub fn with_vocabulary(mut self, vocabulary: &Vocabulary) -> Self {
        if let SourceKind::Csv { options, .. } = &mut self.kind {
            options.labels = match &vocabulary.class_names {
                Some(names) => Labels::Names(names.clone()),
                None => Labels::Numbers,
            };
            options.columns = match &vocabulary.categories {
                Some(categories) => Columns::Given(categories.clone()),
                None => Columns::Numbers,
            };
        }
        self
    }

    /// A note for the report when the label column was left at its default (the first
    /// column, of numbers) while columns of text were read as categories: one of them may be
    /// the labels.
    pub fn label_note(&self, vocabulary: &Vocabulary) -> Option<String> {
        let SourceKind::Csv {
            default_label: true,
            ..
        } = &self.kind
        else {
            return None;
        };
        let columns = vocabulary.categories.as_ref()?;
        if vocabulary.class_names.is_some() || columns.iter().all(Option::is_none) {
            return None;
        }
        Some(
            "the label is the first column (no --label-column); columns of text were read as \
             categories: give --label-column NAME if one of them holds the labels"
                .to_string(),
        )
    }

    /// Reads the whole file.
    pub fn read(&self) -> Result<Dataset> {
        Ok(self.read_labelled()?.0)
    }

    /// Reads the whole file, with the vocabulary of a CSV file's text: class names (its labels
    /// are then the classes 0, 1, … in the order the names first appear) and the categories of
    /// its columns of text (one 0/1 column each).
    pub fn read_labelled(&self) -> Result<(Dataset, Vocabulary)> {
        Ok(match &self.kind {
            SourceKind::Libsvm { n_features } => (
                libsvm::read_path(&self.path, *n_features)?,
                Vocabulary::default(),
            ),
            SourceKind::Csv {
                options,
                default_label,
            } => {
                let table = rks_data::csv::read_table_path(&self.path, options)
                    .map_err(|e| label_hint(e, *default_label))?;
                (table.data, table.vocabulary)
            }
        })
    }

    /// The vocabulary of a CSV file's text, read through once (a file of numbers is known from
    /// its first row); empty for LIBSVM files.
    pub fn vocabulary(&self) -> Result<Vocabulary> {
        Ok(match &self.kind {
            SourceKind::Libsvm { .. } => Vocabulary::default(),
            SourceKind::Csv {
                options,
                default_label,
            } => CsvChunks::open(&self.path, options, 4096)?
                .into_vocabulary()
                .map_err(|e| label_hint(e, *default_label))?,
        })
    }

    /// Whether the file is read as LIBSVM (the format that can be read sparse).
    pub fn is_libsvm(&self) -> bool {
        matches!(self.kind, SourceKind::Libsvm { .. })
    }

    /// Reads the whole LIBSVM file as its rows' non-zero entries (`None` for CSV).
    pub fn read_sparse(&self) -> Result<Option<SparseDataset>> {
        Ok(match &self.kind {
            SourceKind::Libsvm { n_features } => {
                Some(libsvm::read_sparse_path(&self.path, *n_features)?)
            }
            SourceKind::Csv { .. } => None,
        })
    }

    /// Reads the LIBSVM file in chunks of at most `chunk_rows` rows held as their non-zero
    /// entries (`None` for CSV); the width as for [`chunks`](Self::chunks).
    pub fn sparse_chunks(
        &self,
        chunk_rows: usize,
    ) -> std::result::Result<Option<SparseChunks>, DataError> {
        Ok(match &self.kind {
            SourceKind::Libsvm { n_features } => {
                let width = match n_features {
                    Some(d) => *d,
                    None => libsvm::scan_dims(&self.path)?.1,
                };
                Some(Box::new(LibsvmSparseChunks::open(
                    &self.path, width, chunk_rows,
                )?))
            }
            SourceKind::Csv { .. } => None,
        })
    }

    /// Reads the file in chunks of at most `chunk_rows` rows. LIBSVM needs the width: give it with
    /// [`or_features`](Self::or_features) or `--features`, or the file is scanned once first.
    pub fn chunks(&self, chunk_rows: usize) -> std::result::Result<Chunks, DataError> {
        Ok(match &self.kind {
            SourceKind::Libsvm { n_features } => {
                let width = match n_features {
                    Some(d) => *d,
                    None => libsvm::scan_dims(&self.path)?.1,
                };
                Box::new(LibsvmChunks::open(&self.path, width, chunk_rows)?)
            }
            SourceKind::Csv { options, .. } => {
                Box::new(CsvChunks::open(&self.path, options, chunk_rows)?)
            }
        })
    }
}

// Used by the distributed fit (the `mpi` feature).
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
impl Source {
    /// Whether the file is read as CSV (a header line, then rows) rather than LIBSVM.
    pub fn is_csv(&self) -> bool {
        matches!(self.kind, SourceKind::Csv { .. })
    }

    /// The LIBSVM width when it is known (`--features` or [`or_features`](Self::or_features)).
    pub fn known_width(&self) -> Option<usize> {
        match &self.kind {
            SourceKind::Libsvm { n_features } => *n_features,
            SourceKind::Csv { .. } => None,
        }
    }

    /// Chunks read from `reader` (a part of the file, named `name` in errors) as this source's
    /// format; a LIBSVM source must know its width.
    pub fn chunks_from(
        &self,
        reader: Box<dyn std::io::BufRead>,
        name: &str,
        chunk_rows: usize,
    ) -> std::result::Result<Chunks, DataError> {
        Ok(match &self.kind {
            SourceKind::Libsvm { n_features } => {
                let width = n_features.ok_or_else(|| {
                    DataError::InvalidArgument("the LIBSVM width must be known".into())
                })?;
                Box::new(LibsvmChunks::new(reader, name, width, chunk_rows)?)
            }
            SourceKind::Csv { options, .. } => {
                Box::new(CsvChunks::new(reader, name, options, chunk_rows)?)
            }
        })
    }
}

/// A CSV reader's error, with a hint when text in a feature column suggests the label column was
/// left at its default (the first column) while the text is the labels.
fn label_hint(e: DataError, default_label: bool) -> CliError {
    match e.parse_kind() {
        Some(ParseErrorKind::BadNumber { column, .. }) if default_label => {
            let hint = format!(
                "the label is the first column unless --label-column names another: give \
                 --label-column '{column}' if that column holds the labels"
            );
            CliError::ReadHint { source: e, hint }
        }
        _ => CliError::Read(e),
    }
}

/// A training and a test file read the same way, and the training file's vocabulary (the test
/// file's text read as it).
pub struct Pair {
    /// The training rows.
    pub train: Dataset,
    /// The test rows.
    pub test: Dataset,
    /// The class names and categories of a CSV training file's text.
    pub vocabulary: Vocabulary,
}

/// Reads a training and a test file the same way. LIBSVM files without `--features` are read
/// with the larger of their two widths, since either may omit the last features. A CSV
/// training file's class names and categories read the test file's text.
pub fn read_pair(train_path: &Path, test_path: &Path, read: &ReadArgs) -> Result<Pair> {
    let (mut train, mut test) = (
        Source::new(train_path, read)?,
        Source::new(test_path, read)?,
    );
    if let (SourceKind::Libsvm { n_features: None }, SourceKind::Libsvm { .. }) =
        (&train.kind, &test.kind)
    {
        let width = libsvm::scan_dims(train_path)?
            .1
            .max(libsvm::scan_dims(test_path)?.1);
        (train, test) = (train.or_features(width), test.or_features(width));
    }
    let (train, vocabulary) = train.read_labelled()?;
    let test = test.with_vocabulary(&vocabulary).read()?;
    check_width(
        test_path,
        &test,
        train.n_features(),
        "the training file has",
    )?;
    Ok(Pair {
        train,
        test,
        vocabulary,
    })
}

/// Checks that `data` from `path` has `expected` columns; `whose` says where that number comes
/// from ("the model was fitted on", "the training file has").
pub fn check_width(path: &Path, data: &Dataset, expected: usize, whose: &str) -> Result<()> {
    check_columns_of(path, data.n_features(), expected, whose)
}

/// [`check_width`] of a sparse chunk's `columns` against the model's `expected`.
pub fn check_columns(path: &Path, columns: usize, expected: usize) -> Result<()> {
    check_columns_of(path, columns, expected, "the model was fitted on")
}

fn check_columns_of(path: &Path, columns: usize, expected: usize, whose: &str) -> Result<()> {
    if columns == expected {
        Ok(())
    } else {
        Err(CliError::data(
            path,
            format!("{columns} feature columns, but {whose} {expected}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn args(format: Option<Format>, label: Option<&str>, features: Option<usize>) -> ReadArgs {
        ReadArgs {
            format,
            label_column: label.map(str::to_owned),
            features,
        }
    }

    #[test]
    fn format_follows_the_extension_unless_given() {
        let csv = Source::new(Path::new("a.CSV"), &args(None, None, None)).unwrap();
        assert!(matches!(csv.kind, SourceKind::Csv { .. }));
        let svm = Source::new(Path::new("a.train"), &args(None, None, None)).unwrap();
        assert!(matches!(svm.kind, SourceKind::Libsvm { n_features: None }));
        let forced =
            Source::new(Path::new("a.csv"), &args(Some(Format::Libsvm), None, None)).unwrap();
        assert!(matches!(forced.kind, SourceKind::Libsvm { .. }));
    }

    #[test]
    fn misplaced_flags_are_usage_errors() {
        let err = Source::new(Path::new("a.train"), &args(None, Some("y"), None)).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = Source::new(Path::new("a.csv"), &args(None, None, Some(4))).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn csv_label_column_by_name_or_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let mut file = std::fs::File::create(&path).unwrap();
        writeln!(file, "a,target,b\n1,0,2\n3,1,4").unwrap();
        let by_name = Source::new(&path, &args(None, Some("target"), None))
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(by_name.y.to_vec(), vec![0.0, 1.0]);
        let by_index = Source::new(&path, &args(None, Some("1"), None))
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(by_index, by_name);
        let first = Source::new(&path, &args(None, None, None))
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(first.y.to_vec(), vec![1.0, 3.0]);
    }

    #[test]
    fn libsvm_chunks_borrow_the_width() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.svm");
        std::fs::write(&path, "1 1:1\n0 2:1\n1 1:2\n").unwrap();
        let source = Source::new(&path, &args(None, None, None))
            .unwrap()
            .or_features(5);
        let sizes: Vec<(usize, usize)> = source
            .chunks(2)
            .unwrap()
            .map(|c| c.map(|d| (d.n_rows(), d.n_features())).unwrap())
            .collect();
        assert_eq!(sizes, vec![(2, 5), (1, 5)]);
    }
}

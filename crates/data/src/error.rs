//! The crate's one error type.
//!
//! Every problem found while parsing carries a [`Location`] (file, 1-based line, 1-based column
//! counted in characters) and a [`ParseErrorKind`] saying what is wrong, so the message reads like
//! a compiler diagnostic: `datasets/x.train:17:12: feature index 0 (indices are 1-based)`.

use std::fmt;

/// Where a parse problem is: the file (or the source name given to a reader), the 1-based line
/// and the 1-based column, counted in characters (not bytes) from the start of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The path or the source name passed to the reader (`<input>` when that name was empty).
    pub file: String,
    /// 1-based line number; blank and comment lines are counted.
    pub line: usize,
    /// 1-based character position in the line.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What is wrong at a [`Location`].
///
/// Tokens quoted in messages are cut to 40 characters so that one bad multi-megabyte line does not
/// produce a multi-megabyte message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The line is not valid UTF-8 (the column is where the valid part ends).
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// LIBSVM: the first token is not a number.
    #[error("bad label '{0}': not a number")]
    BadLabel(String),
    /// LIBSVM: the label parses to NaN or ±infinity.
    #[error("label '{0}' is not finite (the data must be finite)")]
    NonFiniteLabel(String),
    /// LIBSVM: the line starts with an `index:value` pair.
    #[error("missing label: the line starts with '{0}'")]
    MissingLabel(String),
    /// LIBSVM: a feature token has no `:`.
    #[error("expected 'index:value', found '{0}'")]
    MissingColon(String),
    /// LIBSVM: the part before `:` is not a non-negative integer.
    #[error("bad feature index '{0}': expected a positive integer")]
    BadIndex(String),
    /// LIBSVM: index 0 (indices start at 1).
    #[error("feature index 0 (indices are 1-based)")]
    ZeroIndex,
    /// LIBSVM: the same index twice on one line.
    #[error("duplicate feature index {0}")]
    DuplicateIndex(usize),
    /// LIBSVM: an index smaller than the one before it.
    #[error("feature index {index} after {previous}: indices must be increasing")]
    DecreasingIndex {
        /// The offending index.
        index: usize,
        /// The index before it on the same line.
        previous: usize,
    },
    /// LIBSVM: an index larger than the `n_features` the reader was given.
    #[error("feature index {index} exceeds n_features = {n_features}")]
    IndexOutOfRange {
        /// The offending index (1-based).
        index: usize,
        /// The width the reader was asked for.
        n_features: usize,
    },
    /// LIBSVM: the part after `:` is not a number.
    #[error("bad value '{value}' for feature {index}: not a number")]
    BadValue {
        /// The feature index (1-based).
        index: usize,
        /// The text found.
        value: String,
    },
    /// LIBSVM: the value parses to NaN or ±infinity (this includes overflow such as `1e999`).
    #[error("value '{value}' for feature {index} is not finite (the data must be finite)")]
    NonFiniteValue {
        /// The feature index (1-based).
        index: usize,
        /// The text found.
        value: String,
    },
    /// CSV: a field is not a number.
    #[error("bad number '{value}' in column '{column}'")]
    BadNumber {
        /// The header name of the column.
        column: String,
        /// The text found.
        value: String,
    },
    /// CSV: every field of the first line is a number: a file without a header line, whose
    /// first row would otherwise be lost as column names.
    #[error(
        "the first line holds only numbers ({fields}): expected a header line of column names \
         (add one, e.g. 'label,x1,x2,…')"
    )]
    NumericHeader {
        /// The first fields, quoted and comma separated.
        fields: String,
    },
    /// CSV: a feature column of text holds more distinct values than a column of categories
    /// may ([`crate::csv::MAX_CATEGORIES`]).
    #[error(
        "column '{column}' holds more than {limit} distinct texts: not a column of categories \
         (drop it, or give numbers)"
    )]
    TooManyCategories {
        /// The header name of the column.
        column: String,
        /// The most categories a column may have.
        limit: usize,
    },
    /// CSV: a category first seen after the first chunk of a reader that learned its columns'
    /// categories from that chunk.
    #[error(
        "category '{value}' of column '{column}' first appears after the rows the categories \
         were learned from (read the file's categories first)"
    )]
    LateCategory {
        /// The header name of the column.
        column: String,
        /// The text found.
        value: String,
    },
    /// CSV: a label column of class names has an empty field.
    #[error("missing class name in column '{column}'")]
    MissingClassName {
        /// The header name of the label column.
        column: String,
    },
    /// CSV: a field is empty or a usual mark of a missing value (`NA`, `?`, `nan`, …).
    #[error(
        "missing value '{value}' in column '{column}' (every value must be given: drop or fill \
         in the rows with missing values)"
    )]
    MissingValue {
        /// The header name of the column.
        column: String,
        /// The text found.
        value: String,
    },
    /// CSV: a field parses to NaN or ±infinity.
    #[error("number '{value}' in column '{column}' is not finite (the data must be finite)")]
    NonFiniteNumber {
        /// The header name of the column.
        column: String,
        /// The text found.
        value: String,
    },
    /// CSV: a row does not have as many fields as the header.
    #[error("row has {found} {}, the header has {expected}", fields(*.found))]
    RaggedRow {
        /// Fields in this row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// CSV: the label column named in the options is not in the header.
    #[error("label column '{name}' not found in the header (columns: {columns})")]
    LabelNotFound {
        /// The name asked for.
        name: String,
        /// The header's column names, comma separated (cut after 10 names).
        columns: String,
    },
    /// CSV: the label column name occurs more than once in the header.
    #[error(
        "label column '{name}' appears twice in the header (columns {first} and {second}, 0-based)"
    )]
    AmbiguousLabel {
        /// The name asked for.
        name: String,
        /// 0-based index of the first occurrence.
        first: usize,
        /// 0-based index of the second occurrence.
        second: usize,
    },
    /// CSV: the label column index is past the end of the header.
    #[error(
        "label column index {index} (0-based) is out of range: the header has {n_columns} columns"
    )]
    LabelIndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// Columns in the header.
        n_columns: usize,
    },
    /// CSV: a field opens a quote that is not closed on the same line.
    #[error("unterminated quoted field (quoted line breaks are not supported)")]
    UnterminatedQuote,
    /// CSV: text between a closing quote and the next delimiter.
    #[error("unexpected text after a closing quote")]
    TextAfterQuote,
}

/// "field" or "fields", so a one-field row reads right.
fn fields(n: usize) -> &'static str {
    if n == 1 { "field" } else { "fields" }
}

/// The error type of every reader and writer in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// Reading or writing failed.
    #[error("{file}: {source}")]
    Io {
        /// The path or source name.
        file: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line could not be parsed.
    #[error("{location}: {kind}")]
    Parse {
        /// File, line and column of the problem.
        location: Location,
        /// What is wrong.
        kind: ParseErrorKind,
    },
    /// The input holds no data rows.
    #[error(
        "{file}: no data rows (the input is empty or holds only a header, blank lines or comments)"
    )]
    NoRows {
        /// The path or source name.
        file: String,
    },
    /// CSV: the input is empty, so there is no header.
    #[error("{file}: empty file, expected a header line")]
    NoHeader {
        /// The path or source name.
        file: String,
    },
    /// The dense matrix would not fit in memory (for example a LIBSVM file whose largest index
    /// is enormous while `n_features` was not given).
    #[error("{file}: a dense {rows} x {cols} matrix of f64 does not fit in memory")]
    TooLarge {
        /// The path or source name.
        file: String,
        /// Rows requested.
        rows: usize,
        /// Columns requested.
        cols: usize,
    },
    /// The dense matrix would take more than half the memory the system has available: the
    /// caller would hold it and at least a scaled copy, so the process would be killed for want
    /// of memory instead of stopping with an error.
    #[error(
        "{file}: {rows} rows x {cols} columns held dense take {:.1} GB, more than half of the {:.1} GB of memory available (a fit also holds a scaled copy); the rows are held dense, so read fewer columns (--features) or fewer rows",
        *bytes as f64 / 1e9,
        *available as f64 / 1e9
    )]
    OutOfMemory {
        /// The path or source name.
        file: String,
        /// Rows requested.
        rows: usize,
        /// Columns requested.
        cols: usize,
        /// Bytes the dense matrix takes.
        bytes: u64,
        /// Bytes of memory available (`MemAvailable` of `/proc/meminfo`).
        available: u64,
    },
    /// The entries of rows read sparse would take more than half the memory available (a file
    /// too large for its non-zero values, whatever its width).
    #[error(
        "{file}: the {entries} non-zero entries of its first {rows} rows take {:.1} GB held sparse, more than half of the {:.1} GB of memory available: read fewer rows",
        *bytes as f64 / 1e9,
        *available as f64 / 1e9
    )]
    TooManyEntries {
        /// The path or source name.
        file: String,
        /// Rows read so far.
        rows: usize,
        /// Entries held so far.
        entries: usize,
        /// Bytes they take.
        bytes: u64,
        /// Bytes of memory available (`MemAvailable` of `/proc/meminfo`).
        available: u64,
    },
    /// A sparse read's width is beyond what its 32-bit column indices hold.
    #[error("{file}: {cols} columns are more than sparse rows index (2^32)")]
    TooWide {
        /// The path or source name.
        file: String,
        /// Columns requested.
        cols: usize,
    },
    /// `x` and `y` of a [`Dataset`](crate::Dataset) do not agree.
    #[error("x has {x_rows} rows but y has {y_len} labels")]
    ShapeMismatch {
        /// Rows of `x`.
        x_rows: usize,
        /// Length of `y`.
        y_len: usize,
    },
    /// A label is not an integer where integer class labels are needed.
    #[error("label {value} of row {row} (0-based) is not an integer")]
    NonIntegerLabel {
        /// 0-based row.
        row: usize,
        /// The label.
        value: f64,
    },
    /// A value to be written is NaN or infinite, so the file could not be read back.
    #[error("row {row} (0-based), {column}: {value} is not finite")]
    NonFinite {
        /// 0-based row.
        row: usize,
        /// The label or the column of `x`.
        column: ColumnRef,
        /// The value.
        value: f64,
    },
    /// An option or argument is invalid (for example `chunk_rows = 0`).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// IDX: the first four bytes are not a magic number 0, 0, type, number of dimensions.
    #[error("{file}: not an IDX file (magic bytes {found:02x?}, expected [00, 00, type, dims])")]
    IdxMagic {
        /// The path or source name.
        file: String,
        /// The first four bytes (fewer if the file is shorter).
        found: Vec<u8>,
    },
    /// IDX: the element type is not unsigned bytes (0x08), the only type MNIST uses.
    #[error("{file}: IDX element type 0x{code:02x} is not supported (only 0x08, unsigned bytes)")]
    IdxType {
        /// The path or source name.
        file: String,
        /// The type byte of the magic number.
        code: u8,
    },
    /// IDX: the file (or its header) ends before the size its dimensions announce.
    #[error("{file}: truncated IDX file: {found} bytes of {what}, expected {expected}")]
    IdxTruncated {
        /// The path or source name.
        file: String,
        /// "header" or "data".
        what: &'static str,
        /// Bytes expected.
        expected: u64,
        /// Bytes found.
        found: u64,
    },
    /// IDX: more bytes follow the data its dimensions announce.
    #[error("{file}: IDX file has bytes after the {expected} data bytes its dimensions announce")]
    IdxTrailing {
        /// The path or source name.
        file: String,
        /// Data bytes announced.
        expected: u64,
    },
    /// IDX: the product of the dimensions does not fit in memory's address range.
    #[error("{file}: IDX dimensions {dims:?} multiply to more than {max} elements")]
    IdxDimOverflow {
        /// The path or source name.
        file: String,
        /// The dimensions of the header.
        dims: Vec<u32>,
        /// The largest product accepted.
        max: u64,
    },
    /// IDX: an images file and its labels file disagree, or a file has the wrong rank.
    #[error("{images}: {n_images} images, but {labels}: {n_labels} labels")]
    IdxCountMismatch {
        /// The images file.
        images: String,
        /// Images it holds.
        n_images: usize,
        /// The labels file.
        labels: String,
        /// Labels it holds.
        n_labels: usize,
    },
    /// IDX: the file has another number of dimensions than its role needs (3 for images,
    /// 1 for labels).
    #[error("{file}: IDX file has {found} dimensions, expected {expected} ({role})")]
    IdxRank {
        /// The path or source name.
        file: String,
        /// Dimensions expected.
        expected: usize,
        /// Dimensions found.
        found: usize,
        /// "images" or "labels".
        role: &'static str,
    },
}

/// Which column of a row a [`DataError::NonFinite`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRef {
    /// The label `y`.
    Label,
    /// Column `j` (0-based) of `x`.
    Feature(usize),
}

impl fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnRef::Label => f.write_str("label"),
            ColumnRef::Feature(j) => write!(f, "feature column {j} (0-based)"),
        }
    }
}

impl DataError {
    /// The location of a parse error, if this is one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            DataError::Parse { location, .. } => Some(location),
            _ => None,
        }
    }

    /// What went wrong in a parse error, if this is one.
    pub fn parse_kind(&self) -> Option<&ParseErrorKind> {
        match self {
            DataError::Parse { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

//! Numeric CSV: a header line, then one example per line; one column is the label, every other
//! column is a feature.
//!
//! What is supported (enough for numeric data, without a CSV dependency):
//! - the first non-blank line is the header, and one of its names must not be a number (a first
//!   line of numbers is a file without a header: an error, not a row lost as names); blank lines
//!   are skipped but counted for line numbers;
//! - one delimiter character, `,` by default (`;` or `\t` via [`CsvOptions::delimiter`]); every
//!   delimiter separates two fields, so `1,,2` has an empty (and thus bad) middle field;
//! - spaces and tabs around a field are ignored (unless the tab is the delimiter);
//! - a field may be quoted, `"1.5"` or `"a, b"` (the delimiter may appear inside quotes, `""` is a
//!   quote inside a quoted header name), but a quoted field must end on the same line;
//! - numbers are anything [`str::parse::<f64>`] accepts and must be finite (`nan`, `inf`, `1e999`
//!   are errors); there are no missing values: an empty field, or `NA`, `?`, `NaN`, `null`, is a
//!   missing-value error;
//! - a feature column may hold categories instead of numbers (`red`, `"female"`): by default
//!   ([`Columns::Auto`]) the first row decides, and a column of categories is read as one 0/1
//!   feature per category (`colour=red`, `colour=blue`, …, in the order they first appear; at
//!   most [`MAX_CATEGORIES`]), with the categories kept ([`CsvChunks::categories`], [`Table`]);
//!   a model's categories read its test files the same way ([`Columns::Given`]);
//! - the label column may hold class names instead of numbers (`setosa`, `"M"`, `yes`): by
//!   default ([`Labels::Auto`]) the first row decides, and names become classes 0, 1, 2, … in the
//!   order they first appear, with the names kept ([`CsvChunks::class_names`], [`Table`]); a
//!   model's names read its test files the same way ([`Labels::Names`]);
//! - `\r\n` line ends and a UTF-8 byte-order mark are fine; there are no comments.
//!
//! Errors name the file, the 1-based line and the 1-based column (in characters) of the field:
//!
//! ```
//! use rks_data::csv::{self, CsvOptions};
//!
//! let text = "a,b,label\n1,2,0\n3,oops,1\n";
//! let err = csv::read(text.as_bytes(), "t.csv", &CsvOptions::label_name("label")).unwrap_err();
//! assert_eq!(err.to_string(), "t.csv:3:3: bad number 'oops' in column 'b'");
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use ndarray::{Array1, Array2};

use crate::dataset::Dataset;
use crate::error::{ColumnRef, DataError, ParseErrorKind};
use crate::text::{Line, LineReader, find_ascii, quote};

/// Buffer size for reading files.
const READ_BUFFER: usize = 1 << 16;

/// Which column holds the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelColumn {
    /// The column with this header name (exact match, after unquoting and trimming).
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

/// How the label column's text is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Labels {
    /// The first row decides: a number there makes every label a number (a class label or a
    /// regression target; text further down is an error), anything else makes every label a
    /// class name.
    #[default]
    Auto,
    /// Every label is a number.
    Numbers,
    /// Every label is a class name (even `1`); these names — a model's — are classes 0, 1, …
    /// in order, and a name not among them becomes a new class after them (a test row of a
    /// class the model never saw, which no prediction matches).
    Names(Vec<String>),
}

/// How the feature columns' text is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Columns {
    /// The first row decides for each column: a number makes it a column of numbers (text
    /// further down is an error), anything else a column of **categories**, read as one 0/1
    /// feature per category, the categories in the order they first appear (at most
    /// [`MAX_CATEGORIES`]; a reader in chunks takes its categories from its first chunk).
    #[default]
    Auto,
    /// Every feature is a number.
    Numbers,
    /// One entry per feature column of the file, in file order: `None` for a number, else the
    /// column's categories (a model's), one 0/1 feature each; a category not among them has
    /// every one 0 (a test row of a category the model never saw).
    Given(Vec<Option<Vec<String>>>),
}

/// The most categories a column of text may have: more, and it is not a column of
/// categories (an identifier, say), and an error.
pub const MAX_CATEGORIES: usize = 1024;

/// How to read a CSV file.
///
/// ```
/// use rks_data::csv::{CsvOptions, LabelColumn, Labels};
///
/// let opts = CsvOptions::label_index(0).delimiter(';');
/// assert_eq!(opts.label, LabelColumn::Index(0));
/// assert_eq!(opts.delimiter, ';');
/// assert_eq!(opts.labels, Labels::Auto);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// The label column; all other columns are features.
    pub label: LabelColumn,
    /// The field separator; not `"`, `\r` or `\n`.
    pub delimiter: char,
    /// Numbers or class names in the label column.
    pub labels: Labels,
    /// Numbers or categories in the feature columns.
    pub columns: Columns,
}

impl CsvOptions {
    /// Comma-separated, with the given label column, its labels read as the first row says.
    pub fn new(label: LabelColumn) -> Self {
        CsvOptions {
            label,
            delimiter: ',',
            labels: Labels::Auto,
            columns: Columns::Auto,
        }
    }

    /// Comma-separated, label in the column with this header name.
    pub fn label_name(name: impl Into<String>) -> Self {
        Self::new(LabelColumn::Name(name.into()))
    }

    /// Comma-separated, label in the column at this 0-based position.
    pub fn label_index(index: usize) -> Self {
        Self::new(LabelColumn::Index(index))
    }

    /// The same options with another delimiter.
    pub fn delimiter(mut self, delimiter: char) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The same options with the labels read as `labels` says.
    pub fn labels(mut self, labels: Labels) -> Self {
        self.labels = labels;
        self
    }

    /// The same options with the feature columns read as `columns` says.
    pub fn columns(mut self, columns: Columns) -> Self {
        self.columns = columns;
        self
    }
}

/// What a file's text columns hold, learned by reading it through
/// ([`CsvChunks::into_vocabulary`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    /// The class names of a label column of names ([`Labels`]).
    pub class_names: Option<Vec<String>>,
    /// Each feature column's categories (`None` for numbers), when one holds categories
    /// ([`Columns`]).
    pub categories: Option<Vec<Option<Vec<String>>>>,
}

/// What a name the column has not seen becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unseen {
    /// A new code after the others (labels; categories while they are being learned).
    Grows,
    /// No code (a model's categories: every indicator 0).
    Ignored,
    /// An error (categories learned from a first chunk, whose width later chunks keep).
    Refused,
}

/// How this reader takes a column of text (the label, or a feature), once decided: numbers,
/// or names coded 0, 1, 2, … in the order they first appear (after the names it was given).
#[derive(Debug, Clone)]
enum TextState {
    /// Before the first row, with [`Labels::Auto`] or [`Columns::Auto`].
    Undecided,
    Numbers,
    Names {
        names: Vec<String>,
        codes: HashMap<String, usize>,
        unseen: Unseen,
    },
}

impl TextState {
    fn names(given: &[String], unseen: Unseen) -> Self {
        let mut codes = HashMap::new();
        let mut names = Vec::new();
        for name in given {
            codes.entry(name.clone()).or_insert_with(|| {
                names.push(name.clone());
                names.len() - 1
            });
        }
        TextState::Names {
            names,
            codes,
            unseen,
        }
    }

    fn of_labels(labels: &Labels) -> Self {
        match labels {
            Labels::Auto => TextState::Undecided,
            Labels::Numbers => TextState::Numbers,
            Labels::Names(given) => Self::names(given, Unseen::Grows),
        }
    }

    /// One state per feature column of `n` (an error for a given list of another length).
    fn of_columns(columns: &Columns, n: usize) -> Result<Vec<Self>, DataError> {
        Ok(match columns {
            Columns::Auto => vec![TextState::Undecided; n],
            Columns::Numbers => vec![TextState::Numbers; n],
            Columns::Given(given) if given.len() == n => given
                .iter()
                .map(|c| match c {
                    None => TextState::Numbers,
                    Some(categories) => Self::names(categories, Unseen::Ignored),
                })
                .collect(),
            Columns::Given(given) => {
                return Err(DataError::InvalidArgument(format!(
                    "{} feature columns given, but the file has {n}",
                    given.len()
                )));
            }
        })
    }

    /// The first row's text decides an undecided column: names unless it is a number.
    fn decide(&mut self, text: &str) {
        if matches!(self, TextState::Undecided) {
            *self = match text.parse::<f64>() {
                Ok(_) => TextState::Numbers,
                Err(_) => Self::names(&[], Unseen::Grows),
            };
        }
    }

    fn is_numbers(&self) -> bool {
        matches!(self, TextState::Numbers)
    }

    /// The code of `name`: a new one after the others if the column grows; `None` if it ignores
    /// or refuses names it has not seen (or holds numbers).
    fn code(&mut self, name: &str) -> Option<usize> {
        let TextState::Names {
            names,
            codes,
            unseen,
        } = self
        else {
            return None;
        };
        if let Some(&code) = codes.get(name) {
            return Some(code);
        }
        (*unseen == Unseen::Grows).then(|| {
            names.push(name.to_owned());
            codes.insert(name.to_owned(), names.len() - 1);
            names.len() - 1
        })
    }

    fn unseen(&self) -> Option<Unseen> {
        match self {
            TextState::Names { unseen, .. } => Some(*unseen),
            _ => None,
        }
    }

    /// The names, for a column of names.
    fn names_seen(&self) -> Option<&[String]> {
        match self {
            TextState::Names { names, .. } => Some(names),
            _ => None,
        }
    }

    /// The features this column makes: one for a number, one per category.
    fn width(&self) -> usize {
        self.names_seen().map_or(1, <[String]>::len)
    }
}

/// Where one field of a line is, as byte offsets into the line.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Start of the field (its opening quote if quoted), for the error column.
    start: usize,
    /// The field's text, without quotes and surrounding blanks.
    text: (usize, usize),
}

/// Splits `line` into `spans` (cleared first), or gives the byte offset and kind of a quoting
/// error. `spans` is reused from line to line, so splitting does not allocate.
fn split(
    line: &str,
    delimiter: char,
    spans: &mut Vec<Span>,
) -> Result<(), (usize, ParseErrorKind)> {
    spans.clear();
    let blank = |c: char| (c == ' ' || c == '\t') && c != delimiter;
    let skip_blanks =
        |from: usize| from + (line[from..].len() - line[from..].trim_start_matches(blank).len());
    let mut pos = 0;
    loop {
        let start = skip_blanks(pos);
        if line[start..].starts_with('"') {
            let inner = start + 1;
            let mut search = inner;
            let close = loop {
                let Some(q) = find_ascii(&line[search..], b'"').map(|k| search + k) else {
                    return Err((start, ParseErrorKind::UnterminatedQuote));
                };
                if line[q + 1..].starts_with('"') {
                    search = q + 2; // `""` is an escaped quote inside the field
                } else {
                    break q;
                }
            };
            spans.push(Span {
                start,
                text: (inner, close),
            });
            let after = skip_blanks(close + 1);
            if after == line.len() {
                return Ok(());
            }
            if !line[after..].starts_with(delimiter) {
                return Err((after, ParseErrorKind::TextAfterQuote));
            }
            pos = after + delimiter.len_utf8();
        } else {
            let rest = &line[start..];
            let end = if delimiter.is_ascii() {
                find_ascii(rest, delimiter as u8)
            } else {
                rest.find(delimiter)
            }
            .map(|k| start + k);
            let field_end = end.unwrap_or(line.len());
            let text = line[start..field_end].trim_end_matches(blank);
            spans.push(Span {
                start,
                text: (start, start + text.len()),
            });
            match end {
                Some(end) => pos = end + delimiter.len_utf8(),
                None => return Ok(()),
            }
        }
    }
}

/// The header: all column names, and which one is the label.
#[derive(Debug, Clone)]
struct Header {
    /// Feature column names, in file order.
    features: Vec<String>,
    label_name: String,
    /// 0-based position of the label among all columns.
    label: usize,
    /// Fields in the header line.
    n_columns: usize,
}

impl Header {
    fn parse(
        line: &Line<'_>,
        options: &CsvOptions,
        spans: &mut Vec<Span>,
    ) -> Result<Self, DataError> {
        split(line.text, options.delimiter, spans).map_err(|(at, kind)| line.error(at, kind))?;
        let names: Vec<String> = spans
            .iter()
            .map(|s| unquote(&line.text[s.text.0..s.text.1]).into_owned())
            .collect();
        if names.iter().all(|n| n.parse::<f64>().is_ok()) {
            let kind = ParseErrorKind::NumericHeader {
                fields: list_names(&names[..names.len().min(3)]),
            };
            return Err(line.error(0, kind));
        }
        let label = match &options.label {
            LabelColumn::Index(index) => {
                if *index >= names.len() {
                    let kind = ParseErrorKind::LabelIndexOutOfRange {
                        index: *index,
                        n_columns: names.len(),
                    };
                    return Err(line.error(0, kind));
                }
                *index
            }
            LabelColumn::Name(name) => {
                let mut found = names
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| *n == name)
                    .map(|(j, _)| j);
                match (found.next(), found.next()) {
                    (Some(first), None) => first,
                    (Some(first), Some(second)) => {
                        let kind = ParseErrorKind::AmbiguousLabel {
                            name: quote(name),
                            first,
                            second,
                        };
                        return Err(line.error(spans[second].start, kind));
                    }
                    (None, _) => {
                        let kind = ParseErrorKind::LabelNotFound {
                            name: quote(name),
                            columns: list_names(&names),
                        };
                        return Err(line.error(0, kind));
                    }
                }
            }
        };
        let label_name = names[label].clone();
        let n_columns = names.len();
        let features = names
            .into_iter()
            .enumerate()
            .filter(|(j, _)| *j != label)
            .map(|(_, n)| n)
            .collect();
        Ok(Header {
            features,
            label_name,
            label,
            n_columns,
        })
    }

    /// The name of column `j` (0-based, among all columns).
    fn column_name(&self, j: usize) -> &str {
        match j.cmp(&self.label) {
            std::cmp::Ordering::Less => &self.features[j],
            std::cmp::Ordering::Equal => &self.label_name,
            std::cmp::Ordering::Greater => &self.features[j - 1],
        }
    }
}

/// A quoted field's text with each `""` made one quote (borrowed when it has none, as most
/// fields).
fn unquote(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains("\"\"") {
        std::borrow::Cow::Owned(text.replace("\"\"", "\""))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Whether a field is how spreadsheets, R and pandas write a missing value: empty, `NA`, `N/A`,
/// `NaN`, `null`, `None`, `?` (any case).
fn is_missing(text: &str) -> bool {
    const MARKS: [&str; 7] = ["", "na", "n/a", "nan", "null", "none", "?"];
    MARKS.iter().any(|m| text.eq_ignore_ascii_case(m))
}

/// At most ten names, quoted, for a "not found" message.
fn list_names(names: &[String]) -> String {
    const MAX: usize = 10;
    let mut list: Vec<String> = names
        .iter()
        .take(MAX)
        .map(|n| format!("'{}'", quote(n)))
        .collect();
    if names.len() > MAX {
        list.push(format!("... {} more", names.len() - MAX));
    }
    list.join(", ")
}

/// Reads a CSV file in chunks of at most `chunk_rows` rows; memory stays at one chunk.
///
/// The header is read by [`open`](CsvChunks::open)/[`new`](CsvChunks::new), so a missing label
/// column or an empty file is reported there and the feature names are known before the first
/// chunk. Line numbers in errors continue across chunks. A bad line turns the chunk it falls in
/// into that error (the chunk's earlier rows are not returned) and ends the iteration. A header
/// with no rows yields one [`DataError::NoRows`].
///
/// ```
/// use rks_data::csv::{CsvChunks, CsvOptions};
///
/// let text = "y,height,width\n1,2.5,3\n0,1,1\n1,0,2\n";
/// let mut chunks = CsvChunks::new(text.as_bytes(), "memory", &CsvOptions::label_index(0), 2)?;
/// assert_eq!(chunks.feature_names(), ["height", "width"]);
/// assert_eq!(chunks.label_name(), "y");
/// let first = chunks.next().unwrap()?;
/// assert_eq!(first.x.row(0).to_vec(), vec![2.5, 3.0]);
/// assert_eq!(chunks.next().unwrap()?.n_rows(), 1);
/// assert!(chunks.next().is_none());
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub struct CsvChunks<R = BufReader<File>> {
    lines: LineReader<R>,
    header: Header,
    delimiter: char,
    chunk_rows: usize,
    spans: Vec<Span>,
    labels: TextState,
    /// One per feature column.
    columns: Vec<TextState>,
    /// Reading for the vocabulary only ([`CsvChunks::into_vocabulary`]): categories grow and
    /// chunks are not laid out.
    scanning: bool,
    rows_read: usize,
    done: bool,
}

impl CsvChunks<BufReader<File>> {
    /// Opens `path` and reads its header.
    pub fn open(
        path: impl AsRef<Path>,
        options: &CsvOptions,
        chunk_rows: usize,
    ) -> Result<Self, DataError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| DataError::Io {
            file: name.clone(),
            source,
        })?;
        Self::new(
            BufReader::with_capacity(READ_BUFFER, file),
            &name,
            options,
            chunk_rows,
        )
    }
}

impl<R: BufRead> CsvChunks<R> {
    /// Reads the header from any buffered reader; `source_name` is used in error messages.
    /// `chunk_rows` must be at least 1.
    pub fn new(
        reader: R,
        source_name: &str,
        options: &CsvOptions,
        chunk_rows: usize,
    ) -> Result<Self, DataError> {
        if chunk_rows == 0 {
            return Err(DataError::InvalidArgument(
                "chunk_rows must be at least 1".to_owned(),
            ));
        }
        if matches!(options.delimiter, '"' | '\r' | '\n') {
            return Err(DataError::InvalidArgument(format!(
                "the CSV delimiter cannot be {:?}",
                options.delimiter
            )));
        }
        let mut lines = LineReader::new(reader, source_name);
        let mut spans = Vec::new();
        let header = loop {
            match lines.next_line()? {
                None => {
                    return Err(DataError::NoHeader {
                        file: lines.name().to_owned(),
                    });
                }
                Some(line) if line.text.trim().is_empty() => continue,
                Some(line) => break Header::parse(&line, options, &mut spans)?,
            }
        };
        let columns = TextState::of_columns(&options.columns, header.features.len())?;
        Ok(CsvChunks {
            lines,
            header,
            delimiter: options.delimiter,
            chunk_rows,
            spans,
            labels: TextState::of_labels(&options.labels),
            columns,
            scanning: false,
            rows_read: 0,
            done: false,
        })
    }

    /// The class names of the label column, classes 0, 1, … in order, when it holds names
    /// (`None` when it holds numbers or no row was read yet): with [`Labels::Auto`] the names
    /// of the rows read so far, in the order they first appeared.
    ///
    /// ```
    /// use rks_data::csv::{CsvChunks, CsvOptions, Labels};
    ///
    /// let text = "species,petal\nvirginica,6\nsetosa,1.4\nvirginica,5.1\n";
    /// let mut chunks = CsvChunks::new(text.as_bytes(), "memory", &CsvOptions::label_index(0), 10)?;
    /// assert_eq!(chunks.next().unwrap()?.y.to_vec(), vec![0.0, 1.0, 0.0]);
    /// assert_eq!(chunks.class_names().unwrap(), ["virginica", "setosa"]);
    ///
    /// // A model's names: a name it never saw is a class after them.
    /// let known = CsvOptions::label_index(0).labels(Labels::Names(vec!["setosa".into()]));
    /// let mut chunks = CsvChunks::new(text.as_bytes(), "memory", &known, 10)?;
    /// assert_eq!(chunks.next().unwrap()?.y.to_vec(), vec![1.0, 0.0, 1.0]);
    /// # Ok::<(), rks_data::DataError>(())
    /// ```
    pub fn class_names(&self) -> Option<&[String]> {
        self.labels.names_seen()
    }

    /// Each feature column's categories (`None` for a column of numbers), when one of them
    /// holds categories ([`Columns`]); `None` when every one holds numbers (or no row was
    /// read yet with [`Columns::Auto`]).
    ///
    /// ```
    /// use rks_data::csv::{CsvChunks, CsvOptions};
    ///
    /// let text = "y,colour,size\n1,red,2\n0,blue,3\n1,red,4\n";
    /// let mut chunks = CsvChunks::new(text.as_bytes(), "memory", &CsvOptions::label_index(0), 10)?;
    /// let rows = chunks.next().unwrap()?;
    /// // colour=red, colour=blue, size
    /// assert_eq!(rows.x.row(1).to_vec(), vec![0.0, 1.0, 3.0]);
    /// let red_blue = vec!["red".to_string(), "blue".to_string()];
    /// assert_eq!(chunks.categories(), Some(vec![Some(red_blue), None]));
    /// assert_eq!(chunks.output_names(), ["colour=red", "colour=blue", "size"]);
    /// # Ok::<(), rks_data::DataError>(())
    /// ```
    pub fn categories(&self) -> Option<Vec<Option<Vec<String>>>> {
        let any = self.columns.iter().any(|c| c.names_seen().is_some());
        any.then(|| {
            self.columns
                .iter()
                .map(|c| c.names_seen().map(<[String]>::to_vec))
                .collect()
        })
    }

    /// The names of the chunks' columns: a feature column's name, or `name=category` for each
    /// of its categories.
    pub fn output_names(&self) -> Vec<String> {
        self.header
            .features
            .iter()
            .zip(&self.columns)
            .flat_map(|(name, column)| match column.names_seen() {
                None => vec![name.clone()],
                Some(categories) => categories.iter().map(|c| format!("{name}={c}")).collect(),
            })
            .collect()
    }

    /// Reads the rest of the file for its class names and categories (stopping at once when
    /// the first row shows numbers in every column). A streamed fit learns them this way
    /// before its passes, so that every pass codes them alike.
    pub fn into_vocabulary(mut self) -> Result<Vocabulary, DataError> {
        self.scanning = true;
        while let Some(chunk) = self.next() {
            chunk?;
            if self.labels.is_numbers() && self.columns.iter().all(TextState::is_numbers) {
                break;
            }
        }
        Ok(Vocabulary {
            class_names: self.class_names().map(<[String]>::to_vec),
            categories: self.categories(),
        })
    }

    /// The feature column names, in file order (the label column left out; one name for a
    /// column of categories: [`output_names`](Self::output_names) names the chunks' columns).
    pub fn feature_names(&self) -> &[String] {
        &self.header.features
    }

    /// The header name of the label column.
    pub fn label_name(&self) -> &str {
        &self.header.label_name
    }

    /// The 0-based position of the label column in the file.
    pub fn label_index(&self) -> usize {
        self.header.label
    }

    /// The feature columns of the file: the header's column count minus the label (a column
    /// of categories makes one chunk column per category).
    pub fn n_features(&self) -> usize {
        self.header.features.len()
    }

    /// Rows returned so far.
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }

    /// Reads up to `chunk_rows` rows into `x` (row-major) and `y`.
    fn fill(&mut self, x: &mut Vec<f64>, y: &mut Vec<f64>) -> Result<(), DataError> {
        let header = &self.header;
        while y.len() < self.chunk_rows {
            let Some(line) = self.lines.next_line()? else {
                break;
            };
            if line.text.trim().is_empty() {
                continue;
            }
            split(line.text, self.delimiter, &mut self.spans)
                .map_err(|(at, kind)| line.error(at, kind))?;
            let found = self.spans.len();
            if found != header.n_columns {
                // Point at the first extra field, or at the end of a short line.
                let at = self
                    .spans
                    .get(header.n_columns)
                    .map_or(line.text.len(), |s| s.start);
                let kind = ParseErrorKind::RaggedRow {
                    found,
                    expected: header.n_columns,
                };
                return Err(line.error(at, kind));
            }
            for (j, span) in self.spans.iter().enumerate() {
                let text = &line.text[span.text.0..span.text.1];
                let column = || quote(header.column_name(j));
                let state = if j == header.label {
                    &mut self.labels
                } else {
                    &mut self.columns[j - usize::from(j > header.label)]
                };
                // The first row decides a column of numbers or of names, but a missing value
                // decides no feature column (a label of names may be anything but empty).
                if j == header.label || !is_missing(text) {
                    state.decide(text);
                }
                if !state.is_numbers() && !matches!(state, TextState::Undecided) {
                    let label = j == header.label;
                    let missing = if label {
                        text.is_empty()
                            .then(|| ParseErrorKind::MissingClassName { column: column() })
                    } else {
                        is_missing(text).then(|| ParseErrorKind::MissingValue {
                            column: column(),
                            value: quote(text),
                        })
                    };
                    if let Some(kind) = missing {
                        return Err(line.error(span.start, kind));
                    }
                    let code = state.code(&unquote(text));
                    // A feature column's categories are capped; a reader that learned them
                    // from its first chunk refuses new ones (class names grow freely).
                    if !label && state.names_seen().map_or(0, <[String]>::len) > MAX_CATEGORIES {
                        let kind = ParseErrorKind::TooManyCategories {
                            column: column(),
                            limit: MAX_CATEGORIES,
                        };
                        return Err(line.error(span.start, kind));
                    }
                    if code.is_none() && state.unseen() == Some(Unseen::Refused) {
                        let kind = ParseErrorKind::LateCategory {
                            column: column(),
                            value: quote(text),
                        };
                        return Err(line.error(span.start, kind));
                    }
                    let value = code.map_or(f64::NAN, |c| c as f64);
                    if j == header.label {
                        y.push(value);
                    } else {
                        x.push(value);
                    }
                    continue;
                }
                let value = match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => v,
                    _ if is_missing(text) => {
                        let kind = ParseErrorKind::MissingValue {
                            column: column(),
                            value: quote(text),
                        };
                        return Err(line.error(span.start, kind));
                    }
                    Ok(_) => {
                        let kind = ParseErrorKind::NonFiniteNumber {
                            column: column(),
                            value: quote(text),
                        };
                        return Err(line.error(span.start, kind));
                    }
                    Err(_) => {
                        let kind = ParseErrorKind::BadNumber {
                            column: column(),
                            value: quote(text),
                        };
                        return Err(line.error(span.start, kind));
                    }
                };
                if j == header.label {
                    y.push(value);
                } else {
                    x.push(value);
                }
            }
        }
        Ok(())
    }

    /// Lays out a chunk's raw values (`n` rows of the file's feature columns, a column of
    /// categories holding each row's code or NaN) as features: a number as itself, a category
    /// as one 0/1 feature per category of its column. After the first chunk of a reader that
    /// learned its categories from it, a category it has not seen is an error.
    fn lay_out(&mut self, n: usize, raw: Vec<f64>) -> Result<(Vec<f64>, usize), DataError> {
        let d = self.columns.len();
        if self.columns.iter().all(TextState::is_numbers) || self.scanning {
            return Ok((raw, d));
        }
        let widths: Vec<usize> = self.columns.iter().map(TextState::width).collect();
        let width: usize = widths.iter().sum();
        crate::text::check_dense(self.lines.name(), n, width, crate::text::available_bytes())?;
        let mut x = vec![0.0; n * width];
        for (row, out) in raw
            .chunks_exact(d.max(1))
            .zip(x.chunks_exact_mut(width.max(1)))
        {
            let mut at = 0;
            for ((&value, column), &w) in row.iter().zip(&self.columns).zip(&widths) {
                if column.is_numbers() {
                    out[at] = value;
                } else if !value.is_nan() {
                    out[at + value as usize] = 1.0;
                }
                at += w;
            }
        }
        for column in &mut self.columns {
            if let TextState::Names { unseen, .. } = column
                && *unseen == Unseen::Grows
            {
                *unseen = Unseen::Refused;
            }
        }
        Ok((x, width))
    }
}

impl<R> std::fmt::Debug for CsvChunks<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvChunks")
            .field("source", &self.lines.name())
            .field("label", &self.header.label_name)
            .field("n_features", &self.header.features.len())
            .field("chunk_rows", &self.chunk_rows)
            .field("rows_read", &self.rows_read)
            .field("done", &self.done)
            .finish()
    }
}

/// After the last chunk or an error, `next` keeps returning `None`.
impl<R: BufRead> std::iter::FusedIterator for CsvChunks<R> {}

impl<R: BufRead> Iterator for CsvChunks<R> {
    type Item = Result<Dataset, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let d = self.n_features();
        // Reserve for a modest number of rows: chunk_rows may be usize::MAX for a whole-file read.
        let rows_hint = self.chunk_rows.min(1024);
        let mut x = Vec::with_capacity(rows_hint * d);
        let mut y = Vec::with_capacity(rows_hint);
        if let Err(e) = self.fill(&mut x, &mut y) {
            self.done = true;
            return Some(Err(e));
        }
        let n = y.len();
        // A short chunk means the input has ended.
        self.done = n < self.chunk_rows;
        if n == 0 {
            return (self.rows_read == 0).then(|| {
                Err(DataError::NoRows {
                    file: self.lines.name().to_owned(),
                })
            });
        }
        self.rows_read += n;
        let (x, d) = match self.lay_out(n, x) {
            Ok(laid) => laid,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let x = match Array2::from_shape_vec((n, d), x) {
            Ok(x) => x,
            Err(_) => {
                self.done = true;
                return Some(Err(DataError::TooLarge {
                    file: self.lines.name().to_owned(),
                    rows: n,
                    cols: d,
                }));
            }
        };
        Some(Dataset::new(x, Array1::from(y)))
    }
}

/// A whole CSV file: its rows, the names of their columns and, when the label column holds
/// class names, the names of classes 0, 1, … ([`Labels`]); when a feature column holds
/// categories, each column's ([`Columns`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The rows; with class names, each label is its class's number; a column of categories
    /// is one 0/1 column per category.
    pub data: Dataset,
    /// The names of the columns of `data.x` (file order, label left out; `name=category` for
    /// each category of a column of categories).
    pub feature_names: Vec<String>,
    /// The class names of a label column of names, and the categories of the feature columns
    /// when one holds categories.
    pub vocabulary: Vocabulary,
}

/// Reads a whole CSV file.
pub fn read_path(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Dataset, DataError> {
    read_table_path(path, options).map(|t| t.data)
}

/// Reads a whole CSV file and returns the names of its columns too (file order, label left out;
/// [`Table::feature_names`]).
pub fn read_path_with_names(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<(Dataset, Vec<String>), DataError> {
    read_table_path(path, options).map(|t| (t.data, t.feature_names))
}

/// Reads a whole CSV file with its column and class names.
pub fn read_table_path(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table, DataError> {
    whole(CsvChunks::open(path, options, usize::MAX)?)
}

/// Reads CSV text from any buffered reader; `source_name` is used in error messages.
///
/// ```
/// use rks_data::csv::{self, CsvOptions};
///
/// let text = "f1;\"f2\";target\r\n0.5;\"1.5\";3\r\n\r\n1;2;4\r\n";
/// let opts = CsvOptions::label_name("target").delimiter(';');
/// let data = csv::read(text.as_bytes(), "memory", &opts)?;
/// assert_eq!(data.y.to_vec(), vec![3.0, 4.0]);
/// assert_eq!(data.x.row(0).to_vec(), vec![0.5, 1.5]);
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub fn read(
    reader: impl BufRead,
    source_name: &str,
    options: &CsvOptions,
) -> Result<Dataset, DataError> {
    read_table(reader, source_name, options).map(|t| t.data)
}

/// [`read`], also returning the feature column names (file order, label left out).
pub fn read_with_names(
    reader: impl BufRead,
    source_name: &str,
    options: &CsvOptions,
) -> Result<(Dataset, Vec<String>), DataError> {
    read_table(reader, source_name, options).map(|t| (t.data, t.feature_names))
}

/// [`read`] with the column and class names.
///
/// ```
/// use rks_data::csv::{self, CsvOptions};
///
/// let text = "len,kind\n1.5,\"M\"\n0.2,R\n3,M\n";
/// let table = csv::read_table(text.as_bytes(), "memory", &CsvOptions::label_name("kind"))?;
/// assert_eq!(table.data.y.to_vec(), vec![0.0, 1.0, 0.0]);
/// assert_eq!(table.vocabulary.class_names, Some(vec!["M".to_string(), "R".to_string()]));
/// assert_eq!(table.feature_names, ["len"]);
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub fn read_table(
    reader: impl BufRead,
    source_name: &str,
    options: &CsvOptions,
) -> Result<Table, DataError> {
    whole(CsvChunks::new(reader, source_name, options, usize::MAX)?)
}

/// A whole-file read is one unbounded chunk, so both paths share every line of parsing.
fn whole<R: BufRead>(mut chunks: CsvChunks<R>) -> Result<Table, DataError> {
    let data = chunks.next().unwrap_or_else(|| {
        Err(DataError::NoRows {
            file: chunks.lines.name().to_owned(),
        })
    })?;
    Ok(Table {
        data,
        feature_names: chunks.output_names(),
        vocabulary: Vocabulary {
            class_names: chunks.class_names().map(<[String]>::to_vec),
            categories: chunks.categories(),
        },
    })
}

/// Writes `data` as comma-separated text: a header (`label_name`, then `feature_names`), then the
/// label followed by the features on each line, numbers printed with `{}` (which round-trips every
/// finite `f64` exactly). Names holding a comma, a quote or outer blanks are quoted.
///
/// ```
/// use ndarray::array;
/// use rks_data::{Dataset, csv::{self, CsvOptions}};
///
/// let data = Dataset::new(array![[0.5, -2.0]], array![1.0])?;
/// let names = vec!["a".to_string(), "b, c".to_string()];
/// let mut text = Vec::new();
/// csv::write(&mut text, &data, "y", &names)?;
/// assert_eq!(String::from_utf8(text.clone()).unwrap(), "y,a,\"b, c\"\n1,0.5,-2\n");
/// let (back, back_names) = csv::read_with_names(&text[..], "memory", &CsvOptions::label_index(0))?;
/// assert_eq!((back, back_names), (data, names));
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub fn write(
    mut w: impl Write,
    data: &Dataset,
    label_name: &str,
    feature_names: &[String],
) -> Result<(), DataError> {
    if feature_names.len() != data.n_features() {
        return Err(DataError::InvalidArgument(format!(
            "{} feature names for {} features",
            feature_names.len(),
            data.n_features()
        )));
    }
    if data.x.nrows() != data.y.len() {
        return Err(DataError::ShapeMismatch {
            x_rows: data.x.nrows(),
            y_len: data.y.len(),
        });
    }
    for (row, (&label, xs)) in data.y.iter().zip(data.x.rows()).enumerate() {
        let bad = std::iter::once((ColumnRef::Label, label))
            .chain(
                xs.iter()
                    .enumerate()
                    .map(|(j, &v)| (ColumnRef::Feature(j), v)),
            )
            .find(|(_, v)| !v.is_finite());
        if let Some((column, value)) = bad {
            return Err(DataError::NonFinite { row, column, value });
        }
    }
    let io = |source| DataError::Io {
        file: "<output>".to_owned(),
        source,
    };
    write!(w, "{}", quote_name(label_name)).map_err(io)?;
    for name in feature_names {
        write!(w, ",{}", quote_name(name)).map_err(io)?;
    }
    w.write_all(b"\n").map_err(io)?;
    for (label, xs) in data.y.iter().zip(data.x.rows()) {
        write!(w, "{label}").map_err(io)?;
        for v in xs {
            write!(w, ",{v}").map_err(io)?;
        }
        w.write_all(b"\n").map_err(io)?;
    }
    w.flush().map_err(io)
}

/// A header name as written: quoted when the reader would otherwise split or trim it.
fn quote_name(name: &str) -> String {
    let needs_quotes = name.contains([',', '"']) || name.trim_matches([' ', '\t']) != name;
    if needs_quotes {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str, delimiter: char) -> Result<Vec<&str>, (usize, ParseErrorKind)> {
        let mut spans = Vec::new();
        split(line, delimiter, &mut spans)?;
        Ok(spans.iter().map(|s| &line[s.text.0..s.text.1]).collect())
    }

    #[test]
    fn split_handles_blanks_quotes_and_empty_fields() {
        assert_eq!(fields("1,2,3", ',').unwrap(), ["1", "2", "3"]);
        assert_eq!(fields(" 1 ,\t2\t, 3 ", ',').unwrap(), ["1", "2", "3"]);
        assert_eq!(fields("1,,", ',').unwrap(), ["1", "", ""]);
        assert_eq!(fields("\"a, b\" , \"1.5\"", ',').unwrap(), ["a, b", "1.5"]);
        assert_eq!(
            fields("\"say \"\"hi\"\"\",x", ',').unwrap(),
            ["say \"\"hi\"\"", "x"]
        );
        assert_eq!(fields("1\t 2\t\t3", '\t').unwrap(), ["1", "2", "", "3"]);
        assert_eq!(fields("", ',').unwrap(), [""]);
        assert_eq!(fields("é;ü", ';').unwrap(), ["é", "ü"]);
    }

    #[test]
    fn split_reports_quote_errors_where_they_are() {
        assert_eq!(
            fields("1,\"2", ',').unwrap_err(),
            (2, ParseErrorKind::UnterminatedQuote)
        );
        assert_eq!(
            fields("\"1\" x,2", ',').unwrap_err(),
            (4, ParseErrorKind::TextAfterQuote)
        );
    }

    #[test]
    fn names_that_need_quotes_survive_writing() {
        for name in ["plain", "a,b", "say \"hi\"", " padded", "", "tab\t"] {
            let quoted = quote_name(name);
            let mut spans = Vec::new();
            split(&quoted, ',', &mut spans).unwrap();
            assert_eq!(spans.len(), 1, "{name:?}");
            let s = spans[0];
            assert_eq!(quoted[s.text.0..s.text.1].replace("\"\"", "\""), name);
        }
    }

    fn table(text: &str, options: &CsvOptions) -> Result<Table, DataError> {
        read_table(text.as_bytes(), "t.csv", options)
    }

    #[test]
    fn class_names_are_coded_in_the_order_they_first_appear() {
        let text = "y,a\n\"b, c\",1\nsetosa,2\n\"b, c\",3\n\"say \"\"hi\"\"\",4\n";
        let t = table(text, &CsvOptions::label_index(0)).unwrap();
        assert_eq!(t.data.y.to_vec(), vec![0.0, 1.0, 0.0, 2.0]);
        assert_eq!(t.data.x.column(0).to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
        let names = t.vocabulary.class_names.unwrap();
        assert_eq!(names, ["b, c", "setosa", "say \"hi\""]);
        // One row per chunk: the same codes, the names carried across chunks.
        let chunks =
            CsvChunks::new(text.as_bytes(), "t.csv", &CsvOptions::label_index(0), 1).unwrap();
        let mut codes = Vec::new();
        let mut chunks = chunks;
        for chunk in chunks.by_ref() {
            codes.extend(chunk.unwrap().y.to_vec());
        }
        assert_eq!(codes, vec![0.0, 1.0, 0.0, 2.0]);
        assert_eq!(chunks.class_names().unwrap(), names.as_slice());
    }

    #[test]
    fn the_first_row_decides_numbers_or_names() {
        // A number first: text further down is the error it always was.
        let err = table("y,a\n1,0\nsetosa,1\n", &CsvOptions::label_index(0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:3:1: bad number 'setosa' in column 'y'"
        );
        let t = table("y,a\n1.5,0\n2,1\n", &CsvOptions::label_index(0)).unwrap();
        assert_eq!(
            (t.data.y.to_vec(), t.vocabulary.class_names),
            (vec![1.5, 2.0], None)
        );
        // A name first: numbers further down are names too.
        let t = table("y,a\nno,0\n1,1\nno,2\n", &CsvOptions::label_index(0)).unwrap();
        assert_eq!(t.data.y.to_vec(), vec![0.0, 1.0, 0.0]);
        assert_eq!(t.vocabulary.class_names.unwrap(), ["no", "1"]);
        // An empty class name is missing, with its place.
        let err = table("a,y\n0,no\n1,\n", &CsvOptions::label_index(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:3:3: missing class name in column 'y'"
        );
    }

    #[test]
    fn given_labels_are_kept_to() {
        let text = "y,a\n1,0\nyes,1\nno,2\n";
        let numbers = CsvOptions::label_index(0).labels(Labels::Numbers);
        let err = table(text, &numbers).unwrap_err();
        assert_eq!(err.to_string(), "t.csv:3:1: bad number 'yes' in column 'y'");
        let names =
            CsvOptions::label_index(0).labels(Labels::Names(vec!["no".into(), "yes".into()]));
        let t = table(text, &names).unwrap();
        // "1" is a name the model never saw: a class after the given ones.
        assert_eq!(t.data.y.to_vec(), vec![2.0, 1.0, 0.0]);
        assert_eq!(t.vocabulary.class_names.unwrap(), ["no", "yes", "1"]);
    }

    #[test]
    fn class_names_are_scanned_without_reading_a_numeric_file_through() {
        let names = CsvChunks::new(
            "y,a\nb,0\na,1\nc,2\na,3\n".as_bytes(),
            "t.csv",
            &CsvOptions::label_index(0),
            2,
        )
        .unwrap()
        .into_vocabulary()
        .unwrap()
        .class_names;
        assert_eq!(names.unwrap(), ["b", "a", "c"]);
        // Numbers: known from the first chunk; a bad line after it is not reached.
        let numeric = CsvChunks::new(
            "y,a\n1,0\n2,1\n3,oops\n".as_bytes(),
            "t.csv",
            &CsvOptions::label_index(0),
            2,
        )
        .unwrap()
        .into_vocabulary()
        .unwrap();
        assert_eq!(numeric, Vocabulary::default());
        // A bad line among names is the reader's error.
        let err = CsvChunks::new(
            "y,a\nb,0\na,x\n".as_bytes(),
            "t.csv",
            &CsvOptions::label_index(0),
            1,
        )
        .unwrap()
        .into_vocabulary()
        .unwrap_err();
        assert_eq!(err.to_string(), "t.csv:3:3: bad number 'x' in column 'a'");
    }

    #[test]
    fn columns_of_text_are_categories_one_feature_each() {
        let text = "y,colour,size,\"shape\"\n1,red,2,\"a, b\"\n0,blue,3,c\n1,red,4,c\n";
        let t = table(text, &CsvOptions::label_index(0)).unwrap();
        assert_eq!(
            t.feature_names,
            ["colour=red", "colour=blue", "size", "shape=a, b", "shape=c"]
        );
        assert_eq!(t.data.x.row(0).to_vec(), vec![1.0, 0.0, 2.0, 1.0, 0.0]);
        assert_eq!(t.data.x.row(1).to_vec(), vec![0.0, 1.0, 3.0, 0.0, 1.0]);
        let cats = |c: &[&str]| Some(c.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let expected = vec![cats(&["red", "blue"]), None, cats(&["a, b", "c"])];
        assert_eq!(t.vocabulary.categories, Some(expected.clone()));
        // A model's categories: an unseen one has every indicator 0.
        let given = CsvOptions::label_index(0).columns(Columns::Given(expected.clone()));
        let other = "y,colour,size,shape\n1,green,5,c\n";
        let t = table(other, &given).unwrap();
        assert_eq!(t.data.x.row(0).to_vec(), vec![0.0, 0.0, 5.0, 0.0, 1.0]);
        let short = CsvOptions::label_index(0).columns(Columns::Given(vec![None]));
        assert!(matches!(
            table(other, &short),
            Err(DataError::InvalidArgument(_))
        ));
        // Numbers asked for: text is the error it always was.
        let numbers = CsvOptions::label_index(0).columns(Columns::Numbers);
        assert_eq!(
            table(other, &numbers).unwrap_err().to_string(),
            "t.csv:2:3: bad number 'green' in column 'colour'"
        );
    }

    #[test]
    fn categories_are_learned_from_the_first_chunk_or_read_through_first() {
        let text = "y,c\n1,a\n0,b\n1,a\n0,z\n";
        let mut chunks =
            CsvChunks::new(text.as_bytes(), "t.csv", &CsvOptions::label_index(0), 3).unwrap();
        assert_eq!(chunks.next().unwrap().unwrap().n_features(), 2);
        let err = chunks.next().unwrap().unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv:5:3: category 'z' of column 'c' first appears after the rows the categories \
             were learned from (read the file's categories first)"
        );
        let vocabulary = CsvChunks::new(text.as_bytes(), "t.csv", &CsvOptions::label_index(0), 3)
            .unwrap()
            .into_vocabulary()
            .unwrap();
        let abz: Vec<String> = ["a", "b", "z"].iter().map(|s| s.to_string()).collect();
        assert_eq!(vocabulary.categories, Some(vec![Some(abz)]));
        let given =
            CsvOptions::label_index(0).columns(Columns::Given(vocabulary.categories.unwrap()));
        let rows: Vec<Vec<f64>> = CsvChunks::new(text.as_bytes(), "t.csv", &given, 3)
            .unwrap()
            .flat_map(|c| {
                let c = c.unwrap();
                c.x.rows()
                    .into_iter()
                    .map(|r| r.to_vec())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(rows[3], vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn categories_are_never_missing_and_never_too_many() {
        let err = table("y,c\n1,NA\n0,b\n", &CsvOptions::label_index(0)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.csv:2:3: missing value 'NA' in column 'c'"),
            "{err}"
        );
        let err = table("y,c\n1,a\n0,?\n", &CsvOptions::label_index(0)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.csv:3:3: missing value '?' in column 'c'"),
            "{err}"
        );
        let mut ids = String::from("y,id\n");
        for i in 0..=MAX_CATEGORIES {
            ids.push_str(&format!("1,row{i}\n"));
        }
        let err = table(&ids, &CsvOptions::label_index(0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "t.csv:{}:3: column 'id' holds more than 1024 distinct texts: not a column of \
                 categories (drop it, or give numbers)",
                MAX_CATEGORIES + 2
            )
        );
    }
}

//! LIBSVM / svmlight text: one example per line, `label index:value index:value ...`.
//!
//! What is accepted:
//! - indices are 1-based and strictly increasing on a line; features not mentioned are 0
//!   (the format omits zeros, which is why a file need not mention its last feature);
//! - `#` starts a comment that runs to the end of the line; blank and comment-only lines are
//!   skipped but still counted for line numbers;
//! - tokens are separated by any run of spaces or tabs; `\r\n` line ends and a UTF-8 byte-order
//!   mark are fine;
//! - `qid:N` tokens (svmlight ranking) are ignored;
//! - numbers are anything [`str::parse::<f64>`] accepts, but must be finite: `nan`, `inf` and
//!   overflowing values such as `1e999` are errors, because every later step needs finite data.
//!
//! Every error names the file, the 1-based line and the 1-based column (in characters) of the
//! offending token, and what is wrong with it:
//!
//! ```
//! use rks_data::libsvm;
//!
//! let text = "1 1:0.5 3:2\n# a comment\n0 2:1 0:4\n";
//! let err = libsvm::read(text.as_bytes(), "x.train", None).unwrap_err();
//! assert_eq!(err.to_string(), "x.train:3:7: feature index 0 (indices are 1-based)");
//! ```
//!
//! Whole-file reading ([`read_path`], [`read`]) can find the width itself (the largest index seen)
//! when `n_features` is `None`. Reading in chunks ([`LibsvmChunks`]) needs the width up front:
//! since zeros are omitted, one chunk cannot tell how wide the data is, and chunks of different
//! widths would be useless to a model. Use the published dimension, or [`scan_dims`] to find it
//! with one cheap pass that builds no matrix.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use ndarray::{Array1, Array2};

use crate::dataset::Dataset;
use crate::error::{ColumnRef, DataError, ParseErrorKind};
use crate::sparse::SparseDataset;
use crate::text::{LineReader, find_ascii, offset_in, quote, zeros};

/// Rows between two checks of the memory that rows kept sparse take.
const ENTRY_CHECK_ROWS: usize = 1024;

/// Buffer size for reading files: big enough that reads are not the bottleneck.
const READ_BUFFER: usize = 1 << 16;

/// Rows collected while parsing.
///
/// With a known width each row goes straight into the dense row-major matrix. Without one (a
/// whole-file read that learns the width at the end, or a scan) the rows are kept sparse and laid
/// out once the width is known. Either way one line parser fills them.
struct Rows {
    y: Vec<f64>,
    layout: Layout,
    /// Largest 1-based index seen on an accepted line (explicit zeros included).
    max_index: usize,
}

enum Layout {
    Dense {
        width: usize,
        /// Row-major, `y.len() * width` values.
        x: Vec<f64>,
    },
    Sparse {
        /// The known width, if any: indices beyond it are errors.
        limit: Option<usize>,
        /// End of each row's entries in `col`/`val`.
        row_end: Vec<usize>,
        /// 0-based column of each non-zero value.
        col: Vec<usize>,
        val: Vec<f64>,
    },
}

impl Rows {
    /// Rows of a known width; indices beyond it are errors.
    fn dense(width: usize) -> Self {
        Rows {
            y: Vec::new(),
            layout: Layout::Dense {
                width,
                x: Vec::new(),
            },
            max_index: 0,
        }
    }

    /// Rows kept as their entries, of width `limit` if given, else of the largest index seen.
    fn sparse(limit: Option<usize>) -> Self {
        Rows {
            y: Vec::new(),
            layout: Layout::Sparse {
                limit,
                row_end: Vec::new(),
                col: Vec::new(),
                val: Vec::new(),
            },
            max_index: 0,
        }
    }

    /// Rows of width `n_features` if given, else of the largest index seen.
    fn new(n_features: Option<usize>) -> Self {
        n_features.map_or_else(|| Rows::sparse(None), Rows::dense)
    }

    fn len(&self) -> usize {
        self.y.len()
    }

    fn clear(&mut self) {
        self.y.clear();
        self.max_index = 0;
        match &mut self.layout {
            Layout::Dense { x, .. } => x.clear(),
            Layout::Sparse {
                row_end, col, val, ..
            } => {
                row_end.clear();
                col.clear();
                val.clear();
            }
        }
    }

    /// Parses one line into a new row; `Ok(false)` for a blank or comment-only line. On error
    /// nothing of the line is kept and the byte offset of the bad token is returned.
    ///
    /// A dense layout must have room for one more row (see [`Rows::reserve_row`]).
    fn push_line(&mut self, line: &str) -> Result<bool, (usize, ParseErrorKind)> {
        let content = find_ascii(line, b'#').map_or(line, |hash| &line[..hash]);
        let mut tokens = content.split_ascii_whitespace();
        let Some(label) = tokens.next() else {
            return Ok(false);
        };
        let at = offset_in(line, label);
        if find_ascii(label, b':').is_some() {
            return Err((at, ParseErrorKind::MissingLabel(quote(label))));
        }
        let y = match label.parse::<f64>() {
            Ok(y) if y.is_finite() => y,
            Ok(_) => return Err((at, ParseErrorKind::NonFiniteLabel(quote(label)))),
            Err(_) => return Err((at, ParseErrorKind::BadLabel(quote(label)))),
        };
        let last_index = match &mut self.layout {
            Layout::Dense { width, x } => {
                let start = x.len();
                x.resize(start + *width, 0.0);
                let row = &mut x[start..];
                parse_pairs(line, tokens, Some(row.len()), |c, v| row[c] = v)
                    .inspect_err(|_| x.truncate(start))?
            }
            Layout::Sparse {
                limit,
                row_end,
                col,
                val,
            } => {
                let start = col.len();
                let pairs = parse_pairs(line, tokens, *limit, |c, v| {
                    col.push(c);
                    val.push(v);
                });
                match pairs {
                    Ok(last_index) => {
                        row_end.push(col.len());
                        last_index
                    }
                    Err(e) => {
                        col.truncate(start);
                        val.truncate(start);
                        return Err(e);
                    }
                }
            }
        };
        self.y.push(y);
        self.max_index = self.max_index.max(last_index);
        Ok(true)
    }

    /// Makes room for one more dense row, or says the matrix cannot grow (a huge `n_features`
    /// must give an error, not abort the process).
    /// Rows kept sparse are checked every [`ENTRY_CHECK_ROWS`] rows: their entries (a column
    /// and a value, 16 bytes each) may take at most half the memory available, as a dense
    /// matrix may.
    fn reserve_row(&mut self, file: &str) -> Result<(), DataError> {
        match &mut self.layout {
            Layout::Dense { width, x } => {
                crate::text::check_dense(
                    file,
                    self.y.len() + 1,
                    *width,
                    crate::text::available_bytes(),
                )?;
                x.try_reserve(*width).map_err(|_| DataError::TooLarge {
                    file: file.to_owned(),
                    rows: self.y.len() + 1,
                    cols: *width,
                })?;
            }
            Layout::Sparse { col, .. } if self.y.len().is_multiple_of(ENTRY_CHECK_ROWS) => {
                crate::text::check_entries(
                    file,
                    self.y.len(),
                    col.len(),
                    crate::text::available_bytes(),
                )?;
            }
            Layout::Sparse { .. } => {}
        }
        Ok(())
    }

    /// Reads lines until `max_rows` rows are held or the input ends.
    fn fill<R: BufRead>(
        &mut self,
        lines: &mut LineReader<R>,
        max_rows: usize,
    ) -> Result<(), DataError> {
        while self.len() < max_rows {
            self.reserve_row(lines.name())?;
            let Some(line) = lines.next_line()? else {
                break;
            };
            if let Err((at, kind)) = self.push_line(line.text) {
                return Err(line.error(at, kind));
            }
        }
        Ok(())
    }

    /// The held rows as a dense dataset (dense layout: its width; sparse: the largest index
    /// seen), leaving no rows held.
    fn take_dataset(&mut self, file: &str) -> Result<Dataset, DataError> {
        let rows = self.len();
        let (x, width) = match &mut self.layout {
            Layout::Dense { width, x } => (std::mem::take(x), *width),
            Layout::Sparse {
                limit,
                row_end,
                col,
                val,
            } => {
                let width = limit.unwrap_or(self.max_index);
                let mut x = zeros(file, rows, width)?;
                let mut start = 0;
                for (dense_row, &end) in x.chunks_exact_mut(width.max(1)).zip(row_end.iter()) {
                    for (&c, &v) in col[start..end].iter().zip(&val[start..end]) {
                        dense_row[c] = v;
                    }
                    start = end;
                }
                (x, width)
            }
        };
        let y = Array1::from(std::mem::take(&mut self.y));
        self.clear();
        let too_large = || DataError::TooLarge {
            file: file.to_owned(),
            rows,
            cols: width,
        };
        let x = Array2::from_shape_vec((rows, width), x).map_err(|_| too_large())?;
        Dataset::new(x, y)
    }
    /// The held rows as their entries (of the known width, else the largest index seen),
    /// leaving no rows held. Only for rows read with [`Rows::sparse`].
    fn take_sparse(&mut self, file: &str) -> Result<SparseDataset, DataError> {
        let Layout::Sparse {
            limit,
            row_end,
            col,
            val,
        } = &mut self.layout
        else {
            return Err(DataError::InvalidArgument(
                "rows read into a dense matrix are not taken as sparse rows".into(),
            ));
        };
        let width = limit.unwrap_or(self.max_index);
        if u32::try_from(width.saturating_sub(1)).is_err() {
            return Err(DataError::TooWide {
                file: file.to_owned(),
                cols: width,
            });
        }
        let columns: Vec<u32> = std::mem::take(col).into_iter().map(|c| c as u32).collect();
        let mut offsets = Vec::with_capacity(row_end.len() + 1);
        offsets.push(0);
        offsets.append(row_end);
        let values = std::mem::take(val);
        let y = Array1::from(std::mem::take(&mut self.y));
        self.clear();
        SparseDataset::new(width, offsets, columns, values, y)
    }
}

/// Parses the `index:value` tokens of one line, handing each non-zero value to `put` with its
/// 0-based column, and returns the last (largest) index. Indices beyond `limit` are errors.
fn parse_pairs<'a>(
    line: &str,
    tokens: impl Iterator<Item = &'a str>,
    limit: Option<usize>,
    mut put: impl FnMut(usize, f64),
) -> Result<usize, (usize, ParseErrorKind)> {
    let mut previous = 0;
    for token in tokens {
        let at = offset_in(line, token);
        let Some(colon) = find_ascii(token, b':') else {
            return Err((at, ParseErrorKind::MissingColon(quote(token))));
        };
        let (index, value) = (&token[..colon], &token[colon + 1..]);
        if index == "qid" {
            continue;
        }
        let index: usize = index
            .parse()
            .map_err(|_| (at, ParseErrorKind::BadIndex(quote(index))))?;
        if index == 0 {
            return Err((at, ParseErrorKind::ZeroIndex));
        }
        if index == previous {
            return Err((at, ParseErrorKind::DuplicateIndex(index)));
        }
        if index < previous {
            return Err((at, ParseErrorKind::DecreasingIndex { index, previous }));
        }
        if let Some(n_features) = limit
            && index > n_features
        {
            return Err((at, ParseErrorKind::IndexOutOfRange { index, n_features }));
        }
        let v = match value.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            Ok(_) => {
                let kind = ParseErrorKind::NonFiniteValue {
                    index,
                    value: quote(value),
                };
                return Err((offset_in(line, value), kind));
            }
            Err(_) => {
                let kind = ParseErrorKind::BadValue {
                    index,
                    value: quote(value),
                };
                return Err((offset_in(line, value), kind));
            }
        };
        // Explicit zeros are legal but need no storage: the dense matrix starts at zero.
        if v != 0.0 {
            put(index - 1, v);
        }
        previous = index;
    }
    Ok(previous)
}

fn open(path: &Path) -> Result<(BufReader<File>, String), DataError> {
    let name = path.display().to_string();
    match File::open(path) {
        Ok(f) => Ok((BufReader::with_capacity(READ_BUFFER, f), name)),
        Err(source) => Err(DataError::Io { file: name, source }),
    }
}

/// Reads a whole LIBSVM file.
///
/// With `n_features: None` the width is the largest index in the file; pass the published
/// dimension when you know it, since a file (a test split, say) need not mention the last
/// feature. An index beyond a given `n_features` is an error.
///
/// ```
/// use ndarray::array;
/// use rks_data::{Dataset, libsvm};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("small.train");
/// let data = Dataset::new(array![[1.0, 0.0, 0.0], [0.0, 2.5, 0.0]], array![0.0, 1.0])?;
/// libsvm::write_path(&path, &data)?;
///
/// assert_eq!(libsvm::read_path(&path, Some(3))?, data);
/// // Nothing mentions feature 3, so without the width only 2 columns are found.
/// assert_eq!(libsvm::read_path(&path, None)?.n_features(), 2);
/// assert_eq!(libsvm::scan_dims(&path)?, (2, 2));
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub fn read_path(path: impl AsRef<Path>, n_features: Option<usize>) -> Result<Dataset, DataError> {
    let (reader, name) = open(path.as_ref())?;
    read(reader, &name, n_features)
}

/// Reads LIBSVM text from any buffered reader; `source_name` is used in error messages.
///
/// ```
/// use rks_data::libsvm;
///
/// let text = "1 1:0.5 3:2   # first\r\n\n-1\tqid:7 2:1.5e-3\n";
/// let data = libsvm::read(text.as_bytes(), "memory", None)?;
/// assert_eq!(data.y.to_vec(), vec![1.0, -1.0]);
/// assert_eq!(data.x.row(0).to_vec(), vec![0.5, 0.0, 2.0]);
/// assert_eq!(data.x.row(1).to_vec(), vec![0.0, 1.5e-3, 0.0]);
///
/// // The same text read with a known, larger width.
/// assert_eq!(libsvm::read(text.as_bytes(), "memory", Some(5))?.n_features(), 5);
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub fn read(
    reader: impl BufRead,
    source_name: &str,
    n_features: Option<usize>,
) -> Result<Dataset, DataError> {
    read_all(
        reader,
        source_name,
        Rows::new(n_features),
        Rows::take_dataset,
    )
}

/// Every row of `reader` into `rows`, laid out by `take` (at least one row).
fn read_all<T>(
    reader: impl BufRead,
    source_name: &str,
    mut rows: Rows,
    take: fn(&mut Rows, &str) -> Result<T, DataError>,
) -> Result<T, DataError> {
    let mut lines = LineReader::new(reader, source_name);
    rows.fill(&mut lines, usize::MAX)?;
    if rows.len() == 0 {
        return Err(DataError::NoRows {
            file: lines.name().to_owned(),
        });
    }
    take(&mut rows, lines.name())
}

/// Reads a whole LIBSVM file into its non-zero entries ([`SparseDataset`]): the form for wide
/// files whose dense matrix would not fit in memory. `n_features` as in [`read_path`].
///
/// ```
/// use rks_data::libsvm;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("wide.train");
/// std::fs::write(&path, "1 7:0.5 90000:2\n-1 3:1\n")?;
/// let data = libsvm::read_sparse_path(&path, None)?;
/// assert_eq!((data.n_rows(), data.n_features(), data.non_zeros()), (2, 90_000, 3));
/// assert_eq!(data.row(0), (&[6u32, 89_999][..], &[0.5, 2.0][..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_sparse_path(
    path: impl AsRef<Path>,
    n_features: Option<usize>,
) -> Result<SparseDataset, DataError> {
    let (reader, name) = open(path.as_ref())?;
    read_sparse(reader, &name, n_features)
}

/// [`read_sparse_path`] from any buffered reader; `source_name` is used in error messages.
pub fn read_sparse(
    reader: impl BufRead,
    source_name: &str,
    n_features: Option<usize>,
) -> Result<SparseDataset, DataError> {
    read_all(
        reader,
        source_name,
        Rows::sparse(n_features),
        Rows::take_sparse,
    )
}

/// Streams a LIBSVM file once, checking every line, and returns `(rows, largest index)` without
/// building a matrix: the way to learn the width before a chunked read.
///
/// The largest index counts explicit zeros (`5:0` makes it at least 5); it is smaller than the
/// true width when the last features are zero in every row, so prefer a published dimension.
pub fn scan_dims(path: impl AsRef<Path>) -> Result<(usize, usize), DataError> {
    let (reader, name) = open(path.as_ref())?;
    scan(reader, &name)
}

/// [`scan_dims`] for any buffered reader.
///
/// ```
/// let text = "1 2:1\n0 7:0\n1 1:3\n";
/// assert_eq!(rks_data::libsvm::scan(text.as_bytes(), "memory")?, (3, 7));
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub fn scan(reader: impl BufRead, source_name: &str) -> Result<(usize, usize), DataError> {
    let mut lines = LineReader::new(reader, source_name);
    // One row at a time, so memory stays at one line whatever the file size.
    let mut row = Rows::sparse(None);
    let (mut n_rows, mut max_index) = (0, 0);
    loop {
        row.clear();
        row.fill(&mut lines, 1)?;
        if row.len() == 0 {
            break;
        }
        n_rows += 1;
        max_index = max_index.max(row.max_index);
    }
    if n_rows == 0 {
        return Err(DataError::NoRows {
            file: lines.name().to_owned(),
        });
    }
    Ok((n_rows, max_index))
}

/// Reads a LIBSVM file in chunks of at most `chunk_rows` rows, each a [`Dataset`] of width
/// `n_features`; memory stays at one chunk whatever the file size.
///
/// The width is required because zeros are omitted: a chunk cannot tell how wide the data is
/// (see the [module docs](self)). Line numbers in errors continue across chunks. A bad line
/// turns the chunk it falls in into that error (the chunk's earlier rows are not returned) and
/// ends the iteration. An input with no rows yields one [`DataError::NoRows`].
///
/// ```
/// use rks_data::libsvm::LibsvmChunks;
///
/// let text = "1 1:1\n0 2:2\n\n1 3:3\n0 1:4\n1 2:5\n";
/// let chunks = LibsvmChunks::new(text.as_bytes(), "memory", 3, 2)?;
/// let sizes: Vec<usize> = chunks.map(|c| c.map(|d| d.n_rows())).collect::<Result<_, _>>()?;
/// assert_eq!(sizes, vec![2, 2, 1]);
///
/// // Errors name the line in the whole input, not in the chunk.
/// let bad = "1 1:1\n0 2:2\n1 3:x\n";
/// let err = LibsvmChunks::new(bad.as_bytes(), "memory", 3, 2)?
///     .find_map(Result::err)
///     .unwrap();
/// assert_eq!(err.to_string(), "memory:3:5: bad value 'x' for feature 3: not a number");
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub struct LibsvmChunks<R = BufReader<File>> {
    lines: LineReader<R>,
    n_features: usize,
    chunk_rows: usize,
    rows: Rows,
    rows_read: usize,
    done: bool,
}

impl LibsvmChunks<BufReader<File>> {
    /// Opens `path` for chunked reading.
    pub fn open(
        path: impl AsRef<Path>,
        n_features: usize,
        chunk_rows: usize,
    ) -> Result<Self, DataError> {
        let (reader, name) = open(path.as_ref())?;
        Self::new(reader, &name, n_features, chunk_rows)
    }
}

impl<R: BufRead> LibsvmChunks<R> {
    /// Chunked reading from any buffered reader; `source_name` is used in error messages.
    /// `chunk_rows` must be at least 1.
    pub fn new(
        reader: R,
        source_name: &str,
        n_features: usize,
        chunk_rows: usize,
    ) -> Result<Self, DataError> {
        if chunk_rows == 0 {
            return Err(DataError::InvalidArgument(
                "chunk_rows must be at least 1".to_owned(),
            ));
        }
        Ok(LibsvmChunks {
            lines: LineReader::new(reader, source_name),
            n_features,
            chunk_rows,
            rows: Rows::dense(n_features),
            rows_read: 0,
            done: false,
        })
    }

    /// The width of every chunk.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Rows returned so far.
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }
}

impl<R> std::fmt::Debug for LibsvmChunks<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibsvmChunks")
            .field("source", &self.lines.name())
            .field("n_features", &self.n_features)
            .field("chunk_rows", &self.chunk_rows)
            .field("rows_read", &self.rows_read)
            .field("done", &self.done)
            .finish()
    }
}

/// After the last chunk or an error, `next` keeps returning `None`.
impl<R: BufRead> std::iter::FusedIterator for LibsvmChunks<R> {}

impl<R: BufRead> LibsvmChunks<R> {
    /// The next chunk, as `take` lays out the rows read.
    fn next_chunk<T>(
        &mut self,
        take: fn(&mut Rows, &str) -> Result<T, DataError>,
    ) -> Option<Result<T, DataError>> {
        if self.done {
            return None;
        }
        self.rows.clear();
        if let Err(e) = self.rows.fill(&mut self.lines, self.chunk_rows) {
            self.done = true;
            return Some(Err(e));
        }
        let n = self.rows.len();
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
        let chunk = take(&mut self.rows, self.lines.name());
        if chunk.is_err() {
            self.done = true;
        }
        Some(chunk)
    }
}

impl<R: BufRead> Iterator for LibsvmChunks<R> {
    type Item = Result<Dataset, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk(Rows::take_dataset)
    }
}

/// [`LibsvmChunks`] whose chunks hold their rows' non-zero entries ([`SparseDataset`]): the
/// chunked reading of files too wide for dense chunks. The same rules and errors.
///
/// ```
/// use rks_data::libsvm::LibsvmSparseChunks;
///
/// let text = "1 1:1\n0 90000:2\n\n1 3:3\n";
/// let chunks = LibsvmSparseChunks::new(text.as_bytes(), "memory", 90_000, 2)?;
/// let entries: Vec<usize> = chunks.map(|c| c.map(|d| d.non_zeros())).collect::<Result<_, _>>()?;
/// assert_eq!(entries, vec![2, 1]);
/// # Ok::<(), rks_data::DataError>(())
/// ```
#[derive(Debug)]
pub struct LibsvmSparseChunks<R = BufReader<File>>(LibsvmChunks<R>);

impl LibsvmSparseChunks<BufReader<File>> {
    /// Opens `path` for chunked reading (as [`LibsvmChunks::open`]).
    pub fn open(
        path: impl AsRef<Path>,
        n_features: usize,
        chunk_rows: usize,
    ) -> Result<Self, DataError> {
        LibsvmChunks::open(path, n_features, chunk_rows).map(Self::of)
    }
}

impl<R: BufRead> LibsvmSparseChunks<R> {
    /// Chunked reading from any buffered reader (as [`LibsvmChunks::new`]).
    pub fn new(
        reader: R,
        source_name: &str,
        n_features: usize,
        chunk_rows: usize,
    ) -> Result<Self, DataError> {
        LibsvmChunks::new(reader, source_name, n_features, chunk_rows).map(Self::of)
    }

    /// `chunks` holding their rows sparse (before any is read).
    fn of(mut chunks: LibsvmChunks<R>) -> Self {
        chunks.rows = Rows::sparse(Some(chunks.n_features));
        Self(chunks)
    }
}

/// After the last chunk or an error, `next` keeps returning `None`.
impl<R: BufRead> std::iter::FusedIterator for LibsvmSparseChunks<R> {}

impl<R: BufRead> Iterator for LibsvmSparseChunks<R> {
    type Item = Result<SparseDataset, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_chunk(Rows::take_sparse)
    }
}

/// Writes `data` as LIBSVM text: labels and values printed with `{}` (which round-trips every
/// finite `f64` exactly), zeros omitted, indices 1-based.
///
/// Non-finite values are refused before anything is written, since the readers would refuse
/// them. Since trailing zero features leave no trace, read the result back with
/// `n_features = Some(data.n_features())`. Wrap unbuffered writers in a [`BufWriter`].
///
/// ```
/// use ndarray::array;
/// use rks_data::{Dataset, libsvm};
///
/// let data = Dataset::new(array![[0.5, 0.0, -2.0], [0.0, 0.0, 0.0]], array![1.0, 0.0])?;
/// let mut text = Vec::new();
/// libsvm::write(&mut text, &data)?;
/// assert_eq!(String::from_utf8(text.clone()).unwrap(), "1 1:0.5 3:-2\n0\n");
/// assert_eq!(libsvm::read(&text[..], "memory", Some(3))?, data);
/// # Ok::<(), rks_data::DataError>(())
/// ```
pub fn write(mut w: impl Write, data: &Dataset) -> Result<(), DataError> {
    check_finite(data)?;
    let io = |source| DataError::Io {
        file: "<output>".to_owned(),
        source,
    };
    for (label, row) in data.y.iter().zip(data.x.rows()) {
        write!(w, "{label}").map_err(io)?;
        for (j, v) in row.iter().enumerate() {
            if *v != 0.0 {
                write!(w, " {}:{v}", j + 1).map_err(io)?;
            }
        }
        w.write_all(b"\n").map_err(io)?;
    }
    w.flush().map_err(io)
}

/// [`write()`] to a new file at `path` (replacing any file there).
pub fn write_path(path: impl AsRef<Path>, data: &Dataset) -> Result<(), DataError> {
    let path = path.as_ref();
    let io = |source| DataError::Io {
        file: path.display().to_string(),
        source,
    };
    check_finite(data)?;
    let file = File::create(path).map_err(io)?;
    write(BufWriter::new(file), data).map_err(|e| match e {
        DataError::Io { source, .. } => io(source),
        other => other,
    })
}

fn check_finite(data: &Dataset) -> Result<(), DataError> {
    if data.x.nrows() != data.y.len() {
        return Err(DataError::ShapeMismatch {
            x_rows: data.x.nrows(),
            y_len: data.y.len(),
        });
    }
    for (row, (&label, xs)) in data.y.iter().zip(data.x.rows()).enumerate() {
        if !label.is_finite() {
            return Err(DataError::NonFinite {
                row,
                column: ColumnRef::Label,
                value: label,
            });
        }
        if let Some((j, &value)) = xs.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DataError::NonFinite {
                row,
                column: ColumnRef::Feature(j),
                value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, n_features: Option<usize>) -> String {
        read(text.as_bytes(), "t", n_features)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn failed_line_leaves_no_partial_row() {
        for mut rows in [Rows::sparse(None), Rows::dense(5)] {
            rows.reserve_row("t").unwrap();
            assert!(rows.push_line("1 1:1 2:2 2:3").is_err());
            assert_eq!((rows.len(), rows.max_index), (0, 0));
            match &rows.layout {
                Layout::Dense { x, .. } => assert!(x.is_empty()),
                Layout::Sparse {
                    row_end, col, val, ..
                } => {
                    assert!(row_end.is_empty() && col.is_empty() && val.is_empty())
                }
            }
            assert!(rows.push_line("1 4:1").unwrap());
            assert_eq!(rows.max_index, 4);
            let d = rows.take_dataset("t").unwrap();
            assert_eq!(d.n_rows(), 1);
            assert_eq!(d.x[[0, 3]], 1.0);
            assert_eq!(rows.len(), 0);
        }
    }

    #[test]
    fn sparse_reads_hold_the_same_rows() {
        let text = "1 1:1 3:2\n\n0 2:-1 4:0.5 5:0 # c\n2\n1 4:3\n";
        let dense = read(text.as_bytes(), "t", None).unwrap();
        let sparse = read_sparse(text.as_bytes(), "t", None).unwrap();
        assert_eq!(sparse.n_features(), 5);
        assert_eq!(sparse.non_zeros(), 5);
        assert_eq!(sparse.offsets(), &[0, 2, 4, 4, 5]);
        assert_eq!(
            sparse.to_dense().unwrap(),
            read(text.as_bytes(), "t", Some(5)).unwrap()
        );
        assert_eq!(dense.n_features(), 5);
        // A known width: wider is kept, an index beyond it is the dense reader's error.
        assert_eq!(
            read_sparse(text.as_bytes(), "t", Some(9))
                .unwrap()
                .n_features(),
            9
        );
        let e = read_sparse(text.as_bytes(), "t", Some(4)).unwrap_err();
        let d = read(text.as_bytes(), "t", Some(4)).unwrap_err();
        assert_eq!(e.to_string(), d.to_string());
        assert!(e.to_string().starts_with("t:3:"), "{e}");
    }

    #[test]
    fn sparse_chunks_hold_the_dense_chunks_rows() {
        let text = "1 1:1 3:2\n\n0 2:-1 4:0.5 # c\n2\n1 4:3\n0 1:7\n";
        for chunk_rows in 1..=6 {
            let dense: Vec<Dataset> = LibsvmChunks::new(text.as_bytes(), "t", 4, chunk_rows)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let sparse: Vec<Dataset> = LibsvmSparseChunks::new(text.as_bytes(), "t", 4, chunk_rows)
                .unwrap()
                .map(|c| c.unwrap().to_dense().unwrap())
                .collect();
            assert_eq!(dense, sparse, "{chunk_rows}");
        }
        let bad = "1 1:1\n0 2:2\n1 5:1\n";
        fn errors(mut chunks: impl Iterator<Item = Result<(), DataError>>) -> String {
            chunks.find_map(Result::err).unwrap().to_string()
        }
        let dense = errors(
            &mut LibsvmChunks::new(bad.as_bytes(), "t", 4, 2)
                .unwrap()
                .map(|c| c.map(drop)),
        );
        let sparse = errors(
            &mut LibsvmSparseChunks::new(bad.as_bytes(), "t", 4, 2)
                .unwrap()
                .map(|c| c.map(drop)),
        );
        assert_eq!(dense, sparse);
        assert!(dense.starts_with("t:3:3:"), "{dense}");
        let mut empty = LibsvmSparseChunks::new("".as_bytes(), "t", 4, 2).unwrap();
        assert!(matches!(empty.next(), Some(Err(DataError::NoRows { .. }))));
        assert!(empty.next().is_none());
    }

    #[test]
    fn sparse_reads_refuse_what_they_cannot_hold() {
        let e = read_sparse("".as_bytes(), "t", None).unwrap_err();
        assert!(matches!(e, DataError::NoRows { .. }), "{e}");
        // Indices past 2³² cannot be held as 32-bit columns: an error, not a wrapped index.
        let e = read_sparse("1 4294967297:1\n".as_bytes(), "t", None).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::TooWide {
                    cols: 4_294_967_297,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "t: 4294967297 columns are more than sparse rows index (2^32)"
        );
        let widest = read_sparse("1 4294967296:1\n".as_bytes(), "t", None).unwrap();
        assert_eq!(widest.row(0).0, &[u32::MAX]);
        let e = read_sparse("1 1:nan\n".as_bytes(), "t", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t:1:5: value 'nan' for feature 1 is not finite (the data must be finite)"
        );
    }

    #[test]
    fn dense_and_sparse_layouts_agree() {
        let text = "1 1:1 3:2\n\n0 2:-1 4:0.5 # c\n2\n1 4:3\n";
        let sparse = read(text.as_bytes(), "t", None).unwrap();
        let dense = read(text.as_bytes(), "t", Some(4)).unwrap();
        assert_eq!(sparse, dense);
        assert_eq!(dense.x.row(1).to_vec(), vec![0.0, -1.0, 0.0, 0.5]);
    }

    #[test]
    fn huge_width_is_an_error_not_an_abort() {
        let e = read("1 1:1\n".as_bytes(), "t", Some(usize::MAX / 2)).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::TooLarge { .. } | DataError::OutOfMemory { .. }
            ),
            "{e}"
        );
    }

    #[test]
    fn explicit_zero_counts_for_width() {
        let d = read("1 1:1 4:0\n".as_bytes(), "t", None).unwrap();
        assert_eq!(d.n_features(), 4);
    }

    #[test]
    fn label_only_rows_are_all_zero() {
        let d = read("3\n4 2:1\n".as_bytes(), "t", Some(2)).unwrap();
        assert_eq!(d.x.row(0).to_vec(), vec![0.0, 0.0]);
    }

    #[test]
    fn comment_only_and_whitespace_lines_are_skipped() {
        let d = read(
            " \t \n# header\n  # indented\n1 1:1\n".as_bytes(),
            "t",
            None,
        )
        .unwrap();
        assert_eq!(d.n_rows(), 1);
    }

    #[test]
    fn no_rows_is_an_error() {
        assert_eq!(
            err("", None),
            "t: no data rows (the input is empty or holds only a header, blank lines or comments)"
        );
        assert!(err("# only\n\n", None).starts_with("t: no data rows"));
    }

    #[test]
    fn chunk_rows_zero_is_refused() {
        assert!(matches!(
            LibsvmChunks::new(&b""[..], "t", 1, 0),
            Err(DataError::InvalidArgument(_))
        ));
    }

    #[test]
    fn writer_refuses_non_finite() {
        let data = Dataset::new(ndarray::array![[1.0, f64::NAN]], ndarray::array![0.0]).unwrap();
        let mut out = Vec::new();
        let e = write(&mut out, &data).unwrap_err();
        assert_eq!(
            e.to_string(),
            "row 0 (0-based), feature column 1 (0-based): NaN is not finite"
        );
        assert!(out.is_empty());
    }
}

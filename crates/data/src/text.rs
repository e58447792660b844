//! Line-oriented input shared by the LIBSVM and CSV readers: one reused buffer, line numbers,
//! CRLF and BOM handling, and turning byte offsets into the character columns users see.

use std::io::BufRead;

use crate::error::{DataError, Location, ParseErrorKind};

/// The name used in messages when a reader is given an empty source name.
const ANONYMOUS: &str = "<input>";

/// One line of input and where it comes from.
#[derive(Debug)]
pub(crate) struct Line<'a> {
    /// 1-based line number.
    pub(crate) number: usize,
    /// The line without its line end.
    pub(crate) text: &'a str,
    /// The source name used in messages.
    pub(crate) file: &'a str,
}

impl Line<'_> {
    /// A parse error at byte offset `byte` of this line.
    pub(crate) fn error(&self, byte: usize, kind: ParseErrorKind) -> DataError {
        DataError::Parse {
            location: Location {
                file: self.file.to_owned(),
                line: self.number,
                column: column_of(self.text, byte),
            },
            kind,
        }
    }
}

/// Reads lines into one reused buffer (no allocation per line once the buffer has grown to the
/// longest line) and counts them, so errors can say where they are.
pub(crate) struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    line_no: usize,
    name: String,
}

impl<R> LineReader<R> {
    /// The source name used in messages.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(reader: R, name: &str) -> Self {
        let name = if name.is_empty() { ANONYMOUS } else { name };
        LineReader {
            reader,
            buf: Vec::new(),
            line_no: 0,
            name: name.to_owned(),
        }
    }

    /// The next line without its `\n` or `\r\n` (and without a UTF-8 byte-order mark on line 1),
    /// with its 1-based number; `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> Result<Option<Line<'_>>, DataError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| DataError::Io {
                file: self.name.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        let mut bytes = &self.buf[..];
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
        }
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        if self.line_no == 1 {
            // Spreadsheet programs start CSV files with a BOM; it is not part of the data.
            if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
                bytes = rest;
            }
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Some(Line {
                number: self.line_no,
                text,
                file: &self.name,
            })),
            Err(e) => {
                // The valid prefix is UTF-8, so its characters can be counted for the column.
                let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or("");
                Err(DataError::Parse {
                    location: Location {
                        file: self.name.clone(),
                        line: self.line_no,
                        column: valid.chars().count() + 1,
                    },
                    kind: ParseErrorKind::InvalidUtf8,
                })
            }
        }
    }
}

/// The 1-based character column of byte offset `byte` in `line`.
///
/// Only called on the error path, so counting characters (rather than tracking them while
/// parsing) costs nothing on good input.
pub(crate) fn column_of(line: &str, byte: usize) -> usize {
    line.get(..byte)
        .map_or(byte, |prefix| prefix.chars().count())
        + 1
}

/// Byte offset of `part` inside `line`; `part` must be a sub-slice of `line`.
pub(crate) fn offset_in(line: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(line.as_ptr() as usize)
}

/// Byte position of the first `b` (an ASCII byte) in `s`.
///
/// A plain loop: the tokens and fields searched are a few bytes long, where `str::find`'s
/// searcher set-up costs more than the search (it showed at ~10% of parse time).
pub(crate) fn find_ascii(s: &str, b: u8) -> Option<usize> {
    debug_assert!(b.is_ascii());
    s.bytes().position(|c| c == b)
}

/// A token as quoted in an error message: cut to 40 characters.
pub(crate) fn quote(token: &str) -> String {
    const MAX: usize = 40;
    match token.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &token[..cut]),
        None => token.to_owned(),
    }
}

/// A zero-filled `rows x cols` buffer, or [`DataError::TooLarge`] instead of aborting the process
/// when the allocation is impossible (an absurd LIBSVM index must not kill the caller).
pub(crate) fn zeros(file: &str, rows: usize, cols: usize) -> Result<Vec<f64>, DataError> {
    let too_large = || DataError::TooLarge {
        file: file.to_owned(),
        rows,
        cols,
    };
    let len = rows.checked_mul(cols).ok_or_else(too_large)?;
    // ndarray refuses shapes whose byte size overflows isize.
    if len > isize::MAX as usize / std::mem::size_of::<f64>() {
        return Err(too_large());
    }
    check_dense(file, rows, cols, available_bytes())?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| too_large())?;
    v.resize(len, 0.0);
    Ok(v)
}

/// Bytes of memory the system has available for new allocations: `MemAvailable` of
/// `/proc/meminfo` (Linux), read once per process; `None` where it cannot be read.
pub(crate) fn available_bytes() -> Option<u64> {
    static AVAILABLE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    })
}

/// Bytes an entry of rows kept sparse takes while a file is read: its column and its value.
pub(crate) const ENTRY_BYTES: u64 = 16;

/// [`DataError::TooManyEntries`] when the `entries` of the first `rows` rows, kept sparse, take
/// more than half of `available` bytes (no check when it is unknown).
pub(crate) fn check_entries(
    file: &str,
    rows: usize,
    entries: usize,
    available: Option<u64>,
) -> Result<(), DataError> {
    let bytes = (entries as u64).saturating_mul(ENTRY_BYTES);
    match available {
        Some(available) if bytes > available / 2 => Err(DataError::TooManyEntries {
            file: file.to_owned(),
            rows,
            entries,
            bytes,
            available,
        }),
        _ => Ok(()),
    }
}

/// [`DataError::OutOfMemory`] when a dense f64 matrix of `rows × cols` would take more than
/// half of `available` bytes (no check when it is unknown).
pub(crate) fn check_dense(
    file: &str,
    rows: usize,
    cols: usize,
    available: Option<u64>,
) -> Result<(), DataError> {
    let bytes = (rows as u64)
        .saturating_mul(cols as u64)
        .saturating_mul(std::mem::size_of::<f64>() as u64);
    match available {
        Some(available) if bytes > available / 2 => Err(DataError::OutOfMemory {
            file: file.to_owned(),
            rows,
            cols,
            bytes,
            available,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_strip_crlf_and_bom_and_count() {
        let input = "\u{feff}a\r\nb\n\nc".as_bytes();
        let mut r = LineReader::new(input, "");
        let mut got = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            assert_eq!(l.file, "<input>");
            got.push((l.number, l.text.to_owned()));
        }
        let want = [(1, "a"), (2, "b"), (3, ""), (4, "c")];
        assert_eq!(got.len(), want.len());
        for ((n, l), (wn, wl)) in got.iter().zip(want) {
            assert_eq!((*n, l.as_str()), (wn, wl));
        }
        assert_eq!(r.name(), "<input>");
    }

    #[test]
    fn invalid_utf8_reports_character_column() {
        let input: &[u8] = b"ok\n\xC3\xA9x\xFFy\n";
        let mut r = LineReader::new(input, "f");
        r.next_line().unwrap();
        let e = r.next_line().unwrap_err();
        assert_eq!(e.to_string(), "f:2:3: invalid UTF-8");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let line = "é1 x";
        assert_eq!(column_of(line, 0), 1);
        assert_eq!(column_of(line, line.find('x').unwrap()), 4);
    }

    #[test]
    fn find_ascii_finds_the_first_byte() {
        assert_eq!(find_ascii("ab:c:d", b':'), Some(2));
        assert_eq!(find_ascii("é:", b':'), Some(2));
        assert_eq!(find_ascii("abc", b':'), None);
        assert_eq!(find_ascii("", b':'), None);
    }

    #[test]
    fn quote_cuts_long_tokens() {
        assert_eq!(quote("abc"), "abc");
        let long = "x".repeat(100);
        assert_eq!(quote(&long), format!("{}...", "x".repeat(40)));
    }

    #[test]
    fn zeros_refuses_impossible_sizes() {
        assert!(matches!(
            zeros("f", usize::MAX, 2),
            Err(DataError::TooLarge { .. })
        ));
        assert!(matches!(
            zeros("f", 1, usize::MAX / 4),
            Err(DataError::TooLarge { .. })
        ));
        assert_eq!(zeros("f", 2, 3).unwrap(), vec![0.0; 6]);
    }

    #[test]
    fn entries_beyond_half_the_memory_are_refused() {
        // 10⁹ entries of 16 bytes against 20 GB available.
        let e = check_entries("f", 5_000_000, 1_000_000_000, Some(20_000_000_000)).unwrap_err();
        assert!(matches!(e, DataError::TooManyEntries { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "f: the 1000000000 non-zero entries of its first 5000000 rows take 16.0 GB held \
             sparse, more than half of the 20.0 GB of memory available: read fewer rows"
        );
        assert!(check_entries("f", 5_000_000, 500_000_000, Some(20_000_000_000)).is_ok());
        assert!(check_entries("f", usize::MAX, usize::MAX, None).is_ok());
    }

    #[test]
    fn dense_matrices_beyond_half_the_memory_are_refused() {
        // 1,000 × 2,000,000 f64 = 16 GB against 20 GB available: refused before any allocation.
        let e = check_dense("f", 1000, 2_000_000, Some(20_000_000_000)).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(
                e,
                DataError::OutOfMemory {
                    bytes: 16_000_000_000,
                    ..
                }
            ),
            "{text}"
        );
        assert!(
            text.contains("16.0 GB") && text.contains("20.0 GB"),
            "{text}"
        );
        assert!(check_dense("f", 1000, 1_000_000, Some(20_000_000_000)).is_ok());
        assert!(check_dense("f", usize::MAX, usize::MAX, None).is_ok());
    }
}

//! `rks fit --weights FILE`: a weight per training row, one number a line in the rows' order
//! (LIBLINEAR's `-W` file), read and checked before the fit.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use ndarray::Array1;
use rks_solvers::WeightedChunk;

use crate::error::{CliError, Result};

/// The longest line a weights file may have, in bytes (a number and a comment).
const MAX_LINE: usize = 4096;

/// The weights of `rows` training rows in the file at `path`: one finite number ≥ 0 a line (blank
/// lines and surrounding spaces ignored, `#` starting a comment), exactly one per row, not all 0.
/// A line that is not such a number is an error naming `path:line:column`; the file is read
/// line by line and refused at the first line past `rows`, so its size bounds nothing.
pub fn read(path: &Path, rows: usize) -> Result<Array1<f64>> {
    let mut reader = WeightsReader::open(path)?;
    let weights = reader.next_weights(rows)?;
    reader.finish()?;
    if weights.iter().all(|&w| w == 0.0) {
        return Err(CliError::data(path, "every weight is 0: no row to fit"));
    }
    Ok(weights)
}

/// A streamed fit's error: a reader's, or this module's (a [`CliError`]).
pub type StreamError = Box<dyn std::error::Error + Send + Sync>;

/// The `chunks` of a streamed training file, each with its rows' weights read in step from the
/// file at `path` (opened anew, so for each pass over the chunks); once the chunks end, a weight
/// left in the file is an error. `total` is set to the weights' sum at the end of a pass.
pub fn in_step<'a>(
    chunks: crate::input::Chunks,
    path: &Path,
    total: &'a std::cell::Cell<Option<f64>>,
) -> Result<impl Iterator<Item = std::result::Result<WeightedChunk, StreamError>> + 'a> {
    let mut reader = Some(WeightsReader::open(path)?);
    let mut chunks = chunks;
    Ok(std::iter::from_fn(move || match chunks.next() {
        Some(chunk) => Some(chunk.map_err(StreamError::from).and_then(|data| {
            let weights = reader
                .as_mut()
                .ok_or_else(|| StreamError::from("the weights file was closed"))?
                .next_weights(data.y.len())?;
            Ok((data.x, data.y, weights))
        })),
        None => {
            let reader = reader.take()?;
            total.set(Some(reader.total()));
            reader.finish().err().map(|e| Err(StreamError::from(e)))
        }
    }))
}

/// A weights file read in step with the chunks of a streamed training file
/// ([`next_weights`](Self::next_weights) for each chunk's rows, then [`finish`](Self::finish)).
pub struct WeightsReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// Lines read so far.
    line: usize,
    /// Weights read so far.
    read: usize,
    /// Their sum.
    total: f64,
}

impl WeightsReader {
    /// The file at `path`, opened.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| CliError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            reader: BufReader::new(file),
            line: 0,
            read: 0,
            total: 0.0,
        })
    }

    /// The weights of the next `rows` training rows: fewer left in the file is an error.
    pub fn next_weights(&mut self, rows: usize) -> Result<Array1<f64>> {
        let mut weights = Vec::with_capacity(rows.min(1 << 20));
        while weights.len() < rows {
            match self.next_weight()? {
                Some(w) => weights.push(w),
                None => return Err(self.ended()),
            }
        }
        Ok(Array1::from(weights))
    }

    /// Passes over the weights of the next `rows` training rows (another worker's), which do
    /// not count in [`total`](Self::total): fewer left in the file is an error.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub fn skip(&mut self, rows: u64) -> Result<()> {
        for _ in 0..rows {
            if self.next_weight()?.is_none() {
                return Err(self.ended());
            }
        }
        self.total = 0.0;
        Ok(())
    }

    /// The error of a file that ends before the training rows do.
    fn ended(&self) -> CliError {
        CliError::data(
            &self.path,
            format!(
                "the file ends after {} weights: training row {} has none (one a line, in the \
                 rows' order)",
                self.read,
                self.read + 1
            ),
        )
    }

    /// The weights' sum so far.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// Checks that the file holds no weight past the rows read: the first is an error naming
    /// its line.
    pub fn finish(mut self) -> Result<()> {
        let rows = self.read;
        match self.next_weight()? {
            None => Ok(()),
            Some(_) => Err(CliError::data(
                &self.path,
                format!(
                    "line {}: more weights than the {rows} training rows (one a line, in the \
                     rows' order)",
                    self.line
                ),
            )),
        }
    }

    /// The next weight in the file; `None` at its end.
    fn next_weight(&mut self) -> Result<Option<f64>> {
        let path = self.path.as_path();
        let mut bytes = Vec::new();
        loop {
            // One line at a time, at most MAX_LINE bytes of it: a file without line breaks
            // makes no large allocation.
            bytes.clear();
            let read = (&mut self.reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut bytes)
                .map_err(|e| CliError::io(path, e))?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            let line = self.line;
            let line_error =
                |message: String| CliError::data(path, format!("line {line}: {message}"));
            if bytes.len() > MAX_LINE && bytes.last() != Some(&b'\n') {
                return Err(line_error(format!("longer than {MAX_LINE} bytes")));
            }
            let text =
                std::str::from_utf8(&bytes).map_err(|_| line_error("not UTF-8 text".into()))?;
            let text = text.split('#').next().unwrap_or_default();
            let trimmed = text.trim();
            if trimmed.is_empty() {
                continue;
            }
            let column = text.len() - text.trim_start().len() + 1;
            let at = |message: String| {
                CliError::data(path, format!("line {line}, column {column}: {message}"))
            };
            let weight: f64 = trimmed
                .parse()
                .map_err(|_| at(format!("{trimmed:?} is not a number")))?;
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(at(format!(
                    "a row's weight is finite and ≥ 0, got {trimmed}"
                )));
            }
            self.read += 1;
            self.total += weight;
            return Ok(Some(weight));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_bytes(bytes: &[u8], rows: usize) -> Result<Array1<f64>> {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("w.txt");
        std::fs::write(&path, bytes).unwrap();
        read(&path, rows)
    }

    #[test]
    fn weights_are_read_one_a_line() {
        let w = read_bytes(b"1\n  2.5  # heavy\n\n0\n", 3).unwrap();
        assert_eq!(w.to_vec(), vec![1.0, 2.5, 0.0]);
    }

    #[test]
    fn bad_weight_files_name_the_line() {
        let long = "1".repeat(5000);
        let cases: [(&[u8], usize, &str); 9] = [
            (b"1\n x\n", 2, "line 2, column 2"),
            (b"1\n-1\n", 2, "line 2, column 1"),
            (b"1\nnan\n", 2, "line 2"),
            (b"1\ninf\n", 2, "line 2"),
            (
                b"1\n1\n1\n",
                2,
                "line 3: more weights than the 2 training rows",
            ),
            (b"1\n", 2, "ends after 1 weights: training row 2 has none"),
            (b"0\n0\n", 2, "every weight is 0"),
            (long.as_bytes(), 1, "line 1: longer than 4096 bytes"),
            (b"1\n\xff\n", 2, "line 2: not UTF-8"),
        ];
        for (bytes, rows, expected) in cases {
            let err = read_bytes(bytes, rows).unwrap_err().to_string();
            assert!(err.contains(expected), "{bytes:?}: {err}");
        }
    }
}

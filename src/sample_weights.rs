//! `rks fit --weights FILE`: a weight per training row, one number a line in the rows' order
//! (LIBLINEAR's `-W` file), read and checked before the fit.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ndarray::Array1;

use crate::error::{CliError, Result};

/// The longest line a weights file may have, in bytes (a number and a comment).
const MAX_LINE: usize = 4096;

/// The weights of `rows` training rows in the file at `path`: one finite number ≥ 0 a line (blank
/// lines and surrounding spaces ignored, `#` starting a comment), exactly one per row, not all 0.
/// A line that is not such a number is an error naming `path:line:column`; the file is read
/// line by line and refused at the first line past `rows`, so its size bounds nothing.
pub fn read(path: &Path, rows: usize) -> Result<Array1<f64>> {
    let file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut weights = Vec::with_capacity(rows.min(1 << 20));
    let mut bytes = Vec::new();
    for i in 0.. {
        // One line at a time, at most MAX_LINE bytes of it: a file without line breaks makes
        // no large allocation.
        bytes.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(|e| CliError::io(path, e))?;
        if read == 0 {
            break;
        }
        let line_error =
            |message: String| CliError::data(path, format!("line {}: {message}", i + 1));
        if bytes.len() > MAX_LINE && bytes.last() != Some(&b'\n') {
            return Err(line_error(format!("longer than {MAX_LINE} bytes")));
        }
        let line = std::str::from_utf8(&bytes).map_err(|_| line_error("not UTF-8 text".into()))?;
        let text = line.split('#').next().unwrap_or_default();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        let column = text.len() - text.trim_start().len() + 1;
        let at = |message: String| {
            CliError::data(path, format!("line {}, column {column}: {message}", i + 1))
        };
        let weight: f64 = trimmed
            .parse()
            .map_err(|_| at(format!("{trimmed:?} is not a number")))?;
        if !(weight.is_finite() && weight >= 0.0) {
            return Err(at(format!(
                "a row's weight is finite and ≥ 0, got {trimmed}"
            )));
        }
        if weights.len() == rows {
            return Err(at(format!(
                "more weights than the {rows} training rows (one a line, in the rows' order)"
            )));
        }
        weights.push(weight);
    }
    if weights.len() != rows {
        return Err(CliError::data(
            path,
            format!(
                "{} weights for {rows} training rows (one a line, in the rows' order)",
                weights.len()
            ),
        ));
    }
    if weights.iter().all(|&w| w == 0.0) {
        return Err(CliError::data(path, "every weight is 0: no row to fit"));
    }
    Ok(Array1::from(weights))
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
            (b"1\n1\n1\n", 2, "line 3"),
            (b"1\n", 2, "1 weights for 2 training rows"),
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

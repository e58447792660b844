//! `rks fit --weights FILE`: a weight per training row, one number a line in the rows' order
//! (LIBLINEAR's `-W` file), read and checked before the fit.

use std::io::{BufRead, BufReader};
use std::path::Path;

use ndarray::Array1;

use crate::error::{CliError, Result};

/// The weights of `rows` training rows in the file at `path`: one finite number ≥ 0 a line (blank
/// lines and surrounding spaces ignored, `#` starting a comment), exactly one per row, not all 0.
/// A line that is not such a number is an error naming `path:line:column`; the file is read
/// line by line and refused at the first line past `rows`, so its size bounds nothing.
pub fn read(path: &Path, rows: usize) -> Result<Array1<f64>> {
    let file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut weights = Vec::with_capacity(rows.min(1 << 20));
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| CliError::io(path, e))?;
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

    fn read_text(text: &str, rows: usize) -> Result<Array1<f64>> {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("w.txt");
        std::fs::write(&path, text).unwrap();
        read(&path, rows)
    }

    #[test]
    fn weights_are_read_one_a_line() {
        let w = read_text("1\n  2.5  # heavy\n\n0\n", 3).unwrap();
        assert_eq!(w.to_vec(), vec![1.0, 2.5, 0.0]);
    }

    #[test]
    fn bad_weight_files_name_the_line() {
        for (text, rows, expected) in [
            ("1\n x\n", 2, "line 2, column 2"),
            ("1\n-1\n", 2, "line 2, column 1"),
            ("1\nnan\n", 2, "line 2"),
            ("1\ninf\n", 2, "line 2"),
            ("1\n1\n1\n", 2, "line 3"),
            ("1\n", 2, "1 weights for 2 training rows"),
            ("0\n0\n", 2, "every weight is 0"),
        ] {
            let err = read_text(text, rows).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}

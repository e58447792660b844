//! Printing results: one JSON object for scripts (`--json`), or readable text and tables.
//!
//! Every subcommand builds one serialisable report value and hands it to [`emit`]; nothing else
//! writes results to stdout, so `--json` output is always exactly one JSON object.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{CliError, Result};

/// A result that can be printed for people as well as serialised for scripts.
pub trait Report: Serialize {
    /// Writes the human-readable form.
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// Prints `report` on stdout: JSON when `json` is set, text otherwise.
///
/// A closed stdout (`rks ... | head`) is not an error: the reader has what it wanted.
pub fn emit<R: Report>(report: &R, json: bool) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = if json {
        serde_json::to_writer_pretty(&mut out, report)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(out))
    } else {
        report.write_text(&mut out)
    };
    ignore_broken_pipe(written.and_then(|()| out.flush()), Path::new("stdout"))
}

/// Maps a write error to [`CliError::Io`], except a broken pipe, which ends output quietly.
pub fn ignore_broken_pipe(result: io::Result<()>, path: &Path) -> Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| CliError::io(path, e)),
    }
}

/// Runs `f` and returns its result with the wall time it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// A text table with a header row, columns right-aligned except the first.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Self {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells print empty, extra cells are kept).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Writes the table with a rule under the header.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .fold(self.header.len(), usize::max);
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let write_row = |out: &mut dyn Write, row: &[String]| -> io::Result<()> {
            let mut line = String::new();
            for (j, width) in widths.iter().enumerate() {
                let cell = row.get(j).map_or("", String::as_str);
                let pad = width - cell.chars().count();
                if j > 0 {
                    line.push_str("  ");
                }
                if j == 0 {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                } else {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
            writeln!(out, "{}", line.trim_end())
        };
        write_row(out, &self.header)?;
        let rule = widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
        writeln!(out, "{}", "-".repeat(rule))?;
        for row in &self.rows {
            write_row(out, row)?;
        }
        Ok(())
    }
}

/// Seconds as a short human string: "812 µs", "35.2 ms", "4.31 s".
pub fn fmt_duration(seconds: f64) -> String {
    if seconds < 1e-3 {
        format!("{:.0} µs", seconds * 1e6)
    } else if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{seconds:.2} s")
    }
}

/// Bytes as a short human string with binary units: "512 B", "4.0 KiB", "2.0 MiB".
pub fn fmt_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let mut table = Table::new(["map", "n", "error"]);
        table.row(["dense", "256", "0.0123"]);
        table.row(["fastfood", "4096", "0.1"]);
        let mut out = Vec::new();
        table.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "map          n   error");
        assert_eq!(lines[1], "-".repeat(22));
        assert_eq!(lines[2], "dense      256  0.0123");
        assert_eq!(lines[3], "fastfood  4096     0.1");
    }

    #[test]
    fn units_read_well() {
        assert_eq!(fmt_duration(0.0000042), "4 µs");
        assert_eq!(fmt_duration(0.0352), "35.2 ms");
        assert_eq!(fmt_duration(4.312), "4.31 s");
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(4096), "4.0 KiB");
        assert_eq!(fmt_bytes(3 << 20), "3.0 MiB");
    }
}

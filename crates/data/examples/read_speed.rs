//! Reading throughput on a large LIBSVM file (and the same data as CSV), whole and in chunks.
//!
//! `cargo run --release -p rks-data --example read_speed -- [copies]` writes the bundled
//! letter.train `copies` times (default 20) into a temporary directory and times the readers.

use std::time::Instant;

use rks_data::csv::{self, CsvChunks, CsvOptions};
use rks_data::libsvm::{self, LibsvmChunks};

const LETTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/letter.train");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let copies: usize = std::env::args().nth(1).map_or(Ok(20), |s| s.parse())?;
    let one = std::fs::read_to_string(LETTER)?;
    let dir = std::env::temp_dir().join(format!("rks-data-read-speed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("big.libsvm");
    std::fs::write(&path, one.repeat(copies))?;
    let mb = std::fs::metadata(&path)?.len() as f64 / 1e6;

    let t = Instant::now();
    let whole = libsvm::read_path(&path, Some(16))?;
    let s = t.elapsed().as_secs_f64();
    println!(
        "libsvm whole:   {} rows, {mb:.1} MB in {s:.3} s = {:.0} MB/s",
        whole.n_rows(),
        mb / s
    );

    let t = Instant::now();
    let mut rows = 0;
    for chunk in LibsvmChunks::open(&path, 16, 4096)? {
        rows += chunk?.n_rows();
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "libsvm chunked: {rows} rows in {s:.3} s = {:.0} MB/s",
        mb / s
    );

    let t = Instant::now();
    let dims = libsvm::scan_dims(&path)?;
    let s = t.elapsed().as_secs_f64();
    println!("libsvm scan:    {dims:?} in {s:.3} s = {:.0} MB/s", mb / s);

    let csv_path = dir.join("big.csv");
    let names: Vec<String> = (1..=16).map(|j| format!("f{j}")).collect();
    csv::write(
        std::io::BufWriter::new(std::fs::File::create(&csv_path)?),
        &whole,
        "y",
        &names,
    )?;
    let mb = std::fs::metadata(&csv_path)?.len() as f64 / 1e6;
    let opts = CsvOptions::label_name("y");
    let t = Instant::now();
    let d = csv::read_path(&csv_path, &opts)?;
    let s = t.elapsed().as_secs_f64();
    println!(
        "csv whole:      {} rows, {mb:.1} MB in {s:.3} s = {:.0} MB/s",
        d.n_rows(),
        mb / s
    );
    let t = Instant::now();
    let mut rows = 0;
    for chunk in CsvChunks::open(&csv_path, &opts, 4096)? {
        rows += chunk?.n_rows();
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "csv chunked:    {rows} rows in {s:.3} s = {:.0} MB/s",
        mb / s
    );

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

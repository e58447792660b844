//! `rks fit --distributed`: the partial-fit API ([`rks_solvers::partial`]) over MPI ranks.
//!
//! Run under `mpirun -n P`. Each rank reads its own part of the training file: the byte range
//! [L·r/P, L·(r+1)/P) moved forward to line starts (a line belongs to the rank where it starts; a
//! CSV file's header is read by every rank), or, when the `--train` path contains `{rank}`, its
//! own whole file. Then:
//!
//! 1. LIBSVM width without `--features`: each rank scans its part, the largest wins
//!    (`MPI_Allreduce`, `MPI_MAX`).
//!    With `--weights FILE` (one weight a line for every row of the file), each rank counts its
//!    rows and learns every rank's count (`MPI_Allgather`), so that it reads its rows' weights
//!    from their place in FILE; when the path holds `{rank}`, each rank reads its own file of
//!    its rows' weights.
//! 2. Pass 1 on every rank (rows with their weights); the parts are sent to rank 0 and merged in
//!    rank order; rank 0 makes the plan and broadcasts its bytes.
//! 3. Pass 2 on every rank; the exact statistics are summed on rank 0 as `u64` limbs with
//!    `MPI_Reduce` and `MPI_SUM` (plain integer sums, exact in any reduction order).
//! 4. Rank 0 chooses λ, builds the model and writes it atomically (a temporary file renamed onto
//!    `--model`).
//!
//! After each local step every rank reports success or failure (`MPI_Allreduce`, `MPI_MIN` of
//! the failing rank), so a bad row on one rank stops all of them with that rank's error and no
//! model. A rank that dies (killed, out of memory) ends the job through `mpirun`, which stops the
//! others; rank 0 never reaches the write, so no model file appears either.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use mpi::collective::SystemOperation;
use mpi::point_to_point::Source as _;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use rks_solvers::machine::{SelectionReport, Task};
use rks_solvers::partial::{FirstPass, Plan};
use serde::Serialize;

use crate::cli::FitArgs;
use crate::error::{CliError, Result};
use crate::fit::WeightsSummary;
use crate::input::{Chunks, Source};
use crate::machine::{self, ModelSummary, Recipe};
use crate::metrics::Score;
use crate::report::{Report, emit, fmt_duration};
use crate::sample_weights::WeightsReader;

/// What rank 0 prints.
#[derive(Debug, Serialize)]
pub struct DistributedReport {
    /// Where the model was saved.
    pub model_path: PathBuf,
    /// The fitted model.
    pub model: ModelSummary,
    /// MPI ranks.
    pub ranks: usize,
    /// Training rows on each rank.
    pub rows_per_rank: Vec<u64>,
    /// Seconds from the start to the saved model.
    pub seconds: f64,
    /// The model's score on the merged pass 1's seeded sample of the training rows (as
    /// `fit --stream` reports it: no third pass over the file).
    pub train_score: Score,
    /// Rows of that sample.
    pub train_score_rows: usize,
    /// The rows' weights (`--weights`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightsSummary>,
    /// What model selection searched and chose, as `fit --stream` reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionReport>,
}

impl Report for DistributedReport {
    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "fitted {}", self.model.one_line())?;
        writeln!(out, "  training rows    {}", self.model.train_rows)?;
        writeln!(
            out,
            "  distributed      {} MPI ranks, rows per rank {:?}",
            self.ranks, self.rows_per_rank
        )?;
        writeln!(out, "  fit time         {}", fmt_duration(self.seconds))?;
        writeln!(
            out,
            "  training score   {} (on {} sampled rows)",
            self.train_score.describe(),
            self.train_score_rows
        )?;
        if let Some(w) = &self.weights {
            w.write_text(out)?;
        }
        if let Some(selection) = &self.selection {
            crate::fit::write_selection(out, selection)?;
        }
        writeln!(out, "  saved to         {}", self.model_path.display())
    }
}

/// Runs `rks fit --distributed` on this rank.
pub fn run(
    args: &FitArgs,
    recipe: &Recipe,
    source: Source,
    chunk_rows: usize,
    json: bool,
) -> Result<()> {
    // Class names and categories: every rank reads the whole file's, in file order, so that
    // every rank codes them alike (a file of numbers is known from its first row).
    let vocabulary = source.vocabulary()?;
    let source = source.with_vocabulary(&vocabulary);
    let names = vocabulary.class_names.as_deref();
    let task = machine::task_of_names(recipe.task, names, &args.train)?.ok_or_else(|| {
        CliError::usage(
            "--distributed needs --task (classification or regression): ranks cannot infer it \
             from their own rows alike",
        )
    })?;
    let universe = mpi::initialize()
        .ok_or_else(|| CliError::compute("MPI is already initialised in this process"))?;
    let fitted = fit_on_rank(
        &universe.world(),
        args,
        recipe,
        (task, vocabulary),
        source,
        chunk_rows,
        json,
    );
    // Every rank's error is printed here, before the universe's drop calls `MPI_Finalize`, which
    // waits for every rank: printed after it, a message could be lost, since a rank that exits
    // with an error makes `mpirun` end the others.
    fitted.map_err(|e| match e {
        CliError::Reported { .. } => e,
        e => {
            eprintln!("error: {e}");
            CliError::Reported {
                exit_code: e.exit_code(),
            }
        }
    })
}

/// [`run`] between `MPI_Init` and `MPI_Finalize`; the `vocabulary` of the file's text.
fn fit_on_rank(
    world: &SimpleCommunicator,
    args: &FitArgs,
    recipe: &Recipe,
    (task, vocabulary): (Task, rks_data::csv::Vocabulary),
    source: Source,
    chunk_rows: usize,
    json: bool,
) -> Result<()> {
    let start = Instant::now();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let part = Part::of(&args.train, rank, size, source.is_csv());
    let part = agree(world, part)?;

    // The LIBSVM width: the widest part's.
    let source = if source.is_csv() || source.known_width().is_some() {
        source
    } else {
        let local = part.width(&source);
        let width = agree(world, local)?;
        let mut widest = 0u64;
        world.all_reduce_into(&(width as u64), &mut widest, SystemOperation::max());
        source.or_features(widest as usize)
    };
    let params = recipe
        .named(vocabulary.class_names.as_deref())
        .params_for(task)?;
    let fit_error = |e| machine::fit_error(&args.train, e);
    let weights = match &args.weights {
        Some(path) => Some(RankWeights::of(world, path, &part, &source, chunk_rows)?),
        None => None,
    };

    // Pass 1, merged on rank 0 in rank order.
    let first = part.chunks(&source, chunk_rows).and_then(|chunks| {
        let mut first = params.first_pass();
        let mut reader = weights.as_ref().map(RankWeights::reader).transpose()?;
        let mut rows = 0;
        for chunk in chunks {
            let chunk = chunk.map_err(CliError::Read)?;
            match &mut reader {
                None => first.update(chunk.x.view(), chunk.y.view()),
                Some(reader) => {
                    let w = reader.next_weights(chunk.n_rows())?;
                    first.update_weighted(chunk.x.view(), chunk.y.view(), w.view())
                }
            }
            .map_err(|e| part.data_error(e, rows))?;
            rows += chunk.n_rows();
        }
        let total = RankWeights::finish(weights.as_ref(), reader)?;
        Ok((first.to_bytes().map_err(fit_error)?, total))
    });
    let (bytes, total) = agree(world, first)?;
    // Each rank's sum of weights, added in rank order on rank 0 for the report.
    let mut totals = vec![0.0f64; size];
    world.all_gather_into(&total, &mut totals[..]);
    let root = world.process_at_rank(0);
    let mut rows_per_rank = Vec::new();
    let mut left_out = 0;
    let (plan, sample) = if rank == 0 {
        // Every part is received before any is decoded, so no rank is left blocked in a send.
        let parts: Vec<Vec<u8>> = (1..size)
            .map(|other| world.process_at_rank(other as i32).receive_vec::<u8>().0)
            .collect();
        let made = (|| -> Result<_> {
            let mut merged = FirstPass::from_bytes(&bytes).map_err(fit_error)?;
            rows_per_rank.push(merged.rows());
            for theirs in &parts {
                let theirs = FirstPass::from_bytes(theirs).map_err(fit_error)?;
                rows_per_rank.push(theirs.rows());
                merged.merge(&theirs).map_err(fit_error)?;
            }
            left_out = merged.left_out();
            let plan = params.plan(&merged).map_err(fit_error)?;
            Ok((plan, Some(merged.sample())))
        })();
        broadcast_bytes(world, made.as_ref().ok().map(|(plan, _)| plan.to_bytes()));
        made?
    } else {
        root.send(&bytes[..]);
        let received = broadcast_bytes(world, None);
        let received = received
            .ok_or_else(|| CliError::compute("rank 0 could not make the plan (see its error)"))?;
        (Plan::from_bytes(&received).map_err(fit_error)?, None)
    };

    // Pass 2, summed on rank 0 as integer limbs.
    let second = part.chunks(&source, chunk_rows).and_then(|chunks| {
        let mut second = plan.second_pass().map_err(fit_error)?;
        let mut reader = weights.as_ref().map(RankWeights::reader).transpose()?;
        let mut rows = 0;
        for chunk in chunks {
            let chunk = chunk.map_err(CliError::Read)?;
            match &mut reader {
                None => second.update(&plan, chunk.x.view(), chunk.y.view()),
                Some(reader) => {
                    let w = reader.next_weights(chunk.n_rows())?;
                    second.update_weighted(&plan, chunk.x.view(), chunk.y.view(), w.view())
                }
            }
            .map_err(|e| part.data_error(e, rows))?;
            rows += chunk.n_rows();
        }
        RankWeights::finish(weights.as_ref(), reader)?;
        Ok(second)
    });
    let second = agree(world, second)?;
    let limbs = second.limbs();
    if rank != 0 {
        root.reduce_into(&limbs[..], SystemOperation::sum());
        return Ok(());
    }
    let mut summed = vec![0u64; limbs.len()];
    root.reduce_into_root(&limbs[..], &mut summed[..], SystemOperation::sum());
    let merged = second.with_limbs(&summed).map_err(fit_error)?;
    let (model, selection) = params
        .finish_with_report(&plan, &merged)
        .map_err(fit_error)?;
    let model = machine::with_vocabulary(model, vocabulary)?;
    machine::save(&model, &args.model)?;
    let seconds = start.elapsed().as_secs_f64();
    let (x, y) = sample.ok_or_else(|| CliError::compute("rank 0 holds no sample"))?;
    let predicted = model.predict(x.view()).map_err(CliError::compute)?;
    let report = DistributedReport {
        model_path: args.model.clone(),
        model: ModelSummary::of(&model),
        ranks: size,
        rows_per_rank,
        seconds,
        train_score: Score::compute(model.task(), y.view(), predicted.view()),
        train_score_rows: y.len(),
        weights: args.weights.as_ref().map(|file| WeightsSummary {
            file: file.clone(),
            total: totals.iter().sum(),
            rows_left_out: left_out as usize,
        }),
        selection,
    };
    emit(&report, json)
}

/// Every rank learns whether every rank succeeded: the first failing rank's error is this
/// rank's own, or a message naming it. A failing rank prints its error *before* the reduction,
/// so that it is written before any other rank can learn of the failure and exit (after which
/// `mpirun` ends the job, and a message still to be printed would be lost).
fn agree<T>(world: &SimpleCommunicator, local: Result<T>) -> Result<T> {
    let size = world.size();
    let mine = if local.is_ok() { size } else { world.rank() };
    if let Err(e) = &local {
        eprintln!("error: {e}");
    }
    let mut first_failed = size;
    world.all_reduce_into(&mine, &mut first_failed, SystemOperation::min());
    match local {
        Err(e) => Err(CliError::Reported {
            exit_code: e.exit_code(),
        }),
        Ok(_) if first_failed < size => Err(CliError::compute(format!(
            "rank {first_failed} failed (its error is above); no model was written"
        ))),
        Ok(v) => Ok(v),
    }
}

/// Rank 0 broadcasts `bytes` (`None`: it failed); every rank returns them.
fn broadcast_bytes(
    world: &SimpleCommunicator,
    bytes: Option<rks_solvers::error::Result<Vec<u8>>>,
) -> Option<Vec<u8>> {
    let root = world.process_at_rank(0);
    let mut bytes = bytes.and_then(|b| b.ok());
    // u64::MAX: no plan.
    let mut len = bytes.as_ref().map_or(u64::MAX, |b| b.len() as u64);
    root.broadcast_into(&mut len);
    if len == u64::MAX {
        return None;
    }
    let mut buffer = bytes.take().unwrap_or_else(|| vec![0u8; len as usize]);
    root.broadcast_into(&mut buffer[..]);
    Some(buffer)
}

/// This rank's rows' weights (`--weights`): a file of every row's weights, of which this rank
/// reads those of its rows (their place from every rank's count of rows), or, when the path
/// holds `{rank}`, a file of its own rows' weights.
struct RankWeights {
    path: PathBuf,
    /// Weights in the file before this rank's first row's.
    offset: u64,
    /// Whether the file must end with this rank's rows (the last rank's, or its own file).
    last: bool,
}

impl RankWeights {
    /// This rank's weights: with one file for every rank, this rank's rows are counted first (a
    /// pass over its part) and every rank learns every rank's count.
    fn of(
        world: &SimpleCommunicator,
        path: &Path,
        part: &Part,
        source: &Source,
        chunk_rows: usize,
    ) -> Result<Self> {
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        let text = path.to_string_lossy();
        if text.contains("{rank}") {
            return Ok(Self {
                path: PathBuf::from(text.replace("{rank}", &rank.to_string())),
                offset: 0,
                last: true,
            });
        }
        let counted = part.chunks(source, chunk_rows).and_then(|chunks| {
            let mut rows = 0u64;
            for chunk in chunks {
                rows += chunk.map_err(CliError::Read)?.n_rows() as u64;
            }
            Ok(rows)
        });
        let rows = agree(world, counted)?;
        let mut counts = vec![0u64; size];
        world.all_gather_into(&rows, &mut counts[..]);
        Ok(Self {
            path: path.to_path_buf(),
            offset: counts[..rank].iter().sum(),
            last: rank + 1 == size,
        })
    }

    /// The file, open at this rank's first row's weight.
    fn reader(&self) -> Result<WeightsReader> {
        let mut reader = WeightsReader::open(&self.path)?;
        reader.skip(self.offset)?;
        Ok(reader)
    }

    /// The sum of this rank's weights (0 without), once its rows are read; the file must end
    /// there when this rank's rows are its last.
    fn finish(weights: Option<&Self>, reader: Option<WeightsReader>) -> Result<f64> {
        let (Some(weights), Some(reader)) = (weights, reader) else {
            return Ok(0.0);
        };
        let total = reader.total();
        if weights.last {
            reader.finish()?;
        }
        Ok(total)
    }
}

/// The part of the training data this rank reads.
#[derive(Debug, Clone)]
struct Part {
    path: PathBuf,
    /// Byte range (line starts) within `path`; `None`: the whole file (one file per rank).
    range: Option<(u64, u64)>,
    /// A CSV file's header line, read before the range by ranks whose range does not hold it.
    header: Option<Vec<u8>>,
    /// "FILE bytes A..B (rank r of P)", for messages.
    name: String,
}

impl Part {
    /// This rank's part: its own file when `train` holds `{rank}`, else its byte range.
    fn of(train: &Path, rank: usize, size: usize, csv: bool) -> Result<Part> {
        let text = train.to_string_lossy();
        if text.contains("{rank}") {
            let path = PathBuf::from(text.replace("{rank}", &rank.to_string()));
            let name = format!("{} (rank {rank} of {size})", path.display());
            return Ok(Part {
                path,
                range: None,
                header: None,
                name,
            });
        }
        let io = |e| CliError::io(train, e);
        let mut file = File::open(train).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let header = if csv {
            Some(header_line(&mut file).map_err(io)?)
        } else {
            None
        };
        let body = header.as_ref().map_or(0, |h| h.len() as u64);
        let mut cut = |r: usize| -> std::io::Result<u64> {
            let at = (len as u128 * r as u128 / size as u128) as u64;
            line_start_at_or_after(&mut file, at.max(body), len)
        };
        let (from, to) = (cut(rank).map_err(io)?, cut(rank + 1).map_err(io)?);
        let (from, to) = if rank == 0 { (0, to) } else { (from, to) };
        Ok(Part {
            path: train.to_path_buf(),
            range: Some((from, to)),
            header: if rank == 0 { None } else { header },
            name: format!(
                "{} bytes {from}..{to} (rank {rank} of {size})",
                train.display()
            ),
        })
    }

    fn reader(&self) -> std::io::Result<Box<dyn BufRead>> {
        let mut file = File::open(&self.path)?;
        let body: Box<dyn Read> = match self.range {
            Some((from, to)) => {
                file.seek(SeekFrom::Start(from))?;
                Box::new(file.take(to - from))
            }
            None => Box::new(file),
        };
        let header = Cursor::new(self.header.clone().unwrap_or_default());
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            header.chain(body),
        )))
    }

    fn chunks(&self, source: &Source, chunk_rows: usize) -> Result<Chunks> {
        let reader = self.reader().map_err(|e| CliError::io(&self.path, e))?;
        source
            .chunks_from(reader, &self.name, chunk_rows)
            .map_err(CliError::Read)
    }

    /// The largest LIBSVM feature index in this part.
    fn width(&self, _source: &Source) -> Result<usize> {
        let reader = self.reader().map_err(|e| CliError::io(&self.path, e))?;
        let (_, width) = rks_data::libsvm::scan(reader, &self.name)?;
        Ok(width)
    }

    /// An error in the chunk that starts at row `rows` of this part (its row numbers count
    /// from that chunk).
    fn data_error(&self, e: rks_solvers::SolversError, rows: usize) -> CliError {
        let place = format!("{}, chunk from row {rows} of the part", self.name);
        machine::fit_error(Path::new(&place), e)
    }
}

/// The first non-blank line of a CSV file, with its line end (the header every rank reads).
fn header_line(file: &mut File) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::new(&mut *file);
    let mut header = Vec::new();
    loop {
        let before = header.len();
        if reader.read_until(b'\n', &mut header)? == 0 {
            return Ok(header);
        }
        if !header[before..].iter().all(u8::is_ascii_whitespace) {
            return Ok(header);
        }
    }
}

/// The first line start at or after `at` (a line starts at 0 or after a `\n`), or `len`.
fn line_start_at_or_after(file: &mut File, at: u64, len: u64) -> std::io::Result<u64> {
    if at == 0 || at >= len {
        return Ok(at.min(len));
    }
    file.seek(SeekFrom::Start(at - 1))?;
    let mut reader = BufReader::new(&mut *file);
    let mut skipped = Vec::new();
    let n = reader.read_until(b'\n', &mut skipped)? as u64;
    Ok((at - 1 + n).min(len))
}

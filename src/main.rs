//! `rks`: fit, predict, evaluate, compare and tune random-feature kernel machines.
//!
//! This file only parses the command line, sets up the thread pool, picks the subcommand (or the
//! default comparison when there is none) and turns errors into one line on stderr and an exit
//! code: 0 success, 1 data/model/compute error, 2 usage error. Each subcommand has its module.

#![forbid(unsafe_code)]

mod approx;
mod class_weight;
mod cli;
mod compare;
mod deep_fried;
mod deep_fried_conv;
#[cfg(feature = "mpi")]
mod distributed;
mod error;
mod eval;
mod fit;
mod flags;
mod info;
mod input;
mod machine;
mod metrics;
mod pipeline;
mod plot;
mod predict;
mod progress;
mod report;
mod sample_weights;
mod tune;

use std::path::Path;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::error::{CliError, Result};

/// The arguments of the comparison `rks` runs when given no subcommand.
const DEFAULT_COMPARE: [&str; 8] = [
    "--train",
    "datasets/digits.train",
    "--test",
    "datasets/digits.test",
    "--frequencies",
    "256,1024,4096",
    "--maps",
    "dense,fastfood,orf,sorf",
];

fn main() -> ExitCode {
    // A bug must still end in one line on stderr and exit code 1, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        let place = info
            .location()
            .map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!("error: internal error{place}: {message} (please report this)");
    }));
    let cli = Cli::parse();
    let subcommand = cli.command.as_ref().map(Command::name);
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(CliError::Usage(message))) => {
            // Formats like clap's own errors, with the subcommand's usage line, and exits with 2.
            let mut command = Cli::command();
            command.build();
            let mut command = match subcommand.and_then(|name| command.find_subcommand_mut(name)) {
                Some(sub) => sub.clone(),
                None => command,
            };
            command
                .error(clap::error::ErrorKind::ArgumentConflict, message)
                .exit()
        }
        Ok(Err(CliError::Reported { exit_code })) => ExitCode::from(exit_code as u8),
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
        Err(_) => ExitCode::from(1),
    }
}

fn run(cli: Cli) -> Result<()> {
    // The worker threads get the main thread's usual stack size, since the command itself runs
    // on one of them (below).
    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(MAIN_STACK_BYTES);
    if let Some(threads) = cli.threads {
        pool = pool.num_threads(threads.into());
    }
    pool.build_global().map_err(|e| {
        let threads = cli.threads.map_or("the".to_string(), |t| t.to_string());
        CliError::compute(format!("cannot start {threads} threads: {e}"))
    })?;
    let json = cli.json;
    // On a worker of the pool: the command's parallel loops (thousands, in an eigendecomposition
    // or a model search) then share out their work without waking the pool from outside and
    // putting this thread to sleep each time.
    rayon::scope(|_| match cli.command {
        Some(Command::Fit(args)) => fit::run(&args, json),
        Some(Command::Predict(args)) => predict::run(&args, json),
        Some(Command::Eval(args)) => eval::run(&args, json),
        Some(Command::Compare(args)) => compare::run(&args, json),
        Some(Command::Tune(args)) => tune::run(&args, json),
        Some(Command::DeepFried(args)) => deep_fried::run(&args, json),
        Some(Command::Info(args)) => info::run(&args, json),
        None => default_compare(json),
    })
}

/// Stack of each worker thread: 8 MiB, a Linux main thread's default.
const MAIN_STACK_BYTES: usize = 8 << 20;

/// `rks` alone: compare dense RKS, Fastfood, ORF and SORF on the bundled digits data.
fn default_compare(json: bool) -> Result<()> {
    for file in [DEFAULT_COMPARE[1], DEFAULT_COMPARE[3]] {
        if !Path::new(file).is_file() {
            return Err(CliError::data(
                Path::new(file),
                "not found: without a subcommand rks compares dense RKS, Fastfood, ORF and SORF on \
                 the bundled digits data, so run it from the workspace root (where datasets/ is), or see `rks --help`",
            ));
        }
    }
    let argv = ["rks", "compare"].into_iter().chain(DEFAULT_COMPARE);
    let Cli {
        command: Some(Command::Compare(args)),
        ..
    } = Cli::try_parse_from(argv).map_err(|e| CliError::compute(e.to_string()))?
    else {
        unreachable!("the default arguments parse as `compare`")
    };
    if !json {
        println!(
            "No subcommand given: running `rks compare {}` (see `rks --help`).\n",
            DEFAULT_COMPARE.join(" ")
        );
    }
    compare::run(&args, json)
}

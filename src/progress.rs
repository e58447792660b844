//! Progress bars on stderr for steps that take more than a second.
//!
//! A bar starts hidden and is only drawn once its step has run for [`SHOW_AFTER`], so quick
//! commands print nothing extra. It is never drawn when stderr is not a terminal (pipes, files,
//! CI logs, the test harness), so captured output stays clean.

use std::io::IsTerminal;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a step runs before its bar appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A progress bar (known length) or spinner (unknown length) that shows itself after a second.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    /// Dropping this sender tells the timer thread that the step is over.
    _done: Option<mpsc::Sender<()>>,
}

impl Progress {
    /// A bar over `len` units (rows, fits, folds) labelled `message`.
    pub fn bar(len: u64, message: impl Into<String>) -> Self {
        let style = ProgressStyle::with_template(
            "{msg:>12} [{bar:32}] {pos}/{len} ({elapsed}, about {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        Self::start(
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden()),
            style,
            message,
        )
    }

    /// A spinner for a step of unknown length.
    pub fn spinner(message: impl Into<String>) -> Self {
        let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let progress = Self::start(
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
            style,
            message,
        );
        progress.bar.enable_steady_tick(Duration::from_millis(120));
        progress
    }

    fn start(bar: ProgressBar, style: ProgressStyle, message: impl Into<String>) -> Self {
        bar.set_style(style);
        bar.set_message(message.into());
        if !std::io::stderr().is_terminal() {
            return Self { bar, _done: None };
        }
        let (done, wait) = mpsc::channel::<()>();
        let shown = bar.clone();
        // The timer wakes early when the step finishes (the sender is dropped), so no thread
        // outlives a quick step by a second.
        thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(SHOW_AFTER) {
                shown.set_draw_target(ProgressDrawTarget::stderr());
            }
        });
        Self {
            bar,
            _done: Some(done),
        }
    }

    /// Advances by `n` units.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Changes the label.
    pub fn set_message(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }
}

/// Runs `f` under a spinner labelled `message` and returns its result with the wall time taken.
pub fn step<T>(message: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    let _spinner = Progress::spinner(message);
    crate::report::timed(f)
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

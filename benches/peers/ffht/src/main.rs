//! `rks::hadamard::fwht` against FFHT's `fht_float` / `fht_double` in one process, on the same
//! buffers, at every length 2⁶…2²⁰, f32 and f64, from a 64-byte-aligned buffer and from one 16
//! bytes past a 64-byte boundary (the method of `benches/peers/README.md`).
//!
//! Both transforms work in place, so each run first copies a fresh input into the buffer (for
//! vectors under 8 KiB, into a group of them filling 8 KiB, copied at once and then transformed
//! one after the other); three sides are timed, alternated batch by batch (≥ 64 Ki entries per
//! batch): the copy alone, copy + FFHT, copy + rks, as thread CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`). A side's time is its best
//! batch mean over the rounds minus the copy's best; the ratio is rks over FFHT (below 1: rks is
//! faster). The input sits 2 KiB from the buffer modulo 4 KiB, so the copy's loads and the
//! transform's stores do not alias.
//!
//! `--check` instead transforms integer inputs with both and requires the same results (both
//! are unnormalised, and sums of small integers are exact in any order): the harness's own test.
//!
//! Usage: `rks-ffht-bench [--check] [--rounds R] [--max-log L]`.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::process::ExitCode;

use rks::Element;

unsafe extern "C" {
    fn fht_float(buf: *mut f32, log_n: i32) -> i32;
    fn fht_double(buf: *mut f64, log_n: i32) -> i32;
}

/// The element types both libraries transform.
trait Both: Element {
    const NAME: &'static str;
    /// FFHT's transform in place; its status (0 on success).
    fn ffht(buf: &mut [Self]) -> i32;
}

impl Both for f32 {
    const NAME: &'static str = "f32";
    fn ffht(buf: &mut [f32]) -> i32 {
        // SAFETY: FFHT reads and writes 2^log_n entries, the slice's length.
        unsafe { fht_float(buf.as_mut_ptr(), buf.len().trailing_zeros() as i32) }
    }
}

impl Both for f64 {
    const NAME: &'static str = "f64";
    fn ffht(buf: &mut [f64]) -> i32 {
        // SAFETY: as for f32.
        unsafe { fht_double(buf.as_mut_ptr(), buf.len().trailing_zeros() as i32) }
    }
}

/// One allocation, 4 KiB-aligned, holding `count` working vectors of `len` entries one after
/// the other from `offset` bytes past a 4 KiB boundary, and as many inputs 2 KiB further along
/// modulo 4 KiB.
struct Buffers<F> {
    base: *mut u8,
    layout: Layout,
    work: *mut F,
    input: *mut F,
    len: usize,
    count: usize,
}

impl<F: Both> Buffers<F> {
    fn new(len: usize, count: usize, offset: usize) -> Self {
        let bytes = len * count * size_of::<F>();
        let input_at = (offset + bytes).next_multiple_of(4096) + 2048 + offset;
        let layout = Layout::from_size_align(input_at + bytes, 4096).expect("layout");
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc_zeroed(layout) };
        assert!(!base.is_null(), "out of memory");
        // SAFETY: both ranges lie inside the allocation and are aligned for F (offsets are
        // multiples of 16 bytes).
        let (work, input) = unsafe { (base.add(offset).cast(), base.add(input_at).cast()) };
        Self {
            base,
            layout,
            work,
            input,
            len,
            count,
        }
    }

    /// The working vectors, one after the other.
    fn work(&mut self) -> &mut [F] {
        // SAFETY: `len · count` entries of F, zero-initialised at least, borrowed mutably
        // from self.
        unsafe { std::slice::from_raw_parts_mut(self.work, self.len * self.count) }
    }

    /// The inputs, one after the other.
    fn input(&mut self) -> &mut [F] {
        // SAFETY: as for `work`; the two ranges do not overlap.
        unsafe { std::slice::from_raw_parts_mut(self.input, self.len * self.count) }
    }

    /// Copies the inputs into the working vectors (one copy for all of them).
    fn reset(&mut self) {
        // SAFETY: two non-overlapping ranges of `len · count` entries.
        unsafe { std::ptr::copy_nonoverlapping(self.input, self.work, self.len * self.count) }
    }
}

impl<F> Drop for Buffers<F> {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout in `new`.
        unsafe { dealloc(self.base, self.layout) }
    }
}

/// The calling thread's CPU time in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// A small deterministic generator (the inputs only need to be fixed, not good).
fn values(len: usize, integers: bool) -> impl Iterator<Item = f64> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len).map(move |_| {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let u = (s >> 11) as f64 / (1u64 << 53) as f64;
        if integers {
            (u * 17.0).floor() - 8.0
        } else {
            2.0 * u - 1.0
        }
    })
}

/// Which transform a timed batch runs after the copy.
#[derive(Clone, Copy)]
enum Side {
    Copy,
    Ffht,
    Rks,
}

/// Best batch mean (ns per transform) of the three sides, alternated over `rounds`.
fn time<F: Both>(b: &mut Buffers<F>, rounds: usize) -> [f64; 3] {
    let (len, count) = (b.len, b.count);
    let batch = (65_536 / (len * count)).max(1);
    let mut best = [f64::INFINITY; 3];
    for _ in 0..rounds {
        for (i, side) in [Side::Copy, Side::Ffht, Side::Rks].into_iter().enumerate() {
            let t0 = thread_cpu_ns();
            for _ in 0..batch {
                b.reset();
                for v in b.work().chunks_exact_mut(len) {
                    match side {
                        Side::Copy => {}
                        Side::Ffht => {
                            F::ffht(v);
                        }
                        Side::Rks => rks::hadamard::fwht(v).expect("a power of two"),
                    }
                }
                std::hint::black_box(b.work().as_ptr());
            }
            best[i] = best[i].min((thread_cpu_ns() - t0) as f64 / (batch * count) as f64);
        }
    }
    best
}

/// The table rows of one type and alignment.
fn bench<F: Both>(offset: usize, rounds: usize, max_log: u32) {
    for log in 6..=max_log {
        // Short vectors in groups of 8 KiB, copied at once: the copy of each one alone cost
        // as much as the shortest transforms, and its time varied more than theirs.
        let count = (8192 / ((1 << log) * size_of::<F>())).max(1);
        let mut b = Buffers::<F>::new(1 << log, count, offset);
        for (v, x) in b.input().iter_mut().zip(values(count << log, false)) {
            *v = F::from_f64_lossy(x);
        }
        let [copy, ffht, rks] = time(&mut b, rounds);
        let (ffht, rks) = (ffht - copy, rks - copy);
        println!(
            "| {} | {} | 2^{log} | {:.3} | {:.3} | {:.2} |",
            F::NAME,
            if offset == 0 {
                "64-byte"
            } else {
                "64 + 16 bytes"
            },
            rks * 1e-3,
            ffht * 1e-3,
            rks / ffht
        );
    }
}

/// Both libraries on integer inputs at every length and both offsets: the number of
/// disagreements (printed).
fn check<F: Both>(max_log: u32) -> usize {
    let mut failures = 0;
    for offset in [0, 16] {
        for log in 1..=max_log {
            let mut b = Buffers::<F>::new(1 << log, 1, offset);
            for (v, x) in b.input().iter_mut().zip(values(1 << log, true)) {
                *v = F::from_f64_lossy(x);
            }
            b.reset();
            let status = F::ffht(b.work());
            let theirs = b.work().to_vec();
            b.reset();
            rks::hadamard::fwht(b.work()).expect("a power of two");
            let mut reference = b.input().to_vec();
            rks::hadamard::fwht_reference(&mut reference);
            if status != 0 || theirs != b.work() || reference != b.work() {
                println!(
                    "{} 2^{log}, offset {offset}: FFHT status {status}, results differ",
                    F::NAME
                );
                failures += 1;
            }
        }
    }
    failures
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A flag's value, its default when absent; an error names the flag and its range.
    let value = |flag: &str, default: usize, range: std::ops::RangeInclusive<usize>| {
        let Some(i) = args.iter().position(|a| a == flag) else {
            return Ok(default);
        };
        args.get(i + 1)
            .and_then(|v| v.parse().ok())
            .filter(|v| range.contains(v))
            .ok_or(format!(
                "{flag} takes a whole number in {}..={}",
                range.start(),
                range.end()
            ))
    };
    let parsed = value("--rounds", 301, 1..=100_000)
        .and_then(|r| Ok((r, value("--max-log", 20, 6..=24)? as u32)));
    let (rounds, max_log) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "rks-ffht-bench: {e}\nusage: rks-ffht-bench [--check] [--rounds R] [--max-log L]"
            );
            return ExitCode::from(2);
        }
    };
    if args.iter().any(|a| a == "--check") {
        let failures = check::<f32>(max_log) + check::<f64>(max_log);
        println!(
            "rks and FFHT agree at every length 2^1..2^{max_log}, f32 and f64, both offsets: {}",
            if failures == 0 { "yes" } else { "NO" }
        );
        return if failures == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    println!("| type | buffer alignment | length | rks µs | FFHT µs | rks / FFHT |");
    println!("|---|---|---|---|---|---|");
    for offset in [0, 16] {
        bench::<f32>(offset, rounds, max_log);
        bench::<f64>(offset, rounds, max_log);
    }
    ExitCode::SUCCESS
}

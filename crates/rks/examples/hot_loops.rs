//! Quick timings of the hot loops, as the minimum over many repetitions (robust on a shared
//! machine where criterion's means are noisy): FWHT fast vs reference, cos/sin vs std.
//!
//! Run: `cargo run --release -p rks --example hot_loops`.

use std::hint::black_box;
use std::time::Instant;

use rks::Element;
use rks::hadamard::{fwht, fwht_reference};

/// Minimum over `reps` runs of `f`, in nanoseconds.
fn min_ns(reps: usize, f: impl FnMut()) -> f64 {
    min_ns_batched(reps, 1, f)
}

/// Minimum over `reps` samples of the mean time of `batch` back-to-back runs of `f`, in
/// nanoseconds: for calls of a few hundred nanoseconds, where one clock reading per call is too
/// coarse and too noisy on a virtual machine.
fn min_ns_batched(reps: usize, batch: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / batch as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// The time of a kernel that works in place on a fresh copy of its input: `run(true)` copies and
/// runs it, `run(false)` only copies. The two are sampled alternately (batches as in
/// [`min_ns_batched`]) and the minimum of the copy is subtracted, so a slow spell of the machine
/// hits both alike instead of only one of them.
fn min_ns_minus_copy(reps: usize, batch: usize, mut run: impl FnMut(bool)) -> f64 {
    let (mut copy, mut full) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..reps {
        copy = copy.min(min_ns_batched(1, batch, || run(false)));
        full = full.min(min_ns_batched(1, batch, || run(true)));
    }
    full - copy
}

fn fwht_type<F: Element>(name: &str) {
    for k in 6..=20 {
        let d = 1usize << k;
        let data: Vec<F> = (0..d)
            .map(|i| F::from_f64_lossy(((i * 7919) % 1000) as f64 / 1000.0 - 0.5))
            .collect();
        let mut v = data.clone();
        // Batches of at least 16 Ki entries, so each sample lasts microseconds.
        let batch = (1 << 14 >> k).max(1);
        let reps = (1 << 24 >> k).clamp(5, 20000) / batch + 5;
        let fast = min_ns_minus_copy(reps, batch, |work| {
            v.copy_from_slice(black_box(&data));
            if work {
                fwht(black_box(&mut v)).unwrap();
            }
        });
        let reference = min_ns_minus_copy(reps, batch, |work| {
            v.copy_from_slice(black_box(&data));
            if work {
                fwht_reference(black_box(&mut v));
            }
        });
        let flops = (d * k) as f64;
        println!(
            "fwht {name} 2^{k:<2} fast {:>12.1} ns ({:>5.2} GFLOP/s)  reference {:>12.1} ns ({:>5.2} GFLOP/s)",
            fast,
            flops / fast,
            reference,
            flops / reference
        );
    }
}

fn trig_type<F: Element>(name: &str) {
    let len = 1 << 14;
    let z: Vec<F> = (0..len)
        .map(|i| F::from_f64_lossy(((i * 7919) % 10007) as f64 / 100.0 - 50.0))
        .collect();
    let (mut c, mut s) = (z.clone(), vec![F::zero(); len]);
    let fast = min_ns_minus_copy(2000, 1, |work| {
        c.copy_from_slice(black_box(&z));
        if work {
            rks::trig::cos_sin_scaled(black_box(&mut c), &mut s, F::one()).unwrap();
        }
    });
    let std = min_ns_minus_copy(200, 1, |work| {
        c.copy_from_slice(black_box(&z));
        if work {
            rks::trig::cos_sin_reference(black_box(&mut c), &mut s, F::one());
        }
    });
    println!(
        "cos+sin {name}: rks {:.3} ns/element, std {:.3} ns/element",
        fast / len as f64,
        std / len as f64
    );
}

/// One-thread transform of 200 rows at d = 1,024, n = 16,384, per row.
fn maps() {
    use rks::{DenseRks, Fastfood, FeatureMap};
    let (rows, d, n) = (200, 1024, 16384);
    let x = ndarray::Array2::from_shape_fn((rows, d), |(i, j)| {
        ((i * 31 + j * 17) % 101) as f32 / 50.0 - 1.0
    });
    let mut out = ndarray::Array2::<f32>::zeros((rows, 2 * n));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let ff = Fastfood::params()
        .n_frequencies(n)
        .gamma(1.0 / d as f64)
        .build(d)
        .unwrap();
    let dense = DenseRks::params()
        .n_frequencies(n)
        .gamma(1.0 / d as f64)
        .build(d)
        .unwrap();
    pool.install(|| {
        let t_ff = min_ns(10, || ff.transform_into(x.view(), out.view_mut()).unwrap());
        // Into a reused buffer, as the transform: `project` would allocate and fault in a
        // 13 MB array each time, which is not the arithmetic.
        let mut projected = ndarray::Array2::<f32>::zeros((rows, n));
        let t_proj = min_ns(10, || {
            ff.project_into(x.view(), projected.view_mut()).unwrap()
        });
        let t_dense = min_ns(2, || dense.transform_into(x.view(), out.view_mut()).unwrap());
        println!(
            "per row, f32, one thread: Fastfood {:.1} µs (projection {:.1} µs), dense {:.1} µs, ratio {:.1}",
            t_ff / rows as f64 / 1e3,
            t_proj / rows as f64 / 1e3,
            t_dense / rows as f64 / 1e3,
            t_dense / t_ff
        );
    });
}

fn main() {
    if std::env::args().any(|a| a == "--fastfood-only") {
        // For profiling: only the Fastfood transform.
        use rks::{Fastfood, FeatureMap};
        let x = ndarray::Array2::from_shape_fn((200, 1024), |(i, j)| {
            ((i * 31 + j * 17) % 101) as f32 / 50.0 - 1.0
        });
        let ff = Fastfood::params()
            .n_frequencies(16384)
            .gamma(1.0 / 1024.0)
            .build(1024)
            .unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut out = ndarray::Array2::<f32>::zeros((200, 32768));
        pool.install(|| {
            (0..50).for_each(|_| {
                ff.transform_into(black_box(x.view()), out.view_mut())
                    .unwrap()
            })
        });
        return;
    }
    maps();
    trig_type::<f32>("f32");
    trig_type::<f64>("f64");
    fwht_type::<f32>("f32");
    fwht_type::<f64>("f64");
}

//! FWHT by length: the fast path against the plain radix-2 reference, f32 and f64.
//!
//! Throughput is counted in butterfly additions, d·log₂d per transform, so criterion's
//! "elem/s" reads as FLOP/s. Run: `cargo bench -p rks --bench fwht`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rks::Element;
use rks::hadamard::{fwht, fwht_reference};

fn bench_type<F: Element>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(format!("fwht_{name}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800));
    for k in 6..=20 {
        let d = 1usize << k;
        group.throughput(Throughput::Elements((d * k) as u64));
        let data: Vec<F> = (0..d)
            .map(|i| F::from_f64_lossy(((i * 7919) % 1000) as f64 / 1000.0 - 0.5))
            .collect();
        // A fresh copy per call (untimed): repeated transforms would grow the values to infinity.
        group.bench_with_input(BenchmarkId::new("fast", d), &d, |b, _| {
            b.iter_batched_ref(
                || data.clone(),
                |v| fwht(black_box(v)).unwrap(),
                BatchSize::SmallInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("reference", d), &d, |b, _| {
            b.iter_batched_ref(
                || data.clone(),
                |v| fwht_reference(black_box(v)),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_type::<f32>(c, "f32");
    bench_type::<f64>(c, "f64");
}

criterion_group!(fwht_benches, benches);
criterion_main!(fwht_benches);

//! Forward + backward pass of one layer d = 1,024 → n = 4,096 on a batch of 128 rows: adaptive
//! Fastfood (all of S, G, B, β trained, input gradient included) against a dense layer of the
//! same shape.
//!
//! `cargo bench -p rks-layers --bench forward_backward`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rks_layers::{AdaptiveFastfood, Dense, DenseInit, Trainable};

const D: usize = 1024;
const N: usize = 4096;
const BATCH: usize = 128;

fn bench(c: &mut Criterion) {
    let x = Array2::from_shape_fn((BATCH, D), |(i, j)| {
        ((i * 31 + j * 17) % 97) as f64 / 97.0 - 0.5
    });
    let gy = Array2::from_shape_fn((BATCH, N), |(i, j)| {
        ((i * 13 + j * 7) % 89) as f64 / 89.0 - 0.5
    });
    let fastfood =
        AdaptiveFastfood::<f64>::new(D, N, (D as f64).sqrt(), 1, Trainable::ALL).unwrap();
    let dense = Dense::<f64>::new(D, N, DenseInit::He, 1).unwrap();

    let mut group = c.benchmark_group("layer d=1024 n=4096 batch=128, forward+backward");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("adaptive fastfood", |b| {
        b.iter(|| {
            let (_, cache) = fastfood.forward_train(x.view()).unwrap();
            fastfood.backward(&cache, gy.view(), true).unwrap()
        })
    });
    group.bench_function("dense", |b| {
        b.iter(|| {
            let (_, cache) = dense.forward_train(x.view()).unwrap();
            dense.backward(&cache, gy.view(), true).unwrap()
        })
    });
    group.bench_function("adaptive fastfood, forward only", |b| {
        b.iter(|| fastfood.forward(x.view()).unwrap())
    });
    group.bench_function("dense, forward only", |b| {
        b.iter(|| dense.forward(x.view()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

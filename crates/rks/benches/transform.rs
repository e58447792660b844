//! Feature-map transform at the Fastfood paper's shape (2,000 rows, d = 1,024, n = 16,384
//! frequencies, 32,768 outputs): dense RKS against Fastfood and SORF, one thread and all cores; the dense
//! map's projection X·Wᵀ alone (the GEMM, to hold against a BLAS); the cos/sin step against
//! std; Nyström's kernel values against one pair at a time. Run: `cargo bench -p rks --bench
//! transform`.

// The benchmark shape, its input and its maps, shared with the CPU-time examples.
#[path = "../examples/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::{DenseRks, Element, FeatureMap};
use support::{DIM, FREQUENCIES, ROWS};

/// A group of 10 samples: the transforms take up to seconds each.
fn group<'a>(c: &'a mut Criterion, name: &str, measure: Duration) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500).min(measure))
        .measurement_time(measure);
    group
}

fn pools() -> Vec<(String, rayon::ThreadPool)> {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = |t| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("thread pool")
    };
    vec![
        ("1 thread".to_string(), pool(1)),
        (format!("{all} threads"), pool(all)),
    ]
}

fn bench_map<F: Element, M: FeatureMap>(c: &mut Criterion, name: &str, map: &M, threads: &[usize]) {
    let x = support::input::<F>();
    let mut out = ndarray::Array2::<F>::zeros((ROWS, map.output_dim()));
    let mut group = group(c, "transform_2000x1024_to_32768", Duration::from_secs(3));
    group.throughput(Throughput::Elements(ROWS as u64));
    for (i, (label, pool)) in pools().into_iter().enumerate() {
        if !threads.contains(&i) {
            continue;
        }
        group.bench_function(BenchmarkId::new(name, label), |b| {
            pool.install(|| {
                b.iter(|| {
                    map.transform_into(black_box(x.view()), out.view_mut())
                        .unwrap()
                })
            })
        });
    }
    group.finish();
}

fn transform(c: &mut Criterion) {
    let fastfood = support::fastfood();
    bench_map::<f32, _>(c, "fastfood_f32", &fastfood, &[0, 1]);
    bench_map::<f64, _>(c, "fastfood_f64", &fastfood, &[0, 1]);
    let sorf = support::sorf();
    bench_map::<f32, _>(c, "sorf_f32", &sorf, &[0, 1]);
    bench_map::<f64, _>(c, "sorf_f64", &sorf, &[0]);
    let dense = support::dense();
    bench_map::<f32, _>(c, "dense_f32", &dense, &[0, 1]);
    bench_map::<f64, _>(c, "dense_f64", &dense, &[0]);
    println!(
        "parameter memory: dense {} bytes, Fastfood {} bytes, ratio {:.0}",
        dense.parameter_bytes(),
        fastfood.parameter_bytes(),
        dense.parameter_bytes() as f64 / fastfood.parameter_bytes() as f64
    );
}

/// X·Wᵀ alone on one thread; throughput in flops (2·rows·d·n), so GFLOP/s reads off directly.
fn projection_type<F: Element>(c: &mut Criterion, name: &str, dense: &DenseRks) {
    let x = support::input::<F>();
    let mut z = dense.project(x.view()).unwrap();
    let pool = support::one_thread();
    let mut group = group(
        c,
        "dense_projection_2000x1024_to_16384",
        Duration::from_secs(3),
    );
    group.throughput(Throughput::Elements((2 * ROWS * DIM * FREQUENCIES) as u64));
    group.bench_function(BenchmarkId::new(name, "1 thread"), |b| {
        pool.install(|| {
            b.iter(|| {
                dense
                    .project_into(black_box(x.view()), z.view_mut())
                    .unwrap()
            })
        })
    });
    group.finish();
}

fn projection(c: &mut Criterion) {
    let dense = support::dense();
    projection_type::<f32>(c, "f32", &dense);
    projection_type::<f64>(c, "f64", &dense);
}

fn sin_cos_type<F: Element>(c: &mut Criterion, name: &str) {
    let len = 1 << 16;
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let z: Vec<F> = (0..len)
        .map(|_| F::from_f64_lossy(30.0 * Distribution::<f64>::sample(&StandardNormal, &mut rng)))
        .collect();
    let (mut cos, mut sin) = (z.clone(), vec![F::zero(); len]);
    let mut group = group(c, &format!("cos_sin_{name}"), Duration::from_secs(1));
    group.throughput(Throughput::Elements(len as u64));
    group.bench_function("rks_trig", |b| {
        b.iter(|| {
            cos.copy_from_slice(&z);
            rks::trig::cos_sin_scaled(black_box(&mut cos), &mut sin, F::one()).unwrap()
        })
    });
    group.bench_function("std_sin_cos", |b| {
        b.iter(|| {
            cos.copy_from_slice(&z);
            rks::trig::cos_sin_reference(black_box(&mut cos), &mut sin, F::one())
        })
    });
    group.finish();
}

fn sin_cos(c: &mut Criterion) {
    sin_cos_type::<f32>(c, "f32");
    sin_cos_type::<f64>(c, "f64");
}

/// Nyström's kernel values k(x, l) of 4,000 rows of 32 columns against 1,024 landmarks (the
/// shape of the default fit's Nyström map on a 32-column file), one thread: the vectorised sums
/// of `rks::radial` (`Nystrom::kernel_values`) against one pair at a time (`Kernel::exact`),
/// which gives the same bits. Throughput in kernel values.
fn nystrom_kernel_values(c: &mut Criterion) {
    let (rows, dim, landmarks) = (4_000, 32, 1_024);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = ndarray::Array2::from_shape_simple_fn((rows, dim), || {
        Distribution::<f64>::sample(&StandardNormal, &mut rng)
    });
    let sigma = (dim as f64).sqrt();
    let map = rks::Nystrom::params()
        .n_landmarks(landmarks)
        .sigma(sigma)
        .fit(x.view())
        .unwrap();
    let pool = support::one_thread();
    let mut group = group(
        c,
        "nystrom_kernel_values_4000x32_1024",
        Duration::from_secs(3),
    );
    group.throughput(Throughput::Elements((rows * landmarks) as u64));
    group.bench_function("rks_radial", |b| {
        pool.install(|| b.iter(|| map.kernel_values(black_box(x.view())).unwrap()))
    });
    group.bench_function("pair_at_a_time", |b| {
        let bandwidth = rks::Bandwidth::Sigma(sigma);
        b.iter(|| {
            let mut sum = 0.0;
            for row in black_box(&x).rows() {
                let row = row.as_slice().unwrap();
                for l in map.landmarks().rows() {
                    sum += rks::Kernel::Gaussian
                        .exact(row, l.as_slice().unwrap(), bandwidth)
                        .unwrap();
                }
            }
            sum
        })
    });
    group.finish();
}

criterion_group!(
    transform_benches,
    sin_cos,
    transform,
    projection,
    nystrom_kernel_values
);
criterion_main!(transform_benches);

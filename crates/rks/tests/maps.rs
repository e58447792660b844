//! Behaviour of the feature maps: the maths (implied matrix statistics, kernel approximation),
//! reproducibility (seeds, threads, serialisation) and typed errors.

use ndarray::{Array2, ArrayView2, ShapeBuilder, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::error::Param;
use rks::variates::Sampler;
use rks::{
    AnyMap, Bandwidth, DenseRks, Fastfood, FeatureMap, Kernel, Linear, MapKind, MapSpec, Nystrom,
    Orf, RksError, Sampling, Sorf,
};

fn gaussian_rows(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
}

/// The n × d matrix a map applies: its projection of the identity, transposed.
fn implied_matrix(map: &Fastfood) -> Array2<f64> {
    let d = map.input_dim();
    map.project(Array2::<f64>::eye(d).view())
        .unwrap()
        .t()
        .to_owned()
}

/// Standard normal CDF (Abramowitz & Stegun 26.2.17, error < 7.5e-8).
fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.231_641_9 * x.abs());
    let poly = t
        * (0.319_381_530
            + t * (-0.356_563_782
                + t * (1.781_477_937 + t * (-1.821_255_978 + t * 1.330_274_429))));
    let tail = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt() * poly;
    if x >= 0.0 { 1.0 - tail } else { tail }
}

/// χ²_k CDF by the Wilson–Hilferty cube-root normal approximation (error ~1e-3 at k = 64).
fn chi_squared_cdf(x: f64, k: f64) -> f64 {
    let v = 2.0 / (9.0 * k);
    normal_cdf(((x / k).cbrt() - (1.0 - v)) / v.sqrt())
}

/// Kolmogorov–Smirnov distance between a sample and a CDF.
fn ks_distance(mut sample: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
    sample.sort_by(f64::total_cmp);
    let n = sample.len() as f64;
    sample
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
        })
        .fold(0.0, f64::max)
}

/// Checks that the rows of `w` look like i.i.d. N(0, σ⁻² I_d) rows.
fn check_gaussian_rows(w: &Array2<f64>, sigma: f64) {
    let (n, d) = w.dim();
    let count = w.len() as f64;
    let mean = w.sum() / count;
    let var = w.mapv(|v| (v - mean).powi(2)).sum() / count;
    let kurtosis = w.mapv(|v| (v - mean).powi(4)).sum() / count / (var * var);
    let target = 1.0 / (sigma * sigma);
    // Standard error of the mean: σ⁻¹/√(n·d); of the variance (rows share a norm draw): ≈ √(2/(n·d)) relative.
    assert!(mean.abs() < 5.0 * (target / count).sqrt(), "mean {mean}");
    assert!(
        (var / target - 1.0).abs() < 5.0 * (2.0 / n as f64 / d as f64).sqrt().max(0.005),
        "variance {var} vs {target}"
    );
    assert!((kurtosis - 3.0).abs() < 0.25, "kurtosis {kurtosis}");
    // σ²‖w‖² ~ χ²_d: Kolmogorov–Smirnov at the 0.1 % level (1.95/√n) plus the approximation error.
    let norms: Vec<f64> = w
        .rows()
        .into_iter()
        .map(|r| r.dot(&r) * sigma * sigma)
        .collect();
    let ks = ks_distance(norms, |x| chi_squared_cdf(x, d as f64));
    assert!(ks < 1.95 / (n as f64).sqrt() + 0.005, "KS distance {ks}");
}

#[test]
fn fastfood_implied_matrix_is_gaussian_like() {
    for (seed, sigma) in [(1, 2.0), (2, 0.5)] {
        let map = Fastfood::params()
            .n_frequencies(4096)
            .sigma(sigma)
            .seed(seed)
            .build(64)
            .unwrap();
        let w = implied_matrix(&map);
        assert_eq!(w.dim(), (4096, 64));
        check_gaussian_rows(&w, sigma);
        let plus = map
            .blocks()
            .iter()
            .flat_map(|b| b.signs())
            .filter(|&&s| s == 1.0)
            .count();
        assert!(plus.abs_diff(2048) < 160, "{plus} of 4096 signs are +1");
        // Row norms are exactly s_i/σ: the S diagonal sets them.
        for (b, block) in map.blocks().iter().enumerate() {
            for (i, s) in block.scaling().iter().enumerate().step_by(61) {
                let g_norm = block.gaussian().iter().map(|g| g * g).sum::<f64>().sqrt();
                let row = w.row(b * 64 + i);
                assert!((row.dot(&row).sqrt() - s * g_norm / sigma).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn dense_matrix_is_gaussian() {
    let map = DenseRks::params()
        .n_frequencies(4096)
        .sigma(2.0)
        .seed(3)
        .build(64)
        .unwrap();
    check_gaussian_rows(&map.weights(), 2.0);
}

#[test]
fn fastfood_is_the_documented_product() {
    // Rebuild Vx from the accessors with explicit matrices, as the FastfoodBlock docs describe.
    let (d, n, sigma) = (6, 20, 1.3);
    let map = Fastfood::params()
        .n_frequencies(n)
        .sigma(sigma)
        .seed(11)
        .build(d)
        .unwrap();
    let dim = map.padded_dim();
    assert_eq!(
        (dim, map.blocks().len(), map.n_frequencies(), map.sigma()),
        (8, 3, n, sigma)
    );
    let hadamard = Array2::from_shape_fn((dim, dim), |(i, j)| {
        if (i & j).count_ones() % 2 == 0 {
            1.0
        } else {
            -1.0
        }
    });
    let x = gaussian_rows(4, d, 5);
    let z = map.project(x.view()).unwrap();
    for (r, row) in x.rows().into_iter().enumerate() {
        for (b, block) in map.blocks().iter().enumerate() {
            let mut padded = ndarray::Array1::zeros(dim);
            padded.slice_mut(s![..d]).assign(&row);
            let a = &padded * &ndarray::Array1::from(block.signs().to_vec());
            let h = hadamard.dot(&a);
            let p = ndarray::Array1::from_shape_fn(dim, |i| h[block.permutation()[i]]);
            let q = &p * &ndarray::Array1::from(block.gaussian().to_vec());
            let y = hadamard.dot(&q);
            for i in 0..dim.min(n - b * dim) {
                let expected = block.scaling()[i] * y[i] / (sigma * (dim as f64).sqrt());
                assert!((z[[r, b * dim + i]] - expected).abs() < 1e-12);
            }
        }
        assert!(
            map.blocks()
                .iter()
                .all(|b| b.signs().iter().all(|s| s.abs() == 1.0))
        );
        let mut sorted = map.blocks()[0].permutation().to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..dim).collect::<Vec<_>>());
    }
}

#[test]
fn dense_projection_is_x_times_w_transposed() {
    let map = DenseRks::params()
        .n_frequencies(33)
        .sigma(0.7)
        .seed(2)
        .build(5)
        .unwrap();
    let x = gaussian_rows(300, 5, 1);
    let phi = map.transform(x.view()).unwrap();
    let z = x.dot(&map.weights().t());
    let scale = 1.0 / 33f64.sqrt();
    for ((i, j), &zij) in z.indexed_iter() {
        assert!((phi[[i, j]] - scale * zij.cos()).abs() < 1e-14);
        assert!((phi[[i, 33 + j]] - scale * zij.sin()).abs() < 1e-14);
    }
}

/// Max over pairs of |φ(x)·φ(y) − k(x, y)| on `x`.
fn max_kernel_error(map: &AnyMap, x: &Array2<f64>, kernel: Kernel, bandwidth: Bandwidth) -> f64 {
    let phi = map.transform(x.view()).unwrap();
    let gram = phi.dot(&phi.t());
    let mut worst = 0.0f64;
    for i in 0..x.nrows() {
        for j in 0..i {
            let exact = kernel
                .exact(
                    x.row(i).as_slice().unwrap(),
                    x.row(j).as_slice().unwrap(),
                    bandwidth,
                )
                .unwrap();
            worst = worst.max((gram[[i, j]] - exact).abs());
        }
    }
    worst
}

/// Mean over seeds of the max kernel error at each n.
fn error_curve(kind: MapKind, d: usize, ns: &[usize], kernel: Kernel) -> Vec<f64> {
    let x = gaussian_rows(40, d, 100);
    let bw = Bandwidth::Sigma((d as f64).sqrt());
    ns.iter()
        .map(|&n| {
            let seeds = 0..4u64;
            let total: f64 = seeds
                .clone()
                .map(|seed| {
                    max_kernel_error(
                        &AnyMap::build(kind, d, n, bw, kernel, seed).unwrap(),
                        &x,
                        kernel,
                        bw,
                    )
                })
                .sum();
            total / seeds.count() as f64
        })
        .collect()
}

/// Least-squares slope of log(error) against log(n).
fn log_slope(ns: &[usize], errors: &[f64]) -> f64 {
    let xs: Vec<f64> = ns.iter().map(|&n| (n as f64).ln()).collect();
    let ys: Vec<f64> = errors.iter().map(|e| e.ln()).collect();
    let (mx, my) = (
        xs.iter().sum::<f64>() / xs.len() as f64,
        ys.iter().sum::<f64>() / ys.len() as f64,
    );
    let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let var: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    cov / var
}

#[test]
fn kernel_error_falls_like_one_over_sqrt_n() {
    let ns = [64, 256, 1024, 4096];
    // d = 12 pads to 16: Fastfood's zero padding is exercised too.
    let dense = error_curve(MapKind::Dense, 12, &ns, Kernel::Gaussian);
    let fastfood = error_curve(MapKind::Fastfood, 12, &ns, Kernel::Gaussian);
    eprintln!("max kernel error at n = {ns:?}: dense {dense:?}, Fastfood {fastfood:?}");
    for (name, errors) in [("dense", &dense), ("fastfood", &fastfood)] {
        assert!(errors[3] < 0.5 * errors[1], "{name}: {errors:?}");
        let slope = log_slope(&ns, errors);
        assert!(
            (-0.75..=-0.35).contains(&slope),
            "{name}: slope {slope}, {errors:?}"
        );
        assert!(errors[3] < 0.05, "{name}: {errors:?}");
    }
    for i in 0..ns.len() {
        assert!(
            fastfood[i] < 1.5 * dense[i],
            "n = {}: Fastfood {fastfood:?} vs dense {dense:?}",
            ns[i]
        );
    }
}

#[test]
fn other_kernels_are_approximated() {
    for (kind, kernel) in [
        (MapKind::Dense, Kernel::Laplacian),
        (MapKind::Dense, Kernel::Matern12),
        (MapKind::Dense, Kernel::Matern32),
        (MapKind::Dense, Kernel::Matern52),
        (MapKind::Fastfood, Kernel::Matern12),
        (MapKind::Fastfood, Kernel::Matern32),
        (MapKind::Fastfood, Kernel::Matern52),
    ] {
        let errors = error_curve(kind, 8, &[256, 4096], kernel);
        eprintln!("{kind:?} {kernel:?}: max error at n = 256, 4096: {errors:?}");
        assert!(
            errors[1] < 0.06 && errors[1] < 0.5 * errors[0],
            "{kind:?} {kernel:?}: {errors:?}"
        );
    }
    // The Laplacian (L1) kernel is not radial: Fastfood refuses it.
    let err = Fastfood::params()
        .kernel(Kernel::Laplacian)
        .build(4)
        .unwrap_err();
    assert!(matches!(
        err,
        RksError::InvalidParameter {
            name: Param::Kernel,
            ..
        }
    ));
}

fn maps() -> Vec<AnyMap> {
    vec![
        DenseRks::params()
            .n_frequencies(300)
            .gamma(0.05)
            .seed(9)
            .build(7)
            .unwrap()
            .into(),
        Fastfood::params()
            .n_frequencies(300)
            .sigma(3.0)
            .seed(9)
            .build(7)
            .unwrap()
            .into(),
        Fastfood::params()
            .n_frequencies(64)
            .sigma(3.0)
            .kernel(Kernel::Matern32)
            .build(7)
            .unwrap()
            .into(),
        Orf::params()
            .n_frequencies(300)
            .sigma(3.0)
            .seed(9)
            .build(7)
            .unwrap()
            .into(),
        Sorf::params()
            .n_frequencies(300)
            .sigma(3.0)
            .seed(9)
            .build(7)
            .unwrap()
            .into(),
        Sorf::params()
            .n_frequencies(40)
            .sigma(3.0)
            .kernel(Kernel::Matern52)
            .build(7)
            .unwrap()
            .into(),
        DenseRks::params()
            .n_frequencies(100)
            .kernel(Kernel::ArcCos1)
            .seed(2)
            .build(7)
            .unwrap()
            .into(),
        Fastfood::params()
            .n_frequencies(100)
            .kernel(Kernel::ArcCos0)
            .seed(2)
            .build(7)
            .unwrap()
            .into(),
        Orf::params()
            .n_frequencies(30)
            .kernel(Kernel::ArcCos1)
            .build(7)
            .unwrap()
            .into(),
        Sorf::params()
            .n_frequencies(30)
            .kernel(Kernel::ArcCos0)
            .build(7)
            .unwrap()
            .into(),
        Linear::params().sigma(3.0).build(7).unwrap().into(),
        Nystrom::params()
            .n_landmarks(20)
            .sigma(3.0)
            .seed(4)
            .fit(gaussian_rows(60, 7, 11).view())
            .unwrap()
            .into(),
        Nystrom::params()
            .n_landmarks(15)
            .sigma(3.0)
            .kernel(Kernel::Laplacian)
            .sampling(Sampling::RidgeLeverage)
            .fit(gaussian_rows(60, 7, 12).view())
            .unwrap()
            .into(),
    ]
}

fn assert_bitwise<F: rks::Element>(a: ArrayView2<'_, F>, b: ArrayView2<'_, F>) {
    assert_eq!(a.dim(), b.dim());
    assert!(
        a.iter()
            .zip(b.iter())
            .all(|(u, v)| u.to_f64_exact().to_bits() == v.to_f64_exact().to_bits())
    );
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let x = gaussian_rows(301, 7, 4);
    let x32 = x.mapv(|v| v as f32);
    let pool = |t| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
    };
    for map in maps() {
        let one = pool(1).install(|| {
            (
                map.transform(x.view()).unwrap(),
                map.transform(x32.view()).unwrap(),
            )
        });
        let four = pool(4).install(|| {
            (
                map.transform(x.view()).unwrap(),
                map.transform(x32.view()).unwrap(),
            )
        });
        assert_bitwise(one.0.view(), four.0.view());
        assert_bitwise(one.1.view(), four.1.view());
        // Three threads: the dense map's blocks are of yet another size (102 rows, not 78 or 156).
        let three = pool(3).install(|| map.transform(x32.view()).unwrap());
        assert_bitwise(one.1.view(), three.view());
        // f32 and f64 compute the same map.
        let diff = one
            .0
            .iter()
            .zip(&one.1)
            .map(|(a, &b)| (a - b as f64).abs())
            .fold(0.0, f64::max);
        assert!(diff < 1e-5, "{:?}: f32 vs f64 differ by {diff}", map.kind());
    }
}

#[test]
fn same_seed_same_map_other_seed_other_map() {
    let x = gaussian_rows(3, 5, 0);
    for kind in [MapKind::Dense, MapKind::Fastfood] {
        let build = |seed| {
            AnyMap::build(kind, 5, 40, Bandwidth::Sigma(1.0), Kernel::Gaussian, seed).unwrap()
        };
        let (a, b, c) = (build(1), build(1), build(2));
        assert_bitwise(
            a.transform(x.view()).unwrap().view(),
            b.transform(x.view()).unwrap().view(),
        );
        assert_ne!(
            a.transform(x.view()).unwrap(),
            c.transform(x.view()).unwrap()
        );
    }
}

/// A Fastfood block (d = 8) and a dense W (2 × 2) of seed 7, σ = 1, drawn by `sampler`, as text.
fn fixed_seed_snapshot(sampler: Sampler) -> String {
    let spec = |kind, n, d| {
        MapSpec::new(kind, d, n, Bandwidth::Sigma(1.0), Kernel::Gaussian, 7)
            .unwrap()
            .with_sampler(sampler)
    };
    let ff = Fastfood::from_spec(&spec(MapKind::Fastfood, 8, 8)).unwrap();
    let block = &ff.blocks()[0];
    let dense = DenseRks::from_spec(&spec(MapKind::Dense, 2, 2)).unwrap();
    format!(
        "{:?} {:?} {:.6?} {:.6?} {:.6?}",
        block.signs(),
        block.permutation(),
        block.gaussian(),
        block.scaling(),
        dense.weights().iter().collect::<Vec<_>>()
    )
}

#[test]
fn fixed_seed_gives_fixed_parameters() {
    // Pins the draw order: a change must be deliberate (it breaks saved models). The portable
    // sampler's ziggurat has rand_distr's layout (r, v, 256 layers, the same bits of each draw
    // for the layer and the abscissa, the same wedge test), so to six decimals these are the
    // same parameters with both samplers; `rks::variates`' own test pins the portable bits.
    for sampler in [Sampler::Portable, Sampler::RandDistr] {
        assert_eq!(
            fixed_seed_snapshot(sampler),
            include_str!("fixed_seed_snapshot.txt").trim(),
            "{sampler:?}"
        );
    }
}

fn round_trip<M: serde::Serialize + serde::de::DeserializeOwned>(map: &M) -> M {
    round_trip_within(map, 64)
}

fn round_trip_within<M: serde::Serialize + serde::de::DeserializeOwned>(
    map: &M,
    limit: usize,
) -> M {
    let bytes = bincode::serde::encode_to_vec(map, bincode::config::standard()).unwrap();
    assert!(
        bytes.len() < limit,
        "the stored form is the spec, not the parameters: {} bytes",
        bytes.len()
    );
    bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
        .unwrap()
        .0
}

#[test]
fn serde_round_trip_is_bit_for_bit() {
    let x = gaussian_rows(50, 7, 8);
    let x32 = x.mapv(|v| v as f32);
    for map in maps() {
        // Nyström stores its landmarks: m·d f64 and a few bytes.
        let limit = match &map {
            AnyMap::Nystrom(m) => 64 + 8 * m.landmarks().len(),
            _ => 64,
        };
        let back: AnyMap = round_trip_within(&map, limit);
        assert_eq!(back, map);
        assert_bitwise(
            map.transform(x.view()).unwrap().view(),
            back.transform(x.view()).unwrap().view(),
        );
        assert_bitwise(
            map.transform(x32.view()).unwrap().view(),
            back.transform(x32.view()).unwrap().view(),
        );
        match &map {
            AnyMap::Dense(m) => {
                let back: DenseRks = round_trip(m);
                assert_bitwise(
                    m.transform(x.view()).unwrap().view(),
                    back.transform(x.view()).unwrap().view(),
                );
            }
            AnyMap::Fastfood(m) => {
                let back: Fastfood = round_trip(m);
                assert_bitwise(
                    m.project(x.view()).unwrap().view(),
                    back.project(x.view()).unwrap().view(),
                );
            }
            AnyMap::Orf(m) => {
                let back: Orf = round_trip(m);
                assert_eq!(back.weights(), m.weights());
            }
            AnyMap::Sorf(m) => {
                let back: Sorf = round_trip(m);
                assert_bitwise(
                    m.project(x.view()).unwrap().view(),
                    back.project(x.view()).unwrap().view(),
                );
            }
            AnyMap::Linear(m) => {
                let back: Linear = round_trip(m);
                assert_eq!(&back, m);
            }
            AnyMap::Nystrom(m) => {
                let back: Nystrom = round_trip_within(m, limit);
                assert_bitwise(
                    m.transform(x.view()).unwrap().view(),
                    back.transform(x.view()).unwrap().view(),
                );
            }
        }
    }
}

/// Mirror of the stored form, to write invalid specs.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy)]
struct Stored {
    kind: MapKind,
    input_dim: u64,
    n_frequencies: u64,
    bandwidth: Bandwidth,
    kernel: Kernel,
    seed: u64,
    checksum: u64,
}

fn decode<M: serde::de::DeserializeOwned>(
    stored: Stored,
) -> Result<M, bincode::error::DecodeError> {
    let bytes = bincode::serde::encode_to_vec(stored, bincode::config::standard()).unwrap();
    bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).map(|(m, _)| m)
}

#[test]
fn invalid_stored_specs_are_errors() {
    let map = AnyMap::build(
        MapKind::Dense,
        4,
        16,
        Bandwidth::Sigma(1.0),
        Kernel::Gaussian,
        1,
    )
    .unwrap();
    let bytes = bincode::serde::encode_to_vec(&map, bincode::config::standard()).unwrap();
    let good: Stored = bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
        .unwrap()
        .0;
    assert!(decode::<AnyMap>(good).is_ok());
    assert!(decode::<DenseRks>(good).is_ok());
    let message = |r: Result<AnyMap, bincode::error::DecodeError>| r.unwrap_err().to_string();
    let cases = [
        (
            Stored {
                bandwidth: Bandwidth::Sigma(0.0),
                ..good
            },
            "sigma",
        ),
        (
            Stored {
                bandwidth: Bandwidth::Sigma(-2.0),
                ..good
            },
            "sigma",
        ),
        (
            Stored {
                bandwidth: Bandwidth::Gamma(f64::NAN),
                ..good
            },
            "gamma",
        ),
        (
            Stored {
                n_frequencies: 0,
                ..good
            },
            "n_frequencies",
        ),
        (
            Stored {
                n_frequencies: 1 << 40,
                ..good
            },
            "n_frequencies",
        ),
        (
            Stored {
                n_frequencies: 1 << 25,
                input_dim: 1 << 20,
                ..good
            },
            "n_frequencies",
        ),
        (
            Stored {
                input_dim: 0,
                ..good
            },
            "input_dim",
        ),
        (
            Stored {
                input_dim: u64::MAX,
                ..good
            },
            "input_dim",
        ),
        (
            Stored {
                checksum: good.checksum ^ 1,
                ..good
            },
            "checksum",
        ),
        (Stored { seed: 2, ..good }, "checksum"),
        (
            Stored {
                kind: MapKind::Fastfood,
                kernel: Kernel::Laplacian,
                ..good
            },
            "kernel",
        ),
    ];
    for (stored, word) in cases {
        let msg = message(decode(stored));
        assert!(msg.contains(word), "{msg}");
    }
    assert!(
        decode::<Fastfood>(good)
            .unwrap_err()
            .to_string()
            .contains("dense")
    );
    assert!(
        bincode::serde::decode_from_slice::<AnyMap, _>(
            &bytes[..bytes.len() - 3],
            bincode::config::standard()
        )
        .is_err()
    );
}

#[test]
fn bad_input_gives_typed_errors() {
    for map in maps() {
        let d = map.input_dim();
        assert_eq!(
            map.transform(Array2::<f64>::zeros((2, d + 1)).view()),
            Err(RksError::WrongInputDim {
                expected: d,
                found: d + 1
            })
        );
        let mut x = Array2::<f32>::zeros((5, d));
        x[[3, 2]] = f32::NAN;
        assert!(matches!(
            map.transform(x.view()),
            Err(RksError::NonFiniteInput { row: 3, col: 2, .. })
        ));
        x[[3, 2]] = 0.0;
        x[[4, 0]] = f32::NEG_INFINITY;
        assert!(matches!(
            map.transform(x.view()),
            Err(RksError::NonFiniteInput { row: 4, col: 0, .. })
        ));
        let mut out = Array2::<f64>::zeros((5, map.output_dim() - 1));
        assert!(matches!(
            map.transform_into(Array2::<f64>::zeros((5, d)).view(), out.view_mut()),
            Err(RksError::WrongOutputShape { .. })
        ));
        assert_eq!(
            map.transform(Array2::<f64>::zeros((0, d)).view())
                .unwrap()
                .dim(),
            (0, map.output_dim())
        );
    }
    let invalid = |r: Result<AnyMap, RksError>, name: &str| {
        assert!(
            matches!(r, Err(RksError::InvalidParameter { name: n, .. }) if n.name() == name),
            "{name}"
        )
    };
    for kind in [MapKind::Dense, MapKind::Fastfood] {
        let build = |d, n, bw| AnyMap::build(kind, d, n, bw, Kernel::Gaussian, 0);
        invalid(build(3, 0, Bandwidth::Sigma(1.0)), "n_frequencies");
        invalid(build(0, 8, Bandwidth::Sigma(1.0)), "input_dim");
        invalid(build(3, 8, Bandwidth::Sigma(0.0)), "sigma");
        invalid(build(3, 8, Bandwidth::Sigma(f64::INFINITY)), "sigma");
        invalid(build(3, 8, Bandwidth::Gamma(-1.0)), "gamma");
    }
    assert!(DenseRks::params().sigma(-1.0).build(3).is_err());
    assert!(Fastfood::params().n_frequencies(0).build(3).is_err());
}

#[test]
fn strided_views_match_contiguous() {
    let x = gaussian_rows(40, 14, 6);
    let strided_x = x.slice(s![.., ..;2]);
    let contiguous = strided_x.to_owned();
    for map in [
        AnyMap::build(
            MapKind::Dense,
            7,
            20,
            Bandwidth::Sigma(2.0),
            Kernel::Gaussian,
            1,
        )
        .unwrap(),
        AnyMap::build(
            MapKind::Fastfood,
            7,
            20,
            Bandwidth::Sigma(2.0),
            Kernel::Gaussian,
            1,
        )
        .unwrap(),
    ] {
        let expected = map.transform(contiguous.view()).unwrap();
        let mut wide = Array2::zeros((40, 80));
        map.transform_into(strided_x, wide.slice_mut(s![.., ..;2]))
            .unwrap();
        let mut column_major = Array2::zeros((40, 40).f());
        map.transform_into(strided_x, column_major.view_mut())
            .unwrap();
        for got in [wide.slice(s![.., ..;2]), column_major.view()] {
            assert!(
                got.iter()
                    .zip(&expected)
                    .all(|(a, b)| (a - b).abs() < 1e-14)
            );
        }
    }
}

#[test]
fn parameter_memory() {
    // Dense at the benchmark shape would be 128 MiB: check the formula on a smaller one.
    let dense = DenseRks::params().n_frequencies(512).build(64).unwrap();
    assert_eq!(dense.parameter_bytes(), 512 * 64 * 8);
    let ff = Fastfood::params().n_frequencies(16384).build(1024).unwrap();
    assert_eq!(ff.parameter_bytes(), 16 * 1024 * 32);
    assert_eq!(16384 * 1024 * 8 / ff.parameter_bytes(), 256);
    let any: AnyMap = ff.into();
    assert_eq!(any.parameter_bytes(), 16 * 1024 * 32);
}

#[test]
fn linfa_transformer_matches_and_panics_on_bad_input() {
    use linfa::traits::Transformer;
    let map = Fastfood::params().n_frequencies(16).build(3).unwrap();
    let x = gaussian_rows(4, 3, 1);
    let via_linfa: Array2<f64> = Transformer::transform(&map, &x);
    assert_eq!(via_linfa, FeatureMap::transform(&map, x.view()).unwrap());
    let bad = Array2::<f64>::zeros((2, 4));
    let caught = std::panic::catch_unwind(|| {
        Transformer::<ArrayView2<'_, f64>, Array2<f64>>::transform(&map, bad.view())
    });
    assert!(caught.is_err());
}

#[test]
fn features_are_cos_sin_of_the_projection() {
    // Fastfood fuses the cos/sin step into its projection loop: check it against project().
    for (d, n) in [(7, 300), (16, 16), (5, 3)] {
        let map = Fastfood::params()
            .n_frequencies(n)
            .sigma(0.8)
            .seed(4)
            .build(d)
            .unwrap();
        let x = gaussian_rows(37, d, 12);
        let (phi, z) = (
            map.transform(x.view()).unwrap(),
            map.project(x.view()).unwrap(),
        );
        let scale = 1.0 / (n as f64).sqrt();
        for ((i, j), &zij) in z.indexed_iter() {
            assert!((phi[[i, j]] - scale * zij.cos()).abs() < 1e-15);
            assert!((phi[[i, n + j]] - scale * zij.sin()).abs() < 1e-15);
        }
        let phi32 = map.transform(x.mapv(|v| v as f32).view()).unwrap();
        assert!(
            phi32
                .iter()
                .zip(&phi)
                .all(|(a, b)| (*a as f64 - b).abs() < 1e-5)
        );
    }
}

#[test]
fn debug_output_is_short() {
    let dense = DenseRks::params().n_frequencies(2000).build(100).unwrap();
    let ff = Fastfood::params().n_frequencies(2000).build(100).unwrap();
    for text in [
        format!("{dense:?}"),
        format!("{ff:?}"),
        format!("{:?}", AnyMap::from(ff)),
    ] {
        assert!(text.len() < 400, "{text}");
    }
}

#[test]
fn params_are_reusable_values() {
    let params = Fastfood::params().n_frequencies(32).gamma(0.5).seed(3);
    let copy = params; // Copy: the builder is a plain value.
    assert_eq!(params, copy);
    let (a, b) = (params.build(4).unwrap(), copy.build(4).unwrap());
    assert_eq!(a, b);
    assert_eq!(a.sigma(), 1.0);
    assert_eq!(params.check(MapKind::Fastfood, 4).unwrap(), *a.spec());
}

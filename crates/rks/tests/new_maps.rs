//! ORF, SORF, the arc-cosine kernels and Nyström: the structure each map promises, the kernel
//! each approximates (with fixed seeds and stated tolerances), reproducibility and typed errors.

use ndarray::{Array2, ArrayView2, Axis, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rks::error::Param;
use rks::variates::Sampler;
use rks::{
    AnyMap, Bandwidth, DenseRks, Fastfood, FeatureMap, Kernel, MapKind, MapSpec, Nystrom, Orf,
    RksError, Sampling, Sorf,
};

fn gaussian_rows(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
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

/// χ²_k CDF by the Wilson–Hilferty cube-root normal approximation (error ~1e-3 at k ≥ 16).
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

#[test]
fn orf_blocks_are_orthogonal_and_row_lengths_follow_chi_d() {
    let (d, sigma) = (16, 1.7);
    // 40 whole blocks and a truncated one of 10 rows.
    let n = 40 * d + 10;
    let map = Orf::params()
        .n_frequencies(n)
        .sigma(sigma)
        .seed(3)
        .build(d)
        .unwrap();
    let w = map.weights();
    assert_eq!(w.dim(), (n, d));
    for block in w.axis_chunks_iter(Axis(0), d) {
        // Directions: Q Qᵀ = I to rounding.
        let norms = block.map_axis(Axis(1), |r| r.dot(&r).sqrt());
        let q = &block / &norms.insert_axis(Axis(1));
        let gram = q.dot(&q.t());
        let worst = gram
            .indexed_iter()
            .map(|((i, j), &g)| (g - if i == j { 1.0 } else { 0.0 }).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-14, "QQᵀ − I reaches {worst}");
    }
    // Lengths: σ²‖w‖² ~ χ²_d. KS at the 0.1 % level (1.95/√n) plus the approximation error, and
    // the mean d within 5 standard errors √(2d/n).
    let lengths: Vec<f64> = w
        .rows()
        .into_iter()
        .map(|r| r.dot(&r) * sigma * sigma)
        .collect();
    let mean = lengths.iter().sum::<f64>() / n as f64;
    assert!(
        (mean - d as f64).abs() < 5.0 * (2.0 * d as f64 / n as f64).sqrt(),
        "mean squared length {mean}"
    );
    let ks = ks_distance(lengths, |x| chi_squared_cdf(x, d as f64));
    assert!(ks < 1.95 / (n as f64).sqrt() + 0.005, "KS distance {ks}");
    // A truncated last block: the first rows are those of the map with whole blocks only.
    let whole = Orf::params()
        .n_frequencies(40 * d)
        .sigma(sigma)
        .seed(3)
        .build(d)
        .unwrap();
    assert_eq!(whole.weights(), w.slice(s![..40 * d, ..]));
}

#[test]
fn orf_is_orthogonal_at_d_784() {
    // One MNIST-sized block: Gram–Schmidt twice keeps QQᵀ = I to rounding.
    let d = 784;
    let w = Orf::params()
        .n_frequencies(d)
        .seed(1)
        .build(d)
        .unwrap()
        .weights();
    let norms = w.map_axis(Axis(1), |r| r.dot(&r).sqrt());
    let q = &w / &norms.insert_axis(Axis(1));
    let gram = q.dot(&q.t());
    let worst = gram
        .indexed_iter()
        .map(|((i, j), &g)| (g - if i == j { 1.0 } else { 0.0 }).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-13, "QQᵀ − I reaches {worst}");
}

/// The normalised Walsh–Hadamard matrix of order `dim`, H_ij = (−1)^popcount(i & j)/√dim.
fn hadamard(dim: usize) -> Array2<f64> {
    let scale = 1.0 / (dim as f64).sqrt();
    Array2::from_shape_fn((dim, dim), |(i, j)| {
        if (i & j).count_ones() % 2 == 0 {
            scale
        } else {
            -scale
        }
    })
}

#[test]
fn sorf_equals_its_explicit_matrix() {
    for (d, n, kernel) in [
        (5, 20, Kernel::Gaussian),
        (8, 8, Kernel::Gaussian),
        (3, 9, Kernel::Matern32),
        (1, 3, Kernel::Gaussian),
    ] {
        let sigma = 1.3;
        let map = Sorf::params()
            .n_frequencies(n)
            .sigma(sigma)
            .kernel(kernel)
            .seed(11)
            .build(d)
            .unwrap();
        let dim = map.padded_dim();
        assert_eq!(dim, d.next_power_of_two());
        let h = hadamard(dim);
        // W = stacked (√D/σ)·diag(m)·H D₁ H D₂ H D₃, first n rows, first d columns.
        let mut rows = Vec::new();
        for block in map.blocks() {
            let [d1, d2, d3] = block.signs();
            let diag = |v: &[f64]| Array2::from_diag(&ndarray::arr1(v));
            let m = h
                .dot(&diag(d1))
                .dot(&h)
                .dot(&diag(d2))
                .dot(&h)
                .dot(&diag(d3));
            let m = diag(block.scaling()).dot(&m) * ((dim as f64).sqrt() / sigma);
            rows.extend(m.rows().into_iter().map(|r| r.to_owned()));
        }
        let explicit = Array2::from_shape_fn((n, d), |(i, j)| rows[i][j]);
        let implied = map.project(Array2::<f64>::eye(d).view()).unwrap();
        let worst = (&implied.t() - &explicit)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(worst < 1e-12, "d {d} n {n}: SORF differs from W by {worst}");
        if kernel == Kernel::Gaussian {
            // Each row has length √D/σ exactly.
            for r in explicit.rows() {
                let full = (dim as f64).sqrt() / sigma;
                assert!(r.dot(&r).sqrt() <= full + 1e-12);
            }
        }
    }
}

fn gram(phi: &Array2<f64>) -> Array2<f64> {
    phi.dot(&phi.t())
}

fn exact_gram(x: &Array2<f64>, kernel: Kernel, sigma: f64) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
    Array2::from_shape_fn((x.nrows(), x.nrows()), |(i, j)| {
        kernel
            .exact(&rows[i], &rows[j], Bandwidth::Sigma(sigma))
            .unwrap()
    })
}

/// Mean squared error of the approximate kernel matrix over the distinct pairs.
fn mse(approx: &Array2<f64>, exact: &Array2<f64>) -> f64 {
    let n = exact.nrows();
    let mut sum = 0.0;
    for i in 0..n {
        for j in 0..i {
            sum += (approx[(i, j)] - exact[(i, j)]).powi(2);
        }
    }
    sum / (n * (n - 1) / 2) as f64
}

fn build(kind: MapKind, d: usize, n: usize, sigma: f64, kernel: Kernel, seed: u64) -> AnyMap {
    AnyMap::build(kind, d, n, Bandwidth::Sigma(sigma), kernel, seed).unwrap()
}

/// Mean over `seeds` of the kernel matrix's mean squared error on the rows of `x`.
fn mean_mse(
    kind: MapKind,
    x: &Array2<f64>,
    n: usize,
    sigma: f64,
    kernel: Kernel,
    seeds: u64,
) -> f64 {
    let exact = exact_gram(x, kernel, sigma);
    (0..seeds)
        .map(|seed| {
            let map = build(kind, x.ncols(), n, sigma, kernel, 100 + seed);
            mse(&gram(&map.transform(x.view()).unwrap()), &exact)
        })
        .sum::<f64>()
        / seeds as f64
}

/// Least-squares slope of log(rms error) against log n.
fn log_slope(ns: &[usize], errors: &[f64]) -> f64 {
    let xs: Vec<f64> = ns.iter().map(|&n| (n as f64).ln()).collect();
    let ys: Vec<f64> = errors.iter().map(|e| e.ln()).collect();
    let (mx, my) = (
        xs.iter().sum::<f64>() / xs.len() as f64,
        ys.iter().sum::<f64>() / ys.len() as f64,
    );
    let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    cov / xs.iter().map(|x| (x - mx).powi(2)).sum::<f64>()
}

#[test]
fn kernel_error_falls_like_one_over_sqrt_n_for_every_map_and_kernel() {
    // 30 rows of d = 64 with ‖x‖ ≈ 1, σ = 1.5: Gaussian kernel values about 0.6, and n up to
    // 1,024, where the variance dominates. (SORF's bias, O(1/√d), stops its error from falling
    // further at large n for small d or σ: see docs/benchmarks.md.)
    let (d, sigma) = (64, 1.5);
    let x = gaussian_rows(30, d, 5) / (d as f64).sqrt();
    let ns = [16, 64, 256, 1024];
    for kind in [
        MapKind::Dense,
        MapKind::Fastfood,
        MapKind::Orf,
        MapKind::Sorf,
    ] {
        for kernel in [
            Kernel::Gaussian,
            Kernel::Matern32,
            Kernel::ArcCos0,
            Kernel::ArcCos1,
        ] {
            let errors: Vec<f64> = ns
                .iter()
                .map(|&n| mean_mse(kind, &x, n, sigma, kernel, 4).sqrt())
                .collect();
            let slope = log_slope(&ns, &errors);
            assert!(
                (-0.8..-0.3).contains(&slope),
                "{kind} {kernel:?}: rms errors {errors:?}, slope {slope}"
            );
        }
    }
}

#[test]
fn orthogonal_maps_beat_the_dense_map_at_equal_n() {
    // d = 64, n = 4d; the mean squared kernel error over 4 seeds on fixed rows.
    let d = 64;
    let x = gaussian_rows(40, d, 9) / (d as f64).sqrt();
    for (kernel, sigma) in [(Kernel::Gaussian, 0.8), (Kernel::Gaussian, 1.5)] {
        let n = 4 * d;
        let dense = mean_mse(MapKind::Dense, &x, n, sigma, kernel, 4);
        let orf = mean_mse(MapKind::Orf, &x, n, sigma, kernel, 4);
        let sorf = mean_mse(MapKind::Sorf, &x, n, sigma, kernel, 4);
        assert!(
            orf < 0.8 * dense && sorf < 0.8 * dense,
            "σ {sigma}: MSE dense {dense:.3e}, ORF {orf:.3e}, SORF {sorf:.3e}"
        );
    }
}

#[test]
fn arc_cosine_features_approximate_the_closed_form() {
    let d = 10;
    let x = gaussian_rows(20, d, 21) / (d as f64).sqrt();
    let n = 16384;
    for kernel in [Kernel::ArcCos0, Kernel::ArcCos1] {
        let sigma = 0.7;
        let exact = exact_gram(&x, kernel, sigma);
        for kind in [
            MapKind::Dense,
            MapKind::Fastfood,
            MapKind::Orf,
            MapKind::Sorf,
        ] {
            let map = build(kind, d, n, sigma, kernel, 3);
            assert_eq!(map.output_dim(), n, "one feature per frequency");
            let phi = map.transform(x.view()).unwrap();
            let approx = gram(&phi);
            // Standard error of one entry ≲ 2/√n·(scale): k₀ ≤ 1, k₁ ≈ ‖x‖‖y‖/σ² ≈ 2.
            let scale = exact.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let worst = (&approx - &exact)
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(
                worst < 6.0 * scale / (n as f64).sqrt(),
                "{kind} {kernel:?}: worst error {worst} (scale {scale})"
            );
            // The features are what they claim: step or ReLU of the projection, √(2/n) scaled.
            let c = (2.0 / n as f64).sqrt();
            assert!(phi.iter().all(|&v| v >= 0.0));
            if kernel == Kernel::ArcCos0 {
                assert!(phi.iter().all(|&v| v == 0.0 || (v - c).abs() < 1e-15));
            }
        }
    }
}

#[test]
fn nystrom_with_every_row_a_landmark_reproduces_the_kernel_matrix() {
    let x = gaussian_rows(40, 5, 2);
    for kernel in Kernel::ALL {
        for sampling in [Sampling::Uniform, Sampling::RidgeLeverage] {
            let sigma = 1.5;
            let map = Nystrom::params()
                .n_landmarks(40)
                .sigma(sigma)
                .kernel(kernel)
                .sampling(sampling)
                .fit(x.view())
                .unwrap();
            let approx = gram(&map.transform(x.view()).unwrap());
            let exact = exact_gram(&x, kernel, sigma);
            let scale = exact.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let worst = (&approx - &exact)
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(worst < 1e-7 * scale, "{kernel:?} {sampling:?}: {worst}");
        }
    }
}

#[test]
fn the_kernel_matrix_is_the_exact_kernel_for_any_thread_count() {
    let (a, b) = (gaussian_rows(37, 5, 4), gaussian_rows(23, 5, 5));
    for kernel in Kernel::ALL {
        let sigma = 1.3;
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| rks::nystrom::kernel_matrix(kernel, sigma, a.view(), b.view()))
                .unwrap()
        };
        let k = on(1);
        assert_eq!(k.dim(), (37, 23));
        for (i, j) in [(0, 0), (5, 17), (36, 22), (20, 3)] {
            let exact = kernel
                .exact(
                    &a.row(i).to_vec(),
                    &b.row(j).to_vec(),
                    Bandwidth::Sigma(sigma),
                )
                .unwrap();
            assert!((k[[i, j]] - exact).abs() < 1e-13, "{kernel:?} ({i}, {j})");
        }
        assert_eq!(k, on(3), "{kernel:?}: the same bits on 1 and 3 threads");
    }
}

#[test]
fn the_kernel_matrix_refuses_bad_input() {
    let x = gaussian_rows(4, 3, 1);
    let k = |sigma: f64, b: ArrayView2<'_, f64>| {
        rks::nystrom::kernel_matrix(Kernel::Gaussian, sigma, x.view(), b)
    };
    assert!(k(0.0, x.view()).is_err());
    assert!(k(f64::NAN, x.view()).is_err());
    assert!(k(1.0, x.slice(s![.., ..2])).is_err());
    let mut bad = x.clone();
    bad[[1, 2]] = f64::INFINITY;
    assert!(k(1.0, bad.view()).is_err());
    assert!(k(1.0, x.view()).is_ok());
}

#[test]
fn nystrom_error_falls_with_the_landmarks() {
    let x = gaussian_rows(400, 6, 8);
    let sigma = 2.0;
    let exact = exact_gram(&x, Kernel::Gaussian, sigma);
    let ms = [10, 40, 160];
    for sampling in [Sampling::Uniform, Sampling::RidgeLeverage] {
        let errors: Vec<f64> = ms
            .iter()
            .map(|&m| {
                let map = Nystrom::params()
                    .n_landmarks(m)
                    .sigma(sigma)
                    .sampling(sampling)
                    .seed(1)
                    .fit(x.view())
                    .unwrap();
                mse(&gram(&map.transform(x.view()).unwrap()), &exact).sqrt()
            })
            .collect();
        // At least as fast as 1/√m (a smooth kernel's spectrum decays much faster).
        let slope = log_slope(&ms, &errors);
        assert!(
            slope < -0.5,
            "{sampling:?}: rms errors {errors:?}, slope {slope}"
        );
    }
}

#[test]
fn leverage_sampling_covers_an_outlying_cluster() {
    // 380 rows in one tight cluster, 20 in a far one: with 12 landmarks, uniform sampling
    // usually misses the small cluster; leverage sampling must not.
    let mut x = gaussian_rows(400, 3, 4) * 0.1;
    x.slice_mut(s![380.., 0]).mapv_inplace(|v| v + 20.0);
    let map = Nystrom::params()
        .n_landmarks(12)
        .sampling(Sampling::RidgeLeverage)
        .seed(6)
        .fit(x.view())
        .unwrap();
    let far = map
        .landmarks()
        .rows()
        .into_iter()
        .filter(|r| r[0] > 10.0)
        .count();
    assert!(far >= 1, "no landmark in the far cluster");
    // The far cluster's kernel values are then reproduced.
    let phi = map.transform(x.view()).unwrap();
    let k = phi.row(385).dot(&phi.row(390));
    let exact = Kernel::Gaussian
        .exact(
            &x.row(385).to_vec(),
            &x.row(390).to_vec(),
            Bandwidth::Sigma(1.0),
        )
        .unwrap();
    assert!((k - exact).abs() < 0.05, "{k} vs {exact}");
}

#[test]
fn recursive_leverage_landmarks_beat_uniform_on_a_cluster_with_a_sparse_spread() {
    // 980 rows in a dense cluster, 20 spread over a wide box: each spread row is far from the
    // others and from the cluster, so it carries a ridge leverage score near 1, while the
    // cluster needs few landmarks. Of 40 uniform landmarks, about one lands in the spread.
    // λ = 0.1 (relative to diag K = 1) is an accuracy 40 landmarks can reach; at λ = 10⁻³ the
    // cluster's own effective dimension Σℓ_i is far above 40 and takes most of the draws.
    let mut x = gaussian_rows(1000, 3, 21) * 0.1;
    let spread = gaussian_rows(20, 3, 22) * 6.0;
    x.slice_mut(s![980.., ..]).assign(&spread);
    let sigma = 1.0;
    let exact = exact_gram(&x, Kernel::Gaussian, sigma);
    let error = |sampling: Sampling, seed: u64| {
        let map = Nystrom::params()
            .n_landmarks(40)
            .sigma(sigma)
            .sampling(sampling)
            .ridge(0.1)
            .seed(seed)
            .fit(x.view())
            .unwrap();
        // ‖K − K̃‖_F, the diagonal included: a row left out of the landmarks' span loses its
        // own k(x, x) there.
        let approx = gram(&map.transform(x.view()).unwrap());
        (&approx - &exact).iter().map(|v| v * v).sum::<f64>().sqrt()
    };
    for seed in 0..4 {
        let (uniform, leverage) = (
            error(Sampling::Uniform, seed),
            error(Sampling::RidgeLeverage, seed),
        );
        assert!(
            leverage < 0.5 * uniform,
            "seed {seed}: ‖K − K̃‖_F {leverage} (recursive leverage) against {uniform} (uniform)"
        );
    }
}

fn new_maps() -> Vec<AnyMap> {
    let x = gaussian_rows(80, 9, 1);
    vec![
        build(MapKind::Orf, 9, 50, 2.0, Kernel::Gaussian, 1),
        build(MapKind::Sorf, 9, 50, 2.0, Kernel::Gaussian, 1),
        build(MapKind::Sorf, 9, 50, 2.0, Kernel::ArcCos1, 1),
        build(MapKind::Orf, 9, 50, 2.0, Kernel::ArcCos0, 1),
        AnyMap::fit(
            &MapSpec::new(
                MapKind::Nystrom,
                9,
                30,
                Bandwidth::Sigma(2.0),
                Kernel::Matern52,
                3,
            )
            .unwrap(),
            x.view(),
        )
        .unwrap(),
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
fn bit_identical_for_one_two_three_threads_and_from_a_saved_map() {
    let x = gaussian_rows(537, 9, 7);
    let x32 = x.mapv(|v| v as f32);
    let pool = |t| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
    };
    for map in new_maps() {
        let run = |t| {
            pool(t).install(|| {
                (
                    map.transform(x.view()).unwrap(),
                    map.transform(x32.view()).unwrap(),
                )
            })
        };
        let one = run(1);
        for t in [2, 3] {
            let other = run(t);
            assert_bitwise(one.0.view(), other.0.view());
            assert_bitwise(one.1.view(), other.1.view());
        }
        let bytes = bincode::serde::encode_to_vec(&map, bincode::config::standard()).unwrap();
        let (back, used): (AnyMap, usize) =
            bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(back, map);
        let again = pool(2).install(|| back.transform(x.view()).unwrap());
        assert_bitwise(one.0.view(), again.view());
        // Fitting Nyström under another thread count picks the same map.
        if let AnyMap::Nystrom(m) = &map {
            let refit = pool(3).install(|| AnyMap::fit(m.spec(), gaussian_rows(80, 9, 1).view()));
            assert_eq!(refit.unwrap(), map);
        }
    }
}

#[test]
fn maps_saved_before_the_new_kinds_still_load_as_any_map() {
    // bincode (standard config) of a Fastfood and a dense map as saved by the version with two
    // kinds: the seven spec fields, nothing after them.
    let fastfood: &[u8] = &[
        1, 7, 64, 0, 0, 0, 0, 0, 0, 0, 8, 64, 3, 9, 253, 0, 237, 243, 94, 129, 126, 127, 46,
    ];
    let dense: &[u8] = &[
        0, 5, 33, 0, 102, 102, 102, 102, 102, 102, 230, 63, 0, 2, 253, 0, 75, 132, 252, 5, 2, 165,
        106,
    ];
    let decode = |bytes: &[u8]| -> AnyMap {
        let (map, used): (AnyMap, usize) =
            bincode::serde::decode_from_slice(bytes, bincode::config::standard()).unwrap();
        assert_eq!(used, bytes.len());
        map
    };
    // Drawn before the portable samplers existed: rand_distr's.
    let old = |spec: MapSpec| AnyMap::from_spec(&spec.with_sampler(Sampler::RandDistr)).unwrap();
    let want = old(Fastfood::params()
        .n_frequencies(64)
        .sigma(3.0)
        .kernel(Kernel::Matern32)
        .seed(9)
        .check(MapKind::Fastfood, 7)
        .unwrap());
    assert_eq!(decode(fastfood), want);
    // And those bytes are still what such a map saves.
    assert_eq!(
        bincode::serde::encode_to_vec(want, bincode::config::standard()).unwrap(),
        fastfood
    );
    let want = old(DenseRks::params()
        .n_frequencies(33)
        .sigma(0.7)
        .seed(2)
        .check(MapKind::Dense, 5)
        .unwrap());
    assert_eq!(decode(dense), want);
}

/// ORF (d = 2, n = 3) and a SORF block (Matérn-1/2, d = 2), seed 7, drawn by `sampler`, as text.
fn fixed_seed_snapshot(sampler: Sampler) -> String {
    let spec = |kind, n, kernel| {
        MapSpec::new(kind, 2, n, Bandwidth::Sigma(1.0), kernel, 7)
            .unwrap()
            .with_sampler(sampler)
    };
    let orf = Orf::from_spec(&spec(MapKind::Orf, 3, Kernel::Gaussian)).unwrap();
    let sorf = Sorf::from_spec(&spec(MapKind::Sorf, 2, Kernel::Matern12)).unwrap();
    let block = &sorf.blocks()[0];
    format!(
        "{:.6?} {:?} {:.6?}",
        orf.weights().iter().collect::<Vec<_>>(),
        block.signs(),
        block.scaling()
    )
}

#[test]
fn fixed_seed_gives_fixed_parameters() {
    // Pins the draw order of ORF and SORF: a change must be deliberate (it breaks saved maps).
    // To six decimals the two samplers draw the same (see `rks::variates`).
    for sampler in [Sampler::Portable, Sampler::RandDistr] {
        assert_eq!(
            fixed_seed_snapshot(sampler),
            "[-0.672238, -1.199410, 1.360846, -0.762719, -0.644972, 0.617996] \
             [[-1.0, -1.0], [-1.0, -1.0], [-1.0, 1.0]] [2.779484, 3.333233]",
            "{sampler:?}"
        );
    }
}

/// A map drawn by rand_distr's samplers (every map saved before the portable ones) saves and
/// loads with them, as itself and as an `AnyMap`; the checksum still stops a changed seed.
#[test]
fn maps_of_either_sampler_load_as_they_were_drawn() {
    let x = gaussian_rows(20, 5, 3);
    let kinds = [
        (MapKind::Dense, Kernel::Laplacian),
        (MapKind::Dense, Kernel::Matern32),
        (MapKind::Fastfood, Kernel::Gaussian),
        (MapKind::Orf, Kernel::ArcCos1),
        (MapKind::Sorf, Kernel::Matern52),
    ];
    for (kind, kernel) in kinds {
        for sampler in [Sampler::Portable, Sampler::RandDistr] {
            let spec = MapSpec::new(kind, 5, 24, Bandwidth::Sigma(1.3), kernel, 11)
                .unwrap()
                .with_sampler(sampler);
            let map = AnyMap::from_spec(&spec).unwrap();
            let bytes = bincode::serde::encode_to_vec(&map, bincode::config::standard()).unwrap();
            let (back, _): (AnyMap, usize) =
                bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
            assert_eq!(back.spec().sampler(), sampler, "{kind:?} {kernel:?}");
            assert_eq!(back, map);
            assert_bitwise(
                map.transform(x.view()).unwrap().view(),
                back.transform(x.view()).unwrap().view(),
            );
            let again = bincode::serde::encode_to_vec(&back, bincode::config::standard()).unwrap();
            assert_eq!(again, bytes);
        }
        // The two samplers draw different parameters (so the checksum tells them apart).
        let features = |sampler| {
            let spec = MapSpec::new(kind, 5, 24, Bandwidth::Sigma(1.3), kernel, 11)
                .unwrap()
                .with_sampler(sampler);
            AnyMap::from_spec(&spec)
                .unwrap()
                .transform(x.view())
                .unwrap()
        };
        assert_ne!(features(Sampler::Portable), features(Sampler::RandDistr));
    }
}

#[test]
fn bad_input_gives_typed_errors() {
    let x = gaussian_rows(10, 3, 0);
    let invalid = |r: Result<Nystrom, RksError>, name: &str| match r {
        Err(RksError::InvalidParameter { name: n, .. }) => assert_eq!(n.name(), name),
        other => panic!("expected an invalid `{name}`, got {other:?}"),
    };
    invalid(
        Nystrom::params().n_landmarks(11).fit(x.view()),
        "n_landmarks",
    );
    invalid(
        Nystrom::params().n_landmarks(0).fit(x.view()),
        "n_landmarks",
    );
    invalid(
        Nystrom::params().n_landmarks(2).ridge(0.0).fit(x.view()),
        "ridge",
    );
    invalid(
        Nystrom::params()
            .n_landmarks(2)
            .eigen_floor(f64::NAN)
            .fit(x.view()),
        "eigen_floor",
    );
    invalid(
        Nystrom::params().n_landmarks(2).sigma(-1.0).fit(x.view()),
        "sigma",
    );
    let mut bad = x.clone();
    bad[(4, 2)] = f64::NAN;
    assert!(matches!(
        Nystrom::params().n_landmarks(2).fit(bad.view()),
        Err(RksError::NonFiniteInput { row: 4, col: 2, .. })
    ));
    // Transforms check columns and finiteness, for every new map.
    for map in new_maps() {
        let d = map.input_dim();
        assert!(matches!(
            map.transform(Array2::<f64>::zeros((2, d + 1)).view()),
            Err(RksError::WrongInputDim { .. })
        ));
        let mut rows = Array2::<f32>::zeros((3, d));
        rows[(2, 0)] = f32::INFINITY;
        assert!(matches!(
            map.transform(rows.view()),
            Err(RksError::NonFiniteInput { row: 2, col: 0, .. })
        ));
    }
    // The orthogonal maps make rotation-invariant kernels only; Nyström needs rows.
    for kind in [MapKind::Orf, MapKind::Sorf] {
        assert!(matches!(
            AnyMap::build(kind, 3, 8, Bandwidth::Sigma(1.0), Kernel::Laplacian, 0),
            Err(RksError::InvalidParameter {
                name: Param::Kernel,
                ..
            })
        ));
    }
    assert!(matches!(
        AnyMap::build(
            MapKind::Nystrom,
            3,
            8,
            Bandwidth::Sigma(1.0),
            Kernel::Gaussian,
            0
        ),
        Err(RksError::InvalidParameter {
            name: Param::Map,
            ..
        })
    ));
    assert!(matches!(
        Orf::from_spec(
            &MapSpec::new(
                MapKind::Sorf,
                3,
                8,
                Bandwidth::Sigma(1.0),
                Kernel::Gaussian,
                0
            )
            .unwrap()
        ),
        Err(RksError::WrongMapKind {
            expected: "orf",
            found: "sorf"
        })
    ));
    assert!(matches!(
        "fastfod".parse::<MapKind>(),
        Err(rks::vocabulary::UnknownName { what: "map", .. })
    ));
    assert_eq!("sorf".parse::<MapKind>(), Ok(MapKind::Sorf));
}

/// Mirror of a stored Nyström map, to write invalid ones.
#[derive(serde::Serialize, Clone)]
struct StoredNystrom {
    kind: MapKind,
    input_dim: u64,
    n_frequencies: u64,
    bandwidth: Bandwidth,
    kernel: Kernel,
    seed: u64,
    checksum: u64,
    payload: (f64, Vec<f64>),
}

#[test]
fn invalid_stored_nystrom_maps_are_errors() {
    let x = gaussian_rows(12, 2, 0);
    let map = Nystrom::params().n_landmarks(4).fit(x.view()).unwrap();
    let bytes = bincode::serde::encode_to_vec(&map, bincode::config::standard()).unwrap();
    let good: StoredNystrom = StoredNystrom {
        kind: MapKind::Nystrom,
        input_dim: 2,
        n_frequencies: 4,
        bandwidth: Bandwidth::Sigma(1.0),
        kernel: Kernel::Gaussian,
        seed: 0,
        checksum: 0,
        payload: (1e-10, map.landmarks().iter().copied().collect()),
    };
    // The mirror writes the same layout (with the right checksum it decodes to the same map).
    let decode = |s: &StoredNystrom| {
        let bytes = bincode::serde::encode_to_vec(s, bincode::config::standard()).unwrap();
        bincode::serde::decode_from_slice::<AnyMap, _>(&bytes, bincode::config::standard())
            .map(|(m, _)| m)
            .map_err(|e| e.to_string())
    };
    let (back, _): (AnyMap, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(back, AnyMap::from(map.clone()));
    let err = decode(&good).unwrap_err();
    assert!(err.contains("checksum"), "{err}");
    let mut short = good.clone();
    short.payload.1.pop();
    assert!(decode(&short).unwrap_err().contains("landmarks"));
    let mut huge = good.clone();
    huge.n_frequencies = 1 << 20;
    assert!(decode(&huge).unwrap_err().contains("n_landmarks"));
    let mut nan = good.clone();
    nan.payload.1[3] = f64::NAN;
    assert!(decode(&nan).unwrap_err().contains("not finite"));
    let mut floor = good;
    floor.payload.0 = 2.0;
    assert!(decode(&floor).unwrap_err().contains("eigen_floor"));
    // A Nyström header without its payload.
    let cut = &bytes[..bytes.len() - 8 * 8 - 2];
    assert!(
        bincode::serde::decode_from_slice::<AnyMap, _>(cut, bincode::config::standard()).is_err()
    );
}

#[test]
fn parameter_memory_of_the_new_maps() {
    let orf = Orf::params().n_frequencies(100).build(10).unwrap();
    assert_eq!(orf.parameter_bytes(), 100 * 10 * 8);
    let sorf = Sorf::params().n_frequencies(100).build(10).unwrap();
    // D = 16, 7 blocks of 4 vectors of 16 f64.
    assert_eq!(sorf.parameter_bytes(), 7 * 16 * 4 * 8);
    let nys = Nystrom::params()
        .n_landmarks(5)
        .fit(gaussian_rows(9, 3, 0).view())
        .unwrap();
    assert_eq!(nys.parameter_bytes(), (5 * 3 + 25) * 8);
    assert_eq!(nys.rank().unwrap(), 5);
    assert!(
        format!("{nys:?}").len() < 200,
        "Debug shows the size, not the landmarks"
    );
}

/// Every map asks for its parameters' memory before drawing anything (`MapSpec::check_memory`):
/// ORF at d = 2²⁶ would draw a d × d Gaussian block of 2⁵⁵ bytes, past any address space, and
/// is a typed error naming n, not an abort. The bound it probes covers what the maps hold once
/// both precisions have been transformed.
#[test]
fn parameters_beyond_memory_are_errors_and_the_bound_covers_the_maps() {
    let spec = MapSpec::new(
        MapKind::Orf,
        1 << 26,
        8,
        Bandwidth::Sigma(1.0),
        Kernel::Gaussian,
        0,
    )
    .unwrap();
    assert!(spec.memory_bound() >= 1 << 55);
    match Orf::from_spec(&spec) {
        Err(RksError::TooLarge {
            parameter, bytes, ..
        }) => {
            assert_eq!(parameter, Param::NFrequencies);
            assert_eq!(bytes, spec.memory_bound());
        }
        other => panic!("expected TooLarge, got {:?}", other.map(|m| m.output_dim())),
    }
    assert!(matches!(
        AnyMap::from_spec(&spec),
        Err(RksError::TooLarge { .. })
    ));

    let x = gaussian_rows(40, 9, 2);
    let mut maps: Vec<AnyMap> = new_maps();
    maps.push(build(MapKind::Dense, 9, 50, 2.0, Kernel::Gaussian, 1));
    maps.push(build(MapKind::Fastfood, 9, 50, 2.0, Kernel::Gaussian, 1));
    for map in &maps {
        map.transform(x.view()).unwrap();
        map.transform(x.mapv(|v| v as f32).view()).unwrap();
        let bound = map.spec().memory_bound();
        assert!(
            map.parameter_bytes() as u128 <= bound,
            "{:?}: {} > {bound}",
            map.spec().kind(),
            map.parameter_bytes()
        );
        if let AnyMap::Dense(dense) = map {
            assert!(dense.resident_bytes() as u128 <= bound);
        }
    }
}

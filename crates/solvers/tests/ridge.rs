//! Ridge: closed form, chunking, GCV against brute force.

mod common;

use common::{gauss_solve, ridge_closed_form};
use ndarray::{Array1, Array2, Axis, s};
use rks_solvers::SolversError;
use rks_solvers::error::Param;
use rks_solvers::exact::Grid;
use rks_solvers::ridge::{Lambda, RidgeAccumulator, fit_rows, fit_rows_owned};

/// Uniform values in [−1, 1] on a 2⁻¹⁰ grid: the exact statistics hold them without rounding
/// (their feature grid, 12 bits below a bound of at most 4, is finer), so the comparisons with
/// f64 references keep f64 precision. The cost of rounding off-grid values is tested in
/// `tests/exact.rs`.
fn uniform(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    on_grid(common::uniform(rows, cols, seed))
}

fn on_grid(a: Array2<f64>) -> Array2<f64> {
    a.mapv(|v| (v * 1024.0).round() / 1024.0)
}

/// Empty statistics on the grid that covers these rows.
fn accumulator(phi: &Array2<f64>, y: &Array2<f64>) -> RidgeAccumulator {
    let grid = Grid::covering(phi.view(), y.view()).unwrap();
    RidgeAccumulator::new(phi.ncols(), y.ncols(), grid).unwrap()
}

fn problem() -> (Array2<f64>, Array2<f64>) {
    let phi = on_grid(uniform(40, 6, 1) + 0.3); // non-zero means, so the intercept matters
    let noise = uniform(40, 2, 2) * 0.1;
    let truth = ndarray::array![
        [1.0, -2.0],
        [0.5, 0.0],
        [-1.0, 1.0],
        [2.0, 0.3],
        [0.0, 0.0],
        [0.7, -0.7]
    ];
    let y = on_grid(phi.dot(&truth) + 3.0 + noise);
    (phi, y)
}

/// The index of the least score (the first on ties), asserted to be inside the grid: the tests
/// want GCV problems with an interior minimum.
fn interior_minimum(scores: &[f64]) -> usize {
    let best = (0..scores.len())
        .min_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .unwrap();
    assert!(
        best > 0 && best < scores.len() - 1,
        "the test wants an interior minimum, got {best}"
    );
    best
}

fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    (a - b).iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[test]
fn fixed_lambda_matches_the_closed_form() {
    let (phi, y) = problem();
    for lambda in [0.0, 0.01, 1.0, 25.0] {
        let mut acc = accumulator(&phi, &y);
        acc.update(phi.view(), y.view()).unwrap();
        let model = acc.solve(lambda).unwrap();
        let (w, b) = ridge_closed_form(phi.view(), y.view(), lambda);
        assert!(max_abs_diff(&model.weights, &w) < 1e-10, "λ = {lambda}");
        assert!(
            (&model.intercept - &b).iter().all(|v| v.abs() < 1e-10),
            "λ = {lambda}"
        );
        // The eigen path gives the same solution.
        let via_path = acc.fit(&Lambda::GcvGrid(vec![lambda.max(1e-300)])).unwrap();
        assert!(
            max_abs_diff(&via_path.weights, &w) < 1e-8,
            "path at λ = {lambda}"
        );
    }
}

#[test]
fn chunked_and_merged_fits_agree_with_one_shot() {
    let (phi, y) = problem();
    let mut whole = accumulator(&phi, &y);
    whole.update(phi.view(), y.view()).unwrap();
    let mut a = accumulator(&phi, &y);
    for start in (0..20).step_by(7) {
        let end = (start + 7).min(20);
        a.update(phi.slice(s![start..end, ..]), y.slice(s![start..end, ..]))
            .unwrap();
    }
    let mut b = accumulator(&phi, &y);
    b.update(phi.slice(s![20.., ..]), y.slice(s![20.., ..]))
        .unwrap();
    a.merge(&b).unwrap();
    assert_eq!(a.count(), 40);
    for lambda in [Lambda::Fixed(0.5), Lambda::Gcv] {
        let m1 = whole.fit(&lambda).unwrap();
        let m2 = a.fit(&lambda).unwrap();
        assert!(max_abs_diff(&m1.weights, &m2.weights) < 1e-10);
        assert!(
            (&m1.intercept - &m2.intercept)
                .iter()
                .all(|v| v.abs() < 1e-10)
        );
    }
}

/// GCV by brute force: the hat matrix H = 11ᵀ/N + Φc(ΦcᵀΦc + λI)⁻¹Φcᵀ formed explicitly.
fn brute_force_gcv(phi: &Array2<f64>, y: &Array2<f64>, lambda: f64) -> f64 {
    let n = phi.nrows();
    let mu = phi.mean_axis(Axis(0)).unwrap();
    let pc = phi - &mu;
    let mut a = pc.t().dot(&pc);
    for i in 0..a.nrows() {
        a[[i, i]] += lambda;
    }
    let hat = pc.dot(&gauss_solve(&a, &pc.t().to_owned())) + 1.0 / n as f64;
    let residual = y - &hat.dot(y);
    let rss: f64 = residual.iter().map(|r| r * r).sum();
    let trace: f64 = hat.diag().sum();
    n as f64 * rss / (n as f64 - trace).powi(2)
}

#[test]
fn gcv_choice_matches_brute_force_over_the_grid() {
    // Few rows and many noisy features so GCV has an interior minimum.
    let phi = uniform(25, 15, 3);
    let y = phi.column(0).insert_axis(Axis(1)).to_owned() * 2.0 + uniform(25, 1, 4);
    let grid: Vec<f64> = (0..30)
        .map(|i| 10f64.powf(-4.0 + i as f64 * 0.25))
        .collect();
    let mut acc = accumulator(&phi, &y);
    acc.update(phi.view(), y.view()).unwrap();
    let model = acc.fit(&Lambda::GcvGrid(grid.clone())).unwrap();
    let report = model.gcv.clone().unwrap();
    let brute: Vec<f64> = grid.iter().map(|&l| brute_force_gcv(&phi, &y, l)).collect();
    for (fast, slow) in report.scores.iter().zip(&brute) {
        assert!((fast - slow).abs() <= 1e-8 * slow.abs(), "{fast} vs {slow}");
    }
    let best = interior_minimum(&brute);
    assert_eq!(report.chosen, best);
    assert_eq!(model.lambda, grid[best]);
    let (w, _) = ridge_closed_form(phi.view(), y.view(), grid[best]);
    assert!(max_abs_diff(&model.weights, &w) < 1e-9);

    // The default grid chooses a λ from within itself.
    let auto = acc.fit(&Lambda::Gcv).unwrap();
    let auto_report = auto.gcv.unwrap();
    assert!(auto_report.grid.contains(&auto.lambda));
    assert!(
        auto_report
            .scores
            .iter()
            .all(|s| *s >= auto_report.scores[auto_report.chosen])
    );
}

#[test]
fn gram_is_bit_identical_for_any_thread_count() {
    let phi = uniform(300, 130, 5);
    let y = uniform(300, 3, 6);
    let fit = |threads: usize| {
        common::on_threads(threads, || {
            let mut acc = accumulator(&phi, &y);
            acc.update(phi.view(), y.view()).unwrap();
            acc
        })
    };
    assert_eq!(fit(1), fit(2));
    assert_eq!(fit(1), fit(3));
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut acc = RidgeAccumulator::new(2, 1, Grid::new(8.0, -8.0, 8.0).unwrap()).unwrap();
    let phi = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    assert!(matches!(
        acc.update(phi.view(), Array2::<f64>::zeros((3, 1)).view()),
        Err(SolversError::RowMismatch {
            x_rows: 2,
            y_rows: 3
        })
    ));
    assert!(matches!(
        acc.update(phi.view(), ndarray::array![[1.0], [f64::INFINITY]].view()),
        Err(SolversError::NonFinite {
            what: "target",
            row: 1,
            ..
        })
    ));
    assert!(matches!(
        acc.update(
            Array2::<f64>::zeros((2, 3)).view(),
            Array2::<f64>::zeros((2, 1)).view()
        ),
        Err(SolversError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        acc.fit(&Lambda::Gcv),
        Err(SolversError::EmptyInput(_))
    ));
    acc.update(
        phi.view(),
        Array1::from(vec![1.0, 2.0]).insert_axis(Axis(1)).view(),
    )
    .unwrap();
    assert!(matches!(
        acc.fit(&Lambda::Fixed(-1.0)),
        Err(SolversError::InvalidParameter {
            name: Param::Lambda,
            ..
        })
    ));
    assert!(matches!(
        acc.fit(&Lambda::GcvGrid(vec![])),
        Err(SolversError::InvalidParameter { .. })
    ));
}

#[test]
fn a_deserialised_inconsistent_accumulator_is_an_error_not_a_panic() {
    let acc = RidgeAccumulator::new(3, 1, Grid::new(8.0, -8.0, 8.0).unwrap()).unwrap();
    let mut value = serde_json::to_value(&acc).unwrap();
    value["gram"] = serde_json::json!([0, 1]);
    let mut bad: RidgeAccumulator = serde_json::from_value(value).unwrap();
    let phi = Array2::<f64>::zeros((2, 3));
    let y = Array2::<f64>::zeros((2, 1));
    assert!(matches!(
        bad.update(phi.view(), y.view()),
        Err(SolversError::DimensionMismatch { .. })
    ));
    assert!(bad.fit(&Lambda::Gcv).is_err());
    let mut good = RidgeAccumulator::new(3, 1, Grid::new(8.0, -8.0, 8.0).unwrap()).unwrap();
    assert!(good.merge(&bad).is_err());
}

/// Fewer rows than features: the dual form gives the primal solution, the same GCV scores (and
/// λ), and the brute-force GCV.
#[test]
fn dual_form_matches_the_primal_form() {
    let phi = on_grid(uniform(14, 40, 7) + 0.2);
    let y = ndarray::concatenate![
        Axis(1),
        phi.column(3).insert_axis(Axis(1)).to_owned() * 2.0 + uniform(14, 1, 8),
        uniform(14, 1, 9) + 5.0
    ];
    let mut acc = accumulator(&phi, &y);
    acc.update(phi.view(), y.view()).unwrap();
    let scale = |w: &Array2<f64>| w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for lambda in [1e-3, 0.1, 1.0, 30.0] {
        let primal = acc.solve(lambda).unwrap();
        let dual = fit_rows(phi.view(), y.view(), &Lambda::Fixed(lambda)).unwrap();
        let (w, b) = ridge_closed_form(phi.view(), y.view(), lambda);
        let tol = 1e-9 * scale(&w).max(1.0);
        assert!(max_abs_diff(&dual.weights, &w) < tol, "λ = {lambda}");
        assert!(
            max_abs_diff(&dual.weights, &primal.weights) < tol,
            "λ = {lambda}"
        );
        assert!(
            (&dual.intercept - &b).iter().all(|v| v.abs() < 1e-8),
            "λ = {lambda}"
        );
    }
    // GCV over the default grid (10⁻⁶ to 10³ times the mean eigenvalue). Near interpolation
    // (small λ, df → N) the primal score cancels (yᵀy − explained) and drifts; the dual one does
    // not and follows the brute-force hat matrix, so only the dual must choose its minimum.
    let primal = acc.fit(&Lambda::Gcv).unwrap();
    let dual = fit_rows(phi.view(), y.view(), &Lambda::Gcv).unwrap();
    let (p, d) = (primal.gcv.unwrap(), dual.gcv.unwrap());
    let brute: Vec<f64> = d
        .grid
        .iter()
        .map(|&l| brute_force_gcv(&phi, &y, l))
        .collect();
    for (i, &l) in d.grid.iter().enumerate() {
        // The default grid's scale tr(C)/D = tr(K)/D is the same up to rounding.
        assert!((p.grid[i] - l).abs() <= 1e-12 * l);
        let (a, b, slow) = (p.scores[i], d.scores[i], brute[i]);
        assert!(
            (b - slow).abs() <= 1e-3 * slow,
            "λ = {l}: dual {b} vs {slow}"
        );
        if l > 0.1 {
            assert!((a - b).abs() <= 1e-9 * b, "λ = {l}: primal {a} vs dual {b}");
            assert!(
                (b - slow).abs() <= 1e-9 * slow,
                "λ = {l}: dual {b} vs {slow}"
            );
        }
    }
    let best = interior_minimum(&brute);
    assert_eq!(d.chosen, best);
    let at_best = acc.solve(dual.lambda).unwrap();
    assert!(max_abs_diff(&dual.weights, &at_best.weights) < 1e-8 * scale(&at_best.weights));
}

#[test]
fn dual_form_errors_are_typed() {
    let phi = uniform(5, 20, 10);
    let y = uniform(5, 1, 11);
    // λ = 0 with fewer rows than features: K is singular.
    assert!(matches!(
        fit_rows(phi.view(), y.view(), &Lambda::Fixed(0.0)),
        Err(SolversError::LinearAlgebra(_))
    ));
    assert!(matches!(
        fit_rows(phi.view(), uniform(4, 1, 1).view(), &Lambda::Gcv),
        Err(SolversError::RowMismatch { .. })
    ));
    let mut bad = phi.clone();
    bad[[2, 7]] = f64::NAN;
    assert!(matches!(
        fit_rows(bad.view(), y.view(), &Lambda::Gcv),
        Err(SolversError::NonFinite { .. })
    ));
    assert!(matches!(
        fit_rows(phi.view(), y.view(), &Lambda::Fixed(f64::NAN)),
        Err(SolversError::InvalidParameter { .. })
    ));
    assert!(matches!(
        fit_rows(
            Array2::<f64>::zeros((0, 3)).view(),
            Array2::<f64>::zeros((0, 1)).view(),
            &Lambda::Gcv
        ),
        Err(SolversError::EmptyInput(_))
    ));
}

/// Owned features (centred in place, any memory layout) give the bits of the borrowed ones.
#[test]
fn owned_and_borrowed_rows_fit_the_same_model() {
    let phi = uniform(9, 30, 12);
    let y = uniform(9, 2, 13);
    for lambda in [Lambda::Fixed(0.2), Lambda::Gcv] {
        let borrowed = fit_rows(phi.view(), y.view(), &lambda).unwrap();
        let owned = fit_rows_owned(phi.clone(), y.view(), &lambda).unwrap();
        // Column-major storage of the same matrix.
        let fortran = phi.t().as_standard_layout().into_owned().reversed_axes();
        assert!(!fortran.is_standard_layout());
        let relaid = fit_rows_owned(fortran, y.view(), &lambda).unwrap();
        assert_eq!(borrowed, owned);
        assert_eq!(borrowed, relaid);
        // f32 features: the same as their exact f64 values.
        let narrow = phi.mapv(|v| v as f32);
        assert_eq!(
            fit_rows(narrow.view(), y.view(), &lambda).unwrap(),
            fit_rows_owned(narrow.mapv(f64::from), y.view(), &lambda).unwrap()
        );
    }
}

/// The default grid's table is 10^(−6 + i/5): within one unit in the last place of the C
/// library's `powf` (the table is the correctly rounded value; a `powf` may be off by one), and
/// the grid is `scale` times it.
#[test]
fn the_default_grid_is_ten_to_the_fifths() {
    for (i, &p) in rks_solvers::ridge::GRID_POWERS.iter().enumerate() {
        let want = 10f64.powf(-6.0 + i as f64 / 5.0);
        assert!(
            (p.to_bits() as i64 - want.to_bits() as i64).abs() <= 1,
            "{i}: {p} vs {want}"
        );
    }
    let grid = rks_solvers::ridge::default_grid(3.0);
    assert_eq!(grid.len(), 46);
    assert_eq!((grid[0], grid[30], grid[45]), (3e-6, 3.0, 3000.0));
    assert!(grid.windows(2).all(|w| w[1] > w[0]));
}

#[test]
fn ridge_models_have_the_same_bits_on_every_platform() {
    // docs/architecture.md, "Determinism": the weights are solved by `rks_solvers::dense`'s
    // Cholesky and products, in a fixed order, from statistics and features that are the same
    // bits everywhere; the eigendecompositions (rks::symmetric's) choose λ. Pinned on x86-64;
    // `.ci/cross` runs this test on aarch64.
    use rks_solvers::loo::LooPath;
    use rks_solvers::{KernelMachine, Lambda, Task};
    // Sizes past the Cholesky's and the inverse's blocks of 128 (D = 200 features; the
    // relevance step learns on 150 rows).
    let x = common::uniform(300, 10, 41);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| (3.0 * r[0]).sin() + r[1] * r[2] - 0.5 * r[3])
        .collect();
    let map = common::pinned_fastfood(100);
    let phi = rks::FeatureMap::transform(&map, x.view()).unwrap();
    let targets = y.clone().insert_axis(Axis(1));
    let mut hashes = Vec::new();
    // The primal form (300 rows, 200 features): λ by GCV, then λ fixed.
    let mut acc = accumulator(&phi, &targets);
    acc.update(phi.view(), targets.view()).unwrap();
    for lambda in [Lambda::Gcv, Lambda::Fixed(0.01)] {
        let ridge = acc.fit(&lambda).unwrap();
        hashes.push(common::hash_bits(
            ridge.weights.iter().chain(&ridge.intercept),
        ));
    }
    // The dual form (150 rows, 200 features).
    let few = phi.slice(s![..150, ..]).to_owned();
    let ridge = fit_rows(few.view(), targets.slice(s![..150, ..]), &Lambda::Gcv).unwrap();
    hashes.push(common::hash_bits(
        ridge.weights.iter().chain(&ridge.intercept),
    ));
    // Leave-one-out paths, from the statistics and from the rows.
    let from_statistics = LooPath::from_statistics(&acc, phi.clone(), targets.view()).unwrap();
    let from_rows = LooPath::new(few, targets.slice(s![..150, ..])).unwrap();
    for path in [from_statistics, from_rows] {
        let ridge = path.fit(0.02).unwrap();
        hashes.push(common::hash_bits(
            ridge.weights.iter().chain(&ridge.intercept),
        ));
    }
    // A kernel machine with model selection (σ, λ) and the column-relevance step: its file.
    let classes = y.mapv(|v| f64::from(v > 0.0));
    for (target, task) in [(&y, Task::Regression), (&classes, Task::Classification)] {
        let (model, report) = KernelMachine::params()
            .task(task)
            .map(rks::MapKind::Fastfood)
            .n_frequencies(100)
            .seed(7)
            .check()
            .unwrap()
            .fit_with_report(x.view(), target.view())
            .unwrap();
        let relevance = report
            .and_then(|r| r.relevance)
            .expect("the relevance step ran");
        // Kept: the learned column weights (continuous values) are in the file.
        assert!(relevance.kept, "{task:?}");
        hashes.push(rks::envelope::fnv1a(&model.to_bytes().unwrap()));
    }
    assert_eq!(
        hashes,
        [
            0xbced_82b5_af86_9cf4,
            0x137a_37fe_2da0_c4cc,
            0x8303_cb46_ef67_450e,
            0xbc36_0cdc_168b_b20f,
            0x14ba_5e79_6316_0639,
            0x3d1c_ebcd_3655_f2f0,
            0x443f_ef08_e07c_dfe4
        ],
        "ridge models differ from the pinned bits: {hashes:#018x?}"
    );
}

#[test]
fn leave_one_out_and_gcv_scores_have_the_same_bits_on_every_platform() {
    // The scores that choose λ (and σ, n, the map and the solver) come from rks::symmetric's
    // eigendecomposition and rks_solvers::dense's products, so they are the same bits on every
    // CPU and for any thread count, and so is every choice made from them. Pinned on x86-64;
    // `.ci/cross` runs this test on aarch64.
    use rks_solvers::loo::LooPath;
    let x = common::uniform(300, 10, 47);
    let y: Array2<f64> = Array2::from_shape_fn((300, 2), |(i, k)| {
        (3.0 * x[[i, k]]).sin() + x[[i, 2]] * x[[i, 3]] - 0.5 * x[[i, 4 + k]]
    });
    let map = common::pinned_fastfood(100);
    let phi = rks::FeatureMap::transform(&map, x.view()).unwrap();
    let mut acc = accumulator(&phi, &y);
    acc.update(phi.view(), y.view()).unwrap();
    let classes: Vec<usize> = (0..300).map(|i| usize::from(y[[i, 0]] > 0.4)).collect();
    let run = || {
        let mut hashes = Vec::new();
        // GCV on the statistics' D × D path (300 rows, 200 features) and on the rows' N × N
        // path (150 rows).
        let gcv = acc.fit(&Lambda::Gcv).unwrap().gcv.expect("λ by GCV");
        hashes.push(common::hash_bits(&gcv.scores));
        let dual = fit_rows(
            phi.slice(s![..150, ..]),
            y.slice(s![..150, ..]),
            &Lambda::Gcv,
        )
        .unwrap()
        .gcv
        .expect("λ by GCV");
        hashes.push(common::hash_bits(&dual.scores));
        // Leave-one-out over the default grid, from the statistics and from the rows.
        let from_statistics = LooPath::from_statistics(&acc, phi.clone(), y.view()).unwrap();
        let few = phi.slice(s![..150, ..]).to_owned();
        let from_rows = LooPath::new(few, y.slice(s![..150, ..])).unwrap();
        for path in [from_statistics, from_rows] {
            let rows = path.scored_rows();
            let scores: Vec<f64> = path
                .default_grid()
                .iter()
                .flat_map(|&lambda| {
                    let score = path.score(lambda, Some((&classes[..rows], 2)));
                    [score.mse, score.error.unwrap()]
                })
                .collect();
            hashes.push(common::hash_bits(path.eigenvalues().iter().chain(&scores)));
        }
        hashes
    };
    let hashes = run();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        assert_eq!(pool.install(run), hashes, "{threads} threads");
    }
    assert_eq!(
        hashes,
        [
            0x7208_f149_d526_5e0f,
            0x2e51_074d_b4c8_70da,
            0xd1dd_859a_b1bd_ee61,
            0xb03a_1bf5_7bf6_0508
        ],
        "the scores differ from the pinned bits: {hashes:#018x?}"
    );
}

#[test]
fn nystrom_models_have_the_same_bits_on_every_platform() {
    // A Nyström map's K_mm^{+1/2} comes from rks's own eigendecomposition, so a kernel machine
    // on it (landmarks, model selection, the whitened weights it stores) is the same bits on
    // every CPU. Pinned on x86-64; `.ci/cross` runs this test on aarch64.
    use rks_solvers::{KernelMachine, Task};
    let x = common::uniform(300, 6, 43);
    let y: Array1<f64> = x
        .rows()
        .into_iter()
        .map(|r| (2.0 * r[0]).cos() + r[1] * r[2])
        .collect();
    let classes = y.mapv(|v| f64::from(v > 0.5));
    let mut hashes = Vec::new();
    for (target, task) in [(&y, Task::Regression), (&classes, Task::Classification)] {
        let model = KernelMachine::params()
            .task(task)
            .map(rks::MapKind::Nystrom)
            .n_frequencies(200)
            .seed(3)
            .check()
            .unwrap()
            .fit(x.view(), target.view())
            .unwrap();
        hashes.push(rks::envelope::fnv1a(&model.to_bytes().unwrap()));
    }
    assert_eq!(
        hashes,
        [0x5230_442e_e778_28e3, 0x3bf1_860e_f7ce_ec08],
        "Nyström models differ from the pinned bits: {hashes:#018x?}"
    );
}

//! Model selection inside the fit: σ, λ and n chosen by exact leave-one-out; the same model for
//! any thread count; the streamed fit chooses as the in-memory one; bad settings are errors.

mod common;

use common::{fit_selecting, model_bytes_on_one_two_three_threads, on_one_two_three_threads};
use ndarray::{Array1, Array2, s};
use rks::Bandwidth;
use rks_solvers::machine::{Selection, SelectionReport};
use rks_solvers::{KernelMachine, Lambda, Solver, SolverInfo, SolversError, Task};

fn dataset(name: &str, d: usize) -> (rks_data::Dataset, rks_data::Dataset) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/");
    let read = |part| rks_data::libsvm::read_path(format!("{dir}{name}.{part}"), Some(d)).unwrap();
    (read("train"), read("test"))
}

fn accuracy(pred: &Array1<f64>, truth: &Array1<f64>) -> f64 {
    pred.iter().zip(truth).filter(|(p, t)| p == t).count() as f64 / truth.len() as f64
}

/// A fine checkerboard in [0, 1]²: its classes change every 1/12, far below the median distance
/// between rows (≈ 0.5), so the median-heuristic σ is much too wide for it.
fn checkerboard(rows: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let x = Array2::from_shape_fn((rows, 2), |(i, j)| {
        let h = (i as u64 * 2 + j as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed;
        (h >> 11) as f64 / (1u64 << 53) as f64
    });
    let y = x
        .rows()
        .into_iter()
        .map(|r| (((r[0] * 12.0) as i64 + (r[1] * 12.0) as i64) % 2) as f64)
        .collect();
    (x, y)
}

#[test]
fn search_finds_a_narrow_kernel_that_the_median_heuristic_misses() {
    let (x, y) = checkerboard(2500, 1);
    let (tx, ty) = checkerboard(1000, 2);
    let fit = |selection: Option<Selection>| {
        KernelMachine::params()
            .n_frequencies(512)
            .selection(selection)
            .check()
            .unwrap()
            .fit_with_report(x.view(), y.view())
            .unwrap()
    };
    let (searched, report) = fit(Some(Selection::default()));
    let (plain, none) = fit(None);
    assert!(none.is_none());
    let report = report.unwrap();
    let chosen = report.sigma / report.median_sigma;
    assert!(chosen <= 0.25 + 1e-12, "σ factor {chosen}");
    // Every factor of the grid (6) and the two refinements were scored on sampled rows.
    assert_eq!(report.sigma_trials.len(), 8);
    assert_eq!(report.final_trials.len(), 1);
    let (a, b) = (
        accuracy(&searched.predict(&tx).unwrap(), &ty),
        accuracy(&plain.predict(&tx).unwrap(), &ty),
    );
    eprintln!("searched {a}, median heuristic {b}, factor {chosen}");
    assert!(a > 0.9 && a > b + 0.1, "searched {a}, median heuristic {b}");
    // The model's λ report holds the leave-one-out scores of the grid.
    let SolverInfo::Ridge {
        lambda,
        gcv: Some(scores),
    } = &searched.info().solver
    else {
        panic!("ridge with a λ report")
    };
    assert_eq!(scores.grid[scores.chosen], *lambda);
    assert_eq!(report.lambda, Some(*lambda));
}

#[test]
fn the_same_model_bytes_for_any_thread_count() {
    let (train, _) = dataset("breast_cancer", 30);
    // 455 rows: 128 frequencies (256 features) go through the primal statistics, 512 (1,024
    // features) through the dual form.
    for n in [128, 512] {
        let params = KernelMachine::params()
            .n_frequencies(n)
            .seed(3)
            .check()
            .unwrap();
        let bytes = model_bytes_on_one_two_three_threads(&params, train.x.view(), train.y.view());
        assert!(bytes[0] == bytes[1] && bytes[1] == bytes[2], "n = {n}");
    }
}

#[test]
fn the_map_choice_gives_the_same_model_bytes_for_any_thread_count() {
    // The maps' searches, and the σ grid's trials, run side by side: the model and the report's
    // scores must not depend on which finishes first or on the threads.
    let (train, _) = dataset("breast_cancer", 30);
    let params = KernelMachine::params()
        .n_frequencies(128)
        .seed(5)
        .selection(Selection::default().choosing_maps())
        .check()
        .unwrap();
    let fits = on_one_two_three_threads(|| {
        let (model, report) = params
            .fit_with_report(train.x.view(), train.y.view())
            .unwrap();
        let report = report.unwrap();
        assert_eq!(report.map_trials.len(), 2, "both maps searched");
        let scores = format!("{:?} {:?}", report.map_trials, report.sigma_trials);
        (model.to_bytes().unwrap(), scores)
    });
    assert!(fits[0] == fits[1] && fits[1] == fits[2]);
}

/// The rows in chunks of `size`, as a streamed fit's source yields them.
type Chunks = Result<Vec<Result<rks_solvers::Chunk, std::io::Error>>, std::io::Error>;
fn chunks(x: &Array2<f64>, y: &Array1<f64>, size: usize) -> Chunks {
    let rows = x.nrows();
    Ok((0..rows)
        .step_by(size)
        .map(|start| {
            let end = (start + size).min(rows);
            Ok((
                x.slice(s![start..end, ..]).to_owned(),
                y.slice(s![start..end]).to_owned(),
            ))
        })
        .collect())
}

#[test]
fn streamed_fit_chooses_like_the_in_memory_fit() {
    let (train, _) = dataset("breast_cancer", 30);
    let params = KernelMachine::params()
        .n_frequencies(64)
        .seed(5)
        .check()
        .unwrap();
    let whole = params.fit(train.x.view(), train.y.view()).unwrap();
    let streamed = params
        .fit_stream(|| chunks(&train.x, &train.y, 100))
        .unwrap();
    assert_eq!(streamed.info().sigma, whole.info().sigma);
    // The same grid point of λ; the grid itself scales with tr(C), whose sum differs in its last
    // bits between chunkings.
    let chosen = |m: &KernelMachine| match &m.info().solver {
        SolverInfo::Ridge {
            lambda,
            gcv: Some(report),
        } => (report.chosen, *lambda),
        other => panic!("{other:?}"),
    };
    let ((a, la), (b, lb)) = (chosen(&streamed), chosen(&whole));
    assert_eq!(a, b);
    assert!((la / lb - 1.0).abs() < 1e-9, "{la} vs {lb}");
}

/// The n of each stage-2 step the search fitted, in order.
fn tried(report: &SelectionReport) -> Vec<usize> {
    report
        .final_trials
        .iter()
        .map(|t| t.n_frequencies)
        .collect()
}

/// With every step costly, growth starts one step below the n given (the first comparison),
/// keeps a step only when it improves on every earlier one, and doubles n only after a doubling
/// that was better by more than one standard error.
#[test]
fn a_budget_grows_n_only_after_clear_gains() {
    let (x, y) = checkerboard(600, 3);
    let selection = Selection {
        budget_seconds: Some(60.0),
        costly_step: 0.0,
        max_frequencies: 256,
        ..Selection::default()
    };
    let (model, report) =
        fit_selecting(KernelMachine::params().n_frequencies(32), selection, &x, &y);
    let trials = &report.final_trials;
    let ns = tried(&report);
    assert_eq!(ns[..2], [16, 32], "{ns:?}");
    assert!(ns.windows(2).all(|w| w[1] == 2 * w[0]), "{ns:?}");
    assert!(*ns.last().unwrap() <= 256);
    assert_eq!(model.map().n_frequencies(), report.n_frequencies);
    // The checkerboard needs frequencies: 16 → 32 was clearly better, so n = 64 was tried.
    assert!(ns.len() > 2, "{ns:?}");
    // The kept step improved on every earlier one.
    let kept = ns.iter().position(|&n| n == report.n_frequencies).unwrap();
    for earlier in &trials[..kept] {
        assert!(trials[kept].score.better_than(&earlier.score));
    }
}

/// Two well-separated clouds: more frequencies cannot make fewer rows wrong by more than a
/// standard error, so with every step costly n stays as given however large the budget, and the
/// report says why; with no step costly (the cheap steps of a small file) n grows while the
/// score improves, from the n given.
#[test]
fn no_costly_growth_without_a_clear_gain() {
    let x = Array2::from_shape_fn((400, 2), |(i, j)| {
        let side = if i % 2 == 0 { 1.0 } else { -1.0 };
        side * 2.0 + uniform(i, j as u64, 5) - 0.5
    });
    let y = Array1::from_shape_fn(400, |i| (i % 2) as f64);
    let fit = |costly_step: f64| {
        let selection = Selection {
            budget_seconds: Some(1e3),
            costly_step,
            max_frequencies: 4096,
            ..Selection::default()
        };
        let (model, report) =
            fit_selecting(KernelMachine::params().n_frequencies(64), selection, &x, &y);
        assert_eq!(model.map().n_frequencies(), report.n_frequencies);
        (tried(&report), report.notes)
    };
    let (ns, notes) = fit(0.0);
    assert_eq!(ns, [32, 64]);
    assert!(notes.iter().any(|n| n.contains("not doubled")), "{notes:?}");
    let (ns, _) = fit(1.0);
    assert_eq!(ns[0], 64);
    assert!(ns.len() > 2, "{ns:?}");
}

/// With growth and costly steps, the maps compared start from the same number of features:
/// n/2 frequencies for the maps with cos and sin features (so the first comparison is at n/4).
#[test]
fn compared_maps_start_from_the_same_number_of_features() {
    use rks::MapKind;
    let (x, y) = checkerboard(600, 3);
    let first = |costly_step: f64| {
        let selection = Selection {
            budget_seconds: Some(1e3),
            costly_step,
            maps: vec![MapKind::Fastfood, MapKind::Dense],
            ..Selection::default()
        };
        let (_, report) =
            fit_selecting(KernelMachine::params().n_frequencies(64), selection, &x, &y);
        tried(&report)[0]
    };
    assert_eq!(first(0.0), 16);
    assert_eq!(first(1.0), 64);
}

/// Regression pairs the two steps' squared residuals row by row: with every step costly, a
/// fast-oscillating target keeps gaining from more frequencies and n grows past the n given; a
/// nearly linear one does not.
#[test]
fn regression_growth_pairs_the_rows_residuals() {
    let fit = |x: Array2<f64>, y: Array1<f64>| {
        let selection = Selection {
            budget_seconds: Some(1e3),
            costly_step: 0.0,
            max_frequencies: 512,
            ..Selection::default()
        };
        let params = KernelMachine::params()
            .n_frequencies(16)
            .task(Task::Regression);
        let (_, report) = fit_selecting(params, selection, &x, &y);
        // The largest n tried.
        tried(&report).into_iter().max()
    };
    let x = Array2::from_shape_fn((800, 1), |(i, _)| uniform(i, 0, 4));
    let y = Array1::from_shape_fn(800, |i| {
        let t = x[[i, 0]];
        (40.0 * t).sin() + 0.5 * (90.0 * t).sin() + 0.05 * uniform(i, 1, 4)
    });
    assert!(fit(x, y) > Some(16));
    let x = Array2::from_shape_fn((800, 2), |(i, j)| uniform(i, j as u64, 9));
    let y = Array1::from_shape_fn(800, |i| {
        x[[i, 0]] + 0.5 * x[[i, 1]] + 0.1 * uniform(i, 7, 3)
    });
    assert_eq!(fit(x, y), Some(16));
}

/// The budget counts estimated seconds (operation counts at `REFERENCE_FLOPS`), not a clock: a
/// budget that covers the step at n = 32 but not the one at n = 64 stops at 32 exactly, whatever
/// the machine and its load, and says why; a larger one lets n grow; two fits write the same
/// bytes.
#[test]
fn the_budget_counts_operations_not_the_clock() {
    use rks_solvers::machine::estimated_step_seconds;
    let (x, y) = checkerboard(600, 3);
    let scored = Selection::default().loo_rows.min(600);
    let step = |n: usize| estimated_step_seconds(600, 2 * n, scored);
    let fit = |budget: f64| {
        let selection = Selection {
            budget_seconds: Some(budget),
            max_frequencies: 4096,
            ..Selection::default()
        };
        fit_selecting(KernelMachine::params().n_frequencies(32), selection, &x, &y)
    };
    let (model, report) = fit(step(32) + 0.9 * step(64));
    let tried = tried(&report);
    assert_eq!(tried, [32]);
    assert_eq!(model.map().n_frequencies(), 32);
    assert!(
        report.notes.iter().any(|n| n.contains("budget")),
        "{:?}",
        report.notes
    );
    let (again, _) = fit(step(32) + 0.9 * step(64));
    assert_eq!(model.to_bytes().unwrap(), again.to_bytes().unwrap());
    let (_, report) = fit(step(32) + step(64) + step(128) + 0.9 * step(256));
    assert!(report.final_trials.len() > 1, "{:?}", report.final_trials);
}

#[test]
fn given_values_are_not_searched() {
    let (x, y) = checkerboard(300, 4);
    let (model, report) = KernelMachine::params()
        .n_frequencies(64)
        .bandwidth(Bandwidth::Sigma(0.2))
        .solver(Solver::Ridge {
            lambda: Lambda::Fixed(0.5),
        })
        .check()
        .unwrap()
        .fit_with_report(x.view(), y.view())
        .unwrap();
    let report = report.unwrap();
    assert!(report.sigma_trials.is_empty());
    assert_eq!(model.info().sigma, 0.2);
    assert_eq!(report.lambda, Some(0.5));
}

#[test]
fn regression_is_scored_by_squared_error() {
    let x = Array2::from_shape_fn((300, 1), |(i, _)| i as f64 / 300.0);
    let y: Array1<f64> = x.column(0).mapv(|v| (12.0 * v).sin());
    let (model, report) = KernelMachine::params()
        .n_frequencies(128)
        .task(Task::Regression)
        .check()
        .unwrap()
        .fit_with_report(x.view(), y.view())
        .unwrap();
    let report = report.unwrap();
    assert!(report.final_trials[0].score.error.is_none());
    let fitted = model.predict(x.view()).unwrap();
    let rmse = ((&fitted - &y).mapv(|e| e * e).mean().unwrap()).sqrt();
    assert!(rmse < 0.05, "{rmse}");
}

#[test]
fn bad_settings_and_tiny_data_are_clear() {
    let bad = |selection: Selection| {
        KernelMachine::params()
            .selection(selection)
            .check()
            .unwrap_err()
    };
    for selection in [
        Selection {
            sigma_factors: vec![],
            ..Selection::default()
        },
        Selection {
            sigma_factors: vec![1.0, -2.0],
            ..Selection::default()
        },
        Selection {
            budget_seconds: Some(0.0),
            ..Selection::default()
        },
        Selection {
            costly_step: 1.5,
            ..Selection::default()
        },
        Selection {
            costly_step: f64::NAN,
            ..Selection::default()
        },
        Selection {
            search_rows: 1,
            ..Selection::default()
        },
        // Checked before any m × m matrix is made.
        Selection {
            relevance_rows: 1_000_000,
            ..Selection::default()
        },
    ] {
        assert!(matches!(
            bad(selection),
            SolversError::InvalidParameter { .. }
        ));
    }
    // Two rows: too few to search σ; the report says the median heuristic was used.
    let x = ndarray::array![[0.0, 0.0], [1.0, 1.0]];
    let y = ndarray::array![0.0, 1.0];
    let (_, report) = KernelMachine::params()
        .n_frequencies(8)
        .check()
        .unwrap()
        .fit_with_report(x.view(), y.view())
        .unwrap();
    let report = report.unwrap();
    assert!(report.notes[0].contains("too few"), "{:?}", report.notes);
}

#[test]
fn the_map_is_chosen_by_the_leave_one_out_score() {
    use rks::{Kernel, MapKind};
    let (x, y) = checkerboard(600, 3);
    let fit = |maps: Vec<MapKind>, map: MapKind, kernel: Kernel| {
        KernelMachine::params()
            .map(map)
            .kernel(kernel)
            .n_frequencies(128)
            .selection(Selection {
                maps,
                ..Selection::default()
            })
            .check()
            .unwrap()
            .fit_with_report(x.view(), y.view())
            .unwrap()
    };
    let both = vec![MapKind::Fastfood, MapKind::Nystrom];
    let (chosen, report) = fit(both.clone(), MapKind::Fastfood, Kernel::Gaussian);
    let report = report.unwrap();
    assert_eq!(report.map_trials.len(), 2);
    let winner = report
        .map_trials
        .iter()
        .reduce(|a, b| {
            if b.trial.score.better_than(&a.trial.score) {
                b
            } else {
                a
            }
        })
        .unwrap();
    assert_eq!(chosen.map().kind(), winner.map);
    assert!(
        report.notes.last().unwrap().starts_with("map: "),
        "{:?}",
        report.notes
    );
    // The same model as a search of the winning map alone.
    let (alone, _) = fit(Vec::new(), winner.map, Kernel::Gaussian);
    assert_eq!(chosen.to_bytes().unwrap(), alone.to_bytes().unwrap());
    // Only the maps that make the kernel are tried: Fastfood makes radial kernels only.
    let (laplacian, report) = fit(both, MapKind::Dense, Kernel::Laplacian);
    assert_eq!(laplacian.map().kind(), MapKind::Nystrom);
    assert_eq!(report.unwrap().map_trials.len(), 1);
}

/// A uniform draw in [0, 1) for (row, column, seed): SplitMix64's finaliser.
fn uniform(i: usize, j: u64, seed: u64) -> f64 {
    let mut z = (i as u64 * 4 + j + (seed << 40)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Rows uniform in [0, 1]² with a target that is a smooth wave plus ripples three times finer,
/// plus noise of standard deviation 0.1: the grid's 16 frequencies can only fit the smooth part,
/// with a wide kernel.
fn ripples(rows: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let x = Array2::from_shape_fn((rows, 2), |(i, j)| uniform(i, j as u64, seed));
    let tau = std::f64::consts::TAU;
    let y = (0..rows)
        .map(|i| {
            let (a, b) = (x[[i, 0]], x[[i, 1]]);
            (tau * a).sin()
                + (tau * b).cos()
                + 0.5 * (tau * 3.0 * a).sin() * (tau * 3.0 * b).cos()
                + 0.1 * 12f64.sqrt() * (uniform(i, 2, seed) - 0.5)
        })
        .collect();
    (x, y)
}

#[test]
fn the_walk_halves_a_sigma_that_the_grid_left_too_wide() {
    let (x, y) = ripples(1500, 7);
    let (tx, ty) = ripples(1000, 8);
    let fit = |walk: usize| {
        KernelMachine::params()
            .task(Task::Regression)
            .n_frequencies(512)
            .selection(Some(Selection {
                search_frequencies: 16,
                sigma_walk: walk,
                ..Selection::default()
            }))
            .check()
            .unwrap()
            .fit_with_report(x.view(), y.view())
            .unwrap()
    };
    let mse = |m: &KernelMachine| {
        let p = m.predict(&tx).unwrap();
        p.iter()
            .zip(&ty)
            .map(|(p, t)| (p - t) * (p - t))
            .sum::<f64>()
            / ty.len() as f64
    };
    let (walked, report) = fit(3);
    let (grid_only, plain) = fit(0);
    let (report, plain) = (report.unwrap(), plain.unwrap());
    assert!(plain.walk_trials.is_empty());
    // The walk starts at the grid's σ at the fit's n, and every kept halving halves it.
    let walk = &report.walk_trials;
    assert_eq!(walk[0].sigma, plain.sigma);
    assert!(
        walk.iter()
            .all(|t| t.n_frequencies == 512 && t.rows == 1500)
    );
    assert!(
        report.sigma <= plain.sigma / 2.0 * (1.0 + 1e-12),
        "{} vs {}",
        report.sigma,
        plain.sigma
    );
    let ratio = plain.sigma / report.sigma;
    assert_eq!(ratio, 2f64.powi(ratio.log2().round() as i32));
    let (a, b) = (mse(&walked), mse(&grid_only));
    eprintln!("σ {} -> {}, test mse {b} -> {a}", plain.sigma, report.sigma);
    assert!(a < 0.8 * b, "walked {a}, grid only {b}");
}

#[test]
fn the_walk_keeps_sigma_when_no_halving_is_clearly_better() {
    // Labels that no kernel predicts: a halving can only move the error within its noise.
    let (x, _) = ripples(600, 3);
    let y = Array1::from_shape_fn(600, |i| (uniform(i, 3, 3) < 0.5) as u8 as f64);
    let walk = |walk_classification| {
        KernelMachine::params()
            .n_frequencies(256)
            .selection(Some(Selection {
                walk_classification,
                ..Selection::default()
            }))
            .check()
            .unwrap()
            .fit_with_report(x.view(), y.view())
            .unwrap()
            .1
            .unwrap()
    };
    // A classifier walks only when asked to.
    assert!(walk(false).walk_trials.is_empty());
    let report = walk(true);
    // The trial at the grid's σ and one halving tried, not kept.
    assert_eq!(report.walk_trials.len(), 2);
    assert_eq!(report.sigma, report.walk_trials[0].sigma);
    assert_eq!(report.walk_trials[1].sigma, report.sigma / 2.0);
}

#[test]
fn the_streamed_fit_walks_as_the_in_memory_fit() {
    let (x, y) = ripples(1500, 7);
    let params = KernelMachine::params()
        .task(Task::Regression)
        .n_frequencies(512)
        .selection(Some(Selection {
            search_frequencies: 16,
            ..Selection::default()
        }))
        .check()
        .unwrap();
    let (whole, report) = params.fit_with_report(x.view(), y.view()).unwrap();
    let report = report.unwrap();
    // The walk moved σ (else this test would show nothing).
    assert!(report.sigma < report.walk_trials[0].sigma);
    let streamed = params.fit_stream(|| chunks(&x, &y, 200)).unwrap();
    assert_eq!(streamed.info().sigma, whole.info().sigma);
    assert_eq!(whole.info().sigma, report.sigma);
}

/// Three categorical columns, most rows in one cell, so most pairs of rows are identical (as in
/// a passenger table of class, age group and sex): the median heuristic once counted those
/// pairs, found 0 and stopped the default fit with an error. Now σ comes from the distinct pairs
/// and the default fit (search and column relevance on) learns the rule.
#[test]
fn default_fit_on_mostly_identical_categorical_rows() {
    let cells = |i: usize| {
        let h = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        // 3 of 4 rows in the cell [0, 0, 0]; the rest spread over the other 15 cells.
        if !h.is_multiple_of(4) {
            [0.0, 0.0, 0.0]
        } else {
            [(h / 4 % 4) as f64, (h / 16 % 2) as f64, (h / 32 % 2) as f64]
        }
    };
    let rule = |r: [f64; 3]| f64::from((r[2] == 1.0) != (r[0] == 0.0));
    let rows = 600;
    let x = Array2::from_shape_fn((rows, 3), |(i, j)| cells(i)[j]);
    let y: Array1<f64> = (0..rows).map(|i| rule(cells(i))).collect();
    let identical = (0..rows)
        .flat_map(|i| (0..i).map(move |j| (i, j)))
        .filter(|&(i, j)| cells(i) == cells(j))
        .count();
    assert!(
        identical * 2 > rows * (rows - 1) / 2,
        "{identical} identical pairs"
    );
    let (model, report) = KernelMachine::params()
        .n_frequencies(256)
        .task(Task::Classification)
        .check()
        .unwrap()
        .fit_with_report(x.view(), y.view())
        .unwrap();
    assert!(report.unwrap().median_sigma > 0.0);
    let tx = Array2::from_shape_fn((16, 3), |(i, j)| {
        [(i % 4) as f64, (i / 4 % 2) as f64, (i / 8) as f64][j]
    });
    let ty: Array1<f64> = tx
        .rows()
        .into_iter()
        .map(|r| rule([r[0], r[1], r[2]]))
        .collect();
    assert_eq!(accuracy(&model.predict(&tx).unwrap(), &ty), 1.0);
}

/// One row repeated in all rows but one fills a half of the column-relevance step's sample with
/// that row alone: the step says it learned nothing, and the fit goes on without it.
#[test]
fn column_relevance_on_one_repeated_row_is_skipped_not_an_error() {
    let rows = 600;
    let x = Array2::from_shape_fn((rows, 3), |(i, j)| {
        if i < 599 {
            0.0
        } else {
            ((i * (j + 3)) % 7) as f64
        }
    });
    let y: Array1<f64> = (0..rows).map(|i| f64::from(i >= 599)).collect();
    let (_, report) = KernelMachine::params()
        .n_frequencies(64)
        .task(Task::Classification)
        .check()
        .unwrap()
        .fit_with_report(x.view(), y.view())
        .unwrap();
    let report = report.unwrap();
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("relevance: not learned")),
        "{:?}",
        report.notes
    );
}

/// With a budget whose costly share pays for it, the σ grid is scored with the exact kernel:
/// each trial's leave-one-out score is that of a Nyström map with every row a landmark (which
/// reproduces the kernel matrix); the streamed fit chooses the same σ. Without that share (a
/// small budget, or `exact_sigma` off) the grid is scored with features, as before.
#[test]
fn the_exact_kernel_scores_sigma_when_the_budget_allows() {
    let (x, y) = checkerboard(400, 3);
    let fixed = Solver::Ridge {
        lambda: Lambda::Fixed(1e-3),
    };
    let selection = |budget: f64| Selection {
        search_frequencies: 16,
        relevance: false,
        budget_seconds: Some(budget),
        max_frequencies: 256,
        ..Selection::default()
    };
    let params = |selection: Selection| {
        KernelMachine::params()
            .n_frequencies(256)
            .solver(fixed.clone())
            .selection(Some(selection))
            .check()
            .unwrap()
    };
    let report = |selection| {
        let (_, report) = params(selection)
            .fit_with_report(x.view(), y.view())
            .unwrap();
        report.unwrap()
    };
    let exact = report(selection(1e3));
    assert_eq!(exact.sigma_trials.len(), 8);
    assert!(
        exact
            .sigma_trials
            .iter()
            .all(|t| t.exact && t.rows == 400 && t.n_frequencies == 400)
    );
    assert!(exact.notes[0].contains("exact kernel"), "{:?}", exact.notes);
    // Each trial against the Nyström map with m = N at its σ, fitted with the same λ.
    for trial in &exact.sigma_trials {
        let (_, nystrom) = KernelMachine::params()
            .map(rks::MapKind::Nystrom)
            .n_frequencies(400)
            .bandwidth(Bandwidth::Sigma(trial.sigma))
            .solver(fixed.clone())
            .selection(Some(Selection {
                relevance: false,
                ..Selection::default()
            }))
            .check()
            .unwrap()
            .fit_with_report(x.view(), y.view())
            .unwrap();
        let by_features = nystrom.unwrap().final_trials[0].score;
        let (a, b) = (trial.score, by_features);
        assert_eq!(a.error, b.error, "σ = {}", trial.sigma);
        // Nyström drops K_mm's eigenvalues below its floor (10⁻¹⁰ of the largest by default),
        // which moves a wide kernel's squared error in its sixth digit.
        assert!(
            (a.mse / b.mse - 1.0).abs() < 1e-5,
            "σ = {}: {a:?} {b:?}",
            trial.sigma
        );
    }
    for (budget, exact_sigma) in [(1e-3, true), (1e3, false)] {
        let plain = report(Selection {
            exact_sigma,
            ..selection(budget)
        });
        assert!(
            plain
                .sigma_trials
                .iter()
                .all(|t| !t.exact && t.n_frequencies == 16)
        );
    }
    // When the maps are compared, the grid is scored once, before they split the budget: each
    // map's search takes that choice, the same trials as one map's search. With a budget whose
    // costly share pays for the eight trials on 400 rows (about 0.12 s of operations) but whose
    // half does not, the grid is exact only if it was judged on the whole budget.
    let trials = 8.0 * rks_solvers::machine::estimated_exact_trial_seconds(400, 2);
    let budget = 1.5 * trials / Selection::default().costly_step;
    let compared = report(selection(budget).choosing_maps());
    assert_eq!(compared.map_trials.len(), 2);
    assert_eq!(compared.sigma_trials, exact.sigma_trials);
    assert_eq!(compared.sigma, exact.sigma);
    // The streamed fit scores the same sampled rows the same way.
    let whole = params(selection(1e3)).fit(x.view(), y.view()).unwrap();
    let streamed = params(selection(1e3))
        .fit_stream(|| chunks(&x, &y, 150))
        .unwrap();
    assert_eq!(streamed.info().sigma, whole.info().sigma);
    assert_eq!(whole.info().sigma, exact.sigma);
}

/// A regression's σ walk corrects the features' lean to wide σ; the exact kernel has none, so
/// with it (asked for: a regression's grid is scored with features by default) the walk is not
/// taken.
#[test]
fn no_walk_after_an_exact_grid() {
    let (x, y) = ripples(600, 7);
    let (_, report) = KernelMachine::params()
        .task(Task::Regression)
        .n_frequencies(256)
        .selection(Some(Selection {
            search_frequencies: 16,
            budget_seconds: Some(1e3),
            max_frequencies: 256,
            exact_sigma_regression: true,
            ..Selection::default()
        }))
        .check()
        .unwrap()
        .fit_with_report(x.view(), y.view())
        .unwrap();
    let report = report.unwrap();
    assert!(report.sigma_trials.iter().all(|t| t.exact));
    assert!(report.walk_trials.is_empty());
}

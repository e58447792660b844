//! End-to-end tests of the `rks` binary on the bundled datasets: small frequency counts so the
//! whole file runs in seconds, scratch files in temporary directories.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use tempfile::TempDir;

/// A bundled dataset file.
fn dataset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets")
        .join(name)
}

/// Runs `rks` with `args` and returns its output (any exit code).
fn rks(args: &[&str]) -> Output {
    cargo_bin_cmd!("rks")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `rks` and expects success; returns stdout.
fn ok(args: &[&str]) -> String {
    let out = rks(args);
    assert!(
        out.status.success(),
        "rks {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// Runs `rks ... --json` and parses its one JSON object.
fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let text = ok(&all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not one JSON object ({e}): {text}"))
}

/// Expects exit code `code` and exactly one `error: ...` line on stderr (for code 1), with no
/// panic or backtrace; returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = rks(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "rks {args:?}: stderr {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    if code == 1 {
        assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    }
    err
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// Fits `train` into `dir/model.rks` with extra flags and returns the model path.
fn fit(dir: &TempDir, train: &str, extra: &[&str]) -> PathBuf {
    let model = dir.path().join("model.rks");
    let train = dataset(train);
    let mut args = vec![
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&model),
    ];
    args.extend_from_slice(extra);
    ok(&args);
    model
}

fn eval(model: &Path, test: &str) -> Value {
    let test = dataset(test);
    json(&[
        "eval",
        "--model",
        path_str(model),
        "--test",
        path_str(&test),
    ])
}

#[test]
fn breast_cancer_fit_then_eval_reaches_94_percent() {
    // Defaults: min-max scaling, ridge, σ and λ by leave-one-out, and the map (Fastfood or
    // Nyström) with the better leave-one-out score; the exact RBF SVM scores 96.5 % here
    // (docs/peer-baselines.md).
    let dir = TempDir::new().unwrap();
    let model = fit(
        &dir,
        "breast_cancer.train",
        &["--frequencies", "512", "--features", "30"],
    );
    let report = eval(&model, "breast_cancer.test");
    let accuracy = report["score"]["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.94, "accuracy {accuracy}");
    assert_eq!(report["rows"], 114);
    assert_eq!(report["model"]["task"], "classification");
    let map = report["model"]["map"].as_str().unwrap();
    assert!(map == "fastfood" || map == "nystrom", "{map}");
    assert!(report["predict_seconds"].as_f64().unwrap() >= 0.0);
}

/// The default fit learns column weights and reports them (kept or not); `--no-relevance`
/// skips the step, and `--sigma` (a kernel given by hand) does too.
#[test]
fn column_relevance_is_reported_and_can_be_turned_off() {
    let dir = TempDir::new().unwrap();
    let train = dataset("breast_cancer.train");
    let model = dir.path().join("m.rks");
    let base = [
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&model),
        "--frequencies",
        "128",
        "--solver",
        "ridge",
    ];
    let report = json(&base);
    let relevance = &report["selection"]["relevance"];
    assert_eq!(
        relevance["weights"].as_array().unwrap().len(),
        30,
        "{report}"
    );
    assert!(relevance["kept"].is_boolean());
    assert!(
        report["selection"]["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("relevance:")
    );
    for extra in [&["--no-relevance"][..], &["--sigma", "1.0"][..]] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let report = json(&args);
        assert!(
            report["selection"].get("relevance").is_none(),
            "{extra:?}: {report}"
        );
    }
    // A streamed fit learns them on its sample and reports them too; its training score is on
    // that sample (every row of this small file), not a third pass over the file.
    let mut streamed = base.to_vec();
    streamed.extend_from_slice(&["--stream", "--chunk-rows", "100"]);
    let report = json(&streamed);
    let selection = &report["selection"];
    assert_eq!(
        selection["relevance"]["weights"].as_array().unwrap().len(),
        30
    );
    assert!(
        selection["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("relevance:")
    );
    // The σ search on the sample and the final λ, as in memory.
    assert!(selection["sigma_trials"].as_array().unwrap().len() >= 6);
    assert_eq!(selection["final_trials"].as_array().unwrap().len(), 1);
    assert_eq!(selection["sigma"], report["model"]["sigma"]);
    assert_eq!(report["train_score_rows"], report["model"]["train_rows"]);
    assert!(report["train_score"]["accuracy"].as_f64().unwrap() > 0.9);
    streamed.push("--no-relevance");
    let report = json(&streamed);
    assert!(report["selection"].get("relevance").is_none(), "{report}");
}

/// `rks tune` learns the column weights as `fit` does, searches its grid on the weighted
/// columns, and prints a fit command that carries them (with the read flags and the seed); that
/// command fits at the tuned σ with the same weights. Bad `--input-weights` are usage errors.
#[test]
fn tune_learns_the_column_weights_and_its_fit_command_carries_them() {
    let dir = TempDir::new().unwrap();
    let csv = dir.path().join("noise.csv");
    // The target depends on columns a and b; c and d are noise.
    let mut text = String::from("a,b,c,d,target\n");
    let value = |i: usize, k: usize| ((i * (37 + 16 * k) + 11 * k) % 400) as f64 / 200.0 - 1.0;
    for i in 0..400 {
        let (a, b, c, d) = (value(i, 0), value(i, 1), value(i, 2), value(i, 3));
        text.push_str(&format!("{a},{b},{c},{d},{}\n", (3.0 * a).sin() + b * b));
    }
    std::fs::write(&csv, text).unwrap();
    let base = [
        "tune",
        "--train",
        path_str(&csv),
        "--label-column",
        "target",
        "--frequencies",
        "128",
        "--seed",
        "2",
    ];
    let report = json(&base);
    let weights = report["input_weights"].as_array().expect("weights kept");
    assert_eq!(weights.len(), 4, "{report}");
    assert_eq!(report["relevance"]["kept"], true);
    let command = report["fit_command"].as_str().unwrap();
    for flag in ["--input-weights ", "--label-column target", "--seed 2"] {
        assert!(command.contains(flag), "{command}");
    }
    let model = dir.path().join("m.rks");
    let mut args: Vec<&str> = command.split(' ').skip(1).collect();
    let at = args.iter().position(|a| *a == "model.rks").unwrap();
    args[at] = path_str(&model);
    let fitted = json(&args);
    assert_eq!(fitted["model"]["sigma"], report["best"]["sigma"]);
    assert!(
        fitted["train_score"]["r2"].as_f64().unwrap() > 0.9,
        "{fitted}"
    );
    // Off by flag, and when σ is given.
    for extra in [&["--no-relevance"][..], &["--sigmas", "0.5,1"][..]] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let report = json(&args);
        assert!(report.get("input_weights").is_none(), "{extra:?}");
        assert!(report.get("relevance_note").is_none(), "{extra:?}");
        let command = report["fit_command"].as_str().unwrap();
        assert!(!command.contains("--input-weights"), "{command}");
    }
    for bad in ["1,2", "1,-1,1,1", "0,0,0,0", "1,x,1,1"] {
        let err = fails(
            &[
                "fit",
                "--train",
                path_str(&csv),
                "--label-column",
                "target",
                "--model",
                path_str(&model),
                "--input-weights",
                bad,
            ],
            2,
        );
        assert!(
            err.contains("input-weights") || err.contains("input_weights"),
            "{err}"
        );
    }
}

/// Every map and kernel the tool offers fits, saves, loads and predicts through the tool: the
/// saved model names its map and kernel, predicts without the training file (Nyström keeps its
/// landmarks) and classifies breast_cancer (exact RBF SVM: 96.5 %, docs/peer-baselines.md) well.
#[test]
fn every_map_fits_saves_and_predicts_through_the_tool() {
    for (map, kernel, floor) in [
        ("dense", "gaussian", 0.93),
        ("orf", "gaussian", 0.93),
        ("sorf", "gaussian", 0.93),
        ("nystrom", "gaussian", 0.93),
        ("dense", "laplacian", 0.90),
        ("orf", "matern32", 0.90),
        ("sorf", "arccos1", 0.90),
        ("fastfood", "arccos0", 0.85),
        ("fastfood", "arccos1", 0.85),
        ("orf", "arccos1", 0.85),
        ("nystrom", "matern52", 0.90),
    ] {
        let dir = TempDir::new().unwrap();
        let model = fit(
            &dir,
            "breast_cancer.train",
            &["--map", map, "--kernel", kernel, "--frequencies", "256"],
        );
        let report = eval(&model, "breast_cancer.test");
        assert_eq!(report["model"]["map"], map);
        assert_eq!(report["model"]["kernel"], kernel);
        let accuracy = report["score"]["accuracy"].as_f64().unwrap();
        assert!(accuracy >= floor, "{map} {kernel}: accuracy {accuracy}");
    }
}

#[test]
fn digits_svm_reaches_95_percent() {
    // Exact RBF SVM: 97.8 %; Fastfood 1024 + LinearSVC: 96.9 % (docs/peer-baselines.md).
    let dir = TempDir::new().unwrap();
    let model = fit(
        &dir,
        "digits.train",
        &["--frequencies", "512", "--solver", "svm", "--c", "10"],
    );
    let accuracy = eval(&model, "digits.test")["score"]["accuracy"]
        .as_f64()
        .unwrap();
    assert!(accuracy >= 0.95, "accuracy {accuracy}");
}

#[test]
fn diabetes_is_inferred_as_regression_with_rmse_below_60() {
    // Integer targets, but 191 distinct values in 353 rows: regression. Exact kernel ridge
    // has RMSE 55.7 on this split.
    let dir = TempDir::new().unwrap();
    let model = fit(
        &dir,
        "diabetes.train",
        &["--frequencies", "128", "--map", "dense"],
    );
    let report = eval(&model, "diabetes.test");
    assert_eq!(report["model"]["task"], "regression");
    let rmse = report["score"]["rmse"].as_f64().unwrap();
    assert!(rmse < 60.0, "RMSE {rmse}");
    assert!(report["score"]["r2"].as_f64().unwrap() > 0.35);
    assert!(report["per_class"].is_null() && report["log_loss"].is_null());
}

#[test]
fn predict_writes_one_line_per_row() {
    let dir = TempDir::new().unwrap();
    let model = fit(&dir, "breast_cancer.train", &["--frequencies", "64"]);
    let test = dataset("breast_cancer.test");
    let (model, test) = (path_str(&model), path_str(&test));
    // Chunks of 10 rows: the output must not depend on the chunking.
    let lines = ok(&[
        "predict",
        "--model",
        model,
        "--data",
        test,
        "--chunk-rows",
        "10",
    ]);
    let labels: Vec<&str> = lines.lines().collect();
    assert_eq!(labels.len(), 114);
    assert!(labels.iter().all(|l| *l == "0" || *l == "1"), "{lines}");
    let whole = ok(&["predict", "--model", model, "--data", test]);
    assert_eq!(whole, lines);

    let out = dir.path().join("predictions.txt");
    let summary = json(&[
        "predict",
        "--model",
        model,
        "--data",
        test,
        "--output",
        path_str(&out),
    ]);
    assert_eq!(summary["rows"], 114);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), lines);

    let streamed = json(&[
        "predict",
        "--model",
        model,
        "--data",
        test,
        "--chunk-rows",
        "7",
    ]);
    let predictions = streamed["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 114);
    assert_eq!(predictions[0].as_f64().unwrap().to_string(), labels[0]);
}

#[test]
fn predictions_do_not_depend_on_the_thread_count() {
    let dir = TempDir::new().unwrap();
    let model = fit(
        &dir,
        "digits.train",
        &["--frequencies", "128", "--threads", "1"],
    );
    let test = dataset("digits.test");
    let args = |t: &'static str| {
        let model = path_str(&model).to_owned();
        let test = path_str(&test).to_owned();
        ok(&[
            "predict",
            "--threads",
            t,
            "--model",
            &model,
            "--data",
            &test,
        ])
    };
    assert_eq!(args("1"), args("2"));
    let other_dir = TempDir::new().unwrap();
    let again = fit(
        &other_dir,
        "digits.train",
        &["--frequencies", "128", "--threads", "2"],
    );
    assert_eq!(
        std::fs::read(&model).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

#[test]
fn compare_json_has_every_figure_and_the_plot() {
    let dir = TempDir::new().unwrap();
    let plot = dir.path().join("compare.svg");
    let (train, test) = (
        dataset("breast_cancer.train"),
        dataset("breast_cancer.test"),
    );
    let report = json(&[
        "compare",
        "--train",
        path_str(&train),
        "--test",
        path_str(&test),
        "--frequencies",
        "16,64",
        "--pairs",
        "200",
        "--plot",
        path_str(&plot),
    ]);
    for key in [
        "train_rows",
        "test_rows",
        "input_dim",
        "task",
        "sigma",
        "scaler",
        "solver",
        "pairs",
    ] {
        assert!(!report[key].is_null(), "missing {key}: {report}");
    }
    assert_eq!(report["pairs"], 200);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let maps: Vec<&str> = rows.iter().map(|r| r["map"].as_str().unwrap()).collect();
    assert_eq!(maps, ["dense", "fastfood", "dense", "fastfood"]);
    for row in rows {
        for key in [
            "frequencies",
            "features",
            "kernel_error_mean",
            "kernel_error_max",
            "transform_seconds",
            "parameter_bytes",
            "fit_seconds",
            "predict_seconds",
            "accuracy",
        ] {
            assert!(row[key].is_number(), "row without a numeric {key}: {row}");
        }
        let (mean, max) = (
            row["kernel_error_mean"].as_f64().unwrap(),
            row["kernel_error_max"].as_f64().unwrap(),
        );
        assert!(0.0 < mean && mean <= max && max < 1.0, "{row}");
    }
    // More frequencies, smaller kernel error (1/√n: a factor 2 expected from 16 to 64).
    assert!(rows[2]["kernel_error_mean"].as_f64() < rows[0]["kernel_error_mean"].as_f64());
    assert!(rows[3]["kernel_error_mean"].as_f64() < rows[1]["kernel_error_mean"].as_f64());
    // Dense stores n·d numbers, Fastfood a few per frequency.
    assert!(rows[2]["parameter_bytes"].as_u64() > rows[3]["parameter_bytes"].as_u64());
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("fastfood") && svg.contains("dense"));
}

#[test]
fn compare_prints_a_table() {
    let (train, test) = (dataset("diabetes.train"), dataset("diabetes.test"));
    let text = ok(&[
        "compare",
        "--train",
        path_str(&train),
        "--test",
        path_str(&test),
        "--frequencies",
        "32",
    ]);
    assert!(text.contains("regression by ridge"), "{text}");
    assert!(
        text.contains("RMSE") && text.contains("fastfood") && text.contains("dense"),
        "{text}"
    );
}

#[test]
fn tune_reports_the_grid_and_the_best_point() {
    let train = dataset("breast_cancer.train");
    let report = json(&[
        "tune",
        "--train",
        path_str(&train),
        "--frequencies",
        "64",
        "--folds",
        "3",
        "--cs",
        "1,10",
    ]);
    assert_eq!(report["solver"], "svm");
    assert_eq!(report["map"], "fastfood");
    assert_eq!(report["kernel"], "gaussian");
    let grid = report["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 5 * 2, "default σ grid times two C values");
    assert!(
        grid.iter()
            .all(|p| p["folds"].as_array().unwrap().len() == 3)
    );
    // The best point's accuracy is the grid's highest, or within one binomial standard error
    // of it (455 rows) with a lower squared error than the highest's.
    let best = report["best"]["mean"].as_f64().unwrap();
    let top = grid
        .iter()
        .max_by(|a, b| {
            a["mean"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["mean"].as_f64().unwrap())
        })
        .unwrap();
    let top_mean = top["mean"].as_f64().unwrap();
    let se = (top_mean * (1.0 - top_mean) / 455.0).sqrt();
    assert!(
        best == top_mean
            || (best >= top_mean - se
                && report["best"]["mse"].as_f64().unwrap() < top["mse"].as_f64().unwrap()),
        "{report}"
    );
    assert!(best > 0.9, "best accuracy {best}");
    let median = report["median_sigma"].as_f64().unwrap();
    assert!((grid[2]["sigma"].as_f64().unwrap() / median - 0.5).abs() < 1e-12);
    assert!(
        report["fit_command"]
            .as_str()
            .unwrap()
            .starts_with("rks fit ")
    );
}

#[test]
fn csv_files_with_a_named_label_column() {
    let dir = TempDir::new().unwrap();
    let csv = dir.path().join("xor.csv");
    let mut text = String::from("a,b,class\n");
    for i in 0..200 {
        let (a, b) = ((i % 20) as f64 / 10.0 - 1.0, (i / 20) as f64 / 5.0 - 1.0);
        text.push_str(&format!("{a},{b},{}\n", u8::from(a * b > 0.0)));
    }
    std::fs::write(&csv, text).unwrap();
    let model = dir.path().join("m.rks");
    let (csv, model) = (path_str(&csv), path_str(&model));
    let report = json(&[
        "fit",
        "--train",
        csv,
        "--model",
        model,
        "--label-column",
        "class",
        "--frequencies",
        "128",
    ]);
    assert_eq!(report["model"]["input_dim"], 2);
    assert!(
        report["train_score"]["accuracy"].as_f64().unwrap() > 0.9,
        "{report}"
    );
    let scored = json(&[
        "eval",
        "--model",
        model,
        "--test",
        csv,
        "--label-column",
        "2",
    ]);
    assert_eq!(scored["rows"], 200);
}

/// Three classes on a grid of two inputs, labelled by `label(class)`; rows in a fixed order.
fn three_classes(label: impl Fn(usize) -> String) -> String {
    let mut text = String::from("a,b,kind\n");
    for i in 0..240 {
        let (a, b) = ((i % 20) as f64 / 10.0 - 1.0, (i / 20) as f64 / 6.0 - 1.0);
        let class = if a * b > 0.0 {
            0
        } else if a > 0.0 {
            1
        } else {
            2
        };
        text.push_str(&format!("{a},{b},{}\n", label(class)));
    }
    text
}

#[test]
fn class_names_in_a_csv_label_column_are_fitted_evaluated_and_predicted() {
    let dir = TempDir::new().unwrap();
    let file = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    // The names first appear in the order "same sign", "b, \"c\"", "left" (rows 0, 10, 20...).
    let names = ["same sign", "b, \"c\"", "left"];
    let quoted = |c: usize| format!("\"{}\"", names[c].replace('"', "\"\""));
    let named = file("named.csv", three_classes(quoted));
    let order: Vec<usize> = three_classes(|c| c.to_string())
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    let mut first_seen: Vec<usize> = Vec::new();
    for c in order {
        if !first_seen.contains(&c) {
            first_seen.push(c);
        }
    }
    // The same rows with the classes as the numbers the names are coded to.
    let code = |c: usize| first_seen.iter().position(|&f| f == c).unwrap().to_string();
    let numbered = file("numbered.csv", three_classes(code));
    let (named_model, numbered_model) = (dir.path().join("n.rks"), dir.path().join("c.rks"));
    let fit_flags = ["--label-column", "kind", "--frequencies", "64"];
    let fit_json = |train: &Path, model: &Path, extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--train",
            path_str(train),
            "--model",
            path_str(model),
        ];
        args.extend_from_slice(&fit_flags);
        args.extend_from_slice(extra);
        json(&args)
    };
    let report = fit_json(&named, &named_model, &[]);
    let expected: Vec<&str> = first_seen.iter().map(|&c| names[c]).collect();
    assert_eq!(report["model"]["task"], "classification");
    assert_eq!(report["model"]["class_names"], serde_json::json!(expected));
    fit_json(&numbered, &numbered_model, &[]);
    // The same model but for the names: the same predictions, as names.
    let predict = |model: &Path, data: &Path| {
        ok(&[
            "predict",
            "--model",
            path_str(model),
            "--data",
            path_str(data),
            "--label-column",
            "kind",
        ])
    };
    let as_names: Vec<String> = predict(&numbered_model, &numbered)
        .lines()
        .map(|code| expected[code.parse::<usize>().unwrap()].to_string())
        .collect();
    let predicted = predict(&named_model, &named);
    assert_eq!(predicted.lines().collect::<Vec<_>>(), as_names);
    let scored = |model: &Path, test: &Path| {
        json(&[
            "eval",
            "--model",
            path_str(model),
            "--test",
            path_str(test),
            "--label-column",
            "kind",
        ])["score"]["accuracy"]
            .as_f64()
            .unwrap()
    };
    let accuracy = scored(&named_model, &named);
    assert_eq!(accuracy, scored(&numbered_model, &numbered));
    assert!(accuracy > 0.9, "{accuracy}");
    // A test file with a class the model never saw: its rows count as wrong.
    let unseen = file(
        "unseen.csv",
        three_classes(|c| if c == 2 { "new".into() } else { quoted(c) }),
    );
    let thirds = scored(&named_model, &unseen);
    assert!(thirds < accuracy - 0.2, "{thirds} against {accuracy}");
    // Streamed, the same names in the same order.
    let streamed = fit_json(&named, &dir.path().join("s.rks"), &["--stream"]);
    assert_eq!(
        streamed["model"]["class_names"],
        report["model"]["class_names"]
    );
    // Names cannot be regressed; a model of numbers does not read names.
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&named),
            "--model",
            path_str(&dir.path().join("r.rks")),
            "--label-column",
            "kind",
            "--task",
            "regression",
        ],
        2,
    );
    assert!(err.contains("holds class names ('same sign'"), "{err}");
    let err = fails(
        &[
            "eval",
            "--model",
            path_str(&numbered_model),
            "--test",
            path_str(&named),
            "--label-column",
            "kind",
        ],
        1,
    );
    assert!(err.contains("named.csv:2:"), "{err}");
    // The names left in a feature column (no --label-column): read as its categories, the
    // first column regressed, and the report says so.
    let wrong = json(&[
        "fit",
        "--train",
        path_str(&named),
        "--model",
        path_str(&dir.path().join("h.rks")),
        "--frequencies",
        "16",
    ]);
    assert_eq!(wrong["model"]["task"], "regression");
    assert!(
        wrong["note"]
            .as_str()
            .unwrap()
            .contains("give --label-column NAME if one of them holds the labels"),
        "{wrong}"
    );
    assert_eq!(
        wrong["model"]["input_categories"],
        serde_json::json!([null, expected])
    );
    // Text in a column of numbers: the error says which flag would take it as the labels.
    let late = file("late.csv", format!("a,b\n1,2\n{}\n", "2,oops"));
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&late),
            "--model",
            path_str(&dir.path().join("l.rks")),
        ],
        1,
    );
    assert!(
        err.contains("give --label-column 'b' if that column"),
        "{err}"
    );
    // tune: classification whatever the codes suggest.
    let tuned = json(&[
        "tune",
        "--train",
        path_str(&named),
        "--label-column",
        "kind",
        "--frequencies",
        "32",
        "--folds",
        "2",
    ]);
    assert_eq!(tuned["task"], "classification", "{tuned}");
}

#[test]
fn class_probabilities_are_fitted_saved_predicted_and_scored() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("named.csv");
    // Names that need quoting in CSV output.
    let names = ["same sign", "b, \"c\"", "left"];
    std::fs::write(
        &train,
        three_classes(|c| format!("\"{}\"", names[c].replace('"', "\"\""))),
    )
    .unwrap();
    let (with, without) = (dir.path().join("p.rks"), dir.path().join("plain.rks"));
    let fit = |model: &Path, extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(model),
            "--label-column",
            "kind",
            "--frequencies",
            "64",
        ];
        args.extend_from_slice(extra);
        json(&args)
    };
    let report = fit(&with, &["--probabilities"]);
    let summary = &report["model"]["probabilities"];
    assert_eq!(summary["folds"], 5);
    let held_out = summary["held_out_log_loss"].as_f64().unwrap();
    assert!(held_out > 0.0 && held_out < 0.5, "{held_out}");
    assert!(fit(&without, &[])["model"]["probabilities"].is_null());
    // Streamed: the sigmoids on the sampled rows' leave-one-out scores (one fold a row), the
    // model's predictions those of the streamed fit without them.
    let streamed = dir.path().join("streamed.rks");
    let flags = ["--stream", "--task", "classification", "--probabilities"];
    let stream_report = fit(&streamed, &flags);
    let summary = &stream_report["model"]["probabilities"];
    let rows = stream_report["model"]["train_rows"].as_u64().unwrap();
    assert_eq!(summary["folds"].as_u64(), Some(rows));
    let held_out = summary["held_out_log_loss"].as_f64().unwrap();
    assert!(held_out > 0.0 && held_out < 0.5, "{held_out}");
    let text = ok(&["info", "--model", path_str(&streamed)]);
    assert!(
        text.contains(&format!("leave-one-out scores of {rows} sampled rows")),
        "{text}"
    );
    let read = ["--label-column", "kind"];
    let predict = |model: &Path, extra: &[&str]| {
        let mut args = vec![
            "predict",
            "--model",
            path_str(model),
            "--data",
            path_str(&train),
        ];
        args.extend_from_slice(&read);
        args.extend_from_slice(extra);
        ok(&args)
    };
    // CSV: a header of the classes (quoted where needed), then the prediction and each class's
    // probability; the predictions are those without probabilities.
    let text = predict(&with, &["--probabilities"]);
    let mut lines = text.lines();
    // In the order the names first appear in the file.
    let classes = "same sign,left,\"b, \"\"c\"\"\"";
    assert_eq!(lines.next().unwrap(), format!("label,{classes}"));
    let plain: Vec<String> = predict(&with, &[]).lines().map(str::to_string).collect();
    let mut rows = 0;
    for (line, label) in lines.zip(&plain) {
        let fields: Vec<&str> = line.rsplitn(4, ',').collect();
        let p: Vec<f64> = fields[..3].iter().map(|f| f.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{line}");
        let shown = if label.contains(',') {
            format!("\"{}\"", label.replace('"', "\"\""))
        } else {
            label.clone()
        };
        assert_eq!(fields[3], shown);
        rows += 1;
    }
    assert_eq!(rows, 240);
    // JSON: the classes in order, each prediction with its probabilities.
    let mut args = vec![
        "predict",
        "--model",
        path_str(&with),
        "--data",
        path_str(&train),
        "--probabilities",
    ];
    args.extend_from_slice(&read);
    let out = json(&args);
    assert_eq!(
        out["classes"],
        serde_json::json!(["same sign", "left", "b, \"c\""])
    );
    let first = &out["predictions"][0];
    assert_eq!(first["label"], plain[0].as_str());
    assert_eq!(first["probabilities"].as_array().unwrap().len(), 3);
    // eval: the log loss, only for a model with probabilities.
    let eval = |model: &Path| {
        json(&[
            "eval",
            "--model",
            path_str(model),
            "--test",
            path_str(&train),
            "--label-column",
            "kind",
        ])
    };
    // info: the file's version (5 with a calibration, 4 without) and what the fit found.
    let info = |model: &Path| json(&["info", "--model", path_str(model)]);
    let described = info(&with);
    assert_eq!(described["file_version"], 5);
    assert_eq!(
        described["model"]["probabilities"],
        report["model"]["probabilities"]
    );
    assert_eq!(
        described["file_bytes"].as_u64().unwrap(),
        std::fs::metadata(&with).unwrap().len()
    );
    assert_eq!(info(&without)["file_version"], 4);
    let text = ok(&["info", "--model", path_str(&with)]);
    assert!(
        text.contains("classes          'same sign', 'left', 'b, \"c\"' (3)"),
        "{text}"
    );
    assert!(text.contains("Platt sigmoids on 5-fold"), "{text}");
    assert!(fails(&["info", "--model", path_str(&train)], 1).contains("not an rks model file"));
    let evaluated = eval(&with);
    // The per-class figures: a 3 × 3 confusion matrix of every row, its diagonal the hits.
    let per_class = &evaluated["per_class"];
    let confusion: Vec<Vec<u64>> = serde_json::from_value(per_class["confusion"].clone()).unwrap();
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 240);
    let hits: u64 = (0..3).map(|c| confusion[c][c]).sum();
    let accuracy = evaluated["score"]["accuracy"].as_f64().unwrap();
    assert_eq!(hits as f64 / 240.0, accuracy);
    assert!(per_class["balanced_accuracy"].as_f64().unwrap() > 0.8);
    let log_loss = evaluated["log_loss"].as_f64().unwrap();
    assert!(log_loss > 0.0 && log_loss < 0.5, "{log_loss}");
    assert!(eval(&without)["log_loss"].is_null());
    // Where there are none, or none can be made: usage errors.
    let err = fails(
        &[
            "predict",
            "--model",
            path_str(&without),
            "--data",
            path_str(&train),
            "--label-column",
            "kind",
            "--probabilities",
        ],
        2,
    );
    assert!(err.contains("fitted without them"), "{err}");
    // A regression has no class probabilities.
    let model = dir.path().join("x.rks");
    let args = [
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&model),
        "--probabilities",
        "--task",
        "regression",
        "--label-column",
        "a",
    ];
    fails(&args, 2);
}

#[test]
fn columns_of_categories_in_a_csv_file_are_one_input_each() {
    let dir = TempDir::new().unwrap();
    // Class 1 exactly when the colour is red and the size above 0.5 (or the colour is blue).
    let rows = |n: usize, colours: &[&str]| {
        let mut text = String::from("size,colour,y\n");
        for i in 0..n {
            let size = (i * 37 % 100) as f64 / 100.0;
            let colour = colours[i % colours.len()];
            let y = u8::from((colour == "red" && size > 0.5) || colour == "blue");
            text.push_str(&format!("{size},\"{colour}\",{y}\n"));
        }
        text
    };
    let train = dir.path().join("train.csv");
    std::fs::write(&train, rows(300, &["red", "green", "blue"])).unwrap();
    let test = dir.path().join("test.csv");
    std::fs::write(&test, rows(90, &["red", "green", "blue"])).unwrap();
    let model = dir.path().join("m.rks");
    let flags = ["--label-column", "y", "--frequencies", "128"];
    let mut fit_args = vec![
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&model),
    ];
    fit_args.extend_from_slice(&flags);
    let report = json(&fit_args);
    assert_eq!(report["model"]["input_dim"], 4);
    assert!(report["note"].is_null(), "{report}");
    assert_eq!(
        report["model"]["input_categories"],
        serde_json::json!([null, ["red", "green", "blue"]])
    );
    assert!(ok(&fit_args).contains("(1 of 2 columns as categories)"));
    let scored = |file: &Path| {
        json(&[
            "eval",
            "--model",
            path_str(&model),
            "--test",
            path_str(file),
            "--label-column",
            "y",
        ])["score"]["accuracy"]
            .as_f64()
            .unwrap()
    };
    let accuracy = scored(&test);
    assert!(accuracy > 0.95, "{accuracy}");
    // A colour the model never saw is no error (its indicators are all 0: the rks-data unit
    // test `columns_of_text_are_categories_one_feature_each`): every row is scored.
    let unseen = dir.path().join("unseen.csv");
    std::fs::write(&unseen, rows(30, &["purple"])).unwrap();
    let report = json(&[
        "eval",
        "--model",
        path_str(&model),
        "--test",
        path_str(&unseen),
        "--label-column",
        "y",
    ]);
    assert_eq!(report["rows"], 30, "{report}");
    // Streamed: the categories read first, the same inputs.
    let streamed = dir.path().join("s.rks");
    let mut stream_args = vec![
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&streamed),
    ];
    stream_args.extend_from_slice(&flags);
    stream_args.extend_from_slice(&["--stream", "--chunk-rows", "7"]);
    let report = json(&stream_args);
    assert_eq!(
        report["model"]["input_categories"],
        serde_json::json!([null, ["red", "green", "blue"]])
    );
    // A missing value stays an error, with its place.
    let missing = dir.path().join("missing.csv");
    std::fs::write(&missing, "size,colour,y\n0.5,red,1\n0.2,NA,0\n").unwrap();
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&missing),
            "--model",
            path_str(&dir.path().join("x.rks")),
            "--label-column",
            "y",
        ],
        1,
    );
    assert!(
        err.contains("missing.csv:3:5: missing value 'NA' in column 'colour'"),
        "{err}"
    );
}

#[test]
fn deep_fried_trains_and_evaluates() {
    let (train, test) = (
        dataset("breast_cancer.train"),
        dataset("breast_cancer.test"),
    );
    let report = json(&[
        "net",
        "--train",
        path_str(&train),
        "--test",
        path_str(&test),
        "--width",
        "64",
        "--epochs",
        "30",
    ]);
    assert_eq!(report["layer"], "adaptive");
    assert_eq!(report["epochs_run"], 30);
    // Seeds 0–5 reach 0.939–0.965 (majority class 0.63).
    assert!(report["test_accuracy"].as_f64().unwrap() > 0.9, "{report}");
}

#[test]
fn deep_fried_lenet_trains_on_idx_files_and_saves() {
    let dir = TempDir::new().unwrap();
    let saved = dir.path().join("lenet.rksnet");
    let report = json(&[
        "deep-fried",
        "--arch",
        "lenet",
        "--idx",
        path_str(&dataset("mnist-slice")),
        "--layer",
        "adaptive",
        "--width",
        "1024",
        "--epochs",
        "2",
        "--save",
        path_str(&saved),
    ]);
    assert_eq!(report["paper_parameters"], 38_812);
    assert!(report["parameters"].as_u64().unwrap() > 38_812);
    assert!(report["seconds"].as_f64().unwrap() > 0.0);
    // 500 training images, 2 epochs: far above chance (0.1) on the 200 test images.
    assert!(report["test_accuracy"].as_f64().unwrap() > 0.6, "{report}");
    let net = rks_layers::ConvNet::load(&saved).unwrap();
    assert_eq!(net.n_paper_parameters(), 38_812);
    // Written in this build's format (version 3: the whole network in f32, as it trained).
    let bytes = std::fs::read(&saved).unwrap();
    assert_eq!(bytes[8..12], 3u32.to_le_bytes());
    assert_eq!(rks_layers::persist::FORMAT_VERSION, 3);
    let err = fails(&["deep-fried", "--arch", "lenet", "--width", "8"], 2);
    assert!(err.contains("--train") || err.contains("--idx"), "{err}");
    let err = fails(
        &[
            "deep-fried",
            "--arch",
            "lenet",
            "--idx",
            path_str(dir.path()),
        ],
        1,
    );
    assert!(err.contains("train-images-idx3-ubyte"), "{err}");
}

#[test]
fn a_malformed_libsvm_line_names_its_line_and_column() {
    let dir = TempDir::new().unwrap();
    let bad = dir.path().join("bad.svm");
    std::fs::write(&bad, "1 1:0.5 2:1\n0 1:0.25 2:zero\n1 2:3\n").unwrap();
    let model = dir.path().join("m.rks");
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&bad),
            "--model",
            path_str(&model),
        ],
        1,
    );
    // Line 2, column 12: where the value "zero" starts.
    let expected = format!("error: {}:2:12: ", bad.display());
    assert!(err.starts_with(&expected), "{err}");
    assert!(err.contains("zero"), "{err}");
    assert!(!model.exists());
}

#[test]
fn missing_files_are_data_errors() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nope.train");
    let model = dir.path().join("m.rks");
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&missing),
            "--model",
            path_str(&model),
        ],
        1,
    );
    assert!(err.contains("nope.train"), "{err}");
}

#[test]
fn a_truncated_model_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let model = fit(&dir, "breast_cancer.train", &["--frequencies", "32"]);
    let bytes = std::fs::read(&model).unwrap();
    let cut = dir.path().join("cut.rks");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let test = dataset("breast_cancer.test");
    let err = fails(
        &["eval", "--model", path_str(&cut), "--test", path_str(&test)],
        1,
    );
    assert!(
        err.contains("cut.rks") && err.contains("truncated or corrupted"),
        "{err}"
    );
    let err = fails(
        &[
            "predict",
            "--model",
            path_str(&test),
            "--data",
            path_str(&test),
        ],
        1,
    );
    assert!(err.contains("not an rks model"), "{err}");
}

#[test]
fn bad_flags_exit_with_2() {
    let train = dataset("breast_cancer.train");
    let train = path_str(&train);
    fails(&["fit", "--train", train], 2);
    fails(
        &["fit", "--train", train, "--model", "m", "--no-such-flag"],
        2,
    );
    fails(
        &[
            "fit", "--train", train, "--model", "m", "--sigma", "1", "--gamma", "2",
        ],
        2,
    );
    fails(
        &["fit", "--train", train, "--model", "m", "--map", "sparse"],
        2,
    );
    fails(
        &[
            "fit", "--train", train, "--model", "m", "--solver", "ridge", "--c", "1",
        ],
        2,
    );
    fails(&["fit", "--train", train, "--model", "m", "--sigma=-1"], 2);
    // Widths whose γ = 1/(2σ²) is not a positive finite number: 2σ² underflows (the kernel of a
    // row with itself would be 0/0) or overflows (a constant kernel).
    for width in ["--sigma=1e-300", "--sigma=1e300", "--gamma=1e-320"] {
        fails(&["fit", "--train", train, "--model", "m", width], 2);
    }
    fails(
        &[
            "fit",
            "--train",
            train,
            "--model",
            "m",
            "--label-column",
            "y",
        ],
        2,
    );
    let diabetes = dataset("diabetes.train");
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&diabetes),
            "--model",
            "m",
            "--solver",
            "svm",
        ],
        2,
    );
    assert!(err.contains("--solver ridge"), "{err}");
    fails(
        &[
            "compare",
            "--train",
            train,
            "--test",
            train,
            "--frequencies",
            "0",
        ],
        2,
    );
    fails(&["tune", "--train", train, "--folds", "1"], 2);
    fails(&["no-such-command"], 2);
}

#[test]
fn every_subcommand_has_help() {
    for command in [
        "fit",
        "predict",
        "eval",
        "compare",
        "tune",
        "deep-fried",
        "net",
        "info",
    ] {
        let text = ok(&[command, "--help"]);
        assert!(text.contains("Usage: rks "), "{command}: {text}");
    }
    let text = ok(&["--help"]);
    for command in [
        "fit",
        "predict",
        "eval",
        "compare",
        "tune",
        "deep-fried",
        "info",
    ] {
        assert!(text.contains(command), "{text}");
    }
}

#[test]
fn without_a_command_outside_the_workspace_it_says_what_is_missing() {
    let dir = TempDir::new().unwrap();
    let out = cargo_bin_cmd!("rks")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("datasets/digits.train") && err.contains("workspace root"),
        "{err}"
    );
}

#[test]
fn a_streamed_fit_predicts_as_the_in_memory_fit() {
    let dir = TempDir::new().unwrap();
    let test = dataset("spam.test");
    // The streamed fit keeps the map it is given (Nyström needs the rows in memory).
    let flags = [
        "--frequencies",
        "128",
        "--lambda",
        "0.01",
        "--seed",
        "3",
        "--map",
        "fastfood",
    ];
    let predictions = |model: &Path| {
        ok(&[
            "predict",
            "--model",
            path_str(model),
            "--data",
            path_str(&test),
        ])
    };
    let whole = fit(&dir, "spam.train", &flags);
    let expected = predictions(&whole);
    let streamed_dir = TempDir::new().unwrap();
    let mut streamed_flags = flags.to_vec();
    // Chunks that do not divide the 3,680 rows, and no --task: the labels are scanned.
    streamed_flags.extend(["--stream", "--chunk-rows", "700"]);
    let streamed = fit(&streamed_dir, "spam.train", &streamed_flags);
    let got = predictions(&streamed);
    let (expected, got): (Vec<&str>, Vec<&str>) =
        (expected.lines().collect(), got.lines().collect());
    assert_eq!(got.len(), 921);
    let differ = expected.iter().zip(&got).filter(|(a, b)| a != b).count();
    // Same map, scaler and λ: only the summation order of the ridge statistics differs.
    assert!(differ <= 4, "{differ} of 921 predictions differ");
    let accuracy = |model: &Path| {
        eval(model, "spam.test")["score"]["accuracy"]
            .as_f64()
            .unwrap()
    };
    let (whole, streamed) = (accuracy(&whole), accuracy(&streamed));
    assert!((whole - streamed).abs() <= 0.005, "{whole} vs {streamed}");
    assert!(streamed > 0.85, "{streamed}");
}

#[test]
fn a_streamed_fit_names_a_broken_line_far_into_the_file() {
    let dir = TempDir::new().unwrap();
    let bad = dir.path().join("bad.svm");
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!("{} 1:{} 2:{}\n", i % 2, i, 40 - i));
    }
    text.push_str("1 1:0.5 2:x\n0 1:1 2:2\n");
    std::fs::write(&bad, text).unwrap();
    let model = dir.path().join("m.rks");
    let train = path_str(&bad);
    let out = path_str(&model);
    // With the width and the task given there is no preliminary scan: the fit itself meets the
    // line, in its sixth chunk; without them the scan does. Either way: line 41, column 11.
    let expected = format!("error: {train}:41:11: ");
    for extra in [
        &["--features", "2", "--task", "classification"][..],
        &[][..],
    ] {
        let mut args = vec![
            "fit",
            "--train",
            train,
            "--model",
            out,
            "--stream",
            "--chunk-rows",
            "8",
            "--frequencies",
            "8",
        ];
        args.extend_from_slice(extra);
        let err = fails(&args, 1);
        assert!(err.starts_with(&expected), "{err}");
        assert!(!model.exists());
    }
}

#[test]
fn streaming_the_svm_is_a_usage_error() {
    let train = dataset("breast_cancer.train");
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&train),
            "--model",
            "m",
            "--stream",
            "--solver",
            "svm",
        ],
        2,
    );
    assert!(err.contains("--stream fits ridge only"), "{err}");
    fails(
        &[
            "fit",
            "--train",
            path_str(&train),
            "--model",
            "m",
            "--chunk-rows",
            "10",
        ],
        2,
    );
}

/// `--map linear` alone means the linear kernel; the model is the rows themselves (σ = 1, d
/// features), and `tune` searches its regularisation only (σ = 1).
#[test]
fn the_linear_map_takes_the_linear_kernel_by_default() {
    let dir = TempDir::new().unwrap();
    let model = fit(&dir, "breast_cancer.train", &["--map", "linear"]);
    let report = eval(&model, "breast_cancer.test");
    assert_eq!(report["model"]["map"], "linear", "{report}");
    assert_eq!(report["model"]["kernel"], "linear", "{report}");
    assert_eq!(report["model"]["sigma"], 1.0, "{report}");
    assert_eq!(report["model"]["features"], 30, "{report}");
    assert!(
        report["score"]["accuracy"].as_f64().unwrap() > 0.9,
        "{report}"
    );
    let train = dataset("breast_cancer.train");
    let tuned = ok(&[
        "tune",
        "--train",
        path_str(&train),
        "--map",
        "linear",
        "--json",
    ]);
    let tuned: serde_json::Value = serde_json::from_str(&tuned).unwrap();
    let sigmas: Vec<f64> = tuned["grid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sigma"].as_f64().unwrap())
        .collect();
    assert!(
        !sigmas.is_empty() && sigmas.iter().all(|&s| s == 1.0),
        "{tuned}"
    );
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(&dir.path().join("refused.rks")),
            "--map",
            "fastfood",
            "--kernel",
            "linear",
        ],
        2,
    );
    assert!(
        err.contains("--kernel linear needs --map nystrom or linear"),
        "{err}"
    );
}

/// On sparse rows the default fit offers the linear SVM (a `linear` solver trial in the report);
/// `--no-linear` does not.
#[test]
fn sparse_rows_are_offered_the_linear_model_unless_told_not_to() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("bags.train");
    // 300 rows of 5 words among 200 columns; the class is whether word 0..50 outweighs 50..100.
    let mut text = String::new();
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for _ in 0..300 {
        let mut words: Vec<usize> = (0..5).map(|_| next() % 200).collect();
        words.sort_unstable();
        words.dedup();
        let score: i64 = words
            .iter()
            .map(|&w| i64::from(w < 50) - i64::from((50..100).contains(&w)))
            .sum();
        text.push_str(if score > 0 { "1" } else { "0" });
        for w in words {
            text.push_str(&format!(" {}:1", w + 1));
        }
        text.push('\n');
    }
    std::fs::write(&train, text).unwrap();
    let model = dir.path().join("bags.rks");
    let trials = |extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(&model),
            "--features",
            "200",
        ];
        args.extend_from_slice(extra);
        let report = json(&args);
        report["selection"]["solver_trials"]
            .as_array()
            .unwrap_or_else(|| panic!("{report}"))
            .iter()
            .map(|t| t["linear"].as_bool().unwrap_or(false))
            .collect::<Vec<bool>>()
    };
    assert_eq!(trials(&[]), [false, false, true]);
    assert_eq!(trials(&["--no-linear"]), [false, false]);
}

/// Writes `rows` LIBSVM rows of 5 words (value 1) among `cols` columns, drawn by a fixed LCG
/// from `seed`; the label is whether words in the first quarter of the columns outnumber those
/// in the second (`regression`: that difference plus a half, not a class).
fn write_bags(path: &Path, rows: usize, cols: usize, seed: u64, regression: bool) {
    let mut text = String::new();
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let quarter = cols / 4;
    for _ in 0..rows {
        let mut words: Vec<usize> = (0..5).map(|_| next() % cols).collect();
        words.sort_unstable();
        words.dedup();
        let score: i64 = words
            .iter()
            .map(|&w| i64::from(w < quarter) - i64::from((quarter..2 * quarter).contains(&w)))
            .sum();
        let label = match (regression, score > 0) {
            (true, _) => format!("{}.5", score),
            (false, true) => "1".into(),
            (false, false) => "0".into(),
        };
        text.push_str(&label);
        for w in words {
            text.push_str(&format!(" {}:1", w + 1));
        }
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn sparse_rows_fitted_by_the_linear_map_are_held_as_their_entries() {
    let dir = TempDir::new().unwrap();
    let (train, test) = (dir.path().join("bags.train"), dir.path().join("bags.test"));
    write_bags(&train, 1200, 400, 1, false);
    write_bags(&test, 400, 400, 2, false);
    let model = dir.path().join("bags.rks");
    let report = json(&[
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&model),
        "--features",
        "400",
        "--map",
        "linear",
    ]);
    let held = report["sparse"]
        .as_str()
        .unwrap_or_else(|| panic!("{report}"));
    assert!(held.ends_with("--map linear on sparse rows"), "{report}");
    assert_eq!(report["selection"]["c_trials"].as_array().unwrap().len(), 5);
    assert_eq!(report["model"]["map"], "linear", "{report}");
    let evaluated = json(&[
        "eval",
        "--model",
        path_str(&model),
        "--test",
        path_str(&test),
    ]);
    let accuracy = evaluated["score"]["accuracy"].as_f64().unwrap();
    // A linear truth on 5 words a row: stated margin, 85 % of held-out rows.
    assert!(accuracy > 0.85, "{evaluated}");
    let predicted = ok(&[
        "predict",
        "--model",
        path_str(&model),
        "--data",
        path_str(&test),
    ]);
    let labels: Vec<String> = std::fs::read_to_string(&test)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    let right = predicted
        .lines()
        .zip(&labels)
        .filter(|(p, l)| p == l)
        .count();
    assert_eq!(predicted.lines().count(), 400);
    assert_eq!(right as f64 / 400.0, accuracy);
    // Dense rows with --map linear are fitted dense, as from a CSV file (with the solver choice).
    let breast = dataset("breast_cancer.train");
    let report = json(&[
        "fit",
        "--train",
        path_str(&breast),
        "--model",
        path_str(&model),
        "--map",
        "linear",
    ]);
    assert!(report.get("sparse").is_none(), "{report}");
    assert_eq!(
        report["selection"]["solver_trials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// `--weights` on rows held as their entries (the linear SVM for classes, ridge for values):
/// rows of weight 0 are the file without them, byte for byte, and the report has both.
#[test]
fn sparse_rows_take_row_weights() {
    let dir = TempDir::new().unwrap();
    for regression in [false, true] {
        let (train, rest) = (dir.path().join("bags.train"), dir.path().join("rest.train"));
        write_bags(&train, 600, 400, 4, regression);
        let lines: Vec<String> = std::fs::read_to_string(&train)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        std::fs::write(&rest, lines[20..].join("\n") + "\n").unwrap();
        let (weights, rest_weights) = (dir.path().join("w.txt"), dir.path().join("rw.txt"));
        let weight = |i: usize| {
            if i < 20 {
                "0\n"
            } else if i.is_multiple_of(2) {
                "3\n"
            } else {
                "0.5\n"
            }
        };
        std::fs::write(&weights, (0..600).map(weight).collect::<String>()).unwrap();
        std::fs::write(&rest_weights, (20..600).map(weight).collect::<String>()).unwrap();
        let fit = |train: &Path, weights: &Path, model: &Path| {
            json(&[
                "fit",
                "--train",
                path_str(train),
                "--model",
                path_str(model),
                "--features",
                "400",
                "--map",
                "linear",
                "--weights",
                path_str(weights),
            ])
        };
        let (a, b) = (dir.path().join("a.rks"), dir.path().join("b.rks"));
        let report = fit(&train, &weights, &a);
        assert!(report["sparse"].is_string(), "{report}");
        assert_eq!(report["weights"]["rows_left_out"], 20);
        let notes = report["selection"]["notes"].to_string();
        assert!(notes.contains("sample weights"), "{notes}");
        fit(&rest, &rest_weights, &b);
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{regression}"
        );
    }
}

/// A file whose rows dense would take terabytes is fitted on its entries (classes by the SVM,
/// values by ridge); a map or a solver that needs the rows dense is a clear error.
#[test]
fn a_file_too_wide_to_hold_dense_is_fitted_on_its_entries() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("wide.train");
    // 100,000 rows of 1,000,000 columns: 800 GB dense.
    write_bags(&train, 100_000, 1_000_000, 3, false);
    let model = dir.path().join("wide.rks");
    let args = |extra: &[&'static str]| {
        let mut args = vec![
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(&model),
        ];
        args.extend_from_slice(extra);
        args
    };
    let report = json(&args(&[]));
    let held = report["sparse"]
        .as_str()
        .unwrap_or_else(|| panic!("{report}"));
    assert!(held.contains("the rows dense would take 800"), "{report}");
    assert_eq!(report["model"]["map"], "linear", "{report}");
    let err = fails(&args(&["--map", "fastfood"]), 1);
    assert!(err.contains("800.0 GB"), "{err}");
    let err = fails(&args(&["--solver", "ridge"]), 1);
    assert!(err.contains("800.0 GB"), "{err}");
    assert!(
        err.contains("ridge on classes needs the rows dense"),
        "{err}"
    );
    write_bags(&train, 100_000, 1_000_000, 3, true);
    let report = json(&args(&[]));
    assert_eq!(report["model"]["task"], "regression", "{report}");
    assert_eq!(report["model"]["solver"], "ridge", "{report}");
    assert!(
        report["sparse"].as_str().unwrap().contains("800"),
        "{report}"
    );
    let trials = report["selection"]["solver_trials"].as_array().unwrap();
    assert_eq!(trials.len(), 7, "{report}");
}

#[test]
fn matern_kernels_fit_and_the_laplacian_needs_the_dense_map() {
    let dir = TempDir::new().unwrap();
    let model = fit(
        &dir,
        "breast_cancer.train",
        &["--kernel", "matern32", "--frequencies", "128"],
    );
    let report = eval(&model, "breast_cancer.test");
    assert_eq!(report["model"]["kernel"], "matern32", "{report}");
    assert!(
        report["score"]["accuracy"].as_f64().unwrap() > 0.9,
        "{report}"
    );
    let train = dataset("breast_cancer.train");
    let refused = dir.path().join("laplacian.rks");
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(&refused),
            "--kernel",
            "laplacian",
            "--map",
            "fastfood",
        ],
        2,
    );
    assert!(
        err.contains("--kernel laplacian needs --map dense"),
        "{err}"
    );
    assert!(!refused.exists());
    let err = fails(
        &[
            "compare",
            "--train",
            path_str(&train),
            "--test",
            path_str(&train),
            "--kernel",
            "laplacian",
        ],
        2,
    );
    assert!(
        err.contains("--kernel laplacian needs --map dense"),
        "{err}"
    );
    let dense = fit(
        &dir,
        "breast_cancer.train",
        &[
            "--kernel",
            "laplacian",
            "--map",
            "dense",
            "--frequencies",
            "64",
        ],
    );
    assert_eq!(
        eval(&dense, "breast_cancer.test")["model"]["kernel"],
        "laplacian"
    );
}

#[cfg(unix)]
#[test]
fn saving_a_model_through_a_link_writes_its_target_and_keeps_the_link() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("kept.rks");
    let link = dir.path().join("link.rks");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let train = dataset("breast_cancer.train");
    ok(&[
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&link),
        "--frequencies",
        "16",
    ]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        eval(&target, "breast_cancer.test")["score"]["accuracy"]
            .as_f64()
            .unwrap()
            > 0.8
    );
}

#[cfg(unix)]
#[test]
fn saving_a_model_never_replaces_what_is_not_a_regular_file() {
    use std::os::unix::fs::FileTypeExt;
    let dir = TempDir::new().unwrap();
    // A socket stands for a device node such as /dev/full (which only root can make).
    let socket = dir.path().join("model.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let train = dataset("breast_cancer.train");
    let err = fails(
        &[
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(&socket),
            "--frequencies",
            "16",
        ],
        1,
    );
    assert!(err.contains("not a regular file"), "{err}");
    assert!(
        std::fs::symlink_metadata(&socket)
            .unwrap()
            .file_type()
            .is_socket()
    );
}

/// The tool under a 4 GiB address-space limit (`ulimit -v`), for the allocation checks.
#[cfg(target_os = "linux")]
fn under_4_gib() -> std::process::Command {
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -v 4194304 && exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_rks"));
    command
}

/// Under a 4 GiB address-space limit, features of 455 rows × 10⁷ columns (36 GB) cannot be
/// allocated, nor can ORF's parameters at n = 10⁶, d = 784: typed errors naming the parameter
/// and the bytes, not an abort.
#[cfg(target_os = "linux")]
#[test]
fn too_many_frequencies_for_the_memory_is_an_error_not_an_abort() {
    let dir = TempDir::new().unwrap();
    let model = dir.path().join("m.rks");
    let train = dataset("breast_cancer.train");
    let out = under_4_gib()
        .args([
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(&model),
        ])
        .args(["--frequencies", "5000000"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bytes") && err.contains("frequencies"),
        "{err}"
    );
    assert!(!model.exists());

    // Three rows of 784 columns: the features are small (48 MB), but ORF's 10⁶ × 784 matrix is
    // not (15.7 GB with its f32 copy and its drawing): the map's parameters are probed first.
    let wide = dir.path().join("wide.train");
    let row = |label: usize| format!("{label} 1:0.5 300:0.25 784:1\n");
    std::fs::write(&wide, row(0) + &row(1) + &row(0)).unwrap();
    let out = under_4_gib()
        .args([
            "fit",
            "--train",
            path_str(&wide),
            "--model",
            path_str(&model),
        ])
        .args(["--map", "orf", "--frequencies", "1000000", "--no-select"])
        .args(["--sigma", "1", "--lambda", "1"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the map's parameters") && err.contains("--frequencies"),
        "{err}"
    );
    assert!(!model.exists());
}

/// `rks deep-fried` sizes its hidden layer by `--width`: a dense layer of 10⁸ units (208 GB of
/// weights, gradients and optimiser state) under a 4 GiB limit is an error naming `--width`, not
/// an abort, and the layers' other parameters are named by their flags too.
#[cfg(target_os = "linux")]
#[test]
fn deep_fried_names_its_flags_and_refuses_layers_beyond_memory() {
    let (train, test) = (dataset("digits.train"), dataset("digits.test"));
    let out = under_4_gib()
        .args([
            "deep-fried",
            "--train",
            path_str(&train),
            "--test",
            path_str(&test),
        ])
        .args(["--layer", "dense", "--width", "100000000", "--epochs", "1"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bytes") && err.contains("lower --width"),
        "{err}"
    );
    for (flag, value, expected) in [
        ("--batch-size", "0", "invalid --batch-size"),
        ("--width", "1000000000", "invalid --width"),
        ("--learning-rate=-1", "", "invalid --learning-rate"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rks"))
            .args([
                "deep-fried",
                "--train",
                path_str(&train),
                "--test",
                path_str(&test),
            ])
            .args(["--epochs", "1", flag])
            .args((!value.is_empty()).then_some(value))
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(expected), "{flag}: {err}");
    }
}

#[test]
fn deep_fried_refuses_the_flags_of_the_other_architecture() {
    let (train, test, idx) = (
        dataset("digits.train"),
        dataset("digits.test"),
        dataset("mnist-slice"),
    );
    for (flag, value) in [
        ("--dropout", "0.5"),
        ("--momentum", "0.5"),
        ("--weight-decay", "0"),
        ("--train-limit", "10"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rks"))
            .args(["deep-fried", "--arch", "mlp", "--train"])
            .args([path_str(&train), "--test", path_str(&test)])
            .args(["--epochs", "1", flag, value])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(
            err.contains(&format!("{flag} is read by --arch lenet only")),
            "{err}"
        );
    }
    for (flag, value) in [("--validation", "0.2"), ("--scaler", "minmax")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rks"))
            .args(["deep-fried", "--arch", "lenet", "--idx", path_str(&idx)])
            .args(["--epochs", "1", flag, value])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(
            err.contains(&format!("{flag} is read by --arch mlp only")),
            "{err}"
        );
    }
}

#[test]
fn finite_values_near_the_largest_double_are_scaled_not_reported_as_nan() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("huge.train");
    let rows: String = (0..40)
        .map(|i| {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            let x = sign * (1.0 + i as f64 / 40.0) * 1e307;
            format!("{} 1:{x:e} 2:{}\n", i % 2, i % 5)
        })
        .collect();
    std::fs::write(&train, rows).unwrap();
    let model = dir.path().join("m.rks");
    for scaler in ["standard", "minmax"] {
        ok(&[
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(&model),
            "--frequencies",
            "16",
            "--scaler",
            scaler,
        ]);
        let report = json(&[
            "eval",
            "--model",
            path_str(&model),
            "--test",
            path_str(&train),
        ]);
        assert!(
            report["score"]["accuracy"].as_f64().unwrap() > 0.9,
            "{scaler}: {report}"
        );
    }
}

#[test]
fn fit_with_the_svm_reports_the_c_it_chose_by_cross_validation() {
    let train = dataset("breast_cancer.train");
    let dir = TempDir::new().unwrap();
    let model = dir.path().join("model.rks");
    let args = |extra: &[&'static str]| {
        let mut all = vec![
            "fit".to_owned(),
            "--train".into(),
            path_str(&train).into(),
            "--model".into(),
            path_str(&model).into(),
            "--frequencies".into(),
            "64".into(),
            "--solver".into(),
            "svm".into(),
        ];
        all.extend(extra.iter().map(|s| s.to_string()));
        all
    };
    let run = |extra: &[&'static str]| {
        let all = args(extra);
        json(&all.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let report = run(&[]);
    let selection = &report["selection"];
    let c = selection["c"].as_f64().unwrap();
    assert_eq!(report["model"]["c"].as_f64().unwrap(), c);
    let trials = selection["c_trials"].as_array().unwrap();
    assert_eq!(trials.len(), 5, "{selection}");
    assert!(trials.iter().any(|t| t["value"].as_f64() == Some(c)));
    // The text report lists the C trials; a given C is kept and not searched.
    let all = args(&[]);
    let text = ok(&all.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        text.contains("svm: C = ") && text.contains("3-fold CV error"),
        "{text}"
    );
    let given = run(&["--c", "3"]);
    assert_eq!(given["model"]["c"].as_f64().unwrap(), 3.0);
    assert!(given["selection"].get("c_trials").is_none());
}

#[test]
fn the_default_fit_chooses_between_ridge_and_the_svm_by_the_same_score() {
    let dir = TempDir::new().unwrap();
    let train = dataset("breast_cancer.train");
    let model = dir.path().join("model.rks");
    let report = json(&[
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&model),
        "--frequencies",
        "64",
    ]);
    let trials = report["selection"]["solver_trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2);
    assert_eq!(
        (&trials[0]["solver"], &trials[1]["solver"]),
        (&"Ridge".into(), &"Svm".into())
    );
    assert_eq!(trials[0]["rows"], trials[1]["rows"]);
    let (ridge, svm) = (
        trials[0]["score"]["error"].as_f64().unwrap(),
        trials[1]["score"]["error"].as_f64().unwrap(),
    );
    let chosen = report["model"]["solver"].as_str().unwrap();
    // The SVM replaces ridge only when its error is clearly lower (by more than one standard
    // error of ridge's): never when it is not lower.
    if chosen == "svm" {
        assert!(svm < ridge, "the SVM kept at {svm} against ridge's {ridge}");
    }
    if ridge <= svm {
        assert_eq!(chosen, "ridge");
    }
    let notes = report["selection"]["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("solver: ")),
        "{notes:?}"
    );
}

#[test]
fn the_svm_search_writes_the_same_model_for_any_thread_count() {
    for solver in [&["--solver", "svm"][..], &[]] {
        let models: Vec<Vec<u8>> = ["1", "2", "3"]
            .iter()
            .map(|threads| {
                let dir = TempDir::new().unwrap();
                let mut extra = vec!["--frequencies", "64", "--threads", threads];
                extra.extend_from_slice(solver);
                std::fs::read(fit(&dir, "breast_cancer.train", &extra)).unwrap()
            })
            .collect();
        assert!(
            models[0] == models[1] && models[1] == models[2],
            "{solver:?}"
        );
    }
}

#[test]
fn tune_runs_the_fits_cross_validation() {
    let train = dataset("breast_cancer.train");
    let dir = TempDir::new().unwrap();
    let model = dir.path().join("model.rks");
    let tuned = json(&[
        "tune",
        "--train",
        path_str(&train),
        "--frequencies",
        "64",
        "--solver",
        "svm",
        "--cs",
        "0.1,10",
    ]);
    let fitted = json(&[
        "fit",
        "--train",
        path_str(&train),
        "--model",
        path_str(&model),
        "--frequencies",
        "64",
        "--solver",
        "svm",
    ]);
    // The same seeded rows give the median-heuristic σ of both.
    assert_eq!(tuned["median_sigma"], fitted["selection"]["median_sigma"]);
    // No point's mean accuracy beats the best's by more than one binomial standard error on
    // the rows (closer rates tie, and the squared error decides: `LooScore::better_than`), and
    // both C values were cross-validated at every σ of the default grid.
    let best = &tuned["best"];
    let mean = |p: &Value| p["mean"].as_f64().unwrap();
    let mse = |p: &Value| p["mse"].as_f64().unwrap();
    let rows = tuned["rows"].as_f64().unwrap();
    let grid = tuned["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 10);
    for p in grid {
        let error = 1.0 - mean(p).min(mean(best));
        let se = (error * (1.0 - error) / rows).sqrt();
        assert!(mean(p) - mean(best) <= se, "{p} against {best}");
        assert!(
            mean(p) <= mean(best) || mse(p) >= mse(best),
            "{p} against {best}"
        );
    }
    // A grid restricted to nothing, or to invalid values, is a usage error.
    let t = path_str(&train);
    fails(&["tune", "--train", t, "--cs", "-1"], 2);
    fails(&["tune", "--train", t, "--cs", "0,-2"], 2);
    fails(&["tune", "--train", t, "--cs", ""], 2);
    fails(&["tune", "--train", t, "--lambdas", "nan"], 2);
    fails(
        &["tune", "--train", t, "--sigmas", "0", "--lambdas", "1"],
        2,
    );
}

#[test]
fn a_class_smaller_than_the_folds_is_stated_and_a_zero_budget_is_refused() {
    let dir = TempDir::new().unwrap();
    // Three rows of a third class, tuned with five folds.
    let train = dir.path().join("thin.libsvm");
    let mut text = std::fs::read_to_string(dataset("breast_cancer.train")).unwrap();
    text.push_str("2 1:10 2:20\n2 1:11 2:21\n2 1:12 2:19\n");
    std::fs::write(&train, text).unwrap();
    let tuned = json(&[
        "tune",
        "--train",
        path_str(&train),
        "--frequencies",
        "32",
        "--folds",
        "5",
        "--sigmas",
        "1",
        "--lambdas",
        "1",
    ]);
    let notes = tuned["notes"].as_array().unwrap();
    assert!(
        notes[0].as_str().unwrap().contains("class 2 (3 rows)"),
        "{notes:?}"
    );
    let model = dir.path().join("model.rks");
    for budget in ["0", "-1", "nan"] {
        fails(
            &[
                "fit",
                "--train",
                path_str(&train),
                "--model",
                path_str(&model),
                "--budget",
                budget,
            ],
            2,
        );
    }
}

/// A regression whose target depends on the first of five columns, as LIBSVM text: rows `from`
/// to `to` of one deterministic sequence.
fn one_relevant_column(from: usize, to: usize) -> String {
    let value =
        |i: usize, j: usize| (((i * 5 + j) as f64 * 12.9898).sin() * 43_758.545_3).rem_euclid(1.0);
    (from..to)
        .map(|i| {
            let y = (6.0 * value(i, 0)).sin();
            let x: Vec<String> = (0..5)
                .map(|j| format!("{}:{}", j + 1, value(i, j)))
                .collect();
            format!("{y} {}\n", x.join(" "))
        })
        .collect()
}

#[test]
fn compare_gives_every_map_the_first_fits_column_weights() {
    let dir = TempDir::new().unwrap();
    let (train, test) = (dir.path().join("a.train"), dir.path().join("a.test"));
    std::fs::write(&train, one_relevant_column(0, 300)).unwrap();
    std::fs::write(&test, one_relevant_column(300, 400)).unwrap();
    let report = json(&[
        "compare",
        "--train",
        path_str(&train),
        "--test",
        path_str(&test),
        "--frequencies",
        "512",
        "--maps",
        "fastfood,nystrom",
        "--task",
        "regression",
    ]);
    let relevance = &report["selection"]["relevance"];
    assert_eq!(relevance["kept"], true, "{relevance}");
    // Nyström with a landmark on every training row reproduces the kernel closely on test rows
    // scaled as its own training rows were: with the first fit's weights, as the first fit.
    let nystrom = &report["rows"][1];
    assert_eq!(nystrom["map"], "nystrom");
    let error = nystrom["kernel_error_mean"].as_f64().unwrap();
    assert!(error < 1e-2, "Nyström's mean kernel error {error}");
}

#[test]
fn compare_reports_the_search_of_its_first_fit() {
    let train = dataset("breast_cancer.train");
    let test = dataset("breast_cancer.test");
    let report = json(&[
        "compare",
        "--train",
        path_str(&train),
        "--test",
        path_str(&test),
        "--frequencies",
        "32,64",
        "--maps",
        "fastfood",
    ]);
    let selection = &report["selection"];
    let c = selection["c"].as_f64().unwrap();
    assert_eq!(selection["sigma"], report["sigma"]);
    for row in report["rows"].as_array().unwrap() {
        assert_eq!(row["c"].as_f64().unwrap(), c);
    }
    assert!(
        report["solver"]
            .as_str()
            .unwrap()
            .contains(&format!("C = {c}"))
    );
}

#[test]
fn class_weights_are_read_by_name_or_label_reported_streamed_and_checked() {
    let dir = TempDir::new().unwrap();
    let train = dir.path().join("named.csv");
    let names = ["same", "right", "left"];
    std::fs::write(&train, three_classes(|c| names[c].to_string())).unwrap();
    let model = dir.path().join("m.rks");
    let fit = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<&str> = vec![
            "fit",
            "--train",
            path_str(&train),
            "--model",
            path_str(&model),
            "--label-column",
            "kind",
            "--frequencies",
            "64",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_string).collect()
    };
    fn strs(args: &[String]) -> Vec<&str> {
        args.iter().map(String::as_str).collect()
    }
    // Balanced: N/(k·N_c) for each class, named as the file names them.
    let report = json(&strs(&fit(&["--class-weight", "balanced"])));
    let weights = report["model"]["class_weights"].as_array().unwrap();
    assert_eq!(weights.len(), 3);
    let labels = std::fs::read_to_string(&train).unwrap();
    for w in weights {
        let class = w["class"].as_str().unwrap();
        let count = labels
            .lines()
            .filter(|l| l.ends_with(&format!(",{class}")))
            .count();
        let expected = 240.0 / (3.0 * count as f64);
        assert!(
            (w["weight"].as_f64().unwrap() - expected).abs() < 1e-12,
            "{w}"
        );
    }
    let notes = report["selection"]["notes"].to_string();
    assert!(notes.contains("class weights (balanced"), "{notes}");
    // The model file keeps them: `rks info` shows them as the fit reported them.
    let info = json(&["info", "--model", path_str(&model)]);
    assert_eq!(
        info["model"]["class_weights"],
        report["model"]["class_weights"]
    );
    assert_eq!(info["file_version"], 6);
    let text = ok(&["info", "--model", path_str(&model)]);
    assert!(text.contains("class weights    same "), "{text}");
    // Given by name: the others weigh 1; the text report lists them.
    let text = ok(&strs(&fit(&["--class-weight", "left=3"])));
    let line = text.lines().find(|l| l.contains("class weights")).unwrap();
    for class in ["same 1.0000", "left 3.0000", "right 1.0000"] {
        assert!(line.contains(class), "{line}");
    }
    // Numeric labels: by value.
    let breast = dataset("breast_cancer.train");
    let numeric = json(&[
        "fit",
        "--train",
        path_str(&breast),
        "--model",
        path_str(&model),
        "--frequencies",
        "64",
        "--class-weight",
        "1=2",
    ]);
    assert_eq!(numeric["model"]["class_weights"][1]["weight"], 2.0);
    assert_eq!(numeric["model"]["class_weights"][0]["weight"], 1.0);
    // Usage errors: an unknown class, a bad weight or syntax, a regression.
    for flag in ["eggs=2", "left=0", "left", "left=2,left=3"] {
        let err = fails(&strs(&fit(&["--class-weight", flag])), 2);
        assert!(err.contains("--class-weight"), "{err}");
    }
    let base = [
        "fit",
        "--train",
        path_str(&breast),
        "--model",
        path_str(&model),
    ];
    for extra in [
        &["--class-weight", "7=2"][..],
        &["--class-weight", "balanced", "--task", "regression"],
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let err = fails(&args, 2);
        assert!(err.contains("--class-weight"), "{extra:?}: {err}");
    }
    // A streamed fit weighs the classes as resolved on every row (pass 1 counts them).
    let streamed = json(&[
        "fit",
        "--train",
        path_str(&breast),
        "--model",
        path_str(&model),
        "--frequencies",
        "64",
        "--stream",
        "--task",
        "classification",
        "--class-weight",
        "balanced",
    ]);
    let text = std::fs::read_to_string(&breast).unwrap();
    let zeros = text.lines().filter(|l| l.starts_with("0 ")).count() as f64;
    let rows = text.lines().count() as f64;
    let got = streamed["model"]["class_weights"][0]["weight"]
        .as_f64()
        .unwrap();
    assert!((got - rows / (2.0 * zeros)).abs() < 1e-12, "{got}");
    // tune weighs the folds and its fit command carries the flag.
    let tuned = json(&[
        "tune",
        "--train",
        path_str(&train),
        "--label-column",
        "kind",
        "--frequencies",
        "64",
        "--cs",
        "1",
        "--sigmas",
        "0.5",
        "--class-weight",
        "balanced",
    ]);
    assert!(
        tuned["fit_command"]
            .as_str()
            .unwrap()
            .ends_with("--class-weight balanced"),
        "{tuned}"
    );
}

#[test]
fn row_weights_are_read_from_a_file_reported_and_checked() {
    let dir = TempDir::new().unwrap();
    let train = dataset("breast_cancer.train");
    let lines: Vec<String> = std::fs::read_to_string(&train)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let rows = lines.len();
    // The first 10 rows weigh 0: the fit is the fit of the file without them, byte for byte.
    let weights = dir.path().join("w.txt");
    let text: String = (0..rows)
        .map(|i| if i < 10 { "0\n" } else { "1.5\n" })
        .collect();
    std::fs::write(&weights, text).unwrap();
    let rest = dir.path().join("rest.train");
    std::fs::write(&rest, lines[10..].join("\n") + "\n").unwrap();
    let (weighted, without) = (dir.path().join("w.rks"), dir.path().join("r.rks"));
    let fit = |train: &Path, model: &Path, extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--train",
            path_str(train),
            "--model",
            path_str(model),
            "--frequencies",
            "64",
            "--features",
            "30",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    fn strs(args: &[String]) -> Vec<&str> {
        args.iter().map(String::as_str).collect()
    }
    let report = json(&strs(&fit(
        &train,
        &weighted,
        &["--weights", path_str(&weights)],
    )));
    assert_eq!(report["weights"]["rows_left_out"], 10);
    assert_eq!(report["weights"]["total"], 1.5 * (rows - 10) as f64);
    let notes = report["selection"]["notes"].to_string();
    assert!(notes.contains("sample weights"), "{notes}");
    // Weights all 1.5 on the rest: its fit with those weights, not without (λ and C count them).
    let rest_weights = dir.path().join("rest-w.txt");
    std::fs::write(&rest_weights, "1.5\n".repeat(rows - 10)).unwrap();
    ok(&strs(&fit(
        &rest,
        &without,
        &["--weights", path_str(&rest_weights)],
    )));
    assert_eq!(
        std::fs::read(&weighted).unwrap(),
        std::fs::read(&without).unwrap()
    );
    // tune weighs the folds alike (the same grid scores), and its fit command carries the flag.
    let tune = |train: &Path, weights: &Path, grid: &[&str]| {
        let mut args = vec![
            "tune",
            "--train",
            path_str(train),
            "--features",
            "30",
            "--frequencies",
            "64",
            "--weights",
            path_str(weights),
        ];
        args.extend_from_slice(grid);
        json(&args)
    };
    let sigma = ["--cs", "1,10", "--sigmas", "0.5"];
    let (tuned, rest_tuned) = (
        tune(&train, &weights, &sigma),
        tune(&rest, &rest_weights, &sigma),
    );
    assert_eq!(tuned["grid"], rest_tuned["grid"]);
    // Without σ given, the relevance step: skipped under weights other than 0 and 1; with 0s
    // and 1s only, run on the rows of weight 1 unweighted, as the weighted fit does.
    let note = tune(&train, &weights, &["--cs", "1"])["relevance_note"].to_string();
    assert!(note.contains("sample weights"), "{note}");
    let zero_one = dir.path().join("zero-one.txt");
    let text: String = (0..rows)
        .map(|i| if i < 10 { "0\n" } else { "1\n" })
        .collect();
    std::fs::write(&zero_one, text).unwrap();
    let ones = dir.path().join("ones.txt");
    std::fs::write(&ones, "1\n".repeat(rows - 10)).unwrap();
    let (zero_one, rest_ones) = (
        tune(&train, &zero_one, &["--cs", "1"]),
        tune(&rest, &ones, &["--cs", "1"]),
    );
    assert_eq!(zero_one["grid"], rest_ones["grid"]);
    assert_eq!(
        zero_one["relevance"]["weights"],
        rest_ones["relevance"]["weights"]
    );
    let note = zero_one["relevance_note"].to_string();
    assert!(
        note.starts_with("\"relevance: ") && !note.contains("sample weights"),
        "{note}"
    );
    let command = tuned["fit_command"].as_str().unwrap();
    assert!(
        command.contains(&format!("--weights {}", path_str(&weights))),
        "{command}"
    );
    // A weights file that does not fit: the file, line and column; flags that cannot weigh.
    let cases = [
        (
            "1\n".repeat(rows - 1),
            format!(
                "ends after {} weights: training row {rows} has none",
                rows - 1
            ),
        ),
        ("1\n".repeat(rows + 1), format!("line {}", rows + 1)),
        (
            format!("1\n x\n{}", "1\n".repeat(rows - 2)),
            "line 2, column 2".into(),
        ),
        ("-1\n".repeat(rows), "line 1, column 1".into()),
    ];
    let streamed = ["--stream", "--task", "classification", "--chunk-rows", "50"];
    for (text, expected) in &cases {
        std::fs::write(&weights, text).unwrap();
        for extra in [&[][..], &streamed[..]] {
            let mut flags = vec!["--weights", path_str(&weights)];
            flags.extend_from_slice(extra);
            let err = fails(&strs(&fit(&train, &weighted, &flags)), 1);
            assert!(
                err.contains("w.txt") && err.contains(expected),
                "{extra:?}: {err}"
            );
        }
    }
    // Streamed: the weights file read in step with the chunks, the same model as the streamed
    // fit of the rest of the file with its weights.
    let text: String = (0..rows)
        .map(|i| if i < 10 { "0\n" } else { "1.5\n" })
        .collect();
    std::fs::write(&weights, text).unwrap();
    let mut flags = vec!["--weights", path_str(&weights)];
    flags.extend_from_slice(&streamed);
    let report = json(&strs(&fit(&train, &weighted, &flags)));
    assert_eq!(report["weights"]["rows_left_out"], 10);
    assert_eq!(report["weights"]["total"], 1.5 * (rows - 10) as f64);
    let mut flags = vec!["--weights", path_str(&rest_weights)];
    flags.extend_from_slice(&streamed);
    ok(&strs(&fit(&rest, &without, &flags)));
    assert_eq!(
        std::fs::read(&weighted).unwrap(),
        std::fs::read(&without).unwrap()
    );
    ok(&strs(&fit(&rest, &without, &streamed)));
    assert_ne!(
        std::fs::read(&weighted).unwrap(),
        std::fs::read(&without).unwrap(),
        "the weights count"
    );
}

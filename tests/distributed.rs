//! The same model file from `rks fit` in memory (primal form), `rks fit --stream` and, with the
//! `mpi` feature, `mpirun -n P rks fit --distributed`, byte for byte.
//!
//! The MPI tests run only in a build with `--features mpi` (`.ci/run` installs Open MPI and runs
//! them); a plain `cargo test` needs nothing but cargo.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

fn dataset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets")
        .join(name)
}

fn rks(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rks"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `rks fit` with `flags`, returning the model file's bytes.
fn fit_bytes(dir: &TempDir, name: &str, train: &Path, flags: &[&str]) -> Vec<u8> {
    let model = dir.path().join(name);
    let mut args: Vec<String> = vec![
        "fit".into(),
        "--train".into(),
        train.display().to_string(),
        "--model".into(),
        model.display().to_string(),
    ];
    args.extend(flags.iter().map(|s| s.to_string()));
    let out = rks(&args);
    assert!(
        out.status.success(),
        "rks {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(model).unwrap()
}

/// Flags of the fits compared: model selection on (σ and λ by leave-one-out), n given (so the
/// in-memory fit does not grow n within a time budget, which a streamed fit cannot).
// Ridge named: without solver flags an in-memory classification fit of few rows may choose the
// SVM, which cannot stream. Fastfood named: without a map an in-memory fit may choose Nyström,
// which a streamed fit does not (its landmarks are rows held in memory).
const CLASSIFY: [&str; 10] = [
    "--solver",
    "ridge",
    "--map",
    "fastfood",
    "--frequencies",
    "128",
    "--seed",
    "3",
    "--task",
    "classification",
];
const REGRESS: [&str; 8] = [
    "--frequencies",
    "64",
    "--map",
    "dense",
    "--seed",
    "5",
    "--task",
    "regression",
];

/// [`CLASSIFY`] with balanced class weights: pass 1 counts the classes, so every path resolves
/// the same weights.
fn balanced() -> Vec<&'static str> {
    [&CLASSIFY[..], &["--class-weight", "balanced"]].concat()
}

/// A CSV copy of a LIBSVM file (header `label,x1,...`), for the CSV path.
fn csv_copy(dir: &TempDir, libsvm: &Path, width: usize) -> PathBuf {
    csv_copy_labelled(dir, libsvm, width, "data.csv", str::to_string)
}

/// [`csv_copy`] named `name`, each label written as `label(label)` (class names, say).
fn csv_copy_labelled(
    dir: &TempDir,
    libsvm: &Path,
    width: usize,
    name: &str,
    label: impl Fn(&str) -> String,
) -> PathBuf {
    let text = std::fs::read_to_string(libsvm).unwrap();
    let mut csv = String::from("label");
    for j in 1..=width {
        csv.push_str(&format!(",x{j}"));
    }
    csv.push('\n');
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let mut row = vec!["0".to_string(); width + 1];
        row[0] = label(fields.next().unwrap());
        for f in fields {
            let (i, v) = f.split_once(':').unwrap();
            row[i.parse::<usize>().unwrap()] = v.to_string();
        }
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    let path = dir.path().join(name);
    std::fs::write(&path, csv).unwrap();
    path
}

/// Breast cancer as CSV with the classes named ("malignant" first, as in the file's first row).
fn named_breast_cancer(dir: &TempDir) -> PathBuf {
    let name = |label: &str| if label == "0" { "malignant" } else { "benign" }.to_string();
    csv_copy_labelled(dir, &dataset("breast_cancer.train"), 30, "named.csv", name)
}

#[test]
fn in_memory_and_streamed_fits_write_the_same_model_bytes() {
    let dir = TempDir::new().unwrap();
    let spam = dataset("spam.train");
    let whole = fit_bytes(&dir, "whole.rks", &spam, &CLASSIFY);
    let mut streamed = CLASSIFY.to_vec();
    streamed.extend(["--stream", "--chunk-rows", "700"]);
    assert_eq!(fit_bytes(&dir, "streamed.rks", &spam, &streamed), whole);

    let diabetes = csv_copy(&dir, &dataset("diabetes.train"), 10);
    let whole = fit_bytes(&dir, "whole.rks", &diabetes, &REGRESS);
    let mut streamed = REGRESS.to_vec();
    streamed.extend(["--stream", "--chunk-rows", "33"]);
    assert_eq!(fit_bytes(&dir, "streamed.rks", &diabetes, &streamed), whole);

    // Class names: learned before the passes, coded alike in every one.
    let named = named_breast_cancer(&dir);
    let whole = fit_bytes(&dir, "whole.rks", &named, &CLASSIFY);
    let mut streamed = CLASSIFY.to_vec();
    streamed.extend(["--stream", "--chunk-rows", "50"]);
    assert_eq!(fit_bytes(&dir, "streamed.rks", &named, &streamed), whole);
    let model = rks_solvers::KernelMachine::from_bytes(&whole).unwrap();
    assert_eq!(model.class_names().unwrap(), ["malignant", "benign"]);

    // Class weights, balanced or given by name: weighted exact statistics, the same bytes.
    for flags in [
        balanced(),
        [&CLASSIFY[..], &["--class-weight", "malignant=3"]].concat(),
    ] {
        let whole = fit_bytes(&dir, "whole.rks", &named, &flags);
        let mut streamed = flags.clone();
        streamed.extend(["--stream", "--chunk-rows", "50"]);
        assert_eq!(
            fit_bytes(&dir, "streamed.rks", &named, &streamed),
            whole,
            "{flags:?}"
        );
        let plain = fit_bytes(&dir, "plain.rks", &named, &CLASSIFY);
        assert_ne!(plain, whole, "{flags:?}: the weights change the model");
    }
}

#[cfg(feature = "mpi")]
mod mpi {
    use super::*;
    use std::time::{Duration, Instant};

    /// `mpirun -n ranks rks args…` on the loopback interface (as root too).
    fn mpirun(ranks: usize) -> Command {
        let mut command = Command::new("mpirun");
        command
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .args(["--allow-run-as-root", "--oversubscribe"])
            .args([
                "--mca",
                "btl",
                "self,tcp",
                "--mca",
                "btl_tcp_if_include",
                "lo",
            ])
            .args(["--mca", "oob_tcp_if_include", "lo"])
            .args(["-n", &ranks.to_string(), env!("CARGO_BIN_EXE_rks")]);
        command
    }

    fn distributed_args(train: &Path, model: &Path, flags: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "fit".into(),
            "--distributed".into(),
            "--train".into(),
            train.display().to_string(),
            "--model".into(),
            model.display().to_string(),
        ];
        args.extend(flags.iter().map(|s| s.to_string()));
        args
    }

    #[test]
    fn one_two_and_three_ranks_write_the_streamed_model_bytes() {
        let dir = TempDir::new().unwrap();
        let spam = dataset("spam.train");
        let diabetes = csv_copy(&dir, &dataset("diabetes.train"), 10);
        // Class names: every rank reads the file's names first, so every rank codes them alike.
        let named = named_breast_cancer(&dir);
        for (train, flags) in [
            (&spam, &CLASSIFY[..]),
            (&diabetes, &REGRESS[..]),
            (&named, &CLASSIFY[..]),
            (&named, &balanced()[..]),
            // Class probabilities: the sigmoids on the merged sample's leave-one-out scores.
            (&named, &[&CLASSIFY[..], &["--probabilities"]].concat()[..]),
        ] {
            let mut streamed = flags.to_vec();
            streamed.extend(["--stream", "--chunk-rows", "500"]);
            let expected = fit_bytes(&dir, "streamed.rks", train, &streamed);
            for ranks in 1..=3 {
                let model = dir.path().join(format!("mpi{ranks}.rks"));
                let mut flags = flags.to_vec();
                flags.extend(["--chunk-rows", "301"]);
                let out = mpirun(ranks)
                    .args(distributed_args(train, &model, &flags))
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{ranks} ranks: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_eq!(
                    std::fs::read(&model).unwrap(),
                    expected,
                    "{} with {ranks} ranks",
                    train.display()
                );
                // Rank 0 reports the score on the merged sample and the relevance step, as
                // the streamed fit does.
                let report = String::from_utf8_lossy(&out.stdout);
                assert!(report.contains(" sampled rows)\n"), "{report}");
                assert!(report.contains("\n    relevance: "), "{report}");
                assert!(
                    report.contains("\n  model selection  exact leave-one-out"),
                    "{report}"
                );
            }
        }
    }

    /// `--weights`: each rank reads its rows' weights from the one file (after counting its
    /// rows), or from its own file when the path holds `{rank}`: the streamed weighted model's
    /// bytes with 1, 2 and 3 ranks; a file of too few or too many weights stops every rank.
    #[test]
    fn row_weights_give_the_streamed_weighted_model_bytes() {
        let dir = TempDir::new().unwrap();
        let train = dataset("spam.train");
        let rows = std::fs::read_to_string(&train).unwrap().lines().count();
        let weight = |i: usize| match i % 7 {
            0 => "0".to_string(),
            k => format!("{}", 0.5 * k as f64),
        };
        let weights = dir.path().join("w.txt");
        let all: Vec<String> = (0..rows).map(weight).collect();
        std::fs::write(&weights, all.join("\n") + "\n").unwrap();
        let mut streamed = CLASSIFY.to_vec();
        streamed.extend(["--stream", "--chunk-rows", "500", "--weights"]);
        streamed.push(weights.to_str().unwrap());
        let expected = fit_bytes(&dir, "streamed.rks", &train, &streamed);
        let run = |ranks: usize, train: &Path, weights: &Path| {
            let model = dir.path().join(format!("mpi{ranks}.rks"));
            let _ = std::fs::remove_file(&model);
            let mut flags = CLASSIFY.to_vec();
            flags.extend([
                "--chunk-rows",
                "301",
                "--weights",
                weights.to_str().unwrap(),
            ]);
            let out = mpirun(ranks)
                .args(distributed_args(train, &model, &flags))
                .output()
                .unwrap();
            (out, model)
        };
        for ranks in 1..=3 {
            let (out, model) = run(ranks, &train, &weights);
            assert!(
                out.status.success(),
                "{ranks} ranks: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(std::fs::read(&model).unwrap(), expected, "{ranks} ranks");
            let report = String::from_utf8_lossy(&out.stdout);
            let left_out = (0..rows).filter(|i| i % 7 == 0).count();
            assert!(
                report.contains(&format!("{left_out} rows of weight 0 left out")),
                "{report}"
            );
        }
        // One training file and one weights file per rank.
        let lines: Vec<String> = std::fs::read_to_string(&train)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let cut = [0, 1000, 2500, rows];
        for r in 0..3 {
            let (from, to) = (cut[r], cut[r + 1]);
            let part = dir.path().join(format!("part{r}.svm"));
            std::fs::write(&part, lines[from..to].join("\n") + "\n").unwrap();
            let w = dir.path().join(format!("w{r}.txt"));
            std::fs::write(&w, all[from..to].join("\n") + "\n").unwrap();
        }
        let (out, model) = run(
            3,
            &dir.path().join("part{rank}.svm"),
            &dir.path().join("w{rank}.txt"),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read(&model).unwrap(),
            expected,
            "one file per rank"
        );
        // Too few or too many weights: every rank stops, no model.
        for count in [rows - 1, rows + 1] {
            let w: Vec<String> = (0..count).map(weight).collect();
            std::fs::write(&weights, w.join("\n") + "\n").unwrap();
            let (out, model) = run(3, &train, &weights);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success());
            assert!(err.contains("w.txt"), "{err}");
            assert!(err.contains("rank 2 failed"), "{err}");
            assert!(!model.exists());
        }
    }

    #[test]
    fn a_bad_row_on_one_rank_stops_every_rank_without_a_model() {
        let dir = TempDir::new().unwrap();
        let bad = dir.path().join("bad.svm");
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&format!("{} 1:{} 2:{}\n", i % 2, i, 300 - i));
        }
        text.push_str("1 1:0.5 2:x\n");
        std::fs::write(&bad, text).unwrap();
        let model = dir.path().join("model.rks");
        let out = mpirun(3)
            .args(distributed_args(&bad, &model, &CLASSIFY))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains("bad value 'x'"), "{err}");
        assert!(err.contains("rank 2 failed"), "{err}");
        assert!(!model.exists());
    }

    #[test]
    fn a_killed_rank_ends_the_job_with_a_clear_error_and_no_model() {
        let dir = TempDir::new().unwrap();
        // Enough rows that the fit runs for seconds.
        let train = dir.path().join("big.svm");
        let mut text = String::new();
        for i in 0..120_000u64 {
            let a = (i * 7919 % 1000) as f64 / 1000.0;
            let b = (i * 104_729 % 997) as f64 / 997.0;
            text.push_str(&format!("{} 1:{a} 2:{b} 3:{}\n", i % 2, a * b));
        }
        std::fs::write(&train, text).unwrap();
        let model = dir.path().join("model.rks");
        let flags = ["--frequencies", "512", "--task", "classification"];
        let child = mpirun(3)
            .args(distributed_args(&train, &model, &flags))
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the ranks (children of mpirun), then kill one of them by its pid.
        let start = Instant::now();
        let ranks = loop {
            let listed = Command::new("pgrep")
                .args(["-P", &child.id().to_string()])
                .output()
                .unwrap();
            let pids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
                .lines()
                .map(str::to_string)
                .collect();
            if pids.len() == 3 || start.elapsed() > Duration::from_secs(30) {
                break pids;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(ranks.len(), 3, "the ranks did not start");
        std::thread::sleep(Duration::from_millis(1500));
        Command::new("kill")
            .args(["-9", &ranks[1]])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "the job succeeded: {err}");
        assert!(err.contains("signal 9") || err.contains("Killed"), "{err}");
        assert!(!model.exists(), "a model was written");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains("model"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

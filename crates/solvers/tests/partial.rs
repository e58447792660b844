//! The partial-fit API: the same model bytes in memory, streamed, and split into partitions in
//! any way and merged in any order; parts of other fits are refused with typed errors.

mod common;

use common::uniform;
use ndarray::{Array1, Array2, Axis};
use rks::envelope::FileError;
use rks::{Bandwidth, MapKind};
use rks_solvers::class_weights::ClassWeights;
use rks_solvers::machine::{KernelMachineValidParams, Selection};
use rks_solvers::partial::{FirstPass, Plan, SecondPass};
use rks_solvers::{KernelMachine, Lambda, Solver, SolversError, StreamedFit, Task};

type Part = (Array2<f64>, Array1<f64>);

/// A fit's settings: task, targets, selection, λ, map.
type Setting<'a> = (Task, &'a Array1<f64>, Option<Selection>, Lambda, MapKind);

/// 700 rows of 4 columns: three classes and a real target, both from the first three columns
/// (the fourth is noise, which the column weights of model selection learn to drop).
fn data() -> (Array2<f64>, Array1<f64>, Array1<f64>) {
    let x = uniform(700, 4, 71) * 2.0;
    let classes = x
        .rows()
        .into_iter()
        .map(|r| {
            if (2.0 * r[0]).sin() > r[1] {
                4.0
            } else if r[2] > 0.2 {
                -1.0
            } else {
                9.0
            }
        })
        .collect();
    let values = x
        .rows()
        .into_iter()
        .map(|r| 50.0 + (2.0 * r[0]).sin() + r[1] * r[2])
        .collect();
    (x, classes, values)
}

fn split(x: &Array2<f64>, y: &Array1<f64>, cuts: &[usize]) -> Vec<Part> {
    cuts.windows(2)
        .map(|w| {
            let r = (w[0]..w[1]).into();
            (
                x.slice_axis(Axis(0), r).to_owned(),
                y.slice_axis(Axis(0), r).to_owned(),
            )
        })
        .collect()
}

/// Each part's passes go through bytes (as between workers); pass 1 merges in `order`, pass 2
/// as a left-leaning tree of pairs.
fn fit_parts(params: &KernelMachineValidParams, parts: &[Part], order: &[usize]) -> Vec<u8> {
    let mut first = params.first_pass();
    for &i in order {
        let mut part = params.first_pass();
        part.update(parts[i].0.view(), parts[i].1.view()).unwrap();
        first
            .merge(&FirstPass::from_bytes(&part.to_bytes().unwrap()).unwrap())
            .unwrap();
    }
    let plan = Plan::from_bytes(&params.plan(&first).unwrap().to_bytes().unwrap()).unwrap();
    let mut seconds: Vec<SecondPass> = parts
        .iter()
        .map(|(x, y)| {
            let mut part = plan.second_pass().unwrap();
            part.update(&plan, x.view(), y.view()).unwrap();
            SecondPass::from_bytes(&part.to_bytes().unwrap()).unwrap()
        })
        .collect();
    while seconds.len() > 1 {
        let b = seconds.remove(1);
        let a = seconds.remove(0);
        let mut merged = b;
        merged.merge(&a).unwrap();
        seconds.push(merged);
    }
    params
        .finish(&plan, &seconds[0])
        .unwrap()
        .to_bytes()
        .unwrap()
}

/// [`fit_parts`] with a sample weight per row: pass 1 and pass 2 of each part given its rows'
/// weights.
fn fit_weighted_parts(
    params: &KernelMachineValidParams,
    parts: &[WeightedPart],
    order: &[usize],
) -> Vec<u8> {
    let mut first = params.first_pass();
    for &i in order {
        let (x, y, w) = &parts[i];
        let mut part = params.first_pass();
        part.update_weighted(x.view(), y.view(), w.view()).unwrap();
        first
            .merge(&FirstPass::from_bytes(&part.to_bytes().unwrap()).unwrap())
            .unwrap();
    }
    let plan = Plan::from_bytes(&params.plan(&first).unwrap().to_bytes().unwrap()).unwrap();
    let mut second = plan.second_pass().unwrap();
    for &i in order.iter().rev() {
        let (x, y, w) = &parts[i];
        let mut part = plan.second_pass().unwrap();
        part.update_weighted(&plan, x.view(), y.view(), w.view())
            .unwrap();
        second
            .merge(&SecondPass::from_bytes(&part.to_bytes().unwrap()).unwrap())
            .unwrap();
    }
    params.finish(&plan, &second).unwrap().to_bytes().unwrap()
}

type WeightedPart = (Array2<f64>, Array1<f64>, Array1<f64>);

fn split_weighted(
    x: &Array2<f64>,
    y: &Array1<f64>,
    w: &Array1<f64>,
    cuts: &[usize],
) -> Vec<WeightedPart> {
    split(x, y, cuts)
        .into_iter()
        .zip(cuts.windows(2))
        .map(|((xp, yp), c)| {
            (
                xp,
                yp,
                w.slice_axis(Axis(0), (c[0]..c[1]).into()).to_owned(),
            )
        })
        .collect()
}

fn streamed(params: &KernelMachineValidParams, x: &Array2<f64>, y: &Array1<f64>) -> StreamedFit {
    let open = || -> Result<Vec<Result<Part, std::io::Error>>, std::io::Error> {
        Ok(split(x, y, &[0, 97, 300, 301, 700])
            .into_iter()
            .map(Ok)
            .collect())
    };
    params.fit_stream_sampled(open).unwrap()
}

#[test]
fn every_split_and_order_gives_the_in_memory_model_bytes() {
    let (x, classes, values) = data();
    let settings: Vec<Setting> = vec![
        // Model selection on (σ and λ by leave-one-out), the defaults.
        (
            Task::Classification,
            &classes,
            Some(Selection::default()),
            Lambda::Gcv,
            MapKind::Fastfood,
        ),
        (
            Task::Regression,
            &values,
            Some(Selection::default()),
            Lambda::Gcv,
            MapKind::Dense,
        ),
        // Selection off: σ by the median heuristic, λ by GCV or fixed.
        (
            Task::Classification,
            &classes,
            None,
            Lambda::Gcv,
            MapKind::Orf,
        ),
        (
            Task::Regression,
            &values,
            None,
            Lambda::Fixed(0.01),
            MapKind::Sorf,
        ),
    ];
    for (task, y, selection, lambda, map) in settings {
        let params = KernelMachine::params()
            .map(map)
            .n_frequencies(64) // 128 features < 700 rows: the primal form
            .task(task)
            .solver(Solver::Ridge { lambda })
            .selection(selection.clone())
            .chunk_rows(128)
            .seed(5)
            .check()
            .unwrap();
        let what = format!("{task:?} {map:?} selection {}", selection.is_some());
        let (model, report) = params.fit_with_report(x.view(), y.view()).unwrap();
        let stream = streamed(&params, &x, y);
        if let Some(report) = report {
            // The weights are learned, kept and carried by the plan as by the in-memory fit,
            // and the streamed fit reports them.
            let relevance = report.relevance.unwrap();
            assert!(relevance.kept, "{what}: {:?}", report.notes);
            assert!(
                relevance.weights[3]
                    < 0.5 * relevance.weights[..3].iter().cloned().fold(1.0, f64::min)
            );
            // The streamed fit reports the same search: relevance, σ trials, σ and λ.
            let streamed = stream.selection.as_ref().unwrap();
            let theirs = streamed.relevance.as_ref().unwrap();
            assert_eq!(
                (&theirs.weights, theirs.kept),
                (&relevance.weights, true),
                "{what}"
            );
            assert_eq!(streamed.notes[0], report.notes[0]);
            assert_eq!(streamed.sigma_trials, report.sigma_trials, "{what}");
            assert_eq!(streamed.walk_trials, report.walk_trials, "{what}");
            assert_eq!(
                (streamed.sigma, streamed.lambda),
                (report.sigma, report.lambda),
                "{what}"
            );
        } else {
            assert!(stream.selection.is_none());
        }
        // Pass 1's sample: here every row (fewer than the sample's capacity), in its own order.
        assert_eq!(stream.sample.0.nrows(), x.nrows(), "{what}");
        let whole = model.to_bytes().unwrap();
        assert_eq!(stream.model.to_bytes().unwrap(), whole, "{what}: streamed");
        for (cuts, order) in [
            (vec![0, 700], vec![0]),
            (vec![0, 350, 700], vec![1, 0]),
            (vec![0, 233, 466, 700], vec![0, 1, 2]),
            (vec![0, 1, 600, 700], vec![2, 0, 1]),
        ] {
            let parts = split(&x, y, &cuts);
            assert_eq!(
                fit_parts(&params, &parts, &order),
                whole,
                "{what}: {cuts:?}"
            );
        }
    }
}

/// The weights `learn_column_weights` returns, given by hand, give the model the default fit
/// makes when it learns and keeps them itself (in memory and streamed): one step, two entries.
#[test]
fn hand_given_column_weights_fit_as_the_learned_ones() {
    let (x, _, values) = data();
    let base = || {
        KernelMachine::params()
            .n_frequencies(64)
            .task(Task::Regression)
            .seed(5)
    };
    let params = base().check().unwrap();
    let learned = params
        .learn_column_weights(&Selection::default(), x.view(), values.view())
        .unwrap();
    let weights = learned
        .weights
        .expect("the noise column's weight is learned and kept");
    assert!(learned.note.starts_with("relevance:"));
    assert_eq!(learned.report.unwrap().weights, weights);
    let (own, report) = params.fit_with_report(x.view(), values.view()).unwrap();
    assert_eq!(report.unwrap().relevance.unwrap().weights, weights);
    let given = base().input_weights(weights.clone()).check().unwrap();
    let (by_hand, report) = given.fit_with_report(x.view(), values.view()).unwrap();
    assert!(
        report.unwrap().relevance.is_none(),
        "given weights are not learned again"
    );
    assert_eq!(by_hand.to_bytes().unwrap(), own.to_bytes().unwrap());
    assert_eq!(
        streamed(&given, &x, &values).model.to_bytes().unwrap(),
        streamed(&params, &x, &values).model.to_bytes().unwrap()
    );
    // Bad weights: a clear error, at check time or (the count) at fit time.
    for bad in [
        vec![1.0, -1.0, 1.0, 1.0],
        vec![1.0, f64::NAN, 1.0, 1.0],
        vec![0.0; 4],
    ] {
        assert!(matches!(
            base().input_weights(bad).check(),
            Err(SolversError::InvalidParameter { .. })
        ));
    }
    let short = base().input_weights(vec![1.0, 0.5]).check().unwrap();
    assert!(matches!(
        short.fit(x.view(), values.view()),
        Err(SolversError::InvalidParameter { .. })
    ));
}

/// Sample weights through the partial-fit API and the stream give `fit_weighted`'s model, bit
/// for bit, for any split and order (model selection on and off, with class weights too);
/// rows of weight 0 are left out; weights of only 0 and 1 are the unweighted fit of the kept
/// rows; weights pass 1 did not see are refused.
#[test]
fn sample_weights_give_the_in_memory_weighted_model() {
    let (x, classes, values) = data();
    // Weights from 0.5 to 3, every eleventh row 0.
    let w: Array1<f64> = (0..700)
        .map(|i| {
            if i % 11 == 0 {
                0.0
            } else {
                0.5 + ((i * 7) % 6) as f64 / 2.0
            }
        })
        .collect();
    let balanced = Some(ClassWeights::Balanced);
    let settings = [
        (
            Task::Classification,
            &classes,
            Some(Selection::default()),
            None,
            MapKind::Fastfood,
        ),
        (
            Task::Regression,
            &values,
            Some(Selection::default()),
            None,
            MapKind::Dense,
        ),
        (
            Task::Classification,
            &classes,
            Some(Selection::default()),
            balanced.clone(),
            MapKind::Orf,
        ),
        (
            Task::Classification,
            &classes,
            None,
            balanced,
            MapKind::Sorf,
        ),
    ];
    for (task, y, selection, class_weights, map) in settings {
        let params = KernelMachine::params()
            .map(map)
            .n_frequencies(64)
            .task(task)
            .selection(selection.clone())
            .class_weights(class_weights.clone())
            .chunk_rows(128)
            .seed(5)
            .check()
            .unwrap();
        let what = format!("{task:?} {map:?} selection {}", selection.is_some());
        let (model, report) = params
            .fit_weighted_with_report(x.view(), y.view(), w.view())
            .unwrap();
        let whole = model.to_bytes().unwrap();
        assert_ne!(
            whole,
            params.fit(x.view(), y.view()).unwrap().to_bytes().unwrap(),
            "{what}"
        );
        let open = || -> Result<Vec<Result<WeightedPart, std::io::Error>>, std::io::Error> {
            Ok(split_weighted(&x, y, &w, &[0, 97, 300, 301, 700])
                .into_iter()
                .map(Ok)
                .collect())
        };
        let stream = params.fit_stream_weighted_sampled(open).unwrap();
        assert_eq!(stream.model.to_bytes().unwrap(), whole, "{what}: streamed");
        assert_eq!(stream.left_out, 64, "{what}");
        match (report, stream.selection) {
            (Some(report), Some(streamed)) => {
                assert_eq!(streamed.notes, report.notes, "{what}");
                assert!(
                    report.notes[0].contains("sample weights"),
                    "{what}: {:?}",
                    report.notes
                );
                assert_eq!(streamed.sigma_trials, report.sigma_trials, "{what}");
                assert_eq!(
                    (streamed.sigma, streamed.lambda),
                    (report.sigma, report.lambda)
                );
            }
            (None, None) => {}
            other => panic!("{what}: {other:?}"),
        }
        for (cuts, order) in [
            (vec![0, 700], vec![0]),
            (vec![0, 350, 700], vec![1, 0]),
            (vec![0, 1, 600, 700], vec![2, 0, 1]),
        ] {
            let parts = split_weighted(&x, y, &w, &cuts);
            assert_eq!(
                fit_weighted_parts(&params, &parts, &order),
                whole,
                "{what}: {cuts:?}"
            );
        }
    }

    // Weights of only 0 and 1: the unweighted fit of the rows of weight 1.
    let params = KernelMachine::params()
        .n_frequencies(64)
        .seed(5)
        .check()
        .unwrap();
    let ones = w.mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
    let kept: Vec<usize> = (0..700).filter(|&i| ones[i] == 1.0).collect();
    let alone = params
        .fit(
            x.select(Axis(0), &kept).view(),
            classes.select(Axis(0), &kept).view(),
        )
        .unwrap();
    let parts = split_weighted(&x, &classes, &ones, &[0, 350, 700]);
    assert_eq!(
        fit_weighted_parts(&params, &parts, &[0, 1]),
        alone.to_bytes().unwrap()
    );

    // Pass 2 given weights pass 1 did not see: refused, not folded in on the wrong grid.
    let mut first = params.first_pass();
    first
        .update_weighted(x.view(), classes.view(), ones.view())
        .unwrap();
    assert_eq!((first.rows(), first.left_out()), (636, 64));
    let plan = params.plan(&first).unwrap();
    assert_eq!(plan.sample_weight(), None);
    let mut second = plan.second_pass().unwrap();
    let err = second
        .update_weighted(&plan, x.view(), classes.view(), w.view())
        .unwrap_err();
    assert!(matches!(err, SolversError::PartialMismatch(_)), "{err}");
    let lighter = ones.mapv(|v| v / 2.0);
    assert!(matches!(
        second.update_weighted(&plan, x.view(), classes.view(), lighter.view()),
        Err(SolversError::PartialMismatch(_))
    ));
    let mut first = params.first_pass();
    first
        .update_weighted(x.view(), classes.view(), w.view())
        .unwrap();
    let plan = params.plan(&first).unwrap();
    assert_eq!(plan.sample_weight(), Some(3.0));
    let heavier = w.mapv(|v| 2.0 * v);
    let mut second = plan.second_pass().unwrap();
    assert!(matches!(
        second.update_weighted(&plan, x.view(), classes.view(), heavier.view()),
        Err(SolversError::PartialMismatch(_))
    ));
    // Bad weights name their row; all 0 leaves no row.
    let mut bad = w.clone();
    bad[5] = f64::NAN;
    let err = params
        .first_pass()
        .update_weighted(x.view(), classes.view(), bad.view())
        .unwrap_err();
    assert!(err.to_string().contains("row 5"), "{err}");
    assert!(matches!(
        params
            .first_pass()
            .update_weighted(x.view(), classes.view(), w.slice(ndarray::s![..9])),
        Err(SolversError::DimensionMismatch { .. })
    ));
    let mut none = params.first_pass();
    none.update_weighted(x.view(), classes.view(), Array1::zeros(700).view())
        .unwrap();
    assert!(matches!(
        params.plan(&none),
        Err(SolversError::EmptyInput(_))
    ));
}

/// Class probabilities in a partial fit: Platt sigmoids on the exact leave-one-out decision
/// values of the scored rows. The same bytes for any split, the predictions of the fit without
/// them, and a log loss on new rows near the in-memory fit's (which refits on folds).
#[test]
fn partial_fits_calibrate_class_probabilities_on_leave_one_out_values() {
    let (x, classes, _) = data();
    let test = uniform(2000, 4, 72) * 2.0;
    let truth: Vec<usize> = test
        .rows()
        .into_iter()
        .map(|r| {
            // The classes of `data`'s labels 4, −1, 9, in sorted order.
            if (2.0 * r[0]).sin() > r[1] {
                1
            } else if r[2] > 0.2 {
                0
            } else {
                2
            }
        })
        .collect();
    let log_loss = |p: &Array2<f64>| {
        -truth
            .iter()
            .enumerate()
            .map(|(i, &c)| p[[i, c]].max(1e-15).ln())
            .sum::<f64>()
            / truth.len() as f64
    };
    for selection in [Some(Selection::default()), None] {
        let base = || {
            KernelMachine::params()
                .map(MapKind::Fastfood)
                .n_frequencies(64)
                .solver(Solver::Ridge {
                    lambda: Lambda::Gcv,
                })
                .selection(selection.clone())
                .chunk_rows(128)
                .seed(5)
        };
        let params = base().probabilities(true).check().unwrap();
        let plain = base().check().unwrap();
        let stream = streamed(&params, &x, &classes).model;
        let without = streamed(&plain, &x, &classes).model;
        let calibration = stream.calibration().expect("calibrated");
        assert_eq!(calibration.folds(), 700, "one fold a row: leave-one-out");
        assert_eq!(
            stream.decision_function(&test).unwrap(),
            without.decision_function(&test).unwrap()
        );
        let bytes = stream.to_bytes().unwrap();
        for (cuts, order) in [
            (vec![0, 350, 700], vec![1, 0]),
            (vec![0, 1, 600, 700], vec![2, 0, 1]),
        ] {
            let parts = split(&x, &classes, &cuts);
            assert_eq!(fit_parts(&params, &parts, &order), bytes, "{cuts:?}");
        }
        let p = stream.predict_proba(&test).unwrap();
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
        let in_memory = params.fit(x.view(), classes.view()).unwrap();
        let (ours, theirs) = (
            log_loss(&p),
            log_loss(&in_memory.predict_proba(&test).unwrap()),
        );
        assert!(
            ours < 1.1 * theirs,
            "selection {}: log loss {ours} against the in-memory fit's {theirs}",
            selection.is_some()
        );
    }
}

#[test]
fn parts_of_other_fits_steps_or_versions_are_refused() {
    let (x, classes, _) = data();
    let params = KernelMachine::params()
        .n_frequencies(32)
        .bandwidth(Bandwidth::Sigma(1.0))
        .selection(None)
        .check()
        .unwrap();
    let other = KernelMachine::params()
        .n_frequencies(32)
        .bandwidth(Bandwidth::Sigma(1.0))
        .selection(None)
        .seed(1)
        .check()
        .unwrap();
    let mut first = params.first_pass();
    first.update(x.view(), classes.view()).unwrap();
    let mut foreign = other.first_pass();
    foreign.update(x.view(), classes.view()).unwrap();
    let mismatch = |r: Result<(), SolversError>| matches!(r, Err(SolversError::PartialMismatch(_)));
    assert!(mismatch(first.clone().merge(&foreign)));
    assert!(matches!(
        other.plan(&first),
        Err(SolversError::PartialMismatch(_))
    ));

    let plan = params.plan(&first).unwrap();
    let other_plan = other.plan(&foreign).unwrap();
    let mut second = plan.second_pass().unwrap();
    second.update(&plan, x.view(), classes.view()).unwrap();
    let mut foreign_second = other_plan.second_pass().unwrap();
    assert!(mismatch(foreign_second.update(
        &plan,
        x.view(),
        classes.view()
    )));
    assert!(mismatch(foreign_second.merge(&second)));
    assert!(matches!(
        params.finish(&plan, &foreign_second),
        Err(SolversError::PartialMismatch(_))
    ));
    assert!(matches!(
        other.finish(&plan, &second),
        Err(SolversError::PartialMismatch(_))
    ));

    // Bytes of another step, a newer version, a truncated or flipped file.
    let plan_bytes = plan.to_bytes().unwrap();
    assert!(matches!(
        FirstPass::from_bytes(&plan_bytes),
        Err(SolversError::PartialMismatch(_))
    ));
    assert!(matches!(
        SecondPass::from_bytes(&first.to_bytes().unwrap()),
        Err(SolversError::PartialMismatch(_))
    ));
    let mut newer = plan_bytes.clone();
    newer[8..12].copy_from_slice(&5u32.to_le_bytes());
    assert!(matches!(
        Plan::from_bytes(&newer),
        Err(SolversError::File(FileError::NewerVersion { .. }))
    ));
    // Version 2's statistics had no field for row weights, version 3's passes none for sample
    // weights.
    for version in [2u32, 3] {
        let mut older = plan_bytes.clone();
        older[8..12].copy_from_slice(&version.to_le_bytes());
        assert!(matches!(
            Plan::from_bytes(&older),
            Err(SolversError::File(FileError::UnsupportedVersion { .. }))
        ));
    }
    assert!(matches!(
        Plan::from_bytes(&plan_bytes[..plan_bytes.len() - 3]),
        Err(SolversError::File(FileError::Truncated { .. }))
    ));
    let mut flipped = second.to_bytes().unwrap();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(matches!(
        SecondPass::from_bytes(&flipped),
        Err(SolversError::File(FileError::Corrupt { .. }))
    ));
    assert!(matches!(
        FirstPass::from_bytes(b"RKSMODEL and more bytes than a header....."),
        Err(SolversError::File(FileError::ForeignFile { .. }))
    ));
}

#[test]
fn summed_limbs_are_the_merge() {
    let (x, classes, _) = data();
    let params = KernelMachine::params()
        .n_frequencies(16)
        .selection(None)
        .check()
        .unwrap();
    let mut first = params.first_pass();
    first.update(x.view(), classes.view()).unwrap();
    let plan = params.plan(&first).unwrap();
    let parts: Vec<SecondPass> = split(&x, &classes, &[0, 10, 400, 700])
        .iter()
        .map(|(xp, yp)| {
            let mut p = plan.second_pass().unwrap();
            p.update(&plan, xp.view(), yp.view()).unwrap();
            p
        })
        .collect();
    let limbs: Vec<Vec<u64>> = parts.iter().map(SecondPass::limbs).collect();
    let summed: Vec<u64> = (0..limbs[0].len())
        .map(|i| limbs.iter().map(|l| l[i]).sum())
        .collect();
    let mut merged = parts[0].clone();
    parts[1..].iter().for_each(|p| merged.merge(p).unwrap());
    assert_eq!(parts[0].with_limbs(&summed).unwrap(), merged);
    assert_eq!(merged.rows(), 700);
}

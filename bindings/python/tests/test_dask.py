"""rks.dask.fit on a LocalCluster of two worker processes bound to 127.0.0.1: the model is
bit-identical to the one-machine fit (`estimator.fit` on the computed arrays: ridge, more rows
than features, min-max scaling, so the in-memory fit takes the same primal path), whatever the
blocks, with class weights and sample weights too."""

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import rks
import rks.dask

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def one_machine(estimator, X, y, sample_weight=None):
    """The in-memory fit the partial fit equals: ridge on Fastfood at the given (or default) n,
    what "auto" and n_components=None mean to rks.dask.fit."""
    from sklearn.base import clone
    explicit = clone(estimator).set_params(feature_map="fastfood", solver="ridge")
    if explicit.n_components is None:
        explicit.set_params(n_components=2048)
    return explicit.fit(X, y, sample_weight=sample_weight).model_.to_bytes()


@pytest.mark.parametrize("chunks", [500, (100, 700, 200, 1000)])
def test_classifier_on_dask_arrays_is_the_one_machine_fit(client, classes3, chunks):
    X, y = classes3
    X, y = np.tile(X, (5, 1))[:2000] + 0.001 * np.arange(2000)[:, None], np.tile(y, 5)[:2000]
    estimator = rks.KernelClassifier(n_components=256, random_state=4)
    fitted = rks.dask.fit(estimator, da.from_array(X, chunks=(chunks, 2)),
                          da.from_array(y, chunks=chunks))
    assert fitted is estimator and list(fitted.classes_) == [2, 5, 7]
    assert fitted.model_.to_bytes() == one_machine(estimator, X, y)
    assert (fitted.feature_map_, fitted.solver_, fitted.n_components_) == ("fastfood", "ridge", 256)
    assert np.array_equal(fitted.predict(X), rks.KernelClassifier(
        n_components=256, random_state=4, feature_map="fastfood", solver="ridge").fit(X, y)
        .predict(X))


def test_regressor_on_a_data_frame_is_the_one_machine_fit(client, regression):
    X, y = regression
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=3)
    target = dd.from_pandas(pd.Series(y), npartitions=3)
    estimator = rks.KernelRegressor(n_components=128, random_state=2, scaler="none")
    fitted = rks.dask.fit(estimator, frame, target)
    assert fitted.model_.to_bytes() == one_machine(estimator, X, y)


def test_string_labels(client, classes3):
    X, y = classes3
    names = np.array(["a", "b", "c"])[np.searchsorted([2, 5, 7], y)]
    estimator = rks.KernelClassifier(n_components=64, random_state=0)
    fitted = rks.dask.fit(estimator, da.from_array(X, chunks=(150, 4)),
                          da.from_array(names, chunks=150))
    assert list(fitted.classes_) == ["a", "b", "c"]
    assert fitted.model_.to_bytes() == one_machine(estimator, X, names)


@pytest.fixture(scope="module")
def imbalanced3():
    """2,000 rows of 3 columns, three classes of 1,606, 301 and 93 rows (labels 0, 1, 2), each
    rarer class shifted in its own column (they overlap)."""
    rng = np.random.default_rng(7)
    u = rng.random(2000)
    y = np.where(u < 0.05, 2, np.where(u < 0.2, 1, 0))
    X = rng.normal(size=(2000, 3))
    X[y == 1, 0] += 1.5
    X[y == 2, 1] += 2.0
    return X, y


NAMES = np.array(["common", "rare", "scarce"])


@pytest.mark.parametrize(
    "labels, class_weight, chunks",
    [
        ("integers", "balanced", 500),
        ("names", "balanced", (100, 700, 200, 1000)),
        ("integers", {2: 5.0, 0: 0.5}, (100, 700, 200, 1000)),
        ("names", {"scarce": 5.0, "common": 0.5}, 500),
    ],
)
def test_class_weights_are_the_one_machine_fit(client, imbalanced3, labels, class_weight, chunks):
    # Pass 1 counts each class over every block, so "balanced" is resolved on all the rows, and a
    # dict's labels are mapped to the library's classes as KernelClassifier.fit maps them.
    X, y = imbalanced3
    y = NAMES[y] if labels == "names" else y
    estimator = rks.KernelClassifier(n_components=128, class_weight=class_weight, random_state=3)
    fitted = rks.dask.fit(estimator, da.from_array(X, chunks=(chunks, 3)),
                          da.from_array(y, chunks=chunks))
    assert fitted is estimator and fitted.class_weight is class_weight
    assert fitted.model_.to_bytes() == one_machine(estimator, X, y)
    # The weights were applied: not the unweighted model, and the heavy rarest class is
    # predicted more often.
    plain = rks.dask.fit(rks.KernelClassifier(n_components=128, random_state=3),
                         da.from_array(X, chunks=(chunks, 3)), da.from_array(y, chunks=chunks))
    assert fitted.model_.to_bytes() != plain.model_.to_bytes()
    rarest = fitted.classes_[2]
    assert (fitted.predict(X) == rarest).sum() > (plain.predict(X) == rarest).sum()


def test_balanced_is_the_dict_of_its_weights_on_all_the_rows(client, imbalanced3):
    # scikit-learn's n / (k · n_c) on the 2,000 rows, not on any block's rows.
    X, y = imbalanced3
    Xd, yd = da.from_array(X, chunks=(300, 3)), da.from_array(y, chunks=300)
    weights = {c: len(y) / (3 * n) for c, n in enumerate(np.bincount(y))}
    kw = dict(n_components=128, random_state=3)
    balanced = rks.dask.fit(rks.KernelClassifier(class_weight="balanced", **kw), Xd, yd)
    given = rks.dask.fit(rks.KernelClassifier(class_weight=weights, **kw), Xd, yd)
    assert balanced.model_.to_bytes() == given.model_.to_bytes()


def test_class_weights_name_classes_of_y(client, imbalanced3):
    X, y = imbalanced3
    Xd, names = da.from_array(X, chunks=(500, 3)), da.from_array(NAMES[y], chunks=500)
    with pytest.raises(ValueError, match=r"label 'z', which is not a class of the training labels "
                                         r"\['common', 'rare', 'scarce'\]"):
        rks.dask.fit(rks.KernelClassifier(class_weight={"scarce": 2.0, "z": 3.0}), Xd, names)
    with pytest.raises(ValueError, match=r"label 2, which is not a class"):
        rks.dask.fit(rks.KernelClassifier(class_weight={2: 3.0}), Xd, names)
    with pytest.raises(ValueError, match=r"class_weight\['rare'\] must be a finite number > 0"):
        rks.dask.fit(rks.KernelClassifier(class_weight={"rare": 0.0}), Xd, names)
    with pytest.raises(ValueError, match="class_weight must be None, 'balanced' or a dict"):
        rks.dask.fit(rks.KernelClassifier(class_weight="Balanced"), Xd, names)


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_class_probabilities_on_leave_one_out_scores(client, classes3, class_weight):
    """probability=True: sigmoids on the sampled rows' leave-one-out scores, the same bytes for
    any blocks, the predictions of the fit without them, and a log loss near the in-memory
    fit's (which refits on 5 folds)."""
    from sklearn.metrics import log_loss

    X, y = classes3
    (X_train, y_train), (X_test, y_test) = (X[:450], y[:450]), (X[450:], y[450:])
    settings = dict(n_components=128, random_state=3, feature_map="fastfood", solver="ridge",
                    class_weight=class_weight)
    fits = [
        rks.dask.fit(rks.KernelClassifier(probability=True, **settings),
                     da.from_array(X_train, chunks=(rows, 4)), da.from_array(y_train, chunks=rows))
        for rows in (450, 250, 77)
    ]
    assert len({clf.model_.to_bytes() for clf in fits}) == 1
    clf = fits[0]
    assert clf.model_.calibration["folds"] == 450
    plain = rks.dask.fit(rks.KernelClassifier(**settings), da.from_array(X_train, chunks=(200, 4)),
                         da.from_array(y_train, chunks=200))
    np.testing.assert_array_equal(clf.decision_function(X_test), plain.decision_function(X_test))
    p = clf.predict_proba(X_test)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    in_memory = rks.KernelClassifier(probability=True, **settings).fit(X_train, y_train)
    ours, theirs = log_loss(y_test, p), log_loss(y_test, in_memory.predict_proba(X_test))
    assert ours < 1.1 * theirs, (ours, theirs)


def test_what_the_partial_fit_cannot_do(client, classes3):
    X, y = classes3
    Xd, yd = da.from_array(X, chunks=(300, 4)), da.from_array(y, chunks=300)
    with pytest.raises(ValueError, match="ridge"):
        rks.dask.fit(rks.KernelClassifier(solver="svm"), Xd, yd)
    with pytest.raises(TypeError, match="KernelClassifier or KernelRegressor"):
        rks.dask.fit(rks.FastfoodSampler(), Xd, yd)
    Xn = X.copy()
    Xn[450, 2] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        rks.dask.fit(rks.KernelClassifier(), da.from_array(Xn, chunks=(300, 4)), yd)


# Sample weights: the same bytes as the in-memory fit with the same weights.


@pytest.fixture(scope="module")
def weighted_rows():
    """1,200 rows of 3 columns with two-class labels, a smooth real target, and sample weights
    from 0.2 to 3 with every ninth row at 0."""
    rng = np.random.default_rng(21)
    X = rng.uniform(-1, 1, size=(1200, 3))
    labels = (np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.3 * rng.normal(size=1200) > 0)
    values = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.05 * rng.normal(size=1200)
    w = rng.uniform(0.2, 3.0, size=1200)
    w[::9] = 0.0
    return X, labels.astype(np.int64), values, w


def targets_of(estimator, labels, values):
    return labels if isinstance(estimator, rks.KernelClassifier) else values


WEIGHTED = [
    lambda: rks.KernelClassifier(n_components=128, random_state=5),
    lambda: rks.KernelRegressor(n_components=128, random_state=5),
]


@pytest.mark.parametrize("make", WEIGHTED, ids=["classifier", "regressor"])
@pytest.mark.parametrize("chunks", [50, 200, (100, 700, 250, 150)])
def test_sample_weights_are_the_one_machine_fit(client, weighted_rows, make, chunks):
    # The weights come in blocks of their own (123 rows): rks.dask.fit cuts them into X's.
    X, labels, values, w = weighted_rows
    y = targets_of(make(), labels, values)
    estimator = make()
    fitted = rks.dask.fit(estimator, da.from_array(X, chunks=(chunks, 3)),
                          da.from_array(y, chunks=chunks), da.from_array(w, chunks=123))
    assert fitted is estimator
    assert fitted.model_.to_bytes() == one_machine(estimator, X, y, sample_weight=w)


def test_sample_weights_as_a_series_or_a_numpy_array(client, weighted_rows):
    X, labels, values, w = weighted_rows
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=4)
    target = dd.from_pandas(pd.Series(values), npartitions=4)
    estimator = rks.KernelRegressor(n_components=128, random_state=5)
    expected = one_machine(estimator, X, values, sample_weight=w)
    series = dd.from_pandas(pd.Series(w), npartitions=3)
    assert rks.dask.fit(estimator, frame, target, series).model_.to_bytes() == expected
    Xd, yd = da.from_array(X, chunks=(400, 3)), da.from_array(values, chunks=400)
    assert rks.dask.fit(estimator, Xd, yd, sample_weight=w).model_.to_bytes() == expected
    # A number weighs every row alike, as in memory.
    assert (rks.dask.fit(estimator, Xd, yd, sample_weight=2.5).model_.to_bytes()
            == one_machine(estimator, X, values, sample_weight=2.5))


@pytest.mark.parametrize("make", WEIGHTED, ids=["classifier", "regressor"])
def test_weight_zero_leaves_the_row_out_and_ones_are_no_weights(client, weighted_rows, make):
    X, labels, values, w = weighted_rows
    y = targets_of(make(), labels, values)
    # Rows 0–199 (the whole first block) and every ninth row after weigh 0.
    keep = (np.arange(1200) >= 200) & (np.arange(1200) % 9 != 0)
    chunks = (200, 500, 500)
    zeroed = rks.dask.fit(make(), da.from_array(X, chunks=(chunks, 3)),
                          da.from_array(y, chunks=(chunks,)),
                          da.from_array(keep.astype(np.float64), chunks=(chunks,)))
    without = rks.dask.fit(make(), da.from_array(X[keep], chunks=(300, 3)),
                           da.from_array(y[keep], chunks=300))
    assert zeroed.model_.to_bytes() == without.model_.to_bytes()
    # Weights all 1 are no weights; other weights are another model.
    Xd, yd = da.from_array(X, chunks=(300, 3)), da.from_array(y, chunks=300)
    plain = rks.dask.fit(make(), Xd, yd).model_.to_bytes()
    assert rks.dask.fit(make(), Xd, yd, da.ones(1200, chunks=300)).model_.to_bytes() == plain
    assert rks.dask.fit(make(), Xd, yd, da.from_array(w, chunks=300)).model_.to_bytes() != plain


@pytest.mark.parametrize("class_weight", ["balanced", {"scarce": 5.0, "common": 0.5}])
def test_class_weights_with_sample_weights_are_the_one_machine_fit(client, imbalanced3,
                                                                   class_weight):
    # Both multiply, and "balanced" counts the rows of positive weight, as in memory.
    X, y = imbalanced3
    names = NAMES[y]
    w = np.random.default_rng(8).uniform(0.5, 2.0, size=len(y))
    w[::11] = 0.0
    chunks = (100, 700, 200, 1000)
    estimator = rks.KernelClassifier(n_components=128, class_weight=class_weight, random_state=3)
    Xd, yd = da.from_array(X, chunks=(chunks, 3)), da.from_array(names, chunks=(chunks,))
    fitted = rks.dask.fit(estimator, Xd, yd, da.from_array(w, chunks=500))
    assert fitted.model_.to_bytes() == one_machine(estimator, X, names, sample_weight=w)
    plain = rks.dask.fit(
        rks.KernelClassifier(n_components=128, class_weight=class_weight, random_state=3), Xd, yd
    )
    assert fitted.model_.to_bytes() != plain.model_.to_bytes()


def nan_at(i, n=600):
    w = np.ones(n)
    w[i] = np.nan
    return w


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.ones(599), r"sample_weight.shape == \(599,\), expected \(600,\)!"),
        (np.ones(601), r"sample_weight.shape == \(601,\), expected \(600,\)!"),
        (nan_at(450), "NaN or infinity"),
        (np.where(np.arange(600) == 10, np.inf, 1.0), "NaN or infinity"),
        (np.where(np.arange(600) == 450, -1.0, 1.0), "Negative values"),
        (np.zeros(600), "at least one non-zero"),
        (np.ones((600, 1)), "must be 1D array or scalar, got 2D array"),
        (np.ones((600, 2)), "must be 1D array or scalar, got 2D array"),
        (np.array(["1"] * 600), "must hold numbers"),
    ],
    ids=["short", "long", "nan", "inf", "negative", "all-zero", "column", "2-d", "strings"],
)
def test_bad_sample_weights(client, classes3, weights, match):
    X, y = classes3
    Xd, yd = da.from_array(X, chunks=(300, 4)), da.from_array(y, chunks=300)
    for w in (weights, da.from_array(weights)):
        with pytest.raises(ValueError, match=match):
            rks.dask.fit(rks.KernelClassifier(n_components=64), Xd, yd, sample_weight=w)
        with pytest.raises(ValueError, match=match):
            rks.dask.fit(rks.KernelRegressor(n_components=64), Xd, X[:, 0], sample_weight=w)


def test_the_passes_check_their_weights(classes3):
    # The native passes, as the workers call them, give the in-memory model; the library's
    # checks are ValueErrors too, and pass 2 refuses a weight that pass 1 was not given.
    from rks import _rks
    X, y = classes3
    y = y.astype(np.float64)  # the labels 2, 5, 7 are the library's targets as they are
    estimator = rks.KernelClassifier(
        n_components=64, feature_map="fastfood", solver="ridge", random_state=0)
    params = _rks.Params(**estimator._params(classes=np.array([2, 5, 7])))
    with pytest.raises(ValueError, match="row 3's weight must be finite and ≥ 0"):
        params.first_pass(X, y, np.where(np.arange(600) == 3, -1.0, 1.0))
    with pytest.raises(ValueError, match="row weights: expected 600, found 5"):
        params.first_pass(X, y, np.ones(5))
    with pytest.raises(TypeError, match="float64"):
        params.first_pass(X, y, np.ones(600, dtype=np.int64))
    w = np.where(np.arange(600) % 2 == 0, 2.0, 1.0)
    plan = params.plan(params.first_pass(X, y, sample_weight=w))
    model = params.finish(plan, _rks.second_pass(plan, X, y, sample_weight=w))
    assert model.to_bytes() == estimator.fit(X, y, sample_weight=w).model_.to_bytes()
    with pytest.raises(ValueError, match="row weights: expected 600, found 5"):
        _rks.second_pass(plan, X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="partial fit mismatch: row 0's weight 6 is not among "
                                         "the weights pass 1 saw"):
        _rks.second_pass(plan, X, y, sample_weight=3 * w)

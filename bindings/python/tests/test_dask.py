"""rks.dask.fit on a LocalCluster of two worker processes bound to 127.0.0.1: the model is
bit-identical to the one-machine fit (`estimator.fit` on the computed arrays: ridge, more rows
than features, min-max scaling, so the in-memory fit takes the same primal path), whatever the
blocks, with class weights too."""

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


def one_machine(estimator, X, y):
    """The in-memory fit the partial fit equals: ridge on Fastfood at the given (or default) n,
    what "auto" and n_components=None mean to rks.dask.fit."""
    from sklearn.base import clone
    explicit = clone(estimator).set_params(feature_map="fastfood", solver="ridge")
    if explicit.n_components is None:
        explicit.set_params(n_components=2048)
    return explicit.fit(X, y).model_.to_bytes()


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


def test_what_the_partial_fit_cannot_do(client, classes3):
    X, y = classes3
    Xd, yd = da.from_array(X, chunks=(300, 4)), da.from_array(y, chunks=300)
    with pytest.raises(ValueError, match="ridge"):
        rks.dask.fit(rks.KernelClassifier(solver="svm"), Xd, yd)
    with pytest.raises(ValueError, match="probability=True"):
        rks.dask.fit(rks.KernelClassifier(probability=True, class_weight="balanced"), Xd, yd)
    with pytest.raises(TypeError, match="KernelClassifier or KernelRegressor"):
        rks.dask.fit(rks.FastfoodSampler(), Xd, yd)
    Xn = X.copy()
    Xn[450, 2] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        rks.dask.fit(rks.KernelClassifier(), da.from_array(Xn, chunks=(300, 4)), yd)

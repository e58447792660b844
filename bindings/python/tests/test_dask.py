"""rks.dask.fit on a LocalCluster of two worker processes bound to 127.0.0.1: the model is
bit-identical to the one-machine fit (`estimator.fit` on the computed arrays: ridge, more rows
than features, min-max scaling, so the in-memory fit takes the same primal path), whatever the
blocks."""

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

"""rks.chunks.fit: the streamed fit over chunks a callable yields, the same bytes as the
in-memory fit with the partial fit's settings (and as rks.dask.fit), with labels of any type,
class and sample weights, probabilities, and clear errors."""

import numpy as np
import pytest

import rks
import rks.chunks


def one_machine(estimator, X, y, sample_weight=None):
    """The in-memory fit the streamed fit equals: ridge on Fastfood at the given n."""
    from sklearn.base import clone
    explicit = clone(estimator).set_params(feature_map="fastfood", solver="ridge")
    return explicit.fit(X, y, sample_weight=sample_weight).model_.to_bytes()


def cut(*arrays, sizes):
    """A callable yielding the arrays in chunks of `sizes` rows (a fresh generator a call)."""
    def chunks():
        start = 0
        for size in sizes:
            yield tuple(a[start:start + size] for a in arrays)
            start += size
    return chunks


@pytest.fixture
def named():
    """1,200 rows of 4 columns, three classes named by strings."""
    rng = np.random.default_rng(12)
    X = rng.uniform(-1, 1, size=(1200, 4))
    score = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    y = np.where(score > 0.3, "high", np.where(score < -0.3, "low", "middle"))
    return X, y


@pytest.mark.parametrize("sizes", [(1200,), (500, 1, 699), (100,) * 12])
def test_classifier_chunks_are_the_one_machine_fit(named, sizes):
    X, y = named
    estimator = rks.KernelClassifier(n_components=128, random_state=3)
    fitted = rks.chunks.fit(estimator, cut(X, y, sizes=sizes))
    assert fitted is estimator and list(fitted.classes_) == ["high", "low", "middle"]
    assert fitted.model_.to_bytes() == one_machine(estimator, X, y)
    # Classes given: no pass for the labels, the same model.
    given = rks.chunks.fit(rks.KernelClassifier(n_components=128, random_state=3),
                           cut(X, y, sizes=sizes), classes=["middle", "low", "high"])
    assert given.model_.to_bytes() == fitted.model_.to_bytes()


def test_regressor_with_sample_weights(regression):
    X, y = regression
    w = 0.5 + (np.arange(len(y)) % 4)
    w[::7] = 0.0
    estimator = rks.KernelRegressor(n_components=64, random_state=2)
    fitted = rks.chunks.fit(estimator, cut(X, y, w, sizes=(50, 123, len(y) - 173)))
    assert fitted.model_.to_bytes() == one_machine(estimator, X, y, sample_weight=w)
    plain = rks.chunks.fit(rks.KernelRegressor(n_components=64, random_state=2),
                           cut(X, y, sizes=(len(y),)))
    assert plain.model_.to_bytes() != fitted.model_.to_bytes()


def test_class_weights_and_probabilities(named):
    X, y = named
    settings = dict(n_components=128, random_state=3, class_weight={"low": 3.0}, probability=True)
    fitted = rks.chunks.fit(rks.KernelClassifier(**settings), cut(X, y, sizes=(600, 600)))
    assert fitted.model_.calibration["folds"] == len(y)
    p = fitted.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    # The same bytes as rks.dask.fit on the same rows, when Dask is there.
    dask = pytest.importorskip("dask.array")
    rks_dask = pytest.importorskip("rks.dask")
    by_dask = rks_dask.fit(rks.KernelClassifier(**settings), dask.from_array(X, chunks=(300, 4)),
                           dask.from_array(y, chunks=300))
    assert by_dask.model_.to_bytes() == fitted.model_.to_bytes()


def test_errors(named):
    X, y = named
    clf = rks.KernelClassifier(n_components=32)
    with pytest.raises(TypeError, match="callable"):
        rks.chunks.fit(clf, [(X, y)])
    with pytest.raises(TypeError, match="KernelClassifier or KernelRegressor"):
        rks.chunks.fit(rks.FastfoodSampler(), cut(X, y, sizes=(1200,)))
    with pytest.raises(ValueError, match="'middle' is not among the classes"):
        rks.chunks.fit(clf, cut(X, y, sizes=(1200,)), classes=["high", "low"])
    with pytest.raises(ValueError, match="at least two classes"):
        rks.chunks.fit(clf, cut(X[:1], y[:1], sizes=(1,)))
    with pytest.raises(ValueError, match=r"a tuple \(X, y\)"):
        rks.chunks.fit(clf, lambda: iter([X]))
    with pytest.raises(ValueError, match="regressor"):
        rks.chunks.fit(rks.KernelRegressor(), cut(X, X[:, 0], sizes=(1200,)), classes=[0, 1])
    with pytest.raises(ValueError, match="ridge"):
        rks.chunks.fit(rks.KernelClassifier(solver="svm"), cut(X, y, sizes=(1200,)))
    # Chunks of other widths, and bad weights: the library's errors.
    def ragged():
        yield X[:600], y[:600]
        yield X[600:, :3], y[600:]
    with pytest.raises(ValueError, match="columns"):
        rks.chunks.fit(clf, ragged, classes=["high", "low", "middle"])
    w = np.ones(len(y))
    w[5] = np.nan
    with pytest.raises(ValueError, match="row 5"):
        rks.chunks.fit(clf, cut(X, y, w, sizes=(1200,)))
    # An exception of the reader propagates as raised.
    def failing():
        yield X[:600], y[:600]
        raise OSError("disk gone")
    with pytest.raises(OSError, match="disk gone"):
        rks.chunks.fit(clf, failing, classes=["high", "low", "middle"])

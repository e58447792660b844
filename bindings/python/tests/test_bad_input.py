"""Bad input gives the errors scikit-learn users expect, never a crash of the interpreter."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

import rks
from rks import _rks

ESTIMATORS = [
    rks.FastfoodSampler(n_components=32, random_state=0),
    rks.NystroemSampler(n_components=5, random_state=0),
    rks.KernelClassifier(n_components=32, random_state=0),
    rks.KernelRegressor(n_components=32, random_state=0),
]
X = np.random.default_rng(0).normal(size=(40, 3))
Y = (X[:, 0] > 0).astype(int)


def ids(e):
    return type(e).__name__


def fit(estimator, X, y=Y):
    return estimator.fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=ids)
def test_nan_and_inf(estimator):
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3, 1] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            fit(estimator, Xb)
        fitted = fit(estimator, X)
        method = getattr(fitted, "transform", None) or fitted.predict
        with pytest.raises(ValueError, match="NaN|infinity"):
            method(Xb)


@pytest.mark.parametrize(
    "estimator",
    [e for e in ESTIMATORS if not isinstance(e, (rks.KernelClassifier, rks.KernelRegressor))],
    ids=ids,
)
def test_bad_sparse_rows_in_the_samplers_are_value_errors(estimator):
    bad = sp.csr_matrix(X)
    bad.data[0] = np.inf
    with pytest.raises(ValueError, match="NaN|infinity"):
        fit(estimator, bad)
    fitted = fit(estimator, sp.csr_matrix(X))
    with pytest.raises(ValueError, match="NaN|infinity"):
        fitted.transform(bad)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(sp.csr_matrix(X[:, :-1]))


def test_bad_sparse_rows_are_value_errors():
    clf = rks.KernelClassifier(random_state=0)
    Xs = sp.csr_matrix(X)
    bad = Xs.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN|infinity"):
        clf.fit(bad, Y)
    fitted = clf.fit(Xs, Y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        fitted.predict(bad)
    with pytest.raises(ValueError, match="3 features"):
        fitted.predict(Xs[:, :2])
    with pytest.raises(ValueError, match="gamma"):
        rks.KernelClassifier(gamma=0.5).fit(Xs, Y)
    # The binding checks the parts it is given (the estimator always passes canonical ones).
    with pytest.raises(ValueError, match="do not increase"):
        fitted.model_.decision_function_sparse(
            np.array([0, 2]), np.array([1, 0]), np.array([1.0, 2.0]), 3
        )
    with pytest.raises(ValueError, match="negative"):
        fitted.model_.decision_function_sparse(
            np.array([0, -1]), np.array([], dtype=np.int64), np.array([]), 3
        )


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=ids)
def test_shapes(estimator):
    with pytest.raises(ValueError, match="2D array"):
        fit(estimator, X[:, 0])
    with pytest.raises(ValueError):
        fit(estimator, X[:0])
    fitted = fit(estimator, X)
    method = getattr(fitted, "transform", None) or fitted.predict
    with pytest.raises(ValueError, match="3 features"):
        method(X[:, :2])
    with pytest.raises(ValueError, match="could not convert|argument must be"):
        method(np.array([["a", "b", "c"]], dtype=object))
    with pytest.raises(ValueError, match="[Cc]omplex"):
        method(X + 1j)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=ids)
def test_unfitted(estimator):
    from sklearn.base import clone
    e = clone(estimator)
    method = getattr(e, "transform", None) or e.predict
    with pytest.raises(NotFittedError):
        method(X)


def test_bad_parameters_name_themselves():
    with pytest.raises(ValueError, match="gamma"):
        rks.FastfoodSampler(gamma=-1.0).fit(X)
    with pytest.raises(ValueError, match="n_components"):
        rks.FastfoodSampler(n_components=0).fit(X)
    with pytest.raises(ValueError, match="expected one of"):
        rks.KernelClassifier(scaler="robust").fit(X, Y)
    with pytest.raises(ValueError, match="random_state"):
        rks.FastfoodSampler(random_state=-1).fit(X)
    with pytest.raises(ValueError, match="one class"):
        rks.KernelClassifier().fit(X, np.zeros(40))
    with pytest.raises(ValueError, match="Unknown label type"):
        rks.KernelClassifier().fit(X, X[:, 0])


def test_the_native_module_refuses_what_it_cannot_read():
    """The native layer is reached through the estimators, but called directly it still raises
    Python exceptions on wrong types and shapes."""
    m = _rks.Map.fit(kind="fastfood", kernel="gaussian", n_frequencies=8, gamma=1.0, seed=0, x=X)
    with pytest.raises(TypeError, match="float32 or float64"):
        m.transform([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="float32 or float64"):
        m.transform(X.astype(np.int64))
    with pytest.raises(TypeError):
        m.transform(np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="3"):
        m.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError):
        _rks.map_from_bytes(b"RKSFEMAP" + bytes(40))
    with pytest.raises(ValueError):
        _rks.machine_from_bytes(b"")
    with pytest.raises(ValueError, match="nothing to merge"):
        _rks.merge_first([])
    with pytest.raises(ValueError):
        _rks.merge_second([b"junk"])

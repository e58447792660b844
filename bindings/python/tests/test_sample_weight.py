"""Sample weights (``fit(X, y, sample_weight=...)``, the library's ``fit_weighted``): integer
weights are the rows repeated at fixed parameters, weight 0 leaves a row out and weights all 1
are no weights (bit for bit, with the model selection on), down-weighing noisy rows pays,
class weights multiply them, sparse rows take them, and bad weights are
ValueErrors. scikit-learn's own sample-weight checks run in tests/test_sklearn_checks.py."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rks


@pytest.fixture(scope="module")
def two_classes():
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = (np.sin(2 * X[:, 0]) + X[:, 1] + 0.5 * (rng.random(400) - 0.5) > 0.3).astype(np.int64)
    return X, y


FIXED = [
    (rks.KernelClassifier, dict(solver="ridge", alpha=1e-2)),
    (rks.KernelClassifier, dict(solver="svm", C=1.0)),
    (rks.KernelRegressor, dict(alpha=1e-2)),
]


@pytest.mark.parametrize("estimator, kw", FIXED)
def test_integer_weights_are_repeated_rows_at_fixed_parameters(two_classes, estimator, kw):
    X, y = two_classes
    w = np.where(np.arange(len(y)) % 5 == 0, 3, 1)
    params = dict(n_components=64, gamma=2.0, model_selection=False, random_state=0, **kw)
    weighted = estimator(**params).fit(X, y, sample_weight=w)
    repeated = estimator(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    X_test = np.random.default_rng(4).uniform(-1, 1, size=(100, 2))
    if estimator is rks.KernelClassifier:
        a, b = weighted.decision_function(X_test), repeated.decision_function(X_test)
    else:
        a, b = weighted.predict(X_test), repeated.predict(X_test)
    # Ridge's weighted statistics sit on a grid widened for √3 (a bit coarser); the SVM is
    # exact to its tolerance (0.1, LIBLINEAR's, so further apart).
    np.testing.assert_allclose(a, b, atol=5e-2 if kw.get("solver") == "svm" else 2e-3)
    # And the weights matter: not the unweighted fit.
    plain = estimator(**params).fit(X, y)
    c = plain.decision_function(X_test) if estimator is rks.KernelClassifier else plain.predict(X_test)
    assert np.abs(a - c).max() > 1e-2


@pytest.mark.parametrize("estimator", [rks.KernelClassifier, rks.KernelRegressor])
def test_weight_zero_is_the_row_left_out_and_ones_are_no_weights(two_classes, estimator):
    X, y = two_classes
    keep = np.arange(len(y)) % 4 != 0
    kw = dict(n_components=64, random_state=0)
    zeroed = estimator(**kw).fit(X, y, sample_weight=keep.astype(float))
    without = estimator(**kw).fit(X[keep], y[keep])
    assert zeroed.model_.to_bytes() == without.model_.to_bytes()
    ones = estimator(**kw).fit(X, y, sample_weight=np.ones(len(y)))
    assert ones.model_.to_bytes() == estimator(**kw).fit(X, y).model_.to_bytes()


def test_down_weighing_noisy_rows_pays():
    # Noise of standard deviation 0.05 on even rows and 1.0 on odd ones: weights 1/σ².
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, size=(600, 1))
    sd = np.where(np.arange(600) % 2 == 0, 0.05, 1.0)
    y = np.sin(3 * X[:, 0]) + sd * np.sqrt(3) * rng.uniform(-1, 1, 600)
    X_test = np.linspace(-1, 1, 400)[:, None]
    truth = np.sin(3 * X_test[:, 0])
    reg = rks.KernelRegressor(n_components=128, random_state=0)
    plain = np.sqrt(np.mean((reg.fit(X, y).predict(X_test) - truth) ** 2))
    weighted = np.sqrt(np.mean((reg.fit(X, y, sample_weight=1 / sd**2).predict(X_test) - truth) ** 2))
    # Measured: 0.0704 -> 0.0067.
    assert weighted < 0.5 * plain, (plain, weighted)


def test_class_weights_multiply_sample_weights(two_classes):
    # (The column relevance off: sample weights skip it, class weights do not.)
    X, y = two_classes
    kw = dict(n_components=64, relevance=False, random_state=0)
    by_class = rks.KernelClassifier(class_weight={1: 3.0}, **kw).fit(X, y)
    by_row = rks.KernelClassifier(**kw).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    both = rks.KernelClassifier(class_weight={1: 1.5}, **kw).fit(
        X, y, sample_weight=np.where(y == 1, 2.0, 1.0)
    )
    assert np.array_equal(by_class.decision_function(X), by_row.decision_function(X))
    assert np.array_equal(both.decision_function(X), by_row.decision_function(X))


def test_sparse_rows(two_classes):
    X, y = two_classes
    X_sparse = sp.csr_matrix(np.abs(X))
    keep = np.arange(len(y)) % 3 != 0
    clf = rks.KernelClassifier(random_state=0)
    zeroed = clf.fit(X_sparse, y, sample_weight=keep * 2.0).model_.to_bytes()
    assert zeroed == clf.fit(X_sparse[keep], y[keep], sample_weight=np.full(keep.sum(), 2.0)).model_.to_bytes()
    # Ridge on sparse rows weighs them too: zeros are the rows left out, bit for bit, and the
    # weights count (at a fixed λ, weights 2 are the rows twice).
    target = X[:, 0] ** 2 + X[:, 1]
    reg = rks.KernelRegressor(random_state=0)
    zeroed = reg.fit(X_sparse, target, sample_weight=keep * 2.0).model_.to_bytes()
    alone = reg.fit(X_sparse[keep], target[keep], sample_weight=np.full(keep.sum(), 2.0))
    assert zeroed == alone.model_.to_bytes()
    fixed = rks.KernelRegressor(alpha=0.5)
    twice = np.arange(len(y)) % 2 == 0
    weighted = fixed.fit(X_sparse, target, sample_weight=1.0 + twice).predict(X_sparse)
    rows = np.concatenate([np.arange(len(y)), np.flatnonzero(twice)])
    repeated = fixed.fit(X_sparse[rows], target[rows]).predict(X_sparse)
    np.testing.assert_allclose(weighted, repeated, rtol=0, atol=1e-6)
    plain = fixed.fit(X_sparse, target).predict(X_sparse)
    assert np.abs(weighted - plain).max() > 1e-3


def test_a_pipeline_routes_the_weights(two_classes):
    X, y = two_classes
    w = np.where(y == 1, 3.0, 1.0)
    pipe = make_pipeline(StandardScaler(), rks.KernelClassifier(n_components=64, random_state=0))
    pipe.fit(X, y, kernelclassifier__sample_weight=w)
    alone = rks.KernelClassifier(n_components=64, random_state=0).fit(
        StandardScaler().fit_transform(X), y, sample_weight=w
    )
    assert np.array_equal(pipe[-1].model_.to_bytes(), alone.model_.to_bytes())


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(400), "Negative"),
        (np.ones(399), "shape"),
        (np.zeros(400), "non-zero"),
    ],
)
def test_bad_sample_weights(two_classes, weights, match):
    X, y = two_classes
    with pytest.raises(ValueError, match=match):
        rks.KernelClassifier(n_components=16).fit(X, y, sample_weight=weights)


def test_nan_weights_are_refused(two_classes):
    X, y = two_classes
    w = np.ones(400)
    w[3] = np.nan
    with pytest.raises(ValueError):
        rks.KernelClassifier(n_components=16).fit(X, y, sample_weight=w)

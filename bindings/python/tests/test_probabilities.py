"""Class probabilities (``KernelClassifier(probability=True)``): Platt's sigmoids on held-out
decision values. Shapes, sums and column order; string labels; sparse rows; saving; the
attribute rules of scikit-learn's ``SVC``; and the log loss on real data sets against
scikit-learn's own Platt scaling of an SVM."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

import rks


def check_probabilities(clf, X):
    """The probabilities of rows ``X`` are n × k, within [0, 1], sum to 1 by rows, and their
    logs are ``predict_log_proba``'s; returns them."""
    p = clf.predict_proba(X)
    assert p.shape == (X.shape[0], len(clf.classes_)) and p.dtype == np.float64
    assert np.all((p >= 0) & (p <= 1))
    assert np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.allclose(clf.predict_log_proba(X), np.log(p), rtol=1e-12, atol=1e-12)
    return p


def test_three_classes(classes3):
    X, y = classes3
    plain = rks.KernelClassifier(n_components=256, random_state=0).fit(X[:450], y[:450])
    clf = rks.KernelClassifier(n_components=256, probability=True, random_state=0)
    clf.fit(X[:450], y[:450])
    p = check_probabilities(clf, X[450:])
    # The model is the one fitted without probabilities: the same scores and predictions.
    assert np.array_equal(clf.decision_function(X[450:]), plain.decision_function(X[450:]))
    assert np.array_equal(clf.predict(X[450:]), plain.predict(X[450:]))
    # Columns follow classes_ (2, 5, 7): the class of the largest probability is, on nearly
    # every row, the predicted one (the sigmoids are per class, so not on every row), and the
    # probability of the true class is high on average.
    assert np.mean(clf.classes_[p.argmax(axis=1)] == clf.predict(X[450:])) > 0.95
    truth = np.searchsorted(clf.classes_, y[450:])
    assert p[np.arange(len(truth)), truth].mean() > 0.8
    calibration = clf.model_.calibration
    assert calibration["folds"] == 5 and len(calibration["sigmoids"]) == 3
    assert 0 < calibration["log_loss"] < 0.5
    assert 0.8 < calibration["accuracy"] <= 1
    assert all(a > 0 for a, _ in calibration["sigmoids"])  # higher score, higher probability
    assert plain.model_.calibration is None


def test_two_classes_with_string_labels(classes3):
    X, y = classes3
    names = np.where(y == 7, "seven", "other")
    clf = rks.KernelClassifier(n_components=256, solver="svm", probability=True, random_state=0)
    clf.fit(X[:450], names[:450])
    assert list(clf.classes_) == ["other", "seven"]
    p = check_probabilities(clf, X[450:])
    assert len(clf.model_.calibration["sigmoids"]) == 1  # one sigmoid, on class 1's score
    # The probability of classes_[1] rises with the decision value (> 0 means classes_[1]).
    scores = clf.decision_function(X[450:])
    order = np.argsort(scores, kind="stable")
    assert np.all(np.diff(p[order, 1]) >= 0)
    assert np.mean(clf.classes_[p.argmax(axis=1)] == clf.predict(X[450:])) > 0.95
    assert log_loss(names[450:], p, labels=clf.classes_) < 0.3


def test_sparse_rows():
    # Bags of six words among 300 columns; the class is which of three linear scores is largest.
    rng = np.random.default_rng(1)
    X = np.zeros((600, 300))
    for row in X:
        row[rng.integers(0, 300, size=6)] = rng.uniform(0.05, 1.0, size=6)
    y = np.argmax(X @ rng.uniform(-1, 1, size=(300, 3)), axis=1)
    S = sp.csr_matrix(X)
    clf = rks.KernelClassifier(probability=True, random_state=0).fit(S[:450], y[:450])
    assert (clf.feature_map_, clf.solver_) == ("linear", "svm")
    p = check_probabilities(clf, S[450:])
    assert clf.model_.calibration["folds"] == 5
    # The same probabilities from the rows dense (to rounding), and from CSC input.
    assert np.allclose(p, clf.predict_proba(X[450:]), rtol=1e-12, atol=1e-12)
    assert np.array_equal(clf.predict_proba(S[450:].tocsc()), p)
    assert np.allclose(clf.predict_log_proba(S[450:]), clf.predict_log_proba(X[450:]),
                       rtol=1e-12, atol=1e-12)
    # A dense model's probabilities of sparse rows.
    dense = rks.KernelClassifier(n_components=128, feature_map="fastfood", probability=True,
                                 random_state=0).fit(X[:450], y[:450])
    assert np.allclose(dense.predict_proba(S[450:]), dense.predict_proba(X[450:]),
                       rtol=1e-12, atol=1e-12)


def test_save_load_and_pickle_keep_the_probabilities(tmp_path, classes3):
    X, y = classes3
    clf = rks.KernelClassifier(n_components=128, probability=True, random_state=3).fit(X, y)
    clf.save(tmp_path / "p.rks")
    back = rks.KernelClassifier.load(tmp_path / "p.rks")
    assert back.get_params()["probability"] is True and hasattr(back, "predict_proba")
    assert back.model_.calibration == clf.model_.calibration
    assert np.array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert np.array_equal(back.predict_log_proba(X), clf.predict_log_proba(X))
    assert np.array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X))
    # String classes (saved as names) keep their columns.
    names = np.char.add("class ", y.astype(str))
    named = rks.KernelClassifier(n_components=64, probability=True, random_state=0).fit(X, names)
    named.save(tmp_path / "s.rks")
    loaded = rks.KernelClassifier.load(tmp_path / "s.rks")
    assert list(loaded.classes_) == list(named.classes_)
    assert np.array_equal(loaded.predict_proba(X), named.predict_proba(X))
    # A model saved without probabilities loads without them.
    rks.KernelClassifier(n_components=64, random_state=0).fit(X, y).save(tmp_path / "n.rks")
    plain = rks.KernelClassifier.load(tmp_path / "n.rks")
    assert plain.get_params()["probability"] is False and not hasattr(plain, "predict_proba")


def test_without_probability_there_is_no_predict_proba(classes3):
    X, y = classes3
    # As SVC: hidden unless probability=True (before the fit too), and only the classifier has
    # the parameter.
    assert not hasattr(rks.KernelClassifier(), "predict_proba")
    assert not hasattr(rks.KernelClassifier(), "predict_log_proba")
    assert hasattr(rks.KernelClassifier(probability=True), "predict_proba")
    assert "probability" not in rks.KernelRegressor().get_params()
    assert not hasattr(rks.KernelRegressor(), "predict_proba")
    clf = rks.KernelClassifier(n_components=64, random_state=0).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    # scikit-learn's message, caused by ours.
    with pytest.raises(AttributeError, match="no attribute 'predict_proba'") as error:
        clf.predict_proba(X)
    assert "not available when probability=False" in str(error.value.__cause__)
    # probability=True set after a fit without it: still none (the model has none).
    clf.set_params(probability=True)
    assert not hasattr(clf, "predict_log_proba")
    with pytest.raises(AttributeError) as error:
        clf.predict_proba(X)
    assert "fitted with probability=False" in str(error.value.__cause__)
    # The library's model says why it has none, as an AttributeError (SVC's exception).
    with pytest.raises(AttributeError, match="no class probabilities: it was fitted without"):
        clf.model_.predict_proba(X)
    with pytest.raises(AttributeError, match="no class probabilities"):
        clf.model_.predict_log_proba_sparse(
            np.array([0, 0], dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), 4)
    reg = rks.KernelRegressor(n_components=64, random_state=0).fit(X, y.astype(float))
    with pytest.raises(AttributeError, match="it is a regressor"):
        reg.model_.predict_proba(X)


def test_what_cannot_have_probabilities(classes3):
    X, y = classes3
    with pytest.raises(ValueError, match="probabilities are for classification"):
        rks._rks.Params(task="regression", map="fastfood", kernel="gaussian",
                        n_frequencies=None, gamma=None, scaler="minmax", solver="ridge",
                        alpha=None, c=None, seed=0, select=False, probabilities=True)
    clf = rks.KernelClassifier(n_components=64, probability=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict_proba(X[:, :3])
    # Columns labelled by classes_: a model whose classes disagree is refused, not mislabelled.
    clf.classes_ = np.array([2, 7, 5])
    with pytest.raises(ValueError, match="do not follow classes_"):
        clf.predict_proba(X)


def test_dask_fit_calibrates_on_leave_one_out_scores(classes3):
    """rks.dask.fit with probability=True (one NumPy partition, no cluster): the sigmoids on
    the sampled rows' leave-one-out scores, one fold a row (tests/test_dask.py checks more)."""
    pytest.importorskip("dask")
    import rks.dask

    X, y = classes3
    clf = rks.dask.fit(rks.KernelClassifier(n_components=64, probability=True), X, y)
    assert clf.model_.calibration["folds"] == len(y)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=0, atol=1e-9)


def platt_svm():
    """scikit-learn's Platt scaling of an RBF SVM: ``SVC(probability=True)`` (LIBSVM's 5-fold
    ``-b 1``; deprecated in scikit-learn 1.9), or where it is gone its named replacement,
    ``CalibratedClassifierCV(SVC(), ensemble=False)``."""
    if "probability" in SVC().get_params():
        return SVC(probability=True, random_state=0)
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(SVC(), ensemble=False)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_wine])
def test_log_loss_against_scikit_learn_svc(loader):
    """The held-out log loss of the default classifier's probabilities, against SVC's on the
    same split (70/30, stratified, seed 0; min-max scaled on the training rows). Measured
    (scikit-learn 1.9.1):

    - breast cancer (2 classes, 398 training rows): ours 0.0961, SVC(probability=True) 0.1091
      (CalibratedClassifierCV(SVC(), ensemble=False) 0.1098);
    - wine (3 classes, 124 training rows): ours 0.0518, SVC 0.0505 (CalibratedClassifierCV
      0.0441).

    The bound, 1.5 × SVC's, leaves margin for other seeds and versions (ours is 0.88 × and
    1.03 × SVC's) and still fails a calibration clearly worse than scikit-learn's."""
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = MinMaxScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), np.clip(scaler.transform(Xte), 0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # SVC's probability is deprecated
        svc = platt_svm().fit(Xtr, ytr)
    reference = log_loss(yte, svc.predict_proba(Xte))
    clf = rks.KernelClassifier(probability=True, random_state=0).fit(Xtr, ytr)
    ours = log_loss(yte, clf.predict_proba(Xte), labels=clf.classes_)
    assert ours <= 1.5 * reference, (ours, reference)
    assert clf.score(Xte, yte) >= svc.score(Xte, yte) - 0.03

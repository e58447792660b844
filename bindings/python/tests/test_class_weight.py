"""Class weights (``KernelClassifier(class_weight=...)``, the library's ``ClassWeights``): on an
imbalanced problem ``"balanced"`` raises the rare class's recall and the balanced accuracy; a
dict in the user's labels (strings, integers) is the library's weights on its labels; bad values
are ValueErrors; the native partial fit weighs as the in-memory fit (``rks.dask.fit`` with
class weights: ``tests/test_dask.py``); the parameter clones and pickles."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split

import rks
from rks import _rks


@pytest.fixture(scope="module")
def imbalanced():
    """1,500 rows of 3 columns, 119 (7.9 %) of class 1: two Gaussians of unit variance whose
    means are 1.5 apart in two columns (they overlap), split in halves stratified by class (59
    and 60 rows of class 1)."""
    rng = np.random.default_rng(5)
    y = (rng.random(1500) < 0.07).astype(np.int64)
    X = rng.normal(size=(1500, 3))
    X[y == 1, :2] += 1.5
    return train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)


def scores(clf, X, y):
    """Recall of class 1, balanced accuracy and accuracy of ``clf``'s predictions of ``X``."""
    p = clf.predict(X)
    return recall_score(y, p), balanced_accuracy_score(y, p), accuracy_score(y, p)


@pytest.mark.parametrize("solver", ["auto", "ridge", "svm"])
def test_balanced_finds_the_rare_class(imbalanced, solver):
    X_train, X_test, y_train, y_test = imbalanced
    kw = dict(n_components=256, solver=solver, random_state=0)
    plain = rks.KernelClassifier(**kw).fit(X_train, y_train)
    balanced = rks.KernelClassifier(class_weight="balanced", **kw).fit(X_train, y_train)
    recall, bacc, acc = scores(plain, X_test, y_test)
    recall_b, bacc_b, acc_b = scores(balanced, X_test, y_test)
    # Measured, the same for each of the three solvers (auto chooses ridge both times; C goes
    # 1.0 -> 0.1, λ 0.28 -> 5.1): recall of class 1 0.390 -> 0.831 (23 -> 49 of 59 rows),
    # balanced accuracy 0.690 -> 0.840, accuracy 0.943 -> 0.848 (the price: more rows of
    # class 0 called 1).
    assert recall_b > recall + 0.25 and recall_b > 0.7, (recall, recall_b)
    assert bacc_b > bacc + 0.08 and bacc_b > 0.78, (bacc, bacc_b)
    assert acc_b > 0.8, acc_b


def test_balanced_is_the_dict_of_its_weights(imbalanced):
    X_train, _, y_train, _ = imbalanced
    n, counts = len(y_train), np.bincount(y_train)
    weights = {c: n / (2 * counts[c]) for c in (0, 1)}  # scikit-learn's n / (k * n_c)
    kw = dict(n_components=128, random_state=0)
    balanced = rks.KernelClassifier(class_weight="balanced", **kw).fit(X_train, y_train)
    given = rks.KernelClassifier(class_weight=weights, **kw).fit(X_train, y_train)
    assert balanced.model_.to_bytes() == given.model_.to_bytes()


def test_string_labels_weigh_as_their_integers(imbalanced):
    X_train, X_test, y_train, _ = imbalanced
    kw = dict(n_components=128, solver="svm", random_state=0)
    names = np.array(["a", "b"])[y_train]
    by_name = rks.KernelClassifier(class_weight={"a": 1, "b": 4}, **kw).fit(X_train, names)
    by_index = rks.KernelClassifier(class_weight={0: 1, 1: 4}, **kw).fit(X_train, y_train)
    # String labels are the library's classes 0 and 1: the same model, bit for bit.
    assert by_name.model_.to_bytes() == by_index.model_.to_bytes()
    assert np.array_equal(by_name.predict(X_test), np.array(["a", "b"])[by_index.predict(X_test)])
    # The weights change the model (classes not named weigh 1).
    unweighted = rks.KernelClassifier(**kw).fit(X_train, y_train)
    assert not np.array_equal(unweighted.decision_function(X_test),
                              by_index.decision_function(X_test))


def test_integer_labels_weigh_as_their_indices(imbalanced):
    # Integer labels are the library's labels as they are (3 and 8 here). The seeded row sample
    # that the column relevance learns on hashes each row's label too, so labels 3/8 and 0/1 pick
    # different rows there: without relevance the fits are the same.
    X_train, X_test, y_train, _ = imbalanced
    kw = dict(n_components=128, solver="svm", relevance=False, random_state=0)
    by_index = rks.KernelClassifier(class_weight={0: 1, 1: 4}, **kw).fit(X_train, y_train)
    labels = np.array([3, 8])[y_train]
    by_label = rks.KernelClassifier(class_weight={np.int64(8): 4.0}, **kw).fit(X_train, labels)
    assert np.array_equal(by_label.decision_function(X_test), by_index.decision_function(X_test))
    assert np.array_equal(by_label.predict(X_test), np.array([3, 8])[by_index.predict(X_test)])


def test_three_classes_with_names(classes3):
    X, y = classes3
    names = np.array(["a", "b", "c"])[np.searchsorted([2, 5, 7], y)]
    kw = dict(n_components=128, solver="ridge", relevance=False, random_state=0)
    by_name = rks.KernelClassifier(class_weight={"c": 3.0, "a": 0.5}, **kw).fit(X, names)
    by_label = rks.KernelClassifier(class_weight={7: 3.0, 2: 0.5}, **kw).fit(X, y)
    assert np.array_equal(by_name.decision_function(X), by_label.decision_function(X))
    assert list(by_name.classes_) == ["a", "b", "c"]
    # The heavy class is predicted more often than without weights, the light one less.
    plain = rks.KernelClassifier(**kw).fit(X, names)
    more = {c: (by_name.predict(X) == c).sum() - (plain.predict(X) == c).sum() for c in "ac"}
    assert more["c"] > 0 > more["a"], more


def test_sparse_rows(imbalanced):
    X_train, X_test, y_train, y_test = imbalanced
    S_train, S_test = sp.csr_matrix(X_train), sp.csr_matrix(X_test)
    plain = rks.KernelClassifier(random_state=0).fit(S_train, y_train)
    balanced = rks.KernelClassifier(class_weight="balanced", random_state=0).fit(S_train, y_train)
    assert (balanced.feature_map_, balanced.solver_) == ("linear", "svm")
    recall, bacc, _ = scores(plain, S_test, y_test)
    recall_b, bacc_b, _ = scores(balanced, S_test, y_test)
    # Measured (the linear SVM on the rows, C 1.0 -> 0.1 by cross-validation): recall of class 1
    # 0.373 -> 0.847 (22 -> 50 of 59 rows), balanced accuracy 0.684 -> 0.848.
    assert recall_b > recall + 0.25 and bacc_b > bacc + 0.08, (recall, recall_b, bacc, bacc_b)
    with pytest.raises(ValueError, match="'z'"):
        rks.KernelClassifier(class_weight={"z": 2.0}).fit(S_train, np.array(["a", "b"])[y_train])


def test_with_probabilities(imbalanced):
    X_train, X_test, y_train, _ = imbalanced
    kw = dict(n_components=128, class_weight="balanced", random_state=0)
    clf = rks.KernelClassifier(probability=True, **kw).fit(X_train, y_train)
    p = clf.predict_proba(X_test)
    assert p.shape == (len(X_test), 2) and np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # The calibration does not change the weighted model.
    weighted = rks.KernelClassifier(**kw).fit(X_train, y_train)
    assert np.array_equal(clf.decision_function(X_test), weighted.decision_function(X_test))


@pytest.mark.parametrize(
    "class_weight, match",
    [
        ({"z": 2.0}, r"label 'z', which is not a class of the training labels \['a', 'b'\]"),
        ({"a": 1.0, 3: 2.0}, "label 3, which is not a class"),
        ({"a": 0.0}, r"class_weight\['a'\] must be a finite number > 0, got 0.0"),
        ({"b": -1}, "must be a finite number > 0"),
        ({"b": float("nan")}, "must be a finite number > 0"),
        ({"b": float("inf")}, "must be a finite number > 0"),
        ({"b": "2"}, "must be a finite number > 0"),
        ({"b": None}, "must be a finite number > 0"),
        ("Balanced", "class_weight must be None, 'balanced' or a dict"),
        ("auto", "class_weight must be None, 'balanced' or a dict"),
        ([1.0, 2.0], "class_weight must be None, 'balanced' or a dict"),
        (2.0, "class_weight must be None, 'balanced' or a dict"),
    ],
)
def test_bad_class_weights(class_weight, match):
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.where(X[:, 0] > 0, "b", "a")
    with pytest.raises(ValueError, match=match):
        rks.KernelClassifier(n_components=32, class_weight=class_weight).fit(X, y)


def test_integer_labels_name_their_classes():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.where(X[:, 0] > 0, 8, 3)
    with pytest.raises(ValueError, match=r"label 0, which is not a class of the training labels "
                                         r"\[3, 8\]"):
        rks.KernelClassifier(n_components=32, class_weight={0: 2.0}).fit(X, y)
    # A whole float names the integer class it equals, as a dict lookup does.
    rks.KernelClassifier(n_components=32, class_weight={8.0: 2.0}).fit(X, y)


def test_params_clone_and_pickle(imbalanced):
    X_train, X_test, y_train, _ = imbalanced
    clf = rks.KernelClassifier(n_components=64, class_weight={1: 5.0}, random_state=0)
    assert clf.get_params()["class_weight"] == {1: 5.0}
    assert rks.KernelClassifier().get_params()["class_weight"] is None
    copy = clone(clf)
    assert copy.class_weight == {1: 5.0} and copy.class_weight is not clf.class_weight
    assert copy.set_params(class_weight="balanced") is copy and copy.class_weight == "balanced"
    assert clf.class_weight == {1: 5.0}
    fitted = clf.fit(X_train, y_train)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.class_weight == {1: 5.0}
    assert np.array_equal(restored.predict(X_test), fitted.predict(X_test))
    assert "class_weight={1: 5.0}" in repr(clf)
    # The regressor has no classes to weigh.
    assert "class_weight" not in rks.KernelRegressor().get_params()


def params(**overrides):
    """The keyword arguments of ``_rks.Params`` for a small classifier, with ``overrides``."""
    return {**rks.KernelClassifier(n_components=64, random_state=0)._params(), **overrides}


def test_the_native_params():
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = np.where(X[:, 0] > 0.5, 8.0, 3.0)
    assert _rks.Params(**params()).class_weights is None
    assert _rks.Params(**params(class_weights="balanced")).class_weights == "balanced"
    given = _rks.Params(**params(class_weights={8: 2.5}))
    assert given.class_weights == [(8, 2.5)]
    assert _rks.Params(**params(class_weights=[(8, 2.5)])).class_weights == [(8, 2.5)]
    # Labels are the library's (the targets' values): checked at fit time.
    given.fit(X, y)
    with pytest.raises(ValueError, match="class 5 is given a weight but is not a class"):
        _rks.Params(**params(class_weights={5: 2.0})).fit(X, y)
    # Weights finite and > 0, no label twice: the library's checks.
    for bad in ({8: 0.0}, {8: -1.0}, {8: float("nan")}, [(8, 1.0), (8, 2.0)]):
        with pytest.raises(ValueError, match="class_weights"):
            _rks.Params(**params(class_weights=bad))
    for bad in ("balance", {"8": 1.0}, {8.5: 1.0}, [8], 3):
        with pytest.raises(ValueError, match="class_weights must be None"):
            _rks.Params(**params(class_weights=bad))
    # Classification only.
    with pytest.raises(ValueError, match="classification"):
        _rks.Params(**{**rks.KernelRegressor(n_components=64)._params(),
                       "class_weights": "balanced"})


def partial_fit(native, parts):
    """The native partial fit of ``parts`` ((rows, targets) pairs): pass 1 of each part, merged;
    the plan; pass 2 of each part under it, merged; the model."""
    first = _rks.merge_first([native.first_pass(x, y) for x, y in parts])
    plan = native.plan(first)
    second = _rks.merge_second([_rks.second_pass(plan, x, y) for x, y in parts])
    return native.finish(plan, second)


@pytest.mark.parametrize("class_weights", ["balanced", {8: 3.0}])
def test_the_native_partial_fit_weighs_as_in_memory(imbalanced, class_weights):
    # Ridge on Fastfood, 750 rows and 64 features: the in-memory fit sums the same exact
    # statistics, so the model in three uneven parts is the same bytes ("balanced" resolved on
    # pass 1's counts of each class).
    X_train, _, y_train, _ = imbalanced
    y = np.where(y_train == 1, 8.0, 0.0)
    native = _rks.Params(**params(class_weights=class_weights, solver="ridge", map="fastfood"))
    whole = native.fit(X_train, y).to_bytes()
    cuts = [0, 100, 500, len(y)]
    parts = [(X_train[a:b], y[a:b]) for a, b in zip(cuts, cuts[1:])]
    assert partial_fit(native, parts).to_bytes() == whole
    unweighted = _rks.Params(**params(solver="ridge", map="fastfood"))
    assert partial_fit(unweighted, parts).to_bytes() != whole
    # A label that is not a class: the plan names the classes.
    unknown = _rks.Params(**params(class_weights={5: 2.0}, solver="ridge", map="fastfood"))
    with pytest.raises(ValueError, match=r"class 5 is given a weight but is not a class of the "
                                         r"training rows \(\[0, 8\]\)"):
        partial_fit(unknown, parts)


@pytest.mark.parametrize("labels", [None, ["no", "yes"], [3, 8]])
def test_a_saved_model_keeps_its_class_weights(imbalanced, tmp_path, labels):
    # The model file records each class's weight ("balanced" as resolved on the training
    # labels): load() gives them back as class_weight, by the user's labels, and a refit of the
    # loaded estimator's parameters weighs as the fit did.
    X_train, X_test, y_train, _ = imbalanced
    y = y_train if labels is None else np.array(labels)[y_train]
    kw = dict(n_components=128, solver="svm", C=1.0, relevance=False, random_state=0)
    clf = rks.KernelClassifier(class_weight="balanced", **kw).fit(X_train, y)
    n, counts = len(y_train), np.bincount(y_train)
    assert clf.model_.class_weights == [n / (2 * counts[0]), n / (2 * counts[1])]
    path = tmp_path / "m.rks"
    clf.save(path)
    loaded = rks.KernelClassifier.load(path)
    expected = dict(zip(clf.classes_.tolist(), clf.model_.class_weights))
    assert loaded.class_weight == expected
    assert all(type(k) in (int, str) for k in loaded.class_weight)
    assert np.array_equal(loaded.decision_function(X_test), clf.decision_function(X_test))
    refit = clone(loaded).fit(X_train, y)
    assert refit.model_.class_weights == clf.model_.class_weights
    # Without class weights the model records none.
    plain = rks.KernelClassifier(**kw).fit(X_train, y)
    plain.save(path)
    assert plain.model_.class_weights is None
    assert rks.KernelClassifier.load(path).class_weight is None

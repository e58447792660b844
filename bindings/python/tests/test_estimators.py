"""The estimators: accuracy, labels, pipelines and grid search, pickling, saving, determinism."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import rks


def test_classifier_learns_and_keeps_its_labels(classes3):
    X, y = classes3
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    clf = rks.KernelClassifier(n_components=512, random_state=0).fit(Xtr, ytr)
    assert list(clf.classes_) == [2, 5, 7]
    assert set(clf.predict(Xte)) <= {2, 5, 7}
    assert clf.score(Xte, yte) > 0.9
    assert clf.decision_function(Xte).shape == (len(Xte), 3)
    assert clf.gamma_ > 0 and (clf.alpha_ if clf.solver_ == "ridge" else clf.C_) > 0


def test_string_labels_and_two_classes(classes3):
    X, y = classes3
    names = np.where(y == 7, "seven", "other")
    clf = rks.KernelClassifier(n_components=256, random_state=0).fit(X, names)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X),)
    assert np.array_equal(clf.predict(X), np.where(scores > 0, "seven", "other"))
    assert clf.score(X, names) > 0.9


def test_svm_solver(classes3):
    X, y = classes3
    clf = rks.KernelClassifier(n_components=512, solver="svm", C=10.0, random_state=0)
    assert clf.fit(X[:450], y[:450]).score(X[450:], y[450:]) > 0.85
    assert clf.alpha_ is None and clf.C_ == 10.0  # a given C is kept
    searched = rks.KernelClassifier(n_components=512, solver="svm", random_state=0)
    searched.fit(X[:450], y[:450])
    assert searched.C_ in (0.01, 0.1, 1.0, 10.0, 100.0)  # the library's grid
    fixed = rks.KernelClassifier(n_components=512, solver="svm", model_selection=False)
    assert fixed.fit(X[:450], y[:450]).C_ == 1.0
    with pytest.raises(ValueError, match="alpha"):
        rks.KernelClassifier(solver="svm", alpha=1.0).fit(X, y)
    with pytest.raises(ValueError, match="SVM is a classifier"):
        rks.KernelRegressor(solver="svm").fit(X, y.astype(float))


def test_the_defaults_choose_the_map_the_solver_and_n(classes3):
    X, y = classes3
    clf = rks.KernelClassifier(random_state=0).fit(X[:450], y[:450])
    assert clf.feature_map_ in ("fastfood", "nystrom") and clf.solver_ in ("ridge", "svm")
    assert clf.score(X[450:], y[450:]) > 0.85
    # Named maps, solvers and sizes are kept.
    fixed = rks.KernelClassifier(n_components=128, feature_map="orf", solver="ridge",
                                 random_state=0).fit(X, y)
    assert (fixed.feature_map_, fixed.solver_, fixed.n_components_) == ("orf", "ridge", 128)
    # With the solver "auto", alpha alone means ridge and C alone the SVM.
    assert rks.KernelClassifier(n_components=64, alpha=1.0).fit(X, y).solver_ == "ridge"
    assert rks.KernelClassifier(n_components=64, C=1.0).fit(X, y).solver_ == "svm"
    with pytest.raises(ValueError, match="give one"):
        rks.KernelClassifier(alpha=1.0, C=1.0).fit(X, y)
    with pytest.raises(ValueError, match="budget"):
        rks.KernelClassifier(budget=-1.0).fit(X, y)


def test_regressor(regression):
    X, y = regression
    reg = rks.KernelRegressor(n_components=512, random_state=0).fit(X[:400], y[:400])
    assert reg.score(X[400:], y[400:]) > 0.95


@pytest.mark.parametrize("feature_map", ["dense", "orf", "sorf", "nystrom"])
def test_every_map_fits(feature_map, classes3):
    X, y = classes3
    clf = rks.KernelClassifier(n_components=256, feature_map=feature_map, random_state=0)
    assert clf.fit(X[:450], y[:450]).score(X[450:], y[450:]) > 0.85


def test_the_linear_map():
    # The rows themselves (the linear kernel, as LIBLINEAR): a linear truth in 20 dimensions.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 20))
    y = (X @ rng.normal(size=20) > 0).astype(int)
    clf = rks.KernelClassifier(feature_map="linear", kernel="linear", random_state=0)
    assert clf.fit(X[:300], y[:300]).score(X[300:], y[300:]) > 0.9
    assert (clf.feature_map_, clf.n_components_) == ("linear", 20)
    with pytest.raises(ValueError, match="linear"):
        rks.KernelClassifier(feature_map="linear").fit(X, y)


def test_sparse_rows_are_offered_the_linear_model():
    # Bags of six words among 300 columns; the class is which of three linear scores is largest.
    rng = np.random.default_rng(1)
    X = np.zeros((900, 300))
    for row in X:
        row[rng.integers(0, 300, size=6)] = rng.uniform(0.05, 1.0, size=6)
    y = np.argmax(X @ rng.uniform(-1, 1, size=(300, 3)), axis=1)
    clf = rks.KernelClassifier(n_components=128, random_state=0).fit(X, y)
    assert (clf.feature_map_, clf.solver_) == ("linear", "svm")
    off = rks.KernelClassifier(n_components=128, linear_offer=False, random_state=0).fit(X, y)
    assert off.feature_map_ != "linear"


def test_sparse_matrices_are_fitted_by_their_entries(tmp_path):
    import scipy.sparse as sp

    def bags(rows, cols, seed):
        # Rows of 5 words among `cols` columns; the class is whether words of the first quarter
        # outnumber those of the second.
        rng = np.random.default_rng(seed)
        words = rng.integers(0, cols, size=(rows, 5))
        X = sp.csr_matrix(
            (np.ones(rows * 5), (np.repeat(np.arange(rows), 5), words.ravel())),
            shape=(rows, cols),
        )
        X.data[:] = 1.0  # repeated words summed, then set back to one
        quarter = cols // 4
        score = (words < quarter).sum(1) - ((words >= quarter) & (words < 2 * quarter)).sum(1)
        return X, np.where(score > 0, "pos", "neg"), score

    X, y, score = bags(1200, 400, 2)
    clf = rks.KernelClassifier(random_state=0).fit(X[:900], y[:900])
    assert (clf.feature_map_, clf.solver_, clf.n_components_) == ("linear", "svm", 400)
    assert clf.C_ in (0.01, 0.1, 1.0, 10.0, 100.0)
    # Stated margin: 85 % of held-out rows on a linear truth of five words a row.
    assert clf.score(X[900:], y[900:]) > 0.85
    # 50,000 columns (a dense float64 copy of 1,200 rows would take 480 MB): held as entries.
    wide, labels, _ = bags(1200, 50_000, 3)
    assert rks.KernelClassifier(random_state=0).fit(wide, labels).n_components_ == 50_000
    # The same scores from the rows dense, to rounding, and from CSC or COO input.
    dense = clf.decision_function(X[900:1000].toarray())
    assert np.allclose(clf.decision_function(X[900:1000]), dense, rtol=1e-12, atol=1e-12)
    assert np.array_equal(clf.predict(X[900:].tocsc()), clf.predict(X[900:]))
    # A dense model scores sparse rows too.
    small = sp.random(200, 30, density=0.2, random_state=0, format="csr")
    labels = (small.sum(axis=1).A1 > 0.6).astype(int)
    ff = rks.KernelClassifier(n_components=64, random_state=0).fit(small.toarray(), labels)
    assert np.array_equal(ff.predict(small), ff.predict(small.toarray()))
    with pytest.raises(ValueError, match="needs the rows dense"):
        rks.KernelClassifier(feature_map="fastfood").fit(X, y)
    # Values on sparse rows: ridge on their entries.
    reg = rks.KernelRegressor(random_state=0).fit(X[:900], score[:900].astype(float))
    assert (reg.feature_map_, reg.solver_, reg.alpha_ > 0) == ("linear", "ridge", True)
    assert reg.score(X[900:], score[900:].astype(float)) > 0.9
    with pytest.raises(ValueError, match="needs the rows dense"):
        rks.KernelRegressor(feature_map="nystrom").fit(X, score.astype(float))


def test_pipeline_with_grid_search(classes3):
    X, y = classes3
    pipe = make_pipeline(StandardScaler(), rks.FastfoodSampler(random_state=0), RidgeClassifier())
    grid = GridSearchCV(
        pipe,
        {"fastfoodsampler__gamma": [0.01, 0.3], "fastfoodsampler__n_components": [128, 512]},
        cv=3,
    ).fit(X, y)
    assert grid.best_score_ > 0.85
    assert grid.best_params_["fastfoodsampler__gamma"] == 0.3
    search = GridSearchCV(
        rks.KernelClassifier(random_state=0, model_selection=False),
        {"gamma": [0.001, 10.0], "solver": ["ridge", "svm"]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_["gamma"] == 10.0 and search.best_score_ > 0.85


def test_pickle_is_the_model_bytes(classes3):
    X, y = classes3
    clf = rks.KernelClassifier(n_components=128, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    assert back.model_.to_bytes() == clf.model_.to_bytes()
    assert np.array_equal(back.decision_function(X), clf.decision_function(X))


def test_save_and_load(tmp_path, classes3, regression):
    X, y = classes3
    clf = rks.KernelClassifier(n_components=128, random_state=3).fit(X, y)
    clf.save(tmp_path / "c.rks")
    back = rks.KernelClassifier.load(tmp_path / "c.rks")
    assert back.model_.to_bytes() == clf.model_.to_bytes()
    assert np.array_equal(back.predict(X), clf.predict(X))
    assert back.get_params()["random_state"] == 3 and back.n_features_in_ == 4
    with pytest.raises(ValueError, match="classification model, not regression"):
        rks.KernelRegressor.load(tmp_path / "c.rks")
    # String classes are saved as the names of the classes 0..k-1; other labels are refused.
    named = rks.KernelClassifier(n_components=64).fit(X, np.char.add("class ", y.astype(str)))
    named.save(tmp_path / "s.rks")
    loaded = rks.KernelClassifier.load(tmp_path / "s.rks")
    assert list(loaded.classes_) == list(named.classes_)
    assert loaded.model_.class_names == [str(c) for c in named.classes_]
    assert np.array_equal(loaded.predict(X), named.predict(X))
    assert named.model_.class_names is None  # the fitted estimator is unchanged
    with pytest.raises(ValueError, match="integer class labels or class names"):
        rks.KernelClassifier(n_components=64).fit(X, (y.astype(np.int64) + 1) * 2**55).save(tmp_path / "b.rks")
    (tmp_path / "junk.rks").write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not an rks model"):
        rks.KernelClassifier.load(tmp_path / "junk.rks")
    with pytest.raises(OSError):
        rks.KernelRegressor.load(tmp_path / "missing.rks")
    Xr, yr = regression
    reg = rks.KernelRegressor(n_components=64, random_state=0).fit(Xr, yr)
    reg.save(tmp_path / "r.rks")
    assert np.array_equal(rks.KernelRegressor.load(tmp_path / "r.rks").predict(Xr), reg.predict(Xr))


def test_model_does_not_depend_on_the_thread_count(classes3):
    X, y = classes3
    here = rks.KernelClassifier(n_components=512, random_state=5).fit(X, y).model_.to_bytes()
    code = (
        "import sys, numpy as np, rks; d = np.frombuffer(sys.stdin.buffer.read()).reshape(600, 5);"
        "m = rks.KernelClassifier(n_components=512, random_state=5).fit(d[:, :4], d[:, 4]);"
        "sys.stdout.buffer.write(m.model_.to_bytes())"
    )
    data = np.column_stack([X, y]).astype(np.float64).tobytes()
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    one = subprocess.run([sys.executable, "-c", code], input=data, env=env,
                         capture_output=True, check=True).stdout
    assert one == here


def test_column_relevance_can_be_turned_off():
    """The target depends on one column of nine: the learned column weights (on by default)
    drop the other eight and fit better than the columns as scaled; relevance=False is
    ``rks fit --no-relevance``."""
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(1000, 9))
    y = np.sin(3 * X[:, 0]) + 0.05 * rng.standard_normal(1000)
    fit = lambda relevance: rks.KernelRegressor(
        n_components=256, relevance=relevance, random_state=0).fit(X[:800], y[:800])
    weighted, plain = fit(True), fit(False)
    assert plain.get_params()["relevance"] is False
    assert weighted.score(X[800:], y[800:]) > plain.score(X[800:], y[800:]) + 0.02


def test_column_weights_given_by_hand():
    """input_weights is ``rks fit --input-weights``: the weights multiply the scaled columns and
    none are learned. Weighing the one informative column up and the others down fits as
    the learned weights do; zero on it leaves nothing to fit; bad weights are ValueErrors."""
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(1000, 9))
    y = np.sin(3 * X[:, 0]) + 0.05 * rng.standard_normal(1000)
    fit = lambda **kw: rks.KernelRegressor(n_components=256, random_state=0, **kw).fit(
        X[:800], y[:800])
    plain = fit(relevance=False).score(X[800:], y[800:])
    informative = fit(input_weights=[1.0] + [0.0] * 8)
    assert informative.get_params()["input_weights"] == [1.0] + [0.0] * 8
    assert informative.score(X[800:], y[800:]) > plain + 0.02
    blind = fit(input_weights=[0.0] + [1.0] * 8)
    assert blind.score(X[800:], y[800:]) < 0.2
    for bad in ([1.0, 2.0], [1.0, -1.0] + [1.0] * 7, [0.0] * 9, [float("nan")] * 9):
        with pytest.raises(ValueError):
            fit(input_weights=bad)

"""Models cross between Python and the `rks` tool: a model saved from Python predicts the same in
`rks predict`, a model written by `rks fit` loads here, and both fits give the same bytes.

The tool is `$RKS_BIN`, else `target/release/rks` or `target/debug/rks` of this repository
(`cargo build` makes it; `.ci/run` builds it and sets `RKS_REQUIRE_TOOL=1`, so there a missing
tool fails instead of skipping)."""

import os
import pathlib
import subprocess

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

import rks

ROOT = pathlib.Path(__file__).resolve().parents[3]


def find_tool():
    candidates = [os.environ.get("RKS_BIN")] + [
        ROOT / "target" / profile / "rks" for profile in ("release", "debug")
    ]
    for path in candidates:
        if path and pathlib.Path(path).is_file():
            return str(path)
    if os.environ.get("RKS_REQUIRE_TOOL") == "1":
        pytest.fail("the rks tool is required (RKS_REQUIRE_TOOL=1) but was not found")
    pytest.skip("the rks tool is not built (cargo build), and RKS_BIN is not set")


@pytest.fixture(scope="module")
def tool():
    return find_tool()


def run(tool, *args):
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, check=True)


def write(path, X, y):
    """Writes a LIBSVM file and returns the rows and targets it holds (its 16 significant
    digits are not every f64's: both sides must fit the same values)."""
    dump_svmlight_file(X, y, str(path), zero_based=False)
    rows, targets = load_svmlight_file(str(path), n_features=X.shape[1], zero_based=False)
    return rows.toarray(), targets


def predictions(tool, model, data, out):
    run(tool, "predict", "--model", model, "--data", data, "--output", out)
    return np.loadtxt(out)


@pytest.fixture
def files(tmp_path, classes3):
    X, y = classes3
    train, test = tmp_path / "train.libsvm", tmp_path / "test.libsvm"
    Xtr, ytr = write(train, X[:450], y[:450])
    Xte, yte = write(test, X[450:], y[450:])
    return np.vstack([Xtr, Xte]), np.concatenate([ytr, yte]).astype(int), train, test


def test_python_model_in_the_tool(tool, tmp_path, files):
    X, y, _, test = files
    clf = rks.KernelClassifier(n_components=256, random_state=3).fit(X[:450], y[:450])
    clf.save(tmp_path / "py.rks")
    assert np.array_equal(predictions(tool, tmp_path / "py.rks", test, tmp_path / "p.txt"),
                          clf.predict(X[450:]))


def test_tool_model_in_python_and_the_same_fit(tool, tmp_path, files):
    X, y, train, test = files
    run(tool, "fit", "--train", train, "--features", 4, "--model", tmp_path / "cli.rks",
        "--map", "fastfood", "--frequencies", 128, "--seed", 3, "--task", "classification",
        "--solver", "ridge")
    loaded = rks.KernelClassifier.load(tmp_path / "cli.rks")
    assert list(loaded.classes_) == [2, 5, 7]
    assert np.array_equal(loaded.predict(X[450:]),
                          predictions(tool, tmp_path / "cli.rks", test, tmp_path / "p.txt"))
    same = rks.KernelClassifier(n_components=256, random_state=3, feature_map="fastfood",
                                solver="ridge").fit(X[:450], y[:450])
    assert same.model_.to_bytes() == (tmp_path / "cli.rks").read_bytes()


def test_the_default_fits_are_the_tools(tool, tmp_path, files, regression):
    """No options on either side: the same searches (map, solver, n within the budget), the
    same model bytes."""
    X, y, train, _ = files
    run(tool, "fit", "--train", train, "--features", 4, "--model", tmp_path / "c.rks",
        "--seed", 3, "--task", "classification")
    clf = rks.KernelClassifier(random_state=3).fit(X[:450], y[:450])
    assert clf.model_.to_bytes() == (tmp_path / "c.rks").read_bytes()
    Xr, yr = regression
    data = tmp_path / "r.libsvm"
    Xr, yr = write(data, Xr, yr)
    run(tool, "fit", "--train", data, "--features", 3, "--model", tmp_path / "r.rks",
        "--seed", 1, "--task", "regression")
    reg = rks.KernelRegressor(random_state=1).fit(Xr, yr)
    assert reg.model_.to_bytes() == (tmp_path / "r.rks").read_bytes()


def test_regressor_both_ways(tool, tmp_path, regression):
    X, y = regression
    data = tmp_path / "r.libsvm"
    X, y = write(data, X, y)
    reg = rks.KernelRegressor(n_components=128, random_state=1, feature_map="fastfood").fit(X, y)
    reg.save(tmp_path / "py.rks")
    # The tool prints each prediction with the shortest digits that read back as the same f64.
    assert np.array_equal(predictions(tool, tmp_path / "py.rks", data, tmp_path / "p.txt"),
                          reg.predict(X))
    run(tool, "fit", "--train", data, "--features", 3, "--model", tmp_path / "cli.rks",
        "--frequencies", 64, "--seed", 1, "--task", "regression", "--map", "fastfood",
        "--solver", "ridge")
    assert (tmp_path / "cli.rks").read_bytes() == reg.model_.to_bytes()


def test_probabilities_both_ways(tool, tmp_path, files):
    """`rks fit --probabilities` and `probability=True` write the same bytes; the tool prints
    the probabilities of a model saved from Python exactly (shortest round-trip digits), and
    a model it wrote loads here with predict_proba."""
    if "--probabilities" not in run(tool, "fit", "--help").stdout:
        if os.environ.get("RKS_REQUIRE_TOOL") == "1":
            pytest.fail(f"{tool} has no `fit --probabilities`: it is older than this package")
        pytest.skip(f"{tool} predates `rks fit --probabilities` (rebuild it)")
    X, y, train, test = files
    run(tool, "fit", "--train", train, "--features", 4, "--model", tmp_path / "cli.rks",
        "--map", "fastfood", "--frequencies", 128, "--seed", 3, "--task", "classification",
        "--solver", "ridge", "--probabilities")
    same = rks.KernelClassifier(n_components=256, random_state=3, feature_map="fastfood",
                                solver="ridge", probability=True).fit(X[:450], y[:450])
    assert same.model_.to_bytes() == (tmp_path / "cli.rks").read_bytes()
    loaded = rks.KernelClassifier.load(tmp_path / "cli.rks")
    assert np.array_equal(loaded.predict_proba(X[450:]), same.predict_proba(X[450:]))
    same.save(tmp_path / "py.rks")
    run(tool, "predict", "--model", tmp_path / "py.rks", "--data", test, "--probabilities",
        "--output", tmp_path / "p.csv")
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "label,2,5,7"
    printed = np.loadtxt(lines[1:], delimiter=",")
    assert np.array_equal(printed[:, 0], same.predict(X[450:]))
    assert np.array_equal(printed[:, 1:], same.predict_proba(X[450:]))

"""Fitting :class:`~rks.KernelClassifier` and :class:`~rks.KernelRegressor` on Dask
collections through the library's partial-fit API.

Each block of rows is a partition: pass 1 (scaler statistics, ranges, each class's count of
rows, a seeded row sample) runs on the workers and merges in a tree; the plan (scaler, σ, map,
fixed-point grid, class weights with ``"balanced"`` resolved on the counts) is made once from
the merged pass 1 and sent to the workers; pass 2 (the exact ridge statistics ΦᵀΦ, ΦᵀY, …, each
row weighted by its class) runs on the workers and merges in a tree; the model is finished from
the plan and the merged pass 2. Everything exchanged is the library's envelope bytes, and every
merge is an exact integer sum, so the model is the same bytes however Dask cuts and groups the
blocks, and the same bytes as ``estimator.fit`` on the computed arrays with
``feature_map="fastfood"`` and ``solver="ridge"`` when that fit takes the primal form (more rows
than features, the min-max or no scaler: see ``docs/python.md``).

Workers import this module by reference: the ``rks`` package must be installed on every worker.

>>> import dask.array as da, numpy as np, rks, rks.dask
>>> X = da.random.default_rng(0).uniform(-1, 1, size=(600, 2), chunks=(200, 2))
>>> y = (X[:, 0] * X[:, 1] > 0).astype(int)
>>> clf = rks.dask.fit(rks.KernelClassifier(n_components=64, random_state=0), X, y)
>>> bool(np.array_equal(clf.model_.to_bytes(),
...      rks.KernelClassifier(n_components=64, random_state=0, feature_map="fastfood",
...                           solver="ridge").fit(X.compute(), y.compute()).model_.to_bytes()))
True
"""

from collections.abc import Mapping

import dask
import dask.array as da
import numpy as np

from . import _rks
from .estimators import KernelClassifier, KernelRegressor, classes_as_targets

#: Parts merged per task of the merge trees.
FAN_IN = 8


def fit(estimator, X, y):
    """Fits ``estimator`` (a :class:`~rks.KernelClassifier` or :class:`~rks.KernelRegressor`
    with ``solver="ridge"`` and a map drawn from its seed, i.e. not Nyström) on the Dask array
    or data frame ``X`` and the Dask array or series ``y``, on the current Dask scheduler (a
    ``distributed.Client`` when one is active). Returns the fitted ``estimator``.

    The partial fit is ridge on one map of a fixed size, as ``rks fit --stream``: the defaults
    ``feature_map="auto"`` and ``solver="auto"`` count as Fastfood and ridge, and
    ``n_components=None`` as 2,048 (no growth). The model is the one, bit for bit, that
    ``estimator.fit`` gives on the computed arrays with those three set explicitly.

    Blocks of rows are the partitions (columns are joined into one block). NumPy inputs work
    too (one partition each). Class weights (``class_weight``) weigh the rows as in memory:
    pass 1 counts each class, so ``"balanced"`` is resolved on all the rows, and a dict names
    the labels of ``y`` (a label that is not a class of ``y`` is a ValueError). Class
    probabilities (``probability=True``) need the rows in memory: refused.
    """
    if not isinstance(estimator, (KernelClassifier, KernelRegressor)):
        raise TypeError(
            f"rks.dask.fit fits a KernelClassifier or KernelRegressor, got {type(estimator).__name__}"
        )
    if getattr(estimator, "probability", False):
        raise ValueError(
            "rks.dask.fit cannot fit class probabilities (probability=True): they are fitted on "
            "held-out decision values of refits on folds of the rows in memory; fit in memory, "
            "or set probability=False"
        )
    X, y = _as_arrays(X, y)
    classifier = isinstance(estimator, KernelClassifier)
    # The parameters are checked here rather than on a worker, before the labels are read unless
    # class_weight is a dict: its labels are mapped through the classes, as KernelClassifier.fit
    # maps them (a label that is not a class of y is a ValueError).
    if not (classifier and isinstance(estimator.class_weight, Mapping)):
        params = estimator._params()
        _rks.Params(**params)
    classes = None
    if classifier:
        classes = np.unique(np.asarray(da.unique(y).compute()))
        if len(classes) < 2:
            raise ValueError(f"a classifier needs at least two classes, got {list(classes)!r}")
        params = estimator._params(classes=classes)
        _rks.Params(**params)
    blocks = list(zip(X.to_delayed().ravel(), y.to_delayed().ravel()))
    first = _tree(
        [dask.delayed(_first_pass)(params, classes, xb, yb) for xb, yb in blocks], _merge_first
    )
    plan = dask.delayed(_plan)(params, first)
    second = _tree(
        [dask.delayed(_second_pass)(plan, classes, xb, yb) for xb, yb in blocks], _merge_second
    )
    model = dask.delayed(_finish)(params, plan, second).compute()
    model = _rks.machine_from_bytes(model)
    if classes is not None:
        estimator.classes_ = classes
    return estimator._adopt(model)


def _as_arrays(X, y):
    """``X`` as a 2-D Dask array in row blocks with every column in each block, and ``y`` as a
    1-D Dask array in the same row blocks."""
    if hasattr(X, "to_dask_array"):  # a Dask data frame
        X = X.to_dask_array(lengths=True)
    if hasattr(y, "to_dask_array"):
        y = y.to_dask_array(lengths=True)
    X, y = da.asarray(X), da.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if X.ndim != 2 or y.ndim != 1:
        raise ValueError(f"X must be 2-D and y 1-D, got {X.ndim}-D and {y.ndim}-D")
    if any(np.isnan(c) for c in X.chunks[0]) or any(np.isnan(c) for c in y.chunks[0]):
        raise ValueError(
            "the blocks' row counts are unknown: call X.compute_chunk_sizes() (or "
            "to_dask_array(lengths=True) on a data frame) first"
        )
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}: they must match")
    X = X.rechunk({1: -1})
    return X, y.rechunk((X.chunks[0],))


def _tree(parts, merge):
    """Merges delayed parts ``FAN_IN`` at a time until one is left."""
    while len(parts) > 1:
        parts = [
            dask.delayed(merge)(parts[i : i + FAN_IN]) for i in range(0, len(parts), FAN_IN)
        ]
    return parts[0]


def _rows(x):
    return np.ascontiguousarray(x, dtype=np.float64)


def _targets(y, classes):
    y = np.asarray(y)
    if classes is None:
        return np.ascontiguousarray(y, dtype=np.float64)
    indices = np.searchsorted(classes, y)
    return classes_as_targets(classes, indices)


# The tasks the workers run: module functions, pickled by reference.


def _first_pass(params, classes, x, y):
    return _rks.Params(**params).first_pass(_rows(x), _targets(y, classes))


def _merge_first(parts):
    return _rks.merge_first(parts)


def _plan(params, first):
    return _rks.Params(**params).plan(first)


def _second_pass(plan, classes, x, y):
    return _rks.second_pass(plan, _rows(x), _targets(y, classes))


def _merge_second(parts):
    return _rks.merge_second(parts)


def _finish(params, plan, second):
    return _rks.Params(**params).finish(plan, second).to_bytes()

"""Fitting :class:`~rks.KernelClassifier` and :class:`~rks.KernelRegressor` on Dask
collections through the library's partial-fit API.

Each block of rows is a partition: pass 1 (scaler statistics, ranges, each class's count of
rows, a seeded row sample, the largest sample weight; rows of weight 0 left out) runs on the
workers and merges in a tree; the plan (scaler, σ, map, fixed-point grid, class weights with
``"balanced"`` resolved on the counts) is made once from the merged pass 1 and sent to the
workers; pass 2 (the exact ridge statistics ΦᵀΦ, ΦᵀY, …, each row weighted by its class and its
sample weight) runs on the workers and merges in a tree; the model is finished from the plan and
the merged pass 2. Everything exchanged is the library's envelope bytes, and every merge is an
exact integer sum, so the model is the same bytes however Dask cuts and groups the blocks, and
the same bytes as ``estimator.fit`` on the computed arrays (with sample weights ``w``,
``estimator.fit(X.compute(), y.compute(), sample_weight=w.compute())``) with
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

import numbers
from collections.abc import Mapping

import dask
import dask.array as da
import numpy as np

from . import _rks
from ._partial import check_estimator, params_of, rows, targets, weights
from .estimators import KernelClassifier

#: Parts merged per task of the merge trees.
FAN_IN = 8


def fit(estimator, X, y, sample_weight=None):
    """Fits ``estimator`` (a :class:`~rks.KernelClassifier` or :class:`~rks.KernelRegressor`
    with ``solver="ridge"`` and a map drawn from its seed, i.e. not Nyström) on the Dask array
    or data frame ``X`` and the Dask array or series ``y``, on the current Dask scheduler (a
    ``distributed.Client`` when one is active), each row weighted by ``sample_weight`` when it
    is given. Returns the fitted ``estimator``.

    The partial fit is ridge on one map of a fixed size, as ``rks fit --stream``: the defaults
    ``feature_map="auto"`` and ``solver="auto"`` count as Fastfood and ridge, and
    ``n_components=None`` as 2,048 (no growth). The model is the one, bit for bit, that
    ``estimator.fit`` gives on the computed arrays with those three set explicitly.

    Blocks of rows are the partitions (columns are joined into one block). NumPy inputs work
    too (one partition each). Class weights (``class_weight``) weigh the rows as in memory:
    pass 1 counts each class, so ``"balanced"`` is resolved on all the rows, and a dict names
    the labels of ``y`` (a label that is not a class of ``y`` is a ValueError). Class
    probabilities (``probability=True``) are fitted as ``rks fit --stream --probabilities`` fits
    them: one Platt sigmoid per class on the exact leave-one-out decision values of pass 1's
    sampled rows (at most 4,000; each the model's on every other row of every block), with no
    refit and no further pass; the model's predictions are those without them (an in-memory fit
    refits on 5 folds instead, so there the sigmoids differ).

    ``sample_weight`` (None, a 1-D Dask array or series aligned with ``y``, a NumPy array, or a
    number that weighs every row alike) weighs the rows as :meth:`~rks.KernelClassifier.fit`
    does: row i's squared error counts wᵢ times, times its class's weight under
    ``class_weight``; a row of weight 0 is left out, and weights all 1 are no weights. It is cut
    into the row blocks of ``X``, and each block's weights go to both passes. The weights are
    checked as scikit-learn checks them (1-D, one per row, finite, ≥ 0, not all 0: a
    ValueError) before the passes run, in the same computation as the labels. The model is the
    one, bit for bit, that ``estimator.fit(X.compute(), y.compute(),
    sample_weight=sample_weight.compute())`` gives with the three set explicitly.
    """
    check_estimator(estimator, "rks.dask.fit")
    X, y = _as_arrays(X, y)
    w = _as_weights(sample_weight, X)
    classifier = isinstance(estimator, KernelClassifier)
    # The parameters are checked here rather than on a worker, before the labels are read unless
    # class_weight is a dict: its labels are mapped through the classes, as KernelClassifier.fit
    # maps them (a label that is not a class of y is a ValueError).
    if not (classifier and isinstance(estimator.class_weight, Mapping)):
        params = params_of(estimator, None)
    # The labels and the weights' checks in one computation (each None when not needed).
    labels, checks = dask.compute(da.unique(y) if classifier else None, _weight_checks(w))
    _check_weights(checks)
    classes = None
    if classifier:
        classes = np.unique(np.asarray(labels))
        params = params_of(estimator, classes)
    xs, ys = X.to_delayed().ravel(), y.to_delayed().ravel()
    ws = [None] * len(xs) if w is None else w.to_delayed().ravel()
    blocks = list(zip(xs, ys, ws))
    first = _tree(
        [dask.delayed(_first_pass)(params, classes, xb, yb, wb) for xb, yb, wb in blocks],
        _merge_first,
    )
    plan = dask.delayed(_plan)(params, first)
    second = _tree(
        [dask.delayed(_second_pass)(plan, classes, xb, yb, wb) for xb, yb, wb in blocks],
        _merge_second,
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


def _as_weights(sample_weight, X):
    """``sample_weight`` as a 1-D float64 Dask array in the row blocks of ``X`` (None when
    None; a number weighs every row alike), its shape and type checked as scikit-learn checks
    them; :func:`_weight_checks` checks its values."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        return da.full(X.shape[0], float(sample_weight), chunks=(X.chunks[0],), dtype=np.float64)
    if hasattr(sample_weight, "to_dask_array"):  # a Dask series
        sample_weight = sample_weight.to_dask_array(lengths=True)
    w = da.asarray(sample_weight)
    if w.ndim != 1:
        raise ValueError(
            f"Sample weights must be 1D array or scalar, got {w.ndim}D array. Expected either a "
            f"scalar value or a 1D array of length {X.shape[0]}."
        )
    if w.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must hold numbers, got dtype {w.dtype}")
    if any(np.isnan(c) for c in w.chunks[0]):
        raise ValueError(
            "the blocks' row counts of sample_weight are unknown: call "
            "sample_weight.compute_chunk_sizes() first"
        )
    if w.shape[0] != X.shape[0]:
        raise ValueError(f"sample_weight.shape == {w.shape}, expected {(X.shape[0],)}!")
    return w.astype(np.float64).rechunk((X.chunks[0],))


def _weight_checks(w):
    """Lazy reductions of the weights ``w`` (None when None): all finite, none negative, one
    positive."""
    if w is None:
        return None
    return da.isfinite(w).all(), (w >= 0).all(), (w > 0).any()


def _check_weights(checks):
    """scikit-learn's ValueErrors for the computed :func:`_weight_checks` that fail."""
    if checks is None:
        return
    finite, non_negative, positive = checks
    if not finite:
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if not non_negative:
        raise ValueError("Negative values in data passed to `sample_weight`.")
    if not positive:
        raise ValueError("Sample weights must contain at least one non-zero number.")


def _tree(parts, merge):
    """Merges delayed parts ``FAN_IN`` at a time until one is left."""
    while len(parts) > 1:
        parts = [
            dask.delayed(merge)(parts[i : i + FAN_IN]) for i in range(0, len(parts), FAN_IN)
        ]
    return parts[0]


# The tasks the workers run: module functions, pickled by reference.


def _first_pass(params, classes, x, y, w=None):
    return _rks.Params(**params).first_pass(rows(x), targets(y, classes), weights(w))


def _merge_first(parts):
    return _rks.merge_first(parts)


def _plan(params, first):
    return _rks.Params(**params).plan(first)


def _second_pass(plan, classes, x, y, w=None):
    return _rks.second_pass(plan, rows(x), targets(y, classes), weights(w))


def _merge_second(parts):
    return _rks.merge_second(parts)


def _finish(params, plan, second):
    return _rks.Params(**params).finish(plan, second).to_bytes()

"""What the fits outside memory share (``rks.dask``, ``rks.chunks``): the estimator's check, its
library parameters once its classes are known, and each chunk's arrays as the library takes
them."""

import numpy as np

from . import _rks
from .estimators import KernelClassifier, KernelRegressor, classes_as_targets


def check_estimator(estimator, who):
    """A TypeError unless ``estimator`` is a KernelClassifier or KernelRegressor."""
    if not isinstance(estimator, (KernelClassifier, KernelRegressor)):
        raise TypeError(
            f"{who} fits a KernelClassifier or KernelRegressor, got {type(estimator).__name__}"
        )


def params_of(estimator, classes):
    """The library parameters of ``estimator`` (checked by the library) for the training
    labels' sorted ``classes`` (a classifier's, at least two; None for a regressor)."""
    if classes is None:
        params = estimator._params()
    else:
        if len(classes) < 2:
            raise ValueError(f"a classifier needs at least two classes, got {list(classes)!r}")
        params = estimator._params(classes=classes)
    _rks.Params(**params)
    return params


def rows(x):
    return np.ascontiguousarray(x, dtype=np.float64)


def weights(w):
    return None if w is None else np.ascontiguousarray(w, dtype=np.float64)


def targets(y, classes):
    """A chunk's targets as the library takes them: a regressor's values, or a classifier's
    labels as the targets of their indices in ``classes``."""
    y = np.asarray(y)
    if classes is None:
        return np.ascontiguousarray(y, dtype=np.float64)
    indices = np.searchsorted(classes, y)
    return classes_as_targets(classes, indices)

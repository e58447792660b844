"""Fitting :class:`~rks.KernelClassifier` and :class:`~rks.KernelRegressor` on rows that do not
fit in memory, chunk by chunk on one machine: the library's streamed fit (``rks fit --stream``).

The chunks are read twice, one pass each: pass 1 gathers the scaler's statistics, the ranges,
each class's count of rows and a seeded sample of rows; the plan chooses σ on the sample; pass 2
folds each chunk's exact ridge statistics in; λ is chosen by exact leave-one-out on the sampled
rows. Only one chunk is held at a time, with the statistics (D² numbers for D output features).
The model is the same bytes as :func:`rks.dask.fit` on the same rows however they are cut, and
as ``estimator.fit`` on all of them with ``feature_map="fastfood"`` and ``solver="ridge"`` set
(under the conditions in ``docs/python.md``).

>>> import numpy as np, rks, rks.chunks
>>> rng = np.random.default_rng(0)
>>> X = rng.uniform(-1, 1, size=(600, 2))
>>> y = (X[:, 0] * X[:, 1] > 0).astype(int)
>>> def chunks():
...     for start in range(0, 600, 250):  # e.g. read from a file, 250 rows at a time
...         yield X[start:start + 250], y[start:start + 250]
>>> clf = rks.chunks.fit(rks.KernelClassifier(n_components=64, random_state=0), chunks)
>>> bool(np.array_equal(clf.model_.to_bytes(),
...      rks.KernelClassifier(n_components=64, random_state=0, feature_map="fastfood",
...                           solver="ridge").fit(X, y).model_.to_bytes()))
True
"""

import numpy as np

from . import _rks
from ._partial import check_estimator, params_of, rows, targets, weights
from .estimators import KernelClassifier


def fit(estimator, chunks, classes=None):
    """Fits ``estimator`` (a :class:`~rks.KernelClassifier` or :class:`~rks.KernelRegressor`
    with ``solver="ridge"`` and a map drawn from its seed, i.e. not Nyström, as
    :func:`rks.dask.fit` takes it) on the rows of ``chunks`` and returns it.

    ``chunks`` is a callable that returns a fresh iterable of chunks each time it is called
    (twice; three times for a classifier without ``classes``): ``(X, y)`` or ``(X, y,
    sample_weight)``, NumPy arrays (or what ``np.asarray`` takes) of the same columns in every
    chunk; a generator function that reads a file is one. ``classes``: a classifier's labels,
    when known (as ``SGDClassifier.partial_fit`` takes them); without them a first pass reads
    the labels. A label that is not among ``classes`` is a ValueError.

    The defaults ``feature_map="auto"``, ``solver="auto"`` and ``n_components=None`` count as
    Fastfood, ridge and 2,048 frequencies, as for :func:`rks.dask.fit`; class weights, sample
    weights (rows of weight 0 left out) and class probabilities (Platt's sigmoids on the
    sampled rows' leave-one-out decision values) are as there. An exception raised while the
    chunks are read propagates as raised; no model is kept.
    """
    check_estimator(estimator, "rks.chunks.fit")
    if not callable(chunks):
        raise TypeError(
            "chunks must be a callable returning a fresh iterable of (X, y) or (X, y, "
            f"sample_weight) chunks each time it is called, got {type(chunks).__name__}"
        )
    classifier = isinstance(estimator, KernelClassifier)
    if classifier:
        if classes is None:
            classes = np.unique(np.concatenate(
                [np.unique(np.asarray(chunk[1])) for chunk in _checked(chunks())] or [[]]))
        else:
            classes = np.unique(np.asarray(classes))
    elif classes is not None:
        raise ValueError("classes are for a classifier; a regressor's targets are values")
    params = params_of(estimator, classes if classifier else None)

    def passes():
        for x, y, w in _checked(chunks()):
            if classifier:
                unknown = np.setdiff1d(np.unique(np.asarray(y)), classes)
                if len(unknown):
                    raise ValueError(f"label {unknown.tolist()[0]!r} is not among the classes "
                                     f"{classes.tolist()!r}")
            yield rows(x), targets(y, classes), weights(w)

    model = _rks.Params(**params).fit_stream(passes)
    if classifier:
        estimator.classes_ = classes
    return estimator._adopt(model)


def _checked(iterable):
    """Each chunk of ``iterable`` as ``(X, y, sample_weight or None)``."""
    for chunk in iterable:
        if not isinstance(chunk, tuple) or len(chunk) not in (2, 3):
            raise ValueError(
                f"each chunk is a tuple (X, y) or (X, y, sample_weight), got {type(chunk).__name__}"
                + (f" of {len(chunk)}" if isinstance(chunk, tuple) else ""))
        yield chunk if len(chunk) == 3 else (*chunk, None)

"""Fast kernel machines through random features, for scikit-learn and Dask.

Transformers (``fit`` / ``transform``, f32 and f64 in and out):

- :class:`FastfoodSampler` -- Fastfood, O(n log d) per row (Le, Sarlós & Smola, ICML 2013).
- :class:`RKSSampler` -- dense Random Kitchen Sinks (Rahimi & Recht, NIPS 2007).
- :class:`OrthogonalSampler` -- orthogonal random features (Yu et al., NeurIPS 2016).
- :class:`SORFSampler` -- structured orthogonal random features (same paper).
- :class:`NystroemSampler` -- Nyström features from landmark rows.

Estimators (scaler -> map -> ridge or linear SVM, with model selection):
:class:`KernelClassifier`, :class:`KernelRegressor`; ``rks.dask.fit`` fits them on Dask
collections through the library's partial-fit API, ``rks.chunks.fit`` on chunks of rows read
one at a time (the library's streamed fit).

>>> import numpy as np, rks
>>> X = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
>>> rks.FastfoodSampler(n_components=64, random_state=0).fit_transform(X).shape
(4, 64)
"""

from . import _rks
from .estimators import KernelClassifier, KernelRegressor
from .samplers import (
    FastfoodSampler,
    NystroemSampler,
    OrthogonalSampler,
    RKSSampler,
    SORFSampler,
)

__version__ = _rks.__version__

#: Every accepted name of each choice, from the library: ``NAMES["kernel"]``, ``NAMES["map"]``,
#: ``NAMES["scaler"]``, ``NAMES["solver"]``, ``NAMES["task"]``.
NAMES = _rks.names()

__all__ = [
    "FastfoodSampler",
    "KernelClassifier",
    "KernelRegressor",
    "NAMES",
    "NystroemSampler",
    "OrthogonalSampler",
    "RKSSampler",
    "SORFSampler",
]

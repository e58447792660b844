"""Random-feature transformers: φ(x) with φ(x)·φ(y) ≈ k(x, y), as scikit-learn's
``RBFSampler`` and ``Nystroem`` do, on the maps of the ``rks`` crate.

``n_components`` is the output width D, as in scikit-learn; the library's n (frequencies) is
⌈D/2⌉ for cos/sin features (shift-invariant kernels: n cosines then n sines, an odd D drops the
last sine), D for the arc-cosine kernels and the number of landmarks for Nyström
(``rks._rks.n_frequencies`` says which). Even widths are the ones to use: with an odd width the
kernel estimate holds one cos·cos term without its sin·sin partner. ``gamma`` is
1/(2σ²) for every kernel: k(x, y) = exp(−γ‖x − y‖²) for the Gaussian kernel, exp(−‖x − y‖₁/σ)
with σ = 1/√(2γ) for the Laplacian (see the ``rks::kernel`` docs for each kernel).
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _rks
from ._seed import seed_of

_FLOATS = (np.float64, np.float32)
# Sparse rows are made dense in blocks of at most this many bytes.
_SPARSE_BLOCK_BYTES = 64 << 20


class _Sampler(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """What every sampler shares; a subclass names its map (``_kind``)."""

    _kind = None

    def __init__(self, n_components=2048, *, kernel="gaussian", gamma=1.0, random_state=None):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.random_state = random_state

    def _n_frequencies(self, n_rows):
        return _rks.n_frequencies(self._kind, self.kernel, self.n_components)

    def fit(self, X, y=None):
        """Draws the map for the columns of ``X`` (Nyström: picks landmarks among its rows).
        ``X`` may be a SciPy sparse matrix: only the rows the map keeps (Nyström's landmarks;
        none for the other maps, which read the column count) are made dense, and the map is
        the one the same rows dense make.

        Returns ``self``.
        """
        X = validate_data(self, X, accept_sparse="csr", dtype=_FLOATS, reset=True)
        settings = dict(
            kind=self._kind,
            kernel=self.kernel,
            n_frequencies=self._n_frequencies(X.shape[0]),
            gamma=float(self.gamma),
            seed=seed_of(self.random_state),
        )
        if sp.issparse(X):
            kept = _rks.Map.landmark_rows(**settings, input_dim=X.shape[1], rows=X.shape[0])
            X = (X[kept] if kept is not None else X[:0]).toarray()
        self.map_ = _rks.Map.fit(**settings, x=X)
        # Nyström with fewer rows than landmarks outputs fewer features.
        self._n_features_out = min(self.n_components, self.map_.output_dim)
        return self

    def transform(self, X, out=None):
        """φ(X): ``n_samples × n_components``, float32 for float32 input, else float64.

        ``out``, optional: a C-contiguous writable array of that shape and dtype to write the
        features into (returned), saving the allocation of a fresh array per call.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=_FLOATS, reset=False)
        if out is not None and not (
            isinstance(out, np.ndarray) and out.flags.c_contiguous and out.flags.writeable
        ):
            raise ValueError("out must be a C-contiguous, writable numpy array")
        if sp.issparse(X):
            return self._transform_sparse(X, out)
        return self._transform_dense(X, out)

    def _transform_dense(self, X, out):
        if self._n_features_out == self.map_.output_dim:
            return self.map_.transform(X, out)
        phi = self.map_.transform(X)[:, : self._n_features_out]  # an odd width: the last sine dropped
        if out is None:
            return np.ascontiguousarray(phi)
        if out.shape != phi.shape or out.dtype != phi.dtype:
            raise ValueError(f"out must have shape {phi.shape} and dtype {phi.dtype}")
        out[...] = phi
        return out

    def _transform_sparse(self, X, out):
        """Sparse rows, made dense a block of at most 64 MiB at a time (every map transforms
        dense rows): the features of the same rows dense."""
        shape = (X.shape[0], self._n_features_out)
        if out is None:
            out = np.empty(shape, dtype=X.dtype)
        elif out.shape != shape or out.dtype != X.dtype:
            raise ValueError(f"out must have shape {shape} and dtype {X.dtype}")
        block = max(1, _SPARSE_BLOCK_BYTES // (X.dtype.itemsize * max(X.shape[1], 1)))
        for start in range(0, X.shape[0], block):
            stop = min(start + block, X.shape[0])
            self._transform_dense(X[start:stop].toarray(), out[start:stop])
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class FastfoodSampler(_Sampler):
    """Fastfood features: W = (1/σ√D)·S H G Π H B blocks, O(n log d) time and O(n) memory
    (Le, Sarlós & Smola, ICML 2013).

    Parameters
    ----------
    n_components : int, default 2048
        Output features D (n = ⌈D/2⌉ frequencies for cos/sin features).
    kernel : str, default "gaussian"
        A radial kernel (``rks.NAMES["kernel"]`` lists them; not "laplacian").
    gamma : float, default 1.0
        γ = 1/(2σ²).
    random_state : int, RandomState or None
        An int is the library's seed: bit-identical features for any thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from rks import FastfoodSampler
    >>> X = np.random.default_rng(0).normal(size=(5, 16))
    >>> phi = FastfoodSampler(n_components=4096, gamma=0.05, random_state=0).fit_transform(X)
    >>> exact = np.exp(-0.05 * np.sum((X[0] - X[1]) ** 2))
    >>> bool(abs(phi[0] @ phi[1] - exact) < 0.05)
    True
    """

    _kind = "fastfood"


class RKSSampler(_Sampler):
    """Dense Random Kitchen Sinks: W drawn entry by entry from the kernel's spectral
    distribution, O(n·d) per row (Rahimi & Recht, NIPS 2007); every kernel, the Laplacian too.

    Parameters as :class:`FastfoodSampler`.

    >>> import numpy as np
    >>> from rks import RKSSampler
    >>> RKSSampler(n_components=8, kernel="laplacian", random_state=1).fit_transform(np.eye(3)).shape
    (3, 8)
    """

    _kind = "dense"


class OrthogonalSampler(_Sampler):
    """Orthogonal random features: blocks of a random orthogonal matrix with χ_d row lengths,
    O(n·d), a lower-variance kernel estimate than the dense map (Yu et al., NeurIPS 2016).

    Parameters as :class:`FastfoodSampler`.

    >>> import numpy as np
    >>> from rks import OrthogonalSampler
    >>> OrthogonalSampler(n_components=8, random_state=1).fit_transform(np.eye(3)).shape
    (3, 8)
    """

    _kind = "orf"


class SORFSampler(_Sampler):
    """Structured orthogonal random features: blocks (√D/σ)·H D₁ H D₂ H D₃, O(n log d) time and
    O(n) memory (Yu et al., NeurIPS 2016).

    Parameters as :class:`FastfoodSampler`.

    >>> import numpy as np
    >>> from rks import SORFSampler
    >>> SORFSampler(n_components=8, random_state=1).fit_transform(np.eye(3)).shape
    (3, 8)
    """

    _kind = "sorf"


class NystroemSampler(_Sampler):
    """Nyström features K_mm^{-1/2}·k(landmarks, x) from m landmark rows of the training data,
    picked uniformly with the seed; every kernel.

    Parameters
    ----------
    n_components : int, default 100
        Landmarks m = output features. More than the training rows: m is set to the number of
        rows, with a warning (as scikit-learn's ``Nystroem`` does).
    kernel, gamma, random_state
        As :class:`FastfoodSampler`.

    >>> import numpy as np
    >>> from rks import NystroemSampler
    >>> NystroemSampler(n_components=3, random_state=0).fit_transform(np.eye(4)).shape
    (4, 3)
    """

    _kind = "nystrom"

    def __init__(self, n_components=100, *, kernel="gaussian", gamma=1.0, random_state=None):
        super().__init__(n_components, kernel=kernel, gamma=gamma, random_state=random_state)

    def _n_frequencies(self, n_rows):
        m = super()._n_frequencies(n_rows)
        if m > n_rows:
            warnings.warn(
                f"n_components={m} landmarks from {n_rows} rows: using {n_rows} landmarks",
                stacklevel=3,
            )
            m = n_rows
        return m

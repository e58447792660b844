"""Kernel machines as scikit-learn estimators: input scaler -> random feature map -> ridge or
linear SVM, with the library's model selection (σ and λ by exact leave-one-out) inside ``fit``.
The defaults fit what ``rks fit`` fits without options: the map chosen between Fastfood and
Nyström, the number of frequencies grown within a budget, and on classification ridge or the SVM,
whichever is clearly better.

A fitted estimator holds the library's model (``model_``): ``save``/``load`` use the project's
model format, so a model fitted here loads in ``rks predict`` / ``rks eval`` and a model written
by ``rks fit`` loads here; pickling goes through the same bytes. ``KernelClassifier(probability=True)``
also fits class probabilities (Platt's sigmoids on held-out decision values, as scikit-learn's
``SVC(probability=True)``), saved with the model, and ``KernelClassifier(class_weight=...)``
weighs each class's rows (``"balanced"`` or ``{label: weight}``, as scikit-learn's ``SVC``).
"""

import math
import numbers
import os
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _rks
from ._seed import seed_of


class _KernelMachine(BaseEstimator):
    """What both estimators share; a subclass names its task (``_task``)."""

    _task = None

    def __init__(
        self,
        n_components=None,
        *,
        feature_map="auto",
        kernel="gaussian",
        gamma=None,
        solver="auto",
        alpha=None,
        C=None,
        scaler="minmax",
        model_selection=True,
        budget=None,
        relevance=True,
        linear_offer=True,
        input_weights=None,
        random_state=None,
    ):
        self.n_components = n_components
        self.feature_map = feature_map
        self.kernel = kernel
        self.gamma = gamma
        self.solver = solver
        self.alpha = alpha
        self.C = C
        self.scaler = scaler
        self.model_selection = model_selection
        self.budget = budget
        self.relevance = relevance
        self.linear_offer = linear_offer
        self.input_weights = input_weights
        self.random_state = random_state

    def _params(self):
        """The keyword arguments of ``rks._rks.Params`` (plain values, so they pickle)."""
        return dict(
            task=self._task,
            map=self.feature_map,
            kernel=self.kernel,
            n_frequencies=None if self.n_components is None else _rks.n_frequencies(
                self.feature_map, self.kernel, self.n_components),
            gamma=None if self.gamma is None else float(self.gamma),
            scaler=self.scaler,
            solver=self.solver,
            alpha=None if self.alpha is None else float(self.alpha),
            c=None if self.C is None else float(self.C),
            seed=seed_of(self.random_state),
            select=bool(self.model_selection),
            budget=None if self.budget is None else float(self.budget),
            relevance=bool(self.relevance),
            linear=bool(self.linear_offer),
            input_weights=None if self.input_weights is None else [
                float(w) for w in self.input_weights],
        )

    def _sparse_params(self, **kwargs):
        """:meth:`_params` (of ``kwargs``) for sparse rows: the linear map and kernel (their only
        model)."""
        if self.feature_map not in ("auto", "linear"):
            raise ValueError(
                "sparse rows are fitted by the linear map (feature_map='linear' or 'auto'); "
                f"the {self.feature_map!r} map needs the rows dense: pass X.toarray()"
            )
        if self.gamma is not None:
            raise ValueError("gamma does not apply to sparse rows: their model is linear")
        return {**self._params(**kwargs), "map": "linear", "kernel": "linear",
                "n_frequencies": None}

    def _adopt(self, model):
        """Takes a fitted library model: the fitted attributes follow from it."""
        self.model_ = model
        self.n_features_in_ = model.input_dim
        self.feature_map_ = model.map_kind
        self.solver_ = model.solver
        self.n_components_ = model.output_dim
        self.sigma_ = model.sigma
        self.gamma_ = model.gamma
        self.alpha_ = model.alpha
        self.C_ = model.c
        return self

    def _rows(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, order="C", reset=False)

    def _scores(self, X):
        """The library's decision values of rows ``X``: dense rows, or a SciPy sparse matrix,
        whose rows a linear model scores by their entries."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, order="C", reset=False)
        if sp.issparse(X):
            return self.model_.decision_function_sparse(*_csr_parts(X), X.shape[1])
        return self.model_.decision_function(X)

    def save(self, path):
        """Writes the model file at ``path`` in the project's format (what ``rks fit`` writes;
        ``rks predict --model path`` reads it)."""
        check_is_fitted(self)
        self.model_.save(os.fspath(path))

    @classmethod
    def load(cls, path):
        """The estimator of a model file written by :meth:`save` or by ``rks fit``.

        Its parameters are the model's (``gamma``, ``alpha``/``C`` as fitted, model selection
        off; for a classifier ``probability=True`` when the model holds probabilities), so
        refitting it keeps the fitted σ and λ. A classifier fitted with class weights has
        ``class_weight`` = the dict ``{label: weight}`` it was fitted with (``"balanced"`` as
        resolved on its training labels), so a refit weighs the classes as the fit did.
        """
        model = _rks.Machine.load(os.fspath(path))
        if model.task != cls._task:
            raise ValueError(f"{os.fspath(path)} holds a {model.task} model, not {cls._task}")
        estimator = cls(
            n_components=model.output_dim,
            feature_map=model.map_kind,
            kernel=model.kernel,
            gamma=model.gamma,
            solver=model.solver,
            alpha=model.alpha,
            C=model.c,
            scaler=model.scaler,
            model_selection=False,
            random_state=model.seed,
        )
        return estimator._adopt_loaded(model)

    def _adopt_loaded(self, model):
        return self._adopt(model)


class KernelClassifier(ClassifierMixin, _KernelMachine):
    """A kernel classifier through random features: scaler -> feature map -> ridge (one-vs-rest
    ±1 targets, as ``RidgeClassifier``) or a linear SVM (squared hinge, one-vs-rest).

    Parameters
    ----------
    n_components : int or None, default None
        Output features of the map: n = ⌈D/2⌉ frequencies for cos/sin features (2n
        features, so an odd D rounds up), D for the arc-cosine kernels, D landmarks for Nyström
        (with ``feature_map="auto"``, n = ⌈D/2⌉ for both maps, as ``rks fit --frequencies n``).
        None: 2,048 to start (n = 1,024), doubled by the model selection while the leave-one-out
        score improves and ``budget`` allows (a doubling that would cost over a fifth of the
        budget only after one that was clearly better; the search then starts one step below,
        and with ``feature_map="auto"`` both maps start from the same number of features).
    feature_map : str, default "auto"
        "auto" (with model selection and ridge: Fastfood or Nyström, whichever has the better
        leave-one-out score; otherwise Fastfood), or "fastfood", "dense", "orf", "sorf",
        "nystrom", "linear" (the rows themselves, with ``kernel="linear"``: LIBLINEAR's model;
        ``rks.NAMES["map"]``).
    kernel : str, default "gaussian"
        ``rks.NAMES["kernel"]``; the Laplacian needs the dense or Nyström map, the linear kernel
        the linear map (or Nyström).
    gamma : float or None, default None
        γ = 1/(2σ²) on the scaled inputs; None chooses σ from the data (model selection, or the
        median heuristic without it).
    solver : str, default "auto"
        "auto" (ridge; with model selection, on classification, the SVM instead when its
        cross-validated error, with its own σ and C, is lower by more than one standard error;
        on sparse rows, at most one entry in sixteen non-zero, the linear SVM on the rows
        themselves unless the kernel model's error is lower by more than one standard error;
        ``alpha`` alone means ridge, ``C`` alone the SVM), "ridge" or "svm".
    alpha : float or None, default None
        Ridge's λ; None chooses it (exact leave-one-out with model selection, else GCV).
    C : float or None, default None
        The SVM's cost; None chooses it (stratified 3-fold cross-validation over
        0.01 … 100 with model selection, else 1.0). A given C is kept.
    scaler : str, default "minmax"
        "minmax", "standard", "maxabs" (x / max |x|: zeros stay zero) or "none".
    model_selection : bool, default True
        Search σ (×1/8 … ×4 the median heuristic) and λ by exact leave-one-out inside ``fit``,
        and the SVM's C by cross-validation.
    budget : float or None, default None
        Seconds the growth of n may take when ``n_components`` is None, estimated from
        operation counts at a reference speed (so the same model on every machine); None: the
        library's default, 10 (``rks fit --budget``).
    relevance : bool, default True
        With model selection and no ``gamma``: learn a weight per input column by exact
        leave-one-out on sampled rows and keep the weights when other sampled rows clearly favour
        them (docs/guide.md, "Column relevance"); False keeps the columns as scaled (``rks fit
        --no-relevance``).
    linear_offer : bool, default True
        With model selection, on classification, when the scaled rows are sparse (at most one
        entry in sixteen non-zero): also score the linear SVM on the rows themselves and keep it
        unless the kernel model's error is lower by more than one standard error; False never
        offers it (``rks fit --no-linear``).
    input_weights : sequence of float or None, default None
        The column weights by hand, one per input column (finite, ≥ 0, not all 0; for example
        the ones ``rks tune`` prints): each scaled column is multiplied by its weight and none
        are learned (``rks fit --input-weights``). σ (``gamma``) is then in weighted units.
    probability : bool, default False
        Also fit class probabilities, for :meth:`predict_proba` and :meth:`predict_log_proba`
        (scikit-learn ``SVC``'s name; ``rks fit --probabilities``): after the model, its
        configuration as chosen (map, σ, n, λ or C; no new search) is refitted on 5 stratified
        folds of the rows, and one Platt sigmoid per class (one for two classes) is fitted on
        the held-out decision values, as LIBSVM's ``-b 1`` and ``SVC(probability=True)`` do. The
        fit costs about five fits at the chosen parameters more; the model and its predictions
        are unchanged. As with ``SVC``, the class of the largest probability can, rarely, differ
        from :meth:`predict` (the sigmoids are fitted per class). ``rks.dask.fit`` and
        ``rks.chunks.fit``, which do not hold the rows, fit the sigmoids on the exact
        leave-one-out decision values of their sampled rows instead. Without it,
        ``predict_proba`` is not an attribute
        (``hasattr(clf, "predict_proba")`` is False), as for ``SVC``.
    class_weight : dict, "balanced" or None, default None
        How much each class's rows count in the fit (scikit-learn ``SVC``'s and
        ``LogisticRegression``'s name; LIBSVM's ``-wi``): a dict ``{label: weight}`` in the
        labels of ``y`` (each weight finite and > 0; classes not named weigh 1; a label that is
        not a class of ``y`` is a ValueError), or ``"balanced"``: each class weighs
        ``n_samples / (n_classes * n_samples_of_the_class)`` a row, so that every class counts as
        much in total. Row i's loss counts w times, w the weight of its class: ridge's squared
        error, the SVM's hinge (its cost ``C * w``), and the model selection compares weighted
        error rates (with ``"balanced"``, the balanced error rate: one minus the mean of the
        classes' recalls). On imbalanced data this trades accuracy on the common classes
        for recall on the rare ones. The column relevance, Nyström's landmarks and the
        probability sigmoids (``probability=True``) are learned without weights.
        ``rks.dask.fit`` weighs the rows too, with the same model (its pass 1 counts the
        classes, so ``"balanced"`` is resolved on all the rows). None: every row weighs 1.
    random_state : int, RandomState or None
        An int is the library's seed: the same model, bit for bit, for any thread count.

    Attributes
    ----------
    classes_, n_features_in_, model_ (the library's model; ``model_.calibration`` describes
    the probability sigmoids, or is None), feature_map_, solver_ and n_components_ (as fitted),
    sigma_, gamma_ (as fitted), alpha_ (ridge's λ as fitted, None for the SVM), C_ (the SVM's C
    as fitted, None for ridge).

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from rks import KernelClassifier
    >>> X, y = make_moons(400, noise=0.1, random_state=0)
    >>> clf = KernelClassifier(n_components=256, random_state=0).fit(X[:300], y[:300])
    >>> bool(clf.score(X[300:], y[300:]) > 0.95)
    True
    >>> proba = KernelClassifier(n_components=256, probability=True, random_state=0).fit(
    ...     X[:300], y[:300]).predict_proba(X[300:])
    >>> proba.shape, bool(abs(proba.sum(axis=1) - 1.0).max() < 1e-12)
    ((100, 2), True)
    """

    _task = "classification"

    def __init__(
        self,
        n_components=None,
        *,
        feature_map="auto",
        kernel="gaussian",
        gamma=None,
        solver="auto",
        alpha=None,
        C=None,
        scaler="minmax",
        model_selection=True,
        budget=None,
        relevance=True,
        linear_offer=True,
        input_weights=None,
        probability=False,
        class_weight=None,
        random_state=None,
    ):
        super().__init__(
            n_components,
            feature_map=feature_map,
            kernel=kernel,
            gamma=gamma,
            solver=solver,
            alpha=alpha,
            C=C,
            scaler=scaler,
            model_selection=model_selection,
            budget=budget,
            relevance=relevance,
            linear_offer=linear_offer,
            input_weights=input_weights,
            random_state=random_state,
        )
        self.probability = probability
        self.class_weight = class_weight

    def _params(self, classes=None):
        """The keyword arguments of ``rks._rks.Params``; ``class_weight`` as the library's
        ``class_weights``, its labels mapped through the training labels' ``classes`` (sorted,
        as ``np.unique`` gives them; needed for a dict)."""
        return {
            **super()._params(),
            "probabilities": bool(self.probability),
            "class_weights": self._class_weights(classes),
        }

    def _class_weights(self, classes):
        """``class_weight`` in the library's terms: None, ``"balanced"``, or ``(label, weight)``
        pairs whose labels are the library's (:func:`classes_as_targets` of the named classes
        among ``classes``)."""
        class_weight = self.class_weight
        if class_weight is None:
            return None
        if isinstance(class_weight, str) and class_weight == "balanced":
            return "balanced"
        if not isinstance(class_weight, Mapping):
            raise ValueError(
                "class_weight must be None, 'balanced' or a dict {label: weight}, got "
                f"{class_weight!r}"
            )
        if classes is None:
            raise ValueError("class_weight as a dict is mapped through the training labels")
        index = {c: i for i, c in enumerate(classes.tolist())}
        codes = classes_as_targets(classes, np.arange(len(classes)))
        pairs = []
        for label, weight in class_weight.items():
            i = index.get(label)
            if i is None:
                raise ValueError(
                    f"class_weight gives a weight to the label {label!r}, which is not a class "
                    f"of the training labels {classes.tolist()!r}"
                )
            if (isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real)
                    or not math.isfinite(weight) or not weight > 0):
                raise ValueError(
                    f"class_weight[{label!r}] must be a finite number > 0, got {weight!r}"
                )
            pairs.append((int(codes[i]), float(weight)))
        return pairs

    def fit(self, X, y, sample_weight=None):
        """Fits on rows ``X`` and labels ``y`` (any labels: integers, strings, ...).

        ``X`` may be a SciPy sparse matrix (text as tf-idf, say): the rows are then held as
        their non-zero entries and fitted by the linear map's SVM, C by cross-validation with
        model selection (``feature_map`` must be "auto" or "linear"; the scaler keeps zeros at
        zero: "minmax" on non-negative columns with a zero, else "maxabs").

        ``sample_weight`` (one number ≥ 0 per row, or None): each row's loss counts its weight,
        times its class's weight under ``class_weight`` (ridge's squared error, the SVM's cost
        C·w, as ``SVC.fit(..., sample_weight)``), and the model selection compares weighted
        errors; a row of weight 0 is left out, and weights all 1 are no weights."""
        sparse = sp.issparse(X)
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=np.float64, order="C", ensure_min_samples=2
        )
        sample_weight = _sample_weight(sample_weight, X)
        check_classification_targets(y)
        classes, indices = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"a classifier needs at least two classes, but the labels hold one class: "
                f"{classes[0]!r}"
            )
        targets = classes_as_targets(classes, indices)
        if sparse:
            params = _rks.Params(**self._sparse_params(classes=classes))
            model = params.fit_sparse(*_csr_parts(X), X.shape[1], targets, sample_weight)
        else:
            model = _rks.Params(**self._params(classes=classes)).fit(X, targets, sample_weight)
        self.classes_ = classes
        return self._adopt(model)

    def decision_function(self, X):
        """Class scores: ``n_samples`` values for two classes (> 0 means ``classes_[1]``), else
        ``n_samples × n_classes``. ``X`` may be sparse."""
        scores = self._scores(X)
        return scores[:, 1] if len(self.classes_) == 2 else scores

    def predict(self, X):
        """The class of the largest score, for each row of ``X`` (which may be sparse)."""
        scores = self._scores(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def _probabilities_available(self):
        """Whether :meth:`predict_proba` is an attribute: with ``probability=True`` and, once
        fitted, a model that has probabilities (``SVC``'s rule)."""
        if not self.probability:
            raise AttributeError("predict_proba is not available when probability=False")
        model = getattr(self, "model_", None)
        if model is not None and model.calibration is None:
            raise AttributeError(
                "predict_proba is not available: the model was fitted with probability=False "
                "(refit it with probability=True)"
            )
        return True

    def _probabilities(self, X, log):
        """The library's (log-)probabilities of rows ``X`` (dense or sparse), one column per
        class of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, order="C", reset=False)
        self._check_class_order()
        model = self.model_
        if sp.issparse(X):
            compute = model.predict_log_proba_sparse if log else model.predict_proba_sparse
            return compute(*_csr_parts(X), X.shape[1])
        return (model.predict_log_proba if log else model.predict_proba)(X)

    def _check_class_order(self):
        """The library's probability columns follow its classes (sorted labels, or the class
        indices 0..k-1 of labels it cannot store): they must be ``classes_``, in order."""
        fitted = np.asarray(self.model_.classes)
        k = len(self.classes_)
        if _integer_labels(self.classes_):
            expected = self.classes_
        else:
            expected = np.arange(k)
        if len(fitted) != k or not np.array_equal(fitted, expected):
            raise ValueError(
                f"the model's classes {fitted.tolist()!r} do not follow classes_ "
                f"{list(self.classes_)!r}: its probability columns would be mislabelled"
            )

    @available_if(_probabilities_available)
    def predict_proba(self, X):
        """The probability of each class for each row of ``X`` (which may be sparse):
        ``n_samples × n_classes``, columns in the order of ``classes_``, rows summing to 1.
        Available with ``probability=True`` (Platt's sigmoids of the decision values, fitted
        on held-out folds)."""
        return self._probabilities(X, log=False)

    @available_if(_probabilities_available)
    def predict_log_proba(self, X):
        """The natural log of :meth:`predict_proba`, accurate where a probability is tiny."""
        return self._probabilities(X, log=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def save(self, path):
        """Writes the model file at ``path``: integer classes as themselves, string classes
        as the names of the classes 0..k-1 (``rks predict`` prints them)."""
        check_is_fitted(self)
        if _integer_labels(self.classes_):
            return super().save(path)
        if not all(isinstance(c, str) for c in self.classes_):
            raise ValueError(
                "the rks model format stores integer class labels or class names, and these "
                f"classes are {list(self.classes_)!r}: pickle the estimator instead, or fit on "
                "integer or string labels"
            )
        names = [str(c) for c in self.classes_]
        self.model_.with_class_names(names).save(os.fspath(path))

    def _adopt_loaded(self, model):
        names = model.class_names
        if names is None:
            self.classes_ = np.asarray(model.classes, dtype=np.int64)
        else:
            self.classes_ = np.asarray(names)
        # A model saved with probabilities keeps them: predict_proba is available.
        self.probability = model.calibration is not None
        # And one fitted with class weights, its weights, by the labels of classes_.
        weights = model.class_weights
        if weights is not None:
            self.class_weight = {c.item(): w for c, w in zip(self.classes_, weights)}
        return self._adopt(model)


class KernelRegressor(RegressorMixin, _KernelMachine):
    """A kernel ridge regressor through random features: scaler -> feature map -> ridge.

    Parameters as :class:`KernelClassifier` (``solver`` must be "auto" or "ridge"), without
    ``probability`` and ``class_weight``.

    Examples
    --------
    >>> import numpy as np
    >>> from rks import KernelRegressor
    >>> X = np.random.default_rng(0).uniform(-3, 3, size=(500, 1))
    >>> y = np.sin(X[:, 0])
    >>> reg = KernelRegressor(n_components=256, random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.99)
    True
    """

    _task = "regression"

    def fit(self, X, y, sample_weight=None):
        """Fits on rows ``X`` and real targets ``y``. ``X`` may be a SciPy sparse matrix: the
        rows are then held as their non-zero entries and fitted by ridge on them, λ by
        cross-validation with model selection (as :meth:`KernelClassifier.fit`).

        ``sample_weight`` (one number ≥ 0 per row, or None): each row's squared error counts
        its weight (weighted ridge) and the model selection compares weighted squared errors; a
        row of weight 0 is left out, weights all 1 are no weights. Dense or sparse rows (ridge
        on sparse rows weighs them as well, λ by the weighted held-out squared error)."""
        sparse = sp.issparse(X)
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=np.float64, order="C", y_numeric=True,
            ensure_min_samples=2,
        )
        sample_weight = _sample_weight(sample_weight, X)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if sparse:
            params = _rks.Params(**self._sparse_params())
            return self._adopt(params.fit_sparse(*_csr_parts(X), X.shape[1], y, sample_weight))
        params = _rks.Params(**self._params())
        return self._adopt(params.fit(X, y, sample_weight))

    def predict(self, X):
        """Predicted values for the rows of ``X`` (which may be sparse)."""
        return self._scores(X)[:, 0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _sample_weight(sample_weight, X):
    """``sample_weight`` as the library takes it: None, or one float64 per row of ``X``
    (scikit-learn's checks: the length, finite, ≥ 0; a scalar weighs every row alike)."""
    if sample_weight is None:
        return None
    return np.ascontiguousarray(
        _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    )


def _csr_parts(X):
    """A canonical copy of sparse rows ``X`` (CSR, duplicates summed, no stored zeros, sorted
    columns) as the library takes it: int64 row offsets and columns, float64 values."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    return (
        np.ascontiguousarray(X.indptr, dtype=np.int64),
        np.ascontiguousarray(X.indices, dtype=np.int64),
        np.ascontiguousarray(X.data, dtype=np.float64),
    )


def _integer_labels(classes):
    """True when the labels are whole numbers the model format stores as they are."""
    if classes.dtype.kind in "iu":
        return bool(np.all(np.abs(classes.astype(np.float64)) <= 2**53))
    if classes.dtype.kind == "f":
        return bool(np.all(np.isfinite(classes)) and np.all(classes == np.round(classes))
                    and np.all(np.abs(classes) < 2**53))
    return False


def classes_as_targets(classes, indices):
    """The library's targets: the labels themselves when they are whole numbers (so a saved
    model predicts them in ``rks predict``), else the class indices 0..k-1. Both keep the order
    of ``classes`` (sorted), so the library's score columns follow ``classes_``."""
    if _integer_labels(classes):
        return classes.astype(np.float64)[indices]
    return indices.astype(np.float64)

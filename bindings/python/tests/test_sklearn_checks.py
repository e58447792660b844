"""scikit-learn's own estimator checks on every public estimator of the package."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import rks

ESTIMATORS = [
    rks.FastfoodSampler(n_components=256),
    rks.RKSSampler(n_components=256),
    rks.OrthogonalSampler(n_components=256),
    rks.SORFSampler(n_components=256),
    rks.NystroemSampler(n_components=20),
    rks.KernelClassifier(n_components=256),
    rks.KernelClassifier(n_components=256, solver="svm", C=10.0),
    rks.KernelRegressor(n_components=256),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

"""Shared fixtures: small data sets with fixed seeds."""

import numpy as np
import pytest


@pytest.fixture
def classes3():
    """600 rows of 4 columns, three classes (labels 2, 5, 7) split by smooth boundaries."""
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, size=(600, 4))
    score = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    y = np.where(score > 0.3, 7, np.where(score < -0.3, 2, 5))
    return X, y


@pytest.fixture
def regression():
    """500 rows of 3 columns, a smooth target plus a little noise."""
    rng = np.random.default_rng(12)
    X = rng.uniform(-2, 2, size=(500, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.01 * rng.normal(size=500)
    return X, y

"""``random_state`` as the library's 64-bit seed."""

import numbers

import numpy as np
from sklearn.utils import check_random_state


def seed_of(random_state):
    """The seed of the ChaCha8 generator that draws a map's parameters.

    An int is the seed itself (so ``random_state=7`` draws the map ``rks fit --seed 7`` draws);
    ``None`` or a ``numpy.random.RandomState`` draw one from that generator, as scikit-learn does.

    >>> seed_of(7)
    7
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        seed = int(random_state)
        if not 0 <= seed < 2**64:
            raise ValueError(f"random_state must be in [0, 2**64), got {seed}")
        return seed
    rng = check_random_state(random_state)
    return int(rng.randint(0, np.iinfo(np.int64).max, dtype=np.int64))

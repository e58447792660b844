#!/usr/bin/env python3
"""Writes a synthetic LIBSVM classification file of N rows and d features (seeded), for the
streamed-fit scale benchmark in docs/benchmarks.md:

    python3 benches/scale/generate.py 10000000 8 /tmp/big.svm

Rows are uniform in [-1, 1]^d; the label is 1 where sin(3·x1) + x2·x3 + 0.3·noise > 0, else 0.
"""
import sys

import numpy as np


def main() -> None:
    rows, dim, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(2026)
    fmt = "%d " + " ".join(f"{j + 1}:%.5f" for j in range(dim))
    block = 200_000
    with open(path, "w") as out:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            x = rng.uniform(-1.0, 1.0, size=(n, dim))
            score = np.sin(3.0 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.3 * rng.standard_normal(n)
            y = (score > 0).astype(np.int64)
            np.savetxt(out, np.column_stack([y, x]), fmt=fmt)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a synthetic text-like LIBSVM classification file (seeded), for the sparse-rows
measurements in docs/benchmarks.md ("Sparse rows from the file on"):

    python3 benches/scale/bags_of_words.py ROWS COLUMNS WORDS TOPICAL NOISE SEED FILE
    python3 benches/scale/bags_of_words.py 20242 47236 74 3 0.05 1 /tmp/rcv.train

Each row draws WORDS words from a Zipf-like vocabulary of COLUMNS columns (p ∝ 1/rank^1.05,
ranks shuffled once) and TOPICAL more from one of two class-specific sets of 5,000 words; its
label (-1 or 1) is that class, flipped with probability NOISE. Values are counts 1-3 scaled to a
row of unit length. The vocabulary and the two sets are the same for every SEED, so files of
different seeds are a training and a test split of one problem.
"""
import sys

import numpy as np


def main() -> None:
    rows, cols, per_row, topical = (int(a) for a in sys.argv[1:5])
    noise, seed, path = float(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
    rng = np.random.default_rng(seed)
    vocabulary = np.random.default_rng(20261207)
    p = 1.0 / np.arange(1, cols + 1) ** 1.05
    p /= p.sum()
    ranks = vocabulary.permutation(cols)
    topics = ranks[vocabulary.choice(min(cols, 200_000), 10_000, replace=False)].reshape(2, 5000)
    with open(path, "w") as out:
        for _ in range(rows):
            c = int(rng.integers(0, 2))
            words = ranks[rng.choice(cols, per_row, p=p)]
            words = np.unique(np.concatenate([words, topics[c, rng.integers(0, 5000, topical)]]))
            counts = rng.integers(1, 4, len(words)).astype(float)
            values = counts / np.sqrt((counts**2).sum())
            label = c if rng.random() >= noise else 1 - c
            pairs = " ".join(f"{w + 1}:{v:.5g}" for w, v in zip(words, values))
            out.write(f"{2 * label - 1} {pairs}\n")


if __name__ == "__main__":
    main()

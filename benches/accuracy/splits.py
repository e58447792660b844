#!/usr/bin/env python3
"""The accuracy table again, averaged over random splits (docs/benchmarks.md, section "Repeated
splits").

One fixed split of a small set decides its row of the table by a few test rows: on heart's 54
test rows one row is 1.85 points, more than three times the 0.5-point target. This script pools
each set's training and test rows, draws R seeded random splits with the same test fraction
(stratified by class for classification), and runs on every split exactly what run.py runs on
the fixed one: the default `rks fit` / `rks eval`, and LIBSVM and LIBLINEAR tuned by 3-fold CV
(kernel ridge and linear ridge for regression), by run.py's own functions. It reports the mean
of each and the mean paired difference with its standard error over the splits.

Usage (from the repository root, after run.py's setup and `cargo build --release`):
  python3 benches/accuracy/splits.py                      # every set of at most 1,500 rows
  python3 benches/accuracy/splits.py --only heart,pima --splits 40
  python3 benches/accuracy/splits.py --table              # the markdown table from the results

Split k (k = 0 … R−1) is drawn by numpy's RandomState(k), so every tool sees the same rows and a
rerun draws the same splits. Results: benches/accuracy/splits/NAME.json.
"""
import argparse
import json
import math
import os
import shlex
import sys
import tempfile

import numpy as np
from sklearn.datasets import dump_svmlight_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (run.py: the sets, the peers' protocol, the rks runner)

OUT = os.path.join(run.ROOT, "benches", "accuracy", "splits")


def split(y, n_test, seed, stratify):
    """Indices (train, test) of split `seed`: n_test test rows, stratified by class if asked
    (each class's share of the test rows rounded, the remainder to the largest classes)."""
    rng = np.random.RandomState(seed)
    if not stratify:
        order = rng.permutation(len(y))
        return np.sort(order[n_test:]), np.sort(order[:n_test])
    classes, counts = np.unique(y, return_counts=True)
    share = counts * n_test / len(y)
    take = np.floor(share).astype(int)
    for i in np.argsort(-(share - take), kind="stable")[: n_test - take.sum()]:
        take[i] += 1
    test = []
    for c, t in zip(classes, take):
        rows = np.flatnonzero(y == c)
        test.extend(rng.permutation(rows)[:t])
    test = np.sort(np.array(test, dtype=int))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test


def one_split(a, name, d, task, X, y, n_test, seed, cached=None):
    """Split `seed` of the set: rks run on it, the peers too unless `cached` (an earlier
    result of the same split) gives their scores."""
    tr, te = split(y, n_test, seed, task == "class")
    with tempfile.TemporaryDirectory() as tmp:
        for part, rows in (("train", tr), ("test", te)):
            lab = y[rows].astype(int) if task == "class" else y[rows]
            dump_svmlight_file(X[rows], lab, os.path.join(tmp, f"{name}.{part}"), zero_based=False)
        r = run.run_rks(a.rks, name, tmp, d, tmp, shlex.split(a.fit_args), a.label)
        ours = r["score"]["accuracy" if task == "class" else "rmse"]
        if cached is not None:
            peer, lin = cached["peer"], cached["linear"]
        elif task == "class":
            Str, Ste = run.minmax(X[tr], X[te])
            p = run.libsvm_peers(name, Str, y[tr], Ste, y[te], None, None, tmp)
            peer, lin = p["libsvm"]["accuracy"], p["liblinear"]["accuracy"]
        else:
            Str, Ste = run.minmax(X[tr], X[te])
            p = run.ridge_peers(Str, y[tr], Ste, y[te], None)
            peer, lin = p["krr"]["rmse"], p["linear_ridge"]["rmse"]
    m = r["model"]
    return {"seed": seed, "rks": ours, "peer": peer, "linear": lin,
            "rks_fit_cpu_s": r["fit_cpu_s"],
            "rks_choice": f"{m['map']} {m['frequencies']}, {m['sigma']:.3g}, {m['solver']}",
            "commit": r["commit"], **({"fit_args": r["fit_args"]} if "fit_args" in r else {})}


def summary(res):
    """Means, and the paired difference rks − peer (points, or relative RMSE in %) with its
    standard error over the splits."""
    s = res["splits"]
    cls = res["task"] == "class"
    # accuracy points, or the relative RMSE difference in %
    gap = lambda ours, other: (ours - other) * 100 if cls else (ours / other - 1) * 100
    diff = np.array([gap(x["rks"], x["peer"]) for x in s])
    dlin = np.array([gap(x["rks"], x["linear"]) for x in s])
    se = lambda v: float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")
    return {"splits": len(s), "rks": float(np.mean([x["rks"] for x in s])),
            "peer": float(np.mean([x["peer"] for x in s])),
            "linear": float(np.mean([x["linear"] for x in s])),
            "diff": float(diff.mean()), "diff_se": se(diff),
            "diff_linear": float(dlin.mean()), "diff_linear_se": se(dlin),
            "rks_cpu_s": float(np.mean([x["rks_fit_cpu_s"] for x in s]))}


def table(out=OUT):
    rows = ["| data | rows (train + test) | splits | default `rks fit` | LIBSVM tuned (kernel ridge) "
            "| LIBLINEAR (linear ridge) | rks − LIBSVM, mean ± s.e. | rks − LIBLINEAR, mean ± s.e. "
            "| rks CPU s (mean) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, *_ in run.SETS:
        path = os.path.join(out, name + ".json")
        if not os.path.exists(path):
            continue
        res = json.load(open(path))
        s = summary(res)
        cls = res["task"] == "class"
        f = (lambda v: f"{100 * v:.2f}") if cls else (lambda v: f"RMSE {v:.4g}")
        unit = "points" if cls else "% RMSE"
        rows.append(f"| {name} | {res['n']} ({res['n_train']} + {res['n_test']}) | {s['splits']} "
                    f"| {f(s['rks'])} | {f(s['peer'])} | {f(s['linear'])} "
                    f"| {s['diff']:+.2f} ± {s['diff_se']:.2f} {unit} "
                    f"| {s['diff_linear']:+.2f} ± {s['diff_linear_se']:.2f} {unit} "
                    f"| {s['rks_cpu_s']:.2f} |")
    print("\n".join(rows))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="comma-separated data set names")
    ap.add_argument("--splits", type=int, default=20, help="random splits per set (R)")
    ap.add_argument("--max-rows", type=int, default=1500,
                    help="without --only: the sets of at most this many rows, train and test")
    ap.add_argument("--rks", default=os.path.join(run.ROOT, "target", "release", "rks"))
    ap.add_argument("--table", action="store_true", help="print the table and stop")
    ap.add_argument("--out", default=OUT, help="directory of the results")
    ap.add_argument("--peers-from", help="a results directory whose peers' scores to reuse "
                    "(split by split) instead of running the peers again: for comparing builds")
    run.add_build_options(ap)
    a = ap.parse_args()
    if a.table:
        return table(a.out)
    os.makedirs(a.out, exist_ok=True)
    only = set(a.only.split(",")) if a.only else None
    for name, folder, d, task, _, _ in run.SETS:
        if only is not None and name not in only:
            continue
        Xtr, ytr = run.load(os.path.join(folder, name + ".train"), d)
        Xte, yte = run.load(os.path.join(folder, name + ".test"), d)
        if only is None and len(ytr) + len(yte) > a.max_rows:
            continue
        X, y = np.vstack([Xtr, Xte]), np.concatenate([ytr, yte])
        print(f"== {name}", flush=True)
        res = {"name": name, "task": task, "n": len(y), "n_train": len(ytr), "n_test": len(yte),
               "splits": []}
        cached = {}
        if a.peers_from and os.path.exists(os.path.join(a.peers_from, name + ".json")):
            old = json.load(open(os.path.join(a.peers_from, name + ".json")))
            cached = {x["seed"]: x for x in old["splits"]}
        for seed in range(a.splits):
            res["splits"].append(one_split(a, name, d, task, X, y, len(yte), seed,
                                           cached.get(seed)))
            x = res["splits"][-1]
            print(f"  split {seed}: rks {x['rks']:.4f} peer {x['peer']:.4f} linear {x['linear']:.4f}"
                  f" ({x['rks_choice']})", flush=True)
        json.dump(res, open(os.path.join(a.out, name + ".json"), "w"), indent=1)
        s = summary(res)
        print(f"  mean rks − peer {s['diff']:+.2f} ± {s['diff_se']:.2f}", flush=True)
    table(a.out)


if __name__ == "__main__":
    sys.exit(main())

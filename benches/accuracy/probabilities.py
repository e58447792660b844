#!/usr/bin/env python3
"""Class probabilities: `rks fit --probabilities` against LIBSVM's `-b 1` (docs/benchmarks.md,
section "Class probabilities").

Usage (from the repository root, after `bash benches/accuracy/setup.sh` and `cargo build
--release`; the public sets under datasets/public as for run.py):
  python3 benches/accuracy/probabilities.py [--only a,b]

Method: the same split and scaling as run.py. LIBSVM trains once with `-b 1` (Platt's sigmoids
on an internal 5-fold cross-validation, then pairwise coupling) at the C and γ that run.py's
3-fold grid chose (read from benches/accuracy/results/<set>.json, so the grid is not run again)
on the rows run.py trained on; `svm-predict -b 1` gives the test rows' probabilities. rks: the
default `rks fit` with `--probabilities`, then `rks eval` (accuracy and log loss). The log loss
is the mean −ln p(true class), p clipped below at 2⁻⁵²; CPU seconds are user time (all
threads). The results go to benches/accuracy/results/probabilities.json.

With `--streamed`: the two ways rks fits the sigmoids, on one configuration (ridge on Fastfood's
1,024 frequencies, σ and λ searched as the streamed fit searches them): in memory (`rks fit
--probabilities`, five refits on folds) and streamed (`rks fit --stream --probabilities`, the
exact leave-one-out decision values of the sampled rows). Same model, other sigmoids; the
results go to benches/accuracy/results/probabilities-streamed.json.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.datasets import dump_svmlight_file

sys.path.insert(0, os.path.dirname(__file__))
from run import BUNDLED, PUBLIC, RESULTS, ROOT, load, minmax, run_rks, timed  # noqa: E402

# Classification sets of run.py's table: binary and multi-class, 200 to 15,000 training rows.
SETS = [
    ("breast_cancer", BUNDLED, 30),
    ("digits", BUNDLED, 64),
    ("spam", BUNDLED, 57),
    ("letter", BUNDLED, 16),
    ("sonar", PUBLIC, 60),
    ("ionosphere", PUBLIC, 34),
    ("vehicle", PUBLIC, 18),
    ("dna", PUBLIC, 180),
    ("satellite", PUBLIC, 36),
    ("glass", PUBLIC, 9),
    ("german", PUBLIC, 61),
    ("heart", PUBLIC, 13),
    ("australian", PUBLIC, 14),
]
EPS = 2.0 ** -52


def log_loss(classes, probabilities, truth):
    """Mean −ln p of each row's true class; `classes` name the columns."""
    column = {c: i for i, c in enumerate(classes)}
    p = np.array([probabilities[i, column[t]] if t in column else 0.0
                  for i, t in enumerate(truth)])
    return float(-np.mean(np.log(np.maximum(p, EPS))))


def libsvm_b1(name, folder, d, tmp):
    peers = json.load(open(os.path.join(RESULTS, name + ".json")))["peers"]["libsvm"]
    Xtr, ytr = load(os.path.join(folder, name + ".train"), d)
    Xte, yte = load(os.path.join(folder, name + ".test"), d)
    Xtr, Xte = minmax(Xtr, Xte)
    rows = peers["train_rows"]
    train, test = (os.path.join(tmp, f"{name}.{t}") for t in ("train", "test"))
    dump_svmlight_file(Xtr[:rows], ytr[:rows].astype(int), train, zero_based=False)
    dump_svmlight_file(Xte, yte.astype(int), test, zero_based=False)
    model, out = os.path.join(tmp, name + ".svm"), os.path.join(tmp, name + ".out")
    _, cpu, _ = timed(["svm-train", "-q", "-b", "1", "-m", "500", "-c", str(peers["C"]),
                       "-g", f"{peers['gamma']:.10g}", train, model])
    timed(["svm-predict", "-b", "1", test, model, out])
    lines = open(out).read().split("\n")
    classes = [int(c) for c in lines[0].split()[1:]]
    rows = [l.split() for l in lines[1:] if l.strip()]
    predicted = np.array([int(float(r[0])) for r in rows])
    p = np.array([[float(v) for v in r[1:]] for r in rows])
    truth = yte.astype(int)
    return {"accuracy": float(np.mean(predicted == truth)), "log_loss": log_loss(classes, p, truth),
            "train_cpu_s": cpu, "C": peers["C"], "gamma": peers["gamma"]}


def rks_probabilities(rks, name, folder, d, tmp, fit_args):
    """`rks fit` with `fit_args` (among them `--probabilities`) and `rks eval` on one set: the
    test accuracy and log loss, the fit's CPU seconds, and what its calibration measured."""
    ours = run_rks(rks, name, folder, d, tmp, fit_args=fit_args)
    model = os.path.join(tmp, name + ".model")
    ev = json.loads(subprocess.run(
        [rks, "eval", "--model", model, "--test", os.path.join(folder, name + ".test"),
         "--json"], capture_output=True, text=True, check=True).stdout)
    calibration = ours["model"]["probabilities"]
    return {"accuracy": ours["score"]["accuracy"], "log_loss": ev["log_loss"],
            "fit_cpu_s": ours["fit_cpu_s"], "commit": ours["commit"],
            "folds": calibration["folds"], "held_out_log_loss": calibration["held_out_log_loss"]}


def streamed(rks, only):
    """In memory against streamed calibration, one configuration (see the module docs)."""
    path = os.path.join(RESULTS, "probabilities-streamed.json")
    results = json.load(open(path)) if os.path.exists(path) else {}
    config = ["--solver", "ridge", "--map", "fastfood", "--frequencies", "1024", "--task",
              "classification", "--probabilities"]
    with tempfile.TemporaryDirectory() as tmp:
        for name, folder, d in SETS:
            if only and name not in only:
                continue
            print(name, flush=True)
            row = {how: rks_probabilities(rks, name, folder, d, tmp, config + extra)
                   for how, extra in [("in_memory", []), ("streamed", ["--stream"])]}
            results[name] = row
            a, b = row["streamed"], row["in_memory"]
            print(f"  streamed {100 * a['accuracy']:.2f} % {a['log_loss']:.4f} "
                  f"({a['fit_cpu_s']:.1f} s); in memory {100 * b['accuracy']:.2f} % "
                  f"{b['log_loss']:.4f} ({b['fit_cpu_s']:.1f} s)", flush=True)
            json.dump(results, open(path, "w"), indent=1)
    print("| set | accuracy, in memory | accuracy, streamed | log loss, in memory (5 folds) | "
          "log loss, streamed (leave-one-out) | streamed / in memory | fit CPU s, in memory | "
          "fit CPU s, streamed |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _, _ in SETS:
        if name not in results:
            continue
        a, b = results[name]["in_memory"], results[name]["streamed"]
        print(f"| {name} | {100 * a['accuracy']:.2f} % | {100 * b['accuracy']:.2f} % | "
              f"{a['log_loss']:.4f} | {b['log_loss']:.4f} | {b['log_loss'] / a['log_loss']:.2f} | "
              f"{a['fit_cpu_s']:.1f} | {b['fit_cpu_s']:.1f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="comma-separated set names")
    ap.add_argument("--streamed", action="store_true",
                    help="in-memory against streamed calibration instead of LIBSVM")
    args = ap.parse_args()
    rks = os.path.join(ROOT, "target", "release", "rks")
    if args.streamed:
        return streamed(rks, set(args.only.split(",")) if args.only else None)
    path = os.path.join(RESULTS, "probabilities.json")
    results = json.load(open(path)) if os.path.exists(path) else {}
    only = set(args.only.split(",")) if args.only else None
    with tempfile.TemporaryDirectory() as tmp:
        for name, folder, d in SETS:
            if only and name not in only:
                continue
            print(name, flush=True)
            ours = rks_probabilities(rks, name, folder, d, tmp, ["--probabilities"])
            del ours["folds"]
            results[name] = {"rks": ours, "libsvm_b1": libsvm_b1(name, folder, d, tmp)}
            r = results[name]
            print(f"  rks {100 * r['rks']['accuracy']:.2f} % log loss {r['rks']['log_loss']:.4f} "
                  f"({r['rks']['fit_cpu_s']:.1f} s); LIBSVM -b 1 "
                  f"{100 * r['libsvm_b1']['accuracy']:.2f} % {r['libsvm_b1']['log_loss']:.4f} "
                  f"({r['libsvm_b1']['train_cpu_s']:.1f} s)", flush=True)
            json.dump(results, open(path, "w"), indent=1)
    print("| set | rks accuracy | rks log loss | rks fit CPU s | LIBSVM -b 1 accuracy | "
          "LIBSVM -b 1 log loss | LIBSVM -b 1 training CPU s | log loss ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _, _ in SETS:
        if name not in results:
            continue
        a, b = results[name]["rks"], results[name]["libsvm_b1"]
        print(f"| {name} | {100 * a['accuracy']:.2f} % | {a['log_loss']:.4f} | {a['fit_cpu_s']:.1f} | "
              f"{100 * b['accuracy']:.2f} % | {b['log_loss']:.4f} | {b['train_cpu_s']:.2f} | "
              f"{a['log_loss'] / b['log_loss']:.2f} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Row weights: `rks fit --weights FILE` against exact kernel ridge with the same weights
(scikit-learn's KernelRidge fitted with `sample_weight`) on public regressions whose training
targets were made noisier on half the rows (docs/benchmarks.md, section "Row weights").

Usage (from the repository root, after `cargo build --release`; the public sets under
datasets/public as for run.py):
  python3 benches/accuracy/sample_weights.py [--only a,b]    # runs and prints the table
  python3 benches/accuracy/sample_weights.py --table         # the table from the results only

Method: the given train/test split of each set. A seeded half of the training rows (numpy
default_rng(0)) get extra Gaussian noise on their targets, of standard deviation equal to the
training targets' own; the test targets are left as they are. Each row's weight is the inverse
of the noise variance the protocol added, relative to the clean rows: 1 on the untouched rows,
1/(1 + var(y)/s²) on the noisy ones, with s² the residual variance of a linear fit on the
clean training rows (a stand-in for the rows' own noise). The same weights go to every weighted
model. Scores are the test RMSE against the untouched test targets.
- rks plain / rks weighted: `rks fit` with no flags, and with `--weights` (the file of those
  weights), on the unscaled rows; then `rks eval --json`.
- KRR weighted: exact kernel ridge (RBF), min Σᵢ wᵢ(yᵢ − b − f(xᵢ))² + α‖f‖² (the targets
  centred by their weighted mean; scikit-learn's KernelRidge with `sample_weight` has no
  intercept), on min-max scaled rows (run.py's scaling), α ∈ 10^{−6..1} × γ ∈ γ₀·2^{−12..3}
  (run.py's grid, γ₀ = 1/(d·var(X))), chosen by the weighted held-out squared error on one
  seeded 3-fold split (KFold, shuffle, random_state 0), then refitted on every training row.
  The fold fits are KernelRidge's own solution computed from one eigendecomposition of
  W^{1/2} K W^{1/2} per γ and fold; the final model is `KernelRidge(...).fit(X, y,
  sample_weight=w)` itself. KRR plain: the same without weights.
The results go to benches/accuracy/results/sample_weights.json.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.datasets import dump_svmlight_file
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import KFold

sys.path.insert(0, os.path.dirname(__file__))
from run import BUNDLED, PUBLIC, RESULTS, ROOT, load, minmax, timed  # noqa: E402

SETS = [
    ("diabetes", BUNDLED, 10),
    ("boston", PUBLIC, 13),
    ("auto", PUBLIC, 7),
    ("mcycle", PUBLIC, 1),
    ("cpus", PUBLIC, 6),
    ("carseats", PUBLIC, 10),
    ("hitters", PUBLIC, 19),
    ("concrete", PUBLIC, 8),
    ("caschools", PUBLIC, 9),
    ("saratoga", PUBLIC, 21),
]
OUT = os.path.join(RESULTS, "sample_weights.json")
ALPHAS = [10.0 ** k for k in range(-6, 2)]


def noisy(Xtr, ytr):
    """The training targets with extra noise on a seeded half, and every row's weight."""
    rng = np.random.default_rng(0)
    heavy = rng.permutation(len(ytr))[: len(ytr) // 2]
    clean = np.setdiff1d(np.arange(len(ytr)), heavy)
    A = np.c_[Xtr[clean], np.ones(len(clean))]
    coef, *_ = np.linalg.lstsq(A, ytr[clean], rcond=None)
    s2 = max(float(np.var(ytr[clean] - A @ coef)), 1e-12 * float(np.var(ytr)))
    y = ytr.copy()
    y[heavy] += rng.normal(scale=np.std(ytr), size=len(heavy))
    w = np.ones(len(ytr))
    w[heavy] = 1.0 / (1.0 + np.var(ytr) / s2)
    return y, w


def weighted_krr_search(X, y, w, weighted):
    """(α, γ) of the lowest weighted held-out squared error over the grid, 3 seeded folds."""
    d = X.shape[1]
    g0 = 1.0 / (d * X.var())
    gammas = [g0 * 2.0 ** k for k in range(-12, 4)]
    w = w if weighted else np.ones(len(y))
    errors = np.zeros((len(ALPHAS), len(gammas)))
    for train, test in KFold(3, shuffle=True, random_state=0).split(X):
        wt, yt = w[train], y[train]
        mean = np.sum(wt * yt) / np.sum(wt)
        r = np.sqrt(wt)
        for j, g in enumerate(gammas):
            K = rbf_kernel(X[train], X[train], gamma=g)
            s, U = np.linalg.eigh(r[:, None] * K * r[None, :])
            b = U.T @ (r * (yt - mean))
            Kt = rbf_kernel(X[test], X[train], gamma=g)
            for i, a in enumerate(ALPHAS):
                # (K + α W⁻¹)⁻¹ y = W^{1/2} (W^{1/2} K W^{1/2} + α)⁻¹ W^{1/2} y
                coef = r * (U @ (b / (np.maximum(s, 0.0) + a)))
                pred = mean + Kt @ coef
                errors[i, j] += np.sum(w[test] * (y[test] - pred) ** 2)
    i, j = np.unravel_index(np.argmin(errors), errors.shape)
    return ALPHAS[i], gammas[j]


def krr(Xtr, ytr, w, Xte, yte, weighted):
    alpha, gamma = weighted_krr_search(Xtr, ytr, w, weighted)
    sw = w if weighted else None
    mean = np.average(ytr, weights=sw)
    model = KernelRidge(kernel="rbf", alpha=alpha, gamma=gamma).fit(Xtr, ytr - mean, sample_weight=sw)
    rmse = float(np.sqrt(np.mean((mean + model.predict(Xte) - yte) ** 2)))
    return {"rmse": rmse, "alpha": alpha, "gamma": gamma}


def rks_fit(rks, train, test, d, tmp, weights=None):
    model = os.path.join(tmp, "m.rks")
    args = [rks, "fit", "--train", train, "--model", model, "--features", str(d), "--json",
            "--task", "regression"]
    if weights is not None:
        args += ["--weights", weights]
    out, cpu, _ = timed(args)
    ev, _, _ = timed([rks, "eval", "--model", model, "--test", test, "--json"])
    fit = json.loads(out)
    return {"rmse": json.loads(ev)["score"]["rmse"], "fit_cpu_s": cpu,
            "sigma": fit["model"]["sigma"], "lambda": fit["model"].get("lambda"),
            "map": fit["model"]["map"], "frequencies": fit["model"]["frequencies"]}


def run(names, rks):
    results = json.load(open(OUT)) if os.path.exists(OUT) else {}
    for name, folder, d in SETS:
        if names and name not in names:
            continue
        Xtr, ytr = load(os.path.join(folder, name + ".train"), d)
        Xte, yte = load(os.path.join(folder, name + ".test"), d)
        y, w = noisy(Xtr, ytr)
        with tempfile.TemporaryDirectory() as tmp:
            train = os.path.join(tmp, name + ".train")
            dump_svmlight_file(Xtr, y, train, zero_based=False)
            weights = os.path.join(tmp, "weights.txt")
            np.savetxt(weights, w, fmt="%.17g")
            test = os.path.join(folder, name + ".test")
            plain = rks_fit(rks, train, test, d, tmp)
            weighted = rks_fit(rks, train, test, d, tmp, weights)
        Str, Ste = minmax(Xtr, Xte)
        res = {"rows": len(ytr), "noisy_rows": int(np.sum(w < 1)), "noisy_weight": float(w.min()),
               "rks_plain": plain, "rks_weighted": weighted,
               "krr_plain": krr(Str, y, w, Ste, yte, False),
               "krr_weighted": krr(Str, y, w, Ste, yte, True),
               "commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True).stdout.strip()}
        results[name] = res
        print(f"{name}: rks {plain['rmse']:.4g} -> {weighted['rmse']:.4g}, "
              f"KRR {res['krr_plain']['rmse']:.4g} -> {res['krr_weighted']['rmse']:.4g}", flush=True)
        json.dump(results, open(OUT, "w"), indent=1)
    return results


def table(results):
    print("| data | rows | noisy rows' weight | rks plain | rks weighted | KRR plain | KRR weighted | "
          "rks weighted / KRR weighted |")
    print("|---|---|---|---|---|---|---|---|")
    ratios = []
    for name, _, _ in SETS:
        r = results.get(name)
        if not r:
            continue
        ratio = r["rks_weighted"]["rmse"] / r["krr_weighted"]["rmse"]
        ratios.append(ratio)
        print(f"| {name} | {r['rows']} | {r['noisy_weight']:.3g} | {r['rks_plain']['rmse']:.4g} | "
              f"{r['rks_weighted']['rmse']:.4g} | {r['krr_plain']['rmse']:.4g} | "
              f"{r['krr_weighted']['rmse']:.4g} | {ratio:.3f} |")
    if ratios:
        print(f"\nmedian ratio {np.median(ratios):.3f}, geometric mean "
              f"{np.exp(np.mean(np.log(ratios))):.3f}, within 5 %: "
              f"{sum(r <= 1.05 for r in ratios)} of {len(ratios)}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--only")
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--rks", default=os.path.join(ROOT, "target", "release", "rks"))
    a = ap.parse_args()
    if a.table:
        table(json.load(open(OUT)))
    else:
        table(run(set(a.only.split(",")) if a.only else None, a.rks))

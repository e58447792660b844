"""rks.FastfoodSampler.transform (or another rks sampler, --sampler) against scikit-learn's
RBFSampler.transform at the same output width: 2,000 × 1,024 float32 rows -> 32,768 features,
one thread, both timed in this process, alternating, every Python-side cost included (input
validation, the output array).

    RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 python benches/python/transform_speed.py [--rounds 5]
        [--sampler RKSSampler]

Prints CPU and wall seconds per call (median over the rounds) and the ratios: the default path
(a fresh output array per call) and the path writing into a reused array (`out=`).
"""

import os

# One thread everywhere, before NumPy and rks start their pools.
for var in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.kernel_approximation import RBFSampler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import rks  # noqa: E402


def timed(f):
    cpu, wall = time.process_time(), time.perf_counter()
    f()
    return time.process_time() - cpu, time.perf_counter() - wall


def avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512f" in f.read()
    except OSError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--width", type=int, default=32768)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sampler", default="FastfoodSampler",
                        choices=["FastfoodSampler", "RKSSampler", "OrthogonalSampler", "SORFSampler"])
    args = parser.parse_args()

    X = np.random.default_rng(0).normal(size=(args.rows, args.dim)).astype(np.float32)
    gamma = 1.0 / args.dim
    ours = getattr(rks, args.sampler)(n_components=args.width, gamma=gamma, random_state=0).fit(X)
    theirs = RBFSampler(n_components=args.width, gamma=gamma, random_state=0).fit(X)
    out = np.empty((args.rows, args.width), dtype=np.float32)
    assert ours.transform(X).dtype == theirs.transform(X).dtype == np.float32

    runs = {"rks": [], "rks out=": [], "RBFSampler": []}
    with threadpool_limits(limits=1):
        for _ in range(args.rounds):
            runs["rks"].append(timed(lambda: ours.transform(X)))
            runs["rks out="].append(timed(lambda: ours.transform(X, out=out)))
            runs["RBFSampler"].append(timed(lambda: theirs.transform(X)))

    print(f"{args.sampler} against RBFSampler: {args.rows} × {args.dim} float32 -> {args.width} "
          f"features, one thread, median of {args.rounds} alternating rounds")
    print(f"CPU: {platform.processor() or platform.machine()}, AVX-512: {avx512()}, "
          f"numpy {np.__version__}, rks {rks.__version__}")
    median = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
              for k, v in runs.items()}
    for name, (cpu, wall) in median.items():
        print(f"{name:>11}: {cpu * 1e3:9.1f} ms CPU {wall * 1e3:9.1f} ms wall")
    base_cpu, base_wall = median["RBFSampler"]
    for name in ("rks", "rks out="):
        cpu, wall = median[name]
        print(f"RBFSampler / {name:<8}: {base_cpu / cpu:5.1f}× CPU, {base_wall / wall:5.1f}× wall")


if __name__ == "__main__":
    main()

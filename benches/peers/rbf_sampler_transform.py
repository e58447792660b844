#!/usr/bin/env python3
"""CPU time of scikit-learn's RBFSampler transform at the shape of peer-baselines.md.

2,000 rows x d = 1,024 standard-normal input, gamma = 1/1024, n_components 16,384 and 32,768,
float32 and float64, one thread. Reports the best and median CPU time of the transform alone (the
fit, which only draws the frequencies, is timed apart), the CPU time of its matrix product alone
(x @ random_weights_, OpenBLAS GEMM) with its GFLOP/s, ns per row-feature, the parameter memory
and, as a check that the map is a kernel approximation at all, the mean absolute error of
phi(x).phi(y) against exp(-gamma ||x - y||^2) on 200 row pairs.
"""

import os

# Must precede the numpy import: OpenBLAS reads it once, when it loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.kernel_approximation import RBFSampler  # noqa: E402

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--sizes", nargs="+", type=int, default=[16384, 32768])
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=HERE / "rbf_sampler_transform.json")
    args = ap.parse_args()

    gamma = 1.0 / args.dim
    x64 = np.random.default_rng(0).standard_normal((args.rows, args.dim))
    pairs = np.random.default_rng(1).integers(0, args.rows, size=(200, 2))
    exact = np.exp(-gamma * np.sum((x64[pairs[:, 0]] - x64[pairs[:, 1]]) ** 2, axis=1))

    runs = []
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; {args.rows} x {args.dim}, gamma 1/{args.dim}")
    print("| output features | dtype | CPU s best | CPU s median | GEMM alone CPU s | GEMM GFLOP/s | ns per row·feature | parameter memory | kernel MAE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for D in args.sizes:
        for dt in args.dtypes:
            x = x64.astype(dt)
            c0 = time.process_time()
            sampler = RBFSampler(gamma=gamma, n_components=D, random_state=0).fit(x)
            t_fit = time.process_time() - c0
            times = []
            for _ in range(args.repeats):
                c0 = time.process_time()
                z = sampler.transform(x)
                times.append(time.process_time() - c0)
            gemm_times = []
            for _ in range(args.repeats):
                c0 = time.process_time()
                g = x @ sampler.random_weights_
                gemm_times.append(time.process_time() - c0)
            del g
            gemm_flops = 2.0 * args.rows * args.dim * sampler.random_weights_.shape[1]
            assert z.dtype == np.dtype(dt), f"output dtype {z.dtype}, expected {dt}"
            zz = z.astype(np.float64)
            mae = float(np.mean(np.abs(np.sum(zz[pairs[:, 0]] * zz[pairs[:, 1]], axis=1) - exact)))
            params = sampler.random_weights_.nbytes + sampler.random_offset_.nbytes
            best = min(times)
            r = {
                "rows": args.rows,
                "dim": args.dim,
                "gamma": gamma,
                "n_components": D,
                "dtype": dt,
                "weights_dtype": str(sampler.random_weights_.dtype),
                "fit_cpu": t_fit,
                "transform_cpu": times,
                "gemm_cpu": gemm_times,
                "gemm_gflops": gemm_flops / min(gemm_times) * 1e-9,
                "ns_per_row_feature": best / (args.rows * D) * 1e9,
                "parameter_bytes": params,
                "kernel_mae_200_pairs": mae,
                "exact_kernel_mean": float(np.mean(exact)),
            }
            runs.append(r)
            print(
                f"| {D:,} | {dt} | {best:.2f} | {statistics.median(times):.2f} | "
                f"{min(gemm_times):.2f} | {r['gemm_gflops']:.0f} | "
                f"{r['ns_per_row_feature']:.1f} | {params / 2**20:.0f} MiB | {mae:.4f} |",
                flush=True,
            )
            del z, zz, sampler
    args.json.write_text(
        json.dumps({"scikit-learn": sklearn.__version__, "numpy": np.__version__, "runs": runs}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()

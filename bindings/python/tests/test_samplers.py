"""The transformers: kernel approximation, dtypes, zero-copy reads, `out=`, determinism."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import rks

SAMPLERS = [rks.FastfoodSampler, rks.RKSSampler, rks.OrthogonalSampler, rks.SORFSampler]


def gaussian(X, gamma):
    sq = np.sum(X**2, axis=1)
    return np.exp(-gamma * (sq[:, None] + sq[None, :] - 2 * X @ X.T))


@pytest.mark.parametrize("cls", SAMPLERS + [rks.NystroemSampler])
def test_features_approximate_the_gaussian_kernel(cls):
    """Max error over 40 × 40 pairs with 2,048 frequencies (d = 32: SORF is biased at small d,
    Yu et al. 2016); Nyström with every row a landmark is exact up to its eigenvalue floor."""
    X = np.random.default_rng(0).normal(size=(40, 32))
    gamma = 0.5 / 32
    n_components = 40 if cls is rks.NystroemSampler else 4096
    phi = cls(n_components=n_components, gamma=gamma, random_state=3).fit_transform(X)
    error = np.abs(phi @ phi.T - gaussian(X, gamma)).max()
    assert error < 0.08, error


@pytest.mark.parametrize("cls", SAMPLERS)
def test_float32_in_float32_out_and_close_to_float64(cls):
    X = np.random.default_rng(1).normal(size=(30, 16))
    s = cls(n_components=512, gamma=0.1, random_state=0).fit(X)
    phi32, phi64 = s.transform(X.astype(np.float32)), s.transform(X)
    assert phi32.dtype == np.float32 and phi64.dtype == np.float64
    assert np.abs(phi32 - phi64).max() < 1e-4


def test_strided_and_readonly_inputs_give_the_contiguous_result():
    X = np.random.default_rng(2).normal(size=(50, 32))
    s = rks.FastfoodSampler(n_components=256, random_state=0).fit(X)
    expected = s.transform(X)
    fortran = np.asfortranarray(X)
    readonly = X.copy()
    readonly.setflags(write=False)
    assert np.array_equal(s.transform(fortran), expected)
    assert np.array_equal(s.transform(readonly), expected)
    assert np.array_equal(s.transform(np.repeat(X, 2, axis=0)[::2]), expected)


def test_out_receives_the_features():
    X = np.random.default_rng(3).normal(size=(20, 8)).astype(np.float32)
    s = rks.FastfoodSampler(n_components=64, random_state=0).fit(X)
    out = np.empty((20, 64), dtype=np.float32)
    assert s.transform(X, out=out) is out
    assert np.array_equal(out, s.transform(X))
    with pytest.raises((TypeError, ValueError)):
        s.transform(X, out=np.empty((20, 64), dtype=np.float64))
    with pytest.raises(ValueError):
        s.transform(X, out=np.empty((19, 64), dtype=np.float32))
    with pytest.raises(ValueError):
        s.transform(X, out=np.empty((64, 20), dtype=np.float32).T)


def test_odd_width_keeps_the_first_features():
    X = np.random.default_rng(4).normal(size=(5, 3))
    even = rks.FastfoodSampler(n_components=10, random_state=0).fit_transform(X)
    odd = rks.FastfoodSampler(n_components=9, random_state=0).fit_transform(X)
    assert odd.shape == (5, 9) and np.array_equal(odd, even[:, :9])


def test_random_state_is_the_seed_and_pickling_keeps_the_map():
    X = np.random.default_rng(5).normal(size=(10, 6))
    a = rks.SORFSampler(n_components=128, random_state=7).fit(X)
    b = rks.SORFSampler(n_components=128, random_state=7).fit(X)
    c = rks.SORFSampler(n_components=128, random_state=8).fit(X)
    assert np.array_equal(a.transform(X), b.transform(X))
    assert not np.array_equal(a.transform(X), c.transform(X))
    assert a.map_.seed == 7
    assert np.array_equal(pickle.loads(pickle.dumps(a)).transform(X), a.transform(X))


def test_kernels_and_maps_come_from_the_library():
    assert "fastfood" in rks.NAMES["map"] and "arccos1" in rks.NAMES["kernel"]
    X = np.random.default_rng(6).normal(size=(4, 5))
    assert rks.FastfoodSampler(n_components=64, kernel="arccos1").fit_transform(X).shape == (4, 64)
    with pytest.raises(ValueError, match="expected one of gaussian, laplacian"):
        rks.FastfoodSampler(kernel="rbf").fit(X)
    with pytest.raises(ValueError, match="does not make the laplacian kernel"):
        rks.FastfoodSampler(kernel="laplacian").fit(X)
    assert rks.RKSSampler(n_components=16, kernel="laplacian").fit_transform(X).shape == (4, 16)


def test_features_do_not_depend_on_the_thread_count():
    """The same seed gives the same bits with one thread (a fresh process) as with all."""
    X = np.random.default_rng(7).normal(size=(300, 64)).astype(np.float32)
    here = rks.FastfoodSampler(n_components=2048, random_state=1).fit_transform(X)
    code = (
        "import sys, numpy as np, rks; X = np.frombuffer(sys.stdin.buffer.read(), np.float32)"
        ".reshape(300, 64); sys.stdout.buffer.write(rks.FastfoodSampler(n_components=2048,"
        " random_state=1).fit_transform(X).tobytes())"
    )
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    one = subprocess.run([sys.executable, "-c", code], input=X.tobytes(), env=env,
                         capture_output=True, check=True).stdout
    assert one == here.tobytes()


def test_a_dropped_result_is_recycled_and_a_held_one_never_overwritten():
    """Without `out=`, the next call reuses the last output only when nothing references it."""
    rng = np.random.default_rng(5)
    X1, X2 = rng.normal(size=(50, 16)), rng.normal(size=(50, 16))
    s = rks.FastfoodSampler(n_components=256, gamma=0.1, random_state=0).fit(X1)
    expected1, expected2 = s.transform(X1).copy(), s.transform(X2).copy()

    a = s.transform(X1)
    address = a.ctypes.data
    del a
    b = s.transform(X2)
    assert b.ctypes.data == address  # recycled
    np.testing.assert_array_equal(b, expected2)

    # Held results, a view of one, a reference in a container: none is written again.
    c = s.transform(X1)
    view = s.transform(X1)[:5]
    kept = [s.transform(X1)]
    d = s.transform(X2)
    for held in (b, c, kept[0]):
        assert not np.shares_memory(held, d)
    np.testing.assert_array_equal(b, expected2)
    np.testing.assert_array_equal(c, expected1)
    np.testing.assert_array_equal(view, expected1[:5])
    np.testing.assert_array_equal(kept[0], expected1)
    np.testing.assert_array_equal(d, expected2)

    # Another shape or dtype gets a fresh array with the right values.
    del d
    e = s.transform(X1[:7].astype(np.float32))
    assert e.shape == (7, 256) and e.dtype == np.float32
    np.testing.assert_allclose(e, expected1[:7], atol=1e-5)
    f = s.transform(X1)
    np.testing.assert_array_equal(f, expected1)


@pytest.mark.parametrize("cls", SAMPLERS + [rks.NystroemSampler])
def test_sparse_rows_give_the_features_of_the_same_rows_dense(cls, monkeypatch):
    from rks import samplers

    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 40)) * (rng.uniform(size=(120, 40)) < 0.2)
    # Blocks of a few rows, so the sparse transform crosses block boundaries.
    monkeypatch.setattr(samplers, "_SPARSE_BLOCK_BYTES", 7 * 40 * 8)
    for dtype in (np.float64, np.float32):
        dense, sparse = X.astype(dtype), sp.csr_matrix(X.astype(dtype))
        a = cls(n_components=64, gamma=0.1, random_state=3).fit(dense)
        b = cls(n_components=64, gamma=0.1, random_state=3).fit(sparse)
        expected = a.transform(dense)
        for model in (a, b):
            got = model.transform(sparse)
            assert got.dtype == dtype and np.array_equal(got, expected)
        out = np.empty_like(expected)
        assert b.transform(sp.csc_matrix(X.astype(dtype)), out=out) is out
        assert np.array_equal(out, expected)

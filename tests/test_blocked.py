"""The small products of ``_kernels/blocked.py`` (the CUDA build's, and the CPU's without BLAS).

Each product is checked against NumPy, and against itself shared by teams of
different sizes (every worker's span run in turn, as the threads of a block
would): the summation order is fixed, so the results are bit for bit equal.
"""

import functools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from numpy.testing import assert_allclose, assert_array_equal

from dynrnn import _config
from dynrnn._kernels import blocked


@functools.cache
def _team():
    """The products compiled for the CPU, run by a whole team of ``n_workers`` in turn."""
    device = njit(inline="always", **_config.JIT_OPTIONS)
    span = device(blocked.span)
    gemm_nn, gemm_tn, column_sums = (device(f) for f in blocked.make_products(span))

    @njit(**_config.JIT_OPTIONS)
    def team(X, W, A, Y, out, sums, n_workers):
        for worker in range(n_workers):
            gemm_nn(X, W, Y, worker, n_workers)
        for worker in range(n_workers):
            gemm_tn(A, W, out, worker, n_workers, False)
        for worker in range(n_workers):
            gemm_tn(A, W, out, worker, n_workers, True)  # accumulates: twice A^T W
        for worker in range(n_workers):
            column_sums(A, sums, worker, n_workers, False)

    return team


@settings(deadline=None)
@given(st.integers(1, 11), st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_products_match_numpy_for_any_team(R, J, N, seed):
    rng = np.random.default_rng(seed)
    X, W, A = rng.normal(size=(R, J)), rng.normal(size=(J, N)), rng.normal(size=(J, R))
    results = []
    for n_workers in (1, 2, 3, 7):
        Y, out, sums = np.empty((R, N)), np.empty((R, N)), np.empty(R)
        _team()(X, W, A, Y, out, sums, n_workers)
        assert_allclose(Y, X @ W, rtol=1e-12, atol=1e-12)
        assert_allclose(out, 2.0 * (A.T @ W), rtol=1e-12, atol=1e-12)
        assert_allclose(sums, A.sum(axis=0), rtol=1e-12, atol=1e-12)
        results.append((Y, out, sums))
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            assert_array_equal(a, b)


def test_span_covers_every_item_once():
    for n_items in range(0, 12):
        for n_workers in range(1, 6):
            owned = [i for w in range(n_workers) for i in range(*blocked.span(n_items, w, n_workers))]
            assert owned == list(range(n_items))

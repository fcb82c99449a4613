"""Micro-benchmark: blocked gemm_nn (one-row loop, four-row block) against np.dot inside njit.

Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/micro_blocked_products.py
(one thread; each product repeated 20,000 times in one compiled loop; median of 5)."""

import os
import time

import numpy as np
from numba import njit

os.environ.setdefault("OMP_NUM_THREADS", "1")
from dynrnn import _config
from dynrnn._kernels import blocked

dev = njit(inline="always", fastmath=_config.FASTMATH, error_model="numpy")
span = dev(blocked.span)
gemm_nn_lib = dev(blocked.make_products(span)[0])  # the library's (four-row blocks)


def make_gemm_nn1(span):
    def gemm_nn(X, W, Y, worker, n_workers):
        R, J = X.shape
        N = W.shape[1]
        lo, hi = span(R, worker, n_workers)
        for r in range(lo, hi):
            for i in range(N):
                Y[r, i] = 0.0
            j = 0
            while j + 4 <= J:
                x0 = X[r, j]
                x1 = X[r, j + 1]
                x2 = X[r, j + 2]
                x3 = X[r, j + 3]
                for i in range(N):
                    Y[r, i] += x0 * W[j, i] + x1 * W[j + 1, i] + x2 * W[j + 2, i] + x3 * W[j + 3, i]
                j += 4
            while j < J:
                x0 = X[r, j]
                for i in range(N):
                    Y[r, i] += x0 * W[j, i]
                j += 1

    return gemm_nn


gemm_nn_old = dev(make_gemm_nn1(span))


def make_gemm_nn4(span):
    def gemm_nn(X, W, Y, worker, n_workers):
        R, J = X.shape
        N = W.shape[1]
        lo, hi = span(R, worker, n_workers)
        r = lo
        while r + 4 <= hi:
            for i in range(N):
                Y[r, i] = 0.0
                Y[r + 1, i] = 0.0
                Y[r + 2, i] = 0.0
                Y[r + 3, i] = 0.0
            j = 0
            while j + 4 <= J:
                a0 = X[r, j]
                a1 = X[r, j + 1]
                a2 = X[r, j + 2]
                a3 = X[r, j + 3]
                b0 = X[r + 1, j]
                b1 = X[r + 1, j + 1]
                b2 = X[r + 1, j + 2]
                b3 = X[r + 1, j + 3]
                c0 = X[r + 2, j]
                c1 = X[r + 2, j + 1]
                c2 = X[r + 2, j + 2]
                c3 = X[r + 2, j + 3]
                d0 = X[r + 3, j]
                d1 = X[r + 3, j + 1]
                d2 = X[r + 3, j + 2]
                d3 = X[r + 3, j + 3]
                for i in range(N):
                    w0 = W[j, i]
                    w1 = W[j + 1, i]
                    w2 = W[j + 2, i]
                    w3 = W[j + 3, i]
                    Y[r, i] += a0 * w0 + a1 * w1 + a2 * w2 + a3 * w3
                    Y[r + 1, i] += b0 * w0 + b1 * w1 + b2 * w2 + b3 * w3
                    Y[r + 2, i] += c0 * w0 + c1 * w1 + c2 * w2 + c3 * w3
                    Y[r + 3, i] += d0 * w0 + d1 * w1 + d2 * w2 + d3 * w3
                j += 4
            while j < J:
                a0 = X[r, j]
                b0 = X[r + 1, j]
                c0 = X[r + 2, j]
                d0 = X[r + 3, j]
                for i in range(N):
                    w0 = W[j, i]
                    Y[r, i] += a0 * w0
                    Y[r + 1, i] += b0 * w0
                    Y[r + 2, i] += c0 * w0
                    Y[r + 3, i] += d0 * w0
                j += 1
            r += 4
        while r < hi:
            for i in range(N):
                Y[r, i] = 0.0
            j = 0
            while j + 4 <= J:
                x0 = X[r, j]
                x1 = X[r, j + 1]
                x2 = X[r, j + 2]
                x3 = X[r, j + 3]
                for i in range(N):
                    Y[r, i] += x0 * W[j, i] + x1 * W[j + 1, i] + x2 * W[j + 2, i] + x3 * W[j + 3, i]
                j += 4
            while j < J:
                x0 = X[r, j]
                for i in range(N):
                    Y[r, i] += x0 * W[j, i]
                j += 1
            r += 1

    return gemm_nn


gemm_nn4 = dev(make_gemm_nn4(span))


def bench(f):
    @njit(fastmath=_config.FASTMATH)
    def loop(X, W, Y, reps):
        for _ in range(reps):
            f(X, W, Y, 0, 1)

    return loop


@njit
def blas_loop(X, W, Y, reps):
    for _ in range(reps):
        np.dot(X, W, Y)


rng = np.random.default_rng(0)
for R, J, N in [(20, 50, 50), (20, 100, 100), (20, 6, 50)]:
    X = rng.normal(size=(R, J))
    W = rng.normal(size=(J, N))
    res = {}
    for name, f in [
        ("old", bench(gemm_nn_old)),
        ("blk4", bench(gemm_nn4)),
        ("lib", bench(gemm_nn_lib)),
        ("blas", blas_loop),
    ]:
        Y = np.empty((R, N))
        f(X, W, Y, 1)
        reps = 20000
        ts = []
        for _ in range(5):
            t = time.perf_counter()
            f(X, W, Y, reps)
            ts.append(time.perf_counter() - t)
        res[name] = (np.median(ts), Y.copy())
        print(R, J, N, name, "GFLOP/s %.1f" % (2 * R * J * N * reps / np.median(ts) / 1e9))
    print(" blk4==old bitwise:", np.array_equal(res["old"][1], res["blk4"][1]))

"""Machine ceilings measured in the same run as a benchmark.

Two reference numbers that benchmarks compare themselves against:

* :func:`exp_roofline` -- how many float64 ``exp`` evaluations per second
  NumPy's vectorized ``np.exp`` sustains on one core, times the number of
  cores this process may run on.  A map step of a logistic unit costs one
  ``exp``, so this is the compute ceiling for ``steps/s``.
* :func:`triad_bandwidth` -- a STREAM-style triad ``a = b + s * c``
  (one fused pass, Numba ``prange``) giving the sustained memory bandwidth,
  for benchmarks that are memory bound.
* :func:`dgemm_roofline` -- the float64 flop rate of a large matrix product
  (BLAS ``dgemm`` through ``np.dot``), for benchmarks made of matrix
  products (BPTT).

Run ``python benchmarks/roofline.py`` to print both.
"""

import os
import statistics
import time

import numpy as np

__all__ = ["n_cores", "exp_roofline", "triad_bandwidth", "dgemm_roofline"]


def n_cores():
    """Number of cores this process may run on.

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where available, else
        ``os.cpu_count()``.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _time_calls(fn, repeats):
    """Call ``fn()`` ``repeats`` times and return the wall times.

    Parameters
    ----------
    fn : callable
        Function of no arguments.
    repeats : int
        Number of timed calls.

    Returns
    -------
    list of float
        Seconds per call, in call order.
    """
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def exp_roofline(n=1_000_000, repeats=50):
    """Measure float64 ``np.exp`` throughput, per core and for all cores.

    ``np.exp(a, out=out)`` on a preallocated array of ``n`` float64 values
    (spread over ``[-20, 20]``) is timed ``repeats`` times after one warm-up
    call.  NumPy's ufunc is single threaded, so the total is the per-core
    rate times :func:`n_cores`.

    Parameters
    ----------
    n : int, optional
        Array length.  The default (8 MB per array) is large enough for
        loop overheads to vanish.
    repeats : int, optional
        Number of timed calls; the median is used.

    Returns
    -------
    dict
        ``n``, ``repeats``, ``median_s``, ``min_s``, ``max_s`` (seconds per
        call), ``per_core_exp_per_s`` (from the median), ``n_cores`` and
        ``total_exp_per_s`` (per core times cores).
    """
    a = np.linspace(-20.0, 20.0, n, dtype=np.float64)
    out = np.empty_like(a)
    np.exp(a, out=out)  # warm-up: page in ``out``, load the SIMD kernel
    times = _time_calls(lambda: np.exp(a, out=out), repeats)
    median = statistics.median(times)
    per_core = n / median
    cores = n_cores()
    return {
        "n": n,
        "repeats": repeats,
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "per_core_exp_per_s": per_core,
        "n_cores": cores,
        "total_exp_per_s": per_core * cores,
    }


def _triad_kernel():
    """Compile (once) and return the Numba parallel triad kernel.

    Returns
    -------
    callable
        ``triad(a, b, c, s)`` setting ``a[i] = b[i] + s * c[i]``.
    """
    import numba

    @numba.njit(parallel=True, cache=False)
    def triad(a, b, c, s):
        for i in numba.prange(a.shape[0]):
            a[i] = b[i] + s * c[i]

    return triad


def triad_bandwidth(n=20_000_000, repeats=10):
    """Measure sustained memory bandwidth with a STREAM-style triad.

    ``a[i] = b[i] + s * c[i]`` over float64 arrays of length ``n`` in one
    fused, multi-threaded pass (Numba ``prange``, all Numba threads).
    Bytes are counted the STREAM way: 24 bytes per element (two reads, one
    write; write-allocate traffic not counted).

    Parameters
    ----------
    n : int, optional
        Array length; the default (160 MB per array) is far beyond any
        cache.
    repeats : int, optional
        Number of timed calls after one compiling warm-up call.

    Returns
    -------
    dict
        ``n``, ``repeats``, ``median_s``, ``min_s``, ``max_s``,
        ``threads`` (Numba threads used), ``bytes_per_call``,
        ``bandwidth_Bps`` (from the median) and ``best_bandwidth_Bps``
        (from the fastest call, the number STREAM itself reports).
    """
    import numba

    triad = _triad_kernel()
    a = np.empty(n, dtype=np.float64)
    b = np.full(n, 1.0)
    c = np.full(n, 2.0)
    triad(a, b, c, 3.0)  # warm-up: compile and page in
    times = _time_calls(lambda: triad(a, b, c, 3.0), repeats)
    nbytes = 3 * 8 * n
    median = statistics.median(times)
    return {
        "n": n,
        "repeats": repeats,
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "threads": numba.get_num_threads(),
        "bytes_per_call": nbytes,
        "bandwidth_Bps": nbytes / median,
        "best_bandwidth_Bps": nbytes / min(times),
    }


def dgemm_roofline(n=1000, repeats=10, dtype=np.float64):
    """Sustained float64 (or float32) flop rate of an ``n x n`` matrix product (``np.dot``).

    Runs with whatever BLAS threads the process has (benchmarks set
    ``OPENBLAS_NUM_THREADS`` and friends before importing NumPy).

    Parameters
    ----------
    n : int, optional
        Matrix size.
    repeats : int, optional
        Number of timed products.
    dtype : numpy dtype, optional
        float64 (``dgemm``, the default) or float32 (``sgemm``).

    Returns
    -------
    dict
        ``flops_per_s`` (median, ``2 n^3`` flops per product), ``n`` and
        ``repeats``.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    np.dot(a, b, out=out)  # warm-up: threads, caches
    times = _time_calls(lambda: np.dot(a, b, out=out), repeats)
    return {"flops_per_s": 2.0 * n**3 / statistics.median(times), "n": n, "repeats": repeats}


def main():
    """Print both ceilings for this machine."""
    exp = exp_roofline()
    print(
        f"exp roofline: {exp['per_core_exp_per_s']:.3e} exp/s per core x "
        f"{exp['n_cores']} cores = {exp['total_exp_per_s']:.3e} exp/s "
        f"(np.exp, n={exp['n']}, median of {exp['repeats']})"
    )
    tri = triad_bandwidth()
    print(
        f"triad bandwidth: {tri['bandwidth_Bps'] / 1e9:.2f} GB/s median, "
        f"{tri['best_bandwidth_Bps'] / 1e9:.2f} GB/s best "
        f"({tri['threads']} Numba threads, n={tri['n']}, "
        f"{tri['repeats']} repeats)"
    )


if __name__ == "__main__":
    main()

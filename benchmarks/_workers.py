"""Worker-process and command-line helpers shared by ``bench_population.py`` and ``bench_gated.py``.

Imports nothing with a thread pool, so a script imports it first, calls
`apply_worker_env` with its per-row thread settings and only then imports
NumPy (a library reads its thread count once, at import).
"""

import argparse
import os
import statistics
import sys


def cores():
    """Number of cores this process may run on (before NumPy is imported)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


CORES = cores()
BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
ONE = dict.fromkeys(BLAS_VARS, "1")  # every BLAS on one thread


def apply_worker_env(thread_env, argv=None):
    """In a worker (``--worker KEY`` on the command line), set ``thread_env[KEY]`` in ``os.environ``.

    ``XLA_FLAGS`` is appended to, not replaced.  Call before NumPy is imported.
    """
    argv = sys.argv if argv is None else argv
    if "--worker" not in argv[:-1]:
        return
    key = argv[argv.index("--worker") + 1]
    for var, value in thread_env.get(key, {}).items():
        if var == "XLA_FLAGS":
            value = f"{os.environ.get('XLA_FLAGS', '')} {value}".strip()
        os.environ[var] = value


def check_updates(counts, expected):
    """Raise if a member did not make the updates asked for (e.g. it stopped on divergence)."""
    counts = list(counts)
    if any(c != expected for c in counts):
        raise RuntimeError(f"members made {sorted(set(counts))} updates, not {expected}")


def rate(row):
    """Aggregate updates per second of a timed row (median call)."""
    return row["K"] * row["u"] / statistics.median(row["times"])


def int_list(text):
    """``argparse`` type: positive integers separated by commas."""
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas; got {text!r}")
    return values


def choices(allowed):
    """``argparse`` type: some of ``allowed``, separated by commas."""

    def parse(text):
        values = [v.strip() for v in text.split(",") if v.strip()]
        bad = [v for v in values if v not in allowed]
        if not values or bad:
            raise argparse.ArgumentTypeError(f"expected some of {', '.join(allowed)}; got {text!r}")
        return values

    return parse

"""Timing, isolation and checking of the implementations of a benchmark.

Part of :mod:`_harness`.  Each implementation is built, called once (the
warm-up, whose time includes any JIT compile) and then timed ``repeats``
times.  By default every implementation is measured in a fresh Python
process: thread pools left behind by one library slow down whatever runs
next in the same process on a small machine (Numba's OpenMP workers keep
spinning after a parallel region; PyTorch and XLA keep pools too).  The
outputs then go back to the parent, which compares them with the
reference's before any time is shown.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _provenance import current_torch_threads, error_text
from roofline import _time_calls

__all__ = ["finite_mask", "measure", "run_all", "worker"]


def finite_mask(ref):
    """Points where every reference output is finite.

    Parameters
    ----------
    ref : tuple of ndarray
        Reference outputs, all of one shape.

    Returns
    -------
    ndarray of bool
    """
    return np.logical_and.reduce([np.isfinite(r) for r in ref])


def measure(impl, inputs, repeats):
    """Build, warm up and time one implementation in this process.

    Parameters
    ----------
    impl : _harness.Impl
        The implementation.
    inputs : tuple
        Arguments of its runner.
    repeats : int
        Timed calls after the warm-up call.

    Returns
    -------
    dict
        ``status`` and, when it ran, ``first_s`` (the warm-up call, JIT
        compile included), ``times`` and ``result`` (the warm-up call's
        outputs as float64 arrays).
    """
    try:
        run = impl.factory()
    except Exception as exc:  # import or set-up failure
        return {"status": f"failed (import error: {error_text(exc)})"}
    try:
        t0 = time.perf_counter()
        result = tuple(np.asarray(a, dtype=np.float64) for a in run(*inputs))
        first = time.perf_counter() - t0
        times = _time_calls(lambda: run(*inputs), repeats)
    except Exception as exc:
        return {"status": f"failed ({error_text(exc)})"}
    return {"status": "ok", "first_s": first, "times": times, "result": result}


def measure_isolated(script, impl, settings, workdir):
    """Run :func:`measure` for ``impl`` in a fresh Python process.

    Parameters
    ----------
    script : str or Path
        Benchmark script; run as ``script --worker KEY SETTINGS --workdir
        DIR`` it calls :func:`worker`.
    impl : _harness.Impl
        The implementation.
    settings : list of str
        The resolved settings as options, e.g. ``["--grid", "200"]``.
    workdir : Path
        Directory for the worker's result files.

    Returns
    -------
    dict
        As :func:`measure`.
    """
    cmd = [sys.executable, str(Path(script).resolve()), "--worker", impl.key, *settings, "--workdir", str(workdir)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    meta = workdir / f"{impl.key}.json"
    if proc.returncode != 0 or not meta.exists():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": f"failed (worker exit {proc.returncode}: {last[:50]})"}
    row = json.loads(meta.read_text())
    if row["status"] == "ok":
        with np.load(workdir / f"{impl.key}.npz") as data:
            row["result"] = tuple(data[f"arr_{i}"] for i in range(len(data.files)))
    return row


def worker(impl, inputs, repeats, workdir):
    """Entry point of an isolated measurement: measure and save to ``workdir``.

    Parameters
    ----------
    impl, inputs, repeats
        As for :func:`measure`.
    workdir : Path
        Where ``{key}.json`` (status, times, torch threads) and
        ``{key}.npz`` (outputs) are written.
    """
    row = measure(impl, inputs, repeats)
    result = row.pop("result", None)
    if result is not None:
        np.savez(workdir / f"{impl.key}.npz", *result)
    row["torch_threads"] = current_torch_threads()
    (workdir / f"{impl.key}.json").write_text(json.dumps(row))


def run_all(bench, args, settings, isolated=True):
    """Measure every implementation and check it against the reference.

    Parameters
    ----------
    bench : _harness.Benchmark
        The benchmark; its first implementation is the reference.
    args : argparse.Namespace
        Parsed command line.
    settings : list of str
        The resolved settings as options, passed on to the workers.
    isolated : bool, optional
        One process per implementation (default) or all in this process.

    Returns
    -------
    rows : list of dict
        One per implementation, reference first, each with ``name`` and
        ``status`` and, when it ran and agreed, ``first_s``, ``times`` and
        ``err``; rows from a worker also carry ``torch_threads``.
    mask : ndarray of bool
        Points compared.

    Raises
    ------
    RuntimeError
        If the reference itself failed.
    """
    inputs = None if isolated else bench.inputs(args)
    with tempfile.TemporaryDirectory(prefix=f"{bench.name}_") as tmp:
        rows = []
        for impl in bench.impls:
            reason = impl.skip_reason()
            if reason is not None:
                row = {"status": reason}
            elif isolated:
                row = measure_isolated(bench.script, impl, settings, Path(tmp))
            else:
                row = measure(impl, inputs, args.repeats)
            rows.append({"name": impl.label, **row})
    if "result" not in rows[0]:
        raise RuntimeError(f"{bench.impls[0].key} reference failed: {rows[0]['status']}")
    ref = rows[0].pop("result")
    mask = None if bench.mask is None else bench.mask(ref)
    for row in rows[1:]:
        check_row(row, ref, mask, bench.rtol, bench.atol)
    return rows, mask


def max_rel_error(got, ref, mask, rtol, atol):
    """Largest relative error of ``got`` against ``ref`` over ``mask``.

    Parameters
    ----------
    got, ref : tuple of ndarray
        Outputs to check, and the reference's.
    mask : ndarray of bool or None
        Points to compare (None: every entry of every output, for outputs
        of different shapes).
    rtol, atol : float
        Relative and absolute tolerance.

    Returns
    -------
    float
        ``max |got - ref| / (atol / rtol + |ref|)`` over all outputs;
        agreement means this is at most ``rtol``.  ``inf`` on a shape
        mismatch or a non-finite value.
    """
    worst = 0.0
    for g, r in zip(got, ref, strict=True):
        g = np.asarray(g, dtype=np.float64)
        if g.shape != r.shape:
            return float("inf")
        sel = ... if mask is None else mask
        err = np.abs(g[sel] - r[sel]) / (atol / rtol + np.abs(r[sel]))
        worst = max(worst, float(np.max(err, initial=0.0)))
    return worst if np.isfinite(worst) else float("inf")


def check_row(row, ref, mask, rtol, atol):
    """Compare a measured row with the reference; drop its times if it disagrees.

    Parameters
    ----------
    row : dict
        Output of :func:`measure`; updated in place: ``result`` is replaced
        by ``err``, and a disagreement sets ``status`` to ``failed (...)``
        and removes ``times`` and ``first_s``.
    ref : tuple of ndarray
        Reference outputs.
    mask : ndarray of bool
        Points compared.
    rtol, atol : float
        Relative and absolute tolerance.
    """
    if "result" not in row:
        return
    row["err"] = max_rel_error(row.pop("result"), ref, mask, rtol, atol)
    if not row["err"] <= rtol:
        row["status"] = f"failed (max rel err {row['err']:.1e} > {rtol:.0e})"
        row.pop("times", None)
        row.pop("first_s", None)

"""Benchmark: single logistic unit with forward-mode derivatives over a grid.

The map ``x_t = w * sigma(x_{t-1}) + b`` (``sigma`` logistic, ``x_0 = 0.5``)
is run for ``--steps`` steps (default 50) at every point of a ``G x G`` grid
of ``(w, b)`` in the paper's error-surface window ``w in [3, 8]``,
``b in [-5, 0]`` (Pascanu, Mikolov & Bengio 2013), carrying

    dx_t/dw = s + w s (1 - s) dx_{t-1}/dw
    dx_t/db = 1 + w s (1 - s) dx_{t-1}/db,      s = sigma(x_{t-1}),

from ``dx_0/dw = dx_0/db = 0``.  Implementations compared in one run:
dynrnn (CPU, and CUDA when a real GPU is present), vectorized NumPy (the
reference, defined in this file), PyTorch autograd and JAX ``jit`` (each
when installed).  The reference ceiling is the ``np.exp`` roofline of
:mod:`roofline` (one ``exp`` per map step).

Every implementation must agree with NumPy (``rtol`` 1e-9 on ``x``,
``dx/dw`` and ``dx/db`` over the points where ``|dx/db| < 1e6``) before a
time is shown.  ``--write`` appends the table and the run's provenance to
``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_grid.py            # 1000 x 1000, 7 repeats
    python benchmarks/bench_grid.py --quick    # 200 x 200, 3 repeats (CI)
    python benchmarks/bench_grid.py --write    # also append to RESULTS.md
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # an installed dynrnn still wins

from roofline import exp_roofline, n_cores  # noqa: E402

W_RANGE = (3.0, 8.0)
B_RANGE = (-5.0, 0.0)
X0 = 0.5
RTOL = 1e-9
ATOL = 1e-12
MODERATE = 1e6  # points with |dx/db| below this are compared
DYNRNN_ROOFLINE_TARGET = 0.5
DYNRNN_SPEEDUP_TARGET = 10.0
RESULTS = HERE / "RESULTS.md"


# ---------------------------------------------------------------- inputs


def make_grid(n_grid):
    """Build the ``(w, b)`` grid.

    Parameters
    ----------
    n_grid : int
        Points per axis.

    Returns
    -------
    w, b : ndarray
        C-contiguous float64 arrays of shape ``(n_grid, n_grid)``; ``w``
        varies along axis 0, ``b`` along axis 1.
    """
    w_axis = np.linspace(*W_RANGE, n_grid)
    b_axis = np.linspace(*B_RANGE, n_grid)
    w, b = np.meshgrid(w_axis, b_axis, indexing="ij")
    return np.ascontiguousarray(w), np.ascontiguousarray(b)


# ------------------------------------------------------- implementations


def numpy_tangents(w, b, x0, n_steps):
    """Reference: vectorized NumPy with preallocated buffers.

    Parameters
    ----------
    w, b : ndarray
        Float64 arrays of one shape.
    x0 : float
        Initial state at every point.
    n_steps : int
        Number of map steps.

    Returns
    -------
    x, dx_dw, dx_db : ndarray
        State and its derivatives after ``n_steps`` steps.
    """
    x = np.full(w.shape, x0, dtype=np.float64)
    dx_dw = np.zeros_like(x)
    dx_db = np.zeros_like(x)
    s = np.empty_like(x)
    gain = np.empty_like(x)
    with np.errstate(over="ignore"):
        for _ in range(n_steps):
            np.negative(x, out=s)
            np.exp(s, out=s)
            s += 1.0
            np.reciprocal(s, out=s)  # s = sigma(x_{t-1})
            np.subtract(1.0, s, out=gain)
            gain *= s
            gain *= w  # gain = w sigma'(x_{t-1})
            dx_dw *= gain
            dx_dw += s
            dx_db *= gain
            dx_db += 1.0
            np.multiply(w, s, out=x)
            x += b
    return x, dx_dw, dx_db


def dynrnn_runner(backend):
    """Return a runner calling ``dynrnn.single_unit.iterate_tangents``.

    Parameters
    ----------
    backend : {"cpu", "cuda"}
        dynrnn backend.

    Returns
    -------
    callable
        ``run(w, b, x0, n_steps) -> (x, dx_dw, dx_db)`` as host arrays.
    """
    from dynrnn.single_unit import iterate_tangents

    def run(w, b, x0, n_steps):
        res = iterate_tangents(w, b, x0, n_steps, activation="logistic", backend=backend)
        return np.asarray(res.x), np.asarray(res.dx_dw), np.asarray(res.dx_db)

    return run


def torch_runner():
    """Return a PyTorch autograd runner (float64, reverse mode).

    The points are independent, so the gradient of ``x_T.sum()`` with
    respect to ``w`` (or ``b``) is exactly the per-point ``dx_T/dw``.

    Returns
    -------
    callable
        ``run(w, b, x0, n_steps) -> (x, dx_dw, dx_db)`` as NumPy arrays.
    """
    import torch

    torch.set_num_threads(n_cores())

    def run(w, b, x0, n_steps):
        wt = torch.from_numpy(w).requires_grad_(True)
        bt = torch.from_numpy(b).requires_grad_(True)
        x = torch.full_like(wt, x0)
        for _ in range(n_steps):
            x = wt * torch.sigmoid(x) + bt
        dx_dw, dx_db = torch.autograd.grad(x.sum(), (wt, bt))
        return x.detach().numpy(), dx_dw.numpy(), dx_db.numpy()

    return run


def jax_runner():
    """Return a JAX runner: ``jit`` of forward mode (``jvp``) over ``fori_loop``.

    The two tangent directions ``(1, 0)`` and ``(0, 1)`` are pushed through
    one ``jax.jvp`` with ``vmap``, so the primal map is computed once.

    Returns
    -------
    callable
        ``run(w, b, x0, n_steps) -> (x, dx_dw, dx_db)`` as NumPy arrays.
    """
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def final_state(w, b, x0, n_steps):
        x = jnp.full_like(w, x0)
        return jax.lax.fori_loop(0, n_steps, lambda _, x: w * jax.nn.sigmoid(x) + b, x)

    def tangents(w, b, x0, n_steps):
        def push(tw, tb):
            return jax.jvp(lambda w, b: final_state(w, b, x0, n_steps), (w, b), (tw, tb))

        one, zero = jnp.ones_like(w), jnp.zeros_like(w)
        x, dx = jax.vmap(push)(jnp.stack([one, zero]), jnp.stack([zero, one]))
        return x[0], dx[0], dx[1]

    compiled = jax.jit(tangents, static_argnums=(3,))

    def run(w, b, x0, n_steps):
        out = compiled(w, b, x0, n_steps)
        return tuple(np.asarray(jax.block_until_ready(a)) for a in out)

    return run


def cuda_usable():
    """Whether a real CUDA GPU (not the simulator) is usable by Numba.

    Returns
    -------
    bool
    """
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return False
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


def _installed(module):
    """Whether top-level ``module`` can be found without importing it."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


# key -> (row label, runner factory)
RUNNERS = {
    "numpy": ("numpy (vectorized)", lambda: numpy_tangents),
    "dynrnn-cpu": ("dynrnn (cpu)", lambda: dynrnn_runner("cpu")),
    "dynrnn-cuda": ("dynrnn (cuda, incl. transfers)", lambda: dynrnn_runner("cuda")),
    "torch": ("torch autograd", torch_runner),
    "jax": ("jax jit (jvp)", jax_runner),
}


def skip_reason(key):
    """Why implementation ``key`` is skipped up front, or None to run it.

    Parameters
    ----------
    key : str
        Key of :data:`RUNNERS`.

    Returns
    -------
    str or None
    """
    if key == "dynrnn-cuda" and not cuda_usable():
        return "skipped (no GPU)"
    if key in ("torch", "jax") and not _installed(key):
        return "skipped (not installed)"
    return None


# -------------------------------------------------------------- checking


def moderate_mask(ref):
    """Points whose reference derivatives are moderate, hence comparable.

    Parameters
    ----------
    ref : tuple of ndarray
        NumPy ``(x, dx_dw, dx_db)``.

    Returns
    -------
    ndarray of bool
        True where all three are finite and ``|dx/db| < MODERATE``.
    """
    finite = np.isfinite(ref[0]) & np.isfinite(ref[1]) & np.isfinite(ref[2])
    return finite & (np.abs(ref[2]) < MODERATE)


def max_rel_error(got, ref, mask):
    """Largest relative error of ``got`` against ``ref`` over ``mask``.

    Parameters
    ----------
    got, ref : tuple of ndarray
        ``(x, dx_dw, dx_db)`` each.
    mask : ndarray of bool
        Points to compare.

    Returns
    -------
    float
        ``max |got - ref| / (ATOL / RTOL + |ref|)`` over the three outputs;
        agreement means this is at most ``RTOL``.  ``inf`` on a shape
        mismatch or a non-finite value.
    """
    worst = 0.0
    for g, r in zip(got, ref, strict=True):
        g = np.asarray(g, dtype=np.float64)
        if g.shape != r.shape:
            return float("inf")
        err = np.abs(g[mask] - r[mask]) / (ATOL / RTOL + np.abs(r[mask]))
        worst = max(worst, float(np.max(err, initial=0.0)))
    return worst if np.isfinite(worst) else float("inf")


def check_row(row, ref, mask):
    """Compare a measured row with the reference; drop its times if it disagrees.

    Parameters
    ----------
    row : dict
        Output of :func:`measure`; updated in place (``err``, ``status``).
    ref : tuple of ndarray
        NumPy ``(x, dx_dw, dx_db)``.
    mask : ndarray of bool
        Points compared.
    """
    if "result" not in row:
        return
    row["err"] = max_rel_error(row.pop("result"), ref, mask)
    if not row["err"] <= RTOL:
        row["status"] = f"failed (max rel err {row['err']:.1e} > {RTOL:.0e})"
        row.pop("times", None)
        row.pop("first_s", None)


# --------------------------------------------------------------- timing


def time_runner(run, args, repeats):
    """Time ``run(*args)`` ``repeats`` times.

    Parameters
    ----------
    run : callable
        Runner.
    args : tuple
        Its arguments.
    repeats : int
        Number of timed calls.

    Returns
    -------
    list of float
        Seconds per call.
    """
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(*args)
        times.append(time.perf_counter() - t0)
    return times


def _error_text(exc, limit=60):
    """One-line, shortened ``Type: message`` for a table cell."""
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def measure(key, args, repeats):
    """Build, warm up and time one implementation in this process.

    Parameters
    ----------
    key : str
        Key of :data:`RUNNERS`.
    args : tuple
        ``(w, b, x0, n_steps)``.
    repeats : int
        Timed calls after the warm-up call.

    Returns
    -------
    dict
        ``status`` and, when it ran, ``first_s`` (the warm-up call, JIT
        compile included), ``times`` and ``result`` (the warm-up call's
        ``(x, dx_dw, dx_db)``).
    """
    try:
        run = RUNNERS[key][1]()
    except Exception as exc:  # import or set-up failure
        return {"status": f"failed (import error: {_error_text(exc)})"}
    try:
        t0 = time.perf_counter()
        result = tuple(np.asarray(a, dtype=np.float64) for a in run(*args))
        first = time.perf_counter() - t0
        times = time_runner(run, args, repeats)
    except Exception as exc:
        return {"status": f"failed ({_error_text(exc)})"}
    return {"status": "ok", "first_s": first, "times": times, "result": result}


def measure_isolated(key, n_grid, n_steps, repeats, workdir):
    """Run :func:`measure` for ``key`` in a fresh Python process.

    Each implementation gets a process of its own so that thread pools left
    spinning by one library (Numba's OpenMP layer, PyTorch, XLA) cannot slow
    down the next one on a small machine.

    Parameters
    ----------
    key : str
        Key of :data:`RUNNERS`.
    n_grid, n_steps, repeats : int
        Run settings, passed on to the worker.
    workdir : Path
        Directory for the worker's result files.

    Returns
    -------
    dict
        As :func:`measure`.
    """
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        key,
        "--grid",
        str(n_grid),
        "--steps",
        str(n_steps),
        "--repeats",
        str(repeats),
        "--workdir",
        str(workdir),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    meta = workdir / f"{key}.json"
    if proc.returncode != 0 or not meta.exists():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": f"failed (worker exit {proc.returncode}: {last[:50]})"}
    row = json.loads(meta.read_text())
    if row["status"] == "ok":
        with np.load(workdir / f"{key}.npz") as data:
            row["result"] = (data["x"], data["dx_dw"], data["dx_db"])
    return row


def worker(key, n_grid, n_steps, repeats, workdir):
    """Entry point of an isolated measurement: measure and save to ``workdir``.

    Parameters
    ----------
    key : str
        Key of :data:`RUNNERS`.
    n_grid, n_steps, repeats : int
        Run settings.
    workdir : Path
        Where ``{key}.json`` (status and times) and ``{key}.npz`` (outputs)
        are written.
    """
    w, b = make_grid(n_grid)
    row = measure(key, (w, b, X0, n_steps), repeats)
    result = row.pop("result", None)
    if result is not None:
        np.savez(workdir / f"{key}.npz", x=result[0], dx_dw=result[1], dx_db=result[2])
    row["torch_threads"] = _torch_threads()
    (workdir / f"{key}.json").write_text(json.dumps(row))


def run_all(n_grid, n_steps, repeats, isolated=True):
    """Measure every implementation and check it against NumPy.

    Parameters
    ----------
    n_grid, n_steps, repeats : int
        Run settings.
    isolated : bool, optional
        One process per implementation (default) or all in this process.

    Returns
    -------
    rows : list of dict
        One per :data:`RUNNERS` entry, NumPy first, each with ``name`` and
        ``status`` and, when it ran and agreed, ``first_s``, ``times`` and
        ``err``.
    mask : ndarray of bool
        Points compared.
    """
    args = (*make_grid(n_grid), X0, n_steps)
    with tempfile.TemporaryDirectory(prefix="bench_grid_") as tmp:
        rows = []
        for key, (name, _) in RUNNERS.items():
            reason = skip_reason(key)
            if reason is not None:
                row = {"status": reason}
            elif isolated:
                row = measure_isolated(key, n_grid, n_steps, repeats, Path(tmp))
            else:
                row = measure(key, args, repeats)
            rows.append({"name": name, **row})
    if "result" not in rows[0]:
        raise RuntimeError(f"numpy reference failed: {rows[0]['status']}")
    ref = rows[0].pop("result")
    mask = moderate_mask(ref)
    for row in rows[1:]:
        check_row(row, ref, mask)
    return rows, mask


# ------------------------------------------------------------- reporting


def format_table(rows, n_points, n_steps, roof):
    """Render the result table.

    Parameters
    ----------
    rows : list of dict
        Output of :func:`run_all`, NumPy first.
    n_points : int
        Grid points.
    n_steps : int
        Map steps.
    roof : dict
        Output of :func:`roofline.exp_roofline`.

    Returns
    -------
    str
        The table, one line per implementation plus the roofline line.
    """
    numpy_median = statistics.median(rows[0]["times"])
    header = (
        f"{'implementation':<31} {'status':<20} {'first call s':>12} "
        f"{'median s':>10} {'min s':>10} {'max s':>10} {'steps/s':>10} "
        f"{'roofline':>8} {'vs numpy':>8} {'max rel err':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(_format_row(row, n_points * n_steps, roof, numpy_median))
    total = roof["total_exp_per_s"]
    lines.append(
        f"{'roofline: np.exp x ' + str(roof['n_cores']) + ' cores':<31} "
        f"{'measured':<20} {'':>12} {'':>10} {'':>10} {'':>10} "
        f"{total:>10.3e} {1.0:>8.3f} {total * numpy_median / (n_points * n_steps):>7.2f}x"
    )
    return "\n".join(lines)


def _format_row(row, work, roof, numpy_median):
    """One table line; a row without times shows only its status."""
    if "times" not in row:
        return f"{row['name']:<31} {row['status']}"
    times = row["times"]
    median = statistics.median(times)
    rate = work / median
    err = row.get("err")
    err_text = "reference" if err is None else f"{err:.1e}"
    return (
        f"{row['name']:<31} {row['status']:<20} {row['first_s']:>12.4f} "
        f"{median:>10.4f} {min(times):>10.4f} {max(times):>10.4f} "
        f"{rate:>10.3e} {rate / roof['total_exp_per_s']:>8.3f} "
        f"{numpy_median / median:>7.2f}x {err_text:>11}"
    )


def target_lines(rows, n_points, n_steps, roof):
    """PASS/MISS lines for dynrnn (cpu) against the issue's targets.

    Parameters
    ----------
    rows : list of dict
        Benchmark rows, NumPy first.
    n_points, n_steps : int
        Grid points and map steps.
    roof : dict
        Exp roofline.

    Returns
    -------
    list of str
    """
    dyn = next(r for r in rows if r["name"] == "dynrnn (cpu)")
    if "times" not in dyn:
        return [
            f"target dynrnn (cpu) >= {DYNRNN_ROOFLINE_TARGET:.0%} of roofline: MISS ({dyn['status']})",
            f"target dynrnn (cpu) >= {DYNRNN_SPEEDUP_TARGET:.0f}x numpy: MISS ({dyn['status']})",
        ]
    median = statistics.median(dyn["times"])
    frac = n_points * n_steps / median / roof["total_exp_per_s"]
    speedup = statistics.median(rows[0]["times"]) / median
    ok_frac = "PASS" if frac >= DYNRNN_ROOFLINE_TARGET else "MISS"
    ok_speed = "PASS" if speedup >= DYNRNN_SPEEDUP_TARGET else "MISS"
    return [
        f"target dynrnn (cpu) >= {DYNRNN_ROOFLINE_TARGET:.0%} of roofline: {frac:.1%} -> {ok_frac}",
        f"target dynrnn (cpu) >= {DYNRNN_SPEEDUP_TARGET:.0f}x numpy: {speedup:.2f}x -> {ok_speed}",
    ]


def summary_text(rows, n_grid, n_steps, repeats, mask, roof, isolated=True):
    """The full printed report: settings, table, agreement and targets.

    Parameters
    ----------
    rows : list of dict
        Benchmark rows, NumPy first.
    n_grid, n_steps, repeats : int
        Run settings.
    mask : ndarray of bool
        Points compared.
    roof : dict
        Exp roofline.
    isolated : bool, optional
        Whether each implementation ran in its own process.

    Returns
    -------
    str
    """
    n_points = n_grid * n_grid
    head = (
        f"single logistic unit x <- w*sigma(x) + b with dx/dw, dx/db; "
        f"grid {n_grid}x{n_grid} (w in [{W_RANGE[0]:g}, {W_RANGE[1]:g}], "
        f"b in [{B_RANGE[0]:g}, {B_RANGE[1]:g}]), x0 = {X0:g}, {n_steps} steps, "
        f"float64; median of {repeats} after one warm-up call, "
        f"{'each implementation in a fresh process' if isolated else 'all in one process'}"
    )
    check = (
        f"agreement vs numpy: rtol {RTOL:.0e} (atol {ATOL:.0e}) on x, dx/dw, dx/db "
        f"over {int(mask.sum())} of {n_points} points with |dx/db| < {MODERATE:.0e}"
    )
    roof_line = (
        f"roofline: np.exp float64 {roof['per_core_exp_per_s']:.3e} exp/s per core "
        f"(n={roof['n']}, median of {roof['repeats']}) x {roof['n_cores']} cores; "
        f"one exp per map step"
    )
    table = format_table(rows, n_points, n_steps, roof)
    targets = target_lines(rows, n_points, n_steps, roof)
    return "\n".join([head, roof_line, check, "", table, "", *targets])


# ------------------------------------------------------------ provenance


def _git_commit():
    """Short HEAD hash (``+ uncommitted changes`` if dirty), or 'uncommitted'."""

    def git(*cmd):
        return subprocess.run(
            ["git", "-C", str(REPO), *cmd],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        return "uncommitted"
    try:
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        dirty = False
    return commit + (" (+ uncommitted changes)" if dirty else "")


def _proc_field(path, key):
    """First value of ``key:`` in a ``/proc`` file, or 'unknown'."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.split(":")[0].strip() == key:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _version(dist):
    """Installed version of distribution ``dist``, or 'not installed'."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _gpu_text():
    """Name of the CUDA GPU Numba sees, or 'none'."""
    if not cuda_usable():
        return "none"
    try:
        from numba import cuda

        return cuda.get_current_device().name.decode()
    except Exception as exc:
        return f"unknown ({_error_text(exc)})"


def _torch_threads():
    """``torch.get_num_threads()`` if torch was imported, else 'n/a'."""
    torch = sys.modules.get("torch")
    return str(torch.get_num_threads()) if torch is not None else "n/a"


def provenance(argv, torch_threads="n/a"):
    """Machine, software and settings of this run, as Markdown bullets.

    Parameters
    ----------
    argv : list of str
        Command line to record.
    torch_threads : str, optional
        ``torch.get_num_threads()`` as seen by the torch measurement.

    Returns
    -------
    str
    """
    import numba

    mem = _proc_field("/proc/meminfo", "MemTotal")
    if mem.endswith("kB"):
        mem = f"{int(mem.split()[0]) / 2**20:.1f} GiB"
    now = datetime.datetime.now(datetime.timezone.utc)
    items = [
        ("date", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("git commit", _git_commit()),
        ("command", " ".join([Path(sys.executable).name, *argv])),
        ("CPU", _proc_field("/proc/cpuinfo", "model name")),
        ("cores", f"{n_cores()} usable (os.cpu_count() = {os.cpu_count()})"),
        ("RAM", mem),
        ("GPU", _gpu_text()),
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("numba", numba.__version__),
        ("dynrnn", _version("dynrnn")),
        ("torch", _version("torch")),
        ("jaxlib", _version("jaxlib")),
        ("jax", _version("jax")),
        (
            "NUMBA_NUM_THREADS",
            f"{numba.config.NUMBA_NUM_THREADS} (numba.get_num_threads() = {numba.get_num_threads()})",
        ),
        ("torch threads", torch_threads),
    ]
    return "\n".join(f"- {key}: {value}" for key, value in items)


def write_results(text, argv, torch_threads="n/a", path=RESULTS):
    """Append one section (provenance + report) to ``RESULTS.md``.

    Parameters
    ----------
    text : str
        The report exactly as printed.
    argv : list of str
        Command line (``sys.argv``).
    torch_threads : str, optional
        Recorded in the provenance.
    path : Path, optional
        File to append to; created with a title if missing.
    """
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"\n## bench_grid, {now}\n\n{provenance(argv, torch_threads)}\n\n```\n{text}\n```\n"
    if not path.exists():
        section = "# Benchmark results\n\nAppended by the scripts in benchmarks/.\n" + section
    with open(path, "a") as fh:
        fh.write(section)


# ------------------------------------------------------------------ main


def parse_args(argv):
    """Parse the command line.

    Parameters
    ----------
    argv : list of str

    Returns
    -------
    argparse.Namespace
        With ``grid`` and ``repeats`` filled in from ``--quick`` when unset.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI mode: grid 200x200, 3 repeats")
    parser.add_argument("--grid", type=int, default=None, help="points per axis (default 1000, 200 with --quick)")
    parser.add_argument("--steps", type=int, default=50, help="map steps (default 50)")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed calls per implementation (default 7, 3 with --quick)"
    )
    parser.add_argument("--write", action="store_true", help=f"append the results to {RESULTS.relative_to(REPO)}")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure all implementations in this process instead of "
        "one fresh process each (thread pools may then interfere)",
    )
    parser.add_argument("--worker", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.grid is None:
        args.grid = 200 if args.quick else 1000
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.grid < 1 or args.steps < 1 or args.repeats < 1:
        parser.error("--grid, --steps and --repeats must be positive")
    return args


def main(argv=None):
    """Run the benchmark, print the report and optionally append it.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0, or 1 if the NumPy reference itself failed.
    """
    recorded = sys.argv if argv is None else [sys.argv[0], *argv]
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        worker(args.worker, args.grid, args.steps, args.repeats, args.workdir)
        return 0
    try:
        rows, mask = run_all(args.grid, args.steps, args.repeats, isolated=not args.in_process)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    roof = exp_roofline(repeats=20 if args.quick else 50)
    text = summary_text(rows, args.grid, args.steps, args.repeats, mask, roof, isolated=not args.in_process)
    print(text)
    if args.write:
        torch_row = rows[list(RUNNERS).index("torch")]
        write_results(text, recorded, torch_row.get("torch_threads", "n/a"))
        print(f"\nappended to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

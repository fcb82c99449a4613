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

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _harness import Benchmark, Ceiling, Impl, Setting, Target, finite_mask, main  # noqa: E402
from roofline import exp_roofline, n_cores  # noqa: E402

W_RANGE = (3.0, 8.0)
B_RANGE = (-5.0, 0.0)
X0 = 0.5
MODERATE = 1e6  # points with |dx/db| below this are compared


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
        res = iterate_tangents(w, b, x0, n_steps=n_steps, activation="logistic", backend=backend)
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


# ------------------------------------------------------------ benchmark


def inputs(args):
    """Arguments of every runner.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed command line (``grid``, ``steps``).

    Returns
    -------
    tuple
        ``(w, b, X0, args.steps)`` on an ``args.grid`` grid.
    """
    return (*make_grid(args.grid), X0, args.steps)


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
    return finite_mask(ref) & (np.abs(ref[2]) < MODERATE)


def roofline(args):
    """The ``np.exp`` roofline: one ``exp`` per map step.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed command line (``--quick`` takes fewer repeats).

    Returns
    -------
    Ceiling
    """
    roof = exp_roofline(repeats=20 if args.quick else 50)
    text = (
        f"roofline: np.exp float64 {roof['per_core_exp_per_s']:.3e} exp/s per core "
        f"(n={roof['n']}, median of {roof['repeats']}) x {roof['n_cores']} cores; "
        f"one exp per map step"
    )
    return Ceiling(roof["total_exp_per_s"], f"roofline: np.exp x {roof['n_cores']} cores", text)


def describe(args):
    """First report line: the map, the grid and the settings.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed command line.

    Returns
    -------
    str
    """
    return (
        f"single logistic unit x <- w*sigma(x) + b with dx/dw, dx/db; "
        f"grid {args.grid}x{args.grid} (w in [{W_RANGE[0]:g}, {W_RANGE[1]:g}], "
        f"b in [{B_RANGE[0]:g}, {B_RANGE[1]:g}]), x0 = {X0:g}, {args.steps} steps, float64"
    )


BENCH = Benchmark(
    name="bench_grid",
    doc=__doc__,
    script=__file__,
    impls=(
        Impl("numpy", "numpy (vectorized)", lambda: numpy_tangents),
        Impl("dynrnn-cpu", "dynrnn (cpu)", lambda: dynrnn_runner("cpu")),
        Impl("dynrnn-cuda", "dynrnn (cuda, incl. transfers)", lambda: dynrnn_runner("cuda"), gpu=True),
        Impl("torch", "torch autograd", torch_runner, modules=("torch",)),
        Impl("jax", "jax jit (jvp)", jax_runner, modules=("jax",)),
    ),
    settings=(Setting("--grid", 1000, 200, "points per axis"), Setting("--steps", 50, 50, "map steps")),
    inputs=inputs,
    work=lambda args: args.grid * args.grid * args.steps,
    roofline=roofline,
    describe=describe,
    quick_help="CI mode: grid 200x200, 3 repeats",
    outputs=("x", "dx/dw", "dx/db"),
    rtol=1e-9,
    atol=1e-12,
    mask=moderate_mask,
    mask_text=f" with |dx/db| < {MODERATE:.0e}",
    # the targets: dynrnn (cpu) at >= 50% of the roofline and >= 10x numpy
    targets=(Target("dynrnn-cpu", "roofline", 0.5), Target("dynrnn-cpu", "speedup", 10.0)),
)


if __name__ == "__main__":
    sys.exit(main(BENCH))

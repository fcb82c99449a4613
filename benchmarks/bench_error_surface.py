"""Benchmark: the eq. (8) error surface with its gradient and largest Hessian eigenvalue over a grid.

The map ``x_t = w * sigma(x_{t-1}) + b`` (``sigma`` logistic, ``x_0 = 0.5``)
is run for ``--steps`` steps (default 50) at every point of a ``G x G`` grid
of ``(w, b)`` in the window of Fig. 6, ``w in [3, 8]``, ``b in [-5, 0]``
(Pascanu, Mikolov & Bengio 2013), and scored by
``E = (sigma(x_T) - 0.7)^2``.  Each implementation returns ``E``,
``dE/dw``, ``dE/db`` and ``lambda_max``, the larger eigenvalue of the 2x2
Hessian of ``E`` in ``(w, b)``.  dynrnn and NumPy carry ``x`` and its five
first and second derivatives forward in one pass (``s, s1, s2 = sigma,
sigma', sigma''`` at ``x_{t-1}``)::

    x_w'  = s + w s1 x_w                         x_b'  = 1 + w s1 x_b
    x_ww' = 2 s1 x_w + w s2 x_w^2 + w s1 x_ww    x_wb' = s1 x_b + w s2 x_w x_b + w s1 x_wb
    x_bb' = w s2 x_b^2 + w s1 x_bb

Implementations compared in one run: dynrnn (CPU, and CUDA when a real GPU
is present), vectorized NumPy (the reference, defined in this file),
PyTorch autograd (reverse mode, then reverse over reverse with
``create_graph`` for the Hessian) and JAX ``jit`` (forward over reverse),
each when installed.  The points are independent, so the gradient of a sum
over points gives every point's own derivative.  The reference ceiling is
the ``np.exp`` roofline of :mod:`roofline` (one ``exp`` per map step).

Every implementation must agree with NumPy (``rtol`` 1e-6 on all four
outputs over the points where ``|dE/db| < 1e6``) before a time is shown.
The tolerance is set by ``lambda_max``: next to the wall it is a difference
of Hessian terms up to 1e9 times larger than itself, so every
implementation gets it right only to about ``eps ||H||`` (measured on the
1000 x 1000 grid: 1e-9 to 1e-7 relative at 7 points, less elsewhere).  ``E``
and the gradient agree to about 1e-11.
``--write`` appends the table and the run's provenance to
``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_error_surface.py            # 1000 x 1000, 7 repeats
    python benchmarks/bench_error_surface.py --quick    # 200 x 200, 3 repeats (CI)
    python benchmarks/bench_error_surface.py --write    # also append to RESULTS.md
"""

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _harness import Benchmark, Ceiling, Impl, Setting, Target, finite_mask, main  # noqa: E402
from bench_grid import B_RANGE, W_RANGE, X0, make_grid  # noqa: E402  (the same grid as bench_grid)
from roofline import exp_roofline, n_cores  # noqa: E402

TARGET = 0.7
MODERATE = 1e6  # points with |dE/db| below this are compared


def max_eig(h_ww, h_wb, h_bb):
    """Larger eigenvalue of the symmetric 2x2 matrices ``[[h_ww, h_wb], [h_wb, h_bb]]``, element-wise.

    Parameters
    ----------
    h_ww, h_wb, h_bb : ndarray
        Hessian entries, one shape.

    Returns
    -------
    ndarray
        ``(h_ww + h_bb)/2 + hypot((h_ww - h_bb)/2, h_wb)``.
    """
    return (0.5 * h_ww + 0.5 * h_bb) + np.hypot(0.5 * h_ww - 0.5 * h_bb, h_wb)


# ------------------------------------------------------- implementations


def numpy_surface(w, b, x0, target, n_steps):
    """Reference: vectorized NumPy forward mode (first and second order) with preallocated buffers.

    Parameters
    ----------
    w, b : ndarray
        Float64 arrays of one shape.
    x0 : float
        Initial state at every point.
    target : float
        Target of ``sigma(x_T)``.
    n_steps : int
        Number of map steps.

    Returns
    -------
    E, dE_dw, dE_db, lambda_max : ndarray
    """
    x = np.full(w.shape, x0, dtype=np.float64)
    x_w, x_b, x_ww, x_wb, x_bb = (np.zeros_like(x) for _ in range(5))
    s, s1, s2, ws1, ws2, tmp = (np.empty_like(x) for _ in range(6))

    def sigma_d2(z):
        # s = sigma(z), s1 = s (1 - s), s2 = s1 (1 - 2 s); exp(-z) overflows to inf harmlessly for z < -709
        np.negative(z, out=s)
        np.exp(s, out=s)
        np.add(s, 1.0, out=s)
        np.reciprocal(s, out=s)
        np.subtract(1.0, s, out=s1)
        np.multiply(s1, s, out=s1)
        np.multiply(s, -2.0, out=s2)
        np.add(s2, 1.0, out=s2)
        np.multiply(s2, s1, out=s2)

    with np.errstate(over="ignore"):
        for _ in range(n_steps):
            sigma_d2(x)
            np.multiply(w, s1, out=ws1)
            np.multiply(w, s2, out=ws2)
            # second derivatives first: they read the old first derivatives
            np.multiply(x_ww, ws1, out=x_ww)  # x_ww = 2 s1 x_w + w s2 x_w^2 + w s1 x_ww
            np.multiply(ws2, x_w, out=tmp)
            tmp *= x_w
            x_ww += tmp
            np.multiply(s1, x_w, out=tmp)
            tmp *= 2.0
            x_ww += tmp
            np.multiply(x_wb, ws1, out=x_wb)  # x_wb = s1 x_b + w s2 x_w x_b + w s1 x_wb
            np.multiply(ws2, x_w, out=tmp)
            tmp *= x_b
            x_wb += tmp
            np.multiply(s1, x_b, out=tmp)
            x_wb += tmp
            np.multiply(x_bb, ws1, out=x_bb)  # x_bb = w s2 x_b^2 + w s1 x_bb
            np.multiply(ws2, x_b, out=tmp)
            tmp *= x_b
            x_bb += tmp
            x_w *= ws1  # x_w = s + w s1 x_w
            x_w += s
            x_b *= ws1  # x_b = 1 + w s1 x_b
            x_b += 1.0
            np.multiply(w, s, out=x)
            x += b
        sigma_d2(x)
    r = s - target
    e_x = 2.0 * r * s1
    e_xx = 2.0 * (s1 * s1 + r * s2)
    h_ww = e_xx * x_w * x_w + e_x * x_ww
    h_wb = e_xx * x_w * x_b + e_x * x_wb
    h_bb = e_xx * x_b * x_b + e_x * x_bb
    return r * r, e_x * x_w, e_x * x_b, max_eig(h_ww, h_wb, h_bb)


def dynrnn_runner(backend):
    """Return a runner calling ``dynrnn.error_surface``.

    Parameters
    ----------
    backend : {"cpu", "cuda"}
        dynrnn backend.

    Returns
    -------
    callable
        ``run(w, b, x0, target, n_steps) -> (E, dE_dw, dE_db, lambda_max)`` as host arrays.
    """
    from dynrnn import error_surface

    def run(w, b, x0, target, n_steps):
        res = error_surface(w, b, x0=x0, n_steps=n_steps, target=target, backend=backend, activation="logistic")
        return res.E, res.dE_dw, res.dE_db, res.hessian_max_eig

    return run


def torch_runner():
    """Return a PyTorch autograd runner (float64): reverse mode, then reverse over reverse.

    ``E.sum()`` differentiated with ``create_graph=True`` gives the per-point
    gradient; differentiating ``dE_dw.sum()`` and ``dE_db.sum()`` again gives
    the per-point Hessian entries (the points are independent).

    Returns
    -------
    callable
        ``run(w, b, x0, target, n_steps) -> (E, dE_dw, dE_db, lambda_max)`` as NumPy arrays.
    """
    import torch

    torch.set_num_threads(n_cores())

    def run(w, b, x0, target, n_steps):
        wt = torch.from_numpy(w).requires_grad_(True)
        bt = torch.from_numpy(b).requires_grad_(True)
        x = torch.full_like(wt, x0)
        for _ in range(n_steps):
            x = wt * torch.sigmoid(x) + bt
        E = (torch.sigmoid(x) - target) ** 2
        dE_dw, dE_db = torch.autograd.grad(E.sum(), (wt, bt), create_graph=True)
        h_ww, h_wb = torch.autograd.grad(dE_dw.sum(), (wt, bt), retain_graph=True)
        (h_bb,) = torch.autograd.grad(dE_db.sum(), (bt,))
        out = [t.detach().numpy() for t in (E, dE_dw, dE_db, h_ww, h_wb, h_bb)]
        return (*out[:3], max_eig(*out[3:]))

    return run


def jax_runner():
    """Return a JAX runner: ``jit`` of forward over reverse over ``fori_loop``.

    ``jax.grad`` of the summed error gives the per-point gradient; one
    ``jax.jvp`` of that gradient along ``(1, 0)`` and one along ``(0, 1)``
    (batched with ``vmap``) give the per-point Hessian columns.

    Returns
    -------
    callable
        ``run(w, b, x0, target, n_steps) -> (E, dE_dw, dE_db, lambda_max)`` as NumPy arrays.
    """
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def error(w, b, x0, target, n_steps):
        x = jnp.full_like(w, x0)
        x = jax.lax.fori_loop(0, n_steps, lambda _, x: w * jax.nn.sigmoid(x) + b, x)
        return (jax.nn.sigmoid(x) - target) ** 2

    def surface(w, b, x0, target, n_steps):
        def grad(w, b):
            return jax.grad(lambda w, b: error(w, b, x0, target, n_steps).sum(), argnums=(0, 1))(w, b)

        def push(tw, tb):
            return jax.jvp(grad, (w, b), (tw, tb))

        one, zero = jnp.ones_like(w), jnp.zeros_like(w)
        (g_w, g_b), (dg_w, dg_b) = jax.vmap(push)(jnp.stack([one, zero]), jnp.stack([zero, one]))
        h_ww, h_wb, h_bb = dg_w[0], dg_w[1], dg_b[1]
        h = 0.5 * h_ww - 0.5 * h_bb
        lam = (0.5 * h_ww + 0.5 * h_bb) + jnp.hypot(h, h_wb)
        return error(w, b, x0, target, n_steps), g_w[0], g_b[0], lam

    compiled = jax.jit(surface, static_argnums=(4,))

    def run(w, b, x0, target, n_steps):
        out = compiled(w, b, x0, target, n_steps)
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
        ``(w, b, X0, TARGET, args.steps)`` on an ``args.grid`` grid.
    """
    return (*make_grid(args.grid), X0, TARGET, args.steps)


def moderate_mask(ref):
    """Points whose reference derivatives are moderate, hence comparable.

    Parameters
    ----------
    ref : tuple of ndarray
        NumPy ``(E, dE_dw, dE_db, lambda_max)``.

    Returns
    -------
    ndarray of bool
        True where all four are finite and ``|dE/db| < MODERATE``.
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
        f"error surface E = (sigma(x_T) - {TARGET:g})^2 of x <- w*sigma(x) + b (logistic) with dE/dw, dE/db "
        f"and the top Hessian eigenvalue; grid {args.grid}x{args.grid} (w in [{W_RANGE[0]:g}, {W_RANGE[1]:g}], "
        f"b in [{B_RANGE[0]:g}, {B_RANGE[1]:g}]), x0 = {X0:g}, {args.steps} steps, float64"
    )


BENCH = Benchmark(
    name="bench_error_surface",
    doc=__doc__,
    script=__file__,
    impls=(
        Impl("numpy", "numpy (vectorized)", lambda: numpy_surface),
        Impl("dynrnn-cpu", "dynrnn (cpu)", lambda: dynrnn_runner("cpu")),
        Impl("dynrnn-cuda", "dynrnn (cuda, incl. transfers)", lambda: dynrnn_runner("cuda"), gpu=True),
        Impl("torch", "torch autograd (rev over rev)", torch_runner, modules=("torch",)),
        Impl("jax", "jax jit (fwd over rev)", jax_runner, modules=("jax",)),
    ),
    settings=(Setting("--grid", 1000, 200, "points per axis"), Setting("--steps", 50, 50, "map steps")),
    inputs=inputs,
    work=lambda args: args.grid * args.grid * args.steps,
    roofline=roofline,
    describe=describe,
    quick_help="CI mode: grid 200x200, 3 repeats",
    outputs=("E", "dE/dw", "dE/db", "lambda_max"),
    rtol=1e-6,  # lambda_max: a difference of terms up to 1e9 times larger near the wall (see above)
    atol=1e-12,
    mask=moderate_mask,
    mask_text=f" with |dE/db| < {MODERATE:.0e}",
    # the target: dynrnn (cpu) at >= 50% of the exp roofline (one exp per step)
    targets=(Target("dynrnn-cpu", "roofline", 0.5),),
)


if __name__ == "__main__":
    sys.exit(main(BENCH))

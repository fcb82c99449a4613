"""Benchmark: dynrnn.orbit_diagram and dynrnn.basins against the iterate_grid kernel underneath.

Two tables from one run.  (1) Orbit diagram of ``x <- 5 sigma(x) + b`` (logistic) over ``b`` in
``[-5, 0]``: ``--values`` x ``--starts`` orbits (starts uniform in ``[-10, 10]``, seed 0),
``--transient`` steps discarded, ``--keep`` kept.  (2) Basins of net (a) of ``analysis/basins.py``
(``W_rec = [[6, -1], [-1.1, 6.2]]``, ``b = [-2.5, -2.5]``, four stable fixed points) over a
``--grid`` x ``--grid`` grid of initial states in ``[-4.6, 4.6]^2``, ``--steps`` steps.

Rows: a vectorized NumPy reference (defined here, the same starts), then `dynrnn.iterate_grid`
making the same kernel call on the same orbits and the dynrnn function (CPU; CUDA on a real GPU,
transfers included).  ``steps/s`` counts item-steps (one orbit, one map step).  Compared: the kept
states (rtol 1e-9); the fixed point reached, where NumPy's ``|x_T - x_{T-1}| <= 1e-8``
(basins: the attractor of each label; rtol 1e-6, as two attractors contract only by ~0.91 per
step).  Roofline: ``np.exp`` (:mod:`roofline`), one ``exp`` per unit per step.  Target: each dynrnn
function at >= 0.5x its iterate_grid call's throughput ("comparable throughput").  No PyTorch or
JAX rows: they would time the same loop as ``bench_grid.py`` does.

Usage::

    python benchmarks/bench_dynamics.py --quick    # 100 x 20 orbits; 60 x 60 grid, 200 steps
    python benchmarks/bench_dynamics.py            # 1000 x 100 orbits; 300 x 300 grid, 400 steps
"""

import functools
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _harness import Benchmark, Ceiling, Impl, Setting, Target, main  # noqa: E402
from roofline import exp_roofline  # noqa: E402

W_UNIT, B_RANGE, X0_RANGE, SEED = 5.0, (-5.0, 0.0), (-10.0, 10.0), 0
W_NET, B_NET, WINDOW, TOL = [[6.0, -1.0], [-1.1, 6.2]], [-2.5, -2.5], (-4.6, 4.6), 1e-8


def sigma(x):
    """Logistic sigmoid, ``1 / (1 + exp(-x))``."""
    return 1.0 / (1.0 + np.exp(-x))


# ----------------------------------------------------------- orbit diagram


def orbit_inputs(args):
    """``(values, starts, n_transient, n_keep, (w, b, x0) per orbit)``; starts as orbit_diagram draws them."""
    values = np.linspace(*B_RANGE, args.values)
    starts = np.random.default_rng(SEED).uniform(*X0_RANGE, size=(args.starts, 1))
    flat = (
        np.full(values.size * args.starts, W_UNIT),
        np.repeat(values, args.starts),
        np.tile(starts[:, 0], values.size),
    )
    return values, starts, args.transient, args.keep, flat


def orbit_numpy(values, starts, n_transient, n_keep, flat):
    """Reference: every (value, start) orbit at once, preallocated buffers; kept states (V, S, K)."""
    w, b, x = flat[0], flat[1], flat[2].copy()
    s = np.empty_like(x)
    kept = np.empty((n_keep, x.size))
    for t in range(n_transient + n_keep):
        np.negative(x, out=s)
        np.exp(s, out=s)
        s += 1.0
        np.divide(w, s, out=x)
        x += b
        if t >= n_transient:
            kept[t - n_transient] = x
    return (kept.T.reshape(values.size, starts.shape[0], n_keep),)


def orbit_dynrnn(backend):
    """``dynrnn.orbit_diagram`` over ``("b", 0)`` with ``rng`` drawing the starts."""
    import dynrnn

    net = dynrnn.RNN([[W_UNIT]], b=[0.0], activation="logistic")
    fixed = dict(x0_range=X0_RANGE, rng=SEED, backend=backend)

    def run(values, starts, n_transient, n_keep, flat):
        n_starts = starts.shape[0]
        res = dynrnn.orbit_diagram(
            net, ("b", 0), values, n_starts=n_starts, n_transient=n_transient, n_keep=n_keep, **fixed
        )
        return (np.asarray(res.x)[..., 0],)

    return run


def orbit_grid(backend):
    """``dynrnn.iterate_grid`` on the same orbits: the kernel alone."""
    from dynrnn import iterate_grid

    def run(values, starts, n_transient, n_keep, flat):
        res = iterate_grid(*flat, n_steps=n_transient + n_keep, activation="logistic", n_keep=n_keep, backend=backend)
        return (np.asarray(res.x).reshape(values.size, starts.shape[0], n_keep),)

    return run


# ------------------------------------------------------------------ basins


def basin_inputs(args):
    """``(axis, initial states (G, 2) in meshgrid ij order, n_steps, max_period)``."""
    axis = np.linspace(*WINDOW, args.grid)
    mesh = np.meshgrid(axis, axis, indexing="ij")
    return axis, np.stack([m.ravel() for m in mesh], axis=1), args.steps, args.max_period


def basin_numpy(axis, x0, n_steps, max_period):
    """Reference: iterate all states, keep ``x_T`` where ``|x_T - x_{T-1}| <= TOL`` (a fixed point), else NaN."""
    W, b = np.array(W_NET), np.array(B_NET)
    x = x0.copy()
    for _ in range(n_steps - 1):
        x = sigma(x) @ W.T + b
    last = sigma(x) @ W.T + b
    settled = np.max(np.abs(last - x), axis=1) <= TOL
    return (np.where(settled[:, None], last, np.nan).reshape(axis.size, axis.size, 2),)


def basin_dynrnn(backend):
    """``dynrnn.basins``; each state mapped to the fixed point of its label (NaN for none)."""
    import dynrnn

    net = dynrnn.RNN(W_NET, b=B_NET, activation="logistic")

    def run(axis, x0, n_steps, max_period):
        res = dynrnn.basins(net, grid=(axis, axis), n_steps=n_steps, max_period=max_period, tol=TOL, backend=backend)
        points = np.array([a[0] if a.shape[0] == 1 else (np.nan, np.nan) for a in res.attractors] + [(np.nan,) * 2])
        return (points[np.where(res.labels >= 0, res.labels, -1)],)

    return run


def basin_grid(backend):
    """``dynrnn.iterate_grid`` making basins' kernel call (``n_keep = max_period + 1``); ``x_T``."""
    from dynrnn import iterate_grid

    W, b = np.array(W_NET), np.array(B_NET)

    def run(axis, x0, n_steps, max_period):
        res = iterate_grid(W, b, x0, n_steps=n_steps, activation="logistic", n_keep=max_period + 1, backend=backend)
        return (np.asarray(res.x)[:, -1].reshape(axis.size, axis.size, 2),)

    return run


# ------------------------------------------------------------ benchmarks


@functools.cache
def _exp_roof(quick):
    return exp_roofline(repeats=20 if quick else 50)


def roofline(n_units):
    """The ``np.exp`` roofline in item-steps/s: one ``exp`` per unit per step (measured once per run)."""

    def ceiling(args):
        roof = _exp_roof(args.quick)
        text = (
            f"roofline: np.exp float64 {roof['per_core_exp_per_s']:.3e} exp/s per core "
            f"(n={roof['n']}, median of {roof['repeats']}) x {roof['n_cores']} cores; "
            f"one exp per unit per step ({n_units} per item-step)"
        )
        rate = roof["total_exp_per_s"] / n_units
        per = f" / {n_units} units" if n_units > 1 else ""
        return Ceiling(rate, f"roofline: np.exp x {roof['n_cores']} cores{per}", text)

    return ceiling


SETTINGS = (
    Setting("--values", 1000, 100, "orbit diagram: parameter values"),
    Setting("--starts", 100, 20, "orbit diagram: starts per value"),
    Setting("--transient", 200, 200, "orbit diagram: transient steps"),
    Setting("--keep", 16, 16, "orbit diagram: kept steps"),
    Setting("--grid", 300, 60, "basins: initial states per axis"),
    Setting("--steps", 400, 200, "basins: steps"),
    Setting("--max-period", 8, 8, "basins: longest period detected"),
)
QUICK = "CI mode: 100 x 20 orbits, 60 x 60 basin grid with 200 steps, 3 repeats"


def impls(prefix, label, ref, fn, grid):
    """NumPy reference, then iterate_grid and the dynrnn function on the CPU and (with a GPU) CUDA."""
    rows = [Impl(f"{prefix}-numpy", "numpy (vectorized)", lambda: ref)]
    for backend, extra, gpu in (("cpu", "", False), ("cuda", ", incl. transfers", True)):
        rows.append(
            Impl(f"{prefix}-grid-{backend}", f"iterate_grid ({backend}{extra})", lambda b=backend: grid(b), gpu=gpu)
        )
        rows.append(Impl(f"{prefix}-{backend}", f"{label} ({backend}{extra})", lambda b=backend: fn(b), gpu=gpu))
    return tuple(rows)


ORBIT = Benchmark(
    name="bench_dynamics (orbit_diagram)",
    doc=__doc__,
    script=__file__,
    impls=impls("orbit", "orbit_diagram", orbit_numpy, orbit_dynrnn, orbit_grid),
    settings=SETTINGS,
    inputs=orbit_inputs,
    work=lambda args: args.values * args.starts * (args.transient + args.keep),
    roofline=roofline(1),
    describe=lambda args: (
        f"orbit diagram of x <- {W_UNIT:g}*sigma(x) + b over b in [{B_RANGE[0]:g}, {B_RANGE[1]:g}]: "
        f"{args.values} values x {args.starts} starts (uniform in [{X0_RANGE[0]:g}, {X0_RANGE[1]:g}], "
        f"seed {SEED}), {args.transient} transient + {args.keep} kept steps, float64; steps/s = item-steps/s"
    ),
    quick_help=QUICK,
    outputs=("kept states",),
    targets=(Target("orbit-cpu", "speedup", 0.5, vs="orbit-grid-cpu"),),
)

BASINS = Benchmark(
    name="bench_dynamics (basins)",
    doc=__doc__,
    script=__file__,
    impls=impls("basins", "basins", basin_numpy, basin_dynrnn, basin_grid),
    settings=SETTINGS,
    inputs=basin_inputs,
    work=lambda args: args.grid * args.grid * args.steps,
    roofline=roofline(2),
    describe=lambda args: (
        f"basins of x <- W*sigma(x) + b, W = {W_NET}, b = {B_NET}: {args.grid}x{args.grid} initial states "
        f"in [{WINDOW[0]:g}, {WINDOW[1]:g}]^2, {args.steps} steps, max_period {args.max_period}, float64; "
        f"steps/s = item-steps/s"
    ),
    quick_help=QUICK,
    outputs=("fixed point reached",),
    rtol=1e-6,  # a label's attractor stands for each state settled on it only to ~TOL / (1 - rho), rho ~ 0.91
    atol=1e-9,
    mask_text=f" where the reference settled (|x_T - x_(T-1)| <= {TOL:g})",
    targets=(Target("basins-cpu", "speedup", 0.5, vs="basins-grid-cpu"),),
)


def run(argv=None):
    """Both benchmarks; an isolated worker runs the one that owns its implementation key."""
    argv = sys.argv[1:] if argv is None else argv
    if "--worker" in argv:
        key = argv[argv.index("--worker") + 1]
        return main(next(b for b in (ORBIT, BASINS) if any(i.key == key for i in b.impls)), argv)
    status = 0
    for bench in (ORBIT, BASINS):
        status |= main(bench, argv)
        print()
    return status


if __name__ == "__main__":
    sys.exit(run())

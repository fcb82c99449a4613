"""Fixed points of autonomous n-unit RNN maps, their stability, and slow points.

Pascanu, Mikolov & Bengio (2013), Sec. 2.2: the attractors of the autonomous map (eq. 2 with
``u_t = 0``) and the boundaries between their basins organise the dynamics; the simplest
attractors are stable fixed points, and the boundaries pass through saddles.  `fixed_points` finds
them by damped Newton from many starts (one Numba kernel, CPU or GPU), removes duplicates and
classifies each point by its multipliers; optionally it also finds slow points (Sussillo &
Barak 2013) by minimising ``q(x) = ||F(x) - x||^2 / 2`` with SciPy.
"""

import numbers

import numpy as np

from .. import _backend, _config, _validate
from .._kernels.scalar import OK, RANGE
from ..maps.activations import activation as _activation
from ..maps.gated import is_gated
from ..maps.iterate import iterate_grid
from ..results import FixedPointResult
from . import _gated
from .orbits import check_net

__all__ = ["fixed_points"]

STABLE, SADDLE, UNSTABLE, NON_HYPERBOLIC = range(4)  # codes of FixedPointResult.KINDS
_PAD = 0.1  # relu and linear: the random-start box is the trajectories' hull widened by 10% per side
_HUGE = 1e300  # every box is clipped to [-1e300, 1e300]


def fixed_points(
    net,
    *,
    n_starts=100,
    rng=None,
    tol=_config.FIXED_POINT_TOL,
    max_iter=_config.FIXED_POINT_MAX_ITER,
    dedup_tol=1e-6,
    hyperbolic_tol=None,
    slow_points=False,
    backend="cpu",
    trajectory_steps=50,
):
    r"""Fixed points of an autonomous RNN, found by damped Newton from many starts, and their stability.

    Parameters
    ----------
    net : RNN, GRU or LSTM
        The network, in any form, with or without a leak, or a gated cell.
        Inputs are ignored: a network with ``W_in`` (``W_ih``) is treated as
        autonomous (``u_t = 0``).
    n_starts : int, default 100
        Number S >= 1 of Newton starts: ``S // 2`` states along trajectories,
        the rest uniform in a box (see Notes).
    rng : None, int or numpy.random.Generator, optional
        The source of randomness (an int seeds ``numpy.random.default_rng``), which draws, in this order: the
        trajectories' initial states ``(S // 2, n)``, the time at which each
        trajectory gives its start ``(S // 2,)``, the random starts
        ``(S - S // 2, n)``.
    tol : float, default 1e-10
        A start converged when ``||F(x) - x||_2 <= tol`` (absolute).
    max_iter : int, default 100
        Newton steps per start, >= 1.
    dedup_tol : float, default 1e-6
        Two converged starts are the same point when
        ``|x_i - y_i| <= dedup_tol * (1 + max(|x_i|, |y_i|))`` for every i.
    hyperbolic_tol : float, optional
        A multiplier with ``||lambda| - 1| <= hyperbolic_tol`` makes its point
        "non-hyperbolic".  Default ``sqrt(tol)``, the accuracy of a
        multiplier at a double root (a fold) found to residual ``tol``.
    slow_points : bool, default False
        Also find slow points: local minima of ``q(x) = ||F(x) - x||^2 / 2``
        with ``q > tol^2 / 2``, minimised from every start (BFGS, on the CPU).
    backend : {"cpu", "cuda"}, default "cpu"
        Where the trajectories and the Newton iterations run ("cpu" only
        for a `GRU` or an `LSTM`).
    trajectory_steps : int, default 50
        Length T >= 1 of the trajectories; each gives the state at a random
        time in ``0 .. T``.

    Returns
    -------
    FixedPointResult
        ``x`` (k, n) sorted lexicographically; ``multipliers`` (k, n), by
        decreasing modulus; ``residual``; ``n_unstable``; ``kind`` (see
        ``classes``: "stable", "saddle", "unstable" or "non-hyperbolic");
        ``n_hits``; per start ``starts``, ``status``, ``n_iter`` and
        ``label``; ``slow_x`` and ``slow_q`` when ``slow_points``.  Starts
        that fail are counted (``status_counts``), never raised.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, `GRU` or `LSTM`, a count is not an integer, a tolerance is
        not a real number, ``slow_points`` is not a bool, or ``rng`` is not
        None, an int or a Generator.
    ValueError
        If ``n_starts``, ``max_iter`` or ``trajectory_steps`` is < 1, a
        tolerance is not positive and finite (``hyperbolic_tol`` may be 0),
        ``rng`` is a negative seed, or ``backend`` is unknown (or "cuda"
        for a gated cell).
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    dynrnn.single_unit.fixed_points : every fixed point of one unit, exactly.
    dynrnn.iterate_grid : the trajectories the starts are taken from.

    Notes
    -----
    The fixed points of eq. (2) of Pascanu et al. (2013) with ``u_t = 0``,

    .. math:: x^* = W_{rec}\,\sigma(x^*) + b,

    are the zeros of ``g(x) = F(x) - x``, found by Newton steps
    ``(J_F - I) d = -g`` with backtracking (step ``t d``, ``t`` halved until
    ``||g||^2`` decreases by the factor ``1 - 2e-4 t``).  For the standard
    form ``F(h) = sigma(W_rec h + b)`` the unknown is ``h``, and
    ``h^* = sigma(x^*)`` (footnote 1).  A ``leak`` (written ``l``) does not move the
    fixed points of ``l x + (1 - l) F(x)`` but changes the multipliers,
    the eigenvalues of

    .. math:: J = \operatorname{diag}(\ell) + \operatorname{diag}(1 - \ell)\,J_F,

    with ``l`` the leak and ``J_F = W_rec diag(sigma'(x*))`` (paper form) or
    ``J_F = diag(sigma'(W_rec h* + b)) W_rec`` (standard form).

    A point is "stable" (an attractor) when every ``|lambda| < 1``,
    "unstable" when every ``|lambda| > 1`` and a "saddle" with
    ``n_unstable`` unstable directions otherwise; the stable manifolds of
    saddles are the basin boundaries of Sec. 2.2.  A unit with ``leak = 1``
    never moves: its multiplier is 1 ("non-hyperbolic") and the map fixes a
    continuum, of which only the fixed points of ``F`` are reported.

    *Starts.*  For bounded sigma every fixed point lies in the range of
    ``F``: the box ``b_i + sum_j [min, max](W_ij sigma)`` (paper form) or
    ``range(sigma)^n`` (standard form); trajectories start in it too.  For
    relu and linear, trajectories start in ``[-s, s]^n``,
    ``s = 1 + max|b_i|``, and the random starts fill the hull of every finite
    trajectory state widened by 10% per side: a heuristic that may miss
    fixed points far away (linear maps converge from anywhere in one step).
    Every box is clipped to ``[-1e300, 1e300]``.
    Computation is in float64 whatever ``net.dtype``.

    *Gated cells.*  For a `GRU` (state ``h``) or an `LSTM` (state ``(h, c)``,
    2n) the map is the cell's step with ``u_t = 0`` (the PyTorch equations,
    ``dynrnn/cells/gru.py`` and ``lstm.py``), the multipliers are the
    eigenvalues of its Jacobian over the full state, and every fixed point
    lies in a known box: ``(-1, 1)^n`` for the GRU (``h* = n``); for the
    LSTM ``h*`` in ``(-1, 1)^n`` and ``|c*_j| < 1 + exp(b_f,j + sum_k
    |W_hf[j, k]|)`` (``c* = i g / (1 - f)``).  Trajectories and random starts
    are drawn from that box; ``result.form`` is "gru" or "lstm".  For the
    GRU, Newton runs on ``n(h) - h`` (the new gate: the same zeros, as ``h* =
    n*``) rather than on ``F(h) - h = (1 - z)(n - h)``, whose factor ``1 - z``
    vanishes where the update gate saturates and would let near-identity
    states far away pass as converged; ``residual`` is then ``||n(h) - h||``,
    at least ``||F(h) - h||``.  The LSTM's residual is ``||F(x) - x||``, whose
    cell-state part is ``(1 - f)(c* - c)``: with a forget gate near 1 a
    point's ``c`` is accurate only to about ``tol / (1 - f)``.

    Status codes: "OK"; "MAX_ITER" (``max_iter`` steps, or no step length
    decreased ``||g||``: near a local minimum of ``q`` that is not a zero);
    "SINGULAR" (``J_F - I`` numerically singular, e.g. a linear map with a
    multiplier 1); "DIVERGED" (a non-finite start or residual, or
    ``||F(x) - x||^2`` overflowing, beyond about 1e154).

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.RNN(W_rec=[[5.0]], b=[-2.5], activation="logistic")
    >>> res = dynrnn.fixed_points(net, n_starts=20, rng=0)
    >>> (np.round(res.x[:, 0], 5) + 0.0).tolist(), res.classes.tolist()  # + 0.0: no -0.0
    ([-1.77603, 0.0, 1.77603], ['stable', 'unstable', 'stable'])
    """
    gated = is_gated(net)
    if not gated:
        check_net(net, "fixed_points")
    n_starts = _validate.integer("n_starts", n_starts, minimum=1)
    max_iter = _validate.integer("max_iter", max_iter, minimum=1)
    trajectory_steps = _validate.integer("trajectory_steps", trajectory_steps, minimum=1)
    tol = _positive("tol", tol)
    dedup_tol = _positive("dedup_tol", dedup_tol)
    hyperbolic_tol = np.sqrt(tol) if hyperbolic_tol is None else _positive("hyperbolic_tol", hyperbolic_tol, zero=True)
    _limits(net.state_size if gated else net.n_units, n_starts, max_iter, trajectory_steps)
    if not isinstance(slow_points, (bool, np.bool_)):
        raise TypeError(f"slow_points must be a bool; got {type(slow_points).__name__} {slow_points!r}")
    rng = _validate.rng("rng", rng)
    if gated and _validate.choice("backend", backend, _backend.BACKENDS) != "cpu":
        raise ValueError(f"fixed_points runs a {type(net).__name__} on the CPU only; got backend={backend!r}")
    if gated:
        return _fixed_points_gated(
            net, n_starts, rng, tol, max_iter, dedup_tol, hyperbolic_tol, slow_points, trajectory_steps
        )
    kernels = _backend.get(backend)

    # writable float64 copies (a read-only array is another Numba type, compiled again)
    W_rec = np.array(net.W_rec, dtype=np.float64)
    b = np.array(net.b, dtype=np.float64)
    leak = None if net.leak is None else np.array(net.leak, dtype=np.float64)
    paper = net.form == "paper"
    starts = _starts(net, W_rec, b, leak, n_starts, trajectory_steps, rng, backend)

    S, n = starts.shape
    x = np.empty((S, n))
    status = np.empty(S, dtype=np.int64)
    n_iter = np.empty(S, dtype=np.int64)
    residual = np.empty(S)
    per_start = _newton_work(n, max_iter)
    chunk = max(1, _config.CHUNK_WORK // per_start)  # starts per kernel call: Ctrl-C lands between calls
    for lo in range(0, S, chunk):
        hi = min(S, lo + chunk)
        part = (x[lo:hi], status[lo:hi], n_iter[lo:hi], residual[lo:hi])
        kernels.fixed_points(net.activation, W_rec, b, starts[lo:hi], paper, tol, max_iter, *part)

    act = _activation(net.activation)

    def map_jacobian(point):
        return _map_jacobian(act, W_rec, b, point, paper)

    return _result(
        map_jacobian, leak, starts, x, status, n_iter, residual, tol, dedup_tol, hyperbolic_tol, slow_points, net.form
    )


def _fixed_points_gated(net, n_starts, rng, tol, max_iter, dedup_tol, hyperbolic_tol, slow_points, n_steps):
    """`fixed_points` for a `GRU` or an `LSTM` (checked arguments; see its Notes)."""
    params = _gated.parameters(net)
    starts = _gated.starts(net, params, n_starts, n_steps, rng)
    S, N = starts.shape
    x, status, n_iter, residual = np.empty((S, N)), np.empty(S, np.int64), np.empty(S, np.int64), np.empty(S)
    _gated.newton(net, params, starts, tol, max_iter, x, status, n_iter, residual, _newton_work(N, max_iter))
    return _result(
        _gated.map_jacobian(net, params),
        None,
        starts,
        x,
        status,
        n_iter,
        residual,
        tol,
        dedup_tol,
        hyperbolic_tol,
        slow_points,
        net.cell,
    )


def _result(map_jacobian, leak, starts, x, status, n_iter, residual, tol, dedup_tol, hyperbolic_tol, slow_points, form):
    """Deduplicate the converged starts, classify each point by its multipliers, find slow points if asked.

    ``map_jacobian(x) -> (F(x), J_F(x))`` is the map without leak at one state.
    """
    n = x.shape[1]
    reps, label = _deduplicate(x, residual, status == OK, dedup_tol)
    multipliers = np.empty((reps.size, n), dtype=np.complex128)
    for p, s in enumerate(reps):
        multipliers[p] = _multipliers(map_jacobian(x[s])[1], leak)
    modulus = np.abs(multipliers)
    n_unstable = np.count_nonzero(modulus > 1.0 + hyperbolic_tol, axis=1).astype(np.int64)
    kind = np.where(n_unstable == 0, STABLE, np.where(n_unstable == n, UNSTABLE, SADDLE))
    kind = np.where(np.any(np.abs(modulus - 1.0) <= hyperbolic_tol, axis=1), NON_HYPERBOLIC, kind).astype(np.int8)

    slow_x = slow_q = None
    if slow_points:
        slow_x, slow_q = _slow_points(map_jacobian, starts, x[reps], tol, dedup_tol)
    return FixedPointResult(
        x=x[reps],
        multipliers=multipliers,
        residual=residual[reps],
        n_unstable=n_unstable,
        kind=kind,
        n_hits=np.bincount(label[label >= 0], minlength=reps.size).astype(np.int64),
        starts=starts,
        status=np.asarray(FixedPointResult.STATUSES)[status],
        n_iter=n_iter,
        label=label,
        slow_x=slow_x,
        slow_q=slow_q,
        form=form,
    )


def _newton_work(n, max_iter):
    """Worst-case multiply-adds of one Newton start: an LU solve and up to 40 halvings per step."""
    return max_iter * (n**3 + 40 * n * n)


def _limits(n, n_starts, max_iter, trajectory_steps):
    """Refuse starts and trajectories that cannot fit in memory, or Newton runs that cannot finish."""
    n_orbits = n_starts // 2
    nbytes = (n_orbits * (trajectory_steps + 1) * n + n_starts * n * (n + 12)) * 8
    what = f"{n_starts} Newton starts with {n_orbits} trajectories of {trajectory_steps} steps"
    _validate.memory("n_starts or trajectory_steps", nbytes, what)
    units = n_starts * _newton_work(n, max_iter) + n_orbits * trajectory_steps * n * n
    _validate.work("n_starts, max_iter or trajectory_steps", units, f"{what}, up to {max_iter} Newton steps each")


def _positive(name, value, zero=False):
    """``value`` as a float, checking that it is real, finite and > 0 (>= 0 with ``zero``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not (np.isfinite(value) and (value >= 0.0 if zero else value > 0.0)):
        raise ValueError(f"{name} must be finite and {'>= 0' if zero else '> 0'}; got {value}")
    return value


def _box(net, W_rec, b):
    """A box ``(low, high)`` that holds every fixed point, or None for unbounded sigma."""
    if RANGE[net.activation] is None:
        return None
    low, high = RANGE[net.activation]
    if net.form == "standard":  # h* = sigma(...) lies in the range of sigma
        return np.full(b.shape, low), np.full(b.shape, high)
    ends = (W_rec * low, W_rec * high)  # x* = F(x*) lies in the range of F
    with np.errstate(over="ignore"):
        return b + np.minimum(*ends).sum(axis=1), b + np.maximum(*ends).sum(axis=1)


def _starts(net, W_rec, b, leak, n_starts, n_steps, rng, backend):
    """The (S, n) Newton starts: states along trajectories, then uniform in a box (see `fixed_points`)."""
    n = net.n_units
    n_orbits = n_starts // 2
    box = _box(net, W_rec, b)
    if box is None:
        s = 1.0 + float(np.max(np.abs(b)))
        low, high = np.full(n, -s), np.full(n, s)
    else:
        low, high = box
    low, high = np.clip(low, -_HUGE, _HUGE), np.clip(high, -_HUGE, _HUGE)  # uniform() needs a finite width
    x0 = rng.uniform(low, high, size=(n_orbits, n))
    times = rng.integers(0, n_steps + 1, size=n_orbits)
    orbit_starts = np.empty((0, n))
    if n_orbits:
        kw = dict(activation=net.activation, form=net.form, leak=leak, n_keep=n_steps + 1, backend=backend)
        if n == 1:  # the vectorised single-unit kernel
            orbits = iterate_grid(W_rec[0, 0], b[0], x0[:, 0], n_steps=n_steps, **kw).x
        else:
            orbits = iterate_grid(W_rec, b, x0, n_steps=n_steps, **kw).x
        orbit_starts = orbits[np.arange(n_orbits), times]
        if box is None:
            states = orbits.reshape(-1, n)
            states = states[np.all(np.isfinite(states), axis=1)]
            low, high = states.min(axis=0), states.max(axis=0)
            with np.errstate(over="ignore"):
                low, high = low - _PAD * (high - low), high + _PAD * (high - low)
            low, high = np.clip(low, -_HUGE, _HUGE), np.clip(high, -_HUGE, _HUGE)
    random_starts = rng.uniform(low, high, size=(n_starts - n_orbits, n))
    return np.ascontiguousarray(np.concatenate([orbit_starts, random_starts]))


def _deduplicate(x, residual, converged, dedup_tol):
    """Group converged starts into distinct points.

    Returns ``reps`` (the start that represents each point, with the smallest
    residual of its group; points sorted lexicographically by ``x``) and
    ``label`` (S,), each start's point or -1.
    """
    label = np.full(x.shape[0], -1, dtype=np.int64)
    order = np.flatnonzero(converged)
    order = order[np.argsort(residual[order], kind="stable")]
    reps = []
    for s in order:
        if reps:
            y = x[reps]
            close = np.all(np.abs(y - x[s]) <= dedup_tol * (1.0 + np.maximum(np.abs(y), np.abs(x[s]))), axis=1)
            if close.any():
                label[s] = int(np.argmax(close))
                continue
        label[s] = len(reps)
        reps.append(s)
    reps = np.array(reps, dtype=np.int64)
    if reps.size == 0:
        return reps, label
    rank = _lexsort(x[reps], dedup_tol)
    new_label = np.empty(reps.size, dtype=np.int64)
    new_label[rank] = np.arange(reps.size)
    label[label >= 0] = new_label[label[label >= 0]]
    return reps[rank], label


def _lexsort(x, dedup_tol):
    """Order of the rows of ``x``, lexicographic in the first coordinate first.

    Coordinates are compared rounded to multiples of ``dedup_tol``, so that
    rounding noise (``+-1e-16`` for a point at 0) does not decide the order;
    exact values break ties.
    """
    coarse = np.round(x / dedup_tol)
    return np.lexsort(tuple(x.T[::-1]) + tuple(coarse.T[::-1]))


def _map_jacobian(act, W_rec, b, x, paper):
    """``F(x)`` and ``J_F(x)`` of the autonomous map without leak at one point (the cell's compiled step)."""
    from .._kernels import cpu

    F, _, _, J_F = cpu.step_jacobians(act.name, W_rec, None, b, None, x[None], None, paper)
    return F[0], J_F[0]


def _multipliers(J_F, leak):
    """Eigenvalues of the step Jacobian (with the leak), by decreasing modulus, then real and imaginary part."""
    J = J_F if leak is None else np.diag(leak) + (1.0 - leak)[:, None] * J_F
    lam = np.linalg.eigvals(J).astype(np.complex128)
    return lam[np.lexsort((-lam.imag, -lam.real, -np.abs(lam)))]


def _slow_points(map_jacobian, starts, fixed, tol, dedup_tol):
    """Local minima of ``q = ||F(x) - x||^2 / 2`` with ``q > tol^2 / 2``, away from ``fixed``, sorted."""
    from scipy.optimize import minimize

    def q_and_grad(x):
        F, J_F = map_jacobian(x)
        r = F - x
        return 0.5 * (r @ r), J_F.T @ r - r

    found = []
    for x0 in starts:
        if not np.all(np.isfinite(x0)):
            continue
        sol = minimize(q_and_grad, x0, jac=True, method="BFGS", options={"gtol": tol, "maxiter": 1000})
        if not (sol.success and np.all(np.isfinite(sol.x)) and sol.fun > 0.5 * tol * tol):
            continue
        points = np.concatenate([fixed] + [p[None] for p, _ in found]) if (fixed.size or found) else None
        if points is not None:
            scale = 1.0 + np.maximum(np.abs(points), np.abs(sol.x))
            if np.any(np.all(np.abs(points - sol.x) <= dedup_tol * scale, axis=1)):
                continue
        found.append((sol.x, float(sol.fun)))
    n = starts.shape[1]
    slow_x = np.array([p for p, _ in found]).reshape(-1, n)
    slow_q = np.array([q for _, q in found], dtype=np.float64)
    rank = _lexsort(slow_x, dedup_tol)
    return np.ascontiguousarray(slow_x[rank]), slow_q[rank]

"""Attractors along a straight path between two networks, and the bifurcations crossed on the way.

Pascanu, Mikolov & Bengio (2013), Sec. 2.2: as the parameters of an RNN change, its autonomous
map's attractors move smoothly except at bifurcations, where an attractor appears, vanishes or
changes stability; Doya (1993) ties crossing one to exploding gradients, and the paper refines
this into crossing a basin boundary (Sec. 2.2-2.3).  `path_bifurcations` finds the fixed points
and period-2 orbits of two networks of the same architecture (e.g. the same model at two
moments of training) and follows each along the straight path between their parameters,
locating every multiplier that crosses the unit circle on the way.

The continuation engine is the one of `dynrnn.continuation` (``_arclength.py``); the map, its
Jacobian and its derivative along the path come from the cell's compiled step
(``cpu.step_jacobians``), so the math is written once.
"""

import numpy as np

from .. import _validate
from ..maps.model import RNN
from ..results.homotopy import PathBifurcationResult, PathBranch
from . import _arclength
from ._path import Orbits, PathMap, close, search

__all__ = ["path_bifurcations"]

_PERIODS = (1, 2)
_EVENT_MATCH_S = 1e-6  # two events this close in s (and in state) are the same one
_EVENT_MATCH_X = 1e-4


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
def _check_pair(net, end):
    for name, value in (("net", net), ("end", end)):
        if not isinstance(value, RNN):
            raise TypeError(f"{name} must be a dynrnn.RNN; got {type(value).__name__}")
    for attr in ("n_units", "n_inputs", "activation", "form"):
        a, b = getattr(net, attr), getattr(end, attr)
        if a != b:
            raise ValueError(f"end must have the same {attr} as net ({a!r}); got {b!r}")
    same_leak = (net.leak is None and end.leak is None) or (
        net.leak is not None and end.leak is not None and np.array_equal(net.leak, end.leak)
    )
    if not same_leak:
        raise ValueError("end must have the same leak as net (the path interpolates W_rec, W_in and b only)")


def _check_periods(periods):
    if isinstance(periods, (int, np.integer)) and not isinstance(periods, (bool, np.bool_)):
        periods = (periods,)
    if not isinstance(periods, (tuple, list)) or len(periods) == 0:
        raise ValueError(f"periods must be a non-empty tuple drawn from {_PERIODS}; got {periods!r}")
    out = []
    for p in periods:
        p = _validate.integer("periods", p)
        if p not in _PERIODS:
            raise ValueError(f"periods may hold only {_PERIODS}; got {p}")
        if p not in out:
            out.append(p)
    return tuple(sorted(out))


def _positive(name, value):
    return _validate.positive_float(name, value)


# ---------------------------------------------------------------------------
# Following one orbit along the path
# ---------------------------------------------------------------------------
def _trace(system, x, s0, settings):
    """Follow the period-p orbit through ``x`` at ``s0`` (0 or 1) into the path; ``(PathBranch, raw events)``."""
    n = system.n
    y0 = np.append(np.asarray(x, dtype=np.float64), s0)
    sense = 1.0 if s0 == 0.0 else -1.0
    t0 = _arclength.tangent(system, y0)
    if t0 is None or not np.all(np.isfinite(t0)):
        points, mults, events, status, n_steps = [y0], [system.multipliers(y0)], [], "step_size", 0
    else:
        if t0[n] * sense < 0:
            t0 = -t0
        constraints = [(n, 1.0, 1.0), (n, 0.0, -1.0)]
        points, mults, _, events, status, n_steps = _arclength.trace(system, y0, t0, settings, constraints, "bounds")
    if status == "bounds":
        status = "end" if abs(points[-1][n] - (1.0 - s0)) <= 1e-12 else "returned"
    elif status == "closed":  # cannot happen inside [0, 1] without touching an end; report as stopped
        status = "max_steps"
    if system.period == 2:  # stop where the orbit collapses onto a fixed point (a flip of that point)
        for k, y in enumerate(points):
            if k > 0 and system.degenerate(y):
                points, mults = points[: k + 1], mults[: k + 1]
                events = [e for e in events if e[3] + 1 < k]
                status = "collapsed"
                break
    points = np.array(points, dtype=np.float64).reshape(-1, n + 1)
    mults = np.array(mults, dtype=np.complex128).reshape(-1, n)
    branch = PathBranch(
        period=system.period,
        values=points[:, n].copy(),
        x=points[:, :n].copy(),
        multipliers=mults,
        stable=np.all(np.abs(mults) < 1.0, axis=1),
        status=status,
        n_steps=int(n_steps),
    )
    return branch, events


def _critical(kind, mu):
    """The multiplier on the unit circle, and whether all the others lie inside it."""
    if kind in ("fold", "branch_point"):
        real = np.flatnonzero(mu.imag == 0)
        pool = real if real.size else np.arange(mu.size)
        k = pool[np.argmin(np.abs(mu[pool] - 1.0))]
        drop = [k]
    elif kind == "flip":
        real = np.flatnonzero(mu.imag == 0)
        pool = real if real.size else np.arange(mu.size)
        k = pool[np.argmin(np.abs(mu[pool] + 1.0))]
        drop = [k]
    else:
        upper = np.flatnonzero(mu.imag > 0)
        pool = upper if upper.size else np.arange(mu.size)
        k = pool[np.argmin(np.abs(np.abs(mu[pool]) - 1.0))]
        partner = np.flatnonzero((mu.imag < 0) & np.isclose(mu, np.conj(mu[k])))
        drop = [k, *partner[:1]]
    rest = np.delete(mu, drop)
    return mu[k], bool(np.all(np.abs(rest) < 1.0))


def _same_event(a, b, path_map):
    if a["kind"] != b["kind"] or a["period"] != b["period"] or abs(a["value"] - b["value"]) > _EVENT_MATCH_S:
        return False
    pts = [b["x"]]
    if b["period"] == 2:
        pts.append(path_map.power(b["x"][None], b["value"], 1)[0][0])
    return bool(np.any(close(np.array(pts), a["x"], _EVENT_MATCH_X)))


# ---------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------
def path_bifurcations(
    net,
    *,
    end,
    u=None,
    periods=(1, 2),
    x0=None,
    n_starts=64,
    rng=None,
    tol=1e-10,
    max_iter=30,
    dedup_tol=1e-6,
    trajectory_steps=50,
    step=0.02,
    min_step=1e-8,
    max_step=0.1,
    max_steps=2000,
    event_tol=1e-9,
):
    r"""Fixed points and period-2 orbits along the straight path from one network to another, and their bifurcations.

    The parameters move on ``theta(s) = (1 - s) theta_net + s theta_end``,
    ``s`` in [0, 1] (``W_rec``, ``W_in`` and ``b``).  The orbits of the
    autonomous map under the constant input ``u`` are found by a multi-start
    search at both ends and followed along the path by pseudo-arclength
    continuation; every multiplier that crosses the unit circle on the way
    is located.

    Parameters
    ----------
    net : RNN
        The network at ``s = 0``.
    end : RNN
        The network at ``s = 1``: the same ``n_units``, ``n_inputs``,
        activation, form and leak as ``net``.
    u : array_like, shape (m,), optional
        The constant input (zeros by default); the map is
        ``x -> F(x, u; theta(s))`` with bias ``b + W_in u``.
    periods : tuple of int, default (1, 2)
        The periods to search and follow: 1 (fixed points), 2 (period-2 orbits).
    x0 : array_like, shape (k, n), optional
        Extra Newton starts, tried at both ends for every period before the
        random ones: e.g. the orbit points of a neighbouring path
        (``result.x``, or the ``x`` of its branches), so that a short search
        finds them again.
    n_starts : int, default 64
        Newton starts per period and end: half along orbits of the map (the
        state at a random time up to ``trajectory_steps``), half uniform in a
        box that holds every orbit point (the range of sigma in the standard
        form, that of ``W sigma + c`` in the paper form).
    rng : None, int or numpy.random.Generator, optional
        The source of randomness, which draws, for ``s = 0`` then ``s = 1``
        and for each period in turn: the orbits' initial states, their
        times, the uniform starts.
    tol : float, default 1e-10
        A point converged when ``||G^p(x) - x||_2 <= tol``; also the
        corrector's tolerance.
    max_iter : int, default 30
        Damped Newton steps per start (the corrector takes at most 10).
    dedup_tol : float, default 1e-6
        Two points are the same when ``|x_i - y_i| <= dedup_tol (1 + max(|x_i|, |y_i|))``.
    trajectory_steps : int, default 50
        Length of the orbits that give the first half of the starts.
    step, min_step, max_step : float, default 0.02, 1e-8, 0.1
        First, smallest and largest arclength step in ``(x, s)``.
    max_steps : int, default 2000
        Largest number of accepted steps per branch.
    event_tol : float, default 1e-9
        Bisection tolerance in arclength: each event's ``s`` is located at
        least this well.

    Returns
    -------
    PathBifurcationResult
        The events (``values``, ``kind``, ``period``, ``x``, ``multipliers``,
        ``critical``, ``attractor``, ``converged``, ``branch``), the orbit
        counts at both ends, every ``branches`` followed, ``status`` and
        ``message``.  A branch the continuation cannot follow is reported
        (an ``"unresolved"`` event, ``status="incomplete"``), never raised.

    Raises
    ------
    TypeError
        If ``net`` or ``end`` is not an `RNN`, a count is not an integer, a
        tolerance or step is not a real number, or ``rng`` is not None, an
        int or a Generator.
    ValueError
        If ``net`` and ``end`` differ in size, activation, form or leak;
        ``u`` has the wrong shape or a NaN or inf; ``periods`` holds
        anything but 1 and 2; a count is < 1; a tolerance or step is not
        positive and finite; or ``min_step > step > max_step`` is violated.

    See Also
    --------
    continuation : one fixed-point branch in one parameter of one network.
    fixed_points : every fixed point of one network by multi-start Newton.

    Notes
    -----
    A period-``p`` point is a zero of ``H(x, s) = G^p(x; s) - x``, with ``G``
    the map of eq. (2) of Pascanu et al. (2013) (either form, with a leak)
    at ``theta(s)``.  Its Jacobian is ``[J_p - I, dG^p/ds]`` with
    ``J_p = J(x_{p-1}) ... J(x_0)`` (``J`` the step Jacobian) and, for
    ``p = 2``, ``dG^2/ds = J(x_1) G_s(x_0) + G_s(x_1)``, all in closed form.

    The branches are followed as in `continuation` (pseudo-arclength,
    Newton on the bordered system, adaptive step) from every orbit found at
    ``s = 0`` towards ``s = 1``; then from every orbit found at ``s = 1``
    that no branch reached, backwards.  A branch ends at the far end
    (``"end"``), comes back to its own end after a fold (``"returned"``:
    two orbits there meet inside the path and vanish), or, for period 2,
    collapses onto a fixed point (``"collapsed"``: the flip of that point).
    Events are sign changes along a branch of ``det(J_p - I)`` (a real
    multiplier through +1: ``"fold"`` where ``s`` turns back,
    ``"branch_point"`` otherwise), ``det(J_p + I)`` (``"flip"``) and
    ``prod_{i<j} (mu_i mu_j - 1)`` (``"neimark_sacker"``, kept only with a
    complex pair on the unit circle), each located by bisection; an event
    found on two branches is kept once.  An attractor that appears or
    vanishes inside the path is a fold (or flip, or Neimark-Sacker point)
    with ``attractor`` True.  Two sign changes within one continuation step
    cancel and are missed; a smaller ``max_step`` resolves them.  Orbits
    that neither multi-start search finds, and attractors that are not
    periodic (invariant circles, chaos), are not followed.

    Examples
    --------
    >>> import dynrnn
    >>> a = dynrnn.RNN(W_rec=[[0.5]])
    >>> b = dynrnn.RNN(W_rec=[[1.5]])
    >>> res = dynrnn.path_bifurcations(a, end=b, rng=0)
    >>> res.kind.tolist(), res.values.round(6).tolist(), res.n_attractors.tolist()
    (['branch_point'], [0.5], [[1, 0], [2, 0]])
    """
    _check_pair(net, end)
    m = net.n_inputs
    if u is None:
        u = np.zeros(m)
    else:
        u = _validate.real_array("u", u, np.float64).copy()
        if u.shape != (m,):
            raise ValueError(f"u must have shape ({m},) (one value per input); got {_validate.shape_str(u.shape)}")
    periods = _check_periods(periods)
    if x0 is not None:
        x0 = _validate.real_array("x0", x0, np.float64)
        if x0.ndim == 1 and x0.shape[0] == net.n_units:
            x0 = x0[None]
        if x0.ndim != 2 or x0.shape[1] != net.n_units:
            raise ValueError(f"x0 must have shape (k, n) with n = {net.n_units}; got {_validate.shape_str(x0.shape)}")
        x0 = x0.copy()
    n_starts = _validate.integer("n_starts", n_starts, minimum=1)
    max_iter = _validate.integer("max_iter", max_iter, minimum=1)
    trajectory_steps = _validate.integer("trajectory_steps", trajectory_steps, minimum=1)
    max_steps = _validate.integer("max_steps", max_steps, minimum=1)
    tol, dedup_tol, event_tol = (
        _positive(k, v) for k, v in (("tol", tol), ("dedup_tol", dedup_tol), ("event_tol", event_tol))
    )
    step, min_step, max_step = (
        _positive(k, v) for k, v in (("step", step), ("min_step", min_step), ("max_step", max_step))
    )
    if not min_step <= step <= max_step:
        raise ValueError(f"step must lie in [min_step, max_step] = [{min_step}, {max_step}]; got {step}")
    rng = _validate.rng("rng", rng)

    path_map = PathMap(net, end, u)
    settings = _arclength.Settings(step, min_step, max_step, max_steps, tol, min(max_iter, 10), event_tol)
    options = dict(x0=x0, n_starts=n_starts, rng=rng, tol=tol, max_iter=max_iter)
    options.update(trajectory_steps=trajectory_steps, dedup_tol=dedup_tol)
    ends = {s: {p: search(path_map, s, p, **options) for p in periods} for s in (0.0, 1.0)}

    branches, events = [], []
    for s0 in (0.0, 1.0):
        for p in periods:
            system, here, there = Orbits(path_map, p), ends[s0][p], ends[1.0 - s0][p]
            for k in range(len(here.orbits)):
                if here.traced[k]:
                    continue
                here.traced[k] = True
                branch, raw = _trace(system, here.orbits[k][0], s0, settings)
                index = len(branches)
                branches.append(branch)
                last = np.append(branch.x[-1], branch.values[-1])
                if branch.status in ("end", "returned"):
                    catalogue = there if branch.status == "end" else here
                    j = catalogue.add(last[: path_map.n])
                    if j >= 0:
                        catalogue.traced[j] = True
                for kind, y, mu, _, located in raw:
                    if 0.0 < y[-1] < 1.0:
                        crit, attractor = _critical(kind, mu)
                        event = dict(value=float(y[-1]), kind=kind, period=p, x=y[:-1].copy(), multipliers=mu)
                        event.update(critical=crit, attractor=attractor, converged=bool(located), branch=index)
                        events.append(event)
                if not branch.converged:
                    mu = branch.multipliers[-1]
                    event = dict(value=float(last[-1]), kind="unresolved", period=p, x=last[:-1].copy(), multipliers=mu)
                    event.update(critical=complex(np.nan, np.nan), attractor=bool(np.all(np.abs(mu) < 1.0)))
                    events.append(dict(event, converged=False, branch=index))
    return _result(path_map, periods, ends, branches, events)


def _result(path_map, periods, ends, branches, events):
    n = path_map.n
    unique = []
    for e in sorted(events, key=lambda e: e["value"]):
        if not any(_same_event(e, kept, path_map) for kept in unique):
            unique.append(e)

    def column(key, dtype):
        return np.array([e[key] for e in unique], dtype=dtype)

    n_orbits = np.array([[len(ends[s][p].orbits) for p in periods] for s in (0.0, 1.0)], dtype=np.int64)
    n_attractors = np.array([[ends[s][p].n_attractors() for p in periods] for s in (0.0, 1.0)], dtype=np.int64)
    complete = all(b.converged for b in branches)
    kinds = ", ".join(f"{k}: {sum(e['kind'] == k for e in unique)}" for k in PathBifurcationResult.KINDS)
    message = (
        f"{len(branches)} branches followed, {len(unique)} events ({kinds}); orbits of periods "
        f"{list(periods)} at s = 0: {n_orbits[0].tolist()}, at s = 1: {n_orbits[1].tolist()}"
    )
    if not complete:
        message += f"; {sum(not b.converged for b in branches)} branch(es) stopped inside the path"
    return PathBifurcationResult(
        values=column("value", np.float64),
        kind=column("kind", str) if unique else np.array([], dtype=str),
        period=column("period", np.int64),
        x=np.array([e["x"] for e in unique], dtype=np.float64).reshape(-1, n),
        multipliers=np.array([e["multipliers"] for e in unique], dtype=np.complex128).reshape(-1, n),
        critical=column("critical", np.complex128),
        attractor=column("attractor", bool),
        converged=column("converged", bool),
        branch=column("branch", np.int64),
        periods=np.array(periods, dtype=np.int64),
        n_orbits=n_orbits,
        n_attractors=n_attractors,
        branches=tuple(branches),
        status="complete" if complete else "incomplete",
        message=message,
    )

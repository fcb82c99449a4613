"""Numerical continuation of fixed points of RNN maps: branches in one parameter, fold curves in two.

`continuation` follows a branch of fixed points of an n-unit autonomous map
(eq. 2 of Pascanu et al. 2013, either form, with or without a leak) as one
scalar parameter varies, around its folds, and locates the bifurcations on
it; `fold_continuation` follows a fold (saddle-node) point in two
parameters.  The arclength engine lives in ``_arclength.py``, the map and
its analytic derivatives in ``_family.py``, the fixed-point and fold systems
and their test functions in ``_systems.py``.
"""

import numpy as np

from .. import _validate
from ..maps.gated import require_rnn
from ..results import BifurcationEvent, ContinuationResult, FoldCurveResult
from . import _arclength
from ._family import MapFamily, label, parse_parameter
from ._systems import FixedPoints, Folds

__all__ = ["continuation", "fold_continuation"]

_N_SETTLE = 200  # steps iterated from zeros to find a start state when x0 is None


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
def _check_net(net, function):
    return require_rnn(net, function)


def _scalar(name, value):
    arr = _validate.real_array(name, value, np.float64)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar; got shape {_validate.shape_str(arr.shape)}")
    return float(arr)


def _vector(name, value, size):
    arr = _validate.real_array(name, value, np.float64)
    if arr.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},); got {_validate.shape_str(arr.shape)}")
    return arr.copy()


def _settings(step, min_step, max_step, max_steps, tol, max_iter, event_tol):
    step = _scalar("step", step)
    if step <= 0:
        raise ValueError(f"step must be > 0; got {step}")
    max_step = max(0.1, step) if max_step is None else _scalar("max_step", max_step)
    if max_step < step:
        raise ValueError(f"max_step must be >= step = {step}; got {max_step}")
    min_step = min(1e-8, step) if min_step is None else _scalar("min_step", min_step)
    if not 0 < min_step <= step:
        raise ValueError(f"min_step must lie in (0, step = {step}]; got {min_step}")
    max_steps = _validate.integer("max_steps", max_steps, minimum=1)
    max_iter = _validate.integer("max_iter", max_iter, minimum=1)
    for name, value in (("tol", tol), ("event_tol", event_tol)):
        if _scalar(name, value) <= 0:
            raise ValueError(f"{name} must be > 0; got {value}")
    return _arclength.Settings(step, min_step, max_step, max_steps, float(tol), max_iter, float(event_tol))


def _start_candidates(family, x0, p):
    """``x0``; by default the last states of an orbit from zeros, then zeros (Newton starts in that order)."""
    if x0 is not None:
        return [x0]
    x, orbit = np.zeros(family.n), []
    with np.errstate(all="ignore"):
        for t in range(_N_SETTLE):
            x = family.step(x, p)
            if t >= _N_SETTLE - 10 and np.all(np.isfinite(x)):
                orbit.append(x)
    return orbit[::-1] + [np.zeros(family.n)]


def _first_solution(system, candidates, index, value, settings):
    """The first candidate that Newton's method corrects onto the branch at ``y[index] = value``."""
    for guess in candidates:
        y = _arclength.fix_coordinate(system, guess, index, value, settings)
        if y is not None:
            return y
    return None


_MESSAGES = {
    "stop": "reached the stop value",
    "bounds": "reached the bounds",
    "closed": "the branch closed on itself",
    "max_steps": "ran out of steps (max_steps) before the end",
    "step_size": "the corrector failed at the smallest step (min_step)",
    "start": "Newton's method found no solution near x0 at the start value",
    "initial": "the initial point (traced in one direction only)",
}


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------
def continuation(
    net,
    parameter,
    *,
    stop,
    x0=None,
    start=None,
    u=None,
    step=0.01,
    min_step=None,
    max_step=None,
    max_steps=2000,
    tol=1e-10,
    max_iter=10,
    event_tol=1e-10,
):
    r"""Follow a branch of fixed points of an RNN map in one parameter, locating its bifurcations.

    Pseudo-arclength continuation: the branch is followed through its folds,
    where it turns back in the parameter, and every fold, flip and
    Neimark-Sacker point on the way is located.

    Parameters
    ----------
    net : RNN
        The network; its map is autonomous (a constant input ``u`` at most).
    parameter : tuple or str
        The parameter p: ``("b", i)``, ``("W_rec", i, j)``, ``("u", k)`` (an
        entry of the constant input, adding ``W_in[:, k] * p`` to the drive)
        or ``"gain"`` (the map uses ``p * W_rec``).
    stop : float
        The branch is followed until the parameter reaches ``stop``; it
        starts in that direction.
    x0 : array_like, shape (n,), optional
        A guess of the fixed point at ``start``.  By default Newton's method
        starts from the last 10 of 200 states of the map's orbit from zeros,
        then from zeros, until it converges.
    start : float, optional
        Start value of the parameter; by default its value in ``net`` (1 for the gain).
    u : array_like, shape (m,), optional
        Constant input (zeros by default).
    step : float, default 0.01
        First arclength step in ``(x, p)``.
    min_step, max_step : float, optional
        Step-size limits (default ``min(1e-8, step)`` and ``max(0.1, step)``).
        The step grows after easy corrections and halves after failures.
    max_steps : int, default 2000
        Largest number of accepted steps.
    tol : float, default 1e-10
        Tolerance of Newton's corrector (correction and residual).
    max_iter : int, default 10
        Newton iterations per correction.
    event_tol : float, default 1e-10
        Bisection tolerance in arclength when locating events (the parameter
        is located at least this well).

    Returns
    -------
    ContinuationResult
        The branch (``values``, ``x``, ``multipliers``, ``stable``), the
        ``events`` and ``converged``, ``status``, ``message``.  Failure is
        reported there, never raised.

    Raises
    ------
    ValueError
        If ``parameter`` is unknown or an index is out of range, ``step`` or
        another setting is not positive, ``stop`` equals ``start``, a shape
        is wrong or a value is NaN or inf.
    TypeError
        If ``net`` is not an `RNN`, a parameter index or count is not an
        integer, or a value is not real.

    See Also
    --------
    fold_continuation : a fold followed in two parameters.
    dynrnn.single_unit.fold_points : the exact folds of one unit.

    Notes
    -----
    The branch is the zero set of ``H(x, p) = G(x; p) - x``, where ``G`` is
    eq. (2) of Pascanu et al. (2013), ``x -> W_rec sigma(x) + b`` (or the
    standard form ``sigma(W_rec x + b)``), with a leak ``leak x + (1 - leak) G``.
    From a point ``y = (x, p)`` with unit tangent ``t`` (``H_y t = 0``) the
    predictor is ``y + h t`` and Newton's method corrects it on the bordered system

    .. math:: \begin{pmatrix} G_x - I & G_p \\ t^T \end{pmatrix} \Delta y
              = -\begin{pmatrix} H \\ \langle t, y - y_k \rangle - h \end{pmatrix},

    with the step Jacobian ``G_x`` (paper form ``W_rec diag(sigma'(x))``,
    standard ``diag(sigma'(W_rec x + b)) W_rec``, leak ``leak I + (1 - leak) G_x``)
    and ``G_p`` in closed form.  A fixed point is stable when every
    multiplier (eigenvalue of ``G_x``) has modulus below 1.  Events are sign
    changes of ``det(G_x - I)`` (a real multiplier crosses 1: ``"fold"``
    where the branch turns back, ``"branch_point"`` where it goes on),
    ``det(G_x + I)`` (``"flip"``) and ``prod_{i<j} (mu_i mu_j - 1)``
    (``"neimark_sacker"``, checked to have a complex pair on the unit
    circle), each located by bisection along the branch.  With relu the map
    is only piecewise smooth: the corrector may fail at a kink
    (``status="step_size"``).  Sec. 2.2 of the
    paper: as a parameter crosses a fold an attractor appears or vanishes
    (Doya's exploding-gradient bifurcation, Fig. 3).

    Examples
    --------
    >>> import dynrnn
    >>> net = dynrnn.RNN(W_rec=[[5.0]], b=[-1.0], activation="logistic")
    >>> res = dynrnn.continuation(net, ("b", 0), stop=-4.0)
    >>> res.status, res.event_values("fold").round(5).tolist()
    ('stop', [-2.65561, -2.34439])
    """
    net = _check_net(net, "continuation")
    n, m = net.n_units, net.n_inputs
    spec = parse_parameter("parameter", parameter, n, m)
    u = np.zeros(m) if u is None else _vector("u", u, m)
    family = MapFamily(net, [spec], u)
    start = family.current(spec) if start is None else _scalar("start", start)
    stop = _scalar("stop", stop)
    if stop == start:
        raise ValueError(f"stop must differ from start = {start}; got {stop}")
    x0 = None if x0 is None else _vector("x0", x0, n)
    settings = _settings(step, min_step, max_step, max_steps, tol, max_iter, event_tol)

    system = FixedPoints(family)
    candidates = [np.append(x, start) for x in _start_candidates(family, x0, np.array([start]))]
    y0 = _first_solution(system, candidates, n, start, settings)
    t0 = None if y0 is None else _arclength.tangent(system, y0)
    if t0 is None:
        return _continuation_result(spec, n, [], [], [], [], "start", 0, start)
    if t0[n] * (stop - start) < 0:
        t0 = -t0
    sense = 1.0 if stop > start else -1.0
    points, mults, arclength, events, status, n_steps = _arclength.trace(
        system, y0, t0, settings, [(n, stop, sense)], "stop"
    )
    return _continuation_result(spec, n, points, mults, arclength, events, status, n_steps, start, stop)


def _continuation_result(spec, n, points, mults, arclength, events, status, n_steps, start, stop=None):
    points = np.array(points, dtype=np.float64).reshape(-1, n + 1)
    mults = np.array(mults, dtype=np.complex128).reshape(-1, n)
    message = f"{label(spec)} from {start}: {_MESSAGES[status]}"
    if status == "stop":
        message += f" {stop}"
    elif points.shape[0]:
        message += f" (last value {points[-1, n]})"
    return ContinuationResult(
        parameter=spec,
        values=points[:, n].copy(),
        x=points[:, :n].copy(),
        multipliers=mults,
        stable=np.all(np.abs(mults) < 1.0, axis=1),
        arclength=np.array(arclength, dtype=np.float64),
        events=tuple(
            BifurcationEvent(kind=kind, value=float(y[n]), x=y[:n].copy(), multipliers=mu, index=index, converged=ok)
            for kind, y, mu, index, ok in events
        ),
        converged=status in ("stop", "closed"),
        status=status,
        message=message,
        n_steps=n_steps,
    )


def fold_continuation(
    net,
    parameters,
    *,
    x0,
    start=None,
    bounds=None,
    u=None,
    both_directions=True,
    step=0.01,
    min_step=None,
    max_step=None,
    max_steps=2000,
    tol=1e-10,
    max_iter=10,
    event_tol=1e-10,
):
    r"""Follow a fold (saddle-node) point of an RNN map in two parameters: the fold curve.

    Parameters
    ----------
    net : RNN
        The network.
    parameters : pair of tuple or str
        The two parameters ``(p1, p2)``, each as in `continuation`, distinct.
    x0 : array_like, shape (n,)
        A state near a fold, e.g. ``event.x`` of a ``"fold"`` event of
        `continuation` in ``p1``.
    start : pair of float, optional
        Parameter values near the fold (``p1`` is corrected, ``p2`` held);
        by default their values in ``net``.
    bounds : array_like, shape (2, 2), optional
        ``[[p1_min, p1_max], [p2_min, p2_max]]``: the curve ends where it
        leaves this box (``start`` must lie inside).  By default only
        ``max_steps`` ends it.
    u : array_like, shape (m,), optional
        Constant input (zeros by default).
    both_directions : bool, default True
        Follow the curve both ways from the start; otherwise only the way
        in which ``p1`` increases.
    step, min_step, max_step, max_steps, tol, max_iter, event_tol
        As in `continuation` (``max_steps`` counts each direction).

    Returns
    -------
    FoldCurveResult
        The curve (``values``, ``x``, ``null_vectors``, ``multipliers``), its
        cusps in ``events``, ``converged``, ``status`` (why each end stopped)
        and ``message``.  Failure is reported there, never raised.

    Raises
    ------
    ValueError
        If a parameter is unknown, out of range or repeated, a setting is not
        positive, a shape is wrong, a value is NaN or inf, or ``start`` is
        not inside ``bounds``.
    TypeError
        If ``net`` is not an `RNN`, an index or count is not an integer, or
        a value is not real.

    See Also
    --------
    continuation : a branch of fixed points in one parameter, with its folds.
    dynrnn.single_unit.fold_curve : the exact fold curve of one unit in ``(w, b)``.

    Notes
    -----
    The curve is the zero set of the extended system in ``(x, v, p1, p2)``

    .. math:: G(x; p) - x = 0,\qquad (G_x - I)\,v = 0,\qquad \langle v_{ref}, v\rangle = 1,

    whose Jacobian needs the second derivatives ``d(G_x v)/dx`` and
    ``d(G_x v)/dp``, also in closed form; ``v_ref`` is the null vector at
    the previous point.  It is followed by pseudo-arclength continuation
    as in `continuation`.  A cusp, where the two folds of a bistable range
    meet and the range closes, is a sign change of the fold's quadratic
    coefficient ``<l, D^2 G(v, v)>`` (``l`` the left null vector, ``<l, v> = 1``).
    For one unit in ``(w, b)`` this is the wedge of Fig. 3 of Pascanu et al.
    (2013): inside it the unit is bistable, and crossing the curve makes an
    attractor appear or vanish (Sec. 2.2).

    Examples
    --------
    >>> import dynrnn
    >>> net = dynrnn.RNN(W_rec=[[5.0]], b=[-2.34], activation="logistic")
    >>> curve = dynrnn.fold_continuation(
    ...     net, (("W_rec", 0, 0), ("b", 0)), x0=[-0.96], bounds=[[3.0, 6.0], [-5.0, 0.0]]
    ... )
    >>> curve.status.tolist(), [e.kind for e in curve.events], curve.events[0].value.round(6).tolist()
    (['bounds', 'bounds'], ['cusp'], [4.0, -2.0])
    """
    net = _check_net(net, "fold_continuation")
    n, m = net.n_units, net.n_inputs
    if isinstance(parameters, str) or not isinstance(parameters, (tuple, list)) or len(parameters) != 2:
        raise ValueError(f"parameters must be a pair (p1, p2) of continuation parameters; got {parameters!r}")
    specs = tuple(parse_parameter(f"parameters[{q}]", p, n, m) for q, p in enumerate(parameters))
    if specs[0] == specs[1]:
        raise ValueError(f"parameters must be two different parameters; got {label(specs[0])} twice")
    u = np.zeros(m) if u is None else _vector("u", u, m)
    family = MapFamily(net, specs, u)
    start = np.array([family.current(s) for s in specs]) if start is None else _vector("start", start, 2)
    x0 = _vector("x0", x0, n)
    constraints = []
    if bounds is not None:
        bounds = _validate.real_array("bounds", bounds, np.float64)
        if bounds.shape != (2, 2) or np.any(bounds[:, 0] >= bounds[:, 1]):
            raise ValueError(
                f"bounds must be [[p1_min, p1_max], [p2_min, p2_max]] with min < max; got {bounds.tolist()}"
            )
        if np.any(start <= bounds[:, 0]) or np.any(start >= bounds[:, 1]):
            raise ValueError(f"start must lie inside bounds {bounds.tolist()}; got {start.tolist()}")
        for q in range(2):
            constraints += [(2 * n + q, bounds[q, 1], 1.0), (2 * n + q, bounds[q, 0], -1.0)]
    if not isinstance(both_directions, (bool, np.bool_)):
        raise TypeError(f"both_directions must be a bool; got {type(both_directions).__name__}")
    settings = _settings(step, min_step, max_step, max_steps, tol, max_iter, event_tol)

    # the initial null vector: the eigenvector whose eigenvalue is nearest 1
    J = family.evaluate(x0, start)[1]
    mu, vectors = np.linalg.eig(J)
    v0 = np.real(vectors[:, np.argmin(np.abs(mu - 1.0))])
    v0 = v0 / np.linalg.norm(v0) if np.linalg.norm(v0) > 0 else np.eye(n)[0]
    system = Folds(family, v0)
    y0 = _arclength.fix_coordinate(system, np.concatenate([x0, v0, start]), 2 * n + 1, start[1], settings)
    t0 = None
    if y0 is not None:
        y0 = system.accept(y0)
        t0 = _arclength.tangent(system, y0)
    if t0 is None:
        return _fold_result(specs, n, [], [], [], [], ("start", "start"), 0)
    if t0[2 * n] < 0 or (t0[2 * n] == 0 and t0[2 * n + 1] < 0):
        t0 = -t0
    v_start = system.v_ref.copy()
    forward = _arclength.trace(system, y0, t0, settings, constraints, "bounds")
    if not both_directions or forward[4] == "closed":
        back = ([y0], None, [0.0], [], "closed" if forward[4] == "closed" else "initial", 0)
    else:
        system.v_ref = v_start
        back = _arclength.trace(system, y0, -t0, settings, constraints, "bounds")
    # join: the backward trace reversed, then the forward one (the start point once)
    k_back = len(back[0])
    points = back[0][::-1] + forward[0][1:]
    mults = (back[1][::-1] if back[1] is not None else forward[1][:1]) + forward[1][1:]
    arclength = [back[2][-1] - a for a in back[2][::-1]] + [back[2][-1] + a for a in forward[2][1:]]
    events = [(kind, y, mu, k_back - 2 - index, ok) for kind, y, mu, index, ok in back[3][::-1]]
    events += [(kind, y, mu, k_back - 1 + index, ok) for kind, y, mu, index, ok in forward[3]]
    return _fold_result(specs, n, points, mults, arclength, events, (back[4], forward[4]), back[5] + forward[5])


def _fold_result(specs, n, points, mults, arclength, events, status, n_steps):
    points = np.array(points, dtype=np.float64).reshape(-1, 2 * n + 2)
    ends = f"first end: {_MESSAGES[status[0]]}, last end: {_MESSAGES[status[1]]}"
    return FoldCurveResult(
        parameters=specs,
        values=points[:, 2 * n :].copy(),
        x=points[:, :n].copy(),
        null_vectors=points[:, n : 2 * n] / np.linalg.norm(points[:, n : 2 * n], axis=1, keepdims=True),
        multipliers=np.array(mults, dtype=np.complex128).reshape(-1, n),
        arclength=np.array(arclength, dtype=np.float64),
        events=tuple(
            BifurcationEvent(kind=kind, value=y[2 * n :].copy(), x=y[:n].copy(), multipliers=mu, index=i, converged=ok)
            for kind, y, mu, i, ok in events
        ),
        converged=all(s in ("bounds", "closed", "initial") for s in status),
        status=np.array(status, dtype=str),
        message=f"fold curve in ({label(specs[0])}, {label(specs[1])}); {ends}",
        n_steps=n_steps,
    )

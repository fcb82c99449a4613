"""The single-unit map x_t = w sigma(x_{t-1}) + b of Pascanu et al. (2013), Secs. 2.2-2.4 (eq. 8).

Forward-mode tangents along orbits (`iterate_tangents`); every fixed point and 2-cycle, exactly
(`fixed_points`, `period2_orbits`); the fold and flip bifurcations and the cusp in the (w, b)
plane (`fold_points`, `flip_points`, `fold_curve`, `cusp`).  The root finding lives in
``_unit_solvers.py``; this module validates and builds the results.
"""

import numpy as np

from . import _backend, _config, _validate
from . import _unit_solvers as _solve
from ._kernels.scalar import ACTIVATIONS
from .maps import _chunks
from .maps.activations import gamma as _gamma
from .results import (
    SingleUnitBifurcations,
    SingleUnitCusp,
    SingleUnitCycles,
    SingleUnitFixedPoints,
    TangentResult,
)

__all__ = [
    "cusp",
    "fixed_points",
    "flip_points",
    "fold_curve",
    "fold_points",
    "iterate_tangents",
    "period2_orbits",
]

SMOOTH = _solve.SMOOTH  # ("logistic", "tanh"): the bounded sigmoids, with isolated folds and flips


def iterate_tangents(w, b, x0, *, n_steps, activation="tanh", backend="cpu", dtype=np.float64):
    r"""Iterate single-unit maps and carry ``d x_t / d w`` and ``d x_t / d b`` along.

    Forward-mode differentiation of ``x_t = w sigma(x_{t-1}) + b`` over a
    grid of ``(w, b, x0)``, all points at once: the quantities the error
    surface of Fig. 6 is made of.

    Parameters
    ----------
    w, b, x0 : array_like
        Recurrent weight, bias and initial state; broadcast together to the
        grid's shape.
    n_steps : int
        Number of steps T >= 1.
    activation : {"logistic", "tanh", "relu", "linear"}, default "tanh"
        The nonlinearity sigma.
    backend : {"cpu", "cuda"}, default "cpu"
        Where to compute.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the computation and of the result.

    Returns
    -------
    TangentResult
        ``x`` (= x_T), ``dx_dw``, ``dx_db`` and ``diverged``, each with the
        broadcast shape of ``w``, ``b`` and ``x0``.  ``diverged`` is True
        where any of the three became non-finite.

    Raises
    ------
    ValueError
        If the arguments do not broadcast, hold NaN or inf, ``n_steps < 1``
        or ``n_steps > dynrnn._config.MAX_UNSPLIT_STEPS`` (1e8: the tangents are
        carried in one uninterruptible pass), or ``activation``, ``backend`` or
        ``dtype`` is unknown.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    TypeError
        If an array is complex or not numeric, or ``n_steps`` not an integer.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    dynrnn.iterate_grid : the states alone, for n units.

    Notes
    -----
    The map is eq. (8) of Pascanu et al. (2013).  With ``s = sigma(x_{t-1})``
    and ``s' = sigma'(x_{t-1})``, the chain rule gives

    .. math::
        \frac{\partial x_t}{\partial w} = s + w s' \frac{\partial x_{t-1}}{\partial w},\qquad
        \frac{\partial x_t}{\partial b} = 1 + w s' \frac{\partial x_{t-1}}{\partial b},

    starting from zero at ``t = 0``.  Near a basin boundary these grow like
    ``(w sigma')^t``: the "walls" of the error surface (Sec. 2.3).

    Examples
    --------
    >>> import dynrnn
    >>> res = dynrnn.single_unit.iterate_tangents(0.5, 0.1, 0.0, n_steps=1, activation="linear")
    >>> float(res.x), float(res.dx_dw), float(res.dx_db)
    (0.1, 0.0, 1.0)
    """
    dtype = _validate.float_dtype("dtype", dtype)
    _validate.choice("activation", activation, ACTIVATIONS)
    n_steps = _validate.integer("n_steps", n_steps, minimum=1)
    kernels = _backend.get(backend)
    arrays = [_validate.real_array(name, a, dtype) for name, a in (("w", w), ("b", b), ("x0", x0))]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        names = ("w", "b", "x0")
        shapes = ", ".join(f"{n} {_validate.shape_str(a.shape)}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"w, b and x0 must broadcast to one shape; got {shapes}") from None
    if 0 in shape:
        raise ValueError(f"w, b and x0 must have at least one grid point; got broadcast shape {shape}")
    G = _grid_limits("w, b and x0", shape, 8)
    _unsplit_steps(n_steps, G)
    w, b, x0 = (np.broadcast_to(a, shape).reshape(-1).copy() for a in arrays)
    x, dx_dw, dx_db = (np.empty(w.shape, dtype=dtype) for _ in range(3))
    for lo, hi in _chunks.items(G, 4 * n_steps):  # Ctrl-C lands between chunks of grid points
        part = (x[lo:hi], dx_dw[lo:hi], dx_db[lo:hi])
        kernels.iterate_tangents(activation, w[lo:hi], b[lo:hi], x0[lo:hi], n_steps, *part)
    diverged = ~(np.isfinite(x) & np.isfinite(dx_dw) & np.isfinite(dx_db))
    return TangentResult(
        x=x.reshape(shape), dx_dw=dx_dw.reshape(shape), dx_db=dx_db.reshape(shape), diverged=diverged.reshape(shape)
    )


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------
def _broadcast(**named):
    """Validate finite real arrays and broadcast them; return (flat float64 arrays, shape)."""
    arrays = {name: _validate.real_array(name, a, np.float64) for name, a in named.items()}
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        names = " and ".join(arrays)
        shapes = ", ".join(f"{n} {_validate.shape_str(a.shape)}" for n, a in arrays.items())
        raise ValueError(f"{names} must broadcast to one shape; got {shapes}") from None
    if 0 in shape:
        raise ValueError(f"{' and '.join(arrays)} must have at least one grid point; got broadcast shape {shape}")
    _grid_limits(" and ".join(arrays), shape, 40)  # the solvers' per-point results and scratch
    flat = [np.broadcast_to(a, shape).reshape(-1).copy() for a in arrays.values()]
    return flat, shape


def _grid_limits(names, shape, numbers_per_point):
    """The grid size of ``shape``, after refusing a grid that cannot fit in memory (8-byte numbers)."""
    G = int(np.prod(shape, dtype=object))
    _validate.memory(names, G * numbers_per_point * 8, f"a grid of {G} points")
    return G


def _unsplit_steps(n_steps, G):
    """Refuse ``n_steps`` beyond ``_config.MAX_UNSPLIT_STEPS`` or beyond the work cap."""
    if n_steps > _config.MAX_UNSPLIT_STEPS:
        raise ValueError(
            f"n_steps must be <= {_config.MAX_UNSPLIT_STEPS} (dynrnn._config.MAX_UNSPLIT_STEPS): the derivatives "
            f"are carried in one uninterruptible pass per grid point; got {n_steps}"
        )
    _validate.work("n_steps", 4 * G * n_steps, f"{G} grid points over {n_steps} steps")


def _smooth(activation):
    if not isinstance(activation, str) or activation not in SMOOTH:
        raise ValueError(
            "activation must be one of 'logistic', 'tanh' (the bounded sigmoids, whose folds and flips are "
            f"isolated points); got {activation!r}"
        )
    return activation


# ---------------------------------------------------------------------------
# Fixed points
# ---------------------------------------------------------------------------
def fixed_points(w, b, *, activation="tanh"):
    r"""Every fixed point of the single-unit map ``x -> w sigma(x) + b``, with its multiplier.

    Exact, not sampled: the fixed points are the zeros of
    ``g(x) = w sigma(x) + b - x``, and for each activation the real line is
    cut into pieces on which ``g`` is provably monotone, so each piece holds
    at most one zero, which is bracketed and refined to machine precision.

    Parameters
    ----------
    w, b : array_like
        Recurrent weight and bias, broadcast together to the grid's shape S.
    activation : {"logistic", "tanh", "relu", "linear"}, default "tanh"
        The nonlinearity sigma.

    Returns
    -------
    SingleUnitFixedPoints
        ``x`` (S + (3,)): the fixed points, ascending, NaN-padded;
        ``multipliers`` ``lambda = w sigma'(x*)``; ``stable`` (``|lambda| < 1``);
        ``tangent`` (a double root at a fold); ``residual``; ``count`` (S);
        ``degenerate`` (S: a continuum of fixed points); ``converged`` (S).

    Raises
    ------
    ValueError
        If ``w`` and ``b`` do not broadcast or are empty, hold NaN or inf, or
        ``activation`` is unknown.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    TypeError
        If ``w`` or ``b`` is complex or not numeric.

    See Also
    --------
    fold_points : the biases where two fixed points merge.
    period2_orbits : the 2-cycles that replace an unstable fixed point for w < 0.

    Notes
    -----
    The map is eq. (8) of Pascanu et al. (2013) (eq. 2 with one unit and no
    input); Fig. 3 plots its fixed points against ``b`` for ``w = 5``.  A
    fixed point is stable when ``|lambda| < 1``; the unstable one between two
    stable ones is their basin boundary (Sec. 2.2).

    *Bounded sigmoids.*  Every fixed point lies in ``b + w range(sigma)``:
    ``[b + min(0, w), b + max(0, w)]`` (logistic) or ``[b - |w|, b + |w|]``
    (tanh).  ``g'(x) = w sigma'(x) - 1`` vanishes only where
    ``sigma'(x) = 1/w``; for ``w <= 1/gamma`` (4 for logistic, 1 for tanh)
    that never happens and ``g`` is strictly decreasing, with one zero.
    Otherwise the two critical points are ``+-c`` in closed form,

    .. math:: c = \operatorname{logit}\frac{1 + \sqrt{1 - 4/w}}{2}\ \text{(logistic)},\qquad
              c = \operatorname{artanh}\sqrt{1 - 1/w}\ \text{(tanh)},

    and ``g`` decreases on ``(-inf, -c]``, increases on ``[-c, c]`` and
    decreases on ``[c, inf)``: the signs of ``g(-c)`` and ``g(c)`` decide
    which pieces hold a zero (one, two or three fixed points).  Where
    ``|g(+-c)|`` is within rounding of zero, ``+-c`` is reported as a
    ``tangent`` double root with ``lambda = 1``.  Each zero is refined by
    Newton steps safeguarded by bisection inside its bracket.

    *relu and linear* are solved in closed form on their linear pieces.
    linear: ``x* = b / (1 - w)``; ``w = 1`` has no fixed point if
    ``b != 0`` and every x is fixed if ``b = 0`` (``degenerate``).  relu:
    ``x* = b`` if ``b <= 0`` (``lambda = 0``, taking ``sigma'(0) = 0``) and
    ``x* = b / (1 - w)`` if that is positive (``lambda = w``); ``w = 1,
    b = 0`` fixes every ``x >= 0`` (``degenerate``).  Equality to 1 and 0 is
    exact.

    Examples
    --------
    >>> import dynrnn
    >>> fp = dynrnn.single_unit.fixed_points(5.0, -2.5, activation="logistic")
    >>> fp.x.round(5).tolist(), fp.stable.tolist()
    ([-1.77603, 0.0, 1.77603], [True, False, True])
    """
    _validate.choice("activation", activation, ACTIVATIONS)
    (w, b), shape = _broadcast(w=w, b=b)
    solve = _solve.fixed_points_smooth if activation in SMOOTH else _solve.fixed_points_pieces
    x, multiplier, tangent, residual, degenerate, converged = solve(activation, w, b)
    found = ~np.isnan(x)
    stable = found & (np.abs(np.where(found, multiplier, np.inf)) < 1.0) & ~tangent
    return SingleUnitFixedPoints(
        x=x.reshape(shape + (3,)),
        multipliers=multiplier.reshape(shape + (3,)),
        stable=stable.reshape(shape + (3,)),
        tangent=tangent.reshape(shape + (3,)),
        residual=residual.reshape(shape + (3,)),
        count=np.count_nonzero(found, axis=1).astype(np.int64).reshape(shape),
        degenerate=degenerate.reshape(shape),
        converged=converged.reshape(shape),
        activation=activation,
    )


# ---------------------------------------------------------------------------
# Period-2 orbits
# ---------------------------------------------------------------------------
def period2_orbits(w, b, *, activation="tanh"):
    r"""The period-2 orbit of ``x -> w sigma(x) + b`` (logistic or tanh), where there is one.

    A 2-cycle ``{p, q}`` has ``f(p) = q`` and ``f(q) = p`` with ``p != q``: a
    fixed point of the second iterate ``f(f(x))`` that is not a fixed point
    of ``f``.  Such orbits are born at the flip (period-doubling) bifurcations
    of `flip_points` and replace the fixed point as the attractor between
    them.

    Parameters
    ----------
    w, b : array_like
        Recurrent weight and bias, broadcast together to the grid's shape S.
    activation : {"logistic", "tanh"}, default "tanh"
        The nonlinearity sigma.

    Returns
    -------
    SingleUnitCycles
        ``x`` (S + (2,)): ``(p, q)``, ascending, NaN where there is no
        2-cycle; ``multipliers`` ``mu = w^2 sigma'(p) sigma'(q)``; ``stable``
        (``|mu| < 1``); ``exists``; ``residual``; ``converged``.

    Raises
    ------
    ValueError
        If ``w`` and ``b`` do not broadcast or are empty, hold NaN or inf, or
        ``activation`` is not "logistic" or "tanh".
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    TypeError
        If ``w`` or ``b`` is complex or not numeric.

    See Also
    --------
    flip_points : the biases where the 2-cycle is born.
    fixed_points : the fixed points.

    Notes
    -----
    For ``w >= 0`` the map is increasing and has no 2-cycle.  For ``w < 0``
    it is decreasing, with one fixed point ``x_f`` of multiplier ``lambda``,
    and ``f`` has negative Schwarzian derivative (tanh: -2; logistic: -1/2),
    as has ``F = f o f``.  So ``F'`` has no positive local minimum, ``F' = 1``
    at two points at most, and ``h(x) = F(x) - x`` has at most three zeros:
    at most one 2-cycle, which exists exactly when ``lambda < -1``
    (``h'(x_f) = lambda^2 - 1 > 0``).  Then ``p`` is the only zero of ``h``
    on ``[lo, m_1]``, where ``m_1 < x_f`` solves ``F'(m) = 1`` (found by
    bisection) and ``lo`` is the lower range bound of `fixed_points`; ``p``
    is refined by safeguarded Newton steps, and ``q = f(p)``.  Within
    rounding of a flip no orbit is reported.

    Examples
    --------
    >>> import dynrnn
    >>> cyc = dynrnn.single_unit.period2_orbits(-5.0, 2.5, activation="logistic")
    >>> cyc.x.round(5).tolist(), bool(cyc.stable)
    ([-1.77603, 1.77603], True)
    """
    _smooth(activation)
    (w, b), shape = _broadcast(w=w, b=b)
    fp = fixed_points(w, b, activation=activation)  # for w < 0 there is exactly one
    p, q, converged = _solve.period2(activation, w, b, fp.x[:, 0], fp.multipliers[:, 0])
    exists = ~np.isnan(p)
    x = np.stack([p, q], axis=-1)
    act = _solve.activation(activation)
    xs = np.where(exists[:, None], x, 0.0)  # keep NaN out of the compiled ufuncs
    multiplier = np.where(exists, w * w * act.dsigma(xs[:, 0]) * act.dsigma(xs[:, 1]), np.nan)
    f = w[:, None] * act.sigma(xs) + b[:, None]
    residual = np.where(exists, np.maximum(np.abs(f[:, 0] - xs[:, 1]), np.abs(f[:, 1] - xs[:, 0])), np.nan)
    return SingleUnitCycles(
        x=x.reshape(shape + (2,)),
        multipliers=multiplier.reshape(shape),
        stable=(exists & (np.abs(np.where(exists, multiplier, np.inf)) < 1.0)).reshape(shape),
        exists=exists.reshape(shape),
        residual=residual.reshape(shape),
        converged=converged.reshape(shape),
        activation=activation,
    )


# ---------------------------------------------------------------------------
# Bifurcations: folds, flips, the cusp
# ---------------------------------------------------------------------------
def _bifurcations(w, activation, kind):
    _smooth(activation)
    w = _validate.real_array("w", w, np.float64).copy()  # the result is read-only: never the caller's array
    if w.size == 0:
        raise ValueError("w must have at least one value; got an empty array")
    _grid_limits("w", w.shape, 12)
    x, b = _solve.bifurcations(activation, w, kind)
    return SingleUnitBifurcations(w=w, b=b, x=x, kind=kind, activation=activation)


def fold_points(w, *, activation="tanh"):
    r"""The saddle-node (fold) bifurcations of ``x -> w sigma(x) + b``: the biases where two fixed points merge.

    Parameters
    ----------
    w : array_like
        Recurrent weights, any shape S.
    activation : {"logistic", "tanh"}, default "tanh"
        The nonlinearity sigma.

    Returns
    -------
    SingleUnitBifurcations
        ``b`` (S + (2,)): the two fold biases, ascending, NaN where ``w`` has
        none (``w < 4`` for logistic, ``w < 1`` for tanh); ``x`` (S + (2,)):
        the fixed point at each fold; ``w``; ``kind = "fold"``.

    Raises
    ------
    ValueError
        If ``w`` is empty or holds NaN or inf, or ``activation`` is not
        "logistic" or "tanh".
    TypeError
        If ``w`` is complex or not numeric.

    See Also
    --------
    fold_curve : the same on a sampled range of ``w``, for plotting.
    flip_points : the period-doubling bifurcations for ``w < 0``.
    cusp : where the two folds meet.

    Notes
    -----
    A fixed point ``x* = w sigma(x*) + b`` folds where its multiplier is 1:

    .. math:: w\,\sigma'(x^*) = 1,\qquad b = x^* - w\,\sigma(x^*),

    solved in closed form (``x* = +-logit((1 + sqrt(1 - 4/w))/2)`` for
    logistic, ``+-artanh(sqrt(1 - 1/w))`` for tanh).  Between the two biases
    the map is bistable: two stable fixed points and the unstable one that
    bounds their basins.  Pascanu et al. (2013), Sec. 2.2 and Fig. 3 (Doya's
    example, w = 5): as b decreases a low attractor appears at the upper
    fold ``b[1]`` and the high one disappears at the lower fold ``b[0]``.

    Examples
    --------
    >>> import dynrnn
    >>> folds = dynrnn.single_unit.fold_points(5.0, activation="logistic")
    >>> folds.b.round(5).tolist(), folds.x.round(5).tolist()
    ([-2.65561, -2.34439], [0.96242, -0.96242])
    """
    return _bifurcations(w, activation, "fold")


def flip_points(w, *, activation="tanh"):
    r"""The period-doubling (flip) bifurcations of ``x -> w sigma(x) + b``: where a 2-cycle is born.

    Parameters
    ----------
    w : array_like
        Recurrent weights, any shape S.
    activation : {"logistic", "tanh"}, default "tanh"
        The nonlinearity sigma.

    Returns
    -------
    SingleUnitBifurcations
        ``b`` (S + (2,)): the two flip biases, ascending, NaN where ``w`` has
        none (``w > -4`` for logistic, ``w > -1`` for tanh); ``x``
        (S + (2,)): the fixed point at each flip; ``w``; ``kind = "flip"``.

    Raises
    ------
    ValueError
        If ``w`` is empty or holds NaN or inf, or ``activation`` is not
        "logistic" or "tanh".
    TypeError
        If ``w`` is complex or not numeric.

    See Also
    --------
    period2_orbits : the 2-cycle itself, at any ``(w, b)``.
    fold_points : the saddle-node bifurcations for ``w > 0``.

    Notes
    -----
    The fixed point flips where its multiplier is -1:

    .. math:: w\,\sigma'(x^*) = -1,\qquad b = x^* - w\,\sigma(x^*),

    in closed form as for `fold_points` with ``w`` replaced by ``-w``.
    Between the two biases the fixed point is unstable (``lambda < -1``) and
    a stable period-2 orbit (`period2_orbits`) attracts; it grows from zero
    amplitude at each flip (supercritical, as the map has negative Schwarzian
    derivative).  Pascanu et al. (2013), Sec. 2.2: a bifurcation that changes
    the attractor without making the state jump.

    Examples
    --------
    >>> import dynrnn
    >>> flips = dynrnn.single_unit.flip_points(-5.0, activation="logistic")
    >>> flips.b.round(5).tolist(), flips.x.round(5).tolist()
    ([0.41954, 4.58046], [-0.96242, 0.96242])
    """
    return _bifurcations(w, activation, "flip")


def cusp(*, activation="tanh"):
    r"""The cusp of ``x -> w sigma(x) + b``: where the two fold curves meet.

    Parameters
    ----------
    activation : {"logistic", "tanh"}, default "tanh"
        The nonlinearity sigma.

    Returns
    -------
    SingleUnitCusp
        ``w``, ``b`` and the triple fixed point ``x`` there, as floats.

    Raises
    ------
    ValueError
        If ``activation`` is not "logistic" or "tanh".

    See Also
    --------
    fold_curve : the two fold curves that meet here.

    Notes
    -----
    The two folds ``w sigma'(x) = 1`` coincide where that equation has a
    double root in ``x``, i.e. where also ``sigma''(x) = 0``: at the
    inflection point ``x_c`` of sigma (logistic:
    ``sigma'' = sigma'(1 - 2 sigma)``; tanh: ``sigma'' = -2 tanh sigma'``).
    ``x_c`` is found by bisection on ``sigma''`` over [-1, 1] (``sigma - sigma(0)``
    is odd, so ``sigma''`` vanishes at the first midpoint, 0, exactly), then

    .. math:: w_c = 1/\sigma'(x_c),\qquad b_c = x_c - w_c\,\sigma(x_c),

    giving (4, -2) for logistic and (1, 0) for tanh (Pascanu et al. 2013,
    Sec. 2.2: the bistable wedge of Fig. 3 ends there).

    Examples
    --------
    >>> import dynrnn
    >>> c = dynrnn.single_unit.cusp(activation="logistic")
    >>> c.w, c.b, c.x
    (4.0, -2.0, 0.0)
    """
    _smooth(activation)
    act = _solve.activation(activation)
    x_c = _solve.inflection(activation)
    w_c = float(1.0 / act.dsigma(x_c))
    b_c = float(x_c - w_c * act.sigma(x_c))
    return SingleUnitCusp(w=w_c, b=b_c, x=x_c, activation=activation)


def fold_curve(w=None, *, activation="tanh", w_max=10.0, n=201):
    """The fold curve of ``x -> w sigma(x) + b`` in the ``(w, b)`` plane, both branches.

    Parameters
    ----------
    w : array_like, optional
        Weights at which to evaluate the folds.  By default ``n`` values from
        the cusp weight ``w_c`` to ``w_max``, clustered near the cusp (where
        the branches separate like ``(w - w_c)^(3/2)``).
    activation : {"logistic", "tanh"}, default "tanh"
        The nonlinearity sigma.
    w_max : float, default 10.0
        Largest default weight; must exceed ``w_c`` (4 logistic, 1 tanh).
    n : int, default 201
        Number of default weights, n >= 2.

    Returns
    -------
    SingleUnitBifurcations
        As `fold_points`; the first default weight is the cusp itself, where
        ``b[..., 0] == b[..., 1]``.

    Raises
    ------
    ValueError
        If ``activation`` is not "logistic" or "tanh", ``w`` is empty or not
        finite, ``w_max <= w_c`` or ``n < 2``.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    TypeError
        If ``w`` or ``w_max`` is not real-valued, or ``n`` is not an integer.

    See Also
    --------
    fold_points, cusp

    Notes
    -----
    Pascanu et al. (2013), Sec. 2.2: inside the wedge between the branches
    the unit is bistable, and crossing the curve makes an attractor appear or
    disappear (Doya's bifurcation).

    Examples
    --------
    >>> import dynrnn
    >>> curve = dynrnn.single_unit.fold_curve(activation="tanh", n=3, w_max=5.0)
    >>> curve.w.tolist(), curve.b[-1].round(4).tolist()
    ([1.0, 2.0, 5.0], [-3.0285, 3.0285])
    """
    _smooth(activation)
    if w is None:
        n = _validate.integer("n", n, minimum=2)
        _grid_limits("n", (n,), 14)
        w_max = _validate.finite_scalar("w_max", w_max)
        w_c = 1.0 / _gamma(activation)
        if w_max <= w_c:
            raise ValueError(f"w_max must exceed the cusp weight {w_c} for {activation!r}; got {w_max}")
        w = w_c + (w_max - w_c) * np.linspace(0.0, 1.0, n) ** 2
    return fold_points(w, activation=activation)

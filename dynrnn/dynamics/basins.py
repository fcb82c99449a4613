"""Basins of attraction: which attractor each initial state on a grid reaches.

Pascanu, Mikolov & Bengio (2013), Sec. 2.2: for fixed parameters, state space splits into the
basins of the map's attractors, and crossing a basin boundary is what makes a small change of the
state give a large change later.  `basins` iterates a 1-D or 2-D grid of initial states in one
`dynrnn.iterate_grid` call, detects the periodic orbit each one settles on, and clusters them.
"""

import numpy as np

from .. import _validate
from .._kernels.scalar import RANGE
from ..results import BasinResult
from .orbits import check_net, net_dtype, simulate

__all__ = ["basins"]

_DEFAULT_POINTS = 101  # per grid axis when grid is None


def basins(
    net,
    *,
    grid=None,
    dims=None,
    base_state=None,
    n_steps=1000,
    max_period=8,
    tol=1e-8,
    merge_tol=None,
    backend="cpu",
    dtype=None,
):
    r"""Label each initial state on a grid with the attractor its orbit reaches.

    Every grid point is iterated for ``n_steps`` steps (one `dynrnn.iterate_grid` call for the
    whole grid).  Its orbit has *settled* on a period-``p`` orbit when
    ``max |x_T - x_{T-p}| <= tol`` for the smallest such ``p <= max_period``.  Settled orbits whose
    Jacobian (of the ``p``-th iterate) has spectral radius < 1 are attractors; those within
    ``merge_tol`` of each other (up to a cyclic shift) are one attractor.

    Parameters
    ----------
    net : RNN
        The (autonomous) network; its activation, form and leak are kept.
    grid : array_like or pair of array_like, optional
        The coordinates of the initial states along ``dims``: one 1-D array for a 1-D grid, or
        ``(values_0, values_1)`` for the 2-D slice spanned by two state components.  By
        default 101 points per axis covering the box ``b + W_rec range(sigma)`` (paper form;
        ``range(sigma)`` itself in the standard form) that holds every attractor, widened by
        10%; required for the unbounded activations "relu" and "linear".
    dims : int or tuple of int, optional
        The state components spanned by the grid: ``(0,)`` for one unit, ``(0, 1)`` otherwise.
    base_state : array_like, shape (n,), optional
        The state whose other components are held fixed; zeros by default.
    n_steps : int, default 1000
        Number of steps T, >= ``max_period``.
    max_period : int, default 8
        Longest period detected, >= 1.
    tol : float, default 1e-8
        Settling tolerance on ``max |x_T - x_{T-p}|``, > 0.
    merge_tol : float, optional
        Distance (max-norm, up to a cyclic shift) within which two settled orbits are one
        attractor, > 0; ``sqrt(tol)`` by default.  A settled state is within about
        ``tol / (1 - rho)`` of its attractor (``rho`` the spectral radius), so the default
        merges orbits that contract at least as fast as ``1 - sqrt(tol)`` per period.  A period
        ``p`` is also reduced to a divisor ``q`` of it when ``max |x_T - x_{T-q}| <= merge_tol``
        (a slow, oscillating approach to a fixed point).
    backend : {"cpu", "cuda"}, default "cpu"
        Where to iterate.
    dtype : {numpy.float64, numpy.float32}, optional
        Floating-point type of the iteration; ``net.dtype`` by default.  In float32, ``tol``
        must exceed the rounding (about ``1e-7`` times the state).

    Returns
    -------
    BasinResult
        ``labels`` (grid shape ``(len(grid[0]),)`` or ``(len(grid[0]), len(grid[1]))``):
        the index of the attractor reached, -1 (``NOT_CONVERGED``) for none -- not settled,
        period above ``max_period``, or settled on an unstable orbit (a point exactly on a
        boundary) -- and -2 (``DIVERGED``); ``attractors`` (tuple of (p, n) arrays, sorted by
        period, then by their lexicographically smallest point, which comes first);
        ``period``; ``spectral_radius``; ``grid``; ``dims``; ``base_state``.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, a count or dimension is not an integer, or an array is
        complex or not numeric.
    ValueError
        If a grid axis is empty, not 1-D or not finite, ``grid`` does not match ``dims``,
        ``dims`` repeats or is out of range, ``base_state`` has the wrong shape or is not
        finite, ``max_period < 1``, ``n_steps < max_period``, ``tol`` or ``merge_tol`` is not
        a positive finite scalar, ``grid`` is None for "relu" or "linear", or ``backend`` or
        ``dtype`` is unknown.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    sensitivity : how a small change of the initial state grows across a boundary.
    orbit_diagram : the attractors as a parameter varies.
    dynrnn.single_unit.fixed_points : the exact fixed points of one unit.

    Notes
    -----
    The orbits follow eq. (2) of Pascanu et al. (2013) with ``u_t = 0``. A period-``p`` orbit
    ``x_1, ..., x_p`` attracts when the product of step Jacobians along it,

    .. math:: M = J(x_p) \cdots J(x_1),\qquad J(x) = W_{rec}\,\operatorname{diag}\sigma'(x)
              \ \text{(paper form)},

    has spectral radius below 1 (standard form: ``diag(sigma'(W_rec h + b)) W_rec``; a leak
    ``leak`` gives ``diag(leak) + diag(1 - leak) J``).  Between the basins lie the stable
    manifolds of unstable fixed points and orbits (Sec. 2.2; the middle fixed point of Fig. 3).
    Labels depend only on each point's own orbit, so they do not depend on the grid order or
    the backend (up to points within rounding of a boundary).

    Examples
    --------
    >>> import dynrnn
    >>> net = dynrnn.RNN([[5.0]], b=[-2.5], activation="logistic")
    >>> res = dynrnn.basins(net, grid=[-2.0, -0.5, 0.5, 2.0])
    >>> res.labels.tolist(), [a.round(5).tolist() for a in res.attractors]
    ([0, 0, 1, 1], [[[-1.77603]], [[1.77603]]])
    """
    net = check_net(net, "basins")
    dtype = net_dtype(dtype, net)
    n = net.n_units
    dims = _dims(dims, n)
    axes = _grid(grid, dims, net)
    if base_state is None:
        base = np.zeros(n, dtype=dtype)
    else:
        base = _validate.real_array("base_state", base_state, dtype).copy()
        if base.shape != (n,):
            raise ValueError(f"base_state must have shape (n,) with n = {n}; got {_validate.shape_str(base.shape)}")
    max_period = _validate.integer("max_period", max_period, minimum=1)
    n_steps = _validate.integer("n_steps", n_steps)
    if n_steps < max_period:
        raise ValueError(f"n_steps must be >= max_period = {max_period}; got {n_steps}")
    tol = _positive("tol", tol)
    merge_tol = np.sqrt(tol) if merge_tol is None else _positive("merge_tol", merge_tol)
    points = int(np.prod([a.size for a in axes], dtype=object))
    nbytes = points * (n * (2 * max_period + 5) + 3 * max_period + len(dims) + 8) * 8
    _validate.memory("grid", nbytes, f"a grid of {points} points with max_period = {max_period}")

    shape = tuple(a.size for a in axes)
    mesh = np.meshgrid(*axes, indexing="ij")
    x0 = np.repeat(base[None], mesh[0].size, axis=0)
    for d, coords in zip(dims, mesh, strict=True):
        x0[:, d] = coords.ravel()
    res = simulate(net, net.W_rec, net.b, x0, n_steps, max_period + 1, backend, dtype)

    labels, attractors = _identify(net, res.x.astype(np.float64), res.diverged, max_period, tol, merge_tol)
    return BasinResult(
        labels=labels.reshape(shape),
        attractors=tuple(a.astype(dtype) for a in attractors),
        period=np.array([a.shape[0] for a in attractors], dtype=np.int64),
        spectral_radius=np.array([_spectral_radius(net, a[None])[0] for a in attractors], dtype=np.float64),
        grid=tuple(a.astype(dtype) for a in axes),
        dims=dims,
        base_state=base,
    )


def _identify(net, x, diverged, max_period, tol, merge_tol):
    """Labels (G,) and attractor orbits from the last ``max_period + 1`` states ``x`` (G, P + 1, n)."""
    G, P = x.shape[0], max_period
    last = x[:, -1]
    with np.errstate(invalid="ignore"):
        defect = np.stack([np.max(np.abs(last - x[:, -1 - p]), axis=-1) for p in range(1, P + 1)], axis=1)
        settled = (defect <= tol) & ~diverged[:, None]  # NaN compares False
        period = np.where(settled.any(axis=1), settled.argmax(axis=1) + 1, 0)
        for p in range(2, P + 1):  # an oscillating approach to a shorter orbit
            todo = period == p
            for q in range(1, p):
                if p % q == 0:
                    shorter = todo & (defect[:, q - 1] <= merge_tol)
                    period[shorter] = q
                    todo &= ~shorter
    labels = np.full(G, BasinResult.NOT_CONVERGED, dtype=np.int64)
    labels[diverged] = BasinResult.DIVERGED
    found = []  # (period, canonical orbit, member indices)
    for p in range(1, P + 1):
        idx = np.flatnonzero(period == p)
        if idx.size == 0:
            continue
        orbits = x[idx, P + 1 - p :]
        stable = _spectral_radius(net, orbits) < 1.0
        idx, orbits = idx[stable], orbits[stable]
        for members, best in _cluster(orbits, defect[idx, p - 1], merge_tol):
            found.append((p, _canonical(orbits[best]), idx[members]))
    found.sort(key=lambda item: (item[0], tuple(item[1][0])))
    for k, (_, _, members) in enumerate(found):
        labels[members] = k
    return labels, [orbit for _, orbit, _ in found]


def _cluster(orbits, defect, merge_tol):
    """Greedy clusters of (M, p, n) orbits within ``merge_tol`` of a leader, up to a cyclic shift.

    Yields ``(member positions, position of the best-settled member)`` per cluster.
    """
    remaining = np.arange(orbits.shape[0])
    while remaining.size:
        leader = orbits[remaining[0]]
        dist = np.full(remaining.size, np.inf)
        for shift in range(orbits.shape[1]):
            diff = np.abs(orbits[remaining] - np.roll(leader, shift, axis=0))
            dist = np.minimum(dist, diff.max(axis=(1, 2)))
        near = dist <= merge_tol
        members = remaining[near]
        yield members, members[np.argmin(defect[members])]
        remaining = remaining[~near]


def _canonical(orbit):
    """Rotate a (p, n) orbit to start at its lexicographically smallest point."""
    first = np.lexsort(orbit.T[::-1])[0]
    return np.roll(orbit, -first, axis=0)


def _spectral_radius(net, orbits):
    """Spectral radius of the Jacobian of the p-th iterate along each (M, p, n) orbit (in time order)."""
    from .._kernels import cpu

    M, p, n = orbits.shape
    product = np.broadcast_to(np.eye(n), (M, n, n))
    for t in range(p):
        J = cpu.step_jacobians(
            net.activation, net.W_rec, None, net.b, net.leak, orbits[:, t], None, net.form == "paper"
        )[3]
        product = J @ product
    return np.max(np.abs(np.linalg.eigvals(product)), axis=-1)


def _dims(dims, n):
    if dims is None:
        return (0,) if n == 1 else (0, 1)
    if not isinstance(dims, (tuple, list)):
        dims = (dims,)
    if len(dims) not in (1, 2):
        raise ValueError(f"dims must be an int or a tuple of one or two ints; got {dims!r}")
    dims = tuple(_validate.integer("dims", d, minimum=0, maximum=n - 1) for d in dims)
    if len(set(dims)) != len(dims):
        raise ValueError(f"dims must be distinct; got {dims}")
    return dims


def _grid(grid, dims, net):
    """The grid axes along ``dims``, as a tuple of non-empty finite 1-D float64 arrays."""
    if grid is None:
        return tuple(np.linspace(*_default_window(net, d), _DEFAULT_POINTS) for d in dims)
    if len(dims) == 1:
        axes = (grid,)
    elif (isinstance(grid, (tuple, list)) and len(grid) == 2) or (
        isinstance(grid, np.ndarray) and grid.shape[:1] == (2,)
    ):
        axes = tuple(grid)
    else:
        raise ValueError(
            f"grid must be a pair (values along dim {dims[0]}, values along dim {dims[1]}) for a 2-D slice; "
            f"pass dims=k for a 1-D grid along component k; got {type(grid).__name__}"
        )
    checked = []
    for k, axis in enumerate(axes):
        name = "grid" if len(dims) == 1 else f"grid[{k}]"
        arr = _validate.real_array(name, axis, np.float64)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got shape {_validate.shape_str(arr.shape)}")
        if arr.size == 0:
            raise ValueError(f"{name} must hold at least one point; got an empty array")
        checked.append(arr.copy())
    return tuple(checked)


def _default_window(net, d):
    """``(low, high)`` for component ``d``: the box holding every attractor, widened by 10%."""
    if RANGE[net.activation] is None:
        raise ValueError(
            f"grid must be given for activation {net.activation!r} (unbounded, so there is no default window)"
        )
    s_lo, s_hi = RANGE[net.activation]
    if net.form == "paper":
        w = net.W_rec[d].astype(np.float64)
        low = net.b[d] + np.sum(np.minimum(w * s_lo, w * s_hi))
        high = net.b[d] + np.sum(np.maximum(w * s_lo, w * s_hi))
    else:
        low, high = s_lo, s_hi
    pad = 0.1 * (high - low) if high > low else 0.5
    return float(low - pad), float(high + pad)


def _positive(name, value):
    arr = _validate.real_array(name, value, np.float64)
    if arr.ndim != 0 or not arr > 0:
        raise ValueError(f"{name} must be a positive scalar; got {value!r}")
    return float(arr)

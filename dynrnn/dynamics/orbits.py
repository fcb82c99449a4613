"""Orbit diagrams and the sensitivity of orbits to their initial state.

Pascanu, Mikolov & Bengio (2013), Sec. 2.2: iterating an autonomous map from ``x_0`` converges to
an attractor, and as a parameter varies the attractors move, appear and disappear (Fig. 3).  Near
a basin boundary a tiny change of ``x_0`` sends the state to another attractor: a large change of
``x_t`` (Figs. 4 and 5).  Both are brute force on top of `dynrnn.iterate_grid`: one call over
every (parameter value, start) pair or every (start, perturbed start) pair, on the CPU or a GPU.
The helpers at the bottom are shared with ``basins.py``.
"""

import numbers

import numpy as np

from .. import _validate
from ..maps.gated import require_rnn
from ..maps.iterate import iterate_grid
from ..results import OrbitDiagramResult, SensitivityResult

__all__ = ["orbit_diagram", "sensitivity"]

PARAMETERS = ("b", "W_rec", "u", "gain")


def orbit_diagram(
    net,
    parameter,
    values,
    *,
    n_starts=16,
    x0=None,
    x0_range=(-10.0, 10.0),
    n_transient=500,
    n_keep=16,
    rng=None,
    backend="cpu",
    dtype=None,
):
    r"""Brute-force orbit diagram: the late states of many orbits against a swept parameter.

    For every value of one scalar parameter of ``net``, iterate every initial state for
    ``n_transient + n_keep`` steps and keep the last ``n_keep`` states.  All (value, start)
    pairs run in one `dynrnn.iterate_grid` call.  Plotting the kept states against the values
    shows the attractors (fixed points as single points, period-p orbits as p points, chaos as
    a smear) and where they appear, vanish or split: the bifurcation diagram of Fig. 3.

    Parameters
    ----------
    net : RNN
        The network; its activation, form and leak are kept.  Inputs enter only through
        ``("u", k)``.
    parameter : str or tuple
        The swept parameter: ``("b", i)`` (bias ``b[i]`` set to each value), ``("W_rec", i, j)``
        (weight ``W_rec[i, j]`` set to each value), ``("u", k)`` (a constant input
        ``u_k = value``, i.e. ``b + W_in[:, k] * value``) or ``"gain"`` (``value * W_rec``).  A
        bare name is accepted where the index is unambiguous (``"b"`` for one unit).
    values : array_like, shape (n_values,)
        The parameter values.
    n_starts : int, default 16
        Number of random initial states, drawn uniformly from ``x0_range``.
    x0 : array_like, shape (k, n) or (n,), optional
        Explicit initial states, used before the random ones (for one unit also shape (k,)).
    x0_range : array_like, shape (2,) or (2, n), default (-10.0, 10.0)
        ``(low, high)`` of the uniform draw, shared by the units or per unit.
    n_transient : int, default 500
        Steps discarded before keeping states, >= 0.
    n_keep : int, default 16
        States kept per orbit, >= 1: ``x_{n_transient+1} ... x_{n_transient+n_keep}``.
    rng : None, int or numpy.random.Generator, optional
        The source of randomness; an int seeds ``numpy.random.default_rng``.  The starts are its first draw,
        ``rng.uniform(low, high, size=(n_starts, n))``, shared by every value.
    backend : {"cpu", "cuda"}, default "cpu"
        Where to iterate.
    dtype : {numpy.float64, numpy.float32}, optional
        Floating-point type of the computation; ``net.dtype`` by default.

    Returns
    -------
    OrbitDiagramResult
        ``values``; ``x`` (n_values, n_starts_total, n_keep, n); ``diverged``
        (n_values, n_starts_total); ``x0`` (the starts, explicit first); ``parameter`` as a
        tuple, e.g. ``("b", 0)`` or ``("gain",)``; ``n_transient``.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, ``parameter`` is neither a string nor a tuple starting with
        one, an index or count is not an integer, an array is complex or not numeric, or
        ``rng`` is not None, an int or a Generator.
    ValueError
        If the parameter name is unknown, an index is missing or out of range, ``("u", k)`` is
        asked of a network without inputs, ``values`` is empty, not 1-D or not finite,
        ``x0`` or ``x0_range`` has the wrong shape or is not finite, ``low > high``, there is no
        start at all, a count is negative (``n_keep < 1``), or ``backend`` or ``dtype`` is
        unknown.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    dynrnn.iterate_grid : the iteration underneath.
    dynrnn.single_unit.fixed_points : the exact fixed points of one unit.
    basins : which attractor each initial state reaches.

    Notes
    -----
    Each orbit follows eq. (2) of Pascanu et al. (2013) with a constant input,

    .. math:: x_t = W_{rec}\,\sigma(x_{t-1}) + W_{in} u + b,

    for fixed parameters, so that it settles on an attractor (Sec. 2.2).  Several random
    starts per value are needed to see coexisting attractors (the bistable range of Fig. 3).
    Diverged orbits are flagged, not raised.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.RNN([[5.0]], b=[0.0], activation="logistic")
    >>> res = dynrnn.orbit_diagram(net, ("b", 0), [-2.5], x0=[-3.0, 3.0], n_starts=0)
    >>> np.round(res.x[0, :, -1, 0], 5).tolist()
    [-1.77603, 1.77603]
    """
    net = check_net(net, "orbit_diagram")
    dtype = net_dtype(dtype, net)
    n = net.n_units
    spec = _parameter(parameter, net)
    values = _validate.real_array("values", values, dtype)
    if values.ndim > 1:
        raise ValueError(f"values must be 1-D; got shape {_validate.shape_str(values.shape)}")
    values = values.reshape(-1).copy()
    if values.size == 0:
        raise ValueError("values must hold at least one parameter value; got an empty array")
    n_starts = _validate.integer("n_starts", n_starts, minimum=0)
    n_transient = _validate.integer("n_transient", n_transient, minimum=0)
    n_keep = _validate.integer("n_keep", n_keep, minimum=1)
    low, high = _range("x0_range", x0_range, n)
    explicit = np.empty((0, n), dtype=dtype) if x0 is None else states("x0", x0, n, dtype)
    if explicit.shape[0] + n_starts == 0:
        raise ValueError("n_starts must be >= 1 when no x0 is given; got 0")
    S, V = explicit.shape[0] + n_starts, values.size
    _validate.memory(
        "n_starts, n_keep or values",
        V * S * (n * n + n * (n_keep + 8)) * dtype.itemsize,
        f"{V} values x {S} starts, keeping {n_keep} states",
    )
    units = V * S * (n_transient + n_keep) * n * n
    _validate.work("n_transient, n_keep, n_starts or values", units, f"{V * S} orbits of {n_transient + n_keep} steps")
    rng = _validate.rng("rng", rng)
    drawn = rng.uniform(low, high, size=(n_starts, n)).astype(dtype)
    starts = np.concatenate([explicit, drawn])

    W_rec, b = _swept(net, spec, values.astype(np.float64), dtype)
    if W_rec.ndim == 3:
        W_rec = np.repeat(W_rec, S, axis=0)
    if b.ndim == 2:
        b = np.repeat(b, S, axis=0)
    res = simulate(net, W_rec, b, np.tile(starts, (V, 1)), n_transient + n_keep, n_keep, backend, dtype)
    return OrbitDiagramResult(
        values=values,
        x=res.x.reshape(V, S, n_keep, n),
        diverged=res.diverged.reshape(V, S),
        x0=starts,
        parameter=spec,
        n_transient=n_transient,
    )


def sensitivity(net, x0, *, delta, n_steps, direction=None, backend="cpu", dtype=None):
    r"""How far a perturbation of size ``delta`` of the initial state has grown after t steps.

    Iterates every ``x0`` and ``x0 + delta * direction`` side by side for ``n_steps`` steps (one
    `dynrnn.iterate_grid` call) and returns ``||x_t(x0 + delta direction) - x_t(x0)||`` for
    every ``t``.  Away from basin boundaries the two orbits reach the same attractor and the
    distance shrinks; for an ``x0`` within ``delta`` of a boundary they part and reach different
    attractors, however small ``delta`` is: Figs. 4 and 5 of Pascanu et al. (2013), made
    quantitative.

    Parameters
    ----------
    net : RNN
        The (autonomous) network; its activation, form and leak are kept.
    x0 : array_like, shape (K, n) or (n,)
        The initial states to scan; for one unit also shape (K,).
    delta : float
        Size of the perturbation, > 0.  In float32 it must exceed the spacing of the numbers
        near ``x0`` (about ``1e-7 |x0|``) to change the start at all.
    n_steps : int
        Number of steps T >= 1.
    direction : array_like, shape (n,) or (K, n), optional
        Perturbation direction, normalised to unit length; ``(1, ..., 1) / sqrt(n)`` by default.
    backend : {"cpu", "cuda"}, default "cpu"
        Where to iterate.
    dtype : {numpy.float64, numpy.float32}, optional
        Floating-point type of the computation; ``net.dtype`` by default.

    Returns
    -------
    SensitivityResult
        ``x0`` (K, n); ``direction`` (K, n); ``delta``; the orbits ``x`` and ``x_perturbed``
        (K, T + 1, n); ``distance`` (K, T + 1), whose column 0 is ``delta`` up to the rounding
        of ``x0 + delta direction``; ``diverged`` (K,); the property ``amplification``.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, ``n_steps`` is not an integer, or an array is complex or
        not numeric.
    ValueError
        If ``x0`` or ``direction`` has the wrong shape, is empty or not finite, ``direction``
        is zero, ``delta`` is not a positive finite scalar, ``n_steps < 1``, or ``backend`` or
        ``dtype`` is unknown.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    basins : the basin boundaries where the distance grows.
    dynrnn.single_unit.iterate_tangents : the derivative ``d x_t / d b`` along orbits.

    Notes
    -----
    With ``F`` the map of eq. (2) with ``u_t = 0``, the distance is

    .. math:: \Delta x_t = \lVert F^t(x_0 + \delta\,d) - F^t(x_0) \rVert_2
              \approx \delta\,\lVert \tfrac{\partial x_t}{\partial x_0}\, d \rVert_2,

    the linearisation holding while ``Delta x_t`` stays small.  Near an unstable fixed point
    (the boundary of two basins, Sec. 2.2) ``Delta x_t`` first grows geometrically, by the
    unstable multiplier per step, and then saturates at the distance between the two
    attractors: a small ``Delta x_0`` gives a large ``Delta x_t`` (Figs. 4-5).

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.RNN([[5.0]], b=[-2.5], activation="logistic")
    >>> res = dynrnn.sensitivity(net, [-1e-9, 2.0], delta=1e-8, n_steps=200)
    >>> np.round(res.distance[:, -1], 5).tolist()   # across the boundary at 0, and far from it
    [3.55206, 0.0]
    """
    net = check_net(net, "sensitivity")
    dtype = net_dtype(dtype, net)
    n = net.n_units
    x0 = states("x0", x0, n, dtype).copy()
    K = x0.shape[0]
    delta_arr = _validate.real_array("delta", delta, np.float64)
    if delta_arr.ndim != 0 or not delta_arr > 0:
        raise ValueError(f"delta must be a positive scalar; got {delta!r}")
    delta = float(delta_arr)
    n_steps = _validate.integer("n_steps", n_steps, minimum=1)
    nbytes = 2 * K * (n_steps + 1) * n * (dtype.itemsize + 8)
    _validate.memory("n_steps", nbytes, f"{2 * K} trajectories of {n_steps} steps")
    if direction is None:
        d = np.full((K, n), 1.0 / np.sqrt(n))
    else:
        d = _validate.real_array("direction", direction, np.float64)
        if d.shape not in ((n,), (K, n)):
            raise ValueError(
                f"direction must have shape (n,) or (K, n) with n = {n}, K = {K}; got {_validate.shape_str(d.shape)}"
            )
        norm = np.linalg.norm(d, axis=-1, keepdims=True)
        if np.any(norm == 0):
            raise ValueError("direction must be non-zero; got a zero vector")
        d = np.broadcast_to(d / norm, (K, n)).copy()
    with np.errstate(over="ignore", invalid="ignore"):
        perturbed = (x0 + delta * d).astype(dtype)
    if not np.all(np.isfinite(perturbed)):
        raise ValueError(
            f"delta too large: x0 + delta * direction overflows {np.dtype(dtype)} (delta = {delta}); "
            "choose a smaller delta"
        )
    starts = np.concatenate([x0, perturbed])
    res = simulate(net, net.W_rec, net.b, starts, n_steps, n_steps + 1, backend, dtype)
    x, x_perturbed = res.x[:K], res.x[K:]
    with np.errstate(invalid="ignore", over="ignore"):
        distance = np.linalg.norm(x_perturbed - x, axis=-1)
    return SensitivityResult(
        x0=x0,
        direction=d.astype(dtype),
        delta=delta,
        x=x,
        x_perturbed=x_perturbed,
        distance=distance,
        diverged=res.diverged[:K] | res.diverged[K:],
    )


# ---------------------------------------------------------------------------
# Helpers, shared with basins.py
# ---------------------------------------------------------------------------
def check_net(net, function):
    """Return ``net`` if it is an `RNN`, else raise TypeError (naming ``function`` for a gated cell)."""
    return require_rnn(net, function)


def net_dtype(dtype, net):
    """``net.dtype`` for None, else the validated dtype."""
    return net.dtype if dtype is None else _validate.float_dtype("dtype", dtype)


def states(name, value, n, dtype):
    """Initial states as a (K, n) array: from (K, n), (n,) or, for one unit, (K,)."""
    arr = _validate.real_array(name, value, dtype)
    if arr.ndim == 1 and arr.shape[0] == n:
        arr = arr.reshape(1, n)
    elif n == 1 and arr.ndim <= 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != n:
        extra = " or (K,) for one unit" if n == 1 else ""
        raise ValueError(
            f"{name} must have shape (K, n) or (n,){extra} with n = {n}; got {_validate.shape_str(arr.shape)}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one state; got shape {_validate.shape_str(arr.shape)}")
    return arr


def simulate(net, W_rec, b, x0, n_steps, n_keep, backend, dtype):
    """`iterate_grid` with ``net``'s activation, form and leak.

    ``W_rec`` (n, n) or (G, n, n), ``b`` (n,) or (G, n), ``x0`` (G, n).  `iterate_grid` itself
    sends one-unit grids to the vectorised single-unit kernel and copies read-only arrays.
    """
    kw = dict(activation=net.activation, form=net.form, leak=net.leak, n_keep=n_keep, backend=backend, dtype=dtype)
    return iterate_grid(W_rec, b, x0, n_steps=n_steps, **kw)


def _range(name, value, n):
    """``(low, high)`` from shape (2,) or (2, n), with low <= high."""
    arr = _validate.real_array(name, value, np.float64)
    if arr.shape not in ((2,), (2, n)):
        raise ValueError(f"{name} must have shape (2,) or (2, n) with n = {n}; got {_validate.shape_str(arr.shape)}")
    if np.any(arr[0] > arr[1]):
        raise ValueError(f"{name} must be (low, high) with low <= high; got {arr.tolist()}")
    with np.errstate(over="ignore"):
        width = arr[1] - arr[0]
    if not np.all(np.isfinite(width)):
        raise ValueError(f"{name} must have a finite width high - low (it overflows); got {arr.tolist()}")
    return arr[0], arr[1]


def _parameter(parameter, net):
    """Normalise a parameter spec to ``("b", i)``, ``("W_rec", i, j)``, ``("u", k)`` or ``("gain",)``."""
    if isinstance(parameter, str):
        name, index = parameter, ()
    elif isinstance(parameter, tuple) and parameter and isinstance(parameter[0], str):
        name, index = parameter[0], parameter[1:]
    else:
        raise TypeError(f"parameter must be 'gain' or a tuple ('b', i), ('W_rec', i, j) or ('u', k); got {parameter!r}")
    if name not in PARAMETERS:
        valid = ", ".join(repr(p) for p in PARAMETERS)
        raise ValueError(f"parameter must name one of {valid}; got {parameter!r}")
    n, m = net.n_units, net.n_inputs
    if name == "u" and m == 0:
        raise ValueError(f"parameter {parameter!r} needs a network with inputs (W_in); net has none")
    sizes = {"b": (n,), "W_rec": (n, n), "u": (m,), "gain": ()}[name]
    if not index and all(size == 1 for size in sizes):
        index = (0,) * len(sizes)  # a bare name where the index is unambiguous
    if len(index) != len(sizes):
        form = {"b": "('b', i)", "W_rec": "('W_rec', i, j)", "u": "('u', k)", "gain": "'gain'"}[name]
        raise ValueError(f"parameter must be {form} with {len(sizes)} index(es); got {parameter!r}")
    checked = []
    for i, size in zip(index, sizes, strict=True):
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral):
            raise TypeError(f"parameter indices must be integers; got {type(i).__name__} {i!r} in {parameter!r}")
        if not 0 <= i < size:
            raise ValueError(f"parameter index {int(i)} in {parameter!r} is out of range: must be in [0, {size})")
        checked.append(int(i))
    return (name, *checked)


def _swept(net, spec, values, dtype):
    """``W_rec`` ((n, n) or (V, n, n)) and ``b`` ((n,) or (V, n)) for each swept value."""
    name = spec[0]
    W_rec, b = net.W_rec.astype(np.float64), net.b.astype(np.float64)
    V = values.size
    if name == "b":
        b = np.repeat(b[None], V, axis=0)
        b[:, spec[1]] = values
    elif name == "u":
        with np.errstate(over="ignore", invalid="ignore"):
            b = b[None] + values[:, None] * net.W_in[:, spec[1]].astype(np.float64)[None]
    elif name == "W_rec":
        W_rec = np.repeat(W_rec[None], V, axis=0)
        W_rec[:, spec[1], spec[2]] = values
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            W_rec = values[:, None, None] * W_rec[None]
    with np.errstate(over="ignore", invalid="ignore"):
        W_rec, b = W_rec.astype(dtype), b.astype(dtype)
    if not (np.all(np.isfinite(W_rec)) and np.all(np.isfinite(b))):
        raise ValueError(
            f"values must keep the swept parameter {spec!r} finite: the network's weights overflow "
            f"{np.dtype(dtype)} for some value in [{values.min()}, {values.max()}]"
        )
    return W_rec, b

"""Iterate RNN maps: one network along a trajectory, or many at once on a grid."""

import numpy as np

from .. import _backend, _validate
from .._kernels.scalar import ACTIVATIONS, FORMS
from ..results import OrbitResult
from . import _chunks
from .gated import is_gated
from .model import RNN

__all__ = ["iterate", "iterate_grid"]


def iterate(net, x0, inputs=None, *, n_steps=None):
    r"""Iterate one network from ``x0`` and return its whole trajectory.

    Parameters
    ----------
    net : RNN, GRU or LSTM
        The network.
    x0 : array_like, shape (n,)
        Initial state (of length ``net.state_size`` for a `GRU`, n, or an
        `LSTM`, 2n: ``(h_0, c_0)`` stacked).
    inputs : array_like, shape (T, m), optional
        Input sequence ``u_1 ... u_T`` (row ``t - 1`` drives step ``t``); the
        network must have ``W_in`` with m columns.
    n_steps : int, optional
        Number of steps T >= 1.  Required when ``inputs`` is None; when both
        are given they must agree.

    Returns
    -------
    ndarray, shape (T + 1, n)
        ``x_0, x_1, ..., x_T`` in ``net.dtype`` (rows of length 2n,
        ``(h_t, c_t)``, for an `LSTM`).  If a state becomes
        non-finite it is kept as computed and every later row is NaN (see
        `iterate_grid` for a divergence flag).

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, `GRU` or `LSTM`, ``n_steps`` is not an integer, or an array
        is complex or not numeric.
    ValueError
        If a shape disagrees, ``x0`` or ``inputs`` holds NaN or inf,
        ``n_steps < 1``, or neither ``n_steps`` nor ``inputs`` is given.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.

    See Also
    --------
    iterate_grid : many independent maps at once, on the CPU or a GPU.

    Notes
    -----
    Pascanu et al. (2013), eq. (2), in the form chosen by ``net.form``:

    .. math:: x_t = W_{rec}\,\sigma(x_{t-1}) + W_{in} u_t + b

    A `GRU` or an `LSTM` steps by the equations of ``torch.nn.GRU`` and
    ``torch.nn.LSTM`` (see the classes), from ``dynrnn/cells/gru.py`` and
    ``dynrnn/cells/lstm.py``.

    Examples
    --------
    >>> import dynrnn
    >>> net = dynrnn.RNN(W_rec=[[0.5]], activation="linear")
    >>> dynrnn.iterate(net, [1.0], n_steps=3).ravel().tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    x0, inputs, W_in, n_steps, driven = trajectory_arguments(net, x0, n_steps, inputs)
    if is_gated(net):
        return _iterate_gated(net, x0, inputs, W_in, n_steps, driven)
    n, dtype = net.n_units, net.dtype
    leaky = net.leak is not None
    leak = net.leak.reshape(1, n).copy() if leaky else np.zeros((1, n), dtype=dtype)
    out = np.empty((1, n_steps + 1, n), dtype=dtype)
    diverged_at = np.empty(1, dtype=np.int64)
    _chunks.orbits(
        _backend.get("cpu"),
        net.activation,
        net.W_rec.reshape(1, n, n).copy(),
        W_in,
        net.b.reshape(1, n).copy(),
        leak,
        x0.reshape(1, n),
        inputs,
        n_steps,
        net.form == "paper",
        leaky,
        driven,
        out,
        diverged_at,
    )
    return out[0]


def _iterate_gated(net, x0, inputs, W_ih, n_steps, driven):
    """`iterate` for a `GRU` or an `LSTM`: the orbit kernel of ``_kernels/gated.py``, over chunks of steps."""
    from .._kernels import gated as kernels  # imports Numba: never at `import dynrnn`

    N, rows = net.state_size, net.W_hh.shape[0]
    out = np.empty((1, n_steps + 1, N), dtype=net.dtype)
    diverged_at = np.empty(1, dtype=np.int64)
    W_hh, b_ih, b_hh = (
        net.W_hh.reshape(1, rows, net.n_units).copy(),
        net.b_ih.reshape(1, rows).copy(),
        net.b_hh.reshape(1, rows).copy(),
    )
    x0 = x0.reshape(1, N)
    _chunks.orbits(
        kernels, net.cell, W_hh, W_ih, b_ih, b_hh, x0, inputs, n_steps, False, False, driven, out, diverged_at
    )
    return out[0]


def trajectory_arguments(net, x0, n_steps, inputs, *, step_bytes=0, step_work=0, check=None):
    """Check the arguments of one trajectory (`iterate`'s rules) and lay them out for the kernels.

    Returns ``(x0, inputs, W_in, n_steps, driven)``: ``x0`` of shape (n,),
    ``inputs`` (T, m) and ``W_in`` writable C-contiguous copies (Numba
    compiles read-only arrays separately), with a zero column standing in
    for both when the network is autonomous.  Shared by `iterate`,
    `jacobian_products` and `lyapunov_spectrum`.  For a `GRU` or an `LSTM`,
    n is ``net.state_size`` and ``W_in`` is ``W_ih`` (kn, m).

    Before allocating, refuses (ValueError naming ``n_steps``) a trajectory
    whose memory, ``(T + 1) n + T m`` numbers plus ``step_bytes`` per step,
    exceeds the available memory, or whose work, ``T (n^2 + n m)`` plus
    ``step_work`` per step, exceeds ``_config.MAX_WORK``; ``check(T)``, when
    given, may refuse more.
    """
    gated = is_gated(net)
    if not (gated or isinstance(net, RNN)):
        raise TypeError(f"net must be a dynrnn.RNN, GRU or LSTM; got {type(net).__name__}")
    n, m, dtype = (net.state_size if gated else net.n_units), net.n_inputs, net.dtype
    x0 = _validate.real_array("x0", x0, dtype)
    if x0.shape != (n,):
        if not gated:
            raise ValueError(f"x0 must have shape (n,) with n = {n}; got {_validate.shape_str(x0.shape)}")
        state = "(h, c) stacked, 2n" if net.cell == "lstm" else "h, n"
        raise ValueError(
            f"x0 must have shape (state_size,) with state_size = {n} (the {type(net).__name__}'s state: {state}); "
            f"got {_validate.shape_str(x0.shape)}"
        )
    rows = net.W_hh.shape[0] if gated else n  # the rows of W_in (kn for k gates)
    step_cost = rows * (net.n_units + m) if gated else n * n + n * m  # multiply-adds of one step

    def limits(T, name):
        size = dtype.itemsize
        _validate.memory(name, (T + 1) * n * size + T * max(m, 1) * size + T * step_bytes, f"a trajectory of {T} steps")
        _validate.work(name, T * (step_cost + step_work), f"a trajectory of {T} steps")
        if check is not None:
            check(T)

    if inputs is None:
        if n_steps is None:
            raise ValueError("n_steps must be given when inputs is None; got neither")
        n_steps = _validate.integer("n_steps", n_steps, minimum=1)
        limits(n_steps, "n_steps")
        return x0, np.zeros((n_steps, 1), dtype=dtype), np.zeros((rows, 1), dtype=dtype), n_steps, False
    inputs = _validate.real_array("inputs", inputs, dtype)
    if inputs.ndim != 2 or inputs.shape[1] != m or inputs.shape[0] < 1:
        raise ValueError(
            f"inputs must have shape (T, m) with T >= 1 and m = {m} (the columns of {'W_ih' if gated else 'W_in'}); "
            f"got {_validate.shape_str(inputs.shape)}"
        )
    if n_steps is not None and _validate.integer("n_steps", n_steps, minimum=1) != inputs.shape[0]:
        raise ValueError(f"n_steps must equal len(inputs) = {inputs.shape[0]}; got {n_steps}")
    limits(inputs.shape[0], "inputs (its length)")
    return x0, inputs, (net.W_ih if gated else net.W_in).copy(), inputs.shape[0], True


def iterate_grid(
    W_rec, b, x0, *, n_steps, activation="tanh", form="paper", leak=None, n_keep=1, backend="cpu", dtype=np.float64
):
    r"""Iterate G independent autonomous RNN maps and keep their last states.

    Each grid point ``g`` has its own ``W_rec``, ``b`` and ``x0`` (or shares
    one); the maps run in parallel on the CPU (Numba, one thread per block of
    grid points) or on a CUDA GPU (one thread per grid point).

    Parameters
    ----------
    W_rec : array_like, shape (G, n, n) or (n, n); or scalar or (G,) for one unit
        Recurrent weights per grid point, or shared.  A scalar or 1-D
        ``W_rec`` means a single-unit grid (n = 1): then ``b``, ``x0`` and
        ``leak`` are scalars or 1-D arrays of length G.
    b : array_like, shape (G, n) or (n,)
        Biases per grid point, or shared.
    x0 : array_like, shape (G, n) or (n,)
        Initial states per grid point, or shared.
    n_steps : int
        Number of steps T >= 1.
    activation : {"logistic", "tanh", "relu", "linear"}, default "tanh"
        The nonlinearity sigma.
    form : {"paper", "standard"}, default "paper"
        ``x_t = W_rec sigma(x_{t-1}) + b`` (eq. 2) or ``h_t = sigma(W_rec h_{t-1} + b)``.
    leak : float or array_like of shape (n,) or (G, n), optional
        The leak in [0, 1]: ``x_t = leak x_{t-1} + (1 - leak) F(x_{t-1})``.
    n_keep : int, default 1
        How many final states to keep, 1 <= n_keep <= T + 1.
    backend : {"cpu", "cuda"}, default "cpu"
        Where to compute.  "cuda" imports numba.cuda on first use.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the computation and of the result.

    Returns
    -------
    OrbitResult
        ``x`` of shape (G, n_keep, n): the states ``x_{T-n_keep+1} ... x_T``;
        ``diverged`` (G,): True where a state became non-finite (inf or NaN);
        ``diverged_at`` (G,): the step of the first non-finite state, or -1.
        The first non-finite state is kept as computed and every later kept
        state is NaN.  Divergence is a result, never an exception.

    Raises
    ------
    ValueError
        If a shape is wrong or grid sizes disagree, a parameter or ``x0``
        holds NaN or inf, ``n_steps < 1``, ``n_keep`` is out of range, ``leak``
        is outside [0, 1], or ``activation``, ``form``, ``backend`` or
        ``dtype`` is unknown.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    TypeError
        If an array is complex or not numeric, or a count is not an integer;
        also if ``W_rec`` is a `GRU` or an `LSTM` (RNN maps only).
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    iterate : one network, whole trajectory, with inputs.

    Notes
    -----
    Pascanu et al. (2013), eq. (2) with ``u_t = 0``:

    .. math:: x_t = W_{rec}\,\sigma(x_{t-1}) + b

    On the CPU, single-unit grids run through a kernel that iterates blocks of
    grid points together so that the loop over grid points is vectorised.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> res = dynrnn.iterate_grid(5.0, [-2.5, -2.5], [-3.0, 3.0], n_steps=200, activation="logistic")
    >>> np.round(res.x[:, -1, 0], 5).tolist()   # two attractors of the bistable map
    [-1.77603, 1.77603]
    """
    if is_gated(W_rec):
        raise TypeError(
            f"iterate_grid supports RNN only (the arrays W_rec, b of G RNN maps); got {type(W_rec).__name__} "
            f"(iterate a gated cell with dynrnn.iterate)"
        )
    dtype = _validate.float_dtype("dtype", dtype)
    _validate.choice("activation", activation, ACTIVATIONS)
    _validate.choice("form", form, FORMS)
    n_steps = _validate.integer("n_steps", n_steps, minimum=1)
    n_keep = _validate.integer("n_keep", n_keep, minimum=1, maximum=n_steps + 1)
    kernels = _backend.get(backend)
    W_rec = _validate.real_array("W_rec", W_rec, dtype)
    b = _validate.real_array("b", b, dtype)
    x0 = _validate.real_array("x0", x0, dtype)
    paper = form == "paper"
    if W_rec.ndim <= 1:
        return _iterate_grid_unit(kernels, activation, W_rec, b, x0, n_steps, paper, leak, n_keep, dtype)

    if W_rec.ndim not in (2, 3) or W_rec.shape[-1] != W_rec.shape[-2]:
        raise ValueError(
            f"W_rec must have shape (n, n) or (G, n, n), or be a scalar or (G,) for one unit; "
            f"got {_validate.shape_str(W_rec.shape)}"
        )
    n = W_rec.shape[-1]
    if n == 0:
        raise ValueError(f"W_rec must have n >= 1 units; got {_validate.shape_str(W_rec.shape)}")
    b = _per_point("b", b, n)
    x0 = _per_point("x0", x0, n)
    W_rec = W_rec.reshape((-1, n, n))
    leaky = leak is not None
    leak = _validate.leak("leak", leak, dtype, n, allow_grid=True) if leaky else np.zeros((1, n), dtype=dtype)
    G = _validate.grid_size({"W_rec": W_rec.shape[0], "b": b.shape[0], "x0": x0.shape[0], "leak": leak.shape[0]})
    if n == 1:  # the vectorised single-unit kernel computes the same map
        return _run_unit(kernels, activation, W_rec, b, x0, leak, G, n_steps, paper, leaky, n_keep, dtype)
    _grid_limits(G, n, n_steps, n_keep, dtype)
    out = np.empty((G, n_keep, n), dtype=dtype)
    diverged_at = np.empty(G, dtype=np.int64)
    _chunks.orbits(
        kernels,
        activation,
        W_rec,
        np.zeros((n, 1), dtype=dtype),
        b,
        leak,
        x0,
        None,
        n_steps,
        paper,
        leaky,
        False,
        out,
        diverged_at,
    )
    return OrbitResult(x=out, diverged=diverged_at >= 0, diverged_at=diverged_at)


def _grid_limits(G, n, n_steps, n_keep, dtype):
    """Refuse a grid whose result and scratch exceed the memory, or whose steps exceed the work cap."""
    what = f"{G} grid points of {n} units"
    _validate.memory("n_keep or the grid size", G * n * (n_keep + 8) * dtype.itemsize, f"{what}, keeping {n_keep}")
    # a step of fewer than 32 maps is bound by latency, not arithmetic: count it as 32 (see _chunks)
    _validate.work("n_steps", max(G, 32) * n_steps * n * n, f"{what} over {n_steps} steps")


def _per_point(name, arr, n):
    """Reshape a shared (n,) or per-point (G, n) array to (1|G, n)."""
    if arr.ndim == 1 and arr.shape[0] == n:
        return arr.reshape(1, n)
    if arr.ndim == 2 and arr.shape[1] == n:
        return arr
    raise ValueError(f"{name} must have shape (n,) or (G, n) with n = {n}; got {_validate.shape_str(arr.shape)}")


def _iterate_grid_unit(kernels, activation, w, b, x0, n_steps, paper, leak, n_keep, dtype):
    """Single-unit grid: every argument a scalar or a 1-D array of length G (or 1)."""
    for name, arr in (("b", b), ("x0", x0)):
        if arr.ndim > 1:
            raise ValueError(
                f"{name} must be a scalar or a 1-D array of length G when W_rec is a scalar or 1-D "
                f"(a single-unit grid); got {_validate.shape_str(arr.shape)}"
            )
    leaky = leak is not None
    leak = _validate.real_array("leak", leak if leaky else 0.0, dtype)
    if leak.ndim > 1:
        raise ValueError(f"leak must be a scalar or a 1-D array of length G; got {_validate.shape_str(leak.shape)}")
    if np.any((leak < 0) | (leak > 1)):
        raise ValueError(f"leak must lie in [0, 1]; got values in [{leak.min()}, {leak.max()}]")
    sizes = {
        name: a.shape[0] if a.ndim == 1 else None for name, a in (("W_rec", w), ("b", b), ("x0", x0), ("leak", leak))
    }
    G = _validate.grid_size(sizes)
    return _run_unit(kernels, activation, w, b, x0, leak, G, n_steps, paper, leaky, n_keep, dtype)


def _run_unit(kernels, activation, w, b, x0, leak, G, n_steps, paper, leaky, n_keep, dtype):
    """Launch the single-unit kernel on arrays holding 1 or G values each."""
    _grid_limits(G, 1, n_steps, n_keep, dtype)
    w, b, x0, leak = (np.broadcast_to(a.reshape(-1), (G,)).copy() for a in (w, b, x0, leak))
    out = np.empty((G, n_keep), dtype=dtype)
    diverged_at = np.empty(G, dtype=np.int64)
    _chunks.unit_orbits(kernels, activation, w, b, leak, x0, n_steps, paper, leaky, out, diverged_at)
    return OrbitResult(x=out.reshape(G, n_keep, 1), diverged=diverged_at >= 0, diverged_at=diverged_at)

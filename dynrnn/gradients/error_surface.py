r"""The error surface of one recurrent unit (Pascanu et al. 2013, Sec. 2.3, eq. 8, Fig. 6).

The model ``x_t = w sigma(x_{t-1}) + b`` is run from ``x_0`` for ``T = n_steps``
steps and scored by ``E = (sigma(x_T) - target)^2``.  `error_surface` evaluates
E, its exact gradient and the largest eigenvalue of its Hessian in ``(w, b)``
on a grid, all in forward mode in one pass over the steps; `error_surface_wall`
locates, for each ``w``, the bias where ``|dE/db|`` peaks: the wall that the
paper's Fig. 6 shows and that throws plain gradient descent off the valley.
"""

import numpy as np

from .. import _backend, _config, _validate
from .._kernels.scalar import ACTIVATIONS
from ..maps import _chunks
from ..maps.activations import activation as _activation
from ..results.surface import ErrorSurfaceResult, WallResult

__all__ = ["error_surface", "error_surface_wall"]

# error_surface_wall: samples per zooming step, and the largest change of x_T
# between adjacent samples at which the rise of x_T counts as resolved.
_ZOOM_SAMPLES = 33
_RESOLVED_JUMP = 0.1
_MAX_ZOOMS = 64  # each zoom narrows a bracket about 10-fold: far below float64 spacing


def _evaluate(kernels, activation, w, b, x0, target, n_steps, dtype):
    """Run the kernel on flat C-contiguous arrays of one shape; return (E, dE_dw, dE_db, hessian_max_eig, x)."""
    outs = tuple(np.empty(w.shape, dtype=dtype) for _ in range(5))
    for lo, hi in _chunks.items(w.size, 8 * n_steps):  # Ctrl-C lands between chunks of points
        part = tuple(a[lo:hi] for a in outs)
        kernels.error_surface(activation, w[lo:hi], b[lo:hi], x0[lo:hi], dtype.type(target), n_steps, *part)
    return outs


def _limits(names, points, n_steps, numbers_per_point):
    """Refuse grids that cannot fit in memory and horizons or evaluations that cannot finish."""
    _validate.memory(names, points * numbers_per_point * 8, f"{points} points")
    if n_steps > _config.MAX_UNSPLIT_STEPS:
        raise ValueError(
            f"n_steps must be <= {_config.MAX_UNSPLIT_STEPS} (dynrnn._config.MAX_UNSPLIT_STEPS): the derivatives "
            f"are carried in one uninterruptible pass per point; got {n_steps}"
        )
    _validate.work(f"{names} or n_steps", 8 * points * n_steps, f"{points} points over {n_steps} steps")


def error_surface(w, b, *, x0=0.5, n_steps=50, target=0.7, activation="tanh", backend="cpu", dtype=np.float64):
    r"""The error ``E = (sigma(x_T) - target)^2`` of eq. (8), its gradient and its largest curvature.

    Runs the single-unit model ``x_t = w sigma(x_{t-1}) + b`` (no input) over
    a grid of ``(w, b)`` and returns, at every point, the error after
    ``n_steps`` steps, the exact gradient ``(dE/dw, dE/db)`` and the larger
    eigenvalue of the 2x2 Hessian: the surface of Fig. 6 with its walls.

    Parameters
    ----------
    w, b : array_like
        Recurrent weight and bias; broadcast together (with ``x0``) to the
        grid's shape.  For Fig. 6, ``numpy.meshgrid(w_axis, b_axis,
        indexing="ij")``: ``w`` along axis 0.
    x0 : array_like, default 0.5
        Initial state ``x_0``, broadcast with ``w`` and ``b``.
    n_steps : int, default 50
        Number of steps, 1 <= T <= ``dynrnn._config.MAX_UNSPLIT_STEPS`` (1e8).
    target : float, default 0.7
        Target of ``sigma(x_T)``.
    activation : {"logistic", "tanh", "relu", "linear"}, default "tanh"
        The nonlinearity sigma.
    backend : {"cpu", "cuda"}, default "cpu"
        Where to compute.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the computation and of the result.

    Returns
    -------
    ErrorSurfaceResult
        ``E``, ``dE_dw``, ``dE_db``, ``hessian_max_eig``, ``x`` (= x_T) and
        ``diverged``, each with the broadcast shape; ``diverged`` is True
        where any of them is not finite (the derivatives overflow on the wall
        for large ``w T``, e.g. float32 at ``w = 8``, ``T = 50``).

    Raises
    ------
    ValueError
        If ``w``, ``b`` or ``x0`` do not broadcast, are empty or hold NaN or
        inf; if ``target`` is not a finite scalar; if ``n_steps < 1``; or if
        ``activation``, ``backend`` or ``dtype`` is unknown.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    TypeError
        If an array or ``target`` is complex or not numeric, or ``n_steps``
        is not an integer.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    error_surface_wall : where ``|dE/db|`` peaks, refined far below any grid.
    dynrnn.single_unit.iterate_tangents : the first derivatives of ``x_T`` alone.

    Notes
    -----
    The model is eq. (8) of Pascanu et al. (2013), Sec. 2.3, with
    ``E = (sigma(x_50) - 0.7)^2`` and ``x_0 = 0.5`` in Fig. 6.  With
    ``s, s_1, s_2 = sigma, sigma', sigma''`` at ``x_{t-1}``, one pass carries
    ``x`` and its first and second derivatives (subscripts) from zero:

    .. math::
        x_t &= w s + b,\qquad x_{w,t} = s + w s_1 x_w,\qquad x_{b,t} = 1 + w s_1 x_b,\\
        x_{ww,t} &= 2 s_1 x_w + w s_2 x_w^2 + w s_1 x_{ww},\\
        x_{wb,t} &= s_1 x_b + w s_2 x_w x_b + w s_1 x_{wb},\qquad
        x_{bb,t} = w s_2 x_b^2 + w s_1 x_{bb}.

    With ``y = sigma(x_T)``, ``E_x = 2 (y - target) sigma'(x_T)`` and
    ``E_xx = 2 sigma'(x_T)^2 + 2 (y - target) sigma''(x_T)``:

    .. math::
        \frac{\partial E}{\partial w} = E_x x_w,\qquad
        H_{ww} = E_{xx} x_w^2 + E_x x_{ww},\qquad
        H_{wb} = E_{xx} x_w x_b + E_x x_{wb},

    likewise for ``b``, and ``lambda_max = (H_ww + H_bb)/2 +
    hypot((H_ww - H_bb)/2, H_wb)``, accurate to about ``eps ||H||``.  Where
    ``x_0`` sits near the unstable fixed point that bounds two basins, the
    derivatives grow like ``(w sigma'(x_0))^T`` and the second ones like its
    square: the curvature explodes with the gradient, the paper's "wall".

    float32 stores every step in float32 (the logistic's exp runs in
    float64 on the CPU); agreement with float64 is about 1e-4 away from the
    wall.

    Examples
    --------
    One linear step, ``x_1 = w x_0 + b = 0.6``:

    >>> import dynrnn
    >>> res = dynrnn.error_surface(1.0, 0.1, n_steps=1, activation="linear")
    >>> [round(float(v), 12) for v in (res.E, res.dE_dw, res.dE_db, res.hessian_max_eig)]
    [0.01, -0.1, -0.2, 2.5]
    """
    dtype = _validate.float_dtype("dtype", dtype)
    _validate.choice("activation", activation, ACTIVATIONS)
    n_steps = _validate.integer("n_steps", n_steps, minimum=1)
    target = _validate.finite_scalar("target", target)
    kernels = _backend.get(backend)
    named = {"w": w, "b": b, "x0": x0}
    arrays = [_validate.real_array(name, a, dtype) for name, a in named.items()]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"{n} {_validate.shape_str(a.shape)}" for n, a in zip(named, arrays, strict=True))
        raise ValueError(f"w, b and x0 must broadcast to one shape; got {shapes}") from None
    if 0 in shape:
        raise ValueError(f"w, b and x0 must have at least one grid point; got broadcast shape {shape}")
    _limits("w, b and x0", int(np.prod(shape, dtype=object)), n_steps, 16)
    flat = [np.broadcast_to(a, shape).reshape(-1).copy() for a in arrays]
    E, dE_dw, dE_db, lam, x = _evaluate(kernels, activation, *flat, target, n_steps, dtype)
    outs = (E, dE_dw, dE_db, lam, x)
    diverged = ~np.logical_and.reduce([np.isfinite(a) for a in outs])
    E, dE_dw, dE_db, lam, x, diverged = (a.reshape(shape) for a in (*outs, diverged))
    return ErrorSurfaceResult(
        E=E,
        dE_dw=dE_dw,
        dE_db=dE_db,
        hessian_max_eig=lam,
        x=x,
        diverged=diverged,
        x0=arrays[2].copy(),
        n_steps=n_steps,
        target=target,
        activation=activation,
    )


# ---------------------------------------------------------------------------
# The wall: where |dE/db| peaks along b
# ---------------------------------------------------------------------------
class _Sampler:
    """Evaluate ``x_T``, ``|dE/db|`` and ``E`` on rows of biases, one row per weight."""

    def __init__(self, kernels, activation, x0, target, n_steps):
        self.args = (kernels, activation)
        self.x0, self.target, self.n_steps = x0, target, n_steps

    def __call__(self, w, B):
        shape = B.shape
        # fresh writeable copies: a read-only (broadcast) array would compile the kernel again
        flat_w = np.array(np.broadcast_to(w[:, None], shape), order="C").reshape(-1)
        flat_b = np.array(B, order="C").reshape(-1)
        x0 = np.full(flat_b.shape, self.x0)
        E, _, dE_db, _, x = _evaluate(*self.args, flat_w, flat_b, x0, self.target, self.n_steps, np.dtype(np.float64))
        g = np.abs(dE_db)
        g[np.isnan(g)] = -1.0  # NaN never wins a comparison; inf does (a diverged peak)
        return x.reshape(shape), g.reshape(shape), E.reshape(shape)


def _linspace_rows(a, c, m):
    return a[:, None] + (c - a)[:, None] * np.linspace(0.0, 1.0, m)


def _take(B, idx):
    return B[np.arange(B.shape[0]), np.clip(idx, 0, B.shape[1] - 1)]


def _at_float_spacing(a, c, m):
    """True where ``m`` samples in ``[a, c]`` are about one float64 spacing apart."""
    return (c - a) <= (m - 1) * np.spacing(np.maximum(np.abs(a), np.abs(c)))


def _largest_jump(x):
    """Index ``j`` of the largest ``|x[:, j + 1] - x[:, j]|`` in each row, and that jump."""
    jumps = np.abs(np.diff(x, axis=1))
    jumps[np.isnan(jumps)] = 0.0
    j = np.argmax(jumps, axis=1)
    return j, jumps[np.arange(x.shape[0]), j]


def _resolve_rise(sample, w, a, c, active):
    """Zoom each active bracket onto the steepest rise of ``x_T`` until adjacent samples resolve it.

    Returns the new brackets (two sample spacings around the largest
    ``|dE/db|`` of the last, resolving samples) and whether each rise was
    resolved before the samples reached the float64 spacing.
    """
    m = _ZOOM_SAMPLES
    resolved = ~active
    a, c, active = a.copy(), c.copy(), active.copy()
    for _ in range(_MAX_ZOOMS):
        if not active.any():
            break
        rows = np.flatnonzero(active)
        B = _linspace_rows(a[rows], c[rows], m)
        x, g, _ = sample(w[rows], B)
        j, jump = _largest_jump(x)
        ok = jump <= _RESOLVED_JUMP
        done = ok | _at_float_spacing(a[rows], c[rows], m)
        i = np.argmax(g, axis=1)
        a[rows] = np.where(done, _take(B, i - 1), _take(B, j - 1))
        c[rows] = np.where(done, _take(B, i + 1), _take(B, j + 2))
        resolved[rows] |= ok
        active[rows] &= ~done
    return a, c, resolved


def _zoom_peak(sample, w, a, c, tol):
    """Zoom each bracket onto the largest sampled ``|dE/db|`` until narrower than ``2 tol``.

    Returns the best sample seen in each row: ``(b, |dE/db|, E, x_T)``.
    """
    m = _ZOOM_SAMPLES
    n = w.shape[0]
    best = [np.full(n, -np.inf) for _ in range(4)]  # g, b, E, x
    active = np.ones(n, dtype=bool)
    for k in range(_MAX_ZOOMS):
        rows = np.flatnonzero(active)
        B = _linspace_rows(a[rows], c[rows], m)
        x, g, E = sample(w[rows], B)
        i = np.argmax(g, axis=1)
        gi = _take(g, i)
        better = gi > best[0][rows]
        for arr, new in zip(best, (gi, _take(B, i), _take(E, i), _take(x, i)), strict=True):
            arr[rows] = np.where(better, new, arr[rows])
        a[rows], c[rows] = _take(B, i - 1), _take(B, i + 1)
        narrow = ((c[rows] - a[rows]) <= 2.0 * tol) | _at_float_spacing(a[rows], c[rows], m)
        active[rows] &= ~(narrow & (k > 0))
        if not active.any():
            break
    g, b, E, x = best
    return b, g, E, x


def error_surface_wall(
    w,
    b_range,
    *,
    x0=0.5,
    n_steps=50,
    target=0.7,
    activation="tanh",
    n_grid=1001,
    tol=1e-10,
    backend="cpu",
):
    r"""For each ``w``, the bias in ``b_range`` where ``|dE/db|`` peaks: the wall of the error surface.

    On the wall of Fig. 6 the gradient grows like ``(w sigma'(x_0))^T``
    across a band only about ``(w sigma'(x_0))^-T`` wide in ``b`` (1e-14 at
    ``w = 8``), far below any plotting grid.  The search finds it anyway:
    a coarse grid, then repeated zooming onto the steepest rise of ``x_T``
    until samples resolve it, then onto the largest ``|dE/db|``.

    Parameters
    ----------
    w : array_like
        Recurrent weights, any shape (typically 1-D).
    b_range : array_like, shape (2,)
        ``(low, high)`` biases to search, ``low < high``.
    x0 : float, default 0.5
        Initial state ``x_0``.
    n_steps : int, default 50
        Number of steps, 1 <= T <= ``dynrnn._config.MAX_UNSPLIT_STEPS`` (1e8).
    target : float, default 0.7
        Target of ``sigma(x_T)``.
    activation : {"logistic", "tanh", "relu", "linear"}, default "tanh"
        The nonlinearity sigma.
    n_grid : int, default 1001
        Points of the coarse grid over ``b_range``, >= 3.
    tol : float, default 1e-10
        The final bracket around the peak is narrower than ``2 tol`` (or
        than the float64 spacing of ``b``).
    backend : {"cpu", "cuda"}, default "cpu"
        Where the surface is evaluated.

    Returns
    -------
    WallResult
        ``w``, and for each: ``b`` and ``peak`` (``|dE/db|`` there), ``E``
        and ``x`` (= x_T) there, and ``converged``; the properties ``line_b``
        (``x0 - sigma(x0) w``), ``unstable`` (``w sigma'(x0) > 1``) and
        ``offset`` (``b - line_b``).

    Raises
    ------
    ValueError
        If ``w`` is empty or not finite; ``b_range`` is not two finite
        values with ``low < high``; ``x0`` or ``target`` is not a finite
        scalar; ``n_steps < 1``, ``n_grid < 3`` or ``tol`` is not positive
        and finite; or ``activation`` or ``backend`` is unknown.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    TypeError
        If an argument is complex or not numeric, or ``n_steps`` or
        ``n_grid`` is not an integer.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    error_surface : the surface itself on a grid.

    Notes
    -----
    Pascanu et al. (2013), Sec. 2.3: where ``x_0`` is a fixed point of
    eq. (8), ``b = x_0 - w sigma(x_0)`` (`WallResult.line_b`), and unstable,
    ``w sigma'(x_0) > 1`` (``w > 4.2553`` for ``x_0 = 0.5``), it is the
    boundary between two basins, and ``x_T`` jumps from one attractor to the
    other as ``b`` crosses the line.  Linearised about ``x_0``, a bias
    ``delta`` off the line moves ``x_T`` by ``delta S`` with
    ``S = ((w sigma'(x_0))^T - 1) / (w sigma'(x_0) - 1)``, so ``|dE/db|``
    peaks where the orbit leaves ``x_0`` by O(1) in the last steps: at
    ``offset`` of order ``-1/S`` (the logistic defaults give
    ``offset S`` between -1.5 and -0.39 for ``4.2553 < w <= 8``).

    The search, on float64, for all ``w`` at once: (1) ``n_grid`` biases
    over ``b_range``; candidate A brackets the largest ``|dE/db|``,
    candidate B the largest change of ``x_T`` between adjacent points.
    (2) B's bracket is sampled at 33 points and narrowed to the largest
    change of ``x_T`` and its neighbours, about 10-fold per step, until
    adjacent samples differ by at most 0.1 in ``x_T`` (``converged``) or
    reach the float64 spacing.  (3) Both brackets are narrowed onto their
    largest sampled ``|dE/db|`` (16-fold per step) until narrower than
    ``2 tol``; the larger peak wins.  A plain grid argmax would miss the
    wall: at ``w = 8`` a grid point even 1e-6 from the line sees the orbit
    settle on an attractor, and ``|dE/db|`` is below 1e-6 of the peak there.

    Examples
    --------
    >>> import dynrnn
    >>> wall = dynrnn.error_surface_wall([5.0, 8.0], (-5.0, 0.0), activation="logistic")
    >>> wall.b.round(5).tolist(), wall.line_b.round(5).tolist()
    ([-2.61234, -4.47967], [-2.6123, -4.47967])
    >>> [f"{p:.1e}" for p in wall.peak]
    ['5.8e+03', '1.2e+13']
    """
    _validate.choice("activation", activation, ACTIVATIONS)
    n_steps = _validate.integer("n_steps", n_steps, minimum=1)
    n_grid = _validate.integer("n_grid", n_grid, minimum=3)
    x0 = _validate.finite_scalar("x0", x0)
    target = _validate.finite_scalar("target", target)
    tol = _validate.finite_scalar("tol", tol)
    if not tol > 0.0:
        raise ValueError(f"tol must be positive; got {tol}")
    w_arr = _validate.real_array("w", w, np.float64)
    if w_arr.size == 0:
        raise ValueError("w must have at least one value; got an empty array")
    rng = _validate.real_array("b_range", b_range, np.float64)
    if rng.shape != (2,):
        raise ValueError(f"b_range must have shape (2,), (low, high); got {_validate.shape_str(rng.shape)}")
    lo, hi = float(rng[0]), float(rng[1])
    if not lo < hi:
        raise ValueError(f"b_range must have low < high; got ({lo}, {hi})")
    if not np.isfinite(hi - lo):
        raise ValueError(f"b_range must have a finite width high - low (it overflows float64); got ({lo}, {hi})")
    # the coarse grid, then up to _MAX_ZOOMS zooms of _ZOOM_SAMPLES for two candidates, and the rise
    evaluations = n_grid + 4 * _MAX_ZOOMS * _ZOOM_SAMPLES
    _limits("n_grid or w", w_arr.size * n_grid, n_steps, 12)
    _validate.work("n_grid, w or n_steps", 8 * w_arr.size * evaluations * n_steps, f"{w_arr.size} weights")
    kernels = _backend.get(backend)

    sample = _Sampler(kernels, activation, x0, target, n_steps)
    w_flat = w_arr.reshape(-1).copy()
    n = w_flat.size
    grid = np.broadcast_to(np.linspace(lo, hi, n_grid), (n, n_grid))
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf where an unbounded orbit overflowed
        x, g, _ = sample(w_flat, grid)
        i = np.argmax(g, axis=1)
        j, jump = _largest_jump(x)
        a = np.concatenate([_take(grid, i - 1), _take(grid, j - 1)])
        c = np.concatenate([_take(grid, i + 1), _take(grid, j + 2)])
        both = np.concatenate([w_flat, w_flat])
        a[n:], c[n:], resolved = _resolve_rise(sample, w_flat, a[n:], c[n:], jump > _RESOLVED_JUMP)
        b_best, g_best, E_best, x_best = _zoom_peak(sample, both, a, c, tol)
    take_rise = g_best[n:] > g_best[:n]
    b, peak, E, x_T = (np.where(take_rise, v[n:], v[:n]).reshape(w_arr.shape) for v in (b_best, g_best, E_best, x_best))
    peak[peak < 0.0] = np.nan  # every sample of the row had dE/db = NaN

    act = _activation(activation)
    return WallResult(
        w=w_flat.reshape(w_arr.shape),
        b=b,
        peak=peak,
        E=E,
        x=x_T,
        converged=resolved.reshape(w_arr.shape),
        x0=x0,
        n_steps=n_steps,
        target=target,
        activation=activation,
        sigma_x0=float(act.sigma(x0)),
        dsigma_x0=float(act.dsigma(x0)),
    )

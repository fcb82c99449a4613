r"""Gradient descent on the eq. (8) error surface, plain or with Algorithm 1 (Pascanu et al. 2013, Fig. 6).

`descend` runs gradient descent on ``(w, b)`` of the one-unit model
``x_t = w sigma(x_{t-1}) + b`` from many starts at once: every iteration
evaluates the error and its exact gradient at all active starts with one
`dynrnn.error_surface` call, and, when a ``threshold`` is given, clips each
start's gradient with `dynrnn.clip_grad_norm`, the one implementation of
Algorithm 1.  The loop over iterations is in Python; each iteration is one
kernel launch over the starts.
"""

import math

import numpy as np

from .. import _backend, _validate
from .._kernels.scalar import ACTIVATIONS
from ..results.descent import DescentResult
from .clipping import clip_grad_norm
from .error_surface import error_surface

__all__ = ["descend"]

_NONFINITE = ("skip", "raise")


def _starts(w0, b0):
    """The broadcast starts as two flat float64 arrays of length S >= 1."""
    w0 = _validate.real_array("w0", w0, np.float64)
    b0 = _validate.real_array("b0", b0, np.float64)
    try:
        shape = np.broadcast_shapes(w0.shape, b0.shape)
    except ValueError:
        raise ValueError(
            f"w0 and b0 must broadcast to one shape; got w0 {_validate.shape_str(w0.shape)}, "
            f"b0 {_validate.shape_str(b0.shape)}"
        ) from None
    if 0 in shape:
        raise ValueError(f"w0 and b0 must give at least one start; got broadcast shape {shape}")
    return (np.broadcast_to(a, shape).reshape(-1).copy() for a in (w0, b0))


def descend(
    w0,
    b0,
    *,
    lr,
    n_iter,
    threshold=None,
    nonfinite="skip",
    x0=0.5,
    n_steps=50,
    target=0.7,
    activation="tanh",
    backend="cpu",
):
    r"""Gradient descent on ``(w, b)`` for the error of eq. (8), plain or with gradient clipping.

    From each start ``(w0, b0)`` the update ``(w, b) <- (w, b) - lr g`` is
    applied ``n_iter`` times, where ``g`` is the exact gradient of
    ``E = (sigma(x_T) - target)^2`` for ``x_t = w sigma(x_{t-1}) + b``,
    rescaled by Algorithm 1 when ``threshold`` is given.  This is the
    experiment of Fig. 6: plain descent is thrown far when it hits the wall
    of the error surface; clipped descent is not.

    Parameters
    ----------
    w0, b0 : array_like
        Starting weights and biases, finite; broadcast together to the
        ``S`` starts, flattened in C order.
    lr : float
        The learning rate, finite and > 0.
    n_iter : int
        The number of updates, >= 0 (0 returns the starts and their errors).
    threshold : float, optional
        The clipping threshold, finite and > 0: each start's gradient
        ``(dE/dw, dE/db)`` whose norm is >= ``threshold`` is rescaled to norm
        ``threshold`` by `clip_grad_norm`.  None (the default) gives plain
        gradient descent.
    nonfinite : {"skip", "raise"}, default "skip"
        What to do when a start's error or gradient is NaN or inf, or its
        update leaves the float64 range: ``"skip"`` makes no update, marks the
        start as diverged and freezes it there; ``"raise"`` raises
        ValueError.
    x0 : float, default 0.5
        Initial state ``x_0`` of the unit.
    n_steps : int, default 50
        Number of steps T >= 1 of the unit.
    target : float, default 0.7
        Target of ``sigma(x_T)``.
    activation : {"logistic", "tanh", "relu", "linear"}, default "tanh"
        The nonlinearity sigma.
    backend : {"cpu", "cuda"}, default "cpu"
        Where the error and its gradient are evaluated.

    Returns
    -------
    DescentResult
        ``w``, ``b``, ``E``, ``dE_dw`` and ``dE_db`` at every iterate (shape
        ``(n_iter + 1, S)``), the pre-clip ``grad_norm`` and the ``clipped``
        flag of every update (shape ``(n_iter, S)``), and per start
        ``diverged`` and ``diverged_at``.

    Raises
    ------
    TypeError
        If ``lr`` or ``threshold`` is not a real number; ``n_iter`` or
        ``n_steps`` is not an integer; ``w0``, ``b0``, ``x0`` or ``target``
        is complex or not numeric.
    ValueError
        If ``lr`` or ``threshold`` is <= 0, NaN or inf; ``n_iter < 0`` or
        ``n_steps < 1``; ``w0``, ``b0``, ``x0`` or ``target`` holds NaN or
        inf; ``w0`` and ``b0`` do not broadcast or give no start; ``x0`` or
        ``target`` is not a scalar; ``nonfinite``, ``activation`` or
        ``backend`` is unknown; or ``nonfinite="raise"`` and a start left
        the finite range.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.
    RuntimeError
        If ``backend="cuda"`` and no GPU (nor the CUDA simulator) is available.

    See Also
    --------
    error_surface : the error, its gradient and curvature on a grid.
    error_surface_wall : where the wall of the surface lies.
    clip_grad_norm : Algorithm 1.

    Notes
    -----
    Pascanu et al. (2013), Sec. 2.3 and Fig. 6, with the model of eq. (8)
    and the clipping of Sec. 3.2, Algorithm 1.  With
    ``theta_k = (w_k, b_k)`` and ``g_k = (dE/dw, dE/db)`` at ``theta_k``:

    .. math::
        \tilde g_k = \begin{cases}
            \dfrac{\text{threshold}}{\|g_k\|_2}\, g_k & \text{if } \|g_k\|_2 \ge \text{threshold},\\
            g_k & \text{otherwise (or without a threshold)},
        \end{cases}
        \qquad \theta_{k+1} = \theta_k - \text{lr}\, \tilde g_k,

    so a clipped step has length ``lr * threshold`` at most.  The paper
    gives no starts, learning rate or threshold for Fig. 6.

    A start that diverges at iterate ``k`` (its error or gradient is not
    finite there, or ``theta_{k+1}`` would not be) is frozen at
    ``theta_k``: the rows after ``k`` repeat row ``k``, and ``grad_norm``
    is NaN and ``clipped`` False from update ``k + 1`` on.  With the
    bounded activations (logistic, tanh) this needs gradients beyond the
    float64 range, so it happens only for the unbounded ones (relu,
    linear) or absurd weights.

    The computation is float64 throughout.  Each iteration evaluates the
    active starts with one `error_surface` call and clips them one by one
    (about 50 microseconds per start and update).

    Examples
    --------
    Plain and clipped descent from the same start below the wall; the
    gradient grows as the wall comes near, and the last clipped step is
    shorter:

    >>> import dynrnn
    >>> plain = dynrnn.descend(5.0, -4.0, lr=2.0, n_iter=12, activation="logistic")
    >>> clip = dynrnn.descend(5.0, -4.0, lr=2.0, n_iter=12, threshold=0.1, activation="logistic")
    >>> plain.w.shape, [round(float(r.E[-1, 0]), 3) for r in (plain, clip)]
    ((13, 1), [0.016, 0.357])
    >>> int(clip.n_clipped[0]), round(float(clip.step_length[-1, 0]), 6), bool(plain.diverged[0])
    (1, 0.2, False)
    """
    lr = _validate.positive_float("lr", lr)
    n_iter = _validate.integer("n_iter", n_iter, minimum=0)
    if threshold is not None:
        threshold = _validate.positive_float("threshold", threshold)
    nonfinite = _validate.choice("nonfinite", nonfinite, _NONFINITE)
    x0 = _validate.finite_scalar("x0", x0)
    n_steps = _validate.integer("n_steps", n_steps, minimum=1)
    target = _validate.finite_scalar("target", target)
    _validate.choice("activation", activation, ACTIVATIONS)
    _backend.get(backend)
    w_start, b_start = _starts(w0, b0)
    S = w_start.size
    what = f"{S} starts over {n_iter} updates"
    _validate.memory("n_iter or the starts", (n_iter + 1) * S * 49, what)  # 6 float64 and a bool per update
    _validate.work("n_iter or n_steps", 8 * (n_iter + 1) * S * n_steps, f"{what} of {n_steps} steps")

    w = np.empty((n_iter + 1, S))
    b = np.empty((n_iter + 1, S))
    w[0], b[0] = w_start, b_start
    E, dE_dw, dE_db = (np.full((n_iter + 1, S), np.nan) for _ in range(3))
    grad_norm = np.full((n_iter, S), np.nan)
    clipped = np.zeros((n_iter, S), dtype=bool)
    diverged_at = np.full(S, -1, dtype=np.int64)
    active = np.arange(S)
    surface = {"x0": x0, "n_steps": n_steps, "target": target, "activation": activation, "backend": backend}

    for k in range(n_iter + 1):
        if active.size:
            res = error_surface(w[k, active], b[k, active], **surface)
            E[k, active], dE_dw[k, active], dE_db[k, active] = res.E, res.dE_dw, res.dE_db
        if k == n_iter:
            break
        still = []
        for i in active:
            step, norm, was_clipped = _update(E[k, i], dE_dw[k, i], dE_db[k, i], threshold)
            grad_norm[k, i] = norm
            if step is not None:
                with np.errstate(over="ignore", invalid="ignore"):
                    w_next, b_next = w[k, i] - lr * step[0], b[k, i] - lr * step[1]
            if step is None or not (math.isfinite(w_next) and math.isfinite(b_next)):
                if nonfinite == "raise":
                    raise ValueError(
                        f"start {i} (w0={w_start[i]}, b0={b_start[i]}) left the finite range at iterate {k}: "
                        f"E={E[k, i]}, gradient norm={norm}, (w, b)=({w[k, i]}, {b[k, i]}); nonfinite='raise' "
                        "refuses this (use nonfinite='skip' to flag and freeze such starts)"
                    )
                diverged_at[i] = k
                continue
            w[k + 1, i], b[k + 1, i] = w_next, b_next
            clipped[k, i] = was_clipped
            still.append(i)
        active = np.asarray(still, dtype=np.intp)

    diverged = diverged_at >= 0
    for i in np.flatnonzero(diverged):
        k = diverged_at[i]
        for arr in (w, b, E, dE_dw, dE_db):
            arr[k + 1 :, i] = arr[k, i]
    return DescentResult(
        w=w,
        b=b,
        E=E,
        dE_dw=dE_dw,
        dE_db=dE_db,
        grad_norm=grad_norm,
        clipped=clipped,
        diverged=diverged,
        diverged_at=diverged_at,
        lr=lr,
        threshold=threshold,
        nonfinite=nonfinite,
        x0=x0,
        n_steps=n_steps,
        target=target,
        activation=activation,
    )


def _update(E, dE_dw, dE_db, threshold):
    """``(step, norm, clipped)`` for one start: the gradient to apply (None if not finite), its pre-clip norm."""
    if not (math.isfinite(E) and math.isfinite(dE_dw) and math.isfinite(dE_db)):
        with np.errstate(over="ignore", invalid="ignore"):
            return None, float(np.hypot(dE_dw, dE_db)), False
    if threshold is None:
        norm = math.hypot(dE_dw, dE_db)
        return ((dE_dw, dE_db) if math.isfinite(norm) else None), norm, False
    res = clip_grad_norm({"w": np.array(dE_dw), "b": np.array(dE_db)}, threshold, nonfinite="skip")
    if res.skipped:  # finite components whose norm exceeds the float64 range
        return None, res.grad_norm, False
    return (float(res.grads["w"]), float(res.grads["b"])), res.grad_norm, res.clipped

"""The gated cells' side of `dynrnn.fixed_points`: a box that holds every fixed point, Newton starts, Jacobians.

`fixed_points` runs the same damped Newton (``_kernels/scalar.py``) on ``F(x) - x`` for a `GRU` or
an `LSTM` with zero input, through ``_kernels/gated.py``; this module supplies what differs from the
RNN: the box the starts are drawn from, the trajectories through the gated orbit kernel, and the
step Jacobian at a point (``dynrnn/cells/gru.py``, ``lstm.py``).
"""

import numpy as np

from .. import _config
from ..maps import _chunks

_HUGE = 1e300  # every box is clipped to [-1e300, 1e300], as for the RNN


def box(net):
    """A box ``(low, high)`` of shape (N,) each that holds every fixed point of the autonomous cell.

    GRU: ``h* = (1 - z) n + z h*`` with ``z < 1`` forces ``h* = n``, so
    ``h*`` lies in ``(-1, 1)^n``.  LSTM: ``h* = o tanh(c*)`` lies in
    ``(-1, 1)^n``, and ``c* = i g / (1 - f)`` with ``|i g| < 1``, so
    ``|c*_j| < 1 / (1 - f_max_j) = 1 + exp(a_j)``, where ``a_j = b_f + sum_k
    |W_hf[j, k]|`` bounds the forget gate's pre-activation over ``|h| <= 1``.
    """
    n = net.n_units
    if net.cell == "gru":
        return -np.ones(n), np.ones(n)
    W_hf = np.asarray(net.W_hh[n : 2 * n], dtype=np.float64)
    b_f = np.asarray(net.b_ih[n : 2 * n], dtype=np.float64) + np.asarray(net.b_hh[n : 2 * n], dtype=np.float64)
    with np.errstate(over="ignore"):
        c_max = np.minimum(1.0 + np.exp(b_f + np.abs(W_hf).sum(axis=1)), _HUGE)
    return np.concatenate([-np.ones(n), -c_max]), np.concatenate([np.ones(n), c_max])


def parameters(net):
    """``(W_ih, W_hh, b_ih, b_hh)`` as writable float64 copies (Numba types read-only arrays apart)."""
    return tuple(np.array(a, dtype=np.float64) for a in (net.W_ih, net.W_hh, net.b_ih, net.b_hh))


def starts(net, params, n_starts, n_steps, rng):
    """The (S, N) Newton starts: states along trajectories from the box, then uniform in it.

    Draws, in this order: the trajectories' initial states ``(S // 2, N)``,
    the time at which each gives its start ``(S // 2,)``, the random starts
    ``(S - S // 2, N)``.  On the CPU.
    """
    from .._kernels import gated as kernels

    low, high = box(net)
    N, n_orbits = low.size, n_starts // 2
    x0 = rng.uniform(low, high, size=(n_orbits, N))
    times = rng.integers(0, n_steps + 1, size=n_orbits)
    orbit_starts = np.empty((0, N))
    if n_orbits:
        W_ih, W_hh, b_ih, b_hh = params
        rows = W_hh.shape[0]
        out = np.empty((n_orbits, n_steps + 1, N))
        diverged_at = np.empty(n_orbits, dtype=np.int64)
        _chunks.orbits(
            kernels,
            net.cell,
            W_hh[None],
            np.zeros((rows, 1)),
            b_ih[None],
            b_hh[None],
            np.ascontiguousarray(x0),
            None,
            n_steps,
            False,
            False,
            False,
            out,
            diverged_at,
        )
        orbit_starts = out[np.arange(n_orbits), times]
    random_starts = rng.uniform(low, high, size=(n_starts - n_orbits, N))
    return np.ascontiguousarray(np.concatenate([orbit_starts, random_starts]))


def newton(net, params, starts, tol, max_iter, x, status, n_iter, residual, per_start):
    """Damped Newton from every start, in chunks of about ``_config.CHUNK_WORK`` (Ctrl-C lands between them)."""
    from .._kernels import gated as kernels

    _, W_hh, b_ih, b_hh = params
    biases = np.ascontiguousarray(np.stack([b_ih, b_hh]))
    chunk = max(1, _config.CHUNK_WORK // per_start)
    for lo in range(0, starts.shape[0], chunk):
        hi = min(starts.shape[0], lo + chunk)
        part = (x[lo:hi], status[lo:hi], n_iter[lo:hi], residual[lo:hi])
        kernels.fixed_points(net.cell, W_hh, biases, starts[lo:hi], tol, max_iter, *part)


def map_jacobian(net, params):
    """Return ``f(x) -> (F(x), J_F(x))``: the autonomous step and its Jacobian at one state."""
    from .._kernels import gated as kernels

    def f(x):
        F, J = kernels.step_jacobians(net.cell, *params, np.asarray(x, dtype=np.float64)[None])
        return F[0], J[0]

    return f

"""Products of step Jacobians along a trajectory, ``dx_t / dx_k`` (Pascanu et al. 2013, eq. 5)."""

import numpy as np

from .. import _validate
from ..maps.gated import is_gated
from ..maps.iterate import trajectory_arguments
from ..maps.model import RNN
from ..results.jacobians import JacobianResult

__all__ = ["jacobian_products"]


def jacobian_products(net, x0, inputs=None, *, n_steps=None, n_singular=1):
    r"""Norms and singular values of ``dx_t / dx_k`` for every window of one trajectory.

    Parameters
    ----------
    net : RNN, GRU or LSTM
        The network (any activation, form and leak; or a gated cell).
    x0 : array_like, shape (n,)
        Initial state (``net.state_size``: 2n, ``(h_0, c_0)``, for an `LSTM`).
    inputs : array_like, shape (T, m), optional
        Input sequence ``u_1 ... u_T`` (row ``t - 1`` drives step ``t``);
        None for an autonomous run of ``n_steps`` steps.
    n_steps : int, optional
        Number of steps T >= 1.  Required when ``inputs`` is None; when both
        are given they must agree.
    n_singular : int, default 1
        How many of the largest singular values to keep per window,
        1 <= n_singular <= n (the state size).

    Returns
    -------
    JacobianResult
        The trajectory ``x`` (T + 1, n), the step Jacobians (T, n, n), and
        ``norm``, ``log_norm`` (T + 1, T + 1) and ``singular_values``,
        ``log_singular_values`` (T + 1, T + 1, n_singular) indexed
        ``[t, k]`` (NaN where k > t), with ``lag_profile(t)`` and
        per-lag summaries.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, `GRU` or `LSTM`, ``n_steps`` or ``n_singular`` is not an
        integer, or an array is complex or not numeric.
    ValueError
        If ``n_singular`` is outside [1, n], the window arrays would be too
        large (more than 2**28 numbers), a shape disagrees, ``x0`` or
        ``inputs`` holds NaN or inf, ``n_steps < 1``, or neither
        ``n_steps`` nor ``inputs`` is given.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.

    See Also
    --------
    iterate : the trajectory alone.
    lyapunov_spectrum : the asymptotic growth rates of the same products.

    Notes
    -----
    Pascanu et al. (2013), eq. (5), in the column convention (the paper
    writes the transpose, for row-vector gradients):

    .. math:: \frac{\partial x_t}{\partial x_k}
              = \prod_{t \ge i > k} J_i, \qquad
              J_i = \frac{\partial x_i}{\partial x_{i-1}}
              = W_{rec}\,\mathrm{diag}(\sigma'(x_{i-1}))

    for the paper form; ``J_i = diag(sigma'(a_i)) W_rec`` with
    ``a_i = W_rec x_{i-1} + W_in u_i + b`` for the standard form, and
    ``diag(leak) + diag(1 - leak) J_i`` with a leak.  The product over a
    window has t - k factors, and ``P_{k,k} = I``.  For a `GRU` the state is
    ``h`` and ``J_i = dh_i/dh_{i-1}``; for an `LSTM` it is ``(h, c)`` and
    ``J_i = d(h_i, c_i)/d(h_{i-1}, c_{i-1})`` (2n, 2n), so the products
    include the paths through the cell state (``dynrnn/cells/gru.py`` and
    ``lstm.py`` write out both Jacobians).

    The products are never formed.  One QR (Benettin) pass gives
    ``J_i Q_{i-1} = Q_i R_i`` with ``Q_0 = I``, so that
    ``P_{t,k} = Q_t (R_t ... R_{k+1}) Q_k^T`` has the singular values of the
    triangular product, which is accumulated for each start k and rescaled
    by an exact power of two after every step.  ``log_norm`` is therefore
    accurate however fast the products explode or vanish (``norm`` is its
    exponential and may overflow or underflow).  The largest singular
    values are accurate to relative precision; a singular value far below
    the largest only to absolute precision about ``eps * sigma_1`` (the
    rounding floor of the singular-value computation), and one more than
    about ``1e-150`` times below the largest is reported as 0, so its log is
    ``-inf``, as it is for an exactly singular product (all relu units dead
    at a step, or a unit dead at the first step of a window starting at 0).
    Logs are never NaN for a finite trajectory.  Everything is computed in
    ``net.dtype``; the trajectory ``x`` is that of `iterate`.

    The Jacobians are evaluated at the states of the trajectory; where the
    trajectory is non-finite (it diverged, see ``diverged_at``) they are
    NaN and so are the windows that use them.  With the linear activation
    the Jacobians do not depend on the state and stay exact.  The cost is
    O(T^2 n^3): about T^2 / 2 singular-value computations of n x n
    matrices, in parallel over the start k.  CPU only.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.RNN(W_rec=[[0.5, 0.0], [0.0, 2.0]], activation="linear")
    >>> res = dynrnn.jacobian_products(net, [1.0, 1.0], n_steps=3)
    >>> np.round(res.norm[:, 0], 10).tolist()   # ||W_rec^t|| = 2^t
    [1.0, 2.0, 4.0, 8.0]
    >>> lags, log_norm = res.lag_profile()
    >>> np.round(log_norm / np.log(2.0), 10).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    _check_net(net)
    n = _state_size(net)
    n_singular = _validate.integer("n_singular", n_singular)
    if not 1 <= n_singular <= n:
        raise ValueError(f"n_singular must lie in [1, n] with n = {n}; got {n_singular}")

    def windows(T):
        entries = (T + 1) ** 2 * (2 * n_singular + 2)
        if entries > _MAX_WINDOW_ENTRIES:
            raise ValueError(
                f"n_steps = {T} with n_singular = {n_singular} would hold {entries} numbers for the (T + 1)^2 windows "
                f"(limit {_MAX_WINDOW_ENTRIES}); use fewer steps, or lyapunov_spectrum for long trajectories"
            )

    # the step Jacobians and their R factors: 2 n^2 numbers a step; the products: about T n^3 a step
    x, arrays = _prepare(net, x0, inputs, n_steps, step_bytes=2 * n * n * 8, check=windows)
    T, dtype = x.shape[0] - 1, x.dtype
    from .._kernels import jacobians as kernels

    jacobians = np.empty((T, n, n), dtype=dtype)
    _trajectory(net, x, arrays, jacobians)
    R = np.empty_like(jacobians)
    kernels.qr_pass(jacobians, np.eye(n, dtype=dtype), R, np.empty((T, n), dtype=dtype))
    log_singular_values = np.full((T + 1, T + 1, n_singular), np.nan, dtype=dtype)
    kernels.jacobian_products(R, n_singular, log_singular_values)
    with np.errstate(over="ignore", under="ignore"):
        singular_values = np.exp(log_singular_values)
    return JacobianResult(
        x=x,
        jacobians=jacobians,
        norm=singular_values[:, :, 0].copy(),
        log_norm=log_singular_values[:, :, 0].copy(),
        singular_values=singular_values,
        log_singular_values=log_singular_values,
        diverged_at=_diverged_at(x),
    )


# The window arrays hold (T + 1)^2 (2 n_singular + 2) numbers; refuse sizes
# that would not fit in memory rather than fail deep inside NumPy.
_MAX_WINDOW_ENTRIES = 2**28


def _check_net(net):
    """Raise TypeError unless ``net`` is an `RNN`, a `GRU` or an `LSTM`."""
    if not (isinstance(net, RNN) or is_gated(net)):
        raise TypeError(f"net must be a dynrnn.RNN, GRU or LSTM; got {type(net).__name__}")


def _state_size(net):
    """Length of the state the Jacobians act on: n, or 2n for an `LSTM`."""
    return net.state_size if is_gated(net) else net.n_units


def _trajectory(net, x, arrays, jacobians):
    """Fill the trajectory ``x`` from ``x[0]`` and the step Jacobians, with the kernel of ``net``'s cell."""
    if is_gated(net):
        from .._kernels import gated

        gated.trajectory(net.cell, *arrays[:4], x, *arrays[4:], jacobians)
    else:
        from .._kernels import jacobians as kernels

        kernels.trajectory(net.activation, *arrays[:4], x, *arrays[4:], jacobians)


def _prepare(net, x0, inputs, n_steps, **limits):
    """Check the arguments with `iterate`'s rules and lay them out for the kernels.

    Returns ``(x, arrays)``: an empty trajectory (T + 1, n) with ``x[0] =
    x0``, and the kernel arguments ``(W_rec, W_in, b, leak, inputs, paper,
    leaky, driven)`` as writable C-contiguous arrays (Numba compiles
    read-only arrays separately); for a `GRU` or an `LSTM`, n is the state
    size and the arguments are ``(W_ih, W_hh, b_ih, b_hh, inputs, driven)``.
    Shared with `dynrnn.lyapunov_spectrum`.  ``limits`` (``step_bytes``,
    ``step_work``, ``check``) go to `trajectory_arguments`, which refuses a
    trajectory that cannot fit or finish before anything is allocated.
    """
    x0, inputs, W_in, n_steps, driven = trajectory_arguments(net, x0, n_steps, inputs, **limits)
    n, dtype = _state_size(net), net.dtype
    if is_gated(net):
        x = np.empty((n_steps + 1, n), dtype=dtype)
        x[0] = x0
        return x, (W_in, net.W_hh.copy(), net.b_ih.copy(), net.b_hh.copy(), inputs, driven)
    leaky = net.leak is not None
    leak = net.leak.copy() if leaky else np.zeros(n, dtype=dtype)
    x = np.empty((n_steps + 1, n), dtype=dtype)
    x[0] = x0
    return x, (net.W_rec.copy(), W_in, net.b.copy(), leak, inputs, net.form == "paper", leaky, driven)


def _diverged_at(x):
    """The index of the first row of ``x`` with a non-finite entry, or -1."""
    bad = np.flatnonzero(~np.all(np.isfinite(x), axis=1))
    return int(bad[0]) if bad.size else -1

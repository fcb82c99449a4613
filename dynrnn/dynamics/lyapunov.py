"""Lyapunov spectrum of an RNN trajectory by the QR (Benettin) method."""

import numpy as np

from .. import _validate
from ..gradients.jacobians import _check_net, _diverged_at, _prepare, _state_size
from ..maps.gated import is_gated
from ..results.jacobians import LyapunovResult

__all__ = ["lyapunov_spectrum"]


def lyapunov_spectrum(net, x0, inputs=None, *, n_steps=None, n_transient=0):
    r"""All n Lyapunov exponents along one trajectory, autonomous or driven by inputs.

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
        Number of steps T >= 1, transient included.  Required when
        ``inputs`` is None; when both are given they must agree.
    n_transient : int, default 0
        Steps iterated (and used to align the QR frame) before averaging
        starts, 0 <= n_transient < T.

    Returns
    -------
    LyapunovResult
        ``exponents`` (n,), descending; the per-step factors ``local`` and
        the running means ``finite_time`` (T - n_transient, n); the
        trajectory ``x``; ``diverged_at``.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, `GRU` or `LSTM`, ``n_steps`` or ``n_transient`` is not an
        integer, or an array is complex or not numeric.
    ValueError
        If ``n_transient`` is negative or not below T, a shape disagrees,
        ``x0`` or ``inputs`` holds NaN or inf, ``n_steps < 1``, or neither
        ``n_steps`` nor ``inputs`` is given.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.

    See Also
    --------
    jacobian_products : norms of the same Jacobian products over every window.

    Notes
    -----
    With the step Jacobians ``J_i = dx_i / dx_{i-1}`` of eq. (5) of
    Pascanu et al. (2013) (see `jacobian_products` for every form), the QR
    iteration ``J_i Q_{i-1} = Q_i R_i``, ``Q_0 = I``, gives

    .. math:: \lambda_j = \frac{1}{T - T_0} \sum_{i = T_0 + 1}^{T}
              \log |(R_i)_{jj}|, \qquad T_0 = \text{n\_transient},

    the growth rates of ``dx_t / dx_0`` on nested subspaces (Benettin et
    al. 1980; the QR method of Eckmann & Ruelle 1985).  The columns come out
    of the QR iteration roughly in descending order; they are sorted by
    their mean, and ``local`` and ``finite_time`` follow the same order.
    For a `GRU` or an `LSTM` the exponents are those of the full state
    (``h``, or ``(h, c)``: 2n exponents for the LSTM), with the step Jacobians
    of ``dynrnn/cells/gru.py`` and ``lstm.py``.  For a single unit in the
    paper form, ``lambda = mean log|w sigma'(x_{i-1})|`` over
    ``i = T_0 + 1 ... T``.  With the linear activation the exponents
    are ``log|eigenvalues of W_rec|`` in the limit (at every T when
    ``W_rec`` is triangular).  A unit whose derivative is exactly 0 at the
    first step (a dead relu unit) collapses a direction exactly and gives
    ``-inf``, never NaN; NaN appears only when the trajectory diverged
    (``diverged_at >= 0``).  The step Jacobians are formed a block of steps
    at a time, so memory does not grow with T.  CPU only.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.RNN(W_rec=[[0.5, 0.0], [0.0, 2.0]], activation="linear")
    >>> res = dynrnn.lyapunov_spectrum(net, [1.0, 1.0], n_steps=100)
    >>> np.round(res.exponents / np.log(2.0), 12).tolist()
    [1.0, -1.0]
    """
    _check_net(net)
    n_transient = _validate.integer("n_transient", n_transient, minimum=0)
    n = _state_size(net)  # local exponents, their running means and the sorted copies: 5 n numbers a step; QR: n^3
    x, arrays = _prepare(net, x0, inputs, n_steps, step_bytes=5 * n * 8, step_work=n**3)
    T = x.shape[0] - 1
    if n_transient >= T:
        raise ValueError(f"n_transient must be < n_steps = {T}; got {n_transient}")
    from .._kernels import jacobians as kernels

    local = np.empty((T - n_transient, n), dtype=x.dtype)
    if is_gated(net):
        from .._kernels import gated

        gated.lyapunov_spectrum(net.cell, *arrays[:4], x, *arrays[4:], n_transient, local)
    else:
        kernels.lyapunov_spectrum(net.activation, *arrays[:4], x, *arrays[4:], n_transient, local)
    with np.errstate(invalid="ignore"):  # -inf + inf is NaN, and only after a divergence
        finite_time = np.cumsum(local, axis=0) / np.arange(1, T - n_transient + 1, dtype=x.dtype)[:, None]
    order = np.argsort(-finite_time[-1], kind="stable")  # NaN last
    return LyapunovResult(
        exponents=finite_time[-1, order].copy(),
        local=local[:, order].copy(),
        finite_time=finite_time[:, order].copy(),
        x=x,
        n_transient=n_transient,
        diverged_at=_diverged_at(x),
    )

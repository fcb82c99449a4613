"""`dynrnn.bptt` for a `GRU` or an `LSTM`: the backward pass of ``_kernels/gated.py``, gradients and contributions.

`bptt` checks the arguments (with n the state size for ``x0``, and the hidden state ``h`` as the
observed state that the losses see) and calls `bptt_gated`.  The cell's `deltas` (``cells/gru.py``,
``lstm.py``) give, per step, the errors on the gates' input-side and hidden-side pre-activations,
``d_ih`` and ``d_hh`` (kn each), so that the immediate partials of eq. (4) of Pascanu et al. (2013)
are ``d_ih u_k^T`` (W_ih), ``d_hh h_{k-1}^T`` (W_hh), ``d_ih`` (b_ih) and ``d_hh`` (b_hh).
"""

import numpy as np

from .._kernels.scalar_bptt import SQUARED_ERROR
from ..results.gradients import GradientResult

KEYS = ("W_ih", "W_hh", "b_ih", "b_hh")
# Window contributions hold T^2 kn (n + m + 2) numbers: the limit of the RNN's.
_MAX_WINDOW_ENTRIES = 2**27


def check_window(net, T):
    """Refuse (ValueError) window contributions that would not fit in memory."""
    K, n, m = net.W_hh.shape[0], net.n_units, net.n_inputs
    entries = T * T * K * (n + m + 2)
    if entries > _MAX_WINDOW_ENTRIES:
        raise ValueError(
            f"contributions='window' would hold T^2 kn (n + m + 2) = {entries} numbers "
            f"(limit {_MAX_WINDOW_ENTRIES}); use contributions='lag' or fewer steps"
        )


def bptt_gated(net, x0, shared_x0, U, P, kind, every, wrt_x0, contributions, keep_states):
    """Loss, gradient and temporal contributions of a gated network (arguments checked by `dynrnn.bptt`).

    ``x0`` (B, N); ``U`` (T, B, m) (m = 0 for an autonomous net); ``P`` (T_s, B, q) float targets.
    """
    from .._kernels import gated as kernels  # here, not at import: `import dynrnn` stays free of Numba

    dtype = net.dtype
    T, B, m = U.shape
    N, n, K = net.state_size, net.n_units, net.W_hh.shape[0]
    q = P.shape[2]
    driven = m > 0
    U_k = U if driven else np.zeros((T, B, 1), dtype=dtype)
    W_ih, W_hh, b_ih, b_hh = (np.array(getattr(net, k)) for k in KEYS)  # writable copies
    W_out = np.array(net.W_out) if net.W_out is not None else np.zeros((1, n), dtype=dtype)
    b_out = np.array(net.b_out) if net.b_out is not None else np.zeros(1, dtype=dtype)
    T_s = P.shape[0]
    Z, G = np.empty((T + 1, B, N), dtype=dtype), np.empty((T + 1, B, N), dtype=dtype)
    E = np.empty((T_s, B, N), dtype=dtype)
    Y, Yg = np.empty((T_s, B, q), dtype=dtype), np.zeros((T_s, B, q), dtype=dtype)
    D_ih, D_hh = np.empty((T, B, K), dtype=dtype), np.empty((T, B, K), dtype=dtype)
    loss_seq = np.empty(B, dtype=dtype)
    with np.errstate(all="ignore"):  # overflow is reported through `diverged`
        kernels.bptt(net.cell, W_ih, W_hh, b_ih, b_hh, W_out, b_out, x0, U_k, P, kind, every, driven,
                     dtype.type(1.0 / B), Z, Y, Yg, E, G, D_ih, D_hh, loss_seq)  # fmt: skip
        H = Z[:, :, :n]  # the hidden states h_0 .. h_T
        grads = {
            "W_ih": np.einsum("tbk,tbm->km", D_ih, U),
            "W_hh": np.einsum("tbk,tbj->kj", D_hh, H[:T]),
            "b_ih": D_ih.sum(axis=(0, 1)),
            "b_hh": D_hh.sum(axis=(0, 1)),
        }
        if kind != SQUARED_ERROR:
            grads["W_out"] = np.einsum("rbc,rbj->cj", Yg, H[1:] if every else H[T:])
            grads["b_out"] = Yg.sum(axis=(0, 1))
        if wrt_x0:
            grads["x0"] = G[0].sum(axis=0) if shared_x0 else G[0].copy()
        by_lag = by_window = None
        if contributions is not None:
            by_lag, by_window = _contributions(kernels, net, (W_ih, W_hh, b_ih, b_hh), Z, U, U_k, E, D_ih, D_hh,
                                               every, contributions == "window")  # fmt: skip
    return GradientResult(
        loss=float(np.mean(loss_seq)),
        loss_per_sequence=loss_seq,
        grads=grads,
        contributions=by_lag,
        window_contributions=by_window,
        x=Z if keep_states else None,
        dloss_dx=G if keep_states else None,
        outputs=Y,
        n_steps=T,
    )


def _contributions(kernels, net, params, Z, U, U_k, E, D_ih, D_hh, every, window):
    """Temporal contributions by lag (and by window) for W_ih, W_hh, b_ih and b_hh."""
    T, B, K = D_ih.shape
    n, m = net.n_units, U.shape[2]
    dtype = D_ih.dtype
    shapes = {"W_ih": (K, m), "W_hh": (K, n), "b_ih": (K,), "b_hh": (K,)}
    if every:
        lag = {k: np.zeros((T,) + s, dtype=dtype) for k, s in shapes.items()}
        win = {k: np.zeros(((T, T) if window else (1, 1)) + s, dtype=dtype) for k, s in shapes.items()}
        kernels.lag_contributions(net.cell, *params, Z, U_k, E, m > 0, window, lag, win)
        return lag, (win if window else None)
    # Only E_T is scored: the term through x_k has lag T - k and is step k's immediate partial.
    per_k = {
        "W_ih": np.einsum("tbk,tbm->tkm", D_ih, U),
        "W_hh": np.einsum("tbk,tbj->tkj", D_hh, Z[:T, :, :n]),
        "b_ih": D_ih.sum(axis=1),
        "b_hh": D_hh.sum(axis=1),
    }
    lag = {k: np.ascontiguousarray(v[::-1]) for k, v in per_k.items()}
    if not window:
        return lag, None
    win = {}
    for k, v in per_k.items():
        w = np.zeros((T, T) + v.shape[1:], dtype=dtype)
        w[T - 1] = v
        win[k] = w
    return lag, win

"""Backpropagation through time with the temporal contributions of eq. (4)."""

import threading

import numpy as np

from .. import _validate
from .._kernels.scalar_bptt import CROSS_ENTROPY, LOSS_CODES, SQUARED_ERROR
from ..maps.gated import is_gated, require_rnn
from ..results.gradients import GradientResult
from . import _gated_bptt

__all__ = ["bptt"]

LOSSES = tuple(LOSS_CODES)
AT = ("every", "last")
CONTRIBUTIONS = ("lag", "window", None)
# Window contributions hold T^2 n (n + m + 1) numbers; refuse sizes that would
# not fit in memory rather than fail deep inside NumPy.
_MAX_WINDOW_ENTRIES = 2**27


def bptt(net, x0, inputs, targets, *, loss="squared_error", at="every", n_steps=None, wrt_x0=False,
         contributions="lag", keep_states=True):  # fmt: skip
    r"""Loss, exact gradient and temporal contributions of a batch of sequences (BPTT).

    Parameters
    ----------
    net : RNN, GRU or LSTM
        The network, in either form, any activation, with or without leak;
        or a gated cell (see Notes).  The readout losses need ``net.W_out``.
    x0 : array_like, shape (n,) or (B, n), or None
        Initial state, shared by the batch or one per sequence; None for
        zeros (the authors' ``h_0 = 0`` in the standard form; in the paper
        form ``x_0 = 0`` means ``h_0 = sigma(0)``).  Of length
        ``net.state_size`` for a gated cell (``(h_0, c_0)`` for an `LSTM`).
    inputs : array_like, shape (T, B, m), or None
        Inputs ``u_1 .. u_T`` (``inputs[t - 1, q]`` drives step t of
        sequence q).  None for an autonomous network; then ``n_steps`` is
        required.
    targets : array_like
        With ``at="every"`` one target per step, with ``at="last"`` one per
        sequence:

        - ``"squared_error"``: shape (T, B, n) or (B, n), compared with the
          observed state;
        - ``"readout_squared_error"``: shape (T, B, q) or (B, q), compared
          with the readout ``y_t = W_out h_t + b_out``;
        - ``"cross_entropy"``: integer class labels of shape (T, B) or (B,)
          in [0, q), or class distributions of shape (T, B, q) or (B, q)
          (e.g. one-hot), for a softmax on the readout.
    loss : {"squared_error", "readout_squared_error", "cross_entropy"}, default "squared_error"
        The per-step loss ``E_t`` (see Notes).
    at : {"every", "last"}, default "every"
        Score every step (``E = sum_t E_t``, eq. 3) or only the last one.
    n_steps : int, optional
        Number of steps T; required when ``inputs`` is None, and must agree
        with it otherwise.
    wrt_x0 : bool, default False
        Also return ``dloss/dx0``.
    contributions : {"lag", "window", None}, default "lag"
        Return the temporal contributions of eq. (4) summed by lag t - k
        ("lag"), and also per window (t, k) ("window"), or none.  With
        ``at="last"`` they cost nothing extra; with ``at="every"`` they take
        one backward pass per scored step, O(T^2) instead of O(T).
    keep_states : bool, default True
        Return the states ``x`` and ``dloss_dx``; False leaves them None
        and saves allocating two (T + 1, B, n) arrays per call (a training
        loop that needs only the loss and the gradient).

    Returns
    -------
    GradientResult
        ``loss`` (mean over the batch), ``loss_per_sequence``, ``grads``
        (a read-only mapping: ``W_rec``, ``W_in``, ``b``, [``W_out``,
        ``b_out``], [``x0``]), ``contributions`` and
        ``window_contributions`` (mappings for ``W_rec``, ``W_in``, ``b``),
        the states ``x``, ``dloss_dx`` (None with ``keep_states=False``)
        and the ``outputs``.  A pass that
        overflows gives NaN or inf values, flagged by ``finite``; it does
        not raise.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, `GRU` or `LSTM`, an array is complex or not numeric,
        class labels are booleans, or ``wrt_x0`` or ``keep_states`` is not a
        bool.
    ValueError
        If ``loss``, ``at`` or ``contributions`` is unknown; a readout loss
        is asked of a network without ``W_out``; a shape disagrees (``x0``,
        ``inputs``, ``targets``, ``n_steps``); an array holds NaN or inf;
        a label is outside [0, q); targets for the cross-entropy have
        neither the shape of labels (integers) nor of distributions; or the
        window contributions would be too large.
        Also if the call would need more memory than is available, or more work than
        ``dynrnn._config.MAX_WORK``: sizes are estimated before anything is allocated.

    See Also
    --------
    jacobian_products : the norms of dx_t/dx_k of eq. (5).
    clip_grad_norm : Algorithm 1, applied to ``grads``.

    Notes
    -----
    The loss is a function of the observed state ``h_t`` (``sigma(x_t)`` in
    the paper form, as in eq. (8); the state in the standard form), so
    without a leak both forms define the same loss (footnote 1) when the
    standard form starts from ``h_0 = sigma(x_0)``.  Per scored step:
    ``E_t = ||h_t - target_t||^2``, ``||y_t - target_t||^2`` or
    ``-sum_c target_c log softmax(y_t)_c``.  The batch loss is the mean over
    sequences of ``sum_t E_t`` (Pascanu et al. 2013, eq. 3).

    The gradient is eq. (3)-(5):

    .. math::
        \frac{\partial E}{\partial \theta} = \sum_{1 \le k \le t \le T}
        \frac{\partial E_t}{\partial x_t}\frac{\partial x_t}{\partial x_k}
        \frac{\partial^+ x_k}{\partial \theta},\qquad
        \frac{\partial x_t}{\partial x_k} = \prod_{t \ge i > k} W_{rec}\,
        \mathrm{diag}(\sigma'(x_{i-1}))

    computed backwards in one pass, ``g_{k-1} = J_k^T g_k + dE_{k-1}/dx_{k-1}``.
    Each term of the double sum is a temporal contribution; ``contributions``
    groups them by lag t - k, which separates the long-term terms (large
    lag) that explode or vanish from the short-term ones (Sec. 2.1).  The
    readout parameters have no temporal contributions.

    *Gated cells.*  For a `GRU` or an `LSTM` the state is ``h`` or ``(h,
    c)``, the step and its Jacobian are those of ``torch.nn.GRU`` and
    ``torch.nn.LSTM`` (``dynrnn/cells/gru.py``, ``lstm.py``), and the losses
    see the hidden state ``h`` (squared-error targets of length n, the
    readout ``W_out h_t + b_out``).  ``grads``, ``contributions`` and
    ``window_contributions`` hold ``W_ih``, ``W_hh``, ``b_ih`` and ``b_hh``
    (then ``W_out``, ``b_out``, ``x0`` as above); ``x`` and ``dloss_dx`` are
    over the full state.  The same two passes run as compiled loops over
    the sequences (no BLAS), with the per-step products of eq. (5) through
    the LSTM's cell state included.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.RNN([[0.5]], W_in=[[1.0]], activation="linear")
    >>> res = dynrnn.bptt(net, [0.0], np.ones((2, 1, 1)), [[1.0]], at="last")
    >>> float(res.loss), float(res.grads["W_in"][0, 0])
    (0.25, 1.5)
    """
    gated = is_gated(net)
    if not gated:
        require_rnn(net, "bptt")
    _validate.choice("loss", loss, LOSSES)
    _validate.choice("at", at, AT)
    if contributions is not None:
        _validate.choice("contributions", contributions, ("lag", "window"))
    for name, flag in (("wrt_x0", wrt_x0), ("keep_states", keep_states)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool; got {type(flag).__name__} {flag!r}")
    kind = LOSS_CODES[loss]
    if kind != SQUARED_ERROR and net.W_out is None:
        raise ValueError(f"loss={loss!r} needs a readout; build the network with W_out of shape (q, n)")
    dtype, n, m = net.dtype, net.n_units, net.n_inputs
    q = n if kind == SQUARED_ERROR else net.n_outputs
    N = net.state_size if gated else n  # the state: h, or (h, c) for an LSTM

    U = _inputs(inputs, n_steps, m, dtype)
    T = U.shape[0]
    sizes = {"inputs": U.shape[1] if inputs is not None else None}
    x0_arr, shared_x0 = _initial_state(x0, N, dtype, "n" if not gated else "state_size")
    sizes["x0"] = None if shared_x0 else x0_arr.shape[0]
    P = _targets(targets, kind, at, T, q, dtype)
    sizes["targets"] = P.shape[1]
    given = {k: v for k, v in sizes.items() if v is not None}
    if len(set(given.values())) > 1:
        listed = ", ".join(f"{k}: {v}" for k, v in given.items())
        raise ValueError(f"batch sizes do not match ({listed}); x0 may also be shared, shape (n,)")
    B = next(iter(given.values()))
    if U.shape[1] != B:  # autonomous: inputs of width 0 for every sequence
        U = np.zeros((T, B, m), dtype=dtype)
    size_name = "n_steps" if inputs is None else "inputs (T x B)"
    what = f"{B} sequences of {T} steps"
    rows = net.W_hh.shape[0] if gated else n  # the rows of the step's products (kn for k gates)
    per_step = 8 * N + 3 * q + m + (2 * rows if gated else 0)  # numbers per step and sequence
    _validate.memory(size_name, (T + 1) * B * per_step * dtype.itemsize, what)
    _validate.work(size_name, 3 * T * B * rows * (n + m + q), what)
    x0_arr = np.ascontiguousarray(np.broadcast_to(x0_arr, (B, N)), dtype=dtype)
    if gated:
        if contributions == "window":
            _gated_bptt.check_window(net, T)
        return _gated_bptt.bptt_gated(net, x0_arr, shared_x0, U, P, kind, at == "every", wrt_x0, contributions,
                                      keep_states)  # fmt: skip
    if contributions == "window" and T * T * (n * (n + m + 1)) > _MAX_WINDOW_ENTRIES:
        raise ValueError(
            f"contributions='window' would hold T^2 n (n + m + 1) = {T * T * n * (n + m + 1)} numbers "
            f"(limit {_MAX_WINDOW_ENTRIES}); use contributions='lag' or fewer steps"
        )

    every = at == "every"
    paper = net.form == "paper"
    leaky = net.leak is not None
    # Writable copies: Numba compiles read-only arrays (the RNN's) as another type.
    W_rec, W_in, b = np.array(net.W_rec), np.array(net.W_in), np.array(net.b)
    leak = np.array(net.leak) if leaky else np.zeros(n, dtype=dtype)
    W_out = np.array(net.W_out) if net.W_out is not None else np.zeros((1, n), dtype=dtype)
    b_out = np.array(net.b_out) if net.b_out is not None else np.zeros(1, dtype=dtype)
    T_s = P.shape[0]
    # S is never Z, even in the standard form where they are equal: aliased
    # arrays stop LLVM from vectorising the activation loop (2.5 ms of 7).
    D, E, Delta, V, S, Z, G = _scratch((T + 1, B, n), (T_s, B, n), (T, B, n), (T, B, n) if m else (1, 1, 1),
                                       (T + 1, B, n), (T + 1, B, n), (T + 1, B, n), dtype=dtype)  # fmt: skip
    if keep_states:
        Z, G = np.empty((T + 1, B, n), dtype=dtype), np.empty((T + 1, B, n), dtype=dtype)
    Y = np.empty((T_s, B, q), dtype=dtype)
    Yg = np.zeros((T_s, B, q), dtype=dtype)
    loss_seq = np.empty(B, dtype=dtype)
    from .._kernels import bptt as kernels  # here, not at import: `import dynrnn` stays free of Numba

    with np.errstate(all="ignore"):  # overflow is reported through `finite`
        kernels.bptt(
            net.activation, W_rec, W_in, b, leak, W_out, b_out, x0_arr, U, P, kind, every, paper, leaky,
            dtype.type(1.0 / B), Z, S, D, E, Y, Yg, G, Delta, loss_seq, V,
        )  # fmt: skip
        grads = _parameter_grads(Delta, S, U, Yg, every, kind)
        if wrt_x0:
            grads["x0"] = G[0].sum(axis=0) if shared_x0 else G[0].copy()
        by_lag = by_window = None
        if contributions is not None:
            by_lag, by_window = _contributions(W_rec, leak, paper, leaky, every, contributions == "window",
                                               S, D, E, U, Delta)  # fmt: skip
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


# ----------------------------------------------------------------------------- scratch

_local = threading.local()


def _scratch(*shapes, dtype):
    """Scratch arrays of ``shapes``, reused across calls in the same thread.

    Fresh memory is paid for in page faults on first touch, which cost more
    than the whole computation at the paper's sizes on some systems; the
    arrays here never leave `bptt`, so one set per thread and size is kept.
    """
    key = (shapes, np.dtype(dtype).str)
    cache = getattr(_local, "cache", None)
    if cache is None or cache[0] != key:
        cache = (key, tuple(np.empty(shape, dtype=dtype) for shape in shapes))
        _local.cache = cache
    return cache[1]


# ----------------------------------------------------------------------------- validation


def _inputs(inputs, n_steps, m, dtype):
    """Inputs as (T, B, m); (T, 1, 0) zeros-like placeholder for an autonomous network."""
    if n_steps is not None:
        n_steps = _validate.integer("n_steps", n_steps, minimum=1)
    if inputs is None:
        if m > 0:
            raise ValueError(f"inputs is required: the network has W_in with m = {m} columns")
        if n_steps is None:
            raise ValueError("n_steps is required when inputs is None")
        return np.zeros((n_steps, 1, 0), dtype=dtype)
    U = _validate.real_array("inputs", inputs, dtype)
    if U.ndim != 3 or U.shape[2] != m or U.shape[0] == 0 or U.shape[1] == 0:
        raise ValueError(
            f"inputs must have shape (T, B, m) with T, B >= 1 and m = {m}; got {_validate.shape_str(U.shape)}"
        )
    if n_steps is not None and n_steps != U.shape[0]:
        raise ValueError(f"n_steps must equal the length of inputs ({U.shape[0]}); got {n_steps}")
    return U


def _initial_state(x0, n, dtype, size="n"):
    if x0 is None:
        return np.zeros(n, dtype=dtype), True
    arr = _validate.real_array("x0", x0, dtype)
    if arr.shape == (n,):
        return arr, True
    if arr.ndim == 2 and arr.shape[1] == n and arr.shape[0] >= 1:
        return arr, False
    raise ValueError(
        f"x0 must have shape ({size},) or (B, {size}) with {size} = {n}; got {_validate.shape_str(arr.shape)}"
    )


def _targets(targets, kind, at, T, q, dtype):
    """Targets as (T_s, B, q) floats: values, or class distributions for the cross-entropy."""
    lead = (T,) if at == "every" else ()
    where = "one per step, shape (T, B, ...)" if at == "every" else "one per sequence, shape (B, ...)"
    try:
        raw = np.asarray(targets)
    except (TypeError, ValueError) as exc:  # a ragged nesting of lists
        kind_name = type(targets).__name__
        raise TypeError(f"targets must be a rectangular real-valued array; got a ragged {kind_name}") from exc
    if kind == CROSS_ENTROPY and raw.dtype.kind in "iub" and raw.ndim == len(lead) + 1:
        if raw.dtype.kind == "b":
            raise TypeError(f"targets must be integer class labels or float distributions; got dtype {raw.dtype}")
        if raw.shape[: len(lead)] != lead or raw.shape[-1] == 0:
            raise ValueError(f"targets must be {where} with T = {T}; got {_validate.shape_str(raw.shape)}")
        if raw.size and (raw.min() < 0 or raw.max() >= q):
            raise ValueError(f"targets (class labels) must lie in [0, {q}); got values in [{raw.min()}, {raw.max()}]")
        P = np.zeros(raw.shape + (q,), dtype=dtype)
        np.put_along_axis(P, raw[..., None].astype(np.intp), 1.0, axis=-1)
    else:
        P = _validate.real_array("targets", targets, dtype)
        if P.ndim != len(lead) + 2 or P.shape[: len(lead)] != lead or P.shape[-1] != q or P.shape[-2] == 0:
            labels = " or integer labels" if kind == CROSS_ENTROPY else ""
            raise ValueError(
                f"targets must be {where} with T = {T} and last axis {q}{labels}; got {_validate.shape_str(P.shape)}"
            )
        if kind == CROSS_ENTROPY and np.any(P < 0):
            raise ValueError("targets (class distributions) must be non-negative")
    P = P.reshape((T if at == "every" else 1,) + P.shape[-2:])
    return np.ascontiguousarray(P)


# ----------------------------------------------------------------------------- assembly


def _parameter_grads(Delta, S, U, Yg, every, kind):
    """Sum the immediate partials of eq. (4) over steps and sequences."""
    T, B, n = Delta.shape
    grads = {"W_rec": _outer(Delta, S[:T]), "W_in": _outer(Delta, U), "b": Delta.sum(axis=(0, 1))}
    if kind != SQUARED_ERROR:
        grads["W_out"] = _outer(Yg, np.ascontiguousarray(S[1:] if every else S[T:]))
        grads["b_out"] = Yg.sum(axis=(0, 1))
    return grads


def _outer(A, X):
    from .._kernels import bptt as kernels

    out = np.zeros((A.shape[2], X.shape[2]), dtype=A.dtype)
    if out.size:
        kernels.outer_sum(A, X, out)
    return out


def _contributions(W_rec, leak, paper, leaky, every, window, S, D, E, U, Delta):
    """Temporal contributions by lag (and by window) for W_rec, W_in and b."""
    from .._kernels import bptt as kernels

    T, B, n = Delta.shape
    m = U.shape[2]
    dtype = Delta.dtype
    shapes = {"W_rec": (n, n), "W_in": (n, m), "b": (n,)}
    if every:
        lag = {k: np.zeros((T,) + s, dtype=dtype) for k, s in shapes.items()}
        win = {k: np.zeros((T, T) + s if window else (1, 1) + s, dtype=dtype) for k, s in shapes.items()}
        kernels.lag_contributions(W_rec, leak, paper, leaky, window, S, D, E, U,
                                  lag["W_rec"], lag["W_in"], lag["b"], win["W_rec"], win["W_in"], win["b"])  # fmt: skip
        return lag, (win if window else None)
    # Only E_T is scored: the term through x_k has lag T - k and is delta_k's immediate partial.
    per_k = {"W_rec": np.empty((T, n, n), dtype=dtype), "W_in": np.empty((T, n, m), dtype=dtype)}
    kernels.outer_sum_per_step(Delta, S[:T], per_k["W_rec"])  # row k - 1: delta_k s_{k-1}^T
    if m:
        kernels.outer_sum_per_step(Delta, U, per_k["W_in"])
    else:
        per_k["W_in"][:] = 0.0
    per_k["b"] = Delta.sum(axis=1)
    lag = {k: np.ascontiguousarray(v[::-1]) for k, v in per_k.items()}
    if not window:
        return lag, None
    win = {}
    for k, v in per_k.items():
        w = np.zeros((T, T) + v.shape[1:], dtype=dtype)
        w[T - 1] = v
        win[k] = w
    return lag, win

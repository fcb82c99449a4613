"""CPU kernels of training: one fused update (BPTT, Omega, clipping, SGD step) and a forward-only readout.

``train_step`` does in one compiled call what `dynrnn.bptt`,
`dynrnn.vanishing_regularizer`, `dynrnn.clip_grad_norm` and
``dynrnn.optim.SGD.step`` do one after another, for the task model of
`dynrnn.train` (standard form, no leak, ``h_0 = 0``, a readout): the forward
and backward pass of ``bptt.py``, the parameter gradients, Omega of eq. (10)
and its gradient (the math of ``gradients/regularizer.py`` for the standard
form), the global norm with the non-finite policy and Algorithm 1, and the
(momentum) update.  Parameters and velocities are updated in place in
arrays the caller owns; nothing is global, so many runs could later keep
theirs stacked in arrays and share a launch.

``forward`` runs the readout only, for evaluation on many sequences.
"""

import functools
import math

import numpy as np
from numba import njit

from .. import _config
from ..gradients.clipping import SHRINK_ABOVE, SHRINK_RATE
from . import bptt, cache, cpu

cache.configure()  # before the first dispatcher: where its compiled code is kept

# Non-finite policies of a fused update (codes passed to the kernel).
SKIP, SHRINK, STOP = 0, 1, 2
NONFINITE_CODES = {"skip": SKIP, "shrink": SHRINK, "stop": STOP}

# Slots of the ``stats`` array a fused update writes.
LOSS, NORM, OMEGA, N_VALID, CLIPPED, SKIPPED, SHRUNK, UPDATED = range(8)
N_STATS = 8

_SUM_MIN = 1e-250  # below it a sum of squares may have lost digits to underflow: rescale


@njit(**_config.JIT_OPTIONS)
def _sum_squares(a):
    total = 0.0
    for v in a:
        total += v * v
    return total


@njit(**_config.JIT_OPTIONS)
def _max_abs(a):
    """max |a|, NaN if any entry is NaN."""
    top = 0.0
    for v in a:
        if math.isnan(v):
            return math.nan
        w = abs(v)
        if w > top:
            top = w
    return top


@njit(**_config.JIT_OPTIONS)
def _sum_scaled(a, scale):
    total = 0.0
    for v in a:
        w = v / scale
        total += w * w
    return total


@njit(**_config.JIT_OPTIONS)
def _global_norm(g0, g1, g2, g3, g4):
    """L2 norm of the five flattened gradients, as `dynrnn.clip_grad_norm` computes it (no spurious overflow)."""
    total = _sum_squares(g0) + _sum_squares(g1) + _sum_squares(g2) + _sum_squares(g3) + _sum_squares(g4)
    if _SUM_MIN < total < math.inf:
        return math.sqrt(total)
    scale = 0.0
    for g in (g0, g1, g2, g3, g4):
        top = _max_abs(g)
        if math.isnan(top):
            return math.nan
        scale = max(scale, top)
    if scale == 0.0 or scale == math.inf:
        return scale
    total = _sum_scaled(g0, scale) + _sum_scaled(g1, scale) + _sum_scaled(g2, scale)
    total += _sum_scaled(g3, scale) + _sum_scaled(g4, scale)
    return scale * math.sqrt(total)


@njit(**_config.JIT_OPTIONS)
def _sgd(theta, v, g, factor, lr, mu, nesterov):
    """theta, v <- one (momentum) step with the gradient ``factor * g`` (see ``optim.SGD``); factor 0: zero."""
    for i in range(theta.shape[0]):
        gi = factor * g[i] if factor != 0.0 else 0.0  # a skipped NaN gradient must not leak through 0 * NaN
        v_new = mu * v[i] - lr * gi
        if nesterov:
            theta[i] += (mu * mu) * v[i] - ((1.0 + mu) * lr) * gi
        else:
            theta[i] += v_new
        v[i] = v_new


@njit(**_config.JIT_OPTIONS)
def _omega(G, Delta, Back, ratio, mean, bound, gO):
    """Omega of eq. (10) (``ratio``: eq. 9) for the standard form, and its gradient with respect to W_rec in ``gO``.

    The math of ``gradients/regularizer.py`` with ``p = 1``: in the standard
    form without leak ``q_k = sigma'(a_{k+1}) g_{k+1}`` is ``delta_{k+1}``
    (``Delta[k]``) and ``v_k = W_rec^T q_k`` is what the backward pass
    carried (``Back[k]``), so no product is needed for Omega itself and one
    for its gradient.  ``Delta`` is overwritten.  Returns ``(omega, n_valid)``.
    """
    T, B, n = Delta.shape
    n_valid = 0  # NaN terms are kept, so that divergence shows
    for k in range(T):
        for b in range(B):
            if not _sum_squares(G[k + 1, b]) < bound:
                n_valid += 1
    denom = n_valid if mean else B
    weight = 1.0 / max(denom, 1)
    omega = 0.0
    for k in range(T):
        for b in range(B):
            norm2_g = _sum_squares(G[k + 1, b])
            coef = 0.0
            if not norm2_g < bound:
                norm2_v = _sum_squares(Back[k, b])
                if ratio:
                    dev = math.sqrt(norm2_v / norm2_g) - 1.0
                    dr = 1.0 / math.sqrt(norm2_v * norm2_g) if norm2_v > 0.0 else 0.0
                else:
                    dev = norm2_v / norm2_g - 1.0
                    dr = 2.0 / norm2_g
                omega += weight * dev * dev
                coef = weight * 2.0 * dev * dr
            for i in range(n):
                Delta[k, b, i] *= coef
    np.dot(Delta.reshape(T * B, n).T, Back.reshape(T * B, n), gO)
    return omega, n_valid


@functools.cache
def _train_step_kernel(name):
    forward_backward = bptt._bptt_kernel(name)

    @njit(**_config.JIT_OPTIONS)
    def step(W_rec, W_in, b, W_out, b_out, v_rec, v_in, v_b, v_out, v_bout,
             U, P, kind, every, scale, lr, mu, nesterov, threshold, alpha, ratio, mean, bound, nonfinite,
             WT, W_inT, alpha0, x0, Z, S, D, E, Y, Yg, G, Delta, loss_seq, Back, V,
             gW, gWin, gb, gWout, gbout, gO, stats):  # fmt: skip
        T, B, n = Delta.shape
        m = U.shape[2]
        WT[:] = W_rec.T
        W_inT[:] = W_in.T
        forward_backward(WT, W_inT, W_rec, b, alpha0, W_out, b_out, x0, U, P, kind, every, False, False,
                         m > 0, scale, Z, S, D, E, Y, Yg, G, Delta, loss_seq, Back, V)  # fmt: skip
        # Immediate partials of eq. (4), summed over steps and sequences.
        d = Delta.reshape(T * B, n)
        np.dot(d.T, S[:T].reshape(T * B, n), gW)
        if m > 0:
            np.dot(d.T, U.reshape(T * B, m), gWin)
        gb[:] = 0.0
        for r in range(T * B):
            for i in range(n):
                gb[i] += d[r, i]
        T_s, _, q = Yg.shape
        yg = Yg.reshape(T_s * B, q)
        if every:
            np.dot(yg.T, S[1:].reshape(T * B, n), gWout)
        else:
            np.dot(yg.T, S[T], gWout)
        gbout[:] = 0.0
        for r in range(T_s * B):
            for c in range(q):
                gbout[c] += yg[r, c]
        loss = 0.0
        for i in range(B):
            loss += loss_seq[i]
        stats[LOSS] = loss * scale
        # Omega (eq. 10), logged for every method; its gradient joins W_rec's when alpha > 0 (MSGD-CR).
        omega, n_valid = _omega(G, Delta, Back, ratio, mean, bound, gO)
        stats[OMEGA] = omega
        stats[N_VALID] = n_valid
        if alpha > 0.0:
            for i in range(n):
                for j in range(n):
                    gW[i, j] += alpha * gO[i, j]
        # Algorithm 1 on the total gradient, with the non-finite policy first.
        flat = (gW.reshape(-1), gWin.reshape(-1), gb, gWout.reshape(-1), gbout)
        norm = _global_norm(flat[0], flat[1], flat[2], flat[3], flat[4])
        stats[NORM] = norm
        stats[CLIPPED] = stats[SKIPPED] = stats[SHRUNK] = stats[UPDATED] = 0.0
        factor = 1.0  # applied to every gradient but W_rec's shrink guard
        factor_rec = 1.0
        if nonfinite == SHRINK and not norm <= SHRINK_ABOVE:  # NaN, inf or > 1e10: the authors' guard
            stats[SHRUNK] = 1.0
            for i in range(n):
                for j in range(n):
                    gW[i, j] = SHRINK_RATE * W_rec[i, j]
            factor = 0.0
        elif not math.isfinite(norm):
            if nonfinite == STOP:
                return
            stats[SKIPPED] = 1.0
            factor = factor_rec = 0.0
        elif norm >= threshold:
            stats[CLIPPED] = 1.0
            factor = factor_rec = threshold / norm
        _sgd(W_rec.reshape(-1), v_rec.reshape(-1), gW.reshape(-1), factor_rec, lr, mu, nesterov)
        _sgd(W_in.reshape(-1), v_in.reshape(-1), gWin.reshape(-1), factor, lr, mu, nesterov)
        _sgd(b, v_b, gb, factor, lr, mu, nesterov)
        _sgd(W_out.reshape(-1), v_out.reshape(-1), gWout.reshape(-1), factor, lr, mu, nesterov)
        _sgd(b_out, v_bout, gbout, factor, lr, mu, nesterov)
        stats[UPDATED] = 1.0

    return step


def train_step(name, params, velocity, U, P, kind, every, scale, hyper, scratch, stats):
    """One fused update of the task model, in place.

    ``params`` and ``velocity`` are tuples ``(W_rec, W_in, b, W_out, b_out)``
    of C-contiguous arrays, updated in place; ``U`` (T, B, m) and ``P``
    (T_s, B, q) as for ``bptt.bptt``; ``hyper`` is ``(lr, mu, nesterov,
    threshold, alpha, ratio, mean, bound, nonfinite)`` (``threshold=inf``:
    no clipping; ``nonfinite`` a code of `NONFINITE_CODES`); ``scratch`` a
    `Scratch` with room for ``U``.  Writes ``stats`` (see the slot names):
    the loss is the batch mean (and the time mean for ``scale = 1 / (B
    T)``), the norm the pre-clip norm of the total gradient.
    """
    T, B, m = U.shape
    n, q, T_s = params[0].shape[0], params[3].shape[0], P.shape[0]
    key = (T, B, m, n, q, T_s)
    views = scratch.views.get(key)
    if views is None:  # 21 views cost about 20 us; a run of one length makes them once
        view = scratch.view
        views = (view("WT", n, n), view("W_inT", m, n), scratch.alpha0, view("x0", B, n),
                 view("Z", T + 1, B, n), view("S", T + 1, B, n), view("D", T + 1, B, n),
                 view("E", T_s, B, n), view("Y", T_s, B, q), view("Yg", T_s, B, q),
                 view("G", T + 1, B, n), view("Delta", T, B, n), view("loss_seq", B),
                 view("Back", T, B, n), view("V", T, B, n) if m else view("V", 1, 1, 1),
                 view("gW", n, n), view("gWin", n, m), view("gb", n), view("gWout", q, n),
                 view("gbout", q), view("gO", n, n))  # fmt: skip
        scratch.views[key] = views
    _train_step_kernel(name)(*params, *velocity, U, P, kind, every, scale, *hyper, *views, stats)


class Scratch:
    """Work arrays of `train_step`, one flat buffer per name, grown on demand and reused across updates.

    Fresh memory costs page faults on first touch, which at the paper's
    sizes cost more than an update; a run keeps one `Scratch`.
    """

    def __init__(self, n, dtype):
        self.dtype = np.dtype(dtype)
        self.alpha0 = np.zeros(n, dtype=self.dtype)  # no leak
        self._buffers = {}
        self.views = {}  # train_step's tuple of views per problem shape

    def view(self, name, *shape):
        """A C-contiguous array of ``shape`` on the buffer ``name`` (contents undefined, ``x0`` zeros)."""
        size = math.prod(shape)
        buf = self._buffers.get(name)
        if buf is None or buf.size < size:
            buf = np.zeros(max(size, 1), dtype=self.dtype)
            self._buffers[name] = buf
            self.views.clear()  # views made before may sit on the old, smaller buffer
        return buf[:size].reshape(shape)


@functools.cache
def _forward_kernel(name):
    sigma = cpu.activation(name)[0]

    @njit(**_config.JIT_OPTIONS)
    def forward(WT, W_inT, b, W_outT, b_out, U, every, H, H_next, drive, Y):
        T, B, m = U.shape
        n = H.shape[1]
        H[:] = 0.0
        for t in range(T):
            np.dot(H, WT, H_next)
            if m > 0:
                np.dot(U[t], W_inT, drive)
                for q in range(B):
                    for i in range(n):
                        H_next[q, i] = sigma(H_next[q, i] + b[i] + drive[q, i])
            else:
                for q in range(B):
                    for i in range(n):
                        H_next[q, i] = sigma(H_next[q, i] + b[i])
            H, H_next = H_next, H
            if every or t == T - 1:
                row = t if every else 0
                np.dot(H, W_outT, Y[row])
                for q in range(B):
                    for c in range(b_out.shape[0]):
                        Y[row, q, c] += b_out[c]

    return forward


def forward(name, W_rec, W_in, b, W_out, b_out, U, every):
    """Readout outputs of the task model (standard form, ``h_0 = 0``): (T, B, q) if ``every`` else (1, B, q)."""
    T, B, _ = U.shape
    n, q = W_rec.shape[0], W_out.shape[0]
    dtype = W_rec.dtype
    Y = np.empty((T if every else 1, B, q), dtype=dtype)
    H, H_next, drive = np.empty((B, n), dtype), np.empty((B, n), dtype), np.empty((B, n), dtype)
    _forward_kernel(name)(np.ascontiguousarray(W_rec.T), np.ascontiguousarray(W_in.T), b,
                          np.ascontiguousarray(W_out.T), b_out, U, every, H, H_next, drive, Y)  # fmt: skip
    return Y

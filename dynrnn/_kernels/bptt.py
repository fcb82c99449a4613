"""CPU kernels of backpropagation through time, built from the cell (``cells/rnn.py``) and ``scalar_bptt.py``.

The whole batch advances one step at a time: the step's matrix product
(``S_{t-1} W_rec^T`` forward, ``Delta_t W_rec`` backward, each (B, n) by
(n, n)) goes to BLAS through ``np.dot`` inside the compiled loop, and the
per-unit math of ``scalar_bptt`` runs over the (B, n) block.  There is no
Python loop over time steps.  No ``prange``: splitting the paper's batch of
20 between threads did not pay on two cores, and ``parallel=True`` tripled
the compile time (30 s per activation).

Layouts: states ``Z``, observed states ``S``, slopes ``D``, direct loss
gradients ``E`` and total gradients ``G = dloss/dz_t`` are (T + 1, B, n);
``Delta`` is (T, B, n) with ``Delta[t - 1] = delta_t``.
"""

import functools

import numpy as np
from numba import njit

from .. import _config
from ..cells import rnn
from . import cache, cpu, scalar_bptt

cache.configure()  # before the first dispatcher: where its compiled code is kept

_device = njit(inline="always", **_config.JIT_OPTIONS)
_delta = _device(rnn.delta)
_carry_back = _device(rnn.carry_back)
# Called, not inlined: one compiled loss head serves every activation, and
# it runs once per scored step and sequence, not per unit.
_loss_head = njit(**_config.JIT_OPTIONS)(scalar_bptt.make_loss_head(cpu._exp))


@functools.cache
def _bptt_kernel(name):
    sigma_dsigma = cpu.activation(name)[2]
    activate = cpu.cell(name).activate

    @njit(**_config.JIT_OPTIONS)
    def kernel(WT, W_inT, W_rec, b, alpha, W_out, b_out, x0, U, P, kind, every, paper, leaky, driven, scale,
               Z, S, D, E, Y, Yg, G, Delta, loss_seq, Back, V):  # fmt: skip
        T, B, n = Delta.shape
        # Back (T, B, n) keeps W_rec^T delta_t of every step (row t - 1), which Omega reuses;
        # given as (1, B, n) it is scratch.
        keep_back = Back.shape[0] == T
        A = Back[0]
        for q in range(B):
            for i in range(n):
                z = x0[q, i]
                Z[0, q, i] = z
                if paper:
                    S[0, q, i], D[0, q, i] = sigma_dsigma(z)
                else:
                    S[0, q, i] = z
                    D[0, q, i] = 0.0  # sigma'(a_0) does not exist; never read
        # Forward: the input drive U_t W_in^T + b of every step in one product, then
        # per step A = S_{t-1} W_rec^T and the per-unit step.
        m = U.shape[2]
        if driven:
            np.dot(U.reshape(T * B, m), W_inT, V.reshape(T * B, n))
        for t in range(1, T + 1):
            np.dot(S[t - 1], WT, A)
            for q in range(B):
                for i in range(n):
                    a = A[q, i] + b[i] + (V[t - 1, q, i] if driven else 0.0)
                    Z[t, q, i], S[t, q, i], D[t, q, i] = activate(a, Z[t - 1, q, i], alpha[i], paper, leaky)
        # Losses of the scored steps (row r of P, Y, E: step r + 1, or step T) and dE_t/dz_t.
        for q in range(B):
            total = 0.0
            for r in range(P.shape[0]):
                t = r + 1 if every else T
                total += _loss_head(kind, W_out, b_out, S[t, q], P[r, q], scale, Y[r, q], Yg[r, q], E[r, q])
                if paper:  # d s_t / d x_t = sigma'(x_t)
                    for i in range(n):
                        E[r, q, i] *= D[t, q, i]
            loss_seq[q] = total
        # Backward: g_{t-1} = J_t^T g_t + dE_{t-1}/dz_{t-1}, with J_t^T g = f(W_rec^T delta_t).
        G[T] = E[E.shape[0] - 1]
        for t in range(T, 0, -1):
            for q in range(B):
                for i in range(n):
                    Delta[t - 1, q, i] = _delta(G[t, q, i], D[t, q, i], alpha[i], paper, leaky)
            if keep_back:
                A = Back[t - 1]
            np.dot(Delta[t - 1], W_rec, A)
            direct = every and t >= 2
            for q in range(B):
                for i in range(n):
                    g = _carry_back(G[t, q, i], A[q, i], D[t - 1, q, i], alpha[i], paper, leaky)
                    G[t - 1, q, i] = g + E[t - 2, q, i] if direct else g

    return kernel


def bptt(name, W_rec, W_in, b, alpha, W_out, b_out, x0, U, P, kind, every, paper, leaky, scale,
         Z, S, D, E, Y, Yg, G, Delta, loss_seq, V):  # fmt: skip
    """Forward and backward pass over a batch.

    Assumes validated, C-contiguous input: ``x0`` (B, n), ``U`` (T, B, m),
    ``P`` (T_s, B, q) targets (T_s = T when every step is scored, else 1:
    row r is step r + 1, or step T).  Writes ``Z``, ``S``, ``D``, ``G`` and
    ``Delta`` (see the module notes; ``S`` must not be ``Z``, even in the
    standard form where they are equal: aliasing stops vectorisation), the direct gradients ``E`` (T_s,
    B, n), the outputs ``Y`` and ``Yg = dloss/dy`` (T_s, B, q) and
    ``loss_seq`` (B,).  ``scale`` multiplies every gradient (1/B: the batch
    mean).  ``V`` (T, B, n) is scratch for the input drive (any shape when
    the network has no input).
    """
    B, n = x0.shape
    A = np.empty((1, B, n), dtype=Z.dtype)
    WT = np.ascontiguousarray(W_rec.T)
    W_inT = np.ascontiguousarray(W_in.T)
    _bptt_kernel(name)(WT, W_inT, W_rec, b, alpha, W_out, b_out, x0, U, P, kind, every, paper, leaky,
                       U.shape[2] > 0, scale, Z, S, D, E, Y, Yg, G, Delta, loss_seq, A, V)  # fmt: skip


@njit(**_config.JIT_OPTIONS)
def _lag_kernel(W_rec, alpha, paper, leaky, driven, window, S, D, E, U, V, Delta, A, cW, cin, cb, wW, win, wb):
    T, B, n = Delta.shape
    # Row (t - 1, q) of V holds g^(t)_k = dE_t/dz_k for k = t - lag: the error
    # of the step-t loss alone, carried back lag steps (lag 0: the direct term).
    V[:] = E
    for lag in range(T):
        m = T - lag  # steps t = lag + 1 .. T, sources k = t - lag = 1 .. m
        for t in range(lag + 1, T + 1):
            k = t - lag
            for q in range(B):
                for i in range(n):
                    Delta[k - 1, q, i] = _delta(V[t - 1, q, i], D[k, q, i], alpha[i], paper, leaky)
        # Rows k - 1 = 0 .. m - 1 of Delta pair with rows k - 1 of S and U: one product each.
        d = Delta[:m].reshape(m * B, n)
        np.dot(d.T, S[:m].reshape(m * B, n), cW[lag])
        if driven:
            np.dot(d.T, U[:m].reshape(m * B, U.shape[2]), cin[lag])
        for r in range(m * B):
            for i in range(n):
                cb[lag, i] += d[r, i]
        if window:
            for t in range(lag + 1, T + 1):
                k = t - lag
                np.dot(Delta[k - 1].T, S[k - 1], wW[t - 1, k - 1])
                if driven:
                    np.dot(Delta[k - 1].T, U[k - 1], win[t - 1, k - 1])
                for q in range(B):
                    for i in range(n):
                        wb[t - 1, k - 1, i] += Delta[k - 1, q, i]
        # Carry every row back one more step: V <- J_k^T V.
        a = A[: m * B]
        np.dot(d, W_rec, a)
        for t in range(lag + 1, T + 1):
            k = t - lag
            for q in range(B):
                for i in range(n):
                    r = (k - 1) * B + q
                    V[t - 1, q, i] = _carry_back(V[t - 1, q, i], a[r, i], D[k - 1, q, i], alpha[i], paper, leaky)


def lag_contributions(W_rec, alpha, paper, leaky, window, S, D, E, U, cW, cin, cb, wW, win, wb):
    """Temporal contributions of eq. (4) by lag (and by window) for losses at every step.

    Assumes the arrays written by ``bptt`` (``S``, ``D``, and ``E`` of
    shape (T, B, n): losses at every step) and the inputs ``U``; writes ``cW``
    (T, n, n), ``cin`` (T, n, m) and adds into
    the zeroed ``cb`` (T, n), indexed by the lag t - k, and, when
    ``window``, writes ``wW``, ``win`` and adds into the zeroed ``wb``,
    indexed [t - 1, k - 1] (entries with k > t are left as given).  Costs
    O(T^2 B n^2): one backward pass per loss term, all lags of a batch in
    one matrix product per lag.
    """
    T, B, n = E.shape
    V = np.empty((T, B, n), dtype=S.dtype)
    Delta = np.empty((T, B, n), dtype=S.dtype)
    A = np.empty((T * B, n), dtype=S.dtype)
    _lag_kernel(W_rec, alpha, paper, leaky, U.shape[2] > 0, window, S, D, E, U, V, Delta, A,
                cW, cin, cb, wW, win, wb)  # fmt: skip


@njit(**_config.JIT_OPTIONS)
def outer_sum(A, X, out):
    """``out = sum_{k, q} A[k, q] X[k, q]^T``: A (K, B, n), X (K, B, p), out (n, p); one BLAS product."""
    K, B, n = A.shape
    np.dot(A.reshape(K * B, n).T, X.reshape(K * B, X.shape[2]), out)


@njit(**_config.JIT_OPTIONS)
def outer_sum_per_step(A, X, out):
    """``out[k] = sum_q A[k, q] X[k, q]^T``: A (K, B, n), X (K, B, p), out (K, n, p)."""
    for k in range(A.shape[0]):
        np.dot(A[k].T, X[k], out[k])

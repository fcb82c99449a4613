"""CPU kernels of training for one run: the fused update (a population of one) and a forward-only readout.

``train_step`` makes one update of one run of the task model (standard form,
``h_0 = 0``, a readout, with or without leak) in place, through the population update of
``population.py`` with K = 1 (views, no copies): what `dynrnn.bptt`,
`dynrnn.vanishing_regularizer`, `dynrnn.clip_grad_norm` and
``dynrnn.optim.SGD.step`` do one after another, in one compiled call.

``forward`` runs the readout only, for evaluation on many sequences.
"""

import functools

import numpy as np
from numba import njit

from .. import _config
from . import cache, cpu, population
from .scalar_train import (  # noqa: F401  (the slots of ``stats`` and the policy codes, for callers)
    CLIPPED,
    LOSS,
    N_STATS,
    N_VALID,
    NONFINITE_CODES,
    NORM,
    OMEGA,
    SHRINK,
    SHRUNK,
    SKIP,
    SKIPPED,
    STOP,
    UPDATED,
)

cache.configure()  # before the first dispatcher: where its compiled code is kept


def train_step(name, params, velocity, U, P, kind, every, scale, hyper, scratch, stats, leak=None):
    """One fused update of the task model, in place.

    ``params`` and ``velocity`` are tuples ``(W_rec, W_in, b, W_out, b_out)``
    of C-contiguous arrays, updated in place; ``U`` (T, B, m) and ``P``
    (T_s, B, q) as for ``bptt.bptt``; ``hyper`` is ``(lr, mu, nesterov,
    threshold, alpha, ratio, mean, bound, nonfinite)`` (``threshold=inf``:
    no clipping; ``nonfinite`` a code of `NONFINITE_CODES`); ``scratch`` a
    `Scratch`.  Writes ``stats`` (length `N_STATS`, see the slot names): the
    loss is the batch mean (and the time mean for ``scale = 1 / (B T)``),
    the norm the pre-clip norm of the total gradient.  ``leak`` (n,), if
    given, makes the units leaky: ``h_t = leak h_{t-1} + (1 - leak) sigma(a_t)``.

    With ``name`` "gru" or "lstm", the gated task model (``cells/gru.py``,
    ``lstm.py``): ``params`` and ``velocity`` are ``(W_ih, W_hh, b_ih,
    b_hh, W_out, b_out)``, ``alpha``, ``ratio``, ``mean`` and ``bound`` are
    not read (no Omega) and ``leak`` must be None.
    """
    T, B, m = U.shape
    cell = name if name in population.GATED_CELLS else "rnn"
    stacked = tuple(a.reshape((1, *a.shape)) if a.ndim == 2 else a.reshape((1, 1, -1)) for a in (*params, *velocity))
    _, n, _, q = population.sizes(stacked, cell)
    lr, mu, nesterov, threshold, alpha, ratio, mean, bound, nonfinite = hyper
    work = scratch.get(n, m, q, B, T, every, cell)
    row = stats.reshape((1, -1))
    one = np.zeros(1, dtype=np.int64)
    dtype = params[0].dtype

    def h(x, dtype=np.float64):
        return np.full(1, x, dtype=dtype)

    if cell != "rnn":
        population._gated_population_kernel(cell, _config.CPU_PRODUCTS)(
            one, h(T, np.int64), h(P.shape[0], np.int64), *stacked, U.reshape((1, *U.shape)),
            P.reshape((1, *P.shape)), kind, every, h(scale), h(lr), h(mu), h(nesterov, bool), h(threshold),
            h(nonfinite, np.int64), *work, row,
        )  # fmt: skip
        return
    leak_row = np.zeros((1, n), dtype=dtype) if leak is None else np.array(leak, dtype=dtype).reshape(1, n)
    population._population_kernel(name, _config.CPU_PRODUCTS)(
        one, h(T, np.int64), h(P.shape[0], np.int64), *stacked, leak_row, h(leak is not None, bool),
        U.reshape((1, *U.shape)), P.reshape((1, *P.shape)),
        kind, every, h(scale), h(lr), h(mu), h(nesterov, bool), h(threshold), h(alpha), h(ratio, bool), h(mean, bool),
        bound, h(nonfinite, np.int64), *work, row,
    )  # fmt: skip


class Scratch:
    """Work arrays of `train_step`, kept per problem shape and reused across updates.

    Fresh memory costs page faults on first touch, which at the paper's
    sizes cost more than an update; a run keeps one `Scratch`.
    """

    def __init__(self, n, dtype):
        self.n = n
        self.dtype = np.dtype(dtype)
        self._work = {}

    def get(self, n, m, q, B, T, every, cell="rnn"):
        """The scratch tuple of ``population.scratch_shapes`` for these sizes."""
        key = (n, m, q, B, T, bool(every), cell)
        work = self._work.get(key)
        if work is None:
            shapes = population.scratch_shapes(n, m, q, B, T, every, cell)
            work = tuple(np.zeros(s, dtype=self.dtype) for s in shapes)
            self._work[key] = work
        return work


@functools.cache
def _forward_kernel(name):
    sigma = cpu.activation(name)[0]

    @njit(**_config.JIT_OPTIONS)
    def forward(WT, W_inT, b, W_outT, b_out, leak, leaky, U, every, H, H_next, drive, Y):
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
            if leaky:  # h_t = leak h_{t-1} + (1 - leak) sigma(a_t)
                for q in range(B):
                    for i in range(n):
                        H_next[q, i] = leak[i] * H[q, i] + (1.0 - leak[i]) * H_next[q, i]
            H, H_next = H_next, H
            if every or t == T - 1:
                row = t if every else 0
                np.dot(H, W_outT, Y[row])
                for q in range(B):
                    for c in range(b_out.shape[0]):
                        Y[row, q, c] += b_out[c]

    return forward


def forward(name, W_rec, W_in, b, W_out, b_out, U, every, leak=None):
    """Readout outputs of the task model (standard form, ``h_0 = 0``, leak (n,) or None): (T, B, q) if ``every``
    else (1, B, q)."""
    T, B, _ = U.shape
    n, q = W_rec.shape[0], W_out.shape[0]
    dtype = W_rec.dtype
    Y = np.empty((T if every else 1, B, q), dtype=dtype)
    H, H_next, drive = np.empty((B, n), dtype), np.empty((B, n), dtype), np.empty((B, n), dtype)
    leak_arr = np.zeros(n, dtype) if leak is None else np.array(leak, dtype=dtype).reshape(n)
    _forward_kernel(name)(np.ascontiguousarray(W_rec.T), np.ascontiguousarray(W_in.T), b,
                          np.ascontiguousarray(W_out.T), b_out, leak_arr, leak is not None, U, every, H, H_next, drive,
                          Y)  # fmt: skip
    return Y

"""CPU build of the population update: many training runs advanced by one update per launch.

The member update of ``scalar_train.py`` (with the RNN cell of
``dynrnn/cells/rnn.py``), or of ``scalar_train_gated.py`` for a population
of GRUs or LSTMs (the batch level of ``dynrnn/cells/gru.py`` and
``lstm.py``; one kernel per cell, scratch in `GATED_SCRATCH` order), is
compiled with ``njit`` for a team of one (``worker = 0``, ``n_workers =
1``, a barrier that does nothing).  The
kernel runs it over a list of members and releases the GIL, so
`PopulationUpdate` shares the members between threads of its own, each with
its own scratch: both cores work without Numba's threading layer (no
``parallel=True``, which tripled compile times here).  Members are
independent, so results do not depend on the number of threads.

The small products are a choice (``_config.CPU_PRODUCTS``): ``"blas"``
(default) calls NumPy's BLAS through ``np.dot`` inside the compiled update,
one BLAS thread per call (the drivers pin BLAS to one thread, so two worker
threads never oversubscribe two cores); ``"blocked"`` runs the loops of
``blocked.py`` that the CUDA build uses.  On an AVX-512 Xeon the BLAS update
took 1.6 ms and the blocked one 3.0 ms (n = 50, B = 20, T = 100; the loops
reach ~22 GFLOP/s, OpenBLAS's small products ~2x that): see
benchmarks/RESULTS.md.

Stacked layouts, K members: parameters and velocities (K, n, n), (K, n, m),
(K, 1, n), (K, q, n), (K, 1, q) (a GRU's or LSTM's: (K, kn, m), (K, kn, n),
(K, 1, kn) twice, (K, q, n), (K, 1, q)); batches ``U`` (K, T_max, B, m) and targets
``P`` (K, T_s max, B, q), of which member k reads its first ``T[k]`` and
``T_s[k]`` rows; per-member hyper-parameters (K,), the leaks ``leak`` (K, n)
with ``leaky`` (K,) (a member without leak: zeros, not read); ``stats``
(K, N_STATS).
"""

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from .. import _config
from ..cells import gru, lstm
from ..gradients.clipping import SHRINK_ABOVE, SHRINK_RATE
from . import cache, cpu, scalar_train, scalar_train_gated
from .scalar_train import N_STATS, NONFINITE_CODES  # noqa: F401  (re-exported for the drivers)

cache.configure()  # before the first dispatcher: where its compiled code is kept

_device = njit(**_config.JIT_OPTIONS)


@_device
def _no_sync():
    """The barrier of a team of one."""


@_device
def _blas_gemm_nn(X, W, Y, worker, n_workers):
    """``Y = X W`` by BLAS (a team of one)."""
    np.dot(X, W, Y)


@_device
def _blas_gemm_tn_steps(A, X, out, worker, n_workers):
    """``out = sum_t A[t]^T X[t]`` as one BLAS product over the stacked rows (a team of one)."""
    T, R, N = A.shape
    np.dot(A.reshape((T * R, N)).T, X.reshape((T * R, X.shape[2])), out)


@_device
def _blas_column_sums_steps(A, out, worker, n_workers):
    """``out[i] = sum_{t, r} A[t, r, i]`` in row order (a team of one)."""
    out[:] = 0.0
    for t in range(A.shape[0]):
        for r in range(A.shape[1]):
            for i in range(A.shape[2]):
                out[i] += A[t, r, i]


BLAS_PRODUCTS = (_blas_gemm_nn, _blas_gemm_tn_steps, _blas_column_sums_steps)


@functools.cache
def _member_update(name, products):
    sigma_dsigma = cpu.activation(name)[2]
    chosen = BLAS_PRODUCTS if products == "blas" else None
    return _device(
        scalar_train.make_member_update(
            _device, sigma_dsigma, cpu._exp, _no_sync, SHRINK_ABOVE, SHRINK_RATE, chosen, inline=cpu._device
        )
    )


@functools.cache
def _population_kernel(name, products):
    update = _member_update(name, products)

    @njit(nogil=True, **_config.JIT_OPTIONS)
    def kernel(members, T_len, T_s_len, W_rec, W_in, b, W_out, b_out, v_rec, v_in, v_b, v_out, v_bout, leak, leaky,
               U, P, kind, every, scale, lr, mu, nesterov, threshold, alpha, ratio, mean, bound, nonfinite,
               WT, W_inT, V, S, D, E, Y, Yg, G, Delta, Back, Om, loss_seq, gW, gWin, gb, gWout, gbout, gO,
               stats):  # fmt: skip
        for idx in range(members.shape[0]):
            k = members[idx]
            T = T_len[k]
            T_s = T_s_len[k]
            update(0, 1, W_rec[k], W_in[k], b[k], W_out[k], b_out[k], v_rec[k], v_in[k], v_b[k], v_out[k],
                   v_bout[k], leak[k], leaky[k], U[k, :T], P[k, :T_s], kind, every, scale[k], lr[k], mu[k], nesterov[k],
                   threshold[k], alpha[k], ratio[k], mean[k], bound, nonfinite[k], WT, W_inT, V[:T], S[: T + 1],
                   D[: T + 1], E[:T_s], Y[:T_s], Yg[:T_s], G[: T + 1], Delta[:T], Back[:T], Om[:, :T], loss_seq,
                   gW, gWin, gb, gWout, gbout, gO, stats[k])  # fmt: skip

    return kernel


GATED_CELLS = {"gru": gru, "lstm": lstm}


@functools.cache
def _gated_member_update(cell, products):
    chosen = BLAS_PRODUCTS if products == "blas" else None
    sigmoid, tanh = cpu.activation("logistic")[0], cpu.activation("tanh")[0]
    return _device(
        scalar_train_gated.make_gated_member_update(
            _device, GATED_CELLS[cell], sigmoid, tanh, cpu._exp, _no_sync, SHRINK_ABOVE, SHRINK_RATE, chosen
        )
    )


@functools.cache
def _gated_population_kernel(cell, products):
    update = _gated_member_update(cell, products)

    @njit(nogil=True, **_config.JIT_OPTIONS)
    def kernel(members, T_len, T_s_len, W_ih, W_hh, b_ih, b_hh, W_out, b_out, v_ih, v_hh, v_bih, v_bhh, v_out,
               v_bout, U, P, kind, every, scale, lr, mu, nesterov, threshold, nonfinite,
               W_ihT, W_hhT, V, A, H, C, Gates, Aux, E, Y, Yg, G, Gc, D_ih, D_hh, loss_seq,
               gWih, gWhh, gbih, gbhh, gWout, gbout, stats):  # fmt: skip
        for idx in range(members.shape[0]):
            k = members[idx]
            T = T_len[k]
            T_s = T_s_len[k]
            update(0, 1, W_ih[k], W_hh[k], b_ih[k], b_hh[k], W_out[k], b_out[k], v_ih[k], v_hh[k], v_bih[k],
                   v_bhh[k], v_out[k], v_bout[k], U[k, :T], P[k, :T_s], kind, every, scale[k], lr[k], mu[k],
                   nesterov[k], threshold[k], nonfinite[k], W_ihT, W_hhT, V, A, H[: T + 1], C[: T + 1], Gates[:T],
                   Aux[:T], E[:T_s], Y[:T_s], Yg[:T_s], G[: T + 1], Gc[: T + 1], D_ih[:T], D_hh[:T], loss_seq,
                   gWih, gWhh, gbih, gbhh, gWout, gbout, stats[k])  # fmt: skip

    return kernel


SCRATCH = ("WT", "W_inT", "V", "S", "D", "E", "Y", "Yg", "G", "Delta", "Back", "Om", "loss_seq",
           "gW", "gWin", "gb", "gWout", "gbout", "gO")  # fmt: skip
GATED_SCRATCH = ("W_ihT", "W_hhT", "V", "A", "H", "C", "Gates", "Aux", "E", "Y", "Yg", "G", "Gc", "D_ih", "D_hh",
                 "loss_seq", "gWih", "gWhh", "gbih", "gbhh", "gWout", "gbout")  # fmt: skip


def scratch_shapes(n, m, q, B, T_max, every, cell="rnn"):
    """Shapes of one worker's scratch arrays (in `SCRATCH` order, or `GATED_SCRATCH` for a gated ``cell``) for
    lengths up to ``T_max``."""
    T_s = T_max if every else 1
    if cell != "rnn":
        K = GATED_CELLS[cell].N_GATES * n
        return ((m, K), (n, K), (B, K), (B, K), (T_max + 1, B, n), (T_max + 1, B, n), (T_max, B, K), (T_max, B, n),
                (T_s, B, n), (T_s, B, q), (T_s, B, q), (T_max + 1, B, n), (T_max + 1, B, n), (T_max, B, K),
                (T_max, B, K), (B,), (K, m), (K, n), (1, K), (1, K), (q, n), (1, q))  # fmt: skip
    return ((n, n), (m, n), (T_max, B, n), (T_max + 1, B, n), (T_max + 1, B, n), (T_s, B, n), (T_s, B, q),
            (T_s, B, q), (T_max + 1, B, n), (T_max, B, n), (T_max, B, n), (3, T_max, B), (B,),
            (n, n), (n, m), (1, n), (q, n), (1, q), (n, n))  # fmt: skip


def scratch_bytes(n, m, q, B, T_max, every, itemsize, cell="rnn"):
    """Bytes of one worker's scratch."""
    return itemsize * sum(math.prod(s) for s in scratch_shapes(n, m, q, B, T_max, every, cell))


def sizes(params, cell="rnn"):
    """``(K, n, m, q)`` of a population's stacked parameters (see `PopulationUpdate`)."""
    if cell == "rnn":
        return params[0].shape[0], params[0].shape[1], params[1].shape[2], params[3].shape[1]
    return params[0].shape[0], params[1].shape[2], params[0].shape[2], params[4].shape[1]


def usable_cores():
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class PopulationUpdate:
    """Advance the active members of a population by one update each, sharing them between threads.

    Parameters
    ----------
    activations : sequence of str
        Each member's activation (members of several activations share a
        launch: each thread runs one compiled kernel per activation);
        not read for a gated ``cell``.
    params, velocity : tuple of ndarrays
        Stacked ``(W_rec, W_in, b, W_out, b_out)`` (or, for a gated
        ``cell``, ``(W_ih, W_hh, b_ih, b_hh, W_out, b_out)``, the biases as
        (K, 1, kn) rows) and their velocities, C-contiguous, in the layouts
        of the module notes; updated in place.
    hyper : dict of ndarrays
        ``lr, mu, nesterov, threshold, alpha, ratio, mean, nonfinite``,
        ``leaky`` (K,), and ``leak`` (K, n) (a gated cell reads ``lr, mu,
        nesterov, threshold, nonfinite`` only).
    B, T_max, every : int, int, bool
        Batch size, longest length, whether every step is scored.
    n_threads : int
        Worker threads (at most K); each owns one scratch.
    cell : {"rnn", "gru", "lstm"}, default "rnn"
        The cell every member shares.
    """

    def __init__(self, activations, params, velocity, hyper, B, T_max, every, n_threads, cell="rnn"):
        self.cell = cell
        self.params, self.velocity, self.hyper = params, velocity, hyper
        K, n, m, q = sizes(params, cell)
        if cell == "rnn":
            self.activations = np.asarray(activations)
            names = sorted(set(activations))
            self.kernels = {name: _population_kernel(name, _config.CPU_PRODUCTS) for name in names}
        else:
            self.activations = np.full(K, cell)
            self.kernels = {cell: _gated_population_kernel(cell, _config.CPU_PRODUCTS)}
        dtype = params[0].dtype
        self.n_threads = max(1, min(int(n_threads), K))
        self.scratch = [
            tuple(np.zeros(s, dtype=dtype) for s in scratch_shapes(n, m, q, B, T_max, every, cell))
            for _ in range(self.n_threads)
        ]
        self.stats = np.zeros((K, N_STATS))
        self._pool = ThreadPoolExecutor(self.n_threads) if self.n_threads > 1 else None

    def _work(self, w, members, args):
        """Worker ``w``: its members, one kernel per activation."""
        for name, kernel in self.kernels.items():
            share = members[self.activations[members] == name] if len(self.kernels) > 1 else members
            if share.size:
                kernel(share, *args, *self.scratch[w], self.stats)

    def __call__(self, active, U, P, T_len, T_s_len, kind, every, scale, bound=1e-20):
        """One update of every member ``k`` with ``active[k]``; writes and returns ``self.stats``."""
        members = np.flatnonzero(active).astype(np.int64)
        h = self.hyper
        if self.cell != "rnn":
            args = (T_len, T_s_len, *self.params, *self.velocity, U, P, kind, every, scale, h["lr"], h["mu"],
                    h["nesterov"], h["threshold"], h["nonfinite"])  # fmt: skip
        else:
            args = (T_len, T_s_len, *self.params, *self.velocity, h["leak"], h["leaky"], U, P, kind, every, scale,
                    h["lr"], h["mu"], h["nesterov"], h["threshold"], h["alpha"], h["ratio"], h["mean"], bound,
                    h["nonfinite"])  # fmt: skip
        if self._pool is None or members.size < 2:
            self._work(0, members, args)
            return self.stats
        shares = [members[w :: self.n_threads] for w in range(self.n_threads)]  # round robin: equal loads
        futures = [self._pool.submit(self._work, w, share, args) for w, share in enumerate(shares) if share.size]
        for f in futures:
            f.result()
        return self.stats

    def close(self):
        """Stop the worker threads."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

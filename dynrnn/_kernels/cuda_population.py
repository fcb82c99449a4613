"""CUDA build of the population update: one thread block per member, the block's threads its team.

The member update of ``scalar_train.py`` (with the RNN cell of
``dynrnn/cells/rnn.py`` and the products of ``blocked.py``), or of
``scalar_train_gated.py`` for a population of GRUs or LSTMs (the cells'
batch level in ``dynrnn/cells/gru.py`` and ``lstm.py``), is compiled as a
CUDA device function, the same code the CPU build compiles with ``njit``:
the block's threads share each member's work (the batch's sequences
through time, the rows of the gradients) and meet at ``cuda.syncthreads``.
Imported only for ``backend="cuda"``.

`CudaPopulationUpdate` has the call signature of the CPU
``population.PopulationUpdate``.  Parameters and velocities stay on the
device between launches; after each launch they are copied back into the
host arrays the runs hold (a few thousand numbers per member), so
evaluations, results and checkpoints read them as on the CPU.  Scratch is
per member (``(K, ...)`` device arrays).
"""

import functools
import math

import numpy as np
from numba import cuda

from .. import _config
from ..gradients.clipping import SHRINK_ABOVE, SHRINK_RATE
from . import scalar_train, scalar_train_gated
from .cuda import _quiet, activation
from .population import GATED_CELLS, scratch_shapes, sizes
from .scalar_train import N_STATS

_device = cuda.jit(device=True)


@_device
def _sync():
    cuda.syncthreads()


@functools.cache
def _population_kernel(name):
    update = _device(
        scalar_train.make_member_update(_device, activation(name)[2], math.exp, _sync, SHRINK_ABOVE, SHRINK_RATE)
    )

    @cuda.jit
    def kernel(active, T_len, T_s_len, W_rec, W_in, b, W_out, b_out, v_rec, v_in, v_b, v_out, v_bout, leak, leaky,
               U, P, kind, every, scale, lr, mu, nesterov, threshold, alpha, ratio, mean, bound, nonfinite,
               WT, W_inT, V, S, D, E, Y, Yg, G, Delta, Back, Om, loss_seq, gW, gWin, gb, gWout, gbout, gO,
               stats):  # fmt: skip
        k = cuda.blockIdx.x
        if k < active.shape[0] and active[k]:  # the same for every thread of the block
            T = T_len[k]
            T_s = T_s_len[k]
            update(cuda.threadIdx.x, cuda.blockDim.x, W_rec[k], W_in[k], b[k], W_out[k], b_out[k], v_rec[k],
                   v_in[k], v_b[k], v_out[k], v_bout[k], leak[k], leaky[k], U[k, :T], P[k, :T_s], kind, every,
                   scale[k], lr[k], mu[k], nesterov[k], threshold[k], alpha[k], ratio[k], mean[k], bound,
                   nonfinite[k], WT[k], W_inT[k],
                   V[k, :T], S[k, : T + 1], D[k, : T + 1], E[k, :T_s], Y[k, :T_s], Yg[k, :T_s], G[k, : T + 1],
                   Delta[k, :T], Back[k, :T], Om[k, :, :T], loss_seq[k], gW[k], gWin[k], gb[k], gWout[k], gbout[k],
                   gO[k], stats[k])  # fmt: skip

    return kernel


@functools.cache
def _gated_population_kernel(cell):
    update = _device(
        scalar_train_gated.make_gated_member_update(_device, GATED_CELLS[cell], activation("logistic")[0],
                                                    activation("tanh")[0], math.exp, _sync, SHRINK_ABOVE, SHRINK_RATE)
    )  # fmt: skip

    @cuda.jit
    def kernel(active, T_len, T_s_len, W_ih, W_hh, b_ih, b_hh, W_out, b_out, v_ih, v_hh, v_bih, v_bhh, v_out,
               v_bout, U, P, kind, every, scale, lr, mu, nesterov, threshold, nonfinite,
               W_ihT, W_hhT, V, A, H, C, Gates, Aux, E, Y, Yg, G, Gc, D_ih, D_hh, loss_seq,
               gWih, gWhh, gbih, gbhh, gWout, gbout, stats):  # fmt: skip
        k = cuda.blockIdx.x
        if k < active.shape[0] and active[k]:  # the same for every thread of the block
            T = T_len[k]
            T_s = T_s_len[k]
            update(cuda.threadIdx.x, cuda.blockDim.x, W_ih[k], W_hh[k], b_ih[k], b_hh[k], W_out[k], b_out[k],
                   v_ih[k], v_hh[k], v_bih[k], v_bhh[k], v_out[k], v_bout[k], U[k, :T], P[k, :T_s], kind, every,
                   scale[k], lr[k], mu[k], nesterov[k], threshold[k], nonfinite[k], W_ihT[k], W_hhT[k], V[k], A[k],
                   H[k, : T + 1], C[k, : T + 1], Gates[k, :T], Aux[k, :T], E[k, :T_s], Y[k, :T_s], Yg[k, :T_s],
                   G[k, : T + 1], Gc[k, : T + 1], D_ih[k, :T], D_hh[k, :T], loss_seq[k], gWih[k], gWhh[k],
                   gbih[k], gbhh[k], gWout[k], gbout[k], stats[k])  # fmt: skip

    return kernel


class CudaPopulationUpdate:
    """The CUDA twin of ``population.PopulationUpdate`` (same constructor and call); one block per member.

    Threads per block: ``_config.THREADS_PER_BLOCK`` (read at construction),
    at most the widest row count a member's work splits (the batch size, or
    ``n`` (RNN) or the kn gate rows (GRU, LSTM)), since more threads would idle.
    """

    def __init__(self, activations, params, velocity, hyper, B, T_max, every, n_threads=None, cell="rnn"):
        self.cell = cell
        K, n, m, q = sizes(params, cell)
        if cell == "rnn":
            self.activations = np.asarray(activations)
            self.kernels = {name: _population_kernel(name) for name in sorted(set(activations))}
        else:
            self.activations = np.full(K, cell)
            self.kernels = {cell: _gated_population_kernel(cell)}
        self.params, self.velocity = params, velocity
        rows = n if cell == "rnn" else GATED_CELLS[cell].N_GATES * n  # the widest gradient a member splits
        self.threads = max(1, min(_config.THREADS_PER_BLOCK, max(B, rows)))
        self.d_params = tuple(cuda.to_device(a) for a in params)
        self.d_velocity = tuple(cuda.to_device(a) for a in velocity)
        self.d_hyper = tuple(
            cuda.to_device(np.ascontiguousarray(hyper[key]))
            for key in ("lr", "mu", "nesterov", "threshold", "alpha", "ratio", "mean")
        )
        self.d_nonfinite = cuda.to_device(np.ascontiguousarray(hyper["nonfinite"]))
        self.d_leak = cuda.to_device(np.ascontiguousarray(hyper["leak"]))
        self.d_leaky = cuda.to_device(np.ascontiguousarray(hyper["leaky"]))
        dtype = params[0].dtype
        self.d_scratch = tuple(
            cuda.device_array((K, *s), dtype=dtype) for s in scratch_shapes(n, m, q, B, T_max, every, cell)
        )
        self.stats = np.zeros((K, N_STATS))
        self.d_stats = cuda.to_device(self.stats)

    def __call__(self, active, U, P, T_len, T_s_len, kind, every, scale, bound=1e-20):
        """One update of every member ``k`` with ``active[k]``; writes and returns ``self.stats``."""
        K = active.shape[0]
        d_U, d_P = cuda.to_device(U), cuda.to_device(P)
        d_T, d_T_s, d_scale = cuda.to_device(T_len), cuda.to_device(T_s_len), cuda.to_device(scale)
        lr, mu, nesterov, threshold, alpha, ratio, mean = self.d_hyper
        for name, kernel in self.kernels.items():
            mask = np.ascontiguousarray(active & (self.activations == name))
            if not mask.any():
                continue
            if self.cell != "rnn":
                with _quiet():
                    kernel[K, self.threads](
                        cuda.to_device(mask), d_T, d_T_s, *self.d_params, *self.d_velocity, d_U, d_P, kind, every,
                        d_scale, lr, mu, nesterov, threshold, self.d_nonfinite, *self.d_scratch, self.d_stats,
                    )  # fmt: skip
                continue
            with _quiet():
                kernel[K, self.threads](
                    cuda.to_device(mask), d_T, d_T_s, *self.d_params, *self.d_velocity, self.d_leak, self.d_leaky,
                    d_U, d_P, kind, every,
                    d_scale, lr, mu, nesterov, threshold, alpha, ratio, mean, bound, self.d_nonfinite,
                    *self.d_scratch, self.d_stats,
                )  # fmt: skip
        for d, h in zip((*self.d_params, *self.d_velocity), (*self.params, *self.velocity), strict=True):
            d.copy_to_host(h)
        self.d_stats.copy_to_host(self.stats)
        return self.stats

    def close(self):
        """Nothing to stop (device memory is freed with the object)."""

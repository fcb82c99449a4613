"""Benchmark: training updates per second of dynrnn's gated cells (GRU and LSTM), MSGD-C on the temporal order.

The configuration: the temporal-order task of Pascanu, Mikolov & Bengio
(2013), Sec. 4.1 (one-hot 6-dimensional inputs, T = 100 steps, a softmax
over 4 classes at the last step with the cross-entropy loss, batch mean),
learned by a GRU or an LSTM with 50 units -- PyTorch's equations and gate
order (``torch.nn.GRU``: r, z, n; ``torch.nn.LSTM``: i, f, g, o; both
biases ``b_ih`` and ``b_hh`` trained, ``h_0 = c_0 = 0``) and a linear
readout of the last ``h`` -- initialized as ``dynrnn.train`` does (``init=
"uniform"``: PyTorch's default, every weight ~ U(-1/sqrt(n), 1/sqrt(n))),
batch 20, trained by MSGD-C: BPTT, norm clipping at threshold 1
(Algorithm 1) and an SGD step with lr 0.01, float64 (MSGD-CR is refused for
gated cells: Omega is defined for the RNN only).  A population is K such
runs with seeds 2013, ..., 2013 + K - 1 (each with its own initial network
and batches), for K in ``--ks`` and each cell of ``--cells``.  One timed call
trains every member for ``u = ceil(--updates / K)`` updates from its
initial network (the dynrnn rows at least ``--min-updates``: their calls
include set-up and a last evaluation); the rate is ``K u`` over the call's
wall time, the aggregate updates/s.  Rows, side by side in one run, each
implementation in a fresh process:

* NumPy loop (the reference): the same update written out with batched
  matrix products (forward over the batch, BPTT through the gates, the
  clip, SGD), one member after another, BLAS on one thread;
* ``dynrnn.train`` loop: ``dynrnn.train(cell=..., method="MSGD-C",
  max_updates=u, eval_every=u + 1, n_check=1, n_eval=1)`` for each member in
  turn, end to end (it draws its own batches, builds its network, ends with
  an evaluation on one sequence), one thread (its own setting);
* ``dynrnn.train_population``: one call with the K members' ``dynrnn.train``
  arguments (the same as above), ``n_threads=None`` (the engine's default:
  every usable core), end to end;
* PyTorch loop: ``nn.GRU`` / ``nn.LSTM`` (``batch_first=False``: inputs (T,
  B, m), as the other rows) + ``nn.Linear`` on the last ``h`` +
  ``cross_entropy`` + ``backward()`` + norm clipping + ``optim.SGD``, one
  member after another, ``torch.set_num_threads(--torch-threads)``, default
  1 (bench_population's reason: the products are too small to split);
* JAX ``jit(vmap(update))`` over the members (``lax.scan`` forward,
  ``jax.grad``, Algorithm 1, SGD; XLA's default pool on every core), when
  JAX is installed (else the row reads ``skipped (not installed)``).

The NumPy, JAX and PyTorch rows get pre-generated batches: the ones
``dynrnn.train`` draws for the same seeds (``_train_models.make_problem``
with ``cell``); the dynrnn rows draw their own inside the time.

Agreement, checked before a time is shown: every member of every row makes
ONE update from its initial parameters on its first batch with threshold 1
(the timed setting; the first batches' gradient norms are about 0.2, so it
does not clip) and ONE with threshold 0.1 (so that the clip acts), and the
twelve steps (new minus old parameters, six per update) must match the
float64 NumPy update of the same member to rtol 1e-9 (atol 1e-15).  A row
that disagrees reads ``failed`` and gets no time.  The PyTorch row clips as
bench_train's (``clip_grad_norm_`` in its two halves, the norm given less
1e-6, so that the factor is ``threshold / norm``, Algorithm 1's, at the same
cost).

The ceiling is the float64 ``dgemm`` flop rate of a 2000 x 2000 product on
all usable cores, measured in the run as bench_population's (the larger of
one process with one BLAS thread per core and one single-threaded process
per core running at once), divided by the matrix-product flops of one
update.  With k gate blocks (3 for the GRU, 4 for the LSTM), n units, m
inputs, batch B and T steps, per step: forward ``U_t W_ih^T`` (2 B kn m) and
``H_{t-1} W_hh^T`` (2 B kn n); backward the error carried to ``h_{t-1}``,
``D_hh W_hh`` (2 B kn n), and the weight gradients ``D_ih^T U_t`` (2 kn m B)
and ``D_hh^T H_{t-1}`` (2 kn n B): ``k T B (6 n^2 + 4 n m)`` in all, 97.2
MFLOP for the GRU and 129.6 MFLOP for the LSTM here (the readout's ``6 B q
n``, the gates' nonlinearities and the elementwise products are left out).
The rows on one thread (NumPy, ``dynrnn.train``, PyTorch) can reach at most
1 / (usable cores) of that ceiling.  No targets are set.

Usage::

    python benchmarks/bench_gated.py            # GRU and LSTM, K = 1, 2, 8, 128 updates a call
    python benchmarks/bench_gated.py --quick    # CI: K = 1, 2, 4 updates a call, 3 repeats
    python benchmarks/bench_gated.py --cells lstm --ks 8 --rows population,torch-loop
    python benchmarks/bench_gated.py --write    # also append to RESULTS.md
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _workers import BLAS_VARS as _BLAS_VARS  # noqa: E402
from _workers import CORES, apply_worker_env, check_updates, choices, int_list  # noqa: E402
from _workers import ONE as _ONE  # noqa: E402
from _workers import rate as _rate  # noqa: E402

#: Thread settings of each worker process, set before NumPy (or any library with a thread pool) is imported.
THREAD_ENV = {
    "numpy": {**_ONE, "NUMBA_NUM_THREADS": "1"},
    "train": {**_ONE, "NUMBA_NUM_THREADS": "1"},
    "population": {"NUMBA_NUM_THREADS": str(CORES)},
    "torch-loop": {"NUMBA_NUM_THREADS": "1"},
    "jax-vmap": {**_ONE, "NUMBA_NUM_THREADS": "1", "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=true"},
    "roof-threads": dict.fromkeys(_BLAS_VARS, str(CORES)),
    "roof-single": _ONE,
}

apply_worker_env(THREAD_ENV)  # in a worker: its thread settings, before NumPy is imported

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _harness import Impl  # noqa: E402
from _measure import check_row, measure  # noqa: E402
from _provenance import REPO, error_text, provenance, write_results  # noqa: E402
from _train_models import (  # noqa: E402
    GATED_INIT,
    GATED_PARAMS,
    LR,
    N_CLASSES,
    N_INPUTS,
    N_UNITS,
    SEED,
    THRESHOLD,
    make_problem,
    torch_clipper,
)
from roofline import dgemm_roofline  # noqa: E402

if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # an installed dynrnn still wins

CELLS = ("gru", "lstm")
N_GATES = {"gru": 3, "lstm": 4}
#: The agreement updates' thresholds: the timed one (no clip on the first batches) and one that clips.
AGREEMENT = (THRESHOLD, 0.1)
RTOL, ATOL = 1e-9, 1e-15
ROOF_N = 2000  # matrix size of the roofline products


def flops_per_update(cell, steps, batch):
    """Matrix-product flops of one gated update: ``k T B (6 n^2 + 4 n m)``, k = 3 (GRU) or 4 (LSTM).

    Forward ``U_t W_ih^T`` and ``H_{t-1} W_hh^T``; backward ``D_hh W_hh``
    (the error on ``h_{t-1}``), ``D_ih^T U_t`` and ``D_hh^T H_{t-1}`` (the
    weight gradients); the readout's products are left out.
    """
    n, m = N_UNITS, N_INPUTS
    return N_GATES[cell] * steps * batch * (6 * n * n + 4 * n * m)


# ------------------------------------------------------------------ NumPy


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def numpy_gated_grads(cell, params, inputs, labels):
    """The gradients of the batch-mean cross-entropy at the last step of a GRU or LSTM, by batched NumPy BPTT.

    Parameters
    ----------
    cell : {"gru", "lstm"}
        PyTorch's equations and gate order (r, z, n; i, f, g, o).
    params : tuple of ndarray
        ``(W_ih, W_hh, b_ih, b_hh, W_out, b_out)``, biases 1-D.
    inputs : ndarray, shape (T, B, m)
    labels : ndarray of int, shape (B,)

    Returns
    -------
    tuple of ndarray
        The gradients, in the order of ``params``.
    """
    W_ih, W_hh, b_ih, b_hh, W_out, b_out = params
    T, B, m = inputs.shape
    n = W_hh.shape[1]
    kn = W_hh.shape[0]
    H = np.zeros((T + 1, B, n))
    C = np.zeros((T + 1, B, n))  # the LSTM's cell state
    V = (inputs.reshape(T * B, m) @ W_ih.T + b_ih).reshape(T, B, kn)  # input drive of every step
    S = np.empty((T, B, kn))  # the gates, after their nonlinearities
    Q = np.empty((T, B, n))  # the GRU's W_hn h + b_hn, which the reset gate scales
    for t in range(1, T + 1):
        A = H[t - 1] @ W_hh.T + b_hh
        s, v = S[t - 1], V[t - 1]
        if cell == "gru":
            s[:, : 2 * n] = _sigmoid(v[:, : 2 * n] + A[:, : 2 * n])
            Q[t - 1] = A[:, 2 * n :]
            s[:, 2 * n :] = np.tanh(v[:, 2 * n :] + s[:, :n] * Q[t - 1])
            z, g = s[:, n : 2 * n], s[:, 2 * n :]
            H[t] = (1.0 - z) * g + z * H[t - 1]
        else:
            a = v + A
            s[:, : 2 * n] = _sigmoid(a[:, : 2 * n])
            s[:, 2 * n : 3 * n] = np.tanh(a[:, 2 * n : 3 * n])
            s[:, 3 * n :] = _sigmoid(a[:, 3 * n :])
            i, f, g, o = (s[:, j * n : (j + 1) * n] for j in range(4))
            C[t] = f * C[t - 1] + i * g
            H[t] = o * np.tanh(C[t])
    y = H[T] @ W_out.T + b_out
    y -= y.max(axis=1, keepdims=True)
    dy = np.exp(y)
    dy /= dy.sum(axis=1, keepdims=True)
    dy[np.arange(B), labels] -= 1.0
    dy /= B
    dW_out = dy.T @ H[T]
    db_out = dy.sum(axis=0)
    D_ih = np.empty((T, B, kn))  # errors on the input-side pre-activations W_ih u + b_ih
    D_hh = np.empty((T, B, kn))  # and on the hidden-side ones W_hh h + b_hh
    G = dy @ W_out  # dE/dh_t
    Gc = np.zeros((B, n))  # dE/dc_t (LSTM)
    for t in range(T, 0, -1):
        s, d_ih, d_hh = S[t - 1], D_ih[t - 1], D_hh[t - 1]
        if cell == "gru":
            r, z, g = s[:, :n], s[:, n : 2 * n], s[:, 2 * n :]
            dg = G * (1.0 - z) * (1.0 - g * g)
            d_ih[:, :n] = dg * Q[t - 1] * r * (1.0 - r)
            d_ih[:, n : 2 * n] = G * (H[t - 1] - g) * z * (1.0 - z)
            d_ih[:, 2 * n :] = dg
            d_hh[:, : 2 * n] = d_ih[:, : 2 * n]
            d_hh[:, 2 * n :] = dg * r
            G = G * z + d_hh @ W_hh
        else:
            i, f, g, o = (s[:, j * n : (j + 1) * n] for j in range(4))
            tc = np.tanh(C[t])
            dc = Gc + G * o * (1.0 - tc * tc)
            d_ih[:, :n] = dc * g * i * (1.0 - i)
            d_ih[:, n : 2 * n] = dc * C[t - 1] * f * (1.0 - f)
            d_ih[:, 2 * n : 3 * n] = dc * i * (1.0 - g * g)
            d_ih[:, 3 * n :] = G * tc * o * (1.0 - o)
            d_hh[:] = d_ih
            Gc = dc * f
            G = d_hh @ W_hh
    d_ih, d_hh = D_ih.reshape(T * B, kn), D_hh.reshape(T * B, kn)
    dW_ih = d_ih.T @ inputs.reshape(T * B, m)
    dW_hh = d_hh.T @ H[:T].reshape(T * B, n)
    return dW_ih, dW_hh, d_ih.sum(axis=0), d_hh.sum(axis=0), dW_out, db_out


def numpy_gated_step(cell, params, inputs, labels, threshold):
    """Reference: one MSGD-C update in place (BPTT, Algorithm 1 on the whole gradient, ``theta -= lr g``).

    Returns
    -------
    float
        The gradient norm.
    """
    grads = numpy_gated_grads(cell, params, inputs, labels)
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    factor = threshold / norm if norm >= threshold else 1.0
    for p, g in zip(params, grads, strict=True):
        p -= (LR * factor) * g
    return norm


# ---------------------------------------------------------------- PyTorch


def torch_gated_parts(cell, threads):
    """The PyTorch model of ``cell``, its six parameters, ``optim.SGD`` and the clip (Algorithm 1), float64.

    Returns
    -------
    tuple
        ``(torch, rnn, readout, params, opt, clip, start, read)``: ``nn.GRU``
        or ``nn.LSTM`` (inputs (T, B, m)), ``nn.Linear``, the parameters
        ``(W_ih, W_hh, b_ih, b_hh, W_out, b_out)``, the optimizer,
        ``clip(threshold)``, ``start(params0)`` (copy NumPy parameters in)
        and ``read()`` (NumPy copies of the parameters).
    """
    import torch

    torch.set_num_threads(threads)
    module = torch.nn.GRU if cell == "gru" else torch.nn.LSTM
    rnn = module(N_INPUTS, N_UNITS, batch_first=False, dtype=torch.float64)
    readout = torch.nn.Linear(N_UNITS, N_CLASSES, dtype=torch.float64)
    params = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, readout.weight, readout.bias)
    opt = torch.optim.SGD(params, lr=LR)

    clip = torch_clipper(params)

    def start(params0):
        with torch.no_grad():
            for p, p0 in zip(params, params0, strict=True):
                p.copy_(torch.from_numpy(p0))

    def read():
        return tuple(p.detach().numpy().copy() for p in params)

    return torch, rnn, readout, params, opt, clip, start, read


# -------------------------------------------------------------------- JAX


def jax_gated_update(cell):
    """The MSGD-C update of ``cell`` as a pure JAX function (not jitted), ``jax_enable_x64`` on.

    Returns
    -------
    jax, jnp : module
    msgd_c : callable
        ``msgd_c(params, inputs, labels, threshold) -> params``: ``lax.scan``
        forward, ``grad``, Algorithm 1, SGD.
    """
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def loss_fn(params, inputs, labels):
        W_ih, W_hh, b_ih, b_hh, W_out, b_out = params
        n = W_hh.shape[1]
        V = inputs @ W_ih.T + b_ih
        h0 = jnp.zeros((inputs.shape[1], n), dtype=W_hh.dtype)
        if cell == "gru":

            def step(h, v):
                a = h @ W_hh.T + b_hh
                r = jax.nn.sigmoid(v[:, :n] + a[:, :n])
                z = jax.nn.sigmoid(v[:, n : 2 * n] + a[:, n : 2 * n])
                g = jnp.tanh(v[:, 2 * n :] + r * a[:, 2 * n :])
                return (1.0 - z) * g + z * h, None

            h, _ = jax.lax.scan(step, h0, V)
        else:

            def step(hc, v):
                h, c = hc
                a = v + h @ W_hh.T + b_hh
                i, f, o = (jax.nn.sigmoid(a[:, j * n : (j + 1) * n]) for j in (0, 1, 3))
                c = f * c + i * jnp.tanh(a[:, 2 * n : 3 * n])
                return (o * jnp.tanh(c), c), None

            (h, _), _ = jax.lax.scan(step, (h0, h0), V)
        logp = jax.nn.log_softmax(h @ W_out.T + b_out)
        return -jnp.mean(logp[jnp.arange(labels.shape[0]), labels])

    def msgd_c(params, inputs, labels, threshold):
        grads = jax.grad(loss_fn)(params, inputs, labels)
        norm = jnp.sqrt(sum(jnp.sum(g * g) for g in grads))
        factor = jnp.where(norm >= threshold, threshold / norm, 1.0)
        return tuple(p - (LR * factor) * g for p, g in zip(params, grads, strict=True))

    return jax, jnp, msgd_c


# ----------------------------------------------------------------- members


def per_member(args, K, key):
    """Updates of each member in one timed call of implementation ``key``.

    ``ceil(--updates / K)``, and for the dynrnn rows, whose calls include
    set-up and a last evaluation of each member, at least ``--min-updates``.
    """
    least = args.min_updates if key in DYNRNN_ROWS else 1
    return max(least, -(-args.updates // K))


def member_kwargs(cell, k, args, updates, threshold=THRESHOLD):
    """The ``dynrnn.train`` arguments of member ``k`` (seed ``SEED + k``): ``updates`` updates, one evaluation."""
    return dict(task="temporal_order", cell=cell, init=GATED_INIT, method="MSGD-C", length=args.steps,
                seed=SEED + k, n_units=N_UNITS, batch_size=args.batch, lr=LR, threshold=threshold,
                max_updates=updates, eval_every=updates + 1, n_check=1, n_eval=1, dtype=np.float64)  # fmt: skip


def problems(cell, K, u, args):
    """Members ``0 .. K-1``: their initial parameters (tuples of 6 arrays), inputs (K, u, T, B, m), labels (K, u, B)."""
    drawn = [make_problem(u, args.steps, args.batch, SEED + k, np.float64, cell) for k in range(K)]
    olds = [p[: len(GATED_PARAMS)] for p in drawn]
    inputs = np.stack([p[len(GATED_PARAMS)] for p in drawn])
    labels = np.stack([p[len(GATED_PARAMS) + 1] for p in drawn])
    return olds, inputs, labels


def stack_steps(news, olds):
    """Agreement outputs: per (update, parameter), the members' steps stacked, shape (K, ...).

    ``news[j][k]`` are the parameters of member ``k`` after agreement update
    ``j`` (one per `AGREEMENT` threshold), ``olds[k]`` its initial parameters.
    """
    return tuple(
        np.stack([np.asarray(new[k][i], dtype=np.float64) - olds[k][i] for k in range(len(olds))])
        for new in news
        for i in range(len(GATED_PARAMS))
    )


def reference(cell, K, args):
    """The NumPy agreement outputs of members ``0 .. K-1``, and the gradient norms of their first batches."""
    olds, inputs, labels = problems(cell, K, 1, args)
    news, norms = [[] for _ in AGREEMENT], []
    for k in range(K):
        for j, threshold in enumerate(AGREEMENT):
            new = tuple(p.copy() for p in olds[k])
            norm = numpy_gated_step(cell, new, inputs[k, 0], labels[k, 0], threshold)
            news[j].append(new)
        norms.append(norm)
    return stack_steps(news, olds), norms


# --------------------------------------------------------- implementations


def numpy_runner(cell, K, u, args):
    """NumPy: the members one after another, each ``u`` batched-matmul MSGD-C updates."""
    olds, inputs, labels = problems(cell, K, u, args)
    agreement = []

    def run():
        if not agreement:
            news = [[] for _ in AGREEMENT]
            for k in range(K):
                for j, threshold in enumerate(AGREEMENT):
                    new = tuple(p.copy() for p in olds[k])
                    numpy_gated_step(cell, new, inputs[k, 0], labels[k, 0], threshold)
                    news[j].append(new)
            agreement.extend(stack_steps(news, olds))
        for k in range(K):
            params = tuple(p.copy() for p in olds[k])
            for t in range(u):
                numpy_gated_step(cell, params, inputs[k, t], labels[k, t], THRESHOLD)
        return tuple(agreement)

    return run


def train_runner(cell, K, u, args):
    """``dynrnn.train`` for each member in turn, end to end (one thread)."""
    import dynrnn

    olds = problems(cell, K, 1, args)[0]
    agreement = []

    def run():
        if not agreement:
            news = []
            for threshold in AGREEMENT:
                res = [dynrnn.train(**member_kwargs(cell, k, args, 1, threshold), progress=False) for k in range(K)]
                news.append([tuple(r.params[name] for name in GATED_PARAMS) for r in res])
            agreement.extend(stack_steps(news, olds))
        counts = [dynrnn.train(**member_kwargs(cell, k, args, u), progress=False).n_updates for k in range(K)]
        check_updates(counts, u)
        return tuple(agreement)

    return run


def population_runner(cell, K, u, args):
    """``dynrnn.train_population`` on K member dicts, end to end."""
    import dynrnn

    olds = problems(cell, K, 1, args)[0]
    runs = [member_kwargs(cell, k, args, u) for k in range(K)]
    agreement = []

    def run():
        if not agreement:
            news = []
            for threshold in AGREEMENT:
                one = [member_kwargs(cell, k, args, 1, threshold) for k in range(K)]
                res = dynrnn.train_population(one, progress=False)
                news.append([tuple(r.params[name] for name in GATED_PARAMS) for r in res.runs])
            agreement.extend(stack_steps(news, olds))
        res = dynrnn.train_population(runs, progress=False)
        check_updates((r.n_updates for r in res.runs), u)
        return tuple(agreement)

    return run


def torch_loop_runner(cell, K, u, args):
    """PyTorch: the members one after another, each ``u`` ``nn.GRU``/``nn.LSTM`` MSGD-C updates."""
    torch, rnn, readout, params, opt, clip, start, read = torch_gated_parts(cell, args.torch_threads)
    olds, inputs, labels = problems(cell, K, u, args)
    x = [[torch.from_numpy(inputs[k, t]) for t in range(u)] for k in range(K)]
    y = [[torch.from_numpy(labels[k, t]) for t in range(u)] for k in range(K)]
    agreement = []

    def step(x, y, threshold):
        opt.zero_grad()
        out, _ = rnn(x)
        torch.nn.functional.cross_entropy(readout(out[-1]), y).backward()
        clip(threshold)
        opt.step()

    def run():
        if not agreement:
            news = [[] for _ in AGREEMENT]
            for k in range(K):
                for j, threshold in enumerate(AGREEMENT):
                    start(olds[k])
                    step(x[k][0], y[k][0], threshold)
                    news[j].append(read())
            agreement.extend(stack_steps(news, olds))
        for k in range(K):
            start(olds[k])
            for t in range(u):
                step(x[k][t], y[k][t], THRESHOLD)
            read()
        return tuple(agreement)

    return run


def jax_vmap_runner(cell, K, u, args):
    """JAX ``jit(vmap(msgd_c))``: one call per update for all members."""
    jax, jnp, msgd_c = jax_gated_update(cell)
    step = jax.jit(jax.vmap(msgd_c, in_axes=(0, 0, 0, None)))
    olds, inputs, labels = problems(cell, K, u, args)
    params0 = tuple(np.stack([old[i] for old in olds]) for i in range(len(GATED_PARAMS)))
    agreement = []

    def run():
        start = tuple(jnp.asarray(p) for p in params0)
        if not agreement:
            news = []
            for threshold in AGREEMENT:
                new = tuple(np.asarray(p) for p in step(start, inputs[:, 0], labels[:, 0], threshold))
                news.append([tuple(p[k] for p in new) for k in range(K)])
            agreement.extend(stack_steps(news, olds))
        params = start
        for t in range(u):
            params = step(params, inputs[:, t], labels[:, t], THRESHOLD)
        jax.block_until_ready(params)
        return tuple(agreement)

    return run


def _threads_text(key, args):
    """The thread settings seen inside a worker after its measurements."""
    if key in ("numpy", "train", "population"):
        import numba
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()) or "none loaded"
        own = {"numpy": "", "train": "dynrnn.train's n_threads=1; ", "population": "n_threads=None; "}[key]
        return f"{own}numba.get_num_threads() = {numba.get_num_threads()}; BLAS pools: {blas}"
    if key == "torch-loop":
        import torch

        return f"torch.set_num_threads({torch.get_num_threads()}), {torch.get_num_interop_threads()} inter-op threads"
    if key == "jax-vmap":
        import jax

        flags = os.environ.get("XLA_FLAGS", "")
        return f"XLA_FLAGS='{flags}', {len(jax.devices())} CPU device, XLA's default pool on {CORES} cores"
    return ""


IMPLS = (
    Impl("numpy", "numpy loop (batched matmuls)", numpy_runner),
    Impl("train", "dynrnn.train loop", train_runner),
    Impl("population", "dynrnn.train_population", population_runner),
    Impl("torch-loop", "torch loop nn.GRU/nn.LSTM", torch_loop_runner, modules=("torch",)),
    Impl("jax-vmap", "jax jit(vmap)", jax_vmap_runner, modules=("jax",)),
)
KEYS = tuple(impl.key for impl in IMPLS)
DYNRNN_ROWS = ("train", "population")  # timed end to end: set-up and a last evaluation included
BASELINES = ("numpy", "torch-loop")  # the speed-up columns


# ------------------------------------------------------------------ workers


def worker(key, args):
    """Measure one implementation at every (cell, K) and save rows and agreement outputs to ``--workdir``."""
    impl = next(impl for impl in IMPLS if impl.key == key)
    rows, arrays = [], {}
    for cell in args.cells:
        for K in args.ks:
            u = per_member(args, K, key)
            one = Impl(impl.key, impl.label, functools.partial(impl.factory, cell, K, u, args))
            row = measure(one, (), args.repeats)
            for i, a in enumerate(row.pop("result", ())):
                arrays[f"{cell}_{K}_{i}"] = a
            rows.append({"cell": cell, "K": K, "u": u, **row})
    try:
        threads = _threads_text(key, args)
    except Exception as exc:
        threads = f"unknown ({error_text(exc)})"
    np.savez(args.workdir / f"{key}.npz", **arrays)
    (args.workdir / f"{key}.json").write_text(json.dumps({"rows": rows, "threads": threads}))


def roofline_worker(args):
    """Roofline worker: the float64 matrix-product flop rate of this process, printed as JSON."""
    if args.start_at:
        time.sleep(max(0.0, args.start_at - time.time()))
    print(json.dumps(dgemm_roofline(n=ROOF_N, repeats=args.roof_repeats)["flops_per_s"]))


def _worker_cmd(key, args, extra=()):
    """Command line of a worker process with the run's resolved settings."""
    return [sys.executable, str(Path(__file__).resolve()), "--worker", key, *settings_argv(args), *extra]


def measure_roofline(args):
    """The ``dgemm`` ceiling on all usable cores: one process with CORES BLAS threads, and CORES processes.

    Returns
    -------
    dict
        ``threads`` and ``procs`` (flop/s of the two ways) and ``roof``
        (the larger).
    """
    out = subprocess.run(_worker_cmd("roof-threads", args), capture_output=True, text=True, check=True)
    threads = json.loads(out.stdout.strip().splitlines()[-1])
    start = time.time() + 3.0  # every process starts its products at the same moment
    procs = [
        subprocess.Popen(
            _worker_cmd("roof-single", args, ("--start-at", str(start))), stdout=subprocess.PIPE, text=True
        )
        for _ in range(CORES)
    ]
    together = sum(json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs)
    return {"threads": threads, "procs": together, "roof": max(threads, together)}


def run_rows(args):
    """Measure every implementation in its own process and check it against the NumPy reference.

    Returns
    -------
    rows : list of dict
        One per (implementation, cell, K), with ``key``, ``name``, ``cell``,
        ``K``, ``u``, ``status`` and, when timed and agreeing, ``first_s``,
        ``times``, ``err``.
    threads : dict
        Implementation key -> its thread settings text.
    norms : dict
        Cell -> the gradient norms of the members' first batches.
    """
    refs, norms = {}, {}
    for cell in args.cells:
        refs[cell], norms[cell] = reference(cell, max(args.ks), args)
    rows, threads = [], {}
    with tempfile.TemporaryDirectory(prefix="bench_gated_") as tmp:
        for impl in IMPLS:
            if impl.key not in args.rows:
                continue
            reason = impl.skip_reason()
            got = None
            if reason is None:
                proc = subprocess.run(_worker_cmd(impl.key, args, ("--workdir", tmp)), capture_output=True, text=True)
                meta = Path(tmp) / f"{impl.key}.json"
                if proc.returncode != 0 or not meta.exists():
                    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                    reason = f"failed (worker exit {proc.returncode}: {last[:60]})"
                else:
                    got = json.loads(meta.read_text())
                    threads[impl.key] = got["threads"]
                    with np.load(Path(tmp) / f"{impl.key}.npz") as data:
                        arrays = {name: data[name] for name in data.files}
            for cell in args.cells:
                for K in args.ks:
                    base = {"key": impl.key, "name": impl.label, "cell": cell, "K": K,
                            "u": per_member(args, K, impl.key)}  # fmt: skip
                    if got is None:
                        rows.append({**base, "status": reason})
                        continue
                    row = {**base, **next(r for r in got["rows"] if r["cell"] == cell and r["K"] == K)}
                    if row["status"] == "ok":
                        n_out = sum(1 for name in arrays if name.startswith(f"{cell}_{K}_"))
                        row["result"] = tuple(arrays[f"{cell}_{K}_{i}"] for i in range(n_out))
                        check_row(row, tuple(r[:K] for r in refs[cell]), None, RTOL, ATOL)
                    rows.append(row)
    return rows, threads, norms


# ------------------------------------------------------------------- report


def _find(rows, key, cell, K):
    return next((r for r in rows if r["key"] == key and r["cell"] == cell and r["K"] == K), None)


def format_table(rows, roof, args):
    """One line per (cell, K, implementation): status, times, updates/s, roofline fraction, speed-ups."""
    label = f"roofline: dgemm on {CORES} cores"
    width = max(len(n) for n in ["implementation", label, *(impl.label for impl in IMPLS)]) + 1
    vs = [f"vs {key}" for key in BASELINES]
    header = (
        f"{'cell':<5}{'K':>4}  {'implementation':<{width}} {'status':<10} {'upd/member':>10} {'first call s':>12} "
        f"{'median s':>9} {'min s':>9} {'max s':>9} {'updates/s':>10} {'roofline':>8} {vs[0]:>9} {vs[1]:>13} "
        f"{'max rel err':>11}"
    )
    lines = [header, "-" * len(header)]
    for cell in args.cells:
        per = flops_per_update(cell, args.steps, args.batch)
        for K in args.ks:
            bases = [_find(rows, key, cell, K) for key in BASELINES]
            for row in (r for r in rows if r["cell"] == cell and r["K"] == K):
                head = f"{cell:<5}{K:>4}  {row['name']:<{width}} "
                if "times" not in row:
                    lines.append(f"{head}{row['status']}")
                    continue
                rate = _rate(row)
                ratios = [f"{rate / _rate(b):.2f}x" if b is not None and "times" in b else "n/a" for b in bases]
                err = "reference" if row["key"] == "numpy" else f"{row['err']:.1e}"
                lines.append(
                    f"{head}{row['status']:<10} {row['u']:>10} {row['first_s']:>12.3f} "
                    f"{statistics.median(row['times']):>9.4f} {min(row['times']):>9.4f} {max(row['times']):>9.4f} "
                    f"{rate:>10.3e} {rate * per / roof['roof']:>8.3f} {ratios[0]:>9} {ratios[1]:>13} {err:>11}"
                )
        lines.append(f"{cell:<5}{'':>4}  {label:<{width}} {'measured':<10} {'':>10} {'':>12} {'':>9} {'':>9} {'':>9} "
                     f"{roof['roof'] / per:>10.3e} {1.0:>8.3f}")  # fmt: skip
    return "\n".join(lines)


def report(rows, threads, norms, roof, args):
    """The printed report: what is measured, threads, ceiling, agreement, table."""
    ks = ", ".join(f"K={K}: {per_member(args, K, DYNRNN_ROWS[0])}/{per_member(args, K, 'numpy')}" for K in args.ks)
    per = {cell: flops_per_update(cell, args.steps, args.batch) for cell in args.cells}
    article = {"gru": "a GRU", "lstm": "an LSTM"}
    flops = ", ".join(
        f"{per[cell] / 1e6:.2f} MFLOP {article[cell]} update (k = {N_GATES[cell]}): "
        f"{roof['roof'] / per[cell]:.3e} updates/s"
        for cell in args.cells
    )
    norm_text = "; ".join(f"{cell.upper()} {min(norms[cell]):.3f}-{max(norms[cell]):.3f}" for cell in args.cells)
    head = [
        f"gated training: temporal order, {' and '.join(c.upper() for c in args.cells)} (PyTorch's equations and "
        f"gate order, init {GATED_INIT}) n={N_UNITS}, m={N_INPUTS}, q={N_CLASSES}, batch {args.batch}, "
        f"T = {args.steps}, MSGD-C (threshold {THRESHOLD:g}, lr {LR:g}), float64; K independent members (seeds "
        f"{SEED} + k); updates per member a call (dynrnn rows/others): {ks}; aggregate updates/s = K x updates per "
        f"member / median call; median of {args.repeats} after one warm-up call, each implementation in a fresh "
        "process",
        f"threads ({CORES} usable cores):",
        *(f"  {impl.label}: {threads[impl.key]}" for impl in IMPLS if impl.key in threads),
        f"roofline: dgemm float64 {roof['threads'] / 1e9:.1f} GFLOP/s in one process on {CORES} BLAS threads, "
        f"{roof['procs'] / 1e9:.1f} GFLOP/s in {CORES} one-thread processes at once (n={ROOF_N}, median of "
        f"{args.roof_repeats}); ceiling = the larger / (k*T*B*(6n^2 + 4nm) flops of matrix products an update): "
        f"{flops}; a one-thread row reaches at most {1 / CORES:.3g} of it",
        f"agreement vs a float64 NumPy update of each member: rtol {RTOL:.0e} (atol {ATOL:.0e}) on the steps of one "
        f"update with threshold {AGREEMENT[0]:g} and one with {AGREEMENT[1]:g} (the clip acts) of every member from "
        f"its initial parameters on its first batch (gradient norms there: {norm_text})",
    ]
    return "\n".join([*head, "", format_table(rows, roof, args)])


# --------------------------------------------------------------------- main


#: Options with a full and a --quick default: (flag, full, quick, parser, help).
OPTIONS = (
    ("--cells", "gru,lstm", "gru,lstm", choices(CELLS), "gated cells, comma separated"),
    ("--ks", "1,2,8", "1,2", int_list, "population sizes K, comma separated"),
    ("--updates", 128, 4, int, "updates a timed call aims at over all members: ceil(UPDATES / K) per member"),
    (
        "--min-updates",
        16,
        2,
        int,
        "least updates per member a call of the dynrnn rows (amortizes set-up and the last evaluation)",
    ),
    ("--repeats", 5, 3, int, "timed calls per (implementation, cell, K)"),
    ("--roof-repeats", 10, 5, int, "timed matrix products of the roofline"),
    ("--steps", 100, 100, int, "time steps T"),
    ("--batch", 20, 20, int, "sequences per batch"),
    ("--torch-threads", 1, 1, int, "torch.set_num_threads of the PyTorch row"),
    ("--rows", ",".join(KEYS), ",".join(KEYS), choices(KEYS), "implementations to run, comma separated"),
)


def parse_args(argv):
    """Parse the command line; settings left unset take their full or ``--quick`` default."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI mode: K = 1 and 2, 4 updates a call, 3 repeats")
    for flag, full, quick, kind, text in OPTIONS:
        also = "" if quick == full else f", {quick} with --quick"
        parser.add_argument(flag, type=kind, default=None, help=f"{text} (default {full}{also})")
    parser.add_argument("--write", action="store_true", help="append the report to benchmarks/RESULTS.md")
    parser.add_argument("--worker", choices=[*KEYS, "roof-threads", "roof-single"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for flag, full, quick, kind, _ in OPTIONS:
        dest = flag.lstrip("-").replace("-", "_")
        if getattr(args, dest) is None:
            default = quick if args.quick else full
            setattr(args, dest, kind(default) if isinstance(full, str) else default)
    for name in ("updates", "min_updates", "repeats", "roof_repeats", "steps", "batch", "torch_threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def settings_argv(args):
    """The resolved settings as options, passed on to the workers."""
    out = []
    for flag, *_ in OPTIONS:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        out += [flag, ",".join(map(str, value)) if isinstance(value, list) else str(value)]
    return out


def main(argv=None):
    """Run the benchmark and print its report (and with ``--write`` append it to RESULTS.md)."""
    recorded = sys.argv if argv is None else [sys.argv[0], *argv]
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker in ("roof-threads", "roof-single"):
        roofline_worker(args)
        return 0
    if args.worker:
        worker(args.worker, args)
        return 0
    rows, threads, norms = run_rows(args)
    roof = measure_roofline(args)
    text = report(rows, threads, norms, roof, args)
    torch_threads = str(args.torch_threads) if "torch-loop" in threads else "n/a"
    print(provenance(recorded, torch_threads))
    print()
    print(text)
    if args.write:
        write_results("bench_gated", text, recorded, torch_threads)
        print("\nappended to benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

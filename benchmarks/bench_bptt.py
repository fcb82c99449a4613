"""Benchmark: loss and BPTT gradient of the paper's temporal-order network.

A standard-form tanh RNN with 50 units, ``h_t = tanh(W_rec h_{t-1} + W_in u_t
+ b)``, batch 20, T = 200 steps of one-hot 6-dimensional inputs, and a
softmax readout over 4 classes at the last step with the cross-entropy
loss (the temporal-order configuration of Pascanu, Mikolov & Bengio 2013,
Sec. 4.1), ``h_0 = 0``.  One call computes the batch-mean loss and its
gradient with respect to ``W_rec``, ``W_in``, ``b``, ``W_out`` and
``b_out``.  Implementations compared in one run, on the same data:

* NumPy: BPTT written out with batched matrix products (the reference,
  defined in this file);
* dynrnn: ``dynrnn.bptt(..., "cross_entropy", at="last", contributions=None, keep_states=False)``;
* PyTorch: ``torch.nn.RNN`` + ``torch.nn.Linear`` + ``cross_entropy`` +
  ``backward()``;
* JAX: ``lax.scan`` + ``jax.value_and_grad`` under ``jit`` (float64).

Every implementation must agree with NumPy (``rtol`` 1e-9) on the loss and
on all five gradients before a time is shown.  The ceiling is the float64
rate of a 1000 x 1000 ``dgemm`` measured in the run; one call costs about
``T B (6 n^2 + 4 n m)`` flops.  Every implementation runs on ONE thread
(BLAS, OpenMP, Numba, PyTorch intra-op, XLA): a batch of 20 sequences of 50
units is too small to split well, and on a 2-core machine shared thread
pools make times erratic.  ``--write`` appends the table and the run's
provenance to ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_bptt.py            # T = 200, 7 repeats
    python benchmarks/bench_bptt.py --quick    # T = 50, 3 repeats (CI)
    python benchmarks/bench_bptt.py --write    # also append to RESULTS.md
"""

import os

THREADS = 1
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = str(THREADS)
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
).strip()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _harness import Benchmark, Ceiling, Impl, Setting, Target, main  # noqa: E402
from roofline import dgemm_roofline  # noqa: E402

N_UNITS, N_INPUTS, N_CLASSES = 50, 6, 4
SEED = 2013


def make_problem(batch, n_steps):
    """Weights, one-hot inputs and labels (seeded; ``basic_tanh``-like N(0, 0.1^2) weights).

    Returns
    -------
    tuple
        ``(W_rec, W_in, b, W_out, b_out, inputs, labels)`` with inputs of
        shape (T, B, 6) and integer labels of shape (B,).
    """
    rng = np.random.default_rng(SEED)
    n, m, q = N_UNITS, N_INPUTS, N_CLASSES
    W_rec = rng.normal(0.0, 0.1, (n, n))
    W_in = rng.normal(0.0, 0.1, (n, m))
    b = rng.normal(0.0, 0.1, n)
    W_out = rng.normal(0.0, 0.1, (q, n))
    b_out = rng.normal(0.0, 0.1, q)
    inputs = np.zeros((n_steps, batch, m))
    symbol = rng.integers(0, m, (n_steps, batch))
    inputs[np.arange(n_steps)[:, None], np.arange(batch)[None, :], symbol] = 1.0
    labels = rng.integers(0, q, batch)
    return W_rec, W_in, b, W_out, b_out, inputs, labels


# ------------------------------------------------------- implementations


def numpy_bptt(W_rec, W_in, b, W_out, b_out, inputs, labels):
    """Reference: BPTT with batched NumPy matrix products, one Python step per time step.

    Returns
    -------
    tuple of ndarray
        ``(loss, dW_rec, dW_in, db, dW_out, db_out)``; the loss is 0-d.
    """
    T, B, _ = inputs.shape
    h = np.zeros((T + 1, B, W_rec.shape[0]))
    for t in range(1, T + 1):
        h[t] = np.tanh(h[t - 1] @ W_rec.T + inputs[t - 1] @ W_in.T + b)
    y = h[T] @ W_out.T + b_out
    y -= y.max(axis=1, keepdims=True)
    logp = y - np.log(np.exp(y).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(B), labels].mean()
    dy = np.exp(logp)
    dy[np.arange(B), labels] -= 1.0
    dy /= B
    dW_out = dy.T @ h[T]
    db_out = dy.sum(axis=0)
    g = dy @ W_out
    dW_rec = np.zeros_like(W_rec)
    dW_in = np.zeros_like(W_in)
    db = np.zeros_like(b)
    for t in range(T, 0, -1):
        delta = g * (1.0 - h[t] ** 2)
        dW_rec += delta.T @ h[t - 1]
        dW_in += delta.T @ inputs[t - 1]
        db += delta.sum(axis=0)
        g = delta @ W_rec
    return np.asarray(loss), dW_rec, dW_in, db, dW_out, db_out


def dynrnn_runner():
    """Return a runner calling ``dynrnn.bptt`` (network built inside, as a user would per update)."""
    import dynrnn

    def run(W_rec, W_in, b, W_out, b_out, inputs, labels):
        net = dynrnn.RNN(W_rec, W_in, b, activation="tanh", form="standard", W_out=W_out, b_out=b_out)
        res = dynrnn.bptt(
            net, None, inputs, labels, loss="cross_entropy", at="last", contributions=None, keep_states=False
        )
        g = res.grads
        return np.asarray(res.loss), g["W_rec"], g["W_in"], g["b"], g["W_out"], g["b_out"]

    return run


def torch_runner():
    """Return a PyTorch runner: ``nn.RNN`` + ``nn.Linear`` + cross-entropy + autograd (float64, 1 thread).

    ``nn.RNN`` has two biases; ``bias_hh`` is held at zero and ``bias_ih``
    carries ``b`` (both receive the same gradient).
    """
    import torch

    torch.set_num_threads(THREADS)
    rnn = torch.nn.RNN(N_INPUTS, N_UNITS, nonlinearity="tanh", dtype=torch.float64)
    readout = torch.nn.Linear(N_UNITS, N_CLASSES, dtype=torch.float64)
    rnn.bias_hh_l0.requires_grad_(False)

    def run(W_rec, W_in, b, W_out, b_out, inputs, labels):
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(torch.from_numpy(W_rec))
            rnn.weight_ih_l0.copy_(torch.from_numpy(W_in))
            rnn.bias_ih_l0.copy_(torch.from_numpy(b))
            rnn.bias_hh_l0.zero_()
            readout.weight.copy_(torch.from_numpy(W_out))
            readout.bias.copy_(torch.from_numpy(b_out))
        for p in (rnn.weight_hh_l0, rnn.weight_ih_l0, rnn.bias_ih_l0, readout.weight, readout.bias):
            p.grad = None
        out, _ = rnn(torch.from_numpy(inputs))
        loss = torch.nn.functional.cross_entropy(readout(out[-1]), torch.from_numpy(labels))
        loss.backward()
        grads = (rnn.weight_hh_l0, rnn.weight_ih_l0, rnn.bias_ih_l0, readout.weight, readout.bias)
        return (loss.detach().numpy(), *(p.grad.numpy() for p in grads))

    return run


def jax_runner():
    """Return a JAX runner: ``jit(value_and_grad)`` of a ``lax.scan`` RNN (float64, 1 thread)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def loss_fn(params, inputs, labels):
        W_rec, W_in, b, W_out, b_out = params

        def step(h, u):
            return jnp.tanh(h @ W_rec.T + u @ W_in.T + b), None

        h, _ = jax.lax.scan(step, jnp.zeros((inputs.shape[1], W_rec.shape[0])), inputs)
        logp = jax.nn.log_softmax(h @ W_out.T + b_out)
        return -jnp.mean(logp[jnp.arange(labels.shape[0]), labels])

    compiled = jax.jit(jax.value_and_grad(loss_fn))

    def run(W_rec, W_in, b, W_out, b_out, inputs, labels):
        loss, grads = compiled((W_rec, W_in, b, W_out, b_out), inputs, labels)
        jax.block_until_ready(grads)
        return (np.asarray(loss), *(np.asarray(g) for g in grads))

    return run


# ------------------------------------------------------------ benchmark


def inputs(args):
    """Arguments of every runner: the seeded problem at ``--batch`` and ``--steps``."""
    return make_problem(args.batch, args.steps)


def flops(args):
    """Floating-point operations of one loss-and-gradient call (matrix products only)."""
    n, m = N_UNITS, N_INPUTS
    return args.steps * args.batch * (6 * n * n + 4 * n * m)


def roofline(args):
    """The dgemm ceiling: float64 flop rate of a 1000 x 1000 product on one thread."""
    roof = dgemm_roofline(repeats=5 if args.quick else 10)
    text = (
        f"roofline: dgemm float64 {roof['flops_per_s'] / 1e9:.2f} GFLOP/s on {THREADS} thread "
        f"(n={roof['n']}, median of {roof['repeats']}); work = T*B*(6n^2 + 4nm) flops of matrix products"
    )
    return Ceiling(roof["flops_per_s"], f"roofline: dgemm x {THREADS} thread", text)


def describe(args):
    """First report line: the network, the batch and the settings."""
    return (
        f"BPTT loss+grad: standard-form tanh RNN n={N_UNITS}, one-hot m={N_INPUTS}, softmax q={N_CLASSES} "
        f"at the last step; batch {args.batch}, T = {args.steps}, float64, {THREADS} thread for every library"
    )


BENCH = Benchmark(
    name="bench_bptt",
    doc=__doc__,
    script=__file__,
    impls=(
        Impl("numpy", "numpy (batched matmuls)", lambda: numpy_bptt),
        Impl("dynrnn-cpu", "dynrnn.bptt (cpu)", dynrnn_runner),
        Impl("torch", "torch nn.RNN autograd", torch_runner, modules=("torch",)),
        Impl("jax", "jax jit scan+grad", jax_runner, modules=("jax",)),
    ),
    settings=(Setting("--steps", 200, 50, "time steps T"), Setting("--batch", 20, 20, "sequences per batch")),
    inputs=inputs,
    work=flops,
    roofline=roofline,
    describe=describe,
    quick_help="CI mode: T = 50, 3 repeats",
    outputs=("loss", "dW_rec", "dW_in", "db", "dW_out", "db_out"),
    mask=None,  # outputs of different shapes: compare every entry
    unit="flop/s",
    rtol=1e-9,
    atol=1e-13,
    # the targets: >= 3x PyTorch CPU and >= 1.5x JAX jit
    targets=(Target("dynrnn-cpu", "speedup", 3.0, vs="torch"), Target("dynrnn-cpu", "speedup", 1.5, vs="jax")),
)


if __name__ == "__main__":
    sys.exit(main(BENCH))

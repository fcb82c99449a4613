"""Benchmark: training updates per second on the Figure 7 configuration (temporal order, MSGD-CR).

The network and update of Pascanu, Mikolov & Bengio (2013), Sec. 4.1: a
standard-form tanh RNN with 50 units (``smart_tanh`` initialization), batch
20, T = 100 steps of one-hot 6-dimensional inputs, a softmax readout over 4
classes at the last step with the cross-entropy loss, and one MSGD-CR update
per batch: BPTT, Omega of eq. (10) and its gradient (weight alpha = 4, the
paper's), norm clipping at threshold 1 (Algorithm 1) and an SGD step with
lr 0.01, float64.  One timed call is a block of ``--updates`` updates from
the same initial parameters; the rate is updates per second.
Implementations compared in one run:

* NumPy: the same MSGD-CR update written out with batched matrix products
  (the reference, defined in this file);
* dynrnn ``train``: ``dynrnn.train("temporal_order", method="MSGD-CR", ...,
  max_updates=K, eval_every=K, n_check=1, n_eval=1)`` end to end, what a
  user runs: it draws its own batches (the same ones the other rows get, see
  below), builds its network, and ends with two evaluations on one sequence
  each and a spectral radius (nothing is subtracted);
* dynrnn fused: ``dynrnn._kernels.train.train_step``, the one compiled call
  per update that ``dynrnn.train`` makes, on pre-generated batches (one
  ``Scratch``, parameters updated in place);
* PyTorch: ``nn.RNN`` + ``nn.Linear`` + ``cross_entropy`` on the last step +
  ``backward()`` + norm clipping + ``optim.SGD``.  This is MSGD-C: it has no
  Omega (``2 T B n^2`` fewer flops an update, see the roofline line);
* PyTorch MSGD-CR: the same with Omega, written as a step loop (``nn.RNN``
  does not expose dE/dh_t) with Omega's gradient by autograd;
* JAX: ``jit`` of the whole MSGD-C update (``lax.scan`` forward, ``grad``,
  clipping, SGD), one call per update.

Agreement, checked before a time is shown: every implementation makes ONE
MSGD-CR update (alpha = 4, threshold 1: the timed settings) and ONE MSGD-C
update (alpha = 0, threshold 0.1, so that the clip acts: the first batch's
gradient norms are 0.84 and 0.17) from the same parameters on the same
batch, and the ten steps (new minus old parameters, five per update) must
match NumPy's to ``rtol`` 1e-9.  PyTorch's ``nn.RNN`` row and JAX make
their MSGD-CR step with the Omega code of the PyTorch MSGD-CR row and of a
JAX variant (dE/dh_t as the gradient with respect to a zero added to each
state); their MSGD-C step is the timed code.  The inputs are the network and the batches
``dynrnn.train`` draws for seed 2013 (``SeedSequence(seed).spawn(3)``: the
first stream initializes, the second draws the batches), so its row is
checked too.  ``nn.RNN``'s second bias ``bias_hh`` is held at zero (``b`` is
``bias_ih``).  ``torch.nn.utils.clip_grad_norm_`` scales by ``threshold /
(norm + 1e-6)``, a 1e-6 relative difference from Algorithm 1; the PyTorch
rows call its two halves (``get_total_norm``, then
``clip_grads_with_norm_`` given ``norm - 1e-6``) so the clip is
``threshold / norm`` at the same cost.

The ceiling is the float64 rate of a 1000 x 1000 ``dgemm`` measured in the
run, divided by the matrix-product flops of one MSGD-CR update, about ``T B
(8 n^2 + 4 n m)``.  Every implementation runs on ONE thread (BLAS, OpenMP,
Numba, PyTorch intra-op, XLA).  The first-call column includes JIT
compilation and the two agreement updates.  ``--write`` appends the table
and the run's provenance to ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_train.py            # 100 updates a call, 7 repeats
    python benchmarks/bench_train.py --quick    # 10 updates a call, 3 repeats (CI)
    python benchmarks/bench_train.py --write    # also append to RESULTS.md
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
LR, THRESHOLD, ALPHA = 0.01, 1.0, 4.0  # the paper's Figure 7 settings (alpha: the paper's 4, the code's is 2)
# The agreement updates: (method, alpha, threshold).  The MSGD-C one clips at 0.1 so that the clip acts: the
# gradient norms of the first batch are about 0.84 with Omega and 0.17 without, both below THRESHOLD.
AGREEMENT = (("MSGD-CR", ALPHA, THRESHOLD), ("MSGD-C", 0.0, 0.1))
OMEGA_BOUND = 1e-20  # Omega skips the terms with ||dE/dx_{k+1}||^2 below this (the authors' code)
INIT = "smart_tanh"
SEED = 2013
PARAMS = ("W_rec", "W_in", "b", "W_out", "b_out")


def make_problem(n_updates, n_steps, batch):
    """The network and the batches that ``dynrnn.train(..., seed=SEED)`` starts from and draws.

    Returns
    -------
    tuple
        ``(W_rec, W_in, b, W_out, b_out, inputs, labels, targets)``:
        the initial parameters, inputs of shape (K, T, B, 6), integer
        labels (K, B) and the same labels one-hot, (K, 1, B, 4).
    """
    import dynrnn

    rng_init, rng_train, _ = (np.random.default_rng(s) for s in np.random.SeedSequence(SEED).spawn(3))
    net = dynrnn.init_network(INIT, N_UNITS, N_INPUTS, N_CLASSES, rng_init)
    params = tuple(np.array(getattr(net, k)) for k in PARAMS)
    inputs = np.empty((n_updates, n_steps, batch, N_INPUTS))
    labels = np.empty((n_updates, batch), dtype=np.int64)
    for k in range(n_updates):
        drawn = dynrnn.tasks.temporal_order(batch, n_steps, rng_train)
        inputs[k], labels[k] = drawn.inputs, drawn.targets
    targets = np.zeros((n_updates, 1, batch, N_CLASSES))
    np.put_along_axis(targets[:, 0], labels[..., None], 1.0, axis=-1)
    return (*params, inputs, labels, targets)


def _block_runner(start, step, read, alpha):
    """A runner: ``K`` updates with weight ``alpha`` from the initial parameters, one per batch.

    ``start(params0) -> state``, ``step(state, inputs, labels, targets,
    alpha, threshold)`` (one update, in place) and ``read(state) -> tuple of
    ndarray``.  The runner returns the agreement outputs: the steps of the
    `AGREEMENT` updates from ``params0`` on the first batch, computed on the
    first call with the same ``step`` (and the same for every later call).
    """
    agreement = []

    def run(*args):
        params0, (inputs, labels, targets) = args[:5], args[5:]
        if not agreement:
            for _, a, threshold in AGREEMENT:
                state = start(params0)
                step(state, inputs[0], labels[0], targets[0], a, threshold)
                agreement.extend(new - old for new, old in zip(read(state), params0, strict=True))
        state = start(params0)
        for k in range(inputs.shape[0]):
            step(state, inputs[k], labels[k], targets[k], alpha, THRESHOLD)
        read(state)  # waits for asynchronous libraries
        return tuple(agreement)

    return run


# ------------------------------------------------------- implementations


def numpy_step(params, inputs, labels, targets, alpha, threshold):
    """Reference: one MSGD-CR update (MSGD-C for ``alpha = 0``) in place, batched NumPy matrix products.

    Forward ``h_t = tanh(W_rec h_{t-1} + W_in u_t + b)``, softmax
    cross-entropy at the last step (batch mean), BPTT, Omega of eq. (10)
    (squared-norm ratio, mean over the terms kept) with its gradient
    ``dOmega/dW_rec`` holding ``x_k`` and ``dE/dx_{k+1}`` constant, then
    Algorithm 1 on the whole gradient and ``theta -= lr g``.
    """
    W_rec, W_in, b, W_out, b_out = params
    T, B, m = inputs.shape
    n = W_rec.shape[0]
    h = np.zeros((T + 1, B, n))
    for t in range(1, T + 1):
        h[t] = np.tanh(h[t - 1] @ W_rec.T + inputs[t - 1] @ W_in.T + b)
    y = h[T] @ W_out.T + b_out
    y -= y.max(axis=1, keepdims=True)
    dy = np.exp(y)
    dy /= dy.sum(axis=1, keepdims=True)
    dy[np.arange(B), labels] -= 1.0
    dy /= B
    dW_out = dy.T @ h[T]
    db_out = dy.sum(axis=0)
    G = np.empty((T + 1, B, n))  # G[t] = dE/dh_t
    delta = np.empty((T, B, n))  # delta[k] = tanh'(a_{k+1}) G[k+1] = q_k of Omega
    back = np.empty((T, B, n))  # back[k] = W_rec^T delta[k] = dE/dh_{k+1} dh_{k+1}/dh_k
    G[T] = dy @ W_out
    for t in range(T, 0, -1):
        delta[t - 1] = G[t] * (1.0 - h[t] ** 2)
        back[t - 1] = G[t - 1] = delta[t - 1] @ W_rec
    d = delta.reshape(T * B, n)
    dW_rec = d.T @ h[:T].reshape(T * B, n)
    dW_in = d.T @ inputs.reshape(T * B, m)
    db = d.sum(axis=0)
    if alpha > 0.0:
        g2 = (G[1:] ** 2).sum(axis=2)
        keep = ~(g2 < OMEGA_BOUND)
        g2 = np.where(keep, g2, 1.0)
        dev = (back**2).sum(axis=2) / g2 - 1.0  # Omega = mean over kept terms of dev^2
        coef = np.where(keep, 4.0 * dev / g2, 0.0) / max(int(keep.sum()), 1)
        dW_rec += alpha * ((coef[:, :, None] * delta).reshape(T * B, n).T @ back.reshape(T * B, n))
    grads = (dW_rec, dW_in, db, dW_out, db_out)
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    factor = threshold / norm if norm >= threshold else 1.0
    for p, g in zip(params, grads, strict=True):
        p -= (LR * factor) * g


def numpy_runner():
    """Return the NumPy reference runner (MSGD-CR)."""
    return _block_runner(lambda p0: tuple(p.copy() for p in p0), numpy_step, lambda p: p, ALPHA)


def train_runner():
    """Return a runner calling ``dynrnn.train`` end to end (MSGD-CR, seed ``SEED``); it ignores the batches."""
    import dynrnn

    def train(method, alpha, threshold, n_updates, steps, batch):
        return dynrnn.train("temporal_order", init=INIT, method=method, length=steps, seed=SEED, n_units=N_UNITS,
                            batch_size=batch, lr=LR, threshold=threshold, alpha=alpha, max_updates=n_updates,
                            eval_every=n_updates, n_check=1, n_eval=1, progress=False)  # fmt: skip

    agreement = []

    def run(*args):
        params0, inputs = args[:5], args[5]
        K, T, B, _ = inputs.shape
        if not agreement:
            for method, alpha, threshold in AGREEMENT:
                new = train(method, alpha, threshold, 1, T, B).params
                agreement.extend(np.asarray(new[k]) - old for k, old in zip(PARAMS, params0, strict=True))
        train("MSGD-CR", ALPHA, THRESHOLD, K, T, B)
        return tuple(agreement)

    return run


def fused_runner():
    """Return a runner calling the fused update ``dynrnn._kernels.train.train_step`` on the pre-generated batches."""
    from dynrnn._kernels import train as kernels
    from dynrnn._kernels.scalar_bptt import LOSS_CODES

    scratch = kernels.Scratch(N_UNITS, np.float64)
    stats = np.zeros(kernels.N_STATS)
    code = LOSS_CODES["cross_entropy"]

    def start(params0):
        params = tuple(p.copy() for p in params0)
        return params, tuple(np.zeros_like(p) for p in params)

    def step(state, inputs, labels, targets, alpha, threshold):
        hyper = (LR, 0.0, False, threshold, alpha, False, True, OMEGA_BOUND, kernels.SHRINK)
        kernels.train_step("tanh", *state, inputs, targets, code, False, 1.0 / inputs.shape[1], hyper, scratch, stats)

    return _block_runner(start, step, lambda state: state[0], ALPHA)


def _torch_omega_step(torch, params, inputs, labels, alpha):
    """PyTorch MSGD-CR gradients: a step loop (dE/dh_t kept by ``retain_grad``) and Omega's gradient by autograd.

    Leaves the total gradient in ``p.grad`` for ``params = (W_rec, W_in, b,
    W_out, b_out)``; Omega of eq. (10) with ``q_k = tanh'(a_{k+1})
    dE/dh_{k+1}`` and ``dE/dh_{k+1}`` detached (held constant).
    """
    W_rec, W_in, b, W_out, b_out = params
    h = inputs.new_zeros(inputs.shape[1], W_rec.shape[0])
    states = []
    for u in inputs:
        h = torch.tanh(h @ W_rec.T + u @ W_in.T + b)
        h.retain_grad()
        states.append(h)
    loss = torch.nn.functional.cross_entropy(h @ W_out.T + b_out, labels)
    loss.backward()
    if alpha > 0.0:
        G = torch.stack([s.grad for s in states])
        H = torch.stack(states).detach()
        q = (1.0 - H * H) * G
        g2 = (G * G).sum(dim=2)
        keep = ~(g2 < OMEGA_BOUND)
        g2 = torch.where(keep, g2, 1.0)
        W = W_rec.detach().requires_grad_()
        v = q @ W
        dev = (v * v).sum(dim=2) / g2 - 1.0
        omega = torch.where(keep, dev * dev, 0.0).sum() / max(int(keep.sum()), 1)
        (grad_omega,) = torch.autograd.grad(omega, W)
        W_rec.grad += alpha * grad_omega


def _torch_parts(threads):
    """The PyTorch model, its five trained parameters, the optimizer and the clip (Algorithm 1)."""
    import torch

    torch.set_num_threads(threads)
    rnn = torch.nn.RNN(N_INPUTS, N_UNITS, nonlinearity="tanh", dtype=torch.float64)
    readout = torch.nn.Linear(N_UNITS, N_CLASSES, dtype=torch.float64)
    rnn.bias_hh_l0.requires_grad_(False)
    params = (rnn.weight_hh_l0, rnn.weight_ih_l0, rnn.bias_ih_l0, readout.weight, readout.bias)
    opt = torch.optim.SGD(params, lr=LR)

    def clip(threshold):
        # = clip_grad_norm_(params, threshold), which divides by norm + 1e-6; given norm - 1e-6 it divides by norm
        norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        torch.nn.utils.clip_grads_with_norm_(params, threshold, norm - 1e-6)

    def start(params0):
        with torch.no_grad():
            for p, p0 in zip(params, params0, strict=True):
                p.copy_(torch.from_numpy(p0))
            rnn.bias_hh_l0.zero_()

    def read(state):
        return tuple(p.detach().numpy().copy() for p in params)

    return torch, rnn, readout, params, opt, clip, start, read


def torch_runner():
    """Return the PyTorch MSGD-C runner: ``nn.RNN`` + ``nn.Linear`` + cross-entropy + clip + SGD (float64)."""
    torch, rnn, readout, params, opt, clip, start, read = _torch_parts(THREADS)

    def step(state, inputs, labels, targets, alpha, threshold):
        opt.zero_grad()
        if alpha > 0.0:  # the agreement's MSGD-CR step: nn.RNN does not expose dE/dh_t
            _torch_omega_step(torch, params, torch.from_numpy(inputs), torch.from_numpy(labels), alpha)
        else:
            out, _ = rnn(torch.from_numpy(inputs))
            torch.nn.functional.cross_entropy(readout(out[-1]), torch.from_numpy(labels)).backward()
        clip(threshold)
        opt.step()

    return _block_runner(start, step, read, 0.0)


def torch_cr_runner():
    """Return the PyTorch MSGD-CR runner: a step loop, Omega's gradient by autograd, clip + SGD (float64)."""
    torch, _, _, params, opt, clip, start, read = _torch_parts(THREADS)

    def step(state, inputs, labels, targets, alpha, threshold):
        opt.zero_grad()
        _torch_omega_step(torch, params, torch.from_numpy(inputs), torch.from_numpy(labels), alpha)
        clip(threshold)
        opt.step()

    return _block_runner(start, step, read, ALPHA)


def jax_runner():
    """Return the JAX MSGD-C runner: ``jit`` of the whole update (``lax.scan``, ``grad``, clip, SGD), float64."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def loss_fn(params, inputs, labels, E):
        W_rec, W_in, b, W_out, b_out = params

        def cell(h, ue):
            u, e = ue
            h = jnp.tanh(h @ W_rec.T + u @ W_in.T + b) + e  # e = 0: dLoss/de_t = dE/dh_t
            return h, h

        h, H = jax.lax.scan(cell, jnp.zeros((inputs.shape[1], W_rec.shape[0])), (inputs, E))
        logp = jax.nn.log_softmax(h @ W_out.T + b_out)
        return -jnp.mean(logp[jnp.arange(labels.shape[0]), labels]), H

    def update(params, grads, threshold):
        norm = jnp.sqrt(sum(jnp.sum(g * g) for g in grads))
        factor = jnp.where(norm >= threshold, threshold / norm, 1.0)
        return tuple(p - (LR * factor) * g for p, g in zip(params, grads, strict=True))

    @jax.jit
    def msgd_c(params, inputs, labels, threshold):
        E = jnp.zeros((*inputs.shape[:2], params[0].shape[0]))
        grads, _ = jax.grad(loss_fn, has_aux=True)(params, inputs, labels, E)
        return update(params, grads, threshold)

    @jax.jit
    def msgd_cr(params, inputs, labels, alpha, threshold):
        E = jnp.zeros((*inputs.shape[:2], params[0].shape[0]))
        (grads, G), H = jax.grad(loss_fn, argnums=(0, 3), has_aux=True)(params, inputs, labels, E)
        q = (1.0 - H * H) * G
        g2 = jnp.sum(G * G, axis=2)
        keep = ~(g2 < OMEGA_BOUND)
        g2 = jnp.where(keep, g2, 1.0)

        def omega(W):
            v = q @ W
            dev = jnp.sum(v * v, axis=2) / g2 - 1.0
            return jnp.sum(jnp.where(keep, dev * dev, 0.0)) / jnp.maximum(jnp.sum(keep), 1)

        grads = (grads[0] + alpha * jax.grad(omega)(params[0]), *grads[1:])
        return update(params, grads, threshold)

    def step(state, inputs, labels, targets, alpha, threshold):
        if alpha > 0.0:
            state[0] = msgd_cr(state[0], inputs, labels, alpha, threshold)
        else:
            state[0] = msgd_c(state[0], inputs, labels, threshold)

    def read(state):
        return tuple(np.asarray(jax.block_until_ready(p)) for p in state[0])

    return _block_runner(lambda p0: [tuple(jnp.asarray(p) for p in p0)], step, read, 0.0)


# ------------------------------------------------------------ benchmark


def inputs(args):
    """Arguments of every runner: ``dynrnn.train``'s network and ``--updates`` batches for seed ``SEED``."""
    return make_problem(args.updates, args.steps, args.batch)


def flops_per_update(args, omega=True):
    """Matrix-product flops of one update: forward, backward, weight gradients (and Omega's gradient)."""
    n, m = N_UNITS, N_INPUTS
    return args.steps * args.batch * ((8 if omega else 6) * n * n + 4 * n * m)


def work(args):
    """Work of one call: ``--updates`` updates."""
    return args.updates


def roofline(args):
    """The dgemm ceiling in updates/s: 1-thread float64 ``dgemm`` flop rate over the flops of one MSGD-CR update."""
    roof = dgemm_roofline(repeats=5 if args.quick else 10)
    per = flops_per_update(args)
    text = (
        f"roofline: dgemm float64 {roof['flops_per_s'] / 1e9:.2f} GFLOP/s on {THREADS} thread "
        f"(n={roof['n']}, median of {roof['repeats']}); work per MSGD-CR update = T*B*(8n^2 + 4nm) = "
        f"{per / 1e6:.2f} MFLOP of matrix products (MSGD-C, the torch and jax rows: T*B*(6n^2 + 4nm) = "
        f"{flops_per_update(args, omega=False) / 1e6:.2f} MFLOP)"
    )
    return Ceiling(roof["flops_per_s"] / per, f"roofline: dgemm x {THREADS} thread", text)


def describe(args):
    """First report line: the task, the network, the update and the settings."""
    return (
        f"training updates: temporal order, {INIT} tanh RNN n={N_UNITS}, m={N_INPUTS}, q={N_CLASSES}, "
        f"batch {args.batch}, T = {args.steps}, MSGD-CR (threshold {THRESHOLD:g}, alpha {ALPHA:g}, lr {LR:g}) "
        f"unless the row says MSGD-C, float64; {args.updates} updates a call; {THREADS} thread for every library"
    )


BENCH = Benchmark(
    name="bench_train",
    doc=__doc__,
    script=__file__,
    impls=(
        Impl("numpy", "numpy MSGD-CR (batched matmuls)", numpy_runner),
        Impl("dynrnn-train", "dynrnn.train MSGD-CR (end to end)", train_runner),
        Impl("dynrnn-fused", "dynrnn train_step MSGD-CR (fused)", fused_runner),
        Impl("torch", "torch nn.RNN MSGD-C (no Omega)", torch_runner, modules=("torch",)),
        Impl("torch-cr", "torch step loop MSGD-CR (autograd)", torch_cr_runner, modules=("torch",)),
        Impl("jax", "jax jit MSGD-C (no Omega)", jax_runner, modules=("jax",)),
    ),
    settings=(
        Setting("--updates", 100, 10, "updates per timed call"),
        Setting("--steps", 100, 100, "time steps T"),
        Setting("--batch", 20, 20, "sequences per batch"),
    ),
    inputs=inputs,
    work=work,
    roofline=roofline,
    describe=describe,
    quick_help="CI mode: 10 updates a call (dynrnn.train's per-call set-up then weighs about 15%%), 3 repeats",
    outputs=tuple(f"{method} step {k}" for method in ("MSGD-CR", "MSGD-C") for k in PARAMS),
    mask=None,  # outputs of different shapes: compare every entry
    mask_text=" (one update each, MSGD-CR at threshold 1 and MSGD-C at 0.1, same parameters and batch)",
    unit="updates/s",
    rtol=1e-9,
    atol=1e-15,
    # the target: dynrnn.train >= 3x the PyTorch loop; the fused update alone for comparison
    targets=(Target("dynrnn-train", "speedup", 3.0, vs="torch"), Target("dynrnn-fused", "speedup", 3.0, vs="torch")),
)


if __name__ == "__main__":
    sys.exit(main(BENCH))

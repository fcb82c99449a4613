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
  (the reference, defined in ``_train_models.py`` with the other rows'
  model code);
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
from _train_models import (  # noqa: E402
    AGREEMENT,
    ALPHA,
    INIT,
    LR,
    N_CLASSES,
    N_INPUTS,
    N_UNITS,
    OMEGA_BOUND,
    PARAMS,
    SEED,
    THRESHOLD,
    jax_updates,
    make_problem,
    numpy_step,
    torch_omega_step,
    torch_parts,
)
from _train_models import flops_per_update as _flops  # noqa: E402
from roofline import dgemm_roofline  # noqa: E402


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


def torch_runner():
    """Return the PyTorch MSGD-C runner: ``nn.RNN`` + ``nn.Linear`` + cross-entropy + clip + SGD (float64)."""
    torch, rnn, readout, params, opt, clip, start, read = torch_parts(THREADS)

    def step(state, inputs, labels, targets, alpha, threshold):
        opt.zero_grad()
        if alpha > 0.0:  # the agreement's MSGD-CR step: nn.RNN does not expose dE/dh_t
            torch_omega_step(torch, params, torch.from_numpy(inputs), torch.from_numpy(labels), alpha)
        else:
            out, _ = rnn(torch.from_numpy(inputs))
            torch.nn.functional.cross_entropy(readout(out[-1]), torch.from_numpy(labels)).backward()
        clip(threshold)
        opt.step()

    return _block_runner(start, step, read, 0.0)


def torch_cr_runner():
    """Return the PyTorch MSGD-CR runner: a step loop, Omega's gradient by autograd, clip + SGD (float64)."""
    torch, _, _, params, opt, clip, start, read = torch_parts(THREADS)

    def step(state, inputs, labels, targets, alpha, threshold):
        opt.zero_grad()
        torch_omega_step(torch, params, torch.from_numpy(inputs), torch.from_numpy(labels), alpha)
        clip(threshold)
        opt.step()

    return _block_runner(start, step, read, ALPHA)


def jax_runner():
    """Return the JAX MSGD-C runner: ``jit`` of the whole update (``lax.scan``, ``grad``, clip, SGD), float64."""
    jax, jnp, msgd_c, msgd_cr = jax_updates()
    msgd_c, msgd_cr = jax.jit(msgd_c), jax.jit(msgd_cr)

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
    return _flops(args.steps, args.batch, omega)


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

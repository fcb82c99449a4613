"""Benchmark: aggregate training updates per second of K independent runs (Figure 7 configuration, MSGD-CR).

The network and update of ``bench_train.py`` (``_train_models.py``): the
temporal-order task of Pascanu, Mikolov & Bengio (2013), Sec. 4.1, a
``smart_tanh`` tanh RNN with 50 units, batch 20, T = 100, one-hot
6-dimensional inputs, a softmax over 4 classes at the last step, MSGD-CR
(BPTT, Omega of eq. (10) with alpha 4, norm clipping at 1, SGD with lr
0.01).  A population is K such runs with seeds 2013, ..., 2013 + K - 1 (the
members are independent: their own initial network and batches), for K in
``--ks`` and each dtype of ``--dtypes``.  One timed call trains every member
for ``u = ceil(--updates / K)`` updates from its initial network (the dynrnn
rows at least ``--min-updates``, see below); the rate is ``K u`` over the
call's wall time, the aggregate updates/s.  Rows, side by side in one run,
each in a fresh process:

* ``dynrnn.train_population``: one call with K dicts of ``dynrnn.train``
  arguments (``max_updates=u``, ``eval_every=u + 1``, ``n_check=1``,
  ``n_eval=1``, so the only evaluation is the last one, on one sequence),
  ``n_threads=None`` (the engine's default), end to end: it draws its own
  batches, builds the networks, trains and scores them (set-up and the final
  evaluation are inside the time; ``--min-updates`` keeps them small: for
  ``dynrnn.train`` about 5 ms a member against about 3 ms an update on one
  core);
* ``dynrnn.train x P``: today's ``dynrnn.train`` with the same arguments in a
  pool of P = (usable cores) processes, each training its share of the
  members (``ceil(K / P)`` consecutive seeds) one after another, BLAS and
  Numba on one thread in each; the pool is started (and its processes import
  dynrnn and JIT-compile the update for every dtype) before the first call,
  and that start-up is printed apart, not timed;
* JAX ``jit(vmap(update))``: the MSGD-C update of bench_train's JAX row
  (``lax.scan`` forward, ``jax.grad``, Algorithm 1, SGD; NO Omega, as that
  row, so ``2 T B n^2`` fewer flops an update) vmapped over the members'
  parameters and batches, one call per update for all K members, XLA on the
  CPU with its default thread pool (all usable cores,
  ``--xla_cpu_multi_thread_eigen=true``);
* PyTorch loop: bench_train's ``nn.RNN`` + ``nn.Linear`` + ``cross_entropy``
  + clip + ``optim.SGD`` MSGD-C update (NO Omega), one member after another,
  ``torch.set_num_threads(--torch-threads)``, default 1: its products,
  (20 x 50) by (50 x 50), are too small to split, and with 2 threads on a
  loaded 2-core machine the loop ran 5-10 times slower than with 1.

The JAX and PyTorch rows get pre-generated batches (the ones dynrnn draws for
the same seeds); the dynrnn rows draw their own inside the time.

Agreement, checked before a time is shown: every member of every row makes
ONE MSGD-CR update (alpha 4, threshold 1) and ONE MSGD-C update (alpha 0,
threshold 0.1, so that the clip acts) from its initial parameters on its
first batch (the JAX row through ``vmap`` of bench_train's MSGD-CR variant
and of the timed MSGD-C update, the PyTorch row with bench_train's Omega
step loop and the timed step), and the steps (new minus old parameters)
must match a float64 NumPy MSGD-CR / MSGD-C update of the same member from
the same (float32-representable, for float32 rows) parameters: rtol 1e-9 in
float64, 1e-3 (atol 1e-6) in float32.  A row that disagrees reads
``failed`` and gets no time.

The ceiling is the float64 (``dgemm``) or float32 (``sgemm``) flop rate of
a 2000 x 2000 matrix product on all usable cores, measured in the run as the
larger of one process with one BLAS thread per core and one single-threaded
process per core running at once, divided by the matrix-product flops of one
MSGD-CR update, ``T B (8 n^2 + 4 n m)`` (bench_train's count, used for the
MSGD-C rows too).  Targets: ``train_population`` at least 60 % of the
float64 ceiling for every K >= 8, and at least 2x the JAX row.

Usage::

    python benchmarks/bench_population.py            # K = 1, 2, 8, 32, 128; float64 and float32
    python benchmarks/bench_population.py --quick    # CI: K = 1, 8; float64; 16 updates a call
    python benchmarks/bench_population.py --ks 8,32 --dtypes float64 --rows population,jax-vmap
    python benchmarks/bench_population.py --write    # also append to RESULTS.md
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
    "population": {"NUMBA_NUM_THREADS": str(CORES)},
    "train-procs": {**_ONE, "NUMBA_NUM_THREADS": "1"},
    "jax-vmap": {**_ONE, "NUMBA_NUM_THREADS": "1", "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=true"},
    "torch-loop": {"NUMBA_NUM_THREADS": "1"},
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
    AGREEMENT,
    ALPHA,
    INIT,
    LR,
    N_INPUTS,
    N_UNITS,
    PARAMS,
    SEED,
    THRESHOLD,
    flops_per_update,
    jax_updates,
    make_problem,
    numpy_step,
    torch_omega_step,
    torch_parts,
)
from roofline import dgemm_roofline  # noqa: E402

if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # an installed dynrnn still wins

DTYPES = ("float64", "float32")
#: Agreement tolerances (rtol, atol) of the steps against the float64 NumPy reference.
TOLERANCES = {"float64": (1e-9, 1e-15), "float32": (1e-3, 1e-6)}
ROOF_N = 2000  # matrix size of the roofline products
TARGET_ROOF, TARGET_ROOF_K, TARGET_JAX = 0.6, 8, 2.0


# ----------------------------------------------------------------- members


def per_member(args, K, key):
    """Updates of each member in one timed call of implementation ``key``.

    ``ceil(--updates / K)``, and for the dynrnn rows, whose calls include
    set-up and a last evaluation of each member, at least ``--min-updates``.
    """
    least = args.min_updates if key in DYNRNN_ROWS else 1
    return max(least, -(-args.updates // K))


def member_kwargs(k, dtype, args, updates, method="MSGD-CR", alpha=ALPHA, threshold=THRESHOLD):
    """The ``dynrnn.train`` arguments of member ``k`` (seed ``SEED + k``): ``updates`` updates, one evaluation."""
    return dict(task="temporal_order", init=INIT, method=method, length=args.steps, seed=SEED + k, n_units=N_UNITS,
                batch_size=args.batch, lr=LR, threshold=threshold, alpha=alpha, max_updates=updates,
                eval_every=updates + 1, n_check=1, n_eval=1, dtype=np.dtype(dtype))  # fmt: skip


def initial_params(K, dtype, args):
    """The initial parameters of members ``0 .. K-1`` in ``dtype``, each a tuple of 5 arrays."""
    return [make_problem(1, args.steps, args.batch, SEED + k, dtype)[:5] for k in range(K)]


def stack_steps(news, olds):
    """Agreement outputs: per (update, parameter), the members' steps stacked, shape (K, ...).

    ``news[j][k]`` are the parameters of member ``k`` after agreement update
    ``j`` (one per `AGREEMENT` entry), ``olds[k]`` its initial parameters.
    """
    return tuple(
        np.stack([np.asarray(new[k][i]) - olds[k][i] for k in range(len(olds))])
        for new in news
        for i in range(len(PARAMS))
    )


def reference(K, dtype, args):
    """The NumPy float64 agreement outputs of members ``0 .. K-1`` (from their ``dtype`` initial parameters)."""
    news, olds = [[] for _ in AGREEMENT], []
    for k in range(K):
        *params, inputs, labels, targets = make_problem(1, args.steps, args.batch, SEED + k, dtype)
        params = tuple(np.asarray(p, dtype=np.float64) for p in params)
        olds.append(params)
        for j, (_, alpha, threshold) in enumerate(AGREEMENT):
            new = tuple(p.copy() for p in params)
            numpy_step(new, inputs[0].astype(np.float64), labels[0], targets[0], alpha, threshold)
            news[j].append(new)
    return stack_steps(news, olds)


# --------------------------------------------------------- implementations


def population_runner(dtype, K, u, args):
    """``dynrnn.train_population`` on K member dicts, end to end."""
    import dynrnn

    olds = initial_params(K, dtype, args)
    runs = [member_kwargs(k, dtype, args, u) for k in range(K)]
    agreement = []

    def run():
        if not agreement:
            news = []
            for method, alpha, threshold in AGREEMENT:
                one = [member_kwargs(k, dtype, args, 1, method, alpha, threshold) for k in range(K)]
                res = dynrnn.train_population(one, progress=False)
                news.append([tuple(r.params[name] for name in PARAMS) for r in res.runs])
            agreement.extend(stack_steps(news, olds))
        res = dynrnn.train_population(runs, progress=False)
        check_updates((r.n_updates for r in res.runs), u)
        return tuple(agreement)

    return run


_POOL = {}


def _pool_init(barrier, dtypes, steps, batch):
    """Pool process start: compile the update for every dtype, then wait for the other processes."""
    import dynrnn

    for dtype in dtypes:
        dynrnn.train("temporal_order", length=steps, n_units=N_UNITS, batch_size=batch, max_updates=1,
                     eval_every=2, n_check=1, n_eval=1, dtype=np.dtype(dtype), progress=False)  # fmt: skip
    barrier.wait()


def _pool_ready(_):
    return os.getpid()


def _pool_train(kwargs, params=False):
    """One member in a pool process: ``dynrnn.train(**kwargs)``; its update count (and parameters)."""
    import dynrnn

    res = dynrnn.train(**kwargs, progress=False)
    return (res.n_updates, tuple(res.params[name] for name in PARAMS)) if params else res.n_updates


def _pool(args):
    """The pool of one process per core (started once per worker process, timed apart)."""
    if "pool" not in _POOL:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        t0 = time.perf_counter()
        barrier = ctx.Barrier(CORES)
        pool = ctx.Pool(CORES, initializer=_pool_init, initargs=(barrier, args.dtypes, args.steps, args.batch))
        pool.map(_pool_ready, range(CORES))  # returns once every process has compiled and passed the barrier
        _POOL.update(pool=pool, start_s=time.perf_counter() - t0)
    return _POOL["pool"]


def train_procs_runner(dtype, K, u, args):
    """Today's ``dynrnn.train`` in one process per core, each training its share of the members in turn."""
    pool = _pool(args)
    olds = initial_params(K, dtype, args)
    runs = [member_kwargs(k, dtype, args, u) for k in range(K)]
    chunk = -(-K // CORES)
    agreement = []

    def run():
        if not agreement:
            news = []
            for method, alpha, threshold in AGREEMENT:
                one = [member_kwargs(k, dtype, args, 1, method, alpha, threshold) for k in range(K)]
                done = pool.map(functools.partial(_pool_train, params=True), one, chunksize=chunk)
                news.append([params for _, params in done])
            agreement.extend(stack_steps(news, olds))
        check_updates(pool.map(_pool_train, runs, chunksize=chunk), u)
        return tuple(agreement)

    return run


def _batches(dtype, K, u, args):
    """Initial parameters stacked over members, (K, ...), and the batches, inputs (u, K, T, B, m), labels (u, K, B)."""
    problems = [make_problem(u, args.steps, args.batch, SEED + k, dtype) for k in range(K)]
    params0 = tuple(np.stack([p[i] for p in problems]) for i in range(len(PARAMS)))
    inputs = np.stack([p[5] for p in problems], axis=1)
    labels = np.stack([p[6] for p in problems], axis=1)
    return params0, inputs, labels


def jax_vmap_runner(dtype, K, u, args):
    """JAX ``jit(vmap(msgd_c))``: one call per update for all members (MSGD-C, no Omega)."""
    jax, jnp, msgd_c, msgd_cr = jax_updates()
    step_c = jax.jit(jax.vmap(msgd_c, in_axes=(0, 0, 0, None)))
    step_cr = jax.jit(jax.vmap(msgd_cr, in_axes=(0, 0, 0, None, None)))
    params0, inputs, labels = _batches(dtype, K, u, args)
    olds = [tuple(p[k] for p in params0) for k in range(K)]
    agreement = []

    def run():
        start = tuple(jnp.asarray(p) for p in params0)
        if not agreement:
            news = []
            for method, alpha, threshold in AGREEMENT:
                if method == "MSGD-CR":
                    new = step_cr(start, inputs[0], labels[0], alpha, threshold)
                else:
                    new = step_c(start, inputs[0], labels[0], threshold)
                new = tuple(np.asarray(p) for p in new)
                news.append([tuple(p[k] for p in new) for k in range(K)])
            agreement.extend(stack_steps(news, olds))
        params = start
        for t in range(u):
            params = step_c(params, inputs[t], labels[t], THRESHOLD)
        jax.block_until_ready(params)
        return tuple(agreement)

    return run


def torch_loop_runner(dtype, K, u, args):
    """PyTorch: the members one after another, each ``u`` ``nn.RNN`` MSGD-C updates (no Omega)."""
    torch, rnn, readout, params, opt, clip, start, read = torch_parts(args.torch_threads, dtype)
    params0, inputs, labels = _batches(dtype, K, u, args)
    olds = [tuple(p[k] for p in params0) for k in range(K)]
    x = [[torch.from_numpy(inputs[t, k]) for t in range(u)] for k in range(K)]
    y = [[torch.from_numpy(labels[t, k]) for t in range(u)] for k in range(K)]
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
                for j, (_, alpha, threshold) in enumerate(AGREEMENT):
                    start(olds[k])
                    if alpha > 0.0:  # nn.RNN does not expose dE/dh_t: bench_train's Omega step loop
                        opt.zero_grad()
                        torch_omega_step(torch, params, x[k][0], y[k][0], alpha)
                        clip(threshold)
                        opt.step()
                    else:
                        step(x[k][0], y[k][0], threshold)
                    news[j].append(read(None))
            agreement.extend(stack_steps(news, olds))
        for k in range(K):
            start(olds[k])
            for t in range(u):
                step(x[k][t], y[k][t], THRESHOLD)
            read(None)
        return tuple(agreement)

    return run


def _population_missing():
    """'skipped (not available)' when this dynrnn has no ``train_population``, else None."""
    import dynrnn

    return None if hasattr(dynrnn, "train_population") else "skipped (not available)"


def _threads_text(key):
    """The thread settings seen inside a worker after its measurements."""
    if key == "population":
        import numba
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()) or "none loaded"
        return f"n_threads=None; numba.get_num_threads() = {numba.get_num_threads()}; BLAS pools: {blas}"
    if key == "train-procs":
        start = _POOL.get("start_s")
        started = "" if start is None else f"; pool start (spawn, import, JIT compile per dtype) {start:.1f} s, untimed"
        return f"{CORES} spawned processes, each OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS=1{started}"
    if key == "jax-vmap":
        import jax

        flags = os.environ.get("XLA_FLAGS", "")
        return f"XLA_FLAGS='{flags}', {len(jax.devices())} CPU device, XLA's default pool on {CORES} cores"
    if key == "torch-loop":
        import torch

        return f"torch.set_num_threads({torch.get_num_threads()}), {torch.get_num_interop_threads()} inter-op threads"
    return ""


IMPLS = (
    Impl("population", "dynrnn.train_population MSGD-CR", population_runner),
    Impl("train-procs", f"dynrnn.train x {CORES} processes MSGD-CR", train_procs_runner),
    Impl("jax-vmap", "jax jit(vmap) MSGD-C (no Omega)", jax_vmap_runner, modules=("jax",)),
    Impl("torch-loop", "torch loop nn.RNN MSGD-C (no Omega)", torch_loop_runner, modules=("torch",)),
)
KEYS = tuple(impl.key for impl in IMPLS)
DYNRNN_ROWS = ("population", "train-procs")  # timed end to end: set-up and a last evaluation included
BASELINE = "train-procs"  # the speed-up column: over today's dynrnn.train, one process per core


# ------------------------------------------------------------------ workers


def worker(key, args):
    """Measure one implementation at every (dtype, K) and save rows and agreement outputs to ``--workdir``."""
    impl = next(impl for impl in IMPLS if impl.key == key)
    rows, arrays = [], {}
    for dtype in args.dtypes:
        for K in args.ks:
            u = per_member(args, K, key)
            one = Impl(impl.key, impl.label, functools.partial(impl.factory, np.dtype(dtype), K, u, args))
            row = measure(one, (), args.repeats)
            for i, a in enumerate(row.pop("result", ())):
                arrays[f"{dtype}_{K}_{i}"] = a
            rows.append({"dtype": dtype, "K": K, "u": u, **row})
    try:
        threads = _threads_text(key)
    except Exception as exc:
        threads = f"unknown ({error_text(exc)})"
    np.savez(args.workdir / f"{key}.npz", **arrays)
    (args.workdir / f"{key}.json").write_text(json.dumps({"rows": rows, "threads": threads}))
    pool = _POOL.pop("pool", None)
    if pool is not None:
        pool.terminate()


def roofline_worker(args):
    """Roofline worker: the matrix-product flop rates of this process, printed as JSON."""
    if args.start_at:
        time.sleep(max(0.0, args.start_at - time.time()))
    rates = {}
    for dtype in args.dtypes:
        rates[dtype] = dgemm_roofline(n=ROOF_N, repeats=args.roof_repeats, dtype=np.dtype(dtype))["flops_per_s"]
    print(json.dumps(rates))


def _worker_cmd(key, args, extra=()):
    """Command line of a worker process with the run's resolved settings."""
    return [sys.executable, str(Path(__file__).resolve()), "--worker", key, *settings_argv(args), *extra]


def measure_roofline(args):
    """The matrix-product ceilings on all usable cores: one process with CORES BLAS threads, and CORES processes.

    Returns
    -------
    dict
        Per dtype: ``threads`` and ``procs`` (flop/s of the two ways) and
        ``roof`` (the larger).
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
    singles = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    result = {}
    for dtype in args.dtypes:
        together = sum(s[dtype] for s in singles)
        result[dtype] = {"threads": threads[dtype], "procs": together, "roof": max(threads[dtype], together)}
    return result


def run_rows(args):
    """Measure every implementation in its own process and check it against NumPy.

    Returns
    -------
    rows : list of dict
        One per (implementation, dtype, K), with ``key``, ``name``,
        ``dtype``, ``K``, ``u``, ``status`` and, when timed and agreeing,
        ``first_s``, ``times``, ``err``.
    threads : dict
        Implementation key -> its thread settings text.
    """
    refs = {dtype: reference(max(args.ks), dtype, args) for dtype in args.dtypes}
    rows, threads = [], {}
    with tempfile.TemporaryDirectory(prefix="bench_population_") as tmp:
        for impl in IMPLS:
            if impl.key not in args.rows:
                continue
            reason = impl.skip_reason() or (_population_missing() if impl.key == "population" else None)
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
            for dtype in args.dtypes:
                for K in args.ks:
                    base = {
                        "key": impl.key,
                        "name": impl.label,
                        "dtype": dtype,
                        "K": K,
                        "u": per_member(args, K, impl.key),
                    }
                    if got is None:
                        rows.append({**base, "status": reason})
                        continue
                    row = {**base, **next(r for r in got["rows"] if r["dtype"] == dtype and r["K"] == K)}
                    if row["status"] == "ok":
                        n_out = sum(1 for name in arrays if name.startswith(f"{dtype}_{K}_"))
                        row["result"] = tuple(arrays[f"{dtype}_{K}_{i}"] for i in range(n_out))
                        ref = tuple(r[:K] for r in refs[dtype])
                        check_row(row, ref, None, *TOLERANCES[dtype])
                    rows.append(row)
    return rows, threads


# ------------------------------------------------------------------- report


def _find(rows, key, dtype, K):
    return next((r for r in rows if r["key"] == key and r["dtype"] == dtype and r["K"] == K), None)


def format_table(rows, roofs, args):
    """One line per (dtype, K, implementation): status, times, updates/s, roofline fraction, speed-up."""
    names = [impl.label for impl in IMPLS]
    width = max(len(n) for n in ["implementation", *names]) + 1
    vs = f"vs {BASELINE}"
    header = (
        f"{'dtype':<8}{'K':>4}  {'implementation':<{width}} {'status':<10} {'upd/member':>10} {'first call s':>12} "
        f"{'median s':>9} {'min s':>9} {'max s':>9} {'updates/s':>10} {'roofline':>8} {vs:>15} {'max rel err':>11}"
    )
    lines = [header, "-" * len(header)]
    per = flops_per_update(args.steps, args.batch)
    for dtype in args.dtypes:
        for K in args.ks:
            base = _find(rows, BASELINE, dtype, K)
            for row in (r for r in rows if r["dtype"] == dtype and r["K"] == K):
                head = f"{dtype:<8}{K:>4}  {row['name']:<{width}} "
                if "times" not in row:
                    lines.append(f"{head}{row['status']}")
                    continue
                rate = _rate(row)
                ratio = f"{rate / _rate(base):.2f}x" if base is not None and "times" in base else "n/a"
                lines.append(
                    f"{head}{row['status']:<10} {row['u']:>10} {row['first_s']:>12.3f} "
                    f"{statistics.median(row['times']):>9.4f} {min(row['times']):>9.4f} {max(row['times']):>9.4f} "
                    f"{rate:>10.3e} {rate * per / roofs[dtype]['roof']:>8.3f} {ratio:>15} {row['err']:>11.1e}"
                )
        gemm = "dgemm" if dtype == "float64" else "sgemm"
        roof = roofs[dtype]["roof"] / per
        label = f"roofline: {gemm} on {CORES} cores"
        lines.append(f"{dtype:<8}{'':>4}  {label:<{width}} {'measured':<10} {'':>10} {'':>12} {'':>9} {'':>9} {'':>9} "
                     f"{roof:>10.3e} {1.0:>8.3f}")  # fmt: skip
    return "\n".join(lines)


def _verdict(head, needed, value_fn, fmt, threshold):
    """One target line: ``value_fn(*needed)`` against ``threshold``, or why it has no value."""
    if any(r is None for r in needed):
        return f"{head} not measured (left out by --rows)"
    missing = next((r for r in needed if "times" not in r), None)
    if missing is not None:
        which = "" if missing is needed[0] else f"{missing['name']}: "
        return f"{head} MISS ({which}{missing['status']})"
    value = value_fn(*needed)
    return f"{head} {fmt.format(value)} -> {'PASS' if value >= threshold else 'MISS'}"


def target_lines(rows, roofs, args):
    """PASS/MISS lines: the population engine against the float64 ceiling (K >= 8) and against JAX."""
    per = flops_per_update(args.steps, args.batch)
    lines = []
    big = [K for K in args.ks if K >= TARGET_ROOF_K] if "float64" in args.dtypes else []
    if not big:
        lines.append(
            f"target dynrnn.train_population >= {TARGET_ROOF:.0%} of the dgemm roofline (float64, K >= "
            f"{TARGET_ROOF_K}): not measured (needs float64 in --dtypes and a K >= {TARGET_ROOF_K} in --ks)"
        )
    for K in big:
        head = f"target dynrnn.train_population >= {TARGET_ROOF:.0%} of the dgemm roofline (float64, K = {K}):"
        row = _find(rows, "population", "float64", K)
        lines.append(_verdict(head, [row], lambda r: _rate(r) * per / roofs["float64"]["roof"], "{:.1%}", TARGET_ROOF))
    for dtype in args.dtypes:
        for K in args.ks:
            head = f"target dynrnn.train_population >= {TARGET_JAX:g}x jax jit(vmap) ({dtype}, K = {K}):"
            needed = [_find(rows, "population", dtype, K), _find(rows, "jax-vmap", dtype, K)]
            lines.append(_verdict(head, needed, lambda r, o: _rate(r) / _rate(o), "{:.2f}x", TARGET_JAX))
    return lines


def report(rows, threads, roofs, args):
    """The printed report: what is measured, threads, ceilings, agreement, table, targets."""
    per = flops_per_update(args.steps, args.batch)
    per_c = flops_per_update(args.steps, args.batch, omega=False)
    ks = ", ".join(f"K={K}: {per_member(args, K, DYNRNN_ROWS[0])}/{per_member(args, K, 'jax-vmap')}" for K in args.ks)
    head = [
        f"population training: temporal order, {INIT} tanh RNN n={N_UNITS}, m={N_INPUTS}, batch {args.batch}, "
        f"T = {args.steps}, MSGD-CR (threshold {THRESHOLD:g}, alpha {ALPHA:g}, lr {LR:g}) unless the row says "
        f"MSGD-C; K independent members (seeds {SEED} + k); updates per member a call (dynrnn rows/others): "
        f"{ks}; aggregate updates/s = K x updates per member / median call; median of {args.repeats} after one "
        "warm-up call, each implementation in a fresh process",
        f"threads ({CORES} usable cores):",
        *(f"  {impl.label}: {threads[impl.key]}" for impl in IMPLS if impl.key in threads),
    ]
    for dtype in args.dtypes:
        gemm = "dgemm" if dtype == "float64" else "sgemm"
        r = roofs[dtype]
        head.append(
            f"roofline {dtype}: {gemm} {r['threads'] / 1e9:.1f} GFLOP/s in one process on {CORES} BLAS threads, "
            f"{r['procs'] / 1e9:.1f} GFLOP/s in {CORES} one-thread processes at once (n={ROOF_N}, median of "
            f"{args.roof_repeats}); ceiling = the larger / (T*B*(8n^2 + 4nm) = {per / 1e6:.2f} MFLOP a MSGD-CR "
            f"update) = {r['roof'] / per:.3e} updates/s (MSGD-C rows: {per_c / 1e6:.2f} MFLOP, same ceiling)"
        )
    tol = ", ".join(f"{d} rtol {TOLERANCES[d][0]:.0e} (atol {TOLERANCES[d][1]:.0e})" for d in args.dtypes)
    head.append(
        f"agreement vs a float64 NumPy update of each member: {tol}, on the steps of one MSGD-CR (threshold 1) and "
        "one MSGD-C (threshold 0.1) update of every member from its initial parameters on its first batch"
    )
    return "\n".join([*head, "", format_table(rows, roofs, args), "", *target_lines(rows, roofs, args)])


# --------------------------------------------------------------------- main


#: Options with a full and a --quick default: (flag, full, quick, parser, help).
OPTIONS = (
    ("--ks", "1,2,8,32,128", "1,8", int_list, "population sizes K, comma separated"),
    ("--dtypes", "float64,float32", "float64", choices(DTYPES), "dtypes, comma separated"),
    ("--updates", 512, 16, int, "updates a timed call aims at over all members: ceil(UPDATES / K) per member"),
    (
        "--min-updates",
        32,
        4,
        int,
        "least updates per member a call of the dynrnn rows (amortizes set-up and the last evaluation)",
    ),
    ("--repeats", 5, 3, int, "timed calls per (implementation, dtype, K)"),
    ("--roof-repeats", 10, 5, int, "timed matrix products of the roofline"),
    ("--steps", 100, 100, int, "time steps T"),
    ("--batch", 20, 20, int, "sequences per batch"),
    ("--torch-threads", 1, 1, int, "torch.set_num_threads of the PyTorch row"),
    ("--rows", ",".join(KEYS), ",".join(KEYS), choices(KEYS), "implementations to run, comma separated"),
)


def parse_args(argv):
    """Parse the command line; settings left unset take their full or ``--quick`` default."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI mode: K = 1 and 8, float64, 16 updates a call, 3 repeats"
    )
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
            setattr(
                args,
                dest,
                kind(quick if args.quick else full) if isinstance(full, str) else (quick if args.quick else full),
            )
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
    rows, threads = run_rows(args)
    roofs = measure_roofline(args)
    text = report(rows, threads, roofs, args)
    torch_threads = str(args.torch_threads) if "torch-loop" in threads else "n/a"
    print(provenance(recorded, torch_threads))
    print()
    print(text)
    if args.write:
        write_results("bench_population", text, recorded, torch_threads)
        print("\nappended to benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

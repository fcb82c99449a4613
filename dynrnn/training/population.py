"""`dynrnn.train_population`: many training runs advanced in lockstep, one update of each per launch.

The engine (`Engine`) stacks the parameters and velocities of K runs in
``(K, ...)`` arrays and advances every run that is still going by one
update per launch of the compiled population update
(``_kernels/population.py``); each run keeps its own generators, so it draws
the same batches as `dynrnn.train` with its settings and seed, and its own
counters, evaluation and stopping rule (`dynrnn.training.run.Run`).  A run
that stops (success, budget, divergence) is masked out of later launches;
the others go on.  `dynrnn.train` is a population of one.
"""

import inspect
import math
import os
import signal
import sys
import threading
import time

import numpy as np

from .. import _backend, _validate
from ..results.training import PopulationResult, cell_of, check_writable, read_npz, write_npz
from .model import single_threaded_blas
from .run import Run, check_run_memory, dense_targets, layout, leak_of, train_config

__all__ = ["train_population"]

POPULATION_CHECKPOINT_FORMAT = "dynrnn.train_population-checkpoint/1"
SHARED = ("task", "cell", "n_units", "batch_size", "length", "dtype", "task_options")
"""Settings every member of a population shares (one batch layout and one compiled cell per launch)."""
_NOT_PER_RUN = ("checkpoint", "checkpoint_every", "resume", "progress")


def train_population(
    runs, *, checkpoint=None, checkpoint_every=60.0, resume=False, progress=None, n_threads=None, backend="cpu"
):
    r"""Train a population of independent RNNs on one task, advancing them in lockstep.

    Each member is a run of `dynrnn.train`, given by its keyword arguments:
    member ``k`` is the same run as ``dynrnn.train(**runs[k])``: it starts
    from the same network, sees the same batches, makes the same updates
    and stops at the same update, with the same history.  What a population
    adds is speed: all members advance by one update per compiled launch,
    shared between threads (``n_threads``), without BLAS or Python between
    the steps of an update.

    Parameters
    ----------
    runs : sequence of dict
        One dict of `dynrnn.train` keyword arguments per member (``task``
        included; ``checkpoint``, ``checkpoint_every``, ``resume`` and
        ``progress`` belong to the population, not to a member).  Members
        may differ in ``init`` (any of `dynrnn.train`'s: ``"sigmoid"``,
        ``"basic_tanh"``, ``"smart_tanh"``, ``"irnn"``, ``"orthogonal"``;
        relu and tanh members train side by side), ``method``, ``seed``,
        ``lr``, ``threshold``,
        ``alpha``, ``momentum``, ``nesterov``, ``leak``, the Omega and
        non-finite options, the budgets and the evaluation settings; they
        must share ``task``, ``cell`` (a population trains RNNs, GRUs or
        LSTMs), ``n_units``, ``batch_size``, ``length`` (the same length, or
        the same range of lengths), ``dtype`` and ``task_options``.
        Two members with the same settings and seed would be the same run:
        they are refused, not merged.
    checkpoint : str or os.PathLike, optional
        A file to write the whole population's state to, every
        ``checkpoint_every`` seconds, at the end, and on Ctrl-C (written to
        a temporary file and renamed).
    checkpoint_every : float, default 60.0
        Seconds between checkpoints.
    resume : bool, default False
        Continue from ``checkpoint`` if that file exists; its members must
        be ``runs``, in order, with the same settings (``max_updates`` may
        grow).  A resumed population continues exactly: its results equal
        those of an uninterrupted one.
    progress : bool, optional
        Show a tqdm progress bar over all members' updates; default: when
        stderr is a terminal.
    n_threads : int, optional
        CPU threads that share the members (default: the cores this process
        may use, at most the number of members).  Results do not depend on
        it.
    backend : {"cpu", "cuda"}, default "cpu"
        Where the updates run.  ``"cuda"`` runs one thread block per member
        on an NVIDIA GPU (the same update code, compiled by numba.cuda);
        evaluations stay on the CPU.  Results agree with the CPU's to
        rounding (the GPU's exp and tanh, fused multiply-adds), not bit for
        bit.

    Returns
    -------
    PopulationResult
        ``runs``: one `TrainResult` per member, in order; ``success`` and
        ``n_updates`` as arrays.

    Raises
    ------
    TypeError
        If ``runs`` is not a sequence of dicts, or an argument is of the
        wrong kind.
    ValueError
        If ``runs`` is empty; a member has an unknown or invalid setting
        (the message names ``runs[k]`` and the setting); members differ in a
        shared setting; two members are the same run; the population would
        not fit in the memory available; or a checkpoint to resume does not
        match.
    RuntimeError
        If ``backend="cuda"`` and no GPU (or simulator) is usable.
    KeyboardInterrupt
        On Ctrl-C, after the checkpoint (if any) has been written.

    See Also
    --------
    dynrnn.train : one run (a population of one).
    dynrnn.sweep : a grid of runs, grouped into populations, stored in a database.

    Notes
    -----
    Every member trains as `dynrnn.train` documents (Pascanu et al. 2013,
    Sec. 4.1; Algorithm 1; eqs. 9-10): the update is the same compiled code
    for a population of one and of many, and member ``k`` reads only its
    own parameters, batches and hyper-parameters, so it is bit-for-bit the
    run `dynrnn.train` makes.  A member that diverges (``nonfinite="stop"``)
    is flagged in its own result and stops; the others go on.  Evaluations
    run between launches, one member at a time.

    Examples
    --------
    >>> import dynrnn
    >>> common = dict(task="temporal_order", length=10, n_units=8, max_updates=40, eval_every=20,
    ...               n_check=100, n_eval=200)
    >>> pop = dynrnn.train_population([dict(common, method=m, seed=s) for m in ("MSGD-C", "MSGD-CR")
    ...                                for s in (0, 1)])
    >>> len(pop), pop.n_updates.tolist()
    (4, [40, 40, 40, 40])
    """
    configs = member_configs(runs)
    checkpoint = None if checkpoint is None else check_writable("checkpoint", checkpoint)  # before any training
    checkpoint_every, resume, show = _options(checkpoint, checkpoint_every, resume, progress)
    if n_threads is not None:
        n_threads = _validate.integer("n_threads", n_threads, minimum=1)
    _backend.get(backend)  # an unknown name, or CUDA without a device, fails before any work
    _check_memory(configs, n_threads)
    members = None
    if resume and os.path.exists(checkpoint):
        members = load_population(checkpoint, configs)
    if members is None:
        members = [Run.new(config) for config in configs]
    pending = [run for run in members if not run.finished]
    if pending:

        def save():
            if checkpoint is not None:
                save_population(checkpoint, members)

        train_runs(pending, save, checkpoint_every, show, n_threads, backend)
    return PopulationResult(runs=tuple(run.result() for run in members))


def train_runs(runs, save, checkpoint_every, show, n_threads=None, backend="cpu"):
    """Advance ``runs`` (compatible `Run` objects) until each stops, saving with ``save()`` as it goes.

    The common driver of `dynrnn.train` and `train_population`: BLAS on one
    thread (evaluations), Ctrl-C turned into a flag (the runs stop between
    updates, ``save()`` is called, and KeyboardInterrupt is raised).
    """
    with single_threaded_blas(), _Interrupts() as interrupts:
        try:
            Engine(runs, n_threads, backend).run(interrupts, save, checkpoint_every, show)
        finally:
            save()
        if interrupts.hit:
            raise KeyboardInterrupt


# ----------------------------------------------------------------------------- members


def member_configs(runs):
    """Validate ``runs`` (dicts of `dynrnn.train` keywords) into train configs that can share a launch."""
    from .train import train

    if isinstance(runs, (str, bytes, dict)) or not hasattr(runs, "__len__") or not hasattr(runs, "__iter__"):
        raise TypeError(
            f"runs must be a sequence of dicts of dynrnn.train keyword arguments; got {type(runs).__name__}"
        )
    runs = list(runs)
    if not runs:
        raise ValueError("runs must hold at least one member; got an empty sequence")
    signature = inspect.signature(train)
    defaults = {k: p.default for k, p in signature.parameters.items() if k not in _NOT_PER_RUN}
    configs = []
    for k, run in enumerate(runs):
        if not isinstance(run, dict):
            raise TypeError(f"runs[{k}] must be a dict of dynrnn.train keyword arguments; got {type(run).__name__}")
        for key in run:
            if key in _NOT_PER_RUN:
                raise ValueError(
                    f"runs[{k}] sets {key!r}, which belongs to the population: pass it to train_population"
                )
            if key not in defaults:
                raise ValueError(f"runs[{k}] has an unknown setting {key!r}; expected settings of dynrnn.train")
        if "task" not in run:
            raise ValueError(f"runs[{k}] must name its task (e.g. task='temporal_order')")
        try:
            configs.append(train_config({**defaults, **run}))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"runs[{k}]: {exc}") from exc
    first = configs[0]
    for k, config in enumerate(configs[1:], start=1):
        for field in SHARED:
            mine, theirs = _setting(config, field), _setting(first, field)
            if mine != theirs:
                raise ValueError(
                    f"runs[{k}] has {field}={mine!r} but runs[0] has {theirs!r}; the members of a "
                    f"population share {', '.join(SHARED)}"
                )
    seen = {}
    for k, config in enumerate(configs):
        key = repr(sorted(config.items()))
        if key in seen:
            raise ValueError(
                f"runs[{seen[key]}] and runs[{k}] are the same run (identical settings and seed); a population "
                f"refuses duplicates (give them different seeds)"
            )
        seen[key] = k
    return configs


def _setting(config, field):
    return cell_of(config) if field == "cell" else config[field]


def _options(checkpoint, checkpoint_every, resume, progress):
    checkpoint_every = _validate.positive_float("checkpoint_every", checkpoint_every)
    if not isinstance(resume, (bool, np.bool_)):
        raise TypeError(f"resume must be a bool; got {type(resume).__name__}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path; got checkpoint=None")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be a bool or None; got {type(progress).__name__}")
    show = sys.stderr.isatty() if progress is None else bool(progress)
    return checkpoint_every, bool(resume), show


def _check_memory(configs, n_threads):
    """Refuse, before allocating anything, a population that would not fit in the memory available."""
    check_run_memory(configs, n_threads)


# ----------------------------------------------------------------------------- the engine


class Engine:
    """The stacked state of compatible runs and the loop that advances them, one launch per update.

    Each run's ``params`` and ``velocity`` become views into the stacked
    arrays, so its evaluation, results and checkpoints see the updates.
    """

    def __init__(self, runs, n_threads=None, backend="cpu"):
        from .._kernels import population as kernels
        from .._kernels.scalar_bptt import LOSS_CODES

        self.runs = list(runs)
        self.slots = kernels.scalar_train
        cfg = self.runs[0].config
        self.every, loss, m, q, self.T_max = layout(cfg)
        self.kind = LOSS_CODES[loss]
        K, n, B = len(self.runs), cfg["n_units"], cfg["batch_size"]
        dtype = np.dtype(cfg["dtype"])
        self.cell = cell_of(cfg)
        if self.cell == "rnn":
            shapes = ((n, n), (n, m), (1, n), (q, n), (1, q))
        else:
            rows = kernels.GATED_CELLS[self.cell].N_GATES * n
            shapes = ((rows, m), (rows, n), (1, rows), (1, rows), (q, n), (1, q))
        self.params = tuple(np.empty((K, *s), dtype=dtype) for s in shapes)
        self.velocity = tuple(np.empty((K, *s), dtype=dtype) for s in shapes)
        for k, run in enumerate(self.runs):
            run.params = _adopt(self.params, k, run.params)
            run.velocity = _adopt(self.velocity, k, run.velocity)
        configs = [run.config for run in self.runs]
        self.hyper = {
            "lr": np.array([c["lr"] for c in configs]),
            "mu": np.array([c["momentum"] for c in configs]),
            "nesterov": np.array([c["nesterov"] for c in configs]),
            "threshold": np.array([math.inf if c["threshold"] is None else c["threshold"] for c in configs]),
            "alpha": np.array([c["alpha"] for c in configs]),
            "ratio": np.array([c["omega_form"] == "ratio" for c in configs]),
            "mean": np.array([c["omega_reduce"] == "mean" for c in configs]),
            "nonfinite": np.array([kernels.NONFINITE_CODES[c["nonfinite"]] for c in configs], dtype=np.int64),
            "leaky": np.array([c.get("leak") is not None for c in configs]),
            "leak": np.zeros((K, n), dtype=dtype),
        }
        for k, c in enumerate(configs):
            if c.get("leak") is not None:
                self.hyper["leak"][k] = leak_of(c)
        self.U = np.zeros((K, self.T_max, B, m), dtype=dtype)
        self.P = np.zeros((K, self.T_max if self.every else 1, B, q), dtype=dtype)
        self.T_len = np.zeros(K, dtype=np.int64)
        self.T_s_len = np.zeros(K, dtype=np.int64)
        self.scale = np.zeros(K)
        threads = kernels.usable_cores() if n_threads is None else n_threads
        activations = [run.c["activation"] for run in self.runs]
        update = kernels.PopulationUpdate
        if backend == "cuda":
            from .._kernels.cuda_population import CudaPopulationUpdate as update
        self.update = update(activations, self.params, self.velocity, self.hyper, B, self.T_max, self.every, threads,
                             cell=self.cell)  # fmt: skip

    def run(self, interrupts, save, checkpoint_every, show):
        """Update every run that can until none can, or Ctrl-C; ``save()`` every ``checkpoint_every`` seconds."""
        runs = self.runs
        bar = _progress(show, sum(r.config["max_updates"] for r in runs), sum(r.c["t"] for r in runs))
        saved = time.perf_counter()
        try:
            while not interrupts.hit:
                active = np.array([run.can_update for run in runs], dtype=bool)
                if not active.any():
                    break
                started = time.perf_counter()
                for k in np.flatnonzero(active):
                    self._load_batch(k, runs[k].next_batch())
                with np.errstate(all="ignore"):  # divergence is reported through the stats
                    stats = self.update(active, self.U, self.P, self.T_len, self.T_s_len, self.kind, self.every,
                                        self.scale)  # fmt: skip
                finite = self._finite()
                for k in np.flatnonzero(active):
                    runs[k].record_update(stats[k], self.slots, finite[k])
                elapsed = time.perf_counter() - started
                for k in np.flatnonzero(active):
                    runs[k].c["elapsed_s"] += elapsed
                if bar is not None:
                    bar.update(sum(r.c["t"] for r in runs) - bar.n)
                if time.perf_counter() - saved > checkpoint_every:
                    save()
                    saved = time.perf_counter()
        finally:
            self.update.close()
            if bar is not None:
                bar.close()

    def _finite(self):
        """Which members' parameters are all finite (after an update; a non-finite one has diverged)."""
        K = self.params[0].shape[0]
        finite = np.ones(K, dtype=bool)
        for big in self.params:
            finite &= np.isfinite(big.reshape(K, -1)).all(axis=1)
        return finite

    def _load_batch(self, k, batch):
        T = batch.inputs.shape[0]
        P = dense_targets(batch)
        self.U[k, :T] = batch.inputs
        self.P[k, : P.shape[0]] = P
        self.T_len[k], self.T_s_len[k] = T, P.shape[0]
        self.scale[k] = 1.0 / (batch.batch_size * T) if self.every else 1.0 / batch.batch_size


def _adopt(stacked, k, arrays):
    """Copy a run's arrays into row ``k`` of the stacked ones; return the views the run keeps (1-D as given)."""
    views = []
    for big, a in zip(stacked, arrays, strict=True):
        big[k] = np.reshape(a, big.shape[1:])
        views.append(big[k] if a.ndim == 2 else big[k, 0])
    return tuple(views)


# ----------------------------------------------------------------------------- checkpoints


def save_population(path, runs):
    """Write every member's whole state to ``path`` (atomically)."""
    from .. import __version__

    metas, arrays = [], {}
    for k, run in enumerate(runs):
        meta, member_arrays = run.state()
        metas.append(meta)
        arrays.update({f"m{k}_{name}": a for name, a in member_arrays.items()})
    write_npz(path, {"format": POPULATION_CHECKPOINT_FORMAT, "dynrnn_version": __version__, "members": metas}, arrays)


def load_population(path, configs):
    """The members saved in ``path``; ValueError if they are not ``configs`` in order."""
    meta, arrays = read_npz(path, POPULATION_CHECKPOINT_FORMAT)
    metas = meta.get("members")
    if not isinstance(metas, list) or len(metas) != len(configs):
        got = len(metas) if isinstance(metas, list) else "no"
        raise ValueError(f"checkpoint {path} holds {got} members; this population has {len(configs)}")
    runs = []
    for k, (member, config) in enumerate(zip(metas, configs, strict=True)):
        prefix = f"m{k}_"
        member_arrays = {name[len(prefix) :]: a for name, a in arrays.items() if name.startswith(prefix)}
        try:
            runs.append(Run.from_state(member, member_arrays, config, path))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"checkpoint {path}, member {k}: {exc}") from exc
    return runs


# ----------------------------------------------------------------------------- Ctrl-C and progress


def _progress(show, total, initial):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="update", dynamic_ncols=True, leave=False)


class _Interrupts:
    """Turn Ctrl-C into a flag, so training stops between updates with a consistent state (main thread only)."""

    def __init__(self):
        self.hit = False
        self._previous = None

    def _handler(self, signum, frame):
        self.hit = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False

"""`dynrnn.train`: SGD with norm clipping and the Omega regularizer on the pathological tasks (Sec. 4.1).

One update is one compiled call (``_kernels/train.py``): forward and backward
over the whole batch, Omega and its gradient, Algorithm 1 and the SGD step.
Python draws the batches, evaluates every ``eval_every`` updates, logs, and
writes checkpoints.  The run's state is a handful of arrays and generator
states (`_Run`), which a checkpoint saves whole, so a resumed run continues
exactly where it stopped.
"""

import json
import math
import os
import signal
import sys
import threading
import time

import numpy as np

from .. import _validate
from ..results.training import HISTORY_FIELDS, PARAMETERS, TrainHistory, TrainResult, read_npz, write_npz
from .inits import INITS, init_network
from .inits import _spectral_radius as _inits_spectral_radius
from .model import _task_options, count_errors, lengths_argument, single_threaded_blas
from .optim import _real
from .tasks import TASKS, get_task

__all__ = ["METHODS", "PAPER_ALPHA", "CODE_ALPHA", "train"]

METHODS = ("MSGD", "MSGD-C", "MSGD-CR")
"""Pascanu et al. (2013), Sec. 4.1: plain SGD; with norm clipping; with clipping and Omega."""

PAPER_ALPHA = 4.0
"""The weight of Omega on temporal order in the paper (Sec. 4.1)."""

CODE_ALPHA = 2.0
"""The weight of Omega in the authors' code (paper.md Sec. 5.7)."""

NONFINITE = ("skip", "shrink", "stop")
_DEFAULT_NONFINITE = {"MSGD": "stop", "MSGD-C": "shrink", "MSGD-CR": "shrink"}
CHECKPOINT_FORMAT = "dynrnn.train-checkpoint/1"
# Settings that may differ between a checkpoint and the call that resumes it.
_RESUMABLE = ("max_updates",)


def train(
    task,
    *,
    init="smart_tanh",
    method="MSGD-CR",
    length=50,
    seed=0,
    n_units=50,
    batch_size=20,
    lr=0.01,
    threshold=1.0,
    alpha=None,
    momentum=0.0,
    nesterov=False,
    omega_form="squared",
    omega_reduce="mean",
    nonfinite=None,
    max_updates=5_000_000,
    eval_every=200,
    n_check=1000,
    n_eval=10000,
    success_error=0.01,
    stop_on_success=True,
    task_options=None,
    connections="incoming",
    dtype=np.float64,
    checkpoint=None,
    checkpoint_every=60.0,
    resume=False,
    progress=None,
):
    r"""Train an RNN on one of the pathological tasks with MSGD, MSGD-C or MSGD-CR.

    Parameters
    ----------
    task : str
        A name of `dynrnn.tasks.TASKS`, e.g. ``"temporal_order"``.
    init : {"sigmoid", "basic_tanh", "smart_tanh"}, default "smart_tanh"
        The initialization (`dynrnn.init_network`).
    method : {"MSGD", "MSGD-C", "MSGD-CR"}, default "MSGD-CR"
        Plain SGD (no clipping, alpha = 0); with norm clipping at
        ``threshold``; with clipping and Omega weighted by ``alpha``.
    length : int or (int, int), default 50
        The sequence length L, or a range ``(min, max)``: a new length, uniform
        in [min, max], for every update and every evaluation chunk (the
        paper's variable-length model trains on (50, 200)).
    seed : int, default 0
        Seeds the initialization, the training batches and the evaluation
        sequences (three independent streams), so the same seed gives the
        same run; the same seed with another method starts from the same
        network and sees the same batches.
    n_units : int, default 50
        Hidden units.
    batch_size : int, default 20
        Sequences per update.
    lr : float, default 0.01
        Learning rate, > 0.
    threshold : float, default 1.0
        Clipping threshold of Algorithm 1 (MSGD-C, MSGD-CR); ignored by MSGD.
    alpha : float, optional
        Weight of Omega, >= 0.  Default: `PAPER_ALPHA` (4, the paper) for
        MSGD-CR, 0 otherwise; the authors' code used `CODE_ALPHA` (2).
        Must be 0 (or None) for MSGD and MSGD-C.
    momentum : float, default 0.0
        Momentum coefficient in [0, 1) (the paper uses none).
    nesterov : bool, default False
        Simplified Nesterov momentum instead of classical momentum (see
        ``dynrnn.optim.SGD``).
    omega_form : {"squared", "ratio"}, default "squared"
        Omega of eq. (10) (the authors' code) or eq. (9).
    omega_reduce : {"mean", "sum"}, default "mean"
        Omega averaged over the kept terms (the code) or summed (the paper).
    nonfinite : {"skip", "shrink", "stop"}, optional
        What an update does when the gradient norm is NaN or inf:
        ``"skip"`` it; ``"shrink"``, the authors' guard (also for a norm
        above 1e10: ``W_rec`` shrinks by ``1 - 0.02 lr``, nothing else
        moves); ``"stop"`` the run, flagged ``diverged``.  Default:
        ``"stop"`` for MSGD (the authors' ``clipstyle="nothing"``, where a
        NaN ends all progress) and ``"shrink"`` for MSGD-C and MSGD-CR.
    max_updates : int, default 5_000_000
        Update budget (the paper's 5M).
    eval_every : int, default 200
        Updates between evaluations.
    n_check : int, default 1000
        Fresh sequences scored at each evaluation (logged as
        ``valid_error``).
    n_eval : int, default 10000
        Fresh sequences that confirm a success, and that score the final
        parameters.
    success_error : float, default 0.01
        Success is an error rate below this on ``n_eval`` sequences (the
        paper: 1 % of 10,000).
    stop_on_success : bool, default True
        Stop at the first success.
    task_options : dict, optional
        Extra generator arguments (``n_values``, ``n_pos`` of memorization).
    connections : {"incoming", "outgoing"}, default "incoming"
        smart_tanh sparsity per unit (the paper) or per row of the code.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the parameters and the computation.
    checkpoint : str or os.PathLike, optional
        A file to write the run's whole state to, every
        ``checkpoint_every`` seconds, at the end, and on Ctrl-C (written to
        a temporary file and renamed, so it is never half-written).
    checkpoint_every : float, default 60.0
        Seconds between checkpoints.
    resume : bool, default False
        Continue from ``checkpoint`` if that file exists (its settings must
        match, except ``max_updates``, which may grow); a finished run is
        returned as it is.
    progress : bool, optional
        Show a tqdm progress bar; default: when stderr is a terminal.

    Returns
    -------
    TrainResult
        Final parameters, success, updates to success, errors, history.

    Raises
    ------
    TypeError
        If an argument is of the wrong kind.
    ValueError
        If ``task``, ``init``, ``method`` or another choice is unknown;
        ``length``, ``batch_size``, ``n_units`` or a budget is < 1; ``lr``
        or ``threshold`` is <= 0; ``alpha`` < 0, or > 0 for a method without
        Omega; or a checkpoint to resume does not match.
    KeyboardInterrupt
        On Ctrl-C, after the checkpoint (if any) has been written at the
        end of the current update.

    See Also
    --------
    dynrnn.bptt, dynrnn.vanishing_regularizer, dynrnn.clip_grad_norm :
        the pieces that one update fuses.
    dynrnn.optim.SGD : the update rule.
    dynrnn.sweep : many runs, stored in a database.

    Notes
    -----
    Pascanu et al. (2013), Sec. 4.1, and the authors' code (paper.md Sec.
    5.5-5.7).  With ``g`` the gradient of the batch-mean loss, MSGD-CR
    adds ``alpha * dOmega/dW_rec`` (eq. 10, ``x_k`` and ``dE/dx_{k+1}``
    held constant) to ``g_W_rec``, then clips the whole gradient
    (Algorithm 1, ``||g|| >= threshold``), then steps
    ``theta <- theta - lr g`` (or a momentum step).  Omega is computed and
    logged for every method.

    Evaluation: every ``eval_every`` updates the error rate on ``n_check``
    fresh sequences is logged; when it is below ``success_error``, a fresh
    ``n_eval`` sequences confirm it (a cheap check, then the paper's test).
    The final parameters are scored on ``n_eval`` sequences of their own
    stream, so stopping early does not change later evaluations.

    Examples
    --------
    >>> import dynrnn
    >>> r = dynrnn.train("temporal_order", init="basic_tanh", length=10, n_units=8, max_updates=40,
    ...                  eval_every=20, n_check=100, n_eval=200, seed=1)
    >>> r.n_updates, len(r.history), r.config["method"], r.config["alpha"]
    (40, 2, 'MSGD-CR', 4.0)
    """
    config = _config(locals())
    checkpoint = None if checkpoint is None else os.fspath(checkpoint)
    checkpoint_every = _validate.positive_float("checkpoint_every", checkpoint_every)
    if not isinstance(resume, (bool, np.bool_)):
        raise TypeError(f"resume must be a bool; got {type(resume).__name__}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path; got checkpoint=None")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be a bool or None; got {type(progress).__name__}")
    run = None
    if resume and os.path.exists(checkpoint):
        run = _Run.load(checkpoint, config)
    if run is None:
        run = _Run.new(config)
    if run.finished:
        return run.result()
    show = sys.stderr.isatty() if progress is None else bool(progress)
    with single_threaded_blas(), _Interrupts() as interrupts:
        try:
            run.train(interrupts, checkpoint, checkpoint_every, show)
        finally:
            if checkpoint is not None:
                run.save(checkpoint)
        if interrupts.hit:
            raise KeyboardInterrupt
    return run.result()


# ----------------------------------------------------------------------------- settings


def _config(args):
    """The run's settings, validated, as a JSON-able dict (what a checkpoint and a sweep record)."""
    task = _validate.choice("task", args["task"], tuple(TASKS))
    _validate.choice("init", args["init"], tuple(INITS))
    method = _validate.choice("method", args["method"], METHODS)
    length = lengths_argument(args["length"])
    alpha = args["alpha"]
    if alpha is None:
        alpha = PAPER_ALPHA if method == "MSGD-CR" else 0.0
    alpha = _real("alpha", alpha)
    if not (math.isfinite(alpha) and alpha >= 0.0):
        raise ValueError(f"alpha must be finite and >= 0; got {alpha}")
    if alpha > 0.0 and method != "MSGD-CR":
        raise ValueError(f"alpha must be 0 for method {method!r} (only MSGD-CR uses Omega); got {alpha}")
    momentum = _real("momentum", args["momentum"])
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1); got {momentum}")
    for name in ("nesterov", "stop_on_success"):
        if not isinstance(args[name], (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool; got {type(args[name]).__name__} {args[name]!r}")
    nonfinite = args["nonfinite"]
    nonfinite = _DEFAULT_NONFINITE[method] if nonfinite is None else _validate.choice("nonfinite", nonfinite, NONFINITE)
    success_error = _real("success_error", args["success_error"])
    if not 0.0 < success_error <= 1.0:
        raise ValueError(f"success_error must lie in (0, 1]; got {success_error}")
    seed = _validate.integer("seed", args["seed"], minimum=0)
    config = {
        "task": task,
        "init": args["init"],
        "method": method,
        "length": list(length) if isinstance(length, tuple) else length,
        "seed": seed,
        "n_units": _validate.integer("n_units", args["n_units"], minimum=1),
        "batch_size": _validate.integer("batch_size", args["batch_size"], minimum=1),
        "lr": _validate.positive_float("lr", args["lr"]),
        "threshold": _validate.positive_float("threshold", args["threshold"]) if method != "MSGD" else None,
        "alpha": alpha,
        "momentum": momentum,
        "nesterov": bool(args["nesterov"]),
        "omega_form": _validate.choice("omega_form", args["omega_form"], ("squared", "ratio")),
        "omega_reduce": _validate.choice("omega_reduce", args["omega_reduce"], ("mean", "sum")),
        "nonfinite": nonfinite,
        "max_updates": _validate.integer("max_updates", args["max_updates"], minimum=1),
        "eval_every": _validate.integer("eval_every", args["eval_every"], minimum=1),
        "n_check": _validate.integer("n_check", args["n_check"], minimum=1),
        "n_eval": _validate.integer("n_eval", args["n_eval"], minimum=1),
        "success_error": success_error,
        "stop_on_success": bool(args["stop_on_success"]),
        "task_options": _task_options(args["task_options"]),
        "connections": _validate.choice("connections", args["connections"], ("incoming", "outgoing")),
        "dtype": np.dtype(_validate.float_dtype("dtype", args["dtype"])).name,
    }
    # The generator checks the length against the task (e.g. temporal order needs L >= 10).
    lo = length[0] if isinstance(length, tuple) else length
    get_task(task)(1, lo, np.random.default_rng(0), **config["task_options"])
    return config


def _length(config):
    length = config["length"]
    return tuple(length) if isinstance(length, list) else length


# ----------------------------------------------------------------------------- the run


class _Run:
    """A training run's whole state: parameters, velocities, generator states, counters, history."""

    def __init__(self, config, params, velocity, rng_train, rng_eval, counters, history):
        self.config = config
        self.params = params
        self.velocity = velocity
        self.rng_train = rng_train
        self.rng_eval = rng_eval
        self.c = counters
        self.history = history

    @classmethod
    def new(cls, config):
        seeds = np.random.SeedSequence(config["seed"]).spawn(3)
        rng_init, rng_train, rng_eval = (np.random.default_rng(s) for s in seeds)
        batch = _generate(config, 1, 10, np.random.default_rng(0))
        net = init_network(config["init"], config["n_units"], batch.n_inputs, batch.n_outputs, rng_init,
                           dtype=np.dtype(config["dtype"]), connections=config["connections"])  # fmt: skip
        params = tuple(np.array(getattr(net, k)) for k in PARAMETERS)
        velocity = tuple(np.zeros_like(p) for p in params)
        counters = {
            "activation": net.activation,
            "t": 0,
            "success": False,
            "updates_to_success": None,
            "best_error": math.inf,
            "final_error": None,
            "diverged": False,
            "stop_reason": None,
            "elapsed_s": 0.0,
            "window": _empty_window(),
        }
        return cls(config, params, velocity, rng_train, rng_eval, counters, {k: [] for k in HISTORY_FIELDS})

    @property
    def finished(self):
        return self.c["stop_reason"] is not None

    def train(self, interrupts, checkpoint, checkpoint_every, show):
        from .._kernels import train as kernels
        from .._kernels.scalar_bptt import LOSS_CODES

        cfg = self.config
        length, B = _length(cfg), cfg["batch_size"]
        hyper = (
            cfg["lr"],
            cfg["momentum"],
            cfg["nesterov"],
            math.inf if cfg["threshold"] is None else cfg["threshold"],
            cfg["alpha"],
            cfg["omega_form"] == "ratio",
            cfg["omega_reduce"] == "mean",
            1e-20,
            kernels.NONFINITE_CODES[cfg["nonfinite"]],
        )
        scratch = kernels.Scratch(cfg["n_units"], self.params[0].dtype)
        stats = np.zeros(kernels.N_STATS)
        c, w = self.c, self.c["window"]
        bar = _progress(show, cfg["max_updates"], c["t"])
        started, saved = time.perf_counter(), time.perf_counter()
        try:
            while c["t"] < cfg["max_updates"] and not interrupts.hit:
                steps = int(self.rng_train.integers(length[0], length[1] + 1)) if isinstance(length, tuple) else length
                batch = _generate(cfg, B, steps, self.rng_train)
                every = batch.at == "every"
                U = np.ascontiguousarray(batch.inputs)
                P = _dense_targets(batch)
                scale = 1.0 / (B * U.shape[0]) if every else 1.0 / B
                with np.errstate(all="ignore"):  # divergence is reported through the stats
                    kernels.train_step(c["activation"], self.params, self.velocity, U, P, LOSS_CODES[batch.loss],
                                       every, scale, hyper, scratch, stats)  # fmt: skip
                if not stats[kernels.UPDATED]:
                    c["diverged"], c["stop_reason"] = True, "diverged"
                    break
                c["t"] += 1
                _accumulate(w, stats, kernels)
                if c["t"] % cfg["eval_every"] == 0 or c["t"] == cfg["max_updates"]:
                    self._evaluate()
                    if bar is not None:
                        bar.update(c["t"] - bar.n)
                        bar.set_postfix(error=f"{self.history['valid_error'][-1]:.3f}", refresh=False)
                    if c["success"] and cfg["stop_on_success"]:
                        c["stop_reason"] = "success"
                        break
                if checkpoint is not None and time.perf_counter() - saved > checkpoint_every:
                    c["elapsed_s"] += time.perf_counter() - started
                    started = saved = time.perf_counter()
                    self.save(checkpoint)
            if not interrupts.hit and c["stop_reason"] is None and c["t"] >= cfg["max_updates"]:
                c["stop_reason"] = "max_updates"
            if self.finished:
                self._finish()
        finally:
            c["elapsed_s"] += time.perf_counter() - started
            if bar is not None:
                bar.close()

    def _evaluate(self):
        """Log the window's means and the error on ``n_check`` fresh sequences; confirm a success on ``n_eval``."""
        cfg, c, w = self.config, self.c, self.c["window"]
        net = self._net()
        error = self._error_rate(net, cfg["n_check"], self.rng_eval)
        n = max(w["n"], 1)
        row = {
            "update": c["t"],
            "train_loss": w["loss"] / n,
            "grad_norm": w["norm"] / n,
            "grad_norm_max": w["norm_max"],
            "rho": _spectral_radius(self.params[0]),
            "omega": w["omega"] / n,
            "valid_error": error,
            "n_clipped": w["clipped"],
            "n_nonfinite": w["nonfinite"],
        }
        for key, value in row.items():
            self.history[key].append(value)
        w.update(_empty_window())
        if error < cfg["success_error"] and not c["success"]:
            if cfg["n_eval"] > cfg["n_check"]:
                error = self._error_rate(net, cfg["n_eval"], self.rng_eval)
            if error < cfg["success_error"]:
                c["success"], c["updates_to_success"] = True, c["t"]
        c["best_error"] = min(c["best_error"], error)

    def _finish(self):
        """Score the final parameters on ``n_eval`` sequences of a stream of their own."""
        cfg, c = self.config, self.c
        rng = np.random.default_rng([cfg["seed"], 3, c["t"]])
        c["final_error"] = self._error_rate(self._net(), cfg["n_eval"], rng)
        c["best_error"] = min(c["best_error"], c["final_error"])

    def _net(self):
        from ..maps.model import RNN

        if not all(np.isfinite(p).all() for p in self.params):
            return None
        return RNN(activation=self.c["activation"], form="standard", dtype=self.params[0].dtype,
                   **dict(zip(PARAMETERS, self.params, strict=True)))  # fmt: skip

    def _error_rate(self, net, n_sequences, rng):
        if net is None:  # diverged parameters get every sequence wrong
            return 1.0
        cfg = self.config
        errors = count_errors(net, cfg["task"], _length(cfg), n_sequences, rng, cfg["task_options"])
        return errors / n_sequences

    def result(self):
        c = self.c
        history = TrainHistory(
            **{k: np.asarray(v, dtype=np.int64 if k in _INT_FIELDS else np.float64) for k, v in self.history.items()}
        )
        final = c["final_error"]
        return TrainResult(
            config=self.config,
            params=dict(zip(PARAMETERS, self.params, strict=True)),
            activation=c["activation"],
            success=c["success"],
            updates_to_success=c["updates_to_success"],
            n_updates=c["t"],
            best_error=c["best_error"],
            final_error=math.nan if final is None else final,
            diverged=c["diverged"],
            stop_reason=c["stop_reason"] if c["stop_reason"] is not None else "interrupted",
            elapsed_s=c["elapsed_s"],
            history=history,
        )

    # -- checkpoints

    def save(self, path):
        from .. import __version__

        meta = {
            "format": CHECKPOINT_FORMAT,
            "dynrnn_version": __version__,
            "config": self.config,
            "counters": {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.c.items()},
            "best_error_inf": not math.isfinite(self.c["best_error"]),
            "rng_train": self.rng_train.bit_generator.state,
            "rng_eval": self.rng_eval.bit_generator.state,
            "history": {k: [float(x) for x in v] for k, v in self.history.items()},
        }
        arrays = {f"param_{k}": p for k, p in zip(PARAMETERS, self.params, strict=True)}
        arrays.update({f"velocity_{k}": v for k, v in zip(PARAMETERS, self.velocity, strict=True)})
        write_npz(path, json.loads(json.dumps(meta)), arrays)

    @classmethod
    def load(cls, path, config):
        meta, arrays = read_npz(path, CHECKPOINT_FORMAT)
        saved = meta["config"]
        differ = sorted(k for k in set(saved) | set(config) if k not in _RESUMABLE and saved.get(k) != config.get(k))
        if differ:
            detail = ", ".join(f"{k}: checkpoint {saved.get(k)!r}, now {config.get(k)!r}" for k in differ)
            raise ValueError(f"checkpoint {path} was written by a run with other settings ({detail})")
        counters = meta["counters"]
        if meta["best_error_inf"]:
            counters["best_error"] = math.inf
        rng_train, rng_eval = np.random.default_rng(), np.random.default_rng()
        rng_train.bit_generator.state = meta["rng_train"]
        rng_eval.bit_generator.state = meta["rng_eval"]
        history = {k: [int(x) if k in _INT_FIELDS else x for x in v] for k, v in meta["history"].items()}
        params = tuple(np.ascontiguousarray(arrays[f"param_{k}"]) for k in PARAMETERS)
        velocity = tuple(np.ascontiguousarray(arrays[f"velocity_{k}"]) for k in PARAMETERS)
        run = cls(dict(config), params, velocity, rng_train, rng_eval, counters, history)
        if run.finished and counters["stop_reason"] == "max_updates" and config["max_updates"] > counters["t"]:
            counters["stop_reason"], counters["final_error"] = None, None  # a larger budget: go on
        return run


_INT_FIELDS = ("update", "n_clipped", "n_nonfinite")


def _empty_window():
    return {"n": 0, "loss": 0.0, "norm": 0.0, "norm_max": 0.0, "omega": 0.0, "clipped": 0, "nonfinite": 0}


def _accumulate(w, stats, kernels):
    norm = float(stats[kernels.NORM])
    w["n"] += 1
    w["loss"] += float(stats[kernels.LOSS])
    w["norm"] += norm
    w["norm_max"] = norm if not norm <= w["norm_max"] else w["norm_max"]  # NaN sticks
    w["omega"] += float(stats[kernels.OMEGA])
    w["clipped"] += int(stats[kernels.CLIPPED])
    w["nonfinite"] += int(stats[kernels.SKIPPED] or stats[kernels.SHRUNK])


def _generate(config, batch_size, steps, rng):
    return get_task(config["task"])(batch_size, steps, rng, dtype=np.dtype(config["dtype"]), **config["task_options"])


def _dense_targets(batch):
    """Targets as (T_s, B, q) floats: one-hot for labels, as the kernel takes them."""
    targets = np.asarray(batch.targets)
    dtype = batch.inputs.dtype
    if batch.loss == "cross_entropy":
        q = batch.n_outputs
        dense = np.zeros(targets.size * q, dtype=dtype)
        dense[np.arange(0, dense.size, q) + targets.ravel()] = 1.0  # flat indices: about 4x faster
    else:
        dense = targets.astype(dtype)
    T_s = targets.shape[0] if batch.at == "every" else 1
    return np.ascontiguousarray(dense.reshape(T_s, -1, batch.n_outputs))


def _spectral_radius(W):
    """rho(W_rec), NaN for non-finite weights (eigvals would raise)."""
    return _inits_spectral_radius(W) if np.isfinite(W).all() else math.nan


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

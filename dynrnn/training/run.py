"""The state of one training run, shared by `dynrnn.train` and `dynrnn.train_population`.

A run's settings are validated once into a JSON-able dict (`train_config`);
its state is a handful of arrays and generator states (`Run`: parameters,
velocities, the training and evaluation streams, counters, history), which a
checkpoint saves whole, so a resumed run continues exactly where it stopped.
The updates themselves are made by the population engine
(``population.py``), which advances any number of runs in lockstep; a
`Run` draws its batches, evaluates every ``eval_every`` updates and logs.
"""

import json
import math

import numpy as np

from .. import _validate
from ..results.training import HISTORY_FIELDS, TrainHistory, TrainResult, cell_of, parameter_names, read_npz, write_npz
from .generators import max_steps
from .inits import CELLS, GATED_INITS, INITS, MAX_UNITS, init_network
from .inits import _spectral_radius as _inits_spectral_radius
from .model import MAX_SEQUENCES, _task_options, check_evaluation, count_errors, lengths_argument
from .optim import _real
from .tasks import TASKS, get_task

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


# ----------------------------------------------------------------------------- settings


def train_config(args):
    """The run's settings, validated, as a JSON-able dict (what a checkpoint and a sweep record).

    ``args`` holds every keyword of `dynrnn.train` but the checkpoint and
    progress options.  ``init`` and ``method`` are recorded resolved (their
    defaults depend on the cell); ``cell`` and ``leak`` are recorded only
    when set (a GRU or LSTM; leaky units), so the config of a plain RNN run
    is what it was before they existed, and its checkpoints and stored
    results still match.
    """
    task = _validate.choice("task", args["task"], tuple(TASKS))
    cell = _validate.choice("cell", args.get("cell", "rnn"), CELLS)
    gated = cell != "rnn"
    init = args["init"]
    if init is None:
        init = GATED_INITS[0] if gated else "smart_tanh"
    if gated and isinstance(init, str) and init in INITS:
        raise ValueError(
            f"init {init!r} draws an RNN; a {cell.upper()} takes init in {', '.join(map(repr, GATED_INITS))} "
            f"(PyTorch's default, U(-1/sqrt(n), 1/sqrt(n)))"
        )
    if not gated and isinstance(init, str) and init in GATED_INITS:
        raise ValueError(f"init {init!r} is for a GRU or LSTM (cell='gru' or 'lstm'); an RNN takes {', '.join(INITS)}")
    _validate.choice("init", init, GATED_INITS if gated else tuple(INITS))
    method = args["method"]
    if method is None:
        method = "MSGD-C" if gated else "MSGD-CR"
    method = _validate.choice("method", method, METHODS)
    if gated and method == "MSGD-CR":
        raise ValueError(
            f"method 'MSGD-CR' adds Omega (eqs. 9-10), which dynrnn defines for the RNN's step Jacobian only; "
            f"train a {cell.upper()} with 'MSGD' or 'MSGD-C'"
        )
    if gated and args.get("leak") is not None:
        raise ValueError(f"leak is a setting of the RNN's units; a {cell.upper()} has none (got leak={args['leak']!r})")
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
        "init": init,
        "method": method,
        "length": list(length) if isinstance(length, tuple) else length,
        "seed": seed,
        "n_units": _validate.integer("n_units", args["n_units"], minimum=1, maximum=MAX_UNITS),
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
        "n_check": _validate.integer("n_check", args["n_check"], minimum=1, maximum=MAX_SEQUENCES),
        "n_eval": _validate.integer("n_eval", args["n_eval"], minimum=1, maximum=MAX_SEQUENCES),
        "success_error": success_error,
        "stop_on_success": bool(args["stop_on_success"]),
        "task_options": _task_options(args["task_options"], task),
        "connections": _validate.choice("connections", args["connections"], ("incoming", "outgoing")),
        "dtype": np.dtype(_validate.float_dtype("dtype", args["dtype"])).name,
    }
    # Settings added since the first checkpoint format appear only when not at their default, so the
    # configs (and checkpoints, stores, saved results) of runs without them are unchanged.
    leak = leak_setting(args.get("leak"), config["n_units"])
    if leak is not None:
        config["leak"] = leak
    if gated:
        config["cell"] = cell
    # The sizes first (nothing large is allocated before they are known to fit), then the
    # generator checks the length against the task (e.g. temporal order needs L >= 10).
    check_run_memory([config], 1)
    for n_sequences, name in ((config["n_check"], "n_check"), (config["n_eval"], "n_eval")):
        names = {"length": "length", "n_sequences": name, "n_units": "n_units"}
        check_evaluation(task, length, n_sequences, config["n_units"], config["task_options"], config["dtype"], names)
    lo = length[0] if isinstance(length, tuple) else length
    get_task(task)(1, lo, rng=np.random.default_rng(0), dtype=np.dtype(config["dtype"]), **config["task_options"])
    return config


def leak_setting(leak, n_units):
    """The ``leak`` setting as JSON: None, a float or a list of ``n_units`` floats, each in [0, 1)."""
    if leak is None:
        return None
    arr = _validate.real_array("leak", leak, np.float64)
    if arr.ndim not in (0, 1) or (arr.ndim == 1 and arr.shape[0] != n_units):
        shape = _validate.shape_str(arr.shape)
        raise ValueError(f"leak must be a number or an array of shape (n_units,) = ({n_units},); got {shape}")
    if not np.all((arr >= 0.0) & (arr < 1.0)):
        got = f"values in [{arr.min()}, {arr.max()}]"
        raise ValueError(f"leak must lie in [0, 1) (1 would freeze the units); got {got}")
    return float(arr) if arr.ndim == 0 else [float(x) for x in arr]


def leak_of(config, dtype=None):
    """The run's leak as an array of shape (n_units,) (in ``dtype``, default the run's), or None."""
    leak = config.get("leak")
    if leak is None:
        return None
    dtype = np.dtype(config["dtype"]) if dtype is None else dtype
    return np.broadcast_to(np.asarray(leak, dtype=dtype), (config["n_units"],)).copy()


def layout(config):
    """``(every, loss, n_inputs, n_outputs, T_max)`` of a config's task batches; T_max: the most steps a batch has.

    Allocates nothing large: the task is probed at length 10 and ``T_max``
    follows from the task's rule (`dynrnn.training.generators.max_steps`).
    """
    length = length_of(config)
    longest = length[1] if isinstance(length, tuple) else length
    probe = generate(config, 1, 10, np.random.default_rng(0))
    T_max = max_steps(config["task"], longest, **config["task_options"])
    return probe.at == "every", probe.loss, probe.n_inputs, probe.n_outputs, T_max


def check_run_memory(configs, n_threads):
    """Refuse, before allocating anything, runs of ``configs`` (sharing sizes) that would not fit in memory together."""
    from .._kernels.population import scratch_bytes, usable_cores

    cfg = configs[0]
    every, _, m, q, T_max = layout(cfg)
    n, B, K = cfg["n_units"], cfg["batch_size"], len(configs)
    itemsize = np.dtype(cfg["dtype"]).itemsize
    threads = min(n_threads or usable_cores(), K)
    cell = cell_of(cfg)
    rows = n if cell == "rnn" else {"gru": 3, "lstm": 4}[cell] * n  # W_rec or W_hh's rows
    n_params = rows * (n + m + (1 if cell == "rnn" else 2)) + q * n + q
    per_member = itemsize * (2 * n_params + T_max * B * m + (T_max if every else 1) * B * q)
    batch = B * T_max * (m * itemsize + q * itemsize + 48)  # one batch being drawn (inputs, symbols, targets)
    need = K * per_member + threads * scratch_bytes(n, m, q, B, T_max, every, itemsize, cell) + batch
    who = "runs: a population" if K > 1 else "a run"
    _validate.memory(
        f"length={cfg['length']!r}, n_units={n} and batch_size={B}",
        need,
        f"{who} of {K} member(s) of {n} units, batch {B}, up to {T_max} steps",
    )


def length_of(config):
    """The length setting: an int, or a (min, max) tuple."""
    length = config["length"]
    return tuple(length) if isinstance(length, list) else length


# ----------------------------------------------------------------------------- the run


class Run:
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
        batch = generate(config, 1, 10, np.random.default_rng(0))
        cell = cell_of(config)
        net = init_network(config["init"], config["n_units"], batch.n_inputs, batch.n_outputs, rng=rng_init,
                           dtype=np.dtype(config["dtype"]), connections=config["connections"], cell=cell)  # fmt: skip
        params = tuple(np.array(getattr(net, k)) for k in parameter_names(cell))
        velocity = tuple(np.zeros_like(p) for p in params)
        counters = {
            "activation": net.activation if cell == "rnn" else None,
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

    @property
    def can_update(self):
        """Whether the run takes another update: not finished and under its budget."""
        return not self.finished and self.c["t"] < self.config["max_updates"]

    def next_batch(self):
        """Draw the next training batch from the run's stream (its length first, for a range of lengths)."""
        cfg = self.config
        length = length_of(cfg)
        steps = int(self.rng_train.integers(length[0], length[1] + 1)) if isinstance(length, tuple) else length
        return generate(cfg, cfg["batch_size"], steps, self.rng_train)

    def record_update(self, stats, slots, params_finite=True):
        """Book one update's ``stats`` (a row of the kernel's statistics): divergence, window, evaluation, stops.

        Mirrors the loop the authors' code runs per update: a non-finite
        gradient under ``nonfinite="stop"`` ends the run (``diverged``);
        otherwise the counters and window advance, every ``eval_every``
        updates (and at the budget) the run evaluates, and it stops on a
        success (if ``stop_on_success``) or at ``max_updates``.  An update
        that leaves a parameter NaN or inf (``params_finite`` False: e.g. a
        huge learning rate, or the ``"shrink"`` guard with ``lr > 100``,
        whose factor ``1 - 0.02 lr`` then grows ``W_rec``) ends the run as
        diverged too, under every policy.
        """
        cfg, c = self.config, self.c
        if not stats[slots.UPDATED]:
            c["diverged"], c["stop_reason"] = True, "diverged"
        else:
            c["t"] += 1
            _accumulate(c["window"], stats, slots)
            if not params_finite:
                c["diverged"], c["stop_reason"] = True, "diverged"
                self._evaluate()  # log the window that ended in divergence
            elif c["t"] % cfg["eval_every"] == 0 or c["t"] == cfg["max_updates"]:
                self._evaluate()
                if c["success"] and cfg["stop_on_success"]:
                    c["stop_reason"] = "success"
            if c["stop_reason"] is None and c["t"] >= cfg["max_updates"]:
                c["stop_reason"] = "max_updates"
        if self.finished:
            self._finish()

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
            "rho": _spectral_radius(self.params[0]) if cell_of(cfg) == "rnn" else math.nan,
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
        from ..maps.gated import GRU, LSTM
        from ..maps.model import RNN

        if not all(np.isfinite(p).all() for p in self.params):
            return None
        cell = cell_of(self.config)
        if cell != "rnn":
            params = dict(zip(parameter_names(cell), self.params, strict=True))
            return (GRU if cell == "gru" else LSTM)(dtype=self.params[0].dtype, **params)
        params = dict(zip(parameter_names("rnn"), self.params, strict=True))
        return RNN(activation=self.c["activation"], form="standard", dtype=self.params[0].dtype,
                   leak=leak_of(self.config), **params)  # fmt: skip

    def _error_rate(self, net, n_sequences, rng):
        if net is None:  # diverged parameters get every sequence wrong
            return 1.0
        cfg = self.config
        errors = count_errors(net, cfg["task"], length_of(cfg), n_sequences, rng, cfg["task_options"])
        return errors / n_sequences

    def result(self):
        c = self.c
        history = TrainHistory(
            **{k: np.asarray(v, dtype=np.int64 if k in _INT_FIELDS else np.float64) for k, v in self.history.items()}
        )
        final = c["final_error"]
        return TrainResult(
            config=self.config,
            params=dict(zip(parameter_names(cell_of(self.config)), self.params, strict=True)),
            activation=c["activation"],
            success=c["success"],
            updates_to_success=c["updates_to_success"],
            n_updates=c["t"],
            best_error=c["best_error"],
            final_error=math.nan if final is None else final,
            diverged=c["diverged"],
            status=c["stop_reason"] if c["stop_reason"] is not None else "interrupted",
            elapsed_s=c["elapsed_s"],
            history=history,
        )

    # -- checkpoints

    def save(self, path):
        """Write the run's whole state to ``path`` (a checkpoint of `dynrnn.train`)."""
        from .. import __version__

        meta, arrays = self.state()
        meta = {"format": CHECKPOINT_FORMAT, "dynrnn_version": __version__, **meta}
        write_npz(path, meta, arrays)

    def state(self):
        """``(meta, arrays)``: the run's whole state, JSON-able settings and counters, and its arrays."""
        meta = {
            "config": self.config,
            "counters": {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.c.items()},
            "best_error_inf": not math.isfinite(self.c["best_error"]),
            "rng_train": self.rng_train.bit_generator.state,
            "rng_eval": self.rng_eval.bit_generator.state,
            "history": {k: [float(x) for x in v] for k, v in self.history.items()},
        }
        names = parameter_names(cell_of(self.config))
        arrays = {f"param_{k}": p for k, p in zip(names, self.params, strict=True)}
        arrays.update({f"velocity_{k}": v for k, v in zip(names, self.velocity, strict=True)})
        return json.loads(json.dumps(meta)), arrays

    @classmethod
    def load(cls, path, config):
        """The run saved in ``path`` by `save`; ValueError if it was written with other settings."""
        meta, arrays = read_npz(path, CHECKPOINT_FORMAT)
        return cls.from_state(meta, arrays, config, path)

    @classmethod
    def from_state(cls, meta, arrays, config, path):
        """The run of a `state`; ValueError (naming ``path``) if its settings differ from ``config``.

        Every array, counter, generator state and history entry is checked
        (`dynrnn.training.checkpoint.check_state`) before the run is built: a
        file may be damaged or hostile, and its arrays go to compiled code.
        """
        from .checkpoint import check_state

        if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
            raise ValueError(f"checkpoint {path} is damaged or was not written by dynrnn: it holds no settings")
        saved = meta["config"]
        differ = sorted(k for k in set(saved) | set(config) if k not in _RESUMABLE and saved.get(k) != config.get(k))
        if differ:
            detail = ", ".join(f"{k}: checkpoint {saved.get(k)!r}, now {config.get(k)!r}" for k in differ)
            raise ValueError(f"checkpoint {path} was written by a run with other settings ({detail})")
        meta = {k: v for k, v in meta.items() if k not in ("format", "dynrnn_version")}
        _, _, m, q, _ = layout(config)
        counters, rng_train, rng_eval, history, params, velocity = check_state(meta, arrays, config, m, q, path)
        if meta["best_error_inf"]:
            counters["best_error"] = math.inf
        history = {k: [int(x) if k in _INT_FIELDS else float(x) for x in v] for k, v in history.items()}
        run = cls(dict(config), params, velocity, rng_train, rng_eval, counters, history)
        if run.finished and counters["stop_reason"] == "max_updates" and config["max_updates"] > counters["t"]:
            counters["stop_reason"], counters["final_error"] = None, None  # a larger budget: go on
        return run


_INT_FIELDS = ("update", "n_clipped", "n_nonfinite")


def _empty_window():
    return {"n": 0, "loss": 0.0, "norm": 0.0, "norm_max": 0.0, "omega": 0.0, "clipped": 0, "nonfinite": 0}


def _accumulate(w, stats, slots):
    norm = float(stats[slots.NORM])
    w["n"] += 1
    w["loss"] += float(stats[slots.LOSS])
    w["norm"] += norm
    w["norm_max"] = norm if not norm <= w["norm_max"] else w["norm_max"]  # NaN sticks
    w["omega"] += float(stats[slots.OMEGA])
    w["clipped"] += int(stats[slots.CLIPPED])
    w["nonfinite"] += int(stats[slots.SKIPPED] or stats[slots.SHRUNK])


def generate(config, batch_size, steps, rng):
    """A batch of the run's task: ``batch_size`` sequences of length ``steps`` from ``rng``."""
    return get_task(config["task"])(
        batch_size, steps, rng=rng, dtype=np.dtype(config["dtype"]), **config["task_options"]
    )


def dense_targets(batch):
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

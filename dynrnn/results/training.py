"""Results of `dynrnn.train`: the run and its history, savable to a ``.npz`` file."""

import json
import math
import os
import types
import zipfile
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from ._base import _FrozenArrays

PARAMETERS = ("W_rec", "W_in", "b", "W_out", "b_out")
GATED_PARAMETERS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")
FORMAT = "dynrnn.TrainResult/1"


def parameter_names(cell):
    """The names of a task model's parameters, in kernel order: the RNN's, or a GRU's and LSTM's."""
    return PARAMETERS if cell == "rnn" else GATED_PARAMETERS


def cell_of(config):
    """The cell of a run config: ``"rnn"`` unless it names another (configs of RNN runs have no ``cell``)."""
    return config.get("cell", "rnn")


@dataclass(frozen=True, eq=False, repr=False)
class TrainHistory(_FrozenArrays):
    """What `dynrnn.train` logged, one entry per evaluation (every ``eval_every`` updates).

    The per-update values are averaged over the updates since the previous
    entry, as the authors' code logs them (paper.md Sec. 5.7).

    Attributes
    ----------
    update : ndarray of int, shape (K,)
        Updates done when the entry was logged.
    train_loss : ndarray, shape (K,)
        Mean training loss (batch mean; also the time mean for memorization).
    grad_norm : ndarray, shape (K,)
        Mean norm of the total gradient (loss + alpha Omega) before clipping.
    grad_norm_max : ndarray, shape (K,)
        Largest such norm in the window.
    rho : ndarray, shape (K,)
        Spectral radius of ``W_rec`` at the entry (NaN for a GRU or LSTM,
        whose ``W_hh`` is not square).
    omega : ndarray, shape (K,)
        Mean Omega (eq. 10 or 9), computed for every method of an RNN (NaN
        for a GRU or LSTM, for which Omega is not defined).
    valid_error : ndarray, shape (K,)
        Error rate on ``n_check`` freshly generated sequences.
    n_clipped, n_nonfinite : ndarray of int, shape (K,)
        Updates in the window whose gradient was rescaled (Algorithm 1), and
        whose gradient norm was not finite (or above 1e10 under the
        ``"shrink"`` policy) and so was skipped or replaced.
    """

    update: np.ndarray
    train_loss: np.ndarray
    grad_norm: np.ndarray
    grad_norm_max: np.ndarray
    rho: np.ndarray
    omega: np.ndarray
    valid_error: np.ndarray
    n_clipped: np.ndarray
    n_nonfinite: np.ndarray

    def __len__(self):
        return self.update.shape[0]


HISTORY_FIELDS = tuple(f.name for f in fields(TrainHistory))


@dataclass(frozen=True, eq=False, repr=False)
class TrainResult(_FrozenArrays):
    """The outcome of one `dynrnn.train` run.

    Attributes
    ----------
    config : mappingproxy
        Every setting of the run (JSON-able): task, init, method, length,
        seed, sizes, learning rate, threshold, alpha, budgets, ...
    params : mappingproxy of str to ndarray
        The final parameters ``W_rec``, ``W_in``, ``b``, ``W_out``, ``b_out``
        (read-only); for a GRU or LSTM (``config["cell"]``), ``W_ih``,
        ``W_hh``, ``b_ih``, ``b_hh``, ``W_out``, ``b_out``.
    activation : str or None
        The units' activation (from the initialization); None for a GRU or
        LSTM, whose gates fix their nonlinearities.
    success : bool
        Whether an evaluation found an error rate below ``success_error``
        on ``n_eval`` fresh sequences (the paper: < 1 % of 10,000).
    updates_to_success : int or None
        Updates done at that evaluation.
    n_updates : int
        Updates done in all.
    best_error : float
        Lowest error rate seen at an evaluation.
    final_error : float
        Error rate of the final parameters on ``n_eval`` fresh sequences.
    diverged : bool
        The run stopped on a non-finite gradient (``nonfinite="stop"``), or
        because an update left a parameter NaN or inf (any policy).
    status : str
        Why training ended, one of `STATUSES`: "success", "max_updates",
        "diverged" or "interrupted" (Ctrl-C; the run can be resumed).
    elapsed_s : float
        Wall time spent training and evaluating, summed over resumed parts.
    history : TrainHistory
        The logged curves.
    """

    STATUSES: ClassVar[tuple] = ("success", "max_updates", "diverged", "interrupted")

    config: object
    params: object
    activation: str
    success: bool
    updates_to_success: object
    n_updates: int
    best_error: float
    final_error: float
    diverged: bool
    status: str
    elapsed_s: float
    history: TrainHistory

    def __post_init__(self):
        super().__post_init__()
        params = {}
        for key in parameter_names(cell_of(self.config)):
            arr = np.array(self.params[key])
            arr.flags.writeable = False
            params[key] = arr
        object.__setattr__(self, "params", types.MappingProxyType(params))
        object.__setattr__(self, "config", types.MappingProxyType(dict(self.config)))

    def __repr__(self):
        c = self.config
        return (
            f"TrainResult(task={c['task']!r}, init={c['init']!r}, method={c['method']!r}, length={c['length']!r}, "
            f"seed={c['seed']}, success={self.success}, updates_to_success={self.updates_to_success}, "
            f"n_updates={self.n_updates}, best_error={self.best_error:.4g}, final_error={self.final_error:.4g}, "
            f"diverged={self.diverged}, status={self.status!r}, history=<{len(self.history)} entries>)"
        )

    @property
    def net(self):
        """The final network as a `dynrnn.RNN` (with the run's ``leak``), `dynrnn.GRU` or `dynrnn.LSTM`, or None when
        its parameters are not finite."""
        from ..maps.gated import GRU, LSTM
        from ..maps.model import RNN

        if not all(np.isfinite(a).all() for a in self.params.values()):
            return None
        cell = cell_of(self.config)
        if cell != "rnn":
            return (GRU if cell == "gru" else LSTM)(dtype=self.params["W_hh"].dtype, **self.params)
        dtype = self.params["W_rec"].dtype
        leak = self.config.get("leak")  # a float, a list of floats (per unit) or None
        return RNN(activation=self.activation, form="standard", dtype=dtype, leak=leak, **self.params)

    def summary(self):
        """The run in a dict of JSON-able scalars (what `dynrnn.sweep` stores).

        Returns
        -------
        dict
            ``success``, ``updates_to_success``, ``n_updates``,
            ``best_error``, ``final_error``, ``diverged``, ``status``,
            ``elapsed_s``, and from the history: ``n_evaluations``,
            ``final_loss``, ``final_rho``, ``mean_omega``,
            ``max_grad_norm``, ``n_clipped``, ``n_nonfinite``.
        """
        h = self.history

        def last(values):
            return _json_float(values[-1]) if len(values) else None

        return {
            "success": bool(self.success),
            "updates_to_success": self.updates_to_success,
            "n_updates": int(self.n_updates),
            "best_error": _json_float(self.best_error),
            "final_error": _json_float(self.final_error),
            "diverged": bool(self.diverged),
            "status": self.status,
            "elapsed_s": float(self.elapsed_s),
            "n_evaluations": len(h),
            "final_loss": last(h.train_loss),
            "final_rho": last(h.rho),
            "mean_omega": _json_float(np.mean(h.omega)) if len(h) else None,
            "max_grad_norm": _json_float(np.max(h.grad_norm_max)) if len(h) else None,
            "n_clipped": int(np.sum(h.n_clipped)),
            "n_nonfinite": int(np.sum(h.n_nonfinite)),
        }

    def save(self, path):
        """Write the result to ``path`` (a ``.npz`` file; written to a temporary file, then renamed).

        Parameters
        ----------
        path : str or os.PathLike
            The file to write.

        See Also
        --------
        load : reads it back.
        """
        meta = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("params", "history")}
        meta["config"] = dict(self.config)
        meta["format"] = FORMAT
        arrays = {f"params_{k}": v for k, v in self.params.items()}
        arrays.update({f"history_{k}": getattr(self.history, k) for k in HISTORY_FIELDS})
        write_npz(path, meta, arrays)

    @classmethod
    def load(cls, path):
        """Read a result written by `save`.

        Parameters
        ----------
        path : str or os.PathLike
            The file.

        Returns
        -------
        TrainResult

        Raises
        ------
        ValueError
            If the file is not a saved `TrainResult`.
        """
        meta, arrays = read_npz(path, FORMAT)
        meta.pop("format")
        try:
            params, history = _check_result(meta, arrays)
        except ValueError as exc:
            raise ValueError(f"{os.fspath(path)} is damaged or was not written by TrainResult.save: {exc}") from None
        return cls(params=params, history=TrainHistory(**history), **meta)


_INT_HISTORY = ("update", "n_clipped", "n_nonfinite")


def _check_result(meta, arrays):
    """The params and history arrays of a loaded result, after checking every field; ValueError otherwise."""
    from ..maps.activations import ACTIVATIONS

    expected = [f.name for f in fields(TrainResult) if f.name not in ("params", "history")]
    missing = [k for k in expected if k not in meta]
    extra = sorted(k for k in meta if k not in expected)
    if missing or extra:
        raise ValueError(
            f"its fields must be {', '.join(expected)}; missing {missing or 'none'}, extra {extra or 'none'}"
        )

    def real(key):
        value = meta[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} must be a number; got {value!r}")

    if not isinstance(meta["config"], dict):
        raise ValueError(f"config must be a JSON object; got {type(meta['config']).__name__}")
    cell = cell_of(meta["config"])
    if cell not in ("rnn", "gru", "lstm"):
        raise ValueError(f"config cell must be one of rnn, gru, lstm; got {cell!r}")
    if cell == "rnn" and meta["activation"] not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {meta['activation']!r}")
    if cell != "rnn" and meta["activation"] is not None:
        raise ValueError(f"activation must be null for a {cell.upper()}; got {meta['activation']!r}")
    for key in ("success", "diverged"):
        if not isinstance(meta[key], bool):
            raise ValueError(f"{key} must be true or false; got {meta[key]!r}")
    for key in ("n_updates", "updates_to_success"):
        value = meta[key]
        if not (value is None and key == "updates_to_success") and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ValueError(f"{key} must be an integer >= 0; got {value!r}")
    for key in ("best_error", "final_error", "elapsed_s"):
        real(key)
    if meta["status"] not in TrainResult.STATUSES:
        raise ValueError(f"status must be one of {', '.join(TrainResult.STATUSES)}; got {meta['status']!r}")
    params = {}
    for key in parameter_names(cell):
        name = f"params_{key}"
        if name not in arrays:
            raise ValueError(f"the array {name!r} is missing")
        arr = arrays[name]
        if arr.dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise ValueError(f"{name} must be a float64 or float32 array; got dtype {arr.dtype}")
        params[key] = arr
    shapes, n, expected = _expected_shapes(cell, params)
    first = params[parameter_names(cell)[0]]
    for key, arr in params.items():
        if min(shapes[key]) < 1 or arr.shape != shapes[key] or arr.dtype != first.dtype:
            got = ", ".join(f"{k} {tuple(a.shape)} {a.dtype}" for k, a in params.items())
            raise ValueError(f"the parameters must have shapes {expected} with n, m, q >= 1 and one dtype; got {got}")
    if meta["config"].get("n_units", n) != n:
        raise ValueError(f"the parameters have {n} units but config n_units is {meta['config']['n_units']!r}")
    history = {}
    for key in HISTORY_FIELDS:
        name = f"history_{key}"
        if name not in arrays:
            raise ValueError(f"the array {name!r} is missing")
        arr = arrays[name]
        kind = "i" if key in _INT_HISTORY else "f"
        if arr.ndim != 1 or arr.dtype.kind != kind:
            raise ValueError(f"{name} must be a 1-D {'integer' if kind == 'i' else 'float'} array; got {arr.dtype} "
                             f"of shape {tuple(arr.shape)}")  # fmt: skip
        history[key] = arr
    if len({a.shape[0] for a in history.values()}) != 1:
        lengths = ", ".join(f"{k} {a.shape[0]}" for k, a in history.items())
        raise ValueError(f"the history arrays must have one length; got {lengths}")
    return params, history


def _expected_shapes(cell, params):
    """``(shapes, n, text)``: the shapes a result's parameters must have, read off their sizes."""

    def dim(key, axis):
        arr = params[key]
        return arr.shape[axis] if arr.ndim == 2 else -1

    q = dim("W_out", 0)
    if cell == "rnn":
        n, m = dim("W_rec", 0), dim("W_in", 1)
        shapes = {"W_rec": (n, n), "W_in": (n, m), "b": (n,), "W_out": (q, n), "b_out": (q,)}
        return shapes, n, "W_rec (n, n), W_in (n, m), b (n,), W_out (q, n), b_out (q,)"
    k = 3 if cell == "gru" else 4
    n, m = dim("W_hh", 1), dim("W_ih", 1)
    K = k * n if n > 0 else -1
    shapes = {"W_ih": (K, m), "W_hh": (K, n), "b_ih": (K,), "b_hh": (K,), "W_out": (q, n), "b_out": (q,)}
    return shapes, n, f"W_ih ({k}n, m), W_hh ({k}n, n), b_ih ({k}n,), b_hh ({k}n,), W_out (q, n), b_out (q,)"


def _json_float(x):
    x = float(x)
    return x if math.isfinite(x) else None


def write_npz(path, meta, arrays):
    """Write ``arrays`` and the JSON ``meta`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = check_writable("path", path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            np.savez(handle, __meta__=np.array(json.dumps(meta)), **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def check_writable(name, path):
    """``os.fspath(path)``, checked to be a file that `write_npz` (or a CSV writer) can create or replace.

    Raises TypeError if ``path`` is not a path, ValueError naming ``name`` if
    it is a folder, its folder does not exist, or a file cannot be created
    there (tried with a temporary file, removed at once).  Call it before
    long work whose result goes to ``path``.
    """
    if isinstance(path, bool) or not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike); got {type(path).__name__} {path!r}")
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path:
        raise ValueError(f"{name} must be a file path; got an empty string")
    if os.path.isdir(path):
        raise ValueError(f"{name} must be a file path; got the folder {path}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{name}: cannot write {path}: the folder {folder} does not exist")
    probe = f"{path}.tmp-{os.getpid()}"
    try:
        with open(probe, "wb"):
            pass
    except OSError as exc:
        raise ValueError(f"{name}: cannot write {path} ({exc.strerror or exc})") from exc
    finally:
        if os.path.exists(probe):
            os.remove(probe)
    return path


def _check_members(path):
    """Refuse an ``.npz`` whose array headers claim more data than the file holds (before anything is allocated)."""
    if not zipfile.is_zipfile(path):
        return
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as handle:
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > info.file_size:
                raise ValueError(
                    f"its member {info.filename} declares shape {shape} ({nbytes} bytes) but holds {info.file_size}"
                )
            total += nbytes
    from .._validate import memory

    memory("path", total, f"the arrays of {path}")


def read_npz(path, expected_format):
    """``(meta, arrays)`` of a file written by `write_npz`; ValueError unless its format is ``expected_format``."""
    path = os.fspath(path)
    try:
        _check_members(path)
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:  # closed on every error
            meta = json.loads(str(data["__meta__"]))
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
    except (OSError, ValueError, TypeError, KeyError, EOFError, MemoryError, zipfile.BadZipFile) as exc:
        why = str(exc) or type(exc).__name__
        raise ValueError(f"{path} is not a file written by dynrnn ({expected_format}): {why}") from exc
    if not isinstance(meta, dict) or meta.get("format") != expected_format:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise ValueError(f"{path} holds {got!r}, not {expected_format!r}")
    return meta, arrays


@dataclass(frozen=True, eq=False, repr=False)
class PopulationResult:
    """The outcome of `dynrnn.train_population`: one `TrainResult` per member, in the order given.

    Attributes
    ----------
    runs : tuple of TrainResult
        Member ``k``'s result, equal to that of `dynrnn.train` with its
        settings.

    Indexing, iteration and ``len`` go through ``runs``.
    """

    runs: tuple

    @property
    def success(self):
        """ndarray of bool, shape (K,): which members succeeded."""
        return np.array([r.success for r in self.runs], dtype=bool)

    @property
    def n_updates(self):
        """ndarray of int, shape (K,): updates each member made."""
        return np.array([r.n_updates for r in self.runs], dtype=np.int64)

    @property
    def diverged(self):
        """ndarray of bool, shape (K,): which members stopped on a non-finite gradient."""
        return np.array([r.diverged for r in self.runs], dtype=bool)

    def __len__(self):
        return len(self.runs)

    def __getitem__(self, k):
        return self.runs[k]

    def __iter__(self):
        return iter(self.runs)

    def __repr__(self):
        return (
            f"PopulationResult(<{len(self.runs)} runs>, n_success={int(self.success.sum())}, "
            f"n_diverged={int(self.diverged.sum())}, n_updates={self.n_updates.sum()})"
        )

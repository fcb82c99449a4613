"""Checks of a saved training state (a checkpoint of `dynrnn.train` or `dynrnn.train_population`).

A checkpoint file may be damaged or hostile.  Before any of its arrays reaches
a compiled update, `check_state` verifies every array's name, shape, dtype and
finiteness against the run's settings, and every counter, generator state and
history entry; it raises ValueError naming the file and the entry otherwise.
"""

import math
import numbers

import numpy as np

from ..results.training import HISTORY_FIELDS, cell_of, parameter_names

__all__ = ["check_state"]

STOP_REASONS = (None, "success", "max_updates", "diverged")
_COUNTERS = ("activation", "t", "success", "updates_to_success", "best_error", "final_error", "diverged",
             "stop_reason", "elapsed_s", "window")  # fmt: skip
_WINDOW_INTS = ("n", "clipped", "nonfinite")
_WINDOW_FLOATS = ("loss", "norm", "norm_max", "omega")
_INT_HISTORY = ("update", "n_clipped", "n_nonfinite")
_INT64_MAX = 2**63 - 1


class _Bad(ValueError):
    pass


def _int(where, value, lo=0, hi=_INT64_MAX):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise _Bad(f"{where} must be an integer in [{lo}, {hi}]; got {value!r}")
    return int(value)


def _real(where, value, lo=-math.inf, hi=math.inf, finite=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _Bad(f"{where} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise _Bad(f"{where} must be finite; got {value}")
    if not math.isnan(value) and not lo <= value <= hi:
        raise _Bad(f"{where} must lie in [{lo}, {hi}]; got {value}")
    return value


def _bool(where, value):
    if not isinstance(value, bool):
        raise _Bad(f"{where} must be true or false; got {value!r}")
    return value


def _keys(where, value, expected):
    if not isinstance(value, dict):
        raise _Bad(f"{where} must be a JSON object; got {type(value).__name__}")
    missing = [k for k in expected if k not in value]
    extra = sorted(str(k) for k in value if k not in expected)
    if missing or extra:
        raise _Bad(
            f"{where} must have the keys {', '.join(expected)}; missing {missing or 'none'}, extra {extra or 'none'}"
        )


def expected_shapes(config, n_inputs, n_outputs):
    """The shapes of a run's parameters (and velocities): W_rec, W_in, b, W_out, b_out (an RNN), or W_ih, W_hh,
    b_ih, b_hh, W_out, b_out (a GRU or LSTM)."""
    n, q = config["n_units"], n_outputs
    cell = cell_of(config)
    if cell == "rnn":
        return {"W_rec": (n, n), "W_in": (n, n_inputs), "b": (n,), "W_out": (q, n), "b_out": (q,)}
    K = {"gru": 3, "lstm": 4}[cell] * n
    return {"W_ih": (K, n_inputs), "W_hh": (K, n), "b_ih": (K,), "b_hh": (K,), "W_out": (q, n), "b_out": (q,)}


def _arrays(arrays, config, shapes):
    """The params and velocities, checked for presence, shape, dtype (the config's) and finiteness."""
    dtype = np.dtype(config["dtype"])
    out = {}
    for kind in ("param", "velocity"):
        for key in shapes:
            name = f"{kind}_{key}"
            if name not in arrays:
                raise _Bad(f"the array {name!r} is missing")
            arr = arrays[name]
            if not isinstance(arr, np.ndarray) or arr.dtype != dtype:
                got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
                raise _Bad(f"{name} must have dtype {dtype} (the run's dtype); got {got}")
            if arr.shape != shapes[key]:
                raise _Bad(f"{name} must have shape {shapes[key]} for this run; got {tuple(arr.shape)}")
            out[name] = np.array(arr, dtype=dtype, order="C")  # a private, writable, C-contiguous copy
    return out


def _counters(counters, config):
    from .inits import INITS

    _keys("counters", counters, _COUNTERS)
    c = dict(counters)
    activation = INITS[config["init"]][0] if cell_of(config) == "rnn" else None
    if c["activation"] != activation:
        raise _Bad(f"counters.activation must be {activation!r} (init {config['init']!r}); got {c['activation']!r}")
    t = _int("counters.t", c["t"])
    _bool("counters.success", c["success"])
    _bool("counters.diverged", c["diverged"])
    if c["updates_to_success"] is not None:
        _int("counters.updates_to_success", c["updates_to_success"], 1, max(t, 1))
    if c["success"] != (c["updates_to_success"] is not None):
        raise _Bad(f"counters.success={c['success']} disagrees with updates_to_success={c['updates_to_success']!r}")
    if c["best_error"] is not None:
        _real("counters.best_error", c["best_error"], 0.0, 1.0, finite=True)
    if c["final_error"] is not None:
        _real("counters.final_error", c["final_error"], 0.0, 1.0, finite=True)
    if c["stop_reason"] not in STOP_REASONS:
        raise _Bad(f"counters.stop_reason must be one of {STOP_REASONS}; got {c['stop_reason']!r}")
    if c["diverged"] != (c["stop_reason"] == "diverged"):
        raise _Bad(f"counters.diverged={c['diverged']} disagrees with stop_reason={c['stop_reason']!r}")
    if c["stop_reason"] == "success" and not c["success"]:
        raise _Bad("counters.stop_reason is 'success' but success is false")
    _real("counters.elapsed_s", c["elapsed_s"], 0.0, finite=True)
    window = c["window"]
    _keys("counters.window", window, _WINDOW_INTS + _WINDOW_FLOATS)
    n = _int("counters.window.n", window["n"], 0, t)
    for key in _WINDOW_INTS[1:]:
        _int(f"counters.window.{key}", window[key], 0, n)
    for key in _WINDOW_FLOATS:
        _real(f"counters.window.{key}", window[key])
    return c


def _history(history, t):
    _keys("history", history, HISTORY_FIELDS)
    lengths = {len(v) if isinstance(v, list) else -1 for v in history.values()}
    if -1 in lengths or len(lengths) != 1:
        raise _Bad("history must hold one list per field, all of the same length")
    (length,) = lengths
    if length > t:
        raise _Bad(f"history has {length} entries, more than the {t} updates done")
    for key, values in history.items():
        for i, x in enumerate(values):
            if key in _INT_HISTORY:  # saved as floats (integral)
                hi = t if key == "update" else _INT64_MAX
                x = _real(f"history.{key}[{i}]", x, 0, hi, finite=True)
                if x != int(x):
                    raise _Bad(f"history.{key}[{i}] must be a whole number; got {x}")
            else:
                _real(f"history.{key}[{i}]", x)


def _generator(where, state):
    rng = np.random.default_rng(0)
    try:
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise _Bad(f"{where} is not the state of a PCG64 generator ({type(exc).__name__}: {exc})") from exc
    return rng


def check_state(meta, arrays, config, n_inputs, n_outputs, path):
    """Validate a saved run state; return ``(counters, rng_train, rng_eval, history, params, velocity)``.

    ``meta`` is the JSON part (config, counters, generator states, history),
    ``arrays`` the ``param_*`` and ``velocity_*`` arrays, ``config`` the
    settings of the run that resumes (already compared with the saved ones).
    Raises ValueError naming ``path`` and the first bad entry.
    """
    try:
        _keys("the state", meta, ("config", "counters", "best_error_inf", "rng_train", "rng_eval", "history"))
        counters = _counters(meta["counters"], config)
        _bool("best_error_inf", meta["best_error_inf"])
        if meta["best_error_inf"] != (counters["best_error"] is None):
            raise _Bad("best_error_inf disagrees with counters.best_error")
        rng_train = _generator("rng_train", meta["rng_train"])
        rng_eval = _generator("rng_eval", meta["rng_eval"])
        _history(meta["history"], counters["t"])
        checked = _arrays(arrays, config, expected_shapes(config, n_inputs, n_outputs))
        if not counters["diverged"]:  # a diverged run may hold the non-finite parameters it ended with
            for name, arr in checked.items():
                if not np.isfinite(arr).all():
                    raise _Bad(f"{name} must be finite (the run did not diverge); it holds NaN or inf")
    except _Bad as exc:
        raise ValueError(f"checkpoint {path} is damaged or was not written by dynrnn: {exc}") from None
    names = parameter_names(cell_of(config))
    params = tuple(checked[f"param_{k}"] for k in names)
    velocity = tuple(checked[f"velocity_{k}"] for k in names)
    return counters, rng_train, rng_eval, meta["history"], params, velocity

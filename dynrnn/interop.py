"""Networks trained in PyTorch, in and out: `from_torch` and `to_torch`.

torch is never a dependency of dynrnn: it is imported only inside these functions, and only when a
torch object is passed in or asked for.  A ``state_dict`` converted to NumPy arrays goes in without it.
"""

import re
import sys
from collections.abc import Mapping

import numpy as np

from . import _validate
from .maps.gated import GRU, LSTM, is_gated
from .maps.model import RNN

__all__ = ["from_torch", "to_torch", "KINDS"]

KINDS = ("rnn_tanh", "rnn_relu", "gru", "lstm")
"""The cells `from_torch` reads: an ``nn.RNN`` of mode ``RNN_TANH`` or ``RNN_RELU``, an ``nn.GRU``, an ``nn.LSTM``."""

_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}
_STACKED = {1: "", 3: " (gates r, z, n stacked)", 4: " (gates i, f, g, o stacked)"}
_KEY = re.compile(r"(weight|bias)_(ih|hh|hr)(?:_l(\d+))?(_reverse)?")
_LAYER_KEYS = "weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0"


def from_torch(module, *, readout=None, kind=None, dtype=np.float64):
    """Import a one-layer PyTorch RNN, GRU or LSTM (and its linear readout) as a dynrnn network.

    Parameters
    ----------
    module : torch.nn.RNN, torch.nn.GRU, torch.nn.LSTM, or a mapping of arrays
        The trained network: a one-layer, one-direction module (``nn.RNN``
        with ``nonlinearity="tanh"`` or ``"relu"``, ``nn.GRU``, ``nn.LSTM``
        without ``proj_size``; the cells ``nn.RNNCell``, ``nn.GRUCell`` and
        ``nn.LSTMCell`` also go in), or its ``state_dict``: a mapping with
        the keys ``weight_ih_l0``, ``weight_hh_l0`` and, unless the module
        was built with ``bias=False``, ``bias_ih_l0`` and ``bias_hh_l0``
        (``weight_ih``, ... for a cell's ``state_dict``), whose values are
        arrays (``{k: v.numpy() for k, v in module.state_dict().items()}``,
        a ``numpy.load`` of a ``.npz`` file) or tensors.  Nothing in it is
        modified.
    readout : torch.nn.Linear or mapping, optional
        The linear readout ``y_t = W_out h_t + b_out``: an ``nn.Linear``
        with ``in_features`` equal to the hidden size, or its
        ``state_dict`` (keys ``weight`` of shape (q, n) and, unless
        ``bias=False``, ``bias`` of shape (q,)).  None for none.
    kind : {"rnn_tanh", "rnn_relu", "gru", "lstm"}, optional
        The cell.  A module says what it is, so for a module ``kind`` may
        be left out (if given it must agree).  A mapping does not: its cell
        is read from the rows of ``weight_hh_l0`` (3n for a GRU, 4n for an
        LSTM), but a plain RNN's (n rows) does not say its nonlinearity, so
        a plain RNN's mapping needs ``kind="rnn_tanh"`` or ``"rnn_relu"``.
        Giving ``kind`` always checks the shapes against it.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the network.  A float32 (or half-precision)
        module is converted exactly to float64.

    Returns
    -------
    RNN, GRU or LSTM
        For an ``nn.RNN``: a standard-form `RNN`, ``h_t = sigma(W_rec h_{t-1}
        + W_in u_t + b)``, with ``W_rec = weight_hh_l0``, ``W_in =
        weight_ih_l0``, ``b = bias_ih_l0 + bias_hh_l0`` and ``activation``
        ``"tanh"`` or ``"relu"``.  For an ``nn.GRU`` or ``nn.LSTM``: a
        `GRU` or `LSTM` with the four arrays copied as they are.  The
        readout, if any, becomes ``W_out`` and ``b_out``.

    Raises
    ------
    TypeError
        If ``module`` is neither a supported torch module nor a mapping, if
        ``readout`` is neither an ``nn.Linear`` nor a mapping, or if a
        value is complex or not numeric.
    ValueError
        If the module has several layers, two directions or a projection
        (``proj_size > 0``); if a mapping has keys of such a module, other
        unexpected keys, a missing key or an array of the wrong shape (the
        message names the key and the shape expected); if ``kind`` is
        unknown, disagrees with the module, or is needed and missing; if a
        value is NaN or inf, or does not fit in ``dtype``; or if the
        readout's width is not the hidden size.

    See Also
    --------
    to_torch : the way back.
    GRU, LSTM : the same parameter layout as ``torch.nn.GRU`` and ``torch.nn.LSTM``.

    Notes
    -----
    ``batch_first`` changes only how a module reads its input tensor, not
    its parameters, so it is accepted and has no effect here (dynrnn's
    inputs are (T, m), or (T, B, m) for `bptt`).  ``dropout`` acts between
    layers, so a one-layer module has none.  A module without biases
    (``bias=False``) gets zero biases.

    The imported network computes what the module computes: for the same
    ``x0`` (torch's ``h0``, or ``(h0, c0)`` stacked for an LSTM) and
    inputs, ``dynrnn.iterate(net, x0, inputs)[1:, :n]`` is the module's
    output sequence, and `dynrnn.bptt` gives the gradients torch's autograd
    gives (for an ``nn.RNN``, the gradient of ``b`` is that of each of
    ``bias_ih_l0`` and ``bias_hh_l0``).  torch is imported only when a
    torch module or ``nn.Linear`` is passed.

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> n, m = 2, 1
    >>> state = {"weight_ih_l0": np.ones((3 * n, m)), "weight_hh_l0": np.zeros((3 * n, n)),
    ...          "bias_ih_l0": np.zeros(3 * n), "bias_hh_l0": np.zeros(3 * n)}
    >>> dynrnn.from_torch(state)
    GRU(n_units=2, n_inputs=1, n_outputs=0, state_size=2, dtype=float64)
    >>> state = {"weight_ih_l0": np.ones((n, m)), "weight_hh_l0": np.eye(n)}
    >>> dynrnn.from_torch(state, kind="rnn_relu", readout={"weight": np.ones((1, n))})
    RNN(n_units=2, n_inputs=1, n_outputs=1, activation='relu', form='standard', leak=None, dtype=float64)
    """
    dtype = _validate.float_dtype("dtype", dtype)
    if kind is not None:
        _validate.choice("kind", kind, KINDS)
    if isinstance(module, Mapping):
        label = "module[{!r}]".format
        arrays, suffix = _mapping_arrays(module)
        found = None
    else:
        found, arrays, suffix = _module_arrays(module)
        label = "module.{}".format
        if kind is not None and kind != found:
            raise ValueError(f"kind={kind!r} disagrees with the module, a {type(module).__name__} ({found!r})")
    params, kind = _cell_parameters(arrays, suffix, label, kind or found, dtype)
    n = params["W_hh"].shape[1]
    W_out = b_out = None
    if readout is not None:
        W_out, b_out = _readout(readout, n, dtype)
    if kind.startswith("rnn_"):
        b = None if params["b_ih"] is None else params["b_ih"] + params["b_hh"]
        return RNN(params["W_hh"], params["W_ih"], b, activation=kind[4:], form="standard", dtype=dtype,
                   W_out=W_out, b_out=b_out)  # fmt: skip
    cls = GRU if kind == "gru" else LSTM
    return cls(W_ih=params["W_ih"], W_hh=params["W_hh"], b_ih=params["b_ih"], b_hh=params["b_hh"], dtype=dtype,
               W_out=W_out, b_out=b_out)  # fmt: skip


def to_torch(net):
    """The PyTorch module (and ``nn.Linear`` readout) that computes what a dynrnn network computes.

    Parameters
    ----------
    net : RNN, GRU or LSTM
        The network, with at least one input (torch has no autonomous
        module).  An `RNN` must have no leak and ``activation`` ``"tanh"``
        or ``"relu"``, the two of ``torch.nn.RNN``.

    Returns
    -------
    module : torch.nn.RNN, torch.nn.GRU or torch.nn.LSTM
        One layer, ``batch_first=False``, holding copies of the parameters
        in ``net.dtype`` (torch.float64 or torch.float32).  An `RNN` becomes
        ``nn.RNN`` with ``weight_hh_l0 = W_rec``, ``weight_ih_l0 = W_in``,
        ``bias_ih_l0 = b`` and ``bias_hh_l0 = 0``.
    readout : torch.nn.Linear or None
        ``W_out`` and ``b_out``; None for a network without readout.

    Raises
    ------
    TypeError
        If ``net`` is not an `RNN`, `GRU` or `LSTM`.
    ValueError
        If ``net`` has no input, or is an `RNN` with a leak or an activation
        torch's ``nn.RNN`` does not have.
    ModuleNotFoundError
        If torch is not installed.

    See Also
    --------
    from_torch : the way in: with ``module, readout = to_torch(net)``,
        ``from_torch(module, readout=readout, dtype=net.dtype)`` has the
        parameters of ``net``.

    Notes
    -----
    torch's ``nn.RNN`` is the standard form.  A paper-form `RNN` (eq. 2, ``x_t
    = W_rec sigma(x_{t-1}) + W_in u_t + b``) is the same system seen through
    ``h_t = sigma(x_t)`` (footnote 1 of Pascanu et al. 2013), so it is
    exported with the same parameters: the module's hidden state is ``h_t``,
    and it starts from ``h_0 = sigma(x_0)``; `from_torch` brings it back as a
    standard-form `RNN`.  Creating the modules does not draw from torch's
    random generator.

    Examples
    --------
    >>> import dynrnn
    >>> net = dynrnn.RNN([[0.5]], W_in=[[1.0]], form="standard")
    >>> module, readout = dynrnn.to_torch(net)  # doctest: +SKIP
    """
    if isinstance(net, RNN):
        if net.activation not in ("tanh", "relu"):
            raise ValueError(
                f"net.activation must be 'tanh' or 'relu' (the nonlinearities of torch.nn.RNN); got {net.activation!r}"
            )
        if net.leak is not None:
            raise ValueError("net has a leak; torch.nn.RNN has no leaky units")
        cls_name, W_hh, W_ih, b_ih, b_hh = "RNN", net.W_rec, net.W_in, net.b, np.zeros_like(net.b)
    elif is_gated(net):
        cls_name, W_hh, W_ih, b_ih, b_hh = type(net).__name__, net.W_hh, net.W_ih, net.b_ih, net.b_hh
    else:
        raise TypeError(f"net must be a dynrnn.RNN, GRU or LSTM; got {type(net).__name__}")
    if net.n_inputs == 0:
        raise ValueError("net has no input (n_inputs = 0); torch's recurrent modules need input_size >= 1")
    import torch  # here, not at import: torch is never a dependency of dynrnn

    tdtype = torch.float64 if net.dtype == np.float64 else torch.float32
    options = {"nonlinearity": net.activation} if cls_name == "RNN" else {}
    with torch.random.fork_rng(devices=[]):  # the constructors' random init must not move the caller's stream
        module = getattr(torch.nn, cls_name)(net.n_inputs, net.n_units, dtype=tdtype, **options)
        readout = None if net.W_out is None else torch.nn.Linear(net.n_units, net.n_outputs, dtype=tdtype)
    with torch.no_grad():
        for name, value in (("weight_ih_l0", W_ih), ("weight_hh_l0", W_hh), ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
            getattr(module, name).copy_(torch.from_numpy(np.array(value)))
        if readout is not None:
            readout.weight.copy_(torch.from_numpy(np.array(net.W_out)))
            readout.bias.copy_(torch.from_numpy(np.array(net.b_out)))
    return module, readout


# ----------------------------------------------------------------------------- reading the parameters


def _torch_or_none():
    """torch if it is already imported (a torch object exists only then), else None: never imports it first."""
    return sys.modules.get("torch")


def _tensor_to_numpy(name, value):
    """A tensor as a NumPy array (floats widened exactly to float64); anything else as given."""
    if not (hasattr(value, "detach") and hasattr(value, "is_complex") and hasattr(value, "numpy")):
        return value
    if value.is_complex():
        raise TypeError(f"{name} must be real-valued; got a complex tensor ({value.dtype})")
    value = value.detach().cpu()
    if value.is_floating_point():
        value = value.double()  # float16 and bfloat16 have no NumPy type; every float fits float64 exactly
    return value.numpy()


def _module_arrays(module):
    """(kind, {name: array}, key suffix) of a torch module, after refusing what dynrnn cannot represent."""
    torch = _torch_or_none()
    if torch is None or not isinstance(module, torch.nn.Module):
        hint = " (it is already a dynrnn network)" if isinstance(module, RNN) or is_gated(module) else ""
        raise TypeError(
            "module must be a torch.nn.RNN, GRU or LSTM (or RNNCell, GRUCell, LSTMCell), or a mapping of arrays "
            f"such as its state_dict; got {type(module).__name__}{hint}"
        )
    nn = torch.nn
    what = type(module).__name__
    if isinstance(module, nn.RNNBase):
        kind = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "GRU": "gru", "LSTM": "lstm"}.get(module.mode)
        if kind is None:
            raise TypeError(f"module is a {what} with mode {module.mode!r}; supported: RNN_TANH, RNN_RELU, GRU, LSTM")
        if module.num_layers != 1:
            raise ValueError(f"module has num_layers={module.num_layers}; only one-layer networks are supported")
        if module.bidirectional:
            raise ValueError("module is bidirectional; only one-direction networks are supported")
        if getattr(module, "proj_size", 0):
            raise ValueError(f"module has proj_size={module.proj_size}; LSTMs with a projection are not supported")
        suffix = "_l0"
    elif isinstance(module, (nn.RNNCell, nn.GRUCell, nn.LSTMCell)):
        if isinstance(module, nn.RNNCell):
            kind = {"tanh": "rnn_tanh", "relu": "rnn_relu"}.get(module.nonlinearity)
            if kind is None:
                raise TypeError(f"module is an RNNCell with nonlinearity {module.nonlinearity!r}")
        else:
            kind = "gru" if isinstance(module, nn.GRUCell) else "lstm"
        suffix = ""
    else:
        raise TypeError(
            f"module must be a torch.nn.RNN, GRU or LSTM (or RNNCell, GRUCell, LSTMCell); got {what}, which is "
            "not supported"
        )
    names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if module.bias else ())
    arrays = {
        name + suffix: _tensor_to_numpy(f"module.{name}{suffix}", getattr(module, name + suffix)) for name in names
    }
    return kind, arrays, suffix


def _mapping_arrays(mapping):
    """({key: value}, key suffix) of a state_dict, after refusing keys of modules dynrnn cannot represent."""
    unknown, suffixes, found = [], set(), {}
    for key in mapping:
        match = _KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            unknown.append(key)
            continue
        layer, reverse = match.group(3), match.group(4)
        if layer is not None and int(layer) != 0:
            raise ValueError(
                f"module has the key {key!r} of layer {int(layer)}: only one-layer networks (num_layers=1) are "
                "supported"
            )
        if reverse:
            raise ValueError(f"module has the key {key!r} of a bidirectional network: only one direction is supported")
        if match.group(2) == "hr":
            raise ValueError(f"module has the key {key!r} of an LSTM with proj_size > 0, which is not supported")
        suffixes.add("" if layer is None else "_l0")
        found[key] = mapping[key]
    if unknown:
        hint = " (pass the readout's weight and bias as readout=)" if {"weight", "bias"} & set(unknown) else ""
        raise ValueError(
            f"module has unexpected keys {unknown!r}: a one-layer torch.nn.RNN, GRU or LSTM state_dict has only "
            f"{_LAYER_KEYS} (weight_ih, ... for a cell){hint}"
        )
    if len(suffixes) > 1:
        raise ValueError(
            f"module mixes the keys of a layer (weight_hh_l0) and of a cell (weight_hh): {sorted(found)!r}"
        )
    suffix = suffixes.pop() if suffixes else "_l0"
    return {key: _tensor_to_numpy(f"module[{key!r}]", value) for key, value in found.items()}, suffix


def _array(name, value, dtype):
    """A float64 array of a real, finite value that fits in ``dtype``; never the caller's memory written."""
    arr = _validate.real_array(name, value, np.float64)
    if dtype != np.float64:
        _validate.real_array(name, arr, dtype)  # refuses a value beyond float32's range, naming the key
    return arr


def _cell_parameters(arrays, suffix, label, kind, dtype):
    """Checked ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh`` (float64; biases None when absent) and the kind."""
    key = {name: name + suffix for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    if key["weight_hh"] not in arrays:
        shape = "(n, n), (3n, n) or (4n, n)" if kind is None else f"({_GATES[kind]}n, n)".replace("(1n", "(n")
        raise ValueError(f"module has no {key['weight_hh']!r}: the recurrent weights, of shape {shape}")
    W_hh = _array(label(key["weight_hh"]), arrays[key["weight_hh"]], dtype)
    rows, n = W_hh.shape if W_hh.ndim == 2 else (0, 0)
    if kind is None:
        k = rows // n if n and rows % n == 0 else 0
        if W_hh.ndim == 2 and k == 1:
            raise ValueError(
                f"{label(key['weight_hh'])} of shape {_validate.shape_str(W_hh.shape)} is a plain RNN's, whose "
                "nonlinearity a state_dict does not record: pass kind='rnn_tanh' or kind='rnn_relu'"
            )
        if W_hh.ndim != 2 or k not in (3, 4):
            raise ValueError(
                f"{label(key['weight_hh'])} must have shape (n, n), (3n, n) or (4n, n) with n >= 1 (an RNN, GRU "
                f"or LSTM); got {_validate.shape_str(W_hh.shape)}"
            )
        kind = "gru" if k == 3 else "lstm"
    k = _GATES[kind]
    if W_hh.ndim != 2 or n == 0 or rows != k * n:
        want = "(n, n)" if k == 1 else f"({k}n, n)"
        raise ValueError(
            f"{label(key['weight_hh'])} must have shape {want} with n >= 1 for kind={kind!r}{_STACKED[k]}; "
            f"got {_validate.shape_str(W_hh.shape)}"
        )
    rows = k * n
    if key["weight_ih"] not in arrays:
        raise ValueError(f"module has no {key['weight_ih']!r}: the input weights, of shape ({rows}, m)")
    W_ih = _array(label(key["weight_ih"]), arrays[key["weight_ih"]], dtype)
    if W_ih.ndim != 2 or W_ih.shape[0] != rows:
        raise ValueError(
            f"{label(key['weight_ih'])} must have shape ({rows}, m) (n = {n} from {key['weight_hh']}); "
            f"got {_validate.shape_str(W_ih.shape)}"
        )
    present = [name for name in ("bias_ih", "bias_hh") if key[name] in arrays]
    biases = {"b_ih": None, "b_hh": None}
    if len(present) == 1:
        missing = key["bias_hh" if present == ["bias_ih"] else "bias_ih"]
        raise ValueError(
            f"module has {key[present[0]]!r} but no {missing!r} (shape ({rows},)); give both biases, or neither "
            "for a module built with bias=False"
        )
    for name in present:
        b = _array(label(key[name]), arrays[key[name]], dtype)
        if b.shape != (rows,):
            raise ValueError(
                f"{label(key[name])} must have shape ({rows},) (n = {n} from {key['weight_hh']}); "
                f"got {_validate.shape_str(b.shape)}"
            )
        biases["b" + name[4:]] = b
    return {"W_ih": W_ih, "W_hh": W_hh, **biases}, kind


def _readout(readout, n, dtype):
    """``W_out`` and ``b_out`` (float64) of an ``nn.Linear`` or its state_dict, checked against the hidden size n."""
    if isinstance(readout, Mapping):
        label = "readout[{!r}]".format
        unknown = [key for key in readout if key not in ("weight", "bias")]
        if unknown:
            raise ValueError(f"readout has unexpected keys {unknown!r}: an nn.Linear's state_dict has weight and bias")
        if "weight" not in readout:
            raise ValueError(f"readout has no 'weight': the readout weights, of shape (q, {n})")
        values = {key: _tensor_to_numpy(label(key), readout[key]) for key in readout}
    else:
        torch = _torch_or_none()
        if torch is None or not isinstance(readout, torch.nn.Linear):
            raise TypeError(
                "readout must be a torch.nn.Linear or a mapping with 'weight' (q, n) and optional 'bias' (q,); "
                f"got {type(readout).__name__}, which is not supported"
            )
        label = "readout.{}".format
        values = {"weight": _tensor_to_numpy(label("weight"), readout.weight)}
        if readout.bias is not None:
            values["bias"] = _tensor_to_numpy(label("bias"), readout.bias)
    W_out = _array(label("weight"), values["weight"], dtype)
    if W_out.ndim != 2 or W_out.shape[0] == 0 or W_out.shape[1] != n:
        raise ValueError(
            f"{label('weight')} must have shape (q, {n}) with q >= 1 (in_features = the hidden size n = {n}); "
            f"got {_validate.shape_str(W_out.shape)}"
        )
    b_out = None
    if "bias" in values:
        b_out = _array(label("bias"), values["bias"], dtype)
        if b_out.shape != (W_out.shape[0],):
            raise ValueError(
                f"{label('bias')} must have shape ({W_out.shape[0]},) (q from weight); "
                f"got {_validate.shape_str(b_out.shape)}"
            )
    return W_out, b_out

"""The gated networks: `GRU` and `LSTM`, immutable parameter containers in PyTorch's layout.

Their maps, Jacobians, JVPs and VJPs are written once in ``dynrnn/cells/gru.py`` and
``dynrnn/cells/lstm.py``.  This module holds the containers, the checks of their arguments, and
the one check that every RNN-only analysis uses to refuse a gated network by name.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import _validate
from .model import RNN

__all__ = ["GRU", "LSTM"]


@dataclass(frozen=True, eq=False, init=False)
class _Gated:
    """Shared checks and attributes of `GRU` and `LSTM` (see either)."""

    CELL: ClassVar[str] = ""
    GATES: ClassVar[tuple] = ()

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    dtype: np.dtype
    W_out: object
    b_out: object

    def __init__(self, *, W_hh, W_ih=None, b_ih=None, b_hh=None, dtype=np.float64, W_out=None, b_out=None):
        dtype = _validate.float_dtype("dtype", dtype)
        k = len(self.GATES)
        gates = "".join(self.GATES)
        W_hh = _validate.real_array("W_hh", W_hh, dtype)
        if W_hh.ndim != 2 or W_hh.shape[1] == 0 or W_hh.shape[0] != k * W_hh.shape[1]:
            raise ValueError(
                f"W_hh must have shape ({k}n, n) with n >= 1 (gates {gates} stacked as in torch.nn.{self.CELL}); "
                f"got {_validate.shape_str(W_hh.shape)}"
            )
        n = W_hh.shape[1]
        if W_ih is None:
            W_ih = np.zeros((k * n, 0), dtype=dtype)
        else:
            W_ih = _validate.real_array("W_ih", W_ih, dtype)
            if W_ih.ndim != 2 or W_ih.shape[0] != k * n:
                raise ValueError(
                    f"W_ih must have shape ({k}n, m) with {k}n = {k * n} (n = {n} from W_hh); "
                    f"got {_validate.shape_str(W_ih.shape)}"
                )
        biases = {}
        for name, value in (("b_ih", b_ih), ("b_hh", b_hh)):
            if value is None:
                value = np.zeros(k * n, dtype=dtype)
            else:
                value = _validate.real_array(name, value, dtype)
                if value.shape != (k * n,):
                    raise ValueError(
                        f"{name} must have shape ({k}n,) with {k}n = {k * n} (n = {n} from W_hh); "
                        f"got {_validate.shape_str(value.shape)}"
                    )
            biases[name] = value
        if W_out is not None:
            W_out = _validate.real_array("W_out", W_out, dtype)
            if W_out.ndim != 2 or W_out.shape[1] != n or W_out.shape[0] == 0:
                raise ValueError(
                    f"W_out must have shape (q, n) with q >= 1 and n = {n}; got {_validate.shape_str(W_out.shape)}"
                )
            q = W_out.shape[0]
            if b_out is None:
                b_out = np.zeros(q, dtype=dtype)
            else:
                b_out = _validate.real_array("b_out", b_out, dtype)
                if b_out.shape != (q,):
                    raise ValueError(f"b_out must have shape (q,) with q = {q}; got {_validate.shape_str(b_out.shape)}")
        elif b_out is not None:
            raise ValueError("b_out was given without W_out; pass W_out of shape (q, n) for a readout")
        params = (("W_ih", W_ih), ("W_hh", W_hh), ("b_ih", biases["b_ih"]), ("b_hh", biases["b_hh"]))
        for name, value in params + (("W_out", W_out), ("b_out", b_out)):
            if value is not None:
                value = value.copy()  # never share memory with the caller
                value.flags.writeable = False
            object.__setattr__(self, name, value)
        object.__setattr__(self, "dtype", dtype)

    @property
    def n_units(self):
        """Number of units n (the length of ``h``)."""
        return self.W_hh.shape[1]

    @property
    def n_inputs(self):
        """Input dimension m (0 for an autonomous network)."""
        return self.W_ih.shape[1]

    @property
    def n_outputs(self):
        """Readout dimension q (0 without a readout)."""
        return 0 if self.W_out is None else self.W_out.shape[0]

    @property
    def cell(self):
        """The cell's name: ``"gru"`` or ``"lstm"`` (its module in ``dynrnn/cells``)."""
        return self.CELL.lower()

    def __repr__(self):
        return (
            f"{self.CELL}(n_units={self.n_units}, n_inputs={self.n_inputs}, n_outputs={self.n_outputs}, "
            f"state_size={self.state_size}, dtype={self.dtype})"
        )


@dataclass(frozen=True, eq=False, init=False, repr=False)
class GRU(_Gated):
    r"""An immutable GRU network with the equations and parameter layout of ``torch.nn.GRU``.

    Every parameter is keyword-only (PyTorch's names say which is which).

    Parameters
    ----------
    W_hh : array_like, shape (3n, n)
        Recurrent weights, the gates r, z, n stacked (``weight_hh_l0``).
    W_ih : array_like, shape (3n, m), optional
        Input weights, stacked the same way (``weight_ih_l0``); None for an
        autonomous network (m = 0).
    b_ih, b_hh : array_like, shape (3n,), optional
        The two biases (``bias_ih_l0``, ``bias_hh_l0``); zeros by default.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the parameters and of every computation.
    W_out : array_like, shape (q, n), optional
        Linear readout ``y_t = W_out h_t + b_out``; None for none.
    b_out : array_like, shape (q,), optional
        Readout bias; zeros by default.  Only with ``W_out``.

    Attributes
    ----------
    W_ih, W_hh, b_ih, b_hh, W_out, b_out : ndarray
        Read-only copies of the parameters (``W_ih`` has shape (3n, 0) when
        the network has no input; ``W_out`` and ``b_out`` are None without
        a readout).
    dtype : numpy.dtype
    n_units, n_inputs, n_outputs : int
    state_size : int
        n: the state is the hidden state ``h``.

    Raises
    ------
    ValueError
        If a shape is wrong, a parameter is NaN or inf, or ``dtype`` is unknown.
    TypeError
        If a parameter is complex or not numeric.

    Notes
    -----
    The map of ``torch.nn.GRU`` (gate order r, z, n; ``sigma`` the logistic
    function, ``*`` the element-wise product):

    .. math::

        r &= \sigma(W_{ir} u_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z &= \sigma(W_{iz} u_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n &= \tanh(W_{in} u_t + b_{in} + r * (W_{hn} h_{t-1} + b_{hn})) \\
        h_t &= (1 - z) * n + z * h_{t-1}

    As a dynamical system its state is ``h``; `dynrnn.iterate`,
    `dynrnn.jacobian_products`, `dynrnn.lyapunov_spectrum` and
    `dynrnn.fixed_points` analyse it with the step Jacobian ``dh_t/dh_{t-1}``
    (the factor of Pascanu et al. 2013, eq. 5), and `dynrnn.bptt` gives its
    gradients and temporal contributions (eqs. 3-4).

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.GRU(W_hh=np.zeros((6, 2)), W_ih=np.ones((6, 1)))
    >>> net.n_units, net.n_inputs, net.state_size
    (2, 1, 2)
    """

    CELL: ClassVar[str] = "GRU"
    GATES: ClassVar[tuple] = ("r", "z", "n")

    @property
    def state_size(self):
        """Length of the state: n (the hidden state ``h``)."""
        return self.n_units


@dataclass(frozen=True, eq=False, init=False, repr=False)
class LSTM(_Gated):
    r"""An immutable LSTM network with the equations and parameter layout of ``torch.nn.LSTM``.

    Every parameter is keyword-only (PyTorch's names say which is which).

    Parameters
    ----------
    W_hh : array_like, shape (4n, n)
        Recurrent weights, the gates i, f, g, o stacked (``weight_hh_l0``).
    W_ih : array_like, shape (4n, m), optional
        Input weights, stacked the same way (``weight_ih_l0``); None for an
        autonomous network (m = 0).
    b_ih, b_hh : array_like, shape (4n,), optional
        The two biases (``bias_ih_l0``, ``bias_hh_l0``); zeros by default.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the parameters and of every computation.
    W_out : array_like, shape (q, n), optional
        Linear readout ``y_t = W_out h_t + b_out`` of the hidden state; None
        for none.
    b_out : array_like, shape (q,), optional
        Readout bias; zeros by default.  Only with ``W_out``.

    Attributes
    ----------
    W_ih, W_hh, b_ih, b_hh, W_out, b_out : ndarray
        Read-only copies of the parameters (``W_ih`` has shape (4n, 0) when
        the network has no input; ``W_out`` and ``b_out`` are None without
        a readout).
    dtype : numpy.dtype
    n_units, n_inputs, n_outputs : int
    state_size : int
        2n: the state is ``x = (h, c)``, the hidden state then the cell state.

    Raises
    ------
    ValueError
        If a shape is wrong, a parameter is NaN or inf, or ``dtype`` is unknown.
    TypeError
        If a parameter is complex or not numeric.

    Notes
    -----
    The map of ``torch.nn.LSTM`` (gate order i, f, g, o; ``sigma`` the
    logistic function, ``*`` the element-wise product):

    .. math::

        i &= \sigma(W_{ii} u_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f &= \sigma(W_{if} u_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g &= \tanh(W_{ig} u_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o &= \sigma(W_{io} u_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t &= f * c_{t-1} + i * g \\
        h_t &= o * \tanh(c_t)

    As a dynamical system its state is ``x_t = (h_t, c_t)`` of length 2n:
    `dynrnn.iterate` takes and returns it stacked, and
    `dynrnn.jacobian_products`, `dynrnn.lyapunov_spectrum` and
    `dynrnn.fixed_points` use the step Jacobian over the full state,
    ``d(h_t, c_t)/d(h_{t-1}, c_{t-1})`` (2n, 2n) (the factor of Pascanu et
    al. 2013, eq. 5), and `dynrnn.bptt` gives its gradients and temporal
    contributions (eqs. 3-4; the losses see ``h_t``).

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.LSTM(W_hh=np.zeros((8, 2)))
    >>> net.n_units, net.n_inputs, net.state_size
    (2, 0, 4)
    """

    CELL: ClassVar[str] = "LSTM"
    GATES: ClassVar[tuple] = ("i", "f", "g", "o")

    @property
    def state_size(self):
        """Length of the state ``(h, c)``: 2n."""
        return 2 * self.n_units


GATED = (GRU, LSTM)


def is_gated(net):
    """True for a `GRU` or an `LSTM`."""
    return isinstance(net, GATED)


def require_rnn(net, function, name="net"):
    """Return ``net`` if it is an `RNN`; raise TypeError otherwise, naming a gated cell as unsupported.

    ``function`` is the public name of the caller, for the message
    (``"basins supports RNN only; got GRU"``).
    """
    if isinstance(net, RNN):
        return net
    if is_gated(net):
        raise TypeError(
            f"{function} supports RNN only; got {type(net).__name__} (gated cells are supported by iterate, "
            f"jacobian_products, lyapunov_spectrum, fixed_points, bptt, train and error_rate)"
        )
    raise TypeError(f"{name} must be a dynrnn.RNN; got {type(net).__name__}")

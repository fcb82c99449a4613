"""The RNN parameter container."""

from dataclasses import dataclass

import numpy as np

from .. import _validate
from .._kernels.scalar import ACTIVATIONS, FORMS

__all__ = ["RNN"]


@dataclass(frozen=True, eq=False, init=False)
class RNN:
    r"""An immutable recurrent network: ``W_rec``, ``W_in``, ``b``, sigma, form, leak, readout.

    Parameters
    ----------
    W_rec : array_like, shape (n, n)
        Recurrent weights.
    W_in : array_like, shape (n, m), optional
        Input weights; None for an autonomous network (m = 0).
    b : array_like, shape (n,), optional
        Bias; zeros by default.
    activation : {"tanh", "logistic", "relu", "linear"}, default "tanh"
        The element-wise nonlinearity sigma.
    form : {"paper", "standard"}, default "paper"
        Where sigma is applied (see Notes).
    leak : float or array_like of shape (n,), optional
        The leak, in [0, 1], per unit or shared; None for no leak.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Floating-point type of the parameters and of every computation.
    W_out : array_like, shape (q, n), optional
        Linear readout ``y_t = W_out h_t + b_out`` of the observed state
        ``h_t`` (see Notes); None for a network without readout.
    b_out : array_like, shape (q,), optional
        Readout bias; zeros by default.  Only with ``W_out``.

    Attributes
    ----------
    W_rec, W_in, b, leak, W_out, b_out : ndarray
        Read-only copies of the parameters (``W_in`` has shape (n, 0) when
        the network has no input; ``leak`` is None or shape (n,); ``W_out``
        and ``b_out`` are None without a readout).
    activation, form : str
    dtype : numpy.dtype

    Raises
    ------
    ValueError
        If a shape is wrong, a parameter is NaN or inf, ``leak`` is outside
        [0, 1], or ``activation``, ``form`` or ``dtype`` is unknown.
    TypeError
        If a parameter is complex or not numeric.

    Notes
    -----
    The paper form is eq. (2) of Pascanu, Mikolov & Bengio (2013):

    .. math:: x_t = W_{rec}\,\sigma(x_{t-1}) + W_{in} u_t + b

    The standard form is ``h_t = sigma(W_rec h_{t-1} + W_in u_t + b)``; with
    ``h_0 = sigma(x_0)`` it is the same system, ``h_t = sigma(x_t)``
    (footnote 1 of the paper).  The *observed state* that losses and the
    readout see is ``h_t``: ``sigma(x_t)`` in the paper form (as in eq. (8),
    ``E = (sigma(x_50) - 0.7)^2``) and the state itself in the standard form,
    so without a leak both forms define the same losses.  With a leak, either map ``F`` becomes
    ``x_t = leak x_{t-1} + (1 - leak) F(x_{t-1}, u_t)`` (Sec. 3.1; Jaeger
    et al. 2007).

    Examples
    --------
    >>> import numpy as np, dynrnn
    >>> net = dynrnn.RNN(W_rec=[[5.0]], b=[-2.5], activation="logistic")
    >>> net.n_units, net.n_inputs
    (1, 0)
    """

    W_rec: np.ndarray
    W_in: np.ndarray
    b: np.ndarray
    activation: str
    form: str
    leak: object
    dtype: np.dtype
    W_out: object
    b_out: object

    def __init__(
        self,
        W_rec,
        W_in=None,
        b=None,
        activation="tanh",
        form="paper",
        leak=None,
        dtype=np.float64,
        W_out=None,
        b_out=None,
    ):
        dtype = _validate.float_dtype("dtype", dtype)
        _validate.choice("activation", activation, ACTIVATIONS)
        _validate.choice("form", form, FORMS)
        W_rec = _validate.real_array("W_rec", W_rec, dtype)
        if W_rec.ndim != 2 or W_rec.shape[0] != W_rec.shape[1] or W_rec.shape[0] == 0:
            raise ValueError(f"W_rec must have shape (n, n) with n >= 1; got {_validate.shape_str(W_rec.shape)}")
        n = W_rec.shape[0]
        if W_in is None:
            W_in = np.zeros((n, 0), dtype=dtype)
        else:
            W_in = _validate.real_array("W_in", W_in, dtype)
            if W_in.ndim != 2 or W_in.shape[0] != n:
                raise ValueError(f"W_in must have shape (n, m) with n = {n}; got {_validate.shape_str(W_in.shape)}")
        if b is None:
            b = np.zeros(n, dtype=dtype)
        else:
            b = _validate.real_array("b", b, dtype)
            if b.shape != (n,):
                raise ValueError(f"b must have shape (n,) with n = {n}; got {_validate.shape_str(b.shape)}")
        if leak is not None:
            leak = _validate.leak("leak", leak, dtype, n).reshape(n)
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
        params = (("W_rec", W_rec), ("W_in", W_in), ("b", b), ("leak", leak), ("W_out", W_out), ("b_out", b_out))
        for name, value in params:
            if value is not None:
                value = value.copy()  # never share memory with the caller
                value.flags.writeable = False
            object.__setattr__(self, name, value)
        object.__setattr__(self, "activation", activation)
        object.__setattr__(self, "form", form)
        object.__setattr__(self, "dtype", dtype)

    @property
    def n_units(self):
        """Number of units n."""
        return self.W_rec.shape[0]

    @property
    def n_inputs(self):
        """Input dimension m (0 for an autonomous network)."""
        return self.W_in.shape[1]

    @property
    def n_outputs(self):
        """Readout dimension q (0 without a readout)."""
        return 0 if self.W_out is None else self.W_out.shape[0]

    def __repr__(self):
        leak = "None" if self.leak is None else f"<array {self.leak.shape}>"
        return (
            f"RNN(n_units={self.n_units}, n_inputs={self.n_inputs}, n_outputs={self.n_outputs}, "
            f"activation={self.activation!r}, form={self.form!r}, leak={leak}, dtype={self.dtype})"
        )

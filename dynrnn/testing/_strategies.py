"""Hypothesis strategies for networks, initial states, input sequences and trajectories.

Every strategy draws bounded, finite float64 values, small sizes by default (1 to 4 units, 1 to 30
steps), and shrinks towards small, simple examples (zero weights, no leak, short sequences).
"""

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from .. import _validate
from .._kernels.scalar import ACTIVATIONS, FORMS
from ..gradients.bptt import LOSSES
from ..maps.activations import gamma
from ..maps.model import RNN

__all__ = [
    "GradientProblem",
    "Trajectory",
    "activations",
    "forms",
    "gradient_problems",
    "input_sequences",
    "leaks",
    "networks",
    "recurrent_weights",
    "states",
    "trajectories",
]

STATE_SCALE = 3.0  # initial states in [-3, 3]: both saturated and linear regions of tanh and logistic
INPUT_SCALE = 1.0
BIAS_SCALE = 2.0
LEAK_CHOICES = (False, True, "shared", "per_unit")


def floats(lo, hi):
    """Finite float64 values in [lo, hi] (subnormals allowed)."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, width=64)


def float_arrays(shape, lo, hi):
    """float64 arrays of ``shape`` with entries in [lo, hi]."""
    return arrays(np.float64, shape, elements=floats(lo, hi))


def activations(*, names=ACTIVATIONS):
    """One activation name out of ``names`` (default: all of `dynrnn.ACTIVATIONS`)."""
    return st.sampled_from(_names("activation", names, ACTIVATIONS))


def forms(*, names=FORMS):
    """One form out of ``names`` (default ``("paper", "standard")``, eq. (2) and footnote 1)."""
    return st.sampled_from(_names("form", names, FORMS))


def leaks(n_units, *, low=0.0, high=1.0, optional=True):
    """Leak rates for ``RNN(leak=...)``: one per unit, in [low, high], or None.

    Parameters
    ----------
    n_units : int
        n; the rates have shape (n,).
    low, high : float, default 0 and 1
        The range, inside [0, 1]; its end points are drawn often.
    optional : bool, default True
        Also draw None (no leak).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of ndarray or None

    Notes
    -----
    A leak makes each step ``x_t = leak x_{t-1} + (1 - leak) F(x_{t-1}, u_t)`` (Pascanu et al.
    2013, Sec. 3.1, after Jaeger et al. 2007); see `step_norm_bound` for what it does to eq. (6).
    """
    n = _validate.integer("n_units", n_units, minimum=1)
    return leak_arrays((n,), low=low, high=high, optional=optional)


def leak_arrays(shape, *, low=0.0, high=1.0, optional=True):
    """Leak rates of any ``shape`` (e.g. (G, n) for a grid), as `leaks` (not public: ``shape`` is no API name)."""
    low, high = _range("leak range", (low, high), 0.0, 1.0)
    rates = arrays(np.float64, shape, elements=st.one_of(st.sampled_from([low, high]), floats(low, high)))
    return st.one_of(st.none(), rates) if optional else rates


def recurrent_weights(n_units, *, spectral_norm=(0.0, 1.25)):
    r"""Square matrices ``W_rec`` whose spectral norm ``||W_rec||_2`` is drawn from a range.

    Parameters
    ----------
    n_units : int
        n; the matrices are (n, n).
    spectral_norm : (float, float), default (0, 1.25)
        The range of ``||W_rec||_2``, the largest singular value that eqs. (6)-(7) compare with
        ``1 / gamma``.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of ndarray

    Notes
    -----
    A matrix with entries in [-1, 1] is rescaled to a norm drawn in the range (the lower end is
    likely; a zero matrix takes the identity's direction), so the norm is exact up to rounding.
    A norm is never subnormal.
    """
    n_units = _validate.integer("n_units", n_units, minimum=1)
    return _recurrent_weights(n_units, *_range("spectral_norm", spectral_norm, 0.0, np.inf))


@st.composite
def _recurrent_weights(draw, n_units, lo, hi):
    direction = draw(float_arrays((n_units, n_units), -1.0, 1.0))
    # No subnormal norm: sigma' W_rec would then be rounded to a few bits, and a bound checked
    # against ||W_rec||_2 could fail by rounding alone.
    tiny = max(lo, min(1e-6, hi))
    norm_target = draw(st.one_of(st.just(lo), floats(tiny, hi)) if hi > lo else st.just(lo))
    norm = np.linalg.norm(direction, 2)
    if norm < 1e-100:  # (nearly) zero: rescaling would overflow
        direction, norm = np.eye(n_units), 1.0
    return direction * (norm_target / norm)


def networks(
    *,
    n_units=(1, 4),
    n_inputs=(0, 3),
    n_outputs=0,
    activations=ACTIVATIONS,
    forms=FORMS,
    leak=False,
    spectral_norm=(0.0, 1.25),
    gamma_norm=None,
    dtype=np.float64,
):
    r"""Networks `dynrnn.RNN` of the paper's eq. (2) or the standard form, with a controlled ``||W_rec||_2``.

    Parameters
    ----------
    n_units, n_inputs, n_outputs : int or (int, int)
        The number of units n >= 1, of inputs m >= 0 (0: an autonomous network) and of readout
        outputs q >= 0 (0: no readout), fixed or drawn from an inclusive range.
    activations, forms : str or sequence of str, default all
        The activation and form: one name, or the names to draw from.
    leak : {False, True, "shared", "per_unit"}, default False
        No leak (False); a leak rate shared by the units ("shared"), one per unit
        ("per_unit"), or any of these three (True).
    spectral_norm : (float, float), default (0, 1.25)
        The range of ``||W_rec||_2``.
    gamma_norm : (float, float), optional
        Instead of ``spectral_norm``, the range of ``gamma ||W_rec||_2`` (eta in eqs. 6-7), gamma
        the bound on sigma' of the drawn activation (`dynrnn.gamma`).  ``gamma_norm=(0.05, 0.95)``
        draws networks in the vanishing regime of Sec. 2.1 for every activation.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        The network's dtype.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of RNN

    Notes
    -----
    ``b`` has entries in [-2, 2], ``W_in`` and ``W_out`` in [-1, 1], ``b_out`` in [-1, 1].
    With a leak, the factor that bounds every step Jacobian is not ``gamma ||W_rec||_2`` but
    `dynrnn.testing.step_norm_bound`; with a shared leak < 1 it is below 1 when
    ``gamma ||W_rec||_2`` is.
    """
    n_units = _sizes("n_units", n_units, 1)
    n_inputs = _sizes("n_inputs", n_inputs, 0)
    n_outputs = _sizes("n_outputs", n_outputs, 0)
    activation = st.sampled_from(_names("activations", activations, ACTIVATIONS))
    form = st.sampled_from(_names("forms", forms, FORMS))
    if leak not in LEAK_CHOICES or isinstance(leak, (int, float)) and not isinstance(leak, bool):
        raise ValueError(f"leak must be one of {', '.join(map(repr, LEAK_CHOICES))}; got {leak!r}")
    if gamma_norm is not None:
        if spectral_norm != (0.0, 1.25):
            raise ValueError("give spectral_norm or gamma_norm, not both")
        gamma_norm = _range("gamma_norm", gamma_norm, 0.0, np.inf)
    else:
        spectral_norm = _range("spectral_norm", spectral_norm, 0.0, np.inf)
    dtype = _validate.float_dtype("dtype", dtype)
    return _networks(n_units, n_inputs, n_outputs, activation, form, leak, spectral_norm, gamma_norm, dtype)


@st.composite
def _networks(draw, n_units, n_inputs, n_outputs, activation, form, leak, spectral_norm, gamma_norm, dtype):
    n, m, q = draw(n_units), draw(n_inputs), draw(n_outputs)
    name = draw(activation)
    g = gamma(name)
    norm_range = spectral_norm if gamma_norm is None else (gamma_norm[0] / g, gamma_norm[1] / g)
    rates = None
    kind = draw(st.sampled_from([None, "shared", "per_unit"])) if leak is True else leak or None
    if kind == "shared":
        rates = np.full(n, draw(st.one_of(st.sampled_from([0.0, 1.0]), floats(0.0, 1.0))))
    elif kind == "per_unit":
        rates = draw(leak_arrays((n,), optional=False))
    return RNN(
        W_rec=draw(_recurrent_weights(n, *norm_range)),
        W_in=draw(float_arrays((n, m), -1.0, 1.0)),
        b=draw(float_arrays((n,), -BIAS_SCALE, BIAS_SCALE)),
        activation=name,
        form=draw(form),
        leak=rates,
        dtype=dtype,
        W_out=draw(float_arrays((q, n), -1.0, 1.0)) if q else None,
        b_out=draw(float_arrays((q,), -1.0, 1.0)) if q else None,
    )


def states(n_units, *, batch_size=None, scale=STATE_SCALE):
    """Initial states ``x0`` with entries in [-scale, scale].

    Parameters
    ----------
    n_units : int
        n.
    batch_size : int, optional
        B: states of shape (B, n), one per sequence, as `dynrnn.bptt` takes them; None for (n,).
    scale : float, default 3
        Bound on the entries (3 reaches both the saturated and the near-linear parts of tanh and
        the logistic sigmoid).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of ndarray
    """
    n = _validate.integer("n_units", n_units, minimum=1)
    shape = (n,) if batch_size is None else (_validate.integer("batch_size", batch_size, minimum=1), n)
    return float_arrays(shape, -scale, scale)


def input_sequences(n_inputs, *, n_steps=(1, 30), batch_size=None, scale=INPUT_SCALE):
    """Input sequences ``u_1 .. u_T`` (the ``W_in u_t`` term of eq. 2) with entries in [-scale, scale].

    Parameters
    ----------
    n_inputs : int
        m >= 0.  With m = 0 the sequences have shape (T, 0): the inputs of an autonomous network,
        which dynrnn's functions accept in place of ``inputs=None, n_steps=T``.
    n_steps : int or (int, int), default (1, 30)
        T, fixed or drawn from an inclusive range.
    batch_size : int, optional
        B: shape (T, B, m), the layout of `dynrnn.bptt`; None for (T, m).
    scale : float, default 1
        Bound on the entries.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of ndarray
    """
    m = _validate.integer("n_inputs", n_inputs, minimum=0)
    B = None if batch_size is None else _validate.integer("batch_size", batch_size, minimum=1)
    lead = (lambda T: (T,)) if B is None else (lambda T: (T, B))
    return _sizes("n_steps", n_steps, 1).flatmap(lambda T: float_arrays((*lead(T), m), -scale, scale))


class Trajectory(NamedTuple):
    """A network and what determines one trajectory of it: ``net, x0, inputs``.

    Unpacks into the leading arguments of `dynrnn.iterate`, `dynrnn.jacobian_products` and the
    assertion helpers: ``assert_jacobian_bound(*trajectory)``.
    """

    net: RNN
    x0: np.ndarray  # (n,), or (B, n) with a batch
    inputs: np.ndarray  # (T, m), or (T, B, m) with a batch; m may be 0

    @property
    def n_steps(self):
        """Number of steps T."""
        return self.inputs.shape[0]


def trajectories(net=None, *, n_steps=(1, 30), batch_size=None, state_scale=STATE_SCALE,
                 input_scale=INPUT_SCALE, **network_options):  # fmt: skip
    """A `Trajectory` ``(net, x0, inputs)`` of a given network, or of one drawn by `networks`.

    Parameters
    ----------
    net : RNN, optional
        Your network; None draws one with ``networks(**network_options)``.
    n_steps : int or (int, int), default (1, 30)
        T, fixed or drawn from an inclusive range.
    batch_size : int, optional
        B sequences at once (``x0`` (B, n), ``inputs`` (T, B, m), as `dynrnn.bptt` takes them);
        None for one sequence (``x0`` (n,), ``inputs`` (T, m)).
    state_scale, input_scale : float
        Bounds on the entries of ``x0`` and of the inputs.
    **network_options
        Passed to `networks` when ``net`` is None.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of Trajectory
    """
    if net is None:
        nets = networks(**network_options)
    elif network_options:
        raise ValueError(f"network options ({', '.join(network_options)}) need net=None; got a network")
    elif not isinstance(net, RNN):
        raise TypeError(f"net must be a dynrnn.RNN or None; got {type(net).__name__}")
    else:
        nets = st.just(net)
    _sizes("n_steps", n_steps, 1)
    states(1, batch_size=batch_size)  # (checks batch_size)
    return _trajectories(nets, n_steps, batch_size, state_scale, input_scale)


@st.composite
def _trajectories(draw, nets, n_steps, batch_size, state_scale, input_scale):
    net = draw(nets)
    x0 = draw(states(net.n_units, batch_size=batch_size, scale=state_scale))
    inputs = draw(input_sequences(net.n_inputs, n_steps=n_steps, batch_size=batch_size, scale=input_scale))
    return Trajectory(net, x0.astype(net.dtype), inputs.astype(net.dtype))


class GradientProblem(NamedTuple):
    """Arguments of one `dynrnn.bptt` call: ``bptt(net, x0, inputs, targets, loss=loss, at=at)``."""

    net: RNN
    x0: np.ndarray  # (B, n)
    inputs: np.ndarray  # (T, B, m)
    targets: np.ndarray
    loss: str
    at: str

    def bptt(self, **options):
        """`dynrnn.bptt` of this problem, with extra keyword options (``contributions=``, ...)."""
        from ..gradients.bptt import bptt

        return bptt(self.net, self.x0, self.inputs, self.targets, loss=self.loss, at=self.at, **options)


def gradient_problems(net=None, *, loss=LOSSES, at=("every", "last"), n_steps=(1, 12), batch_size=(1, 3),
                      **network_options):  # fmt: skip
    """A `GradientProblem`: a batch of sequences with targets for a loss of `dynrnn.bptt` (eq. 3).

    Parameters
    ----------
    net : RNN, optional
        Your network (with a readout for the readout losses); None draws one.
    loss, at : str or sequence of str
        The loss and where it is scored (``"every"`` step or the ``"last"``), one name or the
        names to draw from; by default all of them.
    n_steps, batch_size : int or (int, int)
        T and B, fixed or drawn from inclusive ranges.
    **network_options
        Passed to `networks` when ``net`` is None.  A readout loss draws 1 to 3 outputs unless
        ``n_outputs`` is given.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of GradientProblem
        ``x0`` (B, n) in [-3, 3], ``inputs`` (T, B, m) in [-1, 1], targets in [-1, 1] (class
        labels in [0, q) for the cross-entropy).  ``problem.bptt(contributions="window")`` runs it.
    """
    losses = _names("loss", loss, LOSSES)
    if net is not None and net.n_outputs == 0 and losses != ("squared_error",):
        raise ValueError(f"loss {losses!r} needs a network with a readout (W_out) except 'squared_error'")
    trajectories(net, n_steps=n_steps, **network_options)  # (checks the options)
    options = {"n_steps": n_steps, **network_options}
    return _gradient_problems(net, losses, _names("at", at, ("every", "last")), _sizes("batch_size", batch_size, 1),
                              options)  # fmt: skip


@st.composite
def _gradient_problems(draw, net, losses, at, batch_sizes, options):
    kind = draw(st.sampled_from(losses))
    where = draw(st.sampled_from(at))
    B = draw(batch_sizes)
    if net is None and kind != "squared_error":
        options = {"n_outputs": (1, 3), **options}
    traj = draw(trajectories(net, batch_size=B, **options))
    net = traj.net
    lead = (traj.n_steps, B) if where == "every" else (B,)
    if kind == "cross_entropy":
        targets = draw(arrays(np.int64, lead, elements=st.integers(0, net.n_outputs - 1)))
    else:
        width = net.n_units if kind == "squared_error" else net.n_outputs
        targets = draw(float_arrays((*lead, width), -1.0, 1.0)).astype(net.dtype)
    return GradientProblem(net, traj.x0, traj.inputs, targets, kind, where)


# ----------------------------------------------------------------------------- argument checks


def _names(what, names, valid):
    """A tuple of names out of ``valid`` from one name or a sequence of them."""
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise ValueError(f"{what} must name at least one of {', '.join(map(repr, valid))}; got none")
    for name in names:
        _validate.choice(what, name, valid)
    return names


def _range(what, value, lo, hi):
    """``(a, b)`` as floats with lo <= a <= b <= hi, finite."""
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a pair (low, high) of numbers; got {value!r}") from None
    if not (np.isfinite(a) and np.isfinite(b) and lo <= a <= b <= hi):
        raise ValueError(f"{what} must satisfy {lo} <= low <= high <= {hi}, both finite; got {value!r}")
    return a, b


def _sizes(what, value, minimum):
    """A strategy for an int: ``value`` itself, or drawn from the inclusive range ``(lo, hi)``."""
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"{what} must be an integer or a pair (low, high); got {value!r}")
        lo = _validate.integer(what, value[0], minimum=minimum)
        hi = _validate.integer(what, value[1], minimum=lo)
        return st.integers(lo, hi)
    return st.just(_validate.integer(what, value, minimum=minimum))

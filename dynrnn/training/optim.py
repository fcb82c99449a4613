"""Optimizers for training: SGD, classical momentum and simplified Nesterov momentum, with norm clipping.

An optimizer is a frozen configuration (`SGD`); its state (the velocity) is a
dict of arrays made by `SGD.init` and threaded through `SGD.step`, which
returns new parameters, a new state and a `StepInfo`.  Nothing is global and
nothing is modified in place, so many runs can later keep their parameters
and states stacked in arrays.  Learning rates come from a schedule,
`Constant` or `InverseTime` (``1/t``); the same schedules serve the weight
alpha of the regularizer Omega.

Parameters and gradients are dicts keyed like `dynrnn.GradientResult.grads`
(``"W_rec"``, ``"W_in"``, ``"b"``, ``"W_out"``, ``"b_out"``).
"""

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..gradients.clipping import clip_grad_norm
from ..results._base import _FrozenArrays

__all__ = ["SGD", "Constant", "InverseTime", "StepInfo"]

NONFINITE = ("raise", "skip", "shrink")

# threshold=None: clip_grad_norm is called with the largest float64, which no
# finite norm exceeds, so it only measures the norm and applies `nonfinite`.
_NO_CLIP = float(np.finfo(np.float64).max)


def _real(name, value):
    """``value`` as a float; TypeError for a non-real or a bool."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    return float(value)


def _step_index(t):
    return _validate.integer("t", t, minimum=0)


@dataclass(frozen=True)
class Constant:
    """A constant schedule: ``value`` at every step ``t``.

    Parameters
    ----------
    value : float
        The value, finite and > 0.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is <= 0, NaN or inf.

    See Also
    --------
    InverseTime : the 1/t schedule.

    Examples
    --------
    >>> from dynrnn.training.optim import Constant
    >>> Constant(0.01)(7)
    0.01
    """

    value: float

    def __post_init__(self):
        object.__setattr__(self, "value", _validate.positive_float("value", self.value))

    def __call__(self, t):
        """The value at step ``t`` (an int >= 0)."""
        _step_index(t)
        return self.value


@dataclass(frozen=True)
class InverseTime:
    r"""The 1/t schedule: ``value / (1 + t / tau)`` at step ``t``.

    Parameters
    ----------
    value : float
        The value at ``t = 0``, finite and > 0.
    tau : float, default 1.0
        The time scale, finite and > 0: the value halves at ``t = tau``.

    Raises
    ------
    TypeError
        If ``value`` or ``tau`` is not a real number.
    ValueError
        If ``value`` or ``tau`` is <= 0, NaN or inf.

    See Also
    --------
    Constant : the constant schedule.

    Notes
    -----
    .. math:: \text{value}_t = \frac{\text{value}_0}{1 + t / \tau}

    Pascanu et al. (2013), Sec. 3.3 and 4.2, decrease the weight alpha of
    Omega as 1/t on the natural tasks (for example ``alpha_t = 1 / (2 t)``
    per epoch on music, i.e. ``InverseTime(0.5, tau=1)`` counting epochs
    from 0).

    Examples
    --------
    >>> from dynrnn.training.optim import InverseTime
    >>> s = InverseTime(0.5, tau=10.0)
    >>> s(0), s(10), s(30)
    (0.5, 0.25, 0.125)
    """

    value: float
    tau: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "value", _validate.positive_float("value", self.value))
        object.__setattr__(self, "tau", _validate.positive_float("tau", self.tau))

    def __call__(self, t):
        """The value at step ``t`` (an int >= 0)."""
        t = _step_index(t)
        return self.value / (1.0 + t / self.tau)


@dataclass(frozen=True, eq=False, repr=False)
class StepInfo(_FrozenArrays):
    """What one `SGD.step` did.

    Attributes
    ----------
    lr : float
        The learning rate used, ``lr(t)``.
    grad_norm : float
        Global L2 norm of the gradients before clipping (NaN or inf when
        they hold NaN or inf).
    clipped, skipped, shrunk : bool
        The flags of `dynrnn.clip_grad_norm`: rescaled to ``threshold``;
        non-finite and replaced by zeros (``nonfinite="skip"``); replaced by
        the authors' guard (``nonfinite="shrink"``).
    params_finite : bool
        Whether every new parameter and velocity is finite (False when the
        parameters were already NaN or inf, or the step overflowed).
    """

    lr: float
    grad_norm: float
    clipped: bool
    skipped: bool
    shrunk: bool
    params_finite: bool = True

    @property
    def diverged(self):
        """True when the pre-clip norm or a new parameter is not finite (the step diverged)."""
        return not (math.isfinite(self.grad_norm) and bool(self.params_finite))


@dataclass(frozen=True)
class SGD:
    r"""Mini-batch SGD with optional (Nesterov) momentum, learning-rate schedule and norm clipping.

    Parameters
    ----------
    lr : float, Constant or InverseTime
        The learning rate: a float (finite, > 0) for a constant rate, or a
        schedule called as ``lr(t)``.
    momentum : float, default 0.0
        The momentum coefficient mu, in [0, 1); 0 is plain SGD.
    nesterov : bool, default False
        Use the simplified Nesterov momentum of Bengio, Boulanger-Lewandowski
        & Pascanu (2012) instead of classical momentum.
    threshold : float or None, default None
        Clip the gradients with `dynrnn.clip_grad_norm` at this threshold
        (finite, > 0) before every update; None for no clipping.
    nonfinite : {"raise", "skip", "shrink"}, default "raise"
        What to do with gradients whose norm is not finite, passed to
        `dynrnn.clip_grad_norm` (``"shrink"`` takes the current weights from
        ``params["W_rec"]``).  It applies with ``threshold=None`` too.

    Raises
    ------
    TypeError
        If ``lr`` is neither a real number nor a schedule, ``momentum`` or
        ``threshold`` is not a real number, or ``nesterov`` is not a bool.
    ValueError
        If ``lr`` or ``threshold`` is <= 0, NaN or inf, ``momentum`` is
        outside [0, 1), or ``nonfinite`` is unknown.

    See Also
    --------
    dynrnn.clip_grad_norm : Algorithm 1, applied first in every step.
    Constant, InverseTime : learning-rate schedules.

    Notes
    -----
    With ``g`` the (clipped) gradient at step ``t`` (``t = 0`` for the first
    update), :math:`\eta_t` = ``lr(t)`` and :math:`\mu` = ``momentum``:

    - SGD (``momentum=0``): :math:`\theta \leftarrow \theta - \eta_t g`;
    - classical momentum: :math:`v \leftarrow \mu v - \eta_t g`,
      :math:`\theta \leftarrow \theta + v`;
    - simplified Nesterov momentum (Bengio, Boulanger-Lewandowski & Pascanu
      2012, "Advances in optimizing recurrent networks", eq. (7)):

      .. math:: \Theta \leftarrow \Theta + \mu^2 v - (1 + \mu)\, \eta_t\, g(\Theta),
                \qquad v \leftarrow \mu v - \eta_t\, g(\Theta).

    The Nesterov form is classical Nesterov momentum
    (:math:`v_{t+1} = \mu v_t - \eta_t \nabla f(\theta_t + \mu v_t)`,
    :math:`\theta_{t+1} = \theta_t + v_{t+1}`) written in the shifted
    variable :math:`\Theta_t = \theta_t + \mu v_t`, so the gradient is taken
    at the parameters themselves: for a constant mu and any learning rates,
    :math:`\Theta_{t+1} = \Theta_t + \mu^2 v_t - (1 + \mu) \eta_t
    \nabla f(\Theta_t)`.  With ``momentum=0`` all three are plain SGD, the
    update of the authors' code (no momentum, no schedule, Pascanu et al.
    2013, Sec. 4.1).  With ``nonfinite="skip"`` a non-finite gradient
    becomes 0, so a momentum step still moves by :math:`\mu v`.

    The optimizer holds no state: `init` makes the velocity and `step`
    returns new arrays, never modifying ``params``, ``grads`` or ``state``.

    Examples
    --------
    >>> import numpy as np
    >>> from dynrnn.training.optim import SGD
    >>> opt = SGD(lr=0.1, momentum=0.5, threshold=1.0)
    >>> params = {"W_rec": np.array([[1.0]]), "b": np.array([0.0])}
    >>> state = opt.init(params)
    >>> params, state, info = opt.step(params, {"W_rec": [[3.0]], "b": [4.0]}, state, 0)
    >>> info.grad_norm, info.clipped, params["W_rec"].tolist(), state["b"].tolist()
    (5.0, True, [[0.94]], [-0.08000000000000002])
    """

    lr: object
    momentum: float = 0.0
    nesterov: bool = False
    threshold: object = None
    nonfinite: str = "raise"

    def __post_init__(self):
        lr = self.lr
        if not isinstance(lr, (Constant, InverseTime)):
            if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real):
                raise TypeError(
                    f"lr must be a positive real number or a schedule (Constant, InverseTime); got {type(lr).__name__}"
                )
            lr = Constant(_validate.positive_float("lr", lr))
        momentum = _real("momentum", self.momentum)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1); got {momentum}")
        if not isinstance(self.nesterov, (bool, np.bool_)):
            raise TypeError(f"nesterov must be a bool; got {type(self.nesterov).__name__} {self.nesterov!r}")
        threshold = None if self.threshold is None else _validate.positive_float("threshold", self.threshold)
        _validate.choice("nonfinite", self.nonfinite, NONFINITE)
        object.__setattr__(self, "lr", lr)
        object.__setattr__(self, "momentum", momentum)
        object.__setattr__(self, "nesterov", bool(self.nesterov))
        object.__setattr__(self, "threshold", threshold)

    def init(self, params):
        """The initial state: a zero velocity per parameter.

        Parameters
        ----------
        params : dict of str to array_like
            The parameters, keyed by name.

        Returns
        -------
        dict of str to ndarray
            Zero arrays with the keys, shapes and dtypes of ``params``.

        Raises
        ------
        TypeError
            If ``params`` is not a dict of real numeric arrays.
        ValueError
            If ``params`` is empty.

        Examples
        --------
        >>> from dynrnn.training.optim import SGD
        >>> SGD(lr=0.1).init({"b": [1.0, 2.0]})["b"].tolist()
        [0.0, 0.0]
        """
        params = _arrays("params", params)
        return {key: np.zeros_like(value) for key, value in params.items()}

    def step(self, params, grads, state, t):
        """One update: clip ``grads``, then apply the (momentum) step with ``lr(t)``.

        Parameters
        ----------
        params : dict of str to array_like
            The current parameters.  Float arrays keep their dtype; others
            become float64.
        grads : dict of str to array_like
            The gradients of the loss, with the keys and shapes of ``params``.
        state : dict of str to array_like
            The velocity, from `init` or the previous `step`, with the keys
            and shapes of ``params``.
        t : int
            The number of updates done before this one (0 for the first),
            at which the schedule is evaluated.

        Returns
        -------
        params : dict of str to ndarray
            New parameter arrays.
        state : dict of str to ndarray
            The new velocity.
        info : StepInfo
            The learning rate, the pre-clip norm and the clipping flags.

        Raises
        ------
        TypeError
            If an argument is of the wrong kind (see `dynrnn.clip_grad_norm`
            for ``grads``), or ``t`` is not an integer.
        ValueError
            If the keys or shapes of ``grads`` or ``state`` differ from those
            of ``params``, ``t`` < 0, or the gradient norm is not finite and
            ``nonfinite="raise"``, or ``nonfinite="shrink"`` and ``params``
            has no finite ``"W_rec"``.

        See Also
        --------
        dynrnn.clip_grad_norm : the clipping applied first.

        Examples
        --------
        >>> from dynrnn.training.optim import SGD, InverseTime
        >>> opt = SGD(lr=InverseTime(0.5, tau=1.0))
        >>> p, s, info = opt.step({"b": [1.0]}, {"b": [1.0]}, opt.init({"b": [1.0]}), 1)
        >>> info.lr, p["b"].tolist()
        (0.25, [0.75])
        """
        t = _step_index(t)
        params = _arrays("params", params)
        grads = _matching("grads", grads, params)
        state = _matching("state", state, params)
        W_rec = None
        if self.nonfinite == "shrink":
            if "W_rec" not in params:
                raise ValueError(f"params must hold 'W_rec' when nonfinite='shrink'; got keys {sorted(params)}")
            W_rec = params["W_rec"]
        threshold = _NO_CLIP if self.threshold is None else self.threshold
        clip = clip_grad_norm(grads, threshold, nonfinite=self.nonfinite, W_rec=W_rec)
        lr = float(self.lr(t))
        mu = self.momentum
        new_params, new_state = {}, {}
        for key, theta in params.items():
            g = clip.grads[key]
            v = state[key]
            v_new = mu * v - lr * g
            if self.nesterov:
                theta_new = theta + (mu * mu) * v - ((1.0 + mu) * lr) * g
            else:
                theta_new = theta + v_new
            new_params[key] = np.asarray(theta_new, dtype=theta.dtype)
            new_state[key] = np.asarray(v_new, dtype=theta.dtype)
        info = StepInfo(
            lr=lr,
            grad_norm=clip.grad_norm,
            clipped=clip.clipped and self.threshold is not None,
            skipped=clip.skipped,
            shrunk=clip.shrunk,
            params_finite=all(np.isfinite(a).all() for d in (new_params, new_state) for a in d.values()),
        )
        return new_params, new_state, info


def _arrays(name, params):
    """``params`` as a dict of float arrays (float dtypes kept, others float64); may share the caller's memory."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{name} must be a dict of name -> array; got {type(params).__name__}")
    if not params:
        raise ValueError(f"{name} must hold at least one array; got an empty {type(params).__name__}")
    out = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise TypeError(f"{name} must have str keys (parameter names); got key {key!r}")
        arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
        dtype = arr.dtype if arr.dtype.kind == "f" and arr.dtype.itemsize >= 4 else np.float64
        out[key] = _validate.real_array(f"{name}[{key!r}]", arr, dtype, finite=False)
    return out


def _matching(name, values, params):
    """``values`` as float arrays in the dtypes of ``params``, checking keys and shapes."""
    if not isinstance(values, Mapping):
        raise TypeError(f"{name} must be a dict of name -> array; got {type(values).__name__}")
    if set(values) != set(params):
        raise ValueError(f"{name} must have the keys of params, {sorted(params)}; got {sorted(map(str, values))}")
    out = {}
    for key, theta in params.items():
        arr = _validate.real_array(f"{name}[{key!r}]", values[key], theta.dtype, finite=False)
        if arr.shape != theta.shape:
            raise ValueError(
                f"{name}[{key!r}] must have the shape of params[{key!r}], {_validate.shape_str(theta.shape)}; "
                f"got {_validate.shape_str(arr.shape)}"
            )
        out[key] = arr
    return out

"""Activation functions sigma, their derivatives and the bound gamma = sup|sigma'|."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import _validate
from .._kernels.scalar import ACTIVATIONS, GAMMA

__all__ = ["ACTIVATIONS", "Activation", "activation", "gamma"]


@dataclass(frozen=True)
class Activation:
    """An activation function, its derivative and the bound on the derivative.

    Attributes
    ----------
    name : str
        One of `dynrnn.ACTIVATIONS`.
    gamma : float
        ``sup |sigma'(z)|``, the constant of Pascanu et al. (2013), Sec. 2.1.
    sigma, dsigma : callable
        Element-wise ``sigma(z)`` and ``sigma'(z)`` on array_like input.
        They run the same compiled code as the CPU kernels.
    """

    name: str
    gamma: float
    sigma: Callable
    dsigma: Callable


def gamma(name):
    """Bound gamma on the derivative of an activation: ``|sigma'(z)| <= gamma``.

    Parameters
    ----------
    name : {"logistic", "tanh", "relu", "linear"}
        The activation.

    Returns
    -------
    float
        1/4 for the logistic sigmoid, 1 for tanh, relu and linear.

    Raises
    ------
    ValueError
        If ``name`` is not a known activation.

    Notes
    -----
    Pascanu et al. (2013), Sec. 2.1: if the largest singular value of
    ``W_rec`` is below ``1 / gamma``, the long-term components of the
    gradient vanish (eqs. 6-7).

    Examples
    --------
    >>> import dynrnn
    >>> dynrnn.gamma("logistic")
    0.25
    """
    _validate.choice("activation", name, ACTIVATIONS)
    return GAMMA[name]


def activation(name):
    """Return the `Activation` called ``name``.

    Parameters
    ----------
    name : {"logistic", "tanh", "relu", "linear"}
        The activation: ``logistic(z) = 1 / (1 + exp(-z))``, ``tanh(z)``,
        ``relu(z) = max(z, 0)`` (derivative 0 at 0) or ``linear(z) = z``.

    Returns
    -------
    Activation
        With ``sigma`` and ``sigma'`` as NumPy ufuncs and the bound ``gamma``.

    Raises
    ------
    ValueError
        If ``name`` is not a known activation.

    Examples
    --------
    >>> import dynrnn
    >>> act = dynrnn.activation("logistic")
    >>> float(act.sigma(0.0)), float(act.dsigma(0.0)), act.gamma
    (0.5, 0.25, 0.25)
    """
    _validate.choice("activation", name, ACTIVATIONS)
    from .._kernels import cpu

    sigma, dsigma = cpu.ufuncs(name)
    return Activation(name=name, gamma=GAMMA[name], sigma=_nan_quiet(sigma), dsigma=_nan_quiet(dsigma))


def _nan_quiet(ufunc):
    """Wrap a compiled ufunc so that NaN input gives NaN without a warning.

    Comparing NaN with a number raises the floating-point "invalid" flag,
    which NumPy turns into a RuntimeWarning after a ufunc call; ``np.tanh``
    gives NaN for NaN silently, and so do these.
    """

    def apply(z):
        with np.errstate(invalid="ignore"):
            return ufunc(z)

    apply.__name__ = apply.__qualname__ = ufunc.__name__
    apply.__doc__ = ufunc.__doc__
    return apply

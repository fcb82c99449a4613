"""Results of the Jacobian analysis (`dynrnn.jacobian_products`, `dynrnn.lyapunov_spectrum`)."""

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ._base import _FrozenArrays


def _lag_reduce(log_norm, reduce):
    """Apply ``reduce`` to the non-NaN entries of each sub-diagonal ``log_norm[t, t - lag]``; NaN if none."""
    T = log_norm.shape[0] - 1
    out = np.full(T + 1, np.nan, dtype=log_norm.dtype)
    for lag in range(T + 1):
        values = np.diagonal(log_norm, offset=-lag)
        values = values[~np.isnan(values)]
        if values.size:
            with np.errstate(invalid="ignore"):  # a mean of -inf and +inf is NaN
                out[lag] = reduce(values)
    return out


@dataclass(frozen=True, eq=False, repr=False)
class JacobianResult(_FrozenArrays):
    """Products of step Jacobians along one trajectory (see `dynrnn.jacobian_products`).

    Every array indexed ``[t, k]`` describes ``P_{t,k} = dx_t / dx_k =
    J_t J_{t-1} ... J_{k+1}`` (Pascanu et al. 2013, eq. 5, column
    convention), for ``0 <= k <= t <= T``; entries with ``k > t`` are NaN.

    Attributes
    ----------
    x : ndarray, shape (T + 1, n)
        The trajectory ``x_0 ... x_T``.
    jacobians : ndarray, shape (T, n, n)
        The step Jacobians: ``jacobians[i - 1] = J_i = dx_i / dx_{i-1}``.
    norm : ndarray, shape (T + 1, T + 1)
        Spectral norm ``||P_{t,k}||_2``.  It overflows to inf or underflows
        to 0 where the product is beyond the floating-point range;
        ``log_norm`` does not.
    log_norm : ndarray, shape (T + 1, T + 1)
        ``log ||P_{t,k}||_2``, finite for every finite nonzero product
        (``-inf`` for a zero product); ``log_norm[k, k] = 0``.
    singular_values : ndarray, shape (T + 1, T + 1, n_singular)
        The ``n_singular`` largest singular values of ``P_{t,k}``,
        descending (``singular_values[..., 0] == norm``).
    log_singular_values : ndarray, shape (T + 1, T + 1, n_singular)
        Their natural logs; ``-inf`` where a computed singular value is 0.
    diverged_at : int
        The step of the first non-finite state of the trajectory, or -1.
        Windows whose Jacobians depend on a non-finite state are NaN.
    """

    x: np.ndarray
    jacobians: np.ndarray
    norm: np.ndarray
    log_norm: np.ndarray
    singular_values: np.ndarray
    log_singular_values: np.ndarray
    diverged_at: int

    @property
    def n_steps(self):
        """Number of steps T."""
        return self.x.shape[0] - 1

    @property
    def n_singular(self):
        """Number of singular values kept per window."""
        return self.singular_values.shape[2]

    @property
    def diverged(self):
        """True when the trajectory reached a non-finite state."""
        return self.diverged_at >= 0

    def lag_profile(self, t=None):
        """``log ||dx_t / dx_{t - lag}||_2`` against the lag, for one end time t.

        Parameters
        ----------
        t : int, optional
            The end time, 0 <= t <= T; T by default.

        Returns
        -------
        lags : ndarray of int64, shape (t + 1,)
            ``0, 1, ..., t``.
        log_norm : ndarray, shape (t + 1,)
            ``log_norm[t, t - lags]``: how the sensitivity of ``x_t`` to
            earlier states decays (vanishing) or grows (exploding) with the
            lag (Pascanu et al. 2013, Sec. 2.1).

        Raises
        ------
        TypeError
            If ``t`` is not an integer.
        ValueError
            If ``t`` is outside [0, T].
        """
        T = self.n_steps
        t = T if t is None else _validate.integer("t", t, minimum=0, maximum=T)
        lags = np.arange(t + 1)
        return lags, self.log_norm[t, t - lags]

    @property
    def max_log_norm_by_lag(self):
        """``max_t log ||dx_t / dx_{t - lag}||_2`` for lag = 0 ... T (NaN windows ignored), shape (T + 1,)."""
        return _lag_reduce(self.log_norm, np.max)

    @property
    def mean_log_norm_by_lag(self):
        """Mean over t of ``log ||dx_t / dx_{t - lag}||_2`` for lag = 0 ... T (NaN windows ignored), shape (T + 1,)."""
        return _lag_reduce(self.log_norm, np.mean)


@dataclass(frozen=True, eq=False, repr=False)
class LyapunovResult(_FrozenArrays):
    """Lyapunov spectrum along one trajectory (see `dynrnn.lyapunov_spectrum`).

    Attributes
    ----------
    exponents : ndarray, shape (n,)
        The Lyapunov exponents (per step, natural log), descending:
        the mean of ``local`` over the steps after the transient.
        ``-inf`` for a direction that is collapsed exactly (a dead relu
        unit); NaN when the trajectory diverged.
    local : ndarray, shape (T - n_transient, n)
        ``log|R_i[j, j]|`` for steps ``i = n_transient + 1 ... T``: the
        one-step stretching factors of the QR (Benettin) iteration, columns
        in the order of ``exponents``.
    finite_time : ndarray, shape (T - n_transient, n)
        Running means of ``local``: the finite-time exponents after
        ``1, 2, ...`` steps (``finite_time[-1] == exponents``).
    x : ndarray, shape (T + 1, n)
        The trajectory ``x_0 ... x_T``.
    n_transient : int
        Steps discarded before averaging.
    diverged_at : int
        The step of the first non-finite state, or -1.
    """

    exponents: np.ndarray
    local: np.ndarray
    finite_time: np.ndarray
    x: np.ndarray
    n_transient: int
    diverged_at: int

    @property
    def n_steps(self):
        """Number of steps T of the trajectory (transient included)."""
        return self.x.shape[0] - 1

    @property
    def max_exponent(self):
        """The largest exponent (positive: nearby trajectories separate, chaos)."""
        return self.exponents[0]

    @property
    def diverged(self):
        """True when the trajectory reached a non-finite state."""
        return self.diverged_at >= 0

"""Result of the vanishing-gradient regularizer (`dynrnn.vanishing_regularizer`)."""

from dataclasses import dataclass

import numpy as np

from ._base import _FrozenArrays


@dataclass(frozen=True, eq=False, repr=False)
class RegularizerResult(_FrozenArrays):
    """Value of Omega (eqs. 9-10) and its gradient with respect to ``W_rec``.

    See `dynrnn.vanishing_regularizer`.

    Attributes
    ----------
    omega : float
        The regularizer Omega.  0 when every term was skipped (see
        ``all_skipped``); NaN or inf when the states or gradients it was
        given had diverged.
    grad_W_rec : ndarray, shape (n, n)
        ``d+Omega/dW_rec`` with the states and ``dloss/dx`` held constant
        (eq. 10); zeros when every term was skipped.
    ratios : ndarray, shape (T, B)
        The per-term ratio ``r_k`` (entry ``[k, q]`` for step k = 0 .. T - 1
        of sequence q): squared norms (``form="squared"``) or norms
        (``form="ratio"``); NaN where the term was skipped.
    valid : ndarray of bool, shape (T, B)
        True where the term was kept (``||dloss/dx_{k+1}||^2 >= bound``).
    n_valid : int
        Number of kept terms, ``valid.sum()``.
    form : str
        ``"squared"`` or ``"ratio"``.
    reduce : str
        ``"mean"`` or ``"sum"``.
    """

    omega: float
    grad_W_rec: np.ndarray
    ratios: np.ndarray
    valid: np.ndarray
    n_valid: int
    form: str
    reduce: str

    @property
    def all_skipped(self):
        """True when no term was kept: Omega is then 0 by convention (the authors' code would give 0/0)."""
        return self.n_valid == 0

    @property
    def diverged(self):
        """True when Omega or its gradient is not finite (diverged input)."""
        return not bool(np.isfinite(self.omega) and np.all(np.isfinite(self.grad_W_rec)))

    def __repr__(self):
        T, B = self.valid.shape
        return (
            f"RegularizerResult(omega={self.omega:.6g}, form={self.form!r}, reduce={self.reduce!r}, "
            f"n_valid={self.n_valid} of {T * B}, grad_W_rec: {self.grad_W_rec.shape})"
        )

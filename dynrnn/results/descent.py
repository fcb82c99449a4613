"""Result of gradient descent on the eq. (8) error surface (`dynrnn.descend`)."""

from dataclasses import dataclass

import numpy as np

from ._base import _FrozenArrays


@dataclass(frozen=True, eq=False, repr=False)
class DescentResult(_FrozenArrays):
    """Trajectories of plain or clipped gradient descent on ``(w, b)``, one column per start.

    See `dynrnn.descend`.  Iterate ``k`` (row ``k``) is the point after ``k``
    updates; row 0 is the start.  The ``S`` starts are the broadcast of
    ``w0`` and ``b0``, flattened in C order.

    Attributes
    ----------
    w, b : ndarray, shape (n_iter + 1, S)
        The recurrent weight and the bias at every iterate.
    E : ndarray, shape (n_iter + 1, S)
        The error ``(sigma(x_T) - target)^2`` at every iterate.
    dE_dw, dE_db : ndarray, shape (n_iter + 1, S)
        The exact gradient at every iterate, before clipping.
    grad_norm : ndarray, shape (n_iter, S)
        ``||(dE/dw, dE/db)||_2`` used by update ``k``, before clipping (the
        quantity the authors log); NaN after a start has diverged.
    clipped : ndarray of bool, shape (n_iter, S)
        True where update ``k`` was rescaled by Algorithm 1 (never without a
        ``threshold``).
    diverged : ndarray of bool, shape (S,)
        True for a start whose iteration left the finite range: a NaN or
        inf error or gradient, or an update to a non-finite ``(w, b)``.
    diverged_at : ndarray of int, shape (S,)
        The iterate ``k`` where that happened (-1 where it did not).  The
        start is frozen there: rows ``k + 1`` onwards of ``w``, ``b``, ``E``,
        ``dE_dw`` and ``dE_db`` repeat row ``k``, and ``grad_norm`` and
        ``clipped`` say no update was made from ``k`` on (``grad_norm[k]``
        keeps the offending norm).
    lr : float
        The learning rate.
    threshold : float or None
        The clipping threshold; None for plain gradient descent.
    nonfinite : str
        The policy for non-finite gradients, "skip" or "raise".
    x0 : float
        The initial state of the unit.
    n_steps : int
        The number of steps T of the unit per evaluation.
    target : float
        The target of ``sigma(x_T)``.
    activation : str
        The activation sigma.
    """

    w: np.ndarray
    b: np.ndarray
    E: np.ndarray
    dE_dw: np.ndarray
    dE_db: np.ndarray
    grad_norm: np.ndarray
    clipped: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    lr: float
    threshold: float | None
    nonfinite: str
    x0: float
    n_steps: int
    target: float
    activation: str

    @property
    def n_iter(self):
        """The number of updates asked for (rows of `w` minus one)."""
        return self.w.shape[0] - 1

    @property
    def n_starts(self):
        """The number of starts S."""
        return self.w.shape[1]

    @property
    def step_length(self):
        """Length ``||(w, b)_{k+1} - (w, b)_k||_2`` of every update, shape (n_iter, S): lr times the used norm."""
        return np.hypot(np.diff(self.w, axis=0), np.diff(self.b, axis=0))

    @property
    def n_clipped(self):
        """Number of clipped updates per start, shape (S,)."""
        return np.count_nonzero(self.clipped, axis=0)

    @property
    def n_diverged(self):
        """Number of starts that diverged."""
        return int(np.count_nonzero(self.diverged))

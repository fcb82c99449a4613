"""Results of the eq. (8) error surface (`dynrnn.error_surface`, `dynrnn.error_surface_wall`)."""

from dataclasses import dataclass

import numpy as np

from ._base import _FrozenArrays


@dataclass(frozen=True, eq=False, repr=False)
class ErrorSurfaceResult(_FrozenArrays):
    """The error of eq. (8) with its gradient and curvature on a grid of ``(w, b)``.

    See `dynrnn.error_surface`.  Every array has the broadcast shape of
    ``w``, ``b`` and ``x0`` and the dtype of the computation.

    Attributes
    ----------
    E : ndarray
        ``E = (sigma(x_T) - target)^2``.
    dE_dw, dE_db : ndarray
        The exact gradient of ``E`` (forward mode).
    hessian_max_eig : ndarray
        The larger eigenvalue of the 2x2 Hessian of ``E`` in ``(w, b)``:
        the largest curvature of the surface, huge on the walls.
    x : ndarray
        The final state ``x_T``.
    diverged : ndarray of bool
        True where any of the above is not finite (the derivatives overflow
        on the wall for large ``w`` and ``n_steps``, or the state itself
        for the unbounded activations).
    x0 : ndarray
        The initial state as given (0-d for a scalar), before broadcasting.
    n_steps : int
        The number of steps T.
    target : float
        The target of ``sigma(x_T)``.
    activation : str
        The activation sigma.
    """

    E: np.ndarray
    dE_dw: np.ndarray
    dE_db: np.ndarray
    hessian_max_eig: np.ndarray
    x: np.ndarray
    diverged: np.ndarray
    x0: np.ndarray
    n_steps: int
    target: float
    activation: str

    @property
    def grad(self):
        """The gradient ``(dE/dw, dE/db)`` stacked on a trailing axis of length 2."""
        return np.stack([self.dE_dw, self.dE_db], axis=-1)

    @property
    def grad_norm(self):
        """The Euclidean norm of the gradient, ``hypot(dE/dw, dE/db)``."""
        return np.hypot(self.dE_dw, self.dE_db)

    @property
    def n_diverged(self):
        """Number of grid points that diverged."""
        return int(np.count_nonzero(self.diverged))


@dataclass(frozen=True, eq=False, repr=False)
class WallResult(_FrozenArrays):
    """Where ``|dE/db|`` peaks along ``b`` for each ``w``: the wall of the error surface.

    See `dynrnn.error_surface_wall`.  Arrays have the shape of ``w``.

    Attributes
    ----------
    w : ndarray
        The recurrent weights searched (float64).
    b : ndarray
        The bias in ``b_range`` where ``|dE/db|`` is largest.
    peak : ndarray
        ``|dE/db|`` there: inf where the derivatives overflowed (unbounded
        activations), NaN where every sample was NaN.
    E : ndarray
        The error there.
    x : ndarray
        The final state ``x_T`` there.
    converged : ndarray of bool
        True where the search resolved the steepest rise of ``x_T`` (adjacent
        samples at most 0.1 apart in ``x_T``).  False where the wall is too
        thin for the float64 spacing of ``b`` (from about ``w = 8.03`` for
        the defaults): ``b`` and ``peak`` are then the best representable
        sample, and ``peak`` may be far below the true supremum.
    x0 : float
        The initial state.
    n_steps : int
        The number of steps T.
    target : float
        The target of ``sigma(x_T)``.
    activation : str
        The activation sigma.
    sigma_x0, dsigma_x0 : float
        ``sigma(x0)`` and ``sigma'(x0)``, which define the wall line.
    """

    w: np.ndarray
    b: np.ndarray
    peak: np.ndarray
    E: np.ndarray
    x: np.ndarray
    converged: np.ndarray
    x0: float
    n_steps: int
    target: float
    activation: str
    sigma_x0: float
    dsigma_x0: float

    @property
    def line_b(self):
        """The wall line ``b = x0 - sigma(x0) w``, where ``x0`` is a fixed point of the map.

        For ``w sigma'(x0) > 1`` (`unstable`) that fixed point is the basin
        boundary, and the wall lies along this line (Pascanu et al. 2013,
        Sec. 2.3, Fig. 6).
        """
        return self.x0 - self.sigma_x0 * self.w

    @property
    def unstable(self):
        """True where ``w sigma'(x0) > 1``: ``x0`` is then an unstable fixed point on `line_b`."""
        return self.w * self.dsigma_x0 > 1.0

    @property
    def offset(self):
        """``b - line_b``: how far the peak lies from the wall line."""
        return self.b - self.line_b

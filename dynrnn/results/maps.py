"""Results of the maps and of the single-unit analysis (`dynrnn.iterate_grid`, `dynrnn.single_unit`)."""

from dataclasses import dataclass

import numpy as np

from ._base import _FrozenArrays


@dataclass(frozen=True, eq=False, repr=False)
class OrbitResult(_FrozenArrays):
    """Final states of many independent RNN maps (see `dynrnn.iterate_grid`).

    Attributes
    ----------
    x : ndarray, shape (G, n_keep, n)
        The last ``n_keep`` states of each orbit, oldest first:
        ``x[g, -1]`` is ``x_T``.  States after the first non-finite one
        are NaN.
    diverged : ndarray of bool, shape (G,)
        True where some state of the orbit became non-finite.
    diverged_at : ndarray of int64, shape (G,)
        The step ``t`` of the first non-finite state, or -1.
    """

    x: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray

    @property
    def n_diverged(self):
        """Number of orbits that diverged."""
        return int(np.count_nonzero(self.diverged))


@dataclass(frozen=True, eq=False, repr=False)
class TangentResult(_FrozenArrays):
    """Final state and its forward-mode derivatives for single-unit maps.

    See `dynrnn.single_unit.iterate_tangents`.

    Attributes
    ----------
    x : ndarray
        The state ``x_T``.
    dx_dw : ndarray
        ``d x_T / d w``.
    dx_db : ndarray
        ``d x_T / d b``.
    diverged : ndarray of bool
        True where the state or a derivative became non-finite.
    """

    x: np.ndarray
    dx_dw: np.ndarray
    dx_db: np.ndarray
    diverged: np.ndarray

    @property
    def n_diverged(self):
        """Number of grid points that diverged."""
        return int(np.count_nonzero(self.diverged))


@dataclass(frozen=True, eq=False, repr=False)
class SingleUnitFixedPoints(_FrozenArrays):
    """Every fixed point of ``x -> w sigma(x) + b`` on a grid of ``(w, b)``.

    See `dynrnn.single_unit.fixed_points`.  The trailing axis of length 3
    lists the fixed points in ascending order, padded with NaN (at most three
    for logistic and tanh, two for relu, one for linear).

    Attributes
    ----------
    x : ndarray, shape (..., 3)
        The fixed points ``x*``, ascending, NaN-padded.
    multipliers : ndarray, shape (..., 3)
        ``lambda = w sigma'(x*)``, the derivative of the map at ``x*``
        (exactly 1 at a fold, where ``tangent``); NaN where ``x`` is.
    stable : ndarray of bool, shape (..., 3)
        ``|lambda| < 1`` and not ``tangent``: ``x*`` attracts its
        neighbourhood.  False on padding.
    tangent : ndarray of bool, shape (..., 3)
        ``x*`` is a double (or triple) root, found at a critical point of
        ``g(x) = w sigma(x) + b - x``: ``(w, b)`` lies on a fold to within
        rounding.  False on padding.
    residual : ndarray, shape (..., 3)
        ``|w sigma(x*) + b - x*|`` as computed; NaN on padding.
    count : ndarray of int64, shape (...)
        Number of isolated fixed points listed in ``x``.
    degenerate : ndarray of bool, shape (...)
        True where the fixed points form a continuum (linear ``w = 1,
        b = 0``: every x; relu ``w = 1, b = 0``: every x >= 0).  There
        ``x`` is all NaN and ``count`` is 0.
    converged : ndarray of bool, shape (...)
        True where every root refinement met its tolerance.
    activation : str
        The activation sigma.
    """

    x: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    tangent: np.ndarray
    residual: np.ndarray
    count: np.ndarray
    degenerate: np.ndarray
    converged: np.ndarray
    activation: str

    @property
    def n_stable(self):
        """Number of stable fixed points at each grid point (int64, shape ``count.shape``)."""
        return np.count_nonzero(self.stable, axis=-1)

    @property
    def bistable(self):
        """True where two stable fixed points coexist (separated by an unstable one)."""
        return self.n_stable == 2


@dataclass(frozen=True, eq=False, repr=False)
class SingleUnitCycles(_FrozenArrays):
    """Period-2 orbits ``{p, q}`` (``q = f(p)``, ``p = f(q)``, ``p < q``) of single-unit maps.

    See `dynrnn.single_unit.period2_orbits`.

    Attributes
    ----------
    x : ndarray, shape (..., 2)
        ``(p, q)``, the two points of the orbit, ascending; NaN where there
        is none.
    multipliers : ndarray, shape (...)
        ``mu = w^2 sigma'(p) sigma'(q)``, the derivative of the second
        iterate along the orbit; NaN where there is none.
    stable : ndarray of bool, shape (...)
        ``|mu| < 1``.
    exists : ndarray of bool, shape (...)
        True where a period-2 orbit was found.
    residual : ndarray, shape (...)
        ``max(|f(p) - q|, |f(q) - p|)``; NaN where there is none.
    converged : ndarray of bool, shape (...)
        True where the root refinement met its tolerance.
    activation : str
        The activation sigma.
    """

    x: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    exists: np.ndarray
    residual: np.ndarray
    converged: np.ndarray
    activation: str


@dataclass(frozen=True, eq=False, repr=False)
class SingleUnitBifurcations(_FrozenArrays):
    """Saddle-node (fold) or period-doubling (flip) points of single-unit maps, per weight ``w``.

    See `dynrnn.single_unit.fold_points`, `~dynrnn.single_unit.flip_points`
    and `~dynrnn.single_unit.fold_curve`.

    Attributes
    ----------
    w : ndarray, shape (...)
        The recurrent weights.
    b : ndarray, shape (..., 2)
        The two bifurcation biases, ascending; NaN where ``w`` has none.
    x : ndarray, shape (..., 2)
        The fixed point ``x*`` at each, where ``w sigma'(x*) = +1`` (fold)
        or ``-1`` (flip) and ``b = x* - w sigma(x*)``.
    kind : str
        ``"fold"`` or ``"flip"``.
    activation : str
        The activation sigma.
    """

    w: np.ndarray
    b: np.ndarray
    x: np.ndarray
    kind: str
    activation: str

    @property
    def exists(self):
        """True where ``w`` has the bifurcation (``b`` is not NaN)."""
        return ~np.isnan(self.b[..., 0])


@dataclass(frozen=True, eq=False, repr=False)
class SingleUnitCusp(_FrozenArrays):
    """The cusp where the two fold curves of ``x -> w sigma(x) + b`` meet.

    See `dynrnn.single_unit.cusp`.

    Attributes
    ----------
    w, b : float
        The cusp in the ``(w, b)`` plane.
    x : float
        The triple fixed point there (the inflection point of sigma).
    activation : str
        The activation sigma.
    """

    w: float
    b: float
    x: float
    activation: str

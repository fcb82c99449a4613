"""Results of the N-unit dynamics: fixed points, orbit diagrams, basins, sensitivity, continuation."""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._kernels.scalar import STATUS_NAMES
from ._base import _FrozenArrays


@dataclass(frozen=True, eq=False, repr=False)
class FixedPointResult(_FrozenArrays):
    """Fixed points of an autonomous n-unit RNN, with their multipliers (see `dynrnn.fixed_points`).

    The k distinct fixed points are sorted lexicographically by ``x``.  Each
    of the S Newton starts is reported, converged or not.

    Attributes
    ----------
    x : ndarray, shape (k, n)
        The fixed points, in the state of ``form``: ``x*`` for the paper
        form, ``h*`` for the standard form and a GRU, ``(h*, c*)`` (2n) for
        an LSTM.
    multipliers : ndarray of complex128, shape (k, n)
        Multipliers: eigenvalues of the step Jacobian at each point (with the
        leak), by decreasing modulus.
    residual : ndarray, shape (k,)
        ``||F(x) - x||_2`` at each point (F without the leak), <= ``tol``.
    n_unstable : ndarray of int64, shape (k,)
        Number of multipliers with ``|lambda| > 1 + hyperbolic_tol``.
    kind : ndarray of int8, shape (k,)
        Class code, an index into `KINDS`; see `classes`.
    n_hits : ndarray of int64, shape (k,)
        How many starts converged to each point.
    starts : ndarray, shape (S, n)
        The Newton starts: first those taken along trajectories, then the
        random ones.
    status : ndarray of str, shape (S,)
        Outcome of each start, one of `STATUSES`: "converged", "diverged",
        "max_iter" (no convergence in ``max_iter`` steps) or "singular" (a
        singular Newton matrix).
    n_iter : ndarray of int64, shape (S,)
        Newton steps taken from each start.
    label : ndarray of int64, shape (S,)
        Index into ``x`` of the point each start converged to, or -1.
    slow_x : ndarray, shape (s, n), or None
        Slow points: local minima of ``q(x) = ||F(x) - x||^2 / 2`` that are
        not zeros, sorted like ``x``; None unless requested.
    slow_q : ndarray, shape (s,), or None
        ``q`` at each slow point; None unless requested.
    form : str
        ``"paper"`` or ``"standard"`` (an RNN), ``"gru"`` or ``"lstm"``: the
        state variable of ``x``.
    """

    KINDS: ClassVar[tuple] = ("stable", "saddle", "unstable", "non-hyperbolic")
    STATUSES: ClassVar[tuple] = ("converged",) + tuple(name.lower() for name in STATUS_NAMES[1:])

    x: np.ndarray
    multipliers: np.ndarray
    residual: np.ndarray
    n_unstable: np.ndarray
    kind: np.ndarray
    n_hits: np.ndarray
    starts: np.ndarray
    status: np.ndarray
    n_iter: np.ndarray
    label: np.ndarray
    slow_x: object
    slow_q: object
    form: str

    @property
    def n_points(self):
        """Number k of distinct fixed points."""
        return self.x.shape[0]

    @property
    def n_starts(self):
        """Number S of Newton starts."""
        return self.starts.shape[0]

    @property
    def converged(self):
        """True for each start that converged (bool, shape (S,))."""
        return self.status == "converged"

    @property
    def n_converged(self):
        """Number of starts that converged."""
        return int(np.count_nonzero(self.converged))

    @property
    def status_counts(self):
        """Number of starts per outcome: ``{"converged": ..., "diverged": ..., "max_iter": ..., "singular": ...}``."""
        return {name: int(np.count_nonzero(self.status == name)) for name in self.STATUSES}

    @property
    def classes(self):
        """Class of each point as text: "stable", "saddle", "unstable" or "non-hyperbolic" (shape (k,))."""
        return np.asarray(self.KINDS)[self.kind]

    @property
    def stable(self):
        """True for the attractors, where every ``|lambda| < 1`` (bool, shape (k,))."""
        return self.kind == 0


@dataclass(frozen=True, eq=False, repr=False)
class OrbitDiagramResult(_FrozenArrays):
    """Brute-force orbit diagram: late states against a swept parameter (see `dynrnn.orbit_diagram`).

    Attributes
    ----------
    values : ndarray, shape (n_values,)
        The swept parameter values.
    x : ndarray, shape (n_values, n_starts, n_keep, n)
        The kept states ``x_{n_transient+1} ... x_{n_transient+n_keep}`` of
        every start at every value, oldest first.  NaN after divergence.
    diverged : ndarray of bool, shape (n_values, n_starts)
        True where the orbit became non-finite.
    x0 : ndarray, shape (n_starts, n)
        The initial states (the same for every value): the explicit ``x0``
        first, then the random draws.
    parameter : tuple
        The swept parameter: ``("b", i)``, ``("W_rec", i, j)``, ``("u", k)``
        or ``("gain",)``.
    n_transient : int
        Number of discarded steps.
    """

    values: np.ndarray
    x: np.ndarray
    diverged: np.ndarray
    x0: np.ndarray
    parameter: tuple
    n_transient: int

    @property
    def n_diverged(self):
        """Number of orbits that diverged."""
        return int(np.count_nonzero(self.diverged))

    @property
    def label(self):
        """The swept parameter as text, e.g. ``"b[0]"``, ``"W_rec[0, 1]"`` or ``"gain"``."""
        name, *index = self.parameter
        return f"{name}[{', '.join(str(i) for i in index)}]" if index else name

    def points(self, unit=0):
        """Flat ``(value, x_unit)`` pairs of every kept, finite state, ready for a scatter plot."""
        v = np.broadcast_to(self.values[:, None, None], self.x.shape[:3])
        xs = self.x[..., unit]
        keep = np.isfinite(xs)
        return v[keep], xs[keep]


@dataclass(frozen=True, eq=False, repr=False)
class BasinResult(_FrozenArrays):
    """Basins of attraction on a grid of initial states (see `dynrnn.basins`).

    Attributes
    ----------
    labels : ndarray of int64, grid shape
        Index into ``attractors`` of the attractor reached from each grid
        point; ``NOT_CONVERGED`` (-1) where no stable orbit of period
        ``<= max_period`` was reached (including points that landed on an
        unstable fixed point or orbit, i.e. exactly on a basin boundary) and
        ``DIVERGED`` (-2) where the orbit became non-finite.  With two
        dimensions, ``labels[i, j]`` belongs to ``(grid[0][i], grid[1][j])``.
    attractors : tuple of ndarray, each shape (period, n)
        The points of each attracting orbit in time order, rotated to start
        at its lexicographically smallest point; sorted by period, then by
        that point.
    period : ndarray of int64, shape (n_attractors,)
        The period of each attractor (1 for a fixed point).
    spectral_radius : ndarray, shape (n_attractors,)
        Largest ``|eigenvalue|`` of the Jacobian of the ``period``-th iterate
        along each attractor (< 1).
    grid : tuple of ndarray
        The grid coordinates along each of ``dims``.
    dims : tuple of int
        The state components spanned by the grid.
    base_state : ndarray, shape (n,)
        The state whose other components are held fixed.
    """

    NOT_CONVERGED: ClassVar[int] = -1
    DIVERGED: ClassVar[int] = -2

    labels: np.ndarray
    attractors: tuple
    period: np.ndarray
    spectral_radius: np.ndarray
    grid: tuple
    dims: tuple
    base_state: np.ndarray

    def __post_init__(self):
        super().__post_init__()
        for arr in (*self.attractors, *self.grid):
            arr.flags.writeable = False

    @property
    def n_attractors(self):
        """Number of distinct attractors found."""
        return len(self.attractors)

    @property
    def basin_fraction(self):
        """Fraction of grid points in each basin, shape (n_attractors,)."""
        counts = np.bincount(self.labels[self.labels >= 0].ravel(), minlength=self.n_attractors)
        return counts / self.labels.size

    @property
    def n_diverged(self):
        """Number of grid points whose orbit diverged."""
        return int(np.count_nonzero(self.labels == self.DIVERGED))

    @property
    def n_not_converged(self):
        """Number of grid points that reached no stable orbit of period <= max_period."""
        return int(np.count_nonzero(self.labels == self.NOT_CONVERGED))


@dataclass(frozen=True, eq=False, repr=False)
class SensitivityResult(_FrozenArrays):
    """Growth of a small change of the initial state along orbits (see `dynrnn.sensitivity`).

    Attributes
    ----------
    x0 : ndarray, shape (K, n)
        The unperturbed initial states.
    direction : ndarray, shape (K, n)
        The unit perturbation direction of each start.
    delta : float
        The size of the perturbation: starts ``x0`` and ``x0 + delta * direction``.
    x : ndarray, shape (K, T + 1, n)
        The unperturbed orbits ``x_0 ... x_T``.
    x_perturbed : ndarray, shape (K, T + 1, n)
        The perturbed orbits.
    distance : ndarray, shape (K, T + 1)
        ``||x_t(x0 + delta direction) - x_t(x0)||_2``; ``distance[:, 0]``
        is ``delta`` up to rounding.  NaN after divergence.
    diverged : ndarray of bool, shape (K,)
        True where either orbit became non-finite.
    """

    x0: np.ndarray
    direction: np.ndarray
    delta: float
    x: np.ndarray
    x_perturbed: np.ndarray
    distance: np.ndarray
    diverged: np.ndarray

    @property
    def amplification(self):
        """``distance / delta``: how much the perturbation has grown at each step."""
        return self.distance / self.delta


@dataclass(frozen=True, eq=False, repr=False)
class BifurcationEvent(_FrozenArrays):
    """A bifurcation located along a continued branch (see `dynrnn.continuation`, `dynrnn.fold_continuation`).

    Attributes
    ----------
    kind : str
        ``"fold"`` (a real multiplier crosses +1 where the branch turns back
        in the parameter: a saddle-node), ``"branch_point"`` (a real
        multiplier crosses +1 but the branch goes on: a pitchfork or
        transcritical point, e.g. of a symmetric network), ``"flip"`` (a real
        multiplier crosses -1: period doubling), ``"neimark_sacker"`` (a
        complex pair crosses the unit circle) or, on a fold curve,
        ``"cusp"`` (the fold's quadratic coefficient vanishes).
    value : float or ndarray of shape (2,)
        The parameter value (one-parameter continuation) or the pair of
        parameter values (fold curve) at the event.
    x : ndarray, shape (n,)
        The fixed point there.
    multipliers : ndarray of complex, shape (n,)
        Its multipliers (eigenvalues of the step Jacobian), by decreasing modulus.
    index : int
        The event lies on the branch between points ``index`` and ``index + 1``.
    converged : bool
        True where the bisection reached its tolerance; False if a corrector
        failed on the way (the event is then only bracketed).
    """

    kind: str
    value: object
    x: np.ndarray
    multipliers: np.ndarray
    index: int
    converged: bool

    def __repr__(self):
        value = np.round(self.value, 10).tolist() if isinstance(self.value, np.ndarray) else round(self.value, 10)
        return f"BifurcationEvent(kind={self.kind!r}, value={value}, index={self.index}, converged={self.converged})"


@dataclass(frozen=True, eq=False, repr=False)
class ContinuationResult(_FrozenArrays):
    """A branch of fixed points followed in one parameter (see `dynrnn.continuation`).

    Attributes
    ----------
    parameter : tuple
        The continued parameter: ``("b", i)``, ``("W_rec", i, j)``,
        ``("u", k)`` or ``("gain",)``.
    values : ndarray, shape (K,)
        The parameter value at each branch point, in branch order (not
        monotone where the branch turns at a fold).
    x : ndarray, shape (K, n)
        The fixed point at each branch point.
    multipliers : ndarray of complex, shape (K, n)
        Eigenvalues of the step Jacobian there, by decreasing modulus.
    stable : ndarray of bool, shape (K,)
        Every multiplier has modulus < 1.
    arclength : ndarray, shape (K,)
        Cumulative length of the polygon through ``(x, value)``.
    events : tuple of BifurcationEvent
        The folds, branch points, flips and Neimark-Sacker points, in branch order.
    converged : bool
        True when the branch reached ``stop`` or closed on itself.
    status : str
        One of `STATUSES`: ``"stop"``, ``"closed"``, ``"max_steps"`` (the step budget ran out),
        ``"step_size"`` (the corrector failed at the smallest step) or
        ``"start"`` (no fixed point found at the start value).
    message : str
        The status in words.
    n_steps : int
        Number of accepted continuation steps.
    """

    STATUSES: ClassVar[tuple] = ("stop", "closed", "max_steps", "step_size", "start")

    parameter: tuple
    values: np.ndarray
    x: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    arclength: np.ndarray
    events: tuple
    converged: bool
    status: str
    message: str
    n_steps: int

    @property
    def n_points(self):
        """Number of branch points K."""
        return int(self.values.shape[0])

    def event_values(self, kind):
        """The parameter values of the events of one ``kind`` (e.g. ``"fold"``), in branch order."""
        return np.array([e.value for e in self.events if e.kind == kind], dtype=np.float64)


@dataclass(frozen=True, eq=False, repr=False)
class FoldCurveResult(_FrozenArrays):
    """A curve of fold (saddle-node) points in two parameters (see `dynrnn.fold_continuation`).

    Attributes
    ----------
    parameters : tuple of two tuples
        The two continued parameters, as in `ContinuationResult.parameter`.
    values : ndarray, shape (K, 2)
        The two parameter values at each point of the curve, in curve order.
    x : ndarray, shape (K, n)
        The fixed point (with a multiplier 1) at each point.
    null_vectors : ndarray, shape (K, n)
        Unit vectors ``v`` with ``J v = v``: the direction in which the two
        fixed points meet.
    multipliers : ndarray of complex, shape (K, n)
        Eigenvalues of the step Jacobian, by decreasing modulus; one is 1.
    arclength : ndarray, shape (K,)
        Cumulative length of the polygon through ``(x, values)``.
    events : tuple of BifurcationEvent
        The cusps on the curve, in curve order.
    converged : bool
        True when both ends stopped normally (``"bounds"`` or ``"closed"``).
    status : ndarray of str, shape (2,)
        Why the curve ends at its first and at its last point, each one of
        `STATUSES`: ``"bounds"``, ``"closed"``, ``"initial"`` (traced in one
        direction only), ``"max_steps"``, ``"step_size"`` or ``"start"``.
    message : str
        The status in words.
    n_steps : int
        Number of accepted continuation steps (both directions).
    """

    STATUSES: ClassVar[tuple] = ("bounds", "closed", "initial", "max_steps", "step_size", "start")

    parameters: tuple
    values: np.ndarray
    x: np.ndarray
    null_vectors: np.ndarray
    multipliers: np.ndarray
    arclength: np.ndarray
    events: tuple
    converged: bool
    status: np.ndarray
    message: str
    n_steps: int

    @property
    def n_points(self):
        """Number of points K on the curve."""
        return int(self.values.shape[0])

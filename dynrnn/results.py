"""Result objects returned by dynrnn's public functions.

Each result is a frozen dataclass whose array fields are made read-only, so
that a result can be shared without being changed by accident.  Derived
values are properties; ``repr`` shows shapes, not arrays.
"""

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from ._kernels.scalar import STATUS_NAMES

__all__ = [
    "BasinResult",
    "BifurcationEvent",
    "ContinuationResult",
    "FixedPointResult",
    "FoldCurveResult",
    "OrbitDiagramResult",
    "OrbitResult",
    "SensitivityResult",
    "SingleUnitBifurcations",
    "SingleUnitCusp",
    "SingleUnitCycles",
    "SingleUnitFixedPoints",
    "TangentResult",
]


class _FrozenArrays:
    """Mixin: mark every ndarray field read-only and give a compact repr."""

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def __repr__(self):
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                parts.append(f"{f.name}=<{value.dtype} array {value.shape}>")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


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
    multiplier : ndarray, shape (..., 3)
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
    multiplier: np.ndarray
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
    multiplier : ndarray, shape (...)
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
    multiplier: np.ndarray
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


@dataclass(frozen=True, eq=False, repr=False)
class FixedPointResult(_FrozenArrays):
    """Fixed points of an autonomous n-unit RNN, with their multipliers (see `dynrnn.fixed_points`).

    The k distinct fixed points are sorted lexicographically by ``x``.  Each
    of the S Newton starts is reported, converged or not.

    Attributes
    ----------
    x : ndarray, shape (k, n)
        The fixed points, in the state of ``form``: ``x*`` for the paper
        form, ``h*`` for the standard form.
    eigvals : ndarray of complex128, shape (k, n)
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
    status : ndarray of int64, shape (S,)
        Outcome of each start, an index into `STATUS_NAMES`.
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
        ``"paper"`` or ``"standard"``: the state variable of ``x``.
    """

    KINDS: ClassVar[tuple] = ("stable", "saddle", "unstable", "non-hyperbolic")
    STATUS_NAMES: ClassVar[tuple] = STATUS_NAMES

    x: np.ndarray
    eigvals: np.ndarray
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
        return self.status == 0

    @property
    def n_converged(self):
        """Number of starts that converged."""
        return int(np.count_nonzero(self.converged))

    @property
    def status_counts(self):
        """Number of starts per outcome: ``{"OK": ..., "DIVERGED": ..., "MAX_ITER": ..., "SINGULAR": ...}``."""
        counts = np.bincount(self.status, minlength=len(self.STATUS_NAMES))
        return {name: int(c) for name, c in zip(self.STATUS_NAMES, counts, strict=False)}

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
    located : bool
        True where the bisection reached its tolerance; False if a corrector
        failed on the way (the event is then only bracketed).
    """

    kind: str
    value: object
    x: np.ndarray
    multipliers: np.ndarray
    index: int
    located: bool

    def __repr__(self):
        value = np.round(self.value, 10).tolist() if isinstance(self.value, np.ndarray) else round(self.value, 10)
        return f"BifurcationEvent(kind={self.kind!r}, value={value}, index={self.index}, located={self.located})"


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
        ``"stop"``, ``"closed"``, ``"max_steps"`` (the step budget ran out),
        ``"step_size"`` (the corrector failed at the smallest step) or
        ``"start"`` (no fixed point found at the start value).
    message : str
        The status in words.
    n_steps : int
        Number of accepted continuation steps.
    """

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
    status : tuple of two str
        Why the curve ends at its first and at its last point: ``"bounds"``,
        ``"closed"``, ``"max_steps"``, ``"step_size"`` or ``"start"``.
    message : str
        The status in words.
    n_steps : int
        Number of accepted continuation steps (both directions).
    """

    parameters: tuple
    values: np.ndarray
    x: np.ndarray
    null_vectors: np.ndarray
    multipliers: np.ndarray
    arclength: np.ndarray
    events: tuple
    converged: bool
    status: tuple
    message: str
    n_steps: int

    @property
    def n_points(self):
        """Number of points K on the curve."""
        return int(self.values.shape[0])

"""Results of `dynrnn.path_bifurcations`: orbits and bifurcations along a straight path between two networks."""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._base import _FrozenArrays


@dataclass(frozen=True, eq=False, repr=False)
class PathBranch(_FrozenArrays):
    """One branch of periodic orbits followed along the path ``theta(s)``, ``s`` in [0, 1].

    Attributes
    ----------
    period : int
        1 (fixed points) or 2 (period-2 orbits).
    values : ndarray, shape (K,)
        The path coordinate ``s`` at each branch point, in branch order
        (not monotone where the branch turns back at a fold).
    x : ndarray, shape (K, n)
        A point of the orbit at each branch point (for period 2, one of its
        two points, followed continuously).
    multipliers : ndarray of complex, shape (K, n)
        Eigenvalues of the Jacobian of the ``period``-fold map there, by
        decreasing modulus.
    stable : ndarray of bool, shape (K,)
        Every multiplier has modulus < 1: the orbit is an attractor.
    status : str
        One of `STATUSES`: ``"end"`` (reached the other end of the path),
        ``"returned"`` (turned back at a fold and came back to the end it
        started from), ``"collapsed"`` (a period-2 orbit shrank onto a fixed
        point: the flip of that fixed point), ``"max_steps"`` or
        ``"step_size"`` (the continuation stopped inside the path).
    n_steps : int
        Number of accepted continuation steps.
    """

    STATUSES: ClassVar[tuple] = ("end", "returned", "collapsed", "max_steps", "step_size")

    period: int
    values: np.ndarray
    x: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    status: str
    n_steps: int

    @property
    def n_points(self):
        """Number of branch points K."""
        return int(self.values.shape[0])

    @property
    def converged(self):
        """True when the branch was followed to an end of the path (not stopped inside it)."""
        return self.status in ("end", "returned", "collapsed")


@dataclass(frozen=True, eq=False, repr=False)
class PathBifurcationResult(_FrozenArrays):
    """Fixed points, period-2 orbits and their bifurcations along a straight parameter path.

    See `dynrnn.path_bifurcations`.  The E events are sorted by ``values``.

    Attributes
    ----------
    values : ndarray, shape (E,)
        The path coordinate ``s`` in (0, 1) of each event:
        ``theta(s) = (1 - s) theta_start + s theta_end``.
    kind : ndarray of str, shape (E,)
        One of `KINDS`: ``"fold"`` (a real multiplier crosses +1 where the
        branch turns back: two orbits meet and vanish, a saddle-node),
        ``"branch_point"`` (a real multiplier crosses +1 and the branch goes
        on: a pitchfork or transcritical point), ``"flip"`` (a real
        multiplier crosses -1: an orbit of twice the period is born or dies),
        ``"neimark_sacker"`` (a complex pair crosses the unit circle) or
        ``"unresolved"`` (the continuation of a branch stopped here, inside
        the path: something happens that it could not follow).
    period : ndarray of int64, shape (E,)
        Period of the orbit on which the event lies (1 or 2).
    x : ndarray, shape (E, n)
        A point of that orbit at the event.
    multipliers : ndarray of complex, shape (E, n)
        Its multipliers at the event, by decreasing modulus.
    critical : ndarray of complex, shape (E,)
        The multiplier that crosses the unit circle (near +1, -1 or, for a
        Neimark-Sacker pair, the member with positive imaginary part); NaN
        for ``"unresolved"``.
    attractor : ndarray of bool, shape (E,)
        Every other multiplier has modulus < 1: on one side of the event the
        orbit is an attractor, so an attractor appears, vanishes or changes
        stability here (Sec. 2.2 of the paper).
    converged : ndarray of bool, shape (E,)
        True where the bisection reached ``event_tol``; False where a
        corrector failed on the way (the event is then only bracketed).
    branch : ndarray of int64, shape (E,)
        Index into `branches` of the branch that holds the event.
    periods : ndarray of int64, shape (P,)
        The periods searched.
    n_orbits : ndarray of int64, shape (2, P)
        Distinct orbits of each period known at ``s = 0`` (row 0) and
        ``s = 1`` (row 1): found by the multi-start search or reached by
        continuation.
    n_attractors : ndarray of int64, shape (2, P)
        How many of them are attractors.
    branches : tuple of PathBranch
        Every branch followed.
    status : str
        One of `STATUSES`: ``"complete"`` when every branch was followed to
        an end of the path, ``"incomplete"`` otherwise (see the
        ``"unresolved"`` events).
    message : str
        The status in words, with the counts.
    """

    KINDS: ClassVar[tuple] = ("fold", "branch_point", "flip", "neimark_sacker", "unresolved")
    STATUSES: ClassVar[tuple] = ("complete", "incomplete")

    values: np.ndarray
    kind: np.ndarray
    period: np.ndarray
    x: np.ndarray
    multipliers: np.ndarray
    critical: np.ndarray
    attractor: np.ndarray
    converged: np.ndarray
    branch: np.ndarray
    periods: np.ndarray
    n_orbits: np.ndarray
    n_attractors: np.ndarray
    branches: tuple
    status: str
    message: str

    @property
    def n_events(self):
        """Number of events E."""
        return int(self.values.shape[0])

    def event_values(self, kind=None, *, period=None):
        """The path coordinates of the events of one ``kind`` (all by default) and ``period`` (any by default)."""
        keep = np.ones(self.n_events, dtype=bool)
        if kind is not None:
            keep &= self.kind == kind
        if period is not None:
            keep &= self.period == period
        return self.values[keep].copy()

"""Result objects returned by dynrnn's public functions.

Each result is a frozen dataclass whose array fields are made read-only, so
that a result can be shared without being changed by accident.  Derived
values are properties; ``repr`` shows shapes, not arrays.
"""

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["OrbitResult", "TangentResult"]


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

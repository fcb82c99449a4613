"""Hypothesis strategies shared by the property tests.

Sizes follow the house style: n from 1 to 4 units, at most 8 grid points, at
most 30 steps, bounded finite floats.  Recurrent weights are drawn with
entries in [-WEIGHT / n, WEIGHT / n], so that ||W_rec||_2 <= WEIGHT and
orbits of the unbounded activations grow at most like WEIGHT**T.
"""

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

FORMS = ("paper", "standard")
MAX_UNITS = 4
MAX_GRID = 8
MAX_STEPS = 30
WEIGHT = 1.25  # bound on ||W_rec||_2: moderate orbits over 30 steps
BIAS = 2.0
STATE = 3.0


def floats(lo, hi):
    """Bounded finite float64 values (subnormals allowed)."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, width=64)


def float_arrays(shape, lo, hi):
    """float64 arrays of ``shape`` with entries in [lo, hi]."""
    return arrays(np.float64, shape, elements=floats(lo, hi))


units = st.integers(1, MAX_UNITS)
grid_sizes = st.integers(1, MAX_GRID)
steps = st.integers(1, MAX_STEPS)
forms = st.sampled_from(FORMS)


@dataclass
class GridProblem:
    """One ``iterate_grid`` call with explicit per-point arrays."""

    W_rec: np.ndarray  # (G, n, n)
    b: np.ndarray  # (G, n)
    x0: np.ndarray  # (G, n)
    n_steps: int
    form: str
    leak: object  # None or (G, n)
    n_keep: int

    @property
    def G(self):
        return self.W_rec.shape[0]

    @property
    def n(self):
        return self.W_rec.shape[1]


@st.composite
def leaks(draw, shape):
    """None (no leak) or rates in [0, 1] of ``shape``, with the end points likely."""
    if draw(st.booleans()):
        return None
    return draw(arrays(np.float64, shape, elements=st.one_of(st.sampled_from([0.0, 1.0]), floats(0.0, 1.0))))


@st.composite
def grid_problems(draw, max_steps=MAX_STEPS, weight=WEIGHT, n_units=units, leak=True):
    """An n-unit grid: W_rec (G, n, n), b and x0 (G, n), optional leak (G, n)."""
    n = draw(n_units)
    G = draw(grid_sizes)
    T = draw(st.integers(1, max_steps))
    scale = weight / n
    return GridProblem(
        W_rec=draw(float_arrays((G, n, n), -scale, scale)),
        b=draw(float_arrays((G, n), -BIAS, BIAS)),
        x0=draw(float_arrays((G, n), -STATE, STATE)),
        n_steps=T,
        form=draw(forms),
        leak=draw(leaks((G, n))) if leak else None,
        n_keep=draw(st.integers(1, T + 1)),
    )


@dataclass
class DrivenProblem:
    """One ``iterate`` call of a network driven by inputs."""

    W_rec: np.ndarray  # (n, n)
    W_in: np.ndarray  # (n, m)
    b: np.ndarray  # (n,)
    x0: np.ndarray  # (n,)
    inputs: np.ndarray  # (T, m)
    form: str
    leak: object  # None or (n,)


@st.composite
def driven_problems(draw, max_steps=MAX_STEPS, weight=WEIGHT, leak=True):
    """A single network with W_in (n, m), m from 1 to 3, and inputs (T, m)."""
    n = draw(units)
    m = draw(st.integers(1, 3))
    T = draw(st.integers(1, max_steps))
    return DrivenProblem(
        W_rec=draw(float_arrays((n, n), -weight / n, weight / n)),
        W_in=draw(float_arrays((n, m), -1.0, 1.0)),
        b=draw(float_arrays((n,), -BIAS, BIAS)),
        x0=draw(float_arrays((n,), -STATE, STATE)),
        inputs=draw(float_arrays((T, m), -1.0, 1.0)),
        form=draw(forms),
        leak=draw(leaks((n,))) if leak else None,
    )


@st.composite
def unit_grids(draw, max_steps=MAX_STEPS, weight=WEIGHT, min_grid=1):
    """A single-unit grid: w, b, x0 and (optional) leak as 1-D arrays of length G >= min_grid."""
    G = draw(st.integers(min_grid, MAX_GRID))
    T = draw(st.integers(1, max_steps))
    return {
        "w": draw(float_arrays((G,), -weight, weight)),
        "b": draw(float_arrays((G,), -BIAS, BIAS)),
        "x0": draw(float_arrays((G,), -STATE, STATE)),
        "n_steps": T,
        "form": draw(forms),
        "leak": draw(leaks((G,))),
        "n_keep": draw(st.integers(1, T + 1)),
    }


@st.composite
def tangent_points(draw, max_w, max_steps=MAX_STEPS):
    """Single-unit (w, b, x0) grids with |w| <= max_w, as 1-D arrays of length G."""
    G = draw(grid_sizes)
    return {
        "w": draw(float_arrays((G,), -max_w, max_w)),
        "b": draw(float_arrays((G,), -BIAS, BIAS)),
        "x0": draw(float_arrays((G,), -STATE, STATE)),
        "n_steps": draw(st.integers(1, max_steps)),
    }

"""Hypothesis strategies of the project's own tests, built on the public ones of `dynrnn.testing`.

Networks, states and inputs come from `dynrnn.testing`; what stays here is
specific to dynrnn's tests: grids of independent maps for ``iterate_grid``,
single-unit grids, and networks laid out as plain arrays for the NumPy
references in ``tests/naive*.py``.  Sizes follow the house style: n from 1 to
4 units, at most 8 grid points, at most 30 steps, bounded finite floats.
Grid weights are drawn with entries in [-WEIGHT / n, WEIGHT / n], networks with
``||W_rec||_2 <= WEIGHT``, so orbits of the unbounded activations grow at most
like WEIGHT**T.
"""

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import dynrnn.testing as dt
from dynrnn.testing._strategies import float_arrays, floats  # noqa: F401  (re-exported for the tests)
from dynrnn.testing._strategies import leak_arrays as leaks

FORMS = ("paper", "standard")
MAX_UNITS = 4
MAX_GRID = 8
MAX_STEPS = 30
WEIGHT = 1.25  # bound on ||W_rec||_2: moderate orbits over 30 steps
BIAS = 2.0
STATE = 3.0


units = st.integers(1, MAX_UNITS)
grid_sizes = st.integers(1, MAX_GRID)
steps = st.integers(1, MAX_STEPS)
forms = dt.forms()


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


# ---------------------------------------------------------------------------
# Jacobian products, Lyapunov exponents and the paper's bounds
# (tests/test_jacobians.py, tests/test_lyapunov.py, tests/test_bounds.py).
# ---------------------------------------------------------------------------
ACTIVATION_NAMES = ("logistic", "tanh", "relu", "linear")
activations = dt.activations()


@dataclass
class NetworkProblem:
    """A network of `dynrnn.testing.networks` and one trajectory, as plain arrays for the naive references.

    W_in and inputs are None for an autonomous run.
    """

    W_rec: np.ndarray  # (n, n)
    W_in: object  # None or (n, m)
    b: np.ndarray  # (n,)
    x0: np.ndarray  # (n,)
    inputs: object  # None or (T, m)
    n_steps: int
    activation: str
    form: str
    leak: object  # None or (n,)

    @property
    def n(self):
        return self.W_rec.shape[0]

    def net_kwargs(self):
        """Keyword arguments of dynrnn.RNN."""
        return {
            "W_rec": self.W_rec,
            "W_in": self.W_in,
            "b": self.b,
            "activation": self.activation,
            "form": self.form,
            "leak": self.leak,
        }

    def naive_args(self):
        """``(W_rec, W_in, b, activation, form, leak, x0, n_steps, inputs)`` for the naive references."""
        net = (self.W_rec, self.W_in, self.b, self.activation, self.form, self.leak)
        return (*net, self.x0, self.n_steps, self.inputs)


@st.composite
def network_problems(
    draw, max_units=MAX_UNITS, max_steps=MAX_STEPS, weight=WEIGHT, leak=True, activation=activations, form=forms
):
    """A network with ||W_rec||_2 <= weight (`dynrnn.testing.networks`), x0, and inputs (m from 1 to 3) or none."""
    driven = draw(st.booleans())
    net = draw(
        dt.networks(
            n_units=(1, max_units),
            n_inputs=(1, 3) if driven else 0,
            activations=draw(activation),
            forms=draw(form),
            leak=leak,
            spectral_norm=(0.0, weight),
        )
    )
    T = draw(st.integers(1, max_steps))
    return NetworkProblem(
        W_rec=np.array(net.W_rec),
        W_in=np.array(net.W_in) if driven else None,
        b=np.array(net.b),
        x0=draw(dt.states(net.n_units)),
        inputs=draw(dt.input_sequences(net.n_inputs, n_steps=T)) if driven else None,
        n_steps=T,
        activation=net.activation,
        form=net.form,
        leak=None if net.leak is None else np.array(net.leak),
    )


@st.composite
def dominant_eigen_problems(draw, max_units=8):
    """``W_rec = V diag(lambda) V^-1`` with a dominant real eigenvalue, for the power-iteration argument.

    n from 2 to ``max_units``; ``|lambda_1|`` in [0.5, 2] with either sign;
    the others real with ``|lambda_i| <= ratio |lambda_1|``, ratio in
    [0.1, 0.7]; ``V = I + E`` with ``||E||_2 <= 1/2``, so cond(V) <= 3.
    Returns ``(W_rec, lambdas, V)``.
    """
    n = draw(st.integers(2, max_units))
    lead = draw(floats(0.5, 2.0)) * draw(st.sampled_from([-1.0, 1.0]))
    ratio = draw(floats(0.1, 0.7))
    rest = draw(float_arrays((n - 1,), -1.0, 1.0)) * ratio * abs(lead)
    lambdas = np.concatenate([[lead], rest])
    E = draw(float_arrays((n, n), -1.0, 1.0))
    E_norm = np.linalg.norm(E, 2)
    V = np.eye(n) + (0.5 / E_norm) * E if E_norm > 0.5 else np.eye(n) + E
    W_rec = V @ np.diag(lambdas) @ np.linalg.inv(V)
    return W_rec, lambdas, V

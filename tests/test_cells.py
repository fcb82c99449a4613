"""The RNN cell (``dynrnn/cells/rnn.py``): the one source of the step, its Jacobian, JVP and VJP.

Each compiled piece is checked against the plain NumPy formulas of
``naive_jacobians.py`` (eq. 2 and eq. 5 of Pascanu et al. 2013) and against
central differences, over forms, activations, leak, input and size; the
three levels (one unit, one state, a batch of rows) are checked against each
other, and the compiled `step_jacobians` launcher the NumPy-side analysis
uses against the same references.
"""

import functools
import math

import naive
import naive_jacobians as nj
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from dynrnn._kernels import blocked, cpu
from dynrnn.cells import rnn

ACTIVATIONS = ("logistic", "tanh", "relu", "linear")
RTOL = 1e-12


def _floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def cases(draw, driven=None):
    """A network, a state and an input: (activation, form, leak, W_rec, W_in, b, x, u)."""
    n = draw(st.integers(1, 4))
    m = draw(st.integers(0, 2)) if driven is None else (1 if driven else 0)
    activation = draw(st.sampled_from(ACTIVATIONS))
    form = draw(st.sampled_from(rnn.FORMS))
    W_rec = draw(arrays(np.float64, (n, n), elements=_floats(-1.5, 1.5)))
    W_in = draw(arrays(np.float64, (n, m), elements=_floats(-1.0, 1.0)))
    b = draw(arrays(np.float64, n, elements=_floats(-1.0, 1.0)))
    leak = draw(st.none() | arrays(np.float64, n, elements=_floats(0.0, 0.95)))
    # States away from relu's kink, where the derivative (and a finite difference) is defined.
    x = draw(arrays(np.float64, n, elements=_floats(-2.0, 2.0)))
    u = draw(arrays(np.float64, m, elements=_floats(-1.0, 1.0)))
    return activation, form, leak, W_rec, W_in, b, x, u


def _kernel_args(form, leak, W_in, u):
    n = W_in.shape[0]
    alpha = np.zeros(n) if leak is None else leak
    return alpha, form == "paper", leak is not None, W_in.shape[1] > 0


def _near_kink(activation, form, W_rec, W_in, b, x, u):
    """relu's derivative jumps at 0: finite differences there test nothing."""
    if activation != "relu":
        return False
    z = x if form == "paper" else W_rec @ x + W_in @ u + b
    return bool(np.any(np.abs(z) < 1e-3))


@settings(deadline=None)
@given(cases())
def test_state_step_and_jacobian_match_the_formulas(case):
    activation, form, leak, W_rec, W_in, b, x, u = case
    cell = cpu.cell(activation)
    alpha, paper, leaky, driven = _kernel_args(form, leak, W_in, u)
    n = x.size
    s, out, d, J = np.empty(n), np.empty(n), np.empty(n), np.empty((n, n))
    uu = u if driven else None
    cell.state_step(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, s, out)
    assert_allclose(out, nj.step(W_rec, W_in, b, activation, form, leak, x, uu), rtol=RTOL, atol=1e-14)
    assert_allclose(s, naive.sigma(activation, x) if paper else x, rtol=RTOL, atol=1e-15)
    cell.step_jacobian(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, d, J)
    expected = nj.step_jacobian(W_rec, W_in, b, activation, form, leak, x, uu)
    assert_allclose(J, expected, rtol=RTOL, atol=1e-14)
    if not _near_kink(activation, form, W_rec, W_in, b, x, u):
        fd = nj.step_jacobian_fd(W_rec, W_in, b, activation, form, leak, x, uu)
        assert_allclose(J, fd, rtol=1e-6, atol=1e-7)


@settings(deadline=None)
@given(cases(), st.data())
def test_jvp_and_vjp_are_the_jacobian_applied(case, data):
    activation, form, leak, W_rec, W_in, b, x, u = case
    cell = cpu.cell(activation)
    alpha, paper, leaky, driven = _kernel_args(form, leak, W_in, u)
    n = x.size
    v = data.draw(arrays(np.float64, n, elements=_floats(-3.0, 3.0)))
    g = data.draw(arrays(np.float64, n, elements=_floats(-3.0, 3.0)))
    d, J = np.empty(n), np.empty((n, n))
    cell.step_jacobian(W_rec, W_in, b, alpha, x, u, paper, leaky, driven, d, J)
    Jv, JTg, work = np.empty(n), np.empty(n), np.empty(n)
    cell.jvp(W_rec, alpha, d, paper, leaky, v, Jv)
    cell.vjp(W_rec, alpha, d, paper, leaky, g, work, JTg)
    scale = 1.0 + np.abs(J).sum() * 3.0
    assert_allclose(Jv, J @ v, rtol=1e-12, atol=1e-14 * scale)
    assert_allclose(JTg, J.T @ g, rtol=1e-12, atol=1e-14 * scale)
    # the adjoint identity <g, J v> = <J^T g, v>
    assert math.isclose(g @ Jv, JTg @ v, rel_tol=1e-11, abs_tol=1e-13 * scale * scale)


@settings(deadline=None)
@given(cases(driven=False))
def test_unit_step_is_the_one_unit_state_step(case):
    activation, form, leak, W_rec, W_in, b, x, u = case
    cell = cpu.cell(activation)
    w, b0, x0 = W_rec[0, 0], b[0], x[0]
    alpha = 0.0 if leak is None else leak[0]
    out, s = np.empty(1), np.empty(1)
    cell.state_step(W_rec[:1, :1], W_in[:1], b[:1], np.array([alpha]), x[:1], u, form == "paper", leak is not None,
                    False, s, out)  # fmt: skip
    assert cell.unit_step(x0, w, b0, alpha, form == "paper", leak is not None) == out[0]


@settings(deadline=None)
@given(st.sampled_from(ACTIVATIONS), st.sampled_from(rnn.FORMS), _floats(-3.0, 3.0), _floats(-2.0, 2.0),
       _floats(0.0, 0.9), st.booleans())  # fmt: skip
def test_activate_is_update_with_the_slope(activation, form, a, z_prev, alpha, leaky):
    """The per-unit forward of BPTT and training agrees with the plain update, and its slope with sigma'."""
    cell = cpu.cell(activation)
    paper = form == "paper"
    z, s, d = cell.activate(a, z_prev, alpha, paper, leaky)
    assert z == cell.update(a, z_prev, alpha, paper, leaky)
    assert s == cell.observe(z, paper)
    slope_at = z if paper else a
    # 1 - tanh^2 loses digits to cancellation where tanh is near 1: relative 1e-12, absolute 1e-15
    assert_allclose(d, naive.dsigma(activation, np.array([slope_at]))[0], rtol=1e-12, atol=1e-15)


@functools.cache
def _batched(activation):
    """The batched cell functions compiled with the blocked products, for a team of one."""
    from numba import njit

    dev = njit(inline="always")
    span = dev(blocked.span)
    gemm_nn = dev(blocked.make_products(span)[0])
    drive = njit(rnn.make_drive(gemm_nn, span))
    step = njit(rnn.make_step(cpu.cell(activation).activate, gemm_nn, span))
    vjp = njit(rnn.make_vjp(cpu.cell(activation).delta, cpu.cell(activation).carry_back, gemm_nn, span))
    return drive, step, vjp


@settings(deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.sampled_from(ACTIVATIONS), st.integers(0, 2**31 - 1), st.booleans())
def test_batched_step_and_vjp_are_the_state_functions_per_row(B, n, activation, seed, leaky):
    """The training layer (rows of a batch, team of one) is `state_step` and `vjp` on every row, leaky or not."""
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.0, 0.9, size=n) if leaky else np.zeros(n)
    W_rec, W_in, b = rng.normal(size=(n, n)), rng.normal(size=(n, 2)), rng.normal(size=n)
    S_prev, U_t, G_t = rng.normal(size=(B, n)), rng.normal(size=(B, 2)), rng.normal(size=(B, n))
    drive, step, vjp = _batched(activation)
    V_t, S_t, D_t, Delta_t, Back_t = (np.empty((B, n)) for _ in range(5))
    drive(U_t, np.ascontiguousarray(W_in.T), b, V_t, 0, 1)
    step(np.ascontiguousarray(W_rec.T), S_prev, V_t, alpha, leaky, S_t, D_t, 0, 1)
    vjp(W_rec, D_t, G_t, alpha, leaky, Delta_t, Back_t, 0, 1)
    cell = cpu.cell(activation)
    for q in range(B):
        out, s, d, back, work = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
        cell.state_step(W_rec, W_in, b, alpha, S_prev[q], U_t[q], False, leaky, True, s, out)
        assert_allclose(S_t[q], out, rtol=1e-13, atol=1e-15)
        cell.slopes(W_rec, W_in, b, S_prev[q], U_t[q], False, True, d)
        assert_allclose(D_t[q], d, rtol=1e-13, atol=1e-15)
        cell.vjp(W_rec, alpha, D_t[q], False, leaky, G_t[q], work, back)
        assert_allclose(Back_t[q], back, rtol=1e-13, atol=1e-14)


@settings(deadline=None)
@given(cases(), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_step_jacobians_launcher(case, P, seed):
    """`cpu.step_jacobians` (the NumPy-side analysis' entry) at P points, against the formulas."""
    activation, form, leak, W_rec, W_in, b, x, u = case
    rng = np.random.default_rng(seed)
    X = x + rng.uniform(-0.5, 0.5, size=(P, x.size))
    U = u + rng.uniform(-0.5, 0.5, size=(P, u.size)) if u.size else None
    before = X.copy()
    F, S, D, J = cpu.step_jacobians(activation, W_rec, W_in, b, leak, X, U, form == "paper")
    assert_array_equal(X, before)  # the caller's arrays are not touched
    for p in range(P):
        up = None if U is None else U[p]
        assert_allclose(F[p], nj.step(W_rec, W_in, b, activation, form, leak, X[p], up), rtol=RTOL, atol=1e-14)
        expected = nj.step_jacobian(W_rec, W_in, b, activation, form, leak, X[p], up)
        assert_allclose(J[p], expected, rtol=RTOL, atol=1e-14)
    assert_allclose(S, naive.sigma(activation, X) if form == "paper" else X, rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("form", rnn.FORMS)
def test_linear_jacobian_ignores_the_state(form):
    """The Jacobian products' special case: a linear network's Jacobian is W_rec even at a non-finite state."""
    from dynrnn._kernels import jacobians

    W = np.array([[2.0, 0.5], [-1.0, 1.5]])
    x = np.array([[np.inf, 1.0], [0.0, 0.0]])
    J = np.empty((1, 2, 2))
    jacobians.trajectory("linear", W, np.zeros((2, 0)), np.zeros(2), np.zeros(2), x, np.zeros((1, 0)),
                         form == "paper", False, False, J)  # fmt: skip
    assert_array_equal(J[0], W)

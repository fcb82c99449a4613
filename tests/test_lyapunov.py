"""lyapunov_spectrum: the QR (Benettin) method against a naive QR iteration and known answers."""

import math

import naive
import naive_jacobians
import numpy as np
import pytest
import strategies as sts
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn

# CPU vs naive, <= 30 steps, non-chaotic (house style section 6)
RTOL, ATOL = 1e-10, 1e-12


def run(p, n_transient=0, **kw):
    net = dynrnn.RNN(**p.net_kwargs(), **kw)
    return dynrnn.lyapunov_spectrum(net, p.x0, inputs=p.inputs, n_steps=p.n_steps, n_transient=n_transient)


@given(p=sts.network_problems(), data=st.data())
def test_matches_naive_qr_iteration(p, data):
    n_transient = data.draw(st.integers(0, p.n_steps - 1), label="n_transient")
    res = run(p, n_transient)
    exponents, local = naive_jacobians.lyapunov_spectrum(*p.naive_args(), n_transient=n_transient)
    _, jacobians = naive_jacobians.step_jacobians(*p.naive_args())
    jacobians = jacobians[n_transient:]
    scale = np.array([np.linalg.norm(J, 2) for J in jacobians])[:, None]
    stretch, expected = np.exp(np.sort(res.local, axis=1)), np.exp(np.sort(local, axis=1))
    assert stretch.shape == expected.shape
    # Always: |det R_i| = |det J_i| (Q orthogonal), to rounding relative to ||J_i||^n.
    det = np.abs(np.linalg.det(jacobians))
    assert (np.abs(stretch.prod(axis=1) - det) <= RTOL * det + ATOL * p.n * scale[:, 0] ** p.n).all()
    # The individual |R_i[j, j]| are well determined only while every QR step is well conditioned: after a
    # (nearly) singular J_i (say a relu unit with sigma' = 0) the frame Q_i is fixed by rounding noise.
    if (expected > 1e-4 * scale).all():
        assert_allclose(stretch, expected, rtol=1e-8, atol=0.0)
        assert_allclose(np.sort(res.exponents), np.sort(exponents), rtol=1e-8, atol=1e-9)
    assert_array_equal(res.exponents, res.finite_time[-1])
    assert (res.exponents[:-1] >= res.exponents[1:]).all()  # descending
    assert_allclose(res.finite_time, np.cumsum(res.local, axis=0) / np.arange(1, len(res.local) + 1)[:, None])
    assert res.local.shape == (p.n_steps - n_transient, p.n)
    assert not np.isnan(res.local).any()


def test_triangular_linear_map_is_exact_at_every_length(rng):
    """Linear sigma, triangular W_rec: every QR factor has the diagonal of W_rec, for any x0 and T."""
    W_rec = [[2.0, 1.0, 0.5], [0.0, -0.5, 3.0], [0.0, 0.0, 1.1]]
    expected = [math.log(2.0), math.log(1.1), math.log(0.5)]
    for form in ("paper", "standard"):
        net = dynrnn.RNN(W_rec=W_rec, b=[0.3, -1.0, 2.0], activation="linear", form=form)
        for T in (1, 2, 17):
            res = dynrnn.lyapunov_spectrum(net, rng.uniform(-3, 3, 3), n_steps=T)
            assert_allclose(res.exponents, expected, rtol=1e-14, atol=1e-15)
            assert_allclose(res.local, np.broadcast_to(expected, (T, 3)), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("complex_pair", [False, True])
def test_linear_map_gives_log_moduli_of_the_eigenvalues(rng, complex_pair):
    """Linear sigma: the exponents converge to log|eigenvalues of W_rec| (sorted), with an O(1/T) error."""
    if complex_pair:  # 1.2 times a rotation, and 0.5: exponents log 1.2 (twice) and log 0.5
        c, s = math.cos(0.7), math.sin(0.7)
        block = np.array([[1.2 * c, -1.2 * s, 0.0], [1.2 * s, 1.2 * c, 0.0], [0.0, 0.0, 0.5]])
    else:
        block = np.diag([1.5, -0.8, 0.3])
    V = np.eye(3) + 0.3 * rng.uniform(-1, 1, (3, 3))
    W_rec = V @ block @ np.linalg.inv(V)
    expected = np.sort(np.log(np.abs(np.linalg.eigvals(W_rec))))[::-1]
    net = dynrnn.RNN(W_rec=W_rec, activation="linear")
    res = dynrnn.lyapunov_spectrum(net, rng.uniform(-1, 1, 3), n_steps=2000, n_transient=100)
    # The finite-time error is (log of a condition number of V) / (T - n_transient): well under 5e-3 here.
    assert_allclose(res.exponents, expected, rtol=0, atol=5e-3)
    assert res.diverged == (not complex_pair)  # 1.5^2000 overflows the trajectory, not the exponents


@pytest.mark.parametrize(
    ("activation", "form", "leak"),
    [
        ("logistic", "paper", None),
        ("tanh", "paper", None),
        ("relu", "paper", None),
        ("linear", "paper", None),
        ("tanh", "standard", None),
        ("logistic", "standard", 0.4),
        ("tanh", "paper", 0.7),
    ],
)
def test_single_unit_is_the_mean_log_slope(activation, form, leak):
    """n = 1: lambda = mean of log|w sigma'(x_{i-1})| over i = n_transient + 1 ... T (J_i uses x_{i-1})."""
    w, b, x0, T, T0 = (5.0, -2.0, 3.0, 40, 5) if activation == "logistic" else (1.5, 0.2, 3.0, 40, 5)
    if activation in ("relu", "linear"):
        w = 0.8
    net = dynrnn.RNN(W_rec=[[w]], b=[b], activation=activation, form=form, leak=leak)
    res = dynrnn.lyapunov_spectrum(net, [x0], n_steps=T, n_transient=T0)
    expected = naive_jacobians.lyapunov_unit(w, b, activation, form, leak, x0, T, T0)
    assert res.exponents[0] == pytest.approx(expected, rel=1e-12, abs=1e-14)
    if activation in ("logistic", "tanh"):  # neighbouring index ranges give other values: the range is pinned
        for shifted in (T0 - 1, T0 + 1):
            other = naive_jacobians.lyapunov_unit(w, b, activation, form, leak, x0, T, shifted)
            assert abs(other - expected) > 1e-6
    assert_allclose(res.x[:, 0], naive.iterate([[w]], None, [b], activation, form, leak, [x0], T, None)[:, 0])


def test_dead_relu_units_give_minus_inf_not_nan():
    single = dynrnn.lyapunov_spectrum(dynrnn.RNN(W_rec=[[0.5]], b=[-1.0], activation="relu"), [-2.0], n_steps=10)
    assert_array_equal(single.exponents, [-np.inf])
    assert_array_equal(single.local, -np.inf)
    # Unit 2 below zero forever, unit 1 above: J = [[0.9, 0], [c, 0]] at every step, so that
    # dx_T/dx_0 = 0.9^(T-1) (0.9, c) e_1^T: exponents (log 0.9 + log(|(0.9, c)| / 0.9) / T) and -inf.
    T = 50
    for c in (0.0, 0.2):
        net = dynrnn.RNN(W_rec=[[0.9, 0.3], [c, 0.5]], b=[0.5, -5.0], activation="relu")
        res = dynrnn.lyapunov_spectrum(net, [1.0, -3.0], n_steps=T)
        expected = math.log(0.9) + math.log(math.hypot(0.9, c) / 0.9) / T
        assert res.exponents[0] == pytest.approx(expected, rel=1e-12)
        assert res.exponents[1] == -np.inf
        assert not np.isnan(res.local).any() and not np.isnan(res.finite_time).any()


def test_divergence_is_a_flag_and_nan():
    net = dynrnn.RNN(W_rec=[[3.0]], b=[1.0], activation="relu")
    res = dynrnn.lyapunov_spectrum(net, [1.0], n_steps=700)
    assert res.diverged and 600 < res.diverged_at < 700
    assert np.isnan(res.exponents).all()
    assert res.local[: res.diverged_at + 1, 0] == pytest.approx(math.log(3.0), rel=1e-12)


def test_transient_is_dropped_from_the_same_iteration(rng):
    n, T, T0 = 3, 40, 15
    kw = {"W_rec": rng.uniform(-1, 1, (n, n)), "b": rng.uniform(-1, 1, n), "activation": "tanh"}
    x0 = rng.uniform(-1, 1, n)
    full = dynrnn.lyapunov_spectrum(dynrnn.RNN(**kw), x0, n_steps=T)
    part = dynrnn.lyapunov_spectrum(dynrnn.RNN(**kw), x0, n_steps=T, n_transient=T0)
    assert part.local.shape == (T - T0, n) and part.n_transient == T0 and part.n_steps == T
    assert_array_equal(np.sort(part.local, axis=1), np.sort(full.local[T0:], axis=1))
    assert_array_equal(part.x, full.x)
    assert_allclose(np.sort(part.exponents), np.sort(full.local[T0:].mean(axis=0)), rtol=1e-14, atol=1e-15)


def test_long_trajectory_crosses_blocks(rng):
    """600 steps: the Jacobians are formed 256 steps at a time; the QR frame carries over."""
    n, T = 3, 600
    W_rec = rng.uniform(-1, 1, (n, n))
    W_rec *= 0.9 / np.linalg.norm(W_rec, 2)  # contracting: no sensitivity to rounding over 600 steps
    inputs = rng.uniform(-1, 1, (T, 2))
    W_in = rng.uniform(-1, 1, (n, 2))
    net = dynrnn.RNN(W_rec=W_rec, W_in=W_in, activation="tanh", form="standard")
    res = dynrnn.lyapunov_spectrum(net, np.zeros(n), inputs=inputs, n_transient=300)
    exponents, local = naive_jacobians.lyapunov_spectrum(
        W_rec, W_in, None, "tanh", "standard", None, np.zeros(n), T, inputs, 300
    )
    assert_allclose(np.sort(res.local, axis=1), np.sort(local, axis=1), rtol=1e-9, atol=1e-9)
    assert_allclose(res.exponents, exponents, rtol=1e-10, atol=1e-12)


def test_result_object(rng):
    net = dynrnn.RNN(W_rec=[[0.5, 1.0], [-1.0, 0.5]], activation="tanh")
    res = dynrnn.lyapunov_spectrum(net, [0.1, 0.2], n_steps=20)
    assert res.max_exponent == res.exponents[0]
    assert (res.n_steps, res.n_transient, res.diverged, res.diverged_at) == (20, 0, False, -1)
    assert "exponents=<float64 array (2,)>" in repr(res)
    with pytest.raises(ValueError, match="read-only"):
        res.exponents[0] = 0.0


def test_float32_agrees_with_float64(rng):
    kw = {"W_rec": rng.uniform(-1, 1, (3, 3)), "b": rng.uniform(-1, 1, 3), "activation": "tanh"}
    x0 = rng.uniform(-1, 1, 3)
    res64 = dynrnn.lyapunov_spectrum(dynrnn.RNN(**kw), x0, n_steps=30)
    res32 = dynrnn.lyapunov_spectrum(dynrnn.RNN(**kw, dtype=np.float32), x0, n_steps=30)
    assert res32.exponents.dtype == np.float32
    # float32 rounding over a short horizon (house style: 1e-4 / 1e-5)
    assert_allclose(res32.exponents, res64.exponents, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"net": None}, TypeError, "net must be a dynrnn.RNN"),
        ({"n_transient": 5}, ValueError, "n_transient must be < n_steps = 5"),
        ({"n_transient": 9}, ValueError, "n_transient must be < n_steps = 5"),
        ({"n_transient": -1}, ValueError, "n_transient must be >= 0"),
        ({"n_transient": 1.0}, TypeError, "n_transient must be an integer"),
        ({"x0": [0.0]}, ValueError, "x0 must have shape"),
        ({"x0": [np.nan, 0.0]}, ValueError, "x0 must be finite"),
        ({"n_steps": None}, ValueError, "n_steps must be given"),
        ({"n_steps": -2}, ValueError, "n_steps must be >= 1"),
        ({"inputs": np.zeros((5, 1))}, ValueError, "inputs must have shape"),
    ],
)
def test_argument_errors(kwargs, error, match):
    net = dynrnn.RNN(W_rec=[[0.5, 0.1], [0.0, 0.5]], activation="tanh")
    args = {"net": net, "x0": [0.1, 0.2], "n_steps": 5, **kwargs}
    net = args.pop("net")
    with pytest.raises(error, match=match):
        dynrnn.lyapunov_spectrum(net, **args)


def test_driven_arguments_and_no_mutation():
    net = dynrnn.RNN(W_rec=[[0.5, 0.1], [0.0, 0.5]], W_in=[[1.0], [0.5]], activation="tanh")
    x0, inputs = np.array([0.1, 0.2]), np.linspace(-1, 1, 6).reshape(6, 1)
    copies = x0.copy(), inputs.copy()
    res = dynrnn.lyapunov_spectrum(net, x0, inputs=inputs, n_transient=2)
    assert res.local.shape == (4, 2)
    assert_array_equal(x0, copies[0])
    assert_array_equal(inputs, copies[1])
    with pytest.raises(ValueError, match="inputs must be finite"):
        dynrnn.lyapunov_spectrum(net, x0, inputs=[[0.0], [np.nan]])
    with pytest.raises(ValueError, match="n_steps must equal len"):
        dynrnn.lyapunov_spectrum(net, x0, inputs=inputs, n_steps=3)

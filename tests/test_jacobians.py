"""jacobian_products (Pascanu et al. 2013, eq. 5): against explicit products, finite differences and known answers."""

import math

import naive
import naive_jacobians
import numpy as np
import pytest
import strategies as sts
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn

# CPU vs naive, <= 30 steps, non-chaotic (house style section 6).  The error of
# a product is relative to the product of the step norms, which is the scale
# of its rounding errors (both in the kernel and in the naive reference).
RTOL, ATOL = 1e-10, 1e-12
# Analytic vs central differences (h = 1e-6)
FD_RTOL, FD_ATOL = 1e-6, 1e-8


def make_net(p, **kw):
    return dynrnn.RNN(**p.net_kwargs(), **kw)


def run(p, **kw):
    return dynrnn.jacobian_products(make_net(p), p.x0, inputs=p.inputs, n_steps=p.n_steps, **kw)


def step_norm_products(jacobians):
    """``prod_{k < i <= t} ||J_i||_2`` for every window, shape (T + 1, T + 1), NaN where k > t."""
    T = len(jacobians)
    norms = [np.linalg.norm(J, 2) for J in jacobians]
    out = np.full((T + 1, T + 1), np.nan)
    for k in range(T + 1):
        out[k, k] = 1.0
        for t in range(k + 1, T + 1):
            out[t, k] = out[t - 1, k] * norms[t - 1]
    return out


def assert_windows_close(actual, expected, scale, rtol=RTOL, atol=ATOL):
    """``|actual - expected| <= rtol |expected| + atol (t - k + 1) scale[t, k]`` on every window; NaN alike."""
    assert actual.shape == expected.shape
    assert_array_equal(np.isnan(actual), np.isnan(expected))
    T = scale.shape[0] - 1
    lag = np.subtract.outer(np.arange(T + 1), np.arange(T + 1))
    extra = (actual.ndim - 2) * (np.newaxis,)
    allowed = rtol * np.abs(expected) + atol * ((lag + 1) * scale)[(..., *extra)] + 1e-300  # subnormals
    ok = np.isnan(expected) | (np.abs(actual - expected) <= allowed)
    assert ok.all(), f"worst excess {np.nanmax(np.abs(actual - expected) - allowed)}"


# ---------------------------------------------------------------------------
# Against the naive reference
# ---------------------------------------------------------------------------
@given(p=sts.network_problems(), data=st.data())
def test_matches_explicit_products(p, data):
    n_singular = data.draw(st.integers(1, p.n), label="n_singular")
    res = run(p, n_singular=n_singular)
    x, jacobians, sv = naive_jacobians.jacobian_products(*p.naive_args(), n_singular=n_singular)
    assert_allclose(res.x, x, rtol=RTOL, atol=ATOL)
    assert_allclose(res.jacobians, jacobians, rtol=RTOL, atol=ATOL)
    scale = step_norm_products(jacobians)
    assert_windows_close(res.singular_values, sv, scale)
    assert_windows_close(res.norm, sv[:, :, 0], scale)
    assert_array_equal(res.norm, res.singular_values[:, :, 0])
    assert_array_equal(res.log_norm, res.log_singular_values[:, :, 0])
    lower = np.tril(np.ones((p.n_steps + 1,) * 2, dtype=bool))
    assert not np.isnan(res.log_singular_values[lower]).any()
    assert np.isnan(res.log_singular_values[~lower]).all()
    assert (np.diff(res.singular_values[lower], axis=-1) <= 0.0).all()  # descending
    with np.errstate(divide="ignore"):
        assert_allclose(np.exp(res.log_singular_values), res.singular_values, rtol=1e-14, atol=0.0)


@pytest.mark.slow  # iterate() compiles its own kernels (~10 s alone; free in a whole-suite run)
@pytest.mark.parametrize("inputs", [None, np.linspace(-1.0, 1.0, 9).reshape(9, 1)])
def test_trajectory_is_that_of_iterate(inputs):
    net = dynrnn.RNN(W_rec=[[0.9, -0.4], [0.3, 0.8]], W_in=[[1.0], [-0.5]], b=[0.1, -0.2], form="standard", leak=0.2)
    res = dynrnn.jacobian_products(net, [0.3, -0.7], inputs=inputs, n_steps=9)
    x = dynrnn.iterate(net, [0.3, -0.7], n_steps=9, inputs=inputs)
    assert_allclose(res.x, x, rtol=1e-14, atol=1e-15)


@given(p=sts.network_problems(max_steps=10))
def test_step_jacobians_match_central_differences(p):
    res = run(p)
    for i in range(1, p.n_steps + 1):
        u = None if p.inputs is None else p.inputs[i - 1]
        x_prev = res.x[i - 1]
        if p.activation == "relu":  # sigma' jumps at 0: keep the differences on one side
            drive = np.zeros(p.n) if u is None else p.W_in @ u
            z = x_prev if p.form == "paper" else p.W_rec @ x_prev + drive + p.b
            assume(np.all(np.abs(z) > 1e-4))
        fd = naive_jacobians.step_jacobian_fd(p.W_rec, p.W_in, p.b, p.activation, p.form, p.leak, x_prev, u)
        assert_allclose(res.jacobians[i - 1], fd, rtol=FD_RTOL, atol=FD_ATOL)


@given(p=sts.network_problems(max_steps=4, activation=st.sampled_from(["logistic", "tanh", "linear"])))
def test_window_norms_match_differences_of_the_trajectory(p):
    """||dx_t/dx_k|| against central differences of the map x_k -> x_t, for every window."""
    res = run(p)
    for k in range(p.n_steps + 1):
        for t in range(k, p.n_steps + 1):
            window = [None if p.inputs is None else p.inputs[i - 1] for i in range(k + 1, t + 1)]
            fd = naive_jacobians.trajectory_jacobian_fd(
                p.W_rec, p.W_in, p.b, p.activation, p.form, p.leak, res.x[k], window
            )
            assert res.norm[t, k] == pytest.approx(np.linalg.norm(fd, 2), rel=FD_RTOL, abs=FD_ATOL)


# ---------------------------------------------------------------------------
# Known answers: exploding and vanishing products in logs, one unit, dead units
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("gain", [10.0, 0.1])
def test_huge_and_tiny_products_stay_exact_in_logs(gain):
    T = 400
    net = dynrnn.RNN(W_rec=gain * np.eye(2), activation="linear")
    res = dynrnn.jacobian_products(net, np.zeros(2), n_steps=T)
    lag = np.subtract.outer(np.arange(T + 1), np.arange(T + 1)).astype(float)
    expected = np.where(lag >= 0, lag * math.log(gain), np.nan)
    assert_allclose(res.log_norm, expected, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert res.log_norm[T, 0] == pytest.approx(T * math.log(gain), rel=1e-12)
    assert res.norm[T, 0] == (math.inf if gain > 1 else 0.0)  # beyond the float range, without a warning
    assert res.norm[100, 0] == pytest.approx(gain**100, rel=1e-12)


def test_scaled_rotation_has_all_singular_values_equal(rng):
    """10 Q with Q orthogonal: every singular value of every product is 10^(t - k)."""
    n, T = 4, 120
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    net = dynrnn.RNN(W_rec=10.0 * Q, activation="linear")
    res = dynrnn.jacobian_products(net, np.zeros(n), n_steps=T, n_singular=n)
    for k in range(0, T + 1, 7):
        for t in range(k, T + 1):
            expected = (t - k) * math.log(10.0)
            assert_allclose(res.log_singular_values[t, k], expected, rtol=1e-12, atol=1e-12)


def test_linear_products_survive_a_diverging_trajectory():
    """With the linear sigma the Jacobians do not depend on the state, so an overflowing trajectory is harmless."""
    T = 400
    net = dynrnn.RNN(W_rec=[[10.0, 1.0], [0.0, 0.5]], activation="linear")
    res = dynrnn.jacobian_products(net, [1.0, 1.0], n_steps=T)
    assert res.diverged and 300 < res.diverged_at < 320
    ref = dynrnn.jacobian_products(net, [0.0, 0.0], n_steps=T)
    assert not ref.diverged
    assert_array_equal(res.log_norm, ref.log_norm)
    assert np.isfinite(res.log_norm[T, 0])


@pytest.mark.parametrize(
    ("activation", "form", "leak"),
    [("tanh", "paper", None), ("logistic", "standard", None), ("tanh", "standard", 0.3), ("logistic", "paper", 0.6)],
)
def test_single_unit_products_are_sums_of_log_slopes(activation, form, leak):
    """n = 1: log|dx_t/dx_k| = sum_{k < i <= t} log|J_i| over 200 steps (exploding and vanishing)."""
    w, b, x0, T = 6.0, -2.9, 0.4, 200
    net = dynrnn.RNN(W_rec=[[w]], b=[b], activation=activation, form=form, leak=leak)
    res = dynrnn.jacobian_products(net, [x0], n_steps=T)
    x = res.x[:, 0]  # checked against naive.iterate elsewhere; the map may be chaotic over 200 steps
    z = x[:-1] if form == "paper" else w * x[:-1] + b
    slope = w * naive.dsigma(activation, z)
    slope = slope if leak is None else leak + (1.0 - leak) * slope
    # sigma' = 1 - tanh^2 loses digits to cancellation where tanh saturates (relative error ~ eps / sigma'),
    # differently in NumPy and in the kernels: the Jacobians agree to 1e-8 here, their products exactly.
    assert_allclose(res.jacobians[:, 0, 0], slope, rtol=1e-8, atol=0.0)
    cumulative = np.concatenate([[0.0], np.cumsum(np.log(np.abs(res.jacobians[:, 0, 0])))])
    expected = np.subtract.outer(cumulative, cumulative)
    lower = np.tril(np.ones((T + 1, T + 1), dtype=bool))
    assert_allclose(res.log_norm[lower], expected[lower], rtol=1e-12, atol=1e-12)
    assert res.log_norm[lower].min() < -50.0  # far more than a few steps of decay


def test_dead_relu_unit_gives_minus_inf_not_nan():
    """One unit below zero forever: J = 0, every product of one or more steps is exactly 0."""
    net = dynrnn.RNN(W_rec=[[0.5]], b=[-1.0], activation="relu")
    res = dynrnn.jacobian_products(net, [-2.0], n_steps=6)
    lag = np.subtract.outer(np.arange(7), np.arange(7))
    assert_array_equal(res.log_norm[lag > 0], -np.inf)
    assert_array_equal(res.norm[lag > 0], 0.0)
    assert_array_equal(np.diagonal(res.log_norm), 0.0)
    assert np.isnan(res.log_norm[lag < 0]).all()


def test_one_dead_relu_unit_gives_a_rank_one_product():
    """Paper form, unit 2 dead: J = [[0.9, 0], [0.2, 0]] at every step, so P = 0.9^(L-1) c e_1^T."""
    T = 30
    net = dynrnn.RNN(W_rec=[[0.9, 0.3], [0.2, 0.5]], b=[0.5, -5.0], activation="relu")
    res = dynrnn.jacobian_products(net, [1.0, -3.0], n_steps=T, n_singular=2)
    assert_allclose(res.jacobians, np.broadcast_to([[0.9, 0.0], [0.2, 0.0]], (T, 2, 2)), rtol=0, atol=0)
    lag = np.subtract.outer(np.arange(T + 1), np.arange(T + 1))
    c = math.hypot(0.9, 0.2)
    expected = np.where(lag > 0, (lag - 1) * math.log(0.9) + math.log(c), 0.0)
    lower = lag >= 0
    assert_allclose(res.log_norm[lower], expected[lower], rtol=1e-12, atol=1e-13)
    assert not np.isnan(res.log_singular_values[lower]).any()
    # sigma_2 = 0: exactly (log -inf) from k = 0, where the dead column is never mixed; at rounding level otherwise
    assert_array_equal(res.log_singular_values[1:, 0, 1], -np.inf)
    second = res.singular_values[lower & (lag > 0), 1]
    assert (second <= 1e-15 * res.singular_values[lower & (lag > 0), 0]).all()


def test_diverged_trajectory_gives_nan_windows_without_warnings():
    net = dynrnn.RNN(W_rec=[[3.0]], b=[1.0], activation="relu")
    T = 700
    res = dynrnn.jacobian_products(net, [1.0], n_steps=T)
    d = res.diverged_at
    assert res.diverged and 600 < d < T
    # J_i uses x_{i-1}: J_{d+1} (at x_d = inf, sigma' = 1) is finite, J_{d+2} on are NaN
    assert np.isfinite(res.jacobians[: d + 1]).all() and np.isnan(res.jacobians[d + 1 :]).all()
    lag = np.subtract.outer(np.arange(T + 1), np.arange(T + 1))
    t_index = np.arange(T + 1)[:, None]
    good = (lag >= 0) & (t_index <= d + 1)
    assert_allclose(res.log_norm[good], lag[good] * math.log(3.0), rtol=1e-12, atol=1e-12)
    bad = (lag > 0) & (t_index > d + 1)
    assert np.isnan(res.log_norm[bad]).all()
    assert_array_equal(np.diagonal(res.log_norm), 0.0)


# ---------------------------------------------------------------------------
# The result object
# ---------------------------------------------------------------------------
def test_lag_profile_and_summaries(rng):
    n, T = 3, 12
    net = dynrnn.RNN(W_rec=rng.uniform(-1, 1, (n, n)), b=rng.uniform(-1, 1, n), activation="tanh")
    res = dynrnn.jacobian_products(net, rng.uniform(-1, 1, n), n_steps=T)
    lags, profile = res.lag_profile()
    assert_array_equal(lags, np.arange(T + 1))
    assert_array_equal(profile, [res.log_norm[T, T - lag] for lag in range(T + 1)])
    lags, profile = res.lag_profile(t=5)
    assert_array_equal(profile, [res.log_norm[5, 5 - lag] for lag in range(6)])
    brute_max = [max(res.log_norm[t, t - lag] for t in range(lag, T + 1)) for lag in range(T + 1)]
    brute_mean = [np.mean([res.log_norm[t, t - lag] for t in range(lag, T + 1)]) for lag in range(T + 1)]
    assert_allclose(res.max_log_norm_by_lag, brute_max, rtol=0, atol=0)
    assert_allclose(res.mean_log_norm_by_lag, brute_mean, rtol=1e-14, atol=1e-15)
    assert (res.n_steps, res.n_singular, res.diverged, res.diverged_at) == (T, 1, False, -1)
    assert "log_norm=<float64 array (13, 13)>" in repr(res)
    with pytest.raises(ValueError, match="read-only"):
        res.log_norm[0, 0] = 1.0
    with pytest.raises(ValueError, match="t must be <= 12"):
        res.lag_profile(t=T + 1)
    with pytest.raises(ValueError, match="t must be >= 0"):
        res.lag_profile(t=-1)
    with pytest.raises(TypeError, match="t must be an integer"):
        res.lag_profile(t=1.5)


@pytest.mark.slow  # compiles every kernel again for float32 (~15 s); test_lyapunov covers float32 cheaply
def test_float32_agrees_with_float64(rng):
    n, T = 3, 15
    kw = {"W_rec": rng.uniform(-0.8, 0.8, (n, n)), "b": rng.uniform(-1, 1, n), "activation": "tanh"}
    x0 = rng.uniform(-1, 1, n)
    res64 = dynrnn.jacobian_products(dynrnn.RNN(**kw), x0, n_steps=T, n_singular=2)
    res32 = dynrnn.jacobian_products(dynrnn.RNN(**kw, dtype=np.float32), x0, n_steps=T, n_singular=2)
    assert res32.log_norm.dtype == np.float32 and res32.jacobians.dtype == np.float32
    # float32 rounding, accumulated over up to 15 steps (house style: 1e-4 / 1e-5 on short horizons)
    assert_allclose(res32.singular_values, res64.singular_values, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------
@pytest.fixture
def driven_net():
    return dynrnn.RNN(W_rec=[[0.5, 0.1], [0.0, 0.5]], W_in=[[1.0], [0.5]], activation="tanh")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"net": "not a net"}, TypeError, "net must be a dynrnn.RNN"),
        ({"n_singular": 0}, ValueError, "n_singular must lie in"),
        ({"n_singular": 3}, ValueError, "n_singular must lie in"),
        ({"n_singular": 1.0}, TypeError, "n_singular must be an integer"),
        ({"n_singular": True}, TypeError, "n_singular must be an integer"),
        ({"x0": [0.0, 0.0, 0.0]}, ValueError, "x0 must have shape"),
        ({"x0": [0.0, np.nan]}, ValueError, "x0 must be finite"),
        ({"inputs": np.zeros((4, 2))}, ValueError, "inputs must have shape"),
        ({"inputs": [[0.0], [np.inf]]}, ValueError, "inputs must be finite"),
        ({"inputs": np.zeros((3, 1), dtype=complex)}, TypeError, "inputs must be real-valued"),
        ({"inputs": None}, ValueError, "n_steps must be given"),
        ({"inputs": None, "n_steps": 0}, ValueError, "n_steps must be >= 1"),
        ({"inputs": None, "n_steps": 2.0}, TypeError, "n_steps must be an integer"),
        ({"n_steps": 5}, ValueError, "n_steps must equal len"),
    ],
)
def test_argument_errors(driven_net, kwargs, error, match):
    args = {"net": driven_net, "x0": [0.1, 0.2], "inputs": np.ones((3, 1)), **kwargs}
    with pytest.raises(error, match=match):
        dynrnn.jacobian_products(**args)


def test_inputs_are_not_modified(driven_net):
    x0, inputs = np.array([0.1, 0.2]), np.linspace(-1, 1, 6).reshape(6, 1)
    copies = x0.copy(), inputs.copy()
    dynrnn.jacobian_products(driven_net, x0, inputs=inputs, n_singular=2)
    assert_array_equal(x0, copies[0])
    assert_array_equal(inputs, copies[1])


def test_window_arrays_too_large_are_refused_before_any_work():
    net = dynrnn.RNN(np.eye(2) * 0.5)
    with pytest.raises(ValueError, match="n_steps = 20000"):
        dynrnn.jacobian_products(net, [0.1, 0.2], n_steps=20000)

"""The paper's bounds on Jacobian products (Pascanu et al. 2013, Sec. 2.1, eqs. 5-7) as property tests.

* ``||dx_t/dx_k||_2 <= (gamma ||W_rec||_2)^(t-k)`` for every window, every activation (gamma = sup|sigma'|),
  paper and standard forms; with a leak the factor is ``max(leak) + max(1 - leak) gamma ||W_rec||_2``;
* if ``||W_rec||_2 < 1/gamma`` the products shrink at least geometrically, with eta = gamma ||W_rec||_2 (eqs. 6-7);

the first two through the assertion helpers of `dynrnn.testing` (whose own tests show that they can fail);
* linear sigma, the power-iteration argument (reference Sec. 1.3): ``||W^L|| ~ |lambda_1|^L`` and, for a long
  lag, ``P v`` aligns with the right eigenvector q_1 and ``g^T P`` with the left one.
"""

import math

import naive
import numpy as np
import pytest
import strategies as sts
from hypothesis import assume, given
from numpy.testing import assert_allclose

import dynrnn
import dynrnn.testing as dt

# Slack for rounding when a computed log norm is compared with an exact bound: the kernels' logs
# are accurate to ~1e-14 relative, the products to ~(t - k) eps, ||W_rec||_2 from an SVD to ~eps.
SLACK = 1e-11


def run(p):
    net = dynrnn.RNN(**p.net_kwargs())
    return dynrnn.jacobian_products(net, p.x0, inputs=p.inputs, n_steps=p.n_steps)


def lags(T):
    return np.subtract.outer(np.arange(T + 1), np.arange(T + 1))


# Networks for the bounds of Sec. 2.1: n up to 8, any activation and form, gamma ||W_rec||_2 up to 3
@given(traj=dt.trajectories(n_units=(1, 8), n_steps=(1, 20), gamma_norm=(0.0, 3.0)))
def test_products_are_bounded_by_gamma_times_the_norm_of_w_rec(traj):
    """||dx_t/dx_k|| <= (gamma ||W_rec||_2)^(t-k): each factor W_rec diag(sigma') has norm <= gamma ||W_rec||."""
    eta = naive.gamma(traj.net.activation) * np.linalg.norm(traj.net.W_rec, 2)
    assert dt.step_norm_bound(traj.net) == pytest.approx(eta, rel=1e-15, abs=0.0)
    dt.assert_jacobian_bound(*traj)


@given(traj=dt.trajectories(n_units=(1, 8), n_steps=(1, 20), gamma_norm=(0.0, 3.0), leak=True))
def test_leaky_products_are_bounded_by_the_step_factor(traj):
    """With a leak a, each factor diag(a) + diag(1 - a) W_rec diag(sigma') has norm <= max a + max(1 - a) gamma |W|."""
    dt.assert_jacobian_bound(*traj)


@given(traj=dt.trajectories(n_units=(1, 8), n_steps=(1, 20), gamma_norm=(0.05, 0.95)))
def test_vanishing_condition_gives_geometric_decay(traj):
    """||W_rec|| < 1/gamma: eta = gamma ||W_rec|| < 1 bounds each step (eq. 6); ||dx_t/dx_k|| <= eta^(t-k) (eq. 7)."""
    dt.assert_vanishing(*traj)  # every window, and each extra step shrinks a product by eta
    worst = dynrnn.jacobian_products(*traj).max_log_norm_by_lag
    assert worst[0] == 0.0 and (np.exp(worst[1:]) < 1.0).all()  # the worst window of each lag, strictly


@pytest.mark.parametrize("form", ["paper", "standard"])
@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_bound_is_attained_at_the_steepest_point(activation, form, rng):
    """At a fixed point where sigma' = gamma (z = 0) and W_rec = c Q, Q orthogonal: equality in the bound."""
    n, T, c = 4, 25, 1.7
    W_rec = c * np.linalg.qr(rng.standard_normal((n, n)))[0]
    s0 = float(naive.sigma(activation, 0.0))  # the fixed point has sigma's argument 0 in both forms
    b = -W_rec @ np.full(n, s0)
    x0 = np.zeros(n) if form == "paper" else np.full(n, s0)
    net = dynrnn.RNN(W_rec=W_rec, b=b, activation=activation, form=form)
    res = dynrnn.jacobian_products(net, x0, n_steps=T)
    L = lags(T)
    expected = L * math.log(naive.gamma(activation) * c)
    lower = L >= 0
    assert_allclose(res.log_norm[lower], expected[lower], rtol=1e-12, atol=1e-12)


@given(p=sts.network_problems())
def test_window_norms_are_submultiplicative(p):
    """||P_{t,k}|| <= ||P_{t,j}|| ||P_{j,k}|| for k <= j <= t (P_{t,k} = P_{t,j} P_{j,k}), any leak and input."""
    res = run(p)
    log_norm = res.log_norm
    T = p.n_steps
    for k in range(T + 1):
        for j in range(k, T + 1):
            for t in range(j, T + 1):
                right = log_norm[t, j] + log_norm[j, k]
                if right == -np.inf:
                    assert log_norm[t, k] == -np.inf
                else:
                    assert log_norm[t, k] <= right + SLACK * (1.0 + abs(right))


def alignment_bound(coefficients, vectors, ratio, lag):
    """Bound on ``1 - |cos|`` between ``sum_i c_i lambda_i^lag v_i`` and ``v_1`` (``|lambda_i| <= ratio |lambda_1|``).

    The sum is ``a + e`` with ``a = c_1 lambda_1^lag v_1`` and ``||e|| <= rho ||a||``,
    ``rho = ratio^lag sum_{i>1} |c_i| ||v_i|| / (|c_1| ||v_1||)``; then ``sin(angle) <= rho / (1 - rho)``
    and ``1 - |cos| <= sin^2``.
    """
    norms = np.linalg.norm(vectors, axis=0)
    rho = ratio**lag * np.sum(np.abs(coefficients[1:]) * norms[1:]) / (abs(coefficients[0]) * norms[0])
    return (rho / (1.0 - rho)) ** 2 if rho < 1.0 else 1.0


@given(
    problem=sts.dominant_eigen_problems(),
    v=sts.float_arrays((8,), -1.0, 1.0),
    g=sts.float_arrays((8,), -1.0, 1.0),
    x0=sts.float_arrays((8,), -1.0, 1.0),
)
def test_power_iteration_for_the_linear_map(problem, v, g, x0):
    """W_rec = V diag(lambda) V^-1, |lambda_1| > |lambda_i| (reference Sec. 1.3, arXiv v2 appendix A)."""
    W_rec, lambdas, V = problem
    n, T = len(lambdas), 40
    v, g, x0 = v[:n], g[:n], x0[:n]
    assume(np.linalg.norm(v) > 1e-100 and np.linalg.norm(g) > 1e-100)
    v, g = v / np.linalg.norm(v), g / np.linalg.norm(g)  # only directions matter
    V_inv = np.linalg.inv(V)
    c = V_inv @ v  # v = sum_i c_i q_i, q_i the columns of V (right eigenvectors)
    d = g @ V  # g^T = sum_i d_i p_i^T, p_i^T the rows of V^-1 (left eigenvectors)
    assume(abs(c[0]) > 1e-3 * np.linalg.norm(c) and abs(d[0]) > 1e-3 * np.linalg.norm(d))  # "almost any" vector
    net = dynrnn.RNN(W_rec=W_rec, activation="linear")
    res = dynrnn.jacobian_products(net, x0, n_steps=T)
    # ||W^L|| lies between rho(W)^L = |lambda_1|^L and cond(V) |lambda_1|^L, so log_norm / L -> log|lambda_1|
    L = lags(T)
    lower = L >= 0
    excess = res.log_norm[lower] - L[lower] * math.log(abs(lambdas[0]))
    slack = SLACK * (1.0 + np.abs(res.log_norm[lower]))
    assert (excess >= -slack).all()
    assert (excess <= math.log(np.linalg.cond(V)) + slack).all()
    # the long-lag product sends v along q_1, and g^T along p_1^T
    P = np.eye(n)
    for J in res.jacobians:  # P = J_T ... J_1, normalised on the way (only directions matter)
        P = J @ P
        P /= np.linalg.norm(P)
    ratio = np.max(np.abs(lambdas[1:])) / abs(lambdas[0])
    forward, backward = P @ v, g @ P
    cos_forward = abs(forward @ V[:, 0]) / (np.linalg.norm(forward) * np.linalg.norm(V[:, 0]))
    cos_backward = abs(backward @ V_inv[0]) / (np.linalg.norm(backward) * np.linalg.norm(V_inv[0]))
    assert 1.0 - cos_forward <= alignment_bound(c, V, ratio, T) + 1e-12
    assert 1.0 - cos_backward <= alignment_bound(d, V_inv.T, ratio, T) + 1e-12

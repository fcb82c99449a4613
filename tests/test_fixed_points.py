"""Fixed points of n-unit RNN maps (`dynrnn.fixed_points`), Pascanu et al. (2013), Sec. 2.2.

References share no code with the Newton kernel: the exact single-unit solver (bracketing, a
different algorithm), products of single-unit solutions for a diagonal ``W_rec``, the map and a
central-difference Jacobian written in NumPy below (with `naive.sigma`), ``np.linalg.solve`` for
the linear map, closed forms for the slow point of a single unit past its fold.
"""

import naive
import numpy as np
import pytest
from cuda_support import CUDA_ATOL, CUDA_RTOL, skip_without_cuda
from numpy.testing import assert_allclose, assert_array_equal

import dynrnn
from dynrnn import _config
from dynrnn.dynamics.fixed_points import fixed_points

TOL = 1e-10  # Newton's residual tolerance (the default)


# ---------------------------------------------------------------------------
# Independent reference: the step map and its central-difference Jacobian
# ---------------------------------------------------------------------------
def ref_step(W_rec, b, name, form, leak, x):
    F = W_rec @ naive.sigma(name, x) + b if form == "paper" else naive.sigma(name, W_rec @ x + b)
    return F if leak is None else leak * x + (1.0 - leak) * F


def ref_jacobian_fd(W_rec, b, name, form, leak, x, h=1e-6):
    n = x.size
    J = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        J[:, j] = (ref_step(W_rec, b, name, form, leak, x + e) - ref_step(W_rec, b, name, form, leak, x - e)) / (2 * h)
    return J


def assert_same_eigvals(a, b, rtol, atol):
    """Each eigenvalue of ``a`` matched to a distinct, nearest one of ``b`` (greedy)."""
    b = list(b)
    for lam in a:
        k = int(np.argmin([abs(lam - mu) for mu in b]))
        assert abs(lam - b[k]) <= atol + rtol * abs(b[k]), (a, b)
        b.pop(k)


def assert_same_points(x, y, atol):
    """Same sets of points (rows), in any order."""
    assert x.shape == y.shape, (x, y)
    for p in y:
        assert np.min(np.max(np.abs(x - p), axis=1)) <= atol, (x, p)


def bistable_pair():
    return dynrnn.RNN(W_rec=np.diag([5.0, 6.0]), b=[-2.5, -3.0], activation="logistic")


# ---------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------
def test_single_unit_matches_exact_solver():
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-2.5], activation="logistic")
    res = fixed_points(net, n_starts=30, rng=1)
    exact = dynrnn.single_unit.fixed_points(5.0, -2.5, activation="logistic")
    assert res.n_points == 3
    # residual <= 1e-10 and |g'| = |lambda - 1| >= 0.25 at these roots: |x - x*| <= 4e-10
    assert_allclose(res.x[:, 0], exact.x, rtol=0, atol=1e-9)
    assert_allclose(res.multipliers[:, 0].real, exact.multipliers, rtol=1e-8, atol=1e-10)
    assert_array_equal(res.multipliers.imag, 0.0)
    assert res.classes.tolist() == ["stable", "unstable", "stable"]
    assert_array_equal(res.stable, exact.stable)
    assert_array_equal(res.n_unstable, [0, 1, 0])
    assert np.all(res.residual <= TOL)
    assert res.n_converged == res.n_starts == 30
    assert res.n_hits.sum() == 30
    assert res.status_counts == {"converged": 30, "diverged": 0, "max_iter": 0, "singular": 0}


def test_diagonal_network_is_a_product_of_single_units():
    net = bistable_pair()
    res = fixed_points(net, n_starts=200, rng=2)
    u = dynrnn.single_unit.fixed_points(5.0, -2.5, activation="logistic").x
    v = dynrnn.single_unit.fixed_points(6.0, -3.0, activation="logistic").x
    product = np.array([[p, q] for p in u for q in v])
    assert res.n_points == 9
    assert_same_points(res.x, product, atol=1e-9)
    assert sorted(res.classes.tolist()) == ["saddle"] * 4 + ["stable"] * 4 + ["unstable"]
    assert_array_equal(np.sort(res.n_unstable), [0, 0, 0, 0, 1, 1, 1, 1, 2])
    assert np.all(res.residual <= TOL)
    # sorted lexicographically (the middle coordinate, 0, compared to within dedup_tol)
    assert np.all(np.diff(np.round(res.x[:, 0], 6)) >= 0)
    # every start is accounted for
    assert sum(res.status_counts.values()) == res.n_starts == 200
    assert_array_equal(res.label >= 0, res.converged)
    assert_array_equal(np.bincount(res.label[res.label >= 0], minlength=9), res.n_hits)


@pytest.mark.parametrize("form", ["paper", "standard"])
def test_multipliers_match_finite_differences(form, rng):
    n = 3
    W_rec = rng.normal(0.0, 3.0, size=(n, n))
    b = rng.normal(0.0, 1.0, size=n)
    leak = np.array([0.0, 0.3, 0.7])
    net = dynrnn.RNN(W_rec=W_rec, b=b, activation="logistic", form=form, leak=leak)
    res = fixed_points(net, n_starts=64, rng=3)
    assert res.n_points >= 1
    for x, lam, kind, k in zip(res.x, res.multipliers, res.classes, res.n_unstable, strict=True):
        assert np.linalg.norm(ref_step(W_rec, b, "logistic", form, leak, x) - x) <= 2 * TOL
        J = ref_jacobian_fd(W_rec, b, "logistic", form, leak, x)
        # central differences, h = 1e-6: O(h^2) truncation plus round-off / h
        assert_same_eigvals(lam, np.linalg.eigvals(J), rtol=1e-6, atol=1e-8)
        mod = np.abs(np.linalg.eigvals(J))
        assert k == np.count_nonzero(mod > 1)
        assert kind == ("stable" if k == 0 else "unstable" if k == n else "saddle")


def test_standard_form_points_are_sigma_of_paper_form_points(rng):
    n = 3
    W_rec = rng.normal(0.0, 4.0, size=(n, n))
    b = rng.normal(0.0, 1.0, size=n)
    paper = fixed_points(dynrnn.RNN(W_rec=W_rec, b=b, activation="logistic"), n_starts=100, rng=4)
    standard = fixed_points(dynrnn.RNN(W_rec=W_rec, b=b, activation="logistic", form="standard"), n_starts=100, rng=4)
    assert standard.form == "standard" and paper.form == "paper"
    assert paper.n_points == standard.n_points >= 1
    h = naive.sigma("logistic", paper.x)
    # |dh| <= gamma |dx| with gamma = 1/4; both found to residual 1e-10
    assert_same_points(standard.x, h, atol=1e-9)
    # W diag(s') and diag(s') W have the same eigenvalues
    order = [int(np.argmin(np.max(np.abs(standard.x - p), axis=1))) for p in h]
    for i, j in enumerate(order):
        assert_same_eigvals(paper.multipliers[i], standard.multipliers[j], rtol=1e-8, atol=1e-10)
        assert paper.kind[i] == standard.kind[j]


def test_linear_map_is_solved_exactly(rng):
    n = 4
    W_rec = rng.normal(0.0, 0.8, size=(n, n))
    b = rng.normal(0.0, 1.0, size=n)
    # n_starts=1: one random start, no trajectory
    res = fixed_points(dynrnn.RNN(W_rec=W_rec, b=b, activation="linear", leak=0.5), n_starts=1, rng=5)
    assert res.n_points == 1
    assert_allclose(res.x[0], np.linalg.solve(np.eye(n) - W_rec, b), rtol=1e-10, atol=1e-12)
    # leak alpha = 0.5: multipliers alpha + (1 - alpha) * eig(W_rec)
    assert_same_eigvals(res.multipliers[0], 0.5 + 0.5 * np.linalg.eigvals(W_rec), rtol=1e-10, atol=1e-12)
    assert res.n_iter[0] <= 2  # one full Newton step solves a linear system


def test_singular_linear_map_reports_every_start():
    # x = x + 1 has no fixed point: J_F - I = 0 is singular, reported per start, never raised
    res = fixed_points(dynrnn.RNN(W_rec=[[1.0]], b=[1.0], activation="linear"), n_starts=1, rng=6)
    assert res.n_points == 0
    assert res.x.shape == (0, 1) and res.multipliers.shape == (0, 1) and res.classes.shape == (0,)
    assert res.status_counts["singular"] == 1 and res.n_converged == 0
    assert_array_equal(res.label, [-1])


def test_full_leak_is_non_hyperbolic():
    # alpha = 1 freezes unit 2: multiplier exactly 1
    net = dynrnn.RNN(W_rec=np.diag([5.0, 6.0]), b=[-2.5, -3.0], activation="logistic", leak=[0.2, 1.0])
    res = fixed_points(net, n_starts=60, rng=7)
    assert res.n_points >= 1
    assert set(res.classes.tolist()) == {"non-hyperbolic"}
    assert_allclose(np.abs(np.abs(res.multipliers) - 1.0).min(axis=1), 0.0, rtol=0, atol=1e-15)


def test_slow_point_of_a_unit_past_its_fold():
    # w = 5, b = -2.7: past the fold at b = -2.65561, the upper pair of fixed points has vanished;
    # q has a local minimum where g(x) = 5 sigma(x) + b - x has its local maximum, 5 sigma'(x) = 1.
    net = dynrnn.RNN(W_rec=[[5.0]], b=[-2.7], activation="logistic")
    res = fixed_points(net, n_starts=40, rng=8, slow_points=True)
    assert res.n_points == 1 and res.classes.tolist() == ["stable"]
    c = np.log((1 + np.sqrt(1 - 4 / 5)) / (1 - np.sqrt(1 - 4 / 5)))  # logit((1 + sqrt(1 - 4/w)) / 2)
    g = 5 * naive.sigma("logistic", c) - 2.7 - c
    assert res.slow_x.shape == (1, 1)
    # BFGS stops at |grad q| <= 1e-10 where q'' = g g'' ~ 0.02: |x - c| <~ 1e-8
    assert_allclose(res.slow_x[0, 0], c, rtol=0, atol=1e-7)
    assert_allclose(res.slow_q[0], 0.5 * g * g, rtol=1e-10, atol=0)
    assert fixed_points(net, n_starts=4, rng=8).slow_x is None


# ---------------------------------------------------------------------------
# Determinism, inputs, validation
# ---------------------------------------------------------------------------
def test_same_seed_same_result_and_read_only():
    net = bistable_pair()
    a = fixed_points(net, n_starts=40, rng=9)
    b = fixed_points(net, n_starts=40, rng=np.random.default_rng(9))
    for name in ("x", "multipliers", "residual", "n_unstable", "kind", "n_hits", "starts", "status", "n_iter", "label"):
        assert_array_equal(getattr(a, name), getattr(b, name))
        assert not getattr(a, name).flags.writeable
    c = fixed_points(net, n_starts=40, rng=10)
    assert not np.array_equal(a.starts, c.starts)


def test_inputs_are_ignored():
    W_rec, b = np.diag([5.0, 6.0]), np.array([-2.5, -3.0])
    driven = dynrnn.RNN(W_rec=W_rec, W_in=np.ones((2, 3)), b=b, activation="logistic")
    a = fixed_points(driven, n_starts=20, rng=11)
    b_ = fixed_points(bistable_pair(), n_starts=20, rng=11)
    assert_array_equal(a.x, b_.x)


def test_float32_network_is_solved_in_float64():
    net32 = dynrnn.RNN(W_rec=[[5.0]], b=[-2.5], activation="logistic", dtype=np.float32)
    res = fixed_points(net32, n_starts=10, rng=12)
    assert res.x.dtype == np.float64 and np.all(res.residual <= TOL)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_starts": 0}, ValueError, "n_starts must be >= 1"),
        ({"n_starts": 2.0}, TypeError, "n_starts must be an integer"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
        ({"trajectory_steps": 0}, ValueError, "trajectory_steps must be >= 1"),
        ({"tol": 0.0}, ValueError, "tol must be finite and > 0"),
        ({"tol": -1e-3}, ValueError, "tol must be finite and > 0"),
        ({"tol": float("nan")}, ValueError, "tol must be finite"),
        ({"tol": "small"}, TypeError, "tol must be a real number"),
        ({"dedup_tol": 0}, ValueError, "dedup_tol must be finite and > 0"),
        ({"hyperbolic_tol": -1.0}, ValueError, "hyperbolic_tol must be finite and >= 0"),
        ({"slow_points": 1}, TypeError, "slow_points must be a bool"),
        ({"rng": -1}, ValueError, r"rng \(a seed\) must be >= 0"),
        ({"rng": 1.5}, TypeError, "rng must be None, an int"),
        ({"backend": "gpu"}, ValueError, "backend must be one of"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fixed_points(bistable_pair(), **kwargs)


def test_net_must_be_an_rnn():
    with pytest.raises(TypeError, match="net must be a dynrnn.RNN; got ndarray"):
        fixed_points(np.eye(2))


# ---------------------------------------------------------------------------
# CUDA (GPU or simulator) against the CPU
# ---------------------------------------------------------------------------


@pytest.mark.cuda
@skip_without_cuda
@pytest.mark.parametrize("form", ["paper", "standard"])
def test_cuda_matches_cpu(form, monkeypatch):
    monkeypatch.setattr(_config, "THREADS_PER_BLOCK", 4)
    rtol, atol = CUDA_RTOL, CUDA_ATOL
    net = dynrnn.RNN(W_rec=[[5.0, 0.5], [0.3, 6.0]], b=[-2.8, -3.2], activation="logistic", form=form)
    kw = dict(n_starts=11, rng=13, trajectory_steps=6)  # 11 starts: 3 blocks of 4, the last partial
    cpu = fixed_points(net, backend="cpu", **kw)
    gpu = fixed_points(net, backend="cuda", **kw)
    assert_allclose(gpu.starts, cpu.starts, rtol=rtol, atol=atol)
    assert_array_equal(gpu.status, cpu.status)
    assert_array_equal(gpu.kind, cpu.kind)
    assert gpu.n_points == cpu.n_points >= 1
    # the same points to within Newton's tolerance (one more step may be taken on one side)
    assert_allclose(gpu.x, cpu.x, rtol=0, atol=1e-9)
    assert_allclose(gpu.multipliers, cpu.multipliers, rtol=1e-8, atol=1e-10)
    assert np.all(gpu.residual <= TOL)
